//! Arbitrary bytes as a partial profile, as `replay derive --merge` reads one:
//! loaded and checked, merged with itself and with a real partial, into a
//! partial and into a profile. Nothing may panic, and whatever a merge makes
//! must load as a profile `run` accepts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use replay::derive::{DeriveConfig, merge_partials};

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("replay-fuzz-partial-{}.json", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let name = path.display().to_string();
    let paths = [name.clone(), name];
    let Ok(merged) = merge_partials(&paths) else { return };
    let Ok(derived) = merged.into_profile(&DeriveConfig::new(paths.to_vec())) else { return };
    let text = serde_json::to_string(&derived.profile).expect("a profile serialises");
    replay::profile::load::parse(&text, "fuzz.json").unwrap_or_else(|e| panic!("a merge made a profile check refuses: {e}"));
    if let Ok(merged) = merge_partials(&paths) {
        let _ = serde_json::to_string(&merged.into_partial());
    }
});

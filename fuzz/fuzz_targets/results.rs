//! Arbitrary bytes as a results.json, as `report`, `merge` and `compare` read
//! one: parsed and validated, then every report rendered, judged, compared
//! and merged. Nothing may panic, and memory stays bounded whatever the file
//! declares (run with `-rss_limit_mb=512`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(results) = replay::app::results::parse_results(text, Path::new("fuzz.json")) else { return };
    for writer in replay::report::WRITERS {
        let _ = (writer.write)(&results, &mut Vec::new());
    }
    let _ = replay::report::text::write_table(&results, &mut Vec::new());
    let _ = replay::verdict::judge(&results, &[]);
    let _ = replay::report::compare::compare(&results, &results, 0.1);
    let mut other = results.clone();
    other.run_id.push('x');
    let _ = replay::report::merge::merge(&[results, other]);
});

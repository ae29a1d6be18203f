//! The whole chain on arbitrary bytes as a log: derive (format detected),
//! the profile through its JSON wire form and validation, a plan with no
//! values, and every endpoint's requests built as the client would send
//! them. Nothing may panic; whatever derive accepts must load and plan,
//! its samples trimmed under a small budget or not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use replay::derive::{DeriveConfig, derive};
use replay::plan::request::{RequestMaker, Vars};
use replay::plan::{Pace, PlanSettings, Requests, Users, Work, build};

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("replay-fuzz-chain-{}.log", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    // A small sample budget, so inputs with a few long values take the trimming path too.
    let config = DeriveConfig { threads: 1, sample_budget: 4096, ..DeriveConfig::new(vec![path.display().to_string()]) };
    let Ok(derived) = derive(&config) else { return };
    let text = serde_json::to_string(&derived.profile).expect("a profile serialises");
    let profile = replay::profile::load::parse(&text, "fuzz.json").unwrap_or_else(|e| panic!("derive wrote a profile check refuses: {e}"));
    let settings = PlanSettings { pace: Pace::Duration(std::time::Duration::from_secs(10)), ..PlanSettings::default() };
    if let Ok(planned) = build(&Requests(&profile), &settings) {
        for planned in planned.plan.take(2_000) {
            if let Work::Request(spec) = planned.work {
                let target = replay::client::percent_encode_target(&spec.target);
                assert!(!target.bytes().any(|b| b <= b' ' || b >= 0x7f), "{target:?}");
            }
        }
    }
    // Sessions too, with values for a login's form, as a user would give them.
    let vars: Vars = [("username", "u"), ("password", "p")].iter().map(|(k, v)| (k.to_string(), vec![v.to_string()])).collect();
    let sessions = PlanSettings { vars, ..settings };
    if let Ok(planned) = build(&Users(&profile), &sessions) {
        for planned in planned.plan.take(200) {
            if let Work::Session(s) = planned.work {
                assert!(s.steps.len() <= replay::plan::sessions::MAX_SESSION_STEPS && s.think_ns.len() + 1 == s.steps.len().max(1));
            }
        }
    }
    if let Ok(mut maker) = RequestMaker::new(&profile, &Vars::new(), 7, false) {
        for index in 0..profile.endpoints.len() {
            for _ in 0..8 {
                let spec = maker.request(index);
                assert!(replay::log::request_rule::is_token(spec.method.as_str().as_bytes()));
            }
        }
    }
});

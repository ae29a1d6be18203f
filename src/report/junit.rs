//! `junit.xml`: one testcase per threshold (and one for the run's own
//! verdict), so a CI that reads JUnit shows which gate failed and why.
//!
//! ```xml
//! <testsuites name="replay" tests="2" failures="1">
//!   <testsuite name="replay run against http://staging" tests="2" failures="1" time="60.0">
//!     <testcase classname="thresholds" name="p99&lt;300ms" time="0"><failure message="measured 412.0 ms, want &lt; 300.0 ms"/></testcase>
//!     <testcase classname="run" name="the run delivered its schedule" time="60.0"/>
//!   </testsuite>
//! </testsuites>
//! ```

use super::json::Results;
use std::io::{self, Write};

/// `<`, `>`, `&`, quotes, and the characters XML cannot hold (see `untrusted.rs`).
pub fn xml_escape(text: &str) -> String {
    crate::untrusted::xml(text)
}

pub fn write_junit(r: &Results, out: &mut dyn Write) -> Result<(), String> {
    junit(r, out).map_err(|e| e.to_string())
}

fn junit(r: &Results, out: &mut dyn Write) -> io::Result<()> {
    let verdict = r.verdict.clone().unwrap_or_default();
    let tests = verdict.thresholds.len() + 1;
    let failures = verdict.thresholds.iter().filter(|j| !j.passed).count() + usize::from(!verdict.reasons.is_empty());
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, r#"<testsuites name="replay" tests="{tests}" failures="{failures}">"#)?;
    writeln!(
        out,
        r#"  <testsuite name="{}" tests="{tests}" failures="{failures}" time="{:.3}" timestamp="{}">"#,
        xml_escape(&format!("replay run against {}", r.target)),
        r.duration_s,
        xml_escape(&r.started)
    )?;
    for j in &verdict.thresholds {
        write!(out, r#"    <testcase classname="thresholds" name="{}" time="0">"#, xml_escape(&j.threshold))?;
        if j.passed {
            writeln!(
                out,
                "<system-out>{}</system-out></testcase>",
                xml_escape(&format!("measured {}, want {}", j.measured_text, j.condition))
            )?;
        } else {
            let window =
                j.window_start_s.map_or(String::new(), |s| format!(" (worst window from {})", crate::units::human_duration(s as f64)));
            let message = format!("measured {}, want {}{window}", j.measured_text, j.condition);
            writeln!(out, r#"<failure message="{0}" type="threshold">{0}</failure></testcase>"#, xml_escape(&message))?;
        }
    }
    write!(out, r#"    <testcase classname="run" name="the run sent its requests and kept its schedule" time="{:.3}">"#, r.duration_s)?;
    if verdict.reasons.is_empty() {
        writeln!(out, "</testcase>")?;
    } else {
        let message = verdict.reasons.join("; ");
        writeln!(out, r#"<failure message="{0}" type="run">{0}</failure></testcase>"#, xml_escape(&message))?;
    }
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

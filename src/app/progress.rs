//! How a run's progress is shown: a live bar on a terminal, a plain line
//! every few seconds otherwise (CI logs).

use crate::run::Progress;
use crate::units::human_duration;
use std::io::IsTerminal;

#[derive(Clone)]
pub struct ProgressView {
    bar: Option<indicatif::ProgressBar>,
}

impl ProgressView {
    pub fn new(total_s: Option<f64>) -> Self {
        if !std::io::stderr().is_terminal() {
            return ProgressView { bar: None };
        }
        let bar = indicatif::ProgressBar::new((total_s.unwrap_or(0.0) * 1000.0).max(1.0) as u64);
        let style = indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {percent:>3}%\n  {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        ProgressView { bar: Some(bar) }
    }

    pub fn show(&self, p: &Progress) {
        match &self.bar {
            Some(bar) => {
                bar.set_position((p.elapsed_s * 1000.0) as u64);
                bar.set_message(line(p));
            }
            None => {
                eprintln!("replay: {} of {}  {}", human_duration(p.elapsed_s), p.total_s.map_or("no end".into(), human_duration), line(p))
            }
        }
    }

    /// A line of its own, above the bar on a terminal.
    pub fn say(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(format!("replay: {line}")),
            None => eprintln!("replay: {line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn line(p: &Progress) -> String {
    let behind = if p.falling_behind { "  FALLING BEHIND: results understate the load" } else { "" };
    let not_sent = if p.not_sent > 0 { format!(", not sent {}", p.not_sent) } else { String::new() };
    let synthetic = if p.synthetic > 0 { format!(", {} with synthetic values", p.synthetic) } else { String::new() };
    let users = if p.users > 0 { format!("{} users  ", p.users) } else { String::new() };
    format!(
        "{users}intended {:.0} rps, achieved {:.0} rps ({} sent{not_sent}{synthetic})  p50 {:.1} ms  p99 {:.1} ms  errors {}  lag p99 {:.2} ms{behind}",
        p.intended_rps, p.achieved_rps, p.requests, p.p50_ms, p.p99_ms, p.failures, p.lag_p99_ms
    )
}

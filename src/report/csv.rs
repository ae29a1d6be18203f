//! `stats.csv` and `history.csv`, with the columns a Locust user's scripts
//! parse (`Type,Name,Request Count,Failure Count,Median Response Time,…`),
//! written with the csv crate. Times are milliseconds from the intended send
//! time; `Aggregated` rows cover every endpoint.

use super::json::{Results, decode};
use crate::run::summary::new_histogram;
use hdrhistogram::Histogram;

const PERCENTILES: [(f64, &str); 11] = [
    (0.5, "50%"),
    (0.66, "66%"),
    (0.75, "75%"),
    (0.8, "80%"),
    (0.9, "90%"),
    (0.95, "95%"),
    (0.98, "98%"),
    (0.99, "99%"),
    (0.999, "99.9%"),
    (0.9999, "99.99%"),
    (1.0, "100%"),
];

fn ms(us: f64) -> String {
    format!("{:.3}", us / 1000.0)
}

fn percentiles(h: &Histogram<u64>) -> Vec<String> {
    PERCENTILES.iter().map(|(q, _)| if h.is_empty() { "0".into() } else { ms(h.value_at_quantile(*q) as f64) }).collect()
}

/// Median, average, min, max, in milliseconds.
fn moments(h: &Histogram<u64>) -> [String; 4] {
    if h.is_empty() {
        return ["0".into(), "0".into(), "0".into(), "0".into()];
    }
    [ms(h.value_at_quantile(0.5) as f64), ms(h.mean()), ms(h.min() as f64), ms(h.max() as f64)]
}

/// `stats.csv`: one row per endpoint, then `Aggregated`.
pub fn write_stats(r: &Results, out: &mut dyn std::io::Write) -> Result<(), String> {
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec![
        "Type",
        "Name",
        "Request Count",
        "Failure Count",
        "Median Response Time",
        "Average Response Time",
        "Min Response Time",
        "Max Response Time",
        "Average Content Size",
        "Requests/s",
        "Failures/s",
    ];
    header.extend(PERCENTILES.iter().map(|(_, name)| *name));
    w.write_record(&header).map_err(|e| e.to_string())?;
    let seconds = r.duration_s.max(1e-9);
    let mut row = |kind: &str, name: &str, requests: u64, failures: u64, bytes: u64, h: &Histogram<u64>| -> Result<(), String> {
        let mut record = vec![
            crate::untrusted::csv_cell(kind).into_owned(),
            crate::untrusted::csv_cell(name).into_owned(),
            requests.to_string(),
            failures.to_string(),
        ];
        record.extend(moments(h));
        record.push(format!("{:.1}", if requests == 0 { 0.0 } else { bytes as f64 / requests as f64 }));
        record.push(format!("{:.3}", requests as f64 / seconds));
        record.push(format!("{:.3}", failures as f64 / seconds));
        record.extend(percentiles(h));
        w.write_record(&record).map_err(|e| e.to_string())
    };
    for e in &r.endpoints {
        row(&e.method, &e.path, e.requests, e.failures, e.bytes, &decode(&e.histogram)?)?;
    }
    let all = decode(r.histograms.get("latency").ok_or("results.json has no latency histogram")?)?;
    let bytes = r.endpoints.iter().map(|e| e.bytes).sum();
    row("", "Aggregated", r.totals.requests, r.totals.failures, bytes, &all)?;
    w.flush().map_err(|e| e.to_string())
}

/// `history.csv`: one `Aggregated` row per period of the run, with the totals so far.
pub fn write_history(r: &Results, out: &mut dyn std::io::Write) -> Result<(), String> {
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec!["Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s"];
    header.extend(PERCENTILES.iter().map(|(_, name)| *name));
    header.extend([
        "Total Request Count",
        "Total Failure Count",
        "Total Median Response Time",
        "Total Average Response Time",
        "Total Min Response Time",
        "Total Max Response Time",
        "Total Average Content Size",
    ]);
    w.write_record(&header).map_err(|e| e.to_string())?;
    let started = chrono::DateTime::parse_from_rfc3339(&r.started).map(|t| t.timestamp()).unwrap_or(0);
    let period_s = r.period_s.max(1) as f64;
    let (mut total, mut requests, mut failures) = (new_histogram(), 0u64, 0u64);
    // Response sizes are kept per endpoint, not per period: the run's average stands in every row.
    let average_size = r.endpoints.iter().map(|e| e.bytes).sum::<u64>() as f64 / r.totals.requests.max(1) as f64;
    for p in &r.periods {
        let h = decode(&p.histogram)?;
        total.add(&h).map_err(|_| "a period's histogram does not fit the run's bounds".to_owned())?;
        requests += p.requests;
        failures += p.failures;
        let mut record = vec![
            (started + p.start_s as i64 + r.period_s as i64).to_string(),
            p.users.to_string(),
            String::new(),
            "Aggregated".to_owned(),
            format!("{:.3}", p.requests as f64 / period_s),
            format!("{:.3}", p.failures as f64 / period_s),
        ];
        record.extend(percentiles(&h));
        record.push(requests.to_string());
        record.push(failures.to_string());
        record.extend(moments(&total));
        record.push(format!("{average_size:.1}"));
        w.write_record(&record).map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())
}

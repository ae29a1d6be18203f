//! A new report is one file: a stand-in writer, added to the table of
//! writers, leaves its file beside the others and is named with them.

use replay::app::outputs::write_with;
use replay::client::{Failure, Outcome};
use replay::plan::{Catalog, CatalogEntry, EndpointKey};
use replay::report::WRITERS;
use replay::report::Writer;
use replay::report::json::{Results, RunFacts, results};
use replay::run::Summary;

/// `count.txt`: the requests sent and failed, on one line.
fn write_count(r: &Results, out: &mut dyn std::io::Write) -> Result<(), String> {
    writeln!(out, "{} sent, {} failed", r.totals.requests, r.totals.failures).map_err(|e| e.to_string())
}

#[test]
fn a_writer_in_one_file_leaves_its_report_beside_the_others() {
    let catalog = Catalog { endpoints: vec![CatalogEntry::named(EndpointKey::new("GET", "/"))] };
    let mut summary = Summary::new(1);
    for i in 0..3u64 {
        summary.intend(i);
        let failure = (i == 2).then_some(Failure::Http5xx);
        summary.add(&Outcome {
            endpoint: 0,
            intended_ns: i,
            sent_ns: i,
            done_ns: i + 1_000_000,
            status: Some(if failure.is_some() { 503 } else { 200 }),
            failure,
            detail: failure.map(|_| "HTTP 503".to_owned()),
            retried: false,
            bytes: 2,
            synthetic: false,
            to_login: false,
        });
    }
    let facts = RunFacts {
        run_id: "0123456789abcdef",
        target: "http://127.0.0.1:9/",
        started: "2026-12-04T10:00:00Z",
        duration_s: 1.0,
        interrupted: false,
        catalog: &catalog,
        left_out: &[],
        synthetic: &[],
        plan: None,
    };
    let results = results(&summary, &facts);
    let dir = tempfile::tempdir().unwrap();
    let mut writers = WRITERS.to_vec();
    writers.push(Writer { file: "count.txt", write: write_count });
    write_with(&results, dir.path(), &writers).unwrap();
    assert_eq!(std::fs::read_to_string(dir.path().join("count.txt")).unwrap(), "3 sent, 1 failed\n");
    for w in WRITERS {
        assert!(dir.path().join(w.file).is_file(), "{} written too", w.file);
    }
}

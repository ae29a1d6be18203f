//! The public access logs in ../shared/real-logs (never copied here): each
//! derives with the format a user would pass (or detection), into at least
//! the requests MANIFEST.tsv says a correct parser gets, and the format
//! detected is the family the manifest names.

use crate::util::real_logs;
use replay::derive::{DeriveConfig, derive};
use replay::plan::{Pace, PlanSettings, Requests, build};

/// The format name replay reports for a manifest family.
fn reported_name(family: &str) -> &str {
    match family {
        "cloudfront" => "w3c",
        "caddy" => "json",
        other => other,
    }
}

#[test]
#[cfg_attr(not(has_real_logs), ignore = "../shared/real-logs is not beside this checkout: no real log was read")]
fn every_manifest_log_yields_its_requests() {
    let dir = real_logs();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    let mut checked = 0;
    for row in manifest.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let cols: Vec<&str> = row.split('\t').collect();
        let [path, family, format_arg, min_records] = cols[..] else { panic!("bad manifest row {row}") };
        let min_records: u64 = min_records.parse().unwrap();
        let format = (format_arg != "auto").then(|| format_arg.parse().unwrap_or_else(|e| panic!("{path}: {e}")));
        let config = DeriveConfig { format, ..DeriveConfig::new(vec![dir.join(path).to_string_lossy().into_owned()]) };
        let derived = derive(&config).unwrap_or_else(|e| panic!("{path}: {e}"));
        let source = derived.profile.source.as_ref().unwrap();
        assert!(source.records >= min_records, "{path}: {} records, want at least {min_records}", source.records);
        assert_eq!(source.lines, source.records + source.not_requests + source.skipped + source.rejected, "{path}");
        let want = reported_name(family);
        assert!(
            source.format == want || (family == "common" && source.format == "combined"),
            "{path}: read as {}, want {want}",
            source.format
        );
        assert!(source.first <= source.last && source.first.is_some(), "{path}");
        // A derived profile runs as derived, with no value to invent: redacted values are synthetic.
        let settings = PlanSettings { pace: Pace::Duration(std::time::Duration::from_secs(60)), ..PlanSettings::default() };
        if let Err(e) = build(&Requests(&derived.profile), &settings) {
            panic!("{path}: asks for values: {e}");
        }
        checked += 1;
    }
    assert!(checked >= 20, "the manifest lists the logs ({checked})");
}

#[test]
#[cfg_attr(not(has_real_logs), ignore = "../shared/real-logs is not beside this checkout: no real log was read")]
fn time_spans_come_out_in_utc() {
    let dir = real_logs();
    // (file, first, last) as SOURCES.md gives them, converted from each line's own offset.
    let table = [
        ("clf/nasa_aug95_first20000.log", "1995-08-01T04:00:01Z", "1995-08-01T14:59:29Z"),
        ("combined/lnav_zanbil_shop_access_log.log", "2019-01-22T00:26:14Z", "2019-01-22T00:29:11Z"),
        ("combined_attack_scans/ocatak_acunetix_scan.log", "2016-12-22T13:11:41Z", "2016-12-22T13:40:23Z"),
        ("iis_w3c/webknowit_iis85_2015-12_2016-01.log", "2015-12-01T01:00:00Z", "2016-01-31T21:45:54Z"),
    ];
    for (path, first, last) in table {
        let config = DeriveConfig::new(vec![dir.join(path).to_string_lossy().into_owned()]);
        let source = derive(&config).unwrap().profile.source.unwrap();
        assert_eq!((source.first.as_deref(), source.last.as_deref()), (Some(first), Some(last)), "{path}");
    }
}

#[test]
#[cfg_attr(not(has_real_logs), ignore = "../shared/real-logs is not beside this checkout: no real log was read")]
fn shared_parser_fixtures_read_as_expected() {
    let dir = real_logs();
    // (file, format, records, rejected): edge cases from other parsers' test suites.
    let table = [
        ("fixtures/beats/nginx_test.log", "combined", 6, 0),
        ("fixtures/beats/nginx_test-with-host.log", "combined", 8, 0),
        ("fixtures/beats/traefik_test.log", "combined", 2, 0),
        ("fixtures/beats/haproxy_haproxy.log", "haproxy", 10, 0),
        ("fixtures/beats/envoyproxy_envoy.log", "envoy", 1, 0),
        ("fixtures/beats/iis_test-ipv6zone.log", "w3c", 1, 0),
        ("fixtures/beats/aws_example-alb-http.log", "alb", 7, 0),
        ("fixtures/elastic_integrations/gcp_test-load-balancer.log", "json", 3, 0),
        ("fixtures/lnav/cloudflare_logpush_synthetic.jsonl", "json", 15, 0),
        ("fixtures/lnav/caddy_docker_compose_prefixed.log", "json", 4, 0),
        ("fixtures/lnav/vhost_access_log_with_duration.log", "combined", 2, 0),
        ("fixtures/lnav/w3c.4.log", "w3c", 2, 0),
        ("fixtures/lnav/w3c.3.log", "w3c", 3, 0),
        ("fixtures/beats/envoyproxy_envoy-json.log", "envoy", 1, 0),
        ("fixtures/weblogchallenge_teuve/elb_special_cases.log", "elb", 6, 0),
    ];
    for (path, format, records, rejected) in table {
        let config = DeriveConfig::new(vec![dir.join(path).to_string_lossy().into_owned()]);
        let source = derive(&config).unwrap_or_else(|e| panic!("{path}: {e}")).profile.source.unwrap();
        assert_eq!((source.format.as_str(), source.records, source.rejected), (format, records, rejected), "{path}");
    }
}

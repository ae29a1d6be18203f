//! Tests of the endpoint statistics: payload keys, the sampled segments and which positions
//! are kept, and secrets kept out of samples and examples.

use super::*;
use crate::profile::fold::Rules;
use std::borrow::Cow;

#[test]
fn payload_keys_are_found_as_by_splitting_each_pair() {
    use rand_chacha::rand_core::{Rng, SeedableRng};
    // Splitting at every `&`, then taking each pair's key up to its `=`: the reading
    // the one pass must give, on queries of name bytes, escapes good and bad, other
    // bytes, empty pairs and keys about 64 bytes long.
    let by_pairs = |query: &[u8]| {
        query.split(|&b| b == b'&').any(|pair| {
            let key = pair.iter().position(|&b| b == b'=').map_or(pair, |eq| &pair[..eq]);
            !key.is_empty() && shape::is_payload_key(key)
        })
    };
    let pieces: [&[u8]; 14] =
        [b"a", b"utm_source", b"=", b"&", b"%5B", b"%zz", b"%", b"x[]", b";", b" ", b"\xff", b"'", b"=v=w", &[b'k'; 30]];
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(395);
    let (mut payloads, mut names) = (0, 0);
    for _ in 0..20_000 {
        let query: Vec<u8> = (0..rng.next_u32() % 8).flat_map(|_| pieces[(rng.next_u32() % 14) as usize].to_vec()).collect();
        let want = by_pairs(&query);
        assert_eq!(has_payload_key(&query), want, "{:?}", String::from_utf8_lossy(&query));
        if want { payloads += 1 } else { names += 1 }
    }
    assert!(payloads > 1000 && names > 1000, "{payloads} {names}");
}

/// The statistics read each segment where templating found it, as splitting the path finds it.
#[test]
fn segments_found_by_templating_are_sampled_as_the_split_path_gives_them() {
    let rules = {
        let mut rules = Rules::default();
        rules.add("GET 4 /p".to_owned(), ["top".to_owned()].into_iter().collect());
        rules
    };
    let paths = ["/abc/123", "/p/x/20261128", "/p/top/550e8400-e29b-41d4-a716-446655440000", "/reset/alice%40example.com/7"];
    for path in paths.iter().copied().chain(["/a/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl/9"]) {
        let (mut key, mut found) = (String::new(), Positions::default());
        template_key_routed(b"GET", path.as_bytes(), Some(&rules), &mut key, &mut found);
        assert!(found.spans().is_some_and(|s| !s.is_empty()), "{path}");
        let unfound = Positions { spans: Vec::new(), ..found.clone() };
        assert_eq!(unfound.spans(), None, "{path}");
        let record = LogRecord { path: Some(Cow::Borrowed(path.as_bytes())), ..LogRecord::default() };
        let (mut by_spans, mut by_split) = (EndpointStats::default(), EndpointStats::default());
        by_spans.add(&record, &found, &found.redacted, 7);
        by_split.add(&record, &unfound, &unfound.redacted, 7);
        assert_eq!((&by_spans.params, &by_spans.shapes), (&by_split.params, &by_split.shapes), "{path}");
        assert!(!by_spans.params.is_empty() || by_spans.shapes != NamedShapes::default(), "{path}");
    }
}

#[test]
fn only_the_lowest_sampled_positions_are_kept_whatever_the_order() {
    let positions: Vec<usize> = (1..=MAX_PARAMS * 2).map(|p| p * 3).collect();
    let (mut rising, mut falling) = (EndpointStats::default(), EndpointStats::default());
    positions.iter().for_each(|&p| rising.offer_param(p, b"7", 1));
    positions.iter().rev().for_each(|&p| falling.offer_param(p, b"7", 1));
    rising.offer_param(MAX_POSITION + 1, b"7", 1);
    assert_eq!(rising.params.iter().map(|(p, _)| *p).collect::<Vec<_>>(), positions[..MAX_PARAMS]);
    assert_eq!(rising.params, falling.params);
    // A merge keeps the lowest of both, and what derive keeps passes a partial's check.
    let mut low = EndpointStats::default();
    low.offer_param(1, b"9", 1);
    let mut merged = falling.clone();
    merged.merge(&low);
    assert_eq!(merged.params.first().map(|(p, _)| *p), Some(1));
    assert_eq!(merged.params.len(), MAX_PARAMS);
    assert!(merged.check().is_ok(), "{:?}", merged.check());
    // Trimmed, each sample keeps what its budget holds; the cost counts what is kept.
    let before = merged.sample_cost();
    merged.trim_samples(0);
    assert!(merged.params.iter().all(|(_, s)| s.is_empty()));
    assert!(merged.sample_cost() < before);
}

#[test]
fn secrets_never_reach_samples_or_examples() {
    let mut stats = EndpointStats::default();
    let record = LogRecord {
        path: Some(Cow::Borrowed(b"/users/42/reset/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl")),
        query: Some(Cow::Borrowed(b"page=2&token=abc&email=bob%40example.org&next=carol@example.com")),
        status: Some(200),
        ..LogRecord::default()
    };
    let (mut key, mut sampled) = (String::new(), Positions::default());
    template_key(b"GET", record.path.as_deref().unwrap(), &mut key, &mut sampled);
    assert_eq!((sampled.sampled.as_slice(), sampled.redacted.as_slice()), (&[2][..], &[(4, "token")][..]));
    stats.add(&record, &sampled, &sampled.redacted, 7);
    let debug = format!("{stats:?}");
    for secret in ["eyJhbGci", "abc", "bob%40", "carol@"] {
        assert!(!debug.contains(secret), "{secret} leaked: {debug}");
    }
    assert_eq!(stats.params[0].1.values(), ["42"]);
    let page = stats.query.iter().find(|q| q.key == "page").unwrap();
    assert_eq!(page.sample.values(), ["2"]);
    assert!(stats.query.iter().find(|q| q.key == "next").unwrap().secret);
    assert_eq!(stats.examples.values(), ["/users/42/reset/{token}?page=2&token={token}&email={email}&next={next}"]);
    // What stands in for them is their shape.
    let shape = |name: &str| stats.shapes.get(name).map(|s| s.top());
    assert_eq!(shape("token"), Some(vec!["eyJ{b64:17}.{b64:15}.{b64:12}".to_owned(), "{lower:3}".to_owned()]));
    assert_eq!(shape("next"), Some(vec!["{email}".to_owned()]));
}

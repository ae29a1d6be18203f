//! How a request's method and path become the key it is counted under:
//! `GET /users/{id}`, each segment written as it is or as the placeholder its
//! look calls for (`shape.rs`), and routed by the folding rules as it is
//! written (`fold.rs`). This runs on every line a derive reads: ASCII paths,
//! nearly all of them, take one pass over their bytes; any other target
//! takes the general way, which writes the same key.

use super::endpoints::Positions;
use super::fold::{self, Rules};
use super::shape::{self, Segment};

/// `METHOD /path/{id}`: the key a request is counted under, written into
/// `key`; the positions of segments sampled or redacted go to `positions`.
pub fn template_key(method: &[u8], path: &[u8], key: &mut String, positions: &mut Positions) {
    template_key_routed(method, path, None, key, positions);
}

/// [`template_key`], routed by the folding rules as the key is built: the key [`Rules::route`] would make of
/// [`template_key`]'s, in one pass over the path. A segment's group is found
/// by the key written so far, and a literal its group folds is written
/// `{param}` at once, its position joining the sampled ones.
pub fn template_key_routed(method: &[u8], path: &[u8], rules: Option<&Rules>, key: &mut String, positions: &mut Positions) {
    // Nearly every path is ASCII and begins with `/`: templated in one pass over its bytes.
    // Any other target takes the general way.
    if !path.starts_with(b"/") {
        return template_key_general(method, path, rules, key, positions);
    }
    key.clear();
    positions.clear();
    // Room for the whole key, so that the writes below need no growing (`push_reserved`):
    // a method of at most 16 bytes and its space, then each segment after its `/`, as it
    // is (twice its length with its braces doubled) or as a placeholder.
    key.reserve(17 + 2 * path.len() + (1 + PLACEHOLDER_MAX) * FAST_SEGMENTS);
    match method {
        b"GET" => push_reserved(key, "GET "),
        b"POST" => push_reserved(key, "POST "),
        _ => push_method(key, method),
    }
    let path_start = key.len();
    let mut found = [shape::SegmentBytes::default(); FAST_SEGMENTS];
    // A path that is not ASCII, or of more segments than the one pass takes, goes the general way.
    let Some(segments) = shape::split_classified(path, &mut found) else {
        return template_key_general(method, path, rules, key, positions);
    };
    let groups = groups_of(rules, key, segments);
    // The segment before the first `/` is empty: a path begins with one.
    let mut start = 1;
    // The segments after the first (`take` and `skip` over the array cost a call a line).
    for (i, &bytes) in found.get(1..segments).unwrap_or_default().iter().enumerate().map(|(i, b)| (i + 1, b)) {
        let seg = &path[start..bytes.end as usize];
        let at = (i, (start as u32, bytes.end));
        start = bytes.end as usize + 1;
        push_reserved(key, "/");
        let seg_start = key.len();
        let (class, braces) = shape::classify_split(seg, bytes);
        match class {
            Segment::Literal => {
                // SAFETY: `split_classified` took the path, so it is ASCII, and ASCII bytes are UTF-8.
                let text = unsafe { std::str::from_utf8_unchecked(seg) };
                if braces {
                    shape::push_literal(key, text);
                } else {
                    // Written as it reads: its group, if any, is asked before it is written,
                    // so a literal the group folds is never written only to be taken back.
                    if group_at(groups, key, (path_start, seg_start)).is_some_and(|kept| !fold::keeps(kept, text)) {
                        positions.found(at, None);
                        push_reserved(key, "{param}");
                    } else {
                        push_reserved(key, text);
                    }
                    continue;
                }
            }
            other => {
                positions.found(at, other.redacted_name());
                push_reserved(key, other.placeholder());
            }
        }
        fold_segment(groups, key, (path_start, seg_start), class, at, positions);
    }
}

/// The longest placeholder a segment is written as: `{param}`, `{email}`, `{token}`.
const PLACEHOLDER_MAX: usize = 7;

/// Appends `text` to `key`, which has room for it: no growing, and a text of up to 32
/// bytes moved as two overlapping words of it, not by a call to `memcpy` (a key is several
/// short writes a line, and each paid a call).
#[inline(always)] // several times a line
fn push_reserved(key: &mut String, text: &str) {
    let n = text.len();
    assert!(key.capacity() - key.len() >= n, "templating reserved too little room");
    // SAFETY: `text` is UTF-8 and is appended whole, so `key` stays UTF-8. The room for its
    // `n` bytes past `key.len()` is checked above. Each move reads and writes inside `0..n`:
    // two words of `W` bytes, at `0` and at `n - W`, for `W <= n <= 2W`.
    unsafe {
        let bytes = key.as_mut_vec();
        let (src, dst) = (text.as_ptr(), bytes.as_mut_ptr().add(bytes.len()));
        macro_rules! two_words {
            ($int:ty) => {{
                let w = std::mem::size_of::<$int>();
                let (head, tail) = (src.cast::<$int>().read_unaligned(), src.add(n - w).cast::<$int>().read_unaligned());
                dst.cast::<$int>().write_unaligned(head);
                dst.add(n - w).cast::<$int>().write_unaligned(tail);
            }};
        }
        match n {
            0 => {}
            1..=3 => {
                // The first, middle and last bytes are all of them.
                *dst = *src;
                *dst.add(n / 2) = *src.add(n / 2);
                *dst.add(n - 1) = *src.add(n - 1);
            }
            4..=7 => two_words!(u32),
            8..=15 => two_words!(u64),
            16..=32 => two_words!(u128),
            _ => std::ptr::copy_nonoverlapping(src, dst, n),
        }
        bytes.set_len(bytes.len() + n);
    }
}

/// The folded groups of paths of the method `key` holds (`GET `) and `segments` segments,
/// by prefix; none for most shapes.
#[inline(always)] // once a line
fn groups_of<'r>(rules: Option<&'r Rules>, key: &str, segments: usize) -> Option<&'r fold::GroupsByPrefix> {
    rules?.prefixes(key.strip_suffix(' ').unwrap_or(key), segments)
}

/// Writes a segment that is not literal as its placeholder; its position is sampled, or redacted.
#[inline(always)] // per segment: a call would cost what the work does
fn push_placeholder(key: &mut String, positions: &mut Positions, at: (usize, (u32, u32)), class: Segment) {
    positions.found(at, class.redacted_name());
    key.push_str(class.placeholder());
}

/// The segment just written at `key[seg_start..]`, of look `class`, in a folded group
/// (`GET 3 /p`: the shape, and the key so far from `path_start` as the prefix): its literals
/// but the kept ones, and shape placeholders, become `{param}`.
#[inline(always)] // per segment, and nearly always no group: a call would cost what the work does
fn fold_segment(
    groups: Option<&fold::GroupsByPrefix>,
    key: &mut String,
    (path_start, seg_start): (usize, usize),
    class: Segment,
    at: (usize, (u32, u32)),
    positions: &mut Positions,
) {
    let Some(kept) = group_at(groups, key, (path_start, seg_start)) else { return };
    let replace = match class {
        Segment::Literal => !fold::keeps(kept, &key[seg_start..]),
        other => other.sampled(),
    };
    if replace {
        if class == Segment::Literal {
            positions.found(at, None);
        }
        key.truncate(seg_start);
        key.push_str("{param}");
    }
}

/// The folded group, if any, of a segment written from `seg_start`, just after its `/`: found by
/// the key so far from `path_start` (the segments before it) as the prefix, its literals kept.
#[inline(always)] // per segment
fn group_at<'g>(groups: Option<&'g fold::GroupsByPrefix>, key: &str, (path_start, seg_start): (usize, usize)) -> Option<&'g fold::Kept> {
    groups?.get(&key[path_start..seg_start - 1])
}

/// Paths of more segments than this (a scanner's) take the general way.
const FAST_SEGMENTS: usize = 32;

/// `METHOD ` as a key begins: methods are RFC 9110 tokens by now (`request_rule`), their
/// letters written upper-case; anything else is `OTHER`.
#[inline(always)] // once a line, nearly always `GET `
fn push_method(key: &mut String, method: &[u8]) {
    // Most lines of most logs: one store, no byte-by-byte check.
    match method {
        b"GET" => return key.push_str("GET "),
        b"POST" => return key.push_str("POST "),
        _ => {}
    }
    if !method.is_empty() && method.len() <= 16 && method.iter().all(u8::is_ascii_uppercase) {
        // SAFETY: ASCII letters are UTF-8. (The usual `GET`, written as it is.)
        key.push_str(unsafe { std::str::from_utf8_unchecked(method) });
    } else if !method.is_empty() && method.len() <= 16 && crate::log::request_rule::is_token(method) {
        key.extend(method.iter().map(|&b| b.to_ascii_uppercase() as char));
    } else {
        key.push_str("OTHER");
    }
    key.push(' ');
}

/// [`template_key_routed`] for any target: one not beginning with `/` (`OPTIONS *`,
/// CONNECT's `host:443`), an empty one, or a path that is not ASCII.
fn template_key_general(method: &[u8], path: &[u8], rules: Option<&Rules>, key: &mut String, positions: &mut Positions) {
    key.clear();
    positions.clear();
    push_method(key, method);
    if !path.starts_with(b"/") && !path.is_empty() {
        // `OPTIONS *` and CONNECT's `host:443` are targets of their own, never templated.
        shape::push_literal(key, &shape::lossless(path));
        return;
    }
    // An empty path is written `/`: two empty segments, as the rules see it.
    let path: &[u8] = if path.is_empty() { b"/" } else { path };
    let path_start = key.len();
    // Each a vector scan: a count of slashes, and the log's own braces (rare: looked for
    // once per path, not once per segment).
    let slashes = path.iter().filter(|&&b| b == b'/').count();
    let braces = crate::bytes::find2(b'{', b'}', path).is_some();
    let groups = groups_of(rules, key, slashes + 1);
    // Paths are nearly always UTF-8: checked once whole, its segments are text as they are split.
    let text = if path.is_ascii() {
        // SAFETY: ASCII bytes are UTF-8. (`is_ascii` reads a word at a time; nearly every
        // path is ASCII, and the full check costs several times more per line.)
        Some(unsafe { std::str::from_utf8_unchecked(path) })
    } else {
        std::str::from_utf8(path).ok()
    };
    let mut offset = 0;
    for (i, seg) in path.split(|&b| b == b'/').enumerate() {
        if i > 0 {
            key.push('/');
        }
        let seg_start = key.len();
        // Split at an ASCII `/`, a segment of a UTF-8 path is UTF-8: sliced, not checked again.
        let seg_text = text.and_then(|t| t.get(offset..offset + seg.len()));
        // Lines are at most a megabyte (`scan::MAX_LINE`); a longer path's spans read nothing.
        let span = |at: usize| u32::try_from(at).unwrap_or(u32::MAX);
        let at = (i, (span(offset), span(offset + seg.len())));
        offset += seg.len() + 1;
        let class = shape::classify(seg);
        match class {
            Segment::Literal => match seg_text.map_or_else(|| std::str::from_utf8(seg).ok(), Some) {
                Some(text) if braces => shape::push_literal(key, text),
                Some(text) => key.push_str(text),
                None => shape::push_literal(key, &shape::lossless(seg)),
            },
            other => push_placeholder(key, positions, at, other),
        }
        if i > 0 {
            fold_segment(groups, key, (path_start, seg_start), class, at, positions);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_template_by_shape() {
        let (mut key, mut sampled) = (String::new(), Positions::default());
        let table = [
            ("GET", "/users/123", "GET /users/{id}"),
            ("get", "/users/me", "GET /users/me"),
            ("DELETE", "/a/550e8400-e29b-41d4-a716-446655440000/b/2026-11-28", "DELETE /a/{uuid}/b/{date}"),
            ("POST", "/reset/alice@example.com", "POST /reset/{email}"),
            ("GET", "", "GET /"),
        ];
        for (method, path, want) in table {
            template_key(method.as_bytes(), path.as_bytes(), &mut key, &mut sampled);
            assert_eq!(key, want);
        }
    }

    /// Texts of every length up to 70 are appended whole, after keys of any length, and no
    /// placeholder is longer than the room templating reserves for one.
    #[test]
    fn reserved_writes_append_exactly() {
        let text: String = (0..70u8).map(|i| char::from(b'!' + i)).collect();
        for before in [0, 1, 5, 17] {
            for n in 0..=70 {
                let mut key = "k".repeat(before);
                key.reserve(n);
                push_reserved(&mut key, &text[..n]);
                assert_eq!(key, format!("{}{}", "k".repeat(before), &text[..n]), "{before} {n}");
            }
        }
        let classes = [Segment::Id, Segment::Uuid, Segment::Hash, Segment::Date, Segment::Email, Segment::Token];
        assert!(classes.iter().map(|c| c.placeholder()).chain(["{param}"]).all(|p| p.len() <= PLACEHOLDER_MAX));
    }

    /// The one-pass templating of ASCII paths writes what the general way writes, with
    /// and without folding rules (shape placeholders, kept literals, braces, secrets).
    #[test]
    fn the_one_pass_and_the_general_templating_agree() {
        let mut rules = Rules::default();
        let kept = |k: &[&str]| k.iter().map(|s| (*s).to_owned()).collect();
        rules.add("GET 3 ".to_owned(), kept(&["static"]));
        rules.add("GET 3 /{param}".to_owned(), kept(&[]));
        rules.add("GET 4 /p".to_owned(), kept(&["top"]));
        rules.add("GET 2 ".to_owned(), kept(&["login", "{{x}}"]));
        let paths = [
            "/",
            "//",
            "/a//b/",
            "/static/asdfghjklz",
            "/qwertyui/asdfghjklz",
            "/abc/123",
            "/abc/550e8400-e29b-41d4-a716-446655440000",
            "/abc/eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
            "/p/top/7",
            "/p/other/20261128",
            "/p/x/y/z",
            "/login",
            "/{x}",
            "/{{x}}",
            "/a{b}/c}d/{id}",
            "/reset/alice%40example.com",
            "/cdn/0123456789abcdef0123/logo.png",
            "/users/123/avatar/",
            "/caf\u{e9}/123",
        ];
        // More segments than the one pass takes: the general way's.
        let deep = "/x/1".repeat(20);
        for rules in [None, Some(&rules)] {
            for method in ["GET", "post", "M-SEARCH"] {
                for path in paths.iter().copied().chain([deep.as_str()]) {
                    let (mut fast, mut fast_at) = (String::new(), Positions::default());
                    template_key_routed(method.as_bytes(), path.as_bytes(), rules, &mut fast, &mut fast_at);
                    let (mut general, mut general_at) = (String::new(), Positions::default());
                    template_key_general(method.as_bytes(), path.as_bytes(), rules, &mut general, &mut general_at);
                    assert_eq!((&fast, &fast_at), (&general, &general_at), "{method} {path} with rules: {}", rules.is_some());
                    assert_eq!(fast_at.spans(), general_at.spans(), "{method} {path}");
                    assert!(fast_at.spans().is_some(), "{method} {path}");
                }
            }
        }
        let (mut key, mut at) = (String::new(), Positions::default());
        template_key_routed(b"GET", b"/p/other/20261128", Some(&rules), &mut key, &mut at);
        assert_eq!((key.as_str(), at.sampled.as_slice()), ("GET /p/{param}/{date}", &[2, 3][..]));
    }
}

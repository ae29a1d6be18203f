//! The shape of a value derive redacts: what it looks like, never what it is.
//!
//! A secret or personal value in a path or query (`{token}`, `{email}`,
//! `{code}`) never reaches a profile, but a replay with no `--var` for it
//! still needs a value the target will parse the way it parsed the real
//! one. So the profile keeps the value's shape, and `replay run` fills the
//! placeholder with fresh synthetic values of that shape
//! (`plan/synthetic.rs`).
//!
//! A shape is a string: literal separators and short type prefixes stand for
//! themselves, each run of letters and digits is its alphabet and length.
//!
//! ```text
//! 4a4adadf-269f-41a7-a092-84632173d7c9      {hex:8}-{hex:4}-{hex:4}-{hex:4}-{hex:12}
//! V+4a4adadf-269f-41a7-a092-84632173d7c9    V+{hex:8}-{hex:4}-{hex:4}-{hex:4}-{hex:12}
//! sk_live_51HxYz0AbCdEfGhIjKlMnOp           sk_live_{alnum:23}
//! eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln eyJ{b64:17}.{b64:15}.{b64:4}
//! 5551234567                                {digits:10}
//! bob@example.org                           {email}
//! ```
//!
//! Alphabets: `digits`, `hex` (lower-case), `HEX`, `lower`, `upper`, `alpha`
//! (both cases), `alnum` (letters and digits), `b64` (base64url: letters,
//! digits, `-` and `_`). A literal brace is written doubled. What a shape
//! keeps of a value is its length, its alphabets, its separators and a type
//! prefix of at most six letters (`V+`, `sk_live_`, `eyJ`): nothing that
//! tells one user's value from another's.

/// Distinct shapes kept per placeholder while deriving; the profile writes the commonest few.
const KEPT: usize = 8;
/// A shape or a placeholder's name read from a file is at most this long.
const MAX_SHAPE_BYTES: usize = 1024;
/// Placeholders with shapes, per endpoint, read from a file: path ones and a secret query key each.
const MAX_NAMES: usize = 128;
/// Shapes written per placeholder.
pub const WRITTEN: usize = 4;

/// A run of letters and digits, by the narrowest alphabet that holds it.
fn alphabet(run: &[u8]) -> &'static str {
    let (mut digit, mut lower, mut upper, mut hex_lower, mut hex_upper) = (false, false, false, true, true);
    for &b in run {
        digit |= b.is_ascii_digit();
        lower |= b.is_ascii_lowercase();
        upper |= b.is_ascii_uppercase();
        hex_lower &= b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
        hex_upper &= b.is_ascii_digit() || (b'A'..=b'F').contains(&b);
    }
    match (digit, lower, upper) {
        (true, false, false) => "digits",
        // A hex run holds a digit, or it is a word (`face`, `cafe`).
        (true, true, false) if hex_lower => "hex",
        (true, false, true) if hex_upper => "HEX",
        (false, true, false) => "lower",
        (false, false, true) => "upper",
        (false, true, true) => "alpha",
        _ => "alnum",
    }
}

/// Whether `value` is a base64url token whose `-` and `_` fall where chance puts them
/// (mixed-case runs), rather than separators of a structure (a UUID's groups).
fn is_base64url_blob(value: &[u8]) -> bool {
    value.len() >= 16
        && value.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && value.iter().any(u8::is_ascii_uppercase)
        && value.iter().any(u8::is_ascii_lowercase)
        && value.iter().any(|&b| b == b'-' || b == b'_')
}

/// `hex` or `HEX` when every letter and digit of `value` is a hex digit of one case, with at
/// least 8 of them and both digits and letters among them.
fn hex_throughout(value: &[u8]) -> Option<&'static str> {
    let alnum = || value.iter().filter(|b| b.is_ascii_alphanumeric());
    let (count, digits) = (alnum().count(), alnum().filter(|b| b.is_ascii_digit()).count());
    if count < 8 || digits == 0 || digits == count {
        return None;
    }
    if alnum().all(|&b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Some("hex")
    } else if alnum().all(|&b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)) {
        Some("HEX")
    } else {
        None
    }
}

/// The shape of `value` (see the module doc).
pub fn shape_of(value: &[u8]) -> String {
    let mut out = String::with_capacity(24);
    shape_into(value, &mut out);
    out
}

/// [`shape_of`] appended to `out`: formatting writes into it, with no allocation of its own.
fn shape_into(value: &[u8], out: &mut String) {
    use std::fmt::Write;
    if super::shape::looks_like_email(value) {
        out.push_str("{email}");
        return;
    }
    let mut rest = value;
    // A type prefix: short letter words, each followed by `_`, `+` or `:`, while a long value remains
    // (`V+`, `sk_live_`, `cus_`; not a slug's words, which `-` joins).
    loop {
        let word = rest.iter().take_while(|b| b.is_ascii_alphabetic()).count();
        let sep = rest.get(word).is_some_and(|&b| matches!(b, b'_' | b'+' | b':'));
        let after = rest.len().saturating_sub(word + 1);
        if word == 0 || word > 4 || !sep || after < 12 || out.len() + word > 12 {
            break;
        }
        out.push_str(std::str::from_utf8(&rest[..=word]).unwrap_or(""));
        rest = &rest[word + 1..];
    }
    if rest.starts_with(b"eyJ") && rest.len() > 20 {
        // A JWT: its header always opens `{"` (base64 `eyJ`); each dot-separated part is base64url.
        out.push_str("eyJ");
        rest = &rest[3..];
        for (i, part) in rest.split(|&b| b == b'.').enumerate() {
            if i > 0 {
                out.push('.');
            }
            if !part.is_empty() {
                let _ = write!(out, "{{b64:{}}}", part.len());
            }
        }
        return;
    }
    if is_base64url_blob(rest) {
        let _ = write!(out, "{{b64:{}}}", rest.len());
        return;
    }
    // Hex throughout (a UUID, a hash in groups): every run is hex, though one group happens to be all digits.
    let hex = hex_throughout(rest);
    let mut i = 0;
    while i < rest.len() {
        let run = rest[i..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
        if run > 0 {
            let _ = write!(out, "{{{}:{run}}}", hex.unwrap_or_else(|| alphabet(&rest[i..i + run])));
            i += run;
            continue;
        }
        // A separator stands for itself; bytes that are not text are written as their escape.
        match rest[i] {
            b @ (b'{' | b'}') => {
                out.push(b as char);
                out.push(b as char);
            }
            b if b.is_ascii_graphic() => out.push(b as char),
            b => {
                let _ = write!(out, "%{b:02X}");
            }
        }
        i += 1;
    }
}

/// The shapes seen for one placeholder, with how often: bounded, merged across chunks.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shapes(Vec<(String, u64)>);

impl Shapes {
    /// Counts `value`'s shape. Per request on derive's workers: the shape is built in a scratch
    /// buffer and copied only when it is new.
    pub fn offer(&mut self, value: &[u8]) {
        thread_local! {
            static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
        }
        SCRATCH.with_borrow_mut(|shape| {
            shape.clear();
            shape_into(value, shape);
            // A shape no profile could carry (a long value of many short runs) is not kept.
            if shape.len() > MAX_SHAPE_BYTES {
                return;
            }
            match self.0.iter_mut().find(|(s, _)| s == shape) {
                Some((_, count)) => *count += 1,
                None => self.add(shape.clone(), 1),
            }
        });
    }

    fn add(&mut self, shape: String, n: u64) {
        match self.0.iter_mut().find(|(s, _)| *s == shape) {
            Some((_, count)) => *count += n,
            None => {
                self.0.push((shape, n));
                if self.0.len() > KEPT {
                    self.sort();
                    self.0.truncate(KEPT);
                }
            }
        }
    }

    fn sort(&mut self) {
        self.0.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    }

    /// Checks shapes read from a file: at most the kept number, each counted once, short.
    pub fn check(&self) -> Result<(), String> {
        if self.0.len() > KEPT {
            return Err(format!("{} shapes where at most {KEPT} are kept", self.0.len()));
        }
        for (i, (shape, n)) in self.0.iter().enumerate() {
            if *n == 0 || shape.len() > MAX_SHAPE_BYTES || self.0[..i].iter().any(|(s, _)| s == shape) {
                return Err(format!("[{i}]: a shape is counted once, above 0, in at most {MAX_SHAPE_BYTES} bytes"));
            }
            // As a profile's loader will read it once merged (`{hex:12` unclosed is refused here, not there).
            Shape::parse(shape).map_err(|e| format!("[{i}]: {e}"))?;
        }
        Ok(())
    }

    pub fn merge(&mut self, other: &Shapes) {
        for (shape, n) in &other.0 {
            self.add(shape.clone(), *n);
        }
    }

    /// The memory the shapes take, as [`super::sketch::Sample::cost`] counts it.
    pub fn cost(&self) -> usize {
        self.0.iter().map(|(s, _)| s.len() + super::sketch::ITEM_COST).sum()
    }

    /// The commonest shapes, most first (ties by the shape's text, so the profile is deterministic).
    pub fn top(&self) -> Vec<String> {
        let mut sorted = self.clone();
        sorted.sort();
        sorted.0.into_iter().take(WRITTEN).map(|(s, _)| s).collect()
    }
}

/// A key's byte as its placeholder name writes it: letters, digits and `_` stay, anything else is `_`.
fn placeholder_byte(b: u8) -> u8 {
    if b.is_ascii_alphanumeric() || b == b'_' { b } else { b'_' }
}

/// Shapes by placeholder name (`token`, `email`, `code`), for one endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NamedShapes(Vec<(String, Shapes)>);

impl NamedShapes {
    pub fn offer(&mut self, name: &str, value: &[u8]) {
        let room = self.has_room_for(name);
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some((_, shapes)) => shapes.offer(value),
            None if room => {
                let mut shapes = Shapes::default();
                shapes.offer(value);
                self.0.push((name.to_owned(), shapes));
            }
            None => {}
        }
    }

    /// Whether a new placeholder `name` may join: at most [`MAX_NAMES`], each at most
    /// [`MAX_SHAPE_BYTES`] long, as a partial profile may carry them.
    fn has_room_for(&self, name: &str) -> bool {
        self.0.len() < MAX_NAMES && name.len() <= MAX_SHAPE_BYTES
    }

    /// Keeps, for each placeholder, its commonest shapes while their cost fits `budget` together.
    pub fn trim(&mut self, budget: usize) {
        for (_, shapes) in &mut self.0 {
            shapes.sort();
            let keep = super::sketch::fitting(shapes.0.iter().map(|(s, _)| s.len() + super::sketch::ITEM_COST), budget);
            shapes.0.truncate(keep);
        }
    }

    /// The memory the names and their shapes take.
    pub fn cost(&self) -> usize {
        self.0.iter().map(|(n, s)| n.len() + super::sketch::ITEM_COST + s.cost()).sum()
    }

    /// [`NamedShapes::offer`] under the placeholder a secret query key gets (`X-Amz-Signature`
    /// is `X_Amz_Signature`, as [`super::shape::placeholder_for`] names it), without building the name
    /// unless it is new.
    pub fn offer_for_key(&mut self, key: &[u8], value: &[u8]) {
        let same = |name: &str| name.len() == key.len() && name.bytes().zip(key).all(|(n, &k)| n == placeholder_byte(k));
        match self.0.iter_mut().find(|(n, _)| same(n)) {
            Some((_, shapes)) => shapes.offer(value),
            None => {
                let name = super::shape::placeholder_for(key);
                self.offer(&name[1..name.len() - 1], value);
            }
        }
    }

    pub fn merge(&mut self, other: &NamedShapes) {
        for (name, shapes) in &other.0 {
            let room = self.has_room_for(name);
            match self.0.iter_mut().find(|(n, _)| n == name) {
                Some((_, mine)) => mine.merge(shapes),
                None if room => self.0.push((name.clone(), shapes.clone())),
                None => {}
            }
        }
    }

    /// Checks named shapes read from a file: a few names, each once, each's shapes checked.
    pub fn check(&self) -> Result<(), String> {
        if self.0.len() > MAX_NAMES {
            return Err(format!("{} names (at most {MAX_NAMES})", self.0.len()));
        }
        for (i, (name, shapes)) in self.0.iter().enumerate() {
            if name.len() > MAX_SHAPE_BYTES || self.0[..i].iter().any(|(n, _)| n == name) {
                return Err(format!("[{i}]: a name is given once, in at most {MAX_SHAPE_BYTES} bytes"));
            }
            shapes.check().map_err(|e| format!("[{i}]{e}"))?;
        }
        Ok(())
    }

    /// The shapes of the placeholder `name`.
    pub fn get(&self, name: &str) -> Option<&Shapes> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, s)| s)
    }
}

/// The longest run a shape may ask for (a profile is untrusted input).
const MAX_RUN: usize = 4096;

/// A piece of a compiled shape: literal text, a run of an alphabet, or an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShapePiece {
    Literal(String),
    Run { alphabet: &'static [u8], len: usize },
    Email,
}

/// A shape compiled for making values (`plan/synthetic.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape(Vec<ShapePiece>);

impl Shape {
    pub fn pieces(&self) -> &[ShapePiece] {
        &self.0
    }
}

const DIGITS: &[u8] = b"0123456789";
const HEX: &[u8] = b"0123456789abcdef";
const HEX_UPPER: &[u8] = b"0123456789ABCDEF";
const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALPHA: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const B64: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";

fn alphabet_named(name: &str) -> Option<&'static [u8]> {
    Some(match name {
        "digits" => DIGITS,
        "hex" => HEX,
        "HEX" => HEX_UPPER,
        "lower" => LOWER,
        "upper" => UPPER,
        "alpha" => ALPHA,
        "alnum" => ALNUM,
        "b64" => B64,
        _ => return None,
    })
}

impl Shape {
    /// Compiles a shape; the error says what in it is not understood.
    pub fn parse(text: &str) -> Result<Shape, String> {
        let mut pieces: Vec<ShapePiece> = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            if let Some(after) = rest.strip_prefix("{{") {
                literal.push('{');
                rest = after;
            } else if let Some(after) = rest.strip_prefix("}}") {
                literal.push('}');
                rest = after;
            } else if c == '{' {
                let end = rest.find('}').ok_or_else(|| format!("`{text}`: a `{{` is not closed"))?;
                let inner = &rest[1..end];
                let piece = if inner == "email" {
                    ShapePiece::Email
                } else {
                    let (name, len) = inner.split_once(':').ok_or_else(|| format!("`{{{inner}}}` is not `{{alphabet:length}}`"))?;
                    let alphabet = alphabet_named(name).ok_or_else(|| {
                        format!("`{name}` is no alphabet; shapes know digits, hex, HEX, lower, upper, alpha, alnum, b64 and {{email}}")
                    })?;
                    let len: usize = len
                        .parse()
                        .ok()
                        .filter(|&n| (1..=MAX_RUN).contains(&n))
                        .ok_or_else(|| format!("`{{{inner}}}`: the length must be a whole number from 1 to {MAX_RUN}"))?;
                    ShapePiece::Run { alphabet, len }
                };
                if !literal.is_empty() {
                    pieces.push(ShapePiece::Literal(std::mem::take(&mut literal)));
                }
                pieces.push(piece);
                rest = &rest[end + 1..];
            } else if c == '}' {
                return Err(format!("`{text}`: a lone `}}` (write a literal brace doubled)"));
            } else {
                literal.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
        if !literal.is_empty() {
            pieces.push(ShapePiece::Literal(literal));
        }
        Ok(Shape(pieces))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_keep_the_look_and_drop_the_value() {
        let table = [
            ("4a4adadf-269f-41a7-a092-84632173d7c9", "{hex:8}-{hex:4}-{hex:4}-{hex:4}-{hex:12}"),
            ("V+4a4adadf-269f-41a7-a092-84632173d7c9", "V+{hex:8}-{hex:4}-{hex:4}-{hex:4}-{hex:12}"),
            ("sk_live_51HxYz0AbCdEfGhIjKlMnOp", "sk_live_{alnum:23}"),
            ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln", "eyJ{b64:17}.{b64:15}.{b64:4}"),
            ("5551234567", "{digits:10}"),
            ("bob@example.org", "{email}"),
            ("bob%40example.org", "{email}"),
            ("9F86D081884C7D659A2FEAA0C55AD015", "{HEX:32}"),
            ("AKIAIOSFODNN7EXAMPLE9x2kq", "{alnum:25}"),
            ("xK9_aB-3dEfGhIjKlMnO", "{b64:20}"),
            ("abc.def", "{lower:3}.{lower:3}"),
            ("f2405b05-1234-4b0d-8f6a-9fed0fcfe2e0", "{hex:8}-{hex:4}-{hex:4}-{hex:4}-{hex:12}"),
            ("aaa-ideals-x7Kp2mQ9z-Lw4Rt8Yb3Nc", "{b64:32}"),
            ("cus_x7Kp2mQ9zLw4Rt8Yb3Nc", "cus_{alnum:20}"),
            ("a{b}", "{lower:1}{{{lower:1}}}"),
            ("t\u{e9}", "{lower:1}%C3%A9"),
            ("", ""),
        ];
        for (value, want) in table {
            assert_eq!(shape_of(value.as_bytes()), want, "{value}");
        }
    }

    #[test]
    fn shapes_and_names_stay_within_what_a_partial_may_carry() {
        let mut named = NamedShapes::default();
        // A long value of many short runs would make a shape of 4.5 bytes per byte: not kept.
        named.offer("token", "a-".repeat(1000).as_bytes());
        named.offer("token", b"abc");
        named.offer(&"k".repeat(MAX_SHAPE_BYTES + 1), b"abc");
        for i in 0..MAX_NAMES + 10 {
            named.offer(&format!("n{i}"), b"abc");
        }
        assert_eq!(named.0.len(), MAX_NAMES);
        assert_eq!(named.get("token").map(Shapes::top), Some(vec!["{lower:3}".to_owned()]));
        let mut other = NamedShapes::default();
        other.offer("late", b"abc");
        named.merge(&other);
        assert!(named.get("late").is_none());
        assert!(named.check().is_ok(), "{:?}", named.check());
        assert!(named.cost() > MAX_NAMES * super::super::sketch::ITEM_COST);
        // Trimmed, a placeholder keeps its commonest shapes that fit the budget together.
        let mut trimmed = NamedShapes::default();
        ["1234", "12345678", "12345678", "abc", "abc", "abc"].iter().for_each(|v| trimmed.offer("id", v.as_bytes()));
        let shape_cost = |s: &str| s.len() + super::super::sketch::ITEM_COST;
        trimmed.trim(shape_cost("{lower:3}") + shape_cost("{digits:8}"));
        assert_eq!(trimmed.get("id").map(Shapes::top), Some(vec!["{lower:3}".to_owned(), "{digits:8}".to_owned()]));
        trimmed.trim(0);
        assert_eq!(trimmed.get("id").map(Shapes::top), Some(vec![]));
    }

    #[test]
    fn a_partial_s_shapes_are_refused_where_a_profile_s_would_be() {
        let read = |json: &str| serde_json::from_str::<NamedShapes>(json).unwrap().check();
        assert_eq!(read(r#"[["appId", [["{hex:8}-{hex:4}", 3]]]]"#), Ok(()));
        // Each refused shape is named by its place, with what the profile's loader would say of it.
        for (shapes, says) in [
            (r#"[["appId", [["{hex:8}", 2], ["{hex:8}-{hex:12m", 1]]]]"#, "[0][1]: `{hex:8}-{hex:12m`: a `{` is not closed"),
            (r#"[["t", [["{hex:0}", 1]]]]"#, "[0][0]: `{hex:0}`: the length must be a whole number from 1 to 4096"),
            (r#"[["t", [["{nope:3}", 1]]]]"#, "[0][0]: `nope` is no alphabet"),
        ] {
            let error = read(shapes).unwrap_err();
            assert!(error.starts_with(says), "{shapes}: {error}");
        }
    }

    #[test]
    fn the_commonest_shapes_are_written_whatever_the_order_seen() {
        let values: Vec<String> = (0..40).map(|i| if i % 3 == 0 { format!("{i:08}") } else { format!("ab{i:04}") }).collect();
        let mut forward = Shapes::default();
        values.iter().for_each(|v| forward.offer(v.as_bytes()));
        let (mut a, mut b) = (Shapes::default(), Shapes::default());
        values.iter().rev().enumerate().for_each(|(i, v)| if i % 2 == 0 { a.offer(v.as_bytes()) } else { b.offer(v.as_bytes()) });
        a.merge(&b);
        assert_eq!(forward.top(), a.top());
        assert_eq!(forward.top(), ["{hex:6}", "{digits:8}"]);
        // Bounded however many shapes come.
        let mut many = Shapes::default();
        (1..200).for_each(|n| many.offer("x".repeat(n).as_bytes()));
        assert!(many.0.len() <= KEPT && many.top().len() == WRITTEN);
    }
}

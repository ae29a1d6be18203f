//! Synthetic values: a fresh value of a redacted value's shape, for a
//! placeholder that neither `--var` nor the profile's samples fill.
//!
//! A shape (`profile/value_shape.rs`) is literal text and runs such as
//! `{hex:8}`: `V+{hex:8}-{hex:4}` becomes `V+3f9a0c1e-7b2d`. E-mail
//! addresses are made at the reserved domain `example.invalid`, which
//! reaches no one. Values come from the run's seeded generator, so `--seed`
//! reproduces them. A shape is compiled once, when the request maker is
//! built; filling one allocates nothing beyond the request's own string.

pub use crate::profile::value_shape::{Shape, ShapePiece};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::Rng;

/// Appends a fresh value of `shape` to `out`.
pub fn fill(shape: &Shape, rng: &mut ChaCha8Rng, out: &mut String) {
    for piece in shape.pieces() {
        match piece {
            ShapePiece::Literal(text) => out.push_str(text),
            ShapePiece::Run { alphabet, len } => push_run(rng, alphabet, *len, out),
            ShapePiece::Email => {
                out.push_str("user-");
                push_run(rng, b"0123456789", 8, out);
                out.push_str("@example.invalid");
            }
        }
    }
}

/// `len` characters drawn from `alphabet`: a 64-bit draw gives several characters.
fn push_run(rng: &mut ChaCha8Rng, alphabet: &[u8], len: usize, out: &mut String) {
    let n = alphabet.len() as u64;
    let mut bits = 0u64;
    let mut left = 0;
    for _ in 0..len {
        if left == 0 {
            bits = rng.next_u64();
            left = 8;
        }
        // Eight bits a character: the bias of `% n` for n ≤ 64 is under a few percent, harmless here.
        out.push(alphabet[((bits & 0xff) % n) as usize] as char);
        bits >>= 8;
        left -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::value_shape::shape_of;
    use rand_chacha::rand_core::SeedableRng;

    /// A shape with its alphabets' names left out: a drawn `{hex:4}` may happen to be `{digits:4}`.
    fn skeleton(shape: &str) -> String {
        regex::Regex::new(r"\{[a-zA-Z0-9]+:").unwrap().replace_all(shape, "{").into_owned()
    }

    #[test]
    fn a_synthetic_value_has_the_shape_of_the_real_one() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let real = [
            "4a4adadf-269f-41a7-a092-84632173d7c9",
            "V+4a4adadf-269f-41a7-a092-84632173d7c9",
            "sk_live_51HxYz0AbCdEfGhIjKlMnOp",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
            "5551234567",
            "bob@example.org",
            "9F86D081884C7D659A2FEAA0C55AD015",
            "abc.def",
            "a{b}",
        ];
        for value in real {
            let shape = shape_of(value.as_bytes());
            let compiled = Shape::parse(&shape).unwrap_or_else(|e| panic!("{shape}: {e}"));
            let mut seen = std::collections::HashSet::new();
            for _ in 0..20 {
                let mut made = String::new();
                fill(&compiled, &mut rng, &mut made);
                assert_eq!(made.len(), if shape == "{email}" { made.len() } else { value.len() }, "{value} -> {made}");
                assert_eq!(skeleton(&shape_of(made.as_bytes())), skeleton(&shape), "{made}");
                assert_ne!(made, value);
                seen.insert(made);
            }
            assert!(seen.len() > 15, "{value}: values are fresh, not one repeated: {seen:?}");
        }
        let mut email = String::new();
        fill(&Shape::parse("{email}").unwrap(), &mut rng, &mut email);
        assert!(email.starts_with("user-") && email.ends_with("@example.invalid"), "{email}");
    }

    #[test]
    fn shapes_from_a_hand_edited_profile_are_refused_with_the_reason() {
        for (bad, says) in [
            ("{hex:0}", "from 1 to 4096"),
            ("{hex:99999}", "from 1 to 4096"),
            ("{words:3}", "no alphabet"),
            ("{hex", "not closed"),
            ("a}b", "lone"),
            ("{hex}", "alphabet:length"),
        ] {
            let err = Shape::parse(bad).unwrap_err();
            assert!(err.contains(says), "{bad}: {err}");
        }
        assert!(Shape::parse("é{{x}}{digits:2}").is_ok());
    }
}

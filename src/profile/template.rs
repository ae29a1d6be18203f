//! A template's text: literal parts and `{name}` placeholders.
//!
//! `/users/{id}/posts` is the literal `/users/`, the placeholder `id`, and
//! the literal `/posts`. A log's own braces are written doubled (`{{`, `}}`)
//! so they are never read back as placeholders, and a brace around anything
//! that is not a name (`${IFS}`, `{日本}`) stands for itself. Derive writes
//! templates this way; run splits them to fill them.

/// A piece of a template: literal text, or a placeholder's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Literal(&'a str),
    Param(&'a str),
}

/// Whether `name` can be a placeholder's name: letters, digits, `_` and `-`.
fn is_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Splits a template into pieces. `{name}` is a placeholder; `{{` and `}}`
/// are a literal brace (as a log's own braces are written); any other
/// brace stands for itself.
pub fn pieces(template: &str) -> impl Iterator<Item = Piece<'_>> {
    let mut rest = template;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (piece, used) = if rest.starts_with("{{") {
            (Piece::Literal("{"), 2)
        } else if rest.starts_with("}}") {
            (Piece::Literal("}"), 2)
        } else if let Some(name) = rest.strip_prefix('{').and_then(|r| r.split_once('}')).map(|(n, _)| n).filter(|n| is_name(n)) {
            (Piece::Param(name), name.len() + 2)
        } else {
            // Literal text up to the next brace (a lone brace is text too); the first
            // character may be several bytes long (`é{id}`), so step over it whole.
            let first = rest.chars().next().map_or(1, char::len_utf8);
            let end = rest[first..].find(['{', '}']).map_or(rest.len(), |i| i + first);
            (Piece::Literal(&rest[..end]), end)
        };
        rest = &rest[used..];
        Some(piece)
    })
}

/// The `{name}`s in a template, in order.
pub fn placeholders(template: &str) -> impl Iterator<Item = &str> {
    pieces(template).filter_map(|p| if let Piece::Param(name) = p { Some(name) } else { None })
}

/// `{id}`, but not a log's own braces, which the template holds doubled (`{{x}}`).
pub fn is_placeholder(segment: &str) -> bool {
    segment.len() > 2 && segment.starts_with('{') && segment.ends_with('}') && !segment[1..segment.len() - 1].contains(['{', '}'])
}

/// Placeholders given by a value's look; secrets (`{email}`, `{token}`) keep theirs.
pub fn is_shape_placeholder(segment: &str) -> bool {
    matches!(segment, "{id}" | "{uuid}" | "{hash}" | "{date}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_split_at_character_boundaries() {
        // (template, literal text, placeholders): multi-byte characters beside braces, doubled braces, escapes.
        let table: [(&str, &str, &[&str]); 11] = [
            ("/é{id}", "/é", &["id"]),
            ("é{id}é", "éé", &["id"]),
            ("{id}é", "é", &["id"]),
            ("\u{fffd}{{", "\u{fffd}{", &[]),
            ("{{\u{fffd}}}", "{\u{fffd}}", &[]),
            ("}}é{", "}é{", &[]),
            ("%FF{a}%C3", "%FF%C3", &["a"]),
            ("日本{id}語}", "日本語}", &["id"]),
            ("{日本}", "{日本}", &[]),
            ("{", "{", &[]),
            ("🦀}}🦀{{🦀", "🦀}🦀{🦀", &[]),
        ];
        for (template, text, names) in table {
            let literal: String = pieces(template).filter_map(|p| if let Piece::Literal(l) = p { Some(l) } else { None }).collect();
            assert_eq!(literal, text, "{template}");
            assert_eq!(placeholders(template).collect::<Vec<_>>(), names, "{template}");
        }
        // Every suffix of a template with multi-byte characters splits without a panic.
        let hard = "/a/é{id}/\u{fffd}{{/}}%/日本{x}{{🦀}}{";
        for (start, _) in hard.char_indices() {
            let _ = pieces(&hard[start..]).count();
        }
    }
}

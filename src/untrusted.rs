//! Text from the logs (paths, failure details, a results file's names) is
//! untrusted: anyone who can send production one request writes some of it.
//! One function per kind of output renders it so it can only be read, never
//! obeyed; every writer goes through these.
//!
//! - terminal: control characters (C0, DEL, C1 such as CSI `\u{9b}`) and
//!   bidirectional overrides are shown escaped (`\x1b`, `\u{202e}`);
//! - Markdown: an inline code span whose fence is longer than any run of
//!   backticks inside, with `|` escaped for tables and line breaks folded: no
//!   link, image or markup from data ever renders;
//! - XML: markup escaped, and characters XML 1.0 forbids (C0 but tab, LF, CR;
//!   U+FFFE, U+FFFF) replaced by U+FFFD, so junit.xml stays well-formed;
//! - CSV: a cell a spreadsheet would evaluate (`=`, `+`, `-`, `@`, tab or CR
//!   first) starts with a `'`;
//! - HTML: as XML.

use std::borrow::Cow;
use std::fmt::Write;

/// Characters a terminal may act on: C0, DEL, C1, and the bidirectional controls.
fn acts_on_terminal(c: char) -> bool {
    let u = c as u32;
    u < 0x20 || (0x7f..=0x9f).contains(&u) || (0x202a..=0x202e).contains(&u) || (0x2066..=0x2069).contains(&u) || u == 0x200e || u == 0x200f
}

/// `text` for a terminal: what a terminal would act on, shown escaped.
pub fn terminal(text: &str) -> Cow<'_, str> {
    if !text.chars().any(acts_on_terminal) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c as u32 {
            u if u < 0x80 && acts_on_terminal(c) => {
                let _ = write!(out, "\\x{u:02x}");
            }
            u if acts_on_terminal(c) => {
                let _ = write!(out, "\\u{{{u:x}}}");
            }
            _ => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// `text` as a Markdown inline code span, safe in a table cell.
pub fn markdown_code(text: &str) -> String {
    // Line breaks and terminal controls first; then a fence no run of backticks inside can close.
    let flat = terminal(&text.replace(['\n', '\r'], " ")).replace('|', "\\|");
    let longest = flat.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    // A span that starts or ends with a backtick needs a space inside its fence.
    let pad = if flat.starts_with('`') || flat.ends_with('`') || flat.is_empty() { " " } else { "" };
    format!("{fence}{pad}{flat}{pad}{fence}")
}

/// `text` for XML (and HTML) text and attribute values.
pub fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

/// `text` as a CSV cell a spreadsheet shows as text, never evaluates.
pub fn csv_cell(text: &str) -> Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Strings a hostile client can get into a log, and so into any output.
    pub const HOSTILE: [&str; 8] = [
        "/a\u{1b}[2J\u{1b}]0;owned\u{7}",
        "/b`](http://evil.example/x.png)",
        "/c```|![img](http://evil.example/i.png)|",
        "/d\u{fffe}\u{ffff}",
        "=HYPERLINK(\"http://evil.example\")",
        "/e\u{202e}gnp.exe",
        "/f\u{9b}31m",
        "/g</failure><x>&",
    ];

    #[test]
    fn each_kind_of_output_renders_hostile_text_inert() {
        for text in HOSTILE {
            let t = terminal(text);
            assert!(!t.chars().any(acts_on_terminal), "terminal: {t:?}");
            let md = markdown_code(text);
            // One code span: its fence opens and closes it, and nothing inside is as long.
            let fence_len = md.chars().take_while(|&c| c == '`').count();
            let inner = &md[fence_len..md.len() - fence_len];
            assert!(md.ends_with(&"`".repeat(fence_len)) && !inner.contains(&"`".repeat(fence_len)), "markdown: {md}");
            assert!(!md.contains('\n') && !md.replace("\\|", "").contains('|'), "markdown: {md}");
            let x = xml(text);
            assert!(roxmltree::Document::parse(&format!("<a b=\"{x}\">{x}</a>")).is_ok(), "xml: {x}");
            let c = csv_cell(text);
            assert!(!c.starts_with(['=', '+', '-', '@']), "csv: {c}");
        }
        assert_eq!(terminal("/a\u{1b}[2J"), "/a\\x1b[2J");
        assert_eq!(terminal("/plain/path"), "/plain/path");
        assert_eq!(markdown_code("GET /a`b"), "``GET /a`b``");
        assert_eq!(csv_cell("GET /x"), "GET /x");
    }
}

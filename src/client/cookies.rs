//! A virtual user's cookies: what responses set, sent back on the next requests.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CookieJar {
    cookies: BTreeMap<String, String>,
}

impl CookieJar {
    /// Keeps `name=value` from a `Set-Cookie` header (attributes are ignored; an empty value or Max-Age=0 removes it).
    pub fn keep(&mut self, set_cookie: &str) {
        let pair = set_cookie.split(';').next().unwrap_or("");
        let Some((name, value)) = pair.split_once('=') else { return };
        let expired = set_cookie.to_ascii_lowercase().contains("max-age=0");
        if value.trim().is_empty() || expired {
            self.cookies.remove(name.trim());
        } else {
            self.cookies.insert(name.trim().to_owned(), value.trim().to_owned());
        }
    }

    /// The `Cookie` header to send, if any.
    pub fn header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jar_keeps_what_responses_set() {
        let mut jar = CookieJar::default();
        assert_eq!(jar.header(), None);
        jar.keep("session=abc; Path=/; HttpOnly");
        jar.keep("theme=dark");
        assert_eq!(jar.header().as_deref(), Some("session=abc; theme=dark"));
        jar.keep("theme=; Max-Age=0");
        assert_eq!(jar.header().as_deref(), Some("session=abc"));
    }
}

//! The secret every request must carry, as Jupyter's: printed once in the URL, then kept
//! by the browser in a cookie.

use std::io::Read;

/// 128 random bits, as 32 lowercase hex digits.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct Token(String);

impl Token {
    /// A fresh token from the operating system's random source. Where `/dev/urandom`
    /// cannot be read, from the standard library's per-process random hash keys (also
    /// seeded by the operating system), mixed with the time and the process id.
    pub(crate) fn random() -> Token {
        let mut bytes = [0u8; 16];
        let from_os = std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut bytes))
            .is_ok();
        if !from_os {
            use std::hash::{BuildHasher, Hasher};
            for (i, half) in bytes.chunks_mut(8).enumerate() {
                let mut h = std::collections::hash_map::RandomState::new().build_hasher();
                h.write_usize(i);
                h.write_u32(std::process::id());
                h.write_u128(
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos()),
                );
                half.copy_from_slice(&h.finish().to_le_bytes());
            }
        }
        Token(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    #[cfg(test)]
    pub(crate) fn fixed(text: &str) -> Token {
        Token(text.to_owned())
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `candidate` is the token, in time independent of where they differ (a
    /// loopback attacker timing refusals learns nothing about the prefix).
    pub(crate) fn matches(&self, candidate: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), candidate.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// Whether the request (its URL's query and its `Cookie` headers) carries the token.
    pub(crate) fn admits(&self, url: &str, cookies: &[&str]) -> bool {
        let query = url.split_once('?').map_or("", |(_, q)| q);
        let in_query = query
            .split('&')
            .filter_map(|pair| pair.strip_prefix("token="))
            .any(|value| self.matches(value));
        in_query
            || cookies
                .iter()
                .flat_map(|header| header.split(';'))
                .filter_map(|c| {
                    c.trim()
                        .strip_prefix(COOKIE_NAME)
                        .and_then(|r| r.strip_prefix('='))
                })
                .any(|value| self.matches(value))
    }
}

/// The cookie the page is given, so that its own requests need no token in their URL.
pub(crate) const COOKIE_NAME: &str = "dask_dashboard_token";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_hex_of_128_bits() {
        let (a, b) = (Token::random(), Token::random());
        assert_eq!(a.as_str().len(), 32);
        assert!(a.as_str().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.as_str(), b.as_str());
    }

    #[test]
    fn only_the_exact_token_is_admitted() {
        let t = Token::fixed("abcd");
        assert!(t.admits("/?token=abcd", &[]));
        assert!(t.admits("/events?x=1&token=abcd", &[]));
        assert!(t.admits("/", &["a=b; dask_dashboard_token=abcd"]));
        assert!(!t.admits("/", &[]));
        assert!(!t.admits("/?token=abc", &[]));
        assert!(!t.admits("/?token=abcde", &[]));
        assert!(!t.admits("/?xtoken=abcd", &[]));
        assert!(!t.admits("/", &["dask_dashboard_token_x=abcd"]));
        assert!(!t.admits("/", &["dask_dashboard_token=abce"]));
    }
}

//! Who a request comes from: the presenter's token, a browser's identity.
//!
//! The presenter's token is 256 random bits, printed once at start in the
//! presenter's URL. Opening that URL trades it for an `HttpOnly`,
//! `SameSite=Strict` cookie; API clients may send it as a bearer token. It
//! is compared in constant time. A browser's identity is 128 random bits in
//! a cookie of its own, given on its first page load; it names a student,
//! it proves nothing more.

use axum::http::{HeaderMap, header};
use subtle::ConstantTimeEq;

/// The cookie that holds the presenter's token.
pub const PRESENTER_COOKIE: &str = "dashboard_presenter";
/// The cookie that holds a browser's identity.
pub const IDENTITY_COOKIE: &str = "dashboard_id";

/// A secret, as lowercase hex.
#[derive(Clone)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

impl Token {
    /// A fresh token of 256 random bits from the operating system.
    pub fn random() -> Token {
        Token(random_hex::<32>())
    }

    /// The token as it is written in the presenter's URL.
    pub fn reveal(&self) -> &str {
        &self.0
    }

    /// Whether `offered` is this token, in time that does not depend on
    /// where they differ.
    pub fn matches(&self, offered: &str) -> bool {
        self.0.as_bytes().ct_eq(offered.as_bytes()).into()
    }
}

/// A new browser identity: 128 random bits.
pub fn new_identity() -> String {
    random_hex::<16>()
}

fn random_hex<const N: usize>() -> String {
    let mut bytes = [0u8; N];
    // Without randomness from the system there is no secret to give out.
    getrandom::fill(&mut bytes).unwrap_or_else(|e| panic!("no system randomness: {e}"));
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a request offers to say who sent it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// From the presenter's cookie or an `Authorization: Bearer` header.
    pub token: Option<String>,
    /// The browser's identity cookie.
    pub identity: Option<String>,
}

impl Credentials {
    pub fn from_headers(headers: &HeaderMap) -> Credentials {
        let bearer = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_owned());
        let cookie = |name: &str| {
            headers
                .get_all(header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(';'))
                .filter_map(|pair| pair.trim().split_once('='))
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_owned())
        };
        Credentials {
            token: bearer.or_else(|| cookie(PRESENTER_COOKIE)),
            identity: cookie(IDENTITY_COOKIE).filter(|id| is_identity(id)),
        }
    }
}

/// Whether `id` looks like an identity this server gives out.
fn is_identity(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The `Set-Cookie` value that keeps `value` under `name` for this site's
/// pages and requests only.
pub fn cookie(name: &str, value: &str) -> String {
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=86400")
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn tokens_are_long_random_and_compared_whole() {
        let a = Token::random();
        let b = Token::random();
        assert_eq!(a.reveal().len(), 64, "256 bits");
        assert!(!a.matches(b.reveal()));
        assert!(a.matches(a.reveal()));
        assert!(!a.matches(&a.reveal()[..63]));
        assert!(!a.matches(""));
        assert_eq!(format!("{a:?}"), "Token(…)", "never in a log");
        assert_eq!(new_identity().len(), 32, "128 bits");
    }

    #[test]
    fn credentials_come_from_a_bearer_header_or_the_cookies() {
        let id = new_identity();
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!(
                "x=1; {PRESENTER_COOKIE}=abc; {IDENTITY_COOKIE}={id}"
            ))
            .unwrap(),
        );
        let c = Credentials::from_headers(&headers);
        assert_eq!(c.token.as_deref(), Some("abc"));
        assert_eq!(c.identity.as_deref(), Some(id.as_str()));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer xyz"),
        );
        assert_eq!(
            Credentials::from_headers(&headers).token.as_deref(),
            Some("xyz")
        );
        let mut forged = HeaderMap::new();
        forged.insert(
            header::COOKIE,
            HeaderValue::from_static("dashboard_id=../../etc"),
        );
        assert_eq!(Credentials::from_headers(&forged).identity, None);
    }
}

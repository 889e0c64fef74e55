//! Who may talk to the server: the names it answers to, and where commands
//! may come from.
//!
//! The server listens on loopback by default, but a web page anywhere can
//! make the browser on this machine send it requests. Two checks stop that:
//!
//! - **DNS rebinding.** A page on `evil.example` that points its own name at
//!   127.0.0.1 becomes, to the browser, same-origin with this server. Its
//!   requests still say `Host: evil.example`, so only names the server is
//!   actually reached at are answered: `localhost` (and `*.localhost`), any
//!   loopback address, the address the connection came in on, and names
//!   given with `--allow-host`.
//! - **Cross-site commands.** A command (any method but GET and HEAD) whose
//!   `Origin` is not the server itself is refused, so a page elsewhere
//!   cannot press buttons for the class.

use super::ApiError;
use crate::listen::Reached;
use axum::extract::{Request, State};
use axum::http::uri::Authority;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

/// The names the server answers to beyond `localhost`, loopback and the
/// address each connection reached.
#[derive(Debug, Clone, Default)]
pub struct Access {
    extra_hosts: Arc<[String]>,
}

impl Access {
    /// Also answers to `hosts` (names or addresses, without ports).
    pub fn allowing(hosts: impl IntoIterator<Item = String>) -> Access {
        Access {
            extra_hosts: hosts
                .into_iter()
                .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
        }
    }

    /// Whether `host` (a `Host` header's name, without its port) is one this
    /// server is reached at.
    fn answers_to(&self, host: &str, reached: Option<Reached>) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if host == "localhost" || host.ends_with(".localhost") {
            return true;
        }
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return ip.is_loopback() || reached.is_some_and(|r| r.0.ip() == ip);
        }
        self.extra_hosts.contains(&host)
    }
}

/// Refuses requests for other hosts and cross-origin commands.
pub async fn check(State(access): State<Access>, request: Request, next: Next) -> Response {
    match verdict(&access, &request) {
        Ok(()) => next.run(request).await,
        Err(refusal) => refusal.into_response(),
    }
}

fn verdict(access: &Access, request: &Request) -> Result<(), ApiError> {
    let reached = request.extensions().get::<Reached>().copied();
    let headers = request.headers();
    let mut hosts = headers.get_all(header::HOST).iter();
    let host = match (hosts.next(), hosts.next()) {
        (Some(_), Some(_)) => return Err(ApiError::bad_request("more than one Host header")),
        (Some(value), None) => Some(
            value
                .to_str()
                .map_err(|_| ApiError::bad_request("the Host header is not text"))?,
        ),
        (None, None) | (None, Some(_)) => None,
    };
    // A request may also name its host in an absolute URI.
    for named in host.into_iter().chain(request.uri().host()) {
        let name = named.parse::<Authority>().ok();
        if !name.is_some_and(|name| access.answers_to(name.host(), reached)) {
            return Err(ApiError::HostNotAllowed(Untrusted(named).to_string()));
        }
    }
    if request.method() == Method::GET || request.method() == Method::HEAD {
        return Ok(());
    }
    if headers
        .get("sec-fetch-site")
        .is_some_and(|site| site.as_bytes() == b"cross-site")
    {
        return Err(ApiError::CrossOrigin("a cross-site page".to_owned()));
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        // Not sent by a browser (curl, a script): not a forged click.
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or_default();
    let same = origin
        .strip_prefix("http://")
        .zip(host)
        .is_some_and(|(origin, host)| same_authority(origin, host));
    if same {
        Ok(())
    } else {
        Err(ApiError::CrossOrigin(Untrusted(origin).to_string()))
    }
}

/// Whether an origin's `host[:port]` is the `Host` value, port 80 being the
/// same as no port.
fn same_authority(origin: &str, host: &str) -> bool {
    let normal = |a: &str| {
        let a = a.to_ascii_lowercase();
        match a.strip_suffix(":80") {
            Some(bare) => bare.to_owned(),
            None => a,
        }
    };
    !origin.contains('/') && normal(origin) == normal(host)
}

/// A value from a request, made safe to write to the teacher's terminal:
/// control characters (line breaks, escape sequences, NUL) are shown
/// escaped, and anything past [`Untrusted::MAX_CHARS`] is cut, saying how
/// much was left out.
#[derive(Debug, Clone, Copy)]
pub struct Untrusted<'a>(pub &'a str);

impl Untrusted<'_> {
    pub const MAX_CHARS: usize = 120;

    /// Shown with room for `max` characters instead.
    pub fn limited(&self, max: usize) -> String {
        let mut shown = String::new();
        let _ = self.write(&mut shown, max);
        shown
    }

    fn write(&self, f: &mut impl fmt::Write, max: usize) -> fmt::Result {
        for (shown, (at, c)) in self.0.char_indices().enumerate() {
            if shown == max {
                return write!(f, "…(+{} bytes)", self.0.len() - at);
            }
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}') {
                write!(f, "{}", c.escape_unicode())?;
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Untrusted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, Untrusted::MAX_CHARS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn untrusted_text_cannot_break_a_log_line_or_flood_it() {
        let forged = "x\r\nFORGED\u{1b}[2J\0";
        let shown = Untrusted(forged).to_string();
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert_eq!(shown, "x\\u{d}\\u{a}FORGED\\u{1b}[2J\\u{0}");
        let long = "a".repeat(65_000);
        let shown = Untrusted(&long).to_string();
        assert!(shown.len() < 200, "{} bytes", shown.len());
        assert!(shown.ends_with("…(+64880 bytes)"), "{shown}");
    }

    #[test]
    fn the_server_answers_to_its_own_names_only() {
        let access = Access::allowing(["Teacher.Local".to_owned()]);
        let lan = Reached("192.168.1.20:8080".parse().expect("an address"));
        for host in [
            "localhost",
            "app.localhost",
            "127.0.0.1",
            "127.9.9.9",
            "[::1]",
            "::1",
        ] {
            assert!(access.answers_to(host, None), "{host}");
        }
        assert!(access.answers_to("192.168.1.20", Some(lan)));
        assert!(access.answers_to("teacher.local", Some(lan)));
        assert!(access.answers_to("TEACHER.LOCAL.", Some(lan)));
        for host in [
            "evil.example",
            "192.168.1.21",
            "localhost.evil.example",
            "0.0.0.0",
        ] {
            assert!(!access.answers_to(host, Some(lan)), "{host}");
        }
    }

    #[test]
    fn an_origin_is_the_same_only_with_the_same_name_and_port() {
        assert!(same_authority("localhost:8080", "localhost:8080"));
        assert!(same_authority("LOCALHOST:80", "localhost"));
        assert!(!same_authority("localhost:3000", "localhost:8080"));
        assert!(!same_authority("evil.example:8080", "localhost:8080"));
        assert!(!same_authority("localhost:8080/x", "localhost:8080"));
    }
}

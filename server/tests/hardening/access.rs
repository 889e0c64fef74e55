//! Who gets in, what every answer says about itself, and what a browser
//! may keep.

use crate::support::{request, send};
use axum::http::{StatusCode, header};
use server::hub::Hub;
use server::{Access, AppState};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

fn state() -> AppState {
    AppState {
        hub: Hub::new(CancellationToken::new(), TaskTracker::new()),
        access: Access::allowing(["dashboard.school.example".to_owned()]),
        classroom: None,
    }
}

const PAUSE: &str = r#"{"type":"pause"}"#;

/// DNS rebinding: a page on `evil.example` whose name now points here may
/// not command a run, follow the stream or even load the page.
#[tokio::test]
async fn a_rebound_name_is_refused_everywhere() {
    let state = state();
    let evil = [
        ("host", "evil.example:8080"),
        ("origin", "http://evil.example:8080"),
    ];
    let command = send(
        &state,
        request("POST", "/api/runs/tee/commands", &evil, PAUSE),
    )
    .await;
    assert_eq!(command.status, StatusCode::FORBIDDEN);
    assert_eq!(command.error(), "host_not_allowed");
    for uri in ["/api/events", "/api/runs", "/", "/pkg/frontend.js"] {
        let sent = send(&state, request("GET", uri, &evil[..1], "")).await;
        assert_eq!(sent.status, StatusCode::FORBIDDEN, "{uri}");
    }
    // An absolute URI names its host too.
    let absolute = send(
        &state,
        request(
            "GET",
            "http://evil.example:8080/api/runs",
            &[("host", "localhost")],
            "",
        ),
    )
    .await;
    assert_eq!(absolute.status, StatusCode::FORBIDDEN);
    // Two Host headers cannot be checked; they are refused.
    let twice = send(
        &state,
        request(
            "GET",
            "/api/runs",
            &[("host", "localhost"), ("host", "evil.example")],
            "",
        ),
    )
    .await;
    assert_eq!(twice.status, StatusCode::BAD_REQUEST);
}

/// The names the server is reached at are served: localhost, loopback, and
/// names added with `--allow-host`.
#[tokio::test]
async fn the_servers_own_names_are_served() {
    let state = state();
    for host in [
        "localhost:8080",
        "127.0.0.1:8080",
        "[::1]:8080",
        "Dashboard.School.Example:8080",
    ] {
        let sent = send(&state, request("GET", "/api/runs", &[("host", host)], "")).await;
        assert_eq!(sent.status, StatusCode::OK, "{host}");
        let origin = format!("http://{host}");
        let sent = send(
            &state,
            request(
                "POST",
                "/api/runs/tee/commands",
                &[("host", host), ("origin", &origin)],
                PAUSE,
            ),
        )
        .await;
        assert_eq!(sent.status, StatusCode::OK, "{host}");
    }
    let other_address = send(
        &state,
        request("GET", "/api/runs", &[("host", "192.0.2.7:8080")], ""),
    )
    .await;
    assert_eq!(other_address.status, StatusCode::FORBIDDEN);
}

/// CSRF: a command from another origin is refused even when the host is
/// right; a command with no origin (a script, curl) is not a forged click.
#[tokio::test]
async fn a_command_from_another_origin_is_refused() {
    let state = state();
    let host = ("host", "localhost:8080");
    for headers in [
        vec![host, ("origin", "http://evil.example")],
        vec![host, ("origin", "http://localhost:3000")],
        vec![host, ("origin", "null")],
        vec![host, ("sec-fetch-site", "cross-site")],
    ] {
        let sent = send(
            &state,
            request("POST", "/api/runs/tee/commands", &headers, PAUSE),
        )
        .await;
        assert_eq!(sent.status, StatusCode::FORBIDDEN, "{headers:?}");
        assert_eq!(sent.error(), "cross_origin", "{headers:?}");
    }
    let deleted = send(
        &state,
        request(
            "DELETE",
            "/api/runs/tee",
            &[host, ("origin", "http://evil.example")],
            "",
        ),
    )
    .await;
    assert_eq!(deleted.status, StatusCode::FORBIDDEN);
    for headers in [vec![host], vec![host, ("origin", "http://localhost:8080")]] {
        let sent = send(
            &state,
            request("POST", "/api/runs/tee/commands", &headers, PAUSE),
        )
        .await;
        assert_eq!(sent.status, StatusCode::OK, "{headers:?}");
    }
}

/// The page and the API carry a policy that forbids framing, inline
/// scripts and sniffing; refusals carry it too.
#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let state = state();
    for uri in ["/", "/p/tee", "/api/patterns", "/api/runs/nope", "/nowhere"] {
        let sent = send(&state, request("GET", uri, &[], "")).await;
        let header = |name: header::HeaderName| {
            sent.headers
                .get(&name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let policy = header(header::CONTENT_SECURITY_POLICY);
        assert!(policy.contains("frame-ancestors 'none'"), "{uri}: {policy}");
        assert!(
            policy.contains("script-src 'self' 'wasm-unsafe-eval'"),
            "{uri}: {policy}"
        );
        let scripts = policy
            .split(';')
            .find(|d| d.trim().starts_with("script-src"))
            .unwrap_or_default();
        assert!(!scripts.contains("unsafe-inline"), "{uri}: {policy}");
        assert_eq!(header(header::X_CONTENT_TYPE_OPTIONS), "nosniff", "{uri}");
        assert_eq!(header(header::X_FRAME_OPTIONS), "DENY", "{uri}");
    }
    // The page has no inline script for the policy to forbid.
    let page = send(&state, request("GET", "/", &[], "")).await;
    let html = String::from_utf8_lossy(&page.body);
    // Under the build's version: `/assets/<version>/boot.js`.
    let boot = html
        .split(r#"<script type="module" src="/assets/"#)
        .nth(1)
        .and_then(|rest| rest.split_once('"'))
        .map(|(src, _)| src);
    assert!(boot.is_some_and(|src| src.ends_with("/boot.js")), "{html}");
    assert!(!html.contains("<script type=\"module\">"), "{html}");
}

/// A browser holding the bundle gets `304` and no body; styles go out
/// compressed at build time, as the bundle does.
#[tokio::test]
async fn embedded_files_are_revalidated_not_downloaded_again() {
    let state = state();
    for (uri, brotli) in [
        ("/pkg/frontend.js", false),
        ("/assets/app.css", true),
        ("/assets/present.css", true),
        ("/", true),
    ] {
        let first = send(
            &state,
            request("GET", uri, &[("accept-encoding", "gzip, br")], ""),
        )
        .await;
        assert_eq!(first.status, StatusCode::OK, "{uri}");
        let tag = first
            .headers
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{uri} has an ETag"))
            .to_owned();
        assert!(
            tag.starts_with('"') && tag.len() == 34,
            "{uri}: strong 128-bit tag {tag}"
        );
        if brotli {
            assert_eq!(
                first
                    .headers
                    .get(header::CONTENT_ENCODING)
                    .map(|v| v.as_bytes()),
                Some(&b"br"[..]),
                "{uri} is precompressed"
            );
        }
        let again = send(
            &state,
            request(
                "GET",
                uri,
                &[("accept-encoding", "gzip, br"), ("if-none-match", &tag)],
                "",
            ),
        )
        .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{uri}");
        assert!(again.body.is_empty(), "{uri}");
        // Another encoding is another representation, with its own tag.
        let plain = send(&state, request("GET", uri, &[("if-none-match", &tag)], "")).await;
        if brotli {
            assert_eq!(plain.status, StatusCode::OK, "{uri} without brotli");
            assert!(
                plain.headers.get(header::CONTENT_ENCODING).is_none(),
                "{uri}"
            );
        }
    }
}

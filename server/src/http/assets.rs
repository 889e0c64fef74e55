//! The browser app, embedded in the binary: the page, its styles and the
//! WASM bundle that `build.rs` produced, each beside a brotli copy made at
//! build time.
//!
//! Every file is sent with its content hash as a strong `ETag` and
//! `Cache-Control: no-cache`: a browser asks again on every load, and unless
//! the server was rebuilt the answer is a `304` with no body, so the bundle
//! crosses the network once per build, not once per page load.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::{EmbeddedFile, RustEmbed};

#[derive(RustEmbed)]
#[folder = "../assets"]
struct Assets;

/// `<file>.br` for each text file of `assets`.
#[derive(RustEmbed)]
#[folder = "$OUT_DIR/assets-br"]
struct CompressedAssets;

/// The bundle and its glue, each with its `.br`.
#[derive(RustEmbed)]
#[folder = "$OUT_DIR/pkg"]
struct Package;

/// How long a browser may keep the favicon without asking.
const FAVICON_CACHE: &str = "max-age=86400";
/// Everything else is asked for again on each load, and answered `304`.
const REVALIDATE: &str = "no-cache";

/// The app's one page, for `/` and every deep link under `/p/`.
pub async fn index(headers: HeaderMap) -> Response {
    serve::<Assets, CompressedAssets>("index.html", &headers, REVALIDATE)
}

pub async fn favicon(headers: HeaderMap) -> Response {
    serve::<Assets, CompressedAssets>("favicon.svg", &headers, FAVICON_CACHE)
}

pub async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    serve::<Assets, CompressedAssets>(&file, &headers, REVALIDATE)
}

pub async fn package(Path(file): Path<String>, headers: HeaderMap) -> Response {
    serve::<Package, Package>(&file, &headers, REVALIDATE)
}

pub async fn not_found() -> Response {
    not_found_now()
}

/// `path` from `Plain`, or its brotli copy from `Brotli` when the browser
/// takes brotli; `304` when the browser already holds those bytes.
fn serve<Plain: RustEmbed, Brotli: RustEmbed>(
    path: &str,
    headers: &HeaderMap,
    cache: &'static str,
) -> Response {
    if path.ends_with(".br") {
        return not_found_now();
    }
    let brotli = accepts_brotli(headers)
        .then(|| Brotli::get(&format!("{path}.br")))
        .flatten();
    let (file, encoding) = match brotli {
        Some(file) => (file, Some("br")),
        None => match Plain::get(path) {
            Some(file) => (file, None),
            None => return not_found_now(),
        },
    };
    let tag = etag(&file);
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let mut response = if holds(headers, &tag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = ([(header::CONTENT_TYPE, mime.as_ref())], file.data).into_response();
        if let Some(encoding) = encoding {
            response
                .headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        response
    };
    let out = response.headers_mut();
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    out.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(tag) = HeaderValue::from_str(&tag) {
        out.insert(header::ETAG, tag);
    }
    response
}

fn not_found_now() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

/// A strong validator: the first 128 bits of the bytes' SHA-256.
fn etag(file: &EmbeddedFile) -> String {
    let hash = file.metadata.sha256_hash();
    let hex: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether `If-None-Match` names `tag` (or is `*`).
fn holds(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == tag || t == "*")
}

fn accepts_brotli(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';');
            let name = parts.next().unwrap_or_default().trim();
            // `br;q=0` means "not brotli".
            let refused = parts.any(|p| matches!(p.trim(), "q=0" | "q=0.0" | "q=0.00" | "q=0.000"));
            name == "br" && !refused
        })
}

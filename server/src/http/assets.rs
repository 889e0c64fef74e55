//! The browser app, embedded in the binary: the page, its styles and the
//! WASM bundle that `build.rs` produced, each beside a brotli copy made at
//! build time.
//!
//! The page names every file it loads under the build's version,
//! `/assets/<version>/app.css`, `/pkg/<version>/frontend.js`: those are
//! sent `immutable`, so a revisit loads them from the browser's cache
//! without asking, and a new build (a new version) is fetched afresh. The
//! page itself, and any file asked for without the version, is sent with
//! its content hash as a strong `ETag` and `Cache-Control: no-cache`: asked
//! again on every load and answered `304` unless the server was rebuilt.
//! The page also tells the browser to fetch the bundle at once, beside the
//! script that loads it, and carries the pattern list, so the app draws
//! its navigation without asking for it.

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use rust_embed::{EmbeddedFile, RustEmbed};
use sha2::{Digest, Sha256};
use std::sync::LazyLock;

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
/// A file asked for under the build's version never changes.
const FOREVER: &str = "public, max-age=31536000, immutable";

/// The build's version: a hash of every file the page loads, the same
/// for as long as the binary is.
pub fn version() -> &'static str {
    static VERSION: LazyLock<String> = LazyLock::new(|| {
        let mut all = Sha256::new();
        for name in Assets::iter().chain(Package::iter()) {
            let hash = Assets::get(&name)
                .or_else(|| Package::get(&name))
                .map(|f| f.metadata.sha256_hash());
            all.update(name.as_bytes());
            all.update(hash.unwrap_or_default());
        }
        all.finalize()[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    });
    &VERSION
}

/// One form of the page: its bytes and their strong validator.
struct Representation {
    bytes: Bytes,
    tag: String,
}

impl Representation {
    fn of(bytes: Vec<u8>) -> Representation {
        let hash = Sha256::digest(&bytes);
        Representation {
            tag: tag_of(&hash[..16]),
            bytes: Bytes::from(bytes),
        }
    }
}

/// The page with its files named under the build's version: plain, and
/// brotli-compressed (once, when first asked for).
fn page() -> &'static (Representation, Representation) {
    static PAGE: LazyLock<(Representation, Representation)> = LazyLock::new(|| {
        let raw = Assets::get("index.html")
            .map(|f| f.data)
            .unwrap_or_default();
        let version = version();
        // In a data block, `<` is escaped so nothing in the list can end it.
        let patterns = serde_json::to_string(&super::api::pattern_list())
            .unwrap_or_default()
            .replace('<', "\\u003c");
        let html = String::from_utf8_lossy(&raw)
            .replace("\"/assets/", &format!("\"/assets/{version}/"))
            .replace("\"/pkg/", &format!("\"/pkg/{version}/"))
            .replace(
                "id=\"patterns\"></script>",
                &format!("id=\"patterns\">{patterns}</script>"),
            );
        let mut compressed = Vec::new();
        {
            let mut writer = brotli::CompressorWriter::new(&mut compressed, 4096, 11, 22);
            // Into memory: cannot fail.
            let _ = std::io::Write::write_all(&mut writer, html.as_bytes());
        }
        (
            Representation::of(html.into_bytes()),
            Representation::of(compressed),
        )
    });
    &PAGE
}

/// The app's one page, for `/` and every deep link under `/p/`.
pub async fn index(headers: HeaderMap) -> Response {
    let (plain, brotli) = page();
    let (page, encoding) = if accepts_brotli(&headers) {
        (brotli, Some("br"))
    } else {
        (plain, None)
    };
    let mut response = if holds(&headers, &page.tag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            page.bytes.clone(),
        )
            .into_response();
        if let Some(encoding) = encoding {
            response
                .headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        response
    };
    let out = response.headers_mut();
    out.insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
    out.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if let Ok(tag) = HeaderValue::from_str(&page.tag) {
        out.insert(header::ETAG, tag);
    }
    response
}

pub async fn favicon(headers: HeaderMap) -> Response {
    serve::<Assets, CompressedAssets>("favicon.svg", &headers, FAVICON_CACHE)
}

pub async fn asset(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let (file, cache) = versioned(&file);
    serve::<Assets, CompressedAssets>(file, &headers, cache)
}

pub async fn package(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let (file, cache) = versioned(&file);
    serve::<Package, Package>(file, &headers, cache)
}

/// The file a path names, and how long it may be kept: forever under this
/// build's version; under another build's, or none, only with a check.
fn versioned(path: &str) -> (&str, &'static str) {
    match path.split_once('/') {
        Some((version, file)) if version == self::version() => (file, FOREVER),
        Some((version, file))
            if version.len() == 16 && version.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            (file, REVALIDATE)
        }
        _ => (path, REVALIDATE),
    }
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
    tag_of(&file.metadata.sha256_hash()[..16])
}

fn tag_of(hash: &[u8]) -> String {
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
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

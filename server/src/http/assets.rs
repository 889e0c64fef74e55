//! The browser app, embedded in the binary: the page, its styles and the
//! WASM bundle that `build.rs` produced.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../assets"]
struct Assets;

#[derive(RustEmbed)]
#[folder = "$OUT_DIR/pkg"]
struct Package;

fn serve<E: RustEmbed>(path: &str, cache: &'static str) -> Response {
    match E::get(path) {
        Some(file) => {
            let mime = mime_guess::from_path(path).first_or_octet_stream();
            (
                [
                    (header::CONTENT_TYPE, mime.as_ref()),
                    (header::CACHE_CONTROL, cache),
                ],
                file.data,
            )
                .into_response()
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// The app's one page, for `/` and every deep link under `/p/`.
pub async fn index() -> Response {
    serve::<Assets>("index.html", "no-cache")
}

pub async fn favicon() -> Response {
    serve::<Assets>("favicon.svg", "max-age=86400")
}

pub async fn asset(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    serve::<Assets>(&file, "no-cache")
}

/// The wasm bundle and its JS glue. `build.rs` brotli-compressed both at
/// the best quality; a browser that accepts brotli gets those bytes.
pub async fn package(
    axum::extract::Path(file): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    let accepts_br = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| coding.split(';').next().is_some_and(|c| c.trim() == "br"));
    let compressed = accepts_br
        .then(|| Package::get(&format!("{file}.br")))
        .flatten();
    match compressed {
        Some(body) => {
            let mime = mime_guess::from_path(&file).first_or_octet_stream();
            let headers = [
                (header::CONTENT_TYPE, mime.as_ref()),
                (header::CONTENT_ENCODING, "br"),
                (header::VARY, "accept-encoding"),
                (header::CACHE_CONTROL, "no-cache"),
            ];
            (headers, body.data).into_response()
        }
        None => serve::<Package>(&file, "no-cache"),
    }
}

pub async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

//! The browser app, embedded in the binary: the page, its styles and the
//! WASM bundle that `build.rs` produced.

use axum::http::{StatusCode, header};
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

pub async fn package(axum::extract::Path(file): axum::extract::Path<String>) -> Response {
    serve::<Package>(&file, "no-cache")
}

pub async fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found").into_response()
}

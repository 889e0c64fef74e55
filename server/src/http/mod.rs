//! The HTTP surface: the JSON API, the event stream and the embedded app.

mod api;
mod assets;
mod error;

pub use error::ApiError;

use crate::hub::Hub;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use std::sync::Arc;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

/// Request bodies are small commands; anything bigger is refused unread.
const BODY_LIMIT: usize = 16 * 1024;

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub hub: Arc<Hub>,
}

/// The whole application as a router, so tests can call it without a socket.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/patterns", get(api::patterns))
        .route("/runs", get(api::list_runs).post(api::create_run))
        .route("/runs/{run}", get(api::get_run))
        .route("/runs/{run}/commands", post(api::command))
        .route("/events", get(api::events))
        .fallback(api::no_route)
        .method_not_allowed_fallback(api::wrong_method)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state);
    Router::new()
        .nest("/api", api)
        .route("/", get(assets::index))
        .route("/p/{*pattern}", get(assets::index))
        .route("/favicon.svg", get(assets::favicon))
        .route("/favicon.ico", get(assets::favicon))
        .route("/assets/{*file}", get(assets::asset))
        .route("/pkg/{*file}", get(assets::package))
        .fallback(assets::not_found)
        // The default predicate leaves the event stream uncompressed. The
        // fastest level: the bundle is compressed ahead of time, and what is
        // left (JSON answers, a snapshot of a thousand nodes) must not cost
        // the engines more time than it saves on a classroom's network.
        .layer(CompressionLayer::new().quality(tower_http::CompressionLevel::Fastest))
        .layer(TraceLayer::new_for_http())
}

#[cfg(test)]
mod tests;

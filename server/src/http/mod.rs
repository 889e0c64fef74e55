//! The HTTP surface: the JSON API, the event stream and the embedded app.

mod api;
mod assets;
mod body;
mod class;
mod error;
mod guard;

pub use error::ApiError;
pub use guard::{Access, Untrusted};

use crate::classroom::Classroom;
use crate::hub::Hub;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue, Request, header};
use axum::middleware;
use axum::routing::{get, post};
use std::sync::Arc;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

/// What the page may load and who may frame it: its own scripts, styles and
/// wasm only, no frames anywhere (so no page can lay the controls under its
/// own and steal a click).
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; \
    script-src 'self' 'wasm-unsafe-eval'; \
    style-src 'self'; style-src-attr 'unsafe-inline'; \
    img-src 'self' data:; connect-src 'self'; \
    object-src 'none'; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

/// What every handler can reach.
#[derive(Debug, Clone)]
pub struct AppState {
    pub hub: Arc<Hub>,
    /// The names the server answers to.
    pub access: Access,
    /// The classroom session, if the server runs one.
    pub classroom: Option<Arc<Classroom>>,
}

/// The whole application as a router, so tests can call it without a socket.
pub fn app(state: AppState) -> Router {
    let api = Router::new()
        .route("/patterns", get(api::patterns))
        .route("/patterns/{id}/source", get(api::source))
        .route("/runs", get(api::list_runs).post(api::create_run))
        .route("/runs/{run}", get(api::get_run).delete(api::delete_run))
        .route("/runs/{run}/commands", post(api::command))
        .route("/runs/{run}/history", get(api::history))
        .route("/replays", post(api::create_replay))
        .route("/events", get(api::events))
        .route("/classroom", get(class::report))
        .route("/classroom/qr.svg", get(class::qr))
        .route("/classroom/follow", post(class::follow))
        .route("/classroom/question", post(class::ask).delete(class::close))
        .route("/classroom/answer", post(class::answer))
        .route("/classroom/reveal", post(class::reveal))
        .fallback(api::no_route)
        .method_not_allowed_fallback(api::wrong_method)
        .layer(middleware::from_fn(body::bounded))
        // `body::bounded` has already read and bounded every body.
        .layer(DefaultBodyLimit::disable());
    let router = Router::new()
        .nest("/api", api)
        .route("/", get(page))
        .route("/p/{*pattern}", get(page))
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
        .layer(middleware::from_fn_with_state(
            state.access.clone(),
            guard::check,
        ))
        .with_state(state);
    with_security_headers(router).layer(TraceLayer::new_for_http().make_span_with(
        |request: &Request<_>| {
            tracing::debug_span!(
                "request",
                method = %request.method(),
                path = %Untrusted(request.uri().path()),
            )
        },
    ))
}

/// The app's page, for `/` and every deep link under `/p/`; in a classroom
/// session it also hands out identities and takes the presenter's token.
async fn page(
    State(state): State<AppState>,
    uri: axum::extract::OriginalUri,
    headers: axum::http::HeaderMap,
) -> axum::response::Response {
    let page = assets::index(headers.clone()).await;
    class::page(&state, &uri, &headers, page)
}

/// Adds the headers every answer carries, refusals included.
fn with_security_headers(router: Router) -> Router {
    let set = |name: HeaderName, value: &'static str| {
        SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
    };
    router
        .layer(set(
            header::CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY,
        ))
        .layer(set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .layer(set(header::X_FRAME_OPTIONS, "DENY"))
        .layer(set(header::REFERRER_POLICY, "no-referrer"))
}

#[cfg(test)]
mod tests;

//! The JSON API handlers.

use super::{ApiError, AppState};
use crate::engines;
use crate::run::Run;
use axum::Json;
use axum::extract::OriginalUri;
use axum::extract::{FromRequest, FromRequestParts, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::IntoResponse;
use axum::response::sse::{KeepAlive, Sse};
use serde::Deserialize;
use shared::{Command, Cursor, PatternId, PatternInfo, RunSnapshot};
use std::convert::Infallible;
use std::sync::Arc;

/// `Json`, refusing with our JSON error instead of axum's plain text.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `Path`, likewise.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// `Query`, likewise.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

pub async fn patterns() -> Json<Vec<PatternInfo>> {
    Json(PatternId::ALL.into_iter().map(engines::info).collect())
}

pub async fn list_runs(State(state): State<AppState>) -> impl IntoResponse {
    Json(state.hub.list())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRun {
    pattern: String,
}

pub async fn create_run(
    State(state): State<AppState>,
    ApiJson(new): ApiJson<NewRun>,
) -> Result<(StatusCode, Json<RunSnapshot>), ApiError> {
    let pattern = PatternId::parse(&new.pattern).ok_or(ApiError::UnknownPattern(new.pattern))?;
    let run = state.hub.create(pattern)?;
    Ok((StatusCode::CREATED, Json(run.snapshot())))
}

fn find(state: &AppState, id: &str) -> Result<Arc<Run>, ApiError> {
    state
        .hub
        .get(id)
        .ok_or_else(|| ApiError::UnknownRun(id.to_owned()))
}

pub async fn get_run(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RunSnapshot>, ApiError> {
    Ok(Json(find(&state, &id)?.snapshot()))
}

pub async fn command(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(command): ApiJson<Command>,
) -> Result<Json<RunSnapshot>, ApiError> {
    let run = find(&state, &id)?;
    tracing::info!(run = %id, ?command, "command");
    let snapshot = run.command(command).await?;
    // What the command did goes out now rather than at the end of the
    // frame: a click shows on screen as soon as it can.
    state.hub.flush();
    Ok(Json(snapshot))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Comma-separated run ids; all runs when absent.
    runs: Option<String>,
}

pub async fn events(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<EventsQuery>,
    headers: HeaderMap,
) -> Result<
    Sse<impl futures_util::Stream<Item = Result<axum::response::sse::Event, Infallible>>>,
    ApiError,
> {
    let runs = match query.runs {
        None => None,
        Some(list) => {
            let ids: Vec<String> = list
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if ids.is_empty() {
                return Err(ApiError::Malformed {
                    status: StatusCode::BAD_REQUEST,
                    message: "`runs` names no run; leave it out to follow every run".to_owned(),
                });
            }
            for id in &ids {
                find(&state, id)?;
            }
            Some(ids)
        }
    };
    let resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(Cursor::parse)
        .unwrap_or_default();
    let viewer = state.hub.viewer(runs, resume);
    let stream = futures_util::stream::unfold(viewer, |mut viewer| async move {
        let message = viewer.next().await?;
        Some((Ok(message), viewer))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}

pub async fn no_route(OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::NoRoute(uri.path().to_owned())
}

pub async fn wrong_method(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::Method(format!("{method} {}", uri.path()))
}

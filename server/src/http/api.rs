//! The JSON API handlers.

use super::guard::Untrusted;
use super::{ApiError, AppState};
use crate::classroom::{Caller, ClassError, MAX_SANDBOXES};
use crate::classroom::{Classroom, Seen};
use crate::engines;
use crate::hub::MAX_RUNS;
use crate::hub::{Sees, Viewer, sse_json};
use crate::run::Run;
use axum::Json;
use axum::extract::OriginalUri;
use axum::extract::{FromRequest, FromRequestParts, State};
use axum::http::header;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::IntoResponse;
use axum::response::Response;
use bytes::Bytes;
use serde::Deserialize;
use shared::stream::HISTORY_FORMAT;
use shared::{
    Batch, Command, Cursor, Envelope, Event, HistoryHeader, PatternId, PatternInfo, RunEvent,
    RunSnapshot,
};
use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::watch;

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
    Json(pattern_list())
}

/// Every pattern, its parameters and commands, in the registry's order.
pub fn pattern_list() -> Vec<PatternInfo> {
    PatternId::ALL.into_iter().map(engines::info).collect()
}

pub async fn list_runs(State(state): State<AppState>) -> impl IntoResponse {
    Json(state.hub.list())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewRun {
    pattern: String,
}

/// A new run of a pattern. In a classroom session a student's run is a
/// sandbox of their own: a fork of the pattern's shared run (its
/// parameters and seed), which only they and the presenter command.
pub async fn create_run(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(new): ApiJson<NewRun>,
) -> Result<(StatusCode, Json<RunSnapshot>), ApiError> {
    let pattern = PatternId::parse(&new.pattern).ok_or(ApiError::UnknownPattern(new.pattern))?;
    let owner = match state.caller(&headers)? {
        None | Some(Caller::Presenter) => None,
        Some(Caller::Anonymous) => return Err(ClassError::NoIdentity.into()),
        Some(Caller::Student(id)) => {
            let held = state.hub.sandboxes().get(&id).map_or(0, Vec::len);
            if held >= MAX_SANDBOXES {
                return Err(ClassError::TooManySandboxes.into());
            }
            Some(id)
        }
    };
    let forked = owner.is_some();
    let run = state.hub.create(pattern, owner)?;
    if forked && let Some(shared) = state.hub.get(pattern.as_str()) {
        let from = shared.snapshot();
        run.command(Command::SetSeed { seed: from.seed }).await?;
        if !from.params.is_empty() {
            let params = from.params;
            run.command(Command::SetParams { params }).await?;
        }
    }
    Ok((StatusCode::CREATED, Json(run.snapshot())))
}

pub(super) fn find(state: &AppState, id: &str) -> Result<Arc<Run>, ApiError> {
    state
        .hub
        .get(id)
        .ok_or_else(|| ApiError::UnknownRun(id.to_owned()))
}

/// Deletes a run made with `POST /api/runs`: its engine stops, its
/// buffers are freed and viewers are told. The patterns' own runs stay.
pub async fn delete_run(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let caller = state.caller(&headers)?;
    state.may_command(caller.as_ref(), &id)?;
    state.hub.remove(&id).await?;
    tracing::info!(run = %Untrusted(&id), "run deleted");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/replays`: an exported history (the body, as it was
/// downloaded) becomes a run that plays it again. Nothing is made unless
/// the whole file reads.
pub async fn create_replay(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<RunSnapshot>), ApiError> {
    let owner = match state.caller(&headers)? {
        None | Some(Caller::Presenter) => None,
        Some(Caller::Anonymous) => return Err(ClassError::NoIdentity.into()),
        Some(Caller::Student(id)) => Some(id),
    };
    let recording = crate::replay::parse(&body)?;
    let run = state.hub.create_replay(recording, owner)?;
    tracing::info!(run = run.id(), "replay made");
    Ok((StatusCode::CREATED, Json(run.snapshot())))
}

/// `GET /api/patterns/{id}/source`: the pattern's engine file and the
/// shared files it uses, each with its highlighted lines and its marks.
pub async fn source(
    ApiPath(id): ApiPath<String>,
) -> Result<Json<shared::source::Source>, ApiError> {
    let pattern = PatternId::parse(&id).ok_or(ApiError::UnknownPattern(id))?;
    Ok(Json(crate::source::source(pattern)))
}

/// `GET /api/runs/{run}/history`: the run since its last start, as
/// newline-delimited JSON: a [`HistoryHeader`], then one event a line.
pub async fn history(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let run = find(&state, &id)?;
    let history = state
        .hub
        .history(&id)
        .ok_or_else(|| ApiError::UnknownRun(id.clone()))?;
    let events: Vec<Envelope> = history
        .batches
        .iter()
        .filter_map(|json| match serde_json::from_slice::<Batch>(json) {
            Ok(batch) => Some(batch.events),
            Err(e) => {
                tracing::error!(run = %id, error = %e, "a kept batch does not read back");
                None
            }
        })
        .flatten()
        .collect();
    let snapshot = run.snapshot();
    // The scenario is the one the history starts with.
    let (params, seed) = match events.first().map(|e| &e.event) {
        Some(Event::Run(RunEvent::Reset { params, seed, .. })) => (params.clone(), *seed),
        _ => (snapshot.params.clone(), snapshot.seed),
    };
    let header = HistoryHeader {
        format: HISTORY_FORMAT,
        run: id.clone(),
        pattern: run.pattern(),
        params,
        seed,
        speed: snapshot.clock.speed,
        first_seq: events.first().map_or(snapshot.seq + 1, |e| e.seq),
        cut_before_ms: history.base.as_ref().map(|b| b.clock.now_ms),
        base: history.base.map(|b| Box::new(RunSnapshot::clone(&b))),
    };
    let mut body = Vec::new();
    let lines =
        std::iter::once(serde_json::to_vec(&header)).chain(events.iter().map(serde_json::to_vec));
    for line in lines {
        match line {
            Ok(line) => {
                body.extend_from_slice(&line);
                body.push(b'\n');
            }
            Err(e) => tracing::error!(run = %id, error = %e, "could not write a history line"),
        }
    }
    let disposition = format!("attachment; filename=\"{id}.ndjson\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/x-ndjson".to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
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
    headers: HeaderMap,
    ApiJson(command): ApiJson<Command>,
) -> Result<Json<RunSnapshot>, ApiError> {
    let run = find(&state, &id)?;
    let caller = state.caller(&headers)?;
    state.may_command(caller.as_ref(), &id)?;
    tracing::info!(run = %id, command = %Untrusted(&format!("{command:?}")), "command");
    let snapshot = run.command(command).await?;
    // What the command did goes out now rather than at the end of the
    // frame: a click shows on screen as soon as it can.
    state.hub.flush();
    Ok(Json(snapshot))
}

/// How long a quiet stream waits before a comment that keeps it open
/// through proxies and tells the browser the server is still there.
const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(15);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Comma-separated run ids; all runs when absent; none when empty
    /// (with `summaries`).
    runs: Option<String>,
    /// Also send the shared runs' status whenever it changes.
    #[serde(default)]
    summaries: bool,
    /// Where to resume, as `run:seq,run:seq`: for a client that follows
    /// several runs and kept its own cursor. Overrides `Last-Event-ID`.
    after: Option<String>,
}

pub async fn events(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<EventsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let runs = match query.runs {
        None => None,
        Some(list) if list.is_empty() && query.summaries => Some(Vec::new()),
        // The app's stream (with summaries) is told of a run that is gone
        // with a `removed` message rather than refused: one tab's deleted
        // run must not break the stream its browser shares.
        Some(list) => Some(named_runs(&state, &list, !query.summaries)?),
    };
    let mut resume = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(Cursor::parse)
        .unwrap_or_default();
    if let Some(after) = &query.after {
        resume.0.extend(Cursor::parse(after).0);
    }
    let caller = state.caller(&headers)?;
    let sees = match &caller {
        None | Some(Caller::Presenter) => Sees::Everything,
        Some(Caller::Student(id)) => Sees::SharedAndOwn(Some(id.clone())),
        Some(Caller::Anonymous) => Sees::SharedAndOwn(None),
    };
    let viewer = state.hub.viewer(runs, resume, sees, query.summaries);
    let class = match (&state.classroom, caller) {
        (Some(room), Some(caller)) => Some(ClassFeed::new(room, caller)),
        _ => None,
    };
    let feed = Feed {
        viewer,
        class,
        quiet: Box::pin(tokio::time::sleep(KEEP_ALIVE)),
        last_sent: tokio::time::Instant::now(),
    };
    let stream = futures_util::stream::unfold(feed, |mut feed| async move {
        let message = feed.next().await?;
        Some((Ok::<_, Infallible>(message), feed))
    });
    // The messages are written as they were encoded, most of them shared
    // with every other viewer of the run, so the body is built here rather
    // than by axum's `Sse`, which formats each message per stream.
    Ok((
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}

/// One viewer's stream: the runs' messages, and in a classroom session the
/// session as this viewer sees it whenever it changes.
struct Feed {
    viewer: Viewer,
    class: Option<ClassFeed>,
    /// Fires [`KEEP_ALIVE`] after the last message, or a little later: it
    /// is moved on only when it fires, not at every message, which would
    /// cost a timer update per message per viewer.
    quiet: std::pin::Pin<Box<tokio::time::Sleep>>,
    last_sent: tokio::time::Instant,
}

struct ClassFeed {
    room: Arc<Classroom>,
    caller: Caller,
    changes: watch::Receiver<u64>,
    /// Counts this stream as watching while it lasts.
    _seen: Seen,
}

impl ClassFeed {
    fn new(room: &Arc<Classroom>, caller: Caller) -> ClassFeed {
        let mut changes = room.subscribe();
        // The first message says where the session is now.
        changes.mark_changed();
        ClassFeed {
            _seen: room.watching(&caller),
            room: Arc::clone(room),
            caller,
            changes,
        }
    }

    fn message(&mut self) -> Option<Bytes> {
        self.changes.mark_unchanged();
        let view = self.room.view(&self.caller);
        sse_json("class", None, &view)
    }
}

impl Feed {
    /// The next message, or a keep-alive comment after [`KEEP_ALIVE`] of
    /// quiet; `None` when the server shuts down.
    async fn next(&mut self) -> Option<Bytes> {
        let message = self.message().await;
        self.last_sent = tokio::time::Instant::now();
        message
    }

    async fn message(&mut self) -> Option<Bytes> {
        loop {
            tokio::select! {
                biased;
                Some(Ok(())) = async {
                    match &mut self.class {
                        Some(class) => Some(class.changes.changed().await),
                        None => None,
                    }
                } => {
                    if let Some(message) = self.class.as_mut().and_then(ClassFeed::message) {
                        return Some(message);
                    }
                }
                message = self.viewer.next() => return message,
                () = self.quiet.as_mut() => {
                    let due = self.last_sent + KEEP_ALIVE;
                    if tokio::time::Instant::now() >= due {
                        self.quiet.as_mut().reset(tokio::time::Instant::now() + KEEP_ALIVE);
                        return Some(Bytes::from_static(b":\n\n"));
                    }
                    self.quiet.as_mut().reset(due);
                }
            }
        }
    }
}

/// The distinct runs a `runs=` list names, in the order first named. Each
/// run is sent once however often it is named, and no list may name more
/// runs than the server can hold.
fn named_runs(state: &AppState, list: &str, must_exist: bool) -> Result<Vec<String>, ApiError> {
    let mut seen = BTreeSet::new();
    let mut ids = Vec::new();
    for id in list.split(',').filter(|s| !s.is_empty()) {
        if seen.insert(id) {
            if ids.len() == MAX_RUNS {
                return Err(ApiError::bad_request(&format!(
                    "`runs` names more than {MAX_RUNS} runs; leave it out to follow every run"
                )));
            }
            if must_exist {
                find(state, id)?;
            }
            ids.push(id.to_owned());
        }
    }
    if ids.is_empty() {
        return Err(ApiError::bad_request(
            "`runs` names no run; leave it out to follow every run, or add `summaries=true` for the shared runs' status alone",
        ));
    }
    Ok(ids)
}

pub async fn no_route(OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::NoRoute(uri.path().to_owned())
}

pub async fn wrong_method(method: Method, OriginalUri(uri): OriginalUri) -> ApiError {
    ApiError::Method(format!("{method} {}", uri.path()))
}

//! The network edge: the tab's one event stream, and the HTTP calls.
//!
//! Everything that arrives is parsed here and handed to the [`Model`]; a
//! malformed message is logged with `console.warn` and skipped, never
//! unwrapped. Refused commands become toasts with the server's message.

use crate::state::{Connection, Model};
use leptos::logging::warn;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::de::DeserializeOwned;
use shared::classroom::ClassView;
use shared::{
    Batch, Command, Envelope, ErrorBody, HistoryHeader, Lagged, PatternInfo, Removed, RunSnapshot,
};
use std::cell::RefCell;
use std::collections::HashSet;
use std::time::Duration;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{EventSource, MessageEvent};

const EVENTS_URL: &str = "/api/events";
/// How long to wait before opening a new stream when the browser gave up
/// on the old one (it retries by itself only while the server answers).
const REOPEN_AFTER: Duration = Duration::from_secs(2);
/// How long the "skipped N events" notice stays up.
const LAG_NOTICE_FOR: Duration = Duration::from_secs(4);
const TOAST_FOR: Duration = Duration::from_secs(6);

/// The open stream and its listeners; dropping it removes the listeners.
struct Stream {
    source: EventSource,
    _listeners: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

thread_local! {
    static STREAM: RefCell<Option<Stream>> = const { RefCell::new(None) };
    /// Runs whose snapshot is being fetched, so a burst of batches for a run
    /// we do not know yet asks for it once.
    static FETCHING: RefCell<HashSet<String>> = RefCell::new(HashSet::new());
}

/// Wall-clock milliseconds, the time base of the virtual-clock estimates.
pub fn wall_ms() -> f64 {
    window().performance().map_or(0.0, |p| p.now())
}

/// Loads the pattern list and opens the event stream.
pub fn start(model: RwSignal<Model>) {
    spawn_local(async move {
        let result = get_json::<Vec<PatternInfo>>("/api/patterns").await;
        if let Err(e) = &result {
            warn!("could not load the pattern list: {e}");
        }
        model.update(|m| m.on_patterns(result));
    });
    open_stream(model);
}

/// Opens the one `EventSource` of the tab, replacing any previous one.
fn open_stream(model: RwSignal<Model>) {
    let source = match EventSource::new(EVENTS_URL) {
        Ok(source) => source,
        Err(e) => {
            warn!("could not open the event stream: {e:?}");
            set_timeout(move || open_stream(model), REOPEN_AFTER);
            return;
        }
    };
    let mut listeners = Vec::new();
    let mut listen = |name: &str, handler: Box<dyn FnMut(web_sys::Event)>| {
        let closure = Closure::wrap(handler);
        match source.add_event_listener_with_callback(name, closure.as_ref().unchecked_ref()) {
            Ok(()) => listeners.push(closure),
            Err(e) => warn!("could not listen for {name} events: {e:?}"),
        }
    };

    listen("open", Box::new(move |_| model.update(Model::on_open)));
    let watched = source.clone();
    listen(
        "error",
        Box::new(move |_| {
            model.update(Model::on_error);
            // CONNECTING: the browser retries by itself, with Last-Event-ID.
            // CLOSED: it gave up (e.g. the server answered with an error), so
            // a new stream is opened; the server then sends fresh snapshots.
            if watched.ready_state() == EventSource::CLOSED {
                set_timeout(move || open_stream(model), REOPEN_AFTER);
            }
        }),
    );
    listen(
        "snapshot",
        Box::new(move |ev| {
            if let Some(snap) = parse_message::<RunSnapshot>("snapshot", &ev) {
                model.update(|m| m.on_snapshot(snap, wall_ms()));
            }
        }),
    );
    listen(
        "batch",
        Box::new(move |ev| {
            if let Some(batches) = parse_message::<Vec<Batch>>("batch", &ev) {
                let unknown = model
                    .try_update(|m| m.on_batch(batches, wall_ms()))
                    .unwrap_or_default();
                for run in unknown {
                    fetch_run(model, run);
                }
            }
        }),
    );
    listen(
        "lagged",
        Box::new(move |ev| {
            if let Some(lagged) = parse_message::<Lagged>("lagged", &ev)
                && let Some(id) = model.try_update(|m| m.on_lagged(lagged))
            {
                set_timeout(move || model.update(|m| m.settle_lag(id)), LAG_NOTICE_FOR);
            }
        }),
    );
    listen(
        "class",
        Box::new(move |ev| {
            if let Some(view) = parse_message::<ClassView>("class", &ev) {
                model.update(|m| m.on_class(view));
            }
        }),
    );
    listen(
        "removed",
        Box::new(move |ev| {
            if let Some(removed) = parse_message::<Removed>("removed", &ev) {
                model.update(|m| m.on_removed(&removed));
            }
        }),
    );

    let previous = STREAM.with(|s| {
        s.replace(Some(Stream {
            source,
            _listeners: listeners,
        }))
    });
    if let Some(old) = previous {
        old.source.close();
    }
}

/// The JSON payload of one SSE message, or `None` (logged) if it is malformed.
fn parse_message<T: DeserializeOwned>(kind: &str, ev: &web_sys::Event) -> Option<T> {
    let Some(text) = ev
        .dyn_ref::<MessageEvent>()
        .and_then(|m| m.data().as_string())
    else {
        warn!("skipping a {kind} message without text data");
        return None;
    };
    match serde_json::from_str(&text) {
        Ok(value) => Some(value),
        Err(e) => {
            warn!("skipping a malformed {kind} message: {e}");
            None
        }
    }
}

/// Fetches one run's snapshot: for a run the stream has not introduced yet.
pub fn fetch_run(model: RwSignal<Model>, run: String) {
    let first = FETCHING.with(|f| f.borrow_mut().insert(run.clone()));
    if !first {
        return;
    }
    spawn_local(async move {
        match get_json::<RunSnapshot>(&format!("/api/runs/{run}")).await {
            Ok(snap) => model.update(|m| m.adopt_snapshot(snap, wall_ms())),
            Err(e) => warn!("could not load run {run}: {e}"),
        }
        FETCHING.with(|f| f.borrow_mut().remove(&run));
    });
}

/// Fetches the server's history of the run on screen, if the model wants
/// it (when the page opens, and after the stream skipped events).
pub fn fetch_history(model: RwSignal<Model>) {
    let Some(run) = model.try_update(Model::history_to_fetch).flatten() else {
        return;
    };
    spawn_local(async move {
        let url = format!("/api/runs/{run}/history");
        let text = match request("GET", &url, None).await {
            Ok((200, text)) => text,
            Ok((status, _)) => {
                warn!("{url} answered HTTP {status}");
                return;
            }
            Err(e) => {
                warn!("could not load the history of {run}: {e}");
                return;
            }
        };
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header = match lines.next().map(serde_json::from_str::<HistoryHeader>) {
            Some(Ok(header)) => header,
            Some(Err(e)) => {
                warn!("the history of {run} has a malformed header: {e}");
                return;
            }
            None => return,
        };
        let mut events = Vec::new();
        for line in lines {
            match serde_json::from_str::<Envelope>(line) {
                Ok(env) => events.push(env),
                Err(e) => {
                    warn!("the history of {run} has a malformed line: {e}");
                    return;
                }
            }
        }
        model.update(|m| m.on_history(header, events));
    });
}

/// Sends commands to a run, one after the other; stops at the first refusal
/// and shows its message.
pub fn send(model: RwSignal<Model>, run: String, commands: Vec<Command>) {
    send_then(model, run, commands, |_| ());
}

/// Like [`send`], then tells `after` whether every command was accepted.
pub fn send_then(
    model: RwSignal<Model>,
    run: String,
    commands: Vec<Command>,
    after: impl FnOnce(bool) + 'static,
) {
    spawn_local(async move {
        let accepted = send_all(model, &run, commands).await;
        after(accepted);
    });
}

async fn send_all(model: RwSignal<Model>, run: &str, commands: Vec<Command>) -> bool {
    if !model.with_untracked(|m| m.may_command(run)) {
        toast(
            model,
            "Only the presenter drives the class's runs: press Try it yourself for a run of your own.",
        );
        return false;
    }
    let url = format!("/api/runs/{run}/commands");
    for command in commands {
        let body = match serde_json::to_string(&command) {
            Ok(body) => body,
            Err(e) => {
                warn!("could not encode {command:?}: {e}");
                return false;
            }
        };
        // The stream normally brings the command's effect a moment later,
        // with its events (and their animations); the snapshot the server
        // answers with is only needed when the stream is down. It is not
        // even read otherwise: a big tree's snapshot would hold up the
        // frame that shows the change.
        let needed =
            model.with_untracked(|m| m.connection() != Connection::Live || m.run(run).is_none());
        let read = move |status: u16| needed || !(200..300).contains(&status);
        match request_reading("POST", &url, Some(&body), read).await {
            Ok((status, text)) if (200..300).contains(&status) => {
                if needed {
                    match serde_json::from_str::<RunSnapshot>(&text) {
                        Ok(snap) => model.update(|m| m.adopt_snapshot(snap, wall_ms())),
                        Err(e) => warn!("unexpected answer to {command:?}: {e}"),
                    }
                }
            }
            Ok((status, text)) => {
                let message = match serde_json::from_str::<ErrorBody>(&text) {
                    Ok(body) => body.message,
                    Err(_) => format!("The server refused the command (HTTP {status})."),
                };
                toast(model, message);
                return false;
            }
            Err(e) => {
                warn!("command {command:?} failed: {e}");
                toast(model, "Could not reach the server. Is it still running?");
                return false;
            }
        }
    }
    true
}

/// Sends a request (with a JSON or text body, or none);
/// answers the body of a success, shows the message of a refusal.
pub async fn request_or_toast(
    model: RwSignal<Model>,
    method: &str,
    url: &str,
    body: Option<String>,
) -> Option<String> {
    match request(method, url, body.as_deref()).await {
        Ok((status, text)) if (200..300).contains(&status) => Some(text),
        Ok((status, text)) => {
            let message = match serde_json::from_str::<ErrorBody>(&text) {
                Ok(body) => body.message,
                Err(_) => format!("The server refused it (HTTP {status})."),
            };
            toast(model, message);
            None
        }
        Err(e) => {
            warn!("{method} {url} failed: {e}");
            toast(model, "Could not reach the server. Is it still running?");
            None
        }
    }
}

/// Shows a message for a few seconds.
pub fn toast(model: RwSignal<Model>, text: impl Into<String>) {
    if let Some(id) = model.try_update(|m| m.push_toast(text)) {
        set_timeout(move || model.update(|m| m.dismiss_toast(id)), TOAST_FOR);
    }
}

pub async fn get_json<T: DeserializeOwned>(url: &str) -> Result<T, String> {
    let (status, text) = request("GET", url, None).await?;
    if !(200..300).contains(&status) {
        return Err(format!("{url} answered HTTP {status}"));
    }
    serde_json::from_str(&text).map_err(|e| format!("{url}: {e}"))
}

/// One HTTP request; answers the status and the body text.
async fn request(method: &str, url: &str, body: Option<&str>) -> Result<(u16, String), String> {
    request_reading(method, url, body, |_| true).await
}

/// One HTTP request; answers the status, and the body text if `read` says
/// a body with that status is wanted (an empty string otherwise).
async fn request_reading(
    method: &str,
    url: &str,
    body: Option<&str>,
    read: impl FnOnce(u16) -> bool,
) -> Result<(u16, String), String> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
        let headers = web_sys::Headers::new().map_err(js_text)?;
        headers
            .set("content-type", "application/json")
            .map_err(js_text)?;
        init.set_headers(&headers);
    }
    let answer = JsFuture::from(window().fetch_with_str_and_init(url, &init))
        .await
        .map_err(js_text)?;
    let response: web_sys::Response = answer.dyn_into().map_err(js_text)?;
    let status = response.status();
    if !read(status) {
        return Ok((status, String::new()));
    }
    let text = JsFuture::from(response.text().map_err(js_text)?)
        .await
        .map_err(js_text)?;
    Ok((status, text.as_string().unwrap_or_default()))
}

fn js_text(e: JsValue) -> String {
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

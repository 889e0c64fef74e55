//! The network edge: the event stream (one per browser, shared by its
//! tabs through a worker), and the HTTP calls.
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
    RunSummary,
};
use std::cell::RefCell;
use std::collections::HashSet;
use std::time::Duration;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::MessageEvent;

/// The script that holds the event stream for every tab of this browser.
const STREAM_WORKER: &str = "stream-worker.js";
/// How long the "skipped N events" notice stays up.
const LAG_NOTICE_FOR: Duration = Duration::from_secs(4);
const TOAST_FOR: Duration = Duration::from_secs(6);

/// Where the tab's stream comes from: the browser's shared worker, or where
/// there are none (Chrome on Android) a dedicated one of its own.
enum Port {
    Shared(web_sys::MessagePort),
    Own(web_sys::Worker),
}

impl Port {
    fn post(&self, message: &JsValue) {
        let posted = match self {
            Port::Shared(port) => port.post_message(message),
            Port::Own(worker) => worker.post_message(message),
        };
        if let Err(e) = posted {
            warn!("could not reach the stream worker: {e:?}");
        }
    }
}

/// The connection to the stream worker, and its listeners.
struct Stream {
    port: Port,
    /// The runs the tab follows, said again when it comes back from the
    /// back-forward cache.
    following: Vec<String>,
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

/// Takes the pattern list (from the page, which carries it, or else from
/// the server) and joins the event stream.
pub fn start(model: RwSignal<Model>) {
    let carried = document()
        .get_element_by_id("patterns")
        .and_then(|el| el.text_content())
        .and_then(|json| serde_json::from_str::<Vec<PatternInfo>>(&json).ok());
    match carried {
        Some(list) => model.update(|m| m.on_patterns(Ok(list))),
        None => spawn_local(async move {
            let result = get_json::<Vec<PatternInfo>>("/api/patterns").await;
            if let Err(e) = &result {
                warn!("could not load the pattern list: {e}");
            }
            model.update(|m| m.on_patterns(result));
        }),
    }
    join_stream(model);
}

/// Follows `runs` (the run on screen) and no others; the shared runs'
/// status comes with every stream.
pub fn follow(model: RwSignal<Model>, runs: Vec<String>) {
    model.update(|m| m.follow(&runs));
    STREAM.with(|s| {
        if let Some(stream) = s.borrow_mut().as_mut() {
            stream.following = runs;
            stream.port.post(&follow_message(&stream.following));
        }
    });
}

fn follow_message(runs: &[String]) -> JsValue {
    let message = js_sys::Object::new();
    let list: js_sys::Array = runs.iter().map(|r| JsValue::from_str(r)).collect();
    let _ = js_sys::Reflect::set(&message, &"follow".into(), &list);
    message.into()
}

/// Connects to the stream worker; every tab of the dashboard in this
/// browser shares its one connection to the server.
fn join_stream(model: RwSignal<Model>) {
    let url = worker_url();
    let has_shared = js_sys::Reflect::has(&window(), &"SharedWorker".into()).unwrap_or(false);
    let port = if has_shared {
        web_sys::SharedWorker::new_with_str(&url, "events").map(|w| Port::Shared(w.port()))
    } else {
        web_sys::Worker::new(&url).map(Port::Own)
    };
    let port = match port {
        Ok(port) => port,
        Err(e) => {
            warn!("could not start the stream worker: {e:?}");
            model.update(Model::on_error);
            return;
        }
    };
    let on_message: Closure<dyn FnMut(web_sys::Event)> = Closure::new(move |ev: web_sys::Event| {
        let Some(message) = ev.dyn_ref::<MessageEvent>().map(MessageEvent::data) else {
            return;
        };
        let field = |name: &str| {
            js_sys::Reflect::get(&message, &name.into())
                .ok()
                .and_then(|v| v.as_string())
        };
        if let Some(kind) = field("kind") {
            on_stream_message(model, &kind, field("data").as_deref());
        }
    });
    let target: &web_sys::EventTarget = match &port {
        Port::Shared(port) => port,
        Port::Own(worker) => worker,
    };
    if let Err(e) =
        target.add_event_listener_with_callback("message", on_message.as_ref().unchecked_ref())
    {
        warn!("could not listen to the stream worker: {e:?}");
    }
    if let Port::Shared(port) = &port {
        port.start();
    }
    // Leaving says goodbye, so the worker stops following this tab's runs;
    // coming back from the back-forward cache says what it follows again.
    let on_leave: Closure<dyn FnMut(web_sys::Event)> = Closure::new(move |_| {
        STREAM.with(|s| {
            if let Some(stream) = s.borrow().as_ref() {
                let bye = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&bye, &"bye".into(), &true.into());
                stream.port.post(&bye);
            }
        });
    });
    let on_return: Closure<dyn FnMut(web_sys::Event)> = Closure::new(move |_| {
        STREAM.with(|s| {
            if let Some(stream) = s.borrow().as_ref() {
                stream.port.post(&follow_message(&stream.following));
            }
        });
    });
    for (name, listener) in [("pagehide", &on_leave), ("pageshow", &on_return)] {
        if let Err(e) =
            window().add_event_listener_with_callback(name, listener.as_ref().unchecked_ref())
        {
            warn!("could not listen for {name}: {e:?}");
        }
    }
    STREAM.with(|s| {
        s.replace(Some(Stream {
            port,
            following: Vec::new(),
            _listeners: vec![on_message, on_leave, on_return],
        }))
    });
}

/// The stream worker's script under the build's version, as the page names
/// the bundle: tabs of one build share a worker, and a tab of a newer build
/// never joins an older build's.
fn worker_url() -> String {
    let glue = document()
        .query_selector("link[rel=\"modulepreload\"]")
        .ok()
        .flatten()
        .and_then(|link| link.get_attribute("href"))
        .unwrap_or_default();
    let version = glue
        .strip_prefix("/pkg/")
        .and_then(|rest| rest.split_once('/'))
        .map(|(version, _)| version)
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_hexdigit()));
    match version {
        Some(version) => format!("/assets/{version}/{STREAM_WORKER}"),
        None => format!("/assets/{STREAM_WORKER}"),
    }
}

/// One message the worker passed on from the stream.
fn on_stream_message(model: RwSignal<Model>, kind: &str, data: Option<&str>) {
    match kind {
        "open" => model.update(Model::on_open),
        "error" => model.update(Model::on_error),
        "snapshot" => {
            if let Some(snap) = parse_message::<RunSnapshot>(kind, data) {
                model.update(|m| m.on_snapshot(snap, wall_ms()));
            }
        }
        "batch" => {
            if let Some(batches) = parse_message::<Vec<Batch>>(kind, data) {
                let unknown = model
                    .try_update(|m| m.on_batch(batches, wall_ms()))
                    .unwrap_or_default();
                for run in unknown {
                    fetch_run(model, run);
                }
            }
        }
        "lagged" => {
            if let Some(lagged) = parse_message::<Lagged>(kind, data)
                && let Some(id) = model.try_update(|m| m.on_lagged(lagged))
            {
                set_timeout(move || model.update(|m| m.settle_lag(id)), LAG_NOTICE_FOR);
            }
        }
        "class" => {
            if let Some(view) = parse_message::<ClassView>(kind, data) {
                model.update(|m| m.on_class(view));
            }
        }
        "summary" => {
            if let Some(summaries) = parse_message::<Vec<RunSummary>>(kind, data) {
                model.update(|m| m.on_summaries(summaries));
            }
        }
        "removed" => {
            if let Some(removed) = parse_message::<Removed>(kind, data) {
                model.update(|m| m.on_removed(&removed));
            }
        }
        _ => warn!("skipping a stream message of unknown kind {kind}"),
    }
}

/// The JSON payload of one message, or `None` (logged) if it is malformed.
fn parse_message<T: DeserializeOwned>(kind: &str, data: Option<&str>) -> Option<T> {
    let Some(text) = data else {
        warn!("skipping a {kind} message without text data");
        return None;
    };
    match serde_json::from_str(text) {
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

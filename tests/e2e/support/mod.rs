//! What the end-to-end tests share: a real server on a port of its own, a
//! reader for its event stream, a viewer's fold of that stream, a headless
//! browser, and a deadline on every wait.

pub mod browser;
pub mod follow;
pub mod probes;
pub mod sse;
mod wait;

pub use wait::{PATIENCE, within};

use std::net::SocketAddr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use serde::de::DeserializeOwned;
use shared::{Command, ErrorBody, Params, PatternId, PatternInfo, RunSnapshot};
use tokio::net::TcpListener;
use tokio::sync::{OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use self::sse::EventStream;

/// The tests share the machine; one that times what it sees takes it
/// alone, so other tests' servers and browsers do not count against its
/// budget.
static MACHINE: LazyLock<Arc<RwLock<()>>> = LazyLock::new(Arc::default);

/// A server's claim on the machine: shared with other tests, or all of it.
#[derive(Debug)]
#[expect(dead_code, reason = "held for as long as the server lives")]
enum Claim {
    Shared(OwnedRwLockReadGuard<()>),
    Alone(OwnedRwLockWriteGuard<()>),
}

/// A server on `127.0.0.1` with a free port of its own, shut down when
/// dropped. Each test gets its own, so runs never leak between tests.
#[derive(Debug)]
pub struct TestServer {
    _claim: Claim,
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
    http: reqwest::Client,
}

/// A share of the machine for a test that keeps a core busy without a
/// server of its own, so timed tests do not run beside it.
pub async fn busy() -> OwnedRwLockReadGuard<()> {
    Arc::clone(&MACHINE).read_owned().await
}

impl TestServer {
    pub async fn start() -> TestServer {
        let claim = Claim::Shared(Arc::clone(&MACHINE).read_owned().await);
        TestServer::open(claim).await
    }

    /// A server for a test that measures time: it waits until no other
    /// test's server is running and keeps the machine until it is dropped.
    pub async fn start_alone() -> TestServer {
        let claim = Claim::Alone(Arc::clone(&MACHINE).write_owned().await);
        TestServer::open(claim).await
    }

    /// A server running a classroom session, and its presenter's token.
    /// The session's test times how fast a student's page follows the
    /// presenter's, so it takes the machine alone, as [`start_alone`] does.
    ///
    /// [`start_alone`]: TestServer::start_alone
    pub async fn start_classroom() -> (TestServer, String) {
        let claim = Claim::Alone(Arc::clone(&MACHINE).write_owned().await);
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("the bound address");
        let class = server::classroom::Classroom::new(format!("http://{addr}/"));
        let token = class.token().reveal().to_owned();
        let config = server::Config {
            classroom: Some(class),
            ..server::Config::default()
        };
        (TestServer::open_on(claim, listener, config), token)
    }

    async fn open(claim: Claim) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        TestServer::open_on(claim, listener, server::Config::default())
    }

    fn open_on(claim: Claim, listener: TcpListener, config: server::Config) -> TestServer {
        let addr = listener.local_addr().expect("the bound address");
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(server::serve(listener, shutdown.clone(), config));
        let http = reqwest::Client::builder()
            .connect_timeout(PATIENCE)
            .build()
            .expect("an HTTP client");
        TestServer {
            _claim: claim,
            addr,
            shutdown,
            task: Some(task),
            http,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The absolute URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> T {
        let what = format!("GET {path}");
        let response = within(&what, PATIENCE, self.http.get(self.url(path)).send())
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        read_json(&what, response).await
    }

    pub async fn patterns(&self) -> Vec<PatternInfo> {
        self.get("/api/patterns").await
    }

    /// The parameter `name` of `pattern`, as the server describes it.
    pub async fn param_spec(&self, pattern: PatternId, name: &str) -> shared::ParamSpec {
        let patterns = self.patterns().await;
        let info = patterns
            .iter()
            .find(|p| p.id == pattern)
            .unwrap_or_else(|| panic!("GET /api/patterns does not list {pattern}"));
        info.params
            .iter()
            .find(|p| p.name == name)
            .cloned()
            .unwrap_or_else(|| panic!("{pattern} has no parameter {name:?}: {:?}", info.params))
    }

    pub async fn snapshot(&self, run: &str) -> RunSnapshot {
        self.get(&format!("/api/runs/{run}")).await
    }

    /// Sends one command and returns the snapshot the server answers with.
    pub async fn command(&self, run: &str, command: Command) -> RunSnapshot {
        let path = format!("/api/runs/{run}/commands");
        let what = format!("POST {path} {command:?}");
        let request = self.http.post(self.url(&path)).json(&command).send();
        let response = within(&what, PATIENCE, request)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        read_json(&what, response).await
    }

    /// Puts `run` under endless load as fast as the brief allows: a task
    /// every 10 virtual ms, at ten times real time, and starts it.
    pub async fn run_flat_out(&self, run: &str) -> RunSnapshot {
        let params = Params::from([("tasks".to_owned(), 0.0), ("interval_ms".to_owned(), 10.0)]);
        self.command(run, Command::SetParams { params }).await;
        self.command(run, Command::SetSpeed { speed: 10.0 }).await;
        self.command(run, Command::Start).await
    }

    /// Opens the event stream of `runs` (comma-separated), resuming after
    /// `last_event_id` when given, as a reconnecting `EventSource` would.
    pub async fn events(&self, runs: &str, last_event_id: Option<&str>) -> EventStream {
        let path = format!("/api/events?runs={runs}");
        let mut request = self
            .http
            .get(self.url(&path))
            .header("accept", "text/event-stream");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let what = format!("GET {path} (Last-Event-ID: {last_event_id:?})");
        let response = within(&what, PATIENCE, request.send())
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(response.status(), reqwest::StatusCode::OK, "{what}");
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        assert!(
            content_type.starts_with("text/event-stream"),
            "{what}: content-type {content_type:?}"
        );
        EventStream::from_response(response)
    }

    /// Cancels the server's token and waits for `serve` to return, which it
    /// must do promptly (as after Ctrl-C) and without a panic.
    pub async fn shut_down(mut self) {
        self.shutdown.cancel();
        let task = self.task.take().expect("the server task");
        let prompt = Duration::from_secs(2);
        let result = within("serve to return after shutdown", prompt, task).await;
        if let Err(e) = result {
            panic!("the server task panicked or was aborted: {e}");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn read_json<T: DeserializeOwned>(what: &str, response: reqwest::Response) -> T {
    let status = response.status();
    let body = within(what, PATIENCE, response.text())
        .await
        .unwrap_or_else(|e| panic!("{what}: reading the body: {e}"));
    if !status.is_success() {
        let detail = serde_json::from_str::<ErrorBody>(&body)
            .map(|e| format!("{}: {}", e.error, e.message))
            .unwrap_or(body);
        panic!("{what}: {status}: {detail}");
    }
    serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("{what}: unexpected body ({e}): {}", excerpt(&body)))
}

/// The start of a long text, for failure messages.
pub fn excerpt(text: &str) -> &str {
    match text.char_indices().nth(600) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

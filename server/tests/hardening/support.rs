//! A server on a real socket, and a client that writes raw bytes to it: the
//! hostile requests these tests send are not ones a polite client library
//! would agree to send.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use server::{AppState, Config, app};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

/// Longest any one exchange may take before the test calls it a hang.
pub const HANG: Duration = Duration::from_secs(5);

/// A server serving on a loopback port until dropped.
pub struct Served {
    pub addr: SocketAddr,
    shutdown: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl Served {
    pub async fn start(config: Config) -> Served {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let addr = listener.local_addr().expect("its address");
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(server::serve(listener, shutdown.clone(), config));
        Served {
            addr,
            shutdown,
            task: Some(task),
        }
    }

    /// Shuts the server down and waits for `serve` to return.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(task) = self.task.take() {
            tokio::time::timeout(HANG, task)
                .await
                .expect("serve returns on shutdown")
                .expect("serve does not panic");
        }
    }

    pub async fn connect(&self) -> TcpStream {
        TcpStream::connect(self.addr).await.expect("a connection")
    }

    /// A `Host` value naming this server as a browser would.
    pub fn host(&self) -> String {
        format!("localhost:{}", self.addr.port())
    }

    /// Sends a whole request with `Connection: close` and reads the answer.
    pub async fn exchange(&self, request: &[u8]) -> Answer {
        let mut tcp = self.connect().await;
        tokio::time::timeout(HANG, async {
            // The server may answer and close before all of a refused
            // request is written; that is its right.
            let _ = tcp.write_all(request).await;
            read_answer(&mut tcp).await
        })
        .await
        .unwrap_or_else(|_| panic!("no answer within {HANG:?} to {}", preview(request)))
    }

    /// Sends `commands` to `run` in order; each must be taken.
    pub async fn commands(&self, run: &str, commands: &[&str]) {
        let path = format!("/api/runs/{run}/commands");
        for command in commands {
            let answer = self.request("POST", &path, Some(command)).await;
            assert_eq!(answer.status, 200, "{command}: {answer:?}");
        }
    }

    /// `method path` with a JSON body (or none), as a browser on this page
    /// would send it.
    pub async fn request(&self, method: &str, path: &str, body: Option<&str>) -> Answer {
        self.exchange(&http_request(method, path, &self.host(), body, &[]))
            .await
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A request's bytes: `Connection: close`, a JSON body if any, extra headers.
pub fn http_request(
    method: &str,
    path: &str,
    host: &str,
    body: Option<&str>,
    extra: &[(&str, &str)],
) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default().as_bytes());
    bytes
}

/// What came back: the status, the head, and the body up to the close (or
/// up to the end of the head, for an event stream that never closes).
#[derive(Debug, Default)]
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The error code of a JSON refusal.
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_owned()
    }
}

/// Reads an answer: to the close, or for an event stream only its head.
pub async fn read_answer(tcp: &mut TcpStream) -> Answer {
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        let n = tcp.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..n]);
        if let Some(end) = find(&bytes, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&bytes[..end]).to_string();
            if head.to_ascii_lowercase().contains("text/event-stream") {
                break;
            }
        }
    }
    parse(&bytes)
}

fn parse(bytes: &[u8]) -> Answer {
    let Some(end) = find(bytes, b"\r\n\r\n") else {
        return Answer::default();
    };
    let head = String::from_utf8_lossy(&bytes[..end]).to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut answer = Answer {
        status,
        head,
        body: bytes[end + 4..].to_vec(),
    };
    if answer
        .header("transfer-encoding")
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
    {
        answer.body = unchunk(&answer.body);
    }
    answer
}

fn unchunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = find(body, b"\r\n") {
        let size = std::str::from_utf8(&body[..line_end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .unwrap_or(0);
        body = &body[line_end + 2..];
        if size == 0 || body.len() < size {
            break;
        }
        out.extend_from_slice(&body[..size]);
        body = body.get(size + 2..).unwrap_or_default();
    }
    out
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn preview(request: &[u8]) -> String {
    let text = String::from_utf8_lossy(&request[..request.len().min(160)]);
    format!("{text:?}")
}

/// Waits until the server closes `tcp`, reading and dropping what it sends;
/// `false` if it is still open after `within`.
pub async fn closes_within(tcp: &mut TcpStream, within: Duration) -> bool {
    tokio::time::timeout(within, async {
        let mut chunk = [0u8; 64 * 1024];
        while matches!(tcp.read(&mut chunk).await, Ok(n) if n > 0) {}
    })
    .await
    .is_ok()
}

/// An answer from the router called in-process.
pub struct Sent {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Sent {
    pub fn error(&self) -> String {
        let value: serde_json::Value = serde_json::from_slice(&self.body).unwrap_or_default();
        value["error"].as_str().unwrap_or_default().to_owned()
    }
}

/// Calls the app without a socket; an event stream's body is left unread.
pub async fn send(state: &AppState, request: Request<Body>) -> Sent {
    let response = app(state.clone())
        .oneshot(request)
        .await
        .expect("the router never fails");
    let status = response.status();
    let headers = response.headers().clone();
    let body = if headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/event-stream"))
    {
        Vec::new()
    } else {
        response
            .into_body()
            .collect()
            .await
            .expect("a body")
            .to_bytes()
            .to_vec()
    };
    Sent {
        status,
        headers,
        body,
    }
}

/// A request with `headers` and, if not empty, a JSON body.
pub fn request(method: &str, uri: &str, headers: &[(&str, &str)], body: &str) -> Request<Body> {
    let mut request = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    if !body.is_empty() {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    request
        .body(Body::from(body.to_owned()))
        .expect("a valid request")
}

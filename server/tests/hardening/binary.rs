//! The real binary: what it writes to the teacher's terminal, and how it
//! stops on a signal while clients hold on to it.

use crate::support::{HANG, http_request, read_answer};
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

/// The server binary on a free port, logging at `log` to a pipe (or
/// nowhere), with the address it printed. `DASHBOARD_BIN` names another
/// build to test (a release build, an older one).
fn launch(log: Option<&str>) -> (Child, SocketAddr) {
    let binary = std::env::var_os("DASHBOARD_BIN")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_concurrency-dashboard").into());
    let mut child = Command::new(binary)
        .args(["--port", "0"])
        .env("RUST_LOG", log.unwrap_or("warn"))
        .stdout(Stdio::piped())
        .stderr(if log.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .spawn()
        .expect("the server starts");
    let stdout = child.stdout.take().expect("its stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("it prints its address");
    let addr = line
        .trim()
        .rsplit("http://")
        .next()
        .and_then(|a| a.trim_end_matches('/').parse().ok())
        .unwrap_or_else(|| panic!("an address in {line:?}"));
    (child, addr)
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -{name}");
}

/// Waits for the process to exit; its status and how long it took.
fn wait_exit(child: &mut Child, within: Duration) -> Option<(std::process::ExitStatus, Duration)> {
    let started = Instant::now();
    while started.elapsed() < within {
        if let Some(status) = child.try_wait().expect("the child's status") {
            return Some((status, started.elapsed()));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    None
}

/// The two clients that used to hold shutdown up: a request whose head
/// never ends, and an event stream nobody reads.
async fn hold_on(addr: SocketAddr) -> (TcpStream, TcpStream) {
    let mut half = TcpStream::connect(addr).await.expect("connected");
    half.write_all(b"GET /api/runs HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("written");
    let mut viewer = TcpStream::connect(addr).await.expect("connected");
    let host = format!("localhost:{}", addr.port());
    viewer
        .write_all(&http_request("GET", "/api/events", &host, None, &[]))
        .await
        .expect("written");
    // Both are being served before the signal.
    tokio::time::sleep(Duration::from_millis(200)).await;
    (half, viewer)
}

#[tokio::test]
async fn sigterm_exits_cleanly_within_two_seconds_whatever_the_clients_do() {
    let (mut child, addr) = launch(None);
    let _clients = hold_on(addr).await;
    signal(&child, "TERM");
    let (status, took) = wait_exit(&mut child, HANG).expect("the server exits");
    assert!(status.success(), "{status}");
    assert!(took <= Duration::from_secs(2), "took {took:?}");
}

#[tokio::test]
async fn a_second_ctrl_c_exits_at_once() {
    let (mut child, addr) = launch(None);
    let _clients = hold_on(addr).await;
    signal(&child, "INT");
    std::thread::sleep(Duration::from_millis(50));
    signal(&child, "INT");
    let (status, took) = wait_exit(&mut child, HANG).expect("the server exits");
    assert_eq!(status.code(), Some(130), "{status}");
    assert!(took <= Duration::from_millis(500), "took {took:?}");
}

/// Sends `request` to the binary and reads the answer.
async fn exchange(addr: SocketAddr, request: &[u8]) -> crate::support::Answer {
    let mut tcp = TcpStream::connect(addr).await.expect("connected");
    tokio::time::timeout(HANG, async {
        let _ = tcp.write_all(request).await;
        read_answer(&mut tcp).await
    })
    .await
    .expect("an answer")
}

/// `GET /api/runs/x%0D%0AFORGED%1B%5B2J` and its kind: a crafted id cannot
/// forge a log line, clear the terminal on the projector, write a NUL, or
/// fill the screen with one refusal. Checked on what the binary itself
/// writes, at its most talkative level.
#[tokio::test]
async fn request_values_are_escaped_and_cut_in_the_log() {
    let (mut child, addr) = launch(Some("debug"));
    let host = format!("localhost:{}", addr.port());
    let long = "a".repeat(65_000);
    let paths = [
        "/api/runs/x%0D%0AFORGED%1B%5B2J".to_owned(),
        "/api/runs/nul%00byte".to_owned(),
        format!("/api/runs/{long}"),
        "/api/nowhere%0D%0AFORGED".to_owned(),
        "/x%0D%0AFORGED%1B%5B2J".to_owned(),
    ];
    for path in &paths {
        let answer = exchange(addr, &http_request("GET", path, &host, None, &[])).await;
        assert!(
            (400..500).contains(&answer.status),
            "{}: {answer:?}",
            &path[..path.len().min(40)]
        );
        assert!(
            answer.body.len() < 1_000,
            "the answer echoes {} bytes",
            answer.body.len()
        );
    }
    let bodies = [
        format!(r#"{{"type":"subscribe","topic":"\r\nFORGED\u001b[2J{long}"}}"#),
        r#"{"type":"x\r\nFORGED\u001b[2J\u0000"}"#.to_owned(),
    ];
    for body in &bodies {
        let request = http_request("POST", "/api/runs/tee/commands", &host, Some(body), &[]);
        let answer = exchange(addr, &request).await;
        assert!((400..500).contains(&answer.status), "{answer:?}");
    }
    let forged_host = http_request("GET", "/api/runs", "evil%0D%0A\u{1b}[2J", None, &[]);
    let _ = exchange(addr, &forged_host).await;
    signal(&child, "TERM");
    wait_exit(&mut child, HANG).expect("the server exits");
    let mut log = String::new();
    child
        .stderr
        .take()
        .expect("its log")
        .read_to_string(&mut log)
        .expect("the log is text");
    assert!(
        log.contains("request refused"),
        "the refusals were logged: {log}"
    );
    for line in log.lines() {
        assert!(!line.starts_with("FORGED"), "a forged line: {line:?}");
        assert!(
            !line.chars().any(|c| c.is_control() && c != '\t'),
            "a control character: {line:?}"
        );
        assert!(line.len() < 2_000, "a line of {} bytes", line.len());
    }
}

/// A terminal that went away (the teacher closed the window, the output was
/// piped into `head`): every later line to stdout or stderr fails, and the
/// server must still stop on a signal.
#[tokio::test]
async fn sigterm_still_stops_it_once_its_terminal_is_gone() {
    for classroom in [false, true] {
        let binary = std::env::var_os("DASHBOARD_BIN")
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_concurrency-dashboard").into());
        let mut args = vec!["--port", "0"];
        if classroom {
            args.push("--classroom");
        }
        let mut child = Command::new(binary)
            .args(&args)
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the server starts");
        let mut first = String::new();
        BufReader::new(child.stdout.take().expect("its stdout"))
            .read_line(&mut first)
            .expect("it prints");
        // Both ends of the terminal close: what it writes from now fails.
        drop(child.stderr.take());
        std::thread::sleep(Duration::from_millis(300));
        signal(&child, "TERM");
        let (status, took) = wait_exit(&mut child, HANG)
            .unwrap_or_else(|| panic!("classroom {classroom}: the server did not exit"));
        assert!(status.success(), "classroom {classroom}: {status}");
        assert!(
            took <= Duration::from_secs(2),
            "classroom {classroom}: took {took:?}"
        );
    }
}

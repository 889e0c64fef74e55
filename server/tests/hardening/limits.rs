//! The connection layer on a real socket: timeouts, the connection cap, a
//! client that stops reading, a body too large to take.

use crate::support::{Served, closes_within, http_request, read_answer};
use server::Config;
use server::listen::Limits;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;

/// Short limits, so a test waits for them in a fraction of a second.
fn quick(max_connections: usize) -> Config {
    Config {
        limits: Limits {
            max_connections,
            header_timeout: Duration::from_millis(300),
            stall_timeout: Duration::from_millis(300),
        },
        ..Config::default()
    }
}

/// `GET /api/runs HTTP/1.1\r\nHost: x\r\n` and nothing more: closed at the
/// header timeout, not held forever.
#[tokio::test]
async fn a_half_sent_head_is_closed_at_the_header_timeout() {
    let served = Served::start(quick(16)).await;
    let mut tcp = served.connect().await;
    tcp.write_all(b"GET /api/runs HTTP/1.1\r\nHost: localhost\r\n")
        .await
        .expect("written");
    let started = Instant::now();
    assert!(
        closes_within(&mut tcp, Duration::from_secs(3)).await,
        "still open"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    served.stop().await;
}

/// A connection that opens and says nothing, and one kept alive after its
/// answer, are both closed once idle for the header timeout.
#[tokio::test]
async fn idle_connections_are_closed() {
    let served = Served::start(quick(16)).await;
    let mut silent = served.connect().await;
    let mut kept = served.connect().await;
    kept.write_all(
        format!(
            "GET /api/patterns HTTP/1.1\r\nHost: {}\r\n\r\n",
            served.host()
        )
        .as_bytes(),
    )
    .await
    .expect("written");
    assert!(
        closes_within(&mut silent, Duration::from_secs(3)).await,
        "the silent one is open"
    );
    assert!(
        closes_within(&mut kept, Duration::from_secs(3)).await,
        "the idle kept-alive one is open"
    );
    served.stop().await;
}

/// Beyond the cap a client is answered `503` with a JSON reason, and a slot
/// that frees is served again: idle sockets cannot lock the class out.
#[tokio::test]
async fn connections_beyond_the_cap_get_a_503() {
    let mut config = quick(4);
    config.limits.header_timeout = Duration::from_secs(30);
    let served = Served::start(config).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        held.push(served.connect().await);
    }
    // Give the server a moment to take all four.
    let over = served.request("GET", "/api/patterns", None).await;
    assert_eq!(over.status, 503, "{over:?}");
    assert_eq!(over.error(), "too_many_connections");
    assert_eq!(over.header("retry-after"), Some("1"));
    drop(held.pop());
    let mut served_again = false;
    for _ in 0..50 {
        let answer = served.request("GET", "/api/patterns", None).await;
        if answer.status == 200 {
            served_again = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(served_again, "a freed slot is served");
    served.stop().await;
}

/// A viewer whose laptop slept: it holds an event stream and reads nothing.
/// Once the server's writes have waited the stall limit, it lets go.
#[tokio::test]
async fn a_viewer_that_stops_reading_is_dropped() {
    let served = Served::start(quick(16)).await;
    let busy =
        r#"{"type":"set_params","params":{"tasks":0,"interval_ms":1,"workers":8,"work_ms":5}}"#;
    let flood = [
        busy,
        r#"{"type":"set_speed","speed":10}"#,
        r#"{"type":"start"}"#,
    ];
    served.commands("drop-basic", &flood).await;
    // A small receive window, so the server's writes soon have to wait.
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(4096).expect("a small buffer");
    let mut viewer = socket.connect(served.addr).await.expect("connected");
    viewer
        .write_all(&http_request(
            "GET",
            "/api/events",
            &served.host(),
            None,
            &[],
        ))
        .await
        .expect("written");
    // Reading nothing while the run floods the stream: the socket buffers
    // fill and the server's writes wait past the stall limit.
    tokio::time::sleep(Duration::from_secs(2)).await;
    // So by now the server has let go: what it sent before ends in a close.
    let closed = closes_within(&mut viewer, Duration::from_secs(5)).await;
    assert!(closed, "the stalled viewer is still held");
    served.stop().await;
}

/// A client that sends all of a 10 MB body before it reads still reads the
/// `413` that says why, not a reset.
#[tokio::test]
async fn an_oversized_body_gets_its_413() {
    let served = Served::start(Config::default()).await;
    let body = vec![b'x'; 10 << 20];
    for chunked in [false, true] {
        let mut tcp = served.connect().await;
        let mut head = format!(
            "POST /api/runs/tee/commands HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n",
            served.host()
        );
        let mut bytes = Vec::new();
        if chunked {
            head.push_str("Transfer-Encoding: chunked\r\n\r\n");
            bytes.extend_from_slice(head.as_bytes());
            for piece in body.chunks(64 << 10) {
                bytes.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
                bytes.extend_from_slice(piece);
                bytes.extend_from_slice(b"\r\n");
            }
            bytes.extend_from_slice(b"0\r\n\r\n");
        } else {
            head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
            bytes.extend_from_slice(head.as_bytes());
            bytes.extend_from_slice(&body);
        }
        tokio::time::timeout(Duration::from_secs(5), tcp.write_all(&bytes))
            .await
            .expect("the server reads the body it refused")
            .expect("the whole body is written");
        let answer = tokio::time::timeout(Duration::from_secs(5), read_answer(&mut tcp))
            .await
            .expect("an answer");
        assert_eq!(answer.status, 413, "chunked: {chunked}: {answer:?}");
        assert_eq!(answer.error(), "body_too_large", "chunked: {chunked}");
    }
    served.stop().await;
}

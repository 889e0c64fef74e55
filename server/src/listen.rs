//! The accept loop: how many connections the server holds, how long it waits
//! on each, and a shutdown that ends on time whatever the clients do.
//!
//! A classroom's network is not hostile on purpose, but it does everything
//! a hostile one does: a laptop's lid closes mid-stream, a phone keeps a
//! socket open and says nothing, a student's script opens a hundred
//! connections. So:
//!
//! - at most [`Limits::max_connections`] are served at once; one more is
//!   answered `503` and closed, and beyond a few such answers at a time the
//!   rest are closed unanswered, so the refusals cannot pile up either;
//! - a request's head must arrive within [`Limits::header_timeout`] of the
//!   connection opening or of the previous answer, which also closes a
//!   kept-alive connection left idle that long (a request's body has its
//!   own deadline, in `http::body`);
//! - a client that stops reading (an event stream's viewer whose laptop
//!   slept) is dropped once a write has waited [`Limits::stall_timeout`];
//! - at shutdown, requests in flight get [`CONNECTION_GRACE`] to finish and
//!   event streams end at once; whatever is still open then is closed.

use axum::Router;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::time::Sleep;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long requests in flight may take to finish once shutdown begins.
pub const CONNECTION_GRACE: Duration = Duration::from_secs(1);
/// Connections being refused with a `503` at one time; more are just closed.
const REFUSING: usize = 32;
/// How long a refused client gets to read its `503` before the close.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// What the server allows each connection.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Connections served at once.
    pub max_connections: usize,
    /// Time for a request's head to arrive, from the connection opening or
    /// the previous answer.
    pub header_timeout: Duration,
    /// Time a write may wait for a client that does not read.
    pub stall_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 256,
            header_timeout: Duration::from_secs(10),
            stall_timeout: Duration::from_secs(30),
        }
    }
}

/// The address a request reached the server at: the local end of its
/// connection. Requests name it in `Host` when they come by address.
#[derive(Debug, Clone, Copy)]
pub struct Reached(pub SocketAddr);

/// Serves `router` on `listener` until `shutdown` fires, then gives the
/// open connections [`CONNECTION_GRACE`] and closes what is left.
pub async fn accept_until(
    listener: TcpListener,
    router: Router,
    limits: &Limits,
    shutdown: &CancellationToken,
) {
    let open = Arc::new(Semaphore::new(limits.max_connections));
    let refusing = Arc::new(Semaphore::new(REFUSING));
    let connections = TaskTracker::new();
    // Fired when the grace is over: every connection still open closes.
    let hard_stop = CancellationToken::new();
    loop {
        let (tcp, _peer) = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors, most likely: wait for some
                    // to close rather than spin.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        // Events are small writes on a long-lived stream: without NODELAY
        // one can wait for the browser's delayed ACK of the one before it.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        match Arc::clone(&open).try_acquire_owned() {
            Ok(permit) => {
                let (router, limits) = (router.clone(), limits.clone());
                let (shutdown, hard_stop) = (shutdown.clone(), hard_stop.clone());
                connections.spawn(async move {
                    let _permit = permit;
                    tokio::select! {
                        () = serve_connection(tcp, router, &limits, &shutdown) => {}
                        () = hard_stop.cancelled() => {}
                    }
                });
            }
            Err(_) => {
                if let Ok(permit) = Arc::clone(&refusing).try_acquire_owned() {
                    tracing::warn!(
                        max = limits.max_connections,
                        "connection refused: the server is full"
                    );
                    connections.spawn(async move {
                        let _permit = permit;
                        refuse(tcp).await;
                    });
                }
                // Else dropped: closed without a word.
            }
        }
    }
    drop(listener);
    connections.close();
    if tokio::time::timeout(CONNECTION_GRACE, connections.wait())
        .await
        .is_err()
    {
        tracing::info!(
            open = connections.len(),
            "closing the connections still open"
        );
        hard_stop.cancel();
        connections.wait().await;
    }
}

/// Serves one connection's requests until the client leaves, a timeout
/// closes it, or shutdown lets its request in flight finish.
async fn serve_connection(
    tcp: TcpStream,
    router: Router,
    limits: &Limits,
    shutdown: &CancellationToken,
) {
    let reached = match tcp.local_addr() {
        Ok(addr) => Reached(addr),
        Err(e) => {
            tracing::debug!(error = %e, "connection closed before it was served");
            return;
        }
    };
    let service = TowerToHyperService::new(
        tower::ServiceBuilder::new()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(reached);
                request.map(axum::body::Body::new)
            })
            .service(router),
    );
    let io = TokioIo::new(StallGuard::new(tcp, limits.stall_timeout));
    let connection = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .serve_connection(io, service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = shutdown.cancelled() => {
            // Finish the request in flight; close an idle connection now.
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "connection ended");
    }
}

/// Answers a connection beyond the limit with a `503`, then closes it once
/// the client has had a moment to read the answer.
async fn refuse(mut tcp: TcpStream) {
    const BODY: &str = r#"{"error":"too_many_connections","message":"the server is serving as many connections as it can; try again in a moment"}"#;
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\n\
         content-type: application/json\r\n\
         content-length: {}\r\n\
         retry-after: 1\r\n\
         x-content-type-options: nosniff\r\n\
         connection: close\r\n\r\n{BODY}",
        BODY.len()
    );
    let linger = async {
        tcp.write_all(answer.as_bytes()).await?;
        tcp.shutdown().await?;
        // Read what the client sent until it closes, so the close is not a
        // reset that could destroy the answer before it is read.
        let mut sink = [0u8; 4096];
        while tcp.read(&mut sink).await? > 0 {}
        io::Result::Ok(())
    };
    let _ = tokio::time::timeout(REFUSAL_LINGER, linger).await;
}

/// A socket whose writes may wait only so long for the client to read.
///
/// A quiet connection is fine (an event stream of a paused run sends only
/// keep-alives); one whose writes cannot go out is a client that left
/// without closing, and holding it would cost a file descriptor for good.
#[derive(Debug)]
struct StallGuard<IO> {
    io: IO,
    limit: Duration,
    /// Running while a write waits; reset by any write that goes out.
    stalled: Option<Pin<Box<Sleep>>>,
}

impl<IO> StallGuard<IO> {
    fn new(io: IO, limit: Duration) -> Self {
        StallGuard {
            io,
            limit,
            stalled: None,
        }
    }

    /// What a write came back with, unless it has waited too long: then an
    /// error that ends the connection.
    fn watch<T>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        if polled.is_ready() {
            self.stalled = None;
            return polled;
        }
        let limit = self.limit;
        let timer = self
            .stalled
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        ready!(timer.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client stopped reading",
        )))
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for StallGuard<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for StallGuard<IO> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write(cx, buf);
        self.watch(cx, polled)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        self.watch(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncWriteExt, duplex};

    /// A write into a pipe nobody reads fails after the limit, not before.
    #[tokio::test(start_paused = true)]
    async fn a_write_nobody_reads_fails_after_the_stall_limit() {
        let (near, _far) = duplex(16);
        let mut guarded = StallGuard::new(near, Duration::from_secs(30));
        let started = tokio::time::Instant::now();
        let error = guarded
            .write_all(&[0u8; 64])
            .await
            .expect_err("the write cannot go out");
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert_eq!(started.elapsed(), Duration::from_secs(30));
    }

    /// A slow reader that keeps reading is never cut off.
    #[tokio::test(start_paused = true)]
    async fn a_slow_reader_keeps_its_connection() {
        let (near, mut far) = duplex(16);
        let mut guarded = StallGuard::new(near, Duration::from_secs(30));
        let reader = tokio::spawn(async move {
            let mut got = Vec::new();
            let mut chunk = [0u8; 16];
            loop {
                tokio::time::sleep(Duration::from_secs(20)).await;
                match far.read(&mut chunk).await {
                    Ok(0) | Err(_) => return got.len(),
                    Ok(n) => got.extend_from_slice(&chunk[..n]),
                }
            }
        });
        guarded
            .write_all(&[7u8; 64])
            .await
            .expect("every write goes out");
        drop(guarded);
        assert_eq!(reader.await.expect("the reader"), 64);
    }
}

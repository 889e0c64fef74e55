//! The concurrency dashboard's server: pattern engines that run for real on
//! tokio, and the HTTP API and event stream that show them in a browser.
//!
//! # Layout
//!
//! - [`clock`]: each run's virtual clock (speed, pause, step).
//! - [`engines`]: one file per pattern, all with the same entry point.
//! - [`run`]: a live instance of a pattern: lifecycle, commands, the fold of
//!   its events.
//! - [`hub`]: every run, and the per-frame event stream to viewers.
//! - [`preview`]: the scene a run will open with, drawn before it starts.
//! - [`tree`]: a cancellation-token tree that records why each node was
//!   cancelled.
//! - [`http`]: the JSON API, the SSE endpoint and the embedded browser app.
//!
//! [`serve`] puts them together on a listener until a shutdown token fires.

pub mod clock;
pub mod engines;
pub mod http;
pub mod hub;
pub mod preview;
pub mod run;
pub mod tree;

pub use http::{AppState, app};

use axum::serve::ListenerExt;
use hub::Hub;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long shutdown waits for engines before giving up on them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Serves the dashboard on `listener` until `shutdown` is cancelled. Then the
/// event streams end, every engine is cancelled (all are children of
/// `shutdown`), and this returns once their tasks have exited.
pub async fn serve(listener: TcpListener, shutdown: CancellationToken) -> std::io::Result<()> {
    let tracker = TaskTracker::new();
    let hub = Hub::new(shutdown.clone(), tracker.clone());
    let router = app(AppState { hub: hub.clone() });
    // Events are small writes on a long-lived stream: without NODELAY one
    // can wait for the browser's delayed ACK of the one before it, tens of
    // milliseconds between a click and what it did showing on screen.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::warn!(error = %e, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .await?;
    tracker.close();
    let stopped = async {
        hub.stop_all().await;
        tracker.wait().await;
    };
    if tokio::time::timeout(SHUTDOWN_GRACE, stopped).await.is_err() {
        tracing::warn!(
            still_running = tracker.len(),
            "engines did not stop in time"
        );
    }
    Ok(())
}

//! The concurrency dashboard's server: pattern engines that run for real on
//! tokio, and the HTTP API and event stream that show them in a browser.
//!
//! # Layout
//!
//! - [`classroom`]: a classroom session: roles, students' runs, following
//!   the presenter, questions.
//! - [`clock`]: each run's virtual clock (speed, pause, step).
//! - [`engines`]: one folder per family, one file per pattern, all with the
//!   same entry point.
//! - [`run`]: a live instance of a pattern: its thread and paused runtime,
//!   lifecycle, commands.
//! - [`sink`]: what engines record through: the fold of a run's events.
//! - [`source`]: the engines' own source, highlighted and marked when
//!   the server was built, for the page's code pane.
//! - [`hub`]: every run, and the per-frame event stream to viewers.
//! - [`preview`]: the scene a run will open with, drawn before it starts.
//! - [`replay`]: an exported history read back, to be played again.
//! - [`http`]: the JSON API, the SSE endpoint and the embedded browser app,
//!   behind the checks on who may reach them.
//! - [`listen`]: the accept loop: connection limits, timeouts, and a
//!   shutdown that ends on time.
//!
//! [`serve`] puts them together on a listener until a shutdown token fires.

pub mod classroom;
pub mod clock;
pub mod engines;
pub mod http;
pub mod hub;
pub mod listen;
pub mod preview;
pub mod replay;
pub mod run;
pub mod sink;
pub mod source;

pub use http::{Access, AppState, app};

use classroom::Classroom;
use hub::{Hub, HubConfig};
use listen::Limits;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// From the shutdown signal to `serve` returning, whatever the clients and
/// engines do: connections get [`listen::CONNECTION_GRACE`] of it, engines
/// the rest.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_millis(1500);

/// Everything `serve` can be told.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The names the server answers to besides its own addresses.
    pub access: Access,
    pub limits: Limits,
    pub hub: HubConfig,
    /// The classroom session, if the server runs one.
    pub classroom: Option<Arc<Classroom>>,
}

/// Serves the dashboard on `listener` until `shutdown` is cancelled. Then the
/// event streams end, every engine is cancelled (all are children of
/// `shutdown`), and this returns once their tasks have exited, or at
/// [`SHUTDOWN_DEADLINE`] if some have not.
pub async fn serve(listener: TcpListener, shutdown: CancellationToken, config: Config) {
    let tracker = TaskTracker::new();
    let hub = Hub::with_config(shutdown.clone(), tracker.clone(), config.hub);
    if let Some(class) = &config.classroom {
        tracker.spawn(classroom::reclaim(
            Arc::clone(class),
            hub.clone(),
            shutdown.clone(),
        ));
    }
    let router = app(AppState {
        hub: hub.clone(),
        access: config.access,
        classroom: config.classroom,
    });
    listen::accept_until(listener, router, &config.limits, &shutdown).await;
    let deadline = tokio::time::Instant::now() + SHUTDOWN_DEADLINE - listen::CONNECTION_GRACE;
    tracker.close();
    let stopped = async {
        hub.stop_all().await;
        tracker.wait().await;
    };
    if tokio::time::timeout_at(deadline, stopped).await.is_err() {
        tracing::warn!(
            still_running = tracker.len(),
            "engines did not stop in time"
        );
    }
}

//! Commands a viewer sends to a run, and the error body of a refused request.

use crate::flow::StageId;
use crate::pattern::Params;
use crate::tree::NodeId;
use serde::{Deserialize, Serialize};

/// One command for one run (`POST /api/runs/{run}/commands`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Start the engine if it is not running, on a running clock: a pause
    /// belonged to the run before.
    Start,
    /// Cancel the engine; work in flight ends as cancelled.
    Stop,
    /// Start again from nothing with the current parameters and seed.
    Restart,
    /// Back to the preset parameters and the default seed, idle, with the
    /// clock running, ready for the next start.
    Reset,
    /// Freeze the run's virtual clock.
    Pause,
    /// Let the virtual clock run again.
    Resume,
    /// While paused, advance the virtual clock by `ms` (default 100).
    Step {
        #[serde(default)]
        ms: Option<u64>,
    },
    /// Virtual seconds per real second, 0.1 to 10.
    SetSpeed { speed: f64 },
    /// The seed of the run's random outcomes; applies from the next start.
    SetSeed { seed: u64 },
    /// Change some parameters (by name); the others keep their values.
    SetParams { params: Params },
    /// Cancel a node of the run's cancellation tree, and so its subtree.
    Cancel { node: NodeId },
    /// Give a node of the tree a deadline `in_ms` virtual milliseconds from
    /// now, replacing (shortening or extending) the one it had.
    SetDeadline { node: NodeId, in_ms: i64 },
    /// Make a task fail at its next step (`errgroup`).
    Fail { node: NodeId },
    /// Send the service its shutdown signal (`graceful-shutdown`).
    Shutdown,
    /// Stop the sources and let what was accepted flow out (`pipeline`).
    Drain,
    /// Add a subscriber for `topic`, which may hold wildcards: `orders.*`,
    /// `*.created`, `*` (`pub-sub`).
    Subscribe { topic: String },
    /// Remove a subscriber, given its stage (`pub-sub`).
    Unsubscribe { subscriber: StageId },
    /// Make a worker panic with the item in its hands (`supervised`).
    Panic { worker: u32 },
}

/// The JSON body of every 4xx answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable machine-readable code, e.g. `unknown_run`.
    pub error: String,
    /// What was wrong, for a person.
    pub message: String,
}

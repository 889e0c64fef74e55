//! Commands a viewer sends to a run, and the error body of a refused request.

use crate::cancellation::NodeId;
use crate::flow::StageId;
use crate::params::Params;
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

/// What a command acts on, which decides which patterns take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The run itself (its lifecycle, clock, seed and parameters): every
    /// pattern takes these.
    Run,
    /// A node of the cancellation tree: every cancellation pattern takes these.
    Tree,
    /// Something only some patterns have (a shutdown signal, a task that
    /// can fail, a drain, subscribers, workers to panic): the pattern
    /// registry lists which take it.
    Pattern,
}

impl Command {
    /// The command's name as it is written in JSON.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Start => "start",
            Command::Stop => "stop",
            Command::Restart => "restart",
            Command::Reset => "reset",
            Command::Pause => "pause",
            Command::Resume => "resume",
            Command::Step { .. } => "step",
            Command::SetSpeed { .. } => "set_speed",
            Command::SetSeed { .. } => "set_seed",
            Command::SetParams { .. } => "set_params",
            Command::Cancel { .. } => "cancel",
            Command::SetDeadline { .. } => "set_deadline",
            Command::Fail { .. } => "fail",
            Command::Shutdown => "shutdown",
            Command::Drain => "drain",
            Command::Subscribe { .. } => "subscribe",
            Command::Unsubscribe { .. } => "unsubscribe",
            Command::Panic { .. } => "panic",
        }
    }

    /// What the command acts on.
    pub fn target(&self) -> Target {
        match self {
            Command::Start
            | Command::Stop
            | Command::Restart
            | Command::Reset
            | Command::Pause
            | Command::Resume
            | Command::Step { .. }
            | Command::SetSpeed { .. }
            | Command::SetSeed { .. }
            | Command::SetParams { .. } => Target::Run,
            Command::Cancel { .. } | Command::SetDeadline { .. } => Target::Tree,
            Command::Fail { .. }
            | Command::Shutdown
            | Command::Drain
            | Command::Subscribe { .. }
            | Command::Unsubscribe { .. }
            | Command::Panic { .. } => Target::Pattern,
        }
    }

    /// Whether the command changes what happens in the run, so that a
    /// replay needs it: every one but the clock's, which only changes how
    /// fast the same run is shown.
    pub fn shapes_the_run(&self) -> bool {
        !matches!(
            self,
            Command::Pause | Command::Resume | Command::Step { .. } | Command::SetSpeed { .. }
        )
    }
}

/// The JSON body of every 4xx answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// A stable machine-readable code, e.g. `unknown_run`.
    pub error: String,
    /// What was wrong, for a person.
    pub message: String,
}

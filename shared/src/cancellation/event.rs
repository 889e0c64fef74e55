//! What happens in a cancellation run: tokens made and cancelled, tasks
//! that notice and exit, deadlines, a service's shutdown.

use super::{Cause, NodeId, NodeSpec, Phase, TaskEnd};
use serde::{Deserialize, Serialize};

/// One thing that happened in a cancellation tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum CancellationEvent {
    /// A cancellation scope or a task's token was made (a child token of
    /// its parent's). A task counts as submitted from here.
    NodeCreated { node: NodeSpec },
    /// A node's own deadline was set or moved (`None`: removed).
    Deadline {
        node: NodeId,
        deadline_ms: Option<u64>,
    },
    /// `node`'s token was cancelled for `cause`; the cancellation reached
    /// each of `reached` (its descendants that were still live), whose
    /// cause is `parent`.
    TokenCancelled {
        node: NodeId,
        cause: Cause,
        reached: Vec<NodeId>,
    },
    /// A task began its work.
    TaskStarted { node: NodeId },
    /// A task finished step (or tick) number `step`, counting from 1.
    Step { node: NodeId, step: u32 },
    /// A task exited. For a cancelled one this is the moment it noticed.
    TaskEnded { node: NodeId, end: TaskEnd },
    /// A task is blocked for good and will never exit by itself.
    Leaked { node: NodeId },
    /// A line the pattern attaches to a node (`None` clears it).
    Note { node: NodeId, text: Option<String> },
    /// A service's shutdown moved on.
    Phase { phase: Phase },
    /// `jobs` more jobs were accepted into the queue: they count as
    /// submitted now, and each becomes a node (`from_queue`) when a worker
    /// takes it.
    Accepted { jobs: u64 },
    /// `jobs` accepted jobs were given up before any worker took them: they
    /// count as cancelled.
    Abandoned { jobs: u64 },
}

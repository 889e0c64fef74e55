//! What happens in an overload run: tasks offered to a queue, taken by
//! workers, dropped when there is no room.

use crate::task::{DropReason, LoadLevel, Outcome, Task, TaskId};
use serde::{Deserialize, Serialize};

/// One thing that happened to a task between its producer and its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum OverloadEvent {
    /// The producer made a task and is about to offer it to the queue.
    Submitted {
        task: Task,
    },
    /// The task took a free queue slot.
    Enqueued {
        task: TaskId,
    },
    /// The queue was full and the producer is waiting for a slot (backpressure).
    Blocked {
        task: TaskId,
    },
    Dropped {
        task: TaskId,
        reason: DropReason,
    },
    /// A worker took the task off the queue.
    Started {
        task: TaskId,
        worker: u32,
    },
    Finished {
        task: TaskId,
        worker: u32,
        outcome: Outcome,
    },
    /// The task was abandoned because the run stopped.
    Cancelled {
        task: TaskId,
    },
    /// The load monitor read the queue's fill and set the level; from now
    /// on only tasks of at least `min_priority` are accepted.
    LoadSample {
        queued: u32,
        capacity: u32,
        level: LoadLevel,
        min_priority: u8,
    },
}

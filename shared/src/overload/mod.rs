//! The overload family: a producer faster than its workers, a bounded queue
//! between them, and what happens to the tasks that find it full.

mod event;
mod fold;
pub mod params;

pub use event::OverloadEvent;

use crate::task::{DropReason, LoadLevel, Outcome, Task, TaskKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A task that left through the drop bin.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DropRecord {
    pub task: Task,
    pub reason: DropReason,
    pub at_ms: u64,
}

/// A task a worker finished.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DoneRecord {
    pub task: Task,
    pub worker: u32,
    pub outcome: Outcome,
    pub at_ms: u64,
}

/// The adaptive monitor's latest reading.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LoadReading {
    pub queued: u32,
    pub capacity: u32,
    pub level: LoadLevel,
    /// The lowest priority accepted at this level.
    pub min_priority: u8,
    pub at_ms: u64,
}

/// A worker and the task in its hands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Worker {
    pub task: Option<Task>,
    /// When it took the task, to draw progress.
    pub since_ms: u64,
    pub done: u64,
}

/// The overload family's picture: producer, queue, workers, drop bin.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OverloadScene {
    pub capacity: u32,
    /// The task the producer holds: just made, or waiting for a slot.
    pub offering: Option<Task>,
    /// Since when the producer has been waiting for a slot (blocking send).
    pub blocked_since_ms: Option<u64>,
    /// Total virtual time the producer spent waiting for slots.
    pub blocked_ms: u64,
    /// Queued tasks, oldest (next out) first.
    pub queue: Vec<Task>,
    pub workers: Vec<Worker>,
    /// The latest drops, oldest first.
    pub drops: Vec<DropRecord>,
    /// The latest completions, oldest first.
    pub done: Vec<DoneRecord>,
    pub drops_by_kind: BTreeMap<TaskKind, u64>,
    pub queue_full_drops: u64,
    pub policy_drops: u64,
    pub evictions: u64,
    pub load: Option<LoadReading>,
}

/// An overload scene with nothing in it, for views that ask a run of
/// another family for one.
pub(crate) static NO_OVERLOAD: OverloadScene = OverloadScene {
    capacity: 0,
    offering: None,
    blocked_since_ms: None,
    blocked_ms: 0,
    queue: Vec::new(),
    workers: Vec::new(),
    drops: Vec::new(),
    done: Vec::new(),
    drops_by_kind: BTreeMap::new(),
    queue_full_drops: 0,
    policy_drops: 0,
    evictions: 0,
    load: None,
};

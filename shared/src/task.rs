//! The overload family's tasks, how they end, and a run's status: the
//! vocabulary events and scenes share.

use serde::{Deserialize, Serialize};

/// A task's number within its run, from 0.
pub type TaskId = u32;

/// The kinds of task the seed scenarios produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    Email,
    File,
    Report,
    Backup,
    Critical,
    Normal,
    Low,
    Batch,
    Realtime,
    Maintenance,
}

impl TaskKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TaskKind::Email => "email",
            TaskKind::File => "file",
            TaskKind::Report => "report",
            TaskKind::Backup => "backup",
            TaskKind::Critical => "critical",
            TaskKind::Normal => "normal",
            TaskKind::Low => "low",
            TaskKind::Batch => "batch",
            TaskKind::Realtime => "realtime",
            TaskKind::Maintenance => "maintenance",
        }
    }
}

/// A unit of simulated work as viewers see it. Whether it will fail is decided
/// when it is made, from the run's seeded RNG, but is not sent: the room finds
/// out when the worker does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub id: TaskId,
    pub kind: TaskKind,
    /// 0 (lowest) to 9 (highest).
    pub priority: u8,
    /// Virtual milliseconds of work it needs.
    pub work_ms: u32,
}

/// Why a task was dropped instead of queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// The queue had no free slot (a non-blocking send failed).
    QueueFull,
    /// The load policy refused it: at this level only tasks of at least
    /// `min_priority` are accepted.
    Policy { level: LoadLevel, min_priority: u8 },
    /// It was queued, then pushed out to make room for a task of higher priority.
    Evicted { by: TaskId, by_priority: u8 },
}

/// The adaptive pattern's reading of how full its queue is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadLevel {
    Low,
    Medium,
    High,
}

impl LoadLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LoadLevel::Low => "LOW",
            LoadLevel::Medium => "MEDIUM",
            LoadLevel::High => "HIGH",
        }
    }
}

/// How a worker's attempt at a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Completed,
    Failed,
}

/// Where a run is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Made (or reset) and not started.
    Idle,
    Running,
    /// Every task reached an outcome.
    Finished,
    /// Stopped by a viewer; what was in flight was cancelled.
    Stopped,
}

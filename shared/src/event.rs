//! Events: everything that happens in a run, in the order it happened.

use crate::flow::{ChannelId, ChannelSpec, ItemEnd, ItemId, ItemSpec, StageId, StageSpec};
use crate::pattern::Params;
use crate::resilience::{AttemptResult, CircuitState, JobOutcome, JobSpec};
use crate::scene::Scene;
use crate::task::{DropReason, LoadLevel, Outcome, RunStatus, Task, TaskId};
use crate::tree::{Cause, NodeId, NodeSpec, Phase, TaskEnd};
use serde::{Deserialize, Serialize};

/// One thing that happened in a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The run starts over from nothing with these settings.
    Reset {
        params: Params,
        seed: u64,
        capacity: u32,
        workers: u32,
    },
    Status {
        status: RunStatus,
    },
    Clock {
        speed: f64,
        paused: bool,
    },
    /// Before Start: the scene the run will open with (its tree and
    /// deadlines, stages and channels, breaker, jobs), nothing moving yet.
    Preview {
        scene: Scene,
    },
    /// A parameter changed while the engine kept running.
    Param {
        name: String,
        value: f64,
    },
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
    /// A cancellation scope or a task's token was made (a child token of
    /// its parent's). A task counts as submitted from here.
    NodeCreated {
        node: NodeSpec,
    },
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
    TaskStarted {
        node: NodeId,
    },
    /// A task finished step (or tick) number `step`, counting from 1.
    Step {
        node: NodeId,
        step: u32,
    },
    /// A task exited. For a cancelled one this is the moment it noticed.
    TaskEnded {
        node: NodeId,
        end: TaskEnd,
    },
    /// A task is blocked for good and will never exit by itself.
    Leaked {
        node: NodeId,
    },
    /// A line the pattern attaches to a node (`None` clears it).
    Note {
        node: NodeId,
        text: Option<String>,
    },
    /// A service's shutdown moved on.
    Phase {
        phase: Phase,
    },
    /// `jobs` more jobs were accepted into the queue: they count as
    /// submitted now, and each becomes a node (`from_queue`) when a worker
    /// takes it.
    Accepted {
        jobs: u64,
    },
    /// `jobs` accepted jobs were given up before any worker took them: they
    /// count as cancelled.
    Abandoned {
        jobs: u64,
    },
    /// A job was made: a call (`circuit-breaker`), a client's request
    /// (`retry-backoff`) or a task for the pool. It counts as submitted.
    JobSubmitted {
        job: JobSpec,
    },
    /// A pool worker took the job.
    JobPicked {
        job: TaskId,
        worker: u32,
    },
    /// Attempt number `attempt` (from 1) went to the downstream; `trial`:
    /// it is the one call a half-open breaker lets through.
    AttemptStarted {
        job: TaskId,
        attempt: u32,
        trial: bool,
    },
    /// The attempt came back. `counted`: the breaker counted its result (a
    /// call that went out before the breaker's latest change is not counted).
    AttemptEnded {
        job: TaskId,
        attempt: u32,
        result: AttemptResult,
        counted: bool,
    },
    /// The breaker refused attempt number `attempt` at once, being `state`.
    AttemptRejected {
        job: TaskId,
        attempt: u32,
        state: CircuitState,
    },
    /// After a failed attempt the job waits `delay_ms`; `backoff_ms` is the
    /// policy's delay before jitter.
    Backoff {
        job: TaskId,
        delay_ms: u64,
        backoff_ms: u64,
    },
    JobEnded {
        job: TaskId,
        outcome: JobOutcome,
    },
    /// The breaker's count of consecutive failures changed.
    BreakerCount {
        failures: u32,
    },
    /// The breaker changed state.
    BreakerMoved {
        from: CircuitState,
        to: CircuitState,
    },
    /// A stage of the flow, declared (or declared again, replacing it).
    StageAdded {
        stage: StageSpec,
    },
    /// The stage stopped: its loop ended, or it unsubscribed.
    StageStopped {
        stage: StageId,
    },
    ChannelAdded {
        channel: ChannelSpec,
    },
    /// Its sender closed it: no more items will come.
    ChannelClosed {
        channel: ChannelId,
    },
    /// An item was made at `stage`. It counts as submitted.
    ItemMade {
        item: ItemSpec,
        stage: StageId,
    },
    /// The item went into the channel's buffer.
    ItemQueued {
        item: ItemId,
        channel: ChannelId,
    },
    /// The channel was full: the item's sender waits for a slot.
    ItemBlocked {
        item: ItemId,
        channel: ChannelId,
    },
    /// A worker of `stage` took the item.
    ItemTaken {
        item: ItemId,
        stage: StageId,
        worker: u32,
    },
    /// The item waits in the stage's line; `on`: the item whose call it
    /// shares (`singleflight`).
    ItemWaiting {
        item: ItemId,
        stage: StageId,
        on: Option<ItemId>,
    },
    ItemEnded {
        item: ItemId,
        end: ItemEnd,
    },
    /// The stage's pool now has `workers` workers: new ones join idle, the
    /// last ones leave once they put their item down.
    WorkersSet {
        stage: StageId,
        workers: u32,
    },
    /// A worker panicked; its supervisor caught it and started a new one.
    WorkerPanicked {
        stage: StageId,
        worker: u32,
    },
    /// A level the stage reports: tokens in a bucket, free permits.
    Gauge {
        stage: StageId,
        value: f64,
        max: f64,
        /// What it counts, in words, for its label.
        #[serde(default)]
        label: String,
    },
    /// A stage sent one message on; the items that carry it are made where
    /// it is copied (a publisher's message, copied by the broker).
    Sent {
        stage: StageId,
    },
    /// The sources were told to stop; what was accepted drains.
    Draining,
}

/// An event with its place in the run: a sequence number (gap-free, never
/// reused, not even across resets) and the virtual time it happened at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub seq: u64,
    pub at_ms: u64,
    pub event: Event,
}

//! What happens in a failure-and-recovery run: jobs, their attempts and
//! waits, and the breaker between them and the downstream.

use super::{AttemptResult, CircuitState, JobOutcome, JobSpec};
use crate::task::TaskId;
use serde::{Deserialize, Serialize};

/// One thing that happened to a job, an attempt or the breaker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ResilienceEvent {
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
}

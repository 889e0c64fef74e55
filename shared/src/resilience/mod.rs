//! The failure-and-recovery family's picture: jobs that call a downstream
//! which sometimes fails, the retries each job makes, and the circuit breaker
//! that stands between the callers and the downstream.
//!
//! A job is one unit of the run's work (a call in `circuit-breaker`, a
//! client's request in `retry-backoff`, a task in `resilient-pool`) and is
//! what the counters count. Each job makes one or more attempts; a failed
//! attempt whose kind is retryable is followed by a backoff wait and another
//! attempt. The breaker reports every change of state as an event, so the
//! fold keeps each transition, however short the state lasted.

mod event;
mod fold;
pub mod params;

pub use event::ResilienceEvent;

use crate::task::TaskId;
use serde::{Deserialize, Serialize};

/// How many transitions the breaker's history strip remembers.
pub const HISTORY: usize = 24;
/// How many jobs a scene keeps: every live one, and the latest ended ones up
/// to this many in all, so an endless run does not grow without end.
pub const MAX_JOBS: usize = 96;

/// The ways a call to the downstream can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    Timeout,
    Network,
    Resource,
    Processing,
    Validation,
}

impl FailureKind {
    /// Every kind, in the order of a failure-type choice and of
    /// [`ResilienceScene::failures`].
    pub const ALL: [FailureKind; 5] = [
        FailureKind::Timeout,
        FailureKind::Network,
        FailureKind::Resource,
        FailureKind::Processing,
        FailureKind::Validation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Timeout => "timeout",
            FailureKind::Network => "network",
            FailureKind::Resource => "resource",
            FailureKind::Processing => "processing",
            FailureKind::Validation => "validation",
        }
    }

    /// Whether trying again can help. A timeout, a network fault or an
    /// exhausted resource may pass; a processing or validation error will
    /// happen again the same way, so retrying only adds load.
    pub fn retryable(self) -> bool {
        matches!(
            self,
            FailureKind::Timeout | FailureKind::Network | FailureKind::Resource
        )
    }

    /// The kind at `index` of [`FailureKind::ALL`] (a choice parameter's value).
    pub fn from_index(index: usize) -> Option<FailureKind> {
        FailureKind::ALL.get(index).copied()
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The circuit breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CircuitState {
    /// Calls go through; consecutive failures are counted.
    Closed,
    /// Calls are refused at once until the reset timeout passes.
    Open,
    /// One trial call goes through; its result decides.
    HalfOpen,
}

impl CircuitState {
    /// The state as a key, for data attributes.
    pub fn key(self) -> &'static str {
        match self {
            CircuitState::Closed => "closed",
            CircuitState::Open => "open",
            CircuitState::HalfOpen => "half-open",
        }
    }

    /// The state as the room reads it.
    pub fn label(self) -> &'static str {
        match self {
            CircuitState::Closed => "CLOSED",
            CircuitState::Open => "OPEN",
            CircuitState::HalfOpen => "HALF-OPEN",
        }
    }

    /// Why the breaker moves from `from` to `self`, in words.
    pub fn reason(self, from: CircuitState) -> &'static str {
        match (from, self) {
            (CircuitState::Closed, CircuitState::Open) => "failure threshold reached",
            (CircuitState::Open, CircuitState::HalfOpen) => "reset timeout passed",
            (CircuitState::HalfOpen, CircuitState::Closed) => "trial call succeeded",
            (CircuitState::HalfOpen, CircuitState::Open) => "trial call failed",
            _ => "changed",
        }
    }
}

/// A job as it is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobSpec {
    pub id: TaskId,
    /// What the room calls it: "call 17", "client 3", "flaky-1".
    pub label: String,
    /// The most retries this job may make after its first attempt.
    pub max_retries: u32,
    /// Each attempt's own time limit, if it has one.
    pub timeout_ms: Option<u32>,
    /// How this kind of job behaves, e.g. "40 % network failures, 200-500 ms".
    pub about: Option<String>,
}

/// How one attempt came back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptResult {
    Succeeded,
    Failed { kind: FailureKind },
}

/// Why a job gave up after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GiveUp {
    /// The failure's kind is not worth retrying.
    NotRetryable,
    /// It failed on its last allowed attempt.
    OutOfRetries,
}

/// How a job ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobOutcome {
    /// An attempt succeeded; after more than one, the job recovered.
    Succeeded { attempts: u32 },
    /// It gave up after `attempts` attempts; `kind` was the last failure.
    Failed {
        attempts: u32,
        kind: FailureKind,
        reason: GiveUp,
    },
    /// The breaker refused its next attempt, after `attempts` that went through.
    Rejected { attempts: u32 },
    /// The run's overall deadline passed first.
    TimedOut { attempts: u32 },
    /// The run was stopped first.
    Cancelled,
}

impl JobOutcome {
    pub fn key(self) -> &'static str {
        match self {
            JobOutcome::Succeeded { attempts } if attempts > 1 => "recovered",
            JobOutcome::Succeeded { .. } => "succeeded",
            JobOutcome::Failed { .. } => "failed",
            JobOutcome::Rejected { .. } => "rejected",
            JobOutcome::TimedOut { .. } => "timed_out",
            JobOutcome::Cancelled => "cancelled",
        }
    }
}

/// The wait after a failed attempt, before the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Wait {
    /// How long the job waits.
    pub delay_ms: u64,
    /// The policy's delay before jitter (equal to `delay_ms` without jitter).
    pub backoff_ms: u64,
}

/// One attempt of a job, as the fold keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// Its number within the job, from 1.
    pub n: u32,
    pub start_ms: u64,
    /// When it came back (or was refused); `None` while it is out.
    pub end_ms: Option<u64>,
    pub result: Option<AttemptResult>,
    /// The single call a half-open breaker lets through.
    pub trial: bool,
    /// The breaker refused it at once, in this state.
    pub rejected: Option<CircuitState>,
    /// Whether the breaker counted its result.
    pub counted: bool,
    /// The backoff that followed it.
    pub wait: Option<Wait>,
}

/// A job and its attempts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    pub spec: JobSpec,
    pub submitted_ms: u64,
    /// The pool worker that has (or had) it.
    pub worker: Option<u32>,
    pub attempts: Vec<Attempt>,
    pub outcome: Option<JobOutcome>,
    pub ended_ms: Option<u64>,
}

impl Job {
    pub fn id(&self) -> TaskId {
        self.spec.id
    }

    /// Attempts that reached the downstream.
    pub fn calls(&self) -> u32 {
        self.attempts
            .iter()
            .filter(|a| a.rejected.is_none())
            .count() as u32
    }
}

/// One change of the breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub from: CircuitState,
    pub to: CircuitState,
    pub at_ms: u64,
    /// Consecutive failures counted when it happened.
    pub failures: u32,
}

/// The last trial call's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialRecord {
    pub job: TaskId,
    pub succeeded: bool,
    pub at_ms: u64,
}

/// The circuit breaker as viewers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakerScene {
    pub state: CircuitState,
    /// When it entered its state: an open breaker goes half-open its reset
    /// timeout after this.
    pub since_ms: u64,
    /// Consecutive failures counted toward the threshold.
    pub failures: u32,
    /// The job whose trial call is out (half-open).
    pub trial: Option<TaskId>,
    pub last_trial: Option<TrialRecord>,
    /// The latest transitions, oldest first.
    pub history: Vec<Transition>,
    /// Every transition since the run started.
    pub transitions: u64,
    /// Calls refused in all, and since it last opened.
    pub rejected: u64,
    pub rejected_since_open: u64,
}

impl Default for BreakerScene {
    fn default() -> Self {
        BreakerScene {
            state: CircuitState::Closed,
            since_ms: 0,
            failures: 0,
            trial: None,
            last_trial: None,
            history: Vec::new(),
            transitions: 0,
            rejected: 0,
            rejected_since_open: 0,
        }
    }
}

/// The family's scene.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResilienceScene {
    /// The breaker, for patterns that have one.
    pub breaker: Option<BreakerScene>,
    /// Every live job and the latest ended ones, in the order they were made.
    pub jobs: Vec<Job>,
    /// Each pool worker's job in hand.
    pub workers: Vec<Option<TaskId>>,
    /// Failed attempts by kind, in the order of [`FailureKind::ALL`].
    pub failures: [u64; 5],
    /// Attempts that reached the downstream.
    pub attempts: u64,
    /// Attempts after a job's first.
    pub retries: u64,
    /// Jobs that succeeded after more than one attempt.
    pub recovered: u64,
}

impl ResilienceScene {
    /// The breaker closed, the workers idle and the jobs made so far
    /// waiting: no call made yet.
    pub fn blueprint(&self) -> ResilienceScene {
        ResilienceScene {
            breaker: self.breaker.as_ref().map(|_| BreakerScene::default()),
            jobs: self
                .jobs
                .iter()
                .map(|j| Job {
                    spec: j.spec.clone(),
                    submitted_ms: 0,
                    worker: None,
                    attempts: Vec::new(),
                    outcome: None,
                    ended_ms: None,
                })
                .collect(),
            workers: vec![None; self.workers.len()],
            ..Default::default()
        }
    }

    /// An empty scene, with a closed breaker if the pattern has one.
    pub fn new(with_breaker: bool, workers: u32) -> ResilienceScene {
        ResilienceScene {
            breaker: with_breaker.then(BreakerScene::default),
            workers: vec![None; workers as usize],
            ..ResilienceScene::default()
        }
    }

    pub fn job(&self, id: TaskId) -> Option<&Job> {
        self.jobs
            .binary_search_by_key(&id, Job::id)
            .ok()
            .map(|i| &self.jobs[i])
    }

    fn job_mut(&mut self, id: TaskId) -> Option<&mut Job> {
        let i = self.jobs.binary_search_by_key(&id, Job::id).ok()?;
        Some(&mut self.jobs[i])
    }

    /// Failed attempts of `kind`.
    pub fn failures_of(&self, kind: FailureKind) -> u64 {
        self.failures[kind.index()]
    }

    /// Jobs made and not yet ended.
    pub fn jobs_in_flight(&self) -> u64 {
        self.jobs.iter().filter(|j| j.outcome.is_none()).count() as u64
    }

    pub(crate) fn submit(&mut self, spec: JobSpec, at_ms: u64) {
        if self.jobs.len() >= MAX_JOBS
            && let Some(i) = self.jobs.iter().position(|j| j.outcome.is_some())
        {
            self.jobs.remove(i);
        }
        let job = Job {
            spec,
            submitted_ms: at_ms,
            worker: None,
            attempts: Vec::new(),
            outcome: None,
            ended_ms: None,
        };
        crate::sorted::insert_by_id(&mut self.jobs, job, Job::id);
    }

    pub(crate) fn pick(&mut self, job: TaskId, worker: u32) {
        if let Some(j) = self.job_mut(job) {
            j.worker = Some(worker);
        }
        if let Some(slot) = self.workers.get_mut(worker as usize) {
            *slot = Some(job);
        }
    }

    pub(crate) fn start(&mut self, job: TaskId, n: u32, trial: bool, at_ms: u64) {
        let Some(j) = self.job_mut(job) else { return };
        j.attempts.push(Attempt {
            n,
            start_ms: at_ms,
            end_ms: None,
            result: None,
            trial,
            rejected: None,
            counted: false,
            wait: None,
        });
        self.attempts += 1;
        if n > 1 {
            self.retries += 1;
        }
        if trial && let Some(b) = &mut self.breaker {
            b.trial = Some(job);
        }
    }

    pub(crate) fn finish(
        &mut self,
        job: TaskId,
        n: u32,
        result: AttemptResult,
        counted: bool,
        at_ms: u64,
    ) {
        if let AttemptResult::Failed { kind } = result {
            self.failures[kind.index()] += 1;
        }
        if let Some(a) = self
            .job_mut(job)
            .and_then(|j| j.attempts.iter_mut().rev().find(|a| a.n == n))
        {
            a.end_ms = Some(at_ms);
            a.result = Some(result);
            a.counted = counted;
        }
        if let Some(b) = &mut self.breaker
            && b.trial == Some(job)
        {
            b.trial = None;
            b.last_trial = Some(TrialRecord {
                job,
                succeeded: result == AttemptResult::Succeeded,
                at_ms,
            });
        }
    }

    pub(crate) fn reject(&mut self, job: TaskId, n: u32, state: CircuitState, at_ms: u64) {
        if let Some(j) = self.job_mut(job) {
            j.attempts.push(Attempt {
                n,
                start_ms: at_ms,
                end_ms: Some(at_ms),
                result: None,
                trial: false,
                rejected: Some(state),
                counted: false,
                wait: None,
            });
        }
        if let Some(b) = &mut self.breaker {
            b.rejected += 1;
            b.rejected_since_open += 1;
        }
    }

    pub(crate) fn wait(&mut self, job: TaskId, wait: Wait) {
        if let Some(a) = self.job_mut(job).and_then(|j| j.attempts.last_mut()) {
            a.wait = Some(wait);
        }
    }

    /// Records a job's end. Returns whether it had not ended before.
    pub(crate) fn end(&mut self, job: TaskId, outcome: JobOutcome, at_ms: u64) -> bool {
        let Some(j) = self.job_mut(job) else {
            return false;
        };
        if j.outcome.is_some() {
            return false;
        }
        j.outcome = Some(outcome);
        j.ended_ms = Some(at_ms);
        let worker = j.worker;
        if matches!(outcome, JobOutcome::Succeeded { attempts } if attempts > 1) {
            self.recovered += 1;
        }
        if let Some(slot) = worker.and_then(|w| self.workers.get_mut(w as usize))
            && *slot == Some(job)
        {
            *slot = None;
        }
        if let Some(b) = &mut self.breaker
            && b.trial == Some(job)
        {
            b.trial = None;
        }
        true
    }

    pub(crate) fn count(&mut self, failures: u32) {
        if let Some(b) = &mut self.breaker {
            b.failures = failures;
        }
    }

    pub(crate) fn moved(&mut self, from: CircuitState, to: CircuitState, at_ms: u64) {
        let b = self.breaker.get_or_insert_with(BreakerScene::default);
        b.state = to;
        b.since_ms = at_ms;
        b.transitions += 1;
        if to == CircuitState::Open {
            b.rejected_since_open = 0;
        }
        if b.history.len() == HISTORY {
            b.history.remove(0);
        }
        b.history.push(Transition {
            from,
            to,
            at_ms,
            failures: b.failures,
        });
    }
}

#[cfg(test)]
mod tests;

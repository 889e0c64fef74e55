//! How the failure-and-recovery family reads on screen: the breaker's
//! states and moves in words, the countdown to half-open, each job's
//! outcome, the geometry of the attempt timelines, the stream of recent
//! calls, the pool's workers, the downstream's settings and the rates.
//!
//! Kept apart from the components so that what the room reads ("recovered
//! after 3 attempts", "half-open in 12.4 s", "3 / 5 failures") and where a
//! wait is drawn are tested natively.

use super::present::{duration_text, trim_number};
use shared::ParamSet;
use shared::resilience::params::BreakerParams;
use shared::resilience::{Attempt, AttemptResult, GiveUp, Transition};
use shared::{
    BreakerScene, CircuitState, Counters, FailureKind, Job, JobOutcome, Params, ResilienceScene,
    TaskId,
};

/// How many recent calls the circuit breaker's stream shows.
pub const RECENT_CALLS: usize = 40;

/// The width of one bar of the "attempts per 100 ms" strip.
pub const BUCKET_MS: u64 = 100;

/// The most failure pips drawn; a larger threshold is still counted in words.
pub const MAX_PIPS: u32 = 20;

/// The three states in the order the diagram draws them, left to right.
pub const STATES: [CircuitState; 3] = [
    CircuitState::Closed,
    CircuitState::Open,
    CircuitState::HalfOpen,
];

/// Every move the breaker can make, as the diagram's arrows.
pub const MOVES: [(CircuitState, CircuitState); 4] = [
    (CircuitState::Closed, CircuitState::Open),
    (CircuitState::Open, CircuitState::HalfOpen),
    (CircuitState::HalfOpen, CircuitState::Open),
    (CircuitState::HalfOpen, CircuitState::Closed),
];

/// The breaker's settings, from the run's parameters (each at its preset
/// until the run reports it).
pub fn breaker(params: &Params) -> BreakerParams {
    BreakerParams::read(params)
}

/// The breaker's failure threshold, from the run's parameters.
pub fn threshold(params: &Params) -> u32 {
    breaker(params).threshold.max(1)
}

/// The breaker's reset timeout in milliseconds, from the run's parameters.
pub fn reset_ms(params: &Params) -> f64 {
    breaker(params).reset_ms.as_millis() as f64
}

/// A virtual instant as the history strip prints it: "12.3 s".
pub fn clock_text(ms: f64) -> String {
    format!("{:.1} s", ms.max(0.0) / 1000.0)
}

/// "1 failure", "5 failures"; "1 attempt", "3 attempts".
fn count_of(n: u64, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

// ---------- The breaker ----------

/// What a state means, in one line under the diagram.
pub fn state_about(state: CircuitState) -> &'static str {
    match state {
        CircuitState::Closed => "calls go through; failures in a row are counted",
        CircuitState::Open => "calls are refused at once, without calling the downstream",
        CircuitState::HalfOpen => "one trial call goes through; its result decides",
    }
}

/// A move as a key, for data attributes: "closed->open".
pub fn move_key(from: CircuitState, to: CircuitState) -> String {
    format!("{}->{}", from.key(), to.key())
}

/// What moves the breaker along an arrow of the diagram.
pub fn arrow_label(from: CircuitState, to: CircuitState, threshold: u32) -> String {
    use CircuitState::{Closed, HalfOpen, Open};
    match (from, to) {
        (Closed, Open) => format!("{} in a row", count_of(u64::from(threshold), "failure")),
        (Open, HalfOpen) => "after reset timeout".to_owned(),
        (HalfOpen, Closed) => "trial ok".to_owned(),
        (HalfOpen, Open) => "trial failed".to_owned(),
        _ => to.reason(from).to_owned(),
    }
}

/// A short label broken into two lines at the space nearest its middle,
/// for the diagram's arrows; a single word stays on the first line.
pub fn two_lines(label: &str) -> (String, String) {
    let middle = label.len() / 2;
    let split = label
        .match_indices(' ')
        .map(|(i, _)| i)
        .min_by_key(|i| i.abs_diff(middle));
    match split {
        Some(i) => (label[..i].to_owned(), label[i + 1..].to_owned()),
        None => (label.to_owned(), String::new()),
    }
}

/// The failure count toward the threshold, and a note: ("3 / 5 failures",
/// "in a row"). Failed trials keep counting past the threshold, where
/// "7 / 5" would read as a mistake: ("7 failures", "in a row · threshold 5").
pub fn failures_text(failures: u32, threshold: u32) -> (String, String) {
    let noun = if threshold == 1 {
        "failure"
    } else {
        "failures"
    };
    if failures > threshold {
        (
            format!("{failures} failures"),
            format!("in a row · threshold {threshold}"),
        )
    } else {
        (
            format!("{failures} / {threshold} {noun}"),
            "in a row".to_owned(),
        )
    }
}

/// One pip per failure the threshold allows (at most [`MAX_PIPS`]), lit
/// for the failures counted so far.
pub fn pips(failures: u32, threshold: u32) -> Vec<bool> {
    let shown = threshold.clamp(1, MAX_PIPS);
    (0..shown).map(|i| i < failures).collect()
}

/// When an open breaker goes half-open: `reset_ms` after it opened.
pub fn opened_at(breaker: &BreakerScene) -> Option<u64> {
    (breaker.state == CircuitState::Open).then_some(breaker.since_ms)
}

/// How long a breaker that opened at `since_ms` has left at `now` before it
/// goes half-open, never negative.
pub fn countdown_ms(since_ms: u64, reset_ms: f64, now: f64) -> f64 {
    (since_ms as f64 + reset_ms - now).max(0.0)
}

/// The share of the reset timeout still to run, 1.0 (just opened) to 0.0.
pub fn countdown_share(left_ms: f64, reset_ms: f64) -> f64 {
    if reset_ms <= 0.0 {
        0.0
    } else {
        (left_ms / reset_ms).clamp(0.0, 1.0)
    }
}

/// The countdown in words.
pub fn countdown_text(left_ms: f64) -> String {
    if left_ms > 0.0 {
        format!("half-open in {:.1} s", left_ms / 1000.0)
    } else {
        "reset timeout passed: going half-open".to_owned()
    }
}

/// A job's label, or its number when the scene no longer keeps it.
pub fn job_label(scene: &ResilienceScene, id: TaskId) -> String {
    scene
        .job(id)
        .map_or_else(|| format!("#{id}"), |j| j.spec.label.clone())
}

/// The trial call in half-open, in words; `None` in the other states.
pub fn trial_text(scene: &ResilienceScene, breaker: &BreakerScene) -> Option<String> {
    (breaker.state == CircuitState::HalfOpen).then(|| match breaker.trial {
        Some(id) => format!("trial call: {} is out…", job_label(scene, id)),
        None => "waiting for a call: the next one is the trial".to_owned(),
    })
}

/// The latest trial's result: its tone key and its words.
pub fn last_trial(scene: &ResilienceScene, breaker: &BreakerScene) -> Option<(bool, String)> {
    breaker.last_trial.map(|t| {
        let result = if t.succeeded {
            "✓ succeeded"
        } else {
            "✗ failed"
        };
        let text = format!(
            "last trial: {} {result} at {}",
            job_label(scene, t.job),
            clock_text(t.at_ms as f64)
        );
        (t.succeeded, text)
    })
}

/// One entry of the history strip.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HistoryEntry {
    /// Which transition of the run this is, from 1: unique while the run
    /// lasts, so a list keyed on it draws each entry once.
    pub n: u64,
    pub from: CircuitState,
    pub to: CircuitState,
    /// "closed->open".
    pub key: String,
    /// "12.3 s".
    pub at: String,
    /// "5 failures", "reset timeout", "trial ok", "trial failed".
    pub why: String,
}

impl HistoryEntry {
    /// The whole entry in words: "12.3 s · CLOSED → OPEN · 5 failures".
    pub fn text(&self) -> String {
        format!(
            "{} · {} → {} · {}",
            self.at,
            self.from.label(),
            self.to.label(),
            self.why
        )
    }
}

/// Why one recorded transition happened, in a word or two.
fn why(t: &Transition) -> String {
    use CircuitState::{Closed, HalfOpen, Open};
    match (t.from, t.to) {
        (Closed, Open) => count_of(u64::from(t.failures), "failure"),
        (Open, HalfOpen) => "reset timeout".to_owned(),
        (HalfOpen, Closed) => "trial ok".to_owned(),
        (HalfOpen, Open) => "trial failed".to_owned(),
        (from, to) => to.reason(from).to_owned(),
    }
}

/// The history strip: every remembered transition, oldest first.
pub fn history(breaker: &BreakerScene) -> Vec<HistoryEntry> {
    let first = breaker
        .transitions
        .saturating_sub(breaker.history.len() as u64);
    breaker
        .history
        .iter()
        .enumerate()
        .map(|(i, t)| HistoryEntry {
            n: first + i as u64 + 1,
            from: t.from,
            to: t.to,
            key: move_key(t.from, t.to),
            at: clock_text(t.at_ms as f64),
            why: why(t),
        })
        .collect()
}

/// The moves made since the viewer had seen `seen` transitions, as keys,
/// oldest first: the arrows to flash. A count below `seen` means the run
/// started over, and everything it remembers is new.
pub fn fresh_moves(breaker: &BreakerScene, seen: u64) -> Vec<String> {
    let seen = if breaker.transitions < seen { 0 } else { seen };
    history(breaker)
        .into_iter()
        .filter(|e| e.n > seen)
        .map(|e| e.key)
        .collect()
}

// ---------- Jobs, attempts and outcomes ----------

/// A job's outcome as a key: the outcome's, or "running".
pub fn outcome_key(job: &Job) -> &'static str {
    job.outcome.map_or("running", JobOutcome::key)
}

/// The glyph of an outcome key: never the colour alone.
pub fn outcome_glyph(key: &str) -> &'static str {
    match key {
        "succeeded" => "✓",
        "recovered" => "↻",
        "failed" => "✗",
        "rejected" => "⊘",
        "timed_out" => "◷",
        "cancelled" => "■",
        _ => "…",
    }
}

/// How a job ended, in words. `refused_in` is the state in which the
/// breaker refused its last attempt, for a rejected job.
pub fn outcome_text(outcome: JobOutcome, refused_in: Option<CircuitState>) -> String {
    match outcome {
        JobOutcome::Succeeded { attempts } if attempts > 1 => {
            format!("recovered after {attempts} attempts")
        }
        JobOutcome::Succeeded { .. } => "succeeded".to_owned(),
        JobOutcome::Failed {
            kind,
            reason: GiveUp::NotRetryable,
            ..
        } => format!("failed: {} is not retryable", kind.as_str()),
        JobOutcome::Failed {
            attempts,
            reason: GiveUp::OutOfRetries,
            ..
        } => format!(
            "failed: out of retries after {}",
            count_of(u64::from(attempts), "attempt")
        ),
        JobOutcome::Rejected { attempts } => {
            let state = refused_in.unwrap_or(CircuitState::Open);
            let state = state.label().to_lowercase();
            match attempts {
                0 => format!("rejected: breaker {state}"),
                n => format!(
                    "rejected: breaker {state} after {}",
                    count_of(u64::from(n), "attempt")
                ),
            }
        }
        JobOutcome::TimedOut { attempts: 0 } => "timed out".to_owned(),
        JobOutcome::TimedOut { attempts } => {
            format!(
                "timed out after {}",
                count_of(u64::from(attempts), "attempt")
            )
        }
        JobOutcome::Cancelled => "cancelled".to_owned(),
    }
}

/// Where a job is, in words: its outcome once it ended, otherwise what it
/// is doing.
pub fn job_status_text(job: &Job) -> String {
    if let Some(outcome) = job.outcome {
        let refused_in = job.attempts.last().and_then(|a| a.rejected);
        return outcome_text(outcome, refused_in);
    }
    match job.attempts.last() {
        None => "waiting to start".to_owned(),
        Some(a) if a.end_ms.is_none() => format!("calling: attempt {}", a.n),
        Some(a) => match a.wait {
            Some(w) => format!(
                "backing off {} before attempt {}",
                duration_text(w.delay_ms as f64),
                a.n + 1
            ),
            None => format!("attempt {} came back", a.n),
        },
    }
}

/// Whether a failure of `kind` is tried again, as the timelines label it.
pub fn retry_label(kind: FailureKind) -> &'static str {
    if kind.retryable() {
        "retryable"
    } else {
        "not retried"
    }
}

/// How an attempt came back, as a key: "succeeded", "failed",
/// "rejected" (refused by the breaker) or "out" (no answer yet).
pub fn attempt_key(attempt: &Attempt) -> &'static str {
    if attempt.rejected.is_some() {
        return "rejected";
    }
    match attempt.result {
        Some(AttemptResult::Succeeded) => "succeeded",
        Some(AttemptResult::Failed { .. }) => "failed",
        None => "out",
    }
}

/// The glyph of an attempt key.
pub fn attempt_glyph(key: &str) -> &'static str {
    match key {
        "succeeded" => "✓",
        "failed" => "✗",
        "rejected" => "⊘",
        _ => "…",
    }
}

/// The failure kind of an attempt that failed.
pub fn attempt_kind(attempt: &Attempt) -> Option<FailureKind> {
    match attempt.result {
        Some(AttemptResult::Failed { kind }) => Some(kind),
        _ => None,
    }
}

/// An attempt in words, for its tooltip: "attempt 2: ✗ network (retryable)".
pub fn attempt_text(attempt: &Attempt) -> String {
    let key = attempt_key(attempt);
    let what = match (attempt_kind(attempt), attempt.rejected) {
        (_, Some(state)) => format!("refused by the {} breaker", state.label()),
        (Some(kind), None) => format!("failed: {} ({})", kind.as_str(), retry_label(kind)),
        (None, None) if key == "succeeded" => "succeeded".to_owned(),
        (None, None) => "waiting for the answer".to_owned(),
    };
    let trial = if attempt.trial { " (trial call)" } else { "" };
    format!(
        "attempt {}{trial}: {} {what}",
        attempt.n,
        attempt_glyph(key)
    )
}

/// Each failure of a job in order, with whether it was retried:
/// "timeout · retryable", "processing · not retried", "refused: OPEN".
/// The same failure several times in a row reads once, counted:
/// "resource · retryable ×3".
pub fn failure_trail(job: &Job) -> Vec<String> {
    let each = job
        .attempts
        .iter()
        .filter_map(|a| match (attempt_kind(a), a.rejected) {
            (_, Some(state)) => Some(format!("refused: {}", state.label())),
            (Some(kind), None) => Some(format!("{} · {}", kind.as_str(), retry_label(kind))),
            (None, None) => None,
        });
    let mut runs: Vec<(String, u32)> = Vec::new();
    for step in each {
        match runs.last_mut() {
            Some((last, n)) if *last == step => *n += 1,
            _ => runs.push((step, 1)),
        }
    }
    runs.into_iter()
        .map(|(step, n)| if n > 1 { format!("{step} ×{n}") } else { step })
        .collect()
}

// ---------- Timelines ----------

/// A shared time axis for the timelines: `len_ms` from `start_ms`. Its
/// length is a round value that grows in steps, so what is drawn stays
/// put while time passes instead of shrinking a little every frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Axis {
    pub start_ms: u64,
    pub len_ms: u64,
}

/// A piece of a timeline, as percentages of the axis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    pub left: f64,
    pub width: f64,
}

impl Span {
    /// As an inline style.
    pub fn style(&self) -> String {
        format!("left: {:.2}%; width: {:.2}%", self.left, self.width)
    }
}

/// The round lengths an axis takes, per power of ten.
const NICE: [f64; 8] = [1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0];

/// Room kept after the latest instant, so it is not drawn on the edge.
const HEADROOM: f64 = 1.08;

/// The shortest axis: a second.
const MIN_AXIS_MS: f64 = 1000.0;

impl Axis {
    /// The axis from `start_ms` that holds `latest_ms` with some room, its
    /// length a round value (1, 1.5, 2, 3, 4, 5, 6 or 8 times a power of ten).
    pub fn fit(start_ms: u64, latest_ms: u64) -> Axis {
        let need = latest_ms.saturating_sub(start_ms) as f64 * HEADROOM;
        Axis::round_up(start_ms, need)
    }

    /// The shortest round axis from `start_ms` at least `need` long.
    fn round_up(start_ms: u64, need: f64) -> Axis {
        let need = need.max(MIN_AXIS_MS);
        let mut scale = 10f64.powi(need.log10().floor() as i32);
        loop {
            if let Some(len) = NICE.iter().map(|f| f * scale).find(|len| *len >= need) {
                return Axis {
                    start_ms,
                    len_ms: len.round() as u64,
                };
            }
            scale *= 10.0;
        }
    }

    /// Where instant `ms` is along the axis, as a percentage, 0 to 100.
    pub fn pct(&self, ms: f64) -> f64 {
        ((ms - self.start_ms as f64) / self.len_ms.max(1) as f64 * 100.0).clamp(0.0, 100.0)
    }

    /// The span from `from_ms` to `to_ms`, cut to the axis.
    pub fn place(&self, from_ms: f64, to_ms: f64) -> Span {
        let left = self.pct(from_ms);
        Span {
            left,
            width: self.pct(to_ms.max(from_ms)) - left,
        }
    }

    /// Tick marks: between three and eight, at round instants, with labels
    /// relative to the axis start ("0 s", "0.5 s", "2 s").
    pub fn ticks(&self) -> Vec<(f64, String)> {
        let len = self.len_ms as f64;
        let step = [1.0, 2.0, 5.0]
            .iter()
            .flat_map(|f| (2..8).map(move |p| f * 10f64.powi(p)))
            .filter(|step| len / step <= 8.0)
            .fold(f64::INFINITY, f64::min);
        if !step.is_finite() {
            return Vec::new();
        }
        let count = (len / step).floor() as u64;
        (0..=count)
            .map(|i| {
                let at = i as f64 * step;
                let label = format!("{} s", trim_number(at / 1000.0, 1));
                (at / len * 100.0, label)
            })
            .collect()
    }
}

/// One piece of a job's timeline.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Piece {
    /// An attempt, from its start to its end (or to now while it is out).
    Attempt(Attempt),
    /// The backoff after a failed attempt, drawn at its full planned length
    /// from the attempt's end. `backoff_ms` is the bound before jitter.
    Wait {
        start_ms: u64,
        delay_ms: u64,
        backoff_ms: u64,
    },
}

/// A job's attempts and waits in order.
pub fn pieces(job: &Job) -> Vec<Piece> {
    let mut out = Vec::with_capacity(job.attempts.len() * 2);
    for a in &job.attempts {
        out.push(Piece::Attempt(*a));
        if let (Some(w), Some(end)) = (a.wait, a.end_ms) {
            out.push(Piece::Wait {
                start_ms: end,
                delay_ms: w.delay_ms,
                backoff_ms: w.backoff_ms,
            });
        }
    }
    out
}

/// How far the jobs reach in time: the first submission, and the latest
/// instant drawn or planned (an attempt's end, or its start while it is
/// out; a planned wait's end, or its jitter bound's; a job's end).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extent {
    pub start_ms: u64,
    pub latest_ms: u64,
    /// Some job has not ended: the timelines still grow with time.
    pub open: bool,
}

impl Extent {
    pub fn of(jobs: &[Job]) -> Extent {
        let start_ms = jobs.iter().map(|j| j.submitted_ms).min().unwrap_or(0);
        let latest_ms = jobs
            .iter()
            .flat_map(|j| {
                let attempts = j.attempts.iter().map(|a| {
                    let end = a.end_ms.unwrap_or(a.start_ms);
                    end + a.wait.map_or(0, |w| w.delay_ms.max(w.backoff_ms))
                });
                attempts.chain([j.submitted_ms, j.ended_ms.unwrap_or(0)])
            })
            .max()
            .unwrap_or(0);
        Extent {
            start_ms,
            latest_ms,
            open: jobs.iter().any(|j| j.outcome.is_none()),
        }
    }

    /// The axis the timelines share at virtual time `now`: from the first
    /// submission to the latest of what is planned and, while some job is
    /// still going, `now`. Once every job has ended the axis stays put, so
    /// a finished burst is not squeezed to the left as the clock runs on.
    /// A far-off instant such as the pool's overall deadline does not
    /// stretch it: the work would shrink to a corner.
    pub fn axis(self, now: f64) -> Axis {
        let now = if self.open { now.max(0.0) as u64 } else { 0 };
        let latest = self.latest_ms.max(now);
        Axis::fit(self.start_ms, latest)
    }
}

/// How many attempts reached the downstream in each `bucket_ms` slice of
/// the axis: synchronized retries show as spikes.
pub fn buckets(jobs: &[Job], axis: Axis, bucket_ms: u64) -> Vec<u32> {
    let bucket_ms = bucket_ms.max(1);
    let mut counts = vec![0u32; axis.len_ms.div_ceil(bucket_ms) as usize];
    let starts = jobs
        .iter()
        .flat_map(|j| &j.attempts)
        .filter(|a| a.rejected.is_none())
        .map(|a| a.start_ms);
    for start in starts {
        if start < axis.start_ms {
            continue;
        }
        let i = ((start - axis.start_ms) / bucket_ms) as usize;
        if let Some(c) = counts.get_mut(i) {
            *c += 1;
        }
    }
    counts
}

/// The fullest bucket, as its index and count; `None` while all are empty.
pub fn peak(counts: &[u32]) -> Option<(usize, u32)> {
    counts
        .iter()
        .copied()
        .enumerate()
        .filter(|(_, c)| *c > 0)
        .fold(None, |best, (i, c)| match best {
            Some((_, b)) if b >= c => best,
            _ => Some((i, c)),
        })
}

// ---------- The stream of calls ----------

/// A call of the circuit breaker's stream, as a small token.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallToken {
    pub id: TaskId,
    pub label: String,
    /// The last attempt's key: "succeeded", "failed", "rejected", "out".
    pub result: &'static str,
    /// The job's outcome key, or "running".
    pub outcome: &'static str,
    pub glyph: &'static str,
    /// "ok", the failure's kind, "refused", "out".
    pub word: &'static str,
    pub trial: bool,
    /// It came back after the breaker had moved on, so it did not count.
    pub not_counted: bool,
}

impl CallToken {
    pub fn of(job: &Job) -> CallToken {
        let last = job.attempts.last();
        let result = last.map_or("out", attempt_key);
        let word = match (result, last.and_then(attempt_kind)) {
            ("succeeded", _) => "ok",
            (_, Some(kind)) => kind.as_str(),
            ("rejected", _) => "refused",
            _ => "out",
        };
        CallToken {
            id: job.id(),
            label: job.spec.label.clone(),
            result,
            outcome: outcome_key(job),
            glyph: attempt_glyph(result),
            word,
            trial: job.attempts.iter().any(|a| a.trial),
            not_counted: last.is_some_and(|a| a.result.is_some() && !a.counted),
        }
    }

    /// The token in words, for its tooltip.
    pub fn text(&self) -> String {
        let mut text = format!("{}: {} {}", self.label, self.glyph, self.word);
        if self.trial {
            text.push_str(", trial call");
        }
        if self.not_counted {
            text.push_str(", came back late: not counted");
        }
        text
    }
}

/// The latest `n` calls, oldest first.
pub fn call_tokens(scene: &ResilienceScene, n: usize) -> Vec<CallToken> {
    let skip = scene.jobs.len().saturating_sub(n);
    scene.jobs[skip..].iter().map(CallToken::of).collect()
}

// ---------- The pool's workers ----------

/// What a pool worker is doing with its job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Activity {
    /// No job in hand.
    Idle,
    /// It has the job but has not called yet.
    Starting,
    /// Attempt `attempt` is out.
    Calling { attempt: u32 },
    /// Waiting out a backoff until `until_ms`; then attempt `next`.
    BackingOff { next: u32, until_ms: u64 },
    /// Attempt `attempt` came back and the next step is being decided.
    Deciding { attempt: u32 },
}

impl Activity {
    pub fn of(job: Option<&Job>) -> Activity {
        let Some(job) = job else {
            return Activity::Idle;
        };
        match job.attempts.last() {
            None => Activity::Starting,
            Some(a) if a.end_ms.is_none() => Activity::Calling { attempt: a.n },
            Some(a) => match (a.wait, a.end_ms) {
                (Some(w), Some(end)) => Activity::BackingOff {
                    next: a.n + 1,
                    until_ms: end + w.delay_ms,
                },
                _ => Activity::Deciding { attempt: a.n },
            },
        }
    }

    /// For data attributes.
    pub fn key(self) -> &'static str {
        match self {
            Activity::Idle => "idle",
            Activity::Starting => "starting",
            Activity::Calling { .. } => "calling",
            Activity::BackingOff { .. } => "backing-off",
            Activity::Deciding { .. } => "deciding",
        }
    }

    /// In words at virtual time `now`; `of_max` is how many attempts the
    /// job may make in all.
    pub fn text(self, of_max: u32, now: f64) -> String {
        match self {
            Activity::Idle => "idle: no task in hand".to_owned(),
            Activity::Starting => "picked up, about to call".to_owned(),
            Activity::Calling { attempt } => format!("calling: attempt {attempt} of {of_max}"),
            Activity::BackingOff { next, until_ms } => {
                let left = (until_ms as f64 - now).max(0.0);
                format!(
                    "backing off: {} left, then attempt {next} of {of_max}",
                    duration_text(left)
                )
            }
            Activity::Deciding { attempt } => format!("attempt {attempt} came back"),
        }
    }
}

/// One worker card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerLook {
    pub index: usize,
    /// The job in hand: its id, label and how many attempts it may make.
    pub job: Option<(TaskId, String, u32)>,
    pub activity: Activity,
}

/// Every pool worker with its job in hand.
pub fn worker_looks(scene: &ResilienceScene) -> Vec<WorkerLook> {
    scene
        .workers
        .iter()
        .enumerate()
        .map(|(index, held)| {
            let job = held.and_then(|id| scene.job(id));
            WorkerLook {
                index,
                job: job.map(|j| (j.id(), j.spec.label.clone(), j.spec.max_retries + 1)),
                activity: Activity::of(job),
            }
        })
        .collect()
}

// ---------- Counts and rates ----------

/// Succeeded jobs as a share of ended ones, and recovered ones as a share
/// of succeeded ones (as the seed computes it), 0.0 to 1.0; `None` while
/// there is nothing to divide by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    pub success: Option<f64>,
    pub recovery: Option<f64>,
}

impl Rates {
    pub fn of(counters: &Counters, recovered: u64) -> Rates {
        let share = |part: u64, whole: u64| (whole > 0).then(|| part as f64 / whole as f64);
        Rates {
            success: share(counters.completed, counters.settled()),
            recovery: share(recovered, counters.completed),
        }
    }
}

/// A rate as a percentage with one decimal, without the % sign; "–" when
/// there is none yet.
pub fn rate_text(rate: Option<f64>) -> String {
    rate.map_or_else(|| "–".to_owned(), |r| format!("{:.1}", r * 100.0))
}

/// One bar of "failed attempts by kind".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KindBar {
    pub kind: FailureKind,
    pub count: u64,
    /// Relative to the commonest kind, 0.0 to 1.0.
    pub share: f64,
}

/// Failed attempts by kind, every kind in its usual order.
pub fn failure_bars(scene: &ResilienceScene) -> Vec<KindBar> {
    let most = FailureKind::ALL
        .iter()
        .map(|k| scene.failures_of(*k))
        .max()
        .unwrap_or(0)
        .max(1);
    FailureKind::ALL
        .iter()
        .map(|&kind| {
            let count = scene.failures_of(kind);
            KindBar {
                kind,
                count,
                share: count as f64 / most as f64,
            }
        })
        .collect()
}

// ---------- The downstream ----------

/// The simulated downstream as its panel reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downstream {
    pub broken: bool,
    /// Its settings in words, one per line.
    pub lines: Vec<String>,
}

impl Downstream {
    pub fn of(params: &Params) -> Downstream {
        let broken = params.get("broken").is_some_and(|on| *on >= 1.0);
        let mut lines = Vec::new();
        if broken {
            lines.push("broken: every call fails until you heal it".to_owned());
        }
        let kind = params
            .get("failure_type")
            .and_then(|v| FailureKind::from_index(v.round().max(0.0) as usize));
        let kind_text = kind.map(|k| {
            let retry = if k.retryable() {
                "retryable"
            } else {
                "not retryable"
            };
            format!("{} errors ({retry})", k.as_str())
        });
        match (params.get("failure_pct"), &kind_text) {
            (Some(p), Some(k)) => {
                lines.push(format!("{}% of calls fail with {k}", trim_number(*p, 1)))
            }
            (Some(p), None) => lines.push(format!("{}% of calls fail", trim_number(*p, 1))),
            (None, Some(k)) => lines.push(format!("failures are {k}")),
            (None, None) => {}
        }
        if let Some(ms) = params.get("latency_ms") {
            lines.push(format!("answers in about {} ms", trim_number(*ms, 0)));
        }
        if let Some(n) = params.get("capacity") {
            lines.push(format!(
                "serves {} calls at a time; more fail at once with resource errors",
                trim_number(*n, 0)
            ));
        }
        if let Some(p) = params.get("failure_scale_pct") {
            lines.push(format!(
                "each kind of task fails at {}% of its usual rate",
                trim_number(*p, 0)
            ));
        }
        Downstream { broken, lines }
    }
}

#[cfg(test)]
mod tests;

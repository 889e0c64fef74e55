//! How the failure-and-recovery family reads on screen: the breaker's
//! states and moves in words, the countdown to half-open, each job's
//! outcome, the geometry of the attempt timelines, the stream of recent
//! calls, the pool's workers, the downstream's settings and the rates.
//!
//! Kept apart from the components so that what the room reads ("recovered
//! after 3 attempts", "half-open in 12.4 s", "3 / 5 failures") and where a
//! wait is drawn are tested natively.

use super::present::{duration_text, trim_number};
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

/// The breaker's threshold and reset timeout when the run does not say.
pub const DEFAULT_THRESHOLD: u32 = 5;
pub const DEFAULT_RESET_MS: f64 = 30_000.0;

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

/// A parameter of the run, or `default` when the run has not reported it.
pub fn param(params: &Params, name: &str, default: f64) -> f64 {
    params.get(name).copied().unwrap_or(default)
}

/// Whether a switch parameter (a choice of off/on) is on.
pub fn switch_on(params: &Params, name: &str) -> bool {
    param(params, name, 0.0) >= 0.5
}

/// The breaker's failure threshold, from the run's parameters.
pub fn threshold(params: &Params) -> u32 {
    param(params, "threshold", f64::from(DEFAULT_THRESHOLD)).max(1.0) as u32
}

/// The breaker's reset timeout in milliseconds, from the run's parameters.
pub fn reset_ms(params: &Params) -> f64 {
    param(params, "reset_ms", DEFAULT_RESET_MS).max(0.0)
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
        let broken = switch_on(params, "broken");
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
mod tests {
    use super::*;
    use CircuitState::{Closed, HalfOpen, Open};
    use shared::resilience::{JobSpec, TrialRecord, Wait};
    use shared::{Envelope, Event, PatternId, RunSnapshot};

    fn spec(id: TaskId) -> JobSpec {
        JobSpec {
            id,
            label: format!("client {id}"),
            max_retries: 3,
            timeout_ms: None,
            about: None,
        }
    }

    fn attempt(
        n: u32,
        start_ms: u64,
        end_ms: Option<u64>,
        result: Option<AttemptResult>,
    ) -> Attempt {
        Attempt {
            n,
            start_ms,
            end_ms,
            result,
            trial: false,
            rejected: None,
            counted: true,
            wait: None,
        }
    }

    fn failed(kind: FailureKind) -> Option<AttemptResult> {
        Some(AttemptResult::Failed { kind })
    }

    fn job(id: TaskId, attempts: Vec<Attempt>, outcome: Option<JobOutcome>) -> Job {
        Job {
            spec: spec(id),
            submitted_ms: 0,
            worker: None,
            attempts,
            outcome,
            ended_ms: None,
        }
    }

    fn waited(mut a: Attempt, delay_ms: u64, backoff_ms: u64) -> Attempt {
        a.wait = Some(Wait {
            delay_ms,
            backoff_ms,
        });
        a
    }

    fn breaker(state: CircuitState, since_ms: u64) -> BreakerScene {
        BreakerScene {
            state,
            since_ms,
            ..BreakerScene::default()
        }
    }

    fn moved(from: CircuitState, to: CircuitState, at_ms: u64, failures: u32) -> Transition {
        Transition {
            from,
            to,
            at_ms,
            failures,
        }
    }

    #[test]
    fn outcomes_read_as_the_room_expects() {
        let once = JobOutcome::Succeeded { attempts: 1 };
        assert_eq!(outcome_text(once, None), "succeeded");
        let thrice = JobOutcome::Succeeded { attempts: 3 };
        assert_eq!(outcome_text(thrice, None), "recovered after 3 attempts");
        let processing = JobOutcome::Failed {
            attempts: 1,
            kind: FailureKind::Processing,
            reason: GiveUp::NotRetryable,
        };
        assert_eq!(
            outcome_text(processing, None),
            "failed: processing is not retryable"
        );
        let spent = JobOutcome::Failed {
            attempts: 4,
            kind: FailureKind::Network,
            reason: GiveUp::OutOfRetries,
        };
        assert_eq!(
            outcome_text(spent, None),
            "failed: out of retries after 4 attempts"
        );
        let refused = JobOutcome::Rejected { attempts: 0 };
        assert_eq!(outcome_text(refused, Some(Open)), "rejected: breaker open");
        assert_eq!(
            outcome_text(refused, Some(HalfOpen)),
            "rejected: breaker half-open"
        );
        assert_eq!(
            outcome_text(JobOutcome::Rejected { attempts: 2 }, None),
            "rejected: breaker open after 2 attempts"
        );
        assert_eq!(
            outcome_text(JobOutcome::TimedOut { attempts: 0 }, None),
            "timed out"
        );
        assert_eq!(
            outcome_text(JobOutcome::TimedOut { attempts: 1 }, None),
            "timed out after 1 attempt"
        );
        assert_eq!(outcome_text(JobOutcome::Cancelled, None), "cancelled");
    }

    #[test]
    fn a_job_in_progress_says_what_it_is_doing() {
        let out = job(0, vec![attempt(1, 0, None, None)], None);
        assert_eq!(job_status_text(&out), "calling: attempt 1");
        let waiting = job(
            1,
            vec![waited(
                attempt(1, 0, Some(80), failed(FailureKind::Timeout)),
                200,
                200,
            )],
            None,
        );
        assert_eq!(
            job_status_text(&waiting),
            "backing off 200 ms before attempt 2"
        );
        assert_eq!(job_status_text(&job(2, vec![], None)), "waiting to start");
        let mut refused = job(3, vec![attempt(1, 5, Some(5), None)], None);
        refused.attempts[0].rejected = Some(HalfOpen);
        refused.outcome = Some(JobOutcome::Rejected { attempts: 0 });
        assert_eq!(
            job_status_text(&refused),
            "rejected: breaker half-open",
            "the state the breaker refused it in"
        );
        assert_eq!(outcome_key(&refused), "rejected");
        assert_eq!(outcome_key(&out), "running");
    }

    #[test]
    fn each_failure_says_whether_it_was_retried() {
        assert_eq!(retry_label(FailureKind::Timeout), "retryable");
        assert_eq!(retry_label(FailureKind::Resource), "retryable");
        assert_eq!(retry_label(FailureKind::Validation), "not retried");
        let j = job(
            0,
            vec![
                waited(
                    attempt(1, 0, Some(100), failed(FailureKind::Network)),
                    100,
                    100,
                ),
                attempt(2, 200, Some(260), failed(FailureKind::Processing)),
            ],
            None,
        );
        assert_eq!(
            failure_trail(&j),
            ["network · retryable", "processing · not retried"]
        );
        let again = |n, start| {
            waited(
                attempt(n, start, Some(start + 20), failed(FailureKind::Resource)),
                100,
                100,
            )
        };
        let herd = job(
            1,
            vec![
                again(1, 0),
                again(2, 120),
                again(3, 340),
                attempt(4, 560, None, None),
            ],
            None,
        );
        assert_eq!(failure_trail(&herd), ["resource · retryable ×3"]);
        assert_eq!(
            attempt_text(&j.attempts[1]),
            "attempt 2: ✗ failed: processing (not retried)"
        );
    }

    #[test]
    fn attempts_read_by_how_they_came_back() {
        let ok = attempt(1, 0, Some(10), Some(AttemptResult::Succeeded));
        let bad = attempt(1, 0, Some(10), failed(FailureKind::Timeout));
        let out = attempt(1, 0, None, None);
        let mut refused = attempt(1, 0, Some(0), None);
        refused.rejected = Some(Open);
        let keys: Vec<_> = [ok, bad, out, refused].iter().map(attempt_key).collect();
        assert_eq!(keys, ["succeeded", "failed", "out", "rejected"]);
        let glyphs: Vec<_> = keys.iter().map(|k| attempt_glyph(k)).collect();
        assert_eq!(glyphs, ["✓", "✗", "…", "⊘"]);
        assert_eq!(
            attempt_text(&refused),
            "attempt 1: ⊘ refused by the OPEN breaker"
        );
    }

    #[test]
    fn the_countdown_runs_from_the_reset_timeout_to_zero_while_open() {
        let b = breaker(Open, 10_000);
        assert_eq!(opened_at(&b), Some(10_000));
        assert_eq!(countdown_ms(10_000, 30_000.0, 10_000.0), 30_000.0);
        assert_eq!(countdown_ms(10_000, 30_000.0, 27_600.0), 12_400.0);
        assert_eq!(
            countdown_ms(10_000, 30_000.0, 99_000.0),
            0.0,
            "never negative"
        );
        assert_eq!(opened_at(&breaker(Closed, 0)), None);
        assert_eq!(opened_at(&breaker(HalfOpen, 0)), None);
        assert_eq!(countdown_text(12_400.0), "half-open in 12.4 s");
        assert_eq!(countdown_text(300.0), "half-open in 0.3 s");
        assert_eq!(countdown_text(0.0), "reset timeout passed: going half-open");
        assert_eq!(countdown_share(15_000.0, 30_000.0), 0.5);
        assert_eq!(countdown_share(40_000.0, 30_000.0), 1.0);
        assert_eq!(countdown_share(5.0, 0.0), 0.0);
    }

    #[test]
    fn failures_count_toward_the_threshold() {
        assert_eq!(failures_text(3, 5).0, "3 / 5 failures");
        assert_eq!(failures_text(0, 1).0, "0 / 1 failure");
        assert_eq!(
            failures_text(7, 5),
            ("7 failures".to_owned(), "in a row · threshold 5".to_owned())
        );
        assert_eq!(pips(3, 5), [true, true, true, false, false]);
        assert_eq!(
            pips(9, 5),
            [true; 5],
            "a count past the threshold fills them all"
        );
        assert_eq!(pips(0, 500).len(), MAX_PIPS as usize);
        let params = Params::from([("threshold".into(), 3.0), ("reset_ms".into(), 10_000.0)]);
        assert_eq!((threshold(&params), reset_ms(&params)), (3, 10_000.0));
        assert_eq!(
            (threshold(&Params::new()), reset_ms(&Params::new())),
            (DEFAULT_THRESHOLD, DEFAULT_RESET_MS)
        );
    }

    #[test]
    fn arrows_say_what_moves_the_breaker() {
        let labels: Vec<_> = MOVES.iter().map(|(f, t)| arrow_label(*f, *t, 5)).collect();
        assert_eq!(
            labels,
            [
                "5 failures in a row",
                "after reset timeout",
                "trial failed",
                "trial ok"
            ]
        );
        assert_eq!(arrow_label(Closed, Open, 1), "1 failure in a row");
        assert_eq!(
            two_lines("5 failures in a row"),
            ("5 failures".to_owned(), "in a row".to_owned())
        );
        assert_eq!(
            two_lines("after reset timeout"),
            ("after reset".to_owned(), "timeout".to_owned())
        );
        assert_eq!(two_lines("late"), ("late".to_owned(), String::new()));
        assert_eq!(move_key(HalfOpen, Closed), "half-open->closed");
    }

    #[test]
    fn the_history_strip_lists_every_transition_oldest_first() {
        let mut b = breaker(Closed, 9_000);
        b.history = vec![
            moved(Closed, Open, 1_000, 5),
            moved(Open, HalfOpen, 4_000, 5),
            moved(HalfOpen, Open, 4_200, 0),
            moved(Open, HalfOpen, 7_200, 0),
            moved(HalfOpen, Closed, 9_000, 0),
        ];
        b.transitions = 5;
        let entries = history(&b);
        let texts: Vec<_> = entries.iter().map(HistoryEntry::text).collect();
        assert_eq!(
            texts,
            [
                "1.0 s · CLOSED → OPEN · 5 failures",
                "4.0 s · OPEN → HALF-OPEN · reset timeout",
                "4.2 s · HALF-OPEN → OPEN · trial failed",
                "7.2 s · OPEN → HALF-OPEN · reset timeout",
                "9.0 s · HALF-OPEN → CLOSED · trial ok",
            ]
        );
        assert_eq!(entries[0].key, "closed->open");
        assert_eq!(
            entries.iter().map(|e| e.n).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
    }

    #[test]
    fn history_entries_keep_their_number_when_old_ones_fall_off() {
        let mut b = breaker(Open, 0);
        b.history = vec![moved(HalfOpen, Open, 10, 0), moved(Open, HalfOpen, 20, 0)];
        b.transitions = 40;
        let ns: Vec<_> = history(&b).iter().map(|e| e.n).collect();
        assert_eq!(ns, [39, 40]);
    }

    #[test]
    fn fresh_moves_are_those_since_the_viewer_last_looked() {
        let mut b = breaker(Closed, 0);
        b.history = vec![
            moved(Closed, Open, 1_000, 5),
            moved(Open, HalfOpen, 1_005, 5),
            moved(HalfOpen, Closed, 1_009, 0),
        ];
        b.transitions = 3;
        assert_eq!(
            fresh_moves(&b, 1),
            ["open->half-open", "half-open->closed"],
            "two moves within one frame both flash"
        );
        assert!(fresh_moves(&b, 3).is_empty());
        b.history.truncate(1);
        b.transitions = 1;
        assert_eq!(
            fresh_moves(&b, 3),
            ["closed->open"],
            "after a restart the count starts over"
        );
    }

    #[test]
    fn the_trial_call_and_its_result_are_told() {
        let mut scene = ResilienceScene::new(true, 0);
        scene.jobs.push(job(7, vec![], None));
        let mut b = breaker(HalfOpen, 0);
        assert_eq!(
            trial_text(&scene, &b).as_deref(),
            Some("waiting for a call: the next one is the trial")
        );
        b.trial = Some(7);
        assert_eq!(
            trial_text(&scene, &b).as_deref(),
            Some("trial call: client 7 is out…")
        );
        b.last_trial = Some(TrialRecord {
            job: 3,
            succeeded: false,
            at_ms: 12_345,
        });
        assert_eq!(
            last_trial(&scene, &b),
            Some((false, "last trial: #3 ✗ failed at 12.3 s".to_owned())),
            "a job the scene let go is named by its number"
        );
        assert_eq!(trial_text(&scene, &breaker(Open, 0)), None);
    }

    #[test]
    fn the_axis_has_a_round_length_that_grows_in_steps() {
        assert_eq!(Axis::fit(0, 0).len_ms, 1_000, "at least a second");
        assert_eq!(Axis::fit(0, 1_200).len_ms, 1_500);
        assert_eq!(Axis::fit(0, 1_300).len_ms, 1_500);
        assert_eq!(
            Axis::fit(0, 1_400).len_ms,
            2_000,
            "room kept after the latest"
        );
        assert_eq!(Axis::fit(0, 8_000).len_ms, 10_000);
        assert_eq!(Axis::fit(500, 30_500).len_ms, 40_000);
        // While time passes within a step, the axis does not change.
        assert_eq!(Axis::fit(0, 2_010), Axis::fit(0, 2_700));
        let ticks = Axis::fit(0, 8_000).ticks();
        assert_eq!(ticks.len(), 6);
        assert_eq!(ticks[1], (20.0, "2 s".to_owned()));
        let short = Axis::fit(0, 1_000).ticks();
        assert_eq!(
            short.iter().map(|t| t.1.as_str()).collect::<Vec<_>>(),
            [
                "0 s", "0.2 s", "0.4 s", "0.6 s", "0.8 s", "1 s", "1.2 s", "1.4 s"
            ]
        );
    }

    #[test]
    fn attempts_and_waits_are_placed_to_scale_on_the_shared_axis() {
        let axis = Axis {
            start_ms: 1_000,
            len_ms: 2_000,
        };
        assert_eq!(
            axis.place(1_000.0, 1_500.0),
            Span {
                left: 0.0,
                width: 25.0
            }
        );
        // A wait of 400 ms after an attempt that ended at 1.6 s.
        assert_eq!(
            axis.place(1_600.0, 2_000.0),
            Span {
                left: 30.0,
                width: 20.0
            }
        );
        // An attempt still out grows to now, and stops at the axis end.
        assert_eq!(axis.place(2_500.0, 2_900.0).width, 20.0);
        assert_eq!(axis.place(2_500.0, 9_000.0).width, 25.0);
        // Time running backwards (a late estimate) never makes a negative width.
        assert_eq!(axis.place(2_500.0, 2_000.0).width, 0.0);
        assert_eq!(
            Span {
                left: 12.5,
                width: 3.0
            }
            .style(),
            "left: 12.50%; width: 3.00%"
        );
    }

    #[test]
    fn a_job_is_drawn_as_attempts_and_the_waits_between_them() {
        let j = job(
            0,
            vec![
                waited(
                    attempt(1, 0, Some(100), failed(FailureKind::Network)),
                    180,
                    200,
                ),
                attempt(2, 280, None, None),
            ],
            None,
        );
        let drawn = pieces(&j);
        assert_eq!(drawn.len(), 3);
        assert_eq!(
            drawn[1],
            Piece::Wait {
                start_ms: 100,
                delay_ms: 180,
                backoff_ms: 200
            }
        );
        assert!(matches!(drawn[2], Piece::Attempt(a) if a.n == 2 && a.end_ms.is_none()));
        // The jitter bound (300 ms from 100) reaches further than the attempt out.
        let mut later = j.clone();
        later.spec.id = 1;
        later.submitted_ms = 40;
        let mut ended = later.clone();
        ended.outcome = Some(JobOutcome::Cancelled);
        ended.ended_ms = Some(320);
        let extent = Extent::of(&[j, later]);
        assert_eq!(
            extent,
            Extent {
                start_ms: 0,
                latest_ms: 300,
                open: true
            }
        );
        assert_eq!(extent.axis(450.0).len_ms, 1_000);
        assert_eq!(extent.axis(1_450.0).len_ms, 2_000, "now is in view");
        assert_eq!(extent.axis(9_900.0).len_ms, 15_000);
        let done = Extent::of(&[ended]);
        assert_eq!((done.latest_ms, done.open), (320, false));
        assert_eq!(
            done.axis(60_000.0).len_ms,
            1_000,
            "once every job ended the axis no longer follows the clock"
        );
        assert_eq!(Extent::of(&[]), Extent::default());
    }

    #[test]
    fn synchronized_retries_show_as_spikes_and_jitter_spreads_them() {
        let axis = Axis {
            start_ms: 0,
            len_ms: 1_000,
        };
        // Twelve clients failing together and retrying after the same delay.
        let herd: Vec<Job> = (0..12)
            .map(|id| {
                let first = waited(
                    attempt(1, 0, Some(50), failed(FailureKind::Resource)),
                    100,
                    100,
                );
                job(id, vec![first, attempt(2, 150, None, None)], None)
            })
            .collect();
        let counts = buckets(&herd, axis, BUCKET_MS);
        assert_eq!(counts.len(), 10);
        assert_eq!(&counts[..3], [12, 12, 0]);
        assert_eq!(peak(&counts), Some((0, 12)));
        // The same retries spread by jitter over 100..460 ms.
        let spread: Vec<Job> = (0..12u32)
            .map(|id| {
                let at = 100 + u64::from(id) * 30;
                job(id, vec![attempt(1, at, None, None)], None)
            })
            .collect();
        let counts = buckets(&spread, axis, BUCKET_MS);
        assert!(counts.iter().all(|c| *c <= 4), "{counts:?}");
        assert_eq!(counts.iter().sum::<u32>(), 12);
        assert_eq!(peak(&[0, 0]), None);
    }

    #[test]
    fn refused_calls_never_reach_the_downstream_and_are_not_bucketed() {
        let mut refused = attempt(1, 10, Some(10), None);
        refused.rejected = Some(Open);
        let j = job(0, vec![refused], Some(JobOutcome::Rejected { attempts: 0 }));
        let axis = Axis {
            start_ms: 0,
            len_ms: 1_000,
        };
        assert_eq!(buckets(&[j], axis, BUCKET_MS).iter().sum::<u32>(), 0);
    }

    #[test]
    fn call_tokens_mark_trials_refusals_and_late_results() {
        let mut scene = ResilienceScene::new(true, 0);
        let mut trial = attempt(1, 0, Some(40), Some(AttemptResult::Succeeded));
        trial.trial = true;
        scene.jobs.push(job(
            0,
            vec![trial],
            Some(JobOutcome::Succeeded { attempts: 1 }),
        ));
        let mut late = attempt(1, 0, Some(90), failed(FailureKind::Timeout));
        late.counted = false;
        let late_outcome = JobOutcome::Failed {
            attempts: 1,
            kind: FailureKind::Timeout,
            reason: GiveUp::OutOfRetries,
        };
        scene.jobs.push(job(1, vec![late], Some(late_outcome)));
        let mut refused = attempt(1, 95, Some(95), None);
        refused.rejected = Some(Open);
        scene.jobs.push(job(
            2,
            vec![refused],
            Some(JobOutcome::Rejected { attempts: 0 }),
        ));
        scene
            .jobs
            .push(job(3, vec![attempt(1, 99, None, None)], None));
        let tokens = call_tokens(&scene, 3);
        let seen: Vec<_> = tokens
            .iter()
            .map(|t| (t.id, t.glyph, t.word, t.not_counted))
            .collect();
        assert_eq!(
            seen,
            [
                (1, "✗", "timeout", true),
                (2, "⊘", "refused", false),
                (3, "…", "out", false)
            ],
            "the latest three, oldest first"
        );
        let first = CallToken::of(&scene.jobs[0]);
        assert!(first.trial);
        assert_eq!(first.text(), "client 0: ✓ ok, trial call");
        assert_eq!(
            tokens[0].text(),
            "client 1: ✗ timeout, came back late: not counted"
        );
        assert_eq!(call_tokens(&scene, 40).len(), 4);
    }

    #[test]
    fn workers_say_what_they_do_with_their_job() {
        let mut scene = ResilienceScene::new(true, 3);
        scene
            .jobs
            .push(job(0, vec![attempt(2, 100, None, None)], None));
        scene.jobs.push(job(
            1,
            vec![waited(
                attempt(1, 0, Some(500), failed(FailureKind::Timeout)),
                400,
                400,
            )],
            None,
        ));
        scene.workers = vec![Some(0), Some(1), None];
        let looks = worker_looks(&scene);
        assert_eq!(looks[0].activity, Activity::Calling { attempt: 2 });
        assert_eq!(looks[0].job, Some((0, "client 0".to_owned(), 4)));
        assert_eq!(
            looks[1].activity,
            Activity::BackingOff {
                next: 2,
                until_ms: 900
            }
        );
        assert_eq!(
            looks[1].activity.text(4, 560.0),
            "backing off: 340 ms left, then attempt 2 of 4"
        );
        assert_eq!(
            looks[1].activity.text(4, 5_000.0),
            "backing off: 0 ms left, then attempt 2 of 4",
            "never negative"
        );
        assert_eq!(looks[2].activity, Activity::Idle);
        assert_eq!(looks[2].activity.key(), "idle");
        assert_eq!(looks[0].activity.text(4, 0.0), "calling: attempt 2 of 4");
        assert_eq!(
            Activity::of(Some(&job(5, vec![], None))),
            Activity::Starting
        );
    }

    #[test]
    fn success_and_recovery_rates_follow_the_seed() {
        let c = Counters {
            submitted: 8,
            completed: 5,
            failed: 2,
            in_flight: 1,
            ..Counters::default()
        };
        let rates = Rates::of(&c, 2);
        // 5 of the 7 that ended succeeded; 2 of those 5 needed a retry.
        assert_eq!(rate_text(rates.success), "71.4");
        assert_eq!(rate_text(rates.recovery), "40.0");
        let none = Rates::of(&Counters::default(), 0);
        assert_eq!(
            (rate_text(none.success), rate_text(none.recovery)),
            ("–".to_owned(), "–".to_owned())
        );
    }

    #[test]
    fn failures_by_kind_are_bars_relative_to_the_commonest() {
        // Two network failures and one validation failure, folded as the
        // server would, so the bars read the protocol's own counts.
        let mut snap = RunSnapshot::new("r", PatternId::RetryBackoff);
        let mut events = vec![Event::JobSubmitted { job: spec(0) }];
        for (n, kind) in [
            (1, FailureKind::Network),
            (2, FailureKind::Network),
            (3, FailureKind::Validation),
        ] {
            events.push(Event::AttemptStarted {
                job: 0,
                attempt: n,
                trial: false,
            });
            events.push(Event::AttemptEnded {
                job: 0,
                attempt: n,
                result: AttemptResult::Failed { kind },
                counted: false,
            });
        }
        for (i, event) in events.into_iter().enumerate() {
            let seq = i as u64 + 1;
            snap.apply(&Envelope {
                seq,
                at_ms: seq,
                event,
            });
        }
        let scene = snap.resilience().expect("a resilience run");
        let bars = failure_bars(scene);
        let seen: Vec<_> = bars
            .iter()
            .map(|b| (b.kind.as_str(), b.count, b.share))
            .collect();
        assert_eq!(
            seen,
            [
                ("timeout", 0, 0.0),
                ("network", 2, 1.0),
                ("resource", 0, 0.0),
                ("processing", 0, 0.0),
                ("validation", 1, 0.5)
            ]
        );
    }

    #[test]
    fn the_downstream_reads_its_settings_in_words() {
        let params = Params::from([
            ("failure_pct".into(), 20.0),
            ("latency_ms".into(), 150.0),
            ("failure_type".into(), 1.0),
            ("broken".into(), 0.0),
            ("capacity".into(), 4.0),
        ]);
        let d = Downstream::of(&params);
        assert!(!d.broken);
        assert_eq!(
            d.lines,
            [
                "20% of calls fail with network errors (retryable)",
                "answers in about 150 ms",
                "serves 4 calls at a time; more fail at once with resource errors"
            ]
        );
        let mut broken = params.clone();
        broken.insert("broken".into(), 1.0);
        broken.insert("failure_type".into(), 3.0);
        let d = Downstream::of(&broken);
        assert!(d.broken);
        assert_eq!(d.lines[0], "broken: every call fails until you heal it");
        assert_eq!(
            d.lines[1],
            "20% of calls fail with processing errors (not retryable)"
        );
        let pool = Params::from([("failure_scale_pct".into(), 100.0)]);
        assert_eq!(
            Downstream::of(&pool).lines,
            ["each kind of task fails at 100% of its usual rate"]
        );
        assert!(switch_on(&broken, "broken"));
        assert!(!switch_on(&Params::new(), "jitter"));
    }

    #[test]
    fn outcome_glyphs_tell_outcomes_apart_without_colour() {
        let keys = [
            "succeeded",
            "recovered",
            "failed",
            "rejected",
            "timed_out",
            "cancelled",
            "running",
        ];
        let glyphs: Vec<_> = keys.iter().map(|k| outcome_glyph(k)).collect();
        let mut unique = glyphs.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "{glyphs:?}");
        assert_eq!(
            state_about(Open),
            "calls are refused at once, without calling the downstream"
        );
    }
}

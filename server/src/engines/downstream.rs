//! The simulated downstream the failure-and-recovery patterns call: how
//! long a call takes and how it comes back.
//!
//! A call's fate comes from two places. Its random numbers are drawn when
//! its job is made, in the engine's own task, so a seed repeats exactly
//! however the tasks happen to interleave; the parameters they are held
//! against are read when the call is made, so a change (a failure rate, a
//! broken switch) applies to the very next call.

use super::{choice, read, spec};
use rand::Rng;
use shared::{AttemptResult, FailureKind, ParamSpec, Params};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::sync::watch;

/// How long a downstream at capacity takes to refuse a call.
const REFUSAL: Duration = Duration::from_millis(10);

/// The downstream's controls: how often a call fails, how long it takes,
/// how it fails, and a switch that makes every call fail.
pub fn params(failure_pct: f64, latency_ms: f64) -> Vec<ParamSpec> {
    let kinds: Vec<&str> = FailureKind::ALL.iter().map(|k| k.as_str()).collect();
    vec![
        spec(
            "failure_pct",
            "Calls that fail",
            "%",
            (0.0, 100.0),
            failure_pct,
            true,
        ),
        spec(
            "latency_ms",
            "Call latency",
            "ms",
            (1.0, 5_000.0),
            latency_ms,
            true,
        ),
        choice(
            "failure_type",
            "Failure type",
            &kinds,
            FailureKind::Network as usize as f64,
            true,
        ),
        broken(),
    ]
}

/// The switch that breaks the downstream.
pub fn broken() -> ParamSpec {
    choice("broken", "Downstream broken", &["off", "on"], 0.0, true)
}

/// How many calls the downstream serves at once; those beyond fail at once.
pub fn capacity(default: f64) -> ParamSpec {
    spec(
        "capacity",
        "Downstream capacity",
        "calls",
        (1.0, 32.0),
        default,
        true,
    )
}

/// The random numbers one call needs, each uniform in [0, 1).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Draw {
    /// Where in its range the call's latency falls.
    pub latency: f64,
    /// Held against the failure rate: below it, the call fails.
    pub failure: f64,
}

impl Draw {
    pub fn new(rng: &mut impl Rng) -> Draw {
        let latency = rng.random();
        let failure = rng.random();
        Draw { latency, failure }
    }
}

/// How a kind of call behaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    /// Shortest and longest time it takes, in whole milliseconds.
    pub latency_ms: (u64, u64),
    pub failure_pct: f64,
    /// How it fails when it does.
    pub kind: FailureKind,
    /// The caller's limit on each attempt: a call that would take longer
    /// fails with a timeout when it runs out.
    pub timeout_ms: Option<u64>,
}

impl Profile {
    /// How a call with `draw` goes: how long until it comes back, and how.
    /// `broken`: the downstream is down and fails every call this way.
    pub fn answer(&self, draw: Draw, broken: Option<FailureKind>) -> (Duration, AttemptResult) {
        let (shortest, longest) = self.latency_ms;
        let span = longest.saturating_sub(shortest);
        // Whole milliseconds, each as likely as the next, both ends included.
        let took = shortest + ((draw.latency * (span + 1) as f64) as u64).min(span);
        if let Some(limit) = self.timeout_ms
            && took > limit
        {
            let kind = FailureKind::Timeout;
            return (Duration::from_millis(limit), AttemptResult::Failed { kind });
        }
        let result = match broken {
            Some(kind) => AttemptResult::Failed { kind },
            None if draw.failure * 100.0 < self.failure_pct => {
                AttemptResult::Failed { kind: self.kind }
            }
            None => AttemptResult::Succeeded,
        };
        (Duration::from_millis(took), result)
    }
}

/// What a call asks of the downstream.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Request {
    /// A call as the controls say: `latency_ms` give or take a quarter,
    /// failing `failure_pct` % of the time with `failure_type`, or every
    /// time with it while `broken` is on.
    Controls,
    /// A task of this profile, whose failure rate `failure_scale_pct`
    /// scales; while `broken` is on every call fails with a network error.
    Task(Profile),
}

/// The downstream.
#[derive(Debug)]
pub struct Downstream {
    params: watch::Receiver<Params>,
    /// Calls being served, for a downstream with a `capacity` parameter.
    busy: Option<Arc<AtomicU32>>,
}

/// One call, made: when it comes back and how.
#[derive(Debug)]
pub struct Call {
    pub latency: Duration,
    pub result: AttemptResult,
    /// The capacity the call takes up while it lasts.
    _slot: Option<Slot>,
}

/// A place among the calls being served, given back when dropped (however
/// the call ends, a stopped run included).
#[derive(Debug)]
struct Slot(Arc<AtomicU32>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Downstream {
    /// A downstream that serves any number of calls at once.
    pub fn new(params: watch::Receiver<Params>) -> Downstream {
        Downstream { params, busy: None }
    }

    /// A downstream that serves at most `capacity` (a live parameter) calls
    /// at once and refuses the rest, after a moment, as overloaded: many
    /// callers retrying in step fail again together.
    pub fn with_capacity(params: watch::Receiver<Params>) -> Downstream {
        Downstream {
            params,
            busy: Some(Arc::default()),
        }
    }

    /// Makes a call now.
    pub fn call(&self, request: &Request, draw: Draw) -> Call {
        let params = self.params.borrow();
        let slot = match &self.busy {
            Some(busy) => {
                let capacity = read(&params, "capacity").max(1.0) as u32;
                let taken = busy.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                    (n < capacity).then_some(n + 1)
                });
                if taken.is_err() {
                    return Call {
                        latency: REFUSAL,
                        result: AttemptResult::Failed {
                            kind: FailureKind::Resource,
                        },
                        _slot: None,
                    };
                }
                Some(Slot(Arc::clone(busy)))
            }
            None => None,
        };
        let broken = read(&params, "broken") >= 1.0;
        let (profile, broken) = match request {
            Request::Controls => {
                let profile = controls(&params);
                (profile, broken.then_some(profile.kind))
            }
            Request::Task(profile) => {
                let scale = read(&params, "failure_scale_pct") / 100.0;
                let profile = Profile {
                    failure_pct: (profile.failure_pct * scale).min(100.0),
                    ..*profile
                };
                (profile, broken.then_some(FailureKind::Network))
            }
        };
        let (latency, result) = profile.answer(draw, broken);
        Call {
            latency,
            result,
            _slot: slot,
        }
    }
}

/// The profile the controls describe now.
fn controls(params: &Params) -> Profile {
    let latency = read(params, "latency_ms");
    let shortest = (latency * 0.75).round().max(1.0) as u64;
    let longest = ((latency * 1.25).round() as u64).max(shortest);
    let kind = FailureKind::from_index(read(params, "failure_type") as usize)
        .unwrap_or(FailureKind::Network);
    Profile {
        latency_ms: (shortest, longest),
        failure_pct: read(params, "failure_pct"),
        kind,
        timeout_ms: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, f64)]) -> watch::Receiver<Params> {
        let params: Params = pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
        watch::channel(params).1
    }

    fn draw(latency: f64, failure: f64) -> Draw {
        Draw { latency, failure }
    }

    #[test]
    fn latency_spreads_a_quarter_either_side_and_failures_follow_the_rate() {
        let down = Downstream::new(params(&[
            ("latency_ms", 100.0),
            ("failure_pct", 10.0),
            ("failure_type", 3.0),
        ]));
        let call = |l, f| {
            let c = down.call(&Request::Controls, draw(l, f));
            (c.latency.as_millis(), c.result)
        };
        let ok = AttemptResult::Succeeded;
        let processing = AttemptResult::Failed {
            kind: FailureKind::Processing,
        };
        assert_eq!(call(0.0, 0.5), (75, ok));
        assert_eq!(call(0.999_999, 0.5), (125, ok));
        assert_eq!(call(0.5, 0.099), (100, processing));
        assert_eq!(call(0.5, 0.1), (100, ok));
    }

    #[test]
    fn a_broken_downstream_fails_every_call_its_way() {
        let controls = Downstream::new(params(&[
            ("latency_ms", 1.0),
            ("failure_pct", 0.0),
            ("failure_type", 4.0),
            ("broken", 1.0),
        ]));
        let c = controls.call(&Request::Controls, draw(0.9, 0.99));
        let validation = AttemptResult::Failed {
            kind: FailureKind::Validation,
        };
        assert_eq!(
            (c.latency, c.result),
            (Duration::from_millis(1), validation)
        );

        let tasks = Downstream::new(params(&[("broken", 1.0), ("failure_scale_pct", 100.0)]));
        let profile = Profile {
            latency_ms: (100, 300),
            failure_pct: 10.0,
            kind: FailureKind::Processing,
            timeout_ms: Some(1_000),
        };
        let c = tasks.call(&Request::Task(profile), draw(0.5, 0.99));
        let network = AttemptResult::Failed {
            kind: FailureKind::Network,
        };
        assert_eq!((c.latency, c.result), (Duration::from_millis(200), network));
    }

    #[test]
    fn a_task_over_its_timeout_fails_at_the_timeout() {
        let down = Downstream::new(params(&[("failure_scale_pct", 0.0)]));
        let profile = Profile {
            latency_ms: (800, 1_800),
            failure_pct: 60.0,
            kind: FailureKind::Timeout,
            timeout_ms: Some(500),
        };
        let c = down.call(&Request::Task(profile), draw(0.0, 0.99));
        let timeout = AttemptResult::Failed {
            kind: FailureKind::Timeout,
        };
        assert_eq!((c.latency, c.result), (Duration::from_millis(500), timeout));
        let within = Profile {
            timeout_ms: Some(800),
            ..profile
        };
        let c = down.call(&Request::Task(within), draw(0.0, 0.0));
        assert_eq!(
            (c.latency, c.result),
            (Duration::from_millis(800), AttemptResult::Succeeded),
            "a call that takes exactly its timeout makes it; a scale of 0 % never fails"
        );
    }

    #[test]
    fn calls_beyond_capacity_are_refused_until_a_place_frees() {
        let (tx, rx) = watch::channel(Params::from([
            ("capacity".to_owned(), 2.0),
            ("latency_ms".to_owned(), 100.0),
        ]));
        let down = Downstream::with_capacity(rx);
        let a = down.call(&Request::Controls, draw(0.5, 0.5));
        let b = down.call(&Request::Controls, draw(0.5, 0.5));
        let refused = down.call(&Request::Controls, draw(0.5, 0.5));
        let overloaded = AttemptResult::Failed {
            kind: FailureKind::Resource,
        };
        assert_eq!(
            (a.result, b.result),
            (AttemptResult::Succeeded, AttemptResult::Succeeded)
        );
        assert_eq!((refused.latency, refused.result), (REFUSAL, overloaded));
        drop(a);
        let c = down.call(&Request::Controls, draw(0.5, 0.5));
        assert_eq!(c.result, AttemptResult::Succeeded, "a place freed");
        assert_eq!(
            down.call(&Request::Controls, draw(0.5, 0.5)).result,
            overloaded
        );
        tx.send_modify(|p| {
            p.insert("capacity".to_owned(), 3.0);
        });
        let third = down.call(&Request::Controls, draw(0.5, 0.5));
        assert_eq!(third.result, AttemptResult::Succeeded, "capacity is live");
    }
}

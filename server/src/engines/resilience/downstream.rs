//! The simulated downstream the failure-and-recovery patterns call: how
//! long a call takes and how it comes back.
//!
//! A call's fate comes from two places. Its random numbers are drawn when
//! its job is made, in the engine's own task, so a seed repeats exactly
//! however the tasks happen to interleave; the parameters they are held
//! against are read when the call is made, so a change (a failure rate, a
//! broken switch) applies to the very next call.

use crate::engines::Settings;
use rand::Rng;
use shared::ParamSet;
use shared::resilience::params::DownstreamParams;
use shared::{AttemptResult, FailureKind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// How long a downstream at capacity takes to refuse a call.
const REFUSAL: Duration = Duration::from_millis(10);

/// The downstream's controls as they are now, as a pattern's parameters
/// set them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Controls {
    /// What a call made as the controls say is like; `None` for a pattern
    /// whose calls each bring their own profile (`Request::Task`).
    pub calls: Option<DownstreamParams>,
    /// Every call fails.
    pub broken: bool,
    /// Calls served at once, if the downstream is limited; those beyond
    /// are refused, after a moment, as overloaded.
    pub capacity: Option<u32>,
    /// Scales every task profile's failure rate, in percent.
    pub failure_scale_pct: f64,
}

impl Controls {
    /// Calls as the downstream's own controls describe them.
    pub fn of(calls: DownstreamParams) -> Controls {
        Controls {
            calls: Some(calls),
            broken: calls.broken,
            capacity: None,
            failure_scale_pct: 100.0,
        }
    }
}

/// Reads a pattern's parameters into the downstream's controls.
pub type ReadControls = fn(&Settings) -> Controls;

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
    params: Settings,
    controls: ReadControls,
    /// Calls being served, for a downstream of limited capacity.
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
    /// A downstream whose controls `controls` reads from `params`, at
    /// every call. One whose controls give it a capacity (a live parameter)
    /// serves at most that many calls at once: many callers retrying in
    /// step fail again together.
    pub fn new(params: Settings, controls: ReadControls) -> Downstream {
        let limited = controls(&params).capacity.is_some();
        Downstream {
            params,
            controls,
            busy: limited.then(Arc::default),
        }
    }

    /// Makes a call now.
    pub fn call(&self, request: &Request, draw: Draw) -> Call {
        let controls = (self.controls)(&self.params);
        let slot = match &self.busy {
            Some(busy) => {
                let capacity = controls.capacity.unwrap_or(u32::MAX).max(1);
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
        let broken = controls.broken;
        let (profile, broken) = match request {
            Request::Controls => {
                let profile = described(controls.calls.unwrap_or_else(DownstreamParams::at_preset));
                (profile, broken.then_some(profile.kind))
            }
            Request::Task(profile) => {
                let scale = controls.failure_scale_pct / 100.0;
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

/// The profile of a call as the controls describe it.
fn described(calls: DownstreamParams) -> Profile {
    let latency = calls.latency_ms;
    let shortest = (latency * 0.75).round().max(1.0) as u64;
    let longest = ((latency * 1.25).round() as u64).max(shortest);
    Profile {
        latency_ms: (shortest, longest),
        failure_pct: calls.failure_pct,
        kind: calls.failure_type,
        timeout_ms: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use shared::Params;
    use shared::pattern::resilient_pool::ResilientPoolParams;
    use shared::pattern::retry_backoff::RetryBackoffParams;
    use tokio::sync::watch;

    fn params(pairs: &[(&str, f64)]) -> Settings {
        let params: Params = pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
        Settings::new(watch::channel(params).1)
    }

    /// Every control at once: the calls', and the tasks' scale.
    fn all(s: &Settings) -> Controls {
        Controls {
            failure_scale_pct: s.get::<ResilientPoolParams>().failure_scale_pct,
            ..Controls::of(s.get())
        }
    }

    /// The same, with the capacity `retry-backoff` sets.
    fn limited(s: &Settings) -> Controls {
        Controls {
            capacity: Some(s.get::<RetryBackoffParams>().capacity),
            ..all(s)
        }
    }

    fn draw(latency: f64, failure: f64) -> Draw {
        Draw { latency, failure }
    }

    #[test]
    fn latency_spreads_a_quarter_either_side_and_failures_follow_the_rate() {
        let down = Downstream::new(
            params(&[
                ("latency_ms", 100.0),
                ("failure_pct", 10.0),
                ("failure_type", 3.0),
            ]),
            all,
        );
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
        let controls = Downstream::new(
            params(&[
                ("latency_ms", 1.0),
                ("failure_pct", 0.0),
                ("failure_type", 4.0),
                ("broken", 1.0),
            ]),
            all,
        );
        let c = controls.call(&Request::Controls, draw(0.9, 0.99));
        let validation = AttemptResult::Failed {
            kind: FailureKind::Validation,
        };
        assert_eq!(
            (c.latency, c.result),
            (Duration::from_millis(1), validation)
        );

        let tasks = Downstream::new(
            params(&[("broken", 1.0), ("failure_scale_pct", 100.0)]),
            all,
        );
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
        let down = Downstream::new(params(&[("failure_scale_pct", 0.0)]), all);
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
        let down = Downstream::new(Settings::new(rx), limited);
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

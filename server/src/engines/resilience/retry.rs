//! Retrying with exponential backoff, and the loop that takes one job
//! through its attempts: past the breaker (if there is one), to the
//! downstream, and after a failure that is worth retrying, through a wait
//! that doubles each time, up to a cap.
//!
//! Without jitter, callers that failed together wait exactly as long and
//! come back together; "full jitter" draws each wait anywhere between zero
//! and the backoff, which spreads them out.

use super::breaker::{Admission, SharedBreaker, Ticket};
use super::downstream::{Downstream, Draw, Request};
use crate::clock::Clock;
use crate::engines::{Ctx, Settings};
use crate::sink::Sink;
use rand::Rng;
use shared::resilience::Wait;
use shared::resilience::params::RetryParams;
use shared::{AttemptResult, GiveUp, JobOutcome, ResilienceEvent, TaskId};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// When and how often to try again.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    pub base_ms: u64,
    pub factor: f64,
    /// No wait is longer.
    pub cap_ms: u64,
    /// Draw each wait between zero and the backoff ("full jitter").
    pub jitter: bool,
}

impl RetryPolicy {
    pub fn new(params: RetryParams) -> RetryPolicy {
        let RetryParams {
            max_retries,
            base_ms,
            factor,
            cap_ms,
            jitter,
        } = params;
        RetryPolicy {
            max_retries,
            base_ms,
            factor,
            cap_ms,
            jitter,
        }
    }

    /// The backoff after failed attempt `n` (from 1), before jitter: the
    /// seed's base × 2ⁿ⁻¹ × factor, capped, in whole milliseconds.
    pub fn backoff_ms(&self, n: u32) -> u64 {
        // In f64, with the exponent held at 63 (by then any backoff is far
        // past any cap), so no attempt number overflows it.
        let doubling = 2_f64.powi(n.saturating_sub(1).min(63) as i32);
        let ms = self.base_ms as f64 * doubling * self.factor;
        ms.min(self.cap_ms as f64).round() as u64
    }

    /// The wait after failed attempt `n`; `uniform` (in [0, 1)) places a
    /// jittered wait in [0, backoff], whole milliseconds each as likely.
    pub fn wait(&self, n: u32, uniform: f64) -> Wait {
        let backoff_ms = self.backoff_ms(n);
        let delay_ms = if self.jitter {
            ((uniform * (backoff_ms as f64 + 1.0)) as u64).min(backoff_ms)
        } else {
            backoff_ms
        };
        Wait {
            delay_ms,
            backoff_ms,
        }
    }
}

/// The random numbers one attempt may need.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AttemptDraw {
    pub call: Draw,
    /// Places the jittered wait after it, should it fail.
    pub jitter: f64,
}

/// Draws, in a fixed order, what `attempts` attempts may need. Call it in
/// the engine's own task as the job is made, never in a spawned one, so
/// the same seed draws the same numbers for the same job.
pub fn draws(rng: &mut impl Rng, attempts: u32) -> Vec<AttemptDraw> {
    (0..attempts)
        .map(|_| {
            let call = Draw::new(rng);
            let jitter = rng.random();
            AttemptDraw { call, jitter }
        })
        .collect()
}

/// A job, made and reported as submitted, ready to make its attempts.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: TaskId,
    /// Its own limit; the policy's, read live, may be lower.
    pub max_retries: u32,
    pub request: Request,
    /// One for each attempt it may make (`max_retries + 1`).
    pub draws: Vec<AttemptDraw>,
}

impl Job {
    /// A job with its draws for every attempt it may make.
    pub fn new(id: TaskId, max_retries: u32, request: Request, rng: &mut impl Rng) -> Job {
        Job {
            id,
            max_retries,
            request,
            draws: draws(rng, max_retries + 1),
        }
    }
}

/// What a job's attempts run with, shared by all the jobs of a run.
#[derive(Debug, Clone)]
pub struct Caller {
    clock: Clock,
    sink: Sink,
    /// The run's token: stopped, a job returns without a word (the run
    /// records it as cancelled).
    token: CancellationToken,
    params: Settings,
    downstream: Arc<Downstream>,
    breaker: Option<Arc<SharedBreaker>>,
    /// Whether failed attempts are retried, by the policy in `params`.
    retries: bool,
    /// The virtual instant of the run's overall deadline, if it has one:
    /// a job unfinished then ends timed out.
    deadline: Option<Duration>,
}

/// How a wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Waited {
    Done,
    Stopped,
    Deadline,
}

impl Caller {
    /// Jobs of `ctx`'s run calling `downstream` once each, with no breaker.
    pub fn new(ctx: &Ctx, downstream: Downstream) -> Caller {
        Caller {
            clock: ctx.clock.clone(),
            sink: ctx.sink.clone(),
            token: ctx.token.clone(),
            params: ctx.params.clone(),
            downstream: Arc::new(downstream),
            breaker: None,
            retries: false,
            deadline: None,
        }
    }

    /// Every call asks `breaker` first.
    pub fn breaker(self, breaker: Arc<SharedBreaker>) -> Caller {
        Caller {
            breaker: Some(breaker),
            ..self
        }
    }

    /// Failed attempts are retried by the policy in the run's parameters.
    pub fn retrying(self) -> Caller {
        Caller {
            retries: true,
            ..self
        }
    }

    /// Jobs not finished at `deadline` (virtual time) end timed out.
    pub fn until(self, deadline: Duration) -> Caller {
        Caller {
            deadline: Some(deadline),
            ..self
        }
    }

    pub fn sink(&self) -> &Sink {
        &self.sink
    }

    /// Cancelled when the run stops.
    pub fn token(&self) -> &CancellationToken {
        &self.token
    }

    /// Whether the deadline has come.
    pub fn past_deadline(&self) -> bool {
        self.deadline.is_some_and(|d| self.clock.now() >= d)
    }

    /// Waits until the deadline; forever if there is none.
    pub async fn deadline(&self) {
        match self.deadline {
            Some(at) => self.clock.sleep_until(at).await,
            None => std::future::pending().await,
        }
    }

    /// Waits `d` of virtual time, unless the run stops or its deadline
    /// comes first. At the very instant of the deadline, the deadline wins.
    async fn wait(&self, d: Duration) -> Waited {
        let until = self.clock.now() + d;
        tokio::select! {
            biased;
            () = self.token.cancelled() => Waited::Stopped,
            () = self.deadline() => Waited::Deadline,
            () = self.clock.sleep_until(until) => Waited::Done,
        }
    }

    fn policy(&self) -> Option<RetryPolicy> {
        self.retries.then(|| RetryPolicy::new(self.params.get()))
    }
}

/// Takes `job` through its attempts until one succeeds, it gives up, the
/// breaker refuses it, the deadline passes or the run stops.
pub async fn run_job(caller: Caller, job: Job) {
    let id = job.id;
    let mut calls = 0;
    for n in 1.. {
        if caller.token.is_cancelled() {
            return;
        }
        if caller.past_deadline() {
            timed_out(&caller, id, calls, None);
            return;
        }
        let draw = job.draws.get(n as usize - 1).copied().unwrap_or_default();
        let ticket = caller.sink.record(|r| {
            let admission = match &caller.breaker {
                Some(breaker) => {
                    let (admission, changes) = breaker.admit(r.now());
                    changes.emit(r);
                    admission
                }
                None => Admission::Call(Ticket::default()),
            };
            match admission {
                Admission::Call(ticket) => {
                    r.emit(ResilienceEvent::AttemptStarted {
                        job: id,
                        attempt: n,
                        trial: ticket.trial,
                    });
                    Some(ticket)
                }
                Admission::Rejected(state) => {
                    r.emit(ResilienceEvent::AttemptRejected {
                        job: id,
                        attempt: n,
                        state,
                    });
                    r.emit(ResilienceEvent::JobEnded {
                        job: id,
                        outcome: JobOutcome::Rejected { attempts: n - 1 },
                    });
                    None
                }
            }
        });
        let Some(ticket) = ticket else { return };
        calls = n;
        let call = caller.downstream.call(&job.request, draw.call);
        match caller.wait(call.latency).await {
            Waited::Done => {}
            Waited::Stopped => return,
            Waited::Deadline => {
                timed_out(&caller, id, calls, Some(ticket));
                return;
            }
        }
        let result = call.result;
        // The downstream has answered: its place is free.
        drop(call);
        let wait = caller.sink.record(|r| {
            let recorded = caller
                .breaker
                .as_ref()
                .map(|b| b.record(ticket, result == AttemptResult::Succeeded, r.now()))
                .unwrap_or_default();
            r.emit(ResilienceEvent::AttemptEnded {
                job: id,
                attempt: n,
                result,
                counted: recorded.counted,
            });
            recorded.changes.emit(r);
            let next = decide(&caller, &job, n, result, draw.jitter);
            match next {
                Next::End(outcome) => r.emit(ResilienceEvent::JobEnded { job: id, outcome }),
                Next::Retry(wait) => r.emit(ResilienceEvent::Backoff {
                    job: id,
                    delay_ms: wait.delay_ms,
                    backoff_ms: wait.backoff_ms,
                }),
            }
            next
        });
        let Next::Retry(wait) = wait else { return };
        match caller.wait(Duration::from_millis(wait.delay_ms)).await {
            Waited::Done => {}
            Waited::Stopped => return,
            Waited::Deadline => {
                timed_out(&caller, id, calls, None);
                return;
            }
        }
    }
}

/// What follows an attempt.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Next {
    End(JobOutcome),
    Retry(Wait),
}

/// After attempt `n` came back with `result`: done, give up, or wait and
/// try again, by the policy as it is now.
fn decide(caller: &Caller, job: &Job, n: u32, result: AttemptResult, jitter: f64) -> Next {
    let AttemptResult::Failed { kind } = result else {
        return Next::End(JobOutcome::Succeeded { attempts: n });
    };
    let policy = caller.policy();
    let limit = policy.map_or(0, |p| p.max_retries).min(job.max_retries);
    let give_up = |reason| {
        Next::End(JobOutcome::Failed {
            attempts: n,
            kind,
            reason,
        })
    };
    if !kind.retryable() {
        return give_up(GiveUp::NotRetryable);
    }
    match policy {
        Some(policy) if n <= limit => Next::Retry(policy.wait(n, jitter)),
        _ => give_up(GiveUp::OutOfRetries),
    }
}

/// Ends a job the deadline cut off after `calls` calls; `out` is the call
/// still out, which will never report to the breaker.
fn timed_out(caller: &Caller, id: TaskId, calls: u32, out: Option<Ticket>) {
    caller.sink.record(|r| {
        if let (Some(breaker), Some(ticket)) = (&caller.breaker, out) {
            breaker.abandon(ticket);
        }
        r.emit(ResilienceEvent::JobEnded {
            job: id,
            outcome: JobOutcome::TimedOut { attempts: calls },
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(base_ms: u64, factor: f64, cap_ms: u64) -> RetryPolicy {
        RetryPolicy {
            max_retries: 64,
            base_ms,
            factor,
            cap_ms,
            jitter: false,
        }
    }

    #[test]
    fn backoff_doubles_from_base_times_factor_up_to_the_cap() {
        let seed = policy(100, 2.0, 10_000);
        let waits: Vec<u64> = (1..=8).map(|n| seed.backoff_ms(n)).collect();
        assert_eq!(waits, [200, 400, 800, 1_600, 3_200, 6_400, 10_000, 10_000]);
        // The other seed's loop: 100 ms doubling, capped at 5 s.
        let plain = policy(100, 1.0, 5_000);
        let waits: Vec<u64> = (1..=7).map(|n| plain.backoff_ms(n)).collect();
        assert_eq!(waits, [100, 200, 400, 800, 1_600, 3_200, 5_000]);
        assert_eq!(policy(100, 1.5, 60_000).backoff_ms(2), 300);
    }

    #[test]
    fn backoff_never_overflows() {
        let widest = policy(2_000, 4.0, 60_000);
        for n in [0, 1, 30, 63, 64, 65, 1_000, u32::MAX] {
            assert!(widest.backoff_ms(n) <= 60_000, "attempt {n}");
        }
        assert_eq!(widest.backoff_ms(64), 60_000);
        assert_eq!(widest.backoff_ms(u32::MAX), 60_000);
        assert_eq!(widest.backoff_ms(0), widest.backoff_ms(1));
    }

    #[test]
    fn full_jitter_spans_zero_to_the_backoff() {
        let jittered = RetryPolicy {
            jitter: true,
            ..policy(100, 2.0, 10_000)
        };
        assert_eq!(
            jittered.wait(1, 0.0),
            Wait {
                delay_ms: 0,
                backoff_ms: 200
            }
        );
        assert_eq!(jittered.wait(1, 0.999_999).delay_ms, 200);
        assert_eq!(jittered.wait(2, 0.5).delay_ms, 200);
        let plain = policy(100, 2.0, 10_000);
        assert_eq!(plain.wait(2, 0.0).delay_ms, 400, "no jitter, no draw");
    }
}

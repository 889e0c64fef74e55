//! Circuit breaker: a caller that stops calling a downstream that keeps
//! failing, and checks now and then whether it has recovered.
//!
//! The breaker counts consecutive failures; at the threshold it opens and
//! refuses every call at once, so callers fail fast instead of piling onto
//! a dead service. After the reset timeout it turns half-open and lets one
//! trial call through: a success closes it, a failure opens it again.

use super::breaker::SharedBreaker;
use super::downstream::{Controls, Downstream, Request};
use super::retry::{Caller, Job, run_job};
use crate::engines::{About, Prompt, Ctx, Settings};
use shared::pattern::circuit_breaker::CircuitBreakerParams;
use shared::{JobSpec, ResilienceEvent};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::task::TaskTracker;

pub const ABOUT: About = About {
    title: "Circuit breaker",
    summary: "A caller makes a call every 100 ms through a breaker to a downstream that \
                  fails one call in ten. Five failures in a row open the breaker: from then \
                  on every call is refused at once, without touching the downstream, until \
                  the reset timeout has passed. Then one trial call decides whether it \
                  closes again or stays open.",
    try_this: "Press Break it: after the fifth failure in a row the breaker opens and the \
                   calls turn into instant refusals. Lower the reset timeout to 2 s to see \
                   the half-open trial fail and reopen it, then press Heal it and watch the \
                   next trial close it.",
    questions: &[Prompt {
        at_ms: 1000,
        text: "The downstream breaks now. What happens after the fifth failure in a row?",
        choices: &["Calls go on failing, slowly", "The breaker opens: calls are refused at once", "The breaker retries every call"],
        answer: 1,
    }],
};

/// The downstream as the pattern's controls set it.
fn controls(params: &Settings) -> Controls {
    Controls::of(params.get::<CircuitBreakerParams>().downstream)
}

pub async fn run(mut ctx: Ctx) {
    let limit = match ctx.params.get::<CircuitBreakerParams>().calls {
        0 => None,
        n => Some(n),
    };
    let breaker = Arc::new(SharedBreaker::new(ctx.params.clone()));
    let downstream = Downstream::new(ctx.params.clone(), controls);
    let caller = Caller::new(&ctx, downstream).breaker(breaker.clone());

    // The watcher outlives the calls only until the run is over.
    let done = ctx.token.child_token();
    let watch = {
        let (clock, sink, stop) = (ctx.clock.clone(), ctx.sink.clone(), done.clone());
        async move { breaker.watch(clock, sink, stop).await }
    };
    ctx.tracker.spawn(watch);

    let calls = TaskTracker::new();
    let mut next_at = Duration::ZERO;
    for id in 0.. {
        let job = Job::new(id, 0, Request::Controls, &mut ctx.rng);
        ctx.sink.emit(ResilienceEvent::JobSubmitted {
            job: JobSpec {
                id,
                label: format!("call {}", id + 1),
                max_retries: 0,
                timeout_ms: None,
                about: None,
            },
        });
        ctx.tracker
            .spawn(calls.track_future(run_job(caller.clone(), job)));
        if limit.is_some_and(|n| id + 1 >= n) {
            break;
        }
        // Read afresh: the interval is live.
        next_at += ctx.params.get::<CircuitBreakerParams>().interval_ms;
        tokio::select! {
            biased;
            () = ctx.token.cancelled() => return,
            () = ctx.clock.sleep_until(next_at) => {}
        }
    }
    calls.close();
    tokio::select! {
        biased;
        () = ctx.token.cancelled() => {}
        () = calls.wait() => {}
    }
    done.cancel();
}

#[cfg(test)]
mod tests {
    use crate::engines::trial::{self, Driven};
    use CircuitState::{Closed, HalfOpen, Open};
    use shared::{AttemptResult, CircuitState, Command, Envelope, Event, FailureKind, Params, PatternId, ResilienceEvent, RunStatus};

    /// Every change of state, with when it happened.
    fn transitions(events: &[Envelope]) -> Vec<(CircuitState, CircuitState, u64)> {
        events
            .iter()
            .filter_map(|e| match e.event {
                Event::Resilience(ResilienceEvent::BreakerMoved { from, to }) => Some((from, to, e.at_ms)),
                _ => None,
            })
            .collect()
    }

    fn heal() -> Command {
        Command::SetParams {
            params: Params::from([("broken".to_owned(), 0.0)]),
        }
    }

    /// Asserts that between `from` and `to` (exclusive) no call went to the
    /// downstream and every call was refused in `state`; returns how many.
    fn refused_between(events: &[Envelope], from: u64, to: u64, state: CircuitState) -> usize {
        let mut refused = 0;
        for e in events.iter().filter(|e| e.at_ms > from && e.at_ms < to) {
            match e.event {
                Event::Resilience(ResilienceEvent::AttemptStarted { job, .. }) => {
                    panic!("call {job} went through at {} ms", e.at_ms)
                }
                Event::Resilience(ResilienceEvent::AttemptRejected { state: s, .. }) => {
                    assert_eq!(s, state, "at {} ms", e.at_ms);
                    refused += 1;
                }
                _ => {}
            }
        }
        refused
    }

    #[tokio::test(start_paused = true)]
    async fn a_broken_downstream_opens_the_breaker_and_a_healed_one_closes_it() {
        let changes = [("broken", 1.0), ("reset_ms", 1_000.0), ("failure_pct", 0.0)];
        let mut d = Driven::start(PatternId::CircuitBreaker, &changes, 42).await;
        d.until(2_000).await;
        d.command(heal()).await.expect("broken is live");
        d.until(4_000).await;

        let moves = transitions(&d.events);
        let steps: Vec<_> = moves.iter().map(|&(from, to, _)| (from, to)).collect();
        assert_eq!(
            steps,
            [
                (Closed, Open),
                (Open, HalfOpen),
                (HalfOpen, Open),
                (Open, HalfOpen),
                (HalfOpen, Closed)
            ]
        );
        let at: Vec<u64> = moves.iter().map(|m| m.2).collect();

        // It opens on the fifth counted failure, in the same instant.
        let counted: Vec<&Envelope> = d
            .events
            .iter()
            .filter(|e| matches!(e.event, Event::Resilience(ResilienceEvent::AttemptEnded { counted: true, .. })))
            .take_while(|e| e.at_ms <= at[0])
            .collect();
        assert_eq!(counted.len(), 5);
        assert_eq!(counted[4].at_ms, at[0]);
        let network = AttemptResult::Failed {
            kind: FailureKind::Network,
        };
        assert!(counted.iter().all(|e| matches!(
            e.event,
            Event::Resilience(ResilienceEvent::AttemptEnded { result, .. }) if result == network
        )));

        // Open: every call refused until exactly the reset timeout.
        assert!(refused_between(&d.events, at[0], at[1], Open) >= 9);
        assert_eq!(at[1], at[0] + 1_000);
        // Half-open: one trial; it fails and reopens the breaker.
        let trials: Vec<&Envelope> = d
            .events
            .iter()
            .filter(|e| matches!(e.event, Event::Resilience(ResilienceEvent::AttemptStarted { trial: true, .. })))
            .collect();
        assert_eq!(trials.len(), 2);
        assert!(trials[0].at_ms >= at[1] && trials[0].at_ms < at[1] + 100);
        refused_between(&d.events, trials[0].at_ms, at[2], HalfOpen);
        let trial_end = |trial: &Envelope| {
            let Event::Resilience(ResilienceEvent::AttemptStarted { job, .. }) = trial.event else {
                unreachable!()
            };
            d.events.iter().find_map(|e| match e.event {
                Event::Resilience(ResilienceEvent::AttemptEnded {
                    job: j,
                    result,
                    counted,
                    ..
                }) if j == job => Some((e.at_ms, result, counted)),
                _ => None,
            })
        };
        assert_eq!(trial_end(trials[0]), Some((at[2], network, true)));
        // Healed at 2 s: the next trial, a reset timeout later, closes it.
        assert!(at[2] < 2_000);
        assert_eq!(at[3], at[2] + 1_000);
        refused_between(&d.events, at[2], at[3], Open);
        assert_eq!(
            trial_end(trials[1]),
            Some((at[4], AttemptResult::Succeeded, true))
        );
        let breaker = d.folded.resilience().and_then(|r| r.breaker.clone());
        let breaker = breaker.expect("a breaker");
        assert_eq!((breaker.state, breaker.failures), (Closed, 0));
        assert_eq!(breaker.history[0].failures, 5);
        assert_eq!(breaker.history[2].failures, 6, "the failed trial counts");
        // Seed 42: call 5 (sent at 400 ms) fails at 494 ms; the trial sent
        // at 1500 ms fails at 1594 ms; the one sent at 2600 ms succeeds.
        assert_eq!(at, [494, 1_494, 1_594, 2_594, 2_699]);

        d.command(Command::Stop).await.expect("stop");
    }

    /// The reset timeout is live, an open breaker's included: it turns
    /// half-open that long after it opened, at once if that has passed.
    #[tokio::test(start_paused = true)]
    async fn a_shorter_reset_timeout_applies_to_the_open_breaker() {
        let broken = [("broken", 1.0), ("failure_pct", 0.0)];
        let reset = |ms: f64| Command::SetParams {
            params: Params::from([("reset_ms".to_owned(), ms)]),
        };
        let mut d = Driven::start(PatternId::CircuitBreaker, &broken, 42).await;
        d.until(1_000).await;
        assert_eq!(transitions(&d.events), [(Closed, Open, 494)]);
        d.command(reset(2_000.0)).await.expect("reset_ms is live");
        d.until(2_600).await;
        assert_eq!(transitions(&d.events)[1], (Open, HalfOpen, 2_494));
        d.command(Command::Stop).await.expect("stop");

        let mut d = Driven::start(PatternId::CircuitBreaker, &broken, 42).await;
        d.until(1_000).await;
        d.command(reset(300.0)).await.expect("reset_ms is live");
        d.until(1_001).await;
        assert_eq!(transitions(&d.events)[1], (Open, HalfOpen, 1_000));
        d.command(Command::Stop).await.expect("stop");
    }

    #[tokio::test(start_paused = true)]
    async fn with_one_failure_in_ten_the_breaker_stays_closed() {
        let mut d = Driven::start(PatternId::CircuitBreaker, &[], 42).await;
        d.until(20_000).await;
        assert_eq!(transitions(&d.events), []);
        let r = d.folded.resilience().expect("a resilience run");
        let failed = r.failures.iter().sum::<u64>();
        assert!(failed >= 10, "the downstream does fail: {failed}");
        assert_eq!(d.folded.counters.rejected, 0);
        d.command(Command::Stop).await.expect("stop");
    }

    /// A breaker that opens, turns half-open and closes within one frame
    /// (16 ms) shows all three transitions, not only where it ended up.
    #[tokio::test(start_paused = true)]
    async fn transitions_within_one_frame_are_all_kept() {
        // One 1 ms call every 12 ms: a failed trial at c reopens the
        // breaker at c + 1, it is half-open again at c + 11, and the next
        // call comes at c + 12. No call lands on the millisecond of a
        // reset, so no tie between tasks decides the rhythm.
        let changes = [
            ("broken", 1.0),
            ("reset_ms", 10.0),
            ("latency_ms", 1.0),
            ("interval_ms", 12.0),
            ("failure_pct", 0.0),
        ];
        let mut d = Driven::start(PatternId::CircuitBreaker, &changes, 42).await;
        d.until(95).await;
        d.command(heal()).await.expect("broken is live");
        d.until(200).await;
        d.command(Command::Stop).await.expect("stop");

        let moves = transitions(&d.events);
        let closed = moves.iter().position(|m| m.1 == Closed).expect("it closes");
        let last = &moves[closed - 2..=closed];
        let steps: Vec<_> = last.iter().map(|&(from, to, _)| (from, to)).collect();
        assert_eq!(
            steps,
            [(HalfOpen, Open), (Open, HalfOpen), (HalfOpen, Closed)]
        );
        assert!(last[2].2 - last[0].2 <= 16, "{last:?}");
        // Whatever the seed (a 1 ms call takes 1 ms): five failures from
        // 0 to 48 open it at 49; the trials at 60 and 72 fail, the one
        // sent at 84 fails at 85, it is half-open at 95 as the heal comes,
        // and the trial sent at 96 closes it at 97.
        assert_eq!(
            last,
            [
                (HalfOpen, Open, 85),
                (Open, HalfOpen, 95),
                (HalfOpen, Closed, 97)
            ]
        );

        let history = &d
            .folded
            .resilience()
            .and_then(|r| r.breaker.clone())
            .expect("a breaker")
            .history;
        let kept: Vec<_> = history.iter().map(|t| (t.from, t.to, t.at_ms)).collect();
        assert!(kept.ends_with(last), "{kept:?}");
        assert_eq!(d.folded.status, RunStatus::Stopped);
    }

    #[tokio::test(start_paused = true)]
    async fn a_fixed_number_of_calls_finishes_the_run() {
        let t = trial::run(PatternId::CircuitBreaker, &[("calls", 30.0)], 42).await;
        let c = t.end.counters;
        assert_eq!((c.submitted, c.in_flight), (30, 0));
        assert_eq!(c.completed + c.failed, 30);
        assert_eq!(t.end.status, RunStatus::Finished);
    }

    #[tokio::test(start_paused = true)]
    async fn stopping_mid_run_ends_every_call() {
        let changes = [("latency_ms", 1_000.0)];
        let mut d = Driven::start(PatternId::CircuitBreaker, &changes, 42).await;
        d.until(1_050).await;
        assert!(d.folded.counters.in_flight >= 5);
        d.command(Command::Stop).await.expect("stop");
        assert_eq!(d.folded.status, RunStatus::Stopped);
        let c = d.folded.counters;
        assert_eq!(c.in_flight, 0);
        assert!(c.cancelled >= 5);
        assert!(
            d.folded
                .resilience()
                .is_some_and(|r| r.jobs.iter().all(|j| j.outcome.is_some()))
        );
    }
}

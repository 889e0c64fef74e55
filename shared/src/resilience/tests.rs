use super::*;
use crate::event::{Event, RunEvent};
use crate::pattern::PatternId;
use crate::scene::RunSnapshot;

fn fold(pattern: PatternId, events: Vec<(u64, Event)>) -> RunSnapshot {
    crate::fold::fold_checked(pattern, events)
}

fn job(id: TaskId) -> Event {
    Event::Resilience(ResilienceEvent::JobSubmitted {
        job: JobSpec {
            id,
            label: format!("call {id}"),
            max_retries: 2,
            timeout_ms: None,
            about: None,
        },
    })
}

fn moved(from: CircuitState, to: CircuitState) -> Event {
    Event::Resilience(ResilienceEvent::BreakerMoved { from, to })
}

#[test]
fn a_job_recovers_after_a_retry_and_the_counters_follow() {
    let failed = AttemptResult::Failed {
        kind: FailureKind::Network,
    };
    let snap = fold(
        PatternId::RetryBackoff,
        vec![
            (0, job(0)),
            (
                0,
                Event::Resilience(ResilienceEvent::AttemptStarted {
                    job: 0,
                    attempt: 1,
                    trial: false,
                }),
            ),
            (
                100,
                Event::Resilience(ResilienceEvent::AttemptEnded {
                    job: 0,
                    attempt: 1,
                    result: failed,
                    counted: false,
                }),
            ),
            (
                100,
                Event::Resilience(ResilienceEvent::Backoff {
                    job: 0,
                    delay_ms: 200,
                    backoff_ms: 200,
                }),
            ),
            (
                300,
                Event::Resilience(ResilienceEvent::AttemptStarted {
                    job: 0,
                    attempt: 2,
                    trial: false,
                }),
            ),
            (
                400,
                Event::Resilience(ResilienceEvent::AttemptEnded {
                    job: 0,
                    attempt: 2,
                    result: AttemptResult::Succeeded,
                    counted: false,
                }),
            ),
            (
                400,
                Event::Resilience(ResilienceEvent::JobEnded {
                    job: 0,
                    outcome: JobOutcome::Succeeded { attempts: 2 },
                }),
            ),
        ],
    );
    let scene = snap.resilience().expect("a resilience run");
    assert!(scene.breaker.is_none(), "retry-backoff has no breaker");
    let j = scene.job(0).expect("job 0");
    assert_eq!(j.attempts.len(), 2);
    assert_eq!(j.attempts[0].wait.map(|w| w.delay_ms), Some(200));
    assert_eq!(j.outcome.map(JobOutcome::key), Some("recovered"));
    assert_eq!((scene.attempts, scene.retries, scene.recovered), (2, 1, 1));
    assert_eq!(scene.failures_of(FailureKind::Network), 1);
    assert_eq!((snap.counters.completed, snap.counters.in_flight), (1, 0));
}

/// A breaker that opens, goes half-open and closes again within a few
/// milliseconds (less than one frame) keeps all three transitions, in
/// order: the strip is the fold of events, not a sample of the state.
#[test]
fn every_transition_is_kept_however_short_the_state_lasted() {
    use CircuitState::{Closed, HalfOpen, Open};
    let snap = fold(
        PatternId::CircuitBreaker,
        vec![
            (
                1000,
                Event::Resilience(ResilienceEvent::BreakerCount { failures: 5 }),
            ),
            (1000, moved(Closed, Open)),
            (1001, job(0)),
            (
                1001,
                Event::Resilience(ResilienceEvent::AttemptRejected {
                    job: 0,
                    attempt: 1,
                    state: Open,
                }),
            ),
            (
                1001,
                Event::Resilience(ResilienceEvent::JobEnded {
                    job: 0,
                    outcome: JobOutcome::Rejected { attempts: 0 },
                }),
            ),
            (1005, moved(Open, HalfOpen)),
            (1005, job(1)),
            (
                1005,
                Event::Resilience(ResilienceEvent::AttemptStarted {
                    job: 1,
                    attempt: 1,
                    trial: true,
                }),
            ),
            (
                1009,
                Event::Resilience(ResilienceEvent::AttemptEnded {
                    job: 1,
                    attempt: 1,
                    result: AttemptResult::Succeeded,
                    counted: true,
                }),
            ),
            (
                1009,
                Event::Resilience(ResilienceEvent::BreakerCount { failures: 0 }),
            ),
            (1009, moved(HalfOpen, Closed)),
            (
                1009,
                Event::Resilience(ResilienceEvent::JobEnded {
                    job: 1,
                    outcome: JobOutcome::Succeeded { attempts: 1 },
                }),
            ),
        ],
    );
    let b = snap
        .resilience()
        .and_then(|s| s.breaker.as_ref())
        .expect("a breaker");
    let steps: Vec<_> = b.history.iter().map(|t| (t.from, t.to, t.at_ms)).collect();
    assert_eq!(
        steps,
        [
            (Closed, Open, 1000),
            (Open, HalfOpen, 1005),
            (HalfOpen, Closed, 1009)
        ]
    );
    assert_eq!(b.history[0].failures, 5);
    assert_eq!((b.state, b.failures, b.trial), (Closed, 0, None));
    assert_eq!(b.last_trial.map(|t| t.succeeded), Some(true));
    assert_eq!((b.rejected, snap.counters.rejected), (1, 1));
}

#[test]
fn an_endless_run_keeps_every_live_job_and_the_latest_ended() {
    let mut events = Vec::new();
    for id in 0..(MAX_JOBS as u32 + 40) {
        events.push((u64::from(id), job(id)));
        if id != 3 {
            events.push((
                u64::from(id),
                Event::Resilience(ResilienceEvent::JobEnded {
                    job: id,
                    outcome: JobOutcome::Cancelled,
                }),
            ));
        }
    }
    let snap = fold(PatternId::CircuitBreaker, events);
    let scene = snap.resilience().expect("a resilience run");
    assert_eq!(scene.jobs.len(), MAX_JOBS);
    assert!(scene.job(3).is_some_and(|j| j.outcome.is_none()));
    assert_eq!(scene.jobs.last().map(Job::id), Some(MAX_JOBS as u32 + 39));
    assert_eq!(snap.counters.in_flight, 1);
}

#[test]
fn a_resilience_snapshot_round_trips_through_json() {
    let snap = fold(
        PatternId::ResilientPool,
        vec![
            (
                0,
                Event::Run(RunEvent::Reset {
                    params: Default::default(),
                    seed: 1,
                    capacity: 0,
                    workers: 3,
                }),
            ),
            (0, job(0)),
            (
                0,
                Event::Resilience(ResilienceEvent::JobPicked { job: 0, worker: 1 }),
            ),
            (
                0,
                Event::Resilience(ResilienceEvent::AttemptStarted {
                    job: 0,
                    attempt: 1,
                    trial: false,
                }),
            ),
            (
                5,
                Event::Resilience(ResilienceEvent::AttemptEnded {
                    job: 0,
                    attempt: 1,
                    result: AttemptResult::Failed {
                        kind: FailureKind::Processing,
                    },
                    counted: true,
                }),
            ),
            (
                5,
                Event::Resilience(ResilienceEvent::BreakerCount { failures: 1 }),
            ),
        ],
    );
    let json = serde_json::to_string(&snap).expect("serializes");
    let back: RunSnapshot = serde_json::from_str(&json).expect("reads back");
    assert_eq!(back, snap);
    assert_eq!(
        snap.resilience().map(|s| s.workers.clone()),
        Some(vec![None, Some(0), None])
    );
}

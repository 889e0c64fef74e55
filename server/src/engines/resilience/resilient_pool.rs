//! Resilient pool: the seed's service, where workers take tasks of four
//! kinds off a queue and carry each through retries, a shared circuit
//! breaker and an overall deadline.
//!
//! Each kind fails in its own way: reliable tasks rarely, with processing
//! errors that retrying cannot fix; flaky ones often, with network errors
//! that a retry usually gets past; slow and timeout tasks by running out of
//! time. Every counted failure, whatever its task, brings the one breaker
//! closer to opening for all of them.

use super::breaker::SharedBreaker;
use super::downstream::{Controls, Downstream, Profile, Request};
use super::retry::{Caller, Job, run_job};
use crate::engines::{About, Prompt, Ctx, Settings};
use shared::pattern::resilient_pool::ResilientPoolParams;
use shared::{FailureKind, JobOutcome, JobSpec, ResilienceEvent};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc};
use tokio_util::task::TaskTracker;

/// A kind of task, as the seed describes it.
#[derive(Debug, Clone, Copy)]
struct Kind {
    name: &'static str,
    profile: Profile,
    max_retries: u32,
}

const fn kind(
    name: &'static str,
    failure_pct: f64,
    failure: FailureKind,
    latency_ms: (u64, u64),
    timeout_ms: u64,
    max_retries: u32,
) -> Kind {
    Kind {
        name,
        profile: Profile {
            latency_ms,
            failure_pct,
            kind: failure,
            timeout_ms: Some(timeout_ms),
        },
        max_retries,
    }
}

const RELIABLE: Kind = kind(
    "reliable",
    10.0,
    FailureKind::Processing,
    (100, 300),
    1_000,
    2,
);
const FLAKY: Kind = kind("flaky", 40.0, FailureKind::Network, (200, 500), 1_000, 3);
const SLOW: Kind = kind("slow", 20.0, FailureKind::Timeout, (1_000, 3_000), 3_000, 2);
/// Takes longer than its own timeout every time.
const TIMEOUT: Kind = kind("timeout", 60.0, FailureKind::Timeout, (800, 1_800), 500, 2);

/// The seed's seven tasks, in order; more tasks go round again.
const CYCLE: [Kind; 7] = [RELIABLE, FLAKY, SLOW, RELIABLE, FLAKY, TIMEOUT, RELIABLE];

impl Kind {
    fn about(&self) -> String {
        let p = self.profile;
        format!(
            "{} % {} failures, {}-{} ms",
            p.failure_pct,
            p.kind.as_str(),
            p.latency_ms.0,
            p.latency_ms.1
        )
    }
}

pub const ABOUT: About = About {
    title: "Resilient worker pool",
    summary: "Three workers take seven tasks off a queue: reliable, flaky, slow and \
                  timeout kinds, each failing its own way. A failure worth retrying is tried \
                  again after a doubling wait; processing errors are not. All attempts share \
                  one circuit breaker, and whatever is unfinished after 10 s times out.",
    try_this: "Watch timeout-1: every attempt hits its 500 ms limit, the waits double, \
                   and it runs out of retries while the others succeed. Raise the failure \
                   rates to 200 %: some tasks recover on a retry, and a reliable task's \
                   processing error is never retried. Press Break it: five failures in a \
                   row open the breaker, and the tasks still waiting are refused at once.",
    questions: &[Prompt {
        at_ms: 400,
        text: "Every attempt of timeout-1 takes longer than its 500 ms limit. How does it end?",
        choices: &["It succeeds on a retry", "It times out each time and runs out of retries", "It is never retried"],
        answer: 1,
    }],
};

type Queue = Arc<Mutex<mpsc::Receiver<Job>>>;

/// The downstream as the pattern's controls set it: each task brings its
/// own profile, whose failure rate the controls scale.
fn controls(params: &Settings) -> Controls {
    let p: ResilientPoolParams = params.get();
    Controls {
        calls: None,
        broken: p.broken,
        capacity: None,
        failure_scale_pct: p.failure_scale_pct,
    }
}

pub async fn run(mut ctx: Ctx) {
    let p: ResilientPoolParams = ctx.params.get();
    let (workers, tasks, deadline) = (p.workers.max(1), p.tasks.max(1), p.deadline_ms);
    let breaker = Arc::new(SharedBreaker::new(ctx.params.clone()));
    let caller = Caller::new(&ctx, Downstream::new(ctx.params.clone(), controls))
        .breaker(breaker.clone())
        .retrying()
        .until(deadline);

    let done = ctx.token.child_token();
    let watch = {
        let (clock, sink, stop) = (ctx.clock.clone(), ctx.sink.clone(), done.clone());
        async move { breaker.watch(clock, sink, stop).await }
    };
    ctx.tracker.spawn(watch);

    // Every task is made and queued at the start; a slot for each, so
    // none waits to get in.
    let (tx, rx) = mpsc::channel(tasks);
    // How many tasks of each kind so far, to number them.
    let mut made: BTreeMap<&str, u32> = BTreeMap::new();
    let planned: Vec<(JobSpec, Job)> = (0..tasks)
        .map(|i| {
            let kind = CYCLE[i % CYCLE.len()];
            let n = made.entry(kind.name).or_default();
            *n += 1;
            let id = i as u32;
            let spec = JobSpec {
                id,
                label: format!("{}-{n}", kind.name),
                max_retries: kind.max_retries,
                timeout_ms: kind.profile.timeout_ms.map(|t| t as u32),
                about: Some(kind.about()),
            };
            let job = Job::new(
                id,
                kind.max_retries,
                Request::Task(kind.profile),
                &mut ctx.rng,
            );
            (spec, job)
        })
        .collect();
    ctx.sink.record(|r| {
        for (spec, job) in planned {
            r.emit(ResilienceEvent::JobSubmitted { job: spec });
            // Cannot fail: the channel has a slot for every task and its
            // receiver is held below.
            let _ = tx.try_send(job);
        }
    });
    drop(tx);

    let queue: Queue = Arc::new(Mutex::new(rx));
    let crew = TaskTracker::new();
    for worker in 0..workers {
        let job = work(worker, caller.clone(), Arc::clone(&queue));
        ctx.tracker.spawn(crew.track_future(job));
    }
    crew.close();
    tokio::select! {
        biased;
        () = ctx.token.cancelled() => return,
        () = crew.wait() => {}
    }
    // The workers have stopped: every task done, or the deadline passed
    // with some still queued, which time out without an attempt.
    let mut queue = queue.lock().await;
    queue.close();
    ctx.sink.record(|r| {
        while let Ok(job) = queue.try_recv() {
            r.emit(ResilienceEvent::JobEnded {
                job: job.id,
                outcome: JobOutcome::TimedOut { attempts: 0 },
            });
        }
    });
    done.cancel();
}

/// One worker: takes the next task and carries it through its attempts,
/// until the queue is empty, the deadline passes or the run stops.
async fn work(worker: u32, caller: Caller, queue: Queue) {
    loop {
        let next = tokio::select! {
            biased;
            () = caller.token().cancelled() => return,
            () = caller.deadline() => return,
            next = async { queue.lock().await.recv().await } => next,
        };
        let Some(job) = next else { return };
        caller.sink().emit(ResilienceEvent::JobPicked {
            job: job.id,
            worker,
        });
        run_job(caller.clone(), job).await;
    }
}

#[cfg(test)]
mod tests {
    use super::{FLAKY, Kind, RELIABLE, SLOW, TIMEOUT};
    use crate::engines::trial::{self, Driven, Trial};
    use shared::{AttemptResult, CircuitState, Command, Event, FailureKind, GiveUp, Job, JobOutcome, PatternId, ResilienceEvent, RunEvent, RunStatus};

    fn kind_of(job: &Job) -> Kind {
        let label = &job.spec.label;
        [RELIABLE, FLAKY, SLOW, TIMEOUT]
            .into_iter()
            .find(|k| label.starts_with(&format!("{}-", k.name)))
            .unwrap_or_else(|| panic!("a task of no kind: {label}"))
    }

    /// Checks every task of a run without jitter against the rules: each
    /// attempt takes what its kind takes and fails its kind's way (or
    /// with a network error, broken); a retry follows only a retryable
    /// failure, exactly 200, 400, 800 ms after it; and the outcome agrees
    /// with the attempts. `deadline`: the run's overall deadline.
    fn check_rules(t: &Trial, broken: bool, deadline: u64) {
        let r = t.end.resilience().expect("a resilience run");
        for job in &r.jobs {
            let label = &job.spec.label;
            let kind = kind_of(job);
            let (shortest, longest) = kind.profile.latency_ms;
            let timeout = kind.profile.timeout_ms.expect("every kind has a timeout");
            assert_eq!(job.spec.timeout_ms, Some(timeout as u32), "{label}");
            for (i, a) in job.attempts.iter().enumerate() {
                assert_eq!(a.n as usize, i + 1, "{label}");
                if a.rejected.is_some() {
                    assert_eq!(i + 1, job.attempts.len(), "{label}: refused, it stops");
                    continue;
                }
                let Some(end) = a.end_ms else {
                    assert_eq!(i + 1, job.attempts.len(), "{label}: cut off last");
                    continue;
                };
                let took = end - a.start_ms;
                let result = a.result.expect("an ended attempt has a result");
                if longest > timeout {
                    assert_eq!(took, timeout, "{label} attempt {}", a.n);
                    let over = AttemptResult::Failed {
                        kind: FailureKind::Timeout,
                    };
                    assert_eq!(result, over, "{label}");
                } else {
                    assert!((shortest..=longest).contains(&took), "{label}: {took} ms");
                    let failed = if broken {
                        FailureKind::Network
                    } else {
                        kind.profile.kind
                    };
                    let fine = [
                        AttemptResult::Succeeded,
                        AttemptResult::Failed { kind: failed },
                    ];
                    assert!(fine.contains(&result), "{label}: {result:?}");
                }
                if let Some(next) = job.attempts.get(i + 1) {
                    let AttemptResult::Failed { kind: k } = result else {
                        panic!("{label}: a retry after a success")
                    };
                    assert!(k.retryable(), "{label}: {k:?} retried");
                    let wait = a.wait.expect("a backoff before a retry");
                    assert_eq!(wait.delay_ms, 200 << i, "{label}");
                    assert_eq!(next.start_ms, end + wait.delay_ms, "{label}");
                }
            }
            let last = job.attempts.last();
            let n = job.attempts.len() as u32;
            match job.outcome.expect("every task ends") {
                JobOutcome::Succeeded { attempts } => {
                    assert_eq!(attempts, n, "{label}");
                    assert_eq!(last.and_then(|a| a.result), Some(AttemptResult::Succeeded));
                }
                JobOutcome::Failed {
                    attempts,
                    kind: k,
                    reason,
                } => {
                    assert_eq!(attempts, n, "{label}");
                    let failed = AttemptResult::Failed { kind: k };
                    assert_eq!(last.and_then(|a| a.result), Some(failed), "{label}");
                    let expected = if k.retryable() {
                        assert_eq!(n, kind.max_retries + 1, "{label} used every retry");
                        GiveUp::OutOfRetries
                    } else {
                        GiveUp::NotRetryable
                    };
                    assert_eq!(reason, expected, "{label}");
                }
                JobOutcome::Rejected { attempts } => {
                    assert_eq!(attempts + 1, n, "{label}");
                    assert!(last.is_some_and(|a| a.rejected.is_some()), "{label}");
                }
                JobOutcome::TimedOut { attempts } => {
                    assert_eq!(attempts, job.calls(), "{label}");
                    assert_eq!(job.ended_ms, Some(deadline), "{label}");
                }
                JobOutcome::Cancelled => panic!("{label}: cancelled in a run left to finish"),
            }
        }
        // The scene's tallies agree with the events.
        for kind in FailureKind::ALL {
            let failed = t
                .pick(|e| match e {
                    Event::Resilience(ResilienceEvent::AttemptEnded {
                        result: AttemptResult::Failed { kind: k },
                        ..
                    }) if *k == kind => Some(()),
                    _ => None,
                })
                .len() as u64;
            assert_eq!(r.failures_of(kind), failed, "{kind:?}");
        }
        let recovered = r
            .jobs
            .iter()
            .filter(
                |j| matches!(j.outcome, Some(JobOutcome::Succeeded { attempts }) if attempts > 1),
            )
            .count() as u64;
        assert_eq!(r.recovered, recovered);
        let c = t.end.counters;
        assert_eq!(c.submitted, r.jobs.len() as u64);
        assert_eq!(c.in_flight, 0);
        assert_eq!(t.end.status, RunStatus::Finished);
    }

    /// Each task's label, outcome, and when it ended.
    fn outcomes(t: &Trial) -> Vec<(String, JobOutcome, u64)> {
        let r = t.end.resilience().expect("a resilience run");
        r.jobs
            .iter()
            .map(|j| {
                let outcome = j.outcome.expect("every task ends");
                (
                    j.spec.label.clone(),
                    outcome,
                    j.ended_ms.unwrap_or_default(),
                )
            })
            .collect()
    }

    fn succeeded(attempts: u32) -> JobOutcome {
        JobOutcome::Succeeded { attempts }
    }

    fn out_of_retries(attempts: u32, kind: FailureKind) -> JobOutcome {
        JobOutcome::Failed {
            attempts,
            kind,
            reason: GiveUp::OutOfRetries,
        }
    }

    fn list(outcomes: &[(&str, JobOutcome, u64)]) -> Vec<(String, JobOutcome, u64)> {
        outcomes
            .iter()
            .map(|(label, o, at)| ((*label).to_owned(), *o, *at))
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn the_seed_scenario_with_seed_42() {
        let t = trial::run(PatternId::ResilientPool, &[], 42).await;
        check_rules(&t, false, 10_000);
        // Every task but one gets through on its first attempt; timeout-1
        // (picked at 385 ms) runs out of time three times: 385-885,
        // 1085-1585 and 1985-2485 ms. Three failures never open the breaker.
        assert_eq!(
            outcomes(&t),
            list(&[
                ("reliable-1", succeeded(1), 205),
                ("flaky-1", succeeded(1), 200),
                ("slow-1", succeeded(1), 1_995),
                ("reliable-2", succeeded(1), 385),
                ("flaky-2", succeeded(1), 533),
                ("timeout-1", out_of_retries(3, FailureKind::Timeout), 2_485),
                ("reliable-3", succeeded(1), 827),
            ])
        );
        let r = t.end.resilience().expect("a resilience run");
        assert_eq!(r.failures_of(FailureKind::Timeout), 3);
        assert_eq!((r.attempts, r.retries, r.recovered), (9, 2, 0));
        let breaker = r.breaker.as_ref().expect("a breaker");
        assert_eq!(
            (breaker.state, breaker.transitions),
            (CircuitState::Closed, 0)
        );
        let workers = t.pick(|e| match e {
            Event::Resilience(ResilienceEvent::JobPicked { worker, .. }) => Some(*worker),
            _ => None,
        });
        assert_eq!(workers.len(), 7);
        assert!(workers.iter().all(|w| *w < 3));
    }

    /// Twice the seed's failure rates over three rounds of tasks (and a
    /// breaker that tolerates it): the rules hold for every seed, and
    /// between them every way a task can end shows up.
    #[tokio::test(start_paused = true)]
    async fn higher_failure_rates_bring_recoveries_and_both_kinds_of_give_up() {
        let changes = [
            ("failure_scale_pct", 200.0),
            ("tasks", 21.0),
            ("threshold", 20.0),
        ];
        let mut seen = Vec::new();
        for seed in [1, 2, 3, 42] {
            let t = trial::run(PatternId::ResilientPool, &changes, seed).await;
            check_rules(&t, false, 10_000);
            for (_, outcome, _) in outcomes(&t) {
                let reason = match outcome {
                    JobOutcome::Failed { reason, .. } => Some(reason),
                    _ => None,
                };
                seen.push((outcome.key(), reason));
            }
        }
        let failed = |reason| ("failed", Some(reason));
        for key in [
            ("succeeded", None),
            ("recovered", None),
            failed(GiveUp::NotRetryable),
            failed(GiveUp::OutOfRetries),
            ("timed_out", None),
        ] {
            assert!(seen.contains(&key), "{key:?} never happened: {seen:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_broken_downstream_opens_the_breaker_and_the_rest_are_refused() {
        let t = trial::run(PatternId::ResilientPool, &[("broken", 1.0)], 42).await;
        check_rules(&t, true, 10_000);
        let moves = t.pick(|e| match e {
            Event::Resilience(ResilienceEvent::BreakerMoved { from, to }) => Some((*from, *to)),
            _ => None,
        });
        assert_eq!(moves, [(CircuitState::Closed, CircuitState::Open)]);
        let opened = t
            .time_of(|e| matches!(e, Event::Resilience(ResilienceEvent::BreakerMoved { .. })))
            .expect("it opens");
        let counted: Vec<u64> = t
            .events
            .iter()
            .filter(|e| matches!(e.event, Event::Resilience(ResilienceEvent::AttemptEnded { counted: true, .. })))
            .map(|e| e.at_ms)
            .collect();
        assert_eq!(counted.len(), 5, "nothing counts once it is open");
        assert_eq!(counted[4], opened);
        // reliable-1's third network failure is the fifth; the calls still
        // out then (flaky-1's, slow-1's) come back uncounted, and every
        // attempt after is refused at once.
        assert_eq!(opened, 1_234);
        let rejected = |attempts| JobOutcome::Rejected { attempts };
        assert_eq!(
            outcomes(&t),
            list(&[
                ("reliable-1", out_of_retries(3, FailureKind::Network), 1_234),
                ("flaky-1", rejected(3), 2_182),
                ("slow-1", rejected(1), 2_195),
                ("reliable-2", rejected(0), 1_234),
                ("flaky-2", rejected(0), 1_234),
                ("timeout-1", rejected(0), 1_234),
                ("reliable-3", rejected(0), 1_234),
            ])
        );
        let r = t.end.resilience().expect("a resilience run");
        assert_eq!(r.breaker.as_ref().map(|b| b.rejected), Some(6));
    }

    #[tokio::test(start_paused = true)]
    async fn at_the_deadline_unfinished_tasks_time_out_and_the_run_finishes() {
        let t = trial::run(PatternId::ResilientPool, &[("deadline_ms", 1_500.0)], 42).await;
        check_rules(&t, false, 1_500);
        let timed_out = |attempts| JobOutcome::TimedOut { attempts };
        // slow-1 is 1500 ms into a 1995 ms call; timeout-1 is in its second
        // attempt (1085-1585 ms).
        assert_eq!(
            outcomes(&t),
            list(&[
                ("reliable-1", succeeded(1), 205),
                ("flaky-1", succeeded(1), 200),
                ("slow-1", timed_out(1), 1_500),
                ("reliable-2", succeeded(1), 385),
                ("flaky-2", succeeded(1), 533),
                ("timeout-1", timed_out(2), 1_500),
                ("reliable-3", succeeded(1), 827),
            ])
        );
        let last = t.events.last().map(|e| (e.at_ms, e.event.clone()));
        let finished = Event::Run(RunEvent::Status {
            status: RunStatus::Finished,
        });
        assert_eq!(last, Some((1_500, finished)));
    }

    #[tokio::test(start_paused = true)]
    async fn tasks_still_queued_at_the_deadline_time_out_without_an_attempt() {
        let changes = [("deadline_ms", 1_000.0), ("workers", 1.0)];
        let t = trial::run(PatternId::ResilientPool, &changes, 42).await;
        check_rules(&t, false, 1_000);
        let never: Vec<String> = outcomes(&t)
            .into_iter()
            .filter(|(_, o, at)| *o == JobOutcome::TimedOut { attempts: 0 } && *at == 1_000)
            .map(|(label, ..)| label)
            .collect();
        // One worker: reliable-1 and flaky-1 are done by 405 ms, slow-1 is
        // cut off mid-call, and the four behind it never start.
        assert_eq!(never, ["reliable-2", "flaky-2", "timeout-1", "reliable-3"]);
        let slow = t
            .end
            .resilience()
            .and_then(|r| r.jobs.get(2))
            .and_then(|j| j.outcome);
        assert_eq!(slow, Some(JobOutcome::TimedOut { attempts: 1 }));
    }

    #[tokio::test(start_paused = true)]
    async fn stopping_mid_run_ends_every_task() {
        let mut d = Driven::start(PatternId::ResilientPool, &[], 42).await;
        d.until(700).await;
        // slow-1 and timeout-1 are in flight, reliable-3 is queued.
        assert_eq!(d.folded.counters.in_flight, 3);
        d.command(Command::Stop).await.expect("stop");
        assert_eq!(d.folded.status, RunStatus::Stopped);
        let c = d.folded.counters;
        assert_eq!((c.in_flight, c.cancelled, c.completed), (0, 3, 4));
        let r = d.folded.resilience().expect("a resilience run");
        assert!(r.jobs.iter().all(|j| j.outcome.is_some()));
        assert_eq!(r.workers, [None, None, None]);
    }
}

//! Retry with backoff: clients that try again after a failure, waiting
//! longer each time, against a downstream that can serve only a few calls
//! at once.
//!
//! A dozen clients call at the same moment, as after an outage. Those the
//! downstream cannot take fail, and without jitter they all wait exactly
//! as long and come back together, a thundering herd that overloads it
//! again. With jitter each waits a random part of its backoff, and the
//! retries spread out.

use super::downstream::{Controls, Downstream, Request};
use super::retry::{Caller, Job, run_job};
use crate::engines::{About, Prompt, Ctx, Settings};
use shared::pattern::retry_backoff::RetryBackoffParams;
use shared::resilience::params::{MAX_RETRIES};
use shared::{JobSpec, ResilienceEvent};
use tokio_util::task::TaskTracker;

pub const ABOUT: About = About {
    title: "Retry with backoff",
    summary: "Twelve clients call a downstream at once, as after an outage; it serves \
                  four calls at a time and refuses the rest. A refused or failed call is \
                  retried after a wait that doubles each time (200, 400, 800 ms), at most \
                  three times. Network, timeout and resource failures are worth a retry; \
                  processing and validation errors are not.",
    try_this: "Run it without jitter: the refused clients all come back at the same \
                   instant, overload the downstream again and are refused in waves. Switch \
                   jitter on and restart: each client waits a random part of its backoff, \
                   the retries spread out and the last client is done in half the time. \
                   With 32 clients, jitter decides how many get through at all.",
    questions: &[Prompt {
        at_ms: 100,
        text: "Twelve clients call at once; the downstream serves four and refuses the rest. Without jitter, when do the refused clients try again?",
        choices: &["Each at a random moment", "All at the same instant, 200 ms later", "Never"],
        answer: 1,
    }],
};

/// The downstream as the pattern's controls set it, capacity included.
fn controls(params: &Settings) -> Controls {
    let p: RetryBackoffParams = params.get();
    Controls {
        capacity: Some(p.capacity),
        ..Controls::of(p.downstream)
    }
}

pub async fn run(mut ctx: Ctx) {
    let clients = ctx.params.get::<RetryBackoffParams>().clients.max(1);
    let caller = Caller::new(&ctx, Downstream::new(ctx.params.clone(), controls)).retrying();
    // Drawn here, client by client, before any of them runs. A client has
    // no limit of its own: the policy's, read live, decides.
    let jobs: Vec<Job> = (0..clients)
        .map(|id| Job::new(id, MAX_RETRIES, Request::Controls, &mut ctx.rng))
        .collect();
    ctx.sink.record(|r| {
        for job in &jobs {
            r.emit(ResilienceEvent::JobSubmitted {
                job: JobSpec {
                    id: job.id,
                    label: format!("client {}", job.id + 1),
                    max_retries: job.max_retries,
                    timeout_ms: None,
                    about: None,
                },
            });
        }
    });
    let running = TaskTracker::new();
    for job in jobs {
        ctx.tracker
            .spawn(running.track_future(run_job(caller.clone(), job)));
    }
    running.close();
    tokio::select! {
        biased;
        () = ctx.token.cancelled() => {}
        () = running.wait() => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::engines::trial::{self, Driven, Trial};
    use shared::{Command, Event, FailureKind, GiveUp, JobOutcome, PatternId, ResilienceEvent, RunStatus, TaskId};
    use std::collections::BTreeMap;

    /// Each job's backoffs, in order: (delay, backoff).
    fn waits(t: &Trial) -> BTreeMap<TaskId, Vec<(u64, u64)>> {
        let mut waits: BTreeMap<TaskId, Vec<(u64, u64)>> = BTreeMap::new();
        for e in &t.events {
            if let Event::Resilience(ResilienceEvent::Backoff {
                job,
                delay_ms,
                backoff_ms,
            }) = e.event
            {
                waits.entry(job).or_default().push((delay_ms, backoff_ms));
            }
        }
        waits
    }

    /// Checks that each job's next attempt starts exactly its delay after
    /// the failed one ended.
    fn check_gaps(t: &Trial) {
        let mut ended: BTreeMap<TaskId, u64> = BTreeMap::new();
        let mut delay: BTreeMap<TaskId, u64> = BTreeMap::new();
        let mut checked = 0;
        for e in &t.events {
            match e.event {
                Event::Resilience(ResilienceEvent::AttemptEnded { job, .. }) => {
                    ended.insert(job, e.at_ms);
                }
                Event::Resilience(ResilienceEvent::Backoff { job, delay_ms, .. }) => {
                    assert_eq!(ended.get(&job), Some(&e.at_ms), "backoff as it failed");
                    delay.insert(job, delay_ms);
                }
                Event::Resilience(ResilienceEvent::AttemptStarted { job, attempt, .. }) if attempt > 1 => {
                    let wait = delay.remove(&job).expect("a backoff before a retry");
                    assert_eq!(e.at_ms - ended[&job], wait, "job {job} attempt {attempt}");
                    checked += 1;
                }
                _ => {}
            }
        }
        assert!(checked > 0, "no retry was checked");
    }

    #[tokio::test(start_paused = true)]
    async fn waits_double_from_base_times_factor_up_to_the_cap() {
        let changes = [
            ("clients", 3.0),
            ("broken", 1.0),
            ("max_retries", 10.0),
            ("cap_ms", 1_000.0),
            ("capacity", 32.0),
        ];
        let t = trial::run(PatternId::RetryBackoff, &changes, 42).await;
        let expected: Vec<(u64, u64)> = [200, 400, 800, 1_000, 1_000, 1_000, 1_000, 1_000]
            .into_iter()
            .chain([1_000, 1_000])
            .map(|d| (d, d))
            .collect();
        let waits = waits(&t);
        assert_eq!(waits.len(), 3);
        for (job, w) in &waits {
            assert_eq!(w, &expected, "client {}", job + 1);
        }
        check_gaps(&t);
        let network = FailureKind::Network;
        for job in &t.end.resilience().expect("a resilience run").jobs {
            assert_eq!(
                job.outcome,
                Some(JobOutcome::Failed {
                    attempts: 11,
                    kind: network,
                    reason: GiveUp::OutOfRetries
                })
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn processing_and_validation_errors_are_never_retried() {
        for kind in [FailureKind::Processing, FailureKind::Validation] {
            let changes = [
                ("clients", 32.0),
                ("failure_pct", 50.0),
                ("failure_type", kind as usize as f64),
                ("capacity", 32.0),
            ];
            let t = trial::run(PatternId::RetryBackoff, &changes, 42).await;
            let r = t.end.resilience().expect("a resilience run");
            assert!(r.jobs.iter().all(|j| j.attempts.len() == 1));
            assert_eq!((r.retries, waits(&t).len()), (0, 0));
            let failed = r.failures_of(kind);
            assert!(failed >= 8, "{kind:?}: only {failed} failed");
            let given_up = r
                .jobs
                .iter()
                .filter(|j| {
                    matches!(j.outcome, Some(JobOutcome::Failed { attempts: 1, reason: GiveUp::NotRetryable, kind: k }) if k == kind)
                })
                .count() as u64;
            assert_eq!(given_up, failed);
            assert_eq!(t.end.counters.completed + failed, 32);
        }
    }

    fn jittered(seed: u64) -> impl Future<Output = Trial> {
        let changes = [
            ("broken", 1.0),
            ("jitter", 1.0),
            ("max_retries", 5.0),
            ("capacity", 32.0),
        ];
        async move { trial::run(PatternId::RetryBackoff, &changes, seed).await }
    }

    #[tokio::test(start_paused = true)]
    async fn jitter_draws_each_wait_within_the_backoff_and_a_seed_repeats_it() {
        let a = jittered(42).await;
        let delays: Vec<u64> = waits(&a).values().flatten().map(|w| w.0).collect();
        for (job, w) in waits(&a) {
            let backoffs: Vec<u64> = w.iter().map(|w| w.1).collect();
            assert_eq!(
                backoffs,
                [200, 400, 800, 1_600, 3_200],
                "client {}",
                job + 1
            );
            assert!(w.iter().all(|(delay, backoff)| delay <= backoff), "{w:?}");
        }
        assert_eq!(delays.len(), 12 * 5);
        assert!(delays.iter().any(|d| *d != delays[0]));
        check_gaps(&a);
        let again = jittered(42).await;
        assert_eq!(waits(&again), waits(&a));
        assert_eq!(again.events, a.events);
        let other = jittered(7).await;
        assert_ne!(waits(&other), waits(&a));
    }

    /// The distinct instants at which attempt number `n` starts.
    fn instants(t: &Trial, n: u32) -> Vec<u64> {
        let mut starts: Vec<u64> = t
            .events
            .iter()
            .filter(|e| matches!(e.event, Event::Resilience(ResilienceEvent::AttemptStarted { attempt, .. }) if attempt == n))
            .map(|e| e.at_ms)
            .collect();
        starts.dedup();
        starts
    }

    /// How many attempts start at `ms`.
    fn starts_at(t: &Trial, ms: u64) -> usize {
        t.events
            .iter()
            .filter(|e| e.at_ms == ms && matches!(e.event, Event::Resilience(ResilienceEvent::AttemptStarted { .. })))
            .count()
    }

    /// When the last client ended.
    fn last_end(t: &Trial) -> u64 {
        t.events
            .iter()
            .filter(|e| matches!(e.event, Event::Resilience(ResilienceEvent::JobEnded { .. })))
            .map(|e| e.at_ms)
            .max()
            .unwrap_or_default()
    }

    fn overloaded(t: &Trial) -> u64 {
        t.end
            .resilience()
            .map_or(0, |r| r.failures_of(FailureKind::Resource))
    }

    #[tokio::test(start_paused = true)]
    async fn without_jitter_the_retries_come_back_in_waves_and_with_it_they_spread() {
        let herd = trial::run(PatternId::RetryBackoff, &[], 42).await;
        // Four calls are served, eight refused after 10 ms. All eight come
        // back 200 ms later in the same instant, and four are refused
        // again; those four come back together 400 ms after that.
        assert_eq!(instants(&herd, 2), [210]);
        assert_eq!(starts_at(&herd, 210), 8);
        assert_eq!(starts_at(&herd, 620), 4);
        // One more refusal: a client whose second call failed came back
        // at 695 ms, into the wave of four still being served.
        assert_eq!(overloaded(&herd), 13);
        let spread = trial::run(PatternId::RetryBackoff, &[("jitter", 1.0)], 42).await;
        let second = instants(&spread, 2);
        assert!(second.len() >= 6, "{second:?}");
        // Spread out, the retries find the downstream free sooner.
        assert_eq!((last_end(&herd), last_end(&spread)), (1_615, 784));
    }

    #[tokio::test(start_paused = true)]
    async fn a_larger_herd_gives_up_without_jitter_and_gets_through_with_it() {
        let many = [("clients", 32.0)];
        let herd = trial::run(PatternId::RetryBackoff, &many, 42).await;
        let spread = trial::run(PatternId::RetryBackoff, &[many[0], ("jitter", 1.0)], 42).await;
        let ended = |t: &Trial| (t.end.counters.completed, t.end.counters.failed);
        // Four at a time, in lockstep: four waves serve sixteen calls at
        // most, and the rest run out of retries.
        assert_eq!(ended(&herd), (15, 17));
        assert_eq!(ended(&spread), (28, 4));
    }

    #[tokio::test(start_paused = true)]
    async fn stopping_mid_run_ends_every_client() {
        let mut d = Driven::start(PatternId::RetryBackoff, &[("broken", 1.0)], 42).await;
        d.until(500).await;
        assert!(d.folded.counters.in_flight > 0);
        d.command(Command::Stop).await.expect("stop");
        assert_eq!(d.folded.status, RunStatus::Stopped);
        assert_eq!(d.folded.counters.in_flight, 0);
        assert_eq!(d.folded.counters.cancelled, 12);
        let r = d.folded.resilience().expect("a resilience run");
        assert!(
            r.jobs
                .iter()
                .all(|j| j.outcome == Some(JobOutcome::Cancelled))
        );
    }
}

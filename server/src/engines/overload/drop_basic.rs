//! Drop: a producer faster than its worker, and a queue that says no.
//!
//! Tasks go into a bounded channel with a non-blocking send. When every slot
//! is taken the send fails at once and the newcomer is dropped, so the
//! producer never waits and the system sheds load instead of falling behind.
//! `drop_blocking` runs the same load with a blocking send for contrast.

use super::load::{Pace, SimTask, spawn_workers};
use crate::engines::{About, Prompt, Ctx};
use rand::Rng;
use shared::pattern::drop_basic::DropBasicParams;
use shared::{DropReason, OverloadEvent, Task, TaskKind};
use std::sync::Arc;
use tokio::sync::{Mutex, mpsc};

/// The seed's task types, in rotation.
const KINDS: [TaskKind; 4] = [
    TaskKind::Email,
    TaskKind::File,
    TaskKind::Report,
    TaskKind::Backup,
];

super::load::load!(DropBasicParams);

pub const ABOUT: About = About {
    title: "Drop when full",
    summary: "The producer makes a task every 30 ms; one worker needs 200 ms for each. \
                  Tasks wait in a queue of five slots, and when all five are taken the \
                  newcomer is dropped on the spot: the producer never waits, so the system \
                  sheds load instead of falling behind.",
    try_this: "Start it and watch the queue fill within 150 ms, then count the drops. \
                   Add a second worker, or slow the producer to one task every 200 ms: \
                   when does dropping stop?",
    questions: &[Prompt {
        at_ms: 180,
        text: "The queue's five slots are full and the worker is busy. What happens to the next task the producer makes?",
        choices: &["It waits for a free slot", "It is dropped at once", "It pushes out the oldest task"],
        answer: 1,
    }],
};

/// What the producer does when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WhenFull {
    /// `try_send`: drop the newcomer.
    Drop,
    /// `send`: wait for a slot (backpressure).
    Wait,
}

pub async fn run(ctx: Ctx) {
    run_with(ctx, WhenFull::Drop).await;
}

pub(super) async fn run_with(mut ctx: Ctx, when_full: WhenFull) {
    let p: DropBasicParams = ctx.params.get();
    let (tx, rx) = mpsc::channel::<SimTask>(p.capacity.max(1));
    spawn_workers(&ctx, p.workers, Arc::new(Mutex::new(rx)));

    let mut pace = Pace::<DropBasicParams>::new(&ctx);
    loop {
        let id = pace.id;
        let sim = make_task(&mut ctx, id);
        ctx.sink.emit(OverloadEvent::Submitted { task: sim.task });
        match when_full {
            WhenFull::Drop => offer_or_drop(&ctx, &tx, sim),
            WhenFull::Wait => match offer_or_wait(&ctx, &tx, sim).await {
                Sent::Now => {}
                // Like a sleep after a blocking send: the next task comes one
                // interval after this one finally got in.
                Sent::AfterWaiting => pace.restart_from(ctx.clock.now()),
                Sent::Cancelled => break,
            },
        }
        if !pace.advance(&ctx).await {
            break;
        }
    }
    // Closing the channel lets the workers finish the queue and stop.
    drop(tx);
    ctx.tracker.close();
    ctx.tracker.wait().await;
}

fn make_task(ctx: &mut Ctx, id: u32) -> SimTask {
    let p: DropBasicParams = ctx.params.get();
    let priority = ctx.rng.random_range(0..10);
    let fails = !ctx.rng.random_bool((p.success_pct / 100.0).clamp(0.0, 1.0));
    let kind = KINDS[id as usize % KINDS.len()];
    SimTask {
        task: Task {
            id,
            kind,
            priority,
            work_ms: p.work_ms,
        },
        fails,
    }
}

/// The non-blocking send: the producer always moves on.
fn offer_or_drop(ctx: &Ctx, tx: &mpsc::Sender<SimTask>, sim: SimTask) {
    let id = sim.task.id;
    // Sent and recorded under the run's lock, so no worker can report taking
    // the task before it is recorded as queued.
    ctx.sink.record(|r| match tx.try_send(sim) {
        Ok(()) => r.emit(OverloadEvent::Enqueued { task: id }),
        Err(_full) => r.emit(OverloadEvent::Dropped {
            task: id,
            reason: DropReason::QueueFull,
        }),
    });
}

/// How a blocking send went.
enum Sent {
    Now,
    AfterWaiting,
    Cancelled,
}

/// The blocking send: wait for a slot.
async fn offer_or_wait(ctx: &Ctx, tx: &mpsc::Sender<SimTask>, sim: SimTask) -> Sent {
    let id = sim.task.id;
    let (permit, sent) = match tx.try_reserve() {
        Ok(permit) => (permit, Sent::Now),
        Err(_) => {
            ctx.sink.emit(OverloadEvent::Blocked { task: id });
            tokio::select! {
                biased;
                () = ctx.token.cancelled() => return Sent::Cancelled,
                permit = tx.reserve() => match permit {
                    Ok(permit) => (permit, Sent::AfterWaiting),
                    Err(_closed) => return Sent::Cancelled,
                },
            }
        }
    };
    ctx.sink.record(|r| {
        permit.send(sim);
        r.emit(OverloadEvent::Enqueued { task: id });
    });
    sent
}

#[cfg(test)]
mod tests {
    use crate::engines::trial;
    use shared::{DropReason, Event, OverloadEvent, PatternId, RunEvent};

    #[tokio::test(start_paused = true)]
    async fn the_seed_scenario_processes_eight_and_drops_seven() {
        let t = trial::run(PatternId::DropBasic, &[], 42).await;
        // Tasks every 30 ms, one worker at 200 ms, five slots: task 0 goes
        // straight to the worker, 1-5 fill the queue by 150 ms, 6 finds it
        // full; 7 gets the slot freed at 200 ms, 14 the one freed at 400 ms.
        assert_eq!(
            t.dropped(|r| *r == DropReason::QueueFull),
            [6, 8, 9, 10, 11, 12, 13]
        );
        let mut processed = t.finished(None);
        processed.sort_unstable();
        assert_eq!(processed, [0, 1, 2, 3, 4, 5, 7, 14]);
        assert_eq!(
            t.time_of(|e| matches!(e, Event::Overload(OverloadEvent::Dropped { task: 6, .. }))),
            Some(180)
        );
        assert_eq!(
            t.time_of(|e| matches!(e, Event::Overload(OverloadEvent::Enqueued { task: 14 }))),
            Some(420)
        );
        assert_eq!(
            t.time_of(|e| matches!(
                e,
                Event::Run(RunEvent::Status {
                    status: shared::RunStatus::Finished
                })
            )),
            Some(1600)
        );
        let c = t.end.counters;
        assert_eq!(
            (c.submitted, c.dropped, c.completed + c.failed, c.in_flight),
            (15, 7, 8, 0)
        );
        let by_kind: Vec<_> = t
            .end
            .overload()
            .drops_by_kind
            .iter()
            .map(|(k, n)| (k.as_str(), *n))
            .collect();
        assert_eq!(
            by_kind,
            [("email", 2), ("file", 2), ("report", 2), ("backup", 1)]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_same_seed_repeats_exactly_and_another_seed_differs() {
        let a = trial::run(
            PatternId::DropBasic,
            &[("tasks", 60.0), ("success_pct", 50.0)],
            7,
        )
        .await;
        let b = trial::run(
            PatternId::DropBasic,
            &[("tasks", 60.0), ("success_pct", 50.0)],
            7,
        )
        .await;
        let c = trial::run(
            PatternId::DropBasic,
            &[("tasks", 60.0), ("success_pct", 50.0)],
            8,
        )
        .await;
        assert_eq!(a.events, b.events);
        assert_ne!(
            a.finished(Some(shared::Outcome::Failed)),
            c.finished(Some(shared::Outcome::Failed))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn more_workers_drop_less() {
        let one = trial::run(PatternId::DropBasic, &[("tasks", 100.0)], 1).await;
        let four = trial::run(
            PatternId::DropBasic,
            &[("tasks", 100.0), ("workers", 4.0)],
            1,
        )
        .await;
        let eight = trial::run(
            PatternId::DropBasic,
            &[("tasks", 100.0), ("workers", 8.0)],
            1,
        )
        .await;
        assert!(
            one.end.counters.dropped > four.end.counters.dropped,
            "{:?} vs {:?}",
            one.end.counters,
            four.end.counters
        );
        // Eight workers at 200 ms each take a task every 25 ms: faster than 30 ms.
        assert_eq!(eight.end.counters.dropped, 0);
    }
}

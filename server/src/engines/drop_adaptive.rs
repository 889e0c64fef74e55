//! Adaptive drop: a load monitor tightens the admission policy as the queue
//! fills.
//!
//! Every sampling period a monitor task reads how full the channel is and
//! sets a load level. The producer consults the level before sending: at HIGH
//! it refuses everything below priority 7, at MEDIUM below 3, at LOW nothing.
//! A task the policy lets through can still meet a full queue and be dropped
//! there, so the two kinds of drop are counted apart.

use super::overload::{Pace, SimTask, load_params, spawn_workers};
use super::{Ctx, read, read_ms, spec};
use rand::Rng;
use shared::{DropReason, Event, Family, LoadLevel, PatternId, PatternInfo, Task, TaskKind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};

const KINDS: [TaskKind; 3] = [TaskKind::Batch, TaskKind::Realtime, TaskKind::Maintenance];

pub fn info() -> PatternInfo {
    PatternInfo {
        id: PatternId::DropAdaptive,
        family: Family::Overload,
        title: "Adaptive drop".to_owned(),
        summary: "A monitor reads the queue's fill every 500 ms. Above 80 % the load is HIGH \
                  and only tasks of priority 7 or more are accepted; above 50 % it is MEDIUM \
                  and priority 3 or more is needed; otherwise everything is accepted. A \
                  full queue still drops whatever the policy let through."
            .to_owned(),
        try_this: "Watch the level change at each reading, and compare policy drops with \
                   queue-full drops. Sample more often (100 ms): does the policy catch the \
                   overload sooner?"
            .to_owned(),
        params: load_params(20.0, 100.0, 3.0)
            .into_iter()
            .chain([
                spec(
                    "work_min_ms",
                    "Shortest work",
                    "ms",
                    (1.0, 5_000.0),
                    100.0,
                    true,
                ),
                spec(
                    "work_max_ms",
                    "Longest work",
                    "ms",
                    (1.0, 5_000.0),
                    400.0,
                    true,
                ),
                spec(
                    "sample_ms",
                    "Monitor reads every",
                    "ms",
                    (10.0, 5_000.0),
                    500.0,
                    true,
                ),
                spec("high_pct", "HIGH above", "%", (1.0, 99.0), 80.0, true),
                spec("medium_pct", "MEDIUM above", "%", (0.0, 98.0), 50.0, true),
            ])
            .collect(),
    }
}

/// The level for a queue holding `queued` of `capacity` slots: strictly
/// above `high_pct` percent is HIGH, strictly above `medium_pct` is MEDIUM.
pub fn level(queued: usize, capacity: usize, high_pct: u32, medium_pct: u32) -> LoadLevel {
    // Integer comparison of queued/capacity against pct/100, so 4 of 5 is
    // exactly 80 % and not above it.
    let fill = queued as u64 * 100;
    let cap = capacity.max(1) as u64;
    if fill > u64::from(high_pct) * cap {
        LoadLevel::High
    } else if fill > u64::from(medium_pct) * cap {
        LoadLevel::Medium
    } else {
        LoadLevel::Low
    }
}

/// The lowest priority a level accepts.
pub fn min_priority(level: LoadLevel) -> u8 {
    match level {
        LoadLevel::Low => 0,
        LoadLevel::Medium => 3,
        LoadLevel::High => 7,
    }
}

fn encode(level: LoadLevel) -> u8 {
    level as u8
}

fn decode(raw: u8) -> LoadLevel {
    match raw {
        2 => LoadLevel::High,
        1 => LoadLevel::Medium,
        _ => LoadLevel::Low,
    }
}

pub async fn run(mut ctx: Ctx) {
    let capacity = read(&ctx.params.borrow(), "capacity").max(1.0) as usize;
    let (tx, rx) = mpsc::channel::<SimTask>(capacity);
    let workers = spawn_workers(&ctx, ctx.param("workers") as u32, Arc::new(Mutex::new(rx)));

    // The level is shared the way the seed shares it: one atomic the monitor
    // writes and the producer reads, each on its own schedule.
    let level = Arc::new(AtomicU8::new(encode(LoadLevel::Low)));
    let monitor = ctx.token.child_token();
    ctx.tracker.spawn(watch_load(
        ctx.clock.clone(),
        ctx.sink.clone(),
        ctx.params.clone(),
        monitor.clone(),
        tx.downgrade(),
        Arc::clone(&level),
    ));

    let mut pace = Pace::new(&ctx);
    loop {
        let id = pace.id;
        let sim = make_task(&mut ctx, id);
        ctx.sink.emit(Event::Submitted { task: sim.task });
        let current = decode(level.load(Ordering::Acquire));
        let needed = min_priority(current);
        ctx.sink.record(|r| {
            if sim.task.priority < needed {
                let reason = DropReason::Policy {
                    level: current,
                    min_priority: needed,
                };
                r.emit(Event::Dropped { task: id, reason });
            } else if tx.try_send(sim).is_ok() {
                r.emit(Event::Enqueued { task: id });
            } else {
                r.emit(Event::Dropped {
                    task: id,
                    reason: DropReason::QueueFull,
                });
            }
        });
        if !pace.advance(&ctx).await {
            break;
        }
    }
    // Closing the channel lets the workers finish the queue; once they
    // have, the monitor has nothing left to watch.
    drop(tx);
    workers.wait().await;
    monitor.cancel();
    ctx.tracker.close();
    ctx.tracker.wait().await;
}

fn make_task(ctx: &mut Ctx, id: u32) -> SimTask {
    let lo = ctx.param("work_min_ms") as u32;
    let hi = (ctx.param("work_max_ms") as u32).max(lo + 1);
    let priority = ctx.rng.random_range(0..10);
    let work_ms = ctx.rng.random_range(lo..hi);
    let kind = KINDS[id as usize % KINDS.len()];
    SimTask {
        task: Task {
            id,
            kind,
            priority,
            work_ms,
        },
        fails: false,
    }
}

/// Reads the channel's fill every `sample_ms` and publishes the level.
async fn watch_load(
    clock: crate::clock::Clock,
    sink: crate::sink::Sink,
    params: tokio::sync::watch::Receiver<shared::Params>,
    token: tokio_util::sync::CancellationToken,
    tx: mpsc::WeakSender<SimTask>,
    shared_level: Arc<AtomicU8>,
) {
    let mut next_at = Duration::ZERO;
    loop {
        let (every, high, medium) = {
            let p = params.borrow();
            (
                read_ms(&p, "sample_ms"),
                read(&p, "high_pct") as u32,
                read(&p, "medium_pct") as u32,
            )
        };
        next_at += every;
        tokio::select! {
            biased;
            () = token.cancelled() => return,
            () = clock.sleep_until(next_at) => {}
        }
        let Some(tx) = tx.upgrade() else { return };
        let capacity = tx.max_capacity();
        sink.record(|r| {
            let queued = capacity - tx.capacity();
            let new_level = level(queued, capacity, high, medium);
            shared_level.store(encode(new_level), Ordering::Release);
            r.emit(Event::LoadSample {
                queued: queued as u32,
                capacity: capacity as u32,
                level: new_level,
                min_priority: min_priority(new_level),
            });
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::trial;

    #[test]
    fn levels_switch_strictly_above_the_thresholds() {
        // 80 % exactly is not above 80 %; 50 % exactly is not above 50 %.
        assert_eq!(level(4, 5, 80, 50), LoadLevel::Medium);
        assert_eq!(level(5, 5, 80, 50), LoadLevel::High);
        assert_eq!(level(5, 10, 80, 50), LoadLevel::Low);
        assert_eq!(level(6, 10, 80, 50), LoadLevel::Medium);
        assert_eq!(level(81, 100, 80, 50), LoadLevel::High);
        assert_eq!(level(80, 100, 80, 50), LoadLevel::Medium);
        // The seed's queue of three: 3 HIGH, 2 MEDIUM (67 %), 1 LOW (33 %).
        let seed: Vec<_> = (0..=3).map(|q| level(q, 3, 80, 50)).collect();
        assert_eq!(
            seed,
            [
                LoadLevel::Low,
                LoadLevel::Low,
                LoadLevel::Medium,
                LoadLevel::High
            ]
        );
        assert_eq!(
            [
                min_priority(LoadLevel::Low),
                min_priority(LoadLevel::Medium),
                min_priority(LoadLevel::High)
            ],
            [0, 3, 7]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn policy_drops_follow_the_level_read_at_the_last_sample() {
        for seed in [1, 2, 42] {
            let t = trial::run(
                PatternId::DropAdaptive,
                &[("tasks", 60.0), ("interval_ms", 60.0)],
                seed,
            )
            .await;
            let mut current = LoadLevel::Low;
            let mut saw_high = false;
            for env in &t.events {
                match &env.event {
                    Event::LoadSample {
                        queued,
                        capacity,
                        level: l,
                        min_priority: m,
                    } => {
                        assert_eq!(*m, min_priority(*l));
                        assert_eq!(env.at_ms % 500, 0, "samples every 500 ms");
                        assert_eq!(*l, level(*queued as usize, *capacity as usize, 80, 50));
                        current = *l;
                        saw_high |= *l == LoadLevel::High;
                    }
                    Event::Dropped {
                        reason:
                            DropReason::Policy {
                                level: l,
                                min_priority: m,
                            },
                        task,
                    } => {
                        assert_eq!(*l, current, "task {task} judged by the latest reading");
                        assert_eq!(*m, min_priority(current));
                        assert_ne!(current, LoadLevel::Low, "LOW accepts everything");
                    }
                    Event::Enqueued { task } => {
                        let priority = t.pick(|e| match e {
                            Event::Submitted { task: x } if x.id == *task => Some(x.priority),
                            _ => None,
                        });
                        assert!(
                            priority[0] >= min_priority(current),
                            "task {task} should have been refused"
                        );
                    }
                    _ => {}
                }
            }
            assert!(
                saw_high,
                "seed {seed}: a task every 60 ms overloads a queue of three"
            );
            let s = t.end.overload();
            assert!(
                s.policy_drops > 0 && s.policy_drops + s.queue_full_drops == t.end.counters.dropped
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_seed_preset_is_repeatable() {
        let a = trial::run(PatternId::DropAdaptive, &[], 42).await;
        let b = trial::run(PatternId::DropAdaptive, &[], 42).await;
        assert_eq!(a.events, b.events);
        assert_eq!(a.end.counters.submitted, 20);
    }
}

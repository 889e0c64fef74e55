//! Adaptive drop: a load monitor tightens the admission policy as the queue
//! fills.
//!
//! Every sampling period a monitor task reads how full the channel is and
//! sets a load level. The producer consults the level before sending: at HIGH
//! it refuses everything below priority 7, at MEDIUM below 3, at LOW nothing.
//! A task the policy lets through can still meet a full queue and be dropped
//! there, so the two kinds of drop are counted apart.

use super::load::{Pace, SimTask, spawn_workers};
use crate::engines::{About, Prompt, Ctx, Settings};
use rand::Rng;
use shared::pattern::drop_adaptive::DropAdaptiveParams;
use shared::{DropReason, LoadLevel, OverloadEvent, Task, TaskKind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};

const KINDS: [TaskKind; 3] = [TaskKind::Batch, TaskKind::Realtime, TaskKind::Maintenance];

super::load::load!(DropAdaptiveParams);

pub const ABOUT: About = About {
    title: "Adaptive drop",
    summary: "A monitor reads the queue's fill every 500 ms. Above 80 % the load is HIGH \
                  and only tasks of priority 7 or more are accepted; above 50 % it is MEDIUM \
                  and priority 3 or more is needed; otherwise everything is accepted. A \
                  full queue still drops whatever the policy let through.",
    try_this: "Watch the level change at each reading, and compare policy drops with \
                   queue-full drops. Sample more often (100 ms): does the policy catch the \
                   overload sooner?",
    questions: &[Prompt {
        at_ms: 1400,
        text: "The monitor reads the queue 100 % full. Until its next reading, which new tasks are accepted?",
        choices: &["All of them", "Priority 3 or more", "Priority 7 or more", "None"],
        answer: 2,
    }],
};

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
    let p: DropAdaptiveParams = ctx.params.get();
    let (tx, rx) = mpsc::channel::<SimTask>(p.capacity.max(1));
    let workers = spawn_workers(&ctx, p.workers, Arc::new(Mutex::new(rx)));

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

    let mut pace = Pace::<DropAdaptiveParams>::new(&ctx);
    loop {
        let id = pace.id;
        let sim = make_task(&mut ctx, id);
        ctx.sink.emit(OverloadEvent::Submitted { task: sim.task });
        let current = decode(level.load(Ordering::Acquire));
        let needed = min_priority(current);
        ctx.sink.record(|r| {
            if sim.task.priority < needed {
                let reason = DropReason::Policy {
                    level: current,
                    min_priority: needed,
                };
                r.emit(OverloadEvent::Dropped { task: id, reason });
            } else if tx.try_send(sim).is_ok() {
                r.emit(OverloadEvent::Enqueued { task: id });
            } else {
                r.emit(OverloadEvent::Dropped {
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
    let p: DropAdaptiveParams = ctx.params.get();
    let lo = p.work_min_ms;
    let hi = p.work_max_ms.max(lo + 1);
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
    params: Settings,
    token: tokio_util::sync::CancellationToken,
    tx: mpsc::WeakSender<SimTask>,
    shared_level: Arc<AtomicU8>,
) {
    let mut next_at = Duration::ZERO;
    loop {
        let DropAdaptiveParams {
            sample_ms,
            high_pct: high,
            medium_pct: medium,
            ..
        } = params.get();
        next_at += sample_ms;
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
            r.emit(OverloadEvent::LoadSample {
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
    use shared::{Event, PatternId};
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
                    Event::Overload(OverloadEvent::LoadSample {
                        queued,
                        capacity,
                        level: l,
                        min_priority: m,
                    }) => {
                        assert_eq!(*m, min_priority(*l));
                        assert_eq!(env.at_ms % 500, 0, "samples every 500 ms");
                        assert_eq!(*l, level(*queued as usize, *capacity as usize, 80, 50));
                        current = *l;
                        saw_high |= *l == LoadLevel::High;
                    }
                    Event::Overload(OverloadEvent::Dropped {
                        reason:
                            DropReason::Policy {
                                level: l,
                                min_priority: m,
                            },
                        task,
                    }) => {
                        assert_eq!(*l, current, "task {task} judged by the latest reading");
                        assert_eq!(*m, min_priority(current));
                        assert_ne!(current, LoadLevel::Low, "LOW accepts everything");
                    }
                    Event::Overload(OverloadEvent::Enqueued { task }) => {
                        let priority = t.pick(|e| match e {
                            Event::Overload(OverloadEvent::Submitted { task: x }) if x.id == *task => Some(x.priority),
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

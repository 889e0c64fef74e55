//! Priority drop: when the queue is full, important work pushes out the least
//! important.
//!
//! A channel cannot be searched, so this queue is written by hand: a bounded
//! FIFO whose producer, finding it full, looks for the lowest-priority task
//! inside. A newcomer of priority 7 or more evicts it (if it is lower); any
//! other newcomer is dropped as usual.

use super::load::{Pace, SimTask, TaskSource, spawn_workers};
use crate::engines::{About, Prompt, Ctx};
use shared::pattern::drop_priority::DropPriorityParams;
use shared::{DropReason, OverloadEvent, Task, TaskKind};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::Notify;

/// The seed's rotation of task types and their priorities.
const ROTATION: [(TaskKind, u8); 3] = [
    (TaskKind::Critical, 9),
    (TaskKind::Normal, 5),
    (TaskKind::Low, 1),
];
/// A newcomer at or above this priority may evict a queued task.
pub const EVICTS_AT: u8 = 7;

super::load::load!(DropPriorityParams);

pub const ABOUT: About = About {
    title: "Drop by priority",
    summary: "Critical (9), normal (5) and low (1) tasks arrive every 50 ms at a queue of \
                  four. When it is full, a task of priority 7 or more evicts the \
                  lowest-priority task waiting in the queue; anything else is dropped. \
                  Higher priority also means shorter work: 1000 - 100 x priority ms.",
    try_this: "Watch the first eviction at 300 ms: which task leaves, and why that one? \
                   Then make the producer faster: do critical tasks still get through?",
    questions: &[Prompt {
        at_ms: 280,
        text: "The queue of four is full. At 300 ms a critical task (priority 9) arrives. What happens?",
        choices: &["It is dropped", "It evicts the lowest-priority task waiting", "It evicts the oldest task waiting", "It waits for a slot"],
        answer: 1,
    }],
};

/// What became of a task offered to the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Offer {
    Queued,
    /// Queued after pushing this task out.
    QueuedEvicting(Task),
    Refused,
}

/// A bounded FIFO that can evict its lowest-priority entry.
#[derive(Debug)]
pub struct PriorityQueue {
    state: Mutex<QueueState>,
    capacity: usize,
    /// Wakes a waiting worker when a task arrives or the queue closes.
    ready: Notify,
}

#[derive(Debug, Default)]
struct QueueState {
    tasks: VecDeque<SimTask>,
    closed: bool,
}

impl PriorityQueue {
    pub fn new(capacity: usize) -> PriorityQueue {
        PriorityQueue {
            state: Mutex::default(),
            capacity,
            ready: Notify::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        // The lock is never held across a panic point that leaves the queue
        // half-changed, so a poisoned lock still guards a valid queue.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Offers a task without waiting. When full, a task of priority
    /// `EVICTS_AT` or more replaces the lowest-priority queued task (the most
    /// recent among equals, which has waited least) if that one is lower.
    pub fn offer(&self, sim: SimTask) -> Offer {
        let mut state = self.lock();
        let offer = if state.tasks.len() < self.capacity {
            state.tasks.push_back(sim);
            Offer::Queued
        } else if sim.task.priority >= EVICTS_AT {
            let lowest = state
                .tasks
                .iter()
                .enumerate()
                .filter(|(_, queued)| queued.task.priority < sim.task.priority)
                .min_by_key(|(i, queued)| (queued.task.priority, std::cmp::Reverse(*i)))
                .map(|(i, _)| i);
            match lowest.and_then(|i| state.tasks.remove(i)) {
                Some(victim) => {
                    state.tasks.push_back(sim);
                    Offer::QueuedEvicting(victim.task)
                }
                None => Offer::Refused,
            }
        } else {
            Offer::Refused
        };
        drop(state);
        if offer != Offer::Refused {
            self.ready.notify_one();
        }
        offer
    }

    /// No more tasks will come; workers finish what is queued and stop.
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_waiters();
    }

    pub fn priorities(&self) -> Vec<u8> {
        self.lock().tasks.iter().map(|s| s.task.priority).collect()
    }
}

impl TaskSource for PriorityQueue {
    async fn next(&self) -> Option<SimTask> {
        loop {
            // Registered before looking, so a task offered in between still wakes us.
            let notified = self.ready.notified();
            {
                let mut state = self.lock();
                if let Some(sim) = state.tasks.pop_front() {
                    return Some(sim);
                }
                if state.closed {
                    return None;
                }
            }
            notified.await;
        }
    }
}

pub async fn run(ctx: Ctx) {
    let p: DropPriorityParams = ctx.params.get();
    let queue = Arc::new(PriorityQueue::new(p.capacity.max(1)));
    spawn_workers(&ctx, p.workers, Arc::clone(&queue));

    let mut pace = Pace::<DropPriorityParams>::new(&ctx);
    loop {
        let id = pace.id;
        let (kind, priority) = ROTATION[id as usize % ROTATION.len()];
        let full_work = ctx.params.get::<DropPriorityParams>().work_ms;
        let work_ms = (full_work * f64::from(10 - priority) / 10.0) as u32;
        let sim = SimTask {
            task: Task {
                id,
                kind,
                priority,
                work_ms,
            },
            fails: false,
        };
        ctx.sink.emit(OverloadEvent::Submitted { task: sim.task });
        ctx.sink.record(|r| match queue.offer(sim) {
            Offer::Queued => r.emit(OverloadEvent::Enqueued { task: id }),
            Offer::QueuedEvicting(victim) => {
                let reason = DropReason::Evicted {
                    by: id,
                    by_priority: priority,
                };
                r.emit(OverloadEvent::Dropped {
                    task: victim.id,
                    reason,
                });
                r.emit(OverloadEvent::Enqueued { task: id });
            }
            Offer::Refused => r.emit(OverloadEvent::Dropped {
                task: id,
                reason: DropReason::QueueFull,
            }),
        });
        if !pace.advance(&ctx).await {
            break;
        }
    }
    queue.close();
    ctx.tracker.close();
    ctx.tracker.wait().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engines::trial;
    use shared::{Event, PatternId, RunEvent};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    #[tokio::test(start_paused = true)]
    async fn the_seed_scenario_evicts_the_low_tasks_for_the_critical_ones() {
        let t = trial::run(PatternId::DropPriority, &[], 42).await;
        // At 300 ms the queue holds 2(p1) 3(p9) 4(p5) 5(p1): critical task 6
        // evicts the newest low task, 5. At 450 ms critical task 9 evicts 2.
        let evictions = t.pick(|e| match e {
            Event::Overload(OverloadEvent::Dropped {
                task,
                reason: DropReason::Evicted { by, .. },
            }) => Some((*task, *by)),
            _ => None,
        });
        assert_eq!(evictions, [(5, 6), (2, 9)]);
        assert_eq!(
            t.time_of(|e| matches!(e, Event::Overload(OverloadEvent::Dropped { task: 5, .. }))),
            Some(300)
        );
        assert_eq!(
            t.time_of(|e| matches!(e, Event::Overload(OverloadEvent::Dropped { task: 2, .. }))),
            Some(450)
        );
        assert_eq!(t.dropped(|r| *r == DropReason::QueueFull), [7, 8, 10, 11]);
        assert_eq!(t.finished(None), [0, 1, 3, 4, 6, 9]);
        // Work is 1000 - 100 x priority: 100 + 500 + 100 + 500 + 100 + 100 ms,
        // with the worker idle only... never: it ends at 1400 ms.
        assert_eq!(
            t.time_of(|e| matches!(
                e,
                Event::Run(RunEvent::Status {
                    status: shared::RunStatus::Finished
                })
            )),
            Some(1400)
        );
        assert_eq!(t.end.overload().evictions, 2);
    }

    fn sim(id: u32, priority: u8) -> SimTask {
        SimTask {
            task: Task {
                id,
                kind: TaskKind::Normal,
                priority,
                work_ms: 1,
            },
            fails: false,
        }
    }

    #[test]
    fn eviction_never_removes_a_task_while_a_lower_one_is_queued() {
        let mut rng = StdRng::seed_from_u64(3);
        for round in 0..500 {
            let queue = PriorityQueue::new(rng.random_range(1..6));
            for id in 0..40 {
                let before = queue.priorities();
                let priority = rng.random_range(0..10);
                match queue.offer(sim(id, priority)) {
                    Offer::QueuedEvicting(victim) => {
                        assert!(
                            priority >= EVICTS_AT,
                            "round {round}: only priority >= 7 evicts"
                        );
                        assert!(victim.priority < priority);
                        let lowest = before.iter().copied().min().unwrap_or(u8::MAX);
                        assert_eq!(
                            victim.priority, lowest,
                            "round {round}: {before:?} lost {victim:?}"
                        );
                    }
                    Offer::Refused => {
                        let lowest = before.iter().copied().min().unwrap_or(u8::MAX);
                        assert!(
                            priority < EVICTS_AT || lowest >= priority,
                            "round {round}: {before:?} refused p{priority}"
                        );
                    }
                    Offer::Queued => assert!(before.len() < queue.capacity),
                }
                if rng.random_bool(0.3) {
                    let mut state = queue.lock();
                    state.tasks.pop_front();
                }
            }
        }
    }
}

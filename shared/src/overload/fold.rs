//! The fold of the overload family's events into its scene.

use super::{DoneRecord, DropRecord, LoadReading, OverloadEvent, OverloadScene};
use crate::scene::{Counters, push_recent};
use crate::task::{DropReason, Outcome};

impl OverloadScene {
    /// Folds one of the family's events in, counting what it settles in `c`.
    pub fn apply(&mut self, c: &mut Counters, at: u64, event: &OverloadEvent) {
        match event {
            OverloadEvent::Submitted { task } => {
                c.submitted += 1;
                c.in_flight += 1;
                self.offering = Some(*task);
            }
            OverloadEvent::Enqueued { task } => {
                if let Some(t) = self.offering.take_if(|t| t.id == *task) {
                    self.queue.push(t);
                }
                if let Some(since) = self.blocked_since_ms.take() {
                    self.blocked_ms += at.saturating_sub(since);
                }
            }
            OverloadEvent::Blocked { .. } => self.blocked_since_ms = Some(at),
            OverloadEvent::Dropped { task, reason } => {
                let dropped = match reason {
                    DropReason::Evicted { .. } => {
                        self.evictions += 1;
                        let pos = self.queue.iter().position(|t| t.id == *task);
                        pos.map(|i| self.queue.remove(i))
                    }
                    DropReason::QueueFull => {
                        self.queue_full_drops += 1;
                        self.offering.take_if(|t| t.id == *task)
                    }
                    DropReason::Policy { .. } => {
                        self.policy_drops += 1;
                        self.offering.take_if(|t| t.id == *task)
                    }
                };
                c.dropped += 1;
                c.in_flight = c.in_flight.saturating_sub(1);
                if let Some(t) = dropped {
                    *self.drops_by_kind.entry(t.kind).or_default() += 1;
                    push_recent(
                        &mut self.drops,
                        DropRecord {
                            task: t,
                            reason: *reason,
                            at_ms: at,
                        },
                    );
                }
            }
            OverloadEvent::Started { task, worker } => {
                let taken = self
                    .queue
                    .iter()
                    .position(|t| t.id == *task)
                    .map(|i| self.queue.remove(i));
                if let (Some(t), Some(w)) = (taken, self.workers.get_mut(*worker as usize)) {
                    w.task = Some(t);
                    w.since_ms = at;
                }
            }
            OverloadEvent::Finished {
                task,
                worker,
                outcome,
            } => {
                match outcome {
                    Outcome::Completed => c.completed += 1,
                    Outcome::Failed => c.failed += 1,
                }
                c.in_flight = c.in_flight.saturating_sub(1);
                if let Some(w) = self.workers.get_mut(*worker as usize)
                    && let Some(t) = w.task.take_if(|t| t.id == *task)
                {
                    w.done += 1;
                    w.since_ms = at;
                    let record = DoneRecord {
                        task: t,
                        worker: *worker,
                        outcome: *outcome,
                        at_ms: at,
                    };
                    push_recent(&mut self.done, record);
                }
            }
            OverloadEvent::Cancelled { task } => {
                c.cancelled += 1;
                c.in_flight = c.in_flight.saturating_sub(1);
                self.offering.take_if(|t| t.id == *task);
                self.queue.retain(|t| t.id != *task);
                for w in &mut self.workers {
                    w.task.take_if(|t| t.id == *task);
                }
                if self.offering.is_none() {
                    self.blocked_since_ms = None;
                }
            }
            OverloadEvent::LoadSample {
                queued,
                capacity,
                level,
                min_priority,
            } => {
                self.load = Some(LoadReading {
                    queued: *queued,
                    capacity: *capacity,
                    level: *level,
                    min_priority: *min_priority,
                    at_ms: at,
                });
            }
        }
    }
}

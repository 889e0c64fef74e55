//! The fold of a run's events into its visible state.
//!
//! [`RunSnapshot::apply`] is the only place that turns events into state. The
//! server uses it to answer snapshots and the browser to animate, so both
//! always agree.

use crate::event::{Envelope, Event};
use crate::flow::{FlowScene, ItemEnd};
#[cfg(test)]
use crate::pattern::PatternId;
use crate::resilience::{JobOutcome, ResilienceScene};
use crate::scene::{
    Counters, DoneRecord, DropRecord, LoadReading, OverloadScene, RECENT, RunSnapshot, Scene,
};
use crate::task::{DropReason, Outcome, RunStatus};
use crate::tree::{NodeKind, TaskEnd, TreeScene};

impl RunSnapshot {
    /// Folds one event in. Events at or below `self.seq` were already folded
    /// and are ignored, so replaying an overlapping batch is harmless.
    /// Returns whether the event was new.
    pub fn apply(&mut self, env: &Envelope) -> bool {
        if env.seq <= self.seq {
            return false;
        }
        self.seq = env.seq;
        self.clock.now_ms = env.at_ms;
        let at = env.at_ms;
        match &env.event {
            Event::Reset {
                params,
                seed,
                capacity,
                workers,
            } => {
                self.params = params.clone();
                self.seed = *seed;
                self.counters = Counters::default();
                self.scene = Scene::new(self.pattern, *capacity, *workers);
                self.status = RunStatus::Idle;
            }
            Event::Status { status } => {
                self.status = *status;
                if let (RunStatus::Finished | RunStatus::Stopped, Scene::Tree(t)) =
                    (status, &mut self.scene)
                {
                    t.close(at);
                }
            }
            Event::Clock { speed, paused } => {
                self.clock.speed = *speed;
                self.clock.paused = *paused;
            }
            Event::Param { name, value } => {
                self.params.insert(name.clone(), *value);
            }
            // A preview that arrives once the run has started is stale.
            Event::Preview { scene } => {
                if self.status == RunStatus::Idle {
                    self.scene = scene.clone();
                }
            }
            event => match &mut self.scene {
                Scene::Overload(s) => apply_overload(s, &mut self.counters, at, event),
                Scene::Tree(t) => apply_tree(t, &mut self.counters, at, event),
                Scene::Resilience(r) => apply_resilience(r, &mut self.counters, at, event),
                Scene::Flow(f) => apply_flow(f, &mut self.counters, at, event),
            },
        }
        true
    }
}

/// Folds an overload event into the overload scene.
fn apply_overload(s: &mut OverloadScene, c: &mut Counters, at: u64, event: &Event) {
    match event {
        Event::Submitted { task } => {
            c.submitted += 1;
            c.in_flight += 1;
            s.offering = Some(*task);
        }
        Event::Enqueued { task } => {
            if let Some(t) = s.offering.take_if(|t| t.id == *task) {
                s.queue.push(t);
            }
            if let Some(since) = s.blocked_since_ms.take() {
                s.blocked_ms += at.saturating_sub(since);
            }
        }
        Event::Blocked { .. } => s.blocked_since_ms = Some(at),
        Event::Dropped { task, reason } => {
            let dropped = match reason {
                DropReason::Evicted { .. } => {
                    s.evictions += 1;
                    let pos = s.queue.iter().position(|t| t.id == *task);
                    pos.map(|i| s.queue.remove(i))
                }
                DropReason::QueueFull => {
                    s.queue_full_drops += 1;
                    s.offering.take_if(|t| t.id == *task)
                }
                DropReason::Policy { .. } => {
                    s.policy_drops += 1;
                    s.offering.take_if(|t| t.id == *task)
                }
            };
            c.dropped += 1;
            c.in_flight = c.in_flight.saturating_sub(1);
            if let Some(t) = dropped {
                *s.drops_by_kind.entry(t.kind).or_default() += 1;
                push_recent(
                    &mut s.drops,
                    DropRecord {
                        task: t,
                        reason: *reason,
                        at_ms: at,
                    },
                );
            }
        }
        Event::Started { task, worker } => {
            let taken = s
                .queue
                .iter()
                .position(|t| t.id == *task)
                .map(|i| s.queue.remove(i));
            if let (Some(t), Some(w)) = (taken, s.workers.get_mut(*worker as usize)) {
                w.task = Some(t);
                w.since_ms = at;
            }
        }
        Event::Finished {
            task,
            worker,
            outcome,
        } => {
            match outcome {
                Outcome::Completed => c.completed += 1,
                Outcome::Failed => c.failed += 1,
            }
            c.in_flight = c.in_flight.saturating_sub(1);
            if let Some(w) = s.workers.get_mut(*worker as usize)
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
                push_recent(&mut s.done, record);
            }
        }
        Event::Cancelled { task } => {
            c.cancelled += 1;
            c.in_flight = c.in_flight.saturating_sub(1);
            s.offering.take_if(|t| t.id == *task);
            s.queue.retain(|t| t.id != *task);
            for w in &mut s.workers {
                w.task.take_if(|t| t.id == *task);
            }
            if s.offering.is_none() {
                s.blocked_since_ms = None;
            }
        }
        Event::LoadSample {
            queued,
            capacity,
            level,
            min_priority,
        } => {
            s.load = Some(LoadReading {
                queued: *queued,
                capacity: *capacity,
                level: *level,
                min_priority: *min_priority,
                at_ms: at,
            });
        }
        _ => {}
    }
}

/// Folds a tree event into the cancellation tree.
fn apply_tree(t: &mut TreeScene, c: &mut Counters, at: u64, event: &Event) {
    match event {
        Event::NodeCreated { node } => {
            if node.from_queue {
                // The job was counted when it was accepted; it only moves
                // from the queue into the tree.
                t.queued = t.queued.saturating_sub(1);
            } else if node.kind == NodeKind::Task {
                c.submitted += 1;
                c.in_flight += 1;
            }
            t.create(node.clone(), at);
        }
        Event::Deadline { node, deadline_ms } => {
            if let Some(n) = t.nodes.get_mut(node) {
                n.spec.deadline_ms = *deadline_ms;
                n.deadline_set_ms = at;
            }
        }
        Event::TokenCancelled {
            node,
            cause,
            reached,
        } => t.cancel(*node, *cause, reached, at),
        Event::TaskStarted { node } => {
            if let Some(n) = t.nodes.get_mut(node) {
                n.started_ms = Some(at);
            }
        }
        Event::Step { node, step } => {
            if let Some(n) = t.nodes.get_mut(node) {
                n.step = *step;
            }
        }
        Event::TaskEnded { node, end } => {
            // Only work is counted; a service loop ending is not a task's end.
            let counted = t.end(*node, end.clone(), at) == Some(NodeKind::Task);
            if counted {
                match end {
                    TaskEnd::Completed => c.completed += 1,
                    TaskEnd::Failed { .. } => c.failed += 1,
                    TaskEnd::Cancelled => c.cancelled += 1,
                    TaskEnd::TimedOut => c.timed_out += 1,
                }
                c.in_flight = c.in_flight.saturating_sub(1);
            }
        }
        Event::Leaked { node } => {
            if let Some(n) = t.nodes.get_mut(node)
                && n.leaked_ms.is_none()
                && n.ended.is_none()
            {
                n.leaked_ms = Some(at);
                t.leaked += 1;
            }
        }
        Event::Note { node, text } => {
            if let Some(n) = t.nodes.get_mut(node) {
                n.note = text.clone();
            }
        }
        Event::Phase { phase } => {
            t.phase = Some(*phase);
            t.phase_ms = at;
        }
        Event::Accepted { jobs } => {
            t.queued += jobs;
            c.submitted += jobs;
            c.in_flight += jobs;
        }
        Event::Abandoned { jobs } => {
            let jobs = (*jobs).min(t.queued);
            t.queued -= jobs;
            c.cancelled += jobs;
            c.in_flight = c.in_flight.saturating_sub(jobs);
        }
        _ => {}
    }
}

/// Folds a job or breaker event into the resilience scene.
fn apply_resilience(r: &mut ResilienceScene, c: &mut Counters, at: u64, event: &Event) {
    match event {
        Event::JobSubmitted { job } => {
            c.submitted += 1;
            c.in_flight += 1;
            r.submit(job.clone(), at);
        }
        Event::JobPicked { job, worker } => r.pick(*job, *worker),
        Event::AttemptStarted {
            job,
            attempt,
            trial,
        } => r.start(*job, *attempt, *trial, at),
        Event::AttemptEnded {
            job,
            attempt,
            result,
            counted,
        } => r.finish(*job, *attempt, *result, *counted, at),
        Event::AttemptRejected {
            job,
            attempt,
            state,
        } => r.reject(*job, *attempt, *state, at),
        Event::Backoff {
            job,
            delay_ms,
            backoff_ms,
        } => r.wait(
            *job,
            crate::resilience::Wait {
                delay_ms: *delay_ms,
                backoff_ms: *backoff_ms,
            },
        ),
        Event::JobEnded { job, outcome } => {
            // A job ends once; a repeated end must not count twice.
            if !r.end(*job, *outcome, at) {
                return;
            }
            match outcome {
                JobOutcome::Succeeded { .. } => c.completed += 1,
                JobOutcome::Failed { .. } => c.failed += 1,
                JobOutcome::Rejected { .. } => c.rejected += 1,
                JobOutcome::TimedOut { .. } => c.timed_out += 1,
                JobOutcome::Cancelled => c.cancelled += 1,
            }
            c.in_flight = c.in_flight.saturating_sub(1);
        }
        Event::BreakerCount { failures } => r.count(*failures),
        Event::BreakerMoved { from, to } => r.moved(*from, *to, at),
        _ => {}
    }
}

/// Folds a stage, channel or item event into the flow scene.
fn apply_flow(f: &mut FlowScene, c: &mut Counters, at: u64, event: &Event) {
    match event {
        Event::StageAdded { stage } => f.add_stage(stage.clone(), at),
        Event::StageStopped { stage } => f.stop_stage(*stage),
        Event::ChannelAdded { channel } => f.add_channel(channel.clone()),
        Event::ChannelClosed { channel } => f.close(*channel),
        Event::ItemMade { item, stage } => {
            c.submitted += 1;
            c.in_flight += 1;
            f.make(item.clone(), *stage, at);
        }
        Event::ItemQueued { item, channel } => f.queue(*item, *channel, at),
        Event::ItemBlocked { item, channel } => f.block(*item, *channel, at),
        Event::ItemTaken {
            item,
            stage,
            worker,
        } => f.take(*item, *stage, *worker, at),
        Event::ItemWaiting { item, stage, on } => f.wait(*item, *stage, *on, at),
        Event::ItemEnded { item, end } => {
            // An item ends once; a repeated end must not count twice.
            if !f.end(*item, end.clone(), at) {
                return;
            }
            match end {
                ItemEnd::Delivered { .. } | ItemEnd::Filtered { .. } => c.completed += 1,
                ItemEnd::Dropped { .. } => c.dropped += 1,
                ItemEnd::Refused { .. } => c.rejected += 1,
                ItemEnd::Failed { .. } => c.failed += 1,
                ItemEnd::Cancelled => c.cancelled += 1,
                ItemEnd::TimedOut => c.timed_out += 1,
            }
            c.in_flight = c.in_flight.saturating_sub(1);
        }
        Event::WorkersSet { stage, workers } => f.set_workers(*stage, *workers, at),
        Event::WorkerPanicked { stage, worker } => f.panicked(*stage, *worker),
        Event::Gauge {
            stage,
            value,
            max,
            label,
        } => f.gauge(*stage, *value, *max, label, at),
        Event::Sent { stage } => f.sent(*stage),
        Event::Draining => f.draining = true,
        _ => {}
    }
}

fn push_recent<T>(list: &mut Vec<T>, item: T) {
    if list.len() == RECENT {
        list.remove(0);
    }
    list.push(item);
}

/// Folds `(at_ms, event)` pairs into a fresh run of `pattern`, numbering
/// them in order and checking the conservation rule after every one.
#[cfg(test)]
pub(crate) fn fold_checked(pattern: PatternId, events: Vec<(u64, Event)>) -> RunSnapshot {
    let mut snap = RunSnapshot::new("r", pattern);
    for (i, (at_ms, event)) in events.into_iter().enumerate() {
        let env = Envelope {
            seq: i as u64 + 1,
            at_ms,
            event,
        };
        snap.apply(&env);
        assert!(snap.counters.is_conserved(), "after {env:?}");
        assert_eq!(snap.tasks_in_scene(), snap.counters.in_flight);
    }
    snap
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pattern::Params;
    use crate::task::{Task, TaskId, TaskKind};

    fn env(seq: u64, at_ms: u64, event: Event) -> Envelope {
        Envelope { seq, at_ms, event }
    }

    fn task(id: TaskId, priority: u8) -> Task {
        Task {
            id,
            kind: TaskKind::Email,
            priority,
            work_ms: 200,
        }
    }

    fn reset() -> Event {
        Event::Reset {
            params: Params::new(),
            seed: 1,
            capacity: 2,
            workers: 1,
        }
    }

    #[test]
    fn a_preview_shows_only_while_the_run_waits_for_start() {
        let mut snap = RunSnapshot::new("r", PatternId::DropBasic);
        snap.apply(&env(1, 0, reset()));
        let preview = Scene::Overload(OverloadScene {
            capacity: 7,
            ..OverloadScene::default()
        });
        snap.apply(&env(
            2,
            0,
            Event::Preview {
                scene: preview.clone(),
            },
        ));
        assert_eq!(snap.scene, preview);
        // Once started, a preview that comes late changes nothing.
        let running = Event::Status {
            status: RunStatus::Running,
        };
        snap.apply(&env(3, 0, running));
        snap.apply(&env(4, 0, reset()));
        snap.apply(&env(
            5,
            0,
            Event::Status {
                status: RunStatus::Running,
            },
        ));
        let before = snap.scene.clone();
        snap.apply(&env(6, 0, Event::Preview { scene: preview }));
        assert_eq!(snap.scene, before);
    }

    #[test]
    fn a_blueprint_keeps_the_shape_and_drops_what_moved() {
        let mut snap = RunSnapshot::new("r", PatternId::DropBasic);
        snap.apply(&env(1, 0, reset()));
        snap.apply(&env(2, 0, Event::Submitted { task: task(1, 1) }));
        let Scene::Overload(shape) = snap.scene.blueprint() else {
            panic!("an overload scene keeps its family");
        };
        assert_eq!((shape.capacity, shape.workers.len()), (2, 1));
        assert!(shape.offering.is_none() && shape.queue.is_empty());
    }

    #[test]
    fn a_task_moves_from_producer_to_queue_to_worker_to_done() {
        let mut snap = RunSnapshot::new("r", PatternId::DropBasic);
        let events = [
            reset(),
            Event::Submitted { task: task(0, 5) },
            Event::Enqueued { task: 0 },
            Event::Started { task: 0, worker: 0 },
            Event::Finished {
                task: 0,
                worker: 0,
                outcome: Outcome::Failed,
            },
        ];
        let mut in_scene = Vec::new();
        for (i, e) in events.into_iter().enumerate() {
            assert!(snap.apply(&env(i as u64 + 1, i as u64 * 10, e)));
            assert!(snap.counters.is_conserved(), "{:?}", snap.counters);
            assert_eq!(snap.tasks_in_scene(), snap.counters.in_flight);
            in_scene.push(snap.tasks_in_scene());
        }
        assert_eq!(in_scene, [0, 1, 1, 1, 0]);
        assert_eq!(snap.counters.failed, 1);
        assert_eq!(snap.overload().workers[0].done, 1);
        assert_eq!(snap.overload().done[0].outcome, Outcome::Failed);
    }

    #[test]
    fn eviction_removes_the_victim_from_the_queue_and_counts_it_by_kind() {
        let mut snap = RunSnapshot::new("r", PatternId::DropPriority);
        let mut seq = 0;
        let mut feed = |snap: &mut RunSnapshot, e: Event| {
            seq += 1;
            snap.apply(&env(seq, seq * 50, e));
        };
        feed(&mut snap, reset());
        for (id, p) in [(0, 1), (1, 5)] {
            feed(&mut snap, Event::Submitted { task: task(id, p) });
            feed(&mut snap, Event::Enqueued { task: id });
        }
        feed(&mut snap, Event::Submitted { task: task(2, 9) });
        feed(
            &mut snap,
            Event::Dropped {
                task: 0,
                reason: DropReason::Evicted {
                    by: 2,
                    by_priority: 9,
                },
            },
        );
        feed(&mut snap, Event::Enqueued { task: 2 });
        let ids: Vec<_> = snap.overload().queue.iter().map(|t| t.id).collect();
        assert_eq!(ids, [1, 2]);
        assert_eq!(snap.overload().evictions, 1);
        assert_eq!(
            snap.overload().drops_by_kind.get(&TaskKind::Email),
            Some(&1)
        );
        assert_eq!(snap.counters.in_flight, 2);
        assert!(snap.counters.is_conserved());
    }

    #[test]
    fn replayed_events_are_ignored_and_reset_clears_everything_but_seq() {
        let mut snap = RunSnapshot::new("r", PatternId::DropBasic);
        let submitted = env(2, 0, Event::Submitted { task: task(0, 1) });
        snap.apply(&env(1, 0, reset()));
        assert!(snap.apply(&submitted));
        assert!(
            !snap.apply(&submitted),
            "the same seq twice must not count twice"
        );
        assert_eq!(snap.counters.submitted, 1);
        snap.apply(&env(3, 0, reset()));
        assert_eq!(snap.counters, Counters::default());
        assert_eq!(snap.seq, 3);
    }

    #[test]
    fn blocked_time_is_measured_from_blocked_to_enqueued() {
        let mut snap = RunSnapshot::new("r", PatternId::DropBlocking);
        snap.apply(&env(1, 0, reset()));
        snap.apply(&env(2, 100, Event::Submitted { task: task(0, 1) }));
        snap.apply(&env(3, 100, Event::Blocked { task: 0 }));
        assert_eq!(snap.overload().blocked_since_ms, Some(100));
        snap.apply(&env(4, 350, Event::Enqueued { task: 0 }));
        assert_eq!(snap.overload().blocked_ms, 250);
        assert_eq!(snap.overload().blocked_since_ms, None);
    }

    #[test]
    fn events_are_named_by_a_key_that_holds_their_fields() {
        let e = env(
            7,
            30,
            Event::Dropped {
                task: 3,
                reason: DropReason::QueueFull,
            },
        );
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["seq"], 7);
        assert_eq!(json["event"]["dropped"]["task"], 3);
        assert_eq!(json["event"]["dropped"]["reason"], "queue_full");
        let back: Envelope = serde_json::from_value(json).unwrap();
        assert_eq!(back, e);
    }
}

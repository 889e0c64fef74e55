//! The fold of a run's events into its visible state.
//!
//! [`RunSnapshot::apply`] is the only place that turns events into state. The
//! server uses it to answer snapshots and the browser to animate, so both
//! always agree. Each family folds its own events into its own scene (see
//! the `fold` module of each family).

use crate::event::{Envelope, Event, RunEvent};
#[cfg(test)]
use crate::pattern::PatternId;
use crate::scene::{Counters, RunSnapshot, Scene};
use crate::task::RunStatus;

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
            Event::Run(event) => self.apply_run(event, at),
            Event::Overload(event) => {
                if let Scene::Overload(s) = &mut self.scene {
                    s.apply(&mut self.counters, at, event);
                }
            }
            Event::Cancellation(event) => {
                if let Scene::Tree(t) = &mut self.scene {
                    t.apply(&mut self.counters, at, event);
                }
            }
            Event::Resilience(event) => {
                if let Scene::Resilience(r) = &mut self.scene {
                    r.apply(&mut self.counters, at, event);
                }
            }
            Event::Flow(event) => {
                if let Scene::Flow(f) = &mut self.scene {
                    f.apply(&mut self.counters, at, event);
                }
            }
        }
        true
    }

    /// Folds an event about the run itself.
    fn apply_run(&mut self, event: &RunEvent, at: u64) {
        match event {
            RunEvent::Reset {
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
            RunEvent::Status { status } => {
                self.status = *status;
                if let (RunStatus::Finished | RunStatus::Stopped, Scene::Tree(t)) =
                    (status, &mut self.scene)
                {
                    t.close(at);
                }
            }
            RunEvent::Clock { speed, paused } => {
                self.clock.speed = *speed;
                self.clock.paused = *paused;
            }
            RunEvent::Param { name, value } => {
                self.params.insert(name.clone(), *value);
            }
            // A preview that arrives once the run has started is stale.
            RunEvent::Preview { scene } => {
                if self.status == RunStatus::Idle {
                    self.scene = scene.clone();
                }
            }
            // What a command caused has its own events.
            RunEvent::Command { .. } => {}
        }
    }
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
    use crate::overload::{OverloadEvent, OverloadScene};
    use crate::params::Params;
    use crate::task::{DropReason, Outcome, Task, TaskId, TaskKind};

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
        Event::Run(RunEvent::Reset {
            params: Params::new(),
            seed: 1,
            capacity: 2,
            workers: 1,
        })
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
            Event::Run(RunEvent::Preview {
                scene: preview.clone(),
            }),
        ));
        assert_eq!(snap.scene, preview);
        // Once started, a preview that comes late changes nothing.
        let running = Event::Run(RunEvent::Status {
            status: RunStatus::Running,
        });
        snap.apply(&env(3, 0, running));
        snap.apply(&env(4, 0, reset()));
        snap.apply(&env(
            5,
            0,
            Event::Run(RunEvent::Status {
                status: RunStatus::Running,
            }),
        ));
        let before = snap.scene.clone();
        snap.apply(&env(6, 0, Event::Run(RunEvent::Preview { scene: preview })));
        assert_eq!(snap.scene, before);
    }

    #[test]
    fn a_blueprint_keeps_the_shape_and_drops_what_moved() {
        let mut snap = RunSnapshot::new("r", PatternId::DropBasic);
        snap.apply(&env(1, 0, reset()));
        snap.apply(&env(
            2,
            0,
            Event::Overload(OverloadEvent::Submitted { task: task(1, 1) }),
        ));
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
            Event::Overload(OverloadEvent::Submitted { task: task(0, 5) }),
            Event::Overload(OverloadEvent::Enqueued { task: 0 }),
            Event::Overload(OverloadEvent::Started { task: 0, worker: 0 }),
            Event::Overload(OverloadEvent::Finished {
                task: 0,
                worker: 0,
                outcome: Outcome::Failed,
            }),
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
            feed(
                &mut snap,
                Event::Overload(OverloadEvent::Submitted { task: task(id, p) }),
            );
            feed(
                &mut snap,
                Event::Overload(OverloadEvent::Enqueued { task: id }),
            );
        }
        feed(
            &mut snap,
            Event::Overload(OverloadEvent::Submitted { task: task(2, 9) }),
        );
        feed(
            &mut snap,
            Event::Overload(OverloadEvent::Dropped {
                task: 0,
                reason: DropReason::Evicted {
                    by: 2,
                    by_priority: 9,
                },
            }),
        );
        feed(
            &mut snap,
            Event::Overload(OverloadEvent::Enqueued { task: 2 }),
        );
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
        let submitted = env(
            2,
            0,
            Event::Overload(OverloadEvent::Submitted { task: task(0, 1) }),
        );
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
        snap.apply(&env(
            2,
            100,
            Event::Overload(OverloadEvent::Submitted { task: task(0, 1) }),
        ));
        snap.apply(&env(
            3,
            100,
            Event::Overload(OverloadEvent::Blocked { task: 0 }),
        ));
        assert_eq!(snap.overload().blocked_since_ms, Some(100));
        snap.apply(&env(
            4,
            350,
            Event::Overload(OverloadEvent::Enqueued { task: 0 }),
        ));
        assert_eq!(snap.overload().blocked_ms, 250);
        assert_eq!(snap.overload().blocked_since_ms, None);
    }

    #[test]
    fn events_are_named_by_family_then_kind_each_a_key_that_holds_the_fields() {
        let e = env(
            7,
            30,
            Event::Overload(OverloadEvent::Dropped {
                task: 3,
                reason: DropReason::QueueFull,
            }),
        );
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["seq"], 7);
        assert_eq!(json["event"]["overload"]["dropped"]["task"], 3);
        assert_eq!(json["event"]["overload"]["dropped"]["reason"], "queue_full");
        let back: Envelope = serde_json::from_value(json).unwrap();
        assert_eq!(back, e);
    }
}

//! Singleflight: concurrent requests for the same key share one call to
//! the backend (request coalescing).
//!
//! The first caller of a key becomes the leader and makes the call; anyone
//! asking for that key while it is in flight waits for the leader's answer
//! instead of calling again. When the answer comes, every one of them gets
//! it at once and the key is forgotten, so the next caller starts afresh.

use super::pipe::Flow;
use crate::engines::{About, Prompt, Ctx};
use crate::clock::Clock;
use crate::sink::{Recorder, Sink};
use rand::Rng;
use shared::pattern::singleflight::SingleflightParams;
use shared::{Event, FlowEvent, ItemEnd, ItemId, StageId, StageRole, StageSpec};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Where callers arrive.
const CALLERS: StageId = 0;
/// The group: callers of a key with a call in flight wait here.
const GROUP: StageId = 1;
/// The backend: one worker per call in flight.
const BACKEND: StageId = 2;

pub const ABOUT: About = About {
    title: "Singleflight (request coalescing)",
    summary: "Forty callers arrive, one every 60 ms, each asking for one of three keys \
                  (user:1, user:2, user:3); the backend takes 500 ms to answer. The first \
                  caller of a key makes the call; everyone asking for the same key meanwhile \
                  waits for that call and gets its answer at the same instant. About one call \
                  per key every half second instead of one per caller.",
    try_this: "Watch the callers of a key line up behind their leader and leave with it. \
                   Compare the calls made with the callers on the backend's gauge. Switch \
                   coalescing off: every caller calls the backend itself and the backend \
                   fills with duplicate calls. Set one key: all callers share a call. Slow the \
                   arrivals to one every 600 ms: nothing is in flight to share.",
    questions: &[Prompt {
        at_ms: 100,
        text: "Three callers ask for user:1 while a 500 ms call for it is in flight. How many backend calls do they add?",
        choices: &["Three", "None: they share the call in flight", "One more"],
        answer: 1,
    }],
};

pub async fn run(mut ctx: Ctx) {
    let flow = Flow::new(&ctx);
    let p: SingleflightParams = ctx.params.get();
    let (callers, keys) = (p.callers.max(1), p.keys.max(1));
    let stage = |id, label: &str, role, workers, column, about: &str| StageSpec {
        id,
        label: label.to_owned(),
        role,
        workers,
        column,
        row: 0,
        about: Some(about.to_owned()).filter(|a| !a.is_empty()),
    };
    flow.stage(stage(CALLERS, "callers", StageRole::Source, 0, 0, ""));
    flow.stage(stage(
        GROUP,
        "group",
        StageRole::Gate,
        0,
        1,
        "one call per key in flight",
    ));
    flow.stage(stage(
        BACKEND,
        "backend",
        StageRole::Worker,
        keys,
        2,
        "calls made / callers",
    ));
    let state = Arc::new(State::new(keys));
    // Read before recording: elsewhere the state is locked only inside a
    // record step, and the two locks must always be taken in that order.
    let gauge = state.lock().gauge();
    ctx.sink.emit(gauge);

    let crew = TaskTracker::new();
    let mut next_at = Duration::ZERO;
    for n in 1..=callers {
        tokio::select! {
            biased;
            () = ctx.token.cancelled() => return,
            () = ctx.clock.sleep_until(next_at) => {}
        }
        let key = format!("user:{}", ctx.rng.random_range(1..=keys));
        let caller = flow.make(CALLERS, format!("{key} #{n}"), Some(key.clone()), ());
        let SingleflightParams {
            coalesce, call_ms, ..
        } = ctx.params.get();
        let joined = ctx
            .sink
            .record(|r| state.lock().arrive(&key, caller.id, coalesce, r));
        if let Joined::Lead(call) = joined {
            let leader = Leader {
                call,
                state: Arc::clone(&state),
                took: call_ms,
                clock: ctx.clock.clone(),
                sink: ctx.sink.clone(),
                token: ctx.token.clone(),
            };
            ctx.tracker.spawn(crew.track_future(leader.run()));
        }
        next_at += ctx.params.get::<SingleflightParams>().interval_ms;
    }
    crew.close();
    tokio::select! {
        biased;
        () = ctx.token.cancelled() => {}
        () = crew.wait() => {}
    }
}

/// A call in flight that callers of its key can join.
#[derive(Debug)]
struct Flight {
    leader: ItemId,
    /// Callers waiting for its answer, in the order they came.
    waiters: Vec<ItemId>,
}

/// The group, written by hand: for each key, the call in flight if there
/// is one. A caller finding its key here waits; one finding it absent
/// makes the call and puts it here for others.
#[derive(Debug, Default)]
struct Group {
    flights: HashMap<String, Flight>,
}

/// What a caller does on arrival.
#[derive(Debug, PartialEq)]
enum Joined {
    /// Makes the call itself.
    Lead(Call),
    /// Waits for `leader`'s call.
    Follow { leader: ItemId },
}

/// A call to make: whose, and whether other callers may join it.
#[derive(Debug, PartialEq)]
struct Call {
    key: String,
    leader: ItemId,
    shared: bool,
}

impl Group {
    /// A caller of `key` joins the call in flight, or starts one.
    fn join(&mut self, key: &str, caller: ItemId) -> Joined {
        if let Some(flight) = self.flights.get_mut(key) {
            flight.waiters.push(caller);
            return Joined::Follow {
                leader: flight.leader,
            };
        }
        let flight = Flight {
            leader: caller,
            waiters: Vec::new(),
        };
        self.flights.insert(key.to_owned(), flight);
        Joined::Lead(Call {
            key: key.to_owned(),
            leader: caller,
            shared: true,
        })
    }

    /// The call has answered: the key is forgotten, so the next caller
    /// makes a new call, and the callers who waited are returned.
    fn land(&mut self, call: &Call) -> Vec<ItemId> {
        match self.flights.remove(&call.key) {
            Some(flight) => flight.waiters,
            None => Vec::new(),
        }
    }
}

/// The group and the backend's workers, changed together inside
/// `sink.record` steps.
#[derive(Debug)]
struct State {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    group: Group,
    /// The call each backend worker is making. Coalesced, a key's call
    /// goes to its own worker; without coalescing the backend takes on
    /// more workers as calls pile up, and lets them go as they finish.
    busy: Vec<Option<ItemId>>,
    keys: u32,
    calls: u32,
    callers: u32,
}

impl State {
    fn new(keys: u32) -> State {
        State {
            inner: Mutex::new(Inner {
                group: Group::default(),
                busy: vec![None; keys as usize],
                keys,
                calls: 0,
                callers: 0,
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Inner {
    /// A caller arrives: it leads a call (taken by a backend worker) or
    /// waits on the leader of its key's call.
    fn arrive(
        &mut self,
        key: &str,
        caller: ItemId,
        coalesce: bool,
        r: &mut Recorder<'_>,
    ) -> Joined {
        self.callers += 1;
        let joined = if coalesce {
            self.group.join(key, caller)
        } else {
            Joined::Lead(Call {
                key: key.to_owned(),
                leader: caller,
                shared: false,
            })
        };
        match &joined {
            Joined::Lead(_) => {
                self.calls += 1;
                let worker = self.worker_for(key, caller, r);
                r.emit(FlowEvent::ItemTaken {
                    item: caller,
                    stage: BACKEND,
                    worker,
                });
            }
            Joined::Follow { leader } => r.emit(FlowEvent::ItemWaiting {
                item: caller,
                stage: GROUP,
                on: Some(*leader),
            }),
        }
        r.emit(self.gauge());
        joined
    }

    /// A free backend worker for a call of `key`: the key's own if free,
    /// else the first free one, else a new one.
    fn worker_for(&mut self, key: &str, caller: ItemId, r: &mut Recorder<'_>) -> u32 {
        let own = key
            .strip_prefix("user:")
            .and_then(|n| n.parse::<usize>().ok())
            .map(|n| n.saturating_sub(1));
        let free = own
            .filter(|&i| self.busy.get(i) == Some(&None))
            .or_else(|| self.busy.iter().position(Option::is_none));
        let worker = match free {
            Some(i) => i,
            None => {
                self.busy.push(None);
                r.emit(FlowEvent::WorkersSet {
                    stage: BACKEND,
                    workers: self.busy.len() as u32,
                });
                self.busy.len() - 1
            }
        };
        self.busy[worker] = Some(caller);
        worker as u32
    }

    /// The call has answered: its leader and every caller who waited on it
    /// are delivered in this one step, with the same answer.
    fn land(&mut self, call: &Call, r: &mut Recorder<'_>) {
        let waiters = if call.shared {
            self.group.land(call)
        } else {
            Vec::new()
        };
        if let Some(worker) = self.busy.iter_mut().find(|w| **w == Some(call.leader)) {
            *worker = None;
        }
        r.emit(FlowEvent::ItemEnded {
            item: call.leader,
            end: ItemEnd::Delivered { stage: BACKEND },
        });
        for waiter in waiters {
            r.emit(FlowEvent::ItemEnded {
                item: waiter,
                end: ItemEnd::Delivered { stage: GROUP },
            });
        }
        // Extra workers taken on without coalescing go once idle.
        let before = self.busy.len();
        while self.busy.len() > self.keys as usize && self.busy.last() == Some(&None) {
            self.busy.pop();
        }
        if self.busy.len() < before {
            r.emit(FlowEvent::WorkersSet {
                stage: BACKEND,
                workers: self.busy.len() as u32,
            });
        }
    }

    /// Calls made so far against callers so far.
    fn gauge(&self) -> Event {
        Event::Flow(FlowEvent::Gauge {
            stage: BACKEND,
            value: f64::from(self.calls),
            max: f64::from(self.callers),
            label: "backend calls for callers".to_owned(),
        })
    }
}

/// A leader's call to the backend.
#[derive(Debug)]
struct Leader {
    call: Call,
    state: Arc<State>,
    /// How long the backend takes, read when the call was made.
    took: Duration,
    clock: Clock,
    sink: Sink,
    token: CancellationToken,
}

impl Leader {
    async fn run(self) {
        tokio::select! {
            biased;
            // The run records the leader and its waiters as cancelled.
            () = self.token.cancelled() => return,
            () = self.clock.sleep(self.took) => {}
        }
        self.sink.record(|r| self.state.lock().land(&self.call, r));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{PatternId};
    use crate::engines::trial::{self, Driven};
    use shared::{Command, Envelope, FlowEvent};
    use std::collections::BTreeMap;

    #[test]
    fn the_group_lets_one_caller_per_key_lead_until_its_call_lands() {
        let mut group = Group::default();
        let Joined::Lead(call) = group.join("user:1", 0) else {
            panic!("the first caller leads");
        };
        assert_eq!(group.join("user:1", 1), Joined::Follow { leader: 0 });
        assert!(matches!(group.join("user:2", 2), Joined::Lead(_)));
        assert_eq!(group.join("user:1", 3), Joined::Follow { leader: 0 });
        assert_eq!(group.land(&call), [1, 3]);
        assert!(
            matches!(group.join("user:1", 4), Joined::Lead(_)),
            "a new call after it lands"
        );
        assert_eq!(group.join("user:2", 5), Joined::Follow { leader: 2 });
    }

    /// Each backend call: (leader, key, started, ended).
    fn calls(events: &[Envelope]) -> Vec<(ItemId, String, u64, u64)> {
        let mut keys = BTreeMap::new();
        let mut calls = Vec::new();
        for e in events {
            match &e.event {
                Event::Flow(FlowEvent::ItemMade { item, .. }) => {
                    keys.insert(item.id, item.tag.clone().expect("a key"));
                }
                Event::Flow(FlowEvent::ItemTaken {
                    item,
                    stage: BACKEND,
                    ..
                }) => {
                    calls.push((*item, keys[item].clone(), e.at_ms, u64::MAX));
                }
                Event::Flow(FlowEvent::ItemEnded {
                    item,
                    end: ItemEnd::Delivered { stage: BACKEND },
                }) => {
                    if let Some(c) = calls.iter_mut().find(|c| c.0 == *item) {
                        c.3 = e.at_ms;
                    }
                }
                _ => {}
            }
        }
        calls
    }

    /// Every caller: (key, arrived, ended, the leader it waited on).
    fn callers(events: &[Envelope]) -> BTreeMap<ItemId, (String, u64, u64, Option<ItemId>)> {
        let mut callers = BTreeMap::new();
        for e in events {
            match &e.event {
                Event::Flow(FlowEvent::ItemMade { item, .. }) => {
                    callers.insert(
                        item.id,
                        (item.tag.clone().expect("a key"), e.at_ms, u64::MAX, None),
                    );
                }
                Event::Flow(FlowEvent::ItemWaiting { item, on, .. }) => {
                    if let Some(c) = callers.get_mut(item) {
                        c.3 = *on;
                    }
                }
                Event::Flow(FlowEvent::ItemEnded {
                    item,
                    end: ItemEnd::Delivered { .. },
                }) => {
                    if let Some(c) = callers.get_mut(item) {
                        c.2 = e.at_ms;
                    }
                }
                _ => {}
            }
        }
        callers
    }

    #[tokio::test(start_paused = true)]
    async fn callers_of_one_key_share_a_single_call() {
        let t = trial::run(
            PatternId::Singleflight,
            &[("keys", 1.0), ("callers", 10.0)],
            1,
        )
        .await;
        // Callers every 60 ms; the call made at 0 answers at 500, so the
        // callers at 60-480 ride on it and the one at 540 makes a new one.
        let calls = calls(&t.events);
        assert_eq!(
            calls,
            [
                (0, "user:1".to_owned(), 0, 500),
                (9, "user:1".to_owned(), 540, 1_040)
            ]
        );
        let callers = callers(&t.events);
        for id in 1..=8 {
            assert_eq!(callers[&id].3, Some(0), "#{id} waits on the leader");
            assert_eq!(callers[&id].2, 500, "#{id} gets the answer with it");
        }
        let flow = t.end.flow().expect("a flow run");
        assert_eq!(flow.stage(GROUP).map(|s| s.ends.delivered), Some(8));
        assert_eq!(flow.stage(BACKEND).map(|s| s.ends.delivered), Some(2));
        let gauge = flow.stage(BACKEND).and_then(|s| s.gauge.clone());
        assert_eq!(gauge.map(|g| (g.value, g.max)), Some((2.0, 10.0)));
    }

    #[tokio::test(start_paused = true)]
    async fn every_key_has_at_most_one_call_in_flight_and_its_waiters_leave_with_it() {
        let t = trial::run(PatternId::Singleflight, &[], 42).await;
        let calls = calls(&t.events);
        let callers = callers(&t.events);
        for (leader, key, start, end) in &calls {
            assert_eq!(end - start, 500);
            // No other call of the key starts while this one is in flight.
            assert!(
                !calls
                    .iter()
                    .any(|c| &c.1 == key && c.0 != *leader && (*start..*end).contains(&c.2)),
                "two calls of {key} at once: {calls:?}"
            );
            // Every caller of the key meanwhile waited on it and got its
            // answer at the same instant.
            for (id, (k, arrived, ended, on)) in &callers {
                if k == key && (*start..*end).contains(arrived) && id != leader {
                    assert_eq!((*on, *ended), (Some(*leader), *end), "#{id}");
                }
            }
        }
        let c = t.end.counters;
        assert_eq!((c.submitted, c.completed, c.in_flight), (40, 40, 0));
        // Three keys, each with a new call at most every 500 ms, for 40
        // callers over 2.4 s: with this seed 11 calls serve them all.
        assert_eq!(calls.len(), 11, "{calls:?}");
        let keys: std::collections::BTreeSet<&String> = calls.iter().map(|c| &c.1).collect();
        assert_eq!(keys.len(), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn without_coalescing_every_caller_calls_the_backend() {
        let t = trial::run(PatternId::Singleflight, &[("coalesce", 0.0)], 42).await;
        let calls = calls(&t.events);
        assert_eq!(calls.len(), 40);
        assert!(calls.iter().all(|c| c.3 - c.2 == 500));
        let flow = t.end.flow().expect("a flow run");
        let gauge = flow.stage(BACKEND).and_then(|s| s.gauge.clone());
        assert_eq!(gauge.map(|g| (g.value, g.max)), Some((40.0, 40.0)));
        assert_eq!(flow.stage(GROUP).map(|s| s.ends.delivered), Some(0));
        // A call every 60 ms for 500 ms each: nine at once, each on a worker
        // of its own, and back to three workers at the end.
        let most = t
            .events
            .iter()
            .filter_map(|e| match e.event {
                Event::Flow(FlowEvent::WorkersSet { workers, .. }) => Some(workers),
                _ => None,
            })
            .max();
        assert_eq!(most, Some(9));
        assert_eq!(flow.stage(BACKEND).map(|s| s.workers.len()), Some(3));
    }

    #[tokio::test(start_paused = true)]
    async fn switching_coalescing_on_mid_run_shares_calls_from_then_on() {
        let mut d = Driven::start(
            PatternId::Singleflight,
            &[("coalesce", 0.0), ("keys", 1.0)],
            42,
        )
        .await;
        d.until(1_010).await;
        let params = [("coalesce".to_owned(), 1.0)].into();
        d.command(Command::SetParams { params })
            .await
            .expect("a live switch");
        d.finish().await;
        let calls = calls(&d.events);
        // Callers at 0-960 each call (17); from 1020 on one call per 500 ms
        // window: at 1020, 1560, 2100.
        let late: Vec<u64> = calls.iter().map(|c| c.2).filter(|&s| s > 1_000).collect();
        assert_eq!(late, [1_020, 1_560, 2_100]);
        assert_eq!(calls.len(), 17 + 3);
    }

    #[tokio::test(start_paused = true)]
    async fn stop_while_callers_wait_leaves_nothing_alive() {
        let mut d = Driven::start(PatternId::Singleflight, &[], 42).await;
        d.until(730).await;
        let flow = d.folded.flow().expect("a flow run");
        assert!(
            flow.items
                .iter()
                .any(|i| matches!(i.place, shared::Place::Waiting { on: Some(_), .. }))
        );
        d.stop_flow().await;
    }
}

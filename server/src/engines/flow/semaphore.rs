//! Semaphore: bounded concurrency, the bulkhead that lets at most N tasks
//! work at once while the others wait their turn.
//!
//! Each task must hold one of N permits to work; a task that finds none
//! free waits in line, and a permit handed back goes straight to the task
//! that has waited longest. However many tasks arrive, the work behind the
//! semaphore never sees more than N at a time.

use super::pipe::Flow;
use crate::engines::{About, Prompt, Ctx, Settings};
use crate::clock::Clock;
use crate::sink::{Recorder, Sink};
use rand::Rng;
use shared::pattern::semaphore::SemaphoreParams;
use shared::{Event, FlowEvent, ItemEnd, ItemId, StageId, StageRole, StageSpec};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Where tasks arrive.
const TASKS: StageId = 0;
/// The semaphore: its workers are the permits' holders, its line the
/// tasks waiting for one.
const SEMAPHORE: StageId = 1;

pub const ABOUT: About = About {
    title: "Semaphore (bulkhead)",
    summary: "Twelve tasks arrive, one every 100 ms, and each needs one of 3 permits to \
                  work for about 800 ms (give or take a quarter). Three work at once; the \
                  rest wait in line, and each permit handed back goes to the task that has \
                  waited longest. The number of permits caps the concurrency, not the \
                  number of tasks.",
    try_this: "Watch the line grow: tasks arrive faster than three holders finish. Raise \
                   the permits to 6 while tasks wait: they are admitted at once. Lower them \
                   to 1: the holders keep their permits until they finish, and no one new \
                   gets in until fewer than one remain. Slow the arrivals to one every \
                   400 ms and the line disappears.",
    questions: &[Prompt {
        at_ms: 250,
        text: "Three permits; a task arrives every 100 ms and works about 800 ms. What does the fourth task do when it arrives at 300 ms?",
        choices: &["It works at once", "It waits in line for a permit", "It is refused"],
        answer: 1,
    }],
};

pub async fn run(mut ctx: Ctx) {
    let flow = Flow::new(&ctx);
    let p: SemaphoreParams = ctx.params.get();
    let (tasks, permits) = (p.tasks.max(1), p.permits.max(1));
    flow.stage(StageSpec {
        id: TASKS,
        label: "tasks".to_owned(),
        role: StageRole::Source,
        workers: 0,
        column: 0,
        row: 0,
        about: None,
    });
    flow.stage(StageSpec {
        id: SEMAPHORE,
        label: "semaphore".to_owned(),
        role: StageRole::Gate,
        workers: permits,
        column: 1,
        row: 0,
        about: Some("a permit to work; without one, wait in line".to_owned()),
    });
    let gate = Arc::new(Gate::new(permits));
    // Read before recording: elsewhere the seats are locked only inside a
    // record step, and the two locks must always be taken in that order.
    let gauge = gate.seats().gauge();
    ctx.sink.emit(gauge);

    let crew = TaskTracker::new();
    let mut made = 0;
    let mut next_at = Duration::ZERO;
    loop {
        let arrival = async {
            if made < tasks {
                ctx.clock.sleep_until(next_at).await;
            } else {
                std::future::pending().await
            }
        };
        tokio::select! {
            biased;
            () = ctx.token.cancelled() => return,
            Ok(()) = ctx.params.changed() => {
                let permits = ctx.params.seen::<SemaphoreParams>().permits.max(1);
                ctx.sink.record(|r| gate.resize(permits, r));
            }
            () = crew.wait() => return,
            () = arrival => {
                made += 1;
                let item = flow.make(TASKS, format!("#{made}"), None, ());
                ctx.sink.emit(FlowEvent::ItemWaiting {
                    item: item.id,
                    stage: SEMAPHORE,
                    on: None,
                });
                let holder = Holder {
                    item: item.id,
                    pace: ctx.rng.random_range(0.75..=1.25),
                    gate: Arc::clone(&gate),
                    clock: ctx.clock.clone(),
                    sink: ctx.sink.clone(),
                    token: ctx.token.clone(),
                    params: ctx.params.clone(),
                };
                ctx.tracker.spawn(crew.track_future(holder.run()));
                if made == tasks {
                    crew.close();
                }
                next_at += ctx.params.get::<SemaphoreParams>().interval_ms;
            }
        }
    }
}

/// The semaphore with the seats its holders are drawn in.
#[derive(Debug)]
struct Gate {
    /// Fair: a freed permit goes to the task that has waited longest.
    sem: Arc<Semaphore>,
    seats: Mutex<Seats>,
    /// Wakes a task that got its permit in the very instant the semaphore
    /// shrank, and found no seat (see [`Gate::seat`]).
    room: Notify,
}

/// Who holds which permit, as viewers see it. Changed only inside a
/// `sink.record` step, so the picture and this state move together.
#[derive(Debug)]
struct Seats {
    /// The holder in each seat; seats at or past `permits` are going away
    /// and are emptied by their holders as they finish.
    held: Vec<Option<ItemId>>,
    permits: u32,
    /// Permits to forget as their holders hand them back: a semaphore can
    /// only forget the free ones at once, never take back a held one.
    owed: u32,
}

impl Seats {
    fn holders(&self) -> u32 {
        self.held.iter().flatten().count() as u32
    }

    /// Drops the empty seats at the end past the permits: the fold's
    /// workers go the same way.
    fn trim(&mut self) {
        while self.held.len() > self.permits as usize && self.held.last() == Some(&None) {
            self.held.pop();
        }
    }

    fn gauge(&self) -> Event {
        Event::Flow(FlowEvent::Gauge {
            stage: SEMAPHORE,
            value: f64::from(self.permits.saturating_sub(self.holders())),
            max: f64::from(self.permits),
            label: "permits free".to_owned(),
        })
    }
}

impl Gate {
    fn new(permits: u32) -> Gate {
        Gate {
            sem: Arc::new(Semaphore::new(permits as usize)),
            seats: Mutex::new(Seats {
                held: vec![None; permits as usize],
                permits,
                owed: 0,
            }),
            room: Notify::new(),
        }
    }

    fn seats(&self) -> MutexGuard<'_, Seats> {
        self.seats.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Seats a task that holds a permit, unless as many as there are
    /// permits are already seated. That can only happen when the
    /// semaphore shrank between the permit's grant and this step; the task
    /// then waits, first in line still, for a holder to leave.
    fn seat(&self, item: ItemId, r: &mut Recorder<'_>) -> Option<u32> {
        let mut s = self.seats();
        if s.holders() >= s.permits {
            return None;
        }
        // Fewer holders than permits: one of the first `permits` seats is free.
        let seat = (0..s.permits as usize).find(|&i| s.held.get(i).is_none_or(Option::is_none))?;
        if s.held.len() <= seat {
            s.held.resize(seat + 1, None);
        }
        s.held[seat] = Some(item);
        r.emit(FlowEvent::ItemTaken {
            item,
            stage: SEMAPHORE,
            worker: seat as u32,
        });
        r.emit(s.gauge());
        Some(seat as u32)
    }

    /// The holder is done: its end is recorded and its permit handed back
    /// in the same step, so no one can be seen taking it before it is free.
    fn leave(&self, seat: u32, item: ItemId, permit: OwnedSemaphorePermit, r: &mut Recorder<'_>) {
        let mut s = self.seats();
        if let Some(held) = s.held.get_mut(seat as usize) {
            *held = None;
        }
        s.trim();
        if s.owed > 0 {
            s.owed -= 1;
            permit.forget();
        } else {
            drop(permit);
        }
        r.emit(FlowEvent::ItemEnded {
            item,
            end: ItemEnd::Delivered { stage: SEMAPHORE },
        });
        r.emit(s.gauge());
        self.room.notify_waiters();
    }

    /// Grows or shrinks the semaphore to `permits` while tasks hold and
    /// wait for permits.
    fn resize(&self, permits: u32, r: &mut Recorder<'_>) {
        let mut s = self.seats();
        if permits == s.permits {
            return;
        }
        if permits > s.permits {
            let more = permits - s.permits;
            // Permits still owed need not be forgotten any more.
            let kept = more.min(s.owed);
            s.owed -= kept;
            self.sem.add_permits((more - kept) as usize);
        } else {
            let fewer = s.permits - permits;
            let forgotten = self.sem.forget_permits(fewer as usize) as u32;
            s.owed += fewer - forgotten;
        }
        s.permits = permits;
        if s.held.len() < permits as usize {
            s.held.resize(permits as usize, None);
        }
        s.trim();
        r.emit(FlowEvent::WorkersSet {
            stage: SEMAPHORE,
            workers: permits,
        });
        r.emit(s.gauge());
        self.room.notify_waiters();
    }
}

/// One task: wait for a permit, work, hand it back.
#[derive(Debug)]
struct Holder {
    item: ItemId,
    /// Its work takes this share of the work time, drawn when it arrived.
    pace: f64,
    gate: Arc<Gate>,
    clock: Clock,
    sink: Sink,
    token: CancellationToken,
    params: Settings,
}

impl Holder {
    async fn run(self) {
        let permit = tokio::select! {
            biased;
            () = self.token.cancelled() => return,
            permit = Arc::clone(&self.gate.sem).acquire_owned() => permit,
        };
        // The semaphore is never closed.
        let Ok(permit) = permit else { return };
        let seat = loop {
            // Listening before looking, so a holder leaving in between
            // cannot be missed.
            let room = self.gate.room.notified();
            tokio::pin!(room);
            room.as_mut().enable();
            if let Some(seat) = self.sink.record(|r| self.gate.seat(self.item, r)) {
                break seat;
            }
            tokio::select! {
                biased;
                () = self.token.cancelled() => return,
                () = room => {}
            }
        };
        let work = self.params.get::<SemaphoreParams>().work_ms.mul_f64(self.pace);
        let work = Duration::from_millis(work.as_millis() as u64);
        tokio::select! {
            biased;
            // The run records the task in hand as cancelled.
            () = self.token.cancelled() => return,
            () = self.clock.sleep(work) => {}
        }
        self.sink
            .record(|r| self.gate.leave(seat, self.item, permit, r));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{PatternId};
    use crate::engines::trial::{self, Driven};
    use shared::{Command, Envelope, FlowEvent, RunSnapshot};

    /// Folds `events` again one by one and checks, after each, that no more
    /// tasks hold a permit than the semaphore has, except holders left over
    /// from before a shrink, and that nobody was seated past the permits.
    /// Returns the most holders and the longest line seen.
    fn check_holders(events: &[Envelope]) -> (usize, usize) {
        let mut snap = RunSnapshot::new("trial", PatternId::Semaphore);
        let (mut most, mut longest) = (0, 0);
        let mut permits = 0;
        for env in events {
            let before = holders(&snap);
            snap.apply(env);
            let now = holders(&snap);
            match env.event {
                Event::Flow(FlowEvent::StageAdded { ref stage }) if stage.id == SEMAPHORE => {
                    permits = stage.workers as usize;
                }
                Event::Flow(FlowEvent::WorkersSet { workers, .. }) => permits = workers as usize,
                Event::Flow(FlowEvent::ItemTaken { worker, .. }) => {
                    assert!(now <= permits, "{now} holders of {permits} after {env:?}");
                    assert!((worker as usize) < permits, "{env:?}");
                }
                Event::Flow(FlowEvent::Gauge { value, max, .. }) => {
                    assert_eq!(max as usize, permits);
                    assert_eq!(value as usize, permits.saturating_sub(now), "{env:?}");
                }
                _ => assert!(now <= before, "only a take adds a holder: {env:?}"),
            }
            let waiting = snap
                .flow()
                .expect("a flow run")
                .items
                .iter()
                .filter(|i| matches!(i.place, shared::Place::Waiting { .. }))
                .count();
            most = most.max(now);
            longest = longest.max(waiting);
        }
        (most, longest)
    }

    fn holders(snap: &RunSnapshot) -> usize {
        snap.flow()
            .and_then(|f| f.stage(SEMAPHORE))
            .map_or(0, |s| s.workers.iter().filter(|w| w.item.is_some()).count())
    }

    /// The items in the order they were seated, with when.
    fn takes(events: &[Envelope]) -> Vec<(ItemId, u64)> {
        events
            .iter()
            .filter_map(|e| match e.event {
                Event::Flow(FlowEvent::ItemTaken { item, .. }) => Some((item, e.at_ms)),
                _ => None,
            })
            .collect()
    }

    fn ends(events: &[Envelope]) -> Vec<u64> {
        events
            .iter()
            .filter_map(|e| match e.event {
                Event::Flow(FlowEvent::ItemEnded { .. }) => Some(e.at_ms),
                _ => None,
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn never_more_than_three_hold_and_the_line_is_first_come_first_served() {
        let t = trial::run(PatternId::Semaphore, &[], 42).await;
        let (most, longest) = check_holders(&t.events);
        assert_eq!(most, 3);
        assert!(longest >= 5, "tasks pile up in line: {longest}");
        let takes = takes(&t.events);
        let order: Vec<ItemId> = takes.iter().map(|&(item, _)| item).collect();
        assert_eq!(
            order,
            (0..12).collect::<Vec<_>>(),
            "first come, first served"
        );
        // The first three find a permit on arrival; every later one gets
        // the permit of a holder at the very instant it leaves.
        assert_eq!(
            takes[..3].iter().map(|&(_, t)| t).collect::<Vec<_>>(),
            [0, 100, 200]
        );
        let ends = ends(&t.events);
        assert!(
            takes[3..].iter().all(|(_, at)| ends.contains(at)),
            "{takes:?} {ends:?}"
        );
        let c = t.end.counters;
        assert_eq!((c.submitted, c.completed, c.in_flight), (12, 12, 0));
        let done: u64 = t
            .end
            .flow()
            .and_then(|f| f.stage(SEMAPHORE))
            .map_or(0, |s| s.workers.iter().map(|w| w.done).sum());
        assert_eq!(done, 12);
    }

    #[tokio::test(start_paused = true)]
    async fn work_times_vary_by_a_quarter_around_the_setting() {
        let t = trial::run(
            PatternId::Semaphore,
            &[("tasks", 40.0), ("interval_ms", 2_000.0)],
            7,
        )
        .await;
        // One task at a time: each works from its arrival to its end.
        let takes = takes(&t.events);
        let ends = ends(&t.events);
        let works: Vec<u64> = takes.iter().zip(&ends).map(|(&(_, s), &e)| e - s).collect();
        assert!(works.iter().all(|w| (600..=1_000).contains(w)), "{works:?}");
        assert!(
            works.iter().any(|&w| w < 700) && works.iter().any(|&w| w > 900),
            "{works:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn more_permits_admit_the_line_at_once_and_fewer_wait_for_holders_to_leave() {
        let mut d = Driven::start(PatternId::Semaphore, &[("tasks", 20.0)], 42).await;
        // Every work time is at least 600 ms: at 550 the first three hold
        // and #4-#6 wait.
        d.until(550).await;
        let set = |n: f64| Command::SetParams {
            params: [("permits".to_owned(), n)].into(),
        };
        d.command(set(5.0)).await.expect("a live change");
        d.until(560).await;
        let seated: Vec<ItemId> = takes(&d.events).iter().map(|&(i, _)| i).collect();
        assert_eq!(seated, [0, 1, 2, 3, 4], "two more admitted at once");
        assert_eq!(holders(&d.folded), 5);

        d.until(1_250).await;
        let before = takes(&d.events).len();
        let mark = d.events.len();
        assert_eq!(holders(&d.folded), 5);
        d.command(set(1.0)).await.expect("a live change");
        d.until(1_251).await;
        let pool = d
            .folded
            .flow()
            .and_then(|f| f.stage(SEMAPHORE))
            .expect("the semaphore");
        assert_eq!(pool.workers.iter().filter(|w| w.retiring).count(), 4);
        // The five keep their permits; the next is seated only when all
        // have left, and from then on one at a time.
        d.finish().await;
        let takes = takes(&d.events);
        let last_of_five = d.events[mark..]
            .iter()
            .filter(|e| matches!(e.event, Event::Flow(FlowEvent::ItemEnded { .. })))
            .nth(4)
            .map(|e| e.at_ms)
            .expect("five ends");
        assert!(takes[before].1 >= last_of_five, "{takes:?}");
        check_holders(&d.events);
        let order: Vec<ItemId> = takes.iter().map(|&(i, _)| i).collect();
        assert_eq!(order, (0..20).collect::<Vec<_>>());
        assert_eq!(d.folded.counters.completed, 20);
    }

    #[tokio::test(start_paused = true)]
    async fn a_shrink_while_permits_are_free_takes_effect_at_once() {
        let mut d = Driven::start(
            PatternId::Semaphore,
            &[("permits", 8.0), ("interval_ms", 1_000.0), ("tasks", 6.0)],
            42,
        )
        .await;
        // One holder at a time: seven permits free.
        d.until(500).await;
        let params = [("permits".to_owned(), 2.0)].into();
        d.command(Command::SetParams { params })
            .await
            .expect("a live change");
        d.until(501).await;
        let gauge = d
            .folded
            .flow()
            .and_then(|f| f.stage(SEMAPHORE))
            .and_then(|s| s.gauge.clone());
        assert_eq!(gauge.map(|g| (g.value, g.max)), Some((1.0, 2.0)));
        d.finish().await;
        check_holders(&d.events);
        assert_eq!(d.folded.counters.completed, 6);
    }

    #[tokio::test(start_paused = true)]
    async fn stop_while_tasks_wait_leaves_nothing_alive() {
        let mut d = Driven::start(PatternId::Semaphore, &[], 42).await;
        // Every work time is at least 600 ms: at 550 nobody has finished.
        d.until(550).await;
        let flow = d.folded.flow().expect("a flow run");
        let waiting = flow
            .items
            .iter()
            .filter(|i| matches!(i.place, shared::Place::Waiting { .. }))
            .count();
        assert_eq!((holders(&d.folded), waiting), (3, 3));
        assert_eq!(d.stop_flow().await, 6);
        assert_eq!(holders(&d.folded), 0);
    }
}

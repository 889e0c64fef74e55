//! A run's virtual clock, and the pacer that lets it flow.
//!
//! Each run lives on a tokio runtime of its own, on a thread of its own,
//! whose time is paused: virtual time *is* that runtime's time. It moves
//! only when every task of the run is waiting, and then straight to the next
//! timer, so a run is a discrete-event simulation built from real tasks,
//! channels, tokens and semaphores. Nothing is ever late: a sleep of 30 ms
//! ends at exactly 30 ms, and what two tasks do at the same instant happens
//! in the same order every time (one thread; `select!`s are `biased`).
//!
//! The [`pace`] task holds virtual time back against the wall clock, by
//! `speed`. It lets time flow in hops of about [`HOP`] of wall time: when
//! virtual time has caught up with where the wall clock says it may be, the
//! pacer waits in a blocking task, which stops tokio from advancing time
//! while still letting every task do what it does at the present instant.
//! Paused, it waits for a command; a step lets time flow to its target at
//! [`STEP_SPEED_MILLI`]. So speed, pause and step change only when events
//! are seen, never which events happen or at what virtual instant.
//!
//! On a runtime with no pacer (an engine test on tokio's paused test clock,
//! a preview) virtual time flows as fast as the tasks allow.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Slowest and fastest speeds a viewer may choose, in thousandths.
pub const MIN_SPEED_MILLI: u64 = (shared::clock::MIN_SPEED * 1000.0) as u64;
pub const MAX_SPEED_MILLI: u64 = (shared::clock::MAX_SPEED * 1000.0) as u64;
/// How fast virtual time flows during a step (10x): a step of 100 ms shows
/// its events in order over 10 real milliseconds rather than all at once.
pub const STEP_SPEED_MILLI: u64 = 10_000;
/// Wall time between two hops of the pacer: well under a frame, so motion
/// stays smooth, and few enough wake-ups that a run costs little.
pub const HOP: Duration = Duration::from_millis(8);

/// A cheaply cloneable handle to one run's clock.
#[derive(Debug, Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// The runtime instant of virtual zero; set on first use, on the
    /// runtime whose time it is.
    epoch: Mutex<Option<Instant>>,
    pace: Mutex<Pace>,
    /// Wakes the pacer's blocking wait on any change.
    changed_wall: Condvar,
    /// Wakes the pacer's flowing sleep on any change.
    changed: Notify,
    /// A preview's clock: time never moves for the engine.
    frozen: bool,
}

#[derive(Debug, Clone, Copy)]
struct Pace {
    /// Virtual time (as a runtime instant) at `anchor_wall`.
    anchor_virtual: Option<Instant>,
    anchor_wall: std::time::Instant,
    speed_milli: u64,
    paused: bool,
    /// While paused, virtual time still flows up to this point (a step).
    step_to: Option<Instant>,
    /// Whether an engine is running: an idle run's time stands still.
    active: bool,
    closed: bool,
    /// Counts changes, so the pacer's wait ends on one made after it planned.
    version: u64,
}

/// What the pacer does next.
#[derive(Debug, PartialEq)]
enum Plan {
    /// Let virtual time flow up to this instant.
    Flow(Instant),
    /// Wait (blocking) until this wall instant, or for a command.
    Wait(Option<std::time::Instant>),
    Close,
}

impl Pace {
    /// Virtual time and wall time agree at this moment from now on.
    fn reanchor(&mut self, virtual_now: Instant) {
        self.anchor_virtual = Some(virtual_now);
        self.anchor_wall = std::time::Instant::now();
    }

    /// At what speed virtual time flows now, and up to where.
    fn flow(&self, now: Instant) -> Option<(u64, Option<Instant>)> {
        if !self.active {
            return None;
        }
        if !self.paused {
            return Some((self.speed_milli, None));
        }
        match self.step_to {
            Some(target) if target > now => Some((STEP_SPEED_MILLI, Some(target))),
            _ => None,
        }
    }

    fn plan(&self, now: Instant, wall: std::time::Instant) -> Plan {
        if self.closed {
            return Plan::Close;
        }
        let Some((speed, limit)) = self.flow(now) else {
            return Plan::Wait(None);
        };
        let anchor = self.anchor_virtual.unwrap_or(now);
        let elapsed = wall.saturating_duration_since(self.anchor_wall);
        let mut allowed = anchor + scale(elapsed, speed, 1000, false);
        if let Some(limit) = limit {
            allowed = allowed.min(limit);
        }
        let hop = scale(HOP, speed, 1000, false).max(Duration::from_millis(1));
        if allowed >= now + hop || limit.is_some_and(|l| allowed == l && l > now) {
            return Plan::Flow(allowed);
        }
        // Wait for the wall clock to allow the next hop.
        let next = (now + hop).saturating_duration_since(anchor);
        Plan::Wait(Some(self.anchor_wall + scale(next, 1000, speed, true)))
    }
}

/// `d * num / den`, rounded down or up, in whole nanoseconds.
fn scale(d: Duration, num: u64, den: u64, round_up: bool) -> Duration {
    let n = d.as_nanos() * u128::from(num);
    let den = u128::from(den);
    let q = if round_up { n.div_ceil(den) } else { n / den };
    Duration::from_nanos(u64::try_from(q).unwrap_or(u64::MAX))
}

fn whole_ms(d: Duration) -> Duration {
    Duration::from_millis(d.as_millis() as u64)
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

impl Clock {
    /// A clock at virtual zero, running at 1x.
    pub fn new() -> Clock {
        Clock::build(false)
    }

    /// A clock on which no sleep ever ends: for drawing what an engine does
    /// at its first instant.
    pub fn frozen() -> Clock {
        Clock::build(true)
    }

    fn build(frozen: bool) -> Clock {
        let pace = Pace {
            anchor_virtual: None,
            anchor_wall: std::time::Instant::now(),
            speed_milli: 1000,
            paused: false,
            step_to: None,
            active: false,
            closed: false,
            version: 0,
        };
        Clock {
            inner: Arc::new(Inner {
                epoch: Mutex::new(None),
                pace: Mutex::new(pace),
                changed_wall: Condvar::new(),
                changed: Notify::new(),
                frozen,
            }),
        }
    }

    fn pace(&self) -> MutexGuard<'_, Pace> {
        self.inner
            .pace
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Changes the pace at the present virtual instant and tells the pacer.
    fn repace(&self, change: impl FnOnce(&mut Pace)) {
        let now = Instant::now();
        {
            let mut pace = self.pace();
            pace.reanchor(now);
            change(&mut pace);
            pace.version += 1;
        }
        self.inner.changed_wall.notify_all();
        self.inner.changed.notify_one();
    }

    fn epoch(&self) -> Instant {
        *self
            .inner
            .epoch
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get_or_insert_with(Instant::now)
    }

    /// Virtual time since the run started, in whole milliseconds. Read on
    /// the run's own runtime.
    pub fn now(&self) -> Duration {
        whole_ms(Instant::now().saturating_duration_since(self.epoch()))
    }

    pub fn now_ms(&self) -> u64 {
        self.now().as_millis() as u64
    }

    pub fn speed(&self) -> f64 {
        self.pace().speed_milli as f64 / 1000.0
    }

    pub fn is_paused(&self) -> bool {
        self.pace().paused
    }

    /// Back to virtual zero, keeping speed and pause.
    pub fn restart(&self) {
        let now = Instant::now();
        *self
            .inner
            .epoch
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(now);
        self.repace(|p| p.step_to = None);
    }

    /// Lets time flow while an engine runs, and holds it still otherwise.
    pub fn set_active(&self, active: bool) {
        self.repace(|p| p.active = active);
    }

    /// Sets the speed; `speed_milli` must be within the allowed range.
    pub fn set_speed_milli(&self, speed_milli: u64) {
        debug_assert!((MIN_SPEED_MILLI..=MAX_SPEED_MILLI).contains(&speed_milli));
        self.repace(|p| p.speed_milli = speed_milli);
    }

    pub fn pause(&self) {
        self.repace(|p| {
            p.paused = true;
            p.step_to = None;
        });
    }

    pub fn resume(&self) {
        self.repace(|p| {
            p.paused = false;
            p.step_to = None;
        });
    }

    /// While paused, lets virtual time flow `by` further (on top of a step
    /// still in progress), then stand still again. Returns the virtual time
    /// the step ends at, or `None` if the clock is not paused.
    pub fn step(&self, by: Duration) -> Option<Duration> {
        let now = Instant::now();
        let mut until = None;
        self.repace(|p| {
            if p.paused {
                let from = p.step_to.unwrap_or(now).max(now);
                p.step_to = Some(from + by);
                until = Some(from + by);
            }
        });
        until.map(|at| whole_ms(at.saturating_duration_since(self.epoch())))
    }

    /// Whether time may flow: an engine is running.
    pub fn is_active(&self) -> bool {
        self.pace().active
    }

    /// Ends the pacer: the run is gone.
    pub fn close(&self) {
        {
            let mut pace = self.pace();
            pace.closed = true;
            pace.version += 1;
        }
        self.inner.changed_wall.notify_all();
        self.inner.changed.notify_one();
    }

    /// Sleeps until virtual time reaches `deadline`.
    pub async fn sleep_until(&self, deadline: Duration) {
        if self.inner.frozen {
            return std::future::pending().await;
        }
        tokio::time::sleep_until(self.epoch() + deadline).await;
    }

    /// Sleeps for `d` of virtual time from now.
    pub async fn sleep(&self, d: Duration) {
        let deadline = self.now() + d;
        self.sleep_until(deadline).await;
    }

    /// Blocks the calling (blocking-pool) thread until `wall`, or until the
    /// pace changes from the `version` the wait was planned on.
    fn wait_wall(&self, wall: Option<std::time::Instant>, version: u64) {
        let pace = self.pace();
        let unchanged = |p: &mut Pace| p.version == version;
        let condvar = &self.inner.changed_wall;
        let _pace = match wall {
            None => condvar
                .wait_while(pace, unchanged)
                .unwrap_or_else(PoisonError::into_inner),
            Some(wall) => {
                let left = wall.saturating_duration_since(std::time::Instant::now());
                condvar
                    .wait_timeout_while(pace, left, unchanged)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0
            }
        };
    }
}

/// Holds the run's virtual time back against the wall clock until the clock
/// is closed. Runs on the run's own paused runtime.
pub async fn pace(clock: Clock) {
    loop {
        let now = Instant::now();
        let (plan, version) = {
            let pace = clock.pace();
            (pace.plan(now, std::time::Instant::now()), pace.version)
        };
        match plan {
            Plan::Close => return,
            Plan::Flow(to) => {
                tokio::select! {
                    biased;
                    () = clock.inner.changed.notified() => {}
                    () = tokio::time::sleep_until(to) => {}
                }
            }
            Plan::Wait(wall) => {
                let waiting = clock.clone();
                // A blocking task keeps tokio from advancing time while it
                // runs; the run's tasks still do what they do at this instant.
                let _ = tokio::task::spawn_blocking(move || waiting.wait_wall(wall, version)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    fn at(origin: Instant, ms: u64) -> Instant {
        origin + Duration::from_millis(ms)
    }

    /// Virtual time never runs ahead of the wall clock's allowance, and hops
    /// in steps of about `HOP` of wall time.
    #[test]
    fn the_pacer_flows_as_far_as_the_wall_clock_allows() {
        let origin = Instant::now();
        let wall = std::time::Instant::now();
        let mut pace = Pace {
            anchor_virtual: Some(origin),
            anchor_wall: wall,
            speed_milli: 1000,
            paused: false,
            step_to: None,
            active: true,
            closed: false,
            version: 0,
        };
        assert_eq!(
            pace.plan(origin, wall + 20 * MS),
            Plan::Flow(at(origin, 20))
        );
        assert_eq!(
            pace.plan(at(origin, 20), wall + 20 * MS),
            Plan::Wait(Some(wall + 28 * MS)),
            "at 1x the next hop is 8 ms of wall time away"
        );
        pace.speed_milli = 10_000;
        assert_eq!(
            pace.plan(origin, wall + 20 * MS),
            Plan::Flow(at(origin, 200))
        );
        pace.speed_milli = 100;
        assert_eq!(
            pace.plan(origin, wall + 20 * MS),
            Plan::Flow(at(origin, 2)),
            "at 0.1x, 20 ms of wall time allow 2 ms"
        );
        pace.paused = true;
        assert_eq!(pace.plan(origin, wall + 20 * MS), Plan::Wait(None));
        pace.step_to = Some(at(origin, 100));
        assert_eq!(
            pace.plan(origin, wall + 20 * MS),
            Plan::Flow(at(origin, 100)),
            "a step flows at 10x, up to its target"
        );
        assert_eq!(pace.plan(at(origin, 100), wall + 20 * MS), Plan::Wait(None));
        pace.active = false;
        pace.paused = false;
        assert_eq!(pace.plan(origin, wall + 20 * MS), Plan::Wait(None), "idle");
        pace.closed = true;
        assert_eq!(pace.plan(origin, wall), Plan::Close);
    }

    /// With no pacer, sleeps end exactly when they are due.
    #[tokio::test(start_paused = true)]
    async fn sleeps_end_exactly_on_time() {
        let clock = Clock::new();
        for n in 1..=3u64 {
            clock.sleep(30 * MS).await;
            assert_eq!(clock.now_ms(), 30 * n);
        }
        clock.restart();
        assert_eq!(clock.now_ms(), 0);
    }

    /// A frozen clock's sleeps never end.
    #[tokio::test(start_paused = true)]
    async fn a_frozen_clock_stands_still() {
        let clock = Clock::frozen();
        let slept = tokio::time::timeout(Duration::from_secs(60), clock.sleep(MS)).await;
        assert!(slept.is_err());
    }
}

//! A run's virtual clock: the time simulated work sleeps on.
//!
//! Virtual time flows at `speed` times real time, stands still while paused,
//! and on a step flows (fast) up to a target and stops there. Engines never
//! sleep on tokio's clock directly, so a teacher can slow a run down to watch
//! each task, freeze it to explain, or advance it one step at a time.
//!
//! The mapping is integer arithmetic with speed in thousandths, and `now` is
//! whole milliseconds, so at any speed under tokio's paused test clock every
//! virtual instant is exact.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Slowest and fastest speeds a viewer may choose, in thousandths.
pub const MIN_SPEED_MILLI: u64 = 100;
pub const MAX_SPEED_MILLI: u64 = 10_000;
/// How fast virtual time flows during a step (10x): a step of 100 ms shows
/// its events in order over 10 real milliseconds rather than all at once.
const STEP_SPEED_MILLI: u64 = 10_000;

/// A cheaply cloneable handle to one run's clock.
#[derive(Debug, Clone)]
pub struct Clock {
    state: Arc<watch::Sender<State>>,
}

#[derive(Debug, Clone, Copy)]
struct State {
    /// Virtual time at `base_real`.
    base_virtual: Duration,
    base_real: Instant,
    speed_milli: u64,
    paused: bool,
    /// While paused, virtual time still flows up to this point (a step).
    step_to: Option<Duration>,
}

impl State {
    /// At what speed virtual time flows now, and up to where.
    fn flow(&self) -> Option<(u64, Option<Duration>)> {
        if !self.paused {
            return Some((self.speed_milli, None));
        }
        match self.step_to {
            Some(target) if target > self.base_virtual => Some((STEP_SPEED_MILLI, Some(target))),
            _ => None,
        }
    }

    fn now(&self, real: Instant) -> Duration {
        match self.flow() {
            None => self.base_virtual,
            Some((speed, limit)) => {
                let elapsed = real.saturating_duration_since(self.base_real);
                let v = self.base_virtual + scale(elapsed, speed, 1000, false);
                limit.map_or(v, |l| v.min(l))
            }
        }
    }

    /// The real instant at which virtual time reaches `deadline`, if it will
    /// without another command.
    fn reaches(&self, deadline: Duration) -> Option<Instant> {
        let (speed, limit) = self.flow()?;
        if limit.is_some_and(|l| deadline > l) {
            return None;
        }
        let ahead = deadline.saturating_sub(self.base_virtual);
        Some(self.base_real + scale(ahead, 1000, speed, true))
    }

    /// Restarts the linear mapping at the present moment, so a change of
    /// speed or pause never makes virtual time jump.
    fn reanchor(&mut self) {
        let real = Instant::now();
        self.base_virtual = self.now(real);
        self.base_real = real;
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
        let state = State {
            base_virtual: Duration::ZERO,
            base_real: Instant::now(),
            speed_milli: 1000,
            paused: false,
            step_to: None,
        };
        Clock {
            state: Arc::new(watch::Sender::new(state)),
        }
    }

    /// Virtual time since the run started, in whole milliseconds.
    pub fn now(&self) -> Duration {
        whole_ms(self.state.borrow().now(Instant::now()))
    }

    pub fn now_ms(&self) -> u64 {
        self.now().as_millis() as u64
    }

    pub fn speed(&self) -> f64 {
        self.state.borrow().speed_milli as f64 / 1000.0
    }

    pub fn is_paused(&self) -> bool {
        self.state.borrow().paused
    }

    /// Back to virtual zero, keeping speed and pause.
    pub fn restart(&self) {
        self.state.send_modify(|s| {
            s.base_virtual = Duration::ZERO;
            s.base_real = Instant::now();
            s.step_to = None;
        });
    }

    /// Sets the speed; `speed_milli` must be within the allowed range.
    pub fn set_speed_milli(&self, speed_milli: u64) {
        debug_assert!((MIN_SPEED_MILLI..=MAX_SPEED_MILLI).contains(&speed_milli));
        self.state.send_modify(|s| {
            s.reanchor();
            s.speed_milli = speed_milli;
        });
    }

    pub fn pause(&self) {
        self.state.send_modify(|s| {
            s.reanchor();
            s.paused = true;
            s.step_to = None;
        });
    }

    pub fn resume(&self) {
        self.state.send_modify(|s| {
            s.reanchor();
            s.paused = false;
            s.step_to = None;
        });
    }

    /// While paused, lets virtual time flow `by` further (on top of a step
    /// still in progress), then stand still again. Returns false if the clock
    /// is not paused.
    pub fn step(&self, by: Duration) -> bool {
        let mut stepped = false;
        self.state.send_if_modified(|s| {
            if !s.paused {
                return false;
            }
            s.reanchor();
            let from = s.step_to.unwrap_or(s.base_virtual).max(s.base_virtual);
            s.step_to = Some(from + by);
            stepped = true;
            true
        });
        stepped
    }

    /// Sleeps until virtual time reaches `deadline`.
    pub async fn sleep_until(&self, deadline: Duration) {
        let mut changes = self.state.subscribe();
        loop {
            let state = *changes.borrow_and_update();
            if whole_ms(state.now(Instant::now())) >= deadline {
                return;
            }
            match state.reaches(deadline) {
                Some(at) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(at) => {}
                        _ = changes.changed() => {}
                    }
                }
                // Paused: only a command can move time on. The sender lives
                // as long as `self`, so `changed` cannot fail while we wait.
                None => {
                    let _ = changes.changed().await;
                }
            }
        }
    }

    /// Sleeps for `d` of virtual time from now.
    pub async fn sleep(&self, d: Duration) {
        let deadline = self.now() + d;
        self.sleep_until(deadline).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[tokio::test(start_paused = true)]
    async fn virtual_time_follows_speed_exactly() {
        let clock = Clock::new();
        clock.sleep(200 * MS).await;
        assert_eq!(clock.now_ms(), 200);
        clock.set_speed_milli(250);
        let real = Instant::now();
        clock.sleep(100 * MS).await;
        assert_eq!(clock.now_ms(), 300);
        assert_eq!(
            real.elapsed(),
            400 * MS,
            "at 0.25x, 100 virtual ms take 400 real ms"
        );
        clock.set_speed_milli(10_000);
        let real = Instant::now();
        clock.sleep(1000 * MS).await;
        assert_eq!(clock.now_ms(), 1300);
        assert_eq!(real.elapsed(), 100 * MS);
    }

    #[tokio::test(start_paused = true)]
    async fn pause_freezes_and_step_advances_exactly() {
        let clock = Clock::new();
        tokio::time::sleep(50 * MS).await;
        clock.pause();
        let sleeper = {
            let clock = clock.clone();
            tokio::spawn(async move {
                clock.sleep_until(120 * MS).await;
                clock.now_ms()
            })
        };
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert_eq!(clock.now_ms(), 50, "a paused clock does not move");
        assert!(!sleeper.is_finished());

        assert!(clock.step(50 * MS));
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(clock.now_ms(), 100, "a step stops exactly at its target");
        assert!(!sleeper.is_finished());

        assert!(clock.step(50 * MS));
        assert_eq!(sleeper.await.ok(), Some(120));
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(clock.now_ms(), 150);

        clock.resume();
        assert!(!clock.step(MS), "stepping needs a paused clock");
        tokio::time::sleep(10 * MS).await;
        assert_eq!(clock.now_ms(), 160);
    }

    #[tokio::test(start_paused = true)]
    async fn restart_goes_back_to_zero() {
        let clock = Clock::new();
        clock.sleep(500 * MS).await;
        clock.restart();
        assert_eq!(clock.now_ms(), 0);
    }
}

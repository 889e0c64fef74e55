//! An estimate of a run's virtual clock between events.
//!
//! The server only tells us the virtual time at which each event happened.
//! Progress bars and "blocked for" timers must move smoothly in between, so
//! the estimate extrapolates from the latest event at the run's speed, and
//! stands still while the run is paused or not running.

/// How late (in real milliseconds) an event may plausibly arrive after it
/// happened: one frame of batching on the server plus network and render time.
/// An event older than the estimate by less than this does not pull the
/// estimate back, so bars never visibly jump backwards.
const DELIVERY_SLACK_MS: f64 = 300.0;

/// Virtual time anchored at a wall-clock instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VirtualClock {
    /// Virtual milliseconds at `anchor_wall`.
    anchor_ms: f64,
    /// Wall-clock milliseconds (the browser's `performance.now()`).
    anchor_wall: f64,
    speed: f64,
    /// Whether virtual time passes: the run is running and not paused.
    advancing: bool,
}

impl VirtualClock {
    pub fn new(at_ms: u64, wall: f64, speed: f64, advancing: bool) -> VirtualClock {
        VirtualClock {
            anchor_ms: at_ms as f64,
            anchor_wall: wall,
            speed,
            advancing,
        }
    }

    /// The estimated virtual time at wall-clock instant `wall`.
    pub fn now(&self, wall: f64) -> f64 {
        if self.advancing {
            self.anchor_ms + (wall - self.anchor_wall).max(0.0) * self.speed
        } else {
            self.anchor_ms
        }
    }

    /// Takes in an event that happened at virtual `at_ms`, seen at `wall`.
    pub fn observe(&mut self, at_ms: u64, wall: f64, speed: f64, advancing: bool) {
        let estimate = self.now(wall);
        let at = at_ms as f64;
        let slack = DELIVERY_SLACK_MS * speed.max(1.0);
        // Keep the estimate when the event is only slightly older than it (it
        // was in transit); otherwise trust the event: the run was paused,
        // restarted from zero, or we had fallen behind.
        let keep = self.advancing && advancing && at <= estimate && estimate - at <= slack;
        self.anchor_ms = if keep { estimate } else { at };
        self.anchor_wall = wall;
        self.speed = speed;
        self.advancing = advancing;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advances_at_the_run_speed_only_while_running() {
        let clock = VirtualClock::new(1_000, 50.0, 2.0, true);
        assert_eq!(clock.now(50.0), 1_000.0);
        assert_eq!(
            clock.now(150.0),
            1_200.0,
            "100 ms of wall time at 2x is 200 ms"
        );
        let paused = VirtualClock::new(1_000, 50.0, 2.0, false);
        assert_eq!(paused.now(5_000.0), 1_000.0, "a paused run must not move");
    }

    #[test]
    fn a_slightly_late_event_does_not_pull_the_estimate_back() {
        let mut clock = VirtualClock::new(0, 0.0, 1.0, true);
        // At wall 500 the estimate is 500; an event stamped 480 arrives late.
        clock.observe(480, 500.0, 1.0, true);
        assert_eq!(clock.now(500.0), 500.0);
        // An event ahead of the estimate pulls it forward.
        clock.observe(900, 600.0, 1.0, true);
        assert_eq!(clock.now(600.0), 900.0);
    }

    #[test]
    fn pause_and_restart_snap_to_the_event_time() {
        let mut clock = VirtualClock::new(0, 0.0, 1.0, true);
        clock.observe(450, 500.0, 1.0, false);
        assert_eq!(
            clock.now(500.0),
            450.0,
            "paused: the event's time is the truth"
        );
        assert_eq!(clock.now(9_000.0), 450.0);
        let mut running = VirtualClock::new(5_000, 0.0, 1.0, true);
        running.observe(0, 100.0, 1.0, true);
        assert_eq!(
            running.now(100.0),
            0.0,
            "a restart starts the clock from zero"
        );
    }
}

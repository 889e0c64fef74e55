//! The circuit breaker the failure-and-recovery patterns share: a plain
//! state machine ([`Breaker`]) and the handle engines hold ([`SharedBreaker`]),
//! which keeps it in step with the live parameters and moves it from open to
//! half-open on time.
//!
//! The machine never reads a clock: every method takes the virtual instant
//! it happens at, and returns what changed so the caller can report it in
//! the same step as the call that caused it.

use crate::clock::Clock;
use crate::engines::Settings;
use crate::sink::{Recorder, Sink};
use shared::resilience::params::BreakerParams;
use shared::{CircuitState, Event, ResilienceEvent};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The state machine.
#[derive(Debug, Clone)]
pub struct Breaker {
    threshold: u32,
    reset: Duration,
    state: CircuitState,
    /// Consecutive failures counted.
    failures: u32,
    /// When it last opened; it turns half-open `reset` after.
    opened_at: Duration,
    /// Bumped at every change of state. A call carries the generation it
    /// was let through in, and its result counts only if the breaker has
    /// not changed since: a call that left before the breaker opened says
    /// nothing about the downstream the breaker is now probing.
    generation: u64,
    /// Whether the one call a half-open breaker lets through is out.
    trial_out: bool,
}

/// What the breaker says to a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Go ahead, and report back with this ticket.
    Call(Ticket),
    /// Refused at once, the breaker being in this state.
    Rejected(CircuitState),
}

/// A call the breaker let through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Ticket {
    pub generation: u64,
    /// It is the half-open breaker's trial call.
    pub trial: bool,
}

/// What a step changed, for the caller to report: the new failure count
/// if it changed, then each change of state in the order it happened.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub failures: Option<u32>,
    pub moves: Vec<(CircuitState, CircuitState)>,
}

impl Changes {
    /// The events that report the changes, in order: the count first, so
    /// a transition is recorded with the count that caused it.
    pub fn events(&self) -> impl Iterator<Item = Event> + '_ {
        let count = self
            .failures
            .map(|failures| Event::Resilience(ResilienceEvent::BreakerCount { failures }));
        let moves = self
            .moves
            .iter()
            .map(|&(from, to)| Event::Resilience(ResilienceEvent::BreakerMoved { from, to }));
        count.into_iter().chain(moves)
    }

    /// Records the events, inside the caller's step.
    pub fn emit(&self, r: &mut Recorder<'_>) {
        for event in self.events() {
            r.emit(event);
        }
    }
}

/// How the breaker took a call's result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recorded {
    /// The result counted (the call's generation was the current one).
    pub counted: bool,
    pub changes: Changes,
}

impl Breaker {
    /// A closed breaker that opens after `threshold` consecutive failures
    /// and tries again `reset` after opening.
    pub fn new(threshold: u32, reset: Duration) -> Breaker {
        Breaker {
            threshold: threshold.max(1),
            reset,
            state: CircuitState::Closed,
            failures: 0,
            opened_at: Duration::ZERO,
            generation: 0,
            trial_out: false,
        }
    }

    /// Takes effect at the next counted failure: lowered to or below the
    /// present count, the breaker opens then, not now.
    pub fn set_threshold(&mut self, threshold: u32) {
        self.threshold = threshold.max(1);
    }

    /// Takes effect at once, an open breaker included: it turns half-open
    /// `reset` after it opened.
    pub fn set_reset(&mut self, reset: Duration) {
        self.reset = reset;
    }

    /// When an open breaker turns half-open.
    pub fn half_open_at(&self) -> Option<Duration> {
        (self.state == CircuitState::Open).then(|| self.opened_at + self.reset)
    }

    /// Turns an open breaker half-open if its reset timeout has passed.
    pub fn tick(&mut self, now: Duration) -> Changes {
        let mut changes = Changes::default();
        if self.half_open_at().is_some_and(|at| now >= at) {
            self.move_to(CircuitState::HalfOpen, now, &mut changes);
        }
        changes
    }

    /// Asks to let a call through at `now`.
    pub fn admit(&mut self, now: Duration) -> (Admission, Changes) {
        let changes = self.tick(now);
        let generation = self.generation;
        let admission = match self.state {
            CircuitState::Closed => Admission::Call(Ticket {
                generation,
                trial: false,
            }),
            CircuitState::HalfOpen if !self.trial_out => {
                self.trial_out = true;
                Admission::Call(Ticket {
                    generation,
                    trial: true,
                })
            }
            state => Admission::Rejected(state),
        };
        (admission, changes)
    }

    /// Takes the result of a call let through with `generation`.
    pub fn record(&mut self, generation: u64, succeeded: bool, now: Duration) -> Recorded {
        let mut changes = Changes::default();
        if generation != self.generation || self.state == CircuitState::Open {
            // An open breaker lets nothing through, so a result can only
            // be of an earlier generation; both say nothing new.
            return Recorded::default();
        }
        if succeeded {
            self.set_failures(0, &mut changes);
            if self.state == CircuitState::HalfOpen {
                self.move_to(CircuitState::Closed, now, &mut changes);
            }
        } else {
            self.set_failures(self.failures.saturating_add(1), &mut changes);
            let trips = self.state == CircuitState::HalfOpen || self.failures >= self.threshold;
            if trips {
                self.move_to(CircuitState::Open, now, &mut changes);
            }
        }
        Recorded {
            counted: true,
            changes,
        }
    }

    /// Forgets a call that will never report (its job was cut off), so a
    /// trial that never comes back does not hold the half-open breaker
    /// shut for good. Returns whether it freed the trial's place.
    pub fn abandon(&mut self, ticket: Ticket) -> bool {
        let frees = ticket.trial
            && ticket.generation == self.generation
            && self.state == CircuitState::HalfOpen
            && self.trial_out;
        if frees {
            self.trial_out = false;
        }
        frees
    }

    fn set_failures(&mut self, failures: u32, changes: &mut Changes) {
        if failures != self.failures {
            self.failures = failures;
            changes.failures = Some(failures);
        }
    }

    fn move_to(&mut self, to: CircuitState, now: Duration, changes: &mut Changes) {
        changes.moves.push((self.state, to));
        self.state = to;
        self.generation += 1;
        self.trial_out = false;
        if to == CircuitState::Open {
            self.opened_at = now;
        }
    }
}

/// The breaker as an engine's tasks share it.
///
/// Lock order: a caller locks the run's state first (inside
/// [`Sink::record`]) and this breaker inside it, never the other way round,
/// so a change of state and the events that report it are one step.
#[derive(Debug)]
pub struct SharedBreaker {
    /// A std mutex: it is never held across an await.
    machine: Mutex<Breaker>,
    /// Where the threshold and reset timeout are read, at every use.
    params: Settings,
    /// Told of every change of state, so the watcher re-arms.
    changed: Notify,
}

impl SharedBreaker {
    /// A closed breaker configured by the `threshold` and `reset_ms`
    /// parameters, which it follows live.
    pub fn new(params: Settings) -> SharedBreaker {
        let mut machine = Breaker::new(1, Duration::ZERO);
        configure(&mut machine, params.get());
        SharedBreaker {
            machine: Mutex::new(machine),
            params,
            changed: Notify::new(),
        }
    }

    /// The machine, with the parameters as they are now.
    fn lock(&self) -> MutexGuard<'_, Breaker> {
        // Every critical section leaves the machine whole.
        let mut machine = self.machine.lock().unwrap_or_else(PoisonError::into_inner);
        configure(&mut machine, self.params.get());
        machine
    }

    fn changed(&self, changes: &Changes) {
        if !changes.moves.is_empty() {
            self.changed.notify_one();
        }
    }

    /// See [`Breaker::admit`].
    pub fn admit(&self, now: Duration) -> (Admission, Changes) {
        let (admission, changes) = self.lock().admit(now);
        self.changed(&changes);
        (admission, changes)
    }

    /// See [`Breaker::record`].
    pub fn record(&self, ticket: Ticket, succeeded: bool, now: Duration) -> Recorded {
        let recorded = self.lock().record(ticket.generation, succeeded, now);
        self.changed(&recorded.changes);
        recorded
    }

    /// See [`Breaker::abandon`].
    pub fn abandon(&self, ticket: Ticket) {
        self.lock().abandon(ticket);
    }

    /// Turns the breaker half-open exactly when its reset timeout ends,
    /// whether or not a call comes then, until `stop` is cancelled. Spawn
    /// it beside the callers.
    pub async fn watch(&self, clock: Clock, sink: Sink, stop: CancellationToken) {
        let mut params = self.params.clone();
        loop {
            // Registered before the state is read, so a change made after
            // the read still wakes this loop.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            params.mark_unchanged();
            let due = sink.record(|r| {
                let mut machine = self.lock();
                machine.tick(r.now()).emit(r);
                machine.half_open_at()
            });
            let turn = async {
                match due {
                    Some(at) => clock.sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                () = stop.cancelled() => return,
                () = &mut changed => {}
                // A new reset timeout moves the turn.
                Ok(()) = params.changed() => {}
                () = turn => {}
            }
        }
    }
}

fn configure(machine: &mut Breaker, params: BreakerParams) {
    machine.set_threshold(params.threshold);
    machine.set_reset(params.reset_ms);
}

#[cfg(test)]
mod tests {
    use super::*;
    use CircuitState::{Closed, HalfOpen, Open};

    const RESET: Duration = Duration::from_millis(1_000);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn ticket(b: &mut Breaker, now: Duration) -> Ticket {
        match b.admit(now).0 {
            Admission::Call(t) => t,
            Admission::Rejected(state) => panic!("rejected at {now:?}, {state:?}"),
        }
    }

    /// Makes a call at `now` that fails there too.
    fn fail(b: &mut Breaker, now: Duration) -> Recorded {
        let t = ticket(b, now);
        b.record(t.generation, false, now)
    }

    /// A breaker opened at 80 ms by five failures.
    fn opened() -> Breaker {
        let mut b = Breaker::new(5, RESET);
        for i in 0..5 {
            fail(&mut b, ms(20 * i));
        }
        assert_eq!(b.state, Open);
        b
    }

    #[test]
    fn opens_on_the_threshold_th_consecutive_failure_and_not_before() {
        let mut b = Breaker::new(5, RESET);
        for n in 1..=4 {
            let r = fail(&mut b, ms(n));
            assert_eq!((r.counted, r.changes.failures), (true, Some(n as u32)));
            assert_eq!(r.changes.moves, [], "failure {n}");
            assert_eq!(b.state, Closed);
        }
        let r = fail(&mut b, ms(5));
        assert_eq!(r.changes.failures, Some(5));
        assert_eq!(r.changes.moves, [(Closed, Open)]);
        assert_eq!(b.half_open_at(), Some(ms(5) + RESET));
        let events: Vec<_> = r.changes.events().collect();
        assert_eq!(
            events,
            [
                Event::Resilience(ResilienceEvent::BreakerCount { failures: 5 }),
                Event::Resilience(ResilienceEvent::BreakerMoved {
                    from: Closed,
                    to: Open
                })
            ]
        );
    }

    #[test]
    fn a_success_in_between_resets_the_count() {
        let mut b = Breaker::new(3, RESET);
        fail(&mut b, ms(0));
        fail(&mut b, ms(1));
        let t = ticket(&mut b, ms(2));
        let r = b.record(t.generation, true, ms(2));
        assert_eq!(r.changes.failures, Some(0));
        fail(&mut b, ms(3));
        fail(&mut b, ms(4));
        assert_eq!((b.state, b.failures), (Closed, 2));
        let t = ticket(&mut b, ms(5));
        let r = b.record(t.generation, true, ms(5));
        assert_eq!(
            r.changes,
            Changes {
                failures: Some(0),
                moves: vec![]
            }
        );
        // A success with nothing to reset reports no change.
        let t = ticket(&mut b, ms(6));
        assert_eq!(
            b.record(t.generation, true, ms(6)).changes,
            Changes::default()
        );
    }

    #[test]
    fn rejects_while_open_until_exactly_the_reset_timeout() {
        let mut b = Breaker::new(5, RESET);
        for i in 0..5 {
            fail(&mut b, ms(100 + i));
        }
        let opened = ms(104);
        assert_eq!(b.state, Open);
        for at in (104..1_104).step_by(7).chain([1_103]) {
            let (admission, changes) = b.admit(ms(at));
            assert_eq!(admission, Admission::Rejected(Open), "at {at} ms");
            assert_eq!(changes, Changes::default());
        }
        assert_eq!(b.tick(opened + RESET - ms(1)), Changes::default());
        let (admission, changes) = b.admit(opened + RESET);
        assert_eq!(changes.moves, [(Open, HalfOpen)]);
        assert!(matches!(
            admission,
            Admission::Call(Ticket { trial: true, .. })
        ));
    }

    #[test]
    fn the_watcher_s_tick_turns_it_half_open_at_exactly_the_reset_timeout() {
        let mut b = opened();
        let at = b.half_open_at().expect("open");
        assert_eq!(at, ms(80) + RESET);
        assert_eq!(b.tick(at - ms(1)).moves, []);
        assert_eq!(b.tick(at).moves, [(Open, HalfOpen)]);
        assert_eq!((b.state, b.half_open_at()), (HalfOpen, None));
        assert_eq!(b.tick(at + RESET).moves, [], "once only");
    }

    #[test]
    fn half_open_lets_exactly_one_trial_through() {
        let mut b = opened();
        let at = ms(80) + RESET;
        assert_eq!(b.tick(at).moves, [(Open, HalfOpen)]);
        let trial = ticket(&mut b, at);
        assert!(trial.trial);
        for later in 0..5 {
            assert_eq!(b.admit(at + ms(later)).0, Admission::Rejected(HalfOpen));
        }
        assert_eq!(b.state, HalfOpen);
    }

    #[test]
    fn a_trial_success_closes_and_zeroes_the_count() {
        let mut b = opened();
        let at = ms(80) + RESET;
        let trial = ticket(&mut b, at);
        let r = b.record(trial.generation, true, at + ms(30));
        assert!(r.counted);
        assert_eq!(
            r.changes,
            Changes {
                failures: Some(0),
                moves: vec![(HalfOpen, Closed)]
            }
        );
        assert_eq!((b.state, b.failures), (Closed, 0));
        assert!(!ticket(&mut b, at + ms(31)).trial);
    }

    #[test]
    fn a_trial_failure_reopens_with_a_fresh_reset_timeout() {
        let mut b = opened();
        let at = ms(80) + RESET;
        let trial = ticket(&mut b, at);
        let r = b.record(trial.generation, false, at + ms(30));
        assert_eq!(
            r.changes,
            Changes {
                failures: Some(6),
                moves: vec![(HalfOpen, Open)]
            }
        );
        assert_eq!(b.half_open_at(), Some(at + ms(30) + RESET));
        assert_eq!(
            b.admit(at + ms(30) + RESET - ms(1)).0,
            Admission::Rejected(Open)
        );
        assert_eq!(b.tick(at + ms(30) + RESET).moves, [(Open, HalfOpen)]);
    }

    #[test]
    fn results_of_an_earlier_generation_are_ignored() {
        let mut b = Breaker::new(2, RESET);
        let early = ticket(&mut b, ms(0));
        let late = ticket(&mut b, ms(1));
        fail(&mut b, ms(2));
        fail(&mut b, ms(3));
        assert_eq!(b.state, Open);
        // Calls that left while it was closed come back while it is open,
        // then while it is half-open: neither counts nor moves it.
        assert_eq!(b.record(early.generation, true, ms(4)), Recorded::default());
        b.tick(ms(3) + RESET);
        let trial = ticket(&mut b, ms(3) + RESET);
        assert_eq!(
            b.record(late.generation, false, ms(3) + RESET),
            Recorded::default()
        );
        assert_eq!((b.state, b.failures), (HalfOpen, 2));
        // And a result from before the trial closed it is stale as well.
        b.record(trial.generation, true, ms(5) + RESET);
        assert_eq!(
            b.record(trial.generation, false, ms(6) + RESET),
            Recorded::default()
        );
        assert_eq!((b.state, b.failures), (Closed, 0));
    }

    #[test]
    fn abandoning_the_trial_frees_its_place() {
        let mut b = opened();
        let at = ms(80) + RESET;
        let first = ticket(&mut b, at);
        assert_eq!(b.admit(at).0, Admission::Rejected(HalfOpen));
        assert!(!b.abandon(Ticket {
            generation: first.generation,
            trial: false
        }));
        assert!(b.abandon(first));
        let second = ticket(&mut b, at + ms(1));
        assert!(second.trial);
        assert_eq!(b.state, HalfOpen, "abandoning moves nothing");
    }

    #[test]
    fn a_threshold_lowered_below_the_count_trips_on_the_next_failure_only() {
        let mut b = Breaker::new(5, RESET);
        for i in 0..3 {
            fail(&mut b, ms(i));
        }
        b.set_threshold(2);
        assert_eq!(b.state, Closed, "no retroactive trip");
        assert_eq!(fail(&mut b, ms(3)).changes.moves, [(Closed, Open)]);
    }
}

//! What an engine writes through: each event is stamped with the run's
//! next sequence number and its virtual instant, folded into the run's
//! snapshot, and queued for the hub, all under the run's state lock.

use crate::clock::Clock;
use shared::{Envelope, Event, RunSnapshot, Scene};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;
use tokio::sync::Notify;

/// What the engine writes through: stamps, folds and queues each event.
#[derive(Debug, Clone)]
pub struct Sink {
    pub(crate) run: Arc<RunCore>,
}

/// Appends events while the run's state lock is held (see [`Sink::record`]).
#[derive(Debug)]
pub struct Recorder<'a> {
    state: MutexGuard<'a, RunState>,
    now_ms: u64,
    wake: &'a Notify,
}

impl Recorder<'_> {
    pub fn emit(&mut self, event: impl Into<Event>) {
        let env = Envelope {
            seq: self.state.snapshot.seq + 1,
            at_ms: self.now_ms,
            event: event.into(),
        };
        self.state.snapshot.apply(&env);
        if self.state.pending.is_empty() {
            self.wake.notify_one();
        }
        self.state.pending.push(env);
    }

    /// The virtual instant this step's events are stamped with: what a
    /// state machine changed inside the step should be timed by it too.
    pub fn now(&self) -> Duration {
        Duration::from_millis(self.now_ms)
    }

    pub(crate) fn snapshot(&self) -> &RunSnapshot {
        &self.state.snapshot
    }
}

impl Sink {
    /// A sink of no run's, folding into a snapshot of its own on `clock`:
    /// for drawing a preview off to the side.
    pub(crate) fn detached(clock: Clock, snapshot: RunSnapshot) -> Sink {
        let core = RunCore {
            clock,
            state: Mutex::new(RunState {
                snapshot,
                pending: Vec::new(),
            }),
            wake: Arc::new(Notify::new()),
        };
        Sink {
            run: Arc::new(core),
        }
    }

    /// The scene folded so far.
    pub(crate) fn scene(&self) -> Scene {
        self.run.lock().snapshot.scene.clone()
    }

    /// Records one event.
    pub fn emit(&self, event: impl Into<Event>) {
        let event = event.into();
        self.record(|r| r.emit(event));
    }

    /// Runs `f` with the run's state locked, so that a change to a real queue
    /// and the event that reports it are one step: no other task can report
    /// something about the same task in between.
    pub fn record<R>(&self, f: impl FnOnce(&mut Recorder<'_>) -> R) -> R {
        // The clock is read under the lock: read before it, a task that
        // waited for the lock would stamp its event earlier than the one
        // recorded just before it, and virtual time would run backwards.
        let state = self.run.lock();
        let now_ms = self.run.clock.now_ms();
        let mut recorder = Recorder {
            state,
            now_ms,
            wake: &self.run.wake,
        };
        f(&mut recorder)
    }
}

#[derive(Debug)]
pub(crate) struct RunState {
    pub(crate) snapshot: RunSnapshot,
    /// Events not yet sent to viewers.
    pub(crate) pending: Vec<Envelope>,
}

/// The part of a run engines can reach through their sink.
#[derive(Debug)]
pub(crate) struct RunCore {
    pub(crate) clock: Clock,
    pub(crate) state: Mutex<RunState>,
    /// Tells the hub this run has pending events.
    pub(crate) wake: Arc<Notify>,
}

impl RunCore {
    pub(crate) fn lock(&self) -> MutexGuard<'_, RunState> {
        // Every critical section leaves the state whole, so a panic elsewhere
        // must not take the run down with it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

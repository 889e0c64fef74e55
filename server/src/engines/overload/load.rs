//! What the overload family shares: a producer that offers tasks at a steady
//! pace, workers that take them off a queue and work on the virtual clock.
//!
//! Each pattern supplies the two things it teaches: how a task is made
//! (`Workload`) and what happens when it is offered to a full queue (its own
//! producer step). The queue itself differs too: a tokio `mpsc` channel where
//! the lesson is the channel, a hand-written queue where eviction needs to see
//! inside it.

use crate::clock::Clock;
use crate::engines::Ctx;
use crate::sink::Sink;
use shared::{Outcome, OverloadEvent, ParamSet, Task};
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A task as the engine holds it: what viewers see, plus its hidden fate.
#[derive(Debug, Clone, Copy)]
pub struct SimTask {
    pub task: Task,
    /// Decided at creation from the seeded RNG; revealed when the work ends.
    pub fails: bool,
}

/// Where workers take their next task from.
pub trait TaskSource: Send + Sync + 'static {
    /// The next task, or `None` once the producer is done and the queue empty.
    fn next(&self) -> impl Future<Output = Option<SimTask>> + Send;
}

/// An `mpsc` receiver shared by several workers: whoever holds the lock
/// waits for the next task, the others wait for the lock.
impl TaskSource for Mutex<mpsc::Receiver<SimTask>> {
    async fn next(&self) -> Option<SimTask> {
        self.lock().await.recv().await
    }
}

/// The load every overload pattern's parameters describe.
pub trait Load: ParamSet {
    /// How many tasks to make; 0: no end.
    fn tasks(&self) -> u32;
    /// How long from one task to the next.
    fn interval(&self) -> Duration;
}

/// Implements [`Load`] for a pattern's parameters that have the `tasks`
/// and `interval_ms` fields every overload pattern has.
macro_rules! load {
    ($params:ty) => {
        impl $crate::engines::overload::load::Load for $params {
            fn tasks(&self) -> u32 {
                self.tasks
            }

            fn interval(&self) -> std::time::Duration {
                self.interval_ms
            }
        }
    };
}
pub(crate) use load;

/// The producer's schedule: which task comes next, and when.
#[derive(Debug)]
pub struct Pace<P> {
    /// The next task's id.
    pub id: u32,
    /// How many tasks to make; `None` (0 in the parameters) means no end.
    limit: Option<u32>,
    next_at: Duration,
    load: PhantomData<P>,
}

impl<P: Load> Pace<P> {
    pub fn new(ctx: &Ctx) -> Pace<P> {
        let limit = match ctx.params.get::<P>().tasks() {
            0 => None,
            n => Some(n),
        };
        Pace {
            id: 0,
            limit,
            next_at: Duration::ZERO,
            load: PhantomData,
        }
    }

    /// Counts the task just offered and waits one interval for the next,
    /// reading the interval afresh so a change applies at once. Returns
    /// false when the producer is done: all tasks made, or the run cancelled.
    pub async fn advance(&mut self, ctx: &Ctx) -> bool {
        self.id += 1;
        if self.limit.is_some_and(|n| self.id >= n) {
            return false;
        }
        self.next_at += ctx.params.get::<P>().interval();
        tokio::select! {
            biased;
            () = ctx.token.cancelled() => false,
            () = ctx.clock.sleep_until(self.next_at) => true,
        }
    }

    /// Counts the next interval from now rather than from the schedule, as
    /// after a send that had to wait.
    pub fn restart_from(&mut self, now: Duration) {
        self.next_at = now;
    }
}

/// Spawns `n` workers on the run's tracker, all reading `source`. The
/// returned tracker (already closed) tells when all of them have stopped.
pub fn spawn_workers<S: TaskSource>(ctx: &Ctx, n: u32, source: Arc<S>) -> TaskTracker {
    let workers = TaskTracker::new();
    for worker in 0..n {
        let source = Arc::clone(&source);
        let job = work(
            worker,
            source,
            ctx.clock.clone(),
            ctx.sink.clone(),
            ctx.token.clone(),
        );
        ctx.tracker.spawn(workers.track_future(job));
    }
    workers.close();
    workers
}

/// One worker: take a task, work on it for its time, report, repeat.
async fn work<S: TaskSource>(
    worker: u32,
    source: Arc<S>,
    clock: Clock,
    sink: Sink,
    token: CancellationToken,
) {
    loop {
        let next = tokio::select! {
            biased;
            () = token.cancelled() => return,
            next = source.next() => next,
        };
        let Some(sim) = next else { return };
        let id = sim.task.id;
        sink.emit(OverloadEvent::Started { task: id, worker });
        tokio::select! {
            biased;
            // The run records the task in hand as cancelled.
            () = token.cancelled() => return,
            () = clock.sleep(Duration::from_millis(u64::from(sim.task.work_ms))) => {}
        }
        let outcome = if sim.fails {
            Outcome::Failed
        } else {
            Outcome::Completed
        };
        sink.emit(OverloadEvent::Finished {
            task: id,
            worker,
            outcome,
        });
    }
}

//! What the overload family shares: a producer that offers tasks at a steady
//! pace, workers that take them off a queue and work on the virtual clock.
//!
//! Each pattern supplies the two things it teaches: how a task is made
//! (`Workload`) and what happens when it is offered to a full queue (its own
//! producer step). The queue itself differs too: a tokio `mpsc` channel where
//! the lesson is the channel, a hand-written queue where eviction needs to see
//! inside it.

use super::Ctx;
use crate::clock::Clock;
use crate::run::Sink;
use shared::{Event, Outcome, Task};
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

/// How many tasks the producer makes; 0 in the parameters means no end.
pub fn task_limit(ctx: &Ctx) -> Option<u32> {
    match ctx.param("tasks") as u32 {
        0 => None,
        n => Some(n),
    }
}

/// Paces a producer: the i-th task is offered `interval` after the previous
/// one, reading the interval afresh each time so a change applies at once.
/// Returns false if the run was cancelled while waiting.
pub async fn wait_for_next_tick(ctx: &Ctx, next_at: &mut Duration) -> bool {
    *next_at += super::read_ms(&ctx.params.borrow(), "interval_ms");
    tokio::select! {
        () = ctx.token.cancelled() => false,
        () = ctx.clock.sleep_until(*next_at) => true,
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
            () = token.cancelled() => return,
            next = source.next() => next,
        };
        let Some(sim) = next else { return };
        let id = sim.task.id;
        sink.emit(Event::Started { task: id, worker });
        tokio::select! {
            // The run records the task in hand as cancelled.
            () = token.cancelled() => return,
            () = clock.sleep(Duration::from_millis(u64::from(sim.task.work_ms))) => {}
        }
        let outcome = if sim.fails {
            Outcome::Failed
        } else {
            Outcome::Completed
        };
        sink.emit(Event::Finished {
            task: id,
            worker,
            outcome,
        });
    }
}

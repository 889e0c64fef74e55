//! Graceful shutdown: on the signal a service stops taking new work,
//! finishes the work it has already accepted, closes what it holds, and
//! gives up on whatever is left once its grace period runs out.
//!
//! A producer accepts a job every 100 ms into a queue that five workers
//! drain. The shutdown signal cancels the accepting scope: the producer
//! stops and closes the queue, and a grace deadline is put on the workers'
//! scope. The workers finish the jobs in hand and those still queued; if the
//! deadline comes first, the jobs in hand are cancelled and the queued ones
//! abandoned. Then the database and the cache are closed, and the service
//! has stopped.

use crate::engines::{About, Prompt, Ctx, Settings};
use super::tree::{Cause, NodeId, NodeKind, ROOT, Tree};
use shared::pattern::graceful_shutdown::GracefulShutdownParams;
use shared::cancellation::{Phase, TaskEnd};
use shared::CancellationEvent;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};
use tokio_util::task::TaskTracker;

/// The job queue's slots.
const QUEUE: usize = 100;
/// What the service closes on its way out, one uninterruptible step each.
const CLEANUP: [&str; 2] = ["close database", "close cache"];
const CLEANUP_STEP: Duration = Duration::from_millis(100);

pub const ABOUT: About = About {
    title: "Graceful shutdown",
    summary: "A service accepts a job every 100 ms into a queue of 100; five workers take \
                  them, 50 ms each. At 3 s the shutdown signal comes: it stops accepting, \
                  finishes the jobs it has, closes its database and cache, and stops. Had the \
                  10 s grace period run out first, the jobs left would have been abandoned.",
    try_this: "Make jobs take 2 s and the grace period 500 ms: the queue is still long \
                   when the signal comes, and what is not done by the deadline is abandoned. \
                   Or set the signal to 0 and send it yourself with the Shutdown button.",
    questions: &[Prompt {
        at_ms: 2900,
        text: "The shutdown signal comes at 3 s. What happens to the jobs already accepted?",
        choices: &["They are abandoned at once", "The workers finish them, then the service stops", "They wait for the next start"],
        answer: 1,
    }],
};

/// A job as it waits in the queue: its number in order of acceptance.
#[derive(Debug)]
struct Job(u32);

type Queue = Arc<Mutex<mpsc::Receiver<Job>>>;

/// The shutdown signal, if it is set for a time.
#[derive(Debug, Clone, Copy)]
struct Signal {
    at: Option<Duration>,
}

impl Signal {
    /// Sends the signal if its time has come. A signal due at this very
    /// instant counts even if the task that sends it has not run yet, as a
    /// deadline does in `Tree::check`: a job offered at the same moment
    /// loses to it, whichever task wakes first.
    fn fire_if_due(self, tree: &Tree) {
        if self.at.is_some_and(|at| tree.clock().now() >= at) {
            // Refused once sent (by a viewer or the other task): fine.
            let _ = tree.shutdown();
        }
    }
}

/// How the jobs ended, for the closing summary.
#[derive(Debug, Default)]
struct Tally {
    finished: AtomicU64,
    abandoned: AtomicU64,
}

pub async fn run(ctx: Ctx) {
    let p: GracefulShutdownParams = ctx.params.get();
    let (workers, grace, at) = (p.workers, p.grace_ms, p.shutdown_at_ms);
    let signal = Signal {
        at: (!at.is_zero()).then_some(at),
    };
    let (tree, _keeper) = Tree::open(&ctx, "server");
    let Some(accepting) = tree.add(ROOT, "accepting", NodeKind::Scope).create() else {
        return;
    };
    tree.set_shutdown_node(accepting);
    let (Some(producer), Some(pool)) = (
        tree.add(accepting, "producer", NodeKind::Service).create(),
        tree.add(ROOT, "workers", NodeKind::Scope).create(),
    ) else {
        return;
    };
    phase(&tree, Phase::Accepting);

    let (tx, rx) = mpsc::channel(QUEUE);
    let queue: Queue = Arc::new(Mutex::new(rx));
    let tally = Arc::new(Tally::default());
    let producing = TaskTracker::new();
    let feed = produce(tree.clone(), producer, tx, ctx.params.clone(), signal);
    ctx.tracker.spawn(producing.track_future(feed));
    producing.close();
    let working = TaskTracker::new();
    for number in 1..=workers {
        let worker = work(
            tree.clone(),
            pool,
            number,
            Arc::clone(&queue),
            ctx.params.clone(),
            Arc::clone(&tally),
        );
        ctx.tracker.spawn(working.track_future(worker));
    }
    working.close();

    let scheduled = async {
        if let Some(at) = signal.at {
            tree.clock().sleep_until(at).await;
            signal.fire_if_due(&tree);
        }
        std::future::pending::<()>().await;
    };
    let signalled = tree.token(accepting);
    tokio::select! {
        biased;
        () = signalled.cancelled() => {}
        () = scheduled => {}
    }
    if tree.run_stopping() {
        return;
    }

    phase(&tree, Phase::Draining);
    // Refused only if a viewer already cancelled the workers' scope: then
    // there is nothing left to give grace to.
    let _ = tree.set_deadline(pool, grace);
    producing.wait().await;
    working.wait().await;
    if tree.run_stopping() {
        return;
    }
    let how = match tree.check(pool) {
        Ok(()) => "drained",
        Err(stopped) if stopped.origin_cause == Cause::Deadline => "grace period ran out",
        Err(stopped) => stopped.reason(),
    };
    // What no worker took before the grace period ran out.
    let left = {
        let mut queue = queue.lock().await;
        let mut left = 0;
        while queue.try_recv().is_ok() {
            left += 1;
        }
        left
    };
    if left > 0 {
        tree.sink().emit(CancellationEvent::Abandoned { jobs: left });
        tally.abandoned.fetch_add(left, Ordering::Relaxed);
    }

    phase(&tree, Phase::CleaningUp);
    if !clean_up(&tree).await {
        return;
    }
    phase(&tree, Phase::Stopped);
    let finished = tally.finished.load(Ordering::Relaxed);
    let abandoned = tally.abandoned.load(Ordering::Relaxed);
    tree.note(
        ROOT,
        format!("{how}: {finished} finished, {abandoned} abandoned"),
    );
}

fn phase(tree: &Tree, phase: Phase) {
    tree.sink().emit(CancellationEvent::Phase { phase });
}

/// The producer: accepts a job, then waits for the next, until the signal.
/// A full queue holds it back until a worker makes room.
async fn produce(
    tree: Tree,
    node: NodeId,
    queue: mpsc::Sender<Job>,
    params: Settings,
    signal: Signal,
) {
    tree.started(node);
    let token = tree.token(node);
    let mut accepted = 0;
    let stopped = loop {
        signal.fire_if_due(&tree);
        if let Err(stopped) = tree.check(node) {
            break Some(stopped);
        }
        let slot = tokio::select! {
            biased;
            () = token.cancelled() => continue,
            slot = queue.reserve() => slot,
        };
        // Every worker is gone: the run is stopping.
        let Ok(slot) = slot else { break None };
        accepted += 1;
        // One step with its event, so no worker can take the job before it
        // is counted as accepted.
        tree.sink().record(|r| {
            slot.send(Job(accepted));
            r.emit(CancellationEvent::Accepted { jobs: 1 });
        });
        tree.step(node, accepted);
        let every = params.get::<GracefulShutdownParams>().job_every_ms;
        if let Err(stopped) = tree.pause(node, every).await {
            break Some(stopped);
        }
    };
    // Closes the queue: the workers take what is in it, then stop.
    drop(queue);
    tree.note(node, format!("stopped accepting after {accepted} jobs"));
    let end = stopped.map_or(TaskEnd::Cancelled, |s| s.end());
    tree.end(node, end, false);
}

/// One worker: takes jobs until the queue is closed and empty, or until the
/// workers' scope is cancelled (the grace period ran out).
async fn work(
    tree: Tree,
    pool: NodeId,
    number: u32,
    queue: Queue,
    params: Settings,
    tally: Arc<Tally>,
) {
    let token = tree.token(pool);
    loop {
        let job = tokio::select! {
            biased;
            () = token.cancelled() => return,
            job = async { queue.lock().await.recv().await } => job,
        };
        let Some(Job(job)) = job else { return };
        let Some(node) = tree
            .add(pool, format!("job {job}"), NodeKind::Task)
            .transient()
            .from_queue()
            .create()
        else {
            return;
        };
        tree.note(node, format!("worker {number}"));
        tree.started(node);
        let took = params.get::<GracefulShutdownParams>().job_ms;
        // A job watches its token: out of grace, it is abandoned mid-way.
        let (end, count) = match tree.pause(node, took).await {
            Ok(()) => (TaskEnd::Completed, &tally.finished),
            Err(_) => (TaskEnd::Cancelled, &tally.abandoned),
        };
        tree.end(node, end, true);
        count.fetch_add(1, Ordering::Relaxed);
    }
}

/// Closes what the service holds, one step at a time; closing is not
/// interrupted by anything but the run stopping. Returns whether it got to
/// the end.
async fn clean_up(tree: &Tree) -> bool {
    let steps = CLEANUP.len() as u32;
    let Some(node) = tree
        .add(ROOT, "cleanup", NodeKind::Service)
        .steps(steps)
        .create()
    else {
        return false;
    };
    tree.started(node);
    for (step, what) in (1..).zip(CLEANUP) {
        tree.note(node, what);
        tree.work(CLEANUP_STEP).await;
        if tree.run_stopping() {
            tree.end(node, TaskEnd::Cancelled, false);
            return false;
        }
        tree.step(node, step);
    }
    tree.note(node, "database and cache closed");
    tree.end(node, TaskEnd::Completed, false);
    true
}

#[cfg(test)]
mod tests {
    use crate::engines::trial::{self, Driven};
    use crate::run::CommandError;
    use crate::engines::cancellation::tree::TreeError;
    use shared::cancellation::{Cause, Phase, TaskEnd};
    use shared::{CancellationEvent, Command, Envelope, Event, PatternId, RunStatus};

    fn phases(events: &[Envelope]) -> Vec<(Phase, u64)> {
        events
            .iter()
            .filter_map(|e| match e.event {
                Event::Cancellation(CancellationEvent::Phase { phase }) => Some((phase, e.at_ms)),
                _ => None,
            })
            .collect()
    }

    fn accepted_at(events: &[Envelope]) -> Vec<u64> {
        events
            .iter()
            .filter(|e| matches!(e.event, Event::Cancellation(CancellationEvent::Accepted { jobs: 1 })))
            .map(|e| e.at_ms)
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn the_preset_drains_every_accepted_job_then_cleans_up() {
        let t = trial::run(PatternId::GracefulShutdown, &[], 42).await;
        let every_100_ms: Vec<u64> = (0..30).map(|n| n * 100).collect();
        assert_eq!(
            accepted_at(&t.events),
            every_100_ms,
            "the job due at 3000 loses to the signal"
        );
        assert_eq!(
            phases(&t.events),
            [
                (Phase::Accepting, 0),
                (Phase::Draining, 3000),
                (Phase::CleaningUp, 3000),
                (Phase::Stopped, 3200),
            ]
        );
        let accepting = t.node("accepting").cancelled.expect("the signal");
        assert_eq!((accepting.cause, accepting.at_ms), (Cause::Shutdown, 3000));
        let producer = t.node("producer");
        assert_eq!(producer.ended, Some((TaskEnd::Cancelled, 3000)));
        assert_eq!(
            producer.note.as_deref(),
            Some("stopped accepting after 30 jobs")
        );
        let workers = t.node("workers");
        assert_eq!(workers.spec.deadline_ms, Some(13_000), "10 s of grace");
        assert_eq!(workers.cancelled, None, "drained well inside it");
        let cleanup = t.node("cleanup");
        assert_eq!(cleanup.step, 2);
        assert_eq!(cleanup.ended, Some((TaskEnd::Completed, 3200)));
        assert_eq!(
            t.node("server").note.as_deref(),
            Some("drained: 30 finished, 0 abandoned")
        );
        let c = t.end.counters;
        assert_eq!(
            (c.submitted, c.completed, c.cancelled, c.in_flight),
            (30, 30, 0, 0)
        );
        assert!(workers.children.is_empty(), "finished jobs leave the tree");
    }

    #[tokio::test(start_paused = true)]
    async fn when_the_grace_period_runs_out_the_rest_is_abandoned() {
        let t = trial::run(
            PatternId::GracefulShutdown,
            &[("job_ms", 2000.0), ("grace_ms", 500.0)],
            42,
        )
        .await;
        // Jobs 1-5 are taken at once and done at 2000-2400; jobs 6-10 are
        // taken then and still running at 3500, when the grace period ends;
        // jobs 11-30 never left the queue.
        assert_eq!(accepted_at(&t.events).len(), 30);
        assert_eq!(
            phases(&t.events),
            [
                (Phase::Accepting, 0),
                (Phase::Draining, 3000),
                (Phase::CleaningUp, 3500),
                (Phase::Stopped, 3700),
            ]
        );
        let workers = t.node("workers").cancelled.expect("out of grace");
        assert_eq!((workers.cause, workers.at_ms), (Cause::Deadline, 3500));
        let abandoned: Vec<(u64, u64)> = t
            .events
            .iter()
            .filter_map(|e| match e.event {
                Event::Cancellation(CancellationEvent::Abandoned { jobs }) => Some((jobs, e.at_ms)),
                _ => None,
            })
            .collect();
        assert_eq!(abandoned, [(20, 3500)]);
        let cut_short = t
            .events
            .iter()
            .filter(|e| {
                let cancelled = matches!(
                    e.event,
                    Event::Cancellation(CancellationEvent::TaskEnded {
                        end: TaskEnd::Cancelled,
                        ..
                    })
                );
                cancelled && e.at_ms == 3500
            })
            .count();
        assert_eq!(cut_short, 5, "the jobs in hand were cancelled");
        let c = t.end.counters;
        assert_eq!(
            (c.submitted, c.completed, c.cancelled, c.in_flight),
            (30, 5, 25, 0)
        );
        assert_eq!(c.completed + c.cancelled, c.submitted);
        assert_eq!(
            t.node("server").note.as_deref(),
            Some("grace period ran out: 5 finished, 25 abandoned")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_viewer_sends_the_signal_and_a_second_one_is_refused() {
        let mut d =
            Driven::start(PatternId::GracefulShutdown, &[("shutdown_at_ms", 0.0)], 42).await;
        d.until(1250).await;
        let before = &d.folded;
        assert_eq!(
            before.tree().and_then(|t| t.phase),
            Some(Phase::Accepting),
            "no signal comes by itself"
        );
        d.command(Command::Shutdown).await.expect("the signal");
        assert_eq!(
            d.command(Command::Shutdown).await,
            Err(CommandError::Tree(TreeError::ShuttingDown))
        );
        d.finish().await;
        let end = &d.folded;
        let tree = end.tree().expect("a tree");
        let accepting = trial::node(tree, "accepting")
            .cancelled
            .expect("the signal");
        assert_eq!((accepting.cause, accepting.at_ms), (Cause::Shutdown, 1250));
        // Accepted at 0, 100, … 1200; cleanup from 1250 to 1450.
        assert_eq!(
            trial::node(tree, "producer").note.as_deref(),
            Some("stopped accepting after 13 jobs")
        );
        assert_eq!((tree.phase, tree.phase_ms), (Some(Phase::Stopped), 1450));
        let c = end.counters;
        assert_eq!((c.submitted, c.completed, c.in_flight), (13, 13, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn stopping_the_run_mid_way_leaves_nothing_in_flight() {
        let mut d = Driven::start(PatternId::GracefulShutdown, &[("job_ms", 2000.0)], 42).await;
        d.until(1050).await;
        let stopped = d.command(Command::Stop).await.expect("stop");
        // Accepted at 0 … 1000: jobs 1-5 in hand, 6-11 queued, none done.
        let c = stopped.counters;
        assert_eq!(stopped.status, RunStatus::Stopped);
        assert_eq!(
            (c.submitted, c.completed, c.cancelled, c.in_flight),
            (11, 0, 11, 0)
        );
        let tree = stopped.tree().expect("a tree");
        assert_eq!((tree.queued, tree.tasks_in_flight()), (0, 0));
        assert_eq!(tree.phase, Some(Phase::Accepting), "no shutdown ran");
    }
}

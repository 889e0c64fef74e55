//! Cancel workers: a worker pool under one deadline, where each task also
//! has a timeout of its own and sees a cancellation only when it looks.
//!
//! Tasks wait in a queue until a worker takes them; the task's own deadline
//! starts then. A task looks at its token before each of its ten work steps,
//! never during one, so it stops at the first look after a deadline: its own
//! (timed out) or the root's (cancelled), up to one step late. Tasks still
//! queued when the root is cancelled never start.

use crate::engines::{About, Prompt, Ctx, Settings};
use super::tree::{Cause, NodeId, NodeKind, ROOT, Stopped, Tree};
use rand::Rng;
use shared::pattern::cancel_workers::CancelWorkersParams;
use shared::TaskEnd;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};
use tokio_util::task::TaskTracker;

/// Work steps per task; the task looks at its token before each one.
const STEPS: u32 = 10;

pub const ABOUT: About = About {
    title: "Workers under a deadline",
    summary: "A root deadline of 3 s over three workers. Eight tasks join a queue, one \
                  every 200 ms, each with its own timeout of 1 to 3 s and ten work steps of a \
                  tenth of it. A task looks at its token only between steps, so it stops at \
                  the first look after a deadline: its own (timed out) or the root's \
                  (cancelled). Tasks still queued at 3 s never start.",
    try_this: "Watch a task turn to cancelling at 3 s and go on until its step ends. Set \
                   the work to 150 % of the timeout: every task overruns its own deadline and \
                   times out after step 7. Click a running task: it alone is cancelled, at \
                   its next look.",
    questions: &[Prompt {
        at_ms: 2900,
        text: "At 3 s the root deadline passes. What does a task do that is halfway through a work step?",
        choices: &["It stops at once", "It finishes the step, then ends cancelled", "It runs to completion", "It times out"],
        answer: 1,
    }],
};

/// A task's timeout and how much work it has, drawn before it exists.
#[derive(Debug, Clone, Copy)]
struct Plan {
    timeout: Duration,
    /// All its steps together.
    work: Duration,
}

/// A task waiting in the queue.
#[derive(Debug, Clone, Copy)]
struct Job {
    node: NodeId,
    plan: Plan,
}

type Queue = Arc<Mutex<mpsc::Receiver<Job>>>;

pub async fn run(mut ctx: Ctx) {
    let p: CancelWorkersParams = ctx.params.get();
    let root_deadline = p.root_deadline_ms;
    let workers = p.workers.max(1);
    let tasks = p.tasks.max(1);
    let shortest = p.min_timeout_ms;
    let longest = p.max_timeout_ms.max(shortest);
    let work_pct = p.work_pct;
    // Drawn up front, in task order, so the order in which workers happen
    // to run cannot change them.
    let plans: Vec<Plan> = (0..tasks)
        .map(|_| {
            let timeout = ctx.rng.random_range(shortest..=longest);
            Plan {
                timeout: Duration::from_millis(timeout),
                work: Duration::from_millis(timeout * work_pct / 100),
            }
        })
        .collect();

    let (tree, _keeper) = Tree::open(&ctx, "root");
    let _ = tree.set_deadline(ROOT, root_deadline);
    // A slot for every task, so submitting never waits and the schedule
    // holds however busy the workers are.
    let (tx, rx) = mpsc::channel(tasks);
    let queue: Queue = Arc::new(Mutex::new(rx));

    let crew = TaskTracker::new();
    let producer = produce(tree.clone(), ctx.params.clone(), plans, tx);
    ctx.tracker.spawn(crew.track_future(producer));
    for worker in 1..=workers {
        let job = work(worker, tree.clone(), Arc::clone(&queue));
        ctx.tracker.spawn(crew.track_future(job));
    }
    crew.close();

    let root = tree.token(ROOT);
    let drain_when_cancelled = async {
        root.cancelled().await;
        drain(&tree, &queue).await;
        std::future::pending::<()>().await;
    };
    tokio::select! {
        biased;
        () = crew.wait() => {}
        () = drain_when_cancelled => {}
    }
    // The crew may have finished as the root was cancelled, before the
    // drain above had its turn.
    drain(&tree, &queue).await;
}

/// Submits the tasks one interval apart (read afresh: the interval is
/// live), until all are in or the root is cancelled.
async fn produce(
    tree: Tree,
    params: Settings,
    plans: Vec<Plan>,
    queue: mpsc::Sender<Job>,
) {
    let root = tree.token(ROOT);
    let mut at = Duration::ZERO;
    for (i, plan) in plans.into_iter().enumerate() {
        if i > 0 {
            at += params.get::<CancelWorkersParams>().interval_ms;
        }
        tokio::select! {
            biased;
            () = root.cancelled() => return,
            () = tree.clock().sleep_until(at) => {}
        }
        // A root deadline due at this very instant comes first.
        if tree.check(ROOT).is_err() {
            return;
        }
        let Some(node) = tree
            .add(ROOT, format!("task {}", i + 1), NodeKind::Task)
            .steps(STEPS)
            .create()
        else {
            return;
        };
        // Refused only once the queue is closed: the root is gone.
        if let Err(refused) = queue.send(Job { node, plan }).await {
            never_started(&tree, refused.0.node);
        }
    }
}

/// One worker: takes the next task off the shared queue and works it, until
/// the root is cancelled or the queue is closed and empty.
async fn work(worker: u32, tree: Tree, queue: Queue) {
    let root = tree.token(ROOT);
    loop {
        let next = tokio::select! {
            biased;
            () = root.cancelled() => return,
            next = async { queue.lock().await.recv().await } => next,
        };
        let Some(job) = next else { return };
        run_task(worker, &tree, job).await;
    }
}

/// One task, from the moment a worker takes it until it ends.
async fn run_task(worker: u32, tree: &Tree, Job { node, plan }: Job) {
    if let Err(stopped) = tree.check(node) {
        if stopped.origin == ROOT {
            never_started(tree, node);
        } else {
            tree.note(node, "cancelled while queued");
            tree.end(node, TaskEnd::Cancelled, false);
        }
        return;
    }
    tree.note(node, format!("worker {worker}"));
    // Its own timeout starts now that a worker has it.
    let _ = tree.set_deadline(node, plan.timeout);
    tree.started(node);
    let clock = tree.clock();
    let began = clock.now();
    let token = tree.token(node);
    let mut cancelled_at = None;
    let mut done = 0;
    while done < STEPS {
        // The task's only look at its token: a check that never waits.
        if let Err(stopped) = tree.check(node) {
            let now = clock.now();
            let late = now.saturating_sub(cancelled_at.unwrap_or(now));
            stop(tree, node, stopped, done, late);
            return;
        }
        let busy = tree.work(mark(plan.work, done + 1) - mark(plan.work, done));
        tokio::pin!(busy);
        // The step runs to its end whatever happens to the token; watching
        // the token meanwhile only tells, afterwards, how late it was seen.
        loop {
            tokio::select! {
                biased;
                () = &mut busy => break,
                () = token.cancelled(), if cancelled_at.is_none() => {
                    cancelled_at = Some(clock.now());
                }
            }
        }
        if tree.run_stopping() {
            // Only stopping the run cuts a step short; the next look ends
            // the task without it.
            continue;
        }
        done += 1;
        tree.step(node, done);
    }
    let took = clock.now().saturating_sub(began);
    tree.note(node, format!("completed in {} ms", took.as_millis()));
    tree.end(node, TaskEnd::Completed, false);
}

/// Where step `step` of `work` ends, counted from the task's start: steps
/// are whole milliseconds (the virtual clock's grain) and add up to
/// exactly `work`.
fn mark(work: Duration, step: u32) -> Duration {
    let work_ms = work.as_millis() as u64;
    Duration::from_millis(work_ms * u64::from(step) / u64::from(STEPS))
}

/// Ends a task that saw its token cancelled after `done` steps, `late`
/// after the cancel.
fn stop(tree: &Tree, node: NodeId, stopped: Stopped, done: u32, late: Duration) {
    let (end, note) = if stopped.cause == Cause::Deadline {
        (TaskEnd::TimedOut, format!("timed out {}", after(done)))
    } else {
        let note = format!(
            "cancelled {}: noticed {} ms after the cancel",
            after(done),
            late.as_millis()
        );
        (TaskEnd::Cancelled, note)
    };
    tree.note(node, note);
    tree.end(node, end, false);
}

/// "after step 4", or "before step 1" when it did none.
fn after(done: u32) -> String {
    match done {
        0 => "before step 1".to_owned(),
        n => format!("after step {n}"),
    }
}

/// Ends a task that no worker will ever take: the root is gone.
fn never_started(tree: &Tree, node: NodeId) {
    tree.note(node, "never started");
    tree.end(node, TaskEnd::Cancelled, false);
}

/// Closes the queue and ends every task still in it.
async fn drain(tree: &Tree, queue: &Mutex<mpsc::Receiver<Job>>) {
    let mut queue = queue.lock().await;
    queue.close();
    while let Ok(job) = queue.try_recv() {
        never_started(tree, job.node);
    }
}

#[cfg(test)]
mod tests {
    use super::STEPS;
    use crate::engines::trial::{self, Driven, Trial, tree};
    use shared::cancellation::{Cause, TaskEnd, TreeNode};
    use shared::{CancellationEvent, Command, Event, PatternId, RunSnapshot, RunStatus};

    fn task(snap: &RunSnapshot, n: usize) -> &TreeNode {
        trial::node(tree(snap), &format!("task {n}"))
    }

    /// A task's own timeout, as its recorded deadline tells it: set when a
    /// worker took it, that far ahead.
    fn timeout_of(node: &TreeNode) -> u64 {
        let started = node.started_ms.expect("a started task");
        assert_eq!(
            node.deadline_set_ms, started,
            "the timeout starts with the work"
        );
        node.spec.deadline_ms.expect("a deadline") - started
    }

    /// How a task taken at `start` ends: it looks at its token before each
    /// step, at `start + ⌊work·k/10⌋`, and stops at the first look at or
    /// after a deadline, timed out if its own came strictly first (the
    /// root's wins a tie, as the tree fires parents first). Returns the
    /// end, when, and the steps done.
    fn expected(start: u64, timeout: u64, work: u64, root: u64) -> (TaskEnd, u64, u32) {
        let own = start + timeout;
        for done in 0..STEPS {
            let look = start + work * u64::from(done) / u64::from(STEPS);
            if look >= own.min(root) {
                let end = if own < root {
                    TaskEnd::TimedOut
                } else {
                    TaskEnd::Cancelled
                };
                return (end, look, done);
            }
        }
        (TaskEnd::Completed, start + work, STEPS)
    }

    /// Replays the pool by hand: task `i` is submitted at `i·interval`
    /// into a first-in first-out queue, and the first worker free takes
    /// it. Checks every task's start, end, steps, cause and note against
    /// that, and returns the ends in task order.
    fn check_against_model(
        t: &Trial,
        tasks: usize,
        workers: usize,
        interval: u64,
        root: u64,
        work_pct: u64,
    ) -> Vec<TaskEnd> {
        let mut free = vec![0_u64; workers];
        let mut ends = Vec::new();
        for i in 0..tasks {
            let n = task(&t.end, i + 1);
            let label = &n.spec.label;
            let worker = (0..workers).min_by_key(|w| free[*w]).expect("a worker");
            let take = (i as u64 * interval).max(free[worker]);
            if take >= root {
                assert_eq!(n.started_ms, None, "{label} waits past the root deadline");
                assert_eq!(n.ended, Some((TaskEnd::Cancelled, root)), "{label}");
                assert_eq!(n.note.as_deref(), Some("never started"), "{label}");
                ends.push(TaskEnd::Cancelled);
                continue;
            }
            assert_eq!(n.started_ms, Some(take), "{label} is taken then");
            let timeout = timeout_of(n);
            assert!((1_000..=2_999).contains(&timeout), "{label}: {timeout}");
            let (end, at, done) = expected(take, timeout, timeout * work_pct / 100, root);
            assert_eq!(
                n.ended,
                Some((end.clone(), at)),
                "{label}, timeout {timeout}"
            );
            assert_eq!(n.step, done, "{label}'s steps");
            let cancel = n.cancelled.map(|c| (c.cause, c.at_ms));
            let note = n.note.clone().unwrap_or_default();
            match end {
                TaskEnd::Completed => {
                    // The tree still fires an ended task's deadline, and
                    // the root's reaches it; neither may come before.
                    assert!(cancel.is_none_or(|(_, c)| c >= at), "{label}: {cancel:?}");
                    assert_eq!(note, format!("completed in {} ms", at - take), "{label}");
                }
                TaskEnd::TimedOut => {
                    assert_eq!(cancel, Some((Cause::Deadline, take + timeout)), "{label}");
                    assert_eq!(note, format!("timed out after step {done}"), "{label}");
                }
                _ => {
                    assert_eq!(cancel, Some((Cause::Parent, root)), "{label}");
                    assert!(
                        note.ends_with(&format!("noticed {} ms after the cancel", at - root)),
                        "{label}: {note}"
                    );
                }
            }
            free[worker] = at;
            ends.push(end);
        }
        ends
    }

    #[tokio::test(start_paused = true)]
    async fn the_seed_scenario_ends_each_task_at_its_first_look_after_a_deadline() {
        let t = trial::run(PatternId::CancelWorkers, &[], 42).await;
        let ends = check_against_model(&t, 8, 3, 200, 3_000, 100);
        let kinds: std::collections::BTreeSet<_> = ends.iter().map(TaskEnd::key).collect();
        assert!(kinds.len() >= 2, "one outcome only: {kinds:?}");
        let root = tree(&t.end).root().and_then(|r| r.cancelled);
        assert_eq!(
            root.map(|c| (c.cause, c.at_ms)),
            Some((Cause::Deadline, 3_000))
        );
        // Seed 42 draws timeouts of 2053, 2085, 2272, 1811, 1068, 1829 ms
        // for the six tasks that start: the first three complete; tasks 4
        // to 6, taken at 2053, 2285 and 2672 ms, see the root's deadline
        // after steps 6, 7 and 2, 139, 32 and 37 ms late; tasks 7 and 8
        // are still queued at 3 s and never start.
        let c = t.end.counters;
        assert_eq!((c.submitted, c.in_flight), (8, 0));
        assert_eq!((c.completed, c.cancelled, c.timed_out), (3, 5, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn work_longer_than_the_timeout_times_out_at_the_first_look_after_it() {
        let changes = [("work_pct", 150.0), ("root_deadline_ms", 20_000.0)];
        let t = trial::run(PatternId::CancelWorkers, &changes, 42).await;
        let ends = check_against_model(&t, 8, 3, 200, 20_000, 150);
        assert!(ends.iter().all(|e| *e == TaskEnd::TimedOut), "{ends:?}");
        for i in 1..=8 {
            let n = task(&t.end, i);
            // Its deadline passes during step 7 (at 100 % of the timeout,
            // the step runs from 90 % to 105 %); the look after it sees it.
            assert_eq!(n.step, 7, "{}", n.spec.label);
            assert!(n.notice_ms().is_some_and(|ms| ms > 0), "{}", n.spec.label);
        }
        assert_eq!(t.end.counters.timed_out, 8);
    }

    #[tokio::test(start_paused = true)]
    async fn a_look_at_the_instant_of_a_deadline_sees_it_and_the_root_wins_a_tie() {
        // One task of 1 s with 2 s of work: it looks at 0, 200, …, 1000 ms.
        let one = |root: f64| {
            [
                ("tasks", 1.0),
                ("min_timeout_ms", 1_000.0),
                ("max_timeout_ms", 1_000.0),
                ("work_pct", 200.0),
                ("root_deadline_ms", root),
            ]
        };
        let tie = trial::run(PatternId::CancelWorkers, &one(1_000.0), 42).await;
        let ends = check_against_model(&tie, 1, 3, 200, 1_000, 200);
        assert_eq!(ends, [TaskEnd::Cancelled]);
        let n = task(&tie.end, 1);
        assert_eq!((n.step, n.notice_ms()), (5, Some(0)));
        assert_eq!(
            n.cancelled.map(|c| (c.cause, c.origin)),
            Some((Cause::Parent, 0))
        );

        let own_first = trial::run(PatternId::CancelWorkers, &one(1_001.0), 42).await;
        let ends = check_against_model(&own_first, 1, 3, 200, 1_001, 200);
        assert_eq!(ends, [TaskEnd::TimedOut]);
        let n = task(&own_first.end, 1);
        assert_eq!(n.ended, Some((TaskEnd::TimedOut, 1_000)));
        assert_eq!(n.note.as_deref(), Some("timed out after step 5"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_seed_repeats_exactly_and_another_seed_draws_other_timeouts() {
        let deadlines = |t: &Trial| {
            t.pick(|e| match e {
                Event::Cancellation(CancellationEvent::Deadline { node, deadline_ms }) => Some((*node, *deadline_ms)),
                _ => None,
            })
        };
        let a = trial::run(PatternId::CancelWorkers, &[], 42).await;
        let b = trial::run(PatternId::CancelWorkers, &[], 42).await;
        let c = trial::run(PatternId::CancelWorkers, &[], 7).await;
        assert_eq!(a.events, b.events);
        assert_ne!(deadlines(&a), deadlines(&c));
    }

    #[tokio::test(start_paused = true)]
    async fn a_viewer_cancels_one_running_task_and_the_others_go_on() {
        let changes = [("root_deadline_ms", 20_000.0)];
        let alone = trial::run(PatternId::CancelWorkers, &changes, 42).await;
        assert_eq!(alone.end.counters.completed, 8, "untouched, all complete");
        // Mid-way through task 1's fourth step.
        let first = task(&alone.end, 1);
        let timeout = timeout_of(first);
        let at = timeout * 3 / 10 + timeout / 20;
        let (_, noticed, done) = expected(0, timeout, timeout, at);
        assert_eq!(done, 4);

        let mut d = Driven::start(PatternId::CancelWorkers, &changes, 42).await;
        d.until(at).await;
        let node = task(&d.folded, 1).id();
        d.command(Command::Cancel { node })
            .await
            .expect("a running task can be cancelled");
        d.finish().await;

        let clicked = task(&d.folded, 1);
        let cancel = clicked.cancelled.expect("cancelled");
        assert_eq!((cancel.cause, cancel.at_ms), (Cause::Manual, at));
        assert_eq!(clicked.ended, Some((TaskEnd::Cancelled, noticed)));
        assert_eq!(clicked.step, 4);
        let reached = d.events.iter().find_map(|e| match &e.event {
            Event::Cancellation(CancellationEvent::TokenCancelled {
                node: n, reached, ..
            }) if *n == node => Some(reached.clone()),
            _ => None,
        });
        assert_eq!(reached, Some(Vec::new()), "nothing lies below a task");
        assert_eq!(
            clicked.note.as_deref(),
            Some(
                format!(
                    "cancelled after step 4: noticed {} ms after the cancel",
                    noticed - at
                )
                .as_str()
            )
        );
        for i in 2..=8 {
            let n = task(&d.folded, i);
            assert_eq!(n.ended.as_ref().map(|e| &e.0), Some(&TaskEnd::Completed));
            assert!(
                n.cancelled.is_none_or(|c| c.cause == Cause::Deadline),
                "{}: the click reached no other task",
                n.spec.label
            );
            // Those already running keep their pace exactly.
            if task(&alone.end, i).started_ms.is_some_and(|s| s < at) {
                assert_eq!(n.ended, task(&alone.end, i).ended, "{}", n.spec.label);
            }
        }
        assert_eq!(d.folded.counters.cancelled, 1);
        assert_eq!(d.folded.counters.completed, 7);
    }

    #[tokio::test(start_paused = true)]
    async fn a_task_cancelled_while_queued_ends_when_a_worker_takes_it() {
        let changes = [("root_deadline_ms", 20_000.0)];
        let alone = trial::run(PatternId::CancelWorkers, &changes, 42).await;
        // Task 5 joins the queue at 800 ms and waits for a worker.
        let taken = task(&alone.end, 5).started_ms.expect("task 5 starts");
        assert!(taken > 900);

        let mut d = Driven::start(PatternId::CancelWorkers, &changes, 42).await;
        d.until(900).await;
        let node = task(&d.folded, 5).id();
        d.command(Command::Cancel { node })
            .await
            .expect("a queued task can be cancelled");
        d.finish().await;
        let n = task(&d.folded, 5);
        assert_eq!(n.started_ms, None, "it never works");
        assert_eq!(
            n.ended,
            Some((TaskEnd::Cancelled, taken)),
            "nobody looks before"
        );
        assert_eq!(
            n.cancelled.map(|c| (c.cause, c.at_ms)),
            Some((Cause::Manual, 900))
        );
        assert_eq!(n.note.as_deref(), Some("cancelled while queued"));
        assert_eq!(
            task(&d.folded, 6).started_ms,
            Some(taken),
            "task 6 takes its turn"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn stopping_the_run_ends_every_task_at_once() {
        let mut d = Driven::start(PatternId::CancelWorkers, &[], 42).await;
        // Tasks 1 to 3 are working; 4, 5 and 6 wait in the queue.
        d.until(1_100).await;
        d.command(Command::Stop).await.expect("stop");
        assert_eq!(d.folded.status, RunStatus::Stopped);
        assert_eq!(d.folded.counters.in_flight, 0);
        assert_eq!(d.folded.counters.cancelled, 6);
        for i in 1..=6 {
            let n = task(&d.folded, i);
            let label = &n.spec.label;
            assert_eq!(n.ended, Some((TaskEnd::Cancelled, 1_100)), "{label}");
            let note = n.note.clone().unwrap_or_default();
            if i <= 3 {
                assert!(
                    note.ends_with("noticed 0 ms after the cancel"),
                    "{label}: {note}"
                );
            } else {
                assert_eq!(note, "never started", "{label}");
            }
        }
        let ends = d.ends();
        assert_eq!(ends.len(), 6, "each task ends exactly once: {ends:?}");
    }
}

//! Timeout: a caller bounds one slow operation by a deadline, and the
//! operation's worker may be left behind, unable to deliver its late result.
//!
//! The caller waits for the result or the deadline, whichever comes first.
//! The worker knows nothing of the deadline: it finishes its work, then
//! sends the result on a channel. On an unbuffered channel a send completes
//! only when someone receives, and the caller who gave up never will, so the
//! worker blocks for good: a leaked task. One buffered slot lets it drop the
//! result there and exit; a worker that watches its token stops at the
//! deadline with the caller.

use crate::engines::{About, Prompt, Ctx};
use super::tree::{NodeId, NodeKind, ROOT, Tree};
use shared::pattern::timeout::TimeoutParams;
use shared::cancellation::TaskEnd;
use std::time::Duration;
use tokio::sync::oneshot;

/// The operation's work, in this many equal steps.
const STEPS: u32 = 10;
/// What the operation produces.
const RESULT: &str = "report of 42 rows";

pub const ABOUT: About = About {
    title: "Timeout",
    summary: "A caller waits at most 2 s for an operation that takes 3 s, and gives up at \
                  2 s. The worker does not know: it finishes at 3 s, then tries to hand its \
                  result over an unbuffered channel that nobody will ever receive from again. \
                  It blocks for good: a leaked task, still in flight after the run is over.",
    try_this: "Give the result one buffered slot: the late worker leaves it there and \
                   exits. Or let the worker watch its token: it stops at the deadline with \
                   the caller. Or make the operation shorter than the timeout.",
    questions: &[Prompt {
        at_ms: 1900,
        text: "The caller gives up at 2 s; the worker needs 3 s and hands its result over an unbuffered channel. What becomes of the worker?",
        choices: &["It is cancelled at 2 s", "It finishes at 3 s and exits", "It finishes at 3 s and blocks for good: a leak"],
        answer: 2,
    }],
};

pub async fn run(ctx: Ctx) {
    let p: TimeoutParams = ctx.params.get();
    let (buffer, watches) = (p.result_buffer, p.worker_watches);
    let (tree, _keeper) = Tree::open(&ctx, "main");
    let Some(call) = tree
        .add(ROOT, "call", NodeKind::Scope)
        .deadline_in(p.timeout_ms)
        .create()
    else {
        return;
    };
    let (Some(caller), Some(operation)) = (
        tree.add(call, "caller", NodeKind::Task).create(),
        tree.add(call, "operation", NodeKind::Task)
            .steps(STEPS)
            .create(),
    ) else {
        return;
    };
    let (outbox, inbox) = chan::channel(buffer);
    let (settle, settled) = oneshot::channel();
    let worker = Worker {
        tree: tree.clone(),
        node: operation,
        took: p.op_ms,
        watches,
        outbox,
        settle,
    };
    // On the leak tracker: a worker blocked for good must not keep the run
    // from finishing; it exits only when the run is stopped.
    ctx.leaks.spawn(worker.run());

    // The caller is the engine itself, as in Go it is the function that
    // started the worker and now waits.
    tree.started(caller);
    let token = tree.token(caller);
    let got = tokio::select! {
        biased;
        () = token.cancelled() => None,
        result = inbox.recv() => Some(result),
    };
    match got {
        Some(result) => {
            tree.note(caller, format!("got the result: {result}"));
            tree.end(caller, TaskEnd::Completed, false);
        }
        None => {
            let (end, reason) = tree
                .check(caller)
                .err()
                .map_or((TaskEnd::Cancelled, "cancelled"), |s| (s.end(), s.reason()));
            tree.note(caller, format!("gave up: {reason}"));
            tree.end(caller, end, false);
        }
    }
    // The caller walks away. That closes nothing: a sender still waiting on
    // the channel is not told.
    drop(inbox);
    // Resolves when the worker reports its leak or exits (dropping `settle`).
    let _ = settled.await;
}

/// The operation, running apart from its caller.
#[derive(Debug)]
struct Worker {
    tree: Tree,
    node: NodeId,
    took: Duration,
    /// Whether it stops when its token is cancelled.
    watches: bool,
    outbox: chan::Sender<String>,
    /// Told when the worker is settled: exited, or blocked for good.
    settle: oneshot::Sender<()>,
}

impl Worker {
    async fn run(self) {
        let Worker {
            tree,
            node,
            took,
            watches,
            outbox,
            settle,
        } = self;
        tree.started(node);
        let start = tree.clock().now();
        for step in 1..=STEPS {
            let until = start + took * step / STEPS;
            if watches {
                if let Err(stopped) = tree.pause_until(node, until).await {
                    tree.note(node, format!("stopped: {}", stopped.reason()));
                    tree.end(node, stopped.end(), false);
                    return;
                }
            } else {
                tree.work(until.saturating_sub(tree.clock().now())).await;
                if tree.run_stopping() {
                    tree.end(node, TaskEnd::Cancelled, false);
                    return;
                }
            }
            tree.step(node, step);
        }

        let send = outbox.send(RESULT.to_owned());
        tokio::pin!(send);
        tokio::select! {
            biased;
            sent = &mut send => {
                let note = match sent {
                    chan::Sent::Received => "handed its result over",
                    chan::Sent::Buffered if outbox.unreceivable_now() => {
                        "left its result in the buffer; nobody will read it"
                    }
                    chan::Sent::Buffered => "left its result in the buffer",
                };
                tree.note(node, note);
                tree.end(node, TaskEnd::Completed, false);
                return;
            }
            () = outbox.unreceivable() => {}
            () = tree.run_stopped() => {
                tree.end(node, TaskEnd::Cancelled, false);
                return;
            }
        }
        // The send is still pending and no receiver can ever come: it is
        // stuck for good, holding everything it holds.
        tree.note(node, "blocked for good delivering its late result");
        tree.leaked(node);
        drop(settle);
        tokio::select! {
            biased;
            _ = &mut send => tree.end(node, TaskEnd::Completed, false),
            () = tree.run_stopped() => {
                tree.note(node, "still blocked when the run stopped");
                tree.end(node, TaskEnd::Cancelled, false);
            }
        }
    }
}

/// A channel with Go's semantics, which the lesson rests on (a tokio
/// channel is closed when its receiver is dropped, so its sender would never
/// be stuck): a send completes once its value is in the buffer or, with no
/// buffer, once a receiver has taken it; and a receiver that stops
/// listening does not close the channel.
mod chan {
    use std::collections::VecDeque;
    use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
    use tokio::sync::Notify;
    use tokio_util::sync::CancellationToken;

    #[derive(Debug)]
    struct Chan<T> {
        state: Mutex<State<T>>,
        capacity: u64,
        /// Rung when a value is sent, for the receiver.
        sent: Notify,
        /// Rung when a value is taken, for waiting senders.
        taken: Notify,
        /// Cancelled when the receiving end is dropped. Senders are not
        /// told; only [`Sender::unreceivable`] looks, to see a stuck send.
        receiver_gone: CancellationToken,
    }

    #[derive(Debug)]
    struct State<T> {
        /// Values sent and not yet taken, oldest first: those in the buffer,
        /// then those whose senders still wait.
        values: VecDeque<T>,
        sent: u64,
        taken: u64,
    }

    impl<T> Chan<T> {
        fn lock(&self) -> MutexGuard<'_, State<T>> {
            self.state.lock().unwrap_or_else(PoisonError::into_inner)
        }
    }

    #[derive(Debug)]
    pub struct Sender<T>(Arc<Chan<T>>);

    /// Where a completed send left its value.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Sent {
        /// A receiver has taken it.
        Received,
        /// It waits in the buffer.
        Buffered,
    }

    /// The one receiving end.
    #[derive(Debug)]
    pub struct Receiver<T>(Arc<Chan<T>>);

    /// A channel with `capacity` buffered slots (0: each send is a hand-off).
    pub fn channel<T>(capacity: u64) -> (Sender<T>, Receiver<T>) {
        let chan = Arc::new(Chan {
            state: Mutex::new(State {
                values: VecDeque::new(),
                sent: 0,
                taken: 0,
            }),
            capacity,
            sent: Notify::new(),
            taken: Notify::new(),
            receiver_gone: CancellationToken::new(),
        });
        (Sender(Arc::clone(&chan)), Receiver(chan))
    }

    impl<T> Sender<T> {
        /// Sends `value`, waiting as long as a Go send waits. A send cut
        /// short leaves its value in the channel.
        pub async fn send(&self, value: T) -> Sent {
            let ticket = {
                let mut state = self.0.lock();
                state.values.push_back(value);
                state.sent += 1;
                state.sent
            };
            self.0.sent.notify_waiters();
            loop {
                let taken = self.0.taken.notified();
                tokio::pin!(taken);
                taken.as_mut().enable();
                // Through once at most `capacity` values up to and
                // including this one are still untaken: it is in the
                // buffer, or (with none) it has been received.
                let taken_so_far = self.0.lock().taken;
                if ticket <= taken_so_far {
                    return Sent::Received;
                }
                if ticket <= taken_so_far + self.0.capacity {
                    return Sent::Buffered;
                }
                taken.await;
            }
        }

        /// Resolves once nobody can ever receive again.
        pub async fn unreceivable(&self) {
            self.0.receiver_gone.cancelled().await;
        }

        pub fn unreceivable_now(&self) -> bool {
            self.0.receiver_gone.is_cancelled()
        }
    }

    impl<T> Receiver<T> {
        /// The next value, waiting for one to be sent.
        pub async fn recv(&self) -> T {
            loop {
                let sent = self.0.sent.notified();
                tokio::pin!(sent);
                sent.as_mut().enable();
                let value = {
                    let mut state = self.0.lock();
                    let value = state.values.pop_front();
                    if value.is_some() {
                        state.taken += 1;
                    }
                    value
                };
                if let Some(value) = value {
                    self.0.taken.notify_waiters();
                    return value;
                }
                sent.await;
            }
        }
    }

    impl<T> Drop for Receiver<T> {
        fn drop(&mut self) {
            self.0.receiver_gone.cancel();
        }
    }

    #[cfg(test)]
    mod tests {
        use super::{Sent, channel};
        use std::time::Duration;

        const LONG: Duration = Duration::from_secs(3600);

        #[tokio::test(start_paused = true)]
        async fn an_unbuffered_send_completes_only_when_received() {
            let (tx, rx) = channel(0);
            let send = tokio::spawn(async move { tx.send(7).await });
            tokio::time::sleep(LONG).await;
            assert!(!send.is_finished(), "nobody has received yet");
            assert_eq!(rx.recv().await, 7);
            let sent = send.await.expect("the send completes once taken");
            assert_eq!(sent, Sent::Received);
        }

        #[tokio::test(start_paused = true)]
        async fn a_receiver_that_walks_away_leaves_an_unbuffered_sender_stuck() {
            let (tx, rx) = channel(0);
            drop(rx);
            assert!(tx.unreceivable_now());
            let stuck = tokio::time::timeout(LONG, tx.send(7)).await;
            assert!(stuck.is_err(), "the send is still waiting after an hour");
        }

        #[tokio::test(start_paused = true)]
        async fn a_buffered_send_completes_at_once_while_the_buffer_has_room() {
            let (tx, rx) = channel(1);
            drop(rx);
            let sent = tokio::time::timeout(Duration::ZERO, tx.send(7))
                .await
                .expect("into the buffer, received or not");
            assert_eq!(sent, Sent::Buffered);
            let full = tokio::time::timeout(LONG, tx.send(8)).await;
            assert!(full.is_err(), "a full buffer holds the next send back");
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engines::trial::{self, Driven};
    use shared::cancellation::{Cause, TaskEnd};
    use shared::{Command, PatternId};
    use std::time::Duration;

    #[tokio::test(start_paused = true)]
    async fn the_late_worker_leaks_on_the_unbuffered_channel() {
        let t = trial::run(PatternId::Timeout, &[], 42).await;
        let call = t.node("call");
        assert_eq!(
            call.cancelled.map(|c| (c.cause, c.at_ms)),
            Some((Cause::Deadline, 2000))
        );
        let caller = t.node("caller");
        assert_eq!(caller.ended, Some((TaskEnd::TimedOut, 2000)));
        assert_eq!(caller.note.as_deref(), Some("gave up: deadline exceeded"));
        let op = t.node("operation");
        assert_eq!(op.step, 10, "it did all its work, deadline or not");
        assert_eq!(op.leaked_ms, Some(3000));
        assert_eq!(op.ended, None, "it is still blocked");
        assert_eq!(
            op.note.as_deref(),
            Some("blocked for good delivering its late result")
        );
        let tree = t.end.tree().expect("a tree");
        assert_eq!(tree.leaked, 1);
        let c = t.end.counters;
        assert_eq!((c.submitted, c.timed_out, c.in_flight), (2, 1, 1));
        assert_eq!(t.end.clock.now_ms, 3000, "the run finished with the leak");
    }

    #[tokio::test(start_paused = true)]
    async fn stopping_the_run_frees_the_leaked_worker() {
        let mut d = Driven::start(PatternId::Timeout, &[], 42).await;
        d.finish().await;
        let done = &d.folded;
        assert_eq!(done.counters.in_flight, 1, "the leak is in flight");
        // Stop waits for every task the run spawned, the leaked one included:
        // that it returns means the worker's task really exited.
        let stopped = tokio::time::timeout(Duration::from_secs(1), d.command(Command::Stop))
            .await
            .expect("stopping does not hang on the leak")
            .expect("stop");
        let tree = stopped.tree().expect("a tree");
        let op = trial::node(tree, "operation");
        let (end, at) = op.ended.clone().expect("the worker ended");
        assert_eq!(end, TaskEnd::Cancelled);
        assert!(at >= 3000, "ended when stopped, after the leak: {at}");
        assert_eq!(
            op.note.as_deref(),
            Some("still blocked when the run stopped")
        );
        assert_eq!(tree.leaked, 0);
        let c = stopped.counters;
        assert_eq!((c.in_flight, c.cancelled, c.timed_out), (0, 1, 1));
        assert!(c.is_conserved());
    }

    #[tokio::test(start_paused = true)]
    async fn a_buffered_slot_lets_the_late_worker_exit() {
        let t = trial::run(PatternId::Timeout, &[("result_buffer", 1.0)], 42).await;
        assert_eq!(t.node("caller").ended, Some((TaskEnd::TimedOut, 2000)));
        let op = t.node("operation");
        assert_eq!(op.ended, Some((TaskEnd::Completed, 3000)));
        assert_eq!(op.leaked_ms, None);
        assert_eq!(
            op.note.as_deref(),
            Some("left its result in the buffer; nobody will read it")
        );
        let c = t.end.counters;
        assert_eq!((c.completed, c.timed_out, c.in_flight), (1, 1, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn a_worker_that_watches_its_token_stops_at_the_deadline() {
        let t = trial::run(PatternId::Timeout, &[("worker_watches", 1.0)], 42).await;
        let op = t.node("operation");
        assert_eq!(op.ended, Some((TaskEnd::TimedOut, 2000)));
        assert_eq!(op.step, 6, "steps end every 300 ms: the 7th would at 2100");
        assert_eq!(op.notice_ms(), Some(0));
        assert_eq!(op.leaked_ms, None);
        let c = t.end.counters;
        assert_eq!((c.timed_out, c.in_flight), (2, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn an_operation_inside_the_timeout_hands_its_result_over() {
        let t = trial::run(PatternId::Timeout, &[("op_ms", 1000.0)], 42).await;
        let caller = t.node("caller");
        assert_eq!(caller.ended, Some((TaskEnd::Completed, 1000)));
        assert_eq!(
            caller.note.as_deref(),
            Some("got the result: report of 42 rows")
        );
        let op = t.node("operation");
        assert_eq!(op.ended, Some((TaskEnd::Completed, 1000)));
        assert_eq!(op.note.as_deref(), Some("handed its result over"));
        assert_eq!(t.node("call").cancelled, None);
        assert_eq!(t.end.counters.completed, 2);
    }
}

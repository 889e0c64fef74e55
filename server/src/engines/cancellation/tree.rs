//! Cancellation trees: real tokens that remember why they were cancelled,
//! with deadlines on the run's virtual clock, recorded as they happen.
//!
//! The cancelling itself is `tokio_util`'s: every node is a real
//! `CancellationToken`, each child made with `child_token()`, so cancelling a
//! node reaches its whole subtree and never its ancestors or siblings. What
//! tokens do not keep is the cause. [`TokenTree`] records it: the node that
//! was cancelled directly carries the cause it was given (a viewer's click, a
//! deadline, the first error of a group, shutdown), and every descendant
//! that the cancellation reached carries `Parent`.
//!
//! [`Tree`] is what an engine holds: the token tree behind a lock, a keeper
//! task that fires deadlines on the virtual clock, and the run's sink, so
//! every change is recorded as an event in the order it happened. Tasks
//! learn of a cancellation only when they look (cooperative cancellation):
//! [`Tree::check`] is such a look, and [`Tree::pause`] is an await point.

use crate::clock::Clock;
use crate::engines::Ctx;
use crate::sink::Sink;
use shared::CancellationEvent;
pub use shared::cancellation::{Cause, NodeId, NodeKind};
use shared::cancellation::{NodeSpec, TaskEnd};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::{CancellationToken, DropGuard};

#[derive(Debug)]
struct Node {
    token: CancellationToken,
    parent: Option<NodeId>,
    children: Vec<NodeId>,
    cause: Option<Cause>,
    /// The node whose cancellation reached this one.
    origin: Option<NodeId>,
    /// Virtual time at which it cancels itself.
    deadline: Option<Duration>,
    /// Its task has exited; nothing is listening to its token any more.
    ended: bool,
    can_fail: bool,
    /// A viewer asked its task to fail at its next step.
    fail: bool,
}

/// Why a command on a node was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError {
    #[error("no node {0} in this tree")]
    UnknownNode(NodeId),
    #[error("node {0} is already cancelled")]
    AlreadyCancelled(NodeId),
    #[error("node {0} has already ended: its task is done")]
    Ended(NodeId),
    #[error("node {0} is not a task that can be made to fail")]
    CannotFail(NodeId),
    #[error("the service is already shutting down")]
    ShuttingDown,
    #[error("this pattern has no shutdown signal")]
    NoShutdown,
}

/// A tree of cancellation tokens under one root.
#[derive(Debug)]
pub struct TokenTree {
    /// The token the root is made a child of.
    parent: CancellationToken,
    nodes: BTreeMap<NodeId, Node>,
    next: NodeId,
    /// The deadlines of live nodes, soonest first, so a task's look at its
    /// token costs a lookup rather than a walk over a thousand nodes.
    deadlines: BTreeSet<(Duration, NodeId)>,
}

/// The root's id in every tree.
pub const ROOT: NodeId = 0;

impl TokenTree {
    /// A tree whose root is a child of `parent` (so stopping the run, or
    /// the server, reaches it).
    pub fn new(parent: &CancellationToken) -> TokenTree {
        let mut tree = TokenTree::empty(parent);
        tree.plant();
        tree
    }

    /// A tree without its root yet (see [`TokenTree::plant`]).
    fn empty(parent: &CancellationToken) -> TokenTree {
        TokenTree {
            parent: parent.clone(),
            nodes: BTreeMap::new(),
            next: 0,
            deadlines: BTreeSet::new(),
        }
    }

    /// Makes the root, if there is none yet.
    fn plant(&mut self) {
        if self.nodes.is_empty() {
            let token = self.parent.child_token();
            self.insert(token, None);
        }
    }

    fn insert(&mut self, token: CancellationToken, parent: Option<NodeId>) -> NodeId {
        let id = self.next;
        self.next += 1;
        self.nodes.insert(
            id,
            Node {
                token,
                parent,
                children: Vec::new(),
                cause: None,
                origin: None,
                deadline: None,
                ended: false,
                can_fail: false,
                fail: false,
            },
        );
        if let Some(p) = parent.and_then(|p| self.nodes.get_mut(&p)) {
            p.children.push(id);
        }
        id
    }

    /// A new node under `parent`; `None` if `parent` does not exist. A node
    /// made under a cancelled parent is born cancelled, as a child token is.
    pub fn child(&mut self, parent: NodeId) -> Option<NodeId> {
        let up = self.nodes.get(&parent)?;
        let token = up.token.child_token();
        let inherited = up.cause.map(|_| up.origin.unwrap_or(parent));
        let id = self.insert(token, Some(parent));
        if let (Some(origin), Some(node)) = (inherited, self.nodes.get_mut(&id)) {
            node.cause = Some(Cause::Parent);
            node.origin = Some(origin);
        }
        Some(id)
    }

    /// The node's token, for the task that runs under it.
    pub fn token(&self, node: NodeId) -> Option<CancellationToken> {
        self.nodes.get(&node).map(|n| n.token.clone())
    }

    pub fn parent(&self, node: NodeId) -> Option<NodeId> {
        self.nodes.get(&node)?.parent
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn ids(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.nodes.keys().copied()
    }

    /// Why the node was cancelled; `None` while it is live.
    pub fn cause(&self, node: NodeId) -> Option<Cause> {
        self.nodes.get(&node)?.cause
    }

    /// The cause at the node where the cancellation that reached `node`
    /// started: what Go's `ctx.Err()` tells apart (a deadline, or a cancel).
    pub fn origin_cause(&self, node: NodeId) -> Option<(NodeId, Cause)> {
        let n = self.nodes.get(&node)?;
        n.cause?;
        let origin = n.origin.unwrap_or(node);
        Some((origin, self.nodes.get(&origin)?.cause?))
    }

    /// Cancels `node` for `cause` and returns the descendants this newly
    /// cancelled (in depth-first order), whose cause is `Parent`.
    /// Descendants cancelled earlier keep their own cause, and those whose
    /// task had already ended get none: their token is cancelled with the
    /// rest, but nothing was listening to it any more.
    pub fn cancel(&mut self, node: NodeId, cause: Cause) -> Result<Vec<NodeId>, TreeError> {
        let target = self
            .nodes
            .get_mut(&node)
            .ok_or(TreeError::UnknownNode(node))?;
        if target.cause.is_some() {
            return Err(TreeError::AlreadyCancelled(node));
        }
        target.token.cancel();
        target.cause = Some(cause);
        target.origin = Some(node);
        let mut stack: Vec<NodeId> = target.children.iter().rev().copied().collect();
        if let Some(d) = target.deadline {
            self.deadlines.remove(&(d, node));
        }
        let mut reached = Vec::new();
        while let Some(id) = stack.pop() {
            let Some(n) = self.nodes.get_mut(&id) else {
                continue;
            };
            if n.cause.is_some() {
                continue; // cancelled before, for its own reason
            }
            debug_assert!(
                n.token.is_cancelled(),
                "tokio-util propagates to every descendant"
            );
            stack.extend(n.children.iter().rev());
            if n.ended {
                continue;
            }
            n.cause = Some(Cause::Parent);
            n.origin = Some(node);
            if let Some(d) = n.deadline {
                self.deadlines.remove(&(d, id));
            }
            reached.push(id);
        }
        Ok(reached)
    }

    /// A node that a viewer may still act on: it exists, is live, and its
    /// task (if any) has not ended.
    fn live(&self, node: NodeId) -> Result<&Node, TreeError> {
        let n = self.nodes.get(&node).ok_or(TreeError::UnknownNode(node))?;
        if n.cause.is_some() {
            return Err(TreeError::AlreadyCancelled(node));
        }
        if n.ended {
            return Err(TreeError::Ended(node));
        }
        Ok(n)
    }

    /// Sets the node's own deadline (absolute virtual time).
    pub fn set_deadline(&mut self, node: NodeId, at: Duration) -> Result<(), TreeError> {
        self.live(node)?;
        if let Some(n) = self.nodes.get_mut(&node) {
            if let Some(old) = n.deadline.replace(at) {
                self.deadlines.remove(&(old, node));
            }
            self.deadlines.insert((at, node));
        }
        Ok(())
    }

    /// The earliest deadline of a live node.
    fn next_deadline(&self) -> Option<Duration> {
        self.deadlines.first().map(|(d, _)| *d)
    }

    /// Live nodes whose deadline is at or before `now`, soonest first.
    fn due(&self, now: Duration) -> Vec<NodeId> {
        self.deadlines
            .iter()
            .take_while(|(d, _)| *d <= now)
            .map(|(_, id)| *id)
            .collect()
    }

    /// Its task has exited: its deadline no longer matters.
    fn end(&mut self, node: NodeId) {
        if let Some(n) = self.nodes.get_mut(&node) {
            n.ended = true;
            if let Some(d) = n.deadline {
                self.deadlines.remove(&(d, node));
            }
        }
    }

    /// Lets go of an ended node entirely (a finished job), so a long run
    /// does not hold every token it ever made.
    fn forget(&mut self, node: NodeId) {
        self.end(node);
        if let Some(n) = self.nodes.remove(&node)
            && let Some(p) = n.parent.and_then(|p| self.nodes.get_mut(&p))
        {
            p.children.retain(|c| *c != node);
        }
    }
}

/// How a task learned that it must stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// The cause recorded at the task's own node.
    pub cause: Cause,
    /// Where the cancellation started, and why it started there.
    pub origin: NodeId,
    pub origin_cause: Cause,
}

impl Stopped {
    /// How the task ends, read as Go's `ctx.Err()` reads: a deadline
    /// anywhere up the chain is a timeout, anything else a cancellation.
    pub fn end(self) -> TaskEnd {
        match self.origin_cause {
            Cause::Deadline => TaskEnd::TimedOut,
            _ => TaskEnd::Cancelled,
        }
    }

    /// Said the way a log line would.
    pub fn reason(self) -> &'static str {
        match self.origin_cause {
            Cause::Deadline => "deadline exceeded",
            Cause::Manual | Cause::Parent => "cancelled",
            Cause::FirstError => "cancelled by the group's first error",
            Cause::Shutdown => "shutting down",
        }
    }
}

/// A new node's description, filled in by [`Tree::add`]'s builder.
#[derive(Debug)]
#[must_use = "a node is made by `create`"]
pub struct NodeBuilder<'a> {
    tree: &'a Tree,
    spec: NodeSpec,
    deadline_in: Option<Duration>,
}

impl NodeBuilder<'_> {
    /// A deadline this far (virtual time) from now.
    pub fn deadline_in(mut self, d: Duration) -> Self {
        self.deadline_in = Some(d);
        self
    }

    pub fn steps(mut self, n: u32) -> Self {
        self.spec.steps = n;
        self
    }

    pub fn values(mut self, values: &[(&str, &str)]) -> Self {
        self.spec.values = values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self
    }

    /// A viewer may make this task fail.
    pub fn can_fail(mut self) -> Self {
        self.spec.can_fail = true;
        self
    }

    /// One job among many: forgotten once it ends.
    pub fn transient(mut self) -> Self {
        self.spec.transient = true;
        self
    }

    /// A job taken off the queue, counted when it was accepted.
    pub fn from_queue(mut self) -> Self {
        self.spec.from_queue = true;
        self
    }

    /// Makes the node's token and records it. `None` if the parent is gone.
    pub fn create(self) -> Option<NodeId> {
        let NodeBuilder {
            tree,
            mut spec,
            deadline_in,
        } = self;
        let now = tree.inner.clock.now();
        let mut tokens = tree.tokens();
        let parent = spec.parent?;
        let id = tokens.child(parent)?;
        let at = deadline_in.map(|d| now + d);
        if let Some(n) = tokens.nodes.get_mut(&id) {
            n.can_fail = spec.can_fail;
        }
        if let Some(at) = at {
            // A node born cancelled has no deadline left to keep.
            let _ = tokens.set_deadline(id, at);
        }
        spec.id = id;
        spec.deadline_ms = at.map(|d| d.as_millis() as u64);
        let inherited = tokens.cause(id).is_some();
        tree.inner.sink.record(|r| {
            r.emit(CancellationEvent::NodeCreated { node: spec });
            if inherited {
                r.emit(CancellationEvent::TokenCancelled {
                    node: id,
                    cause: Cause::Parent,
                    reached: Vec::new(),
                });
            }
        });
        drop(tokens);
        if at.is_some() {
            tree.inner.deadlines.notify_one();
        }
        Some(id)
    }
}

#[derive(Debug)]
struct Inner {
    tokens: Mutex<TokenTree>,
    sink: Sink,
    clock: Clock,
    /// The run's engine token: cancelled when the run stops. Even work that
    /// ignores its own node's token ends then.
    run: CancellationToken,
    /// Rung when a deadline is set, so the keeper looks again.
    deadlines: Notify,
    /// The node whose cancellation is the service's shutdown signal.
    shutdown: OnceLock<NodeId>,
}

/// An engine's handle on its run's cancellation tree. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Tree {
    inner: Arc<Inner>,
}

/// Keeps the deadline keeper running; dropped when the engine returns.
#[derive(Debug)]
pub struct Keeper {
    _stop: DropGuard,
}

impl Tree {
    /// A tree for one start of a run's engine, made by the run before the
    /// engine starts so that viewers' commands can reach it at once. It has
    /// no nodes until the engine calls [`Tree::open`].
    pub fn new(run: &CancellationToken, sink: Sink, clock: Clock) -> Tree {
        Tree {
            inner: Arc::new(Inner {
                tokens: Mutex::new(TokenTree::empty(run)),
                sink,
                clock,
                run: run.clone(),
                deadlines: Notify::new(),
                shutdown: OnceLock::new(),
            }),
        }
    }

    /// The engine's tree, with its root (node 0, labelled `label`) made and
    /// recorded, and a keeper task that fires deadlines until the returned
    /// guard is dropped.
    pub fn open(ctx: &Ctx, label: &str) -> (Tree, Keeper) {
        let tree = ctx
            .tree
            .get()
            .cloned()
            .unwrap_or_else(|| Tree::new(&ctx.token, ctx.sink.clone(), ctx.clock.clone()));
        let _ = ctx.tree.set(tree.clone());
        let mut tokens = tree.tokens();
        tokens.plant();
        tree.inner.sink.emit(CancellationEvent::NodeCreated {
            node: NodeSpec::new(ROOT, None, label, NodeKind::Scope),
        });
        drop(tokens);
        let stop = CancellationToken::new();
        ctx.tracker.spawn(tree.clone().keep_deadlines(stop.clone()));
        (
            tree,
            Keeper {
                _stop: stop.drop_guard(),
            },
        )
    }

    fn tokens(&self) -> MutexGuard<'_, TokenTree> {
        // Every critical section leaves the tree whole.
        self.inner
            .tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts describing a new node under `parent`.
    pub fn add(&self, parent: NodeId, label: impl Into<String>, kind: NodeKind) -> NodeBuilder<'_> {
        NodeBuilder {
            tree: self,
            spec: NodeSpec::new(0, Some(parent), label, kind),
            deadline_in: None,
        }
    }

    pub fn token(&self, node: NodeId) -> CancellationToken {
        // An unknown node reads as cancelled: nothing should run under it.
        self.tokens().token(node).unwrap_or_else(|| {
            let token = CancellationToken::new();
            token.cancel();
            token
        })
    }

    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    pub fn sink(&self) -> &Sink {
        &self.inner.sink
    }

    /// Cancels `node` for `cause`, recording it and every descendant it
    /// reached in one event.
    pub fn cancel(&self, node: NodeId, cause: Cause) -> Result<(), TreeError> {
        let mut tokens = self.tokens();
        if tokens.nodes.get(&node).is_some_and(|n| n.ended) {
            return Err(TreeError::Ended(node));
        }
        // Recorded under the run's lock together with the cancel, so no task
        // can report noticing it before it is recorded.
        self.inner.sink.record(|r| {
            let reached = tokens.cancel(node, cause)?;
            r.emit(CancellationEvent::TokenCancelled {
                node,
                cause,
                reached,
            });
            Ok(())
        })
    }

    /// Cancels the root, if it is live: the run is stopping.
    pub fn stop(&self) {
        let _ = self.cancel(ROOT, Cause::Shutdown);
    }

    /// Gives `node` a deadline `after` from now, replacing its old one.
    pub fn set_deadline(&self, node: NodeId, after: Duration) -> Result<(), TreeError> {
        let at = self.inner.clock.now() + after;
        let mut tokens = self.tokens();
        tokens.set_deadline(node, at)?;
        self.inner.sink.emit(CancellationEvent::Deadline {
            node,
            deadline_ms: Some(at.as_millis() as u64),
        });
        drop(tokens);
        self.inner.deadlines.notify_one();
        Ok(())
    }

    /// Asks `node`'s task to fail at its next step.
    pub fn make_fail(&self, node: NodeId) -> Result<(), TreeError> {
        let mut tokens = self.tokens();
        if !tokens.live(node)?.can_fail {
            return Err(TreeError::CannotFail(node));
        }
        if let Some(n) = tokens.nodes.get_mut(&node) {
            n.fail = true;
        }
        Ok(())
    }

    /// Whether a viewer asked `node`'s task to fail (asked once, answered once).
    pub fn take_failure(&self, node: NodeId) -> bool {
        self.tokens()
            .nodes
            .get_mut(&node)
            .is_some_and(|n| std::mem::take(&mut n.fail))
    }

    /// Marks `node` as the one whose cancellation is the shutdown signal.
    pub fn set_shutdown_node(&self, node: NodeId) {
        let _ = self.inner.shutdown.set(node);
    }

    /// The shutdown signal: cancels the shutdown node.
    pub fn shutdown(&self) -> Result<(), TreeError> {
        let node = *self.inner.shutdown.get().ok_or(TreeError::NoShutdown)?;
        self.cancel(node, Cause::Shutdown).map_err(|e| match e {
            TreeError::AlreadyCancelled(_) => TreeError::ShuttingDown,
            other => other,
        })
    }

    /// Cancels, for `Deadline`, every live node whose deadline has come.
    fn expire_due(&self) {
        let now = self.inner.clock.now();
        let mut tokens = self.tokens();
        for node in tokens.due(now) {
            // A parent expiring in this same pass may have reached it.
            if tokens.cause(node).is_none() {
                self.inner.sink.record(|r| {
                    if let Ok(reached) = tokens.cancel(node, Cause::Deadline) {
                        r.emit(CancellationEvent::TokenCancelled {
                            node,
                            cause: Cause::Deadline,
                            reached,
                        });
                    }
                });
            }
        }
    }

    /// The keeper: sleeps on the virtual clock until the next deadline and
    /// fires it, until the engine is done.
    async fn keep_deadlines(self, stop: CancellationToken) {
        loop {
            self.expire_due();
            let next = self.tokens().next_deadline();
            let sleep = async {
                match next {
                    Some(at) => self.inner.clock.sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                () = stop.cancelled() => return,
                () = self.inner.run.cancelled() => return,
                () = self.inner.deadlines.notified() => {}
                () = sleep => {}
            }
        }
    }

    /// A task's look at its token: `Err` once it has been cancelled. A
    /// deadline that has come counts even if the keeper has not fired it
    /// yet, so a tick at the very instant of a deadline loses to it.
    pub fn check(&self, node: NodeId) -> Result<(), Stopped> {
        self.expire_due();
        let tokens = self.tokens();
        match tokens.origin_cause(node) {
            None if !self.inner.run.is_cancelled() => Ok(()),
            None => Err(Stopped {
                cause: Cause::Shutdown,
                origin: ROOT,
                origin_cause: Cause::Shutdown,
            }),
            Some((origin, origin_cause)) => Err(Stopped {
                cause: tokens.cause(node).unwrap_or(Cause::Parent),
                origin,
                origin_cause,
            }),
        }
    }

    /// Waits `d` of virtual time, or less if `node` is cancelled first: an
    /// await point that notices cancellation at once, as a `select!` on
    /// the token does.
    pub async fn pause(&self, node: NodeId, d: Duration) -> Result<(), Stopped> {
        let until = self.inner.clock.now() + d;
        self.pause_until(node, until).await
    }

    /// Like [`Tree::pause`], up to a virtual instant (for tickers, which
    /// keep to their schedule however late each wake-up is).
    pub async fn pause_until(&self, node: NodeId, until: Duration) -> Result<(), Stopped> {
        let token = self.token(node);
        tokio::select! {
            biased;
            () = token.cancelled() => {}
            () = self.inner.clock.sleep_until(until) => {}
        }
        self.check(node)
    }

    /// A service that ticks every `every` until its token is cancelled, as
    /// a loop over `select!` on a ticker and the token: the first tick one
    /// interval after it starts. Returns how many ticks it made and how it
    /// learned to stop; ending the task is left to the caller.
    pub async fn tick(&self, node: NodeId, every: Duration) -> (u32, Stopped) {
        let start = self.inner.clock.now();
        let mut ticks = 0;
        loop {
            let next = start + every * (ticks + 1);
            match self.pause_until(node, next).await {
                Ok(()) => {
                    ticks += 1;
                    self.step(node, ticks);
                }
                Err(stopped) => return (ticks, stopped),
            }
        }
    }

    /// Waits `d` of virtual time without looking at any node's token: work
    /// that cannot be interrupted. Only stopping the run cuts it short.
    pub async fn work(&self, d: Duration) {
        tokio::select! {
            biased;
            () = self.inner.run.cancelled() => {}
            () = self.inner.clock.sleep(d) => {}
        }
    }

    /// Whether the run itself is stopping.
    pub fn run_stopping(&self) -> bool {
        self.inner.run.is_cancelled()
    }

    /// Resolves when the run stops.
    pub async fn run_stopped(&self) {
        self.inner.run.cancelled().await;
    }

    pub fn started(&self, node: NodeId) {
        self.inner
            .sink
            .emit(CancellationEvent::TaskStarted { node });
    }

    pub fn step(&self, node: NodeId, step: u32) {
        self.inner.sink.emit(CancellationEvent::Step { node, step });
    }

    pub fn note(&self, node: NodeId, text: impl Into<String>) {
        self.inner.sink.emit(CancellationEvent::Note {
            node,
            text: Some(text.into()),
        });
    }

    pub fn leaked(&self, node: NodeId) {
        self.inner.sink.emit(CancellationEvent::Leaked { node });
    }

    /// Records the end of `node`'s task. A transient node is forgotten.
    pub fn end(&self, node: NodeId, end: TaskEnd, transient: bool) {
        let mut tokens = self.tokens();
        if transient {
            tokens.forget(node);
        } else {
            tokens.end(node);
        }
        self.inner
            .sink
            .emit(CancellationEvent::TaskEnded { node, end });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// Whether `node` is `ancestor` or below it.
    fn within(tree: &TokenTree, mut node: NodeId, ancestor: NodeId) -> bool {
        loop {
            if node == ancestor {
                return true;
            }
            match tree.parent(node) {
                Some(p) => node = p,
                None => return false,
            }
        }
    }

    #[test]
    fn cancelling_a_node_cancels_exactly_its_subtree_with_the_right_causes() {
        let mut rng = StdRng::seed_from_u64(11);
        for round in 0..300 {
            let shutdown = CancellationToken::new();
            let mut tree = TokenTree::new(&shutdown);
            for _ in 0..rng.random_range(1..80) {
                let parent = rng.random_range(0..tree.len()) as NodeId;
                tree.child(parent);
            }
            // Some tasks have already finished: their tokens are cancelled
            // with their subtree, but they are not marked.
            for _ in 0..rng.random_range(0..5) {
                let done = rng.random_range(0..tree.len()) as NodeId;
                tree.end(done);
            }
            // A few cancellations in a row, so earlier causes must survive later ones.
            for _ in 0..rng.random_range(1..4) {
                let before: BTreeMap<NodeId, Option<Cause>> =
                    tree.ids().map(|id| (id, tree.cause(id))).collect();
                let cancelled_before: BTreeMap<NodeId, bool> = tree
                    .ids()
                    .map(|id| (id, tree.token(id).is_some_and(|t| t.is_cancelled())))
                    .collect();
                let target = rng.random_range(0..tree.len()) as NodeId;
                let cause =
                    [Cause::Manual, Cause::Deadline, Cause::FirstError][rng.random_range(0..3)];
                let result = tree.cancel(target, cause);
                if before[&target].is_some() {
                    assert_eq!(
                        result,
                        Err(TreeError::AlreadyCancelled(target)),
                        "round {round}"
                    );
                    continue;
                }
                let reached = result.expect("a live node can be cancelled");
                for id in tree.ids().collect::<Vec<_>>() {
                    let token = tree.token(id).expect("a node");
                    let below = within(&tree, id, target);
                    let was = before[&id];
                    // The real tokens: exactly the subtree, plus what was cancelled before.
                    assert_eq!(
                        token.is_cancelled(),
                        below || cancelled_before[&id],
                        "round {round}, node {id}"
                    );
                    let ended = tree.nodes[&id].ended;
                    let expected = match (was, below) {
                        (Some(old), _) => Some(old),
                        (None, true) if id == target => Some(cause),
                        (None, true) if ended => None,
                        (None, true) => Some(Cause::Parent),
                        (None, false) => None,
                    };
                    assert_eq!(tree.cause(id), expected, "round {round}, node {id}");
                    let newly = reached.contains(&id);
                    assert_eq!(
                        newly,
                        below && was.is_none() && id != target && !ended,
                        "round {round}, node {id}"
                    );
                    if below && was.is_none() && (id == target || !ended) {
                        assert_eq!(
                            tree.origin_cause(id),
                            Some((target, cause)),
                            "round {round}, node {id}: it knows where its cancellation came from"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_child_of_a_cancelled_node_is_born_cancelled_and_bad_ids_are_refused() {
        let shutdown = CancellationToken::new();
        let mut tree = TokenTree::new(&shutdown);
        let a = tree.child(ROOT).expect("root exists");
        let b = tree.child(a).expect("a exists");
        assert_eq!(tree.cancel(b, Cause::Deadline), Ok(vec![]));
        assert_eq!(
            tree.cancel(99, Cause::Manual),
            Err(TreeError::UnknownNode(99))
        );
        assert_eq!(tree.child(99), None);
        assert_eq!(tree.cancel(ROOT, Cause::Shutdown), Ok(vec![a]));
        let late = tree.child(a).expect("a still exists");
        assert!(tree.token(late).is_some_and(|t| t.is_cancelled()));
        assert_eq!(tree.origin_cause(late), Some((ROOT, Cause::Shutdown)));
        assert_eq!(
            tree.cause(b),
            Some(Cause::Deadline),
            "b keeps the cause it had"
        );
        shutdown.cancel();
        assert!(
            tree.token(a).is_some_and(|t| t.is_cancelled()),
            "the process token reaches the tree"
        );
    }
}

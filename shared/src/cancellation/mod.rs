//! The cancellation family's picture: a tree of cancellation scopes with the
//! tasks that run under them as leaves.
//!
//! Every node is a real cancellation token on the server. A scope is a token
//! that only groups others (a request, a service, an error group); a task is
//! a token with a piece of work running under it. Cancelling a node reaches
//! its whole subtree: the node itself keeps the cause it was given, each
//! descendant records `parent`. Cancellation is cooperative, so a task's
//! token is cancelled first and the task exits later, when it next checks;
//! the tree keeps both moments.

mod event;
mod fold;
pub mod params;

pub use event::CancellationEvent;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A node's number within its run's tree; the root is 0.
pub type NodeId = u32;

/// How many ended tasks a tree remembers for its "recently ended" list.
pub const RECENT_ENDS: usize = 16;

/// What a node stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeKind {
    /// A token that only groups others: a request, a service, a group.
    Scope,
    /// A unit of work, counted in the run's counters.
    Task,
    /// A long-running loop (a producer, a ticker) that serves the pattern
    /// rather than being its work, so it is not counted.
    Service,
}

/// Why a node was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// Someone called cancel on it: a viewer's click, or the pattern's own
    /// script (as the external cancel in `cancel-tree`).
    Manual,
    /// Its own deadline passed.
    Deadline,
    /// An ancestor was cancelled, for the ancestor's own reason.
    Parent,
    /// A sibling in its group failed first.
    FirstError,
    /// The service (or the run) is shutting down.
    Shutdown,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Manual => "manual",
            Cause::Deadline => "deadline",
            Cause::Parent => "parent",
            Cause::FirstError => "first_error",
            Cause::Shutdown => "shutdown",
        }
    }
}

/// How a task ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskEnd {
    /// It did all its work.
    Completed,
    /// Its work failed with this error.
    Failed { error: String },
    /// It saw its token cancelled (for any cause but its own deadline) and
    /// stopped.
    Cancelled,
    /// It saw that its own deadline had passed and stopped.
    TimedOut,
}

impl TaskEnd {
    pub fn key(&self) -> &'static str {
        match self {
            TaskEnd::Completed => "completed",
            TaskEnd::Failed { .. } => "failed",
            TaskEnd::Cancelled => "cancelled",
            TaskEnd::TimedOut => "timed_out",
        }
    }
}

/// A node as it is announced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodeSpec {
    pub id: NodeId,
    /// `None` only for the root.
    pub parent: Option<NodeId>,
    pub label: String,
    pub kind: NodeKind,
    /// Virtual time at which its own deadline cancels it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
    /// How many steps (or ticks) its work has; 0 when it runs until stopped.
    #[serde(default)]
    pub steps: u32,
    /// Request-scoped values it carries or reads (key, value).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<(String, String)>,
    /// A task whose work ends once it was made to fail by a viewer.
    #[serde(default)]
    pub can_fail: bool,
    /// Removed from the tree once it ends (a job among many), so a long run
    /// does not grow the tree without end; the counters keep the tally.
    #[serde(default)]
    pub transient: bool,
    /// A job taken off the queue: it was counted as submitted when it was
    /// accepted (see `Event::Cancellation(CancellationEvent::Accepted)`), not again now.
    #[serde(default)]
    pub from_queue: bool,
}

impl NodeSpec {
    /// A node with nothing but its place, name and kind; the rest is set
    /// field by field where it applies.
    pub fn new(
        id: NodeId,
        parent: Option<NodeId>,
        label: impl Into<String>,
        kind: NodeKind,
    ) -> NodeSpec {
        NodeSpec {
            id,
            parent,
            label: label.into(),
            kind,
            deadline_ms: None,
            steps: 0,
            values: Vec::new(),
            can_fail: false,
            transient: false,
            from_queue: false,
        }
    }
}

/// A cancellation as it happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancellation {
    pub cause: Cause,
    pub at_ms: u64,
    /// Where the cancellation started: the node itself, or the ancestor
    /// whose cancellation reached it.
    pub origin: NodeId,
}

/// One node of the tree, as the fold keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeNode {
    pub spec: NodeSpec,
    pub children: Vec<NodeId>,
    pub created_ms: u64,
    /// When the current deadline was set, to draw how much of it is left.
    pub deadline_set_ms: u64,
    pub cancelled: Option<Cancellation>,
    /// When the task began its work (a queued task has not yet).
    pub started_ms: Option<u64>,
    /// Steps (or ticks) done.
    pub step: u32,
    pub ended: Option<(TaskEnd, u64)>,
    /// It can never exit: it is blocked for good, holding what it holds.
    pub leaked_ms: Option<u64>,
    /// When the run ended with this node still open (neither cancelled nor
    /// ended): a scope closed normally with its run. Nothing happens to it
    /// after that, so a shutdown's cancel that follows does not mark it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_ms: Option<u64>,
    /// A short line the pattern attaches: who is working on it, what it
    /// returned, why it stopped.
    pub note: Option<String>,
}

/// A node's state in one word, as the view colours and labels it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NodeState {
    /// Not cancelled; a task waiting for a worker.
    Queued,
    /// Not cancelled and working (or, for a scope, simply live).
    Live,
    /// Its token is cancelled but its task has not noticed yet.
    Cancelling,
    /// Its token is cancelled (a scope), or its task saw that and exited.
    Cancelled,
    Completed,
    Failed,
    TimedOut,
    /// Blocked for good: it will never exit by itself.
    Leaked,
    /// The run ended with it open and never cancelled: a scope that closed
    /// normally with its run.
    Closed,
    /// The run ended before its work began.
    NeverStarted,
}

impl NodeState {
    /// Every state, in the order a legend or a summary lists them.
    pub const ALL: [NodeState; 10] = [
        NodeState::Live,
        NodeState::Queued,
        NodeState::Cancelling,
        NodeState::Cancelled,
        NodeState::Completed,
        NodeState::TimedOut,
        NodeState::Failed,
        NodeState::Leaked,
        NodeState::Closed,
        NodeState::NeverStarted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::Queued => "queued",
            NodeState::Live => "live",
            NodeState::Cancelling => "cancelling",
            NodeState::Cancelled => "cancelled",
            NodeState::Completed => "completed",
            NodeState::Failed => "failed",
            NodeState::TimedOut => "timed_out",
            NodeState::Leaked => "leaked",
            NodeState::Closed => "closed",
            NodeState::NeverStarted => "never_started",
        }
    }
}

impl TreeNode {
    pub fn id(&self) -> NodeId {
        self.spec.id
    }

    /// Whether a task (or service) runs under this node.
    pub fn has_work(&self) -> bool {
        self.spec.kind != NodeKind::Scope
    }

    pub fn state(&self) -> NodeState {
        if self.leaked_ms.is_some() && self.ended.is_none() {
            return NodeState::Leaked;
        }
        if let Some((end, _)) = &self.ended {
            return match end {
                TaskEnd::Completed => NodeState::Completed,
                TaskEnd::Failed { .. } => NodeState::Failed,
                TaskEnd::Cancelled => NodeState::Cancelled,
                TaskEnd::TimedOut => NodeState::TimedOut,
            };
        }
        if self.closed_ms.is_some() {
            return if self.has_work() && self.started_ms.is_none() {
                NodeState::NeverStarted
            } else {
                NodeState::Closed
            };
        }
        match (self.cancelled, self.has_work()) {
            (Some(_), true) => NodeState::Cancelling,
            (Some(_), false) => NodeState::Cancelled,
            (None, true) if self.started_ms.is_none() => NodeState::Queued,
            (None, _) => NodeState::Live,
        }
    }

    /// How long the task took to notice its cancellation (virtual ms), once
    /// it has.
    pub fn notice_ms(&self) -> Option<u64> {
        let cancelled = self.cancelled?;
        let (_, ended) = self.ended.as_ref()?;
        Some(ended.saturating_sub(cancelled.at_ms))
    }
}

/// A task that ended, for the "recently ended" list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndRecord {
    pub node: NodeId,
    pub label: String,
    pub end: TaskEnd,
    pub at_ms: u64,
    /// From the start of its work to its end, if it started.
    pub took_ms: Option<u64>,
}

/// Where a service that stops gracefully is in its shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Taking new work.
    Accepting,
    /// No new work; what was accepted is being finished.
    Draining,
    /// Closing what it holds (connections, files).
    CleaningUp,
    /// Done: everything finished or was abandoned.
    Stopped,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Accepting => "accepting",
            Phase::Draining => "draining",
            Phase::CleaningUp => "cleaning_up",
            Phase::Stopped => "stopped",
        }
    }
}

/// The tree and what the patterns of the family show beside it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TreeScene {
    /// Sent as a list (each node carries its id): JSON object keys are
    /// strings, which a number-keyed map cannot read back inside a tagged
    /// enum.
    #[serde(with = "node_list")]
    pub nodes: BTreeMap<NodeId, TreeNode>,
    /// The latest ended tasks, oldest first.
    pub recent: Vec<EndRecord>,
    /// Ended tasks' total working time and number, for the average; only
    /// completed tasks count, as a failed or stopped one did not do the job.
    pub completed_ms_total: u64,
    pub leaked: u64,
    /// Jobs accepted but not yet taken by a worker (`graceful-shutdown`).
    pub queued: u64,
    pub phase: Option<Phase>,
    /// When the phase began.
    pub phase_ms: u64,
}

impl TreeScene {
    /// Every node as made, with its deadline, and nothing started, ended
    /// or cancelled yet.
    pub fn blueprint(&self) -> TreeScene {
        let nodes = self
            .nodes
            .iter()
            .map(|(id, n)| {
                let node = TreeNode {
                    spec: n.spec.clone(),
                    children: n.children.clone(),
                    created_ms: 0,
                    deadline_set_ms: 0,
                    cancelled: None,
                    started_ms: None,
                    step: 0,
                    ended: None,
                    leaked_ms: None,
                    closed_ms: None,
                    note: None,
                };
                (*id, node)
            })
            .collect();
        TreeScene {
            nodes,
            ..Default::default()
        }
    }

    pub const ROOT: NodeId = 0;

    pub fn node(&self, id: NodeId) -> Option<&TreeNode> {
        self.nodes.get(&id)
    }

    pub fn root(&self) -> Option<&TreeNode> {
        self.node(Self::ROOT)
    }

    /// Whether `node` is `ancestor` or lies below it.
    pub fn is_within(&self, mut node: NodeId, ancestor: NodeId) -> bool {
        loop {
            if node == ancestor {
                return true;
            }
            match self.nodes.get(&node).and_then(|n| n.spec.parent) {
                Some(p) => node = p,
                None => return false,
            }
        }
    }

    /// Tasks that are counted as in flight: started or queued, not ended.
    pub fn tasks_in_flight(&self) -> u64 {
        let in_tree = self
            .nodes
            .values()
            .filter(|n| n.spec.kind == NodeKind::Task && n.ended.is_none())
            .count() as u64;
        in_tree + self.queued
    }

    /// Average working time of completed tasks, in virtual ms.
    pub fn average_completed_ms(&self, completed: u64) -> Option<f64> {
        (completed > 0).then(|| self.completed_ms_total as f64 / completed as f64)
    }

    pub(crate) fn create(&mut self, spec: NodeSpec, at_ms: u64) {
        if let Some(parent) = spec.parent.and_then(|p| self.nodes.get_mut(&p)) {
            parent.children.push(spec.id);
        }
        let node = TreeNode {
            children: Vec::new(),
            created_ms: at_ms,
            deadline_set_ms: at_ms,
            cancelled: None,
            started_ms: None,
            step: 0,
            ended: None,
            leaked_ms: None,
            closed_ms: None,
            note: None,
            spec,
        };
        self.nodes.insert(node.id(), node);
    }

    pub(crate) fn cancel(&mut self, node: NodeId, cause: Cause, reached: &[NodeId], at_ms: u64) {
        let mut mark = |id: NodeId, cause: Cause| {
            if let Some(n) = self.nodes.get_mut(&id)
                && n.cancelled.is_none()
                && n.closed_ms.is_none()
            {
                n.cancelled = Some(Cancellation {
                    cause,
                    at_ms,
                    origin: node,
                });
            }
        };
        mark(node, cause);
        for &id in reached {
            mark(id, Cause::Parent);
        }
    }

    /// The run has ended: every node still open (neither cancelled, nor
    /// ended, nor leaked) closes with it, so nothing of an ended run reads
    /// as live. A leaked task stays leaked: it really is still there.
    pub(crate) fn close(&mut self, at_ms: u64) {
        let open = self.nodes.values_mut().filter(|n| {
            n.cancelled.is_none()
                && n.ended.is_none()
                && n.leaked_ms.is_none()
                && n.closed_ms.is_none()
        });
        for node in open {
            node.closed_ms = Some(at_ms);
        }
    }

    /// Records a task's end. Returns whether it was a task that had not ended.
    pub(crate) fn end(&mut self, id: NodeId, end: TaskEnd, at_ms: u64) -> Option<NodeKind> {
        let node = self.nodes.get_mut(&id)?;
        if node.ended.is_some() {
            return None;
        }
        let took_ms = node.started_ms.map(|s| at_ms.saturating_sub(s));
        if end == TaskEnd::Completed && node.spec.kind == NodeKind::Task {
            self.completed_ms_total += took_ms.unwrap_or(0);
        }
        if node.leaked_ms.is_some() {
            self.leaked = self.leaked.saturating_sub(1);
        }
        node.ended = Some((end.clone(), at_ms));
        let kind = node.spec.kind;
        let record = EndRecord {
            node: id,
            label: node.spec.label.clone(),
            end,
            at_ms,
            took_ms,
        };
        if node.spec.transient {
            self.remove(id);
        }
        if kind == NodeKind::Task {
            if self.recent.len() == RECENT_ENDS {
                self.recent.remove(0);
            }
            self.recent.push(record);
        }
        Some(kind)
    }

    fn remove(&mut self, id: NodeId) {
        if let Some(node) = self.nodes.remove(&id)
            && let Some(parent) = node.spec.parent.and_then(|p| self.nodes.get_mut(&p))
        {
            parent.children.retain(|c| *c != id);
        }
    }
}

mod node_list {
    use super::{NodeId, TreeNode};
    use serde::{Deserialize, Deserializer, Serializer};
    use std::collections::BTreeMap;

    pub fn serialize<S: Serializer>(
        nodes: &BTreeMap<NodeId, TreeNode>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(nodes.values())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<BTreeMap<NodeId, TreeNode>, D::Error> {
        let list = Vec::<TreeNode>::deserialize(deserializer)?;
        Ok(list.into_iter().map(|n| (n.id(), n)).collect())
    }
}

#[cfg(test)]
mod tests;

//! How a cancellation tree reads on screen: each node's look, the words for
//! states and causes, and how a level of the tree is laid out.
//!
//! Kept apart from the components so that what a classroom reads ("cancel
//! requested 120 ms ago", "noticed after 300 ms") is tested natively.

use super::present::duration_text;
use shared::cancellation::{NodeId, NodeKind, NodeState, TaskEnd, TreeNode, TreeScene};
use shared::pattern::request_values::RequestValuesParams;
use shared::{Cause, ParamSet};

/// Up to this many children sit side by side under their parent, joined by
/// lines, as in a drawn tree.
pub const SPREAD_MAX: usize = 6;

/// Up to this many plain tasks are drawn as full cards, wrapped in rows;
/// more become cells.
pub const CARDS_MAX: usize = 16;

/// How a node's children are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// No children.
    Leaf,
    /// Side by side under the parent, each a full card.
    Spread,
    /// Plain tasks as full cards, wrapped in rows.
    Wrapped,
    /// Many subtrees: wrapped in rows, each drawn compactly.
    Grouped,
    /// Many plain tasks: a grid of small cells, one per task.
    Cells,
}

impl Layout {
    pub fn as_str(self) -> &'static str {
        match self {
            Layout::Leaf => "leaf",
            Layout::Spread => "spread",
            Layout::Wrapped => "wrapped",
            Layout::Grouped => "grouped",
            Layout::Cells => "cells",
        }
    }
}

/// How `node`'s children are laid out: a few side by side; up to a dozen
/// or so plain tasks as cards in rows, more as cells; many subtrees
/// grouped. Inside a compact (grouped) part of the tree there is no room
/// for cards: tasks are cells and subtrees stay grouped.
pub fn layout(tree: &TreeScene, node: &TreeNode, compact: bool) -> Layout {
    let all_leaves = node
        .children
        .iter()
        .all(|c| tree.node(*c).is_none_or(|c| c.children.is_empty()));
    layout_of(node.children.len(), all_leaves, compact)
}

/// [`layout`] from what it depends on: how many children, whether they are
/// all leaves, and whether the node is drawn compactly.
pub fn layout_of(children: usize, all_leaves: bool, compact: bool) -> Layout {
    if children == 0 {
        return Layout::Leaf;
    }
    match (compact, all_leaves) {
        (true, true) => Layout::Cells,
        (true, false) => Layout::Grouped,
        (false, _) if children <= SPREAD_MAX => Layout::Spread,
        (false, true) if children <= CARDS_MAX => Layout::Wrapped,
        (false, true) => Layout::Cells,
        (false, false) => Layout::Grouped,
    }
}

/// Everything a node's card shows that changes while the run goes on. It is
/// small and compared on every update, so a card is redrawn only when this
/// changes.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeLook {
    pub state: NodeState,
    pub cause: Option<Cause>,
    /// The node whose cancellation reached this one, when it is not itself.
    pub from: Option<NodeId>,
    /// How many levels below the cancelled node this one is (0: itself),
    /// so the view can let the cancellation travel down visibly.
    pub depth_from_origin: u32,
    pub cancelled_ms: Option<u64>,
    /// When it stopped: its task ended, or it closed with its run.
    pub ended_ms: Option<u64>,
    pub deadline_ms: Option<u64>,
    pub deadline_set_ms: u64,
    pub step: u32,
    pub steps: u32,
    pub note: Option<String>,
    pub error: Option<String>,
    pub child_count: usize,
}

impl NodeLook {
    pub fn of(tree: &TreeScene, node: &TreeNode) -> NodeLook {
        let cancelled = node.cancelled;
        let from = cancelled.map(|c| c.origin).filter(|o| *o != node.id());
        let depth_from_origin = from.map_or(0, |origin| depth_below(tree, node.id(), origin));
        let error = match &node.ended {
            Some((TaskEnd::Failed { error }, _)) => Some(error.clone()),
            _ => None,
        };
        NodeLook {
            state: node.state(),
            cause: cancelled.map(|c| c.cause),
            from,
            depth_from_origin,
            cancelled_ms: cancelled.map(|c| c.at_ms),
            ended_ms: node.ended.as_ref().map(|(_, at)| *at).or(node.closed_ms),
            deadline_ms: node.spec.deadline_ms,
            deadline_set_ms: node.deadline_set_ms,
            step: node.step,
            steps: node.spec.steps,
            note: node.note.clone(),
            error,
            child_count: node.children.len(),
        }
    }

    /// Whether a viewer can still cancel it.
    pub fn cancellable(&self) -> bool {
        matches!(self.state, NodeState::Live | NodeState::Queued)
    }

    /// The state in the room's words.
    pub fn state_text(&self) -> &'static str {
        state_text(self.state)
    }

    /// Why it was cancelled, in the room's words ("manual", "deadline",
    /// "parent: service").
    pub fn cause_text(&self, tree_label: impl Fn(NodeId) -> Option<String>) -> Option<String> {
        let cause = self.cause?;
        Some(match (cause, self.from) {
            (Cause::Parent, Some(from)) => match tree_label(from) {
                Some(label) => format!("parent: {label}"),
                None => "parent".to_owned(),
            },
            (cause, _) => cause_text(cause).to_owned(),
        })
    }

    /// The cooperative gap: how long the task has taken (or took) to notice
    /// its cancellation, at virtual time `now`. A task that finished its
    /// work without looking again says so.
    pub fn gap_text(&self, now: f64) -> Option<String> {
        let cancelled = self.cancelled_ms? as f64;
        let after = |t: f64| duration_text((t - cancelled).max(0.0));
        match (self.state, self.ended_ms) {
            (NodeState::Cancelling, _) => Some(format!(
                "cancel requested {} ago; it stops at its next check",
                after(now)
            )),
            (NodeState::Cancelled | NodeState::TimedOut, Some(ended)) => {
                Some(format!("noticed after {}", after(ended as f64)))
            }
            (NodeState::Completed | NodeState::Failed, Some(ended)) => Some(format!(
                "finished {} after the cancel, without checking again",
                after(ended as f64)
            )),
            _ => None,
        }
    }

    /// The share of its deadline's time still left, 0.0 to 1.0, at `now`;
    /// frozen where the node stopped.
    pub fn deadline_left(&self, now: f64) -> Option<f64> {
        let deadline = self.deadline_ms? as f64;
        let set = self.deadline_set_ms as f64;
        let at = match (self.cancelled_ms, self.ended_ms) {
            (Some(c), _) => c as f64,
            (None, Some(e)) => e as f64,
            (None, None) => now,
        };
        let span = (deadline - set).max(1.0);
        Some(((deadline - at) / span).clamp(0.0, 1.0))
    }

    /// "1.2 s left", "expired", or the moment it was stopped at.
    pub fn deadline_text(&self, now: f64) -> Option<String> {
        let deadline = self.deadline_ms? as f64;
        let at = self
            .cancelled_ms
            .or(self.ended_ms)
            .map_or(now, |t| t as f64);
        let left = deadline - at;
        Some(if left <= 0.0 {
            "expired".to_owned()
        } else {
            // Frozen where the node stopped: the ring no longer moves.
            format!("{} left", duration_text(left))
        })
    }

    /// Steps or ticks done, as the card's progress line says it.
    pub fn progress_text(&self, kind: NodeKind) -> Option<String> {
        match (kind, self.steps) {
            (NodeKind::Scope, _) => None,
            (_, 0) if self.step == 0 => None,
            (_, 0) => Some(format!("{} ticks", self.step)),
            (_, steps) => Some(format!("step {} of {steps}", self.step)),
        }
    }

    /// The share of steps done, for a progress bar.
    pub fn progress(&self) -> Option<f64> {
        (self.steps > 0).then(|| (self.step as f64 / self.steps as f64).clamp(0.0, 1.0))
    }
}

/// Levels from `ancestor` down to `node` (0 if they are the same or
/// unrelated).
fn depth_below(tree: &TreeScene, node: NodeId, ancestor: NodeId) -> u32 {
    let mut depth = 0;
    let mut at = node;
    while at != ancestor {
        match tree.node(at).and_then(|n| n.spec.parent) {
            Some(p) => {
                at = p;
                depth += 1;
            }
            None => return 0,
        }
    }
    depth
}

pub fn state_text(state: NodeState) -> &'static str {
    match state {
        NodeState::Queued => "queued",
        NodeState::Live => "live",
        NodeState::Cancelling => "cancel requested",
        NodeState::Cancelled => "cancelled",
        NodeState::Completed => "completed",
        NodeState::Failed => "failed",
        NodeState::TimedOut => "timed out",
        NodeState::Leaked => "LEAKED",
        NodeState::Closed => "closed",
        NodeState::NeverStarted => "never started",
    }
}

pub fn state_icon(state: NodeState) -> &'static str {
    match state {
        NodeState::Queued => "…",
        NodeState::Live => "●",
        NodeState::Cancelling => "◐",
        NodeState::Cancelled => "✕",
        NodeState::Completed => "✓",
        NodeState::Failed => "✗",
        NodeState::TimedOut => "◷",
        NodeState::Leaked => "⚠",
        NodeState::Closed => "○",
        NodeState::NeverStarted => "–",
    }
}

pub fn cause_text(cause: Cause) -> &'static str {
    match cause {
        Cause::Manual => "manual",
        Cause::Deadline => "deadline",
        Cause::Parent => "parent",
        Cause::FirstError => "first error",
        Cause::Shutdown => "shutdown",
    }
}

pub fn kind_icon(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Scope => "◇",
        NodeKind::Task => "▶",
        NodeKind::Service => "⟳",
    }
}

pub fn kind_text(kind: NodeKind) -> &'static str {
    match kind {
        NodeKind::Scope => "scope",
        NodeKind::Task => "task",
        NodeKind::Service => "service",
    }
}

/// How many nodes of the tree are in each state, for the tree's summary line.
pub fn state_counts(tree: &TreeScene) -> Vec<(NodeState, usize)> {
    NodeState::ALL
        .into_iter()
        .map(|s| (s, tree.nodes.values().filter(|n| n.state() == s).count()))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// One hop of `request-values`' call chain, as its timeline draws it.
#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    pub label: &'static str,
    /// Planned start and length, in virtual ms from the request's start.
    pub start_ms: f64,
    pub len_ms: f64,
    /// `None` while the hop has not started; `NeverStarted` once the
    /// request is over without calling it.
    pub state: Option<NodeState>,
    pub values: Vec<(String, String)>,
    pub note: Option<String>,
}

/// The request's call chain: each hop in order with where it stands, the
/// deadline, and the values the request carries.
#[derive(Debug, Clone, PartialEq)]
pub struct Chain {
    pub hops: Vec<Hop>,
    pub deadline_ms: f64,
    pub carried: Vec<(String, String)>,
    pub outcome: Option<String>,
}

impl Chain {
    /// The three hops and their planned lengths (`auth_ms`, `logic_ms`,
    /// `persist_ms`) read against the run's tree.
    pub fn of(params: &shared::Params, tree: Option<&TreeScene>) -> Chain {
        let p = RequestValuesParams::read(params);
        let get = |d: std::time::Duration| d.as_millis() as f64;
        let request = tree.and_then(|t| {
            t.root()
                .and_then(|r| r.children.first())
                .and_then(|id| t.node(*id))
        });
        let hop_node = |label: &str| {
            let (t, r) = (tree?, request?);
            r.children
                .iter()
                .filter_map(|c| t.node(*c))
                .find(|n| n.spec.label == label)
        };
        // A request cancelled, or closed with its run, calls no more hops.
        let over =
            request.is_some_and(|r| matches!(r.state(), NodeState::Cancelled | NodeState::Closed));
        let mut start = 0.0;
        let hops = [
            ("auth", p.auth_ms),
            ("business logic", p.logic_ms),
            ("persist", p.persist_ms),
        ]
        .into_iter()
        .map(|(label, took)| {
            let node = hop_node(label);
            let hop = Hop {
                label,
                start_ms: start,
                len_ms: get(took),
                state: node
                    .map(TreeNode::state)
                    .or(over.then_some(NodeState::NeverStarted)),
                values: node.map(|n| n.spec.values.clone()).unwrap_or_default(),
                note: node.and_then(|n| n.note.clone()),
            };
            start += get(took);
            hop
        })
        .collect();
        Chain {
            hops,
            deadline_ms: get(p.deadline_ms),
            carried: request.map(|r| r.spec.values.clone()).unwrap_or_default(),
            outcome: request.and_then(|r| r.note.clone()),
        }
    }

    /// The chain's planned length.
    pub fn total_ms(&self) -> f64 {
        self.hops.iter().map(|h| h.len_ms).sum()
    }

    /// The span the timeline shows: the chain or the deadline, whichever is
    /// later, with a little room.
    pub fn span_ms(&self) -> f64 {
        (self.total_ms().max(self.deadline_ms) * 1.08).max(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::cancellation::NodeSpec;
    use shared::{CancellationEvent, Envelope, Event, PatternId, RunEvent, RunSnapshot};

    fn spec(id: NodeId, parent: Option<NodeId>, kind: NodeKind) -> NodeSpec {
        NodeSpec {
            steps: 10,
            ..NodeSpec::new(id, parent, format!("n{id}"), kind)
        }
    }

    /// A run fed `events` at the given virtual times.
    fn fold(events: Vec<(u64, Event)>) -> RunSnapshot {
        let mut snap = RunSnapshot::new("r", PatternId::CancelTree);
        for (i, (at_ms, event)) in events.into_iter().enumerate() {
            snap.apply(&Envelope {
                seq: i as u64 + 1,
                at_ms,
                event,
            });
        }
        snap
    }

    fn created(id: NodeId, parent: Option<NodeId>, kind: NodeKind) -> Event {
        Event::Cancellation(CancellationEvent::NodeCreated {
            node: spec(id, parent, kind),
        })
    }

    #[test]
    fn a_cancelled_task_reads_as_requested_then_noticed() {
        let mut events = vec![
            (0, created(0, None, NodeKind::Scope)),
            (0, created(1, Some(0), NodeKind::Scope)),
            (0, created(2, Some(1), NodeKind::Task)),
            (
                100,
                Event::Cancellation(CancellationEvent::TaskStarted { node: 2 }),
            ),
            (
                400,
                Event::Cancellation(CancellationEvent::TokenCancelled {
                    node: 0,
                    cause: Cause::Manual,
                    reached: vec![1, 2],
                }),
            ),
        ];
        let snap = fold(events.clone());
        let tree = snap.tree().expect("a tree");
        let look = NodeLook::of(tree, tree.node(2).expect("node 2"));
        assert_eq!(look.state_text(), "cancel requested");
        assert_eq!(look.depth_from_origin, 2);
        let label = |id| tree.node(id).map(|n| n.spec.label.clone());
        assert_eq!(look.cause_text(label).as_deref(), Some("parent: n0"));
        assert_eq!(
            look.gap_text(650.0).as_deref(),
            Some("cancel requested 250 ms ago; it stops at its next check")
        );

        events.push((
            520,
            Event::Cancellation(CancellationEvent::TaskEnded {
                node: 2,
                end: TaskEnd::Cancelled,
            }),
        ));
        let snap = fold(events);
        let tree = snap.tree().expect("a tree");
        let look = NodeLook::of(tree, tree.node(2).expect("node 2"));
        assert_eq!(look.state_text(), "cancelled");
        assert_eq!(
            look.gap_text(9_999.0).as_deref(),
            Some("noticed after 120 ms")
        );
        let root = NodeLook::of(tree, tree.node(0).expect("root"));
        assert_eq!(root.cause_text(|_| None).as_deref(), Some("manual"));
        assert_eq!(root.depth_from_origin, 0);
    }

    #[test]
    fn a_deadline_counts_down_and_freezes_when_the_node_stops() {
        let mut with_deadline = spec(1, Some(0), NodeKind::Scope);
        with_deadline.deadline_ms = Some(4_000);
        let mut events = vec![
            (0, created(0, None, NodeKind::Scope)),
            (
                0,
                Event::Cancellation(CancellationEvent::NodeCreated {
                    node: with_deadline,
                }),
            ),
        ];
        let snap = fold(events.clone());
        let tree = snap.tree().expect("a tree");
        let look = NodeLook::of(tree, tree.node(1).expect("node 1"));
        assert_eq!(look.deadline_left(1_000.0), Some(0.75));
        assert_eq!(look.deadline_text(1_000.0).as_deref(), Some("3 s left"));
        assert_eq!(look.deadline_text(4_000.0).as_deref(), Some("expired"));
        events.push((
            2_000,
            Event::Cancellation(CancellationEvent::TokenCancelled {
                node: 1,
                cause: Cause::Manual,
                reached: vec![],
            }),
        ));
        let snap = fold(events);
        let tree = snap.tree().expect("a tree");
        let look = NodeLook::of(tree, tree.node(1).expect("node 1"));
        assert_eq!(
            look.deadline_left(3_500.0),
            Some(0.5),
            "frozen at the cancel"
        );
        assert_eq!(look.deadline_text(3_500.0).as_deref(), Some("2 s left"));
    }

    #[test]
    fn wide_levels_are_grouped_and_many_plain_tasks_become_cards_or_cells() {
        // A root with 3 regions of 8, 20 and 1 tasks.
        let mut events = vec![(0, created(0, None, NodeKind::Scope))];
        let mut id = 1;
        let mut regions = Vec::new();
        for tasks in [8, 20, 1] {
            let region = id;
            regions.push(region);
            events.push((0, created(region, Some(0), NodeKind::Scope)));
            id += 1;
            for _ in 0..tasks {
                events.push((0, created(id, Some(region), NodeKind::Task)));
                id += 1;
            }
        }
        let snap = fold(events);
        let tree = snap.tree().expect("a tree");
        let at = |id| tree.node(id).expect("a node");
        assert_eq!(
            layout(tree, at(0), false),
            Layout::Spread,
            "three regions fit side by side"
        );
        let [eight, twenty, one] = [regions[0], regions[1], regions[2]];
        assert_eq!(
            layout(tree, at(eight), false),
            Layout::Wrapped,
            "eight tasks as cards"
        );
        assert_eq!(
            layout(tree, at(twenty), false),
            Layout::Cells,
            "twenty tasks as cells"
        );
        assert_eq!(layout(tree, at(one), false), Layout::Spread);
        assert_eq!(
            layout(tree, at(eight), true),
            Layout::Cells,
            "no room for cards when compact"
        );
        assert_eq!(layout(tree, at(eight + 1), false), Layout::Leaf);

        let mut events = vec![(0, created(0, None, NodeKind::Scope))];
        for region in 1..=7 {
            events.push((0, created(region, Some(0), NodeKind::Scope)));
            events.push((0, created(100 + region, Some(region), NodeKind::Task)));
        }
        let snap = fold(events);
        let tree = snap.tree().expect("a tree");
        let root = tree.node(0).expect("root");
        assert_eq!(
            layout(tree, root, false),
            Layout::Grouped,
            "seven subtrees are grouped"
        );
    }

    #[test]
    fn the_chain_puts_each_hop_after_the_last_and_finds_what_ran() {
        let mut request = spec(1, Some(0), NodeKind::Scope);
        request.values = vec![("request_id".into(), "req-1".into())];
        let snap = fold(vec![
            (0, created(0, None, NodeKind::Scope)),
            (
                0,
                Event::Cancellation(CancellationEvent::NodeCreated { node: request }),
            ),
            (
                0,
                Event::Cancellation(CancellationEvent::NodeCreated {
                    node: NodeSpec {
                        label: "auth".into(),
                        ..spec(2, Some(1), NodeKind::Task)
                    },
                }),
            ),
            (
                200,
                Event::Cancellation(CancellationEvent::TaskEnded {
                    node: 2,
                    end: TaskEnd::Completed,
                }),
            ),
        ]);
        let params: shared::Params = [
            ("deadline_ms", 600.0),
            ("auth_ms", 200.0),
            ("logic_ms", 500.0),
            ("persist_ms", 300.0),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let chain = Chain::of(&params, snap.tree());
        let starts: Vec<_> = chain.hops.iter().map(|h| h.start_ms).collect();
        assert_eq!(starts, [0.0, 200.0, 700.0]);
        assert_eq!(chain.hops[0].state, Some(NodeState::Completed));
        assert_eq!(chain.hops[1].state, None, "not started yet");
        assert_eq!(chain.total_ms(), 1000.0);
        assert!(chain.span_ms() > 1000.0);
        assert_eq!(
            chain.carried,
            [("request_id".to_owned(), "req-1".to_owned())]
        );
    }

    #[test]
    fn once_the_run_ends_nothing_reads_live_and_a_hop_never_reached_never_started() {
        let mut request = spec(1, Some(0), NodeKind::Scope);
        request.deadline_ms = Some(2_000);
        let hop = |id, label: &str| {
            Event::Cancellation(CancellationEvent::NodeCreated {
                node: NodeSpec {
                    label: label.into(),
                    ..spec(id, Some(1), NodeKind::Task)
                },
            })
        };
        let mut events = vec![
            (0, created(0, None, NodeKind::Scope)),
            (
                0,
                Event::Cancellation(CancellationEvent::NodeCreated { node: request }),
            ),
            (0, hop(2, "auth")),
            (
                0,
                Event::Cancellation(CancellationEvent::TaskStarted { node: 2 }),
            ),
            (
                200,
                Event::Cancellation(CancellationEvent::TaskEnded {
                    node: 2,
                    end: TaskEnd::Completed,
                }),
            ),
        ];
        let params: shared::Params = [("auth_ms", 200.0), ("logic_ms", 500.0)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
        let snap = fold(events.clone());
        let chain = Chain::of(&params, snap.tree());
        assert_eq!(chain.hops[1].state, None, "business logic may still come");

        // The run ends with the request still open: it closes, and the hops
        // it never called never will be.
        events.push((
            200,
            Event::Run(RunEvent::Status {
                status: shared::RunStatus::Finished,
            }),
        ));
        let snap = fold(events);
        let tree = snap.tree().expect("a tree");
        for id in [0, 1] {
            let look = NodeLook::of(tree, tree.node(id).expect("a scope"));
            assert_eq!(look.state_text(), "closed", "node {id}");
            assert!(!look.cancellable(), "node {id}");
        }
        let request = NodeLook::of(tree, tree.node(1).expect("the request"));
        assert_eq!(
            request.deadline_text(1_500.0).as_deref(),
            Some("1.8 s left"),
            "the deadline froze when the request closed"
        );
        let chain = Chain::of(&params, snap.tree());
        let words: Vec<_> = chain.hops.iter().map(|h| h.state.map(state_text)).collect();
        assert_eq!(
            words,
            [
                Some("completed"),
                Some("never started"),
                Some("never started")
            ]
        );
        assert!(
            state_counts(tree)
                .iter()
                .all(|(s, _)| *s != NodeState::Live)
        );
    }

    #[test]
    fn progress_reads_as_steps_or_ticks() {
        let mut look = NodeLook {
            state: NodeState::Live,
            cause: None,
            from: None,
            depth_from_origin: 0,
            cancelled_ms: None,
            ended_ms: None,
            deadline_ms: None,
            deadline_set_ms: 0,
            step: 3,
            steps: 10,
            note: None,
            error: None,
            child_count: 0,
        };
        assert_eq!(
            look.progress_text(NodeKind::Task).as_deref(),
            Some("step 3 of 10")
        );
        assert_eq!(look.progress(), Some(0.3));
        look.steps = 0;
        assert_eq!(
            look.progress_text(NodeKind::Task).as_deref(),
            Some("3 ticks")
        );
        assert_eq!(look.progress_text(NodeKind::Scope), None);
        assert!(look.cancellable());
    }
}

use super::*;
use crate::event::{Envelope, Event, RunEvent};
use crate::pattern::PatternId;
use crate::scene::RunSnapshot;

fn spec(id: NodeId, parent: Option<NodeId>, kind: NodeKind) -> NodeSpec {
    NodeSpec {
        steps: 10,
        ..NodeSpec::new(id, parent, format!("n{id}"), kind)
    }
}

/// Folds `events` into a fresh cancellation run, one virtual ms apart.
fn fold(events: Vec<Event>) -> RunSnapshot {
    let mut snap = RunSnapshot::new("r", PatternId::CancelTree);
    for (i, event) in events.into_iter().enumerate() {
        let seq = i as u64 + 1;
        snap.apply(&Envelope {
            seq,
            at_ms: seq * 100,
            event,
        });
        assert!(snap.counters.is_conserved(), "{:?}", snap.counters);
        assert_eq!(snap.tasks_in_scene(), snap.counters.in_flight);
    }
    snap
}

#[test]
fn a_cancelled_task_is_cancelling_until_it_notices() {
    let snap = fold(vec![
        Event::Cancellation(CancellationEvent::NodeCreated {
            node: spec(0, None, NodeKind::Scope),
        }),
        Event::Cancellation(CancellationEvent::NodeCreated {
            node: spec(1, Some(0), NodeKind::Task),
        }),
        Event::Cancellation(CancellationEvent::NodeCreated {
            node: spec(2, Some(0), NodeKind::Task),
        }),
        Event::Cancellation(CancellationEvent::TaskStarted { node: 1 }),
        Event::Cancellation(CancellationEvent::TokenCancelled {
            node: 0,
            cause: Cause::Manual,
            reached: vec![1, 2],
        }),
    ]);
    let tree = snap.tree().expect("a tree run");
    assert_eq!(
        tree.node(0).map(TreeNode::state),
        Some(NodeState::Cancelled)
    );
    assert_eq!(
        tree.node(1).map(TreeNode::state),
        Some(NodeState::Cancelling)
    );
    let cancel = tree.node(2).and_then(|n| n.cancelled).expect("cancelled");
    assert_eq!(
        (cancel.cause, cancel.origin, cancel.at_ms),
        (Cause::Parent, 0, 500)
    );
    assert_eq!(snap.counters.in_flight, 2);

    let mut snap = snap;
    snap.apply(&Envelope {
        seq: 6,
        at_ms: 800,
        event: Event::Cancellation(CancellationEvent::TaskEnded {
            node: 1,
            end: TaskEnd::Cancelled,
        }),
    });
    let node = snap.tree().and_then(|t| t.node(1)).expect("node 1");
    assert_eq!(node.state(), NodeState::Cancelled);
    assert_eq!(
        node.notice_ms(),
        Some(300),
        "noticed 300 ms after the cancel"
    );
    assert_eq!((snap.counters.cancelled, snap.counters.in_flight), (1, 1));
}

#[test]
fn transient_jobs_leave_the_tree_but_stay_counted() {
    let mut job = spec(2, Some(0), NodeKind::Task);
    job.transient = true;
    job.from_queue = true;
    let snap = fold(vec![
        Event::Cancellation(CancellationEvent::NodeCreated {
            node: spec(0, None, NodeKind::Scope),
        }),
        Event::Cancellation(CancellationEvent::Accepted { jobs: 3 }),
        Event::Cancellation(CancellationEvent::NodeCreated { node: job }),
        Event::Cancellation(CancellationEvent::TaskStarted { node: 2 }),
        Event::Cancellation(CancellationEvent::TaskEnded {
            node: 2,
            end: TaskEnd::Completed,
        }),
    ]);
    let tree = snap.tree().expect("a tree run");
    assert!(tree.node(2).is_none());
    assert!(tree.root().is_some_and(|r| r.children.is_empty()));
    assert_eq!(tree.recent.len(), 1);
    assert_eq!(
        tree.average_completed_ms(snap.counters.completed),
        Some(100.0)
    );
    // Three accepted, one taken off the queue and completed, two waiting.
    let c = snap.counters;
    assert_eq!((c.submitted, c.completed, c.in_flight), (3, 1, 2));
}

#[test]
fn a_tree_snapshot_round_trips_through_json() {
    let snap = fold(vec![
        Event::Cancellation(CancellationEvent::NodeCreated {
            node: spec(0, None, NodeKind::Scope),
        }),
        Event::Cancellation(CancellationEvent::NodeCreated {
            node: spec(1, Some(0), NodeKind::Task),
        }),
    ]);
    let text = serde_json::to_string(&snap).expect("serializable");
    let back: RunSnapshot = serde_json::from_str(&text).expect("readable");
    assert_eq!(back, snap);
    let value = serde_json::to_value(&snap).expect("serializable");
    let back: RunSnapshot = serde_json::from_value(value).expect("readable");
    assert_eq!(back, snap);
}

#[test]
fn a_leaked_task_stays_in_flight() {
    let snap = fold(vec![
        Event::Cancellation(CancellationEvent::NodeCreated {
            node: spec(0, None, NodeKind::Scope),
        }),
        Event::Cancellation(CancellationEvent::NodeCreated {
            node: spec(1, Some(0), NodeKind::Task),
        }),
        Event::Cancellation(CancellationEvent::TaskStarted { node: 1 }),
        Event::Cancellation(CancellationEvent::Leaked { node: 1 }),
    ]);
    let tree = snap.tree().expect("a tree run");
    assert_eq!(tree.node(1).map(TreeNode::state), Some(NodeState::Leaked));
    assert_eq!((tree.leaked, snap.counters.in_flight), (1, 1));
}

#[test]
fn when_the_run_ends_what_is_still_open_closes_and_says_so() {
    let events = vec![
        Event::Cancellation(CancellationEvent::NodeCreated {
            node: spec(0, None, NodeKind::Scope),
        }),
        Event::Cancellation(CancellationEvent::NodeCreated {
            node: spec(1, Some(0), NodeKind::Scope),
        }),
        Event::Cancellation(CancellationEvent::NodeCreated {
            node: spec(2, Some(1), NodeKind::Task),
        }),
        Event::Cancellation(CancellationEvent::NodeCreated {
            node: spec(3, Some(0), NodeKind::Service),
        }),
        Event::Cancellation(CancellationEvent::NodeCreated {
            node: spec(4, Some(0), NodeKind::Task),
        }),
        Event::Cancellation(CancellationEvent::TaskStarted { node: 2 }),
        Event::Cancellation(CancellationEvent::TokenCancelled {
            node: 1,
            cause: Cause::Manual,
            reached: vec![2],
        }),
        Event::Cancellation(CancellationEvent::TaskEnded {
            node: 2,
            end: TaskEnd::Cancelled,
        }),
        Event::Cancellation(CancellationEvent::TaskStarted { node: 4 }),
        Event::Cancellation(CancellationEvent::Leaked { node: 4 }),
        Event::Run(RunEvent::Status {
            status: crate::task::RunStatus::Finished,
        }),
    ];
    let snap = fold(events.clone());
    let tree = snap.tree().expect("a tree run");
    let state = |id| tree.node(id).map(TreeNode::state);
    assert_eq!(state(0), Some(NodeState::Closed), "the root closed");
    assert_eq!(tree.node(0).and_then(|n| n.closed_ms), Some(1100));
    assert_eq!(state(1), Some(NodeState::Cancelled));
    assert_eq!(state(2), Some(NodeState::Cancelled));
    assert_eq!(state(3), Some(NodeState::NeverStarted));
    assert_eq!(state(4), Some(NodeState::Leaked), "a leak stays a leak");
    assert!(tree.nodes.values().all(|n| n.state() != NodeState::Live));

    // A shutdown after the end reaches only what was still there.
    let mut after = events;
    after.push(Event::Cancellation(CancellationEvent::TokenCancelled {
        node: 0,
        cause: Cause::Shutdown,
        reached: vec![1, 2, 3, 4],
    }));
    let snap = fold(after);
    let tree = snap.tree().expect("a tree run");
    assert_eq!(tree.node(0).and_then(|n| n.cancelled), None);
    assert_eq!(
        tree.node(0).map(TreeNode::state),
        Some(NodeState::Closed),
        "a closed scope stays closed"
    );
    assert_eq!(
        tree.node(4).and_then(|n| n.cancelled).map(|c| c.cause),
        Some(Cause::Parent),
        "the leaked task is still there to be reached"
    );
}

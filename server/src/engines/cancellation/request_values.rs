//! Request values: a request carries its identity and its deadline down the
//! chain of calls that serve it.
//!
//! The request scope holds three values (request id, user id, session id)
//! and a deadline; authentication, business logic and persistence run one
//! after another beneath it, each reading only the values it needs. Every
//! hop waits on a child of the request's token, so a deadline shorter than
//! the chain stops the hop in progress at once, and the hops after it never
//! start.

use crate::engines::{About, Prompt, Ctx};
use super::tree::{NodeKind, ROOT, Tree};
use shared::pattern::request_values::RequestValuesParams;
use shared::cancellation::TaskEnd;
use std::time::Duration;

/// What the request carries, set once where it enters the server.
const VALUES: [(&str, &str); 3] = [
    ("request_id", "req-12345"),
    ("user_id", "user-67890"),
    // Carried like the others though no hop reads it: a value travels with
    // the request whether or not anyone down the chain needs it.
    ("session_id", "sess-abcdef"),
];

/// A value looked up by key, as each hop reads it from the request.
fn value(key: &str) -> &'static str {
    VALUES
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("", |(_, v)| v)
}

/// One call in the chain.
struct Hop {
    label: &'static str,
    /// How long it takes.
    took: fn(&RequestValuesParams) -> Duration,
    /// The keys it looks up in the request.
    reads: &'static [&'static str],
    /// What it reports once it is done.
    done: fn() -> String,
}

const CHAIN: [Hop; 3] = [
    Hop {
        label: "auth",
        took: |p| p.auth_ms,
        reads: &["request_id", "user_id"],
        done: || format!("user {} authenticated", value("user_id")),
    },
    Hop {
        label: "business logic",
        took: |p| p.logic_ms,
        reads: &["request_id"],
        done: || format!("logic processed for {}", value("request_id")),
    },
    Hop {
        label: "persist",
        took: |p| p.persist_ms,
        reads: &["request_id"],
        done: || format!("data persisted for {}", value("request_id")),
    },
];

pub const ABOUT: About = About {
    title: "Request-scoped values",
    summary: "A request enters the server carrying request_id req-12345, user_id \
                  user-67890 and session_id sess-abcdef, with a 2 s deadline. Auth (200 ms), \
                  business logic (500 ms) and persist (300 ms) serve it one after another; \
                  each hop shows the values it reads. The chain takes 1 s, well inside the \
                  deadline.",
    try_this: "Shorten the deadline to 600 ms: auth finishes, business logic is stopped \
                   at 600 ms and persist never starts. Or cancel the request while business \
                   logic runs: the hop ends cancelled rather than timed out.",
    questions: &[Prompt {
        at_ms: 100,
        text: "Auth, business logic and persist take 200 + 500 + 300 ms under a 2 s deadline. How does the request end?",
        choices: &["Completed after 1 s", "Timed out at 2 s", "Cancelled during business logic"],
        answer: 0,
    }],
};

pub async fn run(ctx: Ctx) {
    let p: RequestValuesParams = ctx.params.get();
    let (tree, _keeper) = Tree::open(&ctx, "server");
    let Some(request) = tree
        .add(
            ROOT,
            format!("request {}", value("request_id")),
            NodeKind::Scope,
        )
        .values(&VALUES)
        .deadline_in(p.deadline_ms)
        .create()
    else {
        return;
    };
    let start = tree.clock().now();
    for hop in &CHAIN {
        let reads: Vec<(&str, &str)> = hop.reads.iter().map(|k| (*k, value(k))).collect();
        let Some(node) = tree
            .add(request, hop.label, NodeKind::Task)
            .values(&reads)
            .create()
        else {
            return;
        };
        tree.started(node);
        match tree.pause(node, (hop.took)(&p)).await {
            Ok(()) => {
                tree.note(node, (hop.done)());
                tree.end(node, TaskEnd::Completed, false);
            }
            Err(stopped) => {
                tree.note(node, format!("stopped: {}", stopped.reason()));
                tree.end(node, stopped.end(), false);
                // The hops after it are never called.
                tree.note(
                    request,
                    format!("{} failed: {}", hop.label, stopped.reason()),
                );
                return;
            }
        }
    }
    let took = tree.clock().now().saturating_sub(start);
    tree.note(request, format!("completed in {} ms", took.as_millis()));
}

#[cfg(test)]
mod tests {
    use crate::engines::trial::{self, Driven, find};
    use shared::cancellation::{Cause, NodeState, TaskEnd, TreeNode};
    use shared::{Command, PatternId};

    fn values(n: &TreeNode) -> Vec<(&str, &str)> {
        n.spec
            .values
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn the_preset_chain_completes_inside_the_deadline() {
        let t = trial::run(PatternId::RequestValues, &[], 42).await;
        let request = t.node("request req-12345");
        assert_eq!(
            values(request),
            [
                ("request_id", "req-12345"),
                ("user_id", "user-67890"),
                ("session_id", "sess-abcdef")
            ]
        );
        assert_eq!(request.spec.deadline_ms, Some(2000));
        assert_eq!(request.note.as_deref(), Some("completed in 1000 ms"));
        assert_eq!(request.cancelled, None);
        for (label, at) in [("auth", 200), ("business logic", 700), ("persist", 1000)] {
            let n = t.node(label);
            assert_eq!(n.ended, Some((TaskEnd::Completed, at)), "{label}");
            assert_eq!(n.spec.parent, Some(request.id()), "{label}");
        }
        let auth = t.node("auth");
        assert_eq!(
            values(auth),
            [("request_id", "req-12345"), ("user_id", "user-67890")]
        );
        assert_eq!(auth.note.as_deref(), Some("user user-67890 authenticated"));
        assert_eq!(values(t.node("persist")), [("request_id", "req-12345")]);
        // Each hop is called only once the one before it has returned.
        assert_eq!(t.node("business logic").created_ms, 200);
        assert_eq!(t.node("persist").created_ms, 700);
        let c = t.end.counters;
        assert_eq!((c.submitted, c.completed, c.in_flight), (3, 3, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn a_short_deadline_stops_the_hop_in_progress_and_the_rest_never_start() {
        let t = trial::run(PatternId::RequestValues, &[("deadline_ms", 600.0)], 42).await;
        assert_eq!(t.node("auth").ended, Some((TaskEnd::Completed, 200)));
        let request = t.node("request req-12345");
        let logic = t.node("business logic");
        assert_eq!(logic.ended, Some((TaskEnd::TimedOut, 600)));
        let cancel = logic
            .cancelled
            .expect("business logic's token was cancelled");
        assert_eq!(
            (cancel.cause, cancel.origin, cancel.at_ms),
            (Cause::Parent, request.id(), 600)
        );
        assert_eq!(logic.notice_ms(), Some(0), "it was waiting on its token");
        assert_eq!(logic.note.as_deref(), Some("stopped: deadline exceeded"));
        let expired = request.cancelled.expect("the request's deadline fired");
        assert_eq!((expired.cause, expired.at_ms), (Cause::Deadline, 600));
        assert_eq!(
            request.note.as_deref(),
            Some("business logic failed: deadline exceeded")
        );
        assert!(
            t.end.tree().and_then(|t| find(t, "persist")).is_none(),
            "persist is never called"
        );
        let c = t.end.counters;
        assert_eq!((c.submitted, c.completed, c.timed_out), (2, 1, 1));
    }

    #[tokio::test(start_paused = true)]
    async fn cancelling_the_request_mid_logic_ends_the_hop_cancelled_not_timed_out() {
        let mut d = Driven::start(PatternId::RequestValues, &[], 42).await;
        d.until(450).await;
        let request = d.node("request req-12345").id();
        d.command(Command::Cancel { node: request })
            .await
            .expect("a live request can be cancelled");
        d.finish().await;
        let end = &d.folded;
        let tree = end.tree().expect("a tree");
        let logic = find(tree, "business logic").expect("business logic ran");
        assert_eq!(logic.ended, Some((TaskEnd::Cancelled, 450)));
        assert_eq!(logic.note.as_deref(), Some("stopped: cancelled"));
        let scope = find(tree, "request req-12345").expect("the request");
        assert_eq!(
            scope.cancelled.map(|c| (c.cause, c.at_ms)),
            Some((Cause::Manual, 450))
        );
        assert_eq!(
            scope.note.as_deref(),
            Some("business logic failed: cancelled")
        );
        assert!(find(tree, "persist").is_none());
        let c = end.counters;
        assert_eq!((c.completed, c.cancelled, c.in_flight), (1, 1, 0));
    }

    /// The preset chain completes and the run finishes: the server's scope
    /// and the request, never cancelled, close with the run; no node still
    /// says live.
    #[tokio::test(start_paused = true)]
    async fn the_finished_preset_shows_no_live_node() {
        let t = trial::run(PatternId::RequestValues, &[], 42).await;
        let tree = t.end.tree().expect("a tree");
        assert_eq!(
            trial::open_nodes(tree),
            [],
            "nodes still open after the run finished"
        );
        for label in ["server", "request req-12345"] {
            assert_eq!(t.node(label).state(), NodeState::Closed, "{label}");
        }
        for label in ["auth", "business logic", "persist"] {
            assert_eq!(t.node(label).state(), NodeState::Completed, "{label}");
        }
    }
}

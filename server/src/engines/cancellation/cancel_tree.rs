//! Cancel tree: cancelling a parent cancels every descendant, never the
//! reverse.
//!
//! A root scope holds a service scope, which holds a batch scope, each with
//! its own deadline. Two services tick under the service scope and a batch
//! processor under the batch scope. Part-way through, the batch scope is
//! cancelled from outside: only the batch processor stops. The service's
//! deadline later stops the other two, and the root, whose deadline is
//! furthest away, is never touched by either.

use crate::engines::{About, Prompt, Ctx};
use super::tree::{NodeKind, ROOT, Tree};
use shared::pattern::cancel_tree::CancelTreeParams;
use tokio_util::task::TaskTracker;

pub const ABOUT: About = About {
    title: "Cancellation tree",
    summary: "Three scopes nested inside each other, each with its own deadline: root (5 s), \
                  service (4 s) and batch (3 s). An email service and a report service tick \
                  under the service scope, a batch processor under the batch scope. At 2 s \
                  the batch scope is cancelled from outside: only what lies below it stops.",
    try_this: "Before 2 s, click the service scope: both services and the batch processor \
                   stop, the root does not. Restart and cancel a single service instead, or \
                   extend the batch deadline and watch it still die with its parent.",
    questions: &[Prompt {
        at_ms: 1900,
        text: "At 2 s the batch scope is cancelled from outside. What stops?",
        choices: &["Only the batch processor", "The batch processor and both services", "Everything, the root included", "Nothing yet: the batch deadline is 3 s"],
        answer: 0,
    }],
};

pub async fn run(ctx: Ctx) {
    let p: CancelTreeParams = ctx.params.get();
    let (tree, _keeper) = Tree::open(&ctx, "root");
    let _ = tree.set_deadline(ROOT, p.root_deadline_ms);
    let Some(service) = tree
        .add(ROOT, "service", NodeKind::Scope)
        .deadline_in(p.service_deadline_ms)
        .create()
    else {
        return;
    };
    let email = tree.add(service, "email service", NodeKind::Task).create();
    let report = tree.add(service, "report service", NodeKind::Task).create();
    let batch = tree
        .add(service, "batch", NodeKind::Scope)
        .deadline_in(p.batch_deadline_ms)
        .create();
    let processor = batch.and_then(|b| tree.add(b, "batch processor", NodeKind::Task).create());

    let services = TaskTracker::new();
    for (node, every, noun) in [
        (email, p.email_every_ms, "emails"),
        (report, p.report_every_ms, "reports"),
        (processor, p.batch_every_ms, "batches"),
    ] {
        let Some(node) = node else { continue };
        let tree = tree.clone();
        ctx.tracker.spawn(services.track_future(async move {
            tree.started(node);
            let (ticks, stopped) = tree.tick(node, every).await;
            tree.note(
                node,
                format!("stopped after {ticks} {noun}: {}", stopped.reason()),
            );
            tree.end(node, stopped.end(), false);
        }));
    }
    services.close();

    let cancel_at = p.cancel_batch_at_ms;
    let external = async {
        if let Some(batch) = batch.filter(|_| !cancel_at.is_zero()) {
            tree.clock().sleep_until(cancel_at).await;
            // Already gone (its deadline came first, or a viewer) is fine.
            if tree.cancel(batch, crate::engines::cancellation::tree::Cause::Manual).is_ok() {
                tree.note(batch, "cancelled from outside");
            }
        }
        std::future::pending::<()>().await;
    };
    tokio::select! {
        biased;
        () = services.wait() => {}
        () = external => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::engines::trial::{self, Driven};
    use shared::cancellation::{Cause, NodeState, TaskEnd};
    use shared::{Command, Event, PatternId, RunEvent, RunStatus};

    #[tokio::test(start_paused = true)]
    async fn the_seed_scenario_stops_each_service_with_its_ticks_and_cause() {
        let t = trial::run(PatternId::CancelTree, &[], 42).await;
        // The batch processor ticks at 300 … 1800 ms; the external cancel at
        // 2 s reaches it through its parent. The service deadline at 4 s
        // stops the other two: email ticked at 500 … 3500 (its tick at 4000
        // loses to the deadline at the same instant), report at 800 … 3200.
        let expect = [
            (
                "batch processor",
                6,
                Cause::Parent,
                TaskEnd::Cancelled,
                2000,
            ),
            ("email service", 7, Cause::Parent, TaskEnd::TimedOut, 4000),
            ("report service", 4, Cause::Parent, TaskEnd::TimedOut, 4000),
        ];
        for (label, ticks, cause, end, at) in expect {
            let n = t.node(label);
            assert_eq!(n.step, ticks, "{label}'s ticks");
            assert_eq!(n.cancelled.map(|c| c.cause), Some(cause), "{label}");
            assert_eq!(n.ended, Some((end, at)), "{label}");
            assert_eq!(n.notice_ms(), Some(0), "{label} waits on its token");
        }
        let batch = t.node("batch").cancelled.expect("batch cancelled");
        assert_eq!((batch.cause, batch.at_ms), (Cause::Manual, 2000));
        let service = t.node("service").cancelled.expect("service cancelled");
        assert_eq!((service.cause, service.at_ms), (Cause::Deadline, 4000));
        assert_eq!(
            t.node("root").cancelled,
            None,
            "cancellation never travels up"
        );
        let c = t.end.counters;
        assert_eq!((c.submitted, c.cancelled, c.timed_out), (3, 1, 2));
        assert_eq!(
            t.time_of(|e| matches!(
                e,
                Event::Run(RunEvent::Status {
                    status: shared::RunStatus::Finished
                })
            )),
            Some(4000)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn without_the_external_cancel_the_batch_deadline_stops_the_processor() {
        let t = trial::run(PatternId::CancelTree, &[("cancel_batch_at_ms", 0.0)], 1).await;
        let n = t.node("batch processor");
        // 300 … 2700; the tick at 3000 meets the batch deadline.
        assert_eq!(n.step, 9);
        assert_eq!(n.ended, Some((TaskEnd::TimedOut, 3000)));
        let batch = t.node("batch").cancelled.expect("batch cancelled");
        assert_eq!((batch.cause, batch.at_ms), (Cause::Deadline, 3000));
    }

    /// A viewer cancels the service scope before anything ends by itself:
    /// everything below it stops and the run finishes. The root, which no
    /// cancellation reached, closes with the run; no node still says live.
    #[tokio::test(start_paused = true)]
    async fn after_the_service_is_cancelled_the_finished_run_shows_no_live_node() {
        let mut d = Driven::start(PatternId::CancelTree, &[], 42).await;
        d.until(1000).await;
        let service = d.node("service").id();
        d.command(Command::Cancel { node: service })
            .await
            .expect("a live service can be cancelled");
        d.finish().await;
        assert_eq!(d.folded.status, RunStatus::Finished);
        let open = trial::open_nodes(d.tree());
        assert_eq!(open, [], "nodes still open after the run finished");
        let root = d.node("root");
        assert_eq!(
            root.state(),
            NodeState::Closed,
            "the root closes with the run"
        );
        assert_eq!(root.cancelled, None, "no cancellation reached the root");
        for label in ["service", "batch"] {
            assert_eq!(d.node(label).state(), NodeState::Cancelled, "{label}");
        }
    }
}

//! Cancel fan-out: one cancel reaches a thousand tasks, and the size of the
//! tree does not change the rule.
//!
//! Ten regions under one root, ten services in each region, ten tasks in
//! each service: 1,111 tokens, 1,000 of them with a ticking task below.
//! Cancelling any node reaches every task beneath it in the same instant
//! and nothing above or beside it; cancelling the root stops them all.

use crate::engines::{About, Prompt, Ctx};
use super::tree::{NodeKind, ROOT, Tree};
use shared::pattern::cancel_fanout::CancelFanoutParams;
use std::time::Duration;
use tokio_util::task::TaskTracker;

pub const ABOUT: About = About {
    title: "Cancel fan-out",
    summary: "One root, ten regions under it, ten services in each region and ten tasks in \
                  each service: 1,111 tokens and 1,000 tasks, each ticking once a second. \
                  Cancelling a node reaches every task below it at once, however many there \
                  are, and nothing above it or beside it.",
    try_this: "Click a service: its ten tasks stop, the rest tick on. Click a region \
                   (a hundred tasks), then the root (all that are left). Or give the root a \
                   deadline and watch every task stop in the same instant.",
    questions: &[Prompt {
        at_ms: 500,
        text: "Click one region. How many tasks stop?",
        choices: &["10", "100", "1,000", "None until their next tick"],
        answer: 1,
    }],
};

pub async fn run(ctx: Ctx) {
    let p: CancelFanoutParams = ctx.params.get();
    let (regions, services, tasks) = (p.regions.max(1), p.services.max(1), p.tasks.max(1));
    let every = p.tick_ms.max(Duration::from_millis(1));
    let deadline = p.root_deadline_ms;

    let (tree, _keeper) = Tree::open(&ctx, "root");
    if !deadline.is_zero() {
        let _ = tree.set_deadline(ROOT, deadline);
    }
    // The whole tree first, then the tasks: a cancel at any moment finds
    // every node in place.
    let mut leaves = Vec::new();
    for i in 1..=regions {
        let Some(region) = tree
            .add(ROOT, format!("region {i}"), NodeKind::Scope)
            .create()
        else {
            continue;
        };
        for j in 1..=services {
            let Some(service) = tree
                .add(region, format!("service {i}.{j}"), NodeKind::Scope)
                .create()
            else {
                continue;
            };
            leaves.extend((1..=tasks).filter_map(|k| {
                tree.add(service, format!("task {i}.{j}.{k}"), NodeKind::Task)
                    .create()
            }));
        }
    }

    let ticking = TaskTracker::new();
    let every_ms = every.as_millis() as u64;
    let n = leaves.len().max(1) as u64;
    for (index, leaf) in leaves.into_iter().enumerate() {
        // Start times spread evenly over one interval, so a thousand tasks
        // do not all tick in the same instant.
        let offset = Duration::from_millis(index as u64 * every_ms / n);
        let tree = tree.clone();
        ctx.tracker.spawn(ticking.track_future(async move {
            tree.started(leaf);
            // No note on the way out: a thousand of them would say what
            // each leaf's tick count and cause already say.
            let stopped = match tree.pause(leaf, offset).await {
                Ok(()) => tree.tick(leaf, every).await.1,
                Err(stopped) => stopped,
            };
            tree.end(leaf, stopped.end(), false);
        }));
    }
    ticking.close();
    ticking.wait().await;
}

#[cfg(test)]
mod tests {
    use crate::engines::trial::{self, Driven};
    use shared::cancellation::{Cause, NodeKind, TaskEnd, TreeNode, TreeScene};
    use shared::{CancellationEvent, Command, Event, PatternId, RunEvent, RunStatus};
    use std::collections::BTreeSet;

    /// Three regions of three services of three tasks: 27 tasks ticking
    /// every second, the first ticks spread 37 ms apart.
    const SMALL: [(&str, f64); 3] = [("regions", 3.0), ("services", 3.0), ("tasks", 3.0)];
    const LEAVES: u64 = 27;

    /// Every task with its place in creation order, which sets when it
    /// first ticks.
    fn leaves(tree: &TreeScene) -> Vec<(u64, &TreeNode)> {
        let mut leaves: Vec<&TreeNode> = tree
            .nodes
            .values()
            .filter(|n| n.spec.kind == NodeKind::Task)
            .collect();
        leaves.sort_by_key(|n| n.id());
        (0..).zip(leaves).collect()
    }

    /// Ticks a task made before `at_ms`: the one at `index` of `leaves`
    /// starts `index/leaves` of an interval late, then ticks every second.
    fn ticks_before(index: u64, leaves: u64, at_ms: u64) -> u32 {
        let offset = index * 1_000 / leaves;
        (at_ms.saturating_sub(offset + 1) / 1_000) as u32
    }

    #[tokio::test(start_paused = true)]
    async fn cancelling_the_root_stops_every_task_in_the_same_instant() {
        let mut d = Driven::start(PatternId::CancelFanout, &SMALL, 42).await;
        // No task ticks at 2500: the first ticks are spread 0, 37, 74 … 962.
        d.until(2_500).await;
        d.command(Command::Cancel { node: 0 })
            .await
            .expect("accepted");
        d.finish().await;
        let leaves = leaves(d.tree());
        assert_eq!(leaves.len() as u64, LEAVES);
        for (index, n) in leaves {
            let label = &n.spec.label;
            assert_eq!(n.ended, Some((TaskEnd::Cancelled, 2_500)), "{label}");
            assert_eq!(n.notice_ms(), Some(0), "{label} waits on its token");
            assert_eq!(
                n.cancelled.map(|c| (c.cause, c.origin)),
                Some((Cause::Parent, 0))
            );
            assert_eq!(
                n.step,
                ticks_before(index, LEAVES, 2_500),
                "{label}'s ticks"
            );
        }
        let c = d.folded.counters;
        assert_eq!((c.cancelled, c.in_flight), (LEAVES, 0));
        let finished = d.events.iter().find(|e| {
            e.event
                == Event::Run(RunEvent::Status {
                    status: RunStatus::Finished,
                })
        });
        assert_eq!(finished.map(|e| e.at_ms), Some(2_500));
    }

    #[tokio::test(start_paused = true)]
    async fn cancelling_a_region_stops_its_nine_tasks_and_no_other() {
        let mut d = Driven::start(PatternId::CancelFanout, &SMALL, 42).await;
        d.until(2_500).await;
        let region = d.node("region 2").id();
        d.command(Command::Cancel { node: region })
            .await
            .expect("accepted");
        d.until(4_500).await;
        let mut stopped = 0;
        for (index, n) in leaves(d.tree()) {
            let label = &n.spec.label;
            if label.starts_with("task 2.") {
                stopped += 1;
                assert_eq!(n.ended, Some((TaskEnd::Cancelled, 2_500)), "{label}");
                let cancel = n.cancelled.map(|c| (c.cause, c.origin));
                assert_eq!(cancel, Some((Cause::Parent, region)), "{label}");
                assert_eq!(n.step, ticks_before(index, LEAVES, 2_500), "{label}");
            } else {
                assert_eq!((n.ended.clone(), n.cancelled), (None, None), "{label}");
                assert_eq!(
                    n.step,
                    ticks_before(index, LEAVES, 4_500),
                    "{label} ticks on"
                );
            }
        }
        assert_eq!(stopped, 9);
        for label in ["root", "region 1", "region 3", "service 1.2", "service 3.3"] {
            assert_eq!(d.node(label).cancelled, None, "{label}");
        }
        assert_eq!(d.folded.counters.in_flight, LEAVES - 9);

        d.command(Command::Stop).await.expect("accepted");
        assert_eq!(d.folded.counters.in_flight, 0);
        assert_eq!(d.ends().len() as u64, LEAVES, "each task ended once");
    }

    #[tokio::test(start_paused = true)]
    async fn a_root_deadline_times_every_task_out_at_once() {
        let mut changes = SMALL.to_vec();
        changes.push(("root_deadline_ms", 2_500.0));
        let t = trial::run(PatternId::CancelFanout, &changes, 42).await;
        let tree = t.end.tree().expect("a cancellation run");
        let tasks: Vec<&TreeNode> = tree
            .nodes
            .values()
            .filter(|n| n.spec.kind == NodeKind::Task)
            .collect();
        assert_eq!(tasks.len() as u64, LEAVES);
        for n in tasks {
            assert_eq!(
                n.ended,
                Some((TaskEnd::TimedOut, 2_500)),
                "{}",
                n.spec.label
            );
        }
        let root = tree.root().and_then(|r| r.cancelled);
        assert_eq!(
            root.map(|c| (c.cause, c.at_ms)),
            Some((Cause::Deadline, 2_500))
        );
        assert_eq!(t.end.counters.timed_out, LEAVES);
    }

    #[tokio::test(start_paused = true)]
    async fn the_preset_makes_1111_nodes_and_a_stop_ends_all_1000_tasks() {
        let mut d = Driven::start(PatternId::CancelFanout, &[], 42).await;
        d.until(1).await;
        let created = |kind: Option<NodeKind>| {
            d.events
                .iter()
                .filter(|e| {
                    matches!(&e.event, Event::Cancellation(CancellationEvent::NodeCreated { node })
                        if kind.is_none_or(|k| node.kind == k))
                })
                .count()
        };
        assert_eq!(created(None), 1_111);
        assert_eq!(created(Some(NodeKind::Task)), 1_000);

        d.command(Command::Stop).await.expect("accepted");
        assert_eq!(d.folded.status, RunStatus::Stopped);
        let c = d.folded.counters;
        assert_eq!((c.submitted, c.cancelled, c.in_flight), (1_000, 1_000, 0));
        let ends = d.ends();
        let once: BTreeSet<u32> = ends.iter().copied().collect();
        assert_eq!((ends.len(), once.len()), (1_000, 1_000));
        // Each task was waiting on its token, so each noticed the stop in
        // the same instant it was cancelled.
        assert!(
            leaves(d.tree())
                .iter()
                .all(|(_, n)| n.notice_ms() == Some(0)),
            "every leaf noticed the stop at once"
        );
    }
}

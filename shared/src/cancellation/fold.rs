//! The fold of the cancellation family's events into its scene.

use super::{CancellationEvent, NodeKind, TaskEnd, TreeScene};
use crate::scene::Counters;

impl TreeScene {
    /// Folds one of the family's events in, counting what it settles in `c`.
    pub fn apply(&mut self, c: &mut Counters, at: u64, event: &CancellationEvent) {
        match event {
            CancellationEvent::NodeCreated { node } => {
                if node.from_queue {
                    // The job was counted when it was accepted; it only moves
                    // from the queue into the tree.
                    self.queued = self.queued.saturating_sub(1);
                } else if node.kind == NodeKind::Task {
                    c.submitted += 1;
                    c.in_flight += 1;
                }
                self.create(node.clone(), at);
            }
            CancellationEvent::Deadline { node, deadline_ms } => {
                if let Some(n) = self.nodes.get_mut(node) {
                    n.spec.deadline_ms = *deadline_ms;
                    n.deadline_set_ms = at;
                }
            }
            CancellationEvent::TokenCancelled {
                node,
                cause,
                reached,
            } => self.cancel(*node, *cause, reached, at),
            CancellationEvent::TaskStarted { node } => {
                if let Some(n) = self.nodes.get_mut(node) {
                    n.started_ms = Some(at);
                }
            }
            CancellationEvent::Step { node, step } => {
                if let Some(n) = self.nodes.get_mut(node) {
                    n.step = *step;
                }
            }
            CancellationEvent::TaskEnded { node, end } => {
                // Only work is counted; a service loop ending is not a task's end.
                let counted = self.end(*node, end.clone(), at) == Some(NodeKind::Task);
                if counted {
                    match end {
                        TaskEnd::Completed => c.completed += 1,
                        TaskEnd::Failed { .. } => c.failed += 1,
                        TaskEnd::Cancelled => c.cancelled += 1,
                        TaskEnd::TimedOut => c.timed_out += 1,
                    }
                    c.in_flight = c.in_flight.saturating_sub(1);
                }
            }
            CancellationEvent::Leaked { node } => {
                if let Some(n) = self.nodes.get_mut(node)
                    && n.leaked_ms.is_none()
                    && n.ended.is_none()
                {
                    n.leaked_ms = Some(at);
                    self.leaked += 1;
                }
            }
            CancellationEvent::Note { node, text } => {
                if let Some(n) = self.nodes.get_mut(node) {
                    n.note = text.clone();
                }
            }
            CancellationEvent::Phase { phase } => {
                self.phase = Some(*phase);
                self.phase_ms = at;
            }
            CancellationEvent::Accepted { jobs } => {
                self.queued += jobs;
                c.submitted += jobs;
                c.in_flight += jobs;
            }
            CancellationEvent::Abandoned { jobs } => {
                let jobs = (*jobs).min(self.queued);
                self.queued -= jobs;
                c.cancelled += jobs;
                c.in_flight = c.in_flight.saturating_sub(jobs);
            }
        }
    }
}

//! The fold of the resilience family's events into its scene.

use super::{JobOutcome, ResilienceEvent, ResilienceScene, Wait};
use crate::scene::Counters;

impl ResilienceScene {
    /// Folds one of the family's events in, counting what it settles in `c`.
    pub fn apply(&mut self, c: &mut Counters, at: u64, event: &ResilienceEvent) {
        match event {
            ResilienceEvent::JobSubmitted { job } => {
                c.submitted += 1;
                c.in_flight += 1;
                self.submit(job.clone(), at);
            }
            ResilienceEvent::JobPicked { job, worker } => self.pick(*job, *worker),
            ResilienceEvent::AttemptStarted {
                job,
                attempt,
                trial,
            } => self.start(*job, *attempt, *trial, at),
            ResilienceEvent::AttemptEnded {
                job,
                attempt,
                result,
                counted,
            } => self.finish(*job, *attempt, *result, *counted, at),
            ResilienceEvent::AttemptRejected {
                job,
                attempt,
                state,
            } => self.reject(*job, *attempt, *state, at),
            ResilienceEvent::Backoff {
                job,
                delay_ms,
                backoff_ms,
            } => self.wait(
                *job,
                Wait {
                    delay_ms: *delay_ms,
                    backoff_ms: *backoff_ms,
                },
            ),
            ResilienceEvent::JobEnded { job, outcome } => {
                // A job ends once; a repeated end must not count twice.
                if !self.end(*job, *outcome, at) {
                    return;
                }
                match outcome {
                    JobOutcome::Succeeded { .. } => c.completed += 1,
                    JobOutcome::Failed { .. } => c.failed += 1,
                    JobOutcome::Rejected { .. } => c.rejected += 1,
                    JobOutcome::TimedOut { .. } => c.timed_out += 1,
                    JobOutcome::Cancelled => c.cancelled += 1,
                }
                c.in_flight = c.in_flight.saturating_sub(1);
            }
            ResilienceEvent::BreakerCount { failures } => self.count(*failures),
            ResilienceEvent::BreakerMoved { from, to } => self.moved(*from, *to, at),
        }
    }
}

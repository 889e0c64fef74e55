//! Backpressure: the same load as `drop_basic`, with a blocking send.
//!
//! When the queue is full the producer waits for a slot instead of dropping
//! the task. Nothing is lost, but the producer now runs at the worker's pace:
//! the overload has moved upstream, into the producer's waiting time.

use crate::engines::{About, Prompt, Ctx};
use super::drop_basic::{WhenFull, run_with};

pub const ABOUT: About = About {
    title: "Wait when full (backpressure)",
    summary: "The same producer and worker as 'Drop when full', but the producer uses a \
                  blocking send: when the queue is full it waits for a free slot. Nothing is \
                  dropped; instead the producer is slowed to the worker's pace and the delay \
                  moves upstream.",
    try_this: "Run it next to 'Drop when full' with the same settings. Compare the drop \
                   count with the producer's blocked time, and how long the last task waits \
                   before it is done.",
    questions: &[Prompt {
        at_ms: 170,
        text: "The queue is full and the producer uses a blocking send. What happens to its next task?",
        choices: &["It is dropped", "The producer waits until a slot frees", "It pushes out the oldest task"],
        answer: 1,
    }],
};

pub async fn run(ctx: Ctx) {
    run_with(ctx, WhenFull::Wait).await;
}

#[cfg(test)]
mod tests {
    use crate::engines::trial;
    use shared::{Event, OverloadEvent, PatternId, RunEvent, RunStatus};

    #[tokio::test(start_paused = true)]
    async fn backpressure_drops_nothing_and_moves_the_wait_to_the_producer() {
        let t = trial::run(PatternId::DropBlocking, &[], 42).await;
        let c = t.end.counters;
        assert_eq!(
            (c.submitted, c.dropped, c.completed + c.failed),
            (15, 0, 15)
        );
        // Task 6 finds the queue full at 180 ms and gets in when the worker
        // takes task 1 at 200 ms; from then on the producer moves at the
        // worker's pace and the last task is done after 15 x 200 ms.
        assert_eq!(
            t.time_of(|e| matches!(e, Event::Overload(OverloadEvent::Blocked { task: 6 }))),
            Some(180)
        );
        assert_eq!(
            t.time_of(|e| matches!(e, Event::Overload(OverloadEvent::Enqueued { task: 6 }))),
            Some(200)
        );
        assert_eq!(
            t.time_of(|e| matches!(e, Event::Overload(OverloadEvent::Submitted { task }) if task.id == 7)),
            Some(230)
        );
        assert_eq!(
            t.time_of(|e| matches!(
                e,
                Event::Run(RunEvent::Status {
                    status: RunStatus::Finished
                })
            )),
            Some(3000)
        );
        assert!(
            t.end.overload().blocked_ms >= 1000,
            "blocked {} ms",
            t.end.overload().blocked_ms
        );
    }
}

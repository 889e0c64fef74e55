//! Basics: the two moves every concurrent program is built from.
//!
//! Spawn and wait: `main` starts several tasks at once in a `JoinSet` and
//! then waits for every one of them, so none is left running when it moves
//! on. Producer and consumer: one task hands items to another through a
//! bounded channel; when the producer is the faster one the buffer fills
//! and its next send waits for a free slot (backpressure).

use super::pipe::{Flow, Pipe, PipeRx, feed};
use crate::engines::{About, Prompt, Ctx, Settings};
use crate::clock::Clock;
use rand::Rng;
use shared::pattern::basics::BasicsParams;
use shared::{ChannelId, Event, FlowEvent, ItemEnd, StageId, StageRole, StageSpec};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Lane one, spawn and wait: `main` spawning...
const MAIN: StageId = 0;
/// ...the tasks, each one worker slot...
const TASKS: StageId = 1;
/// ...and `main` again, waiting for them all.
const WAIT: StageId = 2;
/// Lane two: the producer, its buffer and the consumer.
const PRODUCER: StageId = 3;
const CONSUMER: StageId = 4;
const BUFFER: ChannelId = 0;

/// How long a spawned task works: at random, in this range.
const TASK_MS: (u64, u64) = (100, 600);

pub const ABOUT: About = About {
    title: "Basics: spawn, wait, hand over",
    summary: "Top: main spawns five tasks at once in a JoinSet, each working 100 to \
                  600 ms, and waits until all five are back; together they take as long as \
                  the slowest, not the sum. Bottom: a producer puts ten items into a channel \
                  of three slots, one every 100 ms, and a consumer needs 250 ms for each; \
                  when the buffer is full the producer's send waits for a slot.",
    try_this: "Watch the gauge count the tasks back in the order they finish, not the \
                   order they started. Below, watch the three slots fill and the producer \
                   block; then make the consumer faster than the producer (under 100 ms) and \
                   the buffer never fills. Spawn 20 tasks: all twenty are busy at once.",
    questions: &[Prompt {
        at_ms: 50,
        text: "Five tasks take 100 to 600 ms each, and main waits for all five. How long does main wait?",
        choices: &["The sum of the five", "As long as the slowest", "As long as the fastest"],
        answer: 1,
    }],
};

pub async fn run(mut ctx: Ctx) {
    let flow = Flow::new(&ctx);
    let p: BasicsParams = ctx.params.get();
    let (tasks, items, buffer) = (p.tasks.max(1), p.items.max(1), p.buffer.max(1));
    layout(&flow, tasks);
    let (tx, rx) = flow.pipe(BUFFER, "buffer", (PRODUCER, CONSUMER), buffer);

    // Every task's work, drawn here in order so a seed repeats the run.
    let work: Vec<Duration> = (0..tasks)
        .map(|_| Duration::from_millis(ctx.rng.random_range(TASK_MS.0..=TASK_MS.1)))
        .collect();
    let producer = produce(
        flow.clone(),
        tx,
        items,
        ctx.params.clone(),
        ctx.clock.clone(),
        ctx.token.clone(),
    );
    let producer = ctx.tracker.spawn(producer);
    tokio::join!(
        spawn_and_wait(&ctx, &flow, work),
        consume(&ctx, &flow, rx),
        async {
            let _ = producer.await;
        },
    );
}

fn layout(flow: &Flow, tasks: u32) {
    let stage = |id, label: &str, role, workers, column, row, about: &str| {
        flow.stage(StageSpec {
            id,
            label: label.to_owned(),
            role,
            workers,
            column,
            row,
            about: Some(about.to_owned()),
        });
    };
    stage(
        MAIN,
        "main",
        StageRole::Source,
        0,
        0,
        0,
        "spawns every task at once",
    );
    stage(
        TASKS,
        "spawned tasks",
        StageRole::Worker,
        tasks,
        1,
        0,
        "one task each, in a JoinSet",
    );
    stage(
        WAIT,
        "main: wait for all",
        StageRole::Sink,
        0,
        2,
        0,
        "joins each task as it finishes",
    );
    stage(
        PRODUCER,
        "producer",
        StageRole::Source,
        0,
        0,
        1,
        "sends, then closes the channel",
    );
    stage(
        CONSUMER,
        "consumer",
        StageRole::Worker,
        1,
        1,
        1,
        "takes until the channel is closed",
    );
}

/// Lane one: spawn every task, then join them one by one as they finish.
async fn spawn_and_wait(ctx: &Ctx, flow: &Flow, work: Vec<Duration>) {
    let all = work.len() as f64;
    let mut tasks = JoinSet::new();
    for (slot, took) in work.into_iter().enumerate() {
        let item = flow.make(MAIN, format!("task {}", slot + 1), None, ());
        flow.take(item.id, TASKS, slot as u32);
        let (clock, token) = (ctx.clock.clone(), ctx.token.clone());
        let task = async move {
            tokio::select! {
                biased;
                () = token.cancelled() => None,
                () = clock.sleep(took) => Some(item.id),
            }
        };
        tasks.spawn(ctx.tracker.track_future(task));
    }
    let gauge = |finished: f64| Event::Flow(FlowEvent::Gauge {
        stage: WAIT,
        value: finished,
        max: all,
        label: "tasks finished".to_owned(),
    });
    ctx.sink.emit(gauge(0.0));
    let mut finished = 0.0;
    // A cancelled task comes back at once with nothing; its item is
    // recorded as cancelled by the run.
    while let Some(joined) = tasks.join_next().await {
        if let Ok(Some(item)) = joined {
            finished += 1.0;
            ctx.sink.record(|r| {
                r.emit(FlowEvent::ItemEnded {
                    item,
                    end: ItemEnd::Delivered { stage: WAIT },
                });
                r.emit(gauge(finished));
            });
        }
    }
    if !ctx.token.is_cancelled() {
        ctx.sink.emit(FlowEvent::StageStopped { stage: TASKS });
    }
}

/// Lane two's producer: an item every interval, each sent into the buffer
/// (waiting while it is full), then the channel closed.
async fn produce(
    flow: Arc<Flow>,
    tx: Pipe<()>,
    items: u32,
    params: Settings,
    clock: Clock,
    token: CancellationToken,
) {
    let make = |n| flow.make(PRODUCER, format!("item {n}"), None, ());
    let interval = || params.get::<BasicsParams>().interval_ms;
    feed(tx, PRODUCER, items.into(), make, interval, &clock, &token).await;
}

/// Lane two's consumer: takes items until the channel is closed and empty.
async fn consume(ctx: &Ctx, flow: &Flow, rx: PipeRx<()>) {
    while let Some(item) = rx.recv(CONSUMER, 0, &ctx.token).await {
        let took = ctx.params.get::<BasicsParams>().consume_ms;
        tokio::select! {
            biased;
            () = ctx.token.cancelled() => return,
            () = ctx.clock.sleep(took) => {}
        }
        flow.end(item.id, ItemEnd::Delivered { stage: CONSUMER });
    }
    if !ctx.token.is_cancelled() {
        flow.sink().emit(FlowEvent::StageStopped { stage: CONSUMER });
    }
}

#[cfg(test)]
mod tests {
    use super::{BUFFER, CONSUMER, PRODUCER, TASK_MS, TASKS, WAIT};
    use crate::engines::trial::{self, Driven, Trial};
    use shared::{Command, Event, FlowEvent, ItemEnd, ItemId, PatternId};

    /// The items delivered at `stage`, in order, with when.
    fn delivered(t: &Trial, stage: u32) -> Vec<(ItemId, u64)> {
        t.events
            .iter()
            .filter_map(|e| match &e.event {
                Event::Flow(FlowEvent::ItemEnded {
                    item,
                    end: ItemEnd::Delivered { stage: s },
                }) if *s == stage => Some((*item, e.at_ms)),
                _ => None,
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn every_task_runs_at_once_and_main_waits_for_the_slowest() {
        let mut d = Driven::start(PatternId::Basics, &[], 42).await;
        d.until(50).await;
        let flow = d.folded.flow().expect("a flow run");
        let tasks = flow.stage(TASKS).expect("the tasks");
        assert_eq!(tasks.workers.len(), 5);
        assert!(
            tasks.workers.iter().all(|w| w.item.is_some()),
            "all five busy at once: {:?}",
            tasks.workers
        );
        let gauge = flow
            .stage(WAIT)
            .and_then(|s| s.gauge.clone())
            .expect("a gauge");
        assert_eq!((gauge.value, gauge.max), (0.0, 5.0));

        d.finish().await;
        let t = Trial {
            events: d.events,
            end: d.folded,
        };
        let joined = delivered(&t, WAIT);
        let mut ids: Vec<_> = joined.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        assert_eq!(ids, [0, 1, 2, 3, 4], "every task joined once");
        // Each is joined when it finishes: within the work range, and all
        // of them by the time the slowest is done, not after the sum.
        assert!(
            joined
                .iter()
                .all(|(_, at)| (TASK_MS.0..=TASK_MS.1).contains(at))
        );
        // Joined in the order they finish, not the order they were spawned.
        let order: Vec<_> = joined.iter().map(|(id, _)| *id).collect();
        assert_eq!(order, [4, 3, 0, 1, 2], "{joined:?}");
        // Main is done waiting when the slowest task is, at 418 ms: far
        // less than the 1572 ms the five take one after another.
        assert_eq!(joined.last().map(|j| j.1), Some(418));
        let flow = t.end.flow().expect("a flow run");
        let gauge = flow
            .stage(WAIT)
            .and_then(|s| s.gauge.clone())
            .expect("a gauge");
        assert_eq!((gauge.value, gauge.max), (5.0, 5.0));
        assert_eq!(flow.stage(WAIT).map(|s| s.ends.delivered), Some(5));
        assert!(flow.stage(TASKS).is_some_and(|s| s.stopped));
    }

    #[tokio::test(start_paused = true)]
    async fn twenty_tasks_are_twenty_busy_workers() {
        let mut d = Driven::start(PatternId::Basics, &[("tasks", 20.0)], 3).await;
        d.until(99).await;
        let flow = d.folded.flow().expect("a flow run");
        let busy = flow
            .stage(TASKS)
            .map(|s| s.workers.iter().filter(|w| w.item.is_some()).count());
        assert_eq!(busy, Some(20));
        d.finish().await;
        let gauge = d.folded.flow().and_then(|f| f.stage(WAIT)?.gauge.clone());
        assert_eq!(gauge.map(|g| (g.value, g.max)), Some((20.0, 20.0)));
    }

    /// Replays the buffer's fill and checks, at every send, that the
    /// producer blocked exactly when all slots were taken. Returns how
    /// many sends blocked.
    fn blocks_only_when_full(t: &Trial, capacity: usize) -> usize {
        let mut held = 0;
        let mut blocked = 0;
        let mut waiting = None;
        for e in &t.events {
            match e.event {
                Event::Flow(FlowEvent::ItemBlocked { item, channel }) if channel == BUFFER => {
                    assert_eq!(held, capacity, "item {item} blocked with a free slot");
                    waiting = Some(item);
                    blocked += 1;
                }
                Event::Flow(FlowEvent::ItemQueued { item, channel }) if channel == BUFFER => {
                    if waiting != Some(item) {
                        assert!(held < capacity, "item {item} queued into a full buffer");
                    }
                    waiting = None;
                    held += 1;
                }
                Event::Flow(FlowEvent::ItemTaken { stage, .. }) if stage == CONSUMER => held -= 1,
                _ => {}
            }
        }
        blocked
    }

    #[tokio::test(start_paused = true)]
    async fn the_producer_blocks_exactly_when_the_buffer_is_full() {
        let t = trial::run(PatternId::Basics, &[], 42).await;
        assert_eq!(blocks_only_when_full(&t, 3), 4);
        // An item every 100 ms against 250 ms each: the buffer is full at
        // 400 ms, and from item 7 on each new item finds it full and waits
        // for the consumer's next take, which comes every 250 ms.
        let blocked: Vec<_> = t
            .events
            .iter()
            .filter_map(|e| match &e.event {
                Event::Flow(FlowEvent::ItemBlocked { .. }) => Some(e.at_ms),
                _ => None,
            })
            .collect();
        assert_eq!(blocked, [600, 850, 1_100, 1_350]);
        let got: Vec<_> = delivered(&t, CONSUMER).iter().map(|(i, _)| *i).collect();
        let made: Vec<_> = t.pick(|e| match e {
            Event::Flow(FlowEvent::ItemMade { item, stage }) if *stage == PRODUCER => Some(item.id),
            _ => None,
        });
        assert_eq!(made.len(), 10);
        assert_eq!(got, made, "every item delivered once, in order");
        // One consumer at 250 ms each: the last is done 10 x 250 ms after
        // the first arrived.
        assert_eq!(delivered(&t, CONSUMER).last().map(|d| d.1), Some(2_500));
        let c = t.end.counters;
        assert_eq!((c.submitted, c.completed, c.in_flight), (15, 15, 0));
        let ch = t
            .end
            .flow()
            .and_then(|f| f.channel(BUFFER))
            .expect("buffer");
        assert!(ch.closed);
    }

    #[tokio::test(start_paused = true)]
    async fn a_consumer_faster_than_the_producer_never_fills_the_buffer() {
        let t = trial::run(PatternId::Basics, &[("consume_ms", 90.0)], 42).await;
        assert_eq!(blocks_only_when_full(&t, 3), 0);
        let sent = t.end.flow().and_then(|f| f.channel(BUFFER)).map(|c| c.sent);
        assert_eq!(sent, Some(10));
    }

    #[tokio::test(start_paused = true)]
    async fn a_live_change_of_pace_applies_to_the_next_item() {
        let mut d = Driven::start(PatternId::Basics, &[("buffer", 10.0)], 1).await;
        d.until(150).await;
        let params = [("interval_ms".to_owned(), 500.0)].into();
        d.command(Command::SetParams { params })
            .await
            .expect("live");
        d.finish().await;
        let made: Vec<u64> = d
            .events
            .iter()
            .filter_map(|e| match &e.event {
                Event::Flow(FlowEvent::ItemMade { stage, .. }) if *stage == PRODUCER => Some(e.at_ms),
                _ => None,
            })
            .collect();
        // Items at 0 and 100; the one after 100 was already waiting with
        // the old pace (200), then every 500 ms.
        assert_eq!(made[..4], [0, 100, 200, 700]);
    }

    #[tokio::test(start_paused = true)]
    async fn stop_mid_run_leaves_nothing_alive() {
        let mut d = Driven::start(PatternId::Basics, &[], 42).await;
        d.until(450).await;
        d.stop_flow().await;
    }
}

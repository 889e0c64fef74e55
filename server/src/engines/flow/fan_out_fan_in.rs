//! Fan-out, fan-in: several workers share one input channel, and a merge
//! joins their outputs back into one.
//!
//! Fan-out needs no dispatcher: whichever worker is free takes the next
//! item, so a slow item holds up one worker while the others carry on.
//! Fan-in is a merge written by hand: one forwarding task per input, all
//! sending into one output, which is closed only once every input has
//! closed.

use super::pipe::{Flow, Pipe, PipeRx, Sent, feed};
use crate::engines::{About, Prompt, Ctx};
use crate::clock::Clock;
use rand::Rng;
use shared::pattern::fan_out_fan_in::FanOutFanInParams;
use shared::{ChannelId, FlowEvent, ItemEnd, StageId, StageRole, StageSpec};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

const SOURCE: StageId = 0;
/// The channel every worker reads.
const JOBS: ChannelId = 0;
/// Slots in the shared input channel.
const JOBS_SLOTS: u32 = 4;

/// Where the parts of a layout with `workers` workers are: worker `w`
/// (from 0) is stage `1 + w` and writes to channel `1 + w`; the merge and
/// the sink come after them.
#[derive(Debug, Clone, Copy)]
struct Layout {
    workers: u32,
}

impl Layout {
    fn worker(self, w: u32) -> StageId {
        1 + w
    }

    fn output(self, w: u32) -> ChannelId {
        1 + w
    }

    fn merge(self) -> StageId {
        1 + self.workers
    }

    fn merged(self) -> ChannelId {
        1 + self.workers
    }

    fn sink(self) -> StageId {
        2 + self.workers
    }
}

pub const ABOUT: About = About {
    title: "Fan-out, fan-in",
    summary: "A source sends twenty items, one every 100 ms, into one channel that three \
                  workers read: whichever is free takes the next (fan-out). Each works 200 to \
                  600 ms and writes to its own output; a merge forwards all three outputs \
                  into one channel (fan-in) and closes it once all three have closed.",
    try_this: "Follow an item: which worker took it shows where it goes next. Three \
                   workers at 400 ms each keep up with an item every 133 ms, not every 100: \
                   watch the input fill and the source wait. Make the work 100 ms: now the \
                   workers wait for items and the input stays empty. Try six workers.",
    questions: &[Prompt {
        at_ms: 900,
        text: "Three workers need about 400 ms an item; an item comes every 100 ms. What happens to the jobs channel?",
        choices: &["It stays empty", "It fills up and the source waits", "Items are dropped"],
        answer: 1,
    }],
};

pub async fn run(mut ctx: Ctx) {
    let flow = Flow::new(&ctx);
    let p: FanOutFanInParams = ctx.params.get();
    let layout = Layout {
        workers: p.workers.max(1),
    };
    let items = p.items.max(1);
    declare(&flow, layout);

    let (jobs, shared) = flow.pipe(JOBS, "jobs", (SOURCE, layout.worker(0)), JOBS_SLOTS);
    let mut outputs = Vec::new();
    for w in 0..layout.workers {
        let stage = layout.worker(w);
        let label = format!("out {}", w + 1);
        let (out, merge_in) = flow.pipe(layout.output(w), label, (stage, layout.merge()), 1);
        let worker = work(
            stage,
            shared.clone(),
            out,
            ctx.clock.clone(),
            ctx.token.clone(),
        );
        ctx.tracker.spawn(worker);
        outputs.push(merge_in);
    }
    drop(shared);
    let (merged, sink_in) = flow.pipe(
        layout.merged(),
        "merged",
        (layout.merge(), layout.sink()),
        1,
    );
    ctx.tracker
        .spawn(merge(flow.clone(), layout, outputs, merged, &ctx));
    let sink = ctx.tracker.spawn(collect(
        flow.clone(),
        layout.sink(),
        sink_in,
        ctx.token.clone(),
    ));

    // The source, in the engine's own task so its random draws come in order.
    let (params, rng) = (&ctx.params, &mut ctx.rng);
    let make = |n| {
        let ms = params.get::<FanOutFanInParams>().work_ms;
        let work = Duration::from_millis(rng.random_range(ms - ms / 2..=ms + ms / 2));
        flow.make(SOURCE, format!("#{n}"), None, work)
    };
    let (items, clock, token) = (items.into(), &ctx.clock, &ctx.token);
    let interval = || params.get::<FanOutFanInParams>().interval_ms;
    feed(jobs, SOURCE, items, make, interval, clock, token).await;
    if ctx.token.is_cancelled() {
        return;
    }
    let _ = sink.await;
}

fn declare(flow: &Flow, layout: Layout) {
    let middle = (layout.workers - 1) / 2;
    let stage = |id, label: String, role, workers, column, row, about: &str| {
        flow.stage(StageSpec {
            id,
            label,
            role,
            workers,
            column,
            row,
            about: Some(about.to_owned()),
        });
    };
    stage(
        SOURCE,
        "source".to_owned(),
        StageRole::Source,
        0,
        0,
        middle,
        "one channel for every worker",
    );
    for w in 0..layout.workers {
        stage(
            layout.worker(w),
            format!("worker {}", w + 1),
            StageRole::Worker,
            1,
            1,
            w,
            "takes the next item when free",
        );
    }
    stage(
        layout.merge(),
        "merge".to_owned(),
        StageRole::Merge,
        layout.workers,
        2,
        middle,
        "one forwarder per input",
    );
    stage(
        layout.sink(),
        "sink".to_owned(),
        StageRole::Sink,
        1,
        3,
        middle,
        "reads the merged channel",
    );
}

/// One worker: takes items from the shared channel, works on each, sends
/// it on its own output, and closes that output when the input is done.
async fn work(
    stage: StageId,
    input: PipeRx<Duration>,
    output: Pipe<Duration>,
    clock: Clock,
    token: CancellationToken,
) {
    while let Some(item) = input.recv(stage, 0, &token).await {
        tokio::select! {
            biased;
            () = token.cancelled() => return,
            () = clock.sleep(item.value) => {}
        }
        if !matches!(output.send(item, &token).await, Sent::Queued) {
            return;
        }
    }
    if !token.is_cancelled() {
        output.close();
    }
}

/// The fan-in: starts a forwarder per input, each sending into `output`,
/// and returns the task that closes `output` once all of them are done
/// (every input closed).
fn merge(
    flow: Arc<Flow>,
    layout: Layout,
    inputs: Vec<PipeRx<Duration>>,
    output: Pipe<Duration>,
    ctx: &Ctx,
) -> impl Future<Output = ()> + Send + 'static {
    let forwarders = TaskTracker::new();
    for (i, input) in inputs.into_iter().enumerate() {
        let (output, token) = (output.clone(), ctx.token.clone());
        let stage = layout.merge();
        let forward = async move {
            while let Some(item) = input.recv(stage, i as u32, &token).await {
                if !matches!(output.send(item, &token).await, Sent::Queued) {
                    return;
                }
            }
        };
        ctx.tracker.spawn(forwarders.track_future(forward));
    }
    forwarders.close();
    let token = ctx.token.clone();
    async move {
        forwarders.wait().await;
        if !token.is_cancelled() {
            // The forwarders' clones are gone: this closes the channel.
            output.close();
            flow.sink().emit(FlowEvent::StageStopped {
                stage: layout.merge(),
            });
        }
    }
}

/// The sink: every item that comes out of the merge is delivered.
async fn collect(
    flow: Arc<Flow>,
    stage: StageId,
    input: PipeRx<Duration>,
    token: CancellationToken,
) {
    while let Some(item) = input.recv(stage, 0, &token).await {
        flow.end(item.id, ItemEnd::Delivered { stage });
    }
}

#[cfg(test)]
mod tests {
    use super::{JOBS, Layout, SOURCE};
    use crate::engines::trial::{self, Driven, Trial};
    use shared::{Event, FlowEvent, ItemEnd, ItemId, PatternId};
    use std::collections::BTreeMap;

    /// For each item, the worker stage that took it.
    fn taken_by(t: &Trial, layout: Layout) -> BTreeMap<ItemId, u32> {
        let workers = layout.worker(0)..=layout.worker(layout.workers - 1);
        let mut by = BTreeMap::new();
        for e in &t.events {
            if let Event::Flow(FlowEvent::ItemTaken { item, stage, .. }) = e.event
                && workers.contains(&stage)
            {
                assert!(by.insert(item, stage).is_none(), "item {item} taken twice");
            }
        }
        by
    }

    fn check_delivered_once(t: &Trial, layout: Layout, items: u64) {
        let mut ends: BTreeMap<ItemId, usize> = BTreeMap::new();
        for e in &t.events {
            if let Event::Flow(FlowEvent::ItemEnded { item, end }) = &e.event {
                assert_eq!(
                    *end,
                    ItemEnd::Delivered {
                        stage: layout.sink()
                    }
                );
                *ends.entry(*item).or_default() += 1;
            }
        }
        assert_eq!(ends.len() as u64, items);
        assert!(ends.values().all(|&n| n == 1));
        let c = t.end.counters;
        assert_eq!((c.submitted, c.completed, c.in_flight), (items, items, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn every_item_is_delivered_once_and_every_worker_takes_some() {
        let layout = Layout { workers: 3 };
        let t = trial::run(PatternId::FanOutFanIn, &[], 42).await;
        check_delivered_once(&t, layout, 20);
        let by = taken_by(&t, layout);
        assert_eq!(by.len(), 20);
        let flow = t.end.flow().expect("a flow run");
        let mut total = 0;
        for w in 0..3 {
            let took = flow.stage(layout.worker(w)).map(|s| s.workers[0].done);
            assert!(took.is_some_and(|n| n > 0), "worker {w} took {took:?}");
            total += took.unwrap_or_default();
        }
        assert_eq!(total, 20);
        // Each item leaves on the output of the worker that took it.
        for e in &t.events {
            if let Event::Flow(FlowEvent::ItemQueued { item, channel }) = e.event
                && (1..=3).contains(&channel)
            {
                assert_eq!(by.get(&item).copied(), Some(channel), "item {item}");
            }
        }
        let merge = flow.stage(layout.merge()).expect("the merge");
        assert_eq!(merge.workers.iter().map(|w| w.done).sum::<u64>(), 20);
        // Three workers at 400 ms on average keep up with one item every
        // 133 ms: the input fills and the source waits.
        let blocked =
            t.pick(|e| matches!(e, Event::Flow(FlowEvent::ItemBlocked { channel: JOBS, .. })).then_some(()));
        assert!(!blocked.is_empty());
        assert!(flow.stage(SOURCE).is_some_and(|s| s.stopped));
    }

    #[tokio::test(start_paused = true)]
    async fn the_merge_closes_its_output_only_after_every_input_closed() {
        let layout = Layout { workers: 3 };
        let t = trial::run(PatternId::FanOutFanIn, &[], 7).await;
        let seq_of = |pred: &dyn Fn(&Event) -> bool| {
            t.events
                .iter()
                .filter(|e| pred(&e.event))
                .map(|e| e.seq)
                .collect::<Vec<_>>()
        };
        let merged = seq_of(
            &|e| matches!(e, Event::Flow(FlowEvent::ChannelClosed { channel }) if *channel == layout.merged()),
        );
        assert_eq!(merged.len(), 1);
        for w in 0..3 {
            let out = seq_of(
                &|e| matches!(e, Event::Flow(FlowEvent::ChannelClosed { channel }) if *channel == layout.output(w)),
            );
            assert_eq!(out.len(), 1);
            assert!(out[0] < merged[0], "output {w} closed after the merge's");
        }
        let into_merged = seq_of(
            &|e| matches!(e, Event::Flow(FlowEvent::ItemQueued { channel, .. }) if *channel == layout.merged()),
        );
        assert_eq!(into_merged.len(), 20);
        assert!(into_merged.iter().all(|&s| s < merged[0]));
        let jobs_closed = seq_of(&|e| matches!(e, Event::Flow(FlowEvent::ChannelClosed { channel: JOBS })));
        assert!(jobs_closed[0] < merged[0]);
    }

    #[tokio::test(start_paused = true)]
    async fn six_workers_all_get_work_and_nothing_is_lost() {
        let layout = Layout { workers: 6 };
        let t = trial::run(
            PatternId::FanOutFanIn,
            &[("workers", 6.0), ("items", 40.0), ("interval_ms", 50.0)],
            3,
        )
        .await;
        check_delivered_once(&t, layout, 40);
        let flow = t.end.flow().expect("a flow run");
        assert_eq!(flow.stages.len(), 9);
        assert_eq!(flow.channels.len(), 8);
        for w in 0..6 {
            let took = flow.stage(layout.worker(w)).map(|s| s.workers[0].done);
            assert!(took.is_some_and(|n| n > 0), "worker {w} took {took:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn stop_mid_run_leaves_nothing_alive() {
        let mut d = Driven::start(PatternId::FanOutFanIn, &[], 42).await;
        d.until(900).await;
        d.stop_flow().await;
    }
}

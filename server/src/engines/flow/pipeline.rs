//! Pipeline: the seed's log pipeline, where stages joined by buffered
//! channels each do one job and pass the entry on.
//!
//! Log sources feed one channel, a filter keeps the levels that matter, a
//! pool of workers enriches what is left and the outputs write it. Each stage
//! closes its output once its input is closed and empty, so the end ripples
//! down the line; a slow stage fills the channels before it and its senders
//! wait (backpressure). A drain stops the sources and lets everything
//! accepted flow out; a stop ends every stage at once.

use super::pipe::{Flow, Pipe, PipeRx, Sent, Tracked};
use crate::engines::{About, Prompt, Ctx, Order, OrderError, Settings};
use crate::clock::Clock;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shared::pattern::pipeline::PipelineParams;
use shared::{ChannelId, Command, FlowEvent, ItemEnd, StageId, StageRole, StageSpec};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

const SOURCES: StageId = 0;
const FILTER: StageId = 1;
const ENRICH: StageId = 2;
const OUTPUTS: StageId = 3;

/// Sources to filter.
const ENTRIES: ChannelId = 0;
/// Filter to enrich pool.
const KEPT: ChannelId = 1;
/// Enrich pool to outputs.
const ENRICHED: ChannelId = 2;

/// A log level, least severe first, so a filter compares with `>=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Debug,
    Info,
    Warn,
    Error,
}

/// The levels with how often a source logs each, in percent.
const LEVELS: [(Level, u32); 4] = [
    (Level::Debug, 30),
    (Level::Info, 40),
    (Level::Warn, 20),
    (Level::Error, 10),
];

/// Where the outputs write, in order; the `outputs` parameter takes the
/// first ones.
const OUTPUT_NAMES: [&str; 4] = ["stdout", "file", "socket", "syslog"];

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Error => "ERROR",
        }
    }

    /// The level the `min_level` choice stands for.
    fn chosen(params: PipelineParams) -> Level {
        LEVELS[params.min_level.min(LEVELS.len() - 1)].0
    }

    fn draw(rng: &mut StdRng) -> Level {
        let mut roll = rng.random_range(0..100);
        for (level, pct) in LEVELS {
            if roll < pct {
                return level;
            }
            roll -= pct;
        }
        Level::Error
    }
}

/// A log entry on its way through: the level is all the filter needs.
#[derive(Debug)]
struct Entry {
    level: Level,
}

pub const ABOUT: About = About {
    title: "Pipeline",
    summary: "Three log sources write an entry every 200 ms into one channel; a filter \
                  keeps WARN and ERROR, a pool of three workers enriches each kept entry in \
                  300 ms, and two outputs (stdout, file) write it. Every channel holds five \
                  entries, and each stage closes its output when its input is closed and \
                  empty, so the end ripples from the sources to the outputs.",
    try_this: "Set the minimum level to debug: everything passes, the enrich pool falls \
                   behind, the channel before it fills and the filter, then the sources, \
                   wait (backpressure). Press Drain mid-run: the sources stop, and every \
                   entry already made still reaches its end. Press Stop instead: every \
                   stage quits at once and what was in flight is cancelled.",
    questions: &[Prompt {
        at_ms: 1000,
        text: "The filter keeps WARN and ERROR. What happens to a DEBUG entry?",
        choices: &["It is enriched and written", "It is filtered out before the enrich pool", "It waits until the pipeline drains"],
        answer: 1,
    }],
};

/// What every stage's task works with.
#[derive(Debug, Clone)]
struct Env {
    flow: Arc<Flow>,
    clock: Clock,
    /// The run's token: a stop ends every stage's loop at once.
    token: CancellationToken,
    params: Settings,
    tracker: TaskTracker,
}

impl Env {
    fn params(&self) -> PipelineParams {
        self.params.get()
    }

    /// Simulated work for as long as `took` says; false if the run was
    /// stopped first.
    async fn work(&self, took: fn(PipelineParams) -> Duration) -> bool {
        let d = took(self.params());
        tokio::select! {
            biased;
            () = self.token.cancelled() => false,
            () = self.clock.sleep(d) => true,
        }
    }

    /// Spawns `n` workers of one stage and returns a tracker (closed) that
    /// tells when all of them have stopped.
    fn crew<F>(&self, n: u32, worker: impl Fn(u32) -> F) -> TaskTracker
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let crew = TaskTracker::new();
        for w in 0..n {
            self.tracker.spawn(crew.track_future(worker(w)));
        }
        crew.close();
        crew
    }

    /// Passes an entry on, waiting for a slot. False if it did not get in:
    /// the run was stopped (the entry is left for the run to cancel), or,
    /// which the stages' order rules out, no one reads the channel.
    async fn pass(&self, pipe: &Pipe<Entry>, entry: Tracked<Entry>, stage: StageId) -> bool {
        match pipe.send(entry, &self.token).await {
            Sent::Queued => true,
            Sent::Cancelled(_) => false,
            Sent::Closed(entry) => {
                self.flow.end(
                    entry.id,
                    ItemEnd::Dropped {
                        stage,
                        channel: Some(pipe.id()),
                        why: "no one reads".to_owned(),
                    },
                );
                false
            }
        }
    }

    /// Ends a stage's part: on a clean end it closes its output, so the
    /// next stage finishes what is buffered and stops in turn; on a stop
    /// nothing more moves and the channel stays as it was.
    fn finish(&self, stage: StageId, output: Option<Pipe<Entry>>) {
        if !self.token.is_cancelled()
            && let Some(output) = output
        {
            output.close();
        }
        self.flow.sink().emit(FlowEvent::StageStopped { stage });
    }
}

pub async fn run(mut ctx: Ctx) {
    let p: PipelineParams = ctx.params.get();
    let (sources, workers, outputs, buffer) = (
        p.sources.max(1),
        p.workers.max(1),
        p.outputs.clamp(1, OUTPUT_NAMES.len() as u32),
        p.buffer.max(1),
    );
    let logs = match p.logs {
        0 => None,
        n => Some(n),
    };

    let flow = Flow::new(&ctx);
    let outputs_about = OUTPUT_NAMES[..outputs as usize].join(", ");
    let weights = LEVELS
        .iter()
        .map(|(level, pct)| format!("{} {pct} %", level.name()))
        .collect::<Vec<_>>()
        .join(", ");
    let stages = [
        (SOURCES, "sources", StageRole::Source, sources, weights),
        (
            FILTER,
            "filter",
            StageRole::Filter,
            1,
            "keeps the minimum level and above".to_owned(),
        ),
        (
            ENRICH,
            "enrich",
            StageRole::Worker,
            workers,
            "adds metadata".to_owned(),
        ),
        (OUTPUTS, "outputs", StageRole::Sink, outputs, outputs_about),
    ];
    for (id, label, role, workers, about) in stages {
        flow.stage(StageSpec {
            id,
            label: label.to_owned(),
            role,
            workers,
            column: id,
            row: 0,
            about: Some(about),
        });
    }
    let (entries, entries_rx) = flow.pipe(ENTRIES, "entries", (SOURCES, FILTER), buffer);
    let (kept, kept_rx) = flow.pipe(KEPT, "kept", (FILTER, ENRICH), buffer);
    let (enriched, enriched_rx) = flow.pipe(ENRICHED, "enriched", (ENRICH, OUTPUTS), buffer);

    let env = Env {
        flow,
        clock: ctx.clock.clone(),
        token: ctx.token.clone(),
        params: ctx.params.clone(),
        tracker: ctx.tracker.clone(),
    };
    // Told to stop making entries; what was made still flows out.
    let drain = CancellationToken::new();
    // Each source draws its levels from its own generator, seeded here in
    // order, so a seed repeats every source's entries however the sources'
    // tasks interleave.
    let seeds: Vec<u64> = (0..sources).map(|_| ctx.rng.random()).collect();
    let makers = env.crew(sources, |s| {
        let rng = StdRng::seed_from_u64(seeds[s as usize]);
        source(env.clone(), s, rng, entries.clone(), logs, drain.clone())
    });

    let stages = TaskTracker::new();
    let t = &env.tracker;
    t.spawn(stages.track_future(close_sources(env.clone(), makers.clone(), entries)));
    t.spawn(stages.track_future(filter(env.clone(), entries_rx, kept)));
    t.spawn(stages.track_future(enrich(env.clone(), workers, kept_rx, enriched)));
    t.spawn(stages.track_future(write(env.clone(), outputs, enriched_rx)));
    stages.close();

    loop {
        tokio::select! {
            biased;
            () = ctx.token.cancelled() => return,
            () = stages.wait() => return,
            Some(order) = ctx.orders.recv() => answer(&env, order, &drain, &makers),
        }
    }
}

/// The pipeline's one order: drain.
fn answer(env: &Env, order: Order, drain: &CancellationToken, makers: &TaskTracker) {
    let answer = match order.command {
        Command::Drain if drain.is_cancelled() => Err(OrderError::Conflict(
            "the pipeline is already draining".into(),
        )),
        Command::Drain if makers.is_empty() => Err(OrderError::Conflict(
            "the sources are done already: the pipeline is emptying by itself".into(),
        )),
        Command::Drain => {
            env.flow.sink().emit(FlowEvent::Draining);
            drain.cancel();
            Ok(())
        }
        _ => Err(OrderError::Invalid("the pipeline takes only drain".into())),
    };
    order.answer(answer);
}

/// One source: an entry every interval until it has made its share, is
/// told to drain, or the run stops. An entry it made is always sent, even
/// if a drain comes while it waits for a slot: it was accepted.
async fn source(
    env: Env,
    s: u32,
    mut rng: StdRng,
    out: Pipe<Entry>,
    logs: Option<u64>,
    drain: CancellationToken,
) {
    let mut made = 0;
    loop {
        let level = Level::draw(&mut rng);
        let label = |id| format!("{} #{id}", level.name());
        let tag = Some(level.name().to_owned());
        let entry = env.flow.make_labelled(SOURCES, label, tag, Entry { level });
        env.flow.take(entry.id, SOURCES, s);
        if !env.pass(&out, entry, SOURCES).await {
            return;
        }
        made += 1;
        if logs.is_some_and(|n| made >= n) {
            return;
        }
        let pause = env.params().interval_ms;
        tokio::select! {
            biased;
            () = env.token.cancelled() => return,
            () = drain.cancelled() => return,
            () = env.clock.sleep(pause) => {}
        }
    }
}

/// The sources' stage ends when the last source does: then it closes the
/// channel they shared.
async fn close_sources(env: Env, makers: TaskTracker, entries: Pipe<Entry>) {
    tokio::select! {
        biased;
        () = env.token.cancelled() => {}
        () = makers.wait() => {}
    }
    env.finish(SOURCES, Some(entries));
}

/// The filter keeps entries at or above the minimum level (read for each
/// entry, so a change applies to the next one) and passes them on.
async fn filter(env: Env, input: PipeRx<Entry>, out: Pipe<Entry>) {
    while let Some(entry) = input.recv(FILTER, 0, &env.token).await {
        let min = Level::chosen(env.params());
        if entry.value.level < min {
            let why = format!("below {}", min.name());
            env.flow
                .end(entry.id, ItemEnd::Filtered { stage: FILTER, why });
        } else if !env.pass(&out, entry, FILTER).await {
            break;
        }
    }
    env.finish(FILTER, Some(out));
}

/// The enrich pool: several workers read the same channel (fan-out) and
/// write to the same next one (fan-in). The stage closes its output when
/// the last worker has stopped.
async fn enrich(env: Env, workers: u32, input: PipeRx<Entry>, out: Pipe<Entry>) {
    let crew = env.crew(workers, |w| {
        let (env, input, out) = (env.clone(), input.clone(), out.clone());
        async move {
            while let Some(entry) = input.recv(ENRICH, w, &env.token).await {
                if !env.work(|p| p.enrich_ms).await || !env.pass(&out, entry, ENRICH).await {
                    return;
                }
            }
        }
    });
    crew.wait().await;
    env.finish(ENRICH, Some(out));
}

/// The outputs: each reads the last channel and writes what it takes.
async fn write(env: Env, outputs: u32, input: PipeRx<Entry>) {
    let crew = env.crew(outputs, |o| {
        let (env, input) = (env.clone(), input.clone());
        async move {
            while let Some(entry) = input.recv(OUTPUTS, o, &env.token).await {
                if !env.work(|p| p.output_ms).await {
                    return;
                }
                env.flow
                    .end(entry.id, ItemEnd::Delivered { stage: OUTPUTS });
            }
        }
    });
    crew.wait().await;
    env.finish(OUTPUTS, None);
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{Event, PatternId};
    use crate::engines::trial::{self, Driven, Trial};
    use crate::run::CommandError;
    use shared::{Envelope, FlowEvent, RunStatus};
    use std::collections::{BTreeMap, BTreeSet};

    /// Every entry made, by id, with its level.
    fn made(events: &[Envelope]) -> BTreeMap<u64, String> {
        events
            .iter()
            .filter_map(|e| match &e.event {
                Event::Flow(FlowEvent::ItemMade { item, .. }) => Some((item.id, item.tag.clone()?)),
                _ => None,
            })
            .collect()
    }

    /// Every end, in order, with its item.
    fn ends(events: &[Envelope]) -> Vec<(u64, ItemEnd)> {
        events
            .iter()
            .filter_map(|e| match &e.event {
                Event::Flow(FlowEvent::ItemEnded { item, end }) => Some((*item, end.clone())),
                _ => None,
            })
            .collect()
    }

    fn delivered(events: &[Envelope]) -> Vec<u64> {
        ends(events)
            .into_iter()
            .filter(|(_, end)| matches!(end, ItemEnd::Delivered { stage: OUTPUTS }))
            .map(|(id, _)| id)
            .collect()
    }

    fn severity(tag: &str) -> usize {
        LEVELS
            .iter()
            .position(|(l, _)| l.name() == tag)
            .expect("a level")
    }

    /// Checks the seed's promise for a finished run with minimum level
    /// `min`: what passed the filter is delivered exactly once, the rest
    /// is filtered for being below `min`, and nothing else happens.
    fn check_filtered_exactly(t: &Trial, min: usize) -> (usize, usize) {
        let made = made(&t.events);
        let delivered = delivered(&t.events);
        let unique: BTreeSet<u64> = delivered.iter().copied().collect();
        assert_eq!(unique.len(), delivered.len(), "delivered twice");
        let passing: BTreeSet<u64> = made
            .iter()
            .filter(|(_, tag)| severity(tag) >= min)
            .map(|(id, _)| *id)
            .collect();
        assert_eq!(unique, passing);
        let why = format!("below {}", LEVELS[min].0.name());
        let filtered: BTreeSet<u64> = ends(&t.events)
            .into_iter()
            .filter_map(|(id, end)| match end {
                ItemEnd::Filtered { stage, why: w } => {
                    assert_eq!((stage, w.as_str()), (FILTER, why.as_str()));
                    Some(id)
                }
                _ => None,
            })
            .collect();
        assert!(filtered.iter().all(|id| severity(&made[id]) < min));
        assert_eq!(filtered.len() + passing.len(), made.len());
        let c = t.end.counters;
        assert_eq!(
            (c.submitted, c.completed, c.dropped, c.cancelled),
            (made.len() as u64, made.len() as u64, 0, 0)
        );
        (passing.len(), filtered.len())
    }

    #[tokio::test(start_paused = true)]
    async fn what_passes_the_filter_is_delivered_once_and_the_rest_is_filtered() {
        let t = trial::run(PatternId::Pipeline, &[], 42).await;
        assert_eq!(t.end.status, RunStatus::Finished);
        // Three sources of twenty: 60 entries. WARN and ERROR are 30 % of
        // what sources log; this seed draws 27 of them.
        assert_eq!(check_filtered_exactly(&t, 2), (27, 33));
        // Each output wrote some: both read the same channel.
        let flow = t.end.flow().expect("a flow run");
        let outs = flow.stage(OUTPUTS).expect("outputs");
        let done: Vec<u64> = outs.workers.iter().map(|w| w.done).collect();
        assert_eq!(done.iter().sum::<u64>(), 27);
        assert!(done.iter().all(|d| *d > 0), "{done:?}");
        let sources = flow.stage(SOURCES).expect("sources");
        assert!(sources.workers.iter().all(|w| w.done == 20));

        let again = trial::run(PatternId::Pipeline, &[], 42).await;
        assert_eq!(again.events, t.events, "a seed repeats the run");

        let everything = trial::run(PatternId::Pipeline, &[("min_level", 0.0)], 42).await;
        assert_eq!(check_filtered_exactly(&everything, 0), (60, 0));
        let errors = trial::run(PatternId::Pipeline, &[("min_level", 3.0)], 7).await;
        assert_eq!(check_filtered_exactly(&errors, 3), (6, 54));
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_minimum_level_applies_to_the_next_entry_filtered() {
        let mut d = Driven::start(PatternId::Pipeline, &[], 42).await;
        d.until(1_000).await;
        let params = [("min_level".to_owned(), 3.0)].into_iter().collect();
        d.command(Command::SetParams { params })
            .await
            .expect("a live change");
        let changed = d.events.last().map(|e| e.seq).expect("events");
        d.finish().await;
        let made = made(&d.events);
        let after: Vec<(u64, ItemEnd)> = d
            .events
            .iter()
            .filter(|e| e.seq > changed)
            .filter_map(|e| match &e.event {
                Event::Flow(FlowEvent::ItemEnded { item, end }) => Some((*item, end.clone())),
                _ => None,
            })
            .collect();
        // Entries already past the filter still arrive; every one filtered
        // from now is judged against ERROR.
        let filtered: Vec<&ItemEnd> = after
            .iter()
            .filter(|(_, e)| matches!(e, ItemEnd::Filtered { .. }))
            .map(|(_, e)| e)
            .collect();
        assert!(!filtered.is_empty());
        assert!(filtered.iter().all(|e| matches!(
            e,
            ItemEnd::Filtered { why, .. } if why == "below ERROR"
        )));
        let warns_after = after
            .iter()
            .filter(|(id, e)| matches!(e, ItemEnd::Filtered { .. }) && made[id] == "WARN")
            .count();
        assert!(warns_after > 0, "WARN entries are now filtered out");
    }

    #[tokio::test(start_paused = true)]
    async fn a_drain_stops_the_sources_and_loses_nothing_accepted() {
        let endless = [("logs", 0.0), ("min_level", 0.0), ("enrich_ms", 600.0)];
        let mut d = Driven::start(PatternId::Pipeline, &endless, 42).await;
        d.until(1_100).await;
        let flow = d.folded.flow().expect("a flow run");
        // The pool is behind: entries wait in channels and in hands.
        assert!(flow.channel(KEPT).is_some_and(|c| c.buffer.len() == 5));
        d.command(Command::Drain).await.expect("drain");
        assert!(d.folded.flow().is_some_and(|f| f.draining));
        let again = d.command(Command::Drain).await;
        assert!(
            matches!(again, Err(CommandError::Order(OrderError::Conflict(_)))),
            "{again:?}"
        );
        d.finish().await;
        let c = d.folded.counters;
        // Six rounds of three sources, made by 1,000 ms; every one ends
        // delivered (all levels pass), none cancelled or dropped.
        assert_eq!(
            (
                c.submitted,
                c.completed,
                c.cancelled,
                c.dropped,
                c.in_flight
            ),
            (18, 18, 0, 0, 0)
        );
        assert_eq!(delivered(&d.events).len(), 18);
        let last_made = d
            .events
            .iter()
            .filter(|e| matches!(e.event, Event::Flow(FlowEvent::ItemMade { .. })))
            .map(|e| e.at_ms)
            .max();
        assert_eq!(last_made, Some(1_000));
        // 18 entries through three workers of 600 ms: six rounds, the last
        // ending at 3,600 ms; then two outputs write its three entries.
        assert_eq!(d.events.last().map(|e| e.at_ms), Some(3_800));
    }

    #[tokio::test(start_paused = true)]
    async fn a_drain_after_the_sources_are_done_is_refused() {
        let mut d = Driven::start(PatternId::Pipeline, &[("logs", 2.0)], 42).await;
        d.until(500).await;
        assert_eq!(d.folded.status, RunStatus::Running);
        let late = d.command(Command::Drain).await;
        assert!(
            matches!(&late, Err(CommandError::Order(OrderError::Conflict(m))) if m.contains("sources are done")),
            "{late:?}"
        );
        d.finish().await;
        assert!(!d.folded.flow().is_some_and(|f| f.draining));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_enrich_pool_fills_the_channels_before_it_and_senders_wait() {
        let slow = [("min_level", 0.0), ("enrich_ms", 2_000.0)];
        let mut d = Driven::start(PatternId::Pipeline, &slow, 42).await;
        d.until(3_000).await;
        let flow = d.folded.flow().expect("a flow run");
        let pool = flow.stage(ENRICH).expect("the pool");
        assert!(pool.workers.iter().all(|w| w.item.is_some()), "all busy");
        let kept = flow.channel(KEPT).expect("kept");
        let entries = flow.channel(ENTRIES).expect("entries");
        // The filter waits with an entry for the full channel after it, so
        // the channel before it fills too and every source waits.
        assert_eq!((kept.buffer.len(), kept.blocked.len()), (5, 1));
        assert_eq!((entries.buffer.len(), entries.blocked.len()), (5, 3));
        assert!(
            d.events
                .iter()
                .any(|e| matches!(e.event, Event::Flow(FlowEvent::ItemBlocked { channel: KEPT, .. }))),
            "the filter was seen blocked"
        );
        d.finish().await;
        // Waiting loses nothing: every entry arrives in the end.
        assert_eq!(delivered(&d.events).len(), 60);
        assert_eq!(d.folded.counters.dropped, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn the_end_ripples_from_the_sources_to_the_outputs() {
        let t = trial::run(PatternId::Pipeline, &[], 42).await;
        let closed: Vec<(ChannelId, u64)> = t
            .events
            .iter()
            .filter_map(|e| match e.event {
                Event::Flow(FlowEvent::ChannelClosed { channel }) => Some((channel, e.at_ms)),
                _ => None,
            })
            .collect();
        let stopped = t.pick(|e| match e {
            Event::Flow(FlowEvent::StageStopped { stage }) => Some(*stage),
            _ => None,
        });
        assert_eq!(stopped, [SOURCES, FILTER, ENRICH, OUTPUTS]);
        // The sources close their channel with their last entry (3,800
        // ms) and the filter, with nothing left to read, closes its own at
        // once; the pool closes its channel when its last entry is enriched
        // and the outputs stop when that entry is written, 100 ms later.
        assert_eq!(closed, [(ENTRIES, 3_800), (KEPT, 3_800), (ENRICHED, 4_200)]);
        let last = t.events.last().map(|e| e.at_ms);
        assert_eq!(last, Some(4_300));
        let flow = t.end.flow().expect("a flow run");
        assert!(
            flow.channels
                .iter()
                .all(|c| c.closed && c.buffer.is_empty())
        );
        assert!(flow.stages.iter().all(|s| s.stopped));
    }

    #[tokio::test(start_paused = true)]
    async fn stopping_mid_run_stops_every_stage_and_leaves_nothing_alive() {
        let busy = [("logs", 0.0), ("min_level", 0.0)];
        let mut d = Driven::start(PatternId::Pipeline, &busy, 42).await;
        d.until(1_500).await;
        assert!(d.folded.counters.in_flight > 5);
        assert!(d.stop_flow().await > 5);
        let flow = d.folded.flow().expect("a flow run");
        assert!(flow.stages.iter().all(|s| s.stopped));
        // A stop is not an end of input: no channel was closed.
        assert!(flow.channels.iter().all(|c| !c.closed));
        assert!(!d.events.iter().any(|e| matches!(
            e.event,
            Event::Flow(FlowEvent::ItemEnded {
                end: ItemEnd::Dropped { .. },
                ..
            })
        )));
    }
}

//! Tee and or-done: two small channel tools, one lane each.
//!
//! A tee copies every item of one channel to two outputs and sends both
//! copies before it takes the next item, so the slower consumer sets the
//! pace of both. An or-done wraps a channel so that a consumer's plain
//! receive loop also ends when a done signal comes, not only when the
//! channel closes: the loop needs no cancellation code of its own.

use super::pipe::{Flow, Pipe, PipeRx, Sent};
use crate::engines::{About, Prompt, Ctx, Settings};
use crate::clock::Clock;
use shared::pattern::tee::TeeParams;
use shared::{ChannelId, FlowEvent, ItemEnd, StageId, StageRole, StageSpec};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

// The tee lane, rows 0 and 1.
const SOURCE: StageId = 0;
const TEE: StageId = 1;
const A: StageId = 2;
const B: StageId = 3;
const TO_TEE: ChannelId = 0;
const TO_A: ChannelId = 1;
const TO_B: ChannelId = 2;

// The or-done lane, row 2.
const STREAM: StageId = 4;
const OR_DONE: StageId = 5;
const CONSUMER: StageId = 6;
const IN: ChannelId = 3;
const OUT: ChannelId = 4;

/// Why the or-done lane's leftovers end: once done, no one will read them.
const DONE: &str = "done: no one reads";

pub const ABOUT: About = About {
    title: "Tee and or-done",
    summary: "Top: a tee reads 20 items and sends a copy of each to consumer A (100 ms \
                  an item) and consumer B (500 ms), through two channels of two slots; it \
                  sends both copies before it reads on, so B's pace holds A back. Bottom: \
                  a consumer ranges over a channel through an or-done wrapper, and at 3 s \
                  the wrapper's done signal ends the loop; what is still upstream is \
                  dropped, since no one will read it.",
    try_this: "Watch A sit idle while the tee waits for a slot in B's full channel, and \
                   both finish at about the same time. Make B as fast as A: the copies go \
                   in lockstep. Below, see the or-done stop at 3 s while items are still \
                   queued; move done past the source's last item and the loop ends because \
                   its input closed instead.",
    questions: &[Prompt {
        at_ms: 1000,
        text: "Consumer A needs 100 ms an item, B 500 ms, and the tee sends both copies before it reads on. At what pace does A go?",
        choices: &["Its own, 100 ms an item", "B's pace", "A skips items to keep up"],
        answer: 1,
    }],
};

/// An item: only its number, which its copies share.
#[derive(Debug, Clone, Copy)]
struct Item(u32);

/// What every task of the run works with.
#[derive(Debug, Clone)]
struct Env {
    flow: Arc<Flow>,
    clock: Clock,
    /// The run's token: a stop ends every loop, and the run cancels
    /// whatever is left.
    token: CancellationToken,
    params: Settings,
}

/// How long a step takes, by the parameters as they are now (all live).
type Took = fn(TeeParams) -> Duration;

impl Env {
    /// Sleeps as long as `took` says now; false if the run stopped first
    /// (or `until`, a token that also ends the wait).
    async fn sleep(&self, took: Took, until: &CancellationToken) -> bool {
        let d = took(self.params.get());
        tokio::select! {
            biased;
            () = until.cancelled() => false,
            () = self.clock.sleep(d) => true,
        }
    }

    fn stopped(&self, stage: StageId) {
        self.flow.sink().emit(FlowEvent::StageStopped { stage });
    }

    fn drop_item(&self, id: u64, stage: StageId, channel: ChannelId) {
        let end = ItemEnd::Dropped {
            stage,
            channel: Some(channel),
            why: DONE.to_owned(),
        };
        self.flow.end(id, end);
    }
}

pub async fn run(ctx: Ctx) {
    let p: TeeParams = ctx.params.get();
    let (items, buffer, done_at) = (p.items.max(1), p.buffer.max(1), p.done_ms);

    let flow = Flow::new(&ctx);
    let each = "one item each interval";
    let layout = [
        (SOURCE, "source", StageRole::Source, (0, 0), each),
        (TEE, "tee", StageRole::Split, (1, 0), "a copy to A and to B"),
        (A, "consumer A", StageRole::Sink, (2, 0), "fast"),
        (B, "consumer B", StageRole::Sink, (2, 1), "slow"),
        (STREAM, "source", StageRole::Source, (0, 2), each),
        (
            OR_DONE,
            "or-done",
            StageRole::Worker,
            (1, 2),
            "forwards until done",
        ),
        (
            CONSUMER,
            "consumer",
            StageRole::Sink,
            (2, 2),
            "ranges over or-done",
        ),
    ];
    for (id, label, role, (column, row), about) in layout {
        flow.stage(StageSpec {
            id,
            label: label.to_owned(),
            role,
            // Sources only make items; every other stage has one worker.
            workers: u32::from(role != StageRole::Source),
            column,
            row,
            about: Some(about.to_owned()),
        });
    }
    let (to_tee, from_source) = flow.pipe(TO_TEE, "items", (SOURCE, TEE), buffer);
    let (to_a, at_a) = flow.pipe(TO_A, "to A", (TEE, A), buffer);
    let (to_b, at_b) = flow.pipe(TO_B, "to B", (TEE, B), buffer);
    let (into, from_stream) = flow.pipe(IN, "items", (STREAM, OR_DONE), buffer);
    // The wrapper's output is meant as a hand-off: one slot, the fewest a
    // channel here has.
    let (out, at_consumer) = flow.pipe(OUT, "or-done", (OR_DONE, CONSUMER), 1);

    let env = Env {
        flow,
        clock: ctx.clock.clone(),
        token: ctx.token.clone(),
        params: ctx.params.clone(),
    };
    // The or-done lane's own done signal, which the wrapper and the source
    // feeding it watch; the consumer watches only the run's token.
    let done = ctx.token.child_token();
    let tasks = TaskTracker::new();
    let lane = TaskTracker::new();
    let t = &ctx.tracker;
    t.spawn(tasks.track_future(source(env.clone(), SOURCE, items, to_tee, None)));
    t.spawn(tasks.track_future(tee(env.clone(), from_source, to_a, to_b)));
    t.spawn(tasks.track_future(consume(env.clone(), A, |p| p.a_ms, at_a)));
    t.spawn(tasks.track_future(consume(env.clone(), B, |p| p.b_ms, at_b)));
    let stream = source(env.clone(), STREAM, items, into, Some(done.clone()));
    t.spawn(tasks.track_future(lane.track_future(stream)));
    let wrapper = or_done(
        env.clone(),
        from_stream,
        out,
        at_consumer.clone(),
        done.clone(),
    );
    t.spawn(tasks.track_future(lane.track_future(wrapper)));
    let consumer = consume(env.clone(), CONSUMER, |p| p.c_ms, at_consumer);
    t.spawn(tasks.track_future(lane.track_future(consumer)));
    lane.close();
    tasks.close();

    tokio::select! {
        biased;
        () = ctx.token.cancelled() => return,
        // The or-done lane ended on its own: its input closed first.
        () = lane.wait() => {}
        () = ctx.clock.sleep_until(done_at) => done.cancel(),
    }
    tokio::select! {
        biased;
        () = ctx.token.cancelled() => {}
        () = tasks.wait() => {}
    }
}

/// A source: `items` items, one each interval, then it closes its channel.
/// `done`, if given, stops it early: the item it could not send is
/// dropped, as no one will read it.
async fn source(
    env: Env,
    stage: StageId,
    items: u32,
    out: Pipe<Item>,
    done: Option<CancellationToken>,
) {
    let until = done.unwrap_or_else(|| env.token.clone());
    for n in 0..items {
        let item = env.flow.make(stage, format!("#{n}"), None, Item(n));
        match out.send(item, &until).await {
            Sent::Queued => {}
            Sent::Cancelled(item) | Sent::Closed(item) => {
                if !env.token.is_cancelled() {
                    env.drop_item(item.id, stage, out.id());
                }
                break;
            }
        }
        if n + 1 < items && !env.sleep(|p| p.interval_ms, &until).await {
            break;
        }
    }
    if !env.token.is_cancelled() {
        out.close();
    }
    env.stopped(stage);
}

/// The tee: for each item it reads, a copy for A and a copy for B, both
/// sent before it reads the next. The copies are new items made at the
/// tee; the item read ends there, delivered, once both copies are in.
async fn tee(env: Env, input: PipeRx<Item>, to_a: Pipe<Item>, to_b: Pipe<Item>) {
    while let Some(item) = input.recv(TEE, 0, &env.token).await {
        let Item(n) = item.value;
        let copy = |to: &str| {
            env.flow
                .make(TEE, format!("#{n}"), Some(to.to_owned()), Item(n))
        };
        let (for_a, for_b) = (copy("A"), copy("B"));
        // Both at once, as a select over the two sends would: whichever
        // has a slot takes its copy, and the tee waits for the other.
        let (a, b) = tokio::join!(to_a.send(for_a, &env.token), to_b.send(for_b, &env.token));
        match (a, b) {
            (Sent::Queued, Sent::Queued) => {
                env.flow.end(item.id, ItemEnd::Delivered { stage: TEE });
            }
            // Only a stop gets here: the consumers read until their
            // channels close, which only the tee does.
            _ => break,
        }
    }
    if !env.token.is_cancelled() {
        to_a.close();
        to_b.close();
    }
    env.stopped(TEE);
}

/// A consumer: a plain receive loop, each item taking the parameter
/// `speed`. It ends when its channel is closed and empty.
async fn consume(env: Env, stage: StageId, speed: Took, input: PipeRx<Item>) {
    while let Some(item) = input.recv(stage, 0, &env.token).await {
        if !env.sleep(speed, &env.token).await {
            break;
        }
        env.flow.end(item.id, ItemEnd::Delivered { stage });
    }
    env.stopped(stage);
}

/// The or-done wrapper: forwards from `input` to `out` until `input`
/// closes or `done` comes, then closes `out`, which ends the consumer's
/// loop. On done, whatever it cannot hand over any more (the item it
/// holds, the one waiting in the hand-off, those queued upstream) is
/// dropped: nothing will ever read it.
async fn or_done(
    env: Env,
    input: PipeRx<Item>,
    out: Pipe<Item>,
    handed: PipeRx<Item>,
    done: CancellationToken,
) {
    loop {
        if done.is_cancelled() {
            break;
        }
        let Some(item) = input.recv(OR_DONE, 0, &done).await else {
            break;
        };
        match out.send(item, &done).await {
            Sent::Queued => {}
            Sent::Cancelled(item) | Sent::Closed(item) => {
                if !env.token.is_cancelled() {
                    env.drop_item(item.id, OR_DONE, OUT);
                }
                break;
            }
        }
    }
    if env.token.is_cancelled() {
        env.stopped(OR_DONE);
        return;
    }
    // Closed first: a consumer waiting for its next item holds the
    // channel's receiving end until it hears the channel is closed.
    out.close();
    if done.is_cancelled() {
        for item in handed.close_and_empty().await {
            env.drop_item(item.id, OR_DONE, OUT);
        }
        for item in input.close_and_empty().await {
            env.drop_item(item.id, OR_DONE, IN);
        }
    }
    env.stopped(OR_DONE);
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{Event, PatternId};
    use crate::engines::trial::{self, Driven, Trial};
    use shared::{Command, Envelope, FlowEvent, RunStatus};
    use std::collections::BTreeMap;

    /// When each item was delivered at `stage`, by label.
    fn delivered(events: &[Envelope], stage: StageId) -> BTreeMap<String, u64> {
        trial::deliveries(events, stage).into_iter().collect()
    }

    fn last(events: &[Envelope], stage: StageId) -> Option<u64> {
        delivered(events, stage).values().max().copied()
    }

    /// When `stage` stopped.
    fn stopped_at(t: &Trial, stage: StageId) -> Option<u64> {
        t.time_of(|e| *e == Event::Flow(FlowEvent::StageStopped { stage }))
    }

    /// Items made at `stages`, and how those ended: (made, delivered,
    /// dropped as done).
    fn lane(t: &Trial, stages: &[StageId]) -> (usize, usize, usize) {
        let made: Vec<u64> = t.pick(|e| match e {
            Event::Flow(FlowEvent::ItemMade { item, stage }) if stages.contains(stage) => Some(item.id),
            _ => None,
        });
        let ended = |pred: &dyn Fn(&ItemEnd) -> bool| {
            t.pick(|e| match e {
                Event::Flow(FlowEvent::ItemEnded { item, end }) if made.contains(item) && pred(end) => Some(()),
                _ => None,
            })
            .len()
        };
        let delivered = ended(&|e| matches!(e, ItemEnd::Delivered { .. }));
        let dropped = ended(&|e| matches!(e, ItemEnd::Dropped { why, .. } if why == DONE));
        (made.len(), delivered, dropped)
    }

    #[tokio::test(start_paused = true)]
    async fn the_slow_consumer_sets_the_pace_of_both() {
        let t = trial::run(PatternId::Tee, &[], 42).await;
        let (a, b) = (delivered(&t.events, A), delivered(&t.events, B));
        assert_eq!((a.len(), b.len()), (20, 20));
        // Alone, A would be done by 2 s. Tied to B through the tee, it
        // finishes shortly before B: B's two slots and the copy in B's
        // hands are all A can be ahead.
        assert_eq!(
            (last(&t.events, A), last(&t.events, B)),
            (Some(8_100), Some(10_000))
        );
        // The tee holds the source back too.
        assert_eq!(
            t.time_of(|e| *e == Event::Flow(FlowEvent::ChannelClosed { channel: TO_TEE })),
            Some(7_000)
        );
        // Every original ends at the tee, and each copy at its consumer.
        let flow = t.end.flow().expect("a flow run");
        let tee = flow.stage(TEE).expect("the tee");
        assert_eq!((tee.made, tee.ends.delivered), (40, 20));
        assert_eq!(lane(&t, &[SOURCE, TEE]), (60, 60, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn a_idles_while_the_tee_waits_for_room_at_b() {
        let mut d = Driven::start(PatternId::Tee, &[], 42).await;
        d.until(3_000).await;
        let flow = d.folded.flow().expect("a flow run");
        let worker = |s| flow.stage(s).map(|s| s.workers[0].item.is_some());
        let channel = |c| flow.channel(c).map(|c| (c.buffer.len(), c.blocked.len()));
        // B works with both its slots full and the tee's next copy
        // waiting; A has nothing in hand and nothing queued.
        assert_eq!(channel(TO_B), Some((2, 1)));
        assert_eq!(worker(B), Some(true));
        assert_eq!(channel(TO_A), Some((0, 0)));
        assert_eq!(worker(A), Some(false));
        // And the source waits behind the tee.
        assert_eq!(channel(TO_TEE), Some((2, 1)));
        d.command(Command::Stop).await.expect("stop");
    }

    #[tokio::test(start_paused = true)]
    async fn with_equal_speeds_the_copies_go_in_lockstep() {
        let t = trial::run(PatternId::Tee, &[("b_ms", 100.0)], 42).await;
        let (a, b) = (delivered(&t.events, A), delivered(&t.events, B));
        assert_eq!(a.len(), 20);
        assert_eq!(a, b);
        assert_eq!(last(&t.events, A), Some(2_000));
        assert!(
            !t.events
                .iter()
                .any(|e| matches!(e.event, Event::Flow(FlowEvent::ItemBlocked { channel: TO_B, .. })))
        );
    }

    #[tokio::test(start_paused = true)]
    async fn done_ends_the_or_done_loop_and_drops_what_no_one_will_read() {
        let t = trial::run(PatternId::Tee, &[], 42).await;
        assert_eq!(t.end.status, RunStatus::Finished);
        // The wrapper and the source feeding it stop at 3 s exactly; the
        // consumer takes nothing more and its loop ends once the item in
        // its hands is done (taken at 2,800 ms, 400 ms of work).
        assert_eq!(stopped_at(&t, OR_DONE), Some(3_000));
        assert_eq!(stopped_at(&t, STREAM), Some(3_000));
        assert_eq!(stopped_at(&t, CONSUMER), Some(3_200));
        let taken = t
            .events
            .iter()
            .filter(|e| {
                matches!(
                    e.event,
                    Event::Flow(FlowEvent::ItemTaken {
                        stage: CONSUMER,
                        ..
                    })
                )
            })
            .map(|e| e.at_ms)
            .max();
        assert_eq!(taken, Some(2_800));
        // Thirteen items made: eight read, five dropped at 3 s (one in the
        // wrapper's hand, one in the hand-off, two queued, one the source
        // held). Every one is accounted for.
        assert_eq!(lane(&t, &[STREAM]), (13, 8, 5));
        assert_eq!(t.end.counters.in_flight, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_waiting_consumer_stops_at_done_exactly() {
        // A long stream and a consumer faster than it: the consumer is
        // waiting for its next item when done comes, and stops right then.
        // (B as fast as A, so that the other lane's 200 items end soon.)
        let idle = [
            ("items", 200.0),
            ("c_ms", 30.0),
            ("done_ms", 3_050.0),
            ("b_ms", 100.0),
        ];
        let t = trial::run(PatternId::Tee, &idle, 42).await;
        assert_eq!(stopped_at(&t, CONSUMER), Some(3_050));
        assert_eq!(stopped_at(&t, OR_DONE), Some(3_050));
        // Items made from 0 to 3,000 ms, all read: nothing was upstream.
        assert_eq!(lane(&t, &[STREAM]), (31, 31, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn without_done_the_loop_ends_when_its_input_closes() {
        let t = trial::run(PatternId::Tee, &[("done_ms", 20_000.0)], 42).await;
        assert_eq!(lane(&t, &[STREAM]), (20, 20, 0));
        // Twenty items of 400 ms each, the first at 0.
        assert_eq!(stopped_at(&t, CONSUMER), Some(8_000));
        assert!(stopped_at(&t, OR_DONE) < stopped_at(&t, CONSUMER));
        // Done never came: the run ends with the slower lane, not at 20 s.
        assert_eq!(t.events.last().map(|e| e.at_ms), Some(10_000));
    }

    #[tokio::test(start_paused = true)]
    async fn stopping_mid_run_ends_both_lanes_and_leaves_nothing_alive() {
        let mut d = Driven::start(PatternId::Tee, &[], 42).await;
        d.until(2_000).await;
        d.stop_flow().await;
        // A stop is not done: nothing was dropped for it.
        assert_eq!(d.folded.counters.dropped, 0);
        let flow = d.folded.flow().expect("a flow run");
        assert!(flow.stages.iter().all(|s| s.stopped));
    }
}

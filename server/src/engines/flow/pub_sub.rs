//! Pub/sub: a broker routes each message by its topic to every subscriber
//! whose pattern matches, through a buffer of the subscriber's own.
//!
//! Delivery never waits: a subscriber whose buffer is full loses that copy,
//! so a slow subscriber costs only itself, never a publisher or another
//! subscriber. Subscribers come and go while messages flow; the broker's
//! table of them sits behind a lock that publishers share and changes take
//! alone.

use super::pipe::{Flow, Pipe, PipeRx};
use crate::engines::{About, Prompt, Ctx, Order, OrderError, Settings};
use crate::clock::Clock;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shared::pattern::pub_sub::PubSubParams;
use shared::flow::topic;
use shared::{Command, FlowEvent, ItemEnd, StageId, StageRole, StageSpec};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

const PUBLISHERS: StageId = 0;
const BROKER: StageId = 1;
/// The first subscriber's stage. Subscribers are numbered in the order
/// they subscribe, from 0: subscriber `k` is stage `FIRST + k` and its
/// buffer is channel `k`. Numbers are never reused.
const FIRST: StageId = 2;
/// How many subscribers may be subscribed at once.
const MAX_SUBSCRIBERS: usize = 8;

/// The topics publishers draw from.
const TOPICS: [&str; 6] = [
    "orders.created",
    "orders.paid",
    "orders.shipped",
    "users.created",
    "users.deleted",
    "payments.failed",
];

/// The subscribers a run starts with.
const PRESET: [(&str, Speed); 3] = [
    ("orders.*", Speed::Fast),
    ("*.created", Speed::Fast),
    ("*", Speed::Slow),
];

/// How fast a subscriber handles a message: which parameter it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Speed {
    Fast,
    Slow,
}

impl Speed {
    /// How long a subscriber of this speed takes per message, now.
    fn per_message(self, params: PubSubParams) -> Duration {
        match self {
            Speed::Fast => params.fast_ms,
            Speed::Slow => params.slow_ms,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Speed::Fast => "fast subscriber",
            Speed::Slow => "slow subscriber",
        }
    }
}

pub const ABOUT: About = About {
    title: "Pub/sub",
    summary: "Two publishers each send a message every 150 ms on a topic such as \
                  orders.created or users.deleted. The broker copies it to every subscriber \
                  whose pattern matches, where * stands for one segment (orders.* matches \
                  orders.paid, not users.created) and * alone matches every topic. Each \
                  subscriber has a buffer of four: when it is full the copy is dropped for \
                  that subscriber only, so the slow * subscriber (600 ms a message) loses \
                  messages while the fast ones (50 ms) get all of theirs on time.",
    try_this: "Watch the * subscriber's buffer stay full and its drops climb while \
                   orders.* and *.created deliver everything. Subscribe to payments.* and \
                   it starts receiving from that moment. Unsubscribe the * subscriber: \
                   its buffered copies are dropped, and messages no one \
                   else wants, such as users.deleted, are now dropped at the broker.",
    questions: &[Prompt {
        at_ms: 1000,
        text: "The * subscriber takes 600 ms a message and holds four. Messages come much faster. What happens?",
        choices: &["The broker waits for it", "Its copies are dropped once its buffer is full; the others get all of theirs", "Every subscriber slows down"],
        answer: 1,
    }],
};

/// The broker: who is subscribed to what, behind a lock that publishers
/// share (routing only reads the table) and that subscribing and
/// unsubscribing take alone.
#[derive(Debug)]
struct Broker {
    table: RwLock<Table>,
    flow: Arc<Flow>,
    /// Messages published so far, to number them.
    published: AtomicU64,
}

#[derive(Debug)]
struct Table {
    /// False once the broker has shut down: nothing more is routed.
    open: bool,
    subscribers: BTreeMap<StageId, Subscription>,
}

#[derive(Debug)]
struct Subscription {
    pattern: String,
    buffer: Pipe<()>,
}

impl Broker {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Table> {
        self.table.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Table> {
        self.table.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Routes one message: a copy for each matching subscriber, put in its
    /// buffer if there is room and dropped for it alone if not. A message
    /// no one matches is dropped here. Never waits.
    fn publish(&self, topic: &str) {
        let table = self.read();
        if !table.open {
            return;
        }
        let n = self.published.fetch_add(1, Ordering::Relaxed);
        self.flow.sink().emit(FlowEvent::Sent { stage: PUBLISHERS });
        let label = format!("{topic} #{n}");
        let tag = Some(topic.to_owned());
        let mut reached = false;
        for sub in table.subscribers.values() {
            if topic::matches(&sub.pattern, topic) {
                reached = true;
                let copy = self.flow.make(BROKER, label.clone(), tag.clone(), ());
                sub.buffer.try_send(copy, BROKER);
            }
        }
        if !reached {
            let message = self.flow.make(BROKER, label, tag, ());
            let end = ItemEnd::Dropped {
                stage: BROKER,
                channel: None,
                why: "no subscriber".to_owned(),
            };
            self.flow.end(message.id, end);
        }
    }

    fn add(&self, stage: StageId, pattern: String, buffer: Pipe<()>) {
        let sub = Subscription { pattern, buffer };
        self.write().subscribers.insert(stage, sub);
    }

    /// Takes a subscriber out of the table and closes its buffer: no copy
    /// reaches it from now on.
    fn remove(&self, stage: StageId) {
        let sub = self.write().subscribers.remove(&stage);
        if let Some(sub) = sub {
            sub.buffer.close();
        }
    }

    /// Shuts down: every buffer is closed and nothing more is routed.
    fn close(&self) {
        let subs = {
            let mut table = self.write();
            table.open = false;
            std::mem::take(&mut table.subscribers)
        };
        for sub in subs.into_values() {
            sub.buffer.close();
        }
    }
}

/// What every task of the run works with.
#[derive(Debug, Clone)]
struct Env {
    flow: Arc<Flow>,
    clock: Clock,
    token: CancellationToken,
    params: Settings,
}

/// A subscriber's task as the engine holds it.
#[derive(Debug)]
struct Live {
    /// Cancelled to unsubscribe.
    leave: CancellationToken,
    task: JoinHandle<()>,
}

/// The engine's own state: the broker and the subscribers' tasks.
#[derive(Debug)]
struct Hub {
    env: Env,
    broker: Arc<Broker>,
    buffer: u32,
    tracker: TaskTracker,
    /// Every subscriber task, so the end can wait for them.
    subs: TaskTracker,
    live: BTreeMap<StageId, Live>,
    /// How many subscribers there have ever been: the next one's number.
    made: u32,
}

pub async fn run(mut ctx: Ctx) {
    let p: PubSubParams = ctx.params.get();
    let (publishers, buffer) = (p.publishers.max(1), p.buffer.max(1));
    let messages = match p.messages {
        0 => None,
        n => Some(n),
    };

    let flow = Flow::new(&ctx);
    flow.stage(StageSpec {
        id: PUBLISHERS,
        label: "publishers".to_owned(),
        role: StageRole::Source,
        workers: 0,
        column: 0,
        row: 0,
        about: Some(format!("{publishers} publishers")),
    });
    flow.stage(StageSpec {
        id: BROKER,
        label: "broker".to_owned(),
        role: StageRole::Split,
        workers: 0,
        column: 1,
        row: 0,
        about: Some("routes by topic".to_owned()),
    });
    let env = Env {
        flow: Arc::clone(&flow),
        clock: ctx.clock.clone(),
        token: ctx.token.clone(),
        params: ctx.params.clone(),
    };
    let broker = Arc::new(Broker {
        table: RwLock::new(Table {
            open: true,
            subscribers: BTreeMap::new(),
        }),
        flow,
        published: AtomicU64::new(0),
    });
    let mut hub = Hub {
        env: env.clone(),
        broker: Arc::clone(&broker),
        buffer,
        tracker: ctx.tracker.clone(),
        subs: TaskTracker::new(),
        live: BTreeMap::new(),
        made: 0,
    };
    for (pattern, speed) in PRESET {
        hub.subscribe(pattern.to_owned(), speed);
    }

    // Each publisher draws its topics from its own generator, seeded here
    // in order, so a seed repeats what every publisher sends.
    let pubs = TaskTracker::new();
    for _ in 0..publishers {
        let rng = StdRng::seed_from_u64(ctx.rng.random());
        let publisher = publish(env.clone(), Arc::clone(&broker), rng, messages);
        ctx.tracker.spawn(pubs.track_future(publisher));
    }
    pubs.close();

    let mut publishing = true;
    loop {
        tokio::select! {
            biased;
            () = ctx.token.cancelled() => break,
            () = pubs.wait(), if publishing => {
                // The last message is routed: close every buffer, and the
                // subscribers stop once they have emptied theirs.
                publishing = false;
                env.flow.sink().emit(FlowEvent::StageStopped { stage: PUBLISHERS });
                broker.close();
                hub.subs.close();
            }
            () = hub.subs.wait(), if !publishing => break,
            Some(order) = ctx.orders.recv() => hub.answer(order, publishing).await,
        }
    }
    // On a stop, the cleanup: every buffer closes and every subscriber's
    // task ends (on the run's token); the run cancels the copies left.
    if ctx.token.is_cancelled() {
        if publishing {
            env.flow
                .sink()
                .emit(FlowEvent::StageStopped { stage: PUBLISHERS });
        }
        broker.close();
    }
    env.flow.sink().emit(FlowEvent::StageStopped { stage: BROKER });
}

impl Hub {
    async fn answer(&mut self, order: Order, publishing: bool) {
        let answer = match &order.command {
            Command::Subscribe { .. } | Command::Unsubscribe { .. } if !publishing => Err(
                OrderError::Conflict("the publishers are done: the run is ending".into()),
            ),
            Command::Subscribe { topic } if !topic::valid(topic) => {
                Err(OrderError::Invalid(format!("`{topic}`: {}", topic::RULE)))
            }
            Command::Subscribe { .. } if self.live.len() >= MAX_SUBSCRIBERS => {
                Err(OrderError::Conflict(format!(
                    "there are already {MAX_SUBSCRIBERS} subscribers, the most allowed: \
                     unsubscribe one first"
                )))
            }
            Command::Subscribe { topic } => {
                self.subscribe(topic.clone(), Speed::Fast);
                Ok(())
            }
            Command::Unsubscribe { subscriber } => self.unsubscribe(*subscriber).await,
            _ => Err(OrderError::Invalid(
                "pub-sub takes subscribe and unsubscribe".into(),
            )),
        };
        order.answer(answer);
    }

    /// Adds a subscriber: its stage (labelled by its speed, with its
    /// pattern as the line about it), its buffer, its entry in the
    /// broker's table and its task.
    fn subscribe(&mut self, pattern: String, speed: Speed) {
        let number = self.made;
        self.made += 1;
        let stage = FIRST + number;
        let flow = &self.env.flow;
        flow.stage(StageSpec {
            id: stage,
            label: speed.label().to_owned(),
            role: StageRole::Sink,
            workers: 1,
            column: 2,
            row: number,
            about: Some(pattern.clone()),
        });
        let (buffer, inbox) = flow.pipe(number, "buffer", (BROKER, stage), self.buffer);
        self.broker.add(stage, pattern, buffer);
        let leave = self.env.token.child_token();
        let task = subscriber(self.env.clone(), stage, speed, inbox, leave.clone());
        let task = self.tracker.spawn(self.subs.track_future(task));
        self.live.insert(stage, Live { leave, task });
    }

    /// Removes a subscriber and waits until its task has ended.
    async fn unsubscribe(&mut self, stage: StageId) -> Result<(), OrderError> {
        let Some(live) = self.live.remove(&stage).filter(|l| !l.task.is_finished()) else {
            let known = self
                .live
                .keys()
                .map(StageId::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            return Err(OrderError::Unknown(format!(
                "no subscriber {stage}; the subscribers are {known}"
            )));
        };
        self.broker.remove(stage);
        live.leave.cancel();
        // The task ends promptly: it only waits on `leave` or its buffer.
        let _ = live.task.await;
        Ok(())
    }
}

/// One publisher: a message every interval on a topic it draws, until it
/// has sent its share or the run stops.
async fn publish(env: Env, broker: Arc<Broker>, mut rng: StdRng, messages: Option<u64>) {
    let mut sent = 0;
    loop {
        let topic = TOPICS[rng.random_range(0..TOPICS.len())];
        broker.publish(topic);
        sent += 1;
        if messages.is_some_and(|n| sent >= n) {
            return;
        }
        let pause = env.params.get::<PubSubParams>().interval_ms;
        tokio::select! {
            biased;
            () = env.token.cancelled() => return,
            () = env.clock.sleep(pause) => {}
        }
    }
}

/// One subscriber: takes the copies from its buffer one at a time, until
/// the buffer is closed and empty, it is unsubscribed (`leave`), or the
/// run stops. Unsubscribed, it drops what it holds and what is buffered.
async fn subscriber(
    env: Env,
    stage: StageId,
    speed: Speed,
    inbox: PipeRx<()>,
    leave: CancellationToken,
) {
    let unsubscribed = |id| {
        let end = ItemEnd::Dropped {
            stage,
            channel: None,
            why: "unsubscribed".to_owned(),
        };
        env.flow.end(id, end);
    };
    while let Some(copy) = inbox.recv(stage, 0, &leave).await {
        let pause = speed.per_message(env.params.get());
        tokio::select! {
            biased;
            () = leave.cancelled() => {
                if !env.token.is_cancelled() {
                    unsubscribed(copy.id);
                }
                break;
            }
            () = env.clock.sleep(pause) => {
                env.flow.end(copy.id, ItemEnd::Delivered { stage });
            }
        }
    }
    if !env.token.is_cancelled() {
        let channel = stage - FIRST;
        for copy in inbox.close_and_empty().await {
            let end = ItemEnd::Dropped {
                stage,
                channel: Some(channel),
                why: "unsubscribed".to_owned(),
            };
            env.flow.end(copy.id, end);
        }
    }
    env.flow.sink().emit(FlowEvent::StageStopped { stage });
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{Event, PatternId};
    use crate::engines::trial::{self, Driven, Trial};
    use crate::run::CommandError;
    use shared::{ChannelId, Envelope, FlowEvent, RunStatus};
    use std::collections::BTreeSet;

    /// Where each copy went, after the event numbered `after`: (message
    /// label, subscriber stage), from the channel it went into or was
    /// dropped at; no stage for a message no one subscribed to.
    fn routes(events: &[Envelope], after: u64) -> Vec<(String, Option<StageId>)> {
        let mut to: BTreeMap<ChannelId, StageId> = BTreeMap::new();
        let mut labels: BTreeMap<u64, String> = BTreeMap::new();
        let mut out = Vec::new();
        for e in events {
            let mut route = |label: &String, stage| {
                if e.seq > after {
                    out.push((label.clone(), stage));
                }
            };
            match &e.event {
                Event::Flow(FlowEvent::ChannelAdded { channel }) => {
                    to.insert(channel.id, channel.to);
                }
                Event::Flow(FlowEvent::ItemMade {
                    item,
                    stage: BROKER,
                }) => {
                    labels.insert(item.id, item.label.clone());
                }
                Event::Flow(FlowEvent::ItemQueued { item, channel }) => route(&labels[item], Some(to[channel])),
                Event::Flow(FlowEvent::ItemEnded {
                    item,
                    end:
                        ItemEnd::Dropped {
                            stage: BROKER,
                            channel,
                            ..
                        },
                }) => route(&labels[item], channel.map(|c| to[&c])),
                _ => {}
            }
        }
        out
    }

    /// The subscribers' patterns by stage.
    fn patterns(events: &[Envelope]) -> BTreeMap<StageId, String> {
        events
            .iter()
            .filter_map(|e| match &e.event {
                Event::Flow(FlowEvent::StageAdded { stage }) if stage.id >= FIRST => {
                    Some((stage.id, stage.about.clone()?))
                }
                _ => None,
            })
            .collect()
    }

    fn topic(label: &str) -> &str {
        label.split(' ').next().unwrap_or_default()
    }

    fn finite() -> [(&'static str, f64); 1] {
        [("messages", 20.0)]
    }

    #[tokio::test(start_paused = true)]
    async fn each_message_reaches_exactly_the_subscribers_that_match() {
        let t = trial::run(PatternId::PubSub, &finite(), 42).await;
        assert_eq!(t.end.status, RunStatus::Finished);
        let patterns = patterns(&t.events);
        let mut reached: BTreeMap<String, BTreeSet<StageId>> = BTreeMap::new();
        for (label, stage) in routes(&t.events, 0) {
            let stage = stage.expect("with * subscribed, every message has a subscriber");
            assert!(reached.entry(label).or_default().insert(stage), "twice");
        }
        // Two publishers, twenty messages each.
        assert_eq!(reached.len(), 40);
        for (label, stages) in &reached {
            let expected: BTreeSet<StageId> = patterns
                .iter()
                .filter(|(_, p)| shared::flow::topic::matches(p, topic(label)))
                .map(|(s, _)| *s)
                .collect();
            assert_eq!(stages, &expected, "{label}");
        }
        let c = t.end.counters;
        assert_eq!(c.submitted, c.completed + c.dropped);
        // The publishers count messages; the broker's copies are the items.
        let flow = t.end.flow().expect("a flow run");
        let stage = |id| flow.stages.iter().find(|s| s.spec.id == id);
        assert_eq!(stage(PUBLISHERS).map(|s| (s.sent, s.made)), Some((40, 0)));
        assert_eq!(stage(BROKER).map(|s| s.made), Some(c.submitted));
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_subscriber_drops_copies_but_never_delays_the_others() {
        let slow = trial::run(PatternId::PubSub, &finite(), 42).await;
        let fast = [finite()[0], ("slow_ms", 50.0)];
        let quick = trial::run(PatternId::PubSub, &fast, 42).await;
        let everything = FIRST + 2;
        let dropped = |t: &Trial| {
            t.end
                .flow()
                .and_then(|f| f.channel(2))
                .map(|c| (c.sent, c.dropped))
        };
        // The * subscriber is offered every one of the 40 messages. Slow,
        // it keeps nine: five it took up by the last message (one each
        // 600 ms from 0 to 2,400 ms) and the four then in its buffer; the
        // rest find the buffer full. Fast, it keeps them all.
        assert_eq!(dropped(&slow), Some((9, 31)));
        assert_eq!(dropped(&quick), Some((40, 0)));
        assert_eq!(trial::deliveries(&quick.events, everything).len(), 40);
        for stage in [FIRST, FIRST + 1] {
            let a = trial::deliveries(&slow.events, stage);
            assert!(!a.is_empty());
            assert_eq!(a, trial::deliveries(&quick.events, stage), "stage {stage}");
        }
        for t in [&slow, &quick] {
            let flow = t.end.flow().expect("a flow run");
            assert_eq!(flow.channel(0).map(|c| c.dropped), Some(0));
            assert_eq!(flow.channel(1).map(|c| c.dropped), Some(0));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_subscriber_receives_from_the_moment_it_subscribes() {
        let mut d = Driven::start(PatternId::PubSub, &[], 42).await;
        d.until(1_000).await;
        let pattern = "payments.*".to_owned();
        d.command(Command::Subscribe { topic: pattern })
            .await
            .expect("subscribe");
        let cut = d.events.len();
        let from = d.events.last().map_or(0, |e| e.seq);
        let stage = FIRST + 3;
        assert_eq!(
            patterns(&d.events).get(&stage).map(String::as_str),
            Some("payments.*")
        );
        d.until(3_000).await;
        let after = routes(&d.events, from);
        let published: BTreeSet<&String> = after
            .iter()
            .filter(|(l, _)| topic(l) == "payments.failed")
            .map(|(l, _)| l)
            .collect();
        let got: BTreeSet<&String> = after
            .iter()
            .filter(|(_, s)| *s == Some(stage))
            .map(|(l, _)| l)
            .collect();
        assert!(!got.is_empty());
        assert_eq!(got, published);
        assert!(
            routes(&d.events[..cut], 0)
                .iter()
                .all(|(_, s)| *s != Some(stage)),
            "nothing before it subscribed"
        );
        d.command(Command::Stop).await.expect("stop");
    }

    #[tokio::test(start_paused = true)]
    async fn an_unsubscribed_subscriber_stops_and_its_buffer_is_accounted_for() {
        let mut d = Driven::start(PatternId::PubSub, &[], 42).await;
        d.until(1_000).await;
        let everything = FIRST + 2;
        let flow = d.folded.flow().expect("a flow run");
        let held = flow.stage(everything).map(|s| s.workers[0].item.is_some());
        let buffered = flow.channel(2).map(|c| c.buffer.len());
        assert_eq!((held, buffered), (Some(true), Some(4)));
        let cut = d.events.len();
        let from = d.events.last().map_or(0, |e| e.seq);
        d.command(Command::Unsubscribe {
            subscriber: everything,
        })
        .await
        .expect("unsubscribe");
        // By the answer, its task has ended: the copy in its hands and the
        // four buffered are dropped, its buffer closed, its stage stopped.
        let left: Vec<&Event> = d.events[cut..].iter().map(|e| &e.event).collect();
        let gone = left
            .iter()
            .filter(|e| {
                matches!(e, Event::Flow(FlowEvent::ItemEnded { end: ItemEnd::Dropped { stage, why, .. }, .. })
                    if *stage == everything && why == "unsubscribed")
            })
            .count();
        assert_eq!(gone, 5);
        assert!(left.contains(&&Event::Flow(FlowEvent::ChannelClosed { channel: 2 })));
        assert!(left.contains(&&Event::Flow(FlowEvent::StageStopped { stage: everything })));
        d.until(3_000).await;
        let flow = d.folded.flow().expect("a flow run");
        assert!(flow.stage(everything).is_some_and(|s| s.stopped));
        let ch = flow.channel(2).expect("its buffer");
        assert!(ch.closed && ch.buffer.is_empty());
        let later = routes(&d.events, from);
        assert!(later.iter().all(|(_, s)| *s != Some(everything)));
        // What no one else wants is now dropped at the broker.
        let unwanted: Vec<&String> = later
            .iter()
            .filter(|(_, s)| s.is_none())
            .map(|(l, _)| l)
            .collect();
        assert!(!unwanted.is_empty());
        let wanted = |l: &&String| {
            PRESET[..2]
                .iter()
                .any(|(p, _)| shared::flow::topic::matches(p, topic(l)))
        };
        assert!(!unwanted.iter().any(wanted), "{unwanted:?}");
        let again = d
            .command(Command::Unsubscribe {
                subscriber: everything,
            })
            .await;
        assert!(
            matches!(again, Err(CommandError::Order(OrderError::Unknown(_)))),
            "{again:?}"
        );
        let broker = d.command(Command::Unsubscribe { subscriber: BROKER }).await;
        assert!(matches!(
            broker,
            Err(CommandError::Order(OrderError::Unknown(_)))
        ));
        d.command(Command::Stop).await.expect("stop");
        assert_eq!(d.folded.counters.in_flight, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn invalid_patterns_and_a_ninth_subscriber_are_refused() {
        let mut d = Driven::start(PatternId::PubSub, &[], 42).await;
        d.until(100).await;
        for bad in ["", "Orders.*", "a.b.c.d", "orders.#"] {
            let answer = d
                .command(Command::Subscribe {
                    topic: bad.to_owned(),
                })
                .await;
            assert!(
                matches!(&answer, Err(CommandError::Order(OrderError::Invalid(m))) if m.contains("1 to 3 segments")),
                "{bad}: {answer:?}"
            );
        }
        for i in 0..5 {
            let topic = format!("t{i}.*");
            d.command(Command::Subscribe { topic }).await.expect("room");
        }
        let ninth = d
            .command(Command::Subscribe {
                topic: "orders.paid".to_owned(),
            })
            .await;
        assert!(
            matches!(ninth, Err(CommandError::Order(OrderError::Conflict(_)))),
            "{ninth:?}"
        );
        // Leaving makes room again.
        d.command(Command::Unsubscribe { subscriber: FIRST })
            .await
            .expect("unsubscribe");
        d.command(Command::Subscribe {
            topic: "orders.paid".to_owned(),
        })
        .await
        .expect("room again");
        d.command(Command::Stop).await.expect("stop");
    }

    #[tokio::test(start_paused = true)]
    async fn stopping_mid_run_ends_every_subscriber_and_leaves_nothing_alive() {
        let mut d = Driven::start(PatternId::PubSub, &[], 42).await;
        d.until(2_000).await;
        d.stop_flow().await;
        let flow = d.folded.flow().expect("a flow run");
        let subs: Vec<_> = flow.stages.iter().filter(|s| s.spec.id >= FIRST).collect();
        assert_eq!(subs.len(), 3);
        assert!(subs.iter().all(|s| s.workers[0].item.is_none()));
        // Every stage stopped, and the broker's cleanup closed every buffer.
        assert!(flow.stages.iter().all(|s| s.stopped));
        assert!(flow.channels.iter().all(|c| c.closed));
    }
}

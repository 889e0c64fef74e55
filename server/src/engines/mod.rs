//! The pattern engines, in one folder per family (`overload`,
//! `cancellation`, `resilience`, `flow`), each folder holding the machinery
//! its patterns share and one file per pattern. A pattern's file has
//! `pub const ABOUT: About` and `pub async fn run(ctx: Ctx)`, and one line
//! in its family's registry (`family!` in the folder's `mod.rs`).
//!
//! An engine is real concurrent code (tokio tasks, bounded channels) whose
//! simulated work sleeps on the run's virtual clock. It reports what happens
//! through `ctx.sink`, returns when its work is done, and returns promptly
//! when `ctx.token` is cancelled. Whatever it leaves in flight is then
//! recorded as cancelled by the run.

pub mod cancellation;
pub mod flow;
pub mod overload;
pub mod resilience;

use crate::clock::Clock;
use crate::sink::Sink;
use cancellation::tree::Tree;
use rand::SeedableRng;
use rand::rngs::StdRng;
use shared::classroom::{Prepared, Question};
use shared::{Command, Family, ParamSet, Params, PatternId, PatternInfo};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Everything an engine runs with.
#[derive(Debug)]
pub struct Ctx {
    pub clock: Clock,
    pub sink: Sink,
    /// Cancelled when the run is stopped, restarted or the server shuts down.
    pub token: CancellationToken,
    /// The current parameters; live ones may change while the engine runs.
    pub params: Settings,
    /// Seeded once per start, so a run with the same seed repeats exactly.
    pub rng: StdRng,
    /// Where the engine spawns its tasks, so the run can wait for all of them.
    pub tracker: TaskTracker,
    /// Tasks that may outlive the engine: the leak the `timeout` pattern
    /// shows. The run waits for them only when it is stopped, which cancels
    /// them.
    pub leaks: TaskTracker,
    /// The engine's cancellation tree, once it makes one (see
    /// `Tree::open`), so viewers' commands reach it.
    pub tree: Arc<OnceLock<Tree>>,
    /// Viewers' commands for the engine itself (those the pattern registry
    /// lists for it), each with where its answer goes. An engine that takes
    /// none never reads it.
    pub orders: mpsc::Receiver<Order>,
}

/// The run's parameters as engines read them: the latest values, as the
/// pattern's typed struct (see `shared::param_set!`).
#[derive(Debug, Clone)]
pub struct Settings(watch::Receiver<Params>);

impl Settings {
    pub fn new(values: watch::Receiver<Params>) -> Settings {
        Settings(values)
    }

    /// The values as they are now.
    pub fn get<P: ParamSet>(&self) -> P {
        P::read(&self.0.borrow())
    }

    /// The values as they are now, marking them seen for [`Settings::changed`].
    pub fn seen<P: ParamSet>(&mut self) -> P {
        P::read(&self.0.borrow_and_update())
    }

    /// Waits until a viewer changes a value after the last one seen; an
    /// error once the run is gone.
    pub async fn changed(&mut self) -> Result<(), watch::error::RecvError> {
        self.0.changed().await
    }

    /// Takes the current values as seen.
    pub fn mark_unchanged(&mut self) {
        self.0.mark_unchanged();
    }
}

/// A viewer's command for a running engine, and where to answer it.
#[derive(Debug)]
pub struct Order {
    pub command: Command,
    pub reply: oneshot::Sender<Result<(), OrderError>>,
}

impl Order {
    /// Answers the viewer; one who gave up waiting is no longer listening.
    pub fn answer(self, answer: Result<(), OrderError>) {
        let _ = self.reply.send(answer);
    }
}

/// Why an engine refused an order.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum OrderError {
    /// It names a subscriber, worker or other part the engine does not have.
    #[error("{0}")]
    Unknown(String),
    /// It cannot be done in the engine's present state.
    #[error("{0}")]
    Conflict(String),
    /// It asks for something the engine never does.
    #[error("{0}")]
    Invalid(String),
}

/// How many orders may wait for an engine to read them.
pub const ORDERS: usize = 16;

impl Ctx {
    pub fn new(
        clock: Clock,
        sink: Sink,
        token: CancellationToken,
        params: watch::Receiver<Params>,
        seed: u64,
        orders: mpsc::Receiver<Order>,
    ) -> Ctx {
        Ctx {
            clock,
            sink,
            token,
            params: Settings::new(params),
            rng: StdRng::seed_from_u64(seed),
            tracker: TaskTracker::new(),
            leaks: TaskTracker::new(),
            tree: Arc::default(),
            orders,
        }
    }
}

/// What a pattern's page says about it.
#[derive(Debug)]
pub struct About {
    pub title: &'static str,
    /// The idea, in two or three sentences.
    pub summary: &'static str,
    /// Something to try with the controls.
    pub try_this: &'static str,
    /// What a presenter may ask the room about the seed scenario.
    pub questions: &'static [Prompt],
}

/// A question about what happens next in the seed scenario, asked around
/// `at_ms`.
#[derive(Debug)]
pub struct Prompt {
    pub at_ms: u64,
    pub text: &'static str,
    pub choices: &'static [&'static str],
    /// The index of the right choice.
    pub answer: usize,
}

impl Prompt {
    pub fn prepared(&self) -> Prepared {
        Prepared {
            at_ms: self.at_ms,
            question: Question {
                text: self.text.to_owned(),
                choices: self.choices.iter().map(|c| (*c).to_owned()).collect(),
                answer: self.answer,
            },
        }
    }
}

/// An engine's entry point, boxed so that every pattern's has one type.
pub type Engine = fn(Ctx) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// One pattern of a family: what it says about itself, and its engine.
pub type Entry = (PatternId, &'static About, Engine);

/// Declares a family's patterns, one line each: the module (a file in the
/// family's folder, with `ABOUT` and `run`) and its pattern.
macro_rules! family {
    ($($module:ident => $pattern:ident,)+) => {
        $(pub mod $module;)+

        /// The family's patterns.
        pub(crate) const PATTERNS: &[crate::engines::Entry] = &[
            $((shared::PatternId::$pattern, &$module::ABOUT, |ctx| Box::pin($module::run(ctx))),)+
        ];
    };
}
pub(crate) use family;

/// The patterns of `family`.
const fn family_patterns(family: Family) -> &'static [Entry] {
    match family {
        Family::Overload => overload::PATTERNS,
        Family::Cancellation => cancellation::PATTERNS,
        Family::Resilience => resilience::PATTERNS,
        Family::Flow => flow::PATTERNS,
    }
}

/// Whether `pattern` is registered in its own family.
const fn registered(pattern: PatternId) -> bool {
    let entries = family_patterns(pattern.family());
    let mut i = 0;
    while i < entries.len() {
        if entries[i].0 as usize == pattern as usize {
            return true;
        }
        i += 1;
    }
    false
}

/// Every pattern has an engine in its family's registry, or the server
/// does not compile.
const _: () = {
    let mut i = 0;
    while i < PatternId::COUNT {
        assert!(
            registered(PatternId::ALL[i]),
            "a pattern has no engine in its family's registry"
        );
        i += 1;
    }
};

fn entry(pattern: PatternId) -> &'static Entry {
    family_patterns(pattern.family())
        .iter()
        .find(|e| e.0 == pattern)
        .unwrap_or_else(|| unreachable!("checked when compiled: {pattern} has an engine"))
}

/// The pattern's description and parameters.
pub fn info(pattern: PatternId) -> PatternInfo {
    let about = entry(pattern).1;
    PatternInfo {
        id: pattern,
        family: pattern.family(),
        title: about.title.to_owned(),
        summary: about.summary.to_owned(),
        try_this: about.try_this.to_owned(),
        params: pattern.specs(),
        questions: about.questions.iter().map(Prompt::prepared).collect(),
    }
}

/// Runs the pattern's engine until its work is done or `ctx.token` is
/// cancelled.
pub async fn run(pattern: PatternId, ctx: Ctx) {
    (entry(pattern).2)(ctx).await;
}

/// Running a whole engine in a test, on tokio's paused clock.
#[cfg(test)]
pub(crate) mod trial {
    use crate::run::{CommandError, Run};
    use shared::cancellation::{NodeId, NodeState, TreeNode, TreeScene};
    use shared::{
        CancellationEvent, Command, DropReason, Envelope, Event, FlowEvent, ItemEnd, ItemId,
        Outcome, OverloadEvent, Params, PatternId, RunSnapshot, RunStatus, StageId, TaskId,
    };
    use std::collections::HashMap;
    use std::sync::Arc;
    use std::time::Duration;
    use tokio::sync::Notify;
    use tokio::time::Instant;
    use tokio_util::sync::CancellationToken;
    use tokio_util::task::TaskTracker;

    /// Everything one run recorded, checked as it was folded.
    #[derive(Debug)]
    pub struct Trial {
        pub events: Vec<Envelope>,
        pub end: RunSnapshot,
    }

    /// Runs `pattern` with `changes` over its preset until it finishes,
    /// asserting the conservation rule after every single event.
    pub async fn run(pattern: PatternId, changes: &[(&str, f64)], seed: u64) -> Trial {
        let mut driven = Driven::start(pattern, changes, seed).await;
        driven.finish().await;
        Trial {
            events: driven.events,
            end: driven.folded,
        }
    }

    /// (label, when) of every item delivered at `stage`, in order.
    pub fn deliveries(events: &[Envelope], stage: StageId) -> Vec<(String, u64)> {
        let mut labels: HashMap<ItemId, &str> = HashMap::new();
        let mut out = Vec::new();
        for e in events {
            match &e.event {
                Event::Flow(FlowEvent::ItemMade { item, .. }) => {
                    labels.insert(item.id, &item.label);
                }
                Event::Flow(FlowEvent::ItemEnded {
                    item,
                    end: ItemEnd::Delivered { stage: s },
                }) if *s == stage => out.push((labels[item].to_owned(), e.at_ms)),
                _ => {}
            }
        }
        out
    }

    /// A run driven by hand, for what a viewer does mid-way: virtual time
    /// moves only when the test lets it, and commands go in between.
    /// Every event is folded and checked as it is taken, as `run` does.
    #[derive(Debug)]
    pub struct Driven {
        run: Arc<Run>,
        /// The virtual instant of the start, which `until` counts from.
        started: Instant,
        /// Every event since the start, in order.
        pub events: Vec<Envelope>,
        /// The fold of `events`: the scene as a viewer sees it now.
        pub folded: RunSnapshot,
    }

    impl Driven {
        /// Starts `pattern` with `changes` over its preset and `seed`.
        pub async fn start(pattern: PatternId, changes: &[(&str, f64)], seed: u64) -> Driven {
            let run = Arc::new(Run::on_current_runtime(
                "trial".into(),
                pattern,
                &CancellationToken::new(),
                TaskTracker::new(),
                Arc::new(Notify::new()),
            ));
            run.command(Command::SetSeed { seed }).await.expect("seed");
            if !changes.is_empty() {
                let params: Params = changes.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
                run.command(Command::SetParams { params })
                    .await
                    .expect("valid parameters");
            }
            run.take_pending();
            let started = Instant::now();
            run.command(Command::Start).await.expect("start");
            Driven {
                run,
                started,
                events: Vec::new(),
                folded: RunSnapshot::new("trial", pattern),
            }
        }

        /// Folds the events recorded since the last take, asserting the
        /// conservation rule after every single one.
        pub fn take(&mut self) {
            let folded = &mut self.folded;
            for env in self.run.take_pending() {
                folded.apply(&env);
                assert!(
                    folded.counters.is_conserved(),
                    "after {env:?}: {:?}",
                    folded.counters
                );
                assert_eq!(
                    folded.tasks_in_scene(),
                    folded.counters.in_flight,
                    "after {env:?}"
                );
                self.events.push(env);
            }
        }

        /// Lets virtual time run to `ms` after the start.
        pub async fn until(&mut self, ms: u64) {
            tokio::time::sleep_until(self.started + Duration::from_millis(ms)).await;
            self.take();
        }

        /// Sends a viewer's command and folds what it caused.
        pub async fn command(&mut self, command: Command) -> Result<RunSnapshot, CommandError> {
            let answer = self.run.command(command).await;
            self.take();
            answer
        }

        /// Stops a flow run mid-way and checks what a stop must leave: the
        /// run stopped, nothing in flight, no item anywhere, no worker
        /// holding one. Returns how many items ended cancelled in all.
        pub async fn stop_flow(&mut self) -> u64 {
            assert!(self.folded.counters.in_flight > 0, "nothing to stop");
            let snap = self.command(Command::Stop).await.expect("stop");
            assert_eq!(snap.status, RunStatus::Stopped);
            let c = self.folded.counters;
            assert_eq!(c.in_flight, 0);
            assert!(c.cancelled > 0, "what was in flight is cancelled");
            let flow = self.folded.flow().expect("a flow run");
            assert!(flow.items.is_empty(), "{:?}", flow.items);
            assert!(
                flow.stages
                    .iter()
                    .all(|s| s.workers.iter().all(|w| w.item.is_none()))
            );
            c.cancelled
        }

        /// Lets virtual time run until the run has finished by itself.
        pub async fn finish(&mut self) {
            for _ in 0..100_000 {
                self.take();
                if self.folded.status == RunStatus::Finished {
                    assert_eq!(
                        self.folded,
                        self.run.snapshot(),
                        "the fold of the events is the run's snapshot"
                    );
                    return;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            panic!(
                "{} did not finish: {:?}",
                self.run.pattern(),
                self.folded.counters
            );
        }

        pub fn tree(&self) -> &TreeScene {
            tree(&self.folded)
        }

        pub fn node(&self, label: &str) -> &TreeNode {
            node(self.tree(), label)
        }

        /// The tasks whose end was recorded, once per record.
        pub fn ends(&self) -> Vec<NodeId> {
            self.events
                .iter()
                .filter_map(|e| match e.event {
                    Event::Cancellation(CancellationEvent::TaskEnded { node, .. }) => Some(node),
                    _ => None,
                })
                .collect()
        }
    }

    /// The cancellation tree of a run of a tree pattern.
    pub fn tree(snap: &RunSnapshot) -> &TreeScene {
        snap.tree().expect("a cancellation run")
    }

    /// The nodes still open (live, queued or cancelling), by label: once a
    /// run has ended there should be none.
    pub fn open_nodes(tree: &TreeScene) -> Vec<(&str, NodeState)> {
        tree.nodes
            .values()
            .filter(|n| {
                matches!(
                    n.state(),
                    NodeState::Live | NodeState::Queued | NodeState::Cancelling
                )
            })
            .map(|n| (n.spec.label.as_str(), n.state()))
            .collect()
    }

    /// The node labelled `label`, if the run made one.
    pub fn find<'a>(tree: &'a TreeScene, label: &str) -> Option<&'a TreeNode> {
        tree.nodes.values().find(|n| n.spec.label == label)
    }

    /// The node labelled `label`, which the run must have made.
    pub fn node<'a>(tree: &'a TreeScene, label: &str) -> &'a TreeNode {
        find(tree, label).unwrap_or_else(|| panic!("no node {label}"))
    }

    impl Trial {
        pub fn node(&self, label: &str) -> &TreeNode {
            node(tree(&self.end), label)
        }

        pub fn finished(&self, outcome: Option<Outcome>) -> Vec<TaskId> {
            self.pick(|e| match e {
                Event::Overload(OverloadEvent::Finished {
                    task, outcome: o, ..
                }) if outcome.is_none_or(|x| x == *o) => Some(*task),
                _ => None,
            })
        }

        pub fn dropped(&self, pred: impl Fn(&DropReason) -> bool) -> Vec<TaskId> {
            self.pick(|e| match e {
                Event::Overload(OverloadEvent::Dropped { task, reason }) if pred(reason) => {
                    Some(*task)
                }
                _ => None,
            })
        }

        /// The virtual time of the first event matching `pred`.
        pub fn time_of(&self, pred: impl Fn(&Event) -> bool) -> Option<u64> {
            self.events.iter().find(|e| pred(&e.event)).map(|e| e.at_ms)
        }

        pub fn pick<T>(&self, f: impl Fn(&Event) -> Option<T>) -> Vec<T> {
            self.events.iter().filter_map(|e| f(&e.event)).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_offers_one_to_three_sound_questions() {
        for pattern in PatternId::ALL {
            let questions = info(pattern).questions;
            assert!((1..=3).contains(&questions.len()), "{pattern}");
            for q in questions {
                assert_eq!(q.question.problem(), None, "{pattern}: {q:?}");
            }
        }
    }
}

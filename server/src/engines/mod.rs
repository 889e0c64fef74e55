//! The pattern engines, one file each, all with the same entry point:
//! `pub fn info() -> PatternInfo` and `pub async fn run(ctx: Ctx)`.
//!
//! An engine is real concurrent code (tokio tasks, bounded channels) whose
//! simulated work sleeps on the run's virtual clock. It reports what happens
//! through `ctx.sink`, returns when its work is done, and returns promptly
//! when `ctx.token` is cancelled. Whatever it leaves in flight is then
//! recorded as cancelled by the run.

mod breaker;
mod downstream;
mod flow;
mod overload;
mod retry;

use crate::clock::Clock;
use crate::sink::Sink;
use crate::tree::Tree;
use rand::SeedableRng;
use rand::rngs::StdRng;
use shared::{Command, ParamSpec, Params, PatternId, PatternInfo};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
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
    pub params: watch::Receiver<Params>,
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
    /// Viewers' commands for the engine itself (see [`takes`]), each with
    /// where its answer goes. An engine that takes none never reads it.
    pub orders: mpsc::Receiver<Order>,
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

/// Whether `pattern`'s engine takes `command` as an order.
pub fn takes(pattern: PatternId, command: &Command) -> bool {
    matches!(
        (pattern, command),
        (PatternId::Pipeline, Command::Drain)
            | (
                PatternId::PubSub,
                Command::Subscribe { .. } | Command::Unsubscribe { .. }
            )
            | (PatternId::Supervised, Command::Panic { .. })
    )
}

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
            params,
            rng: StdRng::seed_from_u64(seed),
            tracker: TaskTracker::new(),
            leaks: TaskTracker::new(),
            tree: Arc::default(),
            orders,
        }
    }

    /// A parameter as it is now.
    pub fn param(&self, name: &str) -> f64 {
        read(&self.params.borrow(), name)
    }
}

/// Reads a validated parameter; a missing one reads as 0, which validation
/// (every spec has a default) rules out.
pub fn read(params: &Params, name: &str) -> f64 {
    params.get(name).copied().unwrap_or_default()
}

pub fn read_ms(params: &Params, name: &str) -> Duration {
    Duration::from_millis(read(params, name).max(0.0) as u64)
}

/// Declares every engine, one line each: its module and its pattern. The
/// module has `pub fn info() -> PatternInfo` and `pub async fn run(ctx: Ctx)`.
macro_rules! engines {
    ($($module:ident => $pattern:ident,)+) => {
        $(pub mod $module;)+

        /// The pattern's description and parameters.
        pub fn info(pattern: PatternId) -> PatternInfo {
            match pattern {
                $(PatternId::$pattern => $module::info(),)+
            }
        }

        /// Runs the pattern's engine until its work is done or `ctx.token` is
        /// cancelled.
        pub async fn run(pattern: PatternId, ctx: Ctx) {
            match pattern {
                $(PatternId::$pattern => $module::run(ctx).await,)+
            }
        }
    };
}

engines! {
    drop_basic => DropBasic,
    drop_priority => DropPriority,
    drop_adaptive => DropAdaptive,
    drop_blocking => DropBlocking,
    cancel_workers => CancelWorkers,
    cancel_tree => CancelTree,
    request_values => RequestValues,
    errgroup => Errgroup,
    timeout => Timeout,
    graceful_shutdown => GracefulShutdown,
    cancel_fanout => CancelFanout,
    circuit_breaker => CircuitBreaker,
    retry_backoff => RetryBackoff,
    resilient_pool => ResilientPool,
    basics => Basics,
    worker_pool => WorkerPool,
    fan_out_fan_in => FanOutFanIn,
    pipeline => Pipeline,
    tee => Tee,
    rate_limit => RateLimit,
    semaphore => Semaphore,
    pub_sub => PubSub,
    singleflight => Singleflight,
    supervised => Supervised,
}

/// The seed's preset: every parameter at its default.
pub fn preset(pattern: PatternId) -> Params {
    info(pattern)
        .params
        .into_iter()
        .map(|p| (p.name, p.default))
        .collect()
}

/// A parameter spec, written compactly in the engines' `info()`.
pub(crate) fn spec(
    name: &str,
    label: &str,
    unit: &str,
    range: (f64, f64),
    default: f64,
    live: bool,
) -> ParamSpec {
    ParamSpec {
        name: name.to_owned(),
        label: label.to_owned(),
        unit: unit.to_owned(),
        min: range.0,
        max: range.1,
        default,
        integer: true,
        live,
        choices: Vec::new(),
    }
}

/// A parameter that picks one of `choices` (its value is the index), e.g.
/// a switch: `choice("jitter", "Jitter", &["off", "on"], 0.0, true)`.
pub(crate) fn choice(
    name: &str,
    label: &str,
    choices: &[&str],
    default: f64,
    live: bool,
) -> ParamSpec {
    ParamSpec {
        choices: choices.iter().map(|c| (*c).to_owned()).collect(),
        ..spec(
            name,
            label,
            "",
            (0.0, (choices.len() - 1) as f64),
            default,
            live,
        )
    }
}

/// A duration in milliseconds, 100 ms to 20 s, that restarts the run when
/// changed: the deadlines and work times the cancellation patterns share.
pub(crate) fn ms(name: &str, label: &str, default: f64) -> ParamSpec {
    spec(name, label, "ms", (100.0, 20_000.0), default, false)
}

/// Running a whole engine in a test, on tokio's paused clock.
#[cfg(test)]
pub(crate) mod trial {
    use crate::run::{CommandError, Run};
    use shared::tree::{NodeId, NodeState, TreeNode, TreeScene};
    use shared::{
        Command, DropReason, Envelope, Event, ItemEnd, ItemId, Outcome, Params, PatternId,
        RunSnapshot, RunStatus, StageId, TaskId,
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
                Event::ItemMade { item, .. } => {
                    labels.insert(item.id, &item.label);
                }
                Event::ItemEnded {
                    item,
                    end: ItemEnd::Delivered { stage: s },
                } if *s == stage => out.push((labels[item].to_owned(), e.at_ms)),
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
                    Event::TaskEnded { node, .. } => Some(node),
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
                Event::Finished {
                    task, outcome: o, ..
                } if outcome.is_none_or(|x| x == *o) => Some(*task),
                _ => None,
            })
        }

        pub fn dropped(&self, pred: impl Fn(&DropReason) -> bool) -> Vec<TaskId> {
            self.pick(|e| match e {
                Event::Dropped { task, reason } if pred(reason) => Some(*task),
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

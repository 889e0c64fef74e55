//! A run: one live instance of a pattern, with its clock, its engine and the
//! fold of everything that happened in it.
//!
//! A run lives on a thread of its own, with a tokio runtime whose paused
//! time is the run's virtual time (see [`crate::clock`]). Commands arrive
//! from the HTTP layer and are carried out on that runtime, so each lands at
//! one virtual instant. Lifecycle commands (start, stop, restart, reset) are
//! serialized by an async lock, because stopping waits for every engine task
//! to exit before the run says it is stopped.

use crate::clock::Clock;
use crate::engines::cancellation::tree::{Tree, TreeError};
use crate::engines::{self, Ctx, ORDERS, Order, OrderError};
use crate::preview;
use crate::replay::Recording;
use crate::sink::{RunCore, RunState, Sink};
use shared::clock::{MAX_SPEED, MIN_SPEED, speed_milli};
use shared::params::ParamError;
use shared::{
    CancellationEvent, Command, Envelope, Event, Family, FlowEvent, ItemEnd, JobOutcome, NodeKind,
    OverloadEvent, Params, PatternId, ResilienceEvent, RunEvent, RunSnapshot, RunStatus, Scene,
    Target, TaskEnd,
};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The seed every run starts with until a viewer sets another.
pub const DEFAULT_SEED: u64 = 42;
const DEFAULT_STEP: Duration = Duration::from_millis(100);
const MAX_STEP: Duration = Duration::from_secs(60);
/// The furthest a viewer may put a deadline: ten minutes of virtual time.
const MAX_DEADLINE_MS: i64 = 600_000;
/// How long a viewer's order waits for the engine's answer (virtual time).
const ORDER_WAIT: Duration = Duration::from_secs(2);
/// How long a viewer waits for a command to be carried out (real time): an
/// engine that needs virtual time to answer cannot while paused.
const COMMAND_WAIT: Duration = Duration::from_secs(3);

/// Why a command was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CommandError {
    #[error(transparent)]
    Params(#[from] ParamError),
    #[error("speed must be between {MIN_SPEED} and {MAX_SPEED}, got {0}")]
    Speed(f64),
    #[error("step must be between 1 and 60000 ms, got {0}")]
    Step(u64),
    #[error("step needs a paused clock: pause first")]
    NotPaused,
    #[error(
        "pattern `{0}` has no cancellation tree; try a cancellation pattern such as cancel-tree"
    )]
    NoTree(PatternId),
    #[error("the run is not running: start it first")]
    NotRunning,
    #[error("a deadline must be between 0 and {MAX_DEADLINE_MS} ms from now, got {0}")]
    Deadline(i64),
    #[error(transparent)]
    Tree(#[from] TreeError),
    #[error("pattern `{0}` takes no `{1}` command")]
    NotForPattern(PatternId, &'static str),
    #[error(transparent)]
    Order(#[from] OrderError),
    #[error("the run did not carry the command out in time; is it paused?")]
    Busy,
    #[error("a replay plays what was recorded; `{0}` would change it")]
    Replay(&'static str),
    #[error("the run is gone")]
    Gone,
}

/// The event that starts a run over with `params` and `seed`.
pub(crate) fn reset_event(params: Params, seed: u64) -> RunEvent {
    // The two numbers an empty scene is drawn with (an overload queue's
    // slots and workers, a pool's workers), for the patterns that have them.
    let field = |name| params.get(name).map_or(0, |v| v.max(0.0) as u32);
    RunEvent::Reset {
        capacity: field("capacity"),
        workers: field("workers"),
        seed,
        params,
    }
}

/// A live engine: its token, the task that runs it, and what viewers'
/// commands reach.
#[derive(Debug)]
struct Engine {
    token: CancellationToken,
    task: JoinHandle<()>,
    tree: Arc<OnceLock<Tree>>,
    leaks: TaskTracker,
    orders: mpsc::Sender<Order>,
}

/// A run of a pattern, shared by the hub and the HTTP handlers.
#[derive(Debug)]
pub struct Run {
    id: String,
    pattern: PatternId,
    core: Arc<RunCore>,
    params: watch::Sender<Params>,
    seed: Mutex<u64>,
    /// Held across a whole lifecycle command, so start and stop never interleave.
    engine: tokio::sync::Mutex<Option<Engine>>,
    /// Parent of every engine token of this run.
    root: CancellationToken,
    tracker: TaskTracker,
    /// The run's own runtime, whose time is the run's virtual time; `None`
    /// for a run inside the caller's runtime (an engine test on tokio's
    /// paused test clock, which moves virtual time by hand).
    runtime: Option<tokio::runtime::Handle>,
    /// For a replay: the history it plays instead of an engine.
    recording: Option<Arc<Recording>>,
}

impl Drop for Run {
    fn drop(&mut self) {
        // Ends the pacer, and with it the run's thread and every task on it.
        self.core.clock.close();
    }
}

/// Starts the thread and paused runtime a run lives on; the pacer keeps
/// them going until the clock is closed.
fn run_thread(
    id: &str,
    clock: Clock,
    priority: Priority,
) -> std::io::Result<tokio::runtime::Handle> {
    let (handle_tx, handle_rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name(format!("run {id}"))
        .spawn(move || {
            priority.apply();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                // The pacer's waits, one at a time.
                .max_blocking_threads(1)
                .on_thread_start(move || priority.apply())
                .build();
            match runtime {
                Ok(runtime) => {
                    let _ = handle_tx.send(Ok(runtime.handle().clone()));
                    runtime.block_on(crate::clock::pace(clock));
                }
                Err(e) => {
                    let _ = handle_tx.send(Err(e));
                }
            }
        })?;
    handle_rx
        .recv()
        .map_err(|_| std::io::Error::other("the run's thread ended at once"))?
}

/// How a run's threads share the processor with the others'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    /// A run the class watches together.
    Class,
    /// A student's own run: at full load thirty of them would otherwise
    /// take the processor from the projected run and its viewers, whose
    /// frames must keep their pace.
    Own,
}

impl Priority {
    /// Sets the calling thread's priority: for [`Priority::Own`] the lowest
    /// of the normal policy (a nice value of 19 on Linux), so it runs on
    /// what the class's runs and the streams leave.
    fn apply(self) {
        if self == Priority::Own
            && let Err(e) =
                thread_priority::set_current_thread_priority(thread_priority::ThreadPriority::Min)
        {
            tracing::debug!(error = ?e, "could not lower a student run's priority");
        }
    }
}

/// What a run starts from: enough to reset it and draw its preview.
#[derive(Debug)]
struct Ready {
    pattern: PatternId,
    id: String,
    params: Params,
    seed: u64,
}

impl Ready {
    /// Virtual time back to zero, and the reset event.
    fn reset(&self, sink: &Sink) {
        let clock = &sink.run.clock;
        clock.restart();
        sink.emit(reset_event(self.params.clone(), self.seed));
        // A history starts at the reset, so it says how the clock runs too.
        sink.emit(RunEvent::Clock {
            speed: clock.speed(),
            paused: clock.is_paused(),
        });
    }

    /// Back at the start, waiting for Start: the reset, then the scene the
    /// engine will open with, so a class can say what it expects first.
    fn show(&self, sink: &Sink) {
        self.reset(sink);
        let scene = preview::draw(self.pattern, &self.id, self.params.clone(), self.seed);
        if let Some(scene) = scene {
            sink.emit(RunEvent::Preview { scene });
        }
    }
}

pub use shared::RunSummary;

impl Run {
    /// A new idle run on the pattern's preset, on a thread and runtime of
    /// its own. Its engines will be children of `root` and spawned on
    /// `tracker`.
    pub fn new(
        id: String,
        pattern: PatternId,
        root: &CancellationToken,
        tracker: TaskTracker,
        wake: Arc<Notify>,
    ) -> Run {
        Run::with_priority(id, pattern, root, tracker, wake, Priority::Class)
    }

    /// [`Run::new`], its threads at `priority`.
    pub fn with_priority(
        id: String,
        pattern: PatternId,
        root: &CancellationToken,
        tracker: TaskTracker,
        wake: Arc<Notify>,
        priority: Priority,
    ) -> Run {
        let clock = Clock::new();
        // Without a thread of its own a run cannot exist; nor can much else.
        let runtime = run_thread(&id, clock.clone(), priority)
            .unwrap_or_else(|e| panic!("cannot start the thread of run {id}: {e}"));
        Run::build(id, pattern, clock, root, tracker, wake, Some(runtime), None)
    }

    /// A run whose engine runs on the caller's runtime, with no pacer:
    /// virtual time is that runtime's time, however it moves. For tests on
    /// tokio's paused clock, which move virtual time by hand; speed, pause
    /// and step are recorded but hold nothing back.
    pub fn on_current_runtime(
        id: String,
        pattern: PatternId,
        root: &CancellationToken,
        tracker: TaskTracker,
        wake: Arc<Notify>,
    ) -> Run {
        Run::build(id, pattern, Clock::new(), root, tracker, wake, None, None)
    }

    /// A read-only run that plays `recording` on a thread and clock of its
    /// own (or, with `own_thread` false, on the caller's runtime, for
    /// tests): speed, pause, step, start, stop and reset work; nothing
    /// else does.
    pub fn replaying(
        id: String,
        recording: Arc<Recording>,
        root: &CancellationToken,
        tracker: TaskTracker,
        wake: Arc<Notify>,
        own_thread: bool,
    ) -> Run {
        let pattern = recording.header.pattern;
        let clock = Clock::new();
        let runtime = own_thread.then(|| {
            run_thread(&id, clock.clone(), Priority::Class)
                .unwrap_or_else(|e| panic!("cannot start the thread of run {id}: {e}"))
        });
        Run::build(
            id,
            pattern,
            clock,
            root,
            tracker,
            wake,
            runtime,
            Some(recording),
        )
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "the one place every kind of run is made"
    )]
    fn build(
        id: String,
        pattern: PatternId,
        clock: Clock,
        root: &CancellationToken,
        tracker: TaskTracker,
        wake: Arc<Notify>,
        runtime: Option<tokio::runtime::Handle>,
        recording: Option<Arc<Recording>>,
    ) -> Run {
        let (params, seed) = match &recording {
            Some(r) => (r.header.params.clone(), r.header.seed),
            None => (pattern.preset(), DEFAULT_SEED),
        };
        let core = RunCore {
            clock,
            state: Mutex::new(RunState {
                snapshot: RunSnapshot::new(id.clone(), pattern),
                pending: Vec::new(),
            }),
            wake,
        };
        let run = Run {
            id,
            pattern,
            core: Arc::new(core),
            params: watch::Sender::new(params),
            seed: Mutex::new(seed),
            engine: tokio::sync::Mutex::new(None),
            root: root.child_token(),
            tracker,
            runtime,
            recording,
        };
        // The scene it opens with, drawn on its own runtime (its clock is
        // read there) before anyone can see the run.
        let ready = run.ready();
        let sink = run.sink();
        match &run.runtime {
            None => ready.show(&sink),
            Some(runtime) => {
                let (drawn_tx, drawn_rx) = std::sync::mpsc::channel();
                runtime.spawn(async move {
                    ready.show(&sink);
                    let _ = drawn_tx.send(());
                });
                let _ = drawn_rx.recv();
            }
        }
        run
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn pattern(&self) -> PatternId {
        self.pattern
    }

    pub fn sink(&self) -> Sink {
        Sink {
            run: Arc::clone(&self.core),
        }
    }

    pub fn snapshot(&self) -> RunSnapshot {
        self.core.lock().snapshot.clone()
    }

    pub fn summary(&self) -> RunSummary {
        let core = self.core.lock();
        RunSummary {
            run: self.id.clone(),
            pattern: self.pattern,
            status: core.snapshot.status,
            paused: core.snapshot.clock.paused,
        }
    }

    /// Takes the events not yet sent, in order.
    pub fn take_pending(&self) -> Vec<Envelope> {
        std::mem::take(&mut self.core.lock().pending)
    }

    /// [`Run::take_pending`], with (if `with_state`) the run's state right
    /// after the last of the events.
    pub fn take_pending_with_state(
        &self,
        with_state: bool,
    ) -> (Vec<Envelope>, Option<RunSnapshot>) {
        let mut state = self.core.lock();
        let events = std::mem::take(&mut state.pending);
        let after = (with_state && !events.is_empty()).then(|| state.snapshot.clone());
        (events, after)
    }

    fn seed(&self) -> u64 {
        *self.seed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn ready(&self) -> Ready {
        Ready {
            pattern: self.pattern,
            id: self.id.clone(),
            params: self.params.borrow().clone(),
            seed: self.seed(),
        }
    }

    fn emit_reset(&self) {
        self.ready().reset(&self.sink());
    }

    fn show_ready(&self) {
        self.ready().show(&self.sink());
    }

    fn emit_clock(&self) {
        let clock = &self.core.clock;
        self.sink().emit(RunEvent::Clock {
            speed: clock.speed(),
            paused: clock.is_paused(),
        });
    }

    /// Tells viewers the clock when a step ends, so a step that ends
    /// between events still moves the time they read. An idle run's time
    /// stands still, so a step of one shows nothing.
    fn show_step_end(&self, until: Duration) {
        let clock = self.core.clock.clone();
        if !clock.is_active() {
            return;
        }
        let sink = self.sink();
        tokio::spawn(async move {
            clock.sleep_until(until).await;
            // Still the same run, paused where the step ended (not
            // restarted or resumed meanwhile).
            if clock.is_paused() && clock.now() == until {
                sink.emit(RunEvent::Clock {
                    speed: clock.speed(),
                    paused: true,
                });
            }
        });
    }

    /// Lets a paused clock run again, and tells viewers.
    fn resume_clock(&self) {
        if self.core.clock.is_paused() {
            self.core.clock.resume();
            self.emit_clock();
        }
    }

    /// Carries out one command on the run's own runtime, at the virtual
    /// instant it arrives, and answers the snapshot after it.
    pub async fn command(self: &Arc<Self>, command: Command) -> Result<RunSnapshot, CommandError> {
        let Some(runtime) = &self.runtime else {
            return self.execute(command).await;
        };
        let run = Arc::clone(self);
        let task = runtime.spawn(async move { run.execute(command).await });
        match tokio::time::timeout(COMMAND_WAIT, task).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Err(CommandError::Gone),
            Err(_) => Err(CommandError::Busy),
        }
    }

    async fn execute(&self, command: Command) -> Result<RunSnapshot, CommandError> {
        if self.recording.is_some() && !plays_a_replay(&command) {
            return Err(CommandError::Replay(command.name()));
        }
        if !self.pattern.takes(&command) {
            return Err(match command.target() {
                Target::Tree => CommandError::NoTree(self.pattern),
                Target::Run | Target::Pattern => {
                    CommandError::NotForPattern(self.pattern, command.name())
                }
            });
        }
        let record = command.shapes_the_run().then(|| command.clone());
        match command {
            Command::Start => {
                let mut engine = self.engine.lock().await;
                if !is_live(&engine) {
                    self.halt(&mut engine).await;
                    // A pause belonged to the run before: a fresh start runs.
                    self.resume_clock();
                    self.begin(&mut engine);
                }
            }
            Command::Stop => {
                let mut engine = self.engine.lock().await;
                self.halt(&mut engine).await;
            }
            Command::Restart => {
                let mut engine = self.engine.lock().await;
                self.halt(&mut engine).await;
                self.begin(&mut engine);
            }
            Command::Reset => {
                let mut engine = self.engine.lock().await;
                self.halt(&mut engine).await;
                let (params, seed) = match &self.recording {
                    Some(r) => (r.header.params.clone(), r.header.seed),
                    None => (self.pattern.preset(), DEFAULT_SEED),
                };
                *self.seed.lock().unwrap_or_else(PoisonError::into_inner) = seed;
                self.params.send_replace(params);
                self.show_ready();
                // Back to how a new run is: ready to run, not frozen.
                self.resume_clock();
            }
            Command::Pause => {
                self.core.clock.pause();
                self.emit_clock();
            }
            Command::Resume => {
                self.core.clock.resume();
                self.emit_clock();
            }
            Command::Step { ms } => {
                let by = ms.map_or(DEFAULT_STEP, Duration::from_millis);
                if by.is_zero() || by > MAX_STEP {
                    return Err(CommandError::Step(ms.unwrap_or_default()));
                }
                let until = self.core.clock.step(by).ok_or(CommandError::NotPaused)?;
                self.show_step_end(until);
            }
            Command::SetSpeed { speed } => {
                let milli = speed_milli(speed).ok_or(CommandError::Speed(speed))?;
                self.core.clock.set_speed_milli(milli);
                self.emit_clock();
            }
            Command::SetSeed { seed } => {
                let mut engine = self.engine.lock().await;
                *self.seed.lock().unwrap_or_else(PoisonError::into_inner) = seed;
                self.reshape(&mut engine).await;
            }
            Command::SetParams { params } => self.set_params(params).await?,
            Command::Cancel { node } => {
                self.with_tree(|tree| {
                    tree.cancel(node, crate::engines::cancellation::tree::Cause::Manual)
                })
                .await?
            }
            Command::SetDeadline { node, in_ms } => {
                if !(0..=MAX_DEADLINE_MS).contains(&in_ms) {
                    return Err(CommandError::Deadline(in_ms));
                }
                let after = Duration::from_millis(in_ms.unsigned_abs());
                self.with_tree(|tree| tree.set_deadline(node, after))
                    .await?
            }
            Command::Fail { node } => self.with_tree(|tree| tree.make_fail(node)).await?,
            Command::Shutdown => self.with_tree(Tree::shutdown).await?,
            Command::Drain
            | Command::Subscribe { .. }
            | Command::Unsubscribe { .. }
            | Command::Panic { .. } => self.order(command).await?,
        }
        if let Some(command) = record {
            self.sink().emit(RunEvent::Command { command });
        }
        Ok(self.snapshot())
    }

    /// Hands a command to the live engine itself and waits for its answer.
    async fn order(&self, command: Command) -> Result<(), CommandError> {
        let orders = {
            let engine = self.engine.lock().await;
            engine
                .as_ref()
                .filter(|e| !e.task.is_finished())
                .map(|e| e.orders.clone())
                .ok_or(CommandError::NotRunning)?
        };
        let (reply, answer) = oneshot::channel();
        // Handing the order over and hearing back share one deadline. An
        // engine that ends before it reads the order drops the reply.
        let asked = async {
            orders.send(Order { command, reply }).await.ok()?;
            answer.await.ok()
        };
        match tokio::time::timeout(ORDER_WAIT, asked).await {
            Ok(Some(answer)) => Ok(answer?),
            Ok(None) | Err(_) => Err(CommandError::NotRunning),
        }
    }

    /// Runs a viewer's command on the live engine's cancellation tree.
    async fn with_tree(
        &self,
        f: impl FnOnce(&Tree) -> Result<(), TreeError>,
    ) -> Result<(), CommandError> {
        let engine = self.engine.lock().await;
        let tree = engine
            .as_ref()
            .filter(|e| !e.task.is_finished())
            .and_then(|e| e.tree.get())
            .ok_or(CommandError::NotRunning)?;
        Ok(f(tree)?)
    }

    async fn set_params(&self, changes: Params) -> Result<(), CommandError> {
        let all_live = self.pattern.check(&changes)?;
        let mut engine = self.engine.lock().await;
        self.params.send_modify(|p| p.extend(changes.clone()));
        if all_live && is_live(&engine) {
            // The engine reads live parameters as it goes.
            let sink = self.sink();
            sink.record(|r| {
                for (name, value) in changes {
                    r.emit(RunEvent::Param { name, value });
                }
            });
        } else {
            self.reshape(&mut engine).await;
        }
        Ok(())
    }

    /// After a change the engine cannot take live: a running run starts over
    /// with it, an idle or ended one shows it and waits.
    async fn reshape(&self, engine: &mut Option<Engine>) {
        let live = is_live(engine);
        self.halt(engine).await;
        if live {
            self.begin(engine);
        } else {
            self.show_ready();
        }
    }

    /// Starts a fresh engine (the caller holds the lifecycle lock).
    fn begin(&self, slot: &mut Option<Engine>) {
        self.emit_reset();
        let token = self.root.child_token();
        let sink = self.sink();
        let (orders, inbox) = mpsc::channel(ORDERS);
        let ctx = Ctx::new(
            self.core.clock.clone(),
            sink.clone(),
            token.clone(),
            self.params.subscribe(),
            self.seed(),
            inbox,
        );
        if self.pattern.family() == Family::Cancellation && self.recording.is_none() {
            // Made now, so a viewer's command finds it even before the
            // engine's first step.
            let _ = ctx
                .tree
                .set(Tree::new(&token, sink.clone(), self.core.clock.clone()));
        }
        let tracker = ctx.tracker.clone();
        let tree = Arc::clone(&ctx.tree);
        let leaks = ctx.leaks.clone();
        let pattern = self.pattern;
        sink.emit(RunEvent::Status {
            status: RunStatus::Running,
        });
        let ended = token.clone();
        let clock = self.core.clock.clone();
        clock.set_active(true);
        let recording = self.recording.clone();
        let task = self.tracker.spawn(async move {
            match recording {
                Some(recording) => play(&recording, &ctx).await,
                None => engines::run(pattern, ctx).await,
            }
            // Whatever the engine spawned has exited too.
            tracker.close();
            tracker.wait().await;
            if ended.is_cancelled() {
                cancel_in_flight(&sink);
            } else {
                sink.emit(RunEvent::Status {
                    status: RunStatus::Finished,
                });
            }
            // Nothing is left to happen: time stands still until the next start.
            clock.set_active(false);
        });
        *slot = Some(Engine {
            token,
            task,
            tree,
            leaks,
            orders,
        });
    }

    /// Cancels the engine and waits until every one of its tasks has exited.
    async fn halt(&self, slot: &mut Option<Engine>) {
        let Some(engine) = slot.take() else { return };
        // Recorded first, so the tree shows why its tasks are stopping.
        if let Some(tree) = engine.tree.get() {
            tree.stop();
        }
        engine.token.cancel();
        if let Err(e) = engine.task.await {
            tracing::error!(run = %self.id, error = %e, "engine task failed");
        }
        // Tasks that outlived their engine (a leak) end only now.
        engine.leaks.close();
        engine.leaks.wait().await;
        self.core.clock.set_active(false);
        cancel_in_flight(&self.sink());
        let status = self.core.lock().snapshot.status;
        if status == RunStatus::Running {
            self.sink().emit(RunEvent::Status {
                status: RunStatus::Stopped,
            });
        }
    }

    /// Stops the engine and waits for all of its tasks (at shutdown, after
    /// the root token is cancelled, and when the run is deleted).
    pub async fn wait_stopped(self: &Arc<Self>) {
        let run = Arc::clone(self);
        let stop = async move {
            let mut engine = run.engine.lock().await;
            run.halt(&mut engine).await;
        };
        match &self.runtime {
            None => stop.await,
            Some(runtime) => {
                let _ = runtime.spawn(stop).await;
            }
        }
    }
}

/// Whether a replay takes `command`: it can be started, stopped, reset and
/// its clock driven; what would change the recorded run cannot be done.
fn plays_a_replay(command: &Command) -> bool {
    matches!(
        command,
        Command::Start
            | Command::Stop
            | Command::Restart
            | Command::Reset
            | Command::Pause
            | Command::Resume
            | Command::Step { .. }
            | Command::SetSpeed { .. }
    )
}

/// Emits a recording's events at their virtual instants, until the end or
/// a stop.
async fn play(recording: &Recording, ctx: &Ctx) {
    for (at, event) in recording.played() {
        tokio::select! {
            biased;
            () = ctx.token.cancelled() => return,
            () = ctx.clock.sleep_until(at) => {}
        }
        ctx.sink.emit(event.clone());
    }
}

/// Whether an engine is running (started and not yet finished by itself).
fn is_live(slot: &Option<Engine>) -> bool {
    slot.as_ref().is_some_and(|e| !e.task.is_finished())
}

/// Records every task still in the scene as cancelled: once the engine's
/// tasks have exited, nothing else will ever finish them.
fn cancel_in_flight(sink: &Sink) {
    sink.record(|r| {
        let events: Vec<Event> = match &r.snapshot().scene {
            Scene::Overload(s) => s
                .offering
                .iter()
                .chain(&s.queue)
                .chain(s.workers.iter().filter_map(|w| w.task.as_ref()))
                .map(|t| Event::Overload(OverloadEvent::Cancelled { task: t.id }))
                .collect(),
            Scene::Tree(t) => {
                let queued =
                    (t.queued > 0).then_some(Event::Cancellation(CancellationEvent::Abandoned {
                        jobs: t.queued,
                    }));
                t.nodes
                    .values()
                    .filter(|n| n.spec.kind != NodeKind::Scope && n.ended.is_none())
                    .map(|n| {
                        Event::Cancellation(CancellationEvent::TaskEnded {
                            node: n.id(),
                            end: TaskEnd::Cancelled,
                        })
                    })
                    .chain(queued)
                    .collect()
            }
            Scene::Resilience(r) => r
                .jobs
                .iter()
                .filter(|j| j.outcome.is_none())
                .map(|j| {
                    Event::Resilience(ResilienceEvent::JobEnded {
                        job: j.id(),
                        outcome: JobOutcome::Cancelled,
                    })
                })
                .collect(),
            Scene::Flow(f) => f
                .items
                .iter()
                .map(|i| {
                    Event::Flow(FlowEvent::ItemEnded {
                        item: i.id(),
                        end: ItemEnd::Cancelled,
                    })
                })
                .collect(),
        };
        for event in events {
            r.emit(event);
        }
    });
}

#[cfg(test)]
mod tests;

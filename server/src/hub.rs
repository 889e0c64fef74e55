//! The hub: every run, and the event stream that carries them to viewers.
//!
//! Engines record events into their run as they happen. A single frame task
//! wakes at most once per frame, serializes each run's new events once,
//! encodes them once as a whole SSE message, and broadcasts the frame to all
//! viewers. A viewer follows only the runs it names: its stream keeps a
//! cursor (the last sequence number it holds per run) and passes on the
//! followed runs' messages as they are, the same shared bytes for every
//! viewer of a run, with no formatting of its own. No viewer gets more than
//! one message per run per frame however busy the engines are.
//!
//! Viewers who ask for them are also sent the shared runs' status (a
//! `summary`) whenever it changes: what a page needs of the runs it does
//! not show, encoded once for all of them.
//!
//! A viewer that reads too slowly falls behind the broadcast buffer, which is
//! bounded: it never slows an engine or another viewer. When it catches up it
//! is told how much it missed and gets fresh snapshots.
//!
//! What the hub keeps is bounded too: each run's history since its last
//! start (what a reconnecting viewer is sent instead of a snapshot, and what
//! is exported) by bytes, its oldest part cut first and emptied when the run
//! starts over; the number of runs by [`MAX_RUNS`],
//! with made runs deleted on request or reclaimed once nobody has named
//! them for [`HubConfig::reclaim_after`].

use crate::replay::Recording;
use crate::run::{Priority, Run, RunSummary};
use bytes::Bytes;
use shared::{Batch, Cursor, Event, Lagged, PatternId, Removed, RunEvent, RunSnapshot};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;
use tokio::sync::{Notify, broadcast};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// One frame at 60 frames a second.
pub const FRAME: Duration = Duration::from_micros(16_667);
/// Frames a viewer may fall behind before it is resynchronized (about 2 s).
const VIEWER_BUFFER: usize = 128;
/// Runs a server will hold, the patterns' own included; each costs memory
/// and a little CPU.
pub const MAX_RUNS: usize = 64;
/// The most a run's history may be given.
pub const MAX_HISTORY_BYTES: usize = 256 << 20;

/// How much the hub keeps, and for how long.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// Bytes of serialized batches kept per run since its last start (at
    /// most [`MAX_HISTORY_BYTES`]): what reconnecting viewers resume from,
    /// and what `GET /api/runs/{run}/history` exports. 16 MiB is eight
    /// seconds of the busiest run at full load, and the whole of any seed
    /// scenario.
    pub history_bytes: usize,
    /// How long a made run may stand with no request naming it and no
    /// stream following it by name before it is deleted.
    pub reclaim_after: Duration,
    pub hosting: Hosting,
}

/// Where runs live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Hosting {
    /// Each on a thread and paused runtime of its own, paced by the wall
    /// clock: exact virtual time at any speed.
    #[default]
    OwnThread,
    /// On the hub's own runtime, unpaced (see [`Run::on_current_runtime`]):
    /// for tests on tokio's paused clock.
    CurrentRuntime,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            history_bytes: 16 << 20,
            reclaim_after: Duration::from_secs(600),
            hosting: Hosting::OwnThread,
        }
    }
}

/// One run's events of one frame, serialized and encoded once.
#[derive(Debug)]
pub struct FrameBatch {
    run: Arc<str>,
    first_seq: u64,
    last_seq: u64,
    /// The whole SSE message every viewer of the run is sent: `batch`, the
    /// id `run:last_seq`, and the batch alone in a JSON array.
    message: Bytes,
    /// Where in `message` the `shared::Batch` JSON lies.
    json: Range<usize>,
}

impl FrameBatch {
    fn new(run: &str, first_seq: u64, last_seq: u64, json: &str) -> FrameBatch {
        let head = format!("event: batch\nid: {run}:{last_seq}\ndata: [");
        let mut message = Vec::with_capacity(head.len() + json.len() + 3);
        message.extend_from_slice(head.as_bytes());
        message.extend_from_slice(json.as_bytes());
        message.extend_from_slice(b"]\n\n");
        FrameBatch {
            run: run.into(),
            first_seq,
            last_seq,
            message: Bytes::from(message),
            json: head.len()..head.len() + json.len(),
        }
    }

    /// The `shared::Batch` as JSON: a view into the message, not a copy.
    fn json(&self) -> Bytes {
        self.message.slice(self.json.clone())
    }
}

/// What the frame task broadcasts.
#[derive(Debug, Default)]
pub struct Frame {
    batches: Vec<Arc<FrameBatch>>,
    /// Runs deleted since the last frame.
    removed: Vec<Arc<str>>,
    /// The shared runs' status, if it changed: a whole `summary` message.
    summary: Option<Bytes>,
}

/// One SSE message. `data` must be a single line, as compact JSON is.
pub fn sse_message(event: &str, id: Option<&str>, data: &str) -> Bytes {
    debug_assert!(!data.contains('\n'), "SSE data of one line");
    let mut message = format!("event: {event}\n");
    if let Some(id) = id {
        message.push_str("id: ");
        message.push_str(id);
        message.push('\n');
    }
    message.push_str("data: ");
    message.push_str(data);
    message.push_str("\n\n");
    Bytes::from(message)
}

/// [`sse_message`] with `value` as JSON; `None` (logged) if it does not
/// serialize.
pub fn sse_json(event: &str, id: Option<&str>, value: &impl serde::Serialize) -> Option<Bytes> {
    match serde_json::to_string(value) {
        Ok(data) => Some(sse_message(event, id, &data)),
        Err(e) => {
            tracing::error!(event, error = %e, "could not serialize a message");
            None
        }
    }
}

/// How many checkpoints a run's history holds at most: it is cut at one,
/// so the part kept always folds from a known state.
const CHECKPOINTS: usize = 8;

/// A run's batches since its last start, bounded by bytes: for viewers
/// that reconnect, and for export.
///
/// It is cut only where it holds a checkpoint (the run's state after a
/// batch, taken every eighth of the budget), so what is left still folds:
/// from the checkpoint, which becomes its base.
#[derive(Debug, Default)]
struct Replay {
    batches: VecDeque<Arc<FrameBatch>>,
    bytes: usize,
    /// The run's state after the batch ending at each sequence number,
    /// oldest first.
    checkpoints: VecDeque<(u64, Arc<RunSnapshot>)>,
    /// Bytes pushed since the latest checkpoint.
    since_checkpoint: usize,
    /// The state the kept batches fold from, once the front was cut.
    base: Option<Arc<RunSnapshot>>,
}

impl Replay {
    /// Whether the next batch should come with the run's state after it.
    fn wants_checkpoint(&self, budget: usize) -> bool {
        self.since_checkpoint >= budget / CHECKPOINTS
    }

    /// Keeps `batch` (with the run's state after it, if a checkpoint was
    /// wanted), then cuts the oldest batches at checkpoints while more
    /// than `budget` bytes are kept. The newest batch is always kept, so a
    /// viewer one frame behind never needs a snapshot.
    fn push(&mut self, batch: Arc<FrameBatch>, after: Option<RunSnapshot>, budget: usize) {
        self.bytes += batch.json.len();
        self.since_checkpoint += batch.json.len();
        if let Some(after) = after {
            self.checkpoints
                .push_back((batch.last_seq, Arc::new(after)));
            self.since_checkpoint = 0;
            if self.checkpoints.len() > CHECKPOINTS {
                self.checkpoints.pop_front();
            }
        }
        let newest = batch.last_seq;
        self.batches.push_back(batch);
        while self.bytes > budget {
            let Some((seq, _)) = self.checkpoints.front() else {
                break;
            };
            if *seq >= newest {
                break;
            }
            let Some((seq, state)) = self.checkpoints.pop_front() else {
                break;
            };
            while self.batches.front().is_some_and(|b| b.last_seq <= seq) {
                if let Some(old) = self.batches.pop_front() {
                    self.bytes -= old.json.len();
                }
            }
            self.base = Some(state);
        }
    }

    fn clear(&mut self) {
        *self = Replay::default();
    }
}

#[derive(Debug)]
struct RunEntry {
    run: Arc<Run>,
    replay: Mutex<Replay>,
    /// Made with `POST /api/runs`, so it may be deleted and reclaimed.
    made: bool,
    /// In a classroom session, the student whose run this is.
    owner: Option<String>,
    /// The last time a request named this run.
    touched: Mutex<Instant>,
    /// Streams following this run by name.
    watchers: AtomicUsize,
}

impl RunEntry {
    fn touch(&self) {
        *self.touched.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }

    fn idle_for(&self) -> Duration {
        self.touched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .elapsed()
    }
}

/// Why a run could not be made.
#[derive(Debug, thiserror::Error)]
#[error("the server already holds {MAX_RUNS} runs; delete one you made (DELETE /api/runs/{{run}})")]
pub struct TooManyRuns;

/// Why a run could not be deleted.
#[derive(Debug, thiserror::Error)]
pub enum RemoveError {
    #[error("no run named `{0}`")]
    Unknown(String),
    #[error("`{0}` is the pattern's own run and stays; stop or reset it instead")]
    Kept(String),
}

/// All runs, and the broadcast that carries their events.
#[derive(Debug)]
pub struct Hub {
    runs: RwLock<BTreeMap<String, Arc<RunEntry>>>,
    /// Rung by a run when it has events waiting.
    dirty: Arc<Notify>,
    frames: broadcast::Sender<Arc<Frame>>,
    root: CancellationToken,
    tracker: TaskTracker,
    /// Held for a whole flush, so two flushes (the frame task's and a
    /// command's) never send their batches out of order.
    flushing: Mutex<()>,
    /// The same for the students' own runs, flushed apart (see
    /// [`Hub::frame_loop`]): a run is one or the other for life, so each
    /// run's batches still go out in order.
    flushing_own: Mutex<()>,
    /// A flush of the students' runs is under way.
    own_in_flight: std::sync::atomic::AtomicBool,
    config: HubConfig,
    /// Runs made so far, per pattern: the number in the next one's name.
    made: Mutex<BTreeMap<&'static str, u64>>,
    /// The shared runs' status as last sent, and its `summary` message.
    summary: Mutex<(Vec<RunSummary>, Bytes)>,
}

impl Hub {
    /// A hub with the default run of every pattern. Its tasks stop when
    /// `root` is cancelled.
    pub fn new(root: CancellationToken, tracker: TaskTracker) -> Arc<Hub> {
        Hub::with_config(root, tracker, HubConfig::default())
    }

    /// [`Hub::new`] with other bounds.
    pub fn with_config(
        root: CancellationToken,
        tracker: TaskTracker,
        mut config: HubConfig,
    ) -> Arc<Hub> {
        config.history_bytes = config.history_bytes.min(MAX_HISTORY_BYTES);
        let (frames, _) = broadcast::channel(VIEWER_BUFFER);
        let hub = Arc::new(Hub {
            runs: RwLock::default(),
            dirty: Arc::new(Notify::new()),
            frames,
            root,
            tracker,
            flushing: Mutex::new(()),
            flushing_own: Mutex::new(()),
            own_in_flight: std::sync::atomic::AtomicBool::new(false),
            config,
            made: Mutex::default(),
            summary: Mutex::default(),
        });
        for pattern in PatternId::ALL {
            hub.insert(pattern.as_str().to_owned(), pattern);
        }
        hub.tracker.spawn(Arc::clone(&hub).frame_loop());
        hub.tracker.spawn(Arc::clone(&hub).reclaim_loop());
        hub
    }

    fn insert(&self, id: String, pattern: PatternId) {
        let entry = self.entry(id.clone(), pattern, false, None);
        self.write_runs().insert(id, entry);
    }

    fn entry(
        &self,
        id: String,
        pattern: PatternId,
        made: bool,
        owner: Option<String>,
    ) -> Arc<RunEntry> {
        let (root, tracker, wake) = (&self.root, self.tracker.clone(), Arc::clone(&self.dirty));
        let run = match self.config.hosting {
            Hosting::OwnThread => {
                // A student's own run yields to the class's.
                let priority = match owner {
                    Some(_) => Priority::Own,
                    None => Priority::Class,
                };
                Run::with_priority(id, pattern, root, tracker, wake, priority)
            }
            Hosting::CurrentRuntime => Run::on_current_runtime(id, pattern, root, tracker, wake),
        };
        let entry = RunEntry {
            run: Arc::new(run),
            replay: Mutex::default(),
            made,
            owner,
            touched: Mutex::new(Instant::now()),
            watchers: AtomicUsize::new(0),
        };
        Arc::new(entry)
    }

    fn read_runs(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<RunEntry>>> {
        self.runs.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_runs(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<RunEntry>>> {
        self.runs.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new run of `pattern`, named `<pattern>-<n>`, belonging to `owner`
    /// (a student in a classroom session) or shared (`None`).
    /// Names are never reused: a tab still holding a deleted run's name
    /// cannot command another run by mistake.
    pub fn create(
        &self,
        pattern: PatternId,
        owner: Option<String>,
    ) -> Result<Arc<Run>, TooManyRuns> {
        self.admit(pattern.as_str(), 1, |id| {
            self.entry(id, pattern, true, owner)
        })
    }

    /// Names a made run `<prefix>-<n>` (counting on from `first`, never
    /// reusing a name), makes its entry and adds it, within [`MAX_RUNS`].
    fn admit(
        &self,
        prefix: &'static str,
        first: u64,
        make: impl FnOnce(String) -> Arc<RunEntry>,
    ) -> Result<Arc<Run>, TooManyRuns> {
        if self.read_runs().len() >= MAX_RUNS {
            return Err(TooManyRuns);
        }
        let id = {
            let mut made = self.made.lock().unwrap_or_else(PoisonError::into_inner);
            let n = made.entry(prefix).or_insert(first);
            *n += 1;
            format!("{prefix}-{n}")
        };
        let entry = make(id.clone());
        let run = Arc::clone(&entry.run);
        let mut runs = self.write_runs();
        // Checked again where it counts: two requests may have raced here.
        if runs.len() >= MAX_RUNS {
            return Err(TooManyRuns);
        }
        runs.insert(id, entry);
        Ok(run)
    }

    /// The run named `id`; naming it keeps a made run from being reclaimed.
    pub fn get(&self, id: &str) -> Option<Arc<Run>> {
        self.read_runs().get(id).map(|e| {
            e.touch();
            Arc::clone(&e.run)
        })
    }

    /// The run's history since its last start, after flushing what is
    /// pending: its batches as JSON, oldest first, and where it was cut.
    pub fn history(&self, id: &str) -> Option<History> {
        let entry = self.read_runs().get(id).cloned()?;
        self.flush();
        let replay = entry.replay.lock().unwrap_or_else(PoisonError::into_inner);
        Some(History {
            batches: replay.batches.iter().map(|b| b.json()).collect(),
            base: replay.base.clone(),
        })
    }

    /// Bytes the run's history holds now.
    pub fn history_bytes(&self, id: &str) -> Option<usize> {
        let entry = self.read_runs().get(id).cloned()?;
        let bytes = entry
            .replay
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .bytes;
        Some(bytes)
    }

    /// Deletes a made run: its engine is stopped, its buffers freed, and
    /// every viewer told.
    pub async fn remove(&self, id: &str) -> Result<(), RemoveError> {
        let entry = {
            let _in_order = self.flushing.lock().unwrap_or_else(PoisonError::into_inner);
            let _own_in_order = self
                .flushing_own
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let mut runs = self.write_runs();
            match runs.get(id) {
                None => return Err(RemoveError::Unknown(id.to_owned())),
                Some(entry) if !entry.made => return Err(RemoveError::Kept(id.to_owned())),
                Some(_) => {}
            }
            let entry = runs.remove(id);
            drop(runs);
            // After the run's last batch, before any frame without it.
            let _ = self.frames.send(Arc::new(Frame {
                removed: vec![id.into()],
                ..Frame::default()
            }));
            entry
        };
        if let Some(entry) = entry {
            entry
                .replay
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clear();
            entry.run.wait_stopped().await;
        }
        Ok(())
    }

    /// Deletes made runs that nobody has named for `reclaim_after`, so a
    /// class that made runs and left does not keep the slots.
    async fn reclaim_loop(self: Arc<Hub>) {
        let every = (self.config.reclaim_after / 4).max(Duration::from_secs(1));
        loop {
            tokio::select! {
                () = self.root.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
            let idle: Vec<String> = self
                .read_runs()
                .iter()
                .filter(|(_, e)| {
                    e.made
                        && e.watchers.load(Ordering::Relaxed) == 0
                        && e.idle_for() >= self.config.reclaim_after
                })
                .map(|(id, _)| id.clone())
                .collect();
            for id in idle {
                if self.remove(&id).await.is_ok() {
                    tracing::info!(run = %id, "reclaimed a run nobody used");
                }
            }
        }
    }

    /// A replay of `recording`, named `replay-<n>`, belonging to `owner`.
    pub fn create_replay(
        &self,
        recording: Recording,
        owner: Option<String>,
    ) -> Result<Arc<Run>, TooManyRuns> {
        let recording = Arc::new(recording);
        self.admit("replay", 0, |id| {
            let run = Run::replaying(
                id,
                recording,
                &self.root,
                self.tracker.clone(),
                Arc::clone(&self.dirty),
                self.config.hosting == Hosting::OwnThread,
            );
            Arc::new(RunEntry {
                run: Arc::new(run),
                replay: Mutex::default(),
                made: true,
                owner,
                touched: Mutex::new(Instant::now()),
                watchers: AtomicUsize::new(0),
            })
        })
    }

    /// Whose run `id` is: `None` if there is no such run, `Some(None)` for
    /// a shared one.
    pub fn owner(&self, id: &str) -> Option<Option<String>> {
        self.read_runs().get(id).map(|e| e.owner.clone())
    }

    /// Every student's runs, by student.
    pub fn sandboxes(&self) -> BTreeMap<String, Vec<String>> {
        let mut owned: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (id, entry) in self.read_runs().iter() {
            if let Some(owner) = &entry.owner {
                owned.entry(owner.clone()).or_default().push(id.clone());
            }
        }
        owned
    }

    pub fn list(&self) -> Vec<RunSummary> {
        self.read_runs().values().map(|e| e.run.summary()).collect()
    }

    /// Stops every engine and waits for them (at shutdown).
    pub async fn stop_all(&self) {
        let runs: Vec<_> = self
            .read_runs()
            .values()
            .map(|e| Arc::clone(&e.run))
            .collect();
        for run in runs {
            run.wait_stopped().await;
        }
    }

    /// Sends each run's pending events, at most once per frame. An event
    /// after a quiet spell goes out at once (a click answered in the next
    /// frame, not a frame later); in a busy spell the rest of the frame's
    /// events gather first.
    async fn frame_loop(self: Arc<Hub>) {
        let mut last_flush = tokio::time::Instant::now() - FRAME;
        loop {
            tokio::select! {
                () = self.root.cancelled() => return,
                () = self.dirty.notified() => {}
            }
            tokio::select! {
                () = self.root.cancelled() => return,
                () = tokio::time::sleep_until(last_flush + FRAME) => {}
            }
            last_flush = tokio::time::Instant::now();
            self.flush_runs(Whose::Class);
            // The students' runs go out beside it, off this loop: at full
            // load thirty of them are much to serialize, and their threads
            // run at a low priority, so waiting on one of them must not make
            // the class's frame late. One such flush at a time; a frame
            // that finds one under way leaves its events to the next.
            if !self.own_in_flight.swap(true, Ordering::AcqRel) {
                let hub = Arc::clone(&self);
                tokio::task::spawn_blocking(move || {
                    hub.flush_runs(Whose::Own);
                    hub.own_in_flight.store(false, Ordering::Release);
                });
            }
        }
    }

    /// Serializes every run's pending events once, keeps them for replay and
    /// broadcasts them: the class's runs in one frame, then the students'.
    pub fn flush(&self) {
        self.flush_runs(Whose::Class);
        self.flush_runs(Whose::Own);
    }

    fn flush_runs(&self, whose: Whose) {
        let lock = match whose {
            Whose::Class => &self.flushing,
            Whose::Own => &self.flushing_own,
        };
        let _one_at_a_time = lock.lock().unwrap_or_else(PoisonError::into_inner);
        let entries: Vec<_> = self
            .read_runs()
            .values()
            .filter(|e| e.owner.is_some() == (whose == Whose::Own))
            .cloned()
            .collect();
        let mut frame = Frame::default();
        for entry in entries {
            let checkpoint = entry
                .replay
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .wants_checkpoint(self.config.history_bytes);
            let (events, after) = entry.run.take_pending_with_state(checkpoint);
            let (Some(first), Some(last)) = (events.first(), events.last()) else {
                continue;
            };
            let (first_seq, last_seq) = (first.seq, last.seq);
            let starts_over = events
                .iter()
                .any(|e| matches!(e.event, Event::Run(RunEvent::Reset { .. })));
            let batch = Batch {
                run: entry.run.id().to_owned(),
                events,
            };
            let json = match serde_json::to_string(&batch) {
                Ok(json) => json,
                Err(e) => {
                    tracing::error!(run = entry.run.id(), error = %e, "could not serialize a batch");
                    continue;
                }
            };
            let batch = Arc::new(FrameBatch::new(entry.run.id(), first_seq, last_seq, &json));
            let mut replay = entry.replay.lock().unwrap_or_else(PoisonError::into_inner);
            if starts_over {
                // History starts with the run's latest start (or reset): a
                // viewer from before it needs a snapshot anyway.
                replay.clear();
            }
            replay.push(Arc::clone(&batch), after, self.config.history_bytes);
            frame.batches.push(batch);
        }
        if whose == Whose::Class {
            frame.summary = self.refresh_summary();
        }
        if !frame.batches.is_empty() || frame.summary.is_some() {
            // No receivers is fine: nobody is watching.
            let _ = self.frames.send(Arc::new(frame));
        }
    }

    /// The shared runs' status now, as a `summary` message if it changed
    /// since the last.
    fn refresh_summary(&self) -> Option<Bytes> {
        let now: Vec<RunSummary> = self
            .read_runs()
            .values()
            .filter(|e| e.owner.is_none())
            .map(|e| e.run.summary())
            .collect();
        let mut last = self.summary.lock().unwrap_or_else(PoisonError::into_inner);
        if last.0 == now && !last.1.is_empty() {
            return None;
        }
        let message = sse_json("summary", None, &now)?;
        *last = (now, message.clone());
        Some(message)
    }

    /// The `summary` message of the shared runs' status now.
    fn summary_now(&self) -> Option<Bytes> {
        let _in_order = self.flushing.lock().unwrap_or_else(PoisonError::into_inner);
        self.refresh_summary();
        let last = self.summary.lock().unwrap_or_else(PoisonError::into_inner);
        Some(last.1.clone()).filter(|m| !m.is_empty())
    }

    /// A viewer's stream of SSE messages for `runs` (`None`: every run it
    /// [`Sees`], also those made later; none at all: only the summaries),
    /// resuming after `resume` where possible, with the shared runs'
    /// `summary` too if `summaries`.
    pub fn viewer(
        self: &Arc<Hub>,
        runs: Option<Vec<String>>,
        resume: Cursor,
        sees: Sees,
        summaries: bool,
    ) -> Viewer {
        // Subscribe before looking at any run, so nothing falls between the
        // snapshot (or replay) and the first live frame.
        let frames = self.frames.subscribe();
        let follow_all = runs.is_none();
        // Following a run by name keeps it from being reclaimed.
        let named: Vec<Arc<RunEntry>> = {
            let all = self.read_runs();
            runs.iter()
                .flatten()
                .filter_map(|name| all.get(name).cloned())
                .collect()
        };
        for entry in &named {
            entry.watchers.fetch_add(1, Ordering::Relaxed);
        }
        let names = runs.unwrap_or_else(|| {
            self.read_runs()
                .iter()
                .filter(|(_, e)| sees.sees(e))
                .map(|(id, _)| id.clone())
                .collect()
        });
        let mut viewer = Viewer {
            hub: Arc::clone(self),
            frames,
            follow_all,
            sees,
            summaries,
            unseen: Default::default(),
            named,
            cursor: HashMap::new(),
            backlog: VecDeque::new(),
        };
        if summaries {
            viewer.backlog.extend(self.summary_now());
        }
        for name in names {
            if !viewer.catch_up(&name, resume.0.get(&name).copied()) {
                viewer.announce_removed(&name);
            }
        }
        viewer
    }
}

/// A run's history since its last start (see [`Hub::history`]).
#[derive(Debug)]
pub struct History {
    /// Each a `shared::Batch` as JSON, oldest first, without gaps.
    pub batches: Vec<Bytes>,
    /// The run's state where the front was cut to keep within the budget,
    /// if it was: the batches fold from it.
    pub base: Option<Arc<RunSnapshot>>,
}

/// The class's runs or the students' own, flushed apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Whose {
    Class,
    Own,
}

/// Which runs a viewer that follows every run is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sees {
    Everything,
    /// The shared runs, and the runs of this student (a student in a
    /// classroom session, who has no use for 29 other students' runs at
    /// full load).
    SharedAndOwn(Option<String>),
}

impl Sees {
    fn sees(&self, entry: &RunEntry) -> bool {
        match (self, &entry.owner) {
            (Sees::Everything, _) | (_, None) => true,
            (Sees::SharedAndOwn(me), Some(owner)) => me.as_ref() == Some(owner),
        }
    }
}

/// One viewer's position in the stream.
#[derive(Debug)]
pub struct Viewer {
    hub: Arc<Hub>,
    frames: broadcast::Receiver<Arc<Frame>>,
    follow_all: bool,
    sees: Sees,
    /// Sent the shared runs' `summary` whenever it changes.
    summaries: bool,
    /// Runs this viewer is not sent (other students'), once looked up.
    unseen: std::collections::HashSet<String>,
    /// The runs this viewer follows by name.
    named: Vec<Arc<RunEntry>>,
    /// The last sequence number it holds of each run it follows.
    cursor: HashMap<Arc<str>, u64>,
    /// Messages ready to send before the next frame.
    backlog: VecDeque<Bytes>,
}

impl Drop for Viewer {
    fn drop(&mut self) {
        for entry in &self.named {
            entry.watchers.fetch_sub(1, Ordering::Relaxed);
            // The reclaim clock starts when the last viewer leaves.
            entry.touch();
        }
    }
}

impl Viewer {
    /// The next SSE message; `None` when the server shuts down.
    pub async fn next(&mut self) -> Option<Bytes> {
        loop {
            if let Some(message) = self.backlog.pop_front() {
                return Some(message);
            }
            let received = tokio::select! {
                () = self.hub.root.cancelled() => return None,
                received = self.frames.recv() => received,
            };
            match received {
                Ok(frame) => self.take_frame(&frame),
                Err(broadcast::error::RecvError::Lagged(_)) => self.resync(),
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// Brings the viewer up to date on one run: replays the batches after
    /// `after` if the ring still holds all of them, else sends a snapshot.
    /// `false` if the run is gone.
    fn catch_up(&mut self, run: &str, after: Option<u64>) -> bool {
        let Some(entry) = self.hub.read_runs().get(run).cloned() else {
            self.cursor.remove(run);
            return false;
        };
        let run: Arc<str> = run.into();
        if let Some(after) = after {
            let replay = entry.replay.lock().unwrap_or_else(PoisonError::into_inner);
            let batches = &replay.batches;
            let current = batches.back().map_or(0, |b| b.last_seq);
            let covered =
                batches.front().is_some_and(|b| b.first_seq <= after + 1) && after <= current;
            if covered {
                let missed: Vec<_> = batches
                    .iter()
                    .filter(|b| b.last_seq > after)
                    .cloned()
                    .collect();
                drop(replay);
                self.cursor.insert(Arc::clone(&run), after);
                if let Some(last) = missed.last() {
                    let mut data =
                        Vec::with_capacity(missed.iter().map(|b| b.json.len() + 1).sum());
                    for (i, batch) in missed.iter().enumerate() {
                        if i > 0 {
                            data.push(b',');
                        }
                        data.extend_from_slice(&batch.json());
                    }
                    let data = String::from_utf8_lossy(&data);
                    let id = format!("{run}:{}", last.last_seq);
                    self.backlog
                        .push_back(sse_message("batch", Some(&id), &format!("[{data}]")));
                    self.cursor.insert(run, last.last_seq);
                }
                return true;
            }
        }
        let snapshot = entry.run.snapshot();
        let id = format!("{run}:{}", snapshot.seq);
        self.cursor.insert(run, snapshot.seq);
        self.backlog
            .extend(sse_json("snapshot", Some(&id), &snapshot));
        true
    }

    /// The viewer missed frames: say how many events, then resend snapshots.
    fn resync(&mut self) {
        let held = std::mem::take(&mut self.cursor);
        let mut skipped = 0;
        let mut gone = Vec::new();
        for (run, seen) in &held {
            if self.catch_up(run, None) {
                skipped += self
                    .cursor
                    .get(&**run)
                    .map_or(0, |now| now.saturating_sub(*seen));
            } else {
                gone.push(run);
            }
        }
        tracing::debug!(skipped, "viewer lagged");
        if let Some(notice) = sse_json("lagged", None, &Lagged { skipped }) {
            self.backlog.push_front(notice);
        }
        if self.summaries {
            // A change of status may have been among the frames missed.
            self.backlog.extend(self.hub.summary_now());
        }
        for run in gone {
            self.announce_removed(run);
        }
    }

    fn announce_removed(&mut self, run: &str) {
        let removed = Removed {
            run: run.to_owned(),
        };
        self.backlog.extend(sse_json("removed", None, &removed));
    }

    /// Queues what `frame` holds for this viewer: the followed runs'
    /// messages as they were encoded, shared with every other viewer.
    fn take_frame(&mut self, frame: &Frame) {
        for run in &frame.removed {
            if self.cursor.remove(&**run).is_some() {
                self.announce_removed(run);
            }
        }
        if self.summaries {
            self.backlog.extend(frame.summary.clone());
        }
        for batch in &frame.batches {
            if self.follow_all && !self.cursor.contains_key(&*batch.run) && self.sees(&batch.run) {
                // A run made after this viewer connected: start it with a snapshot.
                self.catch_up(&batch.run.clone(), None);
            }
            let Some(seen) = self.cursor.get_mut(&*batch.run) else {
                continue;
            };
            if batch.last_seq > *seen {
                *seen = batch.last_seq;
                self.backlog.push_back(batch.message.clone());
            }
        }
    }

    /// Whether this viewer is sent run `id` when it follows every run.
    fn sees(&mut self, id: &str) -> bool {
        if self.unseen.contains(id) {
            return false;
        }
        let entry = self.hub.read_runs().get(id).cloned();
        let seen = entry.is_some_and(|e| self.sees.sees(&e));
        if !seen {
            self.unseen.insert(id.to_owned());
        }
        seen
    }
}

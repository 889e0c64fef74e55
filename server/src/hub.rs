//! The hub: every run, and the event stream that carries them to viewers.
//!
//! Engines record events into their run as they happen. A single frame task
//! wakes at most once per frame, serializes each run's new events once, and
//! broadcasts the frame to all viewers as shared bytes. Each viewer's stream
//! keeps a cursor (the last sequence number it holds per run) and turns a
//! frame into at most one SSE message, so no viewer gets more than one
//! message per frame however busy the engines are.
//!
//! A viewer that reads too slowly falls behind the broadcast buffer, which is
//! bounded: it never slows an engine or another viewer. When it catches up it
//! is told how much it missed and gets fresh snapshots.

use crate::run::{Run, RunSummary};
use axum::response::sse::Event as SseEvent;
use shared::{Batch, Cursor, Lagged, PatternId};
use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::Duration;
use tokio::sync::{Notify, broadcast};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// One frame at 60 frames a second.
pub const FRAME: Duration = Duration::from_micros(16_667);
/// Frames a viewer may fall behind before it is resynchronized (about 2 s).
const VIEWER_BUFFER: usize = 128;
/// Batches kept per run for reconnecting viewers (about 8 s of a busy run).
const REPLAY_BATCHES: usize = 512;
/// Runs a server will hold; each costs memory and a little CPU.
pub const MAX_RUNS: usize = 64;

/// One run's events of one frame, serialized once.
#[derive(Debug)]
pub struct FrameBatch {
    run: Arc<str>,
    first_seq: u64,
    last_seq: u64,
    /// A `shared::Batch` as JSON.
    json: Arc<str>,
}

/// What the frame task broadcasts.
#[derive(Debug, Default)]
pub struct Frame {
    batches: Vec<Arc<FrameBatch>>,
}

#[derive(Debug)]
struct RunEntry {
    run: Arc<Run>,
    replay: Mutex<VecDeque<Arc<FrameBatch>>>,
}

/// Why a run could not be made.
#[derive(Debug, thiserror::Error)]
#[error("the server already holds {MAX_RUNS} runs")]
pub struct TooManyRuns;

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
}

impl Hub {
    /// A hub with the default run of every pattern. Its tasks stop when
    /// `root` is cancelled.
    pub fn new(root: CancellationToken, tracker: TaskTracker) -> Arc<Hub> {
        let (frames, _) = broadcast::channel(VIEWER_BUFFER);
        let hub = Arc::new(Hub {
            runs: RwLock::default(),
            dirty: Arc::new(Notify::new()),
            frames,
            root,
            tracker,
            flushing: Mutex::new(()),
        });
        for pattern in PatternId::ALL {
            hub.insert(pattern.as_str().to_owned(), pattern);
        }
        hub.tracker.spawn(Arc::clone(&hub).frame_loop());
        hub
    }

    fn insert(&self, id: String, pattern: PatternId) -> Arc<Run> {
        let run = Arc::new(Run::new(
            id.clone(),
            pattern,
            &self.root,
            self.tracker.clone(),
            Arc::clone(&self.dirty),
        ));
        let entry = RunEntry {
            run: Arc::clone(&run),
            replay: Mutex::default(),
        };
        self.write_runs().insert(id, Arc::new(entry));
        run
    }

    fn read_runs(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<RunEntry>>> {
        self.runs.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_runs(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<RunEntry>>> {
        self.runs.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new run of `pattern`, named `<pattern>-<n>`.
    pub fn create(&self, pattern: PatternId) -> Result<Arc<Run>, TooManyRuns> {
        let id = {
            let runs = self.read_runs();
            if runs.len() >= MAX_RUNS {
                return Err(TooManyRuns);
            }
            (2..)
                .map(|n| format!("{pattern}-{n}"))
                .find(|id| !runs.contains_key(id))
                .unwrap_or_default()
        };
        Ok(self.insert(id, pattern))
    }

    pub fn get(&self, id: &str) -> Option<Arc<Run>> {
        self.read_runs().get(id).map(|e| Arc::clone(&e.run))
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
            self.flush();
            last_flush = tokio::time::Instant::now();
        }
    }

    /// Serializes every run's pending events once, keeps them for replay and
    /// broadcasts them as one frame.
    pub fn flush(&self) {
        let _one_at_a_time = self.flushing.lock().unwrap_or_else(PoisonError::into_inner);
        let entries: Vec<_> = self.read_runs().values().cloned().collect();
        let mut frame = Frame::default();
        for entry in entries {
            let events = entry.run.take_pending();
            let (Some(first), Some(last)) = (events.first(), events.last()) else {
                continue;
            };
            let (first_seq, last_seq) = (first.seq, last.seq);
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
            let batch = Arc::new(FrameBatch {
                run: entry.run.id().into(),
                first_seq,
                last_seq,
                json: json.into(),
            });
            let mut replay = entry.replay.lock().unwrap_or_else(PoisonError::into_inner);
            if replay.len() == REPLAY_BATCHES {
                replay.pop_front();
            }
            replay.push_back(Arc::clone(&batch));
            frame.batches.push(batch);
        }
        if !frame.batches.is_empty() {
            // No receivers is fine: nobody is watching.
            let _ = self.frames.send(Arc::new(frame));
        }
    }

    /// A viewer's stream of SSE messages for `runs` (`None`: every run, also
    /// those made later), resuming after `resume` where possible.
    pub fn viewer(self: &Arc<Hub>, runs: Option<Vec<String>>, resume: Cursor) -> Viewer {
        // Subscribe before looking at any run, so nothing falls between the
        // snapshot (or replay) and the first live frame.
        let frames = self.frames.subscribe();
        let follow_all = runs.is_none();
        let names = runs.unwrap_or_else(|| self.read_runs().keys().cloned().collect());
        let mut viewer = Viewer {
            hub: Arc::clone(self),
            frames,
            follow_all,
            cursor: Cursor::default(),
            backlog: VecDeque::new(),
        };
        for name in names {
            viewer.catch_up(&name, resume.0.get(&name).copied());
        }
        viewer
    }
}

/// One viewer's position in the stream.
#[derive(Debug)]
pub struct Viewer {
    hub: Arc<Hub>,
    frames: broadcast::Receiver<Arc<Frame>>,
    follow_all: bool,
    cursor: Cursor,
    /// Messages ready to send before the next frame.
    backlog: VecDeque<SseEvent>,
}

impl Viewer {
    /// The next SSE message; `None` when the server shuts down.
    pub async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(message) = self.backlog.pop_front() {
                return Some(message);
            }
            let received = tokio::select! {
                () = self.hub.root.cancelled() => return None,
                received = self.frames.recv() => received,
            };
            match received {
                Ok(frame) => {
                    if let Some(message) = self.frame_message(&frame) {
                        return Some(message);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => self.resync(),
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    }

    /// Brings the viewer up to date on one run: replays the batches after
    /// `after` if the ring still holds all of them, else sends a snapshot.
    fn catch_up(&mut self, run: &str, after: Option<u64>) {
        let Some(entry) = self.hub.read_runs().get(run).cloned() else {
            return;
        };
        if let Some(after) = after {
            let replay = entry.replay.lock().unwrap_or_else(PoisonError::into_inner);
            let current = replay.back().map_or(0, |b| b.last_seq);
            let covered =
                replay.front().is_some_and(|b| b.first_seq <= after + 1) && after <= current;
            if covered {
                let missed: Vec<_> = replay
                    .iter()
                    .filter(|b| b.last_seq > after)
                    .cloned()
                    .collect();
                drop(replay);
                self.cursor.0.insert(run.to_owned(), after);
                if let Some(message) = self.batch_message(&missed) {
                    self.backlog.push_back(message);
                }
                return;
            }
        }
        let snapshot = entry.run.snapshot();
        self.cursor.0.insert(run.to_owned(), snapshot.seq);
        match SseEvent::default().event("snapshot").json_data(&snapshot) {
            Ok(message) => self.backlog.push_back(message.id(self.cursor.to_string())),
            Err(e) => tracing::error!(run, error = %e, "could not serialize a snapshot"),
        }
    }

    /// The viewer missed frames: say how many events, then resend snapshots.
    fn resync(&mut self) {
        let runs: Vec<_> = self.cursor.0.keys().cloned().collect();
        let before: u64 = self.cursor.0.values().sum();
        for run in &runs {
            self.catch_up(run, None);
        }
        let skipped = self.cursor.0.values().sum::<u64>().saturating_sub(before);
        tracing::debug!(skipped, "viewer lagged");
        if let Ok(notice) = SseEvent::default()
            .event("lagged")
            .json_data(Lagged { skipped })
        {
            self.backlog.push_front(notice.id(self.cursor.to_string()));
        }
    }

    fn frame_message(&mut self, frame: &Frame) -> Option<SseEvent> {
        if self.follow_all {
            for batch in &frame.batches {
                if !self.cursor.0.contains_key(&*batch.run) {
                    // A run made after this viewer connected: start it with a snapshot.
                    self.catch_up(&batch.run.clone(), None);
                }
            }
        }
        let mine: Vec<_> = frame
            .batches
            .iter()
            .filter(|b| self.cursor.0.contains_key(&*b.run))
            .cloned()
            .collect();
        let message = self.batch_message(&mine);
        match (self.backlog.is_empty(), message) {
            (true, message) => message,
            (false, message) => {
                self.backlog.extend(message);
                self.backlog.pop_front()
            }
        }
    }

    /// One `batch` message from the batches this viewer does not hold yet.
    fn batch_message(&mut self, batches: &[Arc<FrameBatch>]) -> Option<SseEvent> {
        let mut data = String::from("[");
        for batch in batches {
            let seen = self.cursor.0.get(&*batch.run).copied().unwrap_or(0);
            if batch.last_seq <= seen {
                continue;
            }
            if data.len() > 1 {
                data.push(',');
            }
            data.push_str(&batch.json);
            self.cursor.0.insert(batch.run.to_string(), batch.last_seq);
        }
        if data.len() == 1 {
            return None;
        }
        data.push(']');
        Some(
            SseEvent::default()
                .event("batch")
                .id(self.cursor.to_string())
                .data(data),
        )
    }
}

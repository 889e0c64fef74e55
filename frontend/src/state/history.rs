//! The history of the run on screen, for its timeline: every event since
//! the run's last start, checkpoints of their fold so any instant is
//! rebuilt quickly, and the moments worth a marker.
//!
//! The events come from two places: the server's history of the run
//! (`GET /api/runs/{run}/history`, for what happened before the page
//! opened) and the live stream. [`History::merge`] joins them.

use shared::cancellation::{CancellationEvent, TaskEnd};
use shared::flow::{FlowEvent, ItemEnd};
use shared::resilience::{JobOutcome, ResilienceEvent};
use shared::{
    DropReason, Envelope, Event, LoadLevel, OverloadEvent, PatternId, RunEvent, RunSnapshot,
    RunStatus,
};

/// The fold is kept after every this many events, so rebuilding any
/// instant folds fewer than this many.
pub const CHECKPOINT_EVERY: usize = 256;

/// The most events kept for one run: beyond it the oldest part is cut at
/// a checkpoint, which becomes the base the rest folds from.
pub const MAX_EVENTS: usize = 400_000;

/// How many columns the timeline gathers its markers into: one glyph of
/// each kind a column, however many moments fall in it.
pub const COLUMNS: usize = 160;

/// The shortest span the timeline shows.
const MIN_SPAN_MS: u64 = 1_000;

/// A kind of moment the timeline marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MarkKind {
    /// Work refused at the door: a full queue, a policy, a rate limit.
    Drop,
    /// Queued work pushed out for more urgent work.
    Evict,
    /// A token cancelled, for its own cause.
    Cancel,
    /// The circuit breaker changed state.
    Breaker,
    /// Work that failed, timed out or panicked.
    Error,
    /// A task that will never exit.
    Leak,
    /// The run or a service moved on: started, draining, finished.
    Phase,
}

impl MarkKind {
    pub const ALL: [MarkKind; 7] = [
        MarkKind::Drop,
        MarkKind::Evict,
        MarkKind::Cancel,
        MarkKind::Breaker,
        MarkKind::Error,
        MarkKind::Leak,
        MarkKind::Phase,
    ];

    /// For data attributes and styles.
    pub fn key(self) -> &'static str {
        match self {
            MarkKind::Drop => "drop",
            MarkKind::Evict => "evict",
            MarkKind::Cancel => "cancel",
            MarkKind::Breaker => "breaker",
            MarkKind::Error => "error",
            MarkKind::Leak => "leak",
            MarkKind::Phase => "phase",
        }
    }

    /// Each kind has a shape of its own, so colour is never the only cue.
    pub fn glyph(self) -> &'static str {
        match self {
            MarkKind::Drop => "▼",
            MarkKind::Evict => "▽",
            MarkKind::Cancel => "✕",
            MarkKind::Breaker => "◆",
            MarkKind::Error => "●",
            MarkKind::Leak => "▲",
            MarkKind::Phase => "┃",
        }
    }

    /// The legend's word.
    pub fn word(self) -> &'static str {
        match self {
            MarkKind::Drop => "drop",
            MarkKind::Evict => "eviction",
            MarkKind::Cancel => "cancel",
            MarkKind::Breaker => "breaker",
            MarkKind::Error => "error",
            MarkKind::Leak => "leak",
            MarkKind::Phase => "phase",
        }
    }

    /// How much a moment tells, when several happen at one instant: the
    /// breaker moving says more than the failure that moved it.
    pub fn rank(self) -> u8 {
        match self {
            MarkKind::Breaker => 6,
            MarkKind::Leak => 5,
            MarkKind::Cancel => 4,
            MarkKind::Evict => 3,
            MarkKind::Drop => 2,
            MarkKind::Error => 1,
            MarkKind::Phase => 0,
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A moment worth marking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marker {
    pub kind: MarkKind,
    pub seq: u64,
    pub at_ms: u64,
}

/// One marker the timeline draws: the first of its kind in its column.
#[derive(Debug, Clone, PartialEq)]
pub struct Glyph {
    pub kind: MarkKind,
    /// Where it stands, from 0 (the timeline's start) to 1 (its end).
    pub x: f64,
    pub seq: u64,
    pub at_ms: u64,
    /// What happened, in words, for its tooltip.
    pub label: String,
}

/// The kind of marker `event` deserves, if any. `level` is the overload
/// level seen last, so only a change of level is marked.
pub fn mark(event: &Event, level: &mut Option<LoadLevel>) -> Option<MarkKind> {
    Some(match event {
        Event::Overload(OverloadEvent::Dropped {
            reason: DropReason::Evicted { .. },
            ..
        }) => MarkKind::Evict,
        Event::Overload(OverloadEvent::Dropped { .. }) => MarkKind::Drop,
        Event::Overload(OverloadEvent::Finished {
            outcome: shared::Outcome::Failed,
            ..
        }) => MarkKind::Error,
        Event::Overload(OverloadEvent::LoadSample { level: now, .. }) => {
            let before = level.replace(*now);
            if before.is_none_or(|b| b == *now) {
                return None;
            }
            MarkKind::Phase
        }
        Event::Cancellation(CancellationEvent::TokenCancelled { .. }) => MarkKind::Cancel,
        Event::Cancellation(CancellationEvent::TaskEnded {
            end: TaskEnd::Failed { .. },
            ..
        }) => MarkKind::Error,
        Event::Cancellation(CancellationEvent::Leaked { .. }) => MarkKind::Leak,
        Event::Cancellation(CancellationEvent::Phase { .. }) => MarkKind::Phase,
        Event::Resilience(ResilienceEvent::BreakerMoved { .. }) => MarkKind::Breaker,
        Event::Resilience(ResilienceEvent::JobEnded { outcome, .. }) => match outcome {
            JobOutcome::Failed { .. } | JobOutcome::TimedOut { .. } => MarkKind::Error,
            JobOutcome::Rejected { .. } => MarkKind::Drop,
            _ => return None,
        },
        Event::Flow(FlowEvent::ItemEnded { end, .. }) => match end {
            ItemEnd::Dropped { .. } | ItemEnd::Refused { .. } => MarkKind::Drop,
            ItemEnd::Failed { .. } | ItemEnd::TimedOut => MarkKind::Error,
            _ => return None,
        },
        Event::Flow(FlowEvent::WorkerPanicked { .. }) => MarkKind::Error,
        Event::Flow(FlowEvent::Draining) => MarkKind::Phase,
        Event::Run(RunEvent::Status { status }) if *status != RunStatus::Idle => MarkKind::Phase,
        _ => return None,
    })
}

/// What a marked event was, in words.
pub fn describe(event: &Event) -> String {
    match event {
        Event::Overload(OverloadEvent::Dropped { task, reason }) => match reason {
            DropReason::QueueFull => format!("task {task} dropped: the queue was full"),
            DropReason::Policy {
                level,
                min_priority,
            } => format!(
                "task {task} refused: at load {} only priority {min_priority} and up",
                level.as_str()
            ),
            DropReason::Evicted { by, .. } => {
                format!("task {task} evicted to make room for task {by}")
            }
        },
        Event::Overload(OverloadEvent::Finished { task, .. }) => format!("task {task} failed"),
        Event::Overload(OverloadEvent::LoadSample { level, .. }) => {
            format!("load level {}", level.as_str())
        }
        Event::Cancellation(CancellationEvent::TokenCancelled {
            node,
            cause,
            reached,
        }) => format!(
            "node {node} cancelled ({}), reaching {} more",
            cause.as_str().replace('_', " "),
            reached.len()
        ),
        Event::Cancellation(CancellationEvent::TaskEnded { node, end }) => match end {
            TaskEnd::Failed { error } => format!("node {node} failed: {error}"),
            _ => format!("node {node} ended"),
        },
        Event::Cancellation(CancellationEvent::Leaked { node }) => {
            format!("node {node} leaked: it will never exit")
        }
        Event::Cancellation(CancellationEvent::Phase { phase }) => {
            format!("shutdown: {}", phase.as_str().replace('_', " "))
        }
        Event::Resilience(ResilienceEvent::BreakerMoved { from, to }) => format!(
            "breaker {} → {}: {}",
            from.label(),
            to.label(),
            to.reason(*from)
        ),
        Event::Resilience(ResilienceEvent::JobEnded { job, outcome }) => {
            format!("job {job} {}", outcome.key().replace('_', " "))
        }
        Event::Flow(FlowEvent::ItemEnded { item, end }) => {
            format!("item {item} {}", end.key().replace('_', " "))
        }
        Event::Flow(FlowEvent::WorkerPanicked { stage, worker }) => {
            format!("worker {worker} of stage {stage} panicked and was restarted")
        }
        Event::Flow(FlowEvent::Draining) => "the sources stop; what was accepted drains".into(),
        Event::Run(RunEvent::Status { status }) => format!("the run is {}", status_word(*status)),
        _ => String::new(),
    }
}

fn status_word(status: RunStatus) -> &'static str {
    match status {
        RunStatus::Idle => "idle",
        RunStatus::Running => "running",
        RunStatus::Finished => "finished",
        RunStatus::Stopped => "stopped",
    }
}

/// A run's events since its last start, folded on demand.
#[derive(Debug, Clone)]
pub struct History {
    run: String,
    pattern: PatternId,
    /// The state before the first kept event.
    base: RunSnapshot,
    events: Vec<Envelope>,
    /// `checkpoints[i]` is the state after `events[..(i + 1) * CHECKPOINT_EVERY]`.
    checkpoints: Vec<RunSnapshot>,
    markers: Vec<Marker>,
    /// The overload level seen last, for [`mark`].
    level: Option<LoadLevel>,
    /// Where the timeline starts and ends (virtual milliseconds).
    span: (u64, u64),
    glyphs: Vec<Glyph>,
    /// For each column, the kinds it has a glyph of (one bit each).
    columns: Vec<u8>,
    /// Changes whenever the glyphs or the span do.
    version: u64,
    /// Set when the oldest events were cut: the instant of the last one cut.
    cut_before_ms: Option<u64>,
    /// The server's part should be fetched (at first, and after a gap).
    wanted: bool,
    /// The run started over since the server's part was asked for: what
    /// arrives is older than what is held, and is not used.
    restarted: bool,
    /// The server's part has arrived (or was not needed).
    loaded: bool,
    /// The furthest the stream jumped while the server's part was on its
    /// way: if that part ends before it, the gap is fetched again.
    jumped_to: u64,
}

impl History {
    /// An empty history of `run`, which wants the server's part.
    pub fn new(run: &str, pattern: PatternId) -> History {
        History {
            run: run.to_owned(),
            pattern,
            base: RunSnapshot::new(run, pattern),
            events: Vec::new(),
            checkpoints: Vec::new(),
            markers: Vec::new(),
            level: None,
            span: (0, MIN_SPAN_MS),
            glyphs: Vec::new(),
            columns: vec![0; COLUMNS],
            version: 0,
            cut_before_ms: None,
            wanted: true,
            restarted: false,
            loaded: false,
            jumped_to: 0,
        }
    }

    pub fn run(&self) -> &str {
        &self.run
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    pub fn events(&self) -> &[Envelope] {
        &self.events
    }

    pub fn markers(&self) -> &[Marker] {
        &self.markers
    }

    pub fn glyphs(&self) -> &[Glyph] {
        &self.glyphs
    }

    /// Changes whenever [`History::glyphs`] or [`History::span`] do.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The timeline's start and end, in virtual milliseconds.
    pub fn span(&self) -> (u64, u64) {
        self.span
    }

    pub fn cut_before_ms(&self) -> Option<u64> {
        self.cut_before_ms
    }

    /// The virtual instant of the last kept event (or of the base).
    pub fn end_ms(&self) -> u64 {
        self.events
            .last()
            .map_or(self.base.clock.now_ms, |e| e.at_ms)
    }

    /// The instant after the first `n` events.
    pub fn at_ms(&self, n: usize) -> u64 {
        match n.checked_sub(1).and_then(|i| self.events.get(i)) {
            Some(e) => e.at_ms,
            None if n == 0 => self.start_ms(),
            None => self.end_ms(),
        }
    }

    fn start_ms(&self) -> u64 {
        self.cut_before_ms.unwrap_or(0)
    }

    /// How many events happened at or before `ms`.
    pub fn count_until(&self, ms: u64) -> usize {
        self.events.partition_point(|e| e.at_ms <= ms)
    }

    /// How many events come before the one numbered `seq`, which is kept.
    pub fn index_of(&self, seq: u64) -> Option<usize> {
        self.events.binary_search_by_key(&seq, |e| e.seq).ok()
    }

    /// The run as it was after its first `n` kept events (all of them if
    /// `n` is larger): from the nearest checkpoint, folding at most
    /// [`CHECKPOINT_EVERY`] events.
    pub fn state_after(&self, n: usize) -> RunSnapshot {
        let n = n.min(self.events.len());
        let done = (n / CHECKPOINT_EVERY).min(self.checkpoints.len());
        let mut snap = match done.checked_sub(1) {
            Some(i) => self.checkpoints[i].clone(),
            None => self.base.clone(),
        };
        for env in &self.events[done * CHECKPOINT_EVERY..n] {
            snap.apply(env);
        }
        snap
    }

    /// Whether the server's part should be fetched.
    pub fn wants_fetch(&self) -> bool {
        self.wanted
    }

    /// Whether the server's part has arrived (or the run started over
    /// since, so it was not needed).
    pub fn loaded(&self) -> bool {
        self.loaded
    }

    /// Whether the server's part should be fetched now; asking clears it.
    pub fn take_wanted(&mut self) -> bool {
        self.restarted = false;
        std::mem::take(&mut self.wanted)
    }

    /// The stream skipped events (the run's state jumped to `seq`): the
    /// server's part is fetched again to fill the gap, unless the part on
    /// its way already reaches it.
    pub fn on_jump(&mut self, seq: u64) {
        if self.events.last().is_some_and(|e| e.seq >= seq) {
            return;
        }
        if self.loaded {
            self.wanted = true;
        } else {
            self.jumped_to = self.jumped_to.max(seq);
        }
    }

    /// The run starts over: the history begins again from `before`, the
    /// run's state just before its reset.
    pub fn restart(&mut self, before: RunSnapshot) {
        let (wanted, loaded) = (self.wanted, self.loaded);
        *self = History::new(&self.run, self.pattern);
        self.base = before;
        (self.wanted, self.loaded) = (wanted, loaded);
        self.restarted = true;
    }

    /// Keeps `env`, given the run's state right after it.
    pub fn push(&mut self, env: &Envelope, after: &RunSnapshot) {
        if self.events.last().is_some_and(|last| env.seq <= last.seq) {
            return;
        }
        self.events.push(env.clone());
        if self.events.len().is_multiple_of(CHECKPOINT_EVERY) {
            self.checkpoints.push(after.clone());
        }
        self.note(self.events.len() - 1);
        if self.events.len() > MAX_EVENTS {
            self.cut();
        }
    }

    /// Joins the server's history of the run (`events`, folding from
    /// `base`, or from the run's start when `base` is `None`) with the
    /// events the stream brought since.
    pub fn merge(&mut self, base: Option<RunSnapshot>, events: Vec<Envelope>) {
        if self.restarted {
            self.loaded = true;
            return;
        }
        let cut = base.as_ref().map(|b| b.clock.now_ms);
        let mut base = base.unwrap_or_else(|| RunSnapshot::new(&self.run, self.pattern));
        let mut events = events;
        // An uncut history starts at the run's last reset; a batch may
        // carry a few events from before it.
        if cut.is_none()
            && let Some(reset) = events
                .iter()
                .rposition(|e| matches!(e.event, Event::Run(RunEvent::Reset { .. })))
        {
            events.drain(..reset);
            base.seq = events[0].seq - 1;
        }
        let last = events.last().map_or(base.seq, |e| e.seq);
        let tail = self.events.iter().filter(|e| e.seq > last).cloned();
        let all: Vec<Envelope> = events.into_iter().chain(tail).collect();
        let wanted = self.wanted || last < self.jumped_to;
        *self = History::new(&self.run, self.pattern);
        self.wanted = wanted;
        self.cut_before_ms = cut;
        let mut snap = base.clone();
        self.base = base;
        self.span = (self.start_ms(), self.start_ms() + MIN_SPAN_MS);
        for (i, env) in all.into_iter().enumerate() {
            snap.apply(&env);
            self.events.push(env);
            if (i + 1).is_multiple_of(CHECKPOINT_EVERY) {
                self.checkpoints.push(snap.clone());
            }
            self.note(i);
        }
        self.version += 1;
        self.loaded = true;
        while self.events.len() > MAX_EVENTS {
            self.cut();
        }
    }

    /// Marks event `i`, if it deserves it, and stretches the span.
    fn note(&mut self, i: usize) {
        let env = &self.events[i];
        let at = env.at_ms;
        if let Some(kind) = mark(&env.event, &mut self.level) {
            self.markers.push(Marker {
                kind,
                seq: env.seq,
                at_ms: at,
            });
        }
        if at > self.span.1 {
            self.span.1 = self.span.0 + nice_span(at - self.span.0);
            self.redraw();
        } else if let Some(marker) = self
            .markers
            .last()
            .filter(|m| m.seq == self.events[i].seq)
            .copied()
        {
            self.draw(marker, i);
        }
    }

    /// Gathers every marker into the columns again, for a new span.
    fn redraw(&mut self) {
        self.glyphs.clear();
        self.columns.iter_mut().for_each(|c| *c = 0);
        for marker in self.markers.clone() {
            let i = self.index_of(marker.seq).unwrap_or(usize::MAX);
            self.draw(marker, i);
        }
        self.version += 1;
    }

    /// Draws `marker` (of event `i`) unless its column has one of its kind.
    fn draw(&mut self, marker: Marker, i: usize) {
        let (start, end) = self.span;
        let x = (marker.at_ms.saturating_sub(start)) as f64 / (end - start).max(1) as f64;
        let column = ((x * COLUMNS as f64) as usize).min(COLUMNS - 1);
        if self.columns[column] & marker.kind.bit() != 0 {
            return;
        }
        self.columns[column] |= marker.kind.bit();
        let label = self
            .events
            .get(i)
            .map(|e| describe(&e.event))
            .unwrap_or_default();
        self.glyphs.push(Glyph {
            kind: marker.kind,
            x,
            seq: marker.seq,
            at_ms: marker.at_ms,
            label,
        });
        self.version += 1;
    }

    /// Cuts the oldest quarter of the events, at a checkpoint.
    fn cut(&mut self) {
        let keep_from = (self.events.len() / 4 / CHECKPOINT_EVERY).max(1);
        let Some(base) = self.checkpoints.get(keep_from - 1).cloned() else {
            return;
        };
        let cut = keep_from * CHECKPOINT_EVERY;
        self.events.drain(..cut);
        self.checkpoints.drain(..keep_from);
        let first = self.events.first().map_or(u64::MAX, |e| e.seq);
        self.markers.retain(|m| m.seq >= first);
        self.cut_before_ms = Some(base.clock.now_ms);
        self.base = base;
        self.span = (
            self.start_ms(),
            self.start_ms() + nice_span(self.end_ms() - self.start_ms()),
        );
        self.redraw();
    }
}

/// The timeline's length for a history `ms` long: a round figure (1, 2 or
/// 5 times a power of ten) with room to grow, so it rescales rarely.
fn nice_span(ms: u64) -> u64 {
    let mut unit = MIN_SPAN_MS;
    loop {
        for step in [1, 2, 5] {
            if unit * step > ms {
                return unit * step;
            }
        }
        unit *= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{Params, Task, TaskKind};

    fn env(seq: u64, at_ms: u64, event: Event) -> Envelope {
        Envelope { seq, at_ms, event }
    }

    fn reset() -> Event {
        Event::Run(RunEvent::Reset {
            params: Params::new(),
            seed: 1,
            capacity: 2,
            workers: 1,
        })
    }

    /// A drop-basic run with `n` tasks, each submitted and dropped.
    fn drops(n: u64) -> Vec<Envelope> {
        let mut events = vec![
            env(1, 0, reset()),
            env(
                2,
                0,
                Event::Run(RunEvent::Status {
                    status: RunStatus::Running,
                }),
            ),
        ];
        for t in 0..n {
            let task = Task {
                id: t as u32,
                kind: TaskKind::Email,
                priority: 1,
                work_ms: 100,
            };
            let seq = events.len() as u64 + 1;
            events.push(env(
                seq,
                t * 10,
                Event::Overload(OverloadEvent::Submitted { task }),
            ));
            events.push(env(
                seq + 1,
                t * 10 + 5,
                Event::Overload(OverloadEvent::Dropped {
                    task: task.id,
                    reason: DropReason::QueueFull,
                }),
            ));
        }
        events
    }

    fn live(events: &[Envelope]) -> (History, Vec<RunSnapshot>) {
        let mut history = History::new("r", PatternId::DropBasic);
        let mut snap = RunSnapshot::new("r", PatternId::DropBasic);
        let mut states = Vec::new();
        for e in events {
            snap.apply(e);
            history.push(e, &snap);
            states.push(snap.clone());
        }
        (history, states)
    }

    #[test]
    fn any_instant_folds_to_the_state_the_run_had_then() {
        let events = drops(1_500);
        let (history, states) = live(&events);
        assert_eq!(history.len(), events.len());
        for n in [1, 2, 511, 512, 513, 1_024, 2_000, 3_001, events.len()] {
            assert_eq!(history.state_after(n), states[n - 1], "after {n} events");
        }
        assert_eq!(
            history.state_after(0),
            RunSnapshot::new("r", PatternId::DropBasic)
        );
    }

    #[test]
    fn the_servers_part_and_the_streams_join_without_doubles() {
        let events = drops(600);
        let (whole, _) = live(&events);
        // The page saw only the last 100 events live, 20 of them also in
        // the server's answer.
        let mut joined = History::new("r", PatternId::DropBasic);
        let mut snap = RunSnapshot::new("r", PatternId::DropBasic);
        for e in &events[..events.len() - 100] {
            snap.apply(e);
        }
        for e in &events[events.len() - 100..] {
            snap.apply(e);
            joined.push(e, &snap);
        }
        assert!(joined.take_wanted());
        joined.merge(None, events[..events.len() - 80].to_vec());
        assert_eq!(joined.len(), events.len());
        assert_eq!(
            joined.state_after(joined.len()),
            whole.state_after(whole.len())
        );
        assert_eq!(joined.markers(), whole.markers());
    }

    #[test]
    fn a_jump_while_the_servers_part_is_on_its_way_refetches_only_if_that_part_falls_short() {
        let events = drops(300);
        for (answered, refetch) in [(300, false), (200, true)] {
            let mut history = History::new("r", PatternId::DropBasic);
            assert!(history.take_wanted(), "the first fetch");
            // The stream's snapshot comes at event 250 before the answer.
            history.on_jump(events[249].seq);
            assert!(!history.take_wanted(), "no second fetch while waiting");
            history.merge(None, events[..answered].to_vec());
            assert_eq!(
                history.take_wanted(),
                refetch,
                "an answer of {answered} events"
            );
            // Loaded, a jump past what is held asks again.
            history.on_jump(events[299].seq + 5);
            assert!(history.take_wanted());
        }
    }

    #[test]
    fn markers_are_gathered_into_columns_and_rescale_as_the_run_grows() {
        let (history, _) = live(&drops(1_000));
        assert_eq!(
            history.markers().len(),
            1_000 + 1,
            "every drop and the start"
        );
        let drops = history
            .glyphs()
            .iter()
            .filter(|g| g.kind == MarkKind::Drop)
            .count();
        assert!(drops <= COLUMNS, "{drops} glyphs");
        assert!(drops > COLUMNS / 2, "{drops} glyphs cover the timeline");
        assert_eq!(history.span(), (0, 10_000));
        assert!(history.glyphs()[0].label.contains("the run is running"));
        assert!(history.glyphs().iter().all(|g| (0.0..=1.0).contains(&g.x)));
    }

    /// The state after the first `n` of `events`, folded from nothing.
    fn folded(events: &[Envelope], n: usize) -> RunSnapshot {
        let mut snap = RunSnapshot::new("r", PatternId::DropBasic);
        for e in &events[..n] {
            snap.apply(e);
        }
        snap
    }

    #[test]
    fn a_history_past_its_bound_is_cut_at_a_checkpoint_and_still_folds() {
        let events = drops(MAX_EVENTS as u64 / 2 + 10);
        let mut history = History::new("r", PatternId::DropBasic);
        let mut snap = RunSnapshot::new("r", PatternId::DropBasic);
        for e in &events {
            snap.apply(e);
            history.push(e, &snap);
        }
        assert!(history.len() <= MAX_EVENTS);
        let cut = history.cut_before_ms().expect("cut");
        assert!(cut > 0);
        let gone = events.len() - history.len();
        assert_eq!(history.state_after(0), folded(&events, gone));
        assert_eq!(history.state_after(1_000), folded(&events, gone + 1_000));
        assert_eq!(history.state_after(history.len()), snap);
        assert!(history.markers().iter().all(|m| m.at_ms >= cut));
    }

    #[test]
    fn only_a_change_of_load_level_is_marked() {
        let sample = |level| {
            Event::Overload(OverloadEvent::LoadSample {
                queued: 0,
                capacity: 1,
                level,
                min_priority: 0,
            })
        };
        let mut level = None;
        let marks: Vec<_> = [
            LoadLevel::Low,
            LoadLevel::Low,
            LoadLevel::High,
            LoadLevel::High,
        ]
        .into_iter()
        .map(|l| mark(&sample(l), &mut level))
        .collect();
        assert_eq!(marks, [None, None, Some(MarkKind::Phase), None]);
    }

    #[test]
    fn spans_are_round_figures_with_room() {
        assert_eq!(
            [0, 999, 1_000, 1_500, 4_999, 5_000, 12_000].map(nice_span),
            [1_000, 1_000, 2_000, 2_000, 5_000, 10_000, 20_000]
        );
    }
}

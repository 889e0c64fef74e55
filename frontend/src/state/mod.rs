//! The app's state: plain Rust with no browser APIs, so it is tested natively.
//!
//! [`Model`] holds every run's [`RunSnapshot`] as the event stream builds it,
//! the connection's state, and the short-lived bookkeeping animations need
//! (drops in flight to the bin, toasts, the "skipped events" notice). The
//! network layer feeds it through the `on_*` methods; components only read it.
//! Events are folded by [`RunSnapshot::apply`], never re-implemented here.

pub mod clock;
pub mod code;
pub mod flow;
pub mod history;
pub mod present;
pub mod resilience;
pub mod session;
pub mod tree;

use self::clock::VirtualClock;
use self::history::History;
use shared::classroom::{ClassView, Role};
use shared::overload::DropRecord;
use shared::{
    Batch, DropReason, Envelope, Event, Family, HistoryHeader, Lagged, OverloadEvent, PatternId,
    PatternInfo, Removed, RunEvent, RunSnapshot, RunStatus, RunSummary,
};
use std::collections::{HashMap, VecDeque};

/// How many drop animations are remembered. Older ones have long finished
/// flying; the bound keeps a flood of drops from growing the page.
pub const MAX_FLIGHTS: usize = 16;

/// The least wall-clock time between two drop animations of one run. At a
/// few drops a second every drop flies; in a flood of hundreds a second the
/// bin shows a steady stream instead of a pile-up (the counters and the bin's
/// list still count every drop).
pub const FLIGHT_GAP_MS: f64 = 70.0;

/// The state of the one event stream, as the header badge shows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Connection {
    #[default]
    Connecting,
    Live,
    /// The stream broke and the browser is trying again.
    Reconnecting,
    /// The server said we fell behind; fresh snapshots follow.
    Lagged,
}

impl Connection {
    /// The value of the badge's `data-state` attribute.
    pub fn as_str(self) -> &'static str {
        match self {
            Connection::Connecting => "connecting",
            Connection::Live => "live",
            Connection::Reconnecting => "reconnecting",
            Connection::Lagged => "lagged",
        }
    }

    /// The badge's text: the state is never told by colour alone.
    pub fn label(self) -> &'static str {
        match self {
            Connection::Connecting => "Connecting…",
            Connection::Live => "Live",
            Connection::Reconnecting => "Reconnecting…",
            Connection::Lagged => "Catching up",
        }
    }
}

/// Data fetched once, with its loading and failure states.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum Loadable<T> {
    #[default]
    Loading,
    Ready(T),
    Failed(String),
}

/// Where a dropped task was when it was dropped, so its animation starts there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Refused at the door: the producer was holding it.
    Producer,
    /// Evicted from this queue slot (0 = next out).
    Slot(usize),
}

/// A drop seen live, on its way to the drop bin.
#[derive(Debug, Clone, PartialEq)]
pub struct Flight {
    /// Unique for the life of the page, so each flight animates exactly once.
    pub id: u64,
    pub run: String,
    pub record: DropRecord,
    pub origin: Origin,
}

/// A message for the user that goes away by itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Toast {
    pub id: u64,
    pub text: String,
}

/// The "skipped N events" notice shown after a `lagged` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LagNotice {
    pub id: u64,
    pub skipped: u64,
}

/// The run on screen shown as it was at an earlier instant, while the
/// engine keeps running.
#[derive(Debug, Clone)]
pub struct Scrub {
    pub run: String,
    /// How many of the history's events are folded in.
    pub index: usize,
    /// The virtual instant shown.
    pub at_ms: u64,
    pub snap: RunSnapshot,
}

/// Everything the view shows.
#[derive(Debug, Default)]
pub struct Model {
    patterns: Loadable<Vec<PatternInfo>>,
    /// How many times the pattern list was set: what views of the list
    /// follow, rather than every event the model folds.
    patterns_set: u32,
    runs: HashMap<String, RunSnapshot>,
    /// Kept beside the snapshots (not in them) because it is the browser's
    /// guess between events, not something the server said.
    clocks: HashMap<String, VirtualClock>,
    connection: Connection,
    lag: Option<LagNotice>,
    flights: VecDeque<Flight>,
    /// When each run's latest flight took off (wall-clock milliseconds).
    last_takeoff: HashMap<String, f64>,
    toasts: Vec<Toast>,
    /// Source of flight, toast and notice ids.
    next_id: u64,
    /// The classroom session as this browser sees it; `None` outside one.
    class: Option<ClassView>,
    /// The runs this browser made for itself in a classroom session.
    own_runs: Vec<String>,
    /// The history of the run on screen, for its timeline.
    history: Option<History>,
    /// Set while the timeline shows an earlier instant.
    scrub: Option<Scrub>,
    /// The event (wire name) whose line was clicked in the code pane.
    code_focus: Option<String>,
    /// The shared runs' status, from the stream's summaries: what the
    /// navigation shows of the runs this tab does not follow.
    summaries: Vec<RunSummary>,
    /// Batches of runs whose snapshot is still on its way, to fold once it
    /// comes: the stream may bring a run before its snapshot does.
    /// A handful at a time, so a list (a map would cost the bundle more).
    waiting: Vec<Batch>,
    /// The runs this tab follows, once it has said: batches of others
    /// (sent just before the stream heard) are ignored.
    followed: Option<Vec<String>>,
}

/// The most batches kept while a snapshot is on its way
/// (about half a minute of frames); beyond that they are dropped and the
/// snapshot is asked for again.
const MAX_WAITING: usize = 2048;

impl Model {
    /// The classroom session, if the server runs one.
    pub fn class(&self) -> Option<&ClassView> {
        self.class.as_ref()
    }

    pub fn on_class(&mut self, view: ClassView) {
        self.class = Some(view);
    }

    /// Notes a run this browser made for itself.
    pub fn own(&mut self, run: String) {
        self.own_runs.push(run);
    }

    /// Whether this browser may command `run`: always outside a session;
    /// in one, the presenter any run, a student only a run of their own.
    pub fn may_command(&self, run: &str) -> bool {
        match &self.class {
            None => true,
            Some(class) => class.role == Role::Presenter || self.own_runs.iter().any(|r| r == run),
        }
    }

    pub fn patterns(&self) -> &Loadable<Vec<PatternInfo>> {
        &self.patterns
    }

    /// Changes exactly when the pattern list does (see [`Model::on_patterns`]).
    pub fn patterns_set(&self) -> u32 {
        self.patterns_set
    }

    pub fn pattern(&self, id: PatternId) -> Option<&PatternInfo> {
        match &self.patterns {
            Loadable::Ready(list) => list.iter().find(|p| p.id == id),
            _ => None,
        }
    }

    /// The patterns grouped by family, both in the server's order.
    pub fn families(&self) -> Vec<(Family, Vec<PatternInfo>)> {
        let mut groups: Vec<(Family, Vec<PatternInfo>)> = Vec::new();
        if let Loadable::Ready(list) = &self.patterns {
            for info in list {
                match groups.iter_mut().find(|(f, _)| *f == info.family) {
                    Some((_, members)) => members.push(info.clone()),
                    None => groups.push((info.family, vec![info.clone()])),
                }
            }
        }
        groups
    }

    /// The run as the page shows it: as it was at the scrubbed instant,
    /// if the timeline is scrubbed, else as it is.
    pub fn run(&self, run: &str) -> Option<&RunSnapshot> {
        match &self.scrub {
            Some(scrub) if scrub.run == run => Some(&scrub.snap),
            _ => self.runs.get(run),
        }
    }

    /// The run as it is now, whatever the timeline shows: what commands act on.
    pub fn live(&self, run: &str) -> Option<&RunSnapshot> {
        self.runs.get(run)
    }

    /// The history of the run on screen.
    pub fn history(&self) -> Option<&History> {
        self.history.as_ref()
    }

    /// Keeps the history of `run` (the run on screen) from now on; the
    /// history of any other run is let go.
    pub fn follow_history(&mut self, run: &str, pattern: PatternId) {
        if self.history.as_ref().is_none_or(|h| h.run() != run) {
            self.history = Some(History::new(run, pattern));
            self.scrub = None;
        }
    }

    /// The page of `run` closed: its history and scrub go.
    pub fn unfollow_history(&mut self, run: &str) {
        if self.history.as_ref().is_some_and(|h| h.run() == run) {
            self.history = None;
            self.scrub = None;
        }
    }

    /// The run whose server history should be fetched now, if any.
    pub fn history_to_fetch(&mut self) -> Option<String> {
        let history = self.history.as_mut()?;
        history.take_wanted().then(|| history.run().to_owned())
    }

    /// The server's history of a run arrived.
    pub fn on_history(&mut self, header: HistoryHeader, events: Vec<Envelope>) {
        let Some(history) = self.history.as_mut().filter(|h| h.run() == header.run) else {
            return;
        };
        history.merge(header.base.map(|b| *b), events);
        if let Some(scrub) = &self.scrub {
            let at = scrub.at_ms;
            self.scrub_to_ms(at);
        }
    }

    /// What happened at the last instant the page shows of the run on
    /// screen (the present, or where the timeline is scrubbed to): the
    /// events' wire names, latest first, each once, with the rank of the
    /// moment if the timeline marks it (see [`history::MarkKind::rank`]).
    pub fn latest_events(&self) -> Vec<(&'static str, Option<u8>)> {
        /// Enough for one instant of any scene; a flood keeps its latest.
        const MOST: usize = 64;
        let Some(history) = self.history.as_ref() else {
            return Vec::new();
        };
        let shown = self
            .scrub
            .as_ref()
            .filter(|s| s.run == history.run())
            .map_or(history.len(), |s| s.index);
        let events = &history.events()[..shown.min(history.len())];
        let Some(last) = events.last() else {
            return Vec::new();
        };
        let mut names: Vec<(&'static str, Option<u8>)> = Vec::new();
        for env in events.iter().rev().take(MOST) {
            if env.at_ms != last.at_ms {
                break;
            }
            let name = env.event.name();
            if !names.iter().any(|(n, _)| *n == name) {
                let rank = history::mark(&env.event, &mut None).map(history::MarkKind::rank);
                names.push((name, rank));
            }
        }
        names
    }

    /// The event whose line was clicked in the code pane.
    pub fn code_focus(&self) -> Option<&str> {
        self.code_focus.as_deref()
    }

    /// Clicking a marked line focuses its event; clicking it again lets go.
    pub fn toggle_code_focus(&mut self, event: &str) {
        self.code_focus = match self.code_focus.take() {
            Some(was) if was == event => None,
            _ => Some(event.to_owned()),
        };
    }

    /// The events shown so far of the focused kind: their instants (for the
    /// timeline) and, for the latest few, what they are about (for the scene).
    pub fn focused_events(&self, last: usize) -> (Vec<u64>, Vec<(&'static str, u64)>) {
        let (Some(focus), Some(history)) = (&self.code_focus, &self.history) else {
            return (Vec::new(), Vec::new());
        };
        let shown = self
            .scrub
            .as_ref()
            .filter(|s| s.run == history.run())
            .map_or(history.len(), |s| s.index);
        let mut instants = Vec::new();
        let mut about = Vec::new();
        for env in history.events()[..shown].iter().rev() {
            if env.event.name() != focus {
                continue;
            }
            instants.push(env.at_ms);
            if about.len() < last
                && let Some(entity) = code::entity(&env.event)
                && !about.contains(&entity)
            {
                about.push(entity);
            }
        }
        instants.reverse();
        (instants, about)
    }

    pub fn scrub(&self) -> Option<&Scrub> {
        self.scrub.as_ref()
    }

    /// Shows the run on screen after its first `index` kept events.
    pub fn scrub_to(&mut self, index: usize) {
        let Some(history) = &self.history else {
            return;
        };
        let index = index.min(history.len());
        self.scrub = Some(Scrub {
            run: history.run().to_owned(),
            index,
            at_ms: history.at_ms(index),
            snap: history.state_after(index),
        });
    }

    /// Shows the run on screen as it was at virtual instant `ms`.
    pub fn scrub_to_ms(&mut self, ms: u64) {
        let Some(history) = &self.history else {
            return;
        };
        let (index, end) = (history.count_until(ms), history.end_ms());
        self.scrub_to(index);
        if let Some(scrub) = &mut self.scrub {
            scrub.at_ms = ms.clamp(scrub.at_ms, end.max(scrub.at_ms));
        }
    }

    /// Shows the run on screen just after its event numbered `seq`.
    pub fn scrub_to_seq(&mut self, seq: u64) {
        if let Some(i) = self.history.as_ref().and_then(|h| h.index_of(seq)) {
            self.scrub_to(i + 1);
        }
    }

    /// Moves the scrubbed instant to the next marked moment (or the one
    /// before, if not `forward`).
    pub fn scrub_to_marker(&mut self, forward: bool) {
        let Some(history) = &self.history else {
            return;
        };
        let index = self.scrub.as_ref().map_or(history.len(), |s| s.index);
        // The event shown last, whose marker (if any) is where we are.
        let current = index
            .checked_sub(1)
            .and_then(|i| history.events().get(i))
            .map_or(0, |e| e.seq);
        let markers = history.markers();
        let next = markers.partition_point(|m| m.seq <= current);
        let target = if forward {
            markers.get(next)
        } else {
            let at = markers.partition_point(|m| m.seq < current);
            at.checked_sub(1).and_then(|i| markers.get(i))
        };
        if let Some(seq) = target.map(|m| m.seq) {
            self.scrub_to_seq(seq);
        }
    }

    /// Moves the scrubbed instant `by` events (from the present, if the
    /// timeline was live).
    pub fn scrub_by(&mut self, by: isize) {
        let Some(history) = &self.history else {
            return;
        };
        let from = self.scrub.as_ref().map_or(history.len(), |s| s.index);
        self.scrub_to(from.saturating_add_signed(by));
    }

    /// Back to the present.
    pub fn go_live(&mut self) {
        self.scrub = None;
    }

    pub fn connection(&self) -> Connection {
        self.connection
    }

    pub fn lag(&self) -> Option<LagNotice> {
        self.lag
    }

    pub fn toasts(&self) -> &[Toast] {
        &self.toasts
    }

    /// The drops of `run` seen live with an id above `after`, oldest first
    /// (none while the timeline shows an earlier instant).
    pub fn flights(&self, run: &str, after: u64) -> Vec<Flight> {
        if self.scrub.as_ref().is_some_and(|s| s.run == run) {
            return Vec::new();
        }
        self.flights
            .iter()
            .filter(|f| f.run == run && f.id > after)
            .cloned()
            .collect()
    }

    /// The newest flight id so far (0: none), so a view that mounts later
    /// animates only what happens after it appeared.
    pub fn last_flight_id(&self) -> u64 {
        self.flights.back().map_or(0, |f| f.id)
    }

    /// The run's estimated virtual time at wall-clock instant `wall`.
    pub fn virtual_now(&self, run: &str, wall: f64) -> Option<f64> {
        if let Some(scrub) = self.scrub.as_ref().filter(|s| s.run == run) {
            return Some(scrub.at_ms as f64);
        }
        self.clocks.get(run).map(|c| c.now(wall))
    }

    pub fn on_patterns(&mut self, result: Result<Vec<PatternInfo>, String>) {
        self.patterns_set += 1;
        self.patterns = match result {
            Ok(list) => Loadable::Ready(list),
            Err(e) => Loadable::Failed(e),
        };
    }

    /// The stream (re)opened.
    pub fn on_open(&mut self) {
        self.connection = Connection::Live;
    }

    /// The stream failed; the browser (or, if it gave up, the network
    /// layer) is trying again.
    pub fn on_error(&mut self) {
        self.connection = Connection::Reconnecting;
    }

    /// A `snapshot` message: the run's whole state replaces what we had.
    pub fn on_snapshot(&mut self, snap: RunSnapshot, wall: f64) {
        if !self.follows(&snap.run) {
            return;
        }
        observe_clock(&mut self.clocks, &snap, snap.clock.now_ms, wall);
        if let Some(history) = self.history.as_mut().filter(|h| h.run() == snap.run) {
            history.on_jump(snap.seq);
        }
        let run = snap.run.clone();
        let seq = snap.seq;
        self.runs.insert(run.clone(), snap);
        let (waiting, others) = std::mem::take(&mut self.waiting)
            .into_iter()
            .partition::<Vec<_>, _>(|b| b.run == run);
        self.waiting = others;
        if !waiting.is_empty() {
            // What came while the snapshot was on its way must continue it
            // without a gap, or the snapshot is asked for again.
            let next = waiting
                .iter()
                .flat_map(|b| &b.events)
                .find(|e| e.seq > seq)
                .map(|e| e.seq);
            if next.is_some_and(|next| next > seq + 1) {
                self.runs.remove(&run);
                return;
            }
            self.on_batch(waiting, wall);
        }
    }

    /// A `removed` message: the run was deleted or reclaimed, so nothing of
    /// it is kept.
    pub fn on_removed(&mut self, removed: &Removed) {
        self.runs.remove(&removed.run);
        self.clocks.remove(&removed.run);
        self.unfollow_history(&removed.run);
        self.flights.retain(|f| f.run != removed.run);
    }

    /// A `summary` message: the shared runs' status now.
    pub fn on_summaries(&mut self, summaries: Vec<RunSummary>) {
        self.summaries = summaries;
    }

    /// A shared run's status and whether it is paused: from the run itself
    /// if this tab follows it, else from the latest summary.
    pub fn status(&self, run: &str) -> Option<(RunStatus, bool)> {
        match self.live(run) {
            Some(snap) => Some((snap.status, snap.clock.paused)),
            None => self
                .summaries
                .iter()
                .find(|s| s.run == run)
                .map(|s| (s.status, s.paused)),
        }
    }

    /// The tab now follows `runs` and no others: what it held of the others
    /// is dropped (see [`Model::forget`]).
    pub fn follow(&mut self, runs: &[String]) {
        let left: Vec<String> = self
            .runs
            .keys()
            .filter(|r| !runs.contains(*r))
            .cloned()
            .collect();
        for run in left {
            self.forget(&run);
        }
        self.followed = Some(runs.to_vec());
    }

    /// Whether the tab follows `run` (all runs, until it has said).
    fn follows(&self, run: &str) -> bool {
        self.followed
            .as_ref()
            .is_none_or(|f| f.iter().any(|r| r == run))
    }

    /// The tab no longer shows `run`: its state is dropped, so coming back
    /// starts from a fresh snapshot rather than a stale one.
    pub fn forget(&mut self, run: &str) {
        self.runs.remove(run);
        self.clocks.remove(run);
        self.waiting.retain(|b| b.run != run);
        self.flights.retain(|f| f.run != run);
    }

    /// A snapshot fetched over HTTP. The stream may already have brought
    /// newer events, so it is taken only if it is ahead of what we hold.
    pub fn adopt_snapshot(&mut self, snap: RunSnapshot, wall: f64) {
        let newer = self
            .runs
            .get(&snap.run)
            .is_none_or(|have| snap.seq > have.seq);
        if newer {
            self.on_snapshot(snap, wall);
        }
    }

    /// A `batch` message. Returns the runs it named that we hold no snapshot
    /// of: their events cannot be folded without one, so the caller fetches it.
    pub fn on_batch(&mut self, batches: Vec<Batch>, wall: f64) -> Vec<String> {
        let mut unknown = Vec::new();
        for batch in batches {
            if !self.follows(&batch.run) {
                continue;
            }
            let Some(snap) = self.runs.get_mut(&batch.run) else {
                if self.waiting.len() == MAX_WAITING {
                    self.waiting.clear();
                }
                unknown.push(batch.run.clone());
                self.waiting.push(batch);
                continue;
            };
            let mut history = self.history.as_mut().filter(|h| h.run() == batch.run);
            let mut new_drops = Vec::new();
            let mut latest = None;
            for env in &batch.events {
                // Where a drop starts its flight must be read before the fold
                // removes the task from the scene.
                let origin = match &env.event {
                    Event::Overload(OverloadEvent::Dropped {
                        task,
                        reason: DropReason::Evicted { .. },
                    }) => snap
                        .overload()
                        .queue
                        .iter()
                        .position(|t| t.id == *task)
                        .map(Origin::Slot),
                    Event::Overload(OverloadEvent::Dropped { .. }) => Some(Origin::Producer),
                    _ => None,
                };
                let starts_over = matches!(env.event, Event::Run(RunEvent::Reset { .. }));
                if starts_over
                    && env.seq > snap.seq
                    && let Some(history) = history.as_mut()
                {
                    history.restart(snap.clone());
                    if self.scrub.as_ref().is_some_and(|s| s.run == batch.run) {
                        self.scrub = None;
                    }
                }
                if !snap.apply(env) {
                    continue;
                }
                if let Some(history) = history.as_mut() {
                    history.push(env, snap);
                }
                latest = Some(env.at_ms);
                if let (Event::Overload(OverloadEvent::Dropped { task, .. }), Some(origin)) =
                    (&env.event, origin)
                    && let Some(record) =
                        snap.overload().drops.last().filter(|r| r.task.id == *task)
                {
                    new_drops.push((*record, origin));
                }
            }
            if let Some(at) = latest {
                observe_clock(&mut self.clocks, snap, at, wall);
            }
            for (record, origin) in new_drops {
                let last = self.last_takeoff.get(&batch.run).copied();
                if last.is_none_or(|t| wall - t >= FLIGHT_GAP_MS) {
                    self.last_takeoff.insert(batch.run.clone(), wall);
                    self.push_flight(batch.run.clone(), record, origin);
                }
            }
        }
        unknown
    }

    /// A `lagged` message. Returns the notice's id, for [`Model::settle_lag`].
    pub fn on_lagged(&mut self, lagged: Lagged) -> u64 {
        let id = self.next_id();
        self.lag = Some(LagNotice {
            id,
            skipped: lagged.skipped,
        });
        self.connection = Connection::Lagged;
        id
    }

    /// A while after a `lagged` message: back to live, unless another lag
    /// notice or a broken connection came since.
    pub fn settle_lag(&mut self, id: u64) {
        if self.lag.is_some_and(|l| l.id == id) {
            self.lag = None;
            if self.connection == Connection::Lagged {
                self.connection = Connection::Live;
            }
        }
    }

    pub fn push_toast(&mut self, text: impl Into<String>) -> u64 {
        let id = self.next_id();
        self.toasts.push(Toast {
            id,
            text: text.into(),
        });
        id
    }

    pub fn dismiss_toast(&mut self, id: u64) {
        self.toasts.retain(|t| t.id != id);
    }

    fn push_flight(&mut self, run: String, record: DropRecord, origin: Origin) {
        let id = self.next_id();
        if self.flights.len() == MAX_FLIGHTS {
            self.flights.pop_front();
        }
        self.flights.push_back(Flight {
            id,
            run,
            record,
            origin,
        });
    }

    fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

/// Moves a run's clock estimate to an event at `at_ms` seen at `wall`.
fn observe_clock(
    clocks: &mut HashMap<String, VirtualClock>,
    snap: &RunSnapshot,
    at_ms: u64,
    wall: f64,
) {
    let advancing = snap.status == RunStatus::Running && !snap.clock.paused;
    let speed = snap.clock.speed;
    clocks
        .entry(snap.run.clone())
        .and_modify(|c| c.observe(at_ms, wall, speed, advancing))
        .or_insert_with(|| VirtualClock::new(at_ms, wall, speed, advancing));
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{Envelope, Params, RunEvent, Task, TaskKind};

    fn env(seq: u64, at_ms: u64, event: Event) -> Envelope {
        Envelope { seq, at_ms, event }
    }

    fn task(id: u32, priority: u8) -> Task {
        Task {
            id,
            kind: TaskKind::Email,
            priority,
            work_ms: 200,
        }
    }

    fn reset(capacity: u32) -> Event {
        Event::Run(RunEvent::Reset {
            params: Params::new(),
            seed: 7,
            capacity,
            workers: 1,
        })
    }

    /// A run that has seen its reset and was started, as a fresh snapshot.
    fn started(run: &str, capacity: u32) -> RunSnapshot {
        let mut snap = RunSnapshot::new(run, PatternId::DropBasic);
        snap.apply(&env(1, 0, reset(capacity)));
        snap.apply(&env(
            2,
            0,
            Event::Run(RunEvent::Status {
                status: RunStatus::Running,
            }),
        ));
        snap
    }

    fn batch(run: &str, events: Vec<Envelope>) -> Vec<Batch> {
        vec![Batch {
            run: run.into(),
            events,
        }]
    }

    #[test]
    fn a_batch_after_a_snapshot_folds_in_order() {
        let mut model = Model::default();
        model.on_snapshot(started("r", 2), 0.0);
        let events = vec![
            env(
                3,
                10,
                Event::Overload(OverloadEvent::Submitted { task: task(0, 5) }),
            ),
            env(4, 10, Event::Overload(OverloadEvent::Enqueued { task: 0 })),
            env(
                5,
                20,
                Event::Overload(OverloadEvent::Started { task: 0, worker: 0 }),
            ),
            env(
                6,
                30,
                Event::Overload(OverloadEvent::Submitted { task: task(1, 5) }),
            ),
            env(7, 30, Event::Overload(OverloadEvent::Enqueued { task: 1 })),
        ];
        assert!(model.on_batch(batch("r", events), 100.0).is_empty());
        let snap = model.run("r").expect("the run is known");
        assert_eq!(snap.seq, 7);
        assert_eq!(snap.counters.submitted, 2);
        assert_eq!(
            snap.overload()
                .queue
                .iter()
                .map(|t| t.id)
                .collect::<Vec<_>>(),
            [1]
        );
        assert_eq!(snap.overload().workers[0].task.map(|t| t.id), Some(0));
        assert!(snap.counters.is_conserved());
    }

    /// A tab that starts following a run the stream already carries gets
    /// its batches before its snapshot: they wait, and fold on top of it.
    #[test]
    fn batches_before_the_snapshot_wait_and_fold_after_it_without_a_gap() {
        let submitted = |seq: u64, id: u32| {
            env(
                seq,
                seq * 10,
                Event::Overload(OverloadEvent::Submitted { task: task(id, 5) }),
            )
        };
        let mut model = Model::default();
        model.follow(&["r".to_owned()]);
        // Another tab's run, sent before the stream heard: ignored.
        assert!(
            model
                .on_batch(batch("other", vec![submitted(3, 0)]), 0.0)
                .is_empty()
        );
        assert!(model.run("other").is_none());
        // Ours, before its snapshot: kept, and the snapshot asked for.
        let unknown = model.on_batch(batch("r", vec![submitted(3, 0), submitted(4, 1)]), 0.0);
        assert_eq!(unknown, ["r"]);
        // The snapshot is at 3: event 4 folds on top of it, 3 is not counted twice.
        let mut at_three = started("r", 2);
        at_three.apply(&submitted(3, 0));
        model.adopt_snapshot(at_three, 0.0);
        let snap = model.run("r").expect("the run is known");
        assert_eq!((snap.seq, snap.counters.submitted), (4, 2));

        // A snapshot the waiting batches do not continue is dropped, so the
        // next batch asks for a fresh one rather than folding over a gap.
        model.follow(&["s".to_owned()]);
        assert!(
            model.run("r").is_none(),
            "what it no longer shows is dropped"
        );
        model.on_batch(batch("s", vec![submitted(9, 0)]), 0.0);
        model.adopt_snapshot(started("s", 2), 0.0);
        assert!(model.run("s").is_none(), "events 3 to 8 are missing");
    }

    #[test]
    fn the_timeline_shows_an_earlier_instant_while_the_run_goes_on() {
        let mut model = Model::default();
        model.on_snapshot(started("r", 1), 0.0);
        model.follow_history("r", PatternId::DropBasic);
        assert_eq!(model.history_to_fetch().as_deref(), Some("r"));
        assert_eq!(model.history_to_fetch(), None, "asked once");
        // The server's part: the run's start.
        let head = HistoryHeader {
            format: shared::stream::HISTORY_FORMAT,
            run: "r".into(),
            pattern: PatternId::DropBasic,
            params: Params::new(),
            seed: 7,
            speed: 1.0,
            first_seq: 1,
            cut_before_ms: None,
            base: None,
        };
        let start = env(
            2,
            0,
            Event::Run(RunEvent::Status {
                status: RunStatus::Running,
            }),
        );
        model.on_history(head, vec![env(1, 0, reset(1)), start]);
        let drop = |seq, at, id| {
            vec![
                env(
                    seq,
                    at,
                    Event::Overload(OverloadEvent::Submitted { task: task(id, 5) }),
                ),
                env(
                    seq + 1,
                    at,
                    Event::Overload(OverloadEvent::Dropped {
                        task: id,
                        reason: DropReason::QueueFull,
                    }),
                ),
            ]
        };
        model.on_batch(batch("r", drop(3, 100, 0)), 10.0);
        model.on_batch(batch("r", drop(5, 200, 1)), 200.0);
        assert_eq!(model.history().map(History::len), Some(6));

        model.scrub_to_ms(150);
        let shown = model.run("r").expect("shown");
        assert_eq!((shown.seq, shown.counters.dropped), (4, 1));
        assert_eq!(model.live("r").map(|s| s.counters.dropped), Some(2));
        assert_eq!(model.virtual_now("r", 999.0), Some(150.0));
        assert!(
            model.flights("r", 0).is_empty(),
            "no drop flies in the past"
        );
        // The engine goes on; the scrub stays where it was.
        model.on_batch(batch("r", drop(7, 300, 2)), 300.0);
        assert_eq!(model.run("r").map(|s| s.seq), Some(4));
        model.scrub_by(1);
        assert_eq!(model.run("r").map(|s| s.seq), Some(5));
        model.scrub_to_marker(true);
        assert_eq!(model.run("r").map(|s| s.seq), Some(6), "the next drop");
        model.scrub_to_marker(false);
        assert_eq!(model.run("r").map(|s| s.seq), Some(4), "the drop before");
        model.go_live();
        assert_eq!(model.run("r").map(|s| s.seq), Some(8));

        // A restart starts the history over and ends the scrub.
        model.scrub_to(3);
        model.on_batch(batch("r", vec![env(9, 0, reset(1))]), 400.0);
        assert!(model.scrub().is_none());
        assert_eq!(model.history().map(History::len), Some(1));
        model.unfollow_history("r");
        assert!(model.history().is_none());
    }

    #[test]
    fn a_duplicate_batch_is_ignored() {
        let mut model = Model::default();
        model.on_snapshot(started("r", 1), 0.0);
        let events = vec![
            env(
                3,
                10,
                Event::Overload(OverloadEvent::Submitted { task: task(0, 5) }),
            ),
            env(
                4,
                10,
                Event::Overload(OverloadEvent::Dropped {
                    task: 0,
                    reason: DropReason::QueueFull,
                }),
            ),
        ];
        model.on_batch(batch("r", events.clone()), 10.0);
        model.on_batch(batch("r", events), 20.0);
        let snap = model.run("r").expect("the run is known");
        assert_eq!(snap.counters.submitted, 1);
        assert_eq!(snap.counters.dropped, 1);
        assert_eq!(
            model.flights("r", 0).len(),
            1,
            "a replayed drop must not fly twice"
        );
    }

    #[test]
    fn a_batch_for_an_unknown_run_is_reported_not_folded() {
        let mut model = Model::default();
        let unknown = model.on_batch(batch("ghost", vec![env(1, 0, reset(3))]), 0.0);
        assert_eq!(unknown, ["ghost"]);
        assert!(model.run("ghost").is_none());
    }

    #[test]
    fn a_snapshot_replaces_the_run_but_a_stale_fetched_one_does_not() {
        let mut model = Model::default();
        model.on_snapshot(started("r", 2), 0.0);
        model.on_batch(
            batch(
                "r",
                vec![env(
                    3,
                    10,
                    Event::Overload(OverloadEvent::Submitted { task: task(0, 1) }),
                )],
            ),
            0.0,
        );
        let stale = started("r", 2);
        model.adopt_snapshot(stale.clone(), 0.0);
        assert_eq!(
            model.run("r").map(|s| s.seq),
            Some(3),
            "a fetched snapshot behind the stream is ignored"
        );
        model.on_snapshot(stale, 0.0);
        assert_eq!(
            model.run("r").map(|s| s.seq),
            Some(2),
            "the stream's snapshot is the truth"
        );
    }

    fn evicted(task: u32, by: u32) -> Event {
        let reason = DropReason::Evicted { by, by_priority: 9 };
        Event::Overload(OverloadEvent::Dropped { task, reason })
    }

    fn refused(task: u32) -> Event {
        let reason = DropReason::QueueFull;
        Event::Overload(OverloadEvent::Dropped { task, reason })
    }

    #[test]
    fn drops_fly_from_where_the_task_was() {
        let mut model = Model::default();
        model.on_snapshot(started("r", 2), 0.0);
        let filling = vec![
            env(
                3,
                0,
                Event::Overload(OverloadEvent::Submitted { task: task(0, 1) }),
            ),
            env(4, 0, Event::Overload(OverloadEvent::Enqueued { task: 0 })),
            env(
                5,
                0,
                Event::Overload(OverloadEvent::Submitted { task: task(1, 5) }),
            ),
            env(6, 0, Event::Overload(OverloadEvent::Enqueued { task: 1 })),
        ];
        model.on_batch(batch("r", filling), 0.0);
        let evicting = vec![
            env(
                7,
                50,
                Event::Overload(OverloadEvent::Submitted { task: task(2, 9) }),
            ),
            env(8, 50, evicted(0, 2)),
            env(9, 50, Event::Overload(OverloadEvent::Enqueued { task: 2 })),
        ];
        model.on_batch(batch("r", evicting), 100.0);
        let refusing = vec![
            env(
                10,
                60,
                Event::Overload(OverloadEvent::Submitted { task: task(3, 1) }),
            ),
            env(11, 60, refused(3)),
        ];
        model.on_batch(batch("r", refusing), 200.0);
        let flights = model.flights("r", 0);
        let seen: Vec<_> = flights
            .iter()
            .map(|f| (f.record.task.id, f.origin))
            .collect();
        assert_eq!(seen, [(0, Origin::Slot(0)), (3, Origin::Producer)]);
        let last = model.last_flight_id();
        assert!(
            model.flights("r", last).is_empty(),
            "a view mounted now has nothing to replay"
        );
        assert!(model.flights("other", 0).is_empty());
    }

    /// Submits and drops `n` tasks from `first`, one batch each, `gap_ms` of
    /// wall time apart.
    fn flood(model: &mut Model, first: u32, n: u32, gap_ms: f64) {
        for id in first..first + n {
            let seq = 3 + 2 * u64::from(id);
            let events = vec![
                env(
                    seq,
                    0,
                    Event::Overload(OverloadEvent::Submitted { task: task(id, 1) }),
                ),
                env(seq + 1, 0, refused(id)),
            ];
            model.on_batch(batch("r", events), f64::from(id) * gap_ms);
        }
    }

    #[test]
    fn flights_are_bounded() {
        let mut model = Model::default();
        model.on_snapshot(started("r", 0), 0.0);
        flood(&mut model, 0, 40, 100.0);
        let flights = model.flights("r", 0);
        assert_eq!(flights.len(), MAX_FLIGHTS);
        assert_eq!(
            flights.last().map(|f| f.record.task.id),
            Some(39),
            "the newest are kept"
        );
    }

    #[test]
    fn a_flood_of_drops_is_thinned_for_the_eye_but_fully_counted() {
        let mut model = Model::default();
        model.on_snapshot(started("r", 0), 0.0);
        // Ten drops 10 ms apart: only the first and the eighth are far enough apart.
        flood(&mut model, 0, 10, 10.0);
        let ids: Vec<_> = model
            .flights("r", 0)
            .iter()
            .map(|f| f.record.task.id)
            .collect();
        assert_eq!(ids, [0, 7]);
        assert_eq!(model.run("r").map(|s| s.counters.dropped), Some(10));
    }

    #[test]
    fn lagged_shows_a_notice_until_settled() {
        let mut model = Model::default();
        model.on_open();
        let first = model.on_lagged(Lagged { skipped: 120 });
        assert_eq!(model.connection(), Connection::Lagged);
        assert_eq!(model.lag().map(|l| l.skipped), Some(120));
        let second = model.on_lagged(Lagged { skipped: 5 });
        model.settle_lag(first);
        assert_eq!(
            model.connection(),
            Connection::Lagged,
            "a newer notice is still showing"
        );
        model.settle_lag(second);
        assert_eq!(model.connection(), Connection::Live);
        assert_eq!(model.lag(), None);
    }

    #[test]
    fn a_broken_stream_is_not_overwritten_by_a_settling_lag() {
        let mut model = Model::default();
        model.on_open();
        let id = model.on_lagged(Lagged { skipped: 1 });
        model.on_error();
        model.settle_lag(id);
        assert_eq!(model.connection(), Connection::Reconnecting);
        model.on_open();
        assert_eq!(model.connection(), Connection::Live);
    }

    #[test]
    fn the_virtual_clock_follows_events_and_stops_when_paused() {
        let mut model = Model::default();
        model.on_snapshot(started("r", 2), 1_000.0);
        model.on_batch(
            batch(
                "r",
                vec![env(
                    3,
                    400,
                    Event::Overload(OverloadEvent::Submitted { task: task(0, 1) }),
                )],
            ),
            1_000.0,
        );
        assert_eq!(model.virtual_now("r", 1_100.0), Some(500.0));
        let pause = env(
            4,
            450,
            Event::Run(RunEvent::Clock {
                speed: 1.0,
                paused: true,
            }),
        );
        model.on_batch(batch("r", vec![pause]), 1_100.0);
        assert_eq!(model.virtual_now("r", 5_000.0), Some(450.0));
    }

    #[test]
    fn toasts_come_and_go_by_id() {
        let mut model = Model::default();
        let a = model.push_toast("capacity must be at least 1");
        let b = model.push_toast("unknown run");
        model.dismiss_toast(a);
        assert_eq!(model.toasts().iter().map(|t| t.id).collect::<Vec<_>>(), [b]);
    }

    #[test]
    fn families_group_patterns_in_server_order() {
        let info = |id| PatternInfo {
            id,
            family: Family::Overload,
            title: id.to_string(),
            summary: String::new(),
            try_this: String::new(),
            params: Vec::new(),
            questions: Vec::new(),
        };
        let mut model = Model::default();
        assert!(model.families().is_empty());
        model.on_patterns(Ok(vec![
            info(PatternId::DropBasic),
            info(PatternId::DropBlocking),
        ]));
        let families = model.families();
        assert_eq!(families.len(), 1);
        let ids: Vec<_> = families[0].1.iter().map(|p| p.id).collect();
        assert_eq!(ids, [PatternId::DropBasic, PatternId::DropBlocking]);
        assert!(model.pattern(PatternId::DropBlocking).is_some());
    }

    #[test]
    fn the_pattern_list_counts_as_changed_only_when_it_is_set() {
        let mut model = Model::default();
        let before = model.patterns_set();
        model.on_snapshot(started("r", 2), 0.0);
        model.on_batch(batch("r", vec![env(3, 0, reset(2))]), 0.0);
        assert_eq!(model.patterns_set(), before, "events leave the list alone");
        model.on_patterns(Ok(Vec::new()));
        assert_ne!(model.patterns_set(), before);
        let once = model.patterns_set();
        model.on_patterns(Err("offline".to_owned()));
        assert_ne!(model.patterns_set(), once, "a failure is a change too");
    }
}

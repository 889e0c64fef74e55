//! How the flow family reads on screen: where each stage and channel sits
//! in the grid, a channel's slots, a worker's hands, how an item ended and
//! why, each stage's tallies, each subscriber's delivered and dropped
//! counts, the waiting lines of gates and the callers that share one call.
//!
//! Kept apart from the components so that what the room reads ("dropped:
//! buffer full", "for 0.4 s", "7 callers, 1 call") and where things are
//! drawn are tested natively against scenes folded from events.

use super::present::{duration_text, trim_number};
use shared::flow::{EndRecord, EndTally, Gauge, Worker};
use shared::{ChannelId, FlowScene, ItemEnd, ItemId, ItemSpec, Place, Stage, StageId, StageRole};

/// The most slots a channel draws; a larger buffer is still counted in words.
pub const MAX_DRAWN_SLOTS: usize = 16;

/// How many ended items the "recently ended" strip shows.
pub const SHOWN_ENDS: usize = 12;

/// A worker's bar fills over this long in hand, then stays full: items
/// carry no expected duration, so the bar shows time held, not a fraction
/// of the work done.
pub const HELD_SCALE_MS: f64 = 1000.0;

// ---------- Items ----------

/// An item as a chip: its label and the colour class of its tag, so the
/// same item is recognisable in a slot, in a worker's hands and at its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chip {
    pub id: ItemId,
    pub label: String,
    pub tone: &'static str,
}

impl Chip {
    /// The label as a small slot shows it: its number ("9" of "item 9"),
    /// after its tag's initial when it has a tag ("E12" of "ERROR #12",
    /// "O4" of "orders.created #4"), so a level or a topic is told by a
    /// letter as well as by the slot's colour. The whole label is the
    /// slot's title.
    pub fn short(&self) -> String {
        let Some((tag, n)) = self
            .label
            .rsplit_once(' ')
            .filter(|(_, n)| n.chars().any(|c| c.is_ascii_digit()))
        else {
            return self.label.clone();
        };
        let initial = tag.chars().find(|c| c.is_alphabetic());
        match initial {
            Some(initial) if self.tone != "plain" => {
                format!("{}{}", initial.to_uppercase(), n.trim_start_matches('#'))
            }
            _ => n.to_owned(),
        }
    }

    fn of(spec: &ItemSpec) -> Chip {
        Chip {
            id: spec.id,
            label: spec.label.clone(),
            tone: tag_tone(spec.tag.as_deref()),
        }
    }

    /// The live item `id`, or its number if the scene no longer has it.
    fn find(scene: &FlowScene, id: ItemId) -> Chip {
        scene.item(id).map_or_else(
            || Chip {
                id,
                label: format!("#{id}"),
                tone: "plain",
            },
            |i| Chip::of(&i.spec),
        )
    }
}

/// The colour class of an item's tag. Log levels have fixed tones (so
/// ERROR always looks alarming); any other tag (a topic, a key) gets one of
/// six hues chosen by its first segment, so `orders.created` and
/// `orders.paid` share a colour and `users.created` has another.
pub fn tag_tone(tag: Option<&str>) -> &'static str {
    const HUES: [&str; 6] = ["hue-0", "hue-1", "hue-2", "hue-3", "hue-4", "hue-5"];
    let Some(tag) = tag.map(str::trim).filter(|t| !t.is_empty()) else {
        return "plain";
    };
    match tag.to_ascii_lowercase().as_str() {
        "trace" | "debug" => return "level-debug",
        "info" => return "level-info",
        "warn" | "warning" => return "level-warn",
        "error" => return "level-error",
        "fatal" | "critical" | "panic" => return "level-fatal",
        _ => {}
    }
    // Topics are grouped by their first segment; a key ("user:1") is its
    // own family, so different keys look different.
    let family = tag.split(['.', '/']).next().unwrap_or(tag);
    // FNV-1a: stable across runs and builds, unlike the std hasher.
    let hash = family.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    HUES[hash as usize % HUES.len()]
}

// ---------- Layout ----------

/// Where a stage sits in the CSS grid (1-based grid lines).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StageCell {
    pub stage: StageId,
    pub column: u32,
    pub row: u32,
}

/// One grid cell between two stage columns, with the channels drawn in it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ChannelCell {
    pub column: u32,
    pub row: u32,
    pub channels: Vec<ChannelId>,
}

/// The flow's grid: stage columns (odd grid columns) with a column for
/// channels after each (even grid columns); rows as the stages say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Layout {
    /// Stage columns, before the channel columns are interleaved.
    pub columns: u32,
    pub rows: u32,
    pub stages: Vec<StageCell>,
    pub cells: Vec<ChannelCell>,
}

impl Layout {
    /// Stages where they say; each channel in the column after its sender,
    /// on its sender's row, unless the sender fans out to several channels:
    /// then each goes on its receiver's row, so the fan is visible.
    pub fn of(scene: &FlowScene) -> Layout {
        let columns = scene
            .stages
            .iter()
            .map(|s| s.spec.column + 1)
            .max()
            .unwrap_or(0);
        let rows = scene
            .stages
            .iter()
            .map(|s| s.spec.row + 1)
            .max()
            .unwrap_or(0)
            .max(1);
        let stages = scene
            .stages
            .iter()
            .map(|s| StageCell {
                stage: s.spec.id,
                column: 2 * s.spec.column + 1,
                row: s.spec.row + 1,
            })
            .collect();
        let mut cells: Vec<ChannelCell> = Vec::new();
        for ch in &scene.channels {
            let (Some(from), Some(to)) = (scene.stage(ch.spec.from), scene.stage(ch.spec.to))
            else {
                continue;
            };
            let fans_out = scene
                .channels
                .iter()
                .filter(|c| c.spec.from == ch.spec.from)
                .count()
                > 1;
            let row = if fans_out { to.spec.row } else { from.spec.row };
            let column = 2 * from.spec.column.min(to.spec.column) + 2;
            let row = row + 1;
            match cells
                .iter_mut()
                .find(|c| c.column == column && c.row == row)
            {
                Some(cell) => cell.channels.push(ch.spec.id),
                None => cells.push(ChannelCell {
                    column,
                    row,
                    channels: vec![ch.spec.id],
                }),
            }
        }
        Layout {
            columns,
            rows,
            stages,
            cells,
        }
    }

    /// How many slots a channel draws in a row before it wraps: the more
    /// stage columns share the width, the narrower the channels between.
    pub fn slots_per_row(&self) -> u32 {
        match self.columns {
            0..=2 => 8,
            3 => 3,
            _ => 2,
        }
    }

    /// The grid's `grid-template-columns`: stages share the width, channel
    /// columns take what their slots need.
    pub fn template(&self) -> String {
        let mut parts = Vec::new();
        for c in 0..self.columns {
            parts.push("minmax(var(--stage-min), 1fr)");
            if c + 1 < self.columns {
                parts.push("auto");
            }
        }
        // A channel leaving the last column (drawn after it) needs room.
        if self.cells.iter().any(|c| c.column > 2 * self.columns) {
            parts.push("auto");
        }
        parts.join(" ")
    }

    /// The grid position of a stage or channel cell, as a `style`.
    pub fn place(column: u32, row: u32) -> String {
        format!("grid-column: {column}; grid-row: {row};")
    }
}

// ---------- Channels ----------

/// One cell of a channel's buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    Filled(Chip),
    /// A free slot, numbered from the first free one.
    Free(usize),
}

impl Slot {
    /// A key that keeps an item's element while it moves up the buffer, so
    /// only a newly queued item animates.
    pub fn key(&self) -> String {
        match self {
            Slot::Filled(c) => format!("i{}", c.id),
            Slot::Free(n) => format!("f{n}"),
        }
    }
}

/// A channel as it is drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelLook {
    pub id: ChannelId,
    pub label: String,
    pub capacity: u32,
    /// Next out first: buffered items, then free slots, at most
    /// [`MAX_DRAWN_SLOTS`] in all.
    pub slots: Vec<Slot>,
    /// Buffered items and free slots not drawn.
    pub hidden_filled: usize,
    pub hidden_free: usize,
    pub buffered: usize,
    /// Senders waiting for a slot, first come first.
    pub blocked: Vec<Chip>,
    pub closed: bool,
    pub sent: u64,
    pub dropped: u64,
    /// Whether it runs right to left (its receiver is in an earlier column).
    pub backwards: bool,
}

impl ChannelLook {
    pub fn of(scene: &FlowScene, id: ChannelId) -> Option<ChannelLook> {
        let ch = scene.channel(id)?;
        let capacity = ch.spec.capacity as usize;
        let buffered = ch.buffer.len();
        let drawn = capacity.max(buffered).min(MAX_DRAWN_SLOTS);
        let mut slots: Vec<Slot> = ch
            .buffer
            .iter()
            .take(drawn)
            .map(|i| Slot::Filled(Chip::find(scene, *i)))
            .collect();
        let drawn_filled = slots.len();
        let free = capacity.saturating_sub(buffered);
        slots.extend((0..drawn - drawn_filled).map(Slot::Free));
        let column = |s: StageId| scene.stage(s).map(|s| s.spec.column);
        Some(ChannelLook {
            id,
            label: ch.spec.label.clone(),
            capacity: ch.spec.capacity,
            hidden_filled: buffered - drawn_filled,
            hidden_free: free - (drawn - drawn_filled),
            slots,
            buffered,
            blocked: ch.blocked.iter().map(|i| Chip::find(scene, *i)).collect(),
            closed: ch.closed,
            sent: ch.sent,
            dropped: ch.dropped,
            backwards: column(ch.spec.to) < column(ch.spec.from),
        })
    }

    /// How full it is, in words: "3 / 5 slots", "full: 5 / 5",
    /// "unbuffered: a hand-off".
    pub fn fill_text(&self) -> String {
        if self.capacity == 0 {
            return "unbuffered: a hand-off".to_owned();
        }
        if self.buffered >= self.capacity as usize {
            format!("full: {} / {}", self.buffered, self.capacity)
        } else {
            format!("{} / {} slots", self.buffered, self.capacity)
        }
    }

    /// What the drawn slots leave out, if anything: "+ 4 more items and
    /// 30 free slots".
    pub fn hidden_text(&self) -> Option<String> {
        let items = (self.hidden_filled > 0).then(|| count_of(self.hidden_filled as u64, "item"));
        let free = (self.hidden_free > 0).then(|| count_of(self.hidden_free as u64, "free slot"));
        match (items, free) {
            (None, None) => None,
            (Some(i), None) => Some(format!("+ {i} more")),
            (None, Some(f)) => Some(format!("+ {f}")),
            (Some(i), Some(f)) => Some(format!("+ {i} more and {f}")),
        }
    }
}

// ---------- Workers ----------

/// A worker as it is drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerLook {
    pub index: u32,
    pub item: Option<Chip>,
    pub since_ms: u64,
    pub done: u64,
    pub panics: u32,
    pub retiring: bool,
}

impl WorkerLook {
    fn of(scene: &FlowScene, index: usize, w: &Worker) -> WorkerLook {
        WorkerLook {
            index: index as u32,
            item: w.item.map(|i| Chip::find(scene, i)),
            since_ms: w.since_ms,
            done: w.done,
            panics: w.panics,
            retiring: w.retiring,
        }
    }

    /// "busy", "idle", or "retiring" (a pool shrinking: it finishes first).
    pub fn key(&self) -> &'static str {
        match (&self.item, self.retiring) {
            (_, true) => "retiring",
            (Some(_), false) => "busy",
            (None, false) => "idle",
        }
    }

    /// How long it has held its item (or been idle) at `now`.
    pub fn held_ms(&self, now: f64) -> f64 {
        (now - self.since_ms as f64).max(0.0)
    }

    /// What it is doing, in words: "for 0.4 s" (holding its item that long),
    /// "idle", "retiring after this: for 1.2 s".
    pub fn text(&self, now: f64) -> String {
        let busy = || format!("for {}", duration_text(self.held_ms(now)));
        match (self.item.is_some(), self.retiring) {
            (true, false) => busy(),
            (true, true) => format!("retiring after this: {}", busy()),
            (false, true) => "retiring".to_owned(),
            (false, false) => "idle".to_owned(),
        }
    }

    /// How far its "time in hand" bar is filled, 0.0 to 1.0.
    pub fn held_share(&self, now: f64) -> f64 {
        if self.item.is_none() {
            return 0.0;
        }
        (self.held_ms(now) / HELD_SCALE_MS).clamp(0.0, 1.0)
    }

    /// "3 done", "3 done · 1 panic".
    pub fn done_text(&self) -> String {
        if self.panics == 0 {
            format!("{} done", self.done)
        } else {
            format!(
                "{} done · {}",
                self.done,
                count_of(u64::from(self.panics), "panic")
            )
        }
    }
}

/// A stage's workers, in order.
pub fn worker_looks(scene: &FlowScene, stage: StageId) -> Vec<WorkerLook> {
    scene.stage(stage).map_or_else(Vec::new, |s| {
        s.workers
            .iter()
            .enumerate()
            .map(|(i, w)| WorkerLook::of(scene, i, w))
            .collect()
    })
}

/// "2 of 3 busy".
pub fn busy_text(workers: &[WorkerLook]) -> String {
    let busy = workers.iter().filter(|w| w.item.is_some()).count();
    format!("{busy} of {} busy", workers.len())
}

// ---------- Stages ----------

/// A role's glyph and word.
pub fn role_look(role: StageRole) -> (&'static str, &'static str) {
    match role {
        StageRole::Source => ("▶", "source"),
        StageRole::Worker => ("◆", "workers"),
        StageRole::Filter => ("▽", "filter"),
        StageRole::Merge => ("⇒", "merge"),
        StageRole::Split => ("⊕", "split"),
        StageRole::Gate => ("▮", "gate"),
        StageRole::Sink => ("■", "sink"),
    }
}

/// The key of a role, for data attributes.
pub fn role_key(role: StageRole) -> &'static str {
    match role {
        StageRole::Source => "source",
        StageRole::Worker => "worker",
        StageRole::Filter => "filter",
        StageRole::Merge => "merge",
        StageRole::Split => "split",
        StageRole::Gate => "gate",
        StageRole::Sink => "sink",
    }
}

/// What a stage's card says about it, unchanging while it runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageHead {
    pub id: StageId,
    pub label: String,
    pub role: StageRole,
    pub about: Option<String>,
    pub stopped: bool,
}

impl StageHead {
    pub fn of(stage: &Stage) -> StageHead {
        StageHead {
            id: stage.spec.id,
            label: stage.spec.label.clone(),
            role: stage.spec.role,
            about: stage.spec.about.clone(),
            stopped: stage.stopped,
        }
    }
}

/// One of a stage's tallies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    /// For `data-stage-counter="<stage>:<name>"`.
    pub name: &'static str,
    pub label: &'static str,
    pub glyph: &'static str,
    pub value: u64,
}

/// A stage's tallies: those its role is about always (a source's "made",
/// a filter's "filtered", a gate's "refused", a sink's "delivered", a
/// pool's "done"), the others once they are not zero.
pub fn stage_tallies(stage: &Stage) -> Vec<Tally> {
    let role = stage.spec.role;
    let EndTally {
        delivered,
        filtered,
        dropped,
        refused,
        failed,
    } = stage.ends;
    let done: u64 = stage.workers.iter().map(|w| w.done).sum();
    let rows = [
        (
            "made",
            "made",
            "▶",
            stage.made,
            role == StageRole::Source && stage.sent == 0,
        ),
        ("sent", "sent", "→", stage.sent, false),
        (
            "done",
            "done",
            "◆",
            done,
            matches!(role, StageRole::Worker) || (role != StageRole::Sink && done > 0),
        ),
        (
            "delivered",
            "delivered",
            "✓",
            delivered,
            role == StageRole::Sink,
        ),
        (
            "filtered",
            "filtered",
            "▽",
            filtered,
            role == StageRole::Filter,
        ),
        ("dropped", "dropped", "↓", dropped, false),
        ("refused", "refused", "⊘", refused, role == StageRole::Gate),
        ("failed", "failed", "✗", failed, false),
    ];
    rows.into_iter()
        .filter(|(_, _, _, value, always)| *always || *value > 0)
        .map(|(name, label, glyph, value, _)| Tally {
            name,
            label,
            glyph,
            value,
        })
        .collect()
}

/// Items a stage holds outside its workers' hands: just made, not yet sent.
pub fn held_at(scene: &FlowScene, stage: StageId) -> Vec<Chip> {
    scene
        .items
        .iter()
        .filter(|i| {
            i.place
                == Place::Stage {
                    stage,
                    worker: None,
                }
        })
        .map(|i| Chip::of(&i.spec))
        .collect()
}

/// A stage's waiting line (a gate's, a semaphore's), first come first:
/// items waiting with no call of their own to wait on.
pub fn waiting_line(scene: &FlowScene, stage: StageId) -> Vec<Chip> {
    let mut line: Vec<_> = scene
        .items
        .iter()
        .filter(|i| i.place == Place::Waiting { stage, on: None })
        .collect();
    // Items are kept by id; the line is in the order they joined it.
    line.sort_by_key(|i| (i.since_ms, i.id()));
    line.into_iter().map(|i| Chip::of(&i.spec)).collect()
}

/// Callers that share one in-flight call (`singleflight`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallGroup {
    /// The item whose call the others wait on.
    pub call: Chip,
    /// The worker making the call, if the call is in a worker's hands.
    pub worker: Option<u32>,
    /// Items waiting on it, first come first.
    pub waiting: Vec<Chip>,
}

impl CallGroup {
    /// Everyone who asked: the caller that made the call and those waiting
    /// on it.
    pub fn callers(&self) -> usize {
        self.waiting.len() + 1
    }

    /// "7 callers, 1 call".
    pub fn text(&self) -> String {
        format!("{}, 1 call", count_of(self.callers() as u64, "caller"))
    }
}

/// The calls in flight at `stage` with the callers waiting on each: every
/// item in a worker's hands there, and every item some item of the stage
/// waits `on`. In the order the calls were made.
pub fn call_groups(scene: &FlowScene, stage: StageId) -> Vec<CallGroup> {
    groups_of_calls(scene, Some(stage))
}

/// Every call in flight in the flow (each item in a worker's hands), with
/// the callers waiting on it wherever they wait, in the order the calls
/// were made; callers waiting on an item no worker holds form a group too.
pub fn all_call_groups(scene: &FlowScene) -> Vec<CallGroup> {
    groups_of_calls(scene, None)
}

/// The calls and their callers at one stage, or (`None`) everywhere.
fn groups_of_calls(scene: &FlowScene, only: Option<StageId>) -> Vec<CallGroup> {
    let here = |stage: StageId| only.is_none_or(|only| only == stage);
    let mut groups: Vec<CallGroup> = scene
        .stages
        .iter()
        .filter(|s| here(s.spec.id))
        .flat_map(|s| {
            s.workers.iter().enumerate().filter_map(|(w, worker)| {
                worker.item.map(|i| CallGroup {
                    call: Chip::find(scene, i),
                    worker: Some(w as u32),
                    waiting: Vec::new(),
                })
            })
        })
        .collect();
    let mut waiters: Vec<_> = scene
        .items
        .iter()
        .filter_map(|i| match i.place {
            Place::Waiting {
                stage,
                on: Some(on),
            } if here(stage) => Some((on, i)),
            _ => None,
        })
        .collect();
    waiters.sort_by_key(|(_, i)| (i.since_ms, i.id()));
    for (on, item) in waiters {
        let chip = Chip::of(&item.spec);
        match groups.iter_mut().find(|g| g.call.id == on) {
            Some(g) => g.waiting.push(chip),
            None => groups.push(CallGroup {
                call: Chip::find(scene, on),
                worker: None,
                waiting: vec![chip],
            }),
        }
    }
    groups.sort_by_key(|g| g.call.id);
    groups
}

/// "12 callers, 3 calls": how much coalescing saves, over all groups.
pub fn coalescing_text(groups: &[CallGroup]) -> String {
    let callers: usize = groups.iter().map(CallGroup::callers).sum();
    format!(
        "{}, {}",
        count_of(callers as u64, "caller"),
        count_of(groups.len() as u64, "call")
    )
}

// ---------- Gauges ----------

/// A gauge's level with what it counts: "2.5 / 5 tokens".
pub fn gauge_text(g: &Gauge) -> String {
    let level = format!("{} / {}", trim_number(g.value, 1), trim_number(g.max, 1));
    if g.label.is_empty() {
        level
    } else {
        format!("{level} {}", g.label)
    }
}

/// How full a gauge is, 0.0 to 1.0.
pub fn gauge_share(g: &Gauge) -> f64 {
    if g.max <= 0.0 {
        0.0
    } else {
        (g.value / g.max).clamp(0.0, 1.0)
    }
}

// ---------- Ends ----------

/// An end's glyph: every end reads by its shape as well as its colour.
pub fn end_glyph(key: &str) -> &'static str {
    match key {
        "delivered" => "✓",
        "filtered" => "▽",
        "dropped" => "↓",
        "refused" => "⊘",
        "failed" => "✗",
        "cancelled" => "■",
        "timed_out" => "◷",
        _ => "●",
    }
}

/// How an item ended, in words: "delivered", "filtered: below WARN",
/// "dropped: buffer full", "refused: no token", "failed: worker panicked",
/// "cancelled".
pub fn end_text(end: &ItemEnd) -> String {
    let with = |word: &str, why: &str| {
        if why.trim().is_empty() {
            word.to_owned()
        } else {
            format!("{word}: {why}")
        }
    };
    match end {
        ItemEnd::Delivered { .. } => "delivered".to_owned(),
        ItemEnd::Filtered { why, .. } => with("filtered", why),
        ItemEnd::Dropped { why, .. } => with("dropped", why),
        ItemEnd::Refused { why, .. } => with("refused", why),
        ItemEnd::Failed { why, .. } => with("failed", why),
        ItemEnd::Cancelled => "cancelled".to_owned(),
        ItemEnd::TimedOut => "timed out".to_owned(),
    }
}

/// An ended item as the "recently ended" strip shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndLook {
    pub item: Chip,
    pub key: &'static str,
    pub text: String,
    /// The stage it ended at, by its label.
    pub at: Option<String>,
    pub at_ms: u64,
}

impl EndLook {
    /// Unique within a run: an item ends once.
    pub fn dom_key(&self) -> String {
        format!("{}@{}", self.item.id, self.at_ms)
    }
}

/// The last `n` ends, newest first.
pub fn recent_ends(scene: &FlowScene, n: usize) -> Vec<EndLook> {
    scene
        .recent
        .iter()
        .rev()
        .take(n)
        .map(|r: &EndRecord| EndLook {
            item: Chip::of(&r.item),
            key: r.end.key(),
            text: end_text(&r.end),
            at: r
                .end
                .stage()
                .and_then(|s| scene.stage(s))
                .map(|s| s.spec.label.clone()),
            at_ms: r.at_ms,
        })
        .collect()
}

// ---------- Whole-run tallies ----------

/// The ends the run's counters lump together, told apart by the scene:
/// delivered vs filtered (both "completed").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Split {
    pub delivered: u64,
    pub filtered: u64,
}

impl Split {
    pub fn of(scene: &FlowScene) -> Split {
        scene.stages.iter().fold(Split::default(), |t, s| Split {
            delivered: t.delivered + s.ends.delivered,
            filtered: t.filtered + s.ends.filtered,
        })
    }
}

// ---------- Subscribers ----------

/// A subscriber (a sink fed by a channel) and what reached it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscriber {
    pub stage: StageId,
    pub label: String,
    /// Its topic pattern, as the stage's `about` says.
    pub topic: Option<String>,
    pub delivered: u64,
    /// Messages for it lost at its full buffer.
    pub dropped: u64,
    pub stopped: bool,
}

impl Subscriber {
    /// The share of its messages it lost, as a whole percentage.
    pub fn lost_text(&self) -> String {
        let all = self.delivered + self.dropped;
        if all == 0 {
            "nothing yet".to_owned()
        } else {
            format!(
                "lost {}%",
                (self.dropped as f64 * 100.0 / all as f64).round()
            )
        }
    }
}

/// The sinks of the flow with their delivered and dropped counts. A drop
/// for a subscriber is reported at its channel, and the end is tallied at
/// whichever stage the engine names (the broker or the subscriber), so the
/// larger of the two counts is the subscriber's, never both added.
pub fn subscribers(scene: &FlowScene) -> Vec<Subscriber> {
    scene
        .stages
        .iter()
        .filter(|s| s.spec.role == StageRole::Sink)
        .map(|s| {
            let at_channels: u64 = scene
                .channels
                .iter()
                .filter(|c| c.spec.to == s.spec.id)
                .map(|c| c.dropped)
                .sum();
            Subscriber {
                stage: s.spec.id,
                label: s.spec.label.clone(),
                topic: s.spec.about.clone(),
                delivered: s.ends.delivered,
                dropped: at_channels.max(s.ends.dropped),
                stopped: s.stopped,
            }
        })
        .collect()
}

/// The topics seen so far (as items' tags), sorted, each once.
pub fn topics_seen(scene: &FlowScene) -> Vec<String> {
    let mut topics: Vec<String> = scene
        .items
        .iter()
        .map(|i| &i.spec)
        .chain(scene.recent.iter().map(|r| &r.item))
        .filter_map(|s| s.tag.clone())
        .collect();
    topics.sort();
    topics.dedup();
    topics
}

// ---------- Lanes ----------

/// One row of the flow, for patterns that compare two lanes side by side.
#[derive(Debug, Clone, PartialEq)]
pub struct Lane {
    pub row: u32,
    /// Its stages' labels, left to right.
    pub stages: Vec<String>,
    pub made: u64,
    pub delivered: u64,
    pub refused: u64,
    pub dropped: u64,
    /// Items in its gates' lines now.
    pub waiting: usize,
    /// Senders blocked on its channels now.
    pub blocked: usize,
    /// Items in its channels' buffers now.
    pub buffered: usize,
    /// Live items not yet through its door (its first gate): held at the
    /// source, waiting in the gate's line, or on their way to the gate.
    pub before_door: usize,
    /// How many channels leave its stages.
    pub channels: usize,
    /// What its door (its first gate) does, as the gate says.
    pub about: Option<String>,
    /// The gauge of its first stage that has one (a token bucket), with
    /// that stage's label.
    pub gauge: Option<(Gauge, String)>,
}

impl Lane {
    /// "Ticker → Workers".
    pub fn title(&self) -> String {
        self.stages.join(" → ")
    }

    /// Items let through so far: made, less those refused, dropped or
    /// not yet through the door.
    pub fn allowed(&self) -> u64 {
        self.made
            .saturating_sub(self.refused + self.dropped + self.before_door as u64)
    }
}

/// The flow's lanes, one per row, top to bottom.
pub fn lanes(scene: &FlowScene) -> Vec<Lane> {
    let mut rows: Vec<u32> = scene.stages.iter().map(|s| s.spec.row).collect();
    rows.sort_unstable();
    rows.dedup();
    rows.into_iter()
        .map(|row| {
            let mut stages: Vec<&Stage> =
                scene.stages.iter().filter(|s| s.spec.row == row).collect();
            stages.sort_by_key(|s| s.spec.column);
            let ids: Vec<StageId> = stages.iter().map(|s| s.spec.id).collect();
            let waiting = scene
                .items
                .iter()
                .filter(|i| matches!(i.place, Place::Waiting { stage, .. } if ids.contains(&stage)))
                .count();
            let (channels, blocked, buffered) = scene
                .channels
                .iter()
                .filter(|c| ids.contains(&c.spec.from))
                .fold((0, 0, 0), |(n, b, q), c| {
                    (n + 1, b + c.blocked.len(), q + c.buffer.len())
                });
            // The door is the lane's first gate; without one, an item is
            // through once it left its source's hands.
            let gate = stages.iter().find(|s| s.spec.role == StageRole::Gate);
            let door = gate.map(|s| s.spec.column);
            let column = |id: StageId| scene.stage(id).map_or(0, |s| s.spec.column);
            let before = |col: u32, held: bool| match door {
                Some(d) => col < d || (col == d && !held),
                None => col == 0 && !held,
            };
            let before_door = scene
                .items
                .iter()
                .filter(|i| match i.place {
                    Place::Stage { stage, worker } => {
                        ids.contains(&stage) && before(column(stage), worker.is_some())
                    }
                    Place::Waiting { stage, .. } => {
                        ids.contains(&stage) && before(column(stage), false)
                    }
                    Place::Channel { channel } | Place::Blocked { channel } => scene
                        .channel(channel)
                        .filter(|c| ids.contains(&c.spec.from))
                        .is_some_and(|c| before(column(c.spec.to), false)),
                })
                .count();
            Lane {
                row,
                before_door,
                stages: stages.iter().map(|s| s.spec.label.clone()).collect(),
                made: stages.iter().map(|s| s.made).sum(),
                delivered: stages.iter().map(|s| s.ends.delivered).sum(),
                refused: stages.iter().map(|s| s.ends.refused).sum(),
                dropped: stages.iter().map(|s| s.ends.dropped).sum(),
                waiting,
                blocked,
                buffered,
                channels,
                about: gate.and_then(|g| g.spec.about.clone()),
                gauge: stages
                    .iter()
                    .find_map(|s| s.gauge.clone().map(|g| (g, s.spec.label.clone()))),
            }
        })
        .collect()
}

// ---------- Stalls ----------

/// A split (a tee) held back: its sender waits for a slot in a full
/// channel, so no consumer gets anything meanwhile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stall {
    pub split: String,
    /// The consumer whose full buffer holds everything up.
    pub behind: String,
    pub item: Chip,
    pub since_ms: u64,
}

impl Stall {
    /// "tee stalled 0.8 s: #12 waits for a slot at slow consumer".
    pub fn text(&self, now: f64) -> String {
        format!(
            "{} stalled {}: {} waits for a slot at {}",
            self.split,
            duration_text((now - self.since_ms as f64).max(0.0)),
            self.item.label,
            self.behind
        )
    }
}

/// Every split stage whose sending is blocked on a full channel.
pub fn stalls(scene: &FlowScene) -> Vec<Stall> {
    scene
        .channels
        .iter()
        .filter_map(|c| {
            let split = scene
                .stage(c.spec.from)
                .filter(|s| s.spec.role == StageRole::Split)?;
            let first = *c.blocked.first()?;
            let item = scene.item(first)?;
            Some(Stall {
                split: split.spec.label.clone(),
                behind: scene
                    .stage(c.spec.to)
                    .map_or_else(|| c.spec.label.clone(), |s| s.spec.label.clone()),
                item: Chip::of(&item.spec),
                since_ms: item.since_ms,
            })
        })
        .collect()
}

// ---------- Pools ----------

/// Each worker's done count as a share of the busiest one's, for bars
/// that show how evenly a pool shares its work.
pub fn done_shares(workers: &[WorkerLook]) -> Vec<f64> {
    let most = workers.iter().map(|w| w.done).max().unwrap_or(0);
    workers
        .iter()
        .map(|w| {
            if most == 0 {
                0.0
            } else {
                w.done as f64 / most as f64
            }
        })
        .collect()
}

/// Items buffered or blocked in the channels into `stage`: its queue.
pub fn queued_for(scene: &FlowScene, stage: StageId) -> usize {
    scene
        .channels
        .iter()
        .filter(|c| c.spec.to == stage)
        .map(|c| c.buffer.len() + c.blocked.len())
        .sum()
}

/// An item a worker was seen to take, for "which worker took each item".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taken {
    pub item: Chip,
    pub stage: StageId,
    pub worker: u32,
}

/// The latest takes, newest last, at most `keep`: those in `seen` plus the
/// items now in a worker's hands at `stages` that were not seen yet.
/// Views see the scene once per batch of events, so an item taken and
/// finished within one batch is missed; the workers' done counts are exact.
pub fn note_takes(
    seen: &[Taken],
    scene: &FlowScene,
    stages: &[StageId],
    keep: usize,
) -> Vec<Taken> {
    let mut all = seen.to_vec();
    for item in &scene.items {
        if let Place::Stage {
            stage,
            worker: Some(worker),
        } = item.place
            && stages.contains(&stage)
            && !all
                .iter()
                .any(|t| t.item.id == item.id() && t.stage == stage)
        {
            all.push(Taken {
                item: Chip::of(&item.spec),
                stage,
                worker,
            });
        }
    }
    let extra = all.len().saturating_sub(keep);
    all.drain(..extra);
    all
}

// ---------- Permits ----------

/// One permit of a semaphore.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Permit {
    Free,
    /// Held, by the item named when the scene says which.
    Held(Option<Chip>),
}

/// A semaphore's permits and its waiting line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permits {
    pub stage: StageId,
    pub label: String,
    pub permits: Vec<Permit>,
    pub waiting: Vec<Chip>,
}

impl Permits {
    /// Its permits: its workers' hands if it has workers (each holder is
    /// an item in a worker's hands), else its gauge of free permits.
    pub fn of(scene: &FlowScene, stage: StageId) -> Option<Permits> {
        let s = scene.stage(stage)?;
        let permits = if s.workers.is_empty() {
            let g = s.gauge.as_ref()?;
            let all = g.max.max(0.0).round() as usize;
            let free = (g.value.max(0.0).round() as usize).min(all);
            (0..all)
                .map(|i| {
                    if i < all - free {
                        Permit::Held(None)
                    } else {
                        Permit::Free
                    }
                })
                .collect()
        } else {
            s.workers
                .iter()
                .map(|w| match w.item {
                    Some(i) => Permit::Held(Some(Chip::find(scene, i))),
                    None => Permit::Free,
                })
                .collect()
        };
        Some(Permits {
            stage,
            label: s.spec.label.clone(),
            permits,
            waiting: waiting_line(scene, stage),
        })
    }

    pub fn held(&self) -> usize {
        self.permits
            .iter()
            .filter(|p| matches!(p, Permit::Held(_)))
            .count()
    }

    /// "2 of 3 permits held · 4 waiting".
    pub fn text(&self) -> String {
        format!(
            "{} of {} held · {} waiting",
            self.held(),
            count_of(self.permits.len() as u64, "permit"),
            self.waiting.len()
        )
    }
}

// ---------- Consumers ----------

/// A consumer fed by a split (a tee's output), and whether its full buffer
/// is what holds the split back now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumer {
    pub stage: StageId,
    pub label: String,
    pub about: Option<String>,
    pub done: u64,
    pub delivered: u64,
    pub buffered: usize,
    pub capacity: u32,
    pub holding_back: bool,
}

/// The stages fed by split stages, in the order of their channels.
pub fn consumers(scene: &FlowScene) -> Vec<Consumer> {
    scene
        .channels
        .iter()
        .filter(|c| {
            scene
                .stage(c.spec.from)
                .is_some_and(|s| s.spec.role == StageRole::Split)
        })
        .filter_map(|c| {
            let s = scene.stage(c.spec.to)?;
            Some(Consumer {
                stage: s.spec.id,
                label: s.spec.label.clone(),
                about: s.spec.about.clone(),
                done: s.workers.iter().map(|w| w.done).sum(),
                delivered: s.ends.delivered,
                buffered: c.buffer.len(),
                capacity: c.spec.capacity,
                holding_back: !c.blocked.is_empty(),
            })
        })
        .collect()
}

/// "1 item", "3 items".
pub fn count_of(n: u64, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{ChannelSpec, Envelope, Event, PatternId, RunSnapshot, StageSpec};

    /// Folds scripted events (all at `at_ms`) into a flow run.
    struct Script {
        snap: RunSnapshot,
        seq: u64,
    }

    impl Script {
        fn new() -> Script {
            Script {
                snap: RunSnapshot::new("r", PatternId::Pipeline),
                seq: 0,
            }
        }

        fn at(&mut self, at_ms: u64, event: Event) -> &mut Script {
            self.seq += 1;
            let applied = self.snap.apply(&Envelope {
                seq: self.seq,
                at_ms,
                event,
            });
            assert!(applied);
            assert!(self.snap.counters.is_conserved());
            self
        }

        fn stage(
            &mut self,
            id: StageId,
            role: StageRole,
            workers: u32,
            at: (u32, u32),
        ) -> &mut Script {
            self.at(
                0,
                Event::StageAdded {
                    stage: StageSpec {
                        id,
                        label: format!("S{id}"),
                        role,
                        workers,
                        column: at.0,
                        row: at.1,
                        about: None,
                    },
                },
            )
        }

        fn channel(
            &mut self,
            id: ChannelId,
            from: StageId,
            to: StageId,
            capacity: u32,
        ) -> &mut Script {
            self.at(
                0,
                Event::ChannelAdded {
                    channel: ChannelSpec {
                        id,
                        label: format!("c{id}"),
                        from,
                        to,
                        capacity,
                    },
                },
            )
        }

        fn made(
            &mut self,
            at_ms: u64,
            id: ItemId,
            tag: Option<&str>,
            stage: StageId,
        ) -> &mut Script {
            let label = match tag {
                Some(t) => format!("{t} #{id}"),
                None => format!("#{id}"),
            };
            self.at(
                at_ms,
                Event::ItemMade {
                    item: ItemSpec {
                        id,
                        label,
                        tag: tag.map(str::to_owned),
                    },
                    stage,
                },
            )
        }

        fn queued(&mut self, at_ms: u64, item: ItemId, channel: ChannelId) -> &mut Script {
            self.at(at_ms, Event::ItemQueued { item, channel })
        }

        fn blocked(&mut self, at_ms: u64, item: ItemId, channel: ChannelId) -> &mut Script {
            self.at(at_ms, Event::ItemBlocked { item, channel })
        }

        fn taken(&mut self, at_ms: u64, item: ItemId, stage: StageId, worker: u32) -> &mut Script {
            self.at(
                at_ms,
                Event::ItemTaken {
                    item,
                    stage,
                    worker,
                },
            )
        }

        fn waiting(
            &mut self,
            at_ms: u64,
            item: ItemId,
            stage: StageId,
            on: Option<ItemId>,
        ) -> &mut Script {
            self.at(at_ms, Event::ItemWaiting { item, stage, on })
        }

        fn ended(&mut self, at_ms: u64, item: ItemId, end: ItemEnd) -> &mut Script {
            self.at(at_ms, Event::ItemEnded { item, end })
        }

        fn scene(&self) -> &FlowScene {
            self.snap.flow().expect("a flow run")
        }
    }

    /// The seed's log pipeline in small: two sources, a level filter, an
    /// enrich pool of two, one output.
    fn log_pipeline() -> Script {
        let mut s = Script::new();
        s.stage(0, StageRole::Source, 0, (0, 0))
            .stage(1, StageRole::Source, 0, (0, 1))
            .stage(2, StageRole::Filter, 1, (1, 0))
            .stage(3, StageRole::Worker, 2, (2, 0))
            .stage(4, StageRole::Sink, 1, (3, 0))
            .channel(0, 0, 2, 2)
            .channel(1, 1, 2, 2)
            .channel(2, 2, 3, 3)
            .channel(3, 3, 4, 2);
        s
    }

    #[test]
    fn stages_sit_in_their_columns_with_channels_between() {
        let s = log_pipeline();
        let layout = Layout::of(s.scene());
        assert_eq!((layout.columns, layout.rows), (4, 2));
        let at = |id| {
            layout
                .stages
                .iter()
                .find(|c| c.stage == id)
                .map(|c| (c.column, c.row))
        };
        assert_eq!(at(1), Some((1, 2)), "source 1: first column, second row");
        assert_eq!(at(4), Some((7, 1)), "the output: fourth stage column");
        let cells: Vec<_> = layout
            .cells
            .iter()
            .map(|c| (c.column, c.row, c.channels.clone()))
            .collect();
        assert_eq!(
            cells,
            [
                (2, 1, vec![0]),
                (2, 2, vec![1]),
                (4, 1, vec![2]),
                (6, 1, vec![3])
            ],
            "each channel right after its sender, on the sender's row"
        );
        assert_eq!(
            layout.template(),
            "minmax(var(--stage-min), 1fr) auto minmax(var(--stage-min), 1fr) auto minmax(var(--stage-min), 1fr) auto minmax(var(--stage-min), 1fr)"
        );
        assert_eq!(
            layout.slots_per_row(),
            2,
            "four stage columns leave narrow channels"
        );
    }

    #[test]
    fn a_fan_out_puts_each_channel_on_its_receivers_row() {
        let mut s = Script::new();
        s.stage(0, StageRole::Split, 1, (0, 1))
            .stage(1, StageRole::Sink, 1, (1, 0))
            .stage(2, StageRole::Sink, 1, (1, 1))
            .stage(3, StageRole::Sink, 1, (1, 2))
            .channel(0, 0, 1, 4)
            .channel(1, 0, 2, 4)
            .channel(2, 0, 3, 4);
        let layout = Layout::of(s.scene());
        let rows: Vec<_> = layout.cells.iter().map(|c| (c.column, c.row)).collect();
        assert_eq!(rows, [(2, 1), (2, 2), (2, 3)]);
        assert_eq!(Layout::place(2, 3), "grid-column: 2; grid-row: 3;");
    }

    #[test]
    fn a_channel_shows_its_items_in_order_then_free_slots_then_blocked_senders() {
        let mut s = log_pipeline();
        s.made(0, 0, Some("ERROR"), 0)
            .queued(0, 0, 0)
            .made(1, 1, Some("INFO"), 0)
            .queued(1, 1, 0)
            .made(2, 2, Some("WARN"), 0)
            .blocked(2, 2, 0);
        let look = ChannelLook::of(s.scene(), 0).expect("channel 0");
        let slots: Vec<_> = look.slots.iter().map(Slot::key).collect();
        assert_eq!(
            slots,
            ["i0", "i1"],
            "capacity 2: both slots filled, next out first"
        );
        assert_eq!(look.fill_text(), "full: 2 / 2");
        let blocked: Vec<_> = look.blocked.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(blocked, ["WARN #2"], "the sender waits outside the buffer");
        assert_eq!(
            look.blocked[0].short(),
            "W2",
            "a level is told by its initial"
        );
        let chip = |label: &str| Chip {
            id: 0,
            label: label.to_owned(),
            tone: "plain",
        };
        assert_eq!(chip("item 9").short(), "9");
        assert_eq!(chip("orders.created #4").short(), "#4");
        assert_eq!(chip("#7").short(), "#7");
        let toned = Chip {
            tone: "hue-2",
            ..chip("orders.created #4")
        };
        assert_eq!(toned.short(), "O4");
        assert_eq!(chip("a b").short(), "a b", "no number: the whole label");
        assert_eq!(look.blocked[0].tone, "level-warn");
        assert_eq!(look.hidden_text(), None);

        // The filter takes the first: a slot frees and the blocked sender gets it.
        s.taken(5, 0, 2, 0).queued(5, 2, 0);
        let look = ChannelLook::of(s.scene(), 0).expect("channel 0");
        let labels: Vec<_> = look
            .slots
            .iter()
            .map(|slot| match slot {
                Slot::Filled(c) => c.label.clone(),
                Slot::Free(_) => "free".to_owned(),
            })
            .collect();
        assert_eq!(labels, ["INFO #1", "WARN #2"]);
        assert!(look.blocked.is_empty());
        let next = ChannelLook::of(s.scene(), 2).expect("channel 2");
        assert_eq!(
            next.slots,
            [Slot::Free(0), Slot::Free(1), Slot::Free(2)],
            "an empty channel is all free slots"
        );
        assert_eq!(next.fill_text(), "0 / 3 slots");
    }

    #[test]
    fn a_big_buffer_draws_a_bounded_number_of_slots_and_counts_the_rest() {
        let mut s = Script::new();
        s.stage(0, StageRole::Source, 0, (0, 0))
            .stage(1, StageRole::Worker, 1, (1, 0))
            .channel(0, 0, 1, 50);
        for id in 0..20 {
            s.made(0, id, None, 0).queued(0, id, 0);
        }
        let look = ChannelLook::of(s.scene(), 0).expect("channel 0");
        assert_eq!(look.slots.len(), MAX_DRAWN_SLOTS);
        assert_eq!((look.hidden_filled, look.hidden_free), (4, 30));
        assert_eq!(
            look.hidden_text().as_deref(),
            Some("+ 4 items more and 30 free slots")
        );
        assert_eq!(look.fill_text(), "20 / 50 slots");
    }

    #[test]
    fn an_unbuffered_channel_and_a_closed_one_say_so() {
        let mut s = Script::new();
        s.stage(0, StageRole::Source, 0, (0, 0))
            .stage(1, StageRole::Sink, 1, (1, 0))
            .channel(0, 0, 1, 0)
            .at(3, Event::ChannelClosed { channel: 0 });
        let look = ChannelLook::of(s.scene(), 0).expect("channel 0");
        assert!(look.slots.is_empty());
        assert_eq!(look.fill_text(), "unbuffered: a hand-off");
        assert!(look.closed);
        assert!(ChannelLook::of(s.scene(), 9).is_none());
    }

    #[test]
    fn a_worker_shows_its_item_and_how_long_it_has_held_it() {
        let mut s = log_pipeline();
        s.made(100, 0, Some("ERROR"), 0)
            .queued(100, 0, 0)
            .taken(200, 0, 2, 0)
            .queued(300, 0, 2)
            .taken(400, 0, 3, 1);
        let workers = worker_looks(s.scene(), 3);
        assert_eq!(workers.len(), 2);
        assert_eq!(workers[0].key(), "idle");
        assert_eq!(workers[0].text(900.0), "idle");
        assert_eq!(workers[0].held_share(900.0), 0.0);
        let busy = &workers[1];
        assert_eq!(busy.key(), "busy");
        assert_eq!(
            busy.item.as_ref().map(|c| c.label.as_str()),
            Some("ERROR #0")
        );
        assert_eq!(busy.text(650.0), "for 250 ms");
        assert_eq!(busy.text(1900.0), "for 1.5 s");
        assert_eq!(busy.held_share(650.0), 0.25);
        assert_eq!(
            busy.held_share(5000.0),
            1.0,
            "the bar stays full past its scale"
        );
        assert_eq!(busy_text(&workers), "1 of 2 busy");
        assert_eq!(
            worker_looks(s.scene(), 2)[0].done_text(),
            "1 done",
            "the filter handed it on"
        );
    }

    #[test]
    fn a_panicking_worker_counts_its_panics_not_the_lost_item_as_done() {
        let mut s = log_pipeline();
        s.made(0, 0, None, 0)
            .queued(0, 0, 0)
            .taken(0, 0, 2, 0)
            .queued(0, 0, 2)
            .taken(10, 0, 3, 0)
            .ended(
                20,
                0,
                ItemEnd::Failed {
                    stage: 3,
                    why: "worker panicked".into(),
                },
            )
            .at(
                20,
                Event::WorkerPanicked {
                    stage: 3,
                    worker: 0,
                },
            );
        let w = &worker_looks(s.scene(), 3)[0];
        assert_eq!(w.done_text(), "0 done · 1 panic");
        assert_eq!(w.key(), "idle");
        let tallies = stage_tallies(s.scene().stage(3).expect("pool"));
        let named: Vec<_> = tallies.iter().map(|t| (t.name, t.value)).collect();
        assert_eq!(named, [("done", 0), ("failed", 1)]);
    }

    #[test]
    fn a_shrinking_pool_marks_the_busy_worker_retiring() {
        let mut s = log_pipeline();
        s.made(0, 0, None, 0).taken(0, 0, 3, 1).at(
            5,
            Event::WorkersSet {
                stage: 3,
                workers: 1,
            },
        );
        let workers = worker_looks(s.scene(), 3);
        assert_eq!(workers[1].key(), "retiring");
        assert_eq!(workers[1].text(505.0), "retiring after this: for 505 ms");
    }

    #[test]
    fn ends_read_as_what_happened_and_why() {
        let cases = [
            (ItemEnd::Delivered { stage: 4 }, "delivered", "✓"),
            (
                ItemEnd::Filtered {
                    stage: 2,
                    why: "below WARN".into(),
                },
                "filtered: below WARN",
                "▽",
            ),
            (
                ItemEnd::Dropped {
                    stage: 0,
                    channel: Some(0),
                    why: "buffer full".into(),
                },
                "dropped: buffer full",
                "↓",
            ),
            (
                ItemEnd::Refused {
                    stage: 1,
                    why: "no token".into(),
                },
                "refused: no token",
                "⊘",
            ),
            (
                ItemEnd::Failed {
                    stage: 3,
                    why: "worker panicked".into(),
                },
                "failed: worker panicked",
                "✗",
            ),
            (ItemEnd::Cancelled, "cancelled", "■"),
            (ItemEnd::TimedOut, "timed out", "◷"),
            (
                ItemEnd::Refused {
                    stage: 1,
                    why: " ".into(),
                },
                "refused",
                "⊘",
            ),
        ];
        for (end, words, glyph) in cases {
            assert_eq!(end_text(&end), words);
            assert_eq!(end_glyph(end.key()), glyph);
        }
    }

    #[test]
    fn the_recent_strip_shows_the_latest_ends_newest_first_with_where() {
        let mut s = log_pipeline();
        s.made(0, 0, Some("DEBUG"), 0)
            .queued(0, 0, 0)
            .taken(1, 0, 2, 0)
            .ended(
                2,
                0,
                ItemEnd::Filtered {
                    stage: 2,
                    why: "below WARN".into(),
                },
            )
            .made(3, 1, Some("ERROR"), 1)
            .ended(
                4,
                1,
                ItemEnd::Dropped {
                    stage: 1,
                    channel: Some(1),
                    why: "buffer full".into(),
                },
            );
        let ends = recent_ends(s.scene(), 5);
        let seen: Vec<_> = ends
            .iter()
            .map(|e| {
                (
                    e.item.label.as_str(),
                    e.key,
                    e.text.as_str(),
                    e.at.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("ERROR #1", "dropped", "dropped: buffer full", Some("S1")),
                ("DEBUG #0", "filtered", "filtered: below WARN", Some("S2")),
            ]
        );
        assert_eq!(recent_ends(s.scene(), 1).len(), 1);
        assert_eq!(ends[0].dom_key(), "1@4");
        let split = Split::of(s.scene());
        assert_eq!((split.delivered, split.filtered), (0, 1));
        let source = stage_tallies(s.scene().stage(1).expect("source 1"));
        let named: Vec<_> = source.iter().map(|t| (t.name, t.value)).collect();
        assert_eq!(named, [("made", 1), ("dropped", 1)]);
        let filter = stage_tallies(s.scene().stage(2).expect("filter"));
        let named: Vec<_> = filter.iter().map(|t| (t.name, t.value)).collect();
        assert_eq!(
            named,
            [("done", 1), ("filtered", 1)],
            "the filter's worker handled it, and left it out"
        );
    }

    #[test]
    fn tags_get_a_colour_by_level_or_by_topic_family() {
        assert_eq!(tag_tone(Some("ERROR")), "level-error");
        assert_eq!(tag_tone(Some("warn")), "level-warn");
        assert_eq!(tag_tone(Some("DEBUG")), "level-debug");
        assert_eq!(tag_tone(None), "plain");
        assert_eq!(tag_tone(Some("  ")), "plain");
        assert_eq!(
            tag_tone(Some("orders.created")),
            tag_tone(Some("orders.paid")),
            "one family, one colour"
        );
        assert!(tag_tone(Some("orders.created")).starts_with("hue-"));
        let keys: Vec<_> = ["user:1", "user:2", "user:3"]
            .iter()
            .map(|k| tag_tone(Some(k)))
            .collect();
        assert!(
            keys[0] != keys[1] && keys[1] != keys[2] && keys[0] != keys[2],
            "the seed's three keys are told apart: {keys:?}"
        );
        let families = ["orders", "users", "payments", "stock", "mail", "auth"];
        let mut hues: Vec<_> = families.iter().map(|f| tag_tone(Some(f))).collect();
        hues.sort_unstable();
        hues.dedup();
        assert!(hues.len() >= 3, "families spread over the hues: {hues:?}");
    }

    #[test]
    fn a_gate_line_is_in_the_order_items_joined_it() {
        let mut s = Script::new();
        s.stage(0, StageRole::Source, 0, (0, 0))
            .stage(1, StageRole::Gate, 0, (1, 0))
            .made(0, 0, None, 0)
            .made(0, 1, None, 0)
            .waiting(5, 1, 1, None)
            .waiting(9, 0, 1, None)
            .made(10, 2, None, 0)
            .at(
                11,
                Event::Gauge {
                    stage: 1,
                    value: 2.5,
                    max: 5.0,
                    label: String::new(),
                },
            );
        let line: Vec<_> = waiting_line(s.scene(), 1).iter().map(|c| c.id).collect();
        assert_eq!(line, [1, 0]);
        let held: Vec<_> = held_at(s.scene(), 0).iter().map(|c| c.id).collect();
        assert_eq!(held, [2], "made but not yet sent");
        let g = s
            .scene()
            .stage(1)
            .and_then(|s| s.gauge.clone())
            .expect("a gauge");
        assert_eq!(gauge_text(&g), "2.5 / 5");
        assert_eq!(gauge_share(&g), 0.5);
        let named = Gauge {
            label: "tokens".to_owned(),
            ..g.clone()
        };
        assert_eq!(
            gauge_text(&named),
            "2.5 / 5 tokens",
            "a gauge says what it counts"
        );
        let empty = Gauge {
            value: 1.0,
            max: 0.0,
            at_ms: 0,
            label: String::new(),
        };
        assert_eq!(gauge_share(&empty), 0.0);
    }

    #[test]
    fn callers_are_grouped_under_the_call_they_wait_on() {
        let mut s = Script::new();
        s.stage(0, StageRole::Source, 0, (0, 0))
            .stage(1, StageRole::Worker, 2, (1, 0));
        for id in 0..9 {
            s.made(0, id, Some(if id < 7 { "user:1" } else { "user:2" }), 0);
        }
        s.taken(1, 0, 1, 0);
        for id in 1..7 {
            s.waiting(2 + id, id, 1, Some(0));
        }
        s.taken(3, 7, 1, 1).waiting(4, 8, 1, Some(7));
        let groups = call_groups(s.scene(), 1);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].call.id, 0);
        assert_eq!(groups[0].worker, Some(0));
        assert_eq!(
            groups[0].waiting.iter().map(|c| c.id).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 6]
        );
        assert_eq!(groups[0].text(), "7 callers, 1 call");
        assert_eq!(groups[1].text(), "2 callers, 1 call");
        assert_eq!(coalescing_text(&groups), "9 callers, 2 calls");
        assert!(
            waiting_line(s.scene(), 1).is_empty(),
            "callers sharing a call are not in a plain line"
        );
    }

    #[test]
    fn each_subscriber_counts_its_own_deliveries_and_drops() {
        let mut s = Script::new();
        s.stage(0, StageRole::Split, 0, (0, 0))
            .stage(1, StageRole::Sink, 1, (1, 0))
            .stage(2, StageRole::Sink, 1, (1, 1))
            .channel(0, 0, 1, 1)
            .channel(1, 0, 2, 1);
        // The broker reports drops at itself for subscriber 1 ...
        s.made(0, 0, Some("orders.created"), 0)
            .queued(0, 0, 0)
            .made(0, 1, Some("orders.created"), 0)
            .ended(
                0,
                1,
                ItemEnd::Dropped {
                    stage: 0,
                    channel: Some(0),
                    why: "buffer full".into(),
                },
            )
            // ... and at the subscriber for subscriber 2.
            .made(0, 2, Some("users.created"), 0)
            .queued(0, 2, 1)
            .made(0, 3, Some("users.created"), 0)
            .ended(
                0,
                3,
                ItemEnd::Dropped {
                    stage: 2,
                    channel: Some(1),
                    why: "buffer full".into(),
                },
            )
            .taken(1, 2, 2, 0)
            .ended(2, 2, ItemEnd::Delivered { stage: 2 });
        let subs = subscribers(s.scene());
        let seen: Vec<_> = subs
            .iter()
            .map(|s| (s.stage, s.delivered, s.dropped))
            .collect();
        assert_eq!(seen, [(1, 0, 1), (2, 1, 1)], "a drop is counted once");
        assert_eq!(subs[1].lost_text(), "lost 50%");
        assert_eq!(topics_seen(s.scene()), ["orders.created", "users.created"]);
    }

    #[test]
    fn lanes_compare_rows_allowed_against_refused() {
        let mut s = Script::new();
        s.stage(0, StageRole::Source, 0, (0, 0))
            .stage(1, StageRole::Gate, 0, (1, 0))
            .stage(2, StageRole::Source, 0, (0, 1))
            .stage(3, StageRole::Gate, 0, (1, 1))
            .at(
                0,
                Event::Gauge {
                    stage: 3,
                    value: 0.0,
                    max: 3.0,
                    label: String::new(),
                },
            );
        for id in 0..3 {
            s.made(0, id, None, 0).waiting(0, id, 1, None);
        }
        s.ended(100, 0, ItemEnd::Delivered { stage: 1 });
        for id in 3..6 {
            s.made(0, id, None, 2);
        }
        s.ended(0, 3, ItemEnd::Delivered { stage: 3 }).ended(
            0,
            4,
            ItemEnd::Refused {
                stage: 3,
                why: "no token".into(),
            },
        );
        let lanes = lanes(s.scene());
        assert_eq!(lanes.len(), 2);
        assert_eq!(lanes[0].title(), "S0 → S1");
        assert_eq!(
            (lanes[0].made, lanes[0].waiting, lanes[0].allowed()),
            (3, 2, 1)
        );
        assert_eq!(
            (lanes[1].allowed(), lanes[1].refused, lanes[1].before_door),
            (1, 1, 1),
            "item 5 is still at its source, not refused"
        );
        assert_eq!(
            lanes[1].gauge.as_ref().map(|(g, at)| (g.max, at.as_str())),
            Some((3.0, "S3"))
        );
        assert_eq!(lanes[0].channels, 0);
    }

    #[test]
    fn a_split_blocked_on_a_full_channel_is_a_stall() {
        let mut s = Script::new();
        s.stage(0, StageRole::Split, 1, (0, 0))
            .stage(1, StageRole::Sink, 1, (1, 0))
            .stage(2, StageRole::Sink, 1, (1, 1))
            .channel(0, 0, 1, 1)
            .channel(1, 0, 2, 1)
            .made(0, 0, None, 0)
            .queued(0, 0, 1)
            .made(100, 1, None, 0)
            .blocked(100, 1, 1);
        let stalls = stalls(s.scene());
        assert_eq!(stalls.len(), 1);
        assert_eq!(
            stalls[0].text(900.0),
            "S0 stalled 800 ms: #1 waits for a slot at S2"
        );
    }
    #[test]
    fn pool_bars_are_relative_to_the_busiest_worker_and_its_queue_counts() {
        let mut s = Script::new();
        s.stage(0, StageRole::Source, 0, (0, 0))
            .stage(1, StageRole::Worker, 3, (1, 0))
            .channel(0, 0, 1, 2);
        for id in 0..3 {
            s.made(0, id, None, 0).queued(0, id, 0).taken(1, id, 1, 0);
            s.ended(2, id, ItemEnd::Delivered { stage: 1 });
        }
        s.made(3, 3, None, 0)
            .queued(3, 3, 0)
            .taken(3, 3, 1, 1)
            .ended(4, 3, ItemEnd::Delivered { stage: 1 });
        s.made(5, 4, None, 0)
            .queued(5, 4, 0)
            .made(5, 5, None, 0)
            .queued(5, 5, 0);
        s.made(5, 6, None, 0).blocked(5, 6, 0);
        let looks = worker_looks(s.scene(), 1);
        let shares = done_shares(&looks);
        assert_eq!(shares.len(), 3);
        assert_eq!(shares[0], 1.0);
        assert!((shares[1] - 1.0 / 3.0).abs() < 1e-9);
        assert_eq!(shares[2], 0.0);
        assert_eq!(
            queued_for(s.scene(), 1),
            3,
            "two buffered, one sender blocked"
        );
        assert_eq!(done_shares(&worker_looks(s.scene(), 0)), Vec::<f64>::new());
    }

    #[test]
    fn takes_are_remembered_across_updates_and_bounded() {
        let mut s = Script::new();
        s.stage(0, StageRole::Source, 0, (0, 0))
            .stage(1, StageRole::Worker, 1, (1, 0))
            .stage(2, StageRole::Worker, 1, (1, 1));
        s.made(0, 0, None, 0)
            .taken(0, 0, 1, 0)
            .made(0, 1, None, 0)
            .taken(0, 1, 2, 0);
        let seen = note_takes(&[], s.scene(), &[1, 2], 10);
        let who: Vec<_> = seen.iter().map(|t| (t.item.id, t.stage)).collect();
        assert_eq!(who, [(0, 1), (1, 2)]);
        s.ended(5, 0, ItemEnd::Delivered { stage: 1 })
            .made(5, 2, None, 0)
            .taken(6, 2, 1, 0);
        let seen = note_takes(&seen, s.scene(), &[1, 2], 10);
        let who: Vec<_> = seen.iter().map(|t| (t.item.id, t.stage)).collect();
        assert_eq!(
            who,
            [(0, 1), (1, 2), (2, 1)],
            "item 0 is remembered after it ended"
        );
        let again = note_takes(&seen, s.scene(), &[1, 2], 10);
        assert_eq!(again, seen, "an item still in hand is noted once");
        let kept = note_takes(&seen, s.scene(), &[1, 2], 2);
        assert_eq!(
            kept.iter().map(|t| t.item.id).collect::<Vec<_>>(),
            [1, 2],
            "the newest are kept"
        );
        assert!(
            note_takes(&[], s.scene(), &[0], 10).is_empty(),
            "only the stages asked for"
        );
    }

    #[test]
    fn permits_are_the_holders_hands_or_else_the_gauge() {
        let mut s = Script::new();
        s.stage(0, StageRole::Source, 0, (0, 0))
            .stage(1, StageRole::Gate, 3, (1, 0))
            .stage(2, StageRole::Gate, 0, (1, 1));
        for id in 0..5 {
            s.made(0, id, None, 0).waiting(id, id, 1, None);
        }
        s.taken(10, 0, 1, 0).taken(10, 1, 1, 2);
        let p = Permits::of(s.scene(), 1).expect("a semaphore");
        assert_eq!(p.held(), 2);
        assert_eq!(p.permits[1], Permit::Free);
        assert!(matches!(&p.permits[2], Permit::Held(Some(c)) if c.id == 1));
        assert_eq!(
            p.waiting.iter().map(|c| c.id).collect::<Vec<_>>(),
            [2, 3, 4]
        );
        assert_eq!(p.text(), "2 of 3 permits held · 3 waiting");
        assert!(
            Permits::of(s.scene(), 2).is_none(),
            "no workers and no gauge: nothing to draw"
        );
        s.at(
            11,
            Event::Gauge {
                stage: 2,
                value: 1.0,
                max: 4.0,
                label: String::new(),
            },
        );
        let g = Permits::of(s.scene(), 2).expect("a gauge of free permits");
        assert_eq!(
            g.permits,
            [
                Permit::Held(None),
                Permit::Held(None),
                Permit::Held(None),
                Permit::Free
            ]
        );
    }

    #[test]
    fn a_tee_names_the_consumer_that_holds_it_back() {
        let mut s = Script::new();
        s.stage(0, StageRole::Split, 1, (0, 0))
            .stage(1, StageRole::Sink, 1, (1, 0))
            .stage(2, StageRole::Sink, 1, (1, 1))
            .channel(0, 0, 1, 1)
            .channel(1, 0, 2, 1)
            .made(0, 0, Some("A"), 0)
            .queued(0, 0, 0)
            .taken(1, 0, 1, 0)
            .ended(2, 0, ItemEnd::Delivered { stage: 1 })
            .made(0, 1, Some("B"), 0)
            .queued(0, 1, 1)
            .made(3, 2, Some("B"), 0)
            .blocked(3, 2, 1);
        let outs = consumers(s.scene());
        let seen: Vec<_> = outs
            .iter()
            .map(|c| (c.stage, c.delivered, c.buffered, c.holding_back))
            .collect();
        assert_eq!(seen, [(1, 1, 0, false), (2, 0, 1, true)]);
    }

    #[test]
    fn every_call_in_flight_gathers_its_callers_wherever_they_wait() {
        let mut s = Script::new();
        s.stage(0, StageRole::Source, 0, (0, 0))
            .stage(1, StageRole::Gate, 0, (1, 0))
            .stage(2, StageRole::Worker, 2, (2, 0));
        for id in 0..5 {
            s.made(0, id, Some("user:1"), 0);
        }
        s.taken(0, 0, 2, 0)
            .taken(0, 1, 2, 1)
            .waiting(1, 2, 1, Some(0))
            .waiting(2, 3, 1, Some(0))
            .waiting(3, 4, 1, Some(1));
        let groups = all_call_groups(s.scene());
        let seen: Vec<_> = groups
            .iter()
            .map(|g| (g.call.id, g.worker, g.callers()))
            .collect();
        assert_eq!(seen, [(0, Some(0), 3), (1, Some(1), 2)]);
        assert_eq!(coalescing_text(&groups), "5 callers, 2 calls");
        let at_gate = call_groups(s.scene(), 1);
        assert_eq!(
            at_gate.len(),
            2,
            "the gate's card groups its waiters by call"
        );
        assert_eq!(at_gate[0].worker, None);
    }
}

//! How the flow family reads on screen: where each stage and channel sits
//! in the grid, a channel's slots, a worker's hands, how an item ended and
//! why, each stage's tallies, each subscriber's delivered and dropped
//! counts, the waiting lines of gates and the callers that share one call.
//!
//! Kept apart from the components so that what the room reads ("dropped:
//! buffer full", "for 0.4 s", "7 callers, 1 call") and where things are
//! drawn are tested natively against scenes folded from events.

mod parts;

use super::present::{duration_text, trim_number};
pub use parts::*;
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

#[cfg(test)]
mod tests;

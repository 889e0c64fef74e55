//! The flow family's picture: stages joined by channels, and the items that
//! move through them.
//!
//! A pattern of the family declares its layout first (its stages, each with
//! some workers, and the channels between them), then reports every move of
//! every item: made at a stage, queued in a channel's buffer, blocked while
//! its sender waits for a slot, taken by a worker, waiting in a stage's line
//! (a semaphore's, a limiter's, a coalesced call's), and its end. One item is
//! one unit of the run's counters; a message copied to several subscribers
//! is one item per copy.

mod event;
mod fold;
pub mod params;
pub mod topic;

pub use event::FlowEvent;

use serde::{Deserialize, Serialize};

/// A stage's number within its run.
pub type StageId = u32;
/// A channel's number within its run.
pub type ChannelId = u32;
/// An item's number within its run.
pub type ItemId = u64;

/// How many ended items a flow scene remembers, for "where it went".
pub const RECENT_ENDS: usize = 32;

/// What a stage does, which decides how it is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StageRole {
    /// Makes items (a producer, a log source, a publisher).
    Source,
    /// Works on items with its workers.
    Worker,
    /// Lets some items through and filters the others out.
    Filter,
    /// Joins several channels into one.
    Merge,
    /// Copies each item to several outputs (tee) or routes it (a broker).
    Split,
    /// Admits items at a pace or within a budget (a ticker, a token bucket,
    /// a semaphore): items wait in its line.
    Gate,
    /// Consumes items: an output, a subscriber.
    Sink,
}

/// A stage as it is declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageSpec {
    pub id: StageId,
    pub label: String,
    pub role: StageRole,
    /// How many workers it starts with (0 for a stage that only passes
    /// items on).
    pub workers: u32,
    /// Where it is drawn: columns run left to right in the direction items
    /// flow, rows top to bottom.
    pub column: u32,
    pub row: u32,
    /// A line about it: "keeps ERROR and WARN", "orders.*", "slow: 400 ms".
    pub about: Option<String>,
}

/// A channel as it is declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelSpec {
    pub id: ChannelId,
    pub label: String,
    pub from: StageId,
    pub to: StageId,
    /// Buffer slots; 0 for an unbuffered hand-off.
    pub capacity: u32,
}

/// An item as it is made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemSpec {
    pub id: ItemId,
    pub label: String,
    /// What it is routed or filtered by: a log level, a topic, a key.
    pub tag: Option<String>,
}

/// How an item left the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemEnd {
    /// It reached the end of the flow and was handled there.
    Delivered { stage: StageId },
    /// A filter left it out on purpose; it counts as handled.
    Filtered { stage: StageId, why: String },
    /// It was lost: a full buffer (`channel`), or no one to take it.
    Dropped {
        stage: StageId,
        channel: Option<ChannelId>,
        why: String,
    },
    /// A gate refused it (a rate limit).
    Refused { stage: StageId, why: String },
    /// Its work failed (a worker panicked with it in hand).
    Failed { stage: StageId, why: String },
    /// The run was stopped first.
    Cancelled,
    /// It waited past its deadline.
    TimedOut,
}

impl ItemEnd {
    pub fn key(&self) -> &'static str {
        match self {
            ItemEnd::Delivered { .. } => "delivered",
            ItemEnd::Filtered { .. } => "filtered",
            ItemEnd::Dropped { .. } => "dropped",
            ItemEnd::Refused { .. } => "refused",
            ItemEnd::Failed { .. } => "failed",
            ItemEnd::Cancelled => "cancelled",
            ItemEnd::TimedOut => "timed_out",
        }
    }

    /// The stage it ended at, if it ended at one.
    pub fn stage(&self) -> Option<StageId> {
        match self {
            ItemEnd::Delivered { stage }
            | ItemEnd::Filtered { stage, .. }
            | ItemEnd::Dropped { stage, .. }
            | ItemEnd::Refused { stage, .. }
            | ItemEnd::Failed { stage, .. } => Some(*stage),
            ItemEnd::Cancelled | ItemEnd::TimedOut => None,
        }
    }
}

/// Where a live item is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Place {
    /// Held by a stage: just made, or in a worker's hands (`worker`).
    Stage { stage: StageId, worker: Option<u32> },
    /// In a channel's buffer.
    Channel { channel: ChannelId },
    /// Its sender is waiting for a free slot in a full channel.
    Blocked { channel: ChannelId },
    /// In a stage's waiting line; `on`: the item whose call it shares.
    Waiting { stage: StageId, on: Option<ItemId> },
}

/// A live item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub spec: ItemSpec,
    pub place: Place,
    /// When it got where it is.
    pub since_ms: u64,
}

impl Item {
    pub fn id(&self) -> ItemId {
        self.spec.id
    }
}

/// One worker of a stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Worker {
    pub item: Option<ItemId>,
    /// Since when it holds its item, or has been idle.
    pub since_ms: u64,
    /// Items that left its hands for the next stage or their end.
    pub done: u64,
    /// Times it panicked and was replaced.
    pub panics: u32,
    /// Removed (a pool shrinking): it finishes its item, then is gone.
    pub retiring: bool,
}

/// How items ended at one stage.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndTally {
    pub delivered: u64,
    pub filtered: u64,
    pub dropped: u64,
    pub refused: u64,
    pub failed: u64,
}

/// A stage, as the fold keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    pub spec: StageSpec,
    pub workers: Vec<Worker>,
    /// Items made here.
    pub made: u64,
    /// Messages sent on from here as items made elsewhere.
    #[serde(default)]
    pub sent: u64,
    pub ends: EndTally,
    /// A level it reports: tokens in a bucket, free permits.
    pub gauge: Option<Gauge>,
    /// It has stopped (its loop ended, or it was unsubscribed).
    pub stopped: bool,
}

/// A level with its maximum, and what it counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Gauge {
    pub value: f64,
    pub max: f64,
    pub at_ms: u64,
    /// What the level counts, in words: "tokens", "permits free".
    #[serde(default)]
    pub label: String,
}

/// A channel, as the fold keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub spec: ChannelSpec,
    /// Buffered items, next out first.
    pub buffer: Vec<ItemId>,
    /// Senders waiting for a slot, first come first.
    pub blocked: Vec<ItemId>,
    pub sent: u64,
    pub dropped: u64,
    pub closed: bool,
}

/// An item that left the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndRecord {
    pub item: ItemSpec,
    pub end: ItemEnd,
    pub at_ms: u64,
}

/// The family's scene.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FlowScene {
    pub stages: Vec<Stage>,
    pub channels: Vec<Channel>,
    /// Every live item, in the order they were made.
    pub items: Vec<Item>,
    /// The latest ends, oldest first.
    pub recent: Vec<EndRecord>,
    /// Whether the sources were told to stop and the flow is draining.
    pub draining: bool,
}

impl FlowScene {
    /// The stages with their idle workers and the channels, empty: no
    /// item made yet.
    pub fn blueprint(&self) -> FlowScene {
        let stages = self
            .stages
            .iter()
            .map(|s| Stage {
                spec: s.spec.clone(),
                workers: vec![Worker::default(); s.workers.len()],
                made: 0,
                sent: 0,
                ends: EndTally::default(),
                // A level as the engine set it at its first instant (a full
                // bucket, every permit free, nothing finished yet).
                gauge: s.gauge.clone(),
                stopped: false,
            })
            .collect();
        let channels = self
            .channels
            .iter()
            .map(|c| Channel {
                spec: c.spec.clone(),
                buffer: Vec::new(),
                blocked: Vec::new(),
                sent: 0,
                dropped: 0,
                closed: false,
            })
            .collect();
        FlowScene {
            stages,
            channels,
            ..Default::default()
        }
    }

    pub fn stage(&self, id: StageId) -> Option<&Stage> {
        self.stages.iter().find(|s| s.spec.id == id)
    }

    pub fn channel(&self, id: ChannelId) -> Option<&Channel> {
        self.channels.iter().find(|c| c.spec.id == id)
    }

    pub fn item(&self, id: ItemId) -> Option<&Item> {
        self.items
            .binary_search_by_key(&id, Item::id)
            .ok()
            .map(|i| &self.items[i])
    }

    /// Items not yet ended.
    pub fn items_in_flight(&self) -> u64 {
        self.items.len() as u64
    }

    fn stage_mut(&mut self, id: StageId) -> Option<&mut Stage> {
        self.stages.iter_mut().find(|s| s.spec.id == id)
    }

    fn channel_mut(&mut self, id: ChannelId) -> Option<&mut Channel> {
        self.channels.iter_mut().find(|c| c.spec.id == id)
    }

    fn item_mut(&mut self, id: ItemId) -> Option<&mut Item> {
        let i = self.items.binary_search_by_key(&id, Item::id).ok()?;
        Some(&mut self.items[i])
    }

    pub(crate) fn add_stage(&mut self, spec: StageSpec, at_ms: u64) {
        let workers = vec![
            Worker {
                since_ms: at_ms,
                ..Worker::default()
            };
            spec.workers as usize
        ];
        let stage = Stage {
            spec,
            workers,
            made: 0,
            sent: 0,
            ends: EndTally::default(),
            gauge: None,
            stopped: false,
        };
        match self.stages.iter().position(|s| s.spec.id == stage.spec.id) {
            Some(i) => self.stages[i] = stage,
            None => self.stages.push(stage),
        }
    }

    pub(crate) fn add_channel(&mut self, spec: ChannelSpec) {
        let channel = Channel {
            spec,
            buffer: Vec::new(),
            blocked: Vec::new(),
            sent: 0,
            dropped: 0,
            closed: false,
        };
        match self
            .channels
            .iter()
            .position(|c| c.spec.id == channel.spec.id)
        {
            Some(i) => self.channels[i] = channel,
            None => self.channels.push(channel),
        }
    }

    pub(crate) fn stop_stage(&mut self, id: StageId) {
        if let Some(s) = self.stage_mut(id) {
            s.stopped = true;
        }
    }

    pub(crate) fn make(&mut self, spec: ItemSpec, stage: StageId, at_ms: u64) {
        if let Some(s) = self.stage_mut(stage) {
            s.made += 1;
        }
        let item = Item {
            spec,
            place: Place::Stage {
                stage,
                worker: None,
            },
            since_ms: at_ms,
        };
        crate::sorted::insert_by_id(&mut self.items, item, Item::id);
    }

    /// Takes the item out of where it was: a buffer, a blocked line, a
    /// waiting line, a worker's hands (which counts as done there if the
    /// worker `handled` it, not if it failed or was cancelled with it).
    fn lift(&mut self, id: ItemId, handled: bool, at_ms: u64) -> Option<Place> {
        let place = self.item(id)?.place;
        match place {
            Place::Stage {
                stage,
                worker: Some(w),
            } => {
                if let Some(worker) = self
                    .stage_mut(stage)
                    .and_then(|s| s.workers.get_mut(w as usize))
                    .filter(|worker| worker.item == Some(id))
                {
                    worker.item = None;
                    worker.since_ms = at_ms;
                    if handled {
                        worker.done += 1;
                    }
                }
                self.retire_idle(stage);
            }
            Place::Channel { channel } => {
                if let Some(c) = self.channel_mut(channel) {
                    c.buffer.retain(|i| *i != id);
                }
            }
            Place::Blocked { channel } => {
                if let Some(c) = self.channel_mut(channel) {
                    c.blocked.retain(|i| *i != id);
                }
            }
            Place::Stage { worker: None, .. } | Place::Waiting { .. } => {}
        }
        Some(place)
    }

    /// Removes retiring workers that have put their item down, from the
    /// end of the list (workers are numbered, so only the last ones go).
    fn retire_idle(&mut self, stage: StageId) {
        if let Some(s) = self.stage_mut(stage) {
            while s
                .workers
                .last()
                .is_some_and(|w| w.retiring && w.item.is_none())
            {
                s.workers.pop();
            }
        }
    }

    fn put(&mut self, id: ItemId, place: Place, at_ms: u64) {
        if let Some(item) = self.item_mut(id) {
            item.place = place;
            item.since_ms = at_ms;
        }
    }

    pub(crate) fn queue(&mut self, id: ItemId, channel: ChannelId, at_ms: u64) {
        if self.lift(id, true, at_ms).is_none() {
            return;
        }
        if let Some(c) = self.channel_mut(channel) {
            c.buffer.push(id);
            c.sent += 1;
        }
        self.put(id, Place::Channel { channel }, at_ms);
    }

    pub(crate) fn block(&mut self, id: ItemId, channel: ChannelId, at_ms: u64) {
        if self.lift(id, true, at_ms).is_none() {
            return;
        }
        if let Some(c) = self.channel_mut(channel) {
            c.blocked.push(id);
        }
        self.put(id, Place::Blocked { channel }, at_ms);
    }

    pub(crate) fn take(&mut self, id: ItemId, stage: StageId, worker: u32, at_ms: u64) {
        if self.lift(id, true, at_ms).is_none() {
            return;
        }
        if let Some(w) = self
            .stage_mut(stage)
            .and_then(|s| s.workers.get_mut(worker as usize))
        {
            w.item = Some(id);
            w.since_ms = at_ms;
        }
        self.put(
            id,
            Place::Stage {
                stage,
                worker: Some(worker),
            },
            at_ms,
        );
    }

    pub(crate) fn wait(&mut self, id: ItemId, stage: StageId, on: Option<ItemId>, at_ms: u64) {
        if self.lift(id, true, at_ms).is_none() {
            return;
        }
        self.put(id, Place::Waiting { stage, on }, at_ms);
    }

    /// Records an item's end. Returns whether it was live.
    pub(crate) fn end(&mut self, id: ItemId, end: ItemEnd, at_ms: u64) -> bool {
        let handled = !matches!(
            end,
            ItemEnd::Failed { .. } | ItemEnd::Cancelled | ItemEnd::TimedOut
        );
        if self.lift(id, handled, at_ms).is_none() {
            return false;
        }
        let Ok(i) = self.items.binary_search_by_key(&id, Item::id) else {
            return false;
        };
        let item = self.items.remove(i);
        if let ItemEnd::Dropped {
            channel: Some(ch), ..
        } = &end
            && let Some(c) = self.channel_mut(*ch)
        {
            c.dropped += 1;
        }
        if let Some(s) = end.stage().and_then(|s| self.stage_mut(s)) {
            let t = &mut s.ends;
            match &end {
                ItemEnd::Delivered { .. } => t.delivered += 1,
                ItemEnd::Filtered { .. } => t.filtered += 1,
                ItemEnd::Dropped { .. } => t.dropped += 1,
                ItemEnd::Refused { .. } => t.refused += 1,
                ItemEnd::Failed { .. } => t.failed += 1,
                ItemEnd::Cancelled | ItemEnd::TimedOut => {}
            }
        }
        if self.recent.len() == RECENT_ENDS {
            self.recent.remove(0);
        }
        self.recent.push(EndRecord {
            item: item.spec,
            end,
            at_ms,
        });
        true
    }

    pub(crate) fn close(&mut self, channel: ChannelId) {
        if let Some(c) = self.channel_mut(channel) {
            c.closed = true;
        }
    }

    /// The pool grows (new idle workers at the end) or shrinks (the last
    /// ones retire: at once if idle, else when they put their item down).
    pub(crate) fn set_workers(&mut self, stage: StageId, workers: u32, at_ms: u64) {
        let Some(s) = self.stage_mut(stage) else {
            return;
        };
        let n = workers as usize;
        for (i, w) in s.workers.iter_mut().enumerate() {
            w.retiring = i >= n;
        }
        while s.workers.len() < n {
            s.workers.push(Worker {
                since_ms: at_ms,
                ..Worker::default()
            });
        }
        self.retire_idle(stage);
    }

    pub(crate) fn panicked(&mut self, stage: StageId, worker: u32) {
        if let Some(w) = self
            .stage_mut(stage)
            .and_then(|s| s.workers.get_mut(worker as usize))
        {
            w.panics += 1;
        }
    }

    pub(crate) fn sent(&mut self, stage: StageId) {
        if let Some(s) = self.stage_mut(stage) {
            s.sent += 1;
        }
    }

    pub(crate) fn gauge(&mut self, stage: StageId, value: f64, max: f64, label: &str, at_ms: u64) {
        if let Some(s) = self.stage_mut(stage) {
            s.gauge = Some(Gauge {
                value,
                max,
                at_ms,
                label: label.to_owned(),
            });
        }
    }
}

#[cfg(test)]
mod tests;

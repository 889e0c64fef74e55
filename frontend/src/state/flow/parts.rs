//! The flow family's parts that only some patterns have: pub/sub's
//! subscribers and topics, the lanes of a rate limiter, stalls, a pool's
//! takes, a semaphore's permits and fan-out's consumers.

use super::*;
use shared::{FlowScene, StageId};

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

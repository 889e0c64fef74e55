//! The visible state of a run, as [`crate::fold`] builds it from events.

use crate::cancellation::TreeScene;
use crate::flow::FlowScene;
use crate::overload::{NO_OVERLOAD, OverloadScene, Worker};
use crate::params::Params;
use crate::pattern::{Family, PatternId};
use crate::resilience::ResilienceScene;
use crate::task::{RunStatus, Task, TaskId};
use serde::{Deserialize, Serialize};

/// How many recent drops and completions a scene remembers for display.
pub const RECENT: usize = 32;

/// Appends `item` to a list of the latest [`RECENT`], forgetting the oldest.
pub(crate) fn push_recent<T>(list: &mut Vec<T>, item: T) {
    if list.len() == RECENT {
        list.remove(0);
    }
    list.push(item);
}

/// Where every task ended up. Each task is in exactly one bucket, so at every
/// moment `submitted == completed + failed + dropped + rejected + cancelled +
/// timed_out + in_flight`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub submitted: u64,
    pub completed: u64,
    pub failed: u64,
    pub dropped: u64,
    pub rejected: u64,
    pub cancelled: u64,
    pub timed_out: u64,
    pub in_flight: u64,
}

impl Counters {
    /// Tasks that reached an outcome.
    pub fn settled(&self) -> u64 {
        self.completed
            + self.failed
            + self.dropped
            + self.rejected
            + self.cancelled
            + self.timed_out
    }

    /// The conservation rule every run obeys at every moment.
    pub fn is_conserved(&self) -> bool {
        self.submitted == self.settled() + self.in_flight
    }

    /// Dropped as a share of submitted, 0.0 to 1.0.
    pub fn drop_rate(&self) -> f64 {
        if self.submitted == 0 {
            0.0
        } else {
            self.dropped as f64 / self.submitted as f64
        }
    }
}

/// The run's virtual clock as last reported.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClockInfo {
    pub speed: f64,
    pub paused: bool,
    /// Virtual time of the latest event, in milliseconds since the run started.
    pub now_ms: u64,
}

impl Default for ClockInfo {
    fn default() -> Self {
        ClockInfo {
            speed: 1.0,
            paused: false,
            now_ms: 0,
        }
    }
}

/// What a run looks like, by the family of its pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scene {
    Overload(OverloadScene),
    Tree(TreeScene),
    Resilience(ResilienceScene),
    Flow(FlowScene),
}

impl Scene {
    /// The scene's shape without anything that moved: what it shows before
    /// the run starts.
    pub fn blueprint(&self) -> Scene {
        match self {
            Scene::Overload(s) => Scene::Overload(OverloadScene {
                capacity: s.capacity,
                workers: vec![Worker::default(); s.workers.len()],
                ..OverloadScene::default()
            }),
            Scene::Tree(t) => Scene::Tree(t.blueprint()),
            Scene::Resilience(r) => Scene::Resilience(r.blueprint()),
            Scene::Flow(f) => Scene::Flow(f.blueprint()),
        }
    }

    /// An empty scene for `pattern`, in the shape of its family.
    pub fn new(pattern: PatternId, capacity: u32, workers: u32) -> Scene {
        match pattern.family() {
            Family::Overload => Scene::Overload(OverloadScene {
                capacity,
                workers: vec![Worker::default(); workers as usize],
                ..OverloadScene::default()
            }),
            Family::Cancellation => Scene::Tree(TreeScene::default()),
            Family::Resilience => {
                Scene::Resilience(ResilienceScene::new(pattern.has_breaker(), workers))
            }
            Family::Flow => Scene::Flow(FlowScene::default()),
        }
    }
}

/// Everything about one run: what a viewer gets first, and what the events fold into.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSnapshot {
    pub run: String,
    pub pattern: PatternId,
    /// The sequence number of the last event folded in (0: none yet).
    pub seq: u64,
    pub status: RunStatus,
    pub seed: u64,
    pub params: Params,
    pub clock: ClockInfo,
    pub counters: Counters,
    pub scene: Scene,
}

impl RunSnapshot {
    /// An empty run that has seen no events.
    pub fn new(run: impl Into<String>, pattern: PatternId) -> RunSnapshot {
        RunSnapshot {
            run: run.into(),
            pattern,
            seq: 0,
            status: RunStatus::Idle,
            seed: 0,
            params: Params::new(),
            clock: ClockInfo::default(),
            counters: Counters::default(),
            scene: Scene::new(pattern, 0, 0),
        }
    }

    /// The overload scene; an empty one for a run of another family.
    pub fn overload(&self) -> &OverloadScene {
        match &self.scene {
            Scene::Overload(s) => s,
            Scene::Tree(_) | Scene::Resilience(_) | Scene::Flow(_) => &NO_OVERLOAD,
        }
    }

    /// The cancellation tree, for a run of that family.
    pub fn tree(&self) -> Option<&TreeScene> {
        match &self.scene {
            Scene::Tree(t) => Some(t),
            Scene::Overload(_) | Scene::Resilience(_) | Scene::Flow(_) => None,
        }
    }

    /// Jobs, attempts and the breaker, for a run of the resilience family.
    pub fn resilience(&self) -> Option<&ResilienceScene> {
        match &self.scene {
            Scene::Resilience(r) => Some(r),
            Scene::Overload(_) | Scene::Tree(_) | Scene::Flow(_) => None,
        }
    }

    /// Stages, channels and items, for a run of the flow family.
    pub fn flow(&self) -> Option<&FlowScene> {
        match &self.scene {
            Scene::Flow(f) => Some(f),
            _ => None,
        }
    }

    /// Tasks somewhere between producer and outcome, counted from the scene
    /// itself; equals `counters.in_flight` whenever the events are complete.
    pub fn tasks_in_scene(&self) -> u64 {
        let s = match &self.scene {
            Scene::Overload(s) => s,
            Scene::Tree(t) => return t.tasks_in_flight(),
            Scene::Resilience(r) => return r.jobs_in_flight(),
            Scene::Flow(f) => return f.items_in_flight(),
        };
        let held = s.workers.iter().filter(|w| w.task.is_some()).count();
        (s.queue.len() + held + usize::from(s.offering.is_some())) as u64
    }

    /// Looks a task up wherever it is in the scene.
    pub fn find_task(&self, id: TaskId) -> Option<Task> {
        let s = self.overload();
        s.offering
            .iter()
            .chain(&s.queue)
            .chain(s.workers.iter().filter_map(|w| w.task.as_ref()))
            .find(|t| t.id == id)
            .copied()
    }
}

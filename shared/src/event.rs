//! Events: everything that happens in a run, in the order it happened.
//!
//! An event is either about the run itself (its settings, status and clock,
//! the commands viewers gave it) or about its scene, in the vocabulary of the
//! pattern's family. Each family folds only its own events, so every fold
//! names every event it can meet.

use crate::cancellation::CancellationEvent;
use crate::command::Command;
use crate::flow::FlowEvent;
use crate::overload::OverloadEvent;
use crate::params::Params;
use crate::resilience::ResilienceEvent;
use crate::scene::Scene;
use crate::task::RunStatus;
use serde::{Deserialize, Serialize};

/// One thing that happened in a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// About the run itself, whatever its pattern.
    Run(RunEvent),
    Overload(OverloadEvent),
    Cancellation(CancellationEvent),
    Resilience(ResilienceEvent),
    Flow(FlowEvent),
}

/// What happens to a run whatever its pattern.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum RunEvent {
    /// The run starts over from nothing with these settings.
    Reset {
        params: Params,
        seed: u64,
        capacity: u32,
        workers: u32,
    },
    Status {
        status: RunStatus,
    },
    Clock {
        speed: f64,
        paused: bool,
    },
    /// Before Start: the scene the run will open with (its tree and
    /// deadlines, stages and channels, breaker, jobs), nothing moving yet.
    Preview {
        scene: Scene,
    },
    /// A parameter changed while the engine kept running.
    Param {
        name: String,
        value: f64,
    },
    /// A viewer's command reached the run and was carried out at this
    /// instant, after what it caused. With the seed and the parameters of
    /// the last reset, these make the run reproducible.
    Command {
        command: Command,
    },
}

impl Event {
    /// The event's wire name: its variant within its family, as the JSON
    /// names it (`dropped`, `token_cancelled`); what the code pane's marks say.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Run(e) => e.into(),
            Event::Overload(e) => e.into(),
            Event::Cancellation(e) => e.into(),
            Event::Resilience(e) => e.into(),
            Event::Flow(e) => e.into(),
        }
    }
}

macro_rules! family_events {
    ($($variant:ident($event:ident),)+) => {
        $(impl From<$event> for Event {
            fn from(event: $event) -> Event {
                Event::$variant(event)
            }
        })+
    };
}

family_events! {
    Run(RunEvent),
    Overload(OverloadEvent),
    Cancellation(CancellationEvent),
    Resilience(ResilienceEvent),
    Flow(FlowEvent),
}

/// An event with its place in the run: a sequence number (gap-free, never
/// reused, not even across resets) and the virtual time it happened at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub seq: u64,
    pub at_ms: u64,
    pub event: Event,
}

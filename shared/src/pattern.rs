//! Pattern identities and the parameters each pattern accepts.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Every pattern the dashboard can run. The kebab-case name is the id used in
/// URLs, in the API and as the id of each pattern's default run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum PatternId {
    DropBasic,
    DropPriority,
    DropAdaptive,
    DropBlocking,
    CancelWorkers,
    CancelTree,
    RequestValues,
    Errgroup,
    Timeout,
    GracefulShutdown,
    CancelFanout,
    CircuitBreaker,
    RetryBackoff,
    ResilientPool,
    Basics,
    WorkerPool,
    FanOutFanIn,
    Pipeline,
    Tee,
    RateLimit,
    Semaphore,
    PubSub,
    Singleflight,
    Supervised,
}

impl PatternId {
    /// Every pattern, in the order the navigation lists them.
    pub const ALL: [PatternId; 24] = [
        PatternId::DropBasic,
        PatternId::DropPriority,
        PatternId::DropAdaptive,
        PatternId::DropBlocking,
        PatternId::CancelWorkers,
        PatternId::CancelTree,
        PatternId::RequestValues,
        PatternId::Errgroup,
        PatternId::Timeout,
        PatternId::GracefulShutdown,
        PatternId::CancelFanout,
        PatternId::CircuitBreaker,
        PatternId::RetryBackoff,
        PatternId::ResilientPool,
        PatternId::Basics,
        PatternId::WorkerPool,
        PatternId::FanOutFanIn,
        PatternId::Pipeline,
        PatternId::Tee,
        PatternId::RateLimit,
        PatternId::Semaphore,
        PatternId::PubSub,
        PatternId::Singleflight,
        PatternId::Supervised,
    ];

    /// The id as it appears in URLs and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            PatternId::DropBasic => "drop-basic",
            PatternId::DropPriority => "drop-priority",
            PatternId::DropAdaptive => "drop-adaptive",
            PatternId::DropBlocking => "drop-blocking",
            PatternId::CancelWorkers => "cancel-workers",
            PatternId::CancelTree => "cancel-tree",
            PatternId::RequestValues => "request-values",
            PatternId::Errgroup => "errgroup",
            PatternId::Timeout => "timeout",
            PatternId::GracefulShutdown => "graceful-shutdown",
            PatternId::CancelFanout => "cancel-fanout",
            PatternId::CircuitBreaker => "circuit-breaker",
            PatternId::RetryBackoff => "retry-backoff",
            PatternId::ResilientPool => "resilient-pool",
            PatternId::Basics => "basics",
            PatternId::WorkerPool => "worker-pool",
            PatternId::FanOutFanIn => "fan-out-fan-in",
            PatternId::Pipeline => "pipeline",
            PatternId::Tee => "tee",
            PatternId::RateLimit => "rate-limit",
            PatternId::Semaphore => "semaphore",
            PatternId::PubSub => "pub-sub",
            PatternId::Singleflight => "singleflight",
            PatternId::Supervised => "supervised",
        }
    }

    /// The family the pattern belongs to, which decides the shape of its scene.
    pub fn family(self) -> Family {
        match self {
            PatternId::DropBasic
            | PatternId::DropPriority
            | PatternId::DropAdaptive
            | PatternId::DropBlocking => Family::Overload,
            PatternId::CancelWorkers
            | PatternId::CancelTree
            | PatternId::RequestValues
            | PatternId::Errgroup
            | PatternId::Timeout
            | PatternId::GracefulShutdown
            | PatternId::CancelFanout => Family::Cancellation,
            PatternId::CircuitBreaker | PatternId::RetryBackoff | PatternId::ResilientPool => {
                Family::Resilience
            }
            PatternId::Basics
            | PatternId::WorkerPool
            | PatternId::FanOutFanIn
            | PatternId::Pipeline
            | PatternId::Tee
            | PatternId::RateLimit
            | PatternId::Semaphore
            | PatternId::PubSub
            | PatternId::Singleflight
            | PatternId::Supervised => Family::Flow,
        }
    }

    /// Whether the pattern's scene has a circuit breaker.
    pub fn has_breaker(self) -> bool {
        matches!(self, PatternId::CircuitBreaker | PatternId::ResilientPool)
    }

    /// Parses an id as written in a URL.
    pub fn parse(s: &str) -> Option<PatternId> {
        PatternId::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

impl fmt::Display for PatternId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The families the navigation groups patterns into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    Overload,
    Cancellation,
    Resilience,
    Flow,
}

impl Family {
    /// The family's name, short enough for one line of the navigation.
    pub fn name(self) -> &'static str {
        match self {
            Family::Overload => "Overload",
            Family::Cancellation => "Cancellation",
            Family::Resilience => "Failure and recovery",
            Family::Flow => "Flow",
        }
    }

    /// The name with what the family is about, for the overview.
    pub fn title(self) -> &'static str {
        match self {
            Family::Overload => "Overload: queues and drops",
            Family::Cancellation => "Cancellation: trees and deadlines",
            Family::Resilience => "Failure and recovery: breakers and retries",
            Family::Flow => "Flow: pools, pipelines and limits",
        }
    }
}

/// What a viewer needs to know about a pattern to list it and build its controls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatternInfo {
    pub id: PatternId,
    pub family: Family,
    pub title: String,
    /// The idea, in two or three sentences.
    pub summary: String,
    /// Something to try with the controls.
    pub try_this: String,
    pub params: Vec<ParamSpec>,
}

/// One tunable parameter. `default` is the seed's preset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamSpec {
    pub name: String,
    pub label: String,
    pub unit: String,
    pub min: f64,
    pub max: f64,
    pub default: f64,
    /// Whether the value must be a whole number.
    pub integer: bool,
    /// Whether a change applies to the running engine at once; otherwise the
    /// run restarts with the new value.
    pub live: bool,
    /// For a parameter that picks one of a few options (a switch, a kind):
    /// their names. The value is an option's index, from `min` 0 to `max`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

/// Parameter values by name. Names and ranges are checked against the
/// pattern's [`ParamSpec`]s before an engine sees them.
pub type Params = BTreeMap<String, f64>;

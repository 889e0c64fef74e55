//! Pattern identities and the parameters each pattern accepts.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Declares every pattern, one line each: its variant, its id (as used in
/// URLs, in the API and as the id of its default run), its family and its
/// key parameters. The order is the order the navigation lists them in.
macro_rules! patterns {
    ($($variant:ident = $id:literal, $family:ident, [$($key:literal),*];)+) => {
        /// Every pattern the dashboard can run.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum PatternId {
            $(#[serde(rename = $id)] $variant,)+
        }

        impl PatternId {
            /// How many patterns there are.
            pub const COUNT: usize = [$($id),+].len();

            /// Every pattern, in the order the navigation lists them.
            pub const ALL: [PatternId; PatternId::COUNT] = [$(PatternId::$variant),+];

            /// The id as it appears in URLs and JSON.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(PatternId::$variant => $id,)+
                }
            }

            /// The family the pattern belongs to, which decides the shape of
            /// its scene.
            pub fn family(self) -> Family {
                match self {
                    $(PatternId::$variant => Family::$family,)+
                }
            }

            /// The one or two parameters a presenter keeps in reach: the
            /// load, or the switch the lesson turns on. None where the
            /// lesson is clicking the scene itself (a tree's nodes).
            pub fn key_params(self) -> &'static [&'static str] {
                match self {
                    $(PatternId::$variant => &[$($key),*],)+
                }
            }
        }
    };
}

patterns! {
    DropBasic = "drop-basic", Overload, ["interval_ms"];
    DropPriority = "drop-priority", Overload, ["interval_ms"];
    DropAdaptive = "drop-adaptive", Overload, ["interval_ms"];
    DropBlocking = "drop-blocking", Overload, ["interval_ms"];
    CancelWorkers = "cancel-workers", Cancellation, ["interval_ms"];
    CancelTree = "cancel-tree", Cancellation, [];
    RequestValues = "request-values", Cancellation, [];
    Errgroup = "errgroup", Cancellation, [];
    Timeout = "timeout", Cancellation, [];
    GracefulShutdown = "graceful-shutdown", Cancellation, ["job_every_ms"];
    CancelFanout = "cancel-fanout", Cancellation, [];
    CircuitBreaker = "circuit-breaker", Resilience, ["broken", "failure_pct"];
    RetryBackoff = "retry-backoff", Resilience, ["jitter", "broken"];
    ResilientPool = "resilient-pool", Resilience, ["broken"];
    Basics = "basics", Flow, ["interval_ms"];
    WorkerPool = "worker-pool", Flow, ["workers", "interval_ms"];
    FanOutFanIn = "fan-out-fan-in", Flow, ["interval_ms"];
    Pipeline = "pipeline", Flow, ["interval_ms"];
    Tee = "tee", Flow, ["interval_ms"];
    RateLimit = "rate-limit", Flow, ["rate_per_s"];
    Semaphore = "semaphore", Flow, ["permits"];
    PubSub = "pub-sub", Flow, ["interval_ms"];
    Singleflight = "singleflight", Flow, ["coalesce"];
    Supervised = "supervised", Flow, ["panic_pct"];
}

impl PatternId {
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

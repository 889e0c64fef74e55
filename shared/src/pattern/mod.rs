//! Pattern identities and the parameters each pattern accepts.

use crate::classroom::Prepared;
use crate::command::{Command, Target};
use crate::params::{ParamError, ParamSet, ParamSpec, Params};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Declares every pattern, one line each: its variant, its id (as used in
/// URLs, in the API and as the id of its default run), its family, its
/// parameters (a [`param_set!`](crate::param_set) struct in a file of its
/// own in this folder, named after the pattern), its key
/// parameters, and the commands only some patterns take (see
/// [`Target::Pattern`]). The order is the order the navigation lists them in.
macro_rules! patterns {
    ($($variant:ident = $id:literal, $family:ident, $module:ident::$params:ident [$($key:ident),*]
        $(takes [$($takes:ident),*])?;)+) => {
        $(pub mod $module;)+

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
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(PatternId::$variant => $id,)+
                }
            }

            /// The family the pattern belongs to, which decides the shape of
            /// its scene.
            pub const fn family(self) -> Family {
                match self {
                    $(PatternId::$variant => Family::$family,)+
                }
            }

            /// The one or two parameters a presenter keeps in reach: the
            /// load, or the switch the lesson turns on. None where the
            /// lesson is clicking the scene itself (a tree's nodes).
            pub fn key_params(self) -> &'static [&'static str] {
                match self {
                    $(PatternId::$variant => &[$(stringify!($key)),*],)+
                }
            }

            /// The commands of [`Target::Pattern`] the pattern takes, by name.
            fn own_commands(self) -> &'static [&'static str] {
                match self {
                    $(PatternId::$variant => &[$($(stringify!($takes)),*)?],)+
                }
            }

            /// Every parameter the pattern takes, in the order its controls
            /// list them.
            pub fn specs(self) -> Vec<ParamSpec> {
                match self {
                    $(PatternId::$variant => $module::$params::specs(),)+
                }
            }
        }
    };
}

patterns! {
    DropBasic = "drop-basic", Overload, drop_basic::DropBasicParams [interval_ms];
    DropPriority = "drop-priority", Overload, drop_priority::DropPriorityParams [interval_ms];
    DropAdaptive = "drop-adaptive", Overload, drop_adaptive::DropAdaptiveParams [interval_ms];
    DropBlocking = "drop-blocking", Overload, drop_blocking::DropBlockingParams [interval_ms];
    CancelWorkers = "cancel-workers", Cancellation, cancel_workers::CancelWorkersParams [interval_ms];
    CancelTree = "cancel-tree", Cancellation, cancel_tree::CancelTreeParams [];
    RequestValues = "request-values", Cancellation, request_values::RequestValuesParams [];
    Errgroup = "errgroup", Cancellation, errgroup::ErrgroupParams [] takes [fail];
    Timeout = "timeout", Cancellation, timeout::TimeoutParams [];
    GracefulShutdown = "graceful-shutdown", Cancellation, graceful_shutdown::GracefulShutdownParams [job_every_ms] takes [shutdown];
    CancelFanout = "cancel-fanout", Cancellation, cancel_fanout::CancelFanoutParams [];
    CircuitBreaker = "circuit-breaker", Resilience, circuit_breaker::CircuitBreakerParams [broken, failure_pct];
    RetryBackoff = "retry-backoff", Resilience, retry_backoff::RetryBackoffParams [jitter, broken];
    ResilientPool = "resilient-pool", Resilience, resilient_pool::ResilientPoolParams [broken];
    Basics = "basics", Flow, basics::BasicsParams [interval_ms];
    WorkerPool = "worker-pool", Flow, worker_pool::WorkerPoolParams [workers, interval_ms];
    FanOutFanIn = "fan-out-fan-in", Flow, fan_out_fan_in::FanOutFanInParams [interval_ms];
    Pipeline = "pipeline", Flow, pipeline::PipelineParams [interval_ms] takes [drain];
    Tee = "tee", Flow, tee::TeeParams [interval_ms];
    RateLimit = "rate-limit", Flow, rate_limit::RateLimitParams [rate_per_s];
    Semaphore = "semaphore", Flow, semaphore::SemaphoreParams [permits];
    PubSub = "pub-sub", Flow, pub_sub::PubSubParams [interval_ms] takes [subscribe, unsubscribe];
    Singleflight = "singleflight", Flow, singleflight::SingleflightParams [coalesce];
    Supervised = "supervised", Flow, supervised::SupervisedParams [panic_pct] takes [panic];
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
    /// Questions prepared for the seed scenario, for a classroom session.
    #[serde(default)]
    pub questions: Vec<Prepared>,
}

impl PatternId {
    /// Whether a run of the pattern takes `command`: the one place that
    /// decides. The server refuses the others before doing anything.
    pub fn takes(self, command: &Command) -> bool {
        match command.target() {
            Target::Run => true,
            Target::Tree => self.family() == Family::Cancellation,
            Target::Pattern => self.own_commands().contains(&command.name()),
        }
    }

    /// Every parameter at its preset: the seed's scenario.
    pub fn preset(self) -> Params {
        self.specs()
            .into_iter()
            .map(|s| (s.name, s.default))
            .collect()
    }

    /// Checks a viewer's change of some parameters, and answers whether all
    /// of them apply live, without a restart.
    pub fn check(self, changes: &Params) -> Result<bool, ParamError> {
        self.check_against(&self.specs(), changes)
    }

    /// [`PatternId::check`] against `specs` already at hand (the browser
    /// has them from `GET /api/patterns`).
    pub fn check_against(self, specs: &[ParamSpec], changes: &Params) -> Result<bool, ParamError> {
        if changes.is_empty() {
            return Err(ParamError::Empty);
        }
        let mut live = true;
        for (name, &value) in changes {
            let Some(spec) = specs.iter().find(|s| &s.name == name) else {
                let known = specs
                    .iter()
                    .map(|s| s.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(ParamError::Unknown {
                    pattern: self,
                    name: name.clone(),
                    known,
                });
            };
            spec.check(value)?;
            live &= spec.live;
        }
        Ok(live)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cancellation::NodeId;

    #[test]
    fn every_pattern_declares_sound_parameters() {
        for pattern in PatternId::ALL {
            let specs = pattern.specs();
            assert!(!specs.is_empty(), "{pattern}");
            for (i, spec) in specs.iter().enumerate() {
                assert!(
                    specs[..i].iter().all(|s| s.name != spec.name),
                    "{pattern}: `{}` twice",
                    spec.name
                );
                assert!(spec.min <= spec.max, "{pattern}: {spec:?}");
                assert_eq!(spec.check(spec.default), Ok(()), "{pattern}: {spec:?}");
            }
            assert_eq!(pattern.check(&pattern.preset()).map(|_| ()), Ok(()));
            for key in pattern.key_params() {
                assert!(
                    specs.iter().any(|s| s.name == *key),
                    "{pattern}: key parameter `{key}` is not a parameter"
                );
            }
        }
    }

    #[test]
    fn a_change_is_checked_and_said_to_be_live_only_if_every_part_is() {
        let p = PatternId::DropBasic;
        let change = |pairs: &[(&str, f64)]| -> Params {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
        };
        assert_eq!(p.check(&change(&[("interval_ms", 50.0)])), Ok(true));
        assert_eq!(
            p.check(&change(&[("interval_ms", 50.0), ("workers", 2.0)])),
            Ok(false)
        );
        assert_eq!(p.check(&Params::new()), Err(ParamError::Empty));
        assert!(matches!(
            p.check(&change(&[("intervall_ms", 50.0)])),
            Err(ParamError::Unknown { .. })
        ));
        assert!(matches!(
            p.check(&change(&[("workers", 9.0)])),
            Err(ParamError::OutOfRange { .. })
        ));
    }

    #[test]
    fn commands_for_some_patterns_reach_only_those() {
        let node: NodeId = 1;
        let only = |command: Command| -> Vec<PatternId> {
            PatternId::ALL
                .into_iter()
                .filter(|p| p.takes(&command))
                .collect()
        };
        assert_eq!(only(Command::Drain), [PatternId::Pipeline]);
        assert_eq!(only(Command::Panic { worker: 0 }), [PatternId::Supervised]);
        assert_eq!(only(Command::Shutdown), [PatternId::GracefulShutdown]);
        assert_eq!(only(Command::Fail { node }), [PatternId::Errgroup]);
        assert_eq!(
            only(Command::Subscribe { topic: "a".into() }),
            [PatternId::PubSub]
        );
        let tree = only(Command::Cancel { node });
        assert_eq!(tree.len(), 7);
        assert!(tree.iter().all(|p| p.family() == Family::Cancellation));
        assert_eq!(only(Command::Start).len(), PatternId::COUNT);
        // Every command a pattern names is one of those only some patterns take.
        for pattern in PatternId::ALL {
            for name in pattern.own_commands() {
                assert!(
                    [
                        "fail",
                        "shutdown",
                        "drain",
                        "subscribe",
                        "unsubscribe",
                        "panic"
                    ]
                    .contains(name),
                    "{pattern}: {name}"
                );
            }
        }
    }
}

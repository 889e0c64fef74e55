//! What the failure-and-recovery patterns share in their parameters. The
//! breaker, the retry policy and the downstream are machinery several
//! patterns share, so their parameters are groups, declared once and read
//! whole. Each pattern's parameters are in `crate::pattern`.

use super::FailureKind;
use crate::param_set;
use crate::params::{Spec, Value};
use std::time::Duration;

/// A choice parameter's value picks the kind at that index of
/// [`FailureKind::ALL`].
impl Value for FailureKind {
    fn from_value(value: f64) -> FailureKind {
        FailureKind::from_index(usize::from_value(value)).unwrap_or(FailureKind::Network)
    }
}

/// The kinds, as a failure-type choice lists them.
const KINDS: &[&str] = &["timeout", "network", "resource", "processing", "validation"];

/// The switch that makes every call to the downstream fail.
pub const BROKEN: Spec = Spec::switch("Downstream broken", false).live();

param_set! {
    /// The breaker: open after `threshold` failures in a row, try again
    /// after `reset_ms`. The seed's preset: five, and 30 s.
    pub struct BreakerParams {
        threshold: u32 = Spec::whole("Failure threshold", "failures", 1.0, 20.0, 5.0).live(),
        reset_ms: Duration = Spec::ms("Reset timeout", 10.0, 120_000.0, 30_000.0).live(),
    }
}

/// The most retries the policy allows, at the top of its range.
pub const MAX_RETRIES: u32 = 10;

param_set! {
    /// When and how often to try again. The seed's preset: three retries,
    /// waiting 100 ms × 2ⁿ⁻¹ × 2 after failed attempt n, never more than 10 s.
    pub struct RetryParams {
        /// Retries after the first attempt.
        max_retries: u32 =
            Spec::whole("Max retries", "retries", 0.0, MAX_RETRIES as f64, 3.0).live(),
        base_ms: u64 = Spec::ms("Base delay", 10.0, 2_000.0, 100.0).live(),
        factor: f64 = Spec::real("Backoff factor", "×", 1.0, 4.0, 2.0).live(),
        /// No wait is longer.
        cap_ms: u64 = Spec::ms("Longest wait", 100.0, 60_000.0, 10_000.0).live(),
        /// Draw each wait between zero and the backoff ("full jitter").
        jitter: bool = Spec::switch("Jitter", false).live(),
    }
}

param_set! {
    /// The downstream as its controls describe it: how often a call fails,
    /// how long it takes, how it fails, and the switch that breaks it.
    pub struct DownstreamParams {
        failure_pct: f64 = Spec::whole("Calls that fail", "%", 0.0, 100.0, 10.0).live(),
        latency_ms: f64 = Spec::ms("Call latency", 1.0, 5_000.0, 100.0).live(),
        failure_type: FailureKind =
            Spec::choice("Failure type", KINDS, FailureKind::Network as usize).live(),
        broken: bool = BROKEN,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_failure_type_choice_lists_every_kind_in_order() {
        let names: Vec<&str> = FailureKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(KINDS, names);
        for (i, kind) in FailureKind::ALL.into_iter().enumerate() {
            assert_eq!(FailureKind::from_value(i as f64), kind);
        }
    }
}

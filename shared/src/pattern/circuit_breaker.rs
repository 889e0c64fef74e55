//! The parameters of `circuit-breaker`.

use crate::param_set;
use crate::params::{Group, Spec};
use crate::resilience::params::{BreakerParams, DownstreamParams};
use std::time::Duration;

param_set! {
    /// `circuit-breaker`: calls at a steady pace through a breaker.
    pub struct CircuitBreakerParams {
        calls: u32 = Spec::whole("Calls (0 = endless)", "calls", 0.0, 10_000.0, 0.0),
        interval_ms: Duration = Spec::ms("One call every", 10.0, 2_000.0, 100.0).live(),
        breaker: BreakerParams = Group,
        downstream: DownstreamParams = Group,
    }
}

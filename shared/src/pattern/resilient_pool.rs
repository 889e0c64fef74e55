//! The parameters of `resilient-pool`.

use crate::param_set;
use crate::params::{Group, Spec};
use crate::resilience::params::{BROKEN, BreakerParams, RetryParams};
use std::time::Duration;

param_set! {
    /// `resilient-pool`: workers with retries and one breaker, under an
    /// overall deadline.
    pub struct ResilientPoolParams {
        workers: u32 = Spec::whole("Workers", "workers", 1.0, 8.0, 3.0),
        tasks: usize = Spec::whole("Tasks", "tasks", 1.0, 70.0, 7.0),
        deadline_ms: Duration = Spec::ms("Overall deadline", 1_000.0, 60_000.0, 10_000.0),
        breaker: BreakerParams = Group,
        retry: RetryParams = Group,
        broken: bool = BROKEN,
        /// Every task kind's failure rate, scaled.
        failure_scale_pct: f64 =
            Spec::whole("Failure rates, % of the seed's", "%", 0.0, 300.0, 100.0).live(),
    }
}

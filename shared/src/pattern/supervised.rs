//! The parameters of `supervised`.

use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

param_set! {
    /// `supervised`: workers that may panic, and the supervisor that
    /// replaces them.
    pub struct SupervisedParams {
        workers: u32 = Spec::whole("Workers", "workers", 1.0, 8.0, 3.0),
        jobs: u64 = Spec::whole("Jobs (0 = endless)", "jobs", 0.0, 10_000.0, 40.0),
        interval_ms: Duration = Spec::ms("One new job every", 1.0, 2_000.0, 150.0).live(),
        panic_pct: f64 =
            Spec::whole("Jobs that make their worker panic", "%", 0.0, 100.0, 0.0).live(),
    }
}

//! The parameters of `worker-pool`.

use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

param_set! {
    /// `worker-pool`: a queue of jobs and a pool that can grow and shrink.
    pub struct WorkerPoolParams {
        jobs: u64 = Spec::whole("Jobs (0 = endless)", "jobs", 0.0, 10_000.0, 30.0),
        interval_ms: Duration = Spec::ms("One new job every", 1.0, 2_000.0, 100.0).live(),
        capacity: u32 = Spec::whole("Queue slots", "slots", 1.0, 32.0, 10.0),
        workers: u32 = Spec::whole("Workers", "workers", 1.0, 8.0, 3.0).live(),
        work_ms: u64 = Spec::ms("Work per job (± 50 %)", 10.0, 5_000.0, 300.0).live(),
        failure_pct: f64 = Spec::whole("Jobs that fail", "%", 0.0, 100.0, 10.0).live(),
    }
}

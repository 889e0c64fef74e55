//! The parameters of `cancel-workers`.

use crate::cancellation::params::ms;
use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

param_set! {
    /// `cancel-workers`: tasks with their own timeouts under a root deadline.
    pub struct CancelWorkersParams {
        root_deadline_ms: Duration = ms("Root deadline", 3_000.0),
        workers: u32 = Spec::whole("Workers", "workers", 1.0, 8.0, 3.0),
        tasks: usize = Spec::whole("Tasks", "tasks", 1.0, 50.0, 8.0),
        interval_ms: Duration = Spec::ms("One new task every", 10.0, 5_000.0, 200.0).live(),
        min_timeout_ms: u64 = ms("Shortest task timeout", 1_000.0),
        max_timeout_ms: u64 = ms("Longest task timeout", 2_999.0),
        work_pct: u64 = Spec::whole("Work, as a share of the timeout", "%", 10.0, 300.0, 100.0),
    }
}

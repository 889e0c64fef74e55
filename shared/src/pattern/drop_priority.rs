//! The parameters of `drop-priority`.

use crate::overload::params::{CAPACITY, INTERVAL, TASKS, WORKERS};
use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

param_set! {
    /// `drop-priority`: the higher a task's priority, the shorter its work.
    pub struct DropPriorityParams {
        tasks: u32 = TASKS.preset(12.0),
        interval_ms: Duration = INTERVAL.preset(50.0),
        capacity: usize = CAPACITY.preset(4.0),
        workers: u32 = WORKERS,
        work_ms: f64 = Spec::ms("Work at priority 0", 10.0, 10_000.0, 1_000.0).live(),
    }
}

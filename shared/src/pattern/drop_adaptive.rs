//! The parameters of `drop-adaptive`.

use crate::overload::params::{CAPACITY, INTERVAL, TASKS, WORKERS};
use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

param_set! {
    /// `drop-adaptive`: work of random length, and a monitor that sets the
    /// load level from the queue's fill.
    pub struct DropAdaptiveParams {
        tasks: u32 = TASKS.preset(20.0),
        interval_ms: Duration = INTERVAL.preset(100.0),
        capacity: usize = CAPACITY.preset(3.0),
        workers: u32 = WORKERS,
        work_min_ms: u32 = Spec::ms("Shortest work", 1.0, 5_000.0, 100.0).live(),
        work_max_ms: u32 = Spec::ms("Longest work", 1.0, 5_000.0, 400.0).live(),
        sample_ms: Duration = Spec::ms("Monitor reads every", 10.0, 5_000.0, 500.0).live(),
        high_pct: u32 = Spec::whole("HIGH above", "%", 1.0, 99.0, 80.0).live(),
        medium_pct: u32 = Spec::whole("MEDIUM above", "%", 0.0, 98.0, 50.0).live(),
    }
}

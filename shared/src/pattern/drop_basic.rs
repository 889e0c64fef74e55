//! The parameters of `drop-basic`.

use crate::overload::params::{CAPACITY, INTERVAL, TASKS, WORKERS};
use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

param_set! {
    /// `drop-basic`, and `drop-blocking`, which runs the same load with a
    /// blocking send.
    pub struct DropBasicParams {
        tasks: u32 = TASKS,
        interval_ms: Duration = INTERVAL,
        capacity: usize = CAPACITY,
        workers: u32 = WORKERS,
        work_ms: u32 = Spec::ms("Work per task", 1.0, 5_000.0, 200.0).live(),
        success_pct: f64 = Spec::whole("Tasks that succeed", "%", 0.0, 100.0, 90.0).live(),
    }
}

//! The parameters of `semaphore`.

use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

param_set! {
    /// `semaphore`: tasks that need one of a few permits.
    pub struct SemaphoreParams {
        tasks: u32 = Spec::whole("Tasks", "tasks", 1.0, 100.0, 12.0),
        interval_ms: Duration = Spec::ms("One new task every", 1.0, 2_000.0, 100.0).live(),
        permits: u32 = Spec::whole("Permits", "permits", 1.0, 8.0, 3.0).live(),
        work_ms: Duration = Spec::ms("Work per task (+-25 %)", 50.0, 5_000.0, 800.0).live(),
    }
}

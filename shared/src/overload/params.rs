//! The overload patterns' parameters. All four share the load (how many
//! tasks, how often, how many slots and workers), each with its own preset.

use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

/// How many tasks the producer makes; 0 makes it endless.
pub const TASKS: Spec = Spec::whole("Tasks (0 = endless)", "tasks", 0.0, 10_000.0, 15.0);
/// The producer's pace.
pub const INTERVAL: Spec = Spec::ms("One new task every", 1.0, 2_000.0, 30.0).live();
/// The queue's slots.
pub const CAPACITY: Spec = Spec::whole("Queue slots", "slots", 1.0, 32.0, 5.0);
pub const WORKERS: Spec = Spec::whole("Workers", "workers", 1.0, 8.0, 1.0);

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

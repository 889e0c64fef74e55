//! What the overload patterns share in their parameters: the load (how
//! many tasks, how often, how many slots and workers), each with its own
//! preset. Each pattern's parameters are in `crate::pattern`.

use crate::params::Spec;

/// How many tasks the producer makes; 0 makes it endless.
pub const TASKS: Spec = Spec::whole("Tasks (0 = endless)", "tasks", 0.0, 10_000.0, 15.0);
/// The producer's pace.
pub const INTERVAL: Spec = Spec::ms("One new task every", 1.0, 2_000.0, 30.0).live();
/// The queue's slots.
pub const CAPACITY: Spec = Spec::whole("Queue slots", "slots", 1.0, 32.0, 5.0);
pub const WORKERS: Spec = Spec::whole("Workers", "workers", 1.0, 8.0, 1.0);

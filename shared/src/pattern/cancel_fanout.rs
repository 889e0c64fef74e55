//! The parameters of `cancel-fanout`.

use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

/// How many branches at one level of the fan-out.
const fn count(label: &'static str, unit: &'static str) -> Spec {
    Spec::whole(label, unit, 1.0, 12.0, 10.0)
}

param_set! {
    /// `cancel-fanout`: regions, services and tasks under one root.
    pub struct CancelFanoutParams {
        regions: u32 = count("Regions", "regions"),
        services: u32 = count("Services per region", "services"),
        tasks: u32 = count("Tasks per service", "tasks"),
        tick_ms: Duration = Spec::ms("Each task ticks every", 100.0, 10_000.0, 1_000.0),
        root_deadline_ms: Duration = Spec::ms("Root deadline (0 = none)", 0.0, 600_000.0, 0.0),
    }
}

//! The parameters of `cancel-tree`.

use crate::cancellation::params::ms;
use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

/// How often a service loop ticks.
const fn tick(label: &'static str, default: f64) -> Spec {
    Spec::ms(label, 50.0, 5_000.0, default)
}

param_set! {
    /// `cancel-tree`: three services under a root, each ticking.
    pub struct CancelTreeParams {
        root_deadline_ms: Duration = ms("Root deadline", 5_000.0),
        service_deadline_ms: Duration = ms("Service deadline", 4_000.0),
        batch_deadline_ms: Duration = ms("Batch deadline", 3_000.0),
        cancel_batch_at_ms: Duration =
            Spec::ms("External cancel of batch at (0 = never)", 0.0, 20_000.0, 2_000.0),
        email_every_ms: Duration = tick("Email service ticks every", 500.0),
        report_every_ms: Duration = tick("Report service ticks every", 800.0),
        batch_every_ms: Duration = tick("Batch processor ticks every", 300.0),
    }
}

//! The parameters of `graceful-shutdown`.

use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

param_set! {
    /// `graceful-shutdown`: a service that drains its jobs when told to stop.
    pub struct GracefulShutdownParams {
        workers: u32 = Spec::whole("Workers", "workers", 1.0, 10.0, 5.0),
        job_every_ms: Duration = Spec::ms("A job arrives every", 10.0, 2_000.0, 100.0).live(),
        job_ms: Duration = Spec::ms("Each job takes", 10.0, 5_000.0, 50.0).live(),
        grace_ms: Duration = Spec::ms("Grace period", 100.0, 60_000.0, 10_000.0),
        shutdown_at_ms: Duration = Spec::ms(
            "Shutdown signal at (0 = only the Shutdown button)",
            0.0,
            600_000.0,
            3_000.0,
        ),
    }
}

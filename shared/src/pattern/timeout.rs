//! The parameters of `timeout`.

use crate::cancellation::params::ms;
use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

param_set! {
    /// `timeout`: a caller that stops waiting, and a worker that may leak.
    pub struct TimeoutParams {
        timeout_ms: Duration = ms("Caller's timeout", 2_000.0),
        op_ms: Duration = ms("Operation takes", 3_000.0),
        result_buffer: u64 = Spec::whole(
            "Result channel slots (0 = unbuffered hand-off)",
            "slots",
            0.0,
            1.0,
            0.0,
        ),
        worker_watches: bool =
            Spec::whole("Worker watches its token (0 = no, 1 = yes)", "", 0.0, 1.0, 0.0),
    }
}

//! The parameters of `fan-out-fan-in`.

use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

param_set! {
    /// `fan-out-fan-in`: items spread over workers and gathered again.
    pub struct FanOutFanInParams {
        workers: u32 = Spec::whole("Workers", "workers", 1.0, 6.0, 3.0),
        items: u32 = Spec::whole("Items", "items", 1.0, 500.0, 20.0),
        interval_ms: Duration = Spec::ms("One new item every", 1.0, 2_000.0, 100.0).live(),
        work_ms: u64 = Spec::ms("Work per item (± 50 %)", 10.0, 5_000.0, 400.0).live(),
    }
}

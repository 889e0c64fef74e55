//! The parameters of `rate-limit`.

use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

param_set! {
    /// `rate-limit`: a ticker for jobs, a token bucket for requests.
    pub struct RateLimitParams {
        jobs: u32 = Spec::whole("Jobs", "jobs", 1.0, 200.0, 50.0),
        ticker_ms: Duration = Spec::ms("One tick every", 10.0, 2_000.0, 100.0).live(),
        workers: u32 = Spec::whole("Ticker workers", "workers", 1.0, 10.0, 5.0),
        work_ms: Duration = Spec::ms("Work per job or request", 1.0, 2_000.0, 50.0).live(),
        requests: u32 = Spec::whole("Requests", "requests", 1.0, 1_000.0, 100.0),
        rate_per_s: f64 = Spec::whole("Steady arrivals", "per s", 1.0, 100.0, 20.0).live(),
        burst: u32 = Spec::whole("Burst every 2 s", "requests", 0.0, 50.0, 10.0).live(),
        bucket: u32 = Spec::whole("Bucket size", "tokens", 1.0, 20.0, 5.0).live(),
        refill_per_s: f64 = Spec::whole("Refill", "tokens per s", 1.0, 50.0, 5.0).live(),
    }
}

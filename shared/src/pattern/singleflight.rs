//! The parameters of `singleflight`.

use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

param_set! {
    /// `singleflight`: callers asking for a few keys, coalesced or not.
    pub struct SingleflightParams {
        callers: u32 = Spec::whole("Callers", "callers", 1.0, 200.0, 40.0),
        keys: u32 = Spec::whole("Keys", "keys", 1.0, 8.0, 3.0),
        interval_ms: Duration = Spec::ms("One new caller every", 1.0, 2_000.0, 60.0).live(),
        call_ms: Duration = Spec::ms("Backend call", 10.0, 5_000.0, 500.0).live(),
        coalesce: bool = Spec::switch("Coalesce calls", true).live(),
    }
}

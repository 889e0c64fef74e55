//! The parameters of `basics`.

use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

param_set! {
    /// `basics`: goroutines, one channel, a producer and its consumer.
    pub struct BasicsParams {
        tasks: u32 = Spec::whole("Tasks spawned", "tasks", 1.0, 20.0, 5.0),
        items: u32 = Spec::whole("Items produced", "items", 1.0, 200.0, 10.0),
        interval_ms: Duration = Spec::ms("Producer makes one every", 10.0, 2_000.0, 100.0).live(),
        buffer: u32 = Spec::whole("Buffer slots", "slots", 1.0, 10.0, 3.0),
        consume_ms: Duration = Spec::ms("Consumer takes", 10.0, 2_000.0, 250.0).live(),
    }
}

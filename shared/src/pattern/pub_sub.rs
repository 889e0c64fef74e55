//! The parameters of `pub-sub`.

use crate::flow::params::per_item;
use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

param_set! {
    /// `pub-sub`: publishers, a broker and subscribers of two speeds.
    pub struct PubSubParams {
        publishers: u32 = Spec::whole("Publishers", "publishers", 1.0, 4.0, 2.0),
        messages: u64 =
            Spec::whole("Messages per publisher (0 = endless)", "messages", 0.0, 1_000.0, 0.0),
        interval_ms: Duration =
            Spec::ms("One message per publisher every", 10.0, 5_000.0, 150.0).live(),
        buffer: u32 = Spec::whole("Slots per subscriber", "slots", 1.0, 20.0, 4.0),
        fast_ms: Duration = per_item("Fast subscriber, per message", 50.0),
        slow_ms: Duration = per_item("Slow subscriber, per message", 600.0),
    }
}

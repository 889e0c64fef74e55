//! The parameters of `tee`.

use crate::flow::params::per_item;
use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

param_set! {
    /// `tee`: one source copied to two consumers, and an or-done reader.
    pub struct TeeParams {
        items: u32 = Spec::whole("Items per source", "items", 1.0, 200.0, 20.0),
        interval_ms: Duration = Spec::ms("One item every", 10.0, 2_000.0, 100.0).live(),
        buffer: u32 = Spec::whole("Slots in each channel", "slots", 1.0, 10.0, 2.0),
        a_ms: Duration = per_item("Consumer A, per item", 100.0),
        b_ms: Duration = per_item("Consumer B, per item", 500.0),
        c_ms: Duration = per_item("Or-done consumer, per item", 400.0),
        done_ms: Duration = Spec::ms("Done after", 100.0, 60_000.0, 3_000.0),
    }
}

//! The parameters of `pipeline`.

use crate::flow::params::per_item;
use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

/// The log levels, lowest first, as the filter lists them.
pub const LEVELS: &[&str] = &["debug", "info", "warn", "error"];

param_set! {
    /// `pipeline`: log sources, a filter, an enrich pool and outputs.
    pub struct PipelineParams {
        sources: u32 = Spec::whole("Log sources", "sources", 1.0, 6.0, 3.0),
        logs: u64 = Spec::whole("Entries per source (0 = endless)", "entries", 0.0, 1_000.0, 20.0),
        interval_ms: Duration =
            Spec::ms("One entry per source every", 10.0, 5_000.0, 200.0).live(),
        /// The index in [`LEVELS`] of the lowest level kept.
        min_level: usize = Spec::choice("Keep levels from", LEVELS, 2).live(),
        buffer: u32 = Spec::whole("Slots in each channel", "slots", 1.0, 20.0, 5.0),
        workers: u32 = Spec::whole("Enrich workers", "workers", 1.0, 8.0, 3.0),
        enrich_ms: Duration = per_item("Enrich, per entry", 300.0),
        outputs: u32 = Spec::whole("Outputs", "outputs", 1.0, 4.0, 2.0),
        output_ms: Duration = per_item("Write, per entry", 100.0),
    }
}

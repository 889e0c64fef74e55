//! The flow patterns' parameters: how much work comes in, how fast, and the
//! shape of the stages it flows through.

use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

/// How long a stage spends on one item.
const fn per_item(label: &'static str, default: f64) -> Spec {
    Spec::ms(label, 1.0, 5_000.0, default).live()
}

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

param_set! {
    /// `worker-pool`: a queue of jobs and a pool that can grow and shrink.
    pub struct WorkerPoolParams {
        jobs: u64 = Spec::whole("Jobs (0 = endless)", "jobs", 0.0, 10_000.0, 30.0),
        interval_ms: Duration = Spec::ms("One new job every", 1.0, 2_000.0, 100.0).live(),
        capacity: u32 = Spec::whole("Queue slots", "slots", 1.0, 32.0, 10.0),
        workers: u32 = Spec::whole("Workers", "workers", 1.0, 8.0, 3.0).live(),
        work_ms: u64 = Spec::ms("Work per job (± 50 %)", 10.0, 5_000.0, 300.0).live(),
        failure_pct: f64 = Spec::whole("Jobs that fail", "%", 0.0, 100.0, 10.0).live(),
    }
}

param_set! {
    /// `fan-out-fan-in`: items spread over workers and gathered again.
    pub struct FanOutFanInParams {
        workers: u32 = Spec::whole("Workers", "workers", 1.0, 6.0, 3.0),
        items: u32 = Spec::whole("Items", "items", 1.0, 500.0, 20.0),
        interval_ms: Duration = Spec::ms("One new item every", 1.0, 2_000.0, 100.0).live(),
        work_ms: u64 = Spec::ms("Work per item (± 50 %)", 10.0, 5_000.0, 400.0).live(),
    }
}

/// The log levels, lowest first, as the pipeline's filter lists them.
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

param_set! {
    /// `semaphore`: tasks that need one of a few permits.
    pub struct SemaphoreParams {
        tasks: u32 = Spec::whole("Tasks", "tasks", 1.0, 100.0, 12.0),
        interval_ms: Duration = Spec::ms("One new task every", 1.0, 2_000.0, 100.0).live(),
        permits: u32 = Spec::whole("Permits", "permits", 1.0, 8.0, 3.0).live(),
        work_ms: Duration = Spec::ms("Work per task (+-25 %)", 50.0, 5_000.0, 800.0).live(),
    }
}

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

param_set! {
    /// `supervised`: workers that may panic, and the supervisor that
    /// replaces them.
    pub struct SupervisedParams {
        workers: u32 = Spec::whole("Workers", "workers", 1.0, 8.0, 3.0),
        jobs: u64 = Spec::whole("Jobs (0 = endless)", "jobs", 0.0, 10_000.0, 40.0),
        interval_ms: Duration = Spec::ms("One new job every", 1.0, 2_000.0, 150.0).live(),
        panic_pct: f64 =
            Spec::whole("Jobs that make their worker panic", "%", 0.0, 100.0, 0.0).live(),
    }
}

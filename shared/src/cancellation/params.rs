//! The cancellation patterns' parameters: mostly deadlines and how long
//! each piece of work takes, which shape the tree, so a change restarts.

use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

/// A deadline or a piece of work, 100 ms to 20 s.
const fn ms(label: &'static str, default: f64) -> Spec {
    Spec::ms(label, 100.0, 20_000.0, default)
}

/// How often a service loop ticks.
const fn tick(label: &'static str, default: f64) -> Spec {
    Spec::ms(label, 50.0, 5_000.0, default)
}

/// How long one hop of a request takes.
const fn hop(label: &'static str, default: f64) -> Spec {
    Spec::ms(label, 10.0, 5_000.0, default)
}

/// How long one fetch of an error group takes.
const fn fetch(label: &'static str, default: f64) -> Spec {
    Spec::ms(label, 100.0, 10_000.0, default)
}

/// How many branches at one level of a fan-out.
const fn count(label: &'static str, unit: &'static str) -> Spec {
    Spec::whole(label, unit, 1.0, 12.0, 10.0)
}

param_set! {
    /// `cancel-workers`: tasks with their own timeouts under a root deadline.
    pub struct CancelWorkersParams {
        root_deadline_ms: Duration = ms("Root deadline", 3_000.0),
        workers: u32 = Spec::whole("Workers", "workers", 1.0, 8.0, 3.0),
        tasks: usize = Spec::whole("Tasks", "tasks", 1.0, 50.0, 8.0),
        interval_ms: Duration = Spec::ms("One new task every", 10.0, 5_000.0, 200.0).live(),
        min_timeout_ms: u64 = ms("Shortest task timeout", 1_000.0),
        max_timeout_ms: u64 = ms("Longest task timeout", 2_999.0),
        work_pct: u64 = Spec::whole("Work, as a share of the timeout", "%", 10.0, 300.0, 100.0),
    }
}

param_set! {
    /// `cancel-tree`: three services under a root, each ticking.
    pub struct CancelTreeParams {
        root_deadline_ms: Duration = ms("Root deadline", 5_000.0),
        service_deadline_ms: Duration = ms("Service deadline", 4_000.0),
        batch_deadline_ms: Duration = ms("Batch deadline", 3_000.0),
        cancel_batch_at_ms: Duration =
            Spec::ms("External cancel of batch at (0 = never)", 0.0, 20_000.0, 2_000.0),
        email_every_ms: Duration = tick("Email service ticks every", 500.0),
        report_every_ms: Duration = tick("Report service ticks every", 800.0),
        batch_every_ms: Duration = tick("Batch processor ticks every", 300.0),
    }
}

param_set! {
    /// `request-values`: one request's hops under its deadline.
    pub struct RequestValuesParams {
        deadline_ms: Duration = Spec::ms("Request deadline", 50.0, 10_000.0, 2_000.0),
        auth_ms: Duration = hop("Auth takes", 200.0),
        logic_ms: Duration = hop("Business logic takes", 500.0),
        persist_ms: Duration = hop("Persist takes", 300.0),
    }
}

param_set! {
    /// `errgroup`: three fetches, one of which may fail.
    pub struct ErrgroupParams {
        users_ms: Duration = fetch("Fetch users takes", 800.0),
        orders_ms: Duration = fetch("Fetch orders takes", 1_800.0),
        products_ms: Duration = fetch("Fetch products takes", 2_400.0),
        /// 0: none fails; otherwise the fetch's number, from 1.
        fail_fetch: usize = Spec::whole(
            "Failing fetch (0 none, 1 users, 2 orders, 3 products)",
            "",
            0.0,
            3.0,
            2.0,
        ),
        fail_at_ms: Duration = Spec::ms("It fails at", 0.0, 10_000.0, 1_000.0),
    }
}

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

param_set! {
    /// `cancel-fanout`: regions, services and tasks under one root.
    pub struct CancelFanoutParams {
        regions: u32 = count("Regions", "regions"),
        services: u32 = count("Services per region", "services"),
        tasks: u32 = count("Tasks per service", "tasks"),
        tick_ms: Duration = Spec::ms("Each task ticks every", 100.0, 10_000.0, 1_000.0),
        root_deadline_ms: Duration = Spec::ms("Root deadline (0 = none)", 0.0, 600_000.0, 0.0),
    }
}

//! The parameters of `errgroup`.

use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

/// How long one fetch of the group takes.
const fn fetch(label: &'static str, default: f64) -> Spec {
    Spec::ms(label, 100.0, 10_000.0, default)
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

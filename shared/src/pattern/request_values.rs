//! The parameters of `request-values`.

use crate::param_set;
use crate::params::Spec;
use std::time::Duration;

/// How long one hop of a request takes.
const fn hop(label: &'static str, default: f64) -> Spec {
    Spec::ms(label, 10.0, 5_000.0, default)
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

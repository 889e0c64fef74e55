//! The parameters of `retry-backoff`.

use crate::param_set;
use crate::params::{Group, Spec};
use crate::resilience::params::{DownstreamParams, RetryParams};

param_set! {
    /// `retry-backoff`: clients retrying against a downstream of limited
    /// capacity.
    pub struct RetryBackoffParams {
        clients: u32 = Spec::whole("Clients", "clients", 1.0, 32.0, 12.0),
        retry: RetryParams = Group,
        downstream: DownstreamParams = Group,
        /// Calls served at once; those beyond are refused.
        capacity: u32 = Spec::whole("Downstream capacity", "calls", 1.0, 32.0, 4.0).live(),
    }
}

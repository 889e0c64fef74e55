//! Failure and recovery: calls to a downstream that fails, retries with
//! backoff, and a circuit breaker. The machinery is shared: `downstream`
//! (the simulated service), `retry` (the policy and the caller that follows
//! it) and `breaker` (the state machine and its lock).

pub mod breaker;
pub mod downstream;
pub mod retry;

crate::engines::family! {
    circuit_breaker => CircuitBreaker,
    retry_backoff => RetryBackoff,
    resilient_pool => ResilientPool,
}

//! Failure and recovery: breakers, retries and the downstream they guard.
//! `panels` is what all three views share: the breaker's diagram, the
//! downstream and its switch, the attempt timelines.

pub mod panels;

crate::view::views! {
    circuit_breaker::CircuitBreaker => CircuitBreaker,
    retry_backoff::RetryBackoff => RetryBackoff,
    resilient_pool::ResilientPool => ResilientPool,
}

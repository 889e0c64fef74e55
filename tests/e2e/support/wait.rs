//! A deadline on every wait.

use std::time::Duration;

/// How long one HTTP request, or one message of a busy stream, may take.
/// Generous: the machine running the tests may be busy building.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// Awaits `fut`, failing the test with `what` if it takes longer than `limit`.
pub async fn within<F: IntoFuture>(what: &str, limit: Duration, fut: F) -> F::Output {
    match tokio::time::timeout(limit, fut).await {
        Ok(out) => out,
        Err(_) => panic!("timed out after {limit:?}: {what}"),
    }
}

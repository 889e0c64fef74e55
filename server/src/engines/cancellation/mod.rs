//! Cancellation: trees of cancellation tokens, deadlines, and tasks that
//! notice. `tree` is what all seven share: the token tree that viewers'
//! commands reach and that reports every cancellation.

pub mod tree;

crate::engines::family! {
    cancel_workers => CancelWorkers,
    cancel_tree => CancelTree,
    request_values => RequestValues,
    errgroup => Errgroup,
    timeout => Timeout,
    graceful_shutdown => GracefulShutdown,
    cancel_fanout => CancelFanout,
}

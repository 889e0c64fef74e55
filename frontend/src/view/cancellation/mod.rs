//! Cancellation: token trees, deadlines and tasks that notice. `tree` is
//! what all seven views share: the tree whose every node a click cancels.

pub mod tree;

crate::view::views! {
    cancel_workers::CancelWorkers => CancelWorkers,
    cancel_tree::CancelTree => CancelTree,
    request_values::RequestValues => RequestValues,
    errgroup::Errgroup => Errgroup,
    timeout::Timeout => Timeout,
    graceful_shutdown::GracefulShutdown => GracefulShutdown,
    cancel_fanout::CancelFanout => CancelFanout,
}

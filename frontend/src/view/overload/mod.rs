//! Overload: a producer faster than its workers and the queue between them.
//! `scene` is what all four views share: producer, queue, workers and the
//! drop bin every dropped task flies into.

pub mod scene;

crate::view::views! {
    drop_basic::DropBasic => DropBasic,
    drop_priority::DropPriority => DropPriority,
    drop_adaptive::DropAdaptive => DropAdaptive,
    drop_blocking::DropBlocking => DropBlocking,
}

//! Overload: a producer faster than its workers, a bounded queue between
//! them, and what each pattern does with the task that finds it full.
//! `load` is what all four share: the producer's pace and the workers.

pub mod load;

crate::engines::family! {
    drop_basic => DropBasic,
    drop_priority => DropPriority,
    drop_adaptive => DropAdaptive,
    drop_blocking => DropBlocking,
}

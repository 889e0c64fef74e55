//! The parameters of `drop-blocking`: the same load as `drop-basic`, sent
//! with a blocking send.

pub use super::drop_basic::DropBasicParams as DropBlockingParams;

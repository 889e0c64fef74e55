//! What the cancellation patterns share in their parameters: deadlines and
//! work times, which shape the tree. Each pattern's parameters are in
//! `crate::pattern`.

use crate::params::Spec;

/// A deadline or a piece of work, 100 ms to 20 s.
pub const fn ms(label: &'static str, default: f64) -> Spec {
    Spec::ms(label, 100.0, 20_000.0, default)
}

//! What the flow patterns share in their parameters. Each pattern's
//! parameters are in `crate::pattern`.

use crate::params::Spec;

/// How long a stage spends on one item.
pub const fn per_item(label: &'static str, default: f64) -> Spec {
    Spec::ms(label, 1.0, 5_000.0, default).live()
}

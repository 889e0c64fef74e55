//! The run's virtual clock as viewers may set it.

/// The slowest speed: a tenth of real time, the pace a class can follow.
pub const MIN_SPEED: f64 = 0.1;
/// The fastest speed: ten times real time.
pub const MAX_SPEED: f64 = 10.0;

/// The speeds a presenter steps through, slowest first.
pub const SPEEDS: [f64; 8] = [0.1, 0.2, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0];

/// A speed in thousandths, as the clock keeps it, if it is one a viewer may
/// set (0.1× to 10×, to the nearest thousandth).
pub fn speed_milli(speed: f64) -> Option<u64> {
    let milli = (speed * 1000.0).round();
    let (min, max) = (MIN_SPEED * 1000.0, MAX_SPEED * 1000.0);
    (milli.is_finite() && (min..=max).contains(&milli)).then_some(milli as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_are_checked_to_the_thousandth() {
        assert_eq!(speed_milli(1.0), Some(1000));
        assert_eq!(speed_milli(0.1), Some(100));
        assert_eq!(speed_milli(10.0), Some(10_000));
        assert_eq!(speed_milli(0.0999), Some(100), "rounds to the thousandth");
        assert_eq!(speed_milli(0.09), None);
        assert_eq!(speed_milli(10.01), None);
        assert_eq!(speed_milli(f64::NAN), None);
        assert_eq!(speed_milli(f64::INFINITY), None);
    }

    #[test]
    fn the_ladder_spans_the_range() {
        assert_eq!(SPEEDS[0], MIN_SPEED);
        assert_eq!(SPEEDS[SPEEDS.len() - 1], MAX_SPEED);
        assert!(SPEEDS.windows(2).all(|w| w[0] < w[1]));
    }
}

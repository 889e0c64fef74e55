//! The browser's session settings, and the keyboard: the clock speed every
//! page runs at, presenter mode, the shortcuts, and how a projected page is
//! scaled. Plain Rust, so the rules are tested natively; the view wires them
//! to storage, the URL and key presses.

use shared::PatternId;

/// The speeds `[` and `]` step through, slowest first (virtual seconds per
/// real second).
pub use shared::clock::SPEEDS;

/// The pace a class can follow: the shortest seed scenarios (one virtual
/// second) last ten real seconds at it.
pub const TEACHING_PACE: f64 = 0.1;

/// The presenter layout is designed on this canvas, in CSS pixels, and
/// zoomed to fill the screen, so a 1280×720 projector shows exactly what a
/// 1920×1080 one does.
pub const DESIGN_WIDTH: f64 = 1920.0;
pub const DESIGN_HEIGHT: f64 = 1080.0;

/// The next slower speed on the ladder (the slowest stays).
pub fn slower(speed: f64) -> f64 {
    SPEEDS
        .iter()
        .rev()
        .copied()
        .find(|&s| s < speed - 1e-9)
        .unwrap_or(SPEEDS[0])
}

/// The next faster speed on the ladder (the fastest stays).
pub fn faster(speed: f64) -> f64 {
    SPEEDS
        .iter()
        .copied()
        .find(|&s| s > speed + 1e-9)
        .unwrap_or(SPEEDS[SPEEDS.len() - 1])
}

/// A stored or typed speed, if it is one the server takes.
pub fn parse_speed(text: &str) -> Option<f64> {
    let speed = text
        .trim()
        .trim_end_matches(['x', '×'])
        .parse::<f64>()
        .ok()?;
    shared::clock::speed_milli(speed).map(|_| speed)
}

/// The zoom that fits the design canvas into a `width` × `height` window.
pub fn presenter_zoom(width: f64, height: f64) -> f64 {
    let zoom = (width / DESIGN_WIDTH).min(height / DESIGN_HEIGHT);
    if zoom.is_finite() && zoom > 0.0 {
        zoom
    } else {
        1.0
    }
}

/// What a key press asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    StartPause,
    Step,
    /// One event back on the timeline.
    Back,
    /// Back to the present.
    Live,
    /// The code pane on or off.
    Code,
    Restart,
    Slower,
    Faster,
    RealTime,
    Present,
    Help,
    Search,
}

/// Every shortcut with its keys as shown to people, in the help's order.
pub const SHORTCUTS: [(Shortcut, &str, &str); 12] = [
    (
        Shortcut::StartPause,
        "Space",
        "start, pause or resume the run",
    ),
    (
        Shortcut::Step,
        ".",
        "step the paused clock by 100 ms; on the timeline, one event forward",
    ),
    (Shortcut::Back, ",", "one event back on the timeline"),
    (Shortcut::Live, "L", "the timeline back to live"),
    (
        Shortcut::Code,
        "C",
        "the engine's code beside the scene, on or off",
    ),
    (Shortcut::Restart, "R", "restart the run from the beginning"),
    (Shortcut::Slower, "[", "slower clock"),
    (Shortcut::Faster, "]", "faster clock"),
    (
        Shortcut::RealTime,
        "1",
        "real time (1×); again: back to the teaching pace",
    ),
    (Shortcut::Present, "P", "presenter mode on or off"),
    (Shortcut::Search, "/", "jump to a pattern"),
    (Shortcut::Help, "?", "this list of shortcuts"),
];

impl Shortcut {
    /// The shortcut a key press stands for, given `KeyboardEvent.key`.
    /// Presses with Ctrl, Alt or Meta belong to the browser.
    pub fn from_key(key: &str, ctrl_alt_meta: bool) -> Option<Shortcut> {
        if ctrl_alt_meta {
            return None;
        }
        Some(match key {
            " " => Shortcut::StartPause,
            "." => Shortcut::Step,
            "," => Shortcut::Back,
            "l" | "L" => Shortcut::Live,
            "c" | "C" => Shortcut::Code,
            "r" | "R" => Shortcut::Restart,
            "[" => Shortcut::Slower,
            "]" => Shortcut::Faster,
            "1" => Shortcut::RealTime,
            "p" | "P" => Shortcut::Present,
            "?" => Shortcut::Help,
            "/" => Shortcut::Search,
            _ => return None,
        })
    }
}

/// Where `1` takes the speed: to real time, or from real time back to the
/// teaching pace.
pub fn real_time_toggle(speed: f64) -> f64 {
    if (speed - 1.0).abs() < 1e-9 {
        TEACHING_PACE
    } else {
        1.0
    }
}

/// The patterns whose titles or ids contain every word of `query`, in the
/// navigation's order.
pub fn search<'a>(
    patterns: impl IntoIterator<Item = (PatternId, &'a str)>,
    query: &str,
) -> Vec<PatternId> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    patterns
        .into_iter()
        .filter(|(id, title)| {
            let hay = format!("{} {}", id.as_str(), title.to_lowercase());
            words.iter().all(|w| hay.contains(w.as_str()))
        })
        .map(|(id, _)| id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_steps_one_speed_at_a_time_and_stops_at_its_ends() {
        assert_eq!(faster(TEACHING_PACE), 0.2);
        assert_eq!(slower(0.2), 0.1);
        assert_eq!(slower(0.1), 0.1);
        assert_eq!(faster(10.0), 10.0);
        // A speed between rungs (set elsewhere) goes to the next rung.
        assert_eq!(faster(0.7), 1.0);
        assert_eq!(slower(0.7), 0.5);
        let mut speed = SPEEDS[0];
        for expected in SPEEDS.iter().skip(1) {
            speed = faster(speed);
            assert_eq!(speed, *expected);
        }
    }

    #[test]
    fn one_key_reaches_real_time_and_goes_back() {
        assert_eq!(real_time_toggle(TEACHING_PACE), 1.0);
        assert_eq!(real_time_toggle(5.0), 1.0);
        assert_eq!(real_time_toggle(1.0), TEACHING_PACE);
    }

    #[test]
    fn only_speeds_the_server_takes_are_parsed() {
        assert_eq!(parse_speed("0.5"), Some(0.5));
        assert_eq!(parse_speed("2×"), Some(2.0));
        assert_eq!(parse_speed("0.05"), None);
        assert_eq!(parse_speed("NaN"), None);
        assert_eq!(parse_speed("fast"), None);
    }

    #[test]
    fn the_canvas_fills_a_screen_of_any_shape_without_spilling() {
        assert_eq!(presenter_zoom(1920.0, 1080.0), 1.0);
        assert!((presenter_zoom(1280.0, 720.0) - 2.0 / 3.0).abs() < 1e-12);
        // A 4:3 projector: width decides, the canvas gets taller.
        assert!((presenter_zoom(1024.0, 768.0) - 1024.0 / 1920.0).abs() < 1e-12);
        assert_eq!(presenter_zoom(0.0, 0.0), 1.0);
    }

    #[test]
    fn keys_map_to_shortcuts_unless_the_browser_owns_them() {
        assert_eq!(Shortcut::from_key(" ", false), Some(Shortcut::StartPause));
        assert_eq!(Shortcut::from_key("R", false), Some(Shortcut::Restart));
        assert_eq!(Shortcut::from_key("]", false), Some(Shortcut::Faster));
        assert_eq!(Shortcut::from_key("r", true), None);
        assert_eq!(Shortcut::from_key("x", false), None);
        // Every shortcut in the help has a key that reaches it.
        for (shortcut, keys, _) in SHORTCUTS {
            let key = if keys == "Space" { " " } else { keys };
            assert_eq!(Shortcut::from_key(key, false), Some(shortcut), "{keys}");
        }
    }

    #[test]
    fn search_matches_every_word_in_ids_and_titles() {
        let patterns = [
            (PatternId::DropBasic, "Drop when full"),
            (PatternId::CancelTree, "Cancellation tree"),
            (PatternId::CircuitBreaker, "Circuit breaker"),
        ];
        assert_eq!(search(patterns, "tree"), vec![PatternId::CancelTree]);
        assert_eq!(
            search(patterns, "BREAK circ"),
            vec![PatternId::CircuitBreaker]
        );
        assert_eq!(search(patterns, "").len(), 3);
        assert!(search(patterns, "nothing").is_empty());
    }
}

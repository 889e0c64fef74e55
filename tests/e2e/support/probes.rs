//! What the browser tests and the benchmark measure in a page, shared.

/// In the page: remembers when the next click happens, then looks at every
/// animation frame until no node is left without a cause, and stores in
/// `window.cancelMs` the time from the click to the end of that frame (a
/// task queued from the frame's callback runs once the frame is drawn).
pub const CANCEL_WATCH: &str = r#"(() => {
    window.cancelMs = null;
    document.addEventListener('click', () => {
        const clicked = performance.now();
        const frame = () => {
            if (document.querySelector('[data-node][data-cause=""]') === null) {
                setTimeout(() => { window.cancelMs = performance.now() - clicked; }, 0);
            } else {
                requestAnimationFrame(frame);
            }
        };
        requestAnimationFrame(frame);
    }, { capture: true, once: true });
    return true;
})()"#;

/// The `p`th percentile of `sorted` values, by nearest rank.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

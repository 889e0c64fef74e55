//! What the browser tests and the benchmark measure in a page, shared.

use std::time::Duration;

use super::browser::TestBrowser;

/// In the page: remembers when the next click happens, then looks at every
/// animation frame until no node is left without a cause, and stores in
/// `window.cancelMs` the time from the click to the end of that frame (a
/// task queued from the frame's callback runs once the frame is drawn).
const CANCEL_WATCH: &str = r#"(() => {
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

/// On the cancel-fanout page of a run just restarted: waits until all
/// 1,111 nodes are drawn live, clicks the root, and returns the
/// milliseconds from the click until every node is drawn cancelled.
pub async fn time_one_cancel(ui: &TestBrowser) -> f64 {
    ui.wait_for(
        "all 1,111 nodes live",
        "document.querySelectorAll('[data-node]').length === 1111 && \
         document.querySelector('[data-node]:not([data-cause=\"\"])') === null",
        Duration::from_secs(20),
    )
    .await;
    assert!(ui.eval::<bool>(CANCEL_WATCH).await);
    ui.click(r#".node[data-node="0"]"#).await;
    ui.wait_for(
        "every node to show the cancel",
        "window.cancelMs !== null",
        Duration::from_secs(10),
    )
    .await;
    ui.eval("window.cancelMs").await
}

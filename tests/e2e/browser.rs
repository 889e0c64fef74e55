//! The dashboard in a real browser: a user opens the basic drop pattern,
//! starts it, turns up the producer, pauses and steps it, and sees each of
//! those on screen, with nothing wrong in the console.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use shared::PatternId;
use tokio::time::{Instant, sleep};

use crate::support::browser::{HEIGHT, TestBrowser, WIDTH, chromium_available, png_size};
use crate::support::{PATIENCE, TestServer};

const RUN: &str = "drop-basic";

/// Every `[data-counter]` on the page, by name, as the text it shows.
const COUNTERS: &str = "Object.fromEntries(Array.from(document.querySelectorAll('[data-counter]'), \
                        el => [el.dataset.counter, el.textContent.trim()]))";

/// The counters the page shows, read as numbers.
async fn counters(ui: &TestBrowser) -> BTreeMap<String, u64> {
    let shown: BTreeMap<String, String> = ui.eval(COUNTERS).await;
    shown
        .into_iter()
        .map(|(name, text)| {
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            let value = digits
                .parse()
                .unwrap_or_else(|_| panic!("counter {name} shows {text:?}, not a number"));
            (name, value)
        })
        .collect()
}

async fn counter(ui: &TestBrowser, name: &str) -> u64 {
    let all = counters(ui).await;
    *all.get(name)
        .unwrap_or_else(|| panic!("no [data-counter=\"{name}\"] on the page; counters: {all:?}"))
}

/// A JavaScript expression for the number a counter shows.
fn counter_js(name: &str) -> String {
    format!(
        "Number(document.querySelector('[data-counter=\"{name}\"]').textContent.replace(/[^0-9]/g, ''))"
    )
}

/// Moves a parameter's slider to `value` the way a finished drag does: the
/// value changes, then `input` and `change` fire.
async fn set_slider(ui: &TestBrowser, name: &str, value: f64) {
    let selector = format!("input[data-param=\"{name}\"]");
    ui.wait_for(
        &format!("the {name} slider"),
        &format!("document.querySelector('{selector}')"),
        PATIENCE,
    )
    .await;
    let js = format!(
        "(() => {{ const el = document.querySelector('{selector}'); el.value = '{value}'; \
         el.dispatchEvent(new Event('input', {{ bubbles: true }})); \
         el.dispatchEvent(new Event('change', {{ bubbles: true }})); return Number(el.value); }})()"
    );
    let now: f64 = ui.eval(&js).await;
    assert_eq!(now, value, "the {name} slider does not take {value}");
}

/// Waits until the server's run has `name` set to `value`: the proof that
/// the page sent what the user asked for.
async fn server_has_param(server: &TestServer, name: &str, value: f64) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let params = server.snapshot(RUN).await.params;
        if params.get(name) == Some(&value) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the server never got {name} = {value}: {params:?}"
        );
        sleep(Duration::from_millis(50)).await;
    }
}

/// How many drops the page counts over `window` of real time.
async fn drops_over(ui: &TestBrowser, window: Duration) -> u64 {
    let before = counter(ui, "dropped").await;
    sleep(window).await;
    let after = counter(ui, "dropped").await;
    assert!(
        after >= before,
        "the dropped counter went down: {before} -> {after}"
    );
    after - before
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drop_basic_responds_to_its_controls() {
    if !chromium_available() {
        return;
    }
    // A producer at full speed floods the page, which then reads its
    // counters slowly if other tests' browsers share the cores.
    let server = TestServer::start_alone().await;
    let interval = server.param_spec(PatternId::DropBasic, "interval_ms").await;
    let fast = 5.0_f64.clamp(interval.min, interval.max);
    assert!(
        fast * 3.0 < interval.default,
        "the comparison below needs a producer much faster than the preset: {interval:?}"
    );

    let ui = TestBrowser::launch().await;
    ui.goto(&server.url("/p/drop-basic")).await;
    ui.wait_for(
        "the pattern's page with a live stream",
        r#"document.querySelector('[data-pattern="drop-basic"]') && document.querySelector('#connection[data-state="live"]')"#,
        Duration::from_secs(15),
    )
    .await;
    assert!(
        ui.eval::<bool>(r#"!!document.querySelector('a[href="/p/drop-basic"]')"#)
            .await,
        "the navigation has no link to this pattern"
    );

    // Endless tasks, so the run goes on for as long as the test watches it.
    set_slider(&ui, "tasks", 0.0).await;
    server_has_param(&server, "tasks", 0.0).await;
    ui.click(r#"button[data-action="start"]"#).await;
    ui.wait_for(
        "tasks waiting in the queue's slots",
        r#"document.querySelectorAll('.slot[data-filled="true"]').length > 0"#,
        PATIENCE,
    )
    .await;

    // Equal windows before and after the producer speeds up: the drops the
    // page shows must climb much faster in the second.
    let window = Duration::from_millis(1500);
    let at_preset = drops_over(&ui, window).await;
    set_slider(&ui, "interval_ms", fast).await;
    server_has_param(&server, "interval_ms", fast).await;
    sleep(Duration::from_millis(300)).await;
    let when_fast = drops_over(&ui, window).await;
    println!(
        "drops per {window:?}: {at_preset} at {} ms a task, {when_fast} at {fast} ms",
        interval.default
    );
    assert!(
        at_preset > 0,
        "a producer faster than its worker must overflow five slots"
    );
    assert!(
        when_fast >= 3 * at_preset,
        "a producer {}x faster should drop far more: {at_preset} then {when_fast} drops per {window:?}",
        interval.default / fast
    );

    // Paused, nothing on screen moves.
    ui.click(r#"button[data-action="pause"]"#).await;
    sleep(Duration::from_millis(500)).await;
    let paused = counters(&ui).await;
    sleep(Duration::from_secs(1)).await;
    assert_eq!(
        counters(&ui).await,
        paused,
        "the counters kept changing while paused"
    );
    assert!(
        server.snapshot(RUN).await.clock.paused,
        "the server's clock is not paused"
    );

    // A step moves it on a little, then it stands still again.
    let submitted = paused["submitted"];
    ui.click(r#"button[data-action="step"]"#).await;
    ui.wait_for(
        "the step to submit more tasks",
        &format!("{} > {submitted}", counter_js("submitted")),
        PATIENCE,
    )
    .await;
    sleep(Duration::from_millis(500)).await;
    let stepped = counters(&ui).await;
    sleep(Duration::from_millis(700)).await;
    assert_eq!(
        counters(&ui).await,
        stepped,
        "after a step the run must stay paused"
    );

    // Clicking scrolled the page; show it as it opens.
    ui.eval::<bool>("(window.scrollTo(0, 0), true)").await;
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("output")
        .join("drop-basic.png");
    let png = ui.screenshot(&path).await;
    assert_eq!(
        png_size(&png),
        Some((WIDTH, HEIGHT)),
        "the screenshot is not {WIDTH}x{HEIGHT}"
    );
    println!("screenshot: {}", path.display());

    assert!(
        ui.eval::<bool>(r#"!!document.querySelector('#connection[data-state="live"]')"#)
            .await,
        "the page lost its live stream"
    );
    let problems = ui.problems();
    ui.close().await;
    assert!(
        problems.is_empty(),
        "the browser console reported errors: {problems:#?}"
    );
}

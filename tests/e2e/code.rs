//! The code beside the animation, in a real browser: `C` opens the
//! engine's own source; the lit line follows the run on cancel-tree's
//! ticks and cancels, and moves into the breaker's file when the circuit
//! breaker opens; clicking a marked line picks its events out.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use shared::{Command, Params};
use tokio::time::{Instant, sleep};

use crate::support::browser::{TestBrowser, chromium_available};
use crate::support::{PATIENCE, TestServer};

/// The events the lit lines emit, the file shown, and the first lit line.
const LIT: &str = "(() => { const lit = [...document.querySelectorAll('.code-line[data-lit] .code-mark')].map(m => m.dataset.event); \
                   const t = document.querySelector('.code-tab[aria-selected=\"true\"]'); \
                   return [lit, t ? t.textContent : '', \
                   document.querySelector('.code-line[data-lit]')?.dataset.line || '']; })()";

type Lit = (Vec<String>, String, String);

fn shot(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("output")
        .join(format!("{name}.png"))
}

async fn open_code(ui: &TestBrowser) {
    ui.wait_for(
        "the pattern's page with a live stream",
        "document.querySelector('.timeline') && document.querySelector('#connection[data-state=\"live\"]')",
        PATIENCE,
    )
    .await;
    ui.press("c").await;
    ui.wait_for(
        "the code pane with the engine's source",
        "document.querySelectorAll('.code-pane .code-line').length > 50",
        PATIENCE,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lit_line_follows_cancel_tree_step_by_step() {
    if !chromium_available() {
        eprintln!("skipped: no Chromium on this machine");
        return;
    }
    let server = TestServer::start().await;
    let ui = TestBrowser::launch().await;
    ui.goto(&server.url("/p/cancel-tree?present&speed=0.5"))
        .await;
    open_code(&ui).await;
    let first: String = ui
        .eval("document.querySelector('.code-tab[aria-selected=\"true\"]').textContent")
        .await;
    assert_eq!(first, "cancel_tree.rs", "the engine's own file comes first");
    let tabs: Vec<String> = ui
        .eval("[...document.querySelectorAll('.code-tab')].map(t => t.textContent)")
        .await;
    assert!(
        tabs.contains(&"tree.rs".to_owned()),
        "the token tree is a tab: {tabs:?}"
    );
    ui.click("button[data-action=\"start\"]").await;
    // Watch the lit line while the run ticks and its external cancel comes.
    let mut seen = BTreeSet::new();
    let mut lines = BTreeSet::new();
    let deadline = Instant::now() + Duration::from_secs(12);
    while Instant::now() < deadline
        && !(seen.contains("step") && seen.contains("token_cancelled") && lines.len() >= 2)
    {
        let (events, _file, line): Lit = ui.eval(LIT).await;
        if !events.is_empty() {
            seen.extend(events);
            lines.insert(line);
        }
        if seen.contains("token_cancelled") && !shot("present-code-cancel-tree").exists() {
            ui.screenshot(&shot("present-code-cancel-tree")).await;
        }
        sleep(Duration::from_millis(40)).await;
    }
    assert!(seen.contains("step"), "a tick lit its line: {seen:?}");
    assert!(
        seen.contains("token_cancelled"),
        "a cancel lit its line: {seen:?}"
    );
    assert!(lines.len() >= 2, "the light moved between lines: {lines:?}");

    // A marked line, clicked, picks its events out on the timeline. Until
    // the run ends the lit line keeps scrolling the file under the mouse.
    ui.wait_for(
        "the run finished",
        r#"document.querySelector('.pattern-head .status-pill[data-status="finished"]')"#,
        Duration::from_secs(20),
    )
    .await;
    ui.click_still(".code-mark[data-event=\"step\"]").await;
    ui.wait_for(
        "the steps picked out on the timeline",
        "document.querySelectorAll('.timeline .pick').length > 0",
        PATIENCE,
    )
    .await;
    ui.screenshot(&shot("present-code-picked")).await;
    let problems = ui.problems();
    assert!(problems.is_empty(), "console: {problems:#?}");
    ui.close().await;
    server.shut_down().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_breaker_opening_lights_its_line_in_the_breakers_file() {
    if !chromium_available() {
        eprintln!("skipped: no Chromium on this machine");
        return;
    }
    let server = TestServer::start().await;
    let run = "circuit-breaker";
    let params = Params::from([("reset_ms".to_owned(), 60_000.0)]);
    server.command(run, Command::SetParams { params }).await;
    let ui = TestBrowser::launch().await;
    ui.goto(&server.url("/p/circuit-breaker?present&speed=0.2"))
        .await;
    open_code(&ui).await;
    ui.click("button[data-action=\"start\"]").await;
    ui.wait_for(
        "calls going out",
        "document.querySelectorAll('[data-job]').length > 2",
        PATIENCE,
    )
    .await;
    ui.click("[data-action=\"break\"]").await;
    // At a fifth of real time the opening is the latest event for a while:
    // its line lights, in the breaker's own file.
    let deadline = Instant::now() + Duration::from_secs(30);
    let opened = |lit: &Lit| lit.0.iter().any(|e| e == "breaker_moved");
    let mut lit: Lit = Default::default();
    while Instant::now() < deadline && !opened(&lit) {
        lit = ui.eval(LIT).await;
        sleep(Duration::from_millis(25)).await;
    }
    assert!(opened(&lit), "the opening lights its line: {lit:?}");
    assert_eq!(lit.1, "breaker.rs", "in the breaker's own file: {lit:?}");
    ui.screenshot(&shot("present-code-circuit-breaker")).await;
    // Scrubbed back to the opening, the light goes with the scrub.
    server.command(run, Command::Pause).await;
    // To the run's first instant: the light leaves the breaker's line.
    let _: bool = ui
        .eval(
            "(() => { const t = document.querySelector('.timeline-track'); const r = t.getBoundingClientRect(); \
             const at = { bubbles: true, button: 0, clientX: r.left + 1, clientY: r.top + r.height / 2, pointerId: 1 }; \
             t.dispatchEvent(new PointerEvent('pointerdown', at)); t.dispatchEvent(new PointerEvent('pointerup', at)); return true; })()",
        )
        .await;
    let early: Lit = ui.eval(LIT).await;
    assert!(
        !opened(&early),
        "at the start nothing has opened: {early:?}"
    );
    ui.click_still(".timeline .mark[data-kind=\"breaker\"]")
        .await;
    let scrubbed: Lit = ui.eval(LIT).await;
    let marks: String = ui
        .eval(
            "[...document.querySelectorAll('.timeline .mark')].map(m => `${m.dataset.kind} ${m.dataset.seq} ${m.style.left} ${m.title}`).join('\\n')              + '\\nreadout: ' + (document.querySelector('.timeline-readout') || {}).innerText",
        )
        .await;
    assert!(
        opened(&scrubbed),
        "the scrub lights the opening: {scrubbed:?}\nmarks:\n{marks}"
    );
    assert_eq!(scrubbed.1, "breaker.rs", "{scrubbed:?}");
    ui.screenshot(&shot("present-code-circuit-breaker-scrubbed"))
        .await;
    let problems = ui.problems();
    assert!(problems.is_empty(), "console: {problems:#?}");
    ui.close().await;
    server.shut_down().await;
}

//! Flow patterns in a real browser: items move from stage to stage on
//! screen, a drain empties the pipeline without losing anything, and a slow
//! subscriber shows its own drops while the others lose nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use shared::{Command, Params};

use crate::support::browser::{HEIGHT, TestBrowser, WIDTH, chromium_available, png_size};
use crate::support::{PATIENCE, TestServer};

fn output(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("output")
        .join(name)
}

/// Every item on screen and where it is: a channel's slot or a worker's hands.
const PLACES: &str = r#"(() => {
    const seen = [];
    document.querySelectorAll('[data-channel] [data-slot-item]').forEach(s => {
        const ch = s.closest('[data-channel]');
        seen.push([s.dataset.slotItem, 'channel ' + ch.dataset.channel]);
    });
    document.querySelectorAll('[data-stage] [data-worker][data-item]').forEach(w => {
        if (w.dataset.item === '') return;
        const st = w.closest('[data-stage]');
        seen.push([w.dataset.item, 'stage ' + st.dataset.stage]);
    });
    return seen;
})()"#;

async fn open(ui: &TestBrowser, server: &TestServer, pattern: &str) {
    ui.goto(&server.url(&format!("/p/{pattern}"))).await;
    ui.wait_for(
        "the pattern's page with a live stream",
        &format!(
            r#"document.querySelector('[data-pattern="{pattern}"]') && document.querySelector('#connection[data-state="live"]')"#
        ),
        Duration::from_secs(15),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_items_move_between_stages_and_a_drain_loses_nothing() {
    if !chromium_available() {
        return;
    }
    let server = TestServer::start().await;
    let run = "pipeline";
    // Endless sources, so only the drain can end the run.
    let params = Params::from([("logs".to_owned(), 0.0)]);
    server.command(run, Command::SetParams { params }).await;
    let ui = TestBrowser::launch().await;
    open(&ui, &server, run).await;
    ui.click(r#"button[data-action="start"]"#).await;

    // Watch items for a while: the same item must be seen in more than one
    // place (a channel's buffer, then a worker further down).
    let mut places: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for _ in 0..40 {
        let seen: Vec<(String, String)> = ui.eval(PLACES).await;
        for (item, place) in seen {
            places.entry(item).or_default().insert(place);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let moved = places.values().filter(|p| p.len() >= 2).count();
    assert!(
        moved >= 3,
        "items seen moving from place to place: {moved} of {} ({places:?})",
        places.len()
    );
    ui.eval::<bool>("(window.scrollTo(0, 0), true)").await;
    let png = ui.screenshot(&output("pipeline.png")).await;
    assert_eq!(png_size(&png), Some((WIDTH, HEIGHT)));

    ui.click(r#"[data-action="drain"]"#).await;
    ui.wait_for(
        "the drained pipeline finished by itself",
        r#"document.querySelector('.status-pill[data-status="finished"]') !== null"#,
        Duration::from_secs(30),
    )
    .await;
    let snap = server.snapshot(run).await;
    let c = snap.counters;
    assert_eq!(
        (c.cancelled, c.dropped, c.in_flight),
        (0, 0, 0),
        "a drain loses nothing: {c:?}"
    );
    assert!(c.completed > 0 && c.completed == c.submitted, "{c:?}");
    let shown: String = ui
        .eval(r#"document.querySelector('[data-counter="submitted"]').textContent"#)
        .await;
    assert_eq!(shown.trim(), c.submitted.to_string());
    ui.eval::<bool>("(window.scrollTo(0, 0), true)").await;
    ui.screenshot(&output("pipeline-drained.png")).await;

    let problems = ui.problems();
    ui.close().await;
    assert!(problems.is_empty(), "console errors: {problems:#?}");
}

/// Each subscriber on screen: (stage id, delivered, dropped).
const SUBSCRIBERS: &str = r#"Array.from(document.querySelectorAll('[data-subscriber]'),
    s => [Number(s.dataset.subscriber), Number(s.dataset.delivered), Number(s.dataset.dropped)])"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_subscriber_shows_its_drops_and_subscriptions_change_live() {
    if !chromium_available() {
        return;
    }
    let server = TestServer::start().await;
    let run = "pub-sub";
    let ui = TestBrowser::launch().await;
    open(&ui, &server, run).await;
    ui.click(r#"button[data-action="start"]"#).await;
    ui.wait_for(
        "three subscribers receiving",
        &format!("{SUBSCRIBERS}.filter(s => s[1] > 0).length >= 3"),
        PATIENCE,
    )
    .await;

    // Slow the slow subscriber right down: its buffer fills and it drops,
    // while the fast ones keep up and lose nothing.
    let spec = server
        .param_spec(shared::PatternId::PubSub, "slow_ms")
        .await;
    let params = Params::from([("slow_ms".to_owned(), spec.max)]);
    server.command(run, Command::SetParams { params }).await;
    ui.wait_for(
        "the slow subscriber dropping, the others not",
        &format!(
            "(() => {{ const s = {SUBSCRIBERS}; return s.some(x => x[2] > 3) && s.some(x => x[2] === 0 && x[1] > 5); }})()"
        ),
        Duration::from_secs(15),
    )
    .await;
    let on_screen: Vec<(u32, u64, u64)> = ui.eval(SUBSCRIBERS).await;
    let snap = server.snapshot(run).await;
    let flow = snap.flow().expect("a flow run");
    for (stage, _, dropped) in &on_screen {
        let on_server = flow
            .channels
            .iter()
            .filter(|c| c.spec.to == *stage)
            .map(|c| c.dropped)
            .sum::<u64>();
        assert!(
            on_server >= *dropped,
            "subscriber {stage}: {dropped} drops shown, {on_server} on the server"
        );
    }
    ui.eval::<bool>("(window.scrollTo(0, 0), true)").await;
    let png = ui.screenshot(&output("pub-sub.png")).await;
    assert_eq!(png_size(&png), Some((WIDTH, HEIGHT)));

    // Subscribe from the page, then unsubscribe the new subscriber.
    let before = on_screen.len();
    ui.eval::<bool>(
        r#"(() => { const i = document.querySelector('[data-input="topic"]');
            const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;
            set.call(i, 'users.*'); i.dispatchEvent(new Event('input', { bubbles: true })); return true; })()"#,
    )
    .await;
    ui.click(r#"[data-action="subscribe"]"#).await;
    ui.wait_for(
        "a fourth subscriber on screen",
        &format!("{SUBSCRIBERS}.length === {}", before + 1),
        PATIENCE,
    )
    .await;
    let ids: Vec<u32> = ui.eval(&format!("{SUBSCRIBERS}.map(s => s[0])")).await;
    let newest = ids.iter().max().copied().expect("a subscriber");
    ui.click(&format!(
        r#"[data-subscriber="{newest}"] [data-action="unsubscribe"]"#
    ))
    .await;
    ui.wait_for(
        "the new subscriber gone or stopped",
        &format!(
            r#"(() => {{ const s = document.querySelector('[data-subscriber="{newest}"]'); return s === null || s.dataset.stopped === 'true'; }})()"#
        ),
        PATIENCE,
    )
    .await;
    let snap = server.snapshot(run).await;
    let stopped = snap
        .flow()
        .and_then(|f| f.stage(newest))
        .is_none_or(|s| s.stopped);
    assert!(stopped, "the server stopped subscriber {newest}");

    let problems = ui.problems();
    ui.close().await;
    assert!(problems.is_empty(), "console errors: {problems:#?}");
}

/// How far the page, and the widest flow on it, reach past their width.
const OVERFLOW: &str = r#"[document.documentElement.scrollWidth - document.documentElement.clientWidth,
    Math.max(0, ...Array.from(document.querySelectorAll('.flow'), f => f.scrollWidth - f.clientWidth))]"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_laptop_screen_the_flow_keeps_the_width_and_the_patterns_fold_away() {
    if !chromium_available() {
        return;
    }
    let server = TestServer::start().await;
    let ui = TestBrowser::launch().await;
    ui.resize(1366, 768).await;
    open(&ui, &server, "pipeline").await;
    ui.click(r#"button[data-action="start"]"#).await;
    ui.wait_for(
        "items in the workers' hands",
        "document.querySelector('[data-stage] [data-worker][data-item]:not([data-item=\"\"])') !== null",
        PATIENCE,
    )
    .await;
    // Nothing slides under the controls: neither the page nor the four
    // stages of the pipeline need a horizontal scroll.
    let overflow: (i64, i64) = ui.eval(OVERFLOW).await;
    assert_eq!(overflow, (0, 0), "(page, flow) past their width");
    let nav_visible = "(() => { const r = document.querySelector('#patterns-nav').getBoundingClientRect(); return r.right > 0; })()";
    assert!(
        !ui.eval::<bool>(nav_visible).await,
        "the list waits behind its button"
    );
    let png = ui.screenshot(&output("pipeline-1366.png")).await;
    assert_eq!(png_size(&png), Some((1366, 768)));

    // The Patterns button opens the list; picking a pattern goes there and
    // folds the list away again.
    ui.click(".nav-toggle").await;
    ui.wait_for(
        "the list of patterns open",
        &format!("document.querySelector('.nav-toggle').getAttribute('aria-expanded') === 'true' && {nav_visible}"),
        PATIENCE,
    )
    .await;
    ui.click(r#"#patterns-nav a[href="/p/pub-sub"]"#).await;
    ui.wait_for(
        "the pub/sub page with the list folded",
        r#"document.querySelector('[data-pattern="pub-sub"]') !== null && document.querySelector('.nav-toggle').getAttribute('aria-expanded') === 'false'"#,
        PATIENCE,
    )
    .await;

    // Back at full size the list is always there and the button is not.
    ui.resize(WIDTH, HEIGHT).await;
    ui.wait_for(
        "the list beside the page, no button",
        &format!("{nav_visible} && getComputedStyle(document.querySelector('.nav-toggle')).display === 'none'"),
        PATIENCE,
    )
    .await;
    let problems = ui.problems();
    ui.close().await;
    assert!(problems.is_empty(), "console errors: {problems:#?}");
}

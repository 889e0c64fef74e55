//! Time travel: the page folds a run's history to any instant exactly as
//! the server's own snapshot was then; the timeline under the scene takes
//! a class back to the first drop and to the present again; a link opens
//! the page at an instant; and scrubbing a long history stays quick.

use std::path::PathBuf;
use std::time::Duration;

use frontend::state::Model;
use server::hub::{Hosting, Hub, HubConfig};
use shared::stream::HISTORY_FORMAT;
use shared::{Batch, Command, Envelope, HistoryHeader, Params, PatternId, RunStatus};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::support::browser::{TestBrowser, chromium_available};
use crate::support::{PATIENCE, TestServer};

/// A small deterministic source of instants, so a failure repeats.
struct Instants(u64);

impl Instants {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// The run's history as the server exports it.
fn exported(hub: &Hub, run: &str, pattern: PatternId) -> (HistoryHeader, Vec<Envelope>) {
    let history = hub.history(run).expect("a history");
    let events: Vec<Envelope> = history
        .batches
        .iter()
        .flat_map(|json| {
            serde_json::from_slice::<Batch>(json)
                .expect("a kept batch reads back")
                .events
        })
        .collect();
    let header = HistoryHeader {
        format: HISTORY_FORMAT,
        run: run.to_owned(),
        pattern,
        params: Params::new(),
        seed: 0,
        speed: 1.0,
        first_seq: events.first().map_or(1, |e| e.seq),
        cut_before_ms: None,
        base: history.base.map(|b| Box::new((*b).clone())),
    };
    (header, events)
}

#[tokio::test(start_paused = true)]
async fn folding_the_history_to_an_instant_gives_the_snapshot_taken_then() {
    let _machine = crate::support::busy().await;
    let mut instants = Instants(7);
    for pattern in [
        PatternId::DropBasic,
        PatternId::DropAdaptive,
        PatternId::CancelTree,
        PatternId::GracefulShutdown,
        PatternId::CircuitBreaker,
        PatternId::RetryBackoff,
        PatternId::Pipeline,
        PatternId::PubSub,
    ] {
        let config = HubConfig {
            hosting: Hosting::CurrentRuntime,
            ..HubConfig::default()
        };
        let hub = Hub::with_config(CancellationToken::new(), TaskTracker::new(), config);
        let id = pattern.as_str();
        let run = hub.get(id).expect("the pattern's own run");
        run.command(Command::Start).await.expect("it starts");
        let mut taken = Vec::new();
        for _ in 0..8 {
            let wait = 1 + instants.below(300);
            tokio::time::sleep(Duration::from_millis(wait)).await;
            taken.push(run.snapshot());
        }
        let (header, events) = exported(&hub, id, pattern);
        let mut model = Model::default();
        model.follow_history(id, pattern);
        model.on_history(header, events.clone());
        for want in &taken {
            // To the event the snapshot had just seen.
            model.scrub_to_seq(want.seq);
            let shown = model.run(id).expect("the scrubbed run");
            assert_eq!(
                shown, want,
                "{pattern} after event {} ({} ms)",
                want.seq, want.clock.now_ms
            );
            // To its instant: the fold then holds every event of that
            // instant, and no later one.
            model.scrub_to_ms(want.clock.now_ms);
            let shown = model.run(id).expect("the scrubbed run").clone();
            assert!(
                shown.seq >= want.seq,
                "{pattern} at {} ms",
                want.clock.now_ms
            );
            assert!(
                events
                    .iter()
                    .filter(|e| e.seq > want.seq && e.seq <= shown.seq)
                    .all(|e| e.at_ms == want.clock.now_ms),
                "{pattern}: scrubbed to {} ms, the fold reached event {} at another instant",
                want.clock.now_ms,
                shown.seq
            );
        }
        model.go_live();
        assert!(model.scrub().is_none());
        hub.stop_all().await;
    }
}

/// How many elements `selector` matches on the page.
async fn count(ui: &TestBrowser, selector: &str) -> u64 {
    ui.eval(&format!("document.querySelectorAll('{selector}').length"))
        .await
}

fn shot(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("output")
        .join(format!("{name}.png"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_timeline_goes_back_to_the_first_drop_and_a_link_opens_an_instant() {
    if !chromium_available() {
        eprintln!("skipped: no Chromium on this machine");
        return;
    }
    let server = TestServer::start().await;
    let run = "drop-basic";
    // The preset, at real time, to its end.
    server.command(run, Command::SetSpeed { speed: 1.0 }).await;
    server.command(run, Command::Start).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let snap = server.snapshot(run).await;
        if snap.status == RunStatus::Finished {
            assert!(
                snap.counters.dropped > 0,
                "the preset drops: {:?}",
                snap.counters
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "drop-basic never finished"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let ui = TestBrowser::launch().await;
    ui.goto(&server.url(&format!("/p/{run}?present=0"))).await;
    // The page fetched the history the run made before it opened.
    ui.wait_for(
        "the drops marked on the timeline",
        "document.querySelector('.timeline .mark[data-kind=\"drop\"]')",
        PATIENCE,
    )
    .await;
    assert!(
        count(&ui, "#scene-bin .record").await > 1,
        "the bin holds the run's drops"
    );
    ui.click(".timeline .mark[data-kind=\"drop\"]").await;
    ui.wait_for(
        "the page scrubbed",
        "document.querySelector('.timeline[data-scrubbed=\"true\"]')",
        PATIENCE,
    )
    .await;
    // Just after the first drop: the queue is full and the bin holds it.
    let capacity = server.snapshot(run).await.params["capacity"] as u64;
    assert_eq!(
        count(&ui, ".queue .slot[data-filled=\"true\"]").await,
        capacity,
        "the queue is full at the first drop"
    );
    assert_eq!(
        count(&ui, "#scene-bin .record").await,
        1,
        "one drop in the bin"
    );
    let readout: String = ui
        .eval("document.querySelector('.timeline-readout').textContent")
        .await;
    assert!(
        readout.contains("event"),
        "the readout says where: {readout}"
    );
    ui.screenshot(&shot("timeline-first-drop")).await;
    // `.` and `,` move one event.
    let readout = "document.querySelector('.timeline-readout').textContent";
    let before: String = ui.eval(readout).await;
    ui.press(".").await;
    ui.press(".").await;
    ui.press(",").await;
    let after: String = ui.eval(readout).await;
    assert_ne!(before, after, "`.` and `,` move the scrub");
    // Live comes back to the present.
    ui.click("button[data-action=\"live\"]").await;
    ui.wait_for(
        "the page live again",
        "document.querySelector('.timeline[data-scrubbed=\"false\"]')",
        PATIENCE,
    )
    .await;
    let total = server.snapshot(run).await.counters.dropped;
    assert!(
        count(&ui, "#scene-bin .record").await > 1,
        "the bin holds the run's {total} drops again"
    );

    // Share copies (or shows) the link to the scenario.
    ui.click("button[data-action=\"share\"]").await;
    ui.wait_for(
        "the shared link in a message",
        "[...document.querySelectorAll('.toast-text')].some(t => t.textContent.includes('/p/drop-basic?seed='))",
        PATIENCE,
    )
    .await;
    // A downloaded history dropped on the page becomes a replay of it.
    let dropped: bool = ui
        .eval_within(
            "(async () => { const text = await (await fetch('/api/runs/drop-basic/history')).text(); \
             const dt = new DataTransfer(); dt.items.add(new File([text], 'drop-basic.ndjson')); \
             window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true })); \
             return true; })()",
            PATIENCE,
        )
        .await;
    assert!(dropped);
    ui.wait_for(
        "the replay's page",
        "location.search.includes('run=replay-') && document.querySelector('.timeline')",
        PATIENCE,
    )
    .await;
    ui.press("1").await;
    ui.click("button[data-action=\"start\"]").await;
    ui.wait_for(
        "the replay played to the original's end",
        &format!(
            "Number(document.querySelector('[data-counter=\"dropped\"]')?.textContent.replace(/[^0-9]/g, '')) === {total}"
        ),
        Duration::from_secs(20),
    )
    .await;

    // A link opens the page at an instant.
    ui.goto(&server.url(&format!("/p/{run}?at=700"))).await;
    ui.wait_for(
        "the page opened at 700 ms",
        "document.querySelector('.timeline-track')?.getAttribute('aria-valuenow') === '700'",
        PATIENCE,
    )
    .await;
    ui.screenshot(&shot("timeline-at-700")).await;
    ui.press("p").await;
    ui.wait_for(
        "presenter mode",
        "document.documentElement.hasAttribute('data-present')",
        PATIENCE,
    )
    .await;
    ui.screenshot(&shot("present-timeline-at-700")).await;
    let problems = ui.problems();
    assert!(problems.is_empty(), "console: {problems:#?}");
    ui.close().await;
    server.shut_down().await;
}

/// The `p`-th percentile of `values` (sorted in place).
fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let i = ((values.len() - 1) as f64 * p / 100.0).round() as usize;
    values[i]
}

/// Scrubs to `SCRUBS` instants of the history of a page, each from the
/// pointer's press until the frame after it was drawn, in milliseconds.
const SCRUB_TIMES: &str = "(async () => {
    const track = document.querySelector('.timeline-track');
    const r = track.getBoundingClientRect();
    const y = r.top + r.height / 2;
    const times = [];
    for (let i = 0; i < 40; i++) {
        const x = r.left + 2 + (r.width - 4) * ((i * 0.6180339887) % 1);
        const t0 = performance.now();
        const at = { bubbles: true, button: 0, clientX: x, clientY: y, pointerId: 1 };
        track.dispatchEvent(new PointerEvent('pointerdown', at));
        track.dispatchEvent(new PointerEvent('pointerup', at));
        await new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)));
        times.push(performance.now() - t0);
    }
    return times;
})()";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrubbing_a_history_of_100_000_events_draws_within_50_ms() {
    if !chromium_available() {
        eprintln!("skipped: no Chromium on this machine");
        return;
    }
    let server = TestServer::start_alone().await;
    let run = "drop-basic";
    let flood = Params::from([
        ("tasks".to_owned(), 0.0),
        ("interval_ms".to_owned(), 1.0),
        ("capacity".to_owned(), 32.0),
        ("workers".to_owned(), 8.0),
        ("work_ms".to_owned(), 5.0),
    ]);
    server
        .command(run, Command::SetParams { params: flood })
        .await;
    server.command(run, Command::SetSpeed { speed: 10.0 }).await;
    let first = server.command(run, Command::Start).await.seq;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while server.snapshot(run).await.seq < first + 100_000 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "drop-basic made fewer than 100,000 events in a minute"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let paused = server.command(run, Command::Pause).await;
    let events = paused.seq - first;

    let ui = TestBrowser::launch().await;
    ui.goto(&server.url(&format!("/p/{run}"))).await;
    ui.wait_for(
        "the whole history in the page",
        "Number(document.querySelector('.timeline')?.dataset.events) >= 100000",
        Duration::from_secs(30),
    )
    .await;
    let mut times: Vec<f64> = ui.eval_within(SCRUB_TIMES, Duration::from_secs(60)).await;
    let (p50, max) = (percentile(&mut times, 50.0), percentile(&mut times, 100.0));
    let p95 = percentile(&mut times, 95.0);
    println!(
        "scrubbing {events} events, {} scrubs: p50 {p50:.1} ms, p95 {p95:.1} ms, max {max:.1} ms",
        times.len()
    );
    ui.screenshot(&shot("timeline-100k")).await;
    assert!(p95 <= 50.0, "p95 {p95:.1} ms from press to drawn");
    let problems = ui.problems();
    assert!(problems.is_empty(), "console: {problems:#?}");
    ui.close().await;
    server.shut_down().await;
}

//! Failure and recovery in a real browser: "Break it" drives the breaker
//! open on screen, the reset timeout takes it half-open, and after "Heal it"
//! a trial call closes it again; every state reads without colour.

use std::path::PathBuf;
use std::time::Duration;

use shared::{CircuitState, Command, Params};

use crate::support::browser::{HEIGHT, TestBrowser, WIDTH, chromium_available, png_size};
use crate::support::{PATIENCE, TestServer};

/// The JavaScript for "the breaker on screen is `state`".
fn breaker_is(state: CircuitState) -> String {
    format!(
        "document.querySelector('[data-breaker-state=\"{}\"]') !== null",
        state.key()
    )
}

fn output(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("output")
        .join(name)
}

/// What the current state's shape says in words, and which shape it is.
const CURRENT: &str = r#"(() => {
    const n = document.querySelector('[data-state-node][aria-current="true"]');
    if (!n) return null;
    const shape = n.querySelector('[data-shape]');
    return [n.dataset.stateNode, n.textContent.replace(/\s+/g, ' ').trim(), shape ? shape.dataset.shape : ''];
})()"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaking_the_downstream_opens_the_breaker_and_healing_it_closes_it() {
    if !chromium_available() {
        return;
    }
    let server = TestServer::start().await;
    let run = "circuit-breaker";
    // A reset timeout short enough to wait for in a test, and calls slow
    // enough that the half-open state (which lasts as long as its one trial
    // call) stays on screen for a good second.
    let params = Params::from([
        ("reset_ms".to_owned(), 2_000.0),
        ("latency_ms".to_owned(), 1_500.0),
    ]);
    server.command(run, Command::SetParams { params }).await;
    let ui = TestBrowser::launch().await;
    ui.goto(&server.url("/p/circuit-breaker")).await;
    ui.wait_for(
        "the pattern's page with a live stream",
        r#"document.querySelector('[data-pattern="circuit-breaker"]') && document.querySelector('#connection[data-state="live"]')"#,
        Duration::from_secs(15),
    )
    .await;
    ui.click(r#"button[data-action="start"]"#).await;
    ui.wait_for(
        "calls going through a closed breaker",
        &format!(
            "{} && document.querySelectorAll('[data-job]').length > 3",
            breaker_is(CircuitState::Closed)
        ),
        PATIENCE,
    )
    .await;

    // Each state has its own word and its own shape, so it reads without colour.
    let mut shapes = Vec::new();
    for state in [
        CircuitState::Closed,
        CircuitState::Open,
        CircuitState::HalfOpen,
    ] {
        let js = format!(
            "(() => {{ const n = document.querySelector('[data-state-node=\"{}\"]'); \
             const s = n && n.querySelector('[data-shape]'); \
             return n ? [n.textContent, s ? s.dataset.shape : ''] : null; }})()",
            state.key()
        );
        let (text, shape): (String, String) = ui
            .eval::<Option<(String, String)>>(&js)
            .await
            .unwrap_or_else(|| panic!("no shape for {}", state.key()));
        assert!(
            text.contains(state.label()),
            "{text:?} names {}",
            state.label()
        );
        assert!(!shape.is_empty(), "{} has a shape", state.key());
        shapes.push(shape);
    }
    shapes.dedup();
    assert_eq!(shapes.len(), 3, "three different shapes: {shapes:?}");

    ui.click(r#"[data-action="break"]"#).await;
    ui.wait_for(
        "the breaker open on screen",
        &breaker_is(CircuitState::Open),
        PATIENCE,
    )
    .await;
    let (key, words, _): (String, String, String) = ui.eval(CURRENT).await;
    assert_eq!(key, "open");
    assert!(words.contains("OPEN"), "{words:?}");
    ui.wait_for(
        "calls rejected at once while open",
        "document.querySelector('[data-result=\"rejected\"]') !== null",
        PATIENCE,
    )
    .await;
    ui.eval::<bool>("(window.scrollTo(0, 0), true)").await;
    let png = ui.screenshot(&output("circuit-open.png")).await;
    assert_eq!(png_size(&png), Some((WIDTH, HEIGHT)));

    ui.wait_for(
        "half-open once the reset timeout has passed",
        &breaker_is(CircuitState::HalfOpen),
        Duration::from_secs(10),
    )
    .await;
    let (key, words, _): (String, String, String) = ui.eval(CURRENT).await;
    assert_eq!(key, "half-open");
    assert!(words.contains("HALF-OPEN"), "{words:?}");
    ui.wait_for(
        "the trial call out",
        "document.querySelector('[data-trial=\"true\"]') !== null",
        PATIENCE,
    )
    .await;
    ui.screenshot(&output("circuit-half-open.png")).await;
    // Still broken: the trial fails and the breaker opens again.
    ui.wait_for(
        "the failed trial re-opening the breaker",
        "document.querySelector('[data-transition=\"half-open->open\"]') !== null",
        Duration::from_secs(10),
    )
    .await;
    ui.click(r#"[data-action="heal"]"#).await;
    ui.wait_for(
        "closed again after a successful trial",
        &format!(
            "{} && document.querySelector('[data-transition=\"half-open->closed\"]') !== null",
            breaker_is(CircuitState::Closed)
        ),
        Duration::from_secs(20),
    )
    .await;

    // The history strip on screen is the server's, transition for transition.
    let on_screen: Vec<String> = ui
        .eval("Array.from(document.querySelectorAll('[data-history] [data-transition]'), t => t.dataset.transition)")
        .await;
    let snap = server.snapshot(run).await;
    let breaker = snap
        .resilience()
        .and_then(|r| r.breaker.as_ref())
        .expect("a breaker");
    let on_server: Vec<String> = breaker
        .history
        .iter()
        .map(|t| format!("{}->{}", t.from.key(), t.to.key()))
        .collect();
    assert_eq!(on_screen, on_server);
    assert_eq!(
        on_screen[..4],
        [
            "closed->open",
            "open->half-open",
            "half-open->open",
            "open->half-open"
        ],
        "{on_screen:?}"
    );
    assert_eq!(
        on_screen.last().map(String::as_str),
        Some("half-open->closed")
    );
    ui.eval::<bool>("(window.scrollTo(0, 0), true)").await;
    ui.screenshot(&output("circuit-closed-again.png")).await;

    // Now a breaker that flaps faster than the screen refreshes: a 10 ms
    // reset timeout, 1 ms calls every 12 ms. A trial call at t re-opens it
    // at t + 1, it goes half-open at t + 11 and the next call, at t + 12,
    // re-opens it at t + 13: three transitions in 12 ms, over and over. (No
    // call lands on the millisecond of a reset, so no tie between tasks
    // decides the rhythm.) The strip must still show every transition.
    let flap = Params::from([
        ("reset_ms".to_owned(), 10.0),
        ("latency_ms".to_owned(), 1.0),
        ("interval_ms".to_owned(), 12.0),
        ("broken".to_owned(), 1.0),
    ]);
    server
        .command(run, Command::SetParams { params: flap })
        .await;
    ui.wait_for(
        "the breaker flapping",
        "document.querySelectorAll('[data-history] [data-transition=\"half-open->open\"]').length >= 5",
        PATIENCE,
    )
    .await;
    let heal = Params::from([("broken".to_owned(), 0.0)]);
    server
        .command(run, Command::SetParams { params: heal })
        .await;
    ui.wait_for(
        "closed after the flapping",
        &breaker_is(CircuitState::Closed),
        PATIENCE,
    )
    .await;
    let history = server
        .snapshot(run)
        .await
        .resilience()
        .and_then(|r| r.breaker.clone())
        .expect("a breaker")
        .history;
    let quick = history
        .windows(3)
        .filter(|w| w[2].at_ms - w[0].at_ms < 16)
        .count();
    assert!(
        quick > 0,
        "some three transitions fell within one 16 ms frame: {history:?}"
    );
    let expected: Vec<String> = history
        .iter()
        .map(|t| format!("{}->{}", t.from.key(), t.to.key()))
        .collect();
    let expected = serde_json::to_string(&expected).expect("json");
    ui.wait_for(
        "the strip on screen equal to the server's history, transition for transition",
        &format!(
            "JSON.stringify(Array.from(document.querySelectorAll('[data-history] [data-transition]'), t => t.dataset.transition)) === {}",
            serde_json::to_string(&expected).expect("json")
        ),
        PATIENCE,
    )
    .await;

    let problems = ui.problems();
    ui.close().await;
    assert!(problems.is_empty(), "console errors: {problems:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jitter_switch_spreads_the_retries_of_a_burst() {
    if !chromium_available() {
        return;
    }
    let server = TestServer::start().await;
    let run = "retry-backoff";
    let ui = TestBrowser::launch().await;
    ui.goto(&server.url("/p/retry-backoff")).await;
    ui.wait_for(
        "the pattern's page with a live stream",
        r#"document.querySelector('[data-pattern="retry-backoff"]') && document.querySelector('#connection[data-state="live"]')"#,
        Duration::from_secs(15),
    )
    .await;
    ui.click(r#"button[data-action="start"]"#).await;
    let clients = server.snapshot(run).await.params["clients"] as usize;
    let all_ended = format!(
        "document.querySelectorAll('[data-job]:not([data-outcome=\"\"])').length === {clients} \
         && document.querySelector('[data-wait-ms]') !== null"
    );
    ui.wait_for("every client ended", &all_ended, Duration::from_secs(20))
        .await;
    let waits = |snap: &shared::RunSnapshot| -> Vec<u64> {
        let mut w: Vec<u64> = snap
            .resilience()
            .map(|r| {
                r.jobs
                    .iter()
                    .flat_map(|j| j.attempts.iter().filter_map(|a| a.wait.map(|w| w.delay_ms)))
                    .collect()
            })
            .unwrap_or_default();
        w.sort_unstable();
        w.dedup();
        w
    };
    let in_step = waits(&server.snapshot(run).await);
    let shown: Vec<u64> = ui
        .eval("Array.from(new Set(Array.from(document.querySelectorAll('[data-wait-ms]'), w => Number(w.dataset.waitMs)))).sort((a, b) => a - b)")
        .await;
    assert_eq!(shown, in_step, "every wait is drawn");
    assert!(
        in_step.iter().all(|ms| [200, 400, 800].contains(ms)),
        "without jitter the burst waits in lockstep: {in_step:?}"
    );

    ui.click(r#"[data-action="jitter"]"#).await;
    ui.wait_for(
        "jitter switched on",
        r#"document.querySelector('[data-action="jitter"][aria-checked="true"]') !== null"#,
        PATIENCE,
    )
    .await;
    let before = server.snapshot(run).await.seq;
    ui.click(r#"button[data-action="restart"]"#).await;
    // The page still shows the first run's ends until the restart arrives:
    // wait for the server's second run to end, then for the page.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let snap = server.snapshot(run).await;
        if snap.seq > before && snap.status == shared::RunStatus::Finished {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the restarted run never finished"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ui.wait_for(
        "every client ended again",
        &all_ended,
        Duration::from_secs(20),
    )
    .await;
    let spread = waits(&server.snapshot(run).await);
    assert!(spread.len() > 3, "with jitter the waits differ: {spread:?}");
    ui.eval::<bool>("(window.scrollTo(0, 0), true)").await;
    ui.screenshot(&output("retry-jitter.png")).await;

    let problems = ui.problems();
    ui.close().await;
    assert!(problems.is_empty(), "console errors: {problems:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_resilient_pool_shows_every_task_its_attempts_and_outcome() {
    if !chromium_available() {
        return;
    }
    let server = TestServer::start().await;
    let run = "resilient-pool";
    let ui = TestBrowser::launch().await;
    ui.goto(&server.url("/p/resilient-pool")).await;
    ui.wait_for(
        "the pattern's page with a live stream",
        r#"document.querySelector('[data-pattern="resilient-pool"]') && document.querySelector('#connection[data-state="live"]')"#,
        Duration::from_secs(15),
    )
    .await;
    ui.click(r#"button[data-action="start"]"#).await;
    ui.wait_for(
        "the run finished",
        r#"document.querySelector('.status-pill[data-status="finished"]') !== null"#,
        Duration::from_secs(20),
    )
    .await;
    let snap = server.snapshot(run).await;
    let scene = snap.resilience().expect("a resilience run");
    let outcomes: Vec<(u32, String)> = scene
        .jobs
        .iter()
        .map(|j| {
            (
                j.id(),
                j.outcome.map(|o| o.key()).unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(outcomes.len(), 7, "the seed's seven tasks");
    for (id, key) in &outcomes {
        let js = format!(
            "(() => {{ const r = document.querySelector('[data-job=\"{id}\"]'); return r ? r.dataset.outcome : null; }})()"
        );
        let shown: Option<String> = ui.eval(&js).await;
        assert_eq!(shown.as_deref(), Some(key.as_str()), "task {id}");
    }
    let attempts_shown: usize = ui
        .eval("document.querySelectorAll('[data-job] [data-attempt]').length")
        .await;
    let attempts: usize = scene.jobs.iter().map(|j| j.attempts.len()).sum();
    assert_eq!(attempts_shown, attempts, "every attempt is drawn");
    let completed: String = ui
        .eval(r#"document.querySelector('[data-counter="succeeded"]').textContent"#)
        .await;
    assert_eq!(completed.trim(), snap.counters.completed.to_string());
    ui.eval::<bool>("(window.scrollTo(0, 0), true)").await;
    ui.screenshot(&output("resilient-pool.png")).await;

    let problems = ui.problems();
    ui.close().await;
    assert!(problems.is_empty(), "console errors: {problems:#?}");
}

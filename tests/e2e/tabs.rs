//! A teacher opens patterns side by side: ten tabs of the dashboard in one
//! browser. A browser opens at most six connections to one host, so ten
//! tabs that each held a stream would leave the seventh unable even to
//! load; the tabs share one stream instead, each given only its own run.

use std::time::Duration;

use shared::{Command, Params};
use tokio::time::Instant;

use crate::support::browser::{TestBrowser, chromium_available, wait_for};
use crate::support::{PATIENCE, TestServer, within};

/// Patterns whose producers can run without end, and the parameters that
/// make them.
const ENDLESS: [(&str, &str); 5] = [
    ("drop-basic", r#"{"tasks": 0, "interval_ms": 50}"#),
    ("drop-priority", r#"{"tasks": 0, "interval_ms": 50}"#),
    ("drop-adaptive", r#"{"tasks": 0, "interval_ms": 50}"#),
    ("pipeline", r#"{"logs": 0}"#),
    ("pub-sub", r#"{"messages": 0}"#),
];

/// The counters a page shows, as one string.
const COUNTERS: &str = "Array.from(document.querySelectorAll('[data-counter]'), \
                        el => el.textContent.trim()).join('|')";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_tabs_in_one_browser_all_load_and_their_counters_move() {
    if !chromium_available() {
        eprintln!("skipping: Chromium is not installed");
        return;
    }
    let server = TestServer::start().await;
    let http = reqwest::Client::new();
    // Ten runs: each pattern's own, and five more made of drop-basic.
    let mut pages: Vec<(String, String, &str)> = ENDLESS
        .iter()
        .map(|(p, params)| (p.to_string(), format!("/p/{p}"), *params))
        .collect();
    for _ in 0..5 {
        let made: serde_json::Value = within(
            "make a run",
            PATIENCE,
            http.post(server.url("/api/runs"))
                .header("content-type", "application/json")
                .body(r#"{"pattern":"drop-basic"}"#)
                .send(),
        )
        .await
        .expect("POST /api/runs")
        .json()
        .await
        .expect("the made run");
        let run = made["run"].as_str().expect("a run id").to_owned();
        pages.push((
            run.clone(),
            format!("/p/drop-basic?run={run}"),
            ENDLESS[0].1,
        ));
    }
    for (run, _, params) in &pages {
        let params: Params = serde_json::from_str(params).expect("parameters");
        server.command(run, Command::SetParams { params }).await;
        server.command(run, Command::Start).await;
    }

    let ui = TestBrowser::launch().await;
    let mut tabs = Vec::new();
    for (run, path, _) in &pages {
        let tab = ui.open_tab(&server.url(path)).await;
        wait_for(&tab, "document.querySelector('[data-counter]')", PATIENCE)
            .await
            .unwrap_or_else(|e| panic!("the tab of {run} shows no counters: {e}"));
        tabs.push((run, tab));
    }
    // Every tab's counters move: each gets its run's events.
    for (run, tab) in &tabs {
        let before: String = tab
            .evaluate_expression(COUNTERS)
            .await
            .expect("read the counters")
            .into_value()
            .expect("text");
        let started = Instant::now();
        let moved = format!("({COUNTERS}) !== {before:?}");
        wait_for(tab, &moved, Duration::from_secs(2))
            .await
            .unwrap_or_else(|e| panic!("the counters of {run} stood still for 2 s: {e}"));
        eprintln!("{run}: counters moved after {:?}", started.elapsed());
    }
    // And the tabs shared one stream rather than one each.
    let streams: u32 = tabs[0]
        .1
        .evaluate_expression(
            "performance.getEntriesByType('resource').filter(e => e.name.includes('/api/events')).length",
        )
        .await
        .expect("read the resource timings")
        .into_value()
        .expect("a number");
    assert_eq!(streams, 0, "a tab opens no stream of its own");
    for (_, tab) in tabs {
        let _ = tab.close().await;
    }
    assert!(ui.problems().is_empty(), "console: {:#?}", ui.problems());
    ui.close().await;
    server.shut_down().await;
}

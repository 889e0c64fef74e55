//! A run's history exported: a header, then every event since its start,
//! in order and without gaps, folding to the run's own snapshot.

use super::super::{Access, AppState, app};
use crate::hub::{Hosting, Hub, HubConfig};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::json;
use shared::stream::HISTORY_FORMAT;
use shared::{Envelope, Event, HistoryHeader, PatternId, RunEvent, RunSnapshot, RunStatus};
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

fn state(history_bytes: usize) -> AppState {
    let config = HubConfig {
        hosting: Hosting::CurrentRuntime,
        history_bytes,
        ..HubConfig::default()
    };
    AppState {
        hub: Hub::with_config(CancellationToken::new(), TaskTracker::new(), config),
        access: Access::default(),
        classroom: None,
    }
}

async fn send(
    state: &AppState,
    method: &str,
    uri: &str,
    body: Option<serde_json::Value>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut request = Request::builder().method(method).uri(uri);
    let body = match body {
        Some(json) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(json.to_string())
        }
        None => Body::empty(),
    };
    let response = app(state.clone())
        .oneshot(request.body(body).expect("a request"))
        .await
        .expect("the router never fails");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    (status, headers, bytes.to_vec())
}

/// The header and the events of an export.
fn read(body: &[u8]) -> (HistoryHeader, Vec<Envelope>) {
    let text = std::str::from_utf8(body).expect("text");
    let mut lines = text.lines();
    let header = serde_json::from_str(lines.next().expect("a header")).expect("the header reads");
    let events = lines
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
        .collect();
    (header, events)
}

async fn run_to_the_end(state: &AppState, run: &str, seed: u64) {
    let commands = format!("/api/runs/{run}/commands");
    send(
        state,
        "POST",
        &commands,
        Some(json!({"type": "set_seed", "seed": seed})),
    )
    .await;
    send(state, "POST", &commands, Some(json!({"type": "start"}))).await;
    for _ in 0..2_000 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (_, _, body) = send(state, "GET", &format!("/api/runs/{run}"), None).await;
        let snap: RunSnapshot = serde_json::from_slice(&body).expect("a snapshot");
        if snap.status == RunStatus::Finished {
            return;
        }
    }
    panic!("{run} did not finish");
}

#[tokio::test(start_paused = true)]
async fn the_history_of_a_finished_run_folds_back_to_its_snapshot() {
    let state = state(16 << 20);
    for pattern in [
        PatternId::DropBasic,
        PatternId::CancelTree,
        PatternId::RetryBackoff,
        PatternId::Tee,
    ] {
        let run = pattern.as_str();
        run_to_the_end(&state, run, 7).await;
        let (status, headers, body) =
            send(&state, "GET", &format!("/api/runs/{run}/history"), None).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(headers[header::CONTENT_TYPE], "application/x-ndjson");
        assert!(
            headers[header::CONTENT_DISPOSITION]
                .to_str()
                .unwrap_or("")
                .contains(&format!("{run}.ndjson"))
        );
        let (head, events) = read(&body);
        assert_eq!(
            (head.format, head.pattern, head.seed),
            (HISTORY_FORMAT, pattern, 7)
        );
        assert_eq!(head.params, pattern.preset());
        assert_eq!(head.cut_before_ms, None);
        assert_eq!(events.first().map(|e| e.seq), Some(head.first_seq));
        assert!(
            events.windows(2).all(|w| w[1].seq == w[0].seq + 1),
            "{run}: no gaps"
        );
        assert!(
            matches!(events[0].event, Event::Run(RunEvent::Reset { .. })),
            "{run}: from the start"
        );
        // Everything the run did since its start is there: folded, it is
        // the run's own snapshot.
        let (_, _, body) = send(&state, "GET", &format!("/api/runs/{run}"), None).await;
        let snap: RunSnapshot = serde_json::from_slice(&body).expect("a snapshot");
        let mut folded = RunSnapshot::new(run, pattern);
        for e in &events {
            folded.apply(e);
        }
        folded.seq = snap.seq;
        assert_eq!(folded.counters, snap.counters, "{run}");
        assert_eq!(folded.scene, snap.scene, "{run}");
        assert_eq!(folded.status, RunStatus::Finished, "{run}");
    }
    let (status, _, _) = send(&state, "GET", "/api/runs/nope/history", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(start_paused = true)]
async fn a_history_over_its_budget_is_cut_from_the_front_and_says_where() {
    let state = state(64 << 10);
    let run = "drop-basic";
    let full_load = json!({"type": "set_params", "params": {"tasks": 0, "interval_ms": 1, "workers": 8, "work_ms": 5}});
    send(
        &state,
        "POST",
        &format!("/api/runs/{run}/commands"),
        Some(full_load),
    )
    .await;
    send(
        &state,
        "POST",
        &format!("/api/runs/{run}/commands"),
        Some(json!({"type": "start"})),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (_, _, body) = send(&state, "GET", &format!("/api/runs/{run}/history"), None).await;
    let (head, events) = read(&body);
    let cut = head.cut_before_ms.expect("a cut history says so");
    assert!(cut > 0 && cut < 2_000, "cut before {cut} ms");
    assert!(head.first_seq > 1);
    assert_eq!(events.first().map(|e| e.seq), Some(head.first_seq));
    assert!(
        events.windows(2).all(|w| w[1].seq == w[0].seq + 1),
        "no gaps after the cut"
    );
    assert!(events.iter().all(|e| e.at_ms >= cut));
    assert!(
        body.len() < (64 << 10) * 3,
        "about the budget: {} bytes",
        body.len()
    );
}

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
    // What is kept folds from the state at the cut, to the run's own state.
    let mut folded = *head.base.expect("a cut history carries its base");
    assert_eq!(
        folded.seq + 1,
        head.first_seq,
        "the base ends where the events begin"
    );
    for env in &events {
        folded.apply(env);
    }
    send(
        &state,
        "POST",
        &format!("/api/runs/{run}/commands"),
        Some(json!({"type": "pause"})),
    )
    .await;
    let (_, _, body_after) = send(&state, "GET", &format!("/api/runs/{run}/history"), None).await;
    let (_, later) = read(&body_after);
    assert!(
        later.first().is_some_and(|e| e.seq <= folded.seq + 1),
        "the pause came before another cut"
    );
    for env in &later {
        folded.apply(env);
    }
    let live = snapshot(&state, run).await;
    assert_eq!(folded.counters, live.counters);
    assert_eq!(folded.scene, live.scene);
    // The budget holds, give or take the eighth it is cut by and the base.
    assert!(
        body.len() < (64 << 10) * 3,
        "about the budget: {} bytes",
        body.len()
    );
}

async fn snapshot(state: &AppState, run: &str) -> RunSnapshot {
    let (_, _, body) = send(state, "GET", &format!("/api/runs/{run}"), None).await;
    serde_json::from_slice(&body).expect("a snapshot")
}

/// Lets `run` go until it finishes, within `limit` of virtual time.
async fn finishes(state: &AppState, run: &str, limit: Duration) -> bool {
    let start = tokio::time::Instant::now();
    while start.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if snapshot(state, run).await.status == RunStatus::Finished {
            return true;
        }
    }
    false
}

async fn post_raw(state: &AppState, uri: &str, body: Vec<u8>) -> (StatusCode, serde_json::Value) {
    let request = Request::builder()
        .method("POST")
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/x-ndjson")
        .body(Body::from(body))
        .expect("a request");
    let response = app(state.clone())
        .oneshot(request)
        .await
        .expect("the router never fails");
    let status = response.status();
    (status, super::body_of(response).await)
}

#[tokio::test(start_paused = true)]
async fn every_preset_that_ends_replays_from_its_export_to_the_same_end() {
    let state = state(16 << 20);
    let mut replayed = 0;
    for pattern in PatternId::ALL {
        let run = pattern.as_str();
        send(
            &state,
            "POST",
            &format!("/api/runs/{run}/commands"),
            Some(json!({"type": "start"})),
        )
        .await;
        if !finishes(&state, run, Duration::from_secs(60)).await {
            // An endless preset: nothing to end the same.
            send(
                &state,
                "POST",
                &format!("/api/runs/{run}/commands"),
                Some(json!({"type": "stop"})),
            )
            .await;
            continue;
        }
        let original = snapshot(&state, run).await;
        let (_, _, file) = send(&state, "GET", &format!("/api/runs/{run}/history"), None).await;
        let (status, made) = post_raw(&state, "/api/replays", file).await;
        assert_eq!(status, StatusCode::CREATED, "{run}: {made}");
        let replay = made["run"].as_str().expect("a run").to_owned();
        assert_eq!(made["status"], "idle", "{run}: ready to play");
        send(
            &state,
            "POST",
            &format!("/api/runs/{replay}/commands"),
            Some(json!({"type": "start"})),
        )
        .await;
        assert!(
            finishes(&state, &replay, Duration::from_secs(60)).await,
            "{run}: the replay ends"
        );
        let again = snapshot(&state, &replay).await;
        assert_eq!(again.counters, original.counters, "{run}");
        assert_eq!(again.scene, original.scene, "{run}");
        assert_eq!(
            (again.params, again.seed),
            (original.params, original.seed),
            "{run}"
        );
        assert_eq!(
            again.clock.now_ms, original.clock.now_ms,
            "{run}: the same length"
        );
        // A replay plays what was recorded and nothing else.
        let (status, _, body) = send(
            &state,
            "POST",
            &format!("/api/runs/{replay}/commands"),
            Some(json!({"type": "set_params", "params": {}})),
        )
        .await;
        assert_eq!(status, StatusCode::CONFLICT, "{run}");
        assert!(
            String::from_utf8_lossy(&body).contains("\"replay\""),
            "{run}"
        );
        send(&state, "DELETE", &format!("/api/runs/{replay}"), None).await;
        replayed += 1;
    }
    assert!(replayed >= 20, "only {replayed} presets replayed");
}

#[tokio::test(start_paused = true)]
async fn a_bad_history_is_refused_with_its_line_and_nothing_is_made() {
    let state = state(16 << 20);
    let runs_before = state.hub.list().len();
    let cases: [(&[u8], StatusCode, &str); 4] = [
        (
            b"not json\n",
            StatusCode::UNPROCESSABLE_ENTITY,
            "line 1: not JSON",
        ),
        (b"", StatusCode::UNPROCESSABLE_ENTITY, "the file is empty"),
        (
            b"{\"format\": 2}\n",
            StatusCode::UNPROCESSABLE_ENTITY,
            "line 1: history format",
        ),
        (
            b"{\"format\": 1, \"pattern\": \"warp-drive\"}\n",
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown pattern",
        ),
    ];
    for (file, status, message) in cases {
        let (got, body) = post_raw(&state, "/api/replays", file.to_vec()).await;
        assert_eq!(got, status, "{body}");
        assert_eq!(
            body["error"],
            if status == StatusCode::PAYLOAD_TOO_LARGE {
                "body_too_large"
            } else {
                "bad_history"
            }
        );
        assert!(
            body["message"].as_str().unwrap_or("").contains(message),
            "{body}"
        );
    }
    // A gap, in a real export.
    run_to_the_end(&state, "drop-basic", 42).await;
    let (_, _, file) = send(&state, "GET", "/api/runs/drop-basic/history", None).await;
    let text = String::from_utf8(file).expect("text");
    let gap: String = text
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 5)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let (got, body) = post_raw(&state, "/api/replays", gap.into_bytes()).await;
    assert_eq!(got, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("line 6: seq"),
        "{body}"
    );
    // Over the size cap.
    let huge = vec![b' '; crate::replay::MAX_REPLAY_BYTES + 1];
    let (got, body) = post_raw(&state, "/api/replays", huge).await;
    assert_eq!(got, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(
        state.hub.list().len(),
        runs_before,
        "nothing half-made is left"
    );
}

//! What one request may cost the server, and getting run slots back.

use crate::support::{request, send};
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode, header};
use futures_util::StreamExt;
use http_body_util::BodyExt;
use serde_json::json;
use server::hub::{Hosting, Hub, HubConfig, MAX_RUNS};
use server::{Access, AppState, app};
use shared::PatternId;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// The app with its runs on the test's runtime, so the paused test clock
/// is their virtual time.
fn state_with(config: HubConfig) -> AppState {
    let config = HubConfig {
        hosting: Hosting::CurrentRuntime,
        ..config
    };
    AppState {
        hub: Hub::with_config(CancellationToken::new(), TaskTracker::new(), config),
        access: Access::default(),
        classroom: None,
    }
}

fn state() -> AppState {
    state_with(HubConfig::default())
}

async fn call(
    state: &AppState,
    method: &str,
    uri: &str,
    body: Option<serde_json::Value>,
) -> (StatusCode, serde_json::Value) {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let sent = send(state, request(method, uri, &[], &body)).await;
    (
        sent.status,
        serde_json::from_slice(&sent.body).unwrap_or_default(),
    )
}

async fn command(state: &AppState, run: &str, command: serde_json::Value) {
    let (status, body) = call(
        state,
        "POST",
        &format!("/api/runs/{run}/commands"),
        Some(command),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// An event stream's body, to read as it comes.
async fn stream(state: &AppState, uri: &str) -> Body {
    let response = app(state.clone())
        .oneshot(
            Request::get(uri)
                .body(Body::empty())
                .expect("a valid request"),
        )
        .await
        .expect("the router never fails");
    assert_eq!(response.status(), StatusCode::OK, "{uri}");
    response.into_body()
}

/// What the stream sends within `within` (of the test's clock).
async fn read_for(body: &mut Body, within: Duration) -> String {
    let deadline = Instant::now() + within;
    let mut text = String::new();
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, body.frame()).await {
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
    }
    text
}

/// `GET /api/events?runs=cancel-fanout,…` with a thousand copies of one
/// id: one snapshot, not a thousand.
#[tokio::test(start_paused = true)]
async fn naming_a_run_a_thousand_times_sends_it_once() {
    let state = state();
    command(&state, "cancel-fanout", json!({"type": "start"})).await;
    let list = vec!["cancel-fanout"; 1_000].join(",");
    let mut body = stream(&state, &format!("/api/events?runs={list}")).await;
    let text = read_for(&mut body, Duration::from_millis(500)).await;
    assert_eq!(
        text.matches("event: snapshot").count(),
        1,
        "{} bytes",
        text.len()
    );
    assert!(text.contains("event: batch"), "the run's events follow");
    // A list of runs the server could never hold is refused before any work.
    let many: Vec<String> = (0..=MAX_RUNS).map(|n| format!("r{n}")).collect();
    let (status, body) = call(
        &state,
        "GET",
        &format!("/api/events?runs={}", many.join(",")),
        None,
    )
    .await;
    assert!(status.is_client_error(), "{status} {body}");
}

/// Once every slot is taken, deleting a made run frees one; the patterns'
/// own runs stay, with a reason; viewers hear of the deletion.
#[tokio::test]
async fn made_runs_can_be_deleted_and_their_slots_reused() {
    let state = state();
    let mut made = Vec::new();
    loop {
        let (status, body) =
            call(&state, "POST", "/api/runs", Some(json!({"pattern": "tee"}))).await;
        if status == StatusCode::CONFLICT {
            assert_eq!(body["error"], "too_many_runs");
            break;
        }
        assert_eq!(status, StatusCode::CREATED, "{body}");
        made.push(body["run"].as_str().expect("a run id").to_owned());
    }
    assert_eq!(made.len(), MAX_RUNS - PatternId::ALL.len());
    let victim = made[3].clone();
    command(&state, &victim, json!({"type": "start"})).await;
    let mut viewer = stream(&state, "/api/events").await;
    let (status, _) = call(&state, "DELETE", &format!("/api/runs/{victim}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let seen = read_for(&mut viewer, Duration::from_secs(2)).await;
    assert!(
        seen.contains("event: removed") && seen.contains(&format!(r#"{{"run":"{victim}"}}"#)),
        "{seen}"
    );
    let (status, _) = call(&state, "GET", &format!("/api/runs/{victim}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = call(&state, "POST", "/api/runs", Some(json!({"pattern": "tee"}))).await;
    assert_eq!(status, StatusCode::CREATED, "the slot is free again");
    let (status, body) = call(&state, "DELETE", "/api/runs/tee", None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::CONFLICT, Some("pattern_run"))
    );
    assert!(
        body["message"]
            .as_str()
            .unwrap_or_default()
            .contains("own run"),
        "{body}"
    );
    let (status, body) = call(&state, "DELETE", &format!("/api/runs/{victim}"), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::NOT_FOUND, Some("unknown_run"))
    );
}

/// A made run nobody names for `reclaim_after` is deleted; one a stream
/// follows by name is kept until that viewer leaves.
#[tokio::test(start_paused = true)]
async fn made_runs_left_alone_are_reclaimed() {
    let state = state_with(HubConfig {
        reclaim_after: Duration::from_secs(60),
        ..HubConfig::default()
    });
    let (_, left) = call(&state, "POST", "/api/runs", Some(json!({"pattern": "tee"}))).await;
    let (_, watched) = call(&state, "POST", "/api/runs", Some(json!({"pattern": "tee"}))).await;
    let (left, watched) = (
        left["run"].as_str().unwrap_or_default(),
        watched["run"].as_str().unwrap_or_default(),
    );
    command(&state, left, json!({"type": "start"})).await;
    let viewer = stream(&state, &format!("/api/events?runs={watched}")).await;
    tokio::time::sleep(Duration::from_secs(100)).await;
    assert!(state.hub.get(left).is_none(), "{left} was reclaimed");
    assert!(state.hub.get(watched).is_some(), "{watched} is watched");
    drop(viewer);
    tokio::time::sleep(Duration::from_secs(100)).await;
    assert!(
        state.hub.get(watched).is_none(),
        "{watched} was reclaimed once its viewer left"
    );
    assert!(
        state.hub.get("tee").is_some(),
        "the pattern's own run stays"
    );
}

/// One busy run keeps no more than its history budget, keeps it once
/// stopped (to be scrubbed and exported), and gives it back when it starts
/// over or is deleted.
#[tokio::test(start_paused = true)]
async fn the_history_is_bounded_by_bytes_and_freed_when_the_run_starts_over() {
    const BUDGET: usize = 256 << 10;
    let state = state_with(HubConfig {
        history_bytes: BUDGET,
        ..HubConfig::default()
    });
    let (_, made) = call(
        &state,
        "POST",
        "/api/runs",
        Some(json!({"pattern": "drop-basic"})),
    )
    .await;
    let made = made["run"].as_str().unwrap_or_default().to_owned();
    let full_load = json!({"type": "set_params", "params": {"tasks": 0, "interval_ms": 1, "workers": 8, "work_ms": 5}});
    for run in ["drop-basic", made.as_str()] {
        command(&state, run, full_load.clone()).await;
        command(&state, run, json!({"type": "set_speed", "speed": 10})).await;
        command(&state, run, json!({"type": "start"})).await;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    for run in ["drop-basic", made.as_str()] {
        let held = state.hub.history_bytes(run).expect("a history");
        assert!(
            held > BUDGET / 2,
            "{run}: the run is busy enough to fill it ({held} bytes)"
        );
        assert!(held <= BUDGET, "{run}: {held} bytes held, budget {BUDGET}");
    }
    command(&state, "drop-basic", json!({"type": "stop"})).await;
    state.hub.flush();
    let held = state.hub.history_bytes("drop-basic").expect("a history");
    assert!(
        held > BUDGET / 2 && held <= BUDGET + (64 << 10),
        "a stopped run keeps its history: {held} bytes"
    );
    command(&state, "drop-basic", json!({"type": "reset"})).await;
    state.hub.flush();
    let held = state.hub.history_bytes("drop-basic").expect("a history");
    assert!(held < 16 << 10, "a reset starts it over: {held} bytes");
    let (status, _) = call(&state, "DELETE", &format!("/api/runs/{made}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(state.hub.history_bytes(&made), None);
}

/// A body that starts and never finishes is answered `408` at the deadline.
#[tokio::test(start_paused = true)]
async fn a_half_sent_body_is_answered_at_its_deadline() {
    let state = state();
    let half =
        futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"{\"type\":"))])
            .chain(futures_util::stream::pending());
    let request = Request::post("/api/runs/tee/commands")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(half))
        .expect("a valid request");
    let started = Instant::now();
    let response = app(state.clone())
        .oneshot(request)
        .await
        .expect("the router never fails");
    assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
    assert_eq!(started.elapsed(), Duration::from_secs(10));
    assert_eq!(
        response
            .headers()
            .get(header::CONNECTION)
            .map(|v| v.as_bytes()),
        Some(&b"close"[..])
    );
}

//! The API called in-process with `oneshot`: good requests, and every kind
//! of bad one answered with a 4xx JSON error that names the problem.

use super::{Access, AppState, app};
use crate::hub::{Hosting, Hub, HubConfig};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use shared::{PatternId, PatternInfo, RunSnapshot, RunStatus};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// The app with its runs on the test's own runtime, so tests on tokio's
/// paused clock move their virtual time.
fn state() -> AppState {
    let config = HubConfig {
        hosting: Hosting::CurrentRuntime,
        ..HubConfig::default()
    };
    AppState {
        hub: Hub::with_config(CancellationToken::new(), TaskTracker::new(), config),
        access: Access::default(),
        classroom: None,
    }
}

async fn call(
    state: &AppState,
    method: &str,
    uri: &str,
    body: Option<Body>,
    json: bool,
) -> (StatusCode, Value) {
    let mut request = Request::builder().method(method).uri(uri);
    if json {
        request = request.header(header::CONTENT_TYPE, "application/json");
    }
    let request = request
        .body(body.unwrap_or_else(Body::empty))
        .expect("a valid request");
    let response = app(state.clone())
        .oneshot(request)
        .await
        .expect("the router never fails");
    let status = response.status();
    (status, body_of(response).await)
}

/// A response's body as JSON, or as a JSON string when it is not JSON.
async fn body_of(response: axum::response::Response) -> Value {
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
}

async fn post(state: &AppState, uri: &str, body: Value) -> (StatusCode, Value) {
    call(state, "POST", uri, Some(Body::from(body.to_string())), true).await
}

#[tokio::test]
async fn patterns_list_every_parameter_with_its_preset() {
    let (status, body) = call(&state(), "GET", "/api/patterns", None, false).await;
    assert_eq!(status, StatusCode::OK);
    // Every registered pattern, in order, under the id its serde name and
    // `as_str` agree on.
    let ids: Vec<&str> = body
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|p| p["id"].as_str())
        .collect();
    assert_eq!(ids, PatternId::ALL.map(PatternId::as_str));
    let patterns: Vec<PatternInfo> = serde_json::from_value(body).expect("pattern infos");
    // What a presenter keeps in reach is one of the pattern's parameters.
    for info in &patterns {
        for key in info.id.key_params() {
            assert!(
                info.params.iter().any(|p| p.name == *key),
                "{}: no parameter {key}",
                info.id
            );
        }
    }
    let basic = &patterns[0];
    let preset: Vec<_> = basic
        .params
        .iter()
        .map(|p| (p.name.as_str(), p.default))
        .collect();
    assert_eq!(
        preset,
        [
            ("tasks", 15.0),
            ("interval_ms", 30.0),
            ("capacity", 5.0),
            ("workers", 1.0),
            ("work_ms", 200.0),
            ("success_pct", 90.0)
        ]
    );
    for pattern in &patterns {
        assert!(
            pattern
                .params
                .iter()
                .all(|p| p.min <= p.default && p.default <= p.max),
            "{}: a preset outside its range",
            pattern.id
        );
        assert_eq!(pattern.family, pattern.id.family());
        for p in pattern.params.iter().filter(|p| !p.choices.is_empty()) {
            assert!(
                p.integer && p.min == 0.0 && p.max == (p.choices.len() - 1) as f64,
                "{}: choice `{}` must take exactly the index of an option",
                pattern.id,
                p.name
            );
        }
    }
}

/// Commands for an engine itself (drain, subscribe, unsubscribe, panic)
/// reach only the pattern that takes them, only while it runs, and are
/// refused with a code that says why.
#[tokio::test]
async fn engine_orders_are_checked_and_refused_with_a_reason() {
    let state = state();
    let (status, error, message) = refused(&state, "drop-basic", json!({"type": "drain"})).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_command")
    );
    assert!(message.contains("takes no `drain`"), "{message}");
    let (status, error, _) = refused(&state, "pipeline", json!({"type": "drain"})).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::CONFLICT, "not_running")
    );
    for body in [
        json!({"type": "subscribe"}),
        json!({"type": "subscribe", "topic": 7}),
        json!({"type": "unsubscribe", "subscriber": "slow"}),
        json!({"type": "panic", "worker": -1}),
    ] {
        let (status, error, _) = refused(&state, "pub-sub", body.clone()).await;
        assert_eq!(
            (status, error.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
            "{body}"
        );
    }

    let (status, _) = post(
        &state,
        "/api/runs/pub-sub/commands",
        json!({"type": "start"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for (body, want, code) in [
        (
            json!({"type": "subscribe", "topic": "orders..x"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_command",
        ),
        (
            json!({"type": "subscribe", "topic": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_command",
        ),
        (
            json!({"type": "subscribe", "topic": "Orders.*"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_command",
        ),
        (
            json!({"type": "unsubscribe", "subscriber": 999}),
            StatusCode::NOT_FOUND,
            "unknown_part",
        ),
        (
            json!({"type": "panic", "worker": 0}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_command",
        ),
    ] {
        let (status, error, message) = refused(&state, "pub-sub", body.clone()).await;
        assert_eq!((status, error.as_str()), (want, code), "{body}: {message}");
    }
    let (status, body) = post(
        &state,
        "/api/runs/pub-sub/commands",
        json!({"type": "subscribe", "topic": "users.*"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let stages = body["scene"]["flow"]["stages"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let added = stages
        .iter()
        .find(|s| {
            s["spec"]["about"]
                .as_str()
                .is_some_and(|a| a.contains("users.*"))
        })
        .expect("the new subscriber is in the answer's snapshot");
    let id = added["spec"]["id"].as_u64().expect("a stage id");
    let (status, body) = post(
        &state,
        "/api/runs/pub-sub/commands",
        json!({"type": "unsubscribe", "subscriber": id}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, error, _) = refused(
        &state,
        "pub-sub",
        json!({"type": "unsubscribe", "subscriber": id}),
    )
    .await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::NOT_FOUND, "unknown_part"),
        "gone once unsubscribed"
    );

    let (_, body) = post(
        &state,
        "/api/runs/supervised/commands",
        json!({"type": "start"}),
    )
    .await;
    assert_eq!(body["status"], "running");
    let (status, error, message) =
        refused(&state, "supervised", json!({"type": "panic", "worker": 99})).await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::NOT_FOUND, "unknown_part"),
        "{message}"
    );
}

/// The downstream's switches and the breaker's settings are parameters:
/// live, validated, and refused with a message that names the problem.
#[tokio::test]
async fn failure_controls_apply_live_and_refuse_what_is_out_of_range() {
    let state = state();
    let run = "circuit-breaker";
    let uri = format!("/api/runs/{run}/commands");
    let (status, body) = post(&state, &uri, json!({"type": "start"})).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (StatusCode::OK, Some("running"))
    );
    let (status, body) = post(
        &state,
        &uri,
        json!({"type": "set_params", "params": {"broken": 1, "failure_type": 4, "threshold": 3, "reset_ms": 500}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["status"], "running",
        "a live change does not restart the run"
    );
    assert_eq!(body["params"]["broken"], 1.0);
    assert_eq!(body["scene"]["resilience"]["breaker"]["state"], "closed");

    for (params, says) in [
        (
            json!({"failure_type": 5}),
            "`failure_type` must be one of 0 (timeout), 1 (network), 2 (resource), 3 (processing), 4 (validation), got 5",
        ),
        (
            json!({"broken": 0.5}),
            "`broken` must be one of 0 (off), 1 (on), got 0.5",
        ),
        (
            json!({"threshold": 0}),
            "`threshold` must be between 1 and 20, got 0",
        ),
        (json!({"reset_ms": -1}), "`reset_ms` must be between"),
        (
            json!({"failure_pct": 101}),
            "`failure_pct` must be between 0 and 100, got 101",
        ),
        (json!({"jitter": 1}), "has no parameter `jitter`"),
    ] {
        let command = json!({"type": "set_params", "params": params});
        let (status, error, message) = refused(&state, run, command).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{params}: {message}"
        );
        assert_eq!(error, "invalid_command", "{params}");
        assert!(message.contains(says), "{params}: {message}");
    }
    let (status, error, _) = refused(
        &state,
        run,
        json!({"type": "set_params", "params": {"threshold": "five"}}),
    )
    .await;
    assert_eq!(
        (status, error.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body")
    );
    let (status, error, message) = refused(&state, run, json!({"type": "cancel", "node": 1})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error, "invalid_command", "{message}");

    let (status, body) = post(
        &state,
        "/api/runs/retry-backoff/commands",
        json!({"type": "set_params", "params": {"jitter": 1, "base_ms": 50}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["params"]["jitter"], 1.0);
    let (_, body) = post(&state, &uri, json!({"type": "reset"})).await;
    assert_eq!(
        body["params"]["broken"], 0.0,
        "reset goes back to the preset"
    );
    assert_eq!(body["params"]["threshold"], 5.0);
}

#[tokio::test]
async fn commands_answer_the_new_snapshot() {
    let state = state();
    let (status, body) = post(
        &state,
        "/api/runs/drop-basic/commands",
        json!({"type": "set_params", "params": {"capacity": 8}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let snap: RunSnapshot = serde_json::from_value(body).expect("a snapshot");
    assert_eq!(snap.overload().capacity, 8);
    assert_eq!(snap.params["capacity"], 8.0);
    let (_, body) = post(
        &state,
        "/api/runs/drop-basic/commands",
        json!({"type": "start"}),
    )
    .await;
    assert_eq!(body["status"], "running");
    let (_, body) = post(
        &state,
        "/api/runs/drop-basic/commands",
        json!({"type": "set_speed", "speed": 0.5}),
    )
    .await;
    assert_eq!(body["clock"]["speed"], 0.5);
    let (_, body) = post(
        &state,
        "/api/runs/drop-basic/commands",
        json!({"type": "stop"}),
    )
    .await;
    let snap: RunSnapshot = serde_json::from_value(body).expect("a snapshot");
    assert_eq!(snap.status, RunStatus::Stopped);
    assert_eq!(
        snap.counters.in_flight, 0,
        "stopping cancels what was in flight"
    );
    assert!(snap.counters.is_conserved());
    let (status, body) = post(&state, "/api/runs", json!({"pattern": "drop-priority"})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(body["run"], "drop-priority-2");
}

#[tokio::test]
async fn bad_requests_get_a_json_error_naming_the_problem_and_the_server_carries_on() {
    let state = state();
    let big = json!({"type": "set_params", "params": {"x": "y".repeat(20_000)}});
    // method, path, body, the answer's status and code, and what its message must name.
    type Case = (
        &'static str,
        &'static str,
        Option<Value>,
        StatusCode,
        &'static str,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "GET",
            "/api/runs/nope",
            None,
            StatusCode::NOT_FOUND,
            "unknown_run",
            "nope",
        ),
        (
            "POST",
            "/api/runs/nope/commands",
            Some(json!({"type": "start"})),
            StatusCode::NOT_FOUND,
            "unknown_run",
            "nope",
        ),
        (
            "POST",
            "/api/runs/drop-basic/commands",
            Some(json!({"type": "explode"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "explode",
        ),
        (
            "POST",
            "/api/runs/drop-basic/commands",
            Some(json!({"type": "set_speed", "speed": "fast"})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "\"fast\", expected f64",
        ),
        (
            "POST",
            "/api/runs/drop-basic/commands",
            Some(json!({"type": "set_speed", "speed": 50})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_command",
            "speed",
        ),
        (
            "POST",
            "/api/runs/drop-basic/commands",
            Some(json!({"type": "set_speed", "speed": 0})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_command",
            "speed",
        ),
        (
            "POST",
            "/api/runs/drop-basic/commands",
            Some(json!({"type": "set_params", "params": {"capacity": 0}})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_command",
            "`capacity` must be between 1 and 32",
        ),
        (
            "POST",
            "/api/runs/drop-basic/commands",
            Some(json!({"type": "set_params", "params": {"capacity": 2.5}})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_command",
            "whole number",
        ),
        (
            "POST",
            "/api/runs/drop-basic/commands",
            Some(json!({"type": "set_params", "params": {"colour": 1}})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_command",
            "no parameter `colour`",
        ),
        (
            "POST",
            "/api/runs/drop-basic/commands",
            Some(json!({"type": "set_params", "params": {}})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_command",
            "at least one",
        ),
        (
            "POST",
            "/api/runs/drop-basic/commands",
            Some(json!({"type": "step", "ms": 100})),
            StatusCode::CONFLICT,
            "not_paused",
            "pause first",
        ),
        (
            "POST",
            "/api/runs/drop-basic/commands",
            Some(json!({"type": "step", "ms": -5})),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "`-5`, expected u64",
        ),
        (
            "POST",
            "/api/runs/drop-basic/commands",
            Some(big),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            "16 KiB",
        ),
        (
            "POST",
            "/api/runs",
            Some(json!({"pattern": "teleport"})),
            StatusCode::NOT_FOUND,
            "unknown_pattern",
            "teleport",
        ),
        (
            "GET",
            "/api/events?runs=nope",
            None,
            StatusCode::NOT_FOUND,
            "unknown_run",
            "nope",
        ),
        (
            "GET",
            "/api/events?runs=",
            None,
            StatusCode::BAD_REQUEST,
            "bad_request",
            "runs",
        ),
        (
            "GET",
            "/api/events?colour=blue",
            None,
            StatusCode::BAD_REQUEST,
            "bad_request",
            "colour",
        ),
        (
            "GET",
            "/api/nothing-here",
            None,
            StatusCode::NOT_FOUND,
            "no_route",
            "/api/nothing-here",
        ),
        (
            "PUT",
            "/api/runs/drop-basic",
            None,
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            "PUT",
        ),
        (
            "DELETE",
            "/api/runs/drop-basic",
            None,
            StatusCode::CONFLICT,
            "pattern_run",
            "own run",
        ),
    ];
    for (method, uri, body, want_status, want_code, mentions) in cases {
        let body = body.map(|b| Body::from(b.to_string()));
        let (status, error) = call(&state, method, uri, body, true).await;
        assert_eq!(status, want_status, "{method} {uri}: {error}");
        assert_eq!(error["error"], want_code, "{method} {uri}: {error}");
        let message = error["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(mentions),
            "{method} {uri}: `{message}` should mention `{mentions}`"
        );
    }
    // Not JSON at all, and JSON without its content type.
    let (status, error) = call(
        &state,
        "POST",
        "/api/runs/drop-basic/commands",
        Some(Body::from("{start")),
        true,
    )
    .await;
    assert_eq!(
        (status, error["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("bad_request"))
    );
    let body = Body::from(json!({"type": "start"}).to_string());
    let (status, error) = call(
        &state,
        "POST",
        "/api/runs/drop-basic/commands",
        Some(body),
        false,
    )
    .await;
    assert_eq!(
        (status, error["error"].as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("not_json"))
    );

    // Nothing above changed the run, and it still answers.
    let (status, body) = call(&state, "GET", "/api/runs/drop-basic", None, false).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "idle");
    assert_eq!(body["params"]["capacity"], 5.0);
}

/// Posts a command to a run and answers the status and the error code.
async fn refused(state: &AppState, run: &str, command: Value) -> (StatusCode, String, String) {
    let (status, body) = post(state, &format!("/api/runs/{run}/commands"), command).await;
    let text = |k: &str| body[k].as_str().unwrap_or_default().to_owned();
    (status, text("error"), text("message"))
}

#[tokio::test]
async fn tree_commands_cancel_subtrees_and_refuse_what_cannot_be_done() {
    let state = state();
    let run = "cancel-tree";
    let (status, _) = post(
        &state,
        "/api/runs/cancel-tree/commands",
        json!({"type": "start"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Freeze the clock so nothing ends by itself while we look, once the
    // engine has made its tree.
    post(
        &state,
        "/api/runs/cancel-tree/commands",
        json!({"type": "pause"}),
    )
    .await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (_, body) = call(&state, "GET", "/api/runs/cancel-tree", None, false).await;
        let snap: RunSnapshot = serde_json::from_value(body).expect("a snapshot");
        if snap.tree().is_some_and(|t| t.nodes.len() == 6) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the tree was never made"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }

    // Nodes: 0 root, 1 service, 2 email, 3 report, 4 batch, 5 batch processor.
    let cases = [
        (
            json!({"type": "cancel", "node": 99}),
            StatusCode::NOT_FOUND,
            "unknown_node",
            "no node 99",
        ),
        (
            json!({"type": "cancel", "node": "root"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "expected u32",
        ),
        (
            json!({"type": "cancel"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
            "missing field `node`",
        ),
        (
            json!({"type": "set_deadline", "node": 1, "in_ms": -5}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_command",
            "got -5",
        ),
        (
            json!({"type": "set_deadline", "node": 1, "in_ms": 10_000_000}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_command",
            "between 0 and",
        ),
        (
            json!({"type": "set_deadline", "node": 42, "in_ms": 100}),
            StatusCode::NOT_FOUND,
            "unknown_node",
            "no node 42",
        ),
        (
            json!({"type": "fail", "node": 2}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_command",
            "takes no `fail` command",
        ),
        (
            json!({"type": "shutdown"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_command",
            "takes no `shutdown` command",
        ),
    ];
    for (command, status, code, message) in cases {
        let got = refused(&state, run, command.clone()).await;
        assert_eq!(
            (got.0, got.1.as_str()),
            (status, code),
            "{command}: {got:?}"
        );
        assert!(
            got.2.contains(message),
            "{command}: {:?} should say {message:?}",
            got.2
        );
    }

    // A new deadline is put on the run's clock.
    let (status, body) = post(
        &state,
        "/api/runs/cancel-tree/commands",
        json!({"type": "set_deadline", "node": 4, "in_ms": 60_000}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let snap: RunSnapshot = serde_json::from_value(body).expect("a snapshot");
    let batch = snap
        .tree()
        .and_then(|t| t.node(4))
        .expect("the batch scope");
    assert_eq!(batch.spec.deadline_ms, Some(snap.clock.now_ms + 60_000));

    // Cancelling the service reaches everything below it, nothing above.
    let (status, body) = post(
        &state,
        "/api/runs/cancel-tree/commands",
        json!({"type": "cancel", "node": 1}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let snap: RunSnapshot = serde_json::from_value(body).expect("a snapshot");
    let tree = snap.tree().expect("a tree");
    let cause = |id| {
        tree.node(id)
            .and_then(|n| n.cancelled)
            .map(|c| c.cause.as_str())
    };
    assert_eq!(
        (0..6).map(cause).collect::<Vec<_>>(),
        [
            None,
            Some("manual"),
            Some("parent"),
            Some("parent"),
            Some("parent"),
            Some("parent")
        ]
    );
    let again = refused(&state, run, json!({"type": "cancel", "node": 1})).await;
    assert_eq!(
        (again.0, again.1.as_str()),
        (StatusCode::CONFLICT, "already_cancelled")
    );

    // The three services were waiting on their tokens: even on a frozen
    // clock they notice at once and exit.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let (_, body) = call(&state, "GET", "/api/runs/cancel-tree", None, false).await;
        let snap: RunSnapshot = serde_json::from_value(body).expect("a snapshot");
        if snap.counters.in_flight == 0 {
            assert_eq!(snap.counters.cancelled, 3);
            assert_eq!(snap.status, RunStatus::Finished, "nothing was left running");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "tasks still in flight: {:?}",
            snap.counters
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let ended = refused(&state, run, json!({"type": "cancel", "node": 0})).await;
    assert_eq!(
        (ended.0, ended.1.as_str()),
        (StatusCode::CONFLICT, "not_running")
    );

    // A run that was never started, and a pattern without a tree.
    let idle = refused(
        &state,
        "request-values",
        json!({"type": "cancel", "node": 0}),
    )
    .await;
    assert_eq!(
        (idle.0, idle.1.as_str()),
        (StatusCode::CONFLICT, "not_running")
    );
    let none = refused(&state, "drop-basic", json!({"type": "cancel", "node": 0})).await;
    assert_eq!(
        (none.0, none.1.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_command")
    );
    assert!(none.2.contains("no cancellation tree"), "{none:?}");
}

#[tokio::test]
async fn the_page_is_served_for_deep_links() {
    let state = state();
    let version = crate::http::assets::version();
    for uri in ["/", "/p/drop-priority"] {
        let (status, body) = call(&state, "GET", uri, None, false).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        let html = body.as_str().unwrap_or_default();
        for named in [
            format!("/assets/{version}/boot.js"),
            format!("/pkg/{version}/frontend.js"),
            format!("/pkg/{version}/frontend_bg.wasm"),
        ] {
            assert!(html.contains(&named), "{uri} names {named}: {body}");
        }
        // It carries the pattern list, the same as the API's.
        let carried = html
            .split_once(r#"<script type="application/json" id="patterns">"#)
            .and_then(|(_, rest)| rest.split_once("</script>"))
            .map(|(json, _)| json)
            .unwrap_or_default();
        let carried: Value = serde_json::from_str(carried)
            .unwrap_or_else(|e| panic!("{uri} carries no pattern list ({e}): {html}"));
        let (_, listed) = call(&state, "GET", "/api/patterns", None, false).await;
        assert_eq!(carried, listed, "{uri}");
    }
    let (status, boot) = call(&state, "GET", "/assets/boot.js", None, false).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        boot.as_str().is_some_and(|js| js.contains("modulepreload")),
        "{boot}"
    );
    // Under the build's version a file is kept for good; without it, or
    // under another build's, it is asked for again.
    for (uri, cache) in [
        (format!("/pkg/{version}/frontend.js"), "immutable"),
        (format!("/assets/{version}/app.css"), "immutable"),
        ("/pkg/frontend.js".to_owned(), "no-cache"),
        ("/assets/0123456789abcdef/app.css".to_owned(), "no-cache"),
    ] {
        let request = Request::builder()
            .uri(&uri)
            .body(Body::empty())
            .expect("a request");
        let response = app(state.clone())
            .oneshot(request)
            .await
            .expect("an answer");
        assert_eq!(response.status(), StatusCode::OK, "{uri}");
        let kept = response
            .headers()
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok());
        assert!(kept.is_some_and(|v| v.contains(cache)), "{uri}: {kept:?}");
    }
    // The browser bundle goes out pre-compressed to browsers that take brotli.
    let request = Request::builder()
        .uri("/pkg/frontend_bg.wasm")
        .header(header::ACCEPT_ENCODING, "gzip, deflate, br;q=1.0")
        .body(Body::empty())
        .expect("a valid request");
    let response = app(state.clone())
        .oneshot(request)
        .await
        .expect("the router never fails");
    if cfg!(frontend_skipped) {
        return; // built with DASHBOARD_SKIP_WASM: there is no bundle
    }
    assert_eq!(response.status(), StatusCode::OK);
    let encoding = response
        .headers()
        .get(header::CONTENT_ENCODING)
        .map(|v| v.as_bytes().to_vec());
    assert_eq!(encoding.as_deref(), Some(&b"br"[..]));
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    // Twenty-four pattern views, the classroom session's views, the
    // timeline, the code pane and the family-grouped protocol make about
    // 441 KB since the router became a match on the path: a ceiling that
    // catches a dependency or a generic blow-up, not the next view.
    assert!(
        bytes.len() < 450_000,
        "the compressed bundle is {} bytes",
        bytes.len()
    );
    let mut wasm = Vec::new();
    std::io::Read::read_to_end(&mut brotli::Decompressor::new(&bytes[..], 4096), &mut wasm)
        .expect("valid brotli");
    assert_eq!(
        &wasm[..4],
        b"\0asm",
        "it decompresses to a WebAssembly module"
    );
    let (status, _) = call(&state, "GET", "/favicon.ico", None, false).await;
    assert_eq!(status, StatusCode::OK);
}

mod class;
mod history;
mod source;
mod stream;

//! A classroom session through the API: every role, every refusal, the
//! caps, the reclaiming, the presenter's page and the questions.

use super::super::{Access, AppState, app};
use crate::classroom::{
    self, Classroom, IDENTITY_COOKIE, MAX_SANDBOXES, OWNER_GONE_AFTER, PRESENTER_COOKIE,
};
use crate::hub::{Hosting, Hub, HubConfig, MAX_RUNS};
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

fn session() -> (AppState, Arc<Classroom>) {
    let config = HubConfig {
        hosting: Hosting::CurrentRuntime,
        ..HubConfig::default()
    };
    let class = Classroom::new("http://192.168.1.20:8080/".to_owned());
    let state = AppState {
        hub: Hub::with_config(CancellationToken::new(), TaskTracker::new(), config),
        access: Access::default(),
        classroom: Some(Arc::clone(&class)),
    };
    (state, class)
}

/// Who a request claims to be.
#[derive(Debug, Clone, Copy)]
enum As<'a> {
    Anonymous,
    Student(&'a str),
    /// The presenter's cookie.
    Presenter(&'a str),
    /// The presenter's token as an API client sends it.
    Bearer(&'a str),
}

fn student_id(n: u8) -> String {
    format!("{n:02x}").repeat(16)
}

struct Answer {
    status: StatusCode,
    body: Value,
    headers: axum::http::HeaderMap,
}

async fn call(
    state: &AppState,
    who: As<'_>,
    method: &str,
    uri: &str,
    body: Option<Value>,
) -> Answer {
    let mut request = Request::builder().method(method).uri(uri);
    request = match who {
        As::Anonymous => request,
        As::Student(id) => request.header(header::COOKIE, format!("{IDENTITY_COOKIE}={id}")),
        As::Presenter(token) => {
            request.header(header::COOKIE, format!("{PRESENTER_COOKIE}={token}"))
        }
        As::Bearer(token) => request.header(header::AUTHORIZATION, format!("Bearer {token}")),
    };
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
    let body = super::body_of(response).await;
    Answer {
        status,
        body,
        headers,
    }
}

async fn command(state: &AppState, who: As<'_>, run: &str, command: Value) -> Answer {
    call(
        state,
        who,
        "POST",
        &format!("/api/runs/{run}/commands"),
        Some(command),
    )
    .await
}

fn refused(answer: &Answer, status: StatusCode, code: &str) {
    assert_eq!(
        (answer.status, answer.body["error"].as_str()),
        (status, Some(code)),
        "{:?}",
        answer.body
    );
}

#[tokio::test(start_paused = true)]
async fn each_role_commands_only_what_it_may() {
    let (state, class) = session();
    let token = class.token().reveal().to_owned();
    let (a, b) = (student_id(1), student_id(2));
    let start = json!({"type": "start"});

    // A student, an anonymous client and a wrong token on a shared run.
    let shared = "cancel-tree";
    refused(
        &command(&state, As::Student(&a), shared, start.clone()).await,
        StatusCode::FORBIDDEN,
        "presenter_only",
    );
    refused(
        &command(&state, As::Anonymous, shared, start.clone()).await,
        StatusCode::FORBIDDEN,
        "presenter_only",
    );
    refused(
        &command(&state, As::Presenter("0123"), shared, start.clone()).await,
        StatusCode::FORBIDDEN,
        "wrong_token",
    );
    refused(
        &command(&state, As::Bearer("0123"), shared, start.clone()).await,
        StatusCode::FORBIDDEN,
        "wrong_token",
    );
    let ours = call(
        &state,
        As::Student(&a),
        "DELETE",
        "/api/runs/cancel-tree",
        None,
    )
    .await;
    refused(&ours, StatusCode::FORBIDDEN, "presenter_only");

    // The presenter, by cookie and by bearer token.
    assert_eq!(
        command(&state, As::Presenter(&token), shared, start.clone())
            .await
            .status,
        StatusCode::OK
    );
    let stop = json!({"type": "stop"});
    assert_eq!(
        command(&state, As::Bearer(&token), shared, stop)
            .await
            .status,
        StatusCode::OK
    );

    // A student's own run, another student's, and the presenter on it.
    let made = call(
        &state,
        As::Student(&a),
        "POST",
        "/api/runs",
        Some(json!({"pattern": "cancel-tree"})),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let sandbox = made.body["run"].as_str().expect("a run id").to_owned();
    assert_eq!(
        command(&state, As::Student(&a), &sandbox, start.clone())
            .await
            .status,
        StatusCode::OK
    );
    refused(
        &command(&state, As::Student(&b), &sandbox, start.clone()).await,
        StatusCode::FORBIDDEN,
        "not_yours",
    );
    refused(
        &command(&state, As::Anonymous, &sandbox, start.clone()).await,
        StatusCode::FORBIDDEN,
        "not_yours",
    );
    let pause = json!({"type": "pause"});
    assert_eq!(
        command(&state, As::Presenter(&token), &sandbox, pause)
            .await
            .status,
        StatusCode::OK
    );
    let theirs = call(
        &state,
        As::Student(&b),
        "DELETE",
        &format!("/api/runs/{sandbox}"),
        None,
    )
    .await;
    refused(&theirs, StatusCode::FORBIDDEN, "not_yours");

    // Runs made by the presenter are shared; an anonymous client makes none.
    let shared_made = call(
        &state,
        As::Presenter(&token),
        "POST",
        "/api/runs",
        Some(json!({"pattern": "tee"})),
    )
    .await;
    assert_eq!(shared_made.status, StatusCode::CREATED);
    let tee = shared_made.body["run"]
        .as_str()
        .expect("a run id")
        .to_owned();
    refused(
        &command(&state, As::Student(&a), &tee, start.clone()).await,
        StatusCode::FORBIDDEN,
        "presenter_only",
    );
    let anonymous = call(
        &state,
        As::Anonymous,
        "POST",
        "/api/runs",
        Some(json!({"pattern": "tee"})),
    )
    .await;
    refused(&anonymous, StatusCode::FORBIDDEN, "no_identity");

    // Everyone may watch.
    for who in [As::Anonymous, As::Student(&b), As::Presenter(&token)] {
        assert_eq!(
            call(&state, who, "GET", "/api/runs/cancel-tree", None)
                .await
                .status,
            StatusCode::OK
        );
    }
    // Only the presenter sees the room.
    assert_eq!(
        call(&state, As::Presenter(&token), "GET", "/api/classroom", None)
            .await
            .status,
        StatusCode::OK
    );
    refused(
        &call(&state, As::Student(&a), "GET", "/api/classroom", None).await,
        StatusCode::FORBIDDEN,
        "presenter_only",
    );
    refused(
        &call(&state, As::Anonymous, "GET", "/api/classroom", None).await,
        StatusCode::FORBIDDEN,
        "presenter_only",
    );
    refused(
        &call(&state, As::Bearer("nope"), "GET", "/api/classroom", None).await,
        StatusCode::FORBIDDEN,
        "wrong_token",
    );
}

#[tokio::test(start_paused = true)]
async fn a_students_run_is_a_fork_of_the_shared_one() {
    let (state, class) = session();
    let token = class.token().reveal().to_owned();
    let presenter = As::Presenter(&token);
    command(
        &state,
        presenter,
        "drop-basic",
        json!({"type": "set_seed", "seed": 7}),
    )
    .await;
    command(
        &state,
        presenter,
        "drop-basic",
        json!({"type": "set_params", "params": {"workers": 3}}),
    )
    .await;
    let a = student_id(1);
    let made = call(
        &state,
        As::Student(&a),
        "POST",
        "/api/runs",
        Some(json!({"pattern": "drop-basic"})),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED);
    assert_eq!(made.body["seed"], 7);
    assert_eq!(made.body["params"]["workers"], 3.0);
    assert_eq!(made.body["status"], "idle");
}

#[tokio::test(start_paused = true)]
async fn a_student_holds_at_most_two_runs_and_a_full_server_says_so() {
    let (state, class) = session();
    let a = student_id(1);
    let new = || Some(json!({"pattern": "tee"}));
    for _ in 0..MAX_SANDBOXES {
        assert_eq!(
            call(&state, As::Student(&a), "POST", "/api/runs", new())
                .await
                .status,
            StatusCode::CREATED
        );
    }
    refused(
        &call(&state, As::Student(&a), "POST", "/api/runs", new()).await,
        StatusCode::CONFLICT,
        "too_many_sandboxes",
    );
    // Another student still may, until the server is full.
    let token = class.token().reveal().to_owned();
    let filled = MAX_RUNS - state.hub.list().len();
    for _ in 0..filled {
        call(&state, As::Presenter(&token), "POST", "/api/runs", new()).await;
    }
    let b = student_id(2);
    refused(
        &call(&state, As::Student(&b), "POST", "/api/runs", new()).await,
        StatusCode::CONFLICT,
        "too_many_runs",
    );
    // Deleting one of hers frees a place for the first student's next.
    let report = call(&state, As::Presenter(&token), "GET", "/api/classroom", None).await;
    assert_eq!(
        report.body["sandboxes"].as_array().map(Vec::len),
        Some(MAX_SANDBOXES)
    );
    let first = report.body["sandboxes"][0]
        .as_str()
        .expect("a run")
        .to_owned();
    let gone = call(
        &state,
        As::Student(&a),
        "DELETE",
        &format!("/api/runs/{first}"),
        None,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        call(&state, As::Student(&a), "POST", "/api/runs", new())
            .await
            .status,
        StatusCode::CREATED
    );
}

#[tokio::test(start_paused = true)]
async fn the_runs_of_a_student_who_left_are_reclaimed() {
    let (state, class) = session();
    let shutdown = CancellationToken::new();
    tokio::spawn(classroom::reclaim(
        Arc::clone(&class),
        state.hub.clone(),
        shutdown.clone(),
    ));
    let (a, b) = (student_id(1), student_id(2));
    let new = || Some(json!({"pattern": "tee"}));
    call(&state, As::Student(&a), "POST", "/api/runs", new()).await;
    call(&state, As::Student(&b), "POST", "/api/runs", new()).await;
    // Student b stays: a stream open all along.
    let _b_watching = class.watching(&crate::classroom::Caller::Student(b.clone()));
    tokio::time::sleep(OWNER_GONE_AFTER / 2).await;
    assert_eq!(state.hub.sandboxes().len(), 2, "not gone long enough");
    tokio::time::sleep(OWNER_GONE_AFTER).await;
    let left = state.hub.sandboxes();
    assert_eq!(left.keys().collect::<Vec<_>>(), [&b]);
    shutdown.cancel();
}

#[tokio::test]
async fn the_presenters_url_becomes_a_cookie_and_leaves_the_address_bar() {
    let (state, class) = session();
    let token = class.token().reveal().to_owned();
    let page = call(
        &state,
        As::Anonymous,
        "GET",
        &format!("/p/tee?token={token}&present"),
        None,
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.headers[header::LOCATION], "/p/tee?present");
    let cookies: Vec<&str> = page
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let presenter = cookies
        .iter()
        .find(|c| c.starts_with(PRESENTER_COOKIE))
        .expect("the presenter's cookie");
    assert!(
        presenter.contains("HttpOnly") && presenter.contains("SameSite=Strict"),
        "{presenter}"
    );
    assert!(
        cookies.iter().any(|c| c.starts_with(IDENTITY_COOKIE)),
        "and an identity"
    );
    // A wrong token is dropped from the address without a cookie.
    let wrong = call(&state, As::Anonymous, "GET", "/?token=guess", None).await;
    assert_eq!(wrong.headers[header::LOCATION], "/");
    assert!(
        !wrong
            .headers
            .get_all(header::SET_COOKIE)
            .iter()
            .any(|c| c.to_str().unwrap_or("").starts_with(PRESENTER_COOKIE))
    );
    // A browser that has an identity keeps it.
    let again = call(&state, As::Student(&student_id(3)), "GET", "/", None).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.headers.get(header::SET_COOKIE).is_none());
}

#[tokio::test(start_paused = true)]
async fn a_question_pauses_the_run_counts_answers_and_the_reveal_resumes_it() {
    let (state, class) = session();
    let token = class.token().reveal().to_owned();
    let presenter = As::Presenter(&token);
    command(&state, presenter, "cancel-tree", json!({"type": "start"})).await;
    tokio::time::sleep(Duration::from_millis(1900)).await;
    let (a, b) = (student_id(1), student_id(2));
    refused(
        &call(
            &state,
            As::Student(&a),
            "POST",
            "/api/classroom/question",
            Some(json!({"run": "cancel-tree", "prepared": 0})),
        )
        .await,
        StatusCode::FORBIDDEN,
        "presenter_only",
    );
    let asked = call(
        &state,
        presenter,
        "POST",
        "/api/classroom/question",
        Some(json!({"run": "cancel-tree", "prepared": 0})),
    )
    .await;
    assert_eq!(asked.status, StatusCode::OK, "{:?}", asked.body);
    let id = asked.body.as_u64().expect("the question's number");
    let run = call(&state, presenter, "GET", "/api/runs/cancel-tree", None).await;
    assert_eq!(
        run.body["clock"]["paused"], true,
        "the room thinks on a still run"
    );

    let answer = |who: &str, choice: usize| {
        let who = who.to_owned();
        let state = state.clone();
        async move {
            call(
                &state,
                As::Student(&who),
                "POST",
                "/api/classroom/answer",
                Some(json!({"question": id, "choice": choice})),
            )
            .await
        }
    };
    assert_eq!(answer(&a, 1).await.status, StatusCode::NO_CONTENT);
    assert_eq!(answer(&b, 0).await.status, StatusCode::NO_CONTENT);
    assert_eq!(
        answer(&a, 0).await.status,
        StatusCode::NO_CONTENT,
        "changed"
    );
    refused(
        &answer(&b, 9).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    );
    let stale = call(
        &state,
        As::Student(&a),
        "POST",
        "/api/classroom/answer",
        Some(json!({"question": id + 1, "choice": 0})),
    )
    .await;
    refused(&stale, StatusCode::CONFLICT, "stale_question");
    let report = call(&state, presenter, "GET", "/api/classroom", None).await;
    assert_eq!(report.body["question"]["tally"], json!([2, 0, 0, 0]));
    assert_eq!(report.body["question"]["answered"], 2);

    let revealed = call(&state, presenter, "POST", "/api/classroom/reveal", None).await;
    assert_eq!(revealed.status, StatusCode::NO_CONTENT);
    let run = call(&state, presenter, "GET", "/api/runs/cancel-tree", None).await;
    assert_eq!(
        run.body["clock"]["paused"], false,
        "the reveal lets the run go on"
    );
    refused(
        &answer(&a, 1).await,
        StatusCode::CONFLICT,
        "already_revealed",
    );
    refused(
        &call(&state, presenter, "POST", "/api/classroom/reveal", None).await,
        StatusCode::CONFLICT,
        "already_revealed",
    );
}

#[tokio::test]
async fn bad_questions_and_follows_are_refused_and_the_qr_code_is_served() {
    let (state, class) = session();
    let token = class.token().reveal().to_owned();
    let presenter = As::Presenter(&token);
    let ask = |body: Value| {
        call(
            &state,
            presenter,
            "POST",
            "/api/classroom/question",
            Some(body),
        )
    };
    refused(
        &ask(json!({"run": "tee", "prepared": 9})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    );
    refused(
        &ask(json!({"run": "tee"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    );
    refused(
        &ask(
            json!({"run": "tee", "question": {"text": "?", "choices": ["only one"], "answer": 0}}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    );
    refused(
        &ask(json!({"run": "nope", "prepared": 0})).await,
        StatusCode::NOT_FOUND,
        "unknown_run",
    );
    let written = ask(json!({"run": "tee", "question": {"text": "Who waits?", "choices": ["A", "B"], "answer": 0}})).await;
    assert_eq!(written.status, StatusCode::OK);
    let follow = |path: &str| {
        call(
            &state,
            presenter,
            "POST",
            "/api/classroom/follow",
            Some(json!({"path": path, "present": true})),
        )
    };
    assert_eq!(follow("/p/tee").await.status, StatusCode::NO_CONTENT);
    assert_eq!(follow("/").await.status, StatusCode::NO_CONTENT);
    refused(
        &follow("https://elsewhere.example/").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_request",
    );
    refused(
        &call(
            &state,
            As::Student(&student_id(1)),
            "POST",
            "/api/classroom/follow",
            Some(json!({"path": "/", "present": false})),
        )
        .await,
        StatusCode::FORBIDDEN,
        "presenter_only",
    );
    let qr = call(&state, As::Anonymous, "GET", "/api/classroom/qr.svg", None).await;
    assert_eq!(qr.status, StatusCode::OK);
    assert_eq!(qr.headers[header::CONTENT_TYPE], "image/svg+xml");
}

#[tokio::test]
async fn without_a_session_nothing_changes() {
    let config = HubConfig {
        hosting: Hosting::CurrentRuntime,
        ..HubConfig::default()
    };
    let state = AppState {
        hub: Hub::with_config(CancellationToken::new(), TaskTracker::new(), config),
        access: Access::default(),
        classroom: None,
    };
    let start = command(&state, As::Anonymous, "tee", json!({"type": "start"})).await;
    assert_eq!(start.status, StatusCode::OK);
    let page = call(&state, As::Anonymous, "GET", "/", None).await;
    assert!(page.headers.get(header::SET_COOKIE).is_none(), "no cookies");
    refused(
        &call(&state, As::Anonymous, "GET", "/api/classroom", None).await,
        StatusCode::NOT_FOUND,
        "no_session",
    );
}

/// Everything a stream sends within `wait`.
async fn stream_text(state: &AppState, who: As<'_>, wait: Duration) -> String {
    let mut request = Request::builder().uri("/api/events");
    if let As::Student(id) = who {
        request = request.header(header::COOKIE, format!("{IDENTITY_COOKIE}={id}"));
    }
    if let As::Presenter(token) = who {
        request = request.header(header::COOKIE, format!("{PRESENTER_COOKIE}={token}"));
    }
    let response = app(state.clone())
        .oneshot(request.body(Body::empty()).expect("a request"))
        .await
        .expect("the router never fails");
    let mut body = response.into_body();
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, body.frame()).await {
        if let Some(data) = frame.data_ref() {
            text.push_str(&String::from_utf8_lossy(data));
        }
    }
    text
}

#[tokio::test]
async fn a_student_is_sent_the_shared_runs_and_their_own_not_the_others() {
    let (state, class) = session();
    let token = class.token().reveal().to_owned();
    let (a, b) = (student_id(1), student_id(2));
    let new = || Some(json!({"pattern": "tee"}));
    let mine = call(&state, As::Student(&a), "POST", "/api/runs", new()).await;
    let theirs = call(&state, As::Student(&b), "POST", "/api/runs", new()).await;
    let run = |made: &Answer| format!("\"run\":\"{}\"", made.body["run"].as_str().expect("a run"));
    let wait = Duration::from_millis(300);
    let sent = stream_text(&state, As::Student(&a), wait).await;
    assert!(sent.contains("event: class") && sent.contains("\"role\":\"student\""));
    assert!(sent.contains("\"run\":\"cancel-tree\""), "the shared runs");
    assert!(sent.contains(&run(&mine)), "their own");
    assert!(!sent.contains(&run(&theirs)), "not another student's");
    let all = stream_text(&state, As::Presenter(&token), wait).await;
    assert!(
        all.contains(&run(&mine)) && all.contains(&run(&theirs)),
        "the presenter sees every run"
    );
    assert!(all.contains("\"role\":\"presenter\"") && all.contains("join_url"));
}

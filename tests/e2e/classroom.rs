//! A classroom session with two browsers: the presenter's and a student's.
//! The student's page follows the presenter, the student answers the
//! question the presenter asks, the presenter's tally counts it, and the
//! reveal lets the run go on.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::support::browser::{TestBrowser, chromium_available};
use crate::support::{PATIENCE, TestServer};

fn output(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("output")
        .join(name)
}

/// How long a student's page may take to follow the presenter.
const FOLLOW_WITHIN: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_student_follows_the_presenter_answers_and_sees_the_reveal() {
    if !chromium_available() {
        return;
    }
    let (server, token) = TestServer::start_classroom().await;
    let presenter = TestBrowser::launch().await;
    let student = TestBrowser::launch().await;

    presenter
        .goto(&server.url(&format!("/p/drop-basic?token={token}")))
        .await;
    presenter
        .wait_for(
            "the presenter's header, without the token in the address",
            "document.querySelector('.watching') && !location.search.includes('token')",
            PATIENCE,
        )
        .await;
    student.goto(&server.url("/")).await;
    student
        .wait_for(
            "the student following, on the presenter's page",
            "document.querySelector('.following') && location.pathname === '/p/drop-basic'",
            PATIENCE,
        )
        .await;
    presenter
        .wait_for(
            "one watching",
            "document.querySelector('.watching strong').innerText === '1'",
            PATIENCE,
        )
        .await;

    // The presenter moves; the student's page goes there too.
    let moved = Instant::now();
    presenter.click(r#"a[href="/p/cancel-tree"]"#).await;
    student
        .wait_for(
            "the student's page on cancel-tree",
            "location.pathname === '/p/cancel-tree' && document.querySelector('[data-pattern=\"cancel-tree\"]')",
            PATIENCE,
        )
        .await;
    let followed = moved.elapsed();
    assert!(followed <= FOLLOW_WITHIN, "followed after {followed:?}");

    // The presenter starts the run and asks the room.
    presenter
        .wait_for(
            "the cancel-tree page",
            "document.querySelector('[data-pattern=\"cancel-tree\"]') && document.querySelector('[data-action=\"ask\"]')",
            PATIENCE,
        )
        .await;
    // Keys go to the page, not to the link just clicked.
    presenter
        .eval::<bool>("(document.activeElement && document.activeElement.blur(), true)")
        .await;
    presenter.press(" ").await;
    presenter
        .wait_for(
            "the run going",
            r#"document.querySelector('.pattern-head .status-pill[data-status="running"]')"#,
            PATIENCE,
        )
        .await;
    presenter.click(r#"[data-action="ask"]"#).await;
    presenter.click(r#"[data-prepared="0"]"#).await;
    student
        .wait_for(
            "the question on the student's screen",
            r#"document.querySelector('.question-card [data-choice="0"]:not([disabled])')"#,
            PATIENCE,
        )
        .await;
    assert!(
        server.snapshot("cancel-tree").await.clock.paused,
        "the question pauses the run"
    );
    student.click(r#".question-card [data-choice="0"]"#).await;
    presenter
        .wait_for(
            "the presenter's tally counting the answer",
            r#"(document.querySelector('.question-card [data-choice="0"] .answer-count') || {}).innerText === '1'"#,
            PATIENCE,
        )
        .await;
    student
        .wait_for(
            "the student's answer marked",
            r#"document.querySelector('.question-card [data-choice="0"][data-mine="true"]')"#,
            PATIENCE,
        )
        .await;
    presenter
        .screenshot(&output("classroom-presenter-question.png"))
        .await;
    student
        .screenshot(&output("classroom-student-question.png"))
        .await;

    // Reveal: the right answer shows for both, and the run goes on.
    presenter.click(r#"[data-action="reveal"]"#).await;
    student
        .wait_for(
            "the right answer on the student's screen",
            r#"document.querySelector('.question-card[data-revealed="true"] [data-right="true"]')"#,
            PATIENCE,
        )
        .await;
    let at = server.snapshot("cancel-tree").await;
    assert!(!at.clock.paused, "the reveal resumes the run");
    let deadline = Instant::now() + PATIENCE;
    while server.snapshot("cancel-tree").await.clock.now_ms <= at.clock.now_ms {
        assert!(Instant::now() < deadline, "and its time moves on");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    presenter
        .screenshot(&output("classroom-presenter-reveal.png"))
        .await;
    student
        .screenshot(&output("classroom-student-reveal.png"))
        .await;

    // The student's own run: a fork only they drive.
    student.click(r#"[data-action="fork"]"#).await;
    student
        .wait_for(
            "the student's own run",
            r#"location.search.includes('run=cancel-tree-') && document.querySelector('.own-run')"#,
            PATIENCE,
        )
        .await;
    // Space starts the run the page shows, once the page has it.
    student
        .wait_for(
            "the student's run on the page",
            r#"document.querySelector('.pattern-head .status-pill[data-status="idle"]')"#,
            PATIENCE,
        )
        .await;
    student
        .eval::<bool>("(document.activeElement && document.activeElement.blur(), true)")
        .await;
    student.press(" ").await;
    let own = student
        .eval::<String>("new URLSearchParams(location.search).get('run')")
        .await;
    student
        .wait_for(
            "the student's run going",
            r#"document.querySelector('.pattern-head .status-pill[data-status="running"], .pattern-head .status-pill[data-status="finished"]')"#,
            PATIENCE,
        )
        .await;
    assert_ne!(server.snapshot(&own).await.status, shared::RunStatus::Idle);

    assert_eq!(presenter.problems(), Vec::<String>::new());
    assert_eq!(student.problems(), Vec::<String>::new());
    presenter.close().await;
    student.close().await;
    server.shut_down().await;
}

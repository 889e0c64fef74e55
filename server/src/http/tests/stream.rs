//! The event stream read in-process: a snapshot, then batches with no
//! gap; a slow viewer resynchronized; a reconnecting one resumed.

use super::*;
use crate::hub::Sees;
use shared::Cursor;
use std::collections::BTreeMap;

/// Reads SSE messages off a response body: `(event, id, data)`.
struct SseReader {
    body: Body,
    buffer: String,
}

impl SseReader {
    async fn open(state: &AppState, uri: &str, last_event_id: Option<&str>) -> SseReader {
        let mut request = Request::builder().uri(uri);
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let request = request.body(Body::empty()).expect("a valid request");
        let response = app(state.clone())
            .oneshot(request)
            .await
            .expect("the router never fails");
        assert_eq!(response.status(), StatusCode::OK);
        SseReader {
            body: response.into_body(),
            buffer: String::new(),
        }
    }

    async fn next(&mut self) -> (String, String, String) {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let message: String = self.buffer.drain(..end + 2).collect();
                let field = |name: &str| {
                    message
                        .lines()
                        .filter_map(|l| l.strip_prefix(name))
                        .map(|v| v.trim_start().to_owned())
                        .collect::<Vec<_>>()
                        .join("\n")
                };
                if message.starts_with(':') {
                    continue; // keep-alive comment
                }
                return (field("event:"), field("id:"), field("data:"));
            }
            let frame = tokio::time::timeout(std::time::Duration::from_secs(30), self.body.frame())
                .await
                .expect("a message within 30 s")
                .expect("the stream is open")
                .expect("a frame");
            if let Ok(data) = frame.into_data() {
                self.buffer.push_str(&String::from_utf8_lossy(&data));
            }
        }
    }
}

async fn endless(state: &AppState, run: &str) {
    let uri = format!("/api/runs/{run}/commands");
    post(
        state,
        &uri,
        json!({"type": "set_params", "params": {"tasks": 0, "interval_ms": 5}}),
    )
    .await;
    post(state, &uri, json!({"type": "start"})).await;
}

#[tokio::test(start_paused = true)]
async fn a_viewer_gets_a_snapshot_then_gap_free_batches() {
    let state = state();
    endless(&state, "drop-basic").await;
    let mut sse = SseReader::open(&state, "/api/events?runs=drop-basic", None).await;
    let (event, id, data) = sse.next().await;
    assert_eq!(event, "snapshot");
    let mut folded: RunSnapshot = serde_json::from_str(&data).expect("a snapshot");
    assert_eq!(id, format!("drop-basic:{}", folded.seq));
    let mut messages = 0;
    while folded.counters.submitted < 200 {
        let (event, id, data) = sse.next().await;
        assert_eq!(event, "batch");
        let batches: Vec<shared::Batch> = serde_json::from_str(&data).expect("batches");
        for env in batches.iter().flat_map(|b| &b.events) {
            let expected = folded.seq + 1;
            assert!(
                env.seq < expected || folded.apply(env),
                "seq {} after {}",
                env.seq,
                folded.seq
            );
            assert!(
                env.seq <= expected,
                "gap: {} after {}",
                env.seq,
                expected - 1
            );
            assert!(folded.counters.is_conserved());
        }
        assert_eq!(id, format!("drop-basic:{}", folded.seq));
        messages += 1;
    }
    // 200 tasks at one per 5 ms is 1 s of virtual time: about 60 frames,
    // not hundreds of messages.
    assert!(messages <= 70, "{messages} messages for 1 s of events");
}

#[tokio::test(start_paused = true)]
async fn a_viewer_that_stops_reading_is_resynchronized_without_slowing_the_run() {
    let state = state();
    let mut slow = SseReader::open(&state, "/api/events?runs=drop-basic", None).await;
    let (event, _, data) = slow.next().await;
    assert_eq!(event, "snapshot");
    let first: RunSnapshot = serde_json::from_str(&data).expect("a snapshot");
    endless(&state, "drop-basic").await;
    // Ten seconds of frames: far more than a viewer's buffer holds.
    tokio::time::sleep(std::time::Duration::from_secs(10)).await;
    let run = state.hub.get("drop-basic").expect("the run");
    let submitted = run.snapshot().counters.submitted;
    assert!(submitted >= 1900, "the engine kept going: {submitted}");
    // The slow viewer first learns it missed events, then gets the state.
    let (event, _, data) = slow.next().await;
    assert_eq!(event, "lagged", "{data}");
    let lagged: shared::Lagged = serde_json::from_str(&data).expect("a notice");
    assert!(lagged.skipped > 1000, "{lagged:?}");
    let (event, id, data) = slow.next().await;
    assert_eq!(event, "snapshot");
    let fresh: RunSnapshot = serde_json::from_str(&data).expect("a snapshot");
    assert!(fresh.seq >= first.seq + lagged.skipped && fresh.counters.submitted >= submitted);
    assert_eq!(id, format!("drop-basic:{}", fresh.seq));
}

#[tokio::test(start_paused = true)]
async fn a_reconnecting_viewer_resumes_after_its_cursor_or_gets_a_snapshot() {
    let state = state();
    endless(&state, "drop-basic").await;
    let mut sse = SseReader::open(&state, "/api/events?runs=drop-basic", None).await;
    let (_, _, data) = sse.next().await;
    let mut folded: RunSnapshot = serde_json::from_str(&data).expect("a snapshot");
    let mut last_id = String::new();
    for _ in 0..5 {
        let (_, id, data) = sse.next().await;
        for b in serde_json::from_str::<Vec<shared::Batch>>(&data).expect("batches") {
            b.events.iter().for_each(|e| _ = folded.apply(e));
        }
        last_id = id;
    }
    drop(sse);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    // Recent enough: the missed events come back, starting right after the cursor.
    let mut resumed = SseReader::open(&state, "/api/events?runs=drop-basic", Some(&last_id)).await;
    let (event, _, data) = resumed.next().await;
    assert_eq!(event, "batch");
    let batches: Vec<shared::Batch> = serde_json::from_str(&data).expect("batches");
    let first = batches[0]
        .events
        .iter()
        .find(|e| e.seq > folded.seq)
        .expect("new events");
    assert_eq!(first.seq, folded.seq + 1, "no gap after the cursor");

    // Too old (or from another server): a snapshot, never a silent gap.
    let mut stale = SseReader::open(
        &state,
        "/api/events?runs=drop-basic",
        Some("drop-basic:999999999"),
    )
    .await;
    let (event, _, _) = stale.next().await;
    assert_eq!(event, "snapshot");
}

/// Two viewers of a run are sent the very same bytes of each batch,
/// encoded once: not equal copies, one shared buffer.
#[tokio::test(start_paused = true)]
async fn every_viewer_of_a_run_is_sent_one_shared_encoding_of_each_batch() {
    let state = state();
    let follow = || {
        state.hub.viewer(
            Some(vec!["drop-basic".to_owned()]),
            Cursor::default(),
            Sees::Everything,
            false,
        )
    };
    let (mut a, mut b) = (follow(), follow());
    // Each starts with a snapshot of its own.
    for viewer in [&mut a, &mut b] {
        let first = viewer.next().await.expect("a snapshot");
        assert!(first.starts_with(b"event: snapshot\nid: drop-basic:"));
    }
    endless(&state, "drop-basic").await;
    for _ in 0..5 {
        let (x, y) = (
            a.next().await.expect("a batch"),
            b.next().await.expect("a batch"),
        );
        assert!(x.starts_with(b"event: batch\nid: drop-basic:"), "{x:?}");
        assert_eq!(x.as_ptr(), y.as_ptr(), "one buffer for both viewers");
    }
}

/// The app's stream follows just the runs it names, here none, and is sent
/// the shared runs' status whenever it changes, not their events.
#[tokio::test(start_paused = true)]
async fn a_stream_of_no_run_is_sent_the_shared_runs_status_and_no_events() {
    let state = state();
    let mut sse = SseReader::open(&state, "/api/events?runs=&summaries=true", None).await;
    let (event, _, data) = sse.next().await;
    assert_eq!(event, "summary");
    let first: Vec<shared::RunSummary> = serde_json::from_str(&data).expect("summaries");
    assert_eq!(first.len(), shared::PatternId::COUNT, "every shared run");
    assert!(first.iter().all(|s| s.status == shared::RunStatus::Idle));
    endless(&state, "drop-basic").await;
    let (event, _, data) = sse.next().await;
    assert_eq!(
        event, "summary",
        "no batch of a run it does not follow: {data}"
    );
    let now: Vec<shared::RunSummary> = serde_json::from_str(&data).expect("summaries");
    let drop_basic = now
        .iter()
        .find(|s| s.run == "drop-basic")
        .expect("drop-basic");
    assert_eq!(drop_basic.status, shared::RunStatus::Running);
    // The run keeps going, but its status does not change: nothing more.
    let quiet = tokio::time::timeout(std::time::Duration::from_secs(2), sse.next()).await;
    assert!(quiet.is_err(), "nothing while no status changes: {quiet:?}");
}

/// A stream of several runs resumes each from the cursor it says with
/// `after=`, and a run that is gone is announced, not refused.
#[tokio::test(start_paused = true)]
async fn a_stream_of_several_runs_resumes_each_from_its_cursor() {
    let state = state();
    endless(&state, "drop-basic").await;
    endless(&state, "drop-priority").await;
    let uri = "/api/events?runs=drop-basic,drop-priority&summaries=true";
    let mut sse = SseReader::open(&state, uri, None).await;
    let mut cursor = Cursor::default();
    while cursor.0.len() < 2 || cursor.0.values().any(|seq| *seq < 50) {
        let (event, id, _) = sse.next().await;
        if event == "batch" || event == "snapshot" {
            cursor.0.extend(Cursor::parse(&id).0);
        }
    }
    drop(sse);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let uri =
        format!("/api/events?runs=drop-basic,drop-priority,gone-1&summaries=true&after={cursor}");
    let mut resumed = SseReader::open(&state, &uri, None).await;
    let mut next_seq: BTreeMap<String, u64> = cursor
        .0
        .iter()
        .map(|(run, seq)| (run.clone(), seq + 1))
        .collect();
    let mut gone = false;
    while !gone || !next_seq.is_empty() {
        let (event, _, data) = resumed.next().await;
        match event.as_str() {
            "batch" => {
                for batch in serde_json::from_str::<Vec<shared::Batch>>(&data).expect("batches") {
                    if let Some(expected) = next_seq.remove(&batch.run) {
                        let first = batch.events.iter().find(|e| e.seq >= expected);
                        assert_eq!(first.map(|e| e.seq), Some(expected), "{}", batch.run);
                    }
                }
            }
            "removed" => {
                assert!(data.contains("gone-1"), "{data}");
                gone = true;
            }
            "snapshot" => panic!("a snapshot where the cursor was enough: {data}"),
            _ => {}
        }
    }
}

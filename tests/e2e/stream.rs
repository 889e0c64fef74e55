//! The event stream, read back from a real server: what a viewer receives is
//! complete, in order, adds up, survives a reconnect, and is not held back by
//! another viewer that stopped reading.
//!
//! These run in real time (a real server has no paused clock), at ten times
//! speed so a couple of seconds hold thousands of events.

use std::time::Duration;

use shared::{Command, Event, OverloadEvent, PatternId, RunEvent, RunSnapshot, RunStatus};
use tokio::time::{Instant, sleep};
use tokio_util::sync::CancellationToken;

use crate::support::follow::{Fed, Follower};
use crate::support::sse::{EventStream, Message, Unread};
use crate::support::{PATIENCE, TestServer, within};

const RUN: &str = "drop-basic";

/// Pauses the run, lets the stream deliver what the pause left in flight, and
/// checks the viewer's fold equals the server's own snapshot.
async fn pause_and_compare(server: &TestServer, follower: &mut Follower, stream: &mut EventStream) {
    let paused = server.command(RUN, Command::Pause).await;
    assert!(
        paused.clock.paused,
        "the answer to pause shows a running clock: {:?}",
        paused.clock
    );
    follower
        .follow_until(stream, PATIENCE, |f| f.seq() >= paused.seq)
        .await;
    // Let anything already under way when the clock froze reach the stream.
    sleep(Duration::from_millis(300)).await;
    let settled = server.snapshot(RUN).await;
    follower
        .follow_until(stream, PATIENCE, |f| f.seq() >= settled.seq)
        .await;
    assert_same_state(follower.state(), &settled);

    sleep(Duration::from_millis(300)).await;
    let later = server.snapshot(RUN).await;
    assert_eq!(later.seq, settled.seq, "a paused run kept producing events");
}

fn assert_same_state(viewer: &RunSnapshot, server: &RunSnapshot) {
    assert_eq!(
        viewer.seq, server.seq,
        "the viewer's fold and the server disagree on seq"
    );
    assert_eq!(
        viewer.counters, server.counters,
        "the viewer's counters differ from the server's"
    );
    assert_eq!(viewer.status, server.status);
    assert_eq!(
        viewer.scene, server.scene,
        "the viewer's picture differs from the server's"
    );
    // Params, seed and clock too: the fold is the whole state.
    assert_eq!(viewer, server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_continue_the_snapshot_without_gaps() {
    let server = TestServer::start().await;
    let mut stream = server.events(RUN, None).await;

    let first = stream.recv().await;
    let Message::Snapshot(snapshot) = &first.message else {
        panic!(
            "the first message must be a snapshot, got {:?}",
            first.message
        );
    };
    assert_eq!(snapshot.run, RUN);
    assert_eq!(snapshot.pattern, PatternId::DropBasic);
    assert_eq!(
        snapshot.status,
        RunStatus::Idle,
        "default runs wait to be started"
    );
    assert_eq!(
        first.cursor().0.get(RUN),
        Some(&snapshot.seq),
        "the snapshot's id is its cursor"
    );

    server.run_flat_out(RUN).await;

    // The first batch may repeat events the snapshot already holds (it can
    // include events that had not gone out yet); after that, every event is
    // the next one.
    let mut held = snapshot.seq;
    let mut first_batch = true;
    let mut last_at = 0;
    let (mut running, mut submitted, mut dropped) = (false, 0, 0);
    let deadline = Instant::now() + Duration::from_secs(5);
    while held - snapshot.seq < 2_000 || dropped == 0 {
        assert!(
            Instant::now() < deadline,
            "after 5 s: {} events, {submitted} submitted, {dropped} dropped, running: {running}",
            held - snapshot.seq
        );
        let received = stream.recv().await;
        let Message::Batch(batches) = &received.message else {
            panic!(
                "a viewer that keeps up gets only batches after its snapshot, got {:?}",
                received.message
            );
        };
        for batch in batches {
            assert_eq!(
                batch.run, RUN,
                "a batch of a run this viewer does not follow"
            );
            assert!(!batch.events.is_empty(), "an empty batch");
            for envelope in &batch.events {
                if first_batch && envelope.seq <= snapshot.seq {
                    continue;
                }
                assert_eq!(
                    envelope.seq,
                    held + 1,
                    "events must be numbered without gaps: {envelope:?}"
                );
                // Virtual time counts from the run's (re)start.
                if !matches!(envelope.event, Event::Run(RunEvent::Reset { .. })) {
                    assert!(
                        envelope.at_ms >= last_at,
                        "virtual time went backwards: {envelope:?}"
                    );
                }
                held = envelope.seq;
                last_at = envelope.at_ms;
                match envelope.event {
                    Event::Run(RunEvent::Status {
                        status: RunStatus::Running,
                    }) => running = true,
                    Event::Overload(OverloadEvent::Submitted { .. }) => submitted += 1,
                    Event::Overload(OverloadEvent::Dropped { .. }) => dropped += 1,
                    _ => {}
                }
            }
        }
        first_batch = false;
        assert_eq!(
            received.cursor().0.get(RUN),
            Some(&held),
            "a batch's id is the cursor after it"
        );
    }
    assert!(running, "the stream never said the run is running");
    assert!(
        submitted > 0 && dropped > 0,
        "{submitted} submitted, {dropped} dropped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn folding_the_stream_gives_the_servers_state() {
    let server = TestServer::start().await;
    let mut stream = server.events(RUN, None).await;
    let mut follower = Follower::new(RUN);
    assert_eq!(follower.feed(&stream.recv().await), Fed::Snapshot);

    server.run_flat_out(RUN).await;
    // Every step of the fold is checked for conservation as it happens.
    follower
        .follow_until(&mut stream, PATIENCE, |f| f.events >= 2_000)
        .await;
    let counters = follower.state().counters;
    assert_eq!(
        follower.lagged, 0,
        "a viewer that keeps up was told it lagged"
    );
    assert!(
        counters.dropped > 0,
        "endless load at this rate must overflow the queue: {counters:?}"
    );
    assert!(
        counters.completed + counters.failed > 0,
        "no worker finished anything: {counters:?}"
    );

    pause_and_compare(&server, &mut follower, &mut stream).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnecting_viewer_misses_nothing() {
    let server = TestServer::start().await;
    let mut follower = Follower::new(RUN);
    let mut stream = server.events(RUN, None).await;
    follower.feed(&stream.recv().await);
    server.run_flat_out(RUN).await;

    let mut last_id = None;
    while follower.batches < 10 {
        let received = stream.recv().await;
        follower.feed(&received);
        last_id = received.id;
    }
    let last_id = last_id.expect("batches carry ids");
    let held = follower.seq();
    drop(stream);

    sleep(Duration::from_millis(300)).await;
    let meanwhile = server.snapshot(RUN).await;
    assert!(
        meanwhile.seq > held,
        "the run did not go on while the viewer was away"
    );

    let mut stream = server.events(RUN, Some(&last_id)).await;
    let first = stream.recv().await;
    match &first.message {
        Message::Batch(_) => {
            let resumed_at = first.message.envelopes(RUN).next().map(|e| e.seq);
            assert_eq!(
                resumed_at,
                Some(held + 1),
                "a replay must start right after the cursor {last_id}"
            );
        }
        Message::Snapshot(snapshot) => {
            println!(
                "resume: the server resynced with a snapshot at {} (cursor {held})",
                snapshot.seq
            );
        }
        Message::Lagged(lagged) => panic!("a reconnect is not a lag: {lagged:?}"),
        Message::Removed(removed) => panic!("nothing was deleted: {removed:?}"),
    }
    follower.feed(&first);
    follower
        .follow_until(&mut stream, PATIENCE, |f| f.seq() >= meanwhile.seq)
        .await;

    pause_and_compare(&server, &mut follower, &mut stream).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_that_stops_reading_holds_nobody_up() {
    let server = TestServer::start().await;
    let stalled = Unread::connect(server.addr(), &format!("/api/events?runs={RUN}")).await;
    let mut live = server.events(RUN, None).await;
    let mut follower = Follower::new(RUN);
    follower.feed(&live.recv().await);
    server.run_flat_out(RUN).await;

    // The live viewer reads all along, noting when each batch came.
    let stop = CancellationToken::new();
    let reader = tokio::spawn({
        let stop = stop.clone();
        async move {
            let mut arrivals = Vec::new();
            while !stop.is_cancelled() {
                let received = tokio::select! {
                    () = stop.cancelled() => break,
                    next = live.next_within(PATIENCE) => next,
                };
                match received {
                    Ok(Some(received)) => {
                        if let Fed::Events(n) = follower.feed(&received)
                            && n > 0
                        {
                            arrivals.push(Instant::now());
                        }
                    }
                    Ok(None) => panic!("the live viewer's stream ended"),
                    Err(_) => panic!("the live viewer got nothing for {PATIENCE:?}"),
                }
            }
            (live, follower, arrivals)
        }
    });

    // From the moment the server can write nothing more to the stalled
    // viewer, for three seconds (longer than a viewer's buffer of frames on
    // the server, so it most likely has to be resynchronized later): the
    // API's counters keep rising...
    let backlog = stalled.wait_until_full(Duration::from_secs(4)).await;
    let stalled_at = Instant::now();
    let mut submitted = Vec::new();
    for _ in 0..6 {
        sleep(Duration::from_millis(500)).await;
        submitted.push(server.snapshot(RUN).await.counters.submitted);
    }
    assert!(
        submitted.windows(2).all(|w| w[0] < w[1]),
        "the engine stalled: submitted over time {submitted:?}"
    );
    stop.cancel();
    let (mut live, mut follower, arrivals) = within("the live viewer", PATIENCE, reader)
        .await
        .expect("the reader");
    let end = Instant::now();

    // ...and the live viewer keeps getting batches, with no long wait.
    let times: Vec<Instant> = std::iter::once(stalled_at)
        .chain(arrivals.into_iter().filter(|&t| t > stalled_at))
        .chain(std::iter::once(end))
        .collect();
    let longest_wait = times
        .windows(2)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default();
    assert!(
        longest_wait < Duration::from_millis(500),
        "the live viewer waited {longest_wait:?} for a batch ({} batches in {:?})",
        times.len() - 2,
        end - stalled_at
    );
    assert_eq!(follower.lagged, 0, "the live viewer was told it lagged");

    pause_and_compare(&server, &mut follower, &mut live).await;

    // The stalled viewer, reading at last, catches up without a silent gap:
    // either everything in order or a `lagged` notice and a fresh snapshot.
    let target = server.snapshot(RUN).await.seq;
    let mut stalled = stalled.resume().await;
    let mut late = Follower::new(RUN);
    late.follow_until(&mut stalled, Duration::from_secs(5), |f| f.seq() >= target)
        .await;
    assert_same_state(late.state(), follower.state());
    println!(
        "stalled viewer: {backlog} bytes stuck on the server; caught up with {} lagged notice(s), {} snapshot(s), {} batches",
        late.lagged, late.snapshots, late.batches
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_streams_and_frees_the_port() {
    let server = TestServer::start().await;
    let addr = server.addr();
    let mut stream = server.events(RUN, None).await;
    let mut follower = Follower::new(RUN);
    follower.feed(&stream.recv().await);
    server.run_flat_out(RUN).await;
    follower
        .follow_until(&mut stream, PATIENCE, |f| f.events > 0)
        .await;

    server.shut_down().await;
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match stream.next_within(left).await {
            Ok(Some(_)) => continue, // what was already on its way
            Ok(None) => break,
            Err(_) => panic!("the event stream stayed open {PATIENCE:?} after shutdown"),
        }
    }
    let connect = within("connect", PATIENCE, tokio::net::TcpStream::connect(addr)).await;
    assert!(
        connect.is_err(),
        "the server still accepts connections after shutdown"
    );
}

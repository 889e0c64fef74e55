//! Slow motion is exact: every preset, run on its own paced runtime on the
//! real clock at 1x, at 10x, and paused and stepped by 100 ms and by 250 ms,
//! records the same events at the same virtual instants as on tokio's
//! paused test clock, where the engine tests check it: to its end, or for
//! an endless preset its first [`ENDLESS_PREFIX_MS`].

use server::run::Run;
use shared::{Command, Envelope, Event, PatternId, RunEvent, RunSnapshot, RunStatus};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Virtual time a preset may take to end; one that runs longer is endless.
const ENDS_WITHIN_MS: u64 = 60_000;
/// How much of an endless preset is compared.
const ENDLESS_PREFIX_MS: u64 = 3_000;

/// How a run is driven.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Speed(f64),
    Stepped(u64),
}

/// The record of one run: every event but the clock's own, with its
/// virtual instant.
#[derive(Debug, Clone, PartialEq)]
struct Log(Vec<(u64, Event)>);

impl Log {
    /// The events before `before_ms` (all of them if `None`).
    fn of(events: &[Envelope], before_ms: Option<u64>) -> Log {
        Log(events
            .iter()
            .filter(|e| !matches!(e.event, Event::Run(RunEvent::Clock { .. })))
            .filter(|e| before_ms.is_none_or(|end| e.at_ms < end))
            .map(|e| (e.at_ms, e.event.clone()))
            .collect())
    }

    /// Where `other` first differs, for the failure message.
    fn first_difference(&self, other: &Log) -> String {
        let at = self
            .0
            .iter()
            .zip(&other.0)
            .position(|(a, b)| a != b)
            .unwrap_or(self.0.len().min(other.0.len()));
        format!(
            "event {at} of {} / {}: {:?} vs {:?}",
            self.0.len(),
            other.0.len(),
            self.0.get(at),
            other.0.get(at)
        )
    }
}

/// Whether the record is complete: the run finished, or (for a prefix) an
/// event at or after `before_ms` was recorded, so none before it can follow.
fn complete(events: &[Envelope], before_ms: Option<u64>) -> bool {
    events.iter().any(|e| match before_ms {
        None => matches!(
            e.event,
            Event::Run(RunEvent::Status {
                status: RunStatus::Finished
            })
        ),
        Some(end) => e.at_ms >= end,
    })
}

/// What the engine tests see of a preset.
struct Reference {
    log: Log,
    /// The state at its end; `None` for an endless preset, compared up to
    /// [`ENDLESS_PREFIX_MS`].
    end: Option<RunSnapshot>,
    length_ms: u64,
}

/// The preset on tokio's paused test clock, unpaced: what the engine tests
/// see.
fn on_the_test_clock(pattern: PatternId) -> Reference {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a test runtime");
    runtime.block_on(async {
        let run = Arc::new(Run::on_current_runtime(
            pattern.to_string(),
            pattern,
            &CancellationToken::new(),
            TaskTracker::new(),
            Arc::new(Notify::new()),
        ));
        run.take_pending();
        run.command(Command::Start).await.expect("start");
        let mut events = Vec::new();
        for _ in 0..ENDS_WITHIN_MS / 10 {
            events.extend(run.take_pending());
            if complete(&events, None) {
                let end = run.snapshot();
                return Reference {
                    log: Log::of(&events, None),
                    length_ms: end.clock.now_ms,
                    end: Some(end),
                };
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        run.command(Command::Stop).await.expect("stop");
        Reference {
            log: Log::of(&events, Some(ENDLESS_PREFIX_MS)),
            end: None,
            length_ms: ENDLESS_PREFIX_MS,
        }
    })
}

/// The preset on a run of its own, paced by the wall clock as `mode` says,
/// to its end or up to `before_ms`.
async fn paced(
    pattern: PatternId,
    mode: Mode,
    expected_ms: u64,
    before_ms: Option<u64>,
) -> (Log, RunSnapshot) {
    let wake = Arc::new(Notify::new());
    let run = Arc::new(Run::new(
        pattern.to_string(),
        pattern,
        &CancellationToken::new(),
        TaskTracker::new(),
        Arc::clone(&wake),
    ));
    run.take_pending();
    let command = |c| {
        let run = Arc::clone(&run);
        async move { run.command(c).await.expect("the command is taken") }
    };
    match mode {
        Mode::Speed(speed) => {
            command(Command::SetSpeed { speed }).await;
            command(Command::Start).await;
        }
        Mode::Stepped(_) => {
            command(Command::SetSpeed { speed: 0.1 }).await;
            command(Command::Start).await;
            command(Command::Pause).await;
        }
    }
    // Real time for the run to end: its virtual length at its speed, and
    // then some for a busy machine.
    let real_ms = match mode {
        Mode::Speed(speed) => (expected_ms as f64 / speed) as u64,
        Mode::Stepped(_) => expected_ms / 10,
    };
    let patience = Duration::from_millis(real_ms * 3 + 10_000);
    let mut events = Vec::new();
    let ended = tokio::time::timeout(patience, async {
        loop {
            events.extend(run.take_pending());
            if complete(&events, before_ms) {
                return;
            }
            match mode {
                Mode::Speed(_) => wake.notified().await,
                Mode::Stepped(ms) => {
                    let _ = run.command(Command::Step { ms: Some(ms) }).await;
                    // One step of `ms` flows at 10x: let it, before the next.
                    tokio::time::sleep(Duration::from_millis(ms / 10 + 1)).await;
                }
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "{pattern} {mode:?} did not end within {patience:?}"
    );
    (Log::of(&events, before_ms), run.snapshot())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_preset_records_the_same_events_at_any_speed_and_stepped() {
    // First what the engine tests see, one at a time: these runs take all
    // the processor they can get.
    let references = tokio::task::spawn_blocking(|| {
        PatternId::ALL
            .into_iter()
            .map(|p| (p, on_the_test_clock(p)))
            .collect::<Vec<_>>()
    })
    .await
    .expect("the test-clock runs");
    // Then every preset at once, each on its own paced runtime.
    let mut checks = Vec::new();
    for (pattern, reference) in references {
        checks.push(tokio::spawn(async move {
            let length = reference.length_ms;
            let prefix = reference.end.is_none().then_some(ENDLESS_PREFIX_MS);
            let mut failures = Vec::new();
            for mode in [
                Mode::Speed(10.0),
                Mode::Speed(1.0),
                Mode::Stepped(100),
                Mode::Stepped(250),
            ] {
                let (log, snapshot) = paced(pattern, mode, length, prefix).await;
                if log != reference.log {
                    failures.push(format!(
                        "{pattern} {mode:?}: {}",
                        reference.log.first_difference(&log)
                    ));
                }
                if let Some(end) = &reference.end
                    && snapshot.counters != end.counters
                {
                    failures.push(format!(
                        "{pattern} {mode:?}: {:?} vs {:?}",
                        snapshot.counters, end.counters
                    ));
                }
            }
            (pattern, reference, failures)
        }));
    }
    let mut failures = Vec::new();
    let mut ended = 0;
    for check in checks {
        let (pattern, reference, mut failed) = check.await.expect("a check");
        let events = reference.log.0.len();
        match &reference.end {
            Some(end) => {
                ended += 1;
                println!(
                    "{pattern}: {events} events to its end at {} ms",
                    reference.length_ms
                );
                if pattern == PatternId::DropBasic {
                    let c = end.counters;
                    assert_eq!(
                        (c.completed + c.failed, c.dropped),
                        (8, 7),
                        "drop-basic's seed figures"
                    );
                }
            }
            None => {
                println!("{pattern}: endless; {events} events in its first {ENDLESS_PREFIX_MS} ms")
            }
        }
        assert!(events > 0, "{pattern} recorded nothing");
        failures.append(&mut failed);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(ended >= 20, "only {ended} presets end");
}

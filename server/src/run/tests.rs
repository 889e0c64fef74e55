use super::*;
use shared::NodeState;
use std::time::Duration;

fn run_of(pattern: PatternId, tracker: &TaskTracker) -> Arc<Run> {
    Arc::new(Run::on_current_runtime(
        pattern.to_string(),
        pattern,
        &CancellationToken::new(),
        tracker.clone(),
        Arc::new(Notify::new()),
    ))
}

/// Every cancellation pattern, cancelled at its root part-way through:
/// every task it reached exits (none is left alive), except the leak
/// that `timeout` exists to show, which is reported as leaked.
#[tokio::test(start_paused = true)]
async fn after_a_cancel_every_reached_task_exits_but_the_reported_leak() {
    let patterns = PatternId::ALL
        .into_iter()
        .filter(|p| p.family() == Family::Cancellation);
    for pattern in patterns {
        let tracker = TaskTracker::new();
        let run = run_of(pattern, &tracker);
        run.command(Command::Start).await.expect("start");
        tokio::time::sleep(Duration::from_millis(450)).await;
        run.command(Command::Cancel { node: 0 })
            .await
            .unwrap_or_else(|e| panic!("{pattern}: cancel the root: {e}"));
        let mut waited = 0;
        let snap = loop {
            let snap = run.snapshot();
            if snap.status == RunStatus::Finished {
                break snap;
            }
            assert!(
                waited < 60_000,
                "{pattern} never finished: {:?}",
                snap.counters
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
            waited += 10;
        };
        let tree = snap.tree().expect("a tree");
        for node in tree.nodes.values().filter(|n| n.has_work()) {
            let state = node.state();
            if pattern == PatternId::Timeout && node.spec.label == "operation" {
                assert_eq!(state, NodeState::Leaked, "{pattern}: the late worker leaks");
                continue;
            }
            assert!(
                node.ended.is_some(),
                "{pattern}: {} is {state:?} after the run finished",
                node.spec.label
            );
        }
        let leaked = u64::from(pattern == PatternId::Timeout);
        assert_eq!(
            (snap.counters.in_flight, tree.leaked),
            (leaked, leaked),
            "{pattern}"
        );

        // Stopping reclaims even the leak: nothing of the run is left.
        run.command(Command::Stop).await.expect("stop");
        assert_eq!(run.snapshot().counters.in_flight, 0, "{pattern}");
        tracker.close();
        assert!(
            tracker.is_empty(),
            "{pattern}: a task of the run is still alive"
        );
    }
}

/// Every pattern, stopped part-way through a busy moment: the stop
/// returns only once every task of the engine has exited, and every
/// task that was in flight is counted as cancelled. Nothing leaks.
#[tokio::test(start_paused = true)]
async fn a_stopped_run_of_any_pattern_leaves_no_task_alive() {
    for pattern in PatternId::ALL {
        let tracker = TaskTracker::new();
        let run = run_of(pattern, &tracker);
        run.command(Command::Start).await.expect("start");
        tokio::time::sleep(Duration::from_millis(700)).await;
        let before = run.snapshot();
        run.command(Command::Stop).await.expect("stop");
        let snap = run.snapshot();
        assert!(
            snap.counters.is_conserved(),
            "{pattern}: {:?}",
            snap.counters
        );
        assert_eq!(snap.counters.in_flight, 0, "{pattern}");
        assert_eq!(snap.tasks_in_scene(), 0, "{pattern}");
        if before.status == RunStatus::Running {
            assert_eq!(snap.status, RunStatus::Stopped, "{pattern}");
        }
        tracker.close();
        assert!(
            tracker.is_empty(),
            "{pattern}: a task of the run is still alive"
        );
    }
}

/// A teacher pauses a run, then resets it (or stops it), then starts
/// it again: the new run must really run, on a clock that moves, and a
/// reset must already show the clock running to every viewer.
#[tokio::test(start_paused = true)]
async fn a_start_after_pause_and_reset_or_stop_runs_on_a_moving_clock() {
    for between in [Command::Reset, Command::Stop] {
        let run = run_of(PatternId::DropBasic, &TaskTracker::new());
        run.command(Command::Start).await.expect("start");
        tokio::time::sleep(Duration::from_millis(300)).await;
        run.command(Command::Pause).await.expect("pause");
        let after = run.command(between.clone()).await.expect("reset or stop");
        if between == Command::Reset {
            assert!(!after.clock.paused, "a reset run still shows Paused");
        }
        let started = run.command(Command::Start).await.expect("start");
        assert_eq!(started.status, RunStatus::Running, "{between:?}");
        assert!(!started.clock.paused, "{between:?}: started paused");

        tokio::time::sleep(Duration::from_millis(500)).await;
        let snap = run.snapshot();
        assert_eq!(
            run.core.clock.now_ms(),
            500,
            "{between:?}: virtual time must follow real time after the start"
        );
        assert!(
            snap.counters.submitted > 0,
            "{between:?}: the started run did nothing: {:?}",
            snap.counters
        );
        run.command(Command::Stop).await.expect("stop");
    }
}

/// Stopping a run part-way cancels its tree with the cause `shutdown`
/// and every task exits.
#[tokio::test(start_paused = true)]
async fn stopping_a_tree_run_cancels_its_root_for_shutdown() {
    let tracker = TaskTracker::new();
    let run = run_of(PatternId::CancelFanout, &tracker);
    run.command(Command::Start).await.expect("start");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let before = run.snapshot();
    assert_eq!(before.counters.in_flight, 1000);
    run.command(Command::Stop).await.expect("stop");
    let snap = run.snapshot();
    let root = snap.tree().and_then(|t| t.root()).expect("a root");
    assert_eq!(
        root.cancelled.map(|c| c.cause),
        Some(shared::Cause::Shutdown)
    );
    assert_eq!(
        (snap.counters.cancelled, snap.counters.in_flight),
        (1000, 0)
    );
    assert_eq!(snap.status, RunStatus::Stopped);
    tracker.close();
    assert!(tracker.is_empty());
}
/// Runs `script` (each command at its virtual instant after the start;
/// those before the start at once) on a fresh run of `pattern`, lets it
/// finish, and returns its log: every event with its virtual time.
async fn drive(pattern: PatternId, script: &[(u64, Command)]) -> Vec<(u64, Event)> {
    let tracker = TaskTracker::new();
    let run = run_of(pattern, &tracker);
    run.take_pending();
    let mut started = None;
    for (at, command) in script {
        if let Some(start) = started {
            tokio::time::sleep_until(start + Duration::from_millis(*at)).await;
        }
        if *command == Command::Start {
            started = Some(tokio::time::Instant::now());
        }
        run.command(command.clone())
            .await
            .unwrap_or_else(|e| panic!("{pattern}: {command:?} at {at} ms: {e}"));
    }
    for _ in 0..100_000 {
        if run.snapshot().status == RunStatus::Finished {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(run.snapshot().status, RunStatus::Finished, "{pattern}");
    run.take_pending()
        .into_iter()
        .map(|e| (e.at_ms, e.event))
        .collect()
}

/// What viewers did to a run, as its log recorded it.
fn recorded(log: &[(u64, Event)]) -> Vec<(u64, Command)> {
    log.iter()
        .filter_map(|(at, e)| match e {
            Event::Run(RunEvent::Command { command }) => Some((*at, command.clone())),
            _ => None,
        })
        .collect()
}

/// A viewer's commands land at the instant they arrive and are recorded
/// there, so the log alone repeats the run: replaying the commands it
/// recorded, at their instants, gives the same log, event for event.
#[tokio::test(start_paused = true)]
async fn a_run_replayed_from_its_recorded_commands_repeats_exactly() {
    let live = |name: &str, value: f64| Command::SetParams {
        params: Params::from([(name.to_owned(), value)]),
    };
    let scripts: [(PatternId, Vec<(u64, Command)>); 6] = [
        (
            PatternId::CancelTree,
            vec![
                (0, Command::SetSeed { seed: 7 }),
                (0, Command::Start),
                (
                    300,
                    Command::SetDeadline {
                        node: 0,
                        in_ms: 2_000,
                    },
                ),
                (600, Command::Cancel { node: 2 }),
            ],
        ),
        (
            PatternId::Errgroup,
            vec![(0, Command::Start), (300, Command::Fail { node: 2 })],
        ),
        (
            PatternId::Pipeline,
            vec![
                (0, live("logs", 0.0)),
                (0, Command::Start),
                (400, live("min_level", 0.0)),
                (1_300, Command::Drain),
            ],
        ),
        (
            PatternId::PubSub,
            vec![
                (0, live("messages", 12.0)),
                (0, Command::Start),
                (
                    500,
                    Command::Subscribe {
                        topic: "orders.*".to_owned(),
                    },
                ),
            ],
        ),
        (
            PatternId::Supervised,
            vec![(0, Command::Start), (700, Command::Panic { worker: 1 })],
        ),
        (
            PatternId::CircuitBreaker,
            vec![
                (0, live("calls", 40.0)),
                (0, Command::Start),
                (1_000, live("broken", 1.0)),
                (2_500, live("broken", 0.0)),
            ],
        ),
    ];
    for (pattern, script) in scripts {
        let first = drive(pattern, &script).await;
        let commands = recorded(&first);
        assert_eq!(
            commands.iter().map(|(_, c)| c).collect::<Vec<_>>(),
            script.iter().map(|(_, c)| c).collect::<Vec<_>>(),
            "{pattern}: every command that shapes the run is recorded, in order"
        );
        let again = drive(pattern, &commands).await;
        assert_eq!(first.len(), again.len(), "{pattern}");
        for (i, (a, b)) in first.iter().zip(&again).enumerate() {
            assert_eq!(a, b, "{pattern}: event {i} differs");
        }
        // The instants matter: the last command 50 ms later is another run.
        let mut late = commands.clone();
        if let Some((at, _)) = late.last_mut() {
            *at += 50;
        }
        assert_ne!(drive(pattern, &late).await, first, "{pattern}");
    }
}

/// Pausing, stepping and the speed change how fast a run is shown, not
/// what happens in it: they are not recorded as commands.
#[tokio::test(start_paused = true)]
async fn only_commands_that_shape_the_run_are_recorded() {
    let script = [
        (0, Command::Start),
        (100, Command::SetSpeed { speed: 2.0 }),
        (200, Command::Pause),
        (200, Command::Step { ms: Some(50) }),
        (200, Command::Resume),
    ];
    let log = drive(PatternId::DropBasic, &script).await;
    assert_eq!(recorded(&log), [(0, Command::Start)]);
}
/// A step that ends between events still moves the clock viewers read:
/// the run reports its clock at the instant the step ends.
#[tokio::test(start_paused = true)]
async fn the_end_of_a_step_is_reported_at_its_instant() {
    let tracker = TaskTracker::new();
    let run = run_of(PatternId::CancelTree, &tracker);
    run.command(Command::Start).await.expect("start");
    run.command(Command::Pause).await.expect("pause");
    run.take_pending();
    run.command(Command::Step { ms: Some(250) })
        .await
        .expect("step");
    tokio::time::sleep(Duration::from_millis(260)).await;
    let clocks: Vec<u64> = run
        .take_pending()
        .into_iter()
        .filter(|e| matches!(e.event, Event::Run(RunEvent::Clock { paused: true, .. })))
        .map(|e| e.at_ms)
        .collect();
    assert_eq!(clocks, [250]);
    assert_eq!(run.snapshot().clock.now_ms, 250);
}
/// The nice value of this process's thread named `name`.
#[cfg(target_os = "linux")]
fn nice_of(name: &str) -> Option<i64> {
    std::fs::read_dir("/proc/self/task")
        .ok()?
        .flatten()
        .find_map(|task| {
            let comm = std::fs::read_to_string(task.path().join("comm")).ok()?;
            if comm.trim() != name {
                return None;
            }
            let stat = std::fs::read_to_string(task.path().join("stat")).ok()?;
            // Fields after the command's closing parenthesis; nice is the 19th
            // field of the line, the 17th after it.
            stat.rsplit_once(')')?
                .1
                .split_whitespace()
                .nth(16)?
                .parse()
                .ok()
        })
}

#[cfg(target_os = "linux")]
#[test]
fn a_students_run_yields_the_processor_to_the_class() {
    let make = |id: &str, priority| {
        Run::with_priority(
            id.to_owned(),
            PatternId::Tee,
            &CancellationToken::new(),
            TaskTracker::new(),
            Arc::new(Notify::new()),
            priority,
        )
    };
    let _class = make("tee-class", Priority::Class);
    let _own = make("tee-own", Priority::Own);
    assert_eq!(nice_of("run tee-class"), Some(0));
    assert_eq!(nice_of("run tee-own"), Some(19));
}

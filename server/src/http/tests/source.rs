//! The code pane's source: every pattern's files served byte for byte,
//! their marks in range, and a mark for every kind of event the engine
//! emits while it runs its preset.

use super::{call, state};
use crate::hub::{Hosting, Hub, HubConfig};
use axum::http::StatusCode;
use shared::source::Source;
use shared::{Batch, Command, Event, PatternId, RunStatus};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The kinds of event (wire names) `pattern`'s engine emits while its
/// preset runs, to its end or for 20 virtual seconds.
async fn emitted(pattern: PatternId) -> BTreeSet<&'static str> {
    let config = HubConfig {
        hosting: Hosting::CurrentRuntime,
        ..HubConfig::default()
    };
    let hub = Hub::with_config(CancellationToken::new(), TaskTracker::new(), config);
    let id = pattern.as_str();
    let run = hub.get(id).expect("the pattern's own run");
    run.command(Command::Start).await.expect("it starts");
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if run.snapshot().status == RunStatus::Finished {
            break;
        }
    }
    let history = hub.history(id).expect("a history");
    hub.stop_all().await;
    history
        .batches
        .iter()
        .flat_map(|json| {
            serde_json::from_slice::<Batch>(json)
                .expect("a batch")
                .events
        })
        // What the run itself records (its reset, status, clock) is not
        // the engine's.
        .filter(|e| !matches!(e.event, Event::Run(_)))
        .map(|e| e.event.name())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn every_pattern_shows_its_own_files_with_a_mark_for_every_event_it_emits() {
    let state = state();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace");
    for pattern in PatternId::ALL {
        let (status, body) = call(
            &state,
            "GET",
            &format!("/api/patterns/{pattern}/source"),
            None,
            false,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{pattern}");
        let source: Source = serde_json::from_value(body).expect("a source");
        assert!(!source.files.is_empty(), "{pattern}");
        for file in &source.files {
            let on_disk = std::fs::read_to_string(root.join(&file.file))
                .unwrap_or_else(|e| panic!("{}: {e}", file.file));
            assert_eq!(file.text, on_disk, "{} is served byte for byte", file.file);
            let lines = on_disk.lines().count() as u32;
            assert_eq!(file.lines.len() as u32, lines, "{}", file.file);
            for mark in &file.marks {
                assert!(
                    (1..=lines).contains(&mark.line),
                    "{}: mark {mark:?} is past its {lines} lines",
                    file.file
                );
                let line = on_disk
                    .lines()
                    .nth(mark.line as usize - 1)
                    .unwrap_or_default();
                assert!(
                    line.contains("Event::"),
                    "{}:{} marks `{line}`",
                    file.file,
                    mark.line
                );
            }
        }
        let marked: BTreeSet<&str> = source
            .files
            .iter()
            .flat_map(|f| f.marks.iter().map(|m| m.event.as_str()))
            .collect();
        let kinds = emitted(pattern).await;
        assert!(!kinds.is_empty(), "{pattern} emitted nothing");
        let unmarked: Vec<_> = kinds.iter().filter(|k| !marked.contains(*k)).collect();
        assert!(
            unmarked.is_empty(),
            "{pattern} emits {unmarked:?}, which no line of {:?} is marked with",
            source.files.iter().map(|f| &f.file).collect::<Vec<_>>()
        );
    }
    let (status, body) = call(&state, "GET", "/api/patterns/no-such/source", None, false).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"], "unknown_pattern");
}

//! The code pane's rules: which lines light up for an event, and which
//! thing in the scene an event is about.

use shared::cancellation::CancellationEvent;
use shared::flow::FlowEvent;
use shared::resilience::ResilienceEvent;
use shared::source::Source;
use shared::{Event, OverloadEvent};

/// The lines that emit `event` (a wire name): in the file shown if it has
/// any, else in the first file that does.
pub fn lit(source: &Source, shown: usize, event: &str) -> Option<(usize, Vec<u32>)> {
    let lines_in = |i: usize| -> Vec<u32> {
        source.files.get(i).map_or_else(Vec::new, |f| {
            f.marks
                .iter()
                .filter(|m| m.event == event)
                .map(|m| m.line)
                .collect()
        })
    };
    let here = lines_in(shown);
    if !here.is_empty() {
        return Some((shown, here));
    }
    (0..source.files.len())
        .map(|i| (i, lines_in(i)))
        .find(|(_, lines)| !lines.is_empty())
}

/// The event that leads an instant: the most telling marked one (the
/// latest of equals), else the latest.
pub fn lead<'a>(events: &[(&'a str, Option<u8>)]) -> Option<&'a str> {
    let mut best: Option<(&str, u8)> = None;
    for (name, rank) in events {
        if let Some(rank) = rank
            && best.is_none_or(|(_, b)| *rank > b)
        {
            best = Some((name, *rank));
        }
    }
    best.map(|(name, _)| name)
        .or(events.first().map(|(name, _)| *name))
}

/// The lines to light for what happened at one instant (`events`, latest
/// first, each with its rank if the timeline marks it): the file is the
/// one of the [`lead`] event, and in it every line that emits any of them.
pub fn lit_instant(
    source: &Source,
    shown: usize,
    events: &[(&str, Option<u8>)],
) -> Option<(usize, Vec<u32>)> {
    let lead = lead(events)?;
    let file = lit(source, shown, lead)
        .or_else(|| events.iter().find_map(|(name, _)| lit(source, shown, name)))
        .map(|(file, _)| file)?;
    let mut lines: Vec<u32> = source.files[file]
        .marks
        .iter()
        .filter(|m| events.iter().any(|(name, _)| m.event == *name))
        .map(|m| m.line)
        .collect();
    // The lead's own lines first: the pane scrolls to the first.
    lines.sort_by_key(|line| {
        let leads = source.files[file]
            .marks
            .iter()
            .any(|m| m.line == *line && m.event == lead);
        (!leads, *line)
    });
    lines.dedup();
    Some((file, lines))
}

/// What an event is about, as the scene marks it: the attribute and its
/// value (`data-task`, 6).
pub fn entity(event: &Event) -> Option<(&'static str, u64)> {
    use CancellationEvent as C;
    use FlowEvent as F;
    use OverloadEvent as O;
    use ResilienceEvent as R;
    Some(match event {
        Event::Overload(
            O::Enqueued { task }
            | O::Blocked { task }
            | O::Dropped { task, .. }
            | O::Started { task, .. }
            | O::Finished { task, .. }
            | O::Cancelled { task },
        ) => ("task", u64::from(*task)),
        Event::Overload(O::Submitted { task }) => ("task", u64::from(task.id)),
        Event::Cancellation(
            C::Deadline { node, .. }
            | C::TokenCancelled { node, .. }
            | C::TaskStarted { node }
            | C::Step { node, .. }
            | C::TaskEnded { node, .. }
            | C::Leaked { node }
            | C::Note { node, .. },
        ) => ("node", u64::from(*node)),
        Event::Cancellation(C::NodeCreated { node }) => ("node", u64::from(node.id)),
        Event::Resilience(
            R::JobPicked { job, .. }
            | R::AttemptStarted { job, .. }
            | R::AttemptEnded { job, .. }
            | R::AttemptRejected { job, .. }
            | R::Backoff { job, .. }
            | R::JobEnded { job, .. },
        ) => ("job", u64::from(*job)),
        Event::Resilience(R::JobSubmitted { job }) => ("job", u64::from(job.id)),
        Event::Flow(
            F::ItemQueued { item, .. }
            | F::ItemBlocked { item, .. }
            | F::ItemTaken { item, .. }
            | F::ItemWaiting { item, .. }
            | F::ItemEnded { item, .. },
        ) => ("item", *item),
        Event::Flow(F::ItemMade { item, .. }) => ("item", item.id),
        Event::Flow(
            F::StageStopped { stage }
            | F::WorkersSet { stage, .. }
            | F::WorkerPanicked { stage, .. }
            | F::Gauge { stage, .. }
            | F::Sent { stage },
        ) => ("stage", u64::from(*stage)),
        Event::Flow(F::StageAdded { stage, .. }) => ("stage", u64::from(stage.id)),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::source::{Mark, SourceFile};

    fn file(name: &str, marks: &[(&str, u32)]) -> SourceFile {
        SourceFile {
            file: name.into(),
            text: String::new(),
            marks: marks
                .iter()
                .map(|(event, line)| Mark {
                    event: (*event).into(),
                    line: *line,
                })
                .collect(),
            lines: Vec::new(),
        }
    }

    #[test]
    fn the_most_telling_event_leads_an_instant() {
        let instant = [
            ("job_ended", Some(1)),
            ("breaker_moved", Some(6)),
            ("attempt_ended", None),
        ];
        assert_eq!(lead(&instant), Some("breaker_moved"));
        assert_eq!(
            lead(&[("step", None), ("task_started", None)]),
            Some("step")
        );
        assert_eq!(lead(&[]), None);
    }

    #[test]
    fn the_shown_file_lights_first_then_the_first_that_emits_it() {
        let source = Source {
            files: vec![
                file(
                    "engine.rs",
                    &[("dropped", 10), ("enqueued", 12), ("dropped", 30)],
                ),
                file("load.rs", &[("started", 5), ("enqueued", 7)]),
            ],
        };
        assert_eq!(lit(&source, 0, "dropped"), Some((0, vec![10, 30])));
        assert_eq!(lit(&source, 1, "enqueued"), Some((1, vec![7])));
        assert_eq!(lit(&source, 0, "started"), Some((1, vec![5])));
        assert_eq!(lit(&source, 0, "reset"), None);
        // An instant: the marked event leads, and its file's lines of
        // every event of the instant light.
        assert_eq!(
            lit_instant(
                &source,
                1,
                &[("started", None), ("dropped", Some(2)), ("enqueued", None)]
            ),
            Some((0, vec![10, 30, 12]))
        );
        assert_eq!(
            lit_instant(&source, 0, &[("started", None), ("reset", None)]),
            Some((1, vec![5]))
        );
    }
}

//! `drop-priority`: when the queue is full, a task of priority 7 or more
//! evicts the lowest-priority queued task; lower ones are dropped. The
//! priorities are drawn on every queued task and the latest eviction is
//! called out: which task left, and which one took its place.

use crate::view::counters::{Counters, Extra};
use super::scene::{OverloadScene, task_chip};
use crate::view::{dynamic, run_memo};
use crate::state::present::latest_eviction;
use leptos::prelude::*;
use shared::DropReason;

#[component]
pub fn DropPriority(run: String) -> impl IntoView {
    // The evicting task is usually still queued (or recently finished), so its
    // kind can be shown too.
    let eviction = run_memo(&run, |s| {
        latest_eviction(s.overload()).map(|record| {
            let by = match record.reason {
                DropReason::Evicted { by, .. } => s.find_task(by).or_else(|| {
                    s.overload()
                        .done
                        .iter()
                        .map(|d| d.task)
                        .find(|t| t.id == by)
                }),
                _ => None,
            };
            (record, by)
        })
    });
    view! {
        <div class="callout" data-tone="drop" role="status">
            <span class="callout-icon" aria-hidden="true">"⇄"</span>
            {dynamic(move || match eviction.get().flatten() {
                Some((record, by)) => {
                    let (by_id, by_priority) = match record.reason {
                        DropReason::Evicted { by, by_priority } => (by, by_priority),
                        _ => (0, 0),
                    };
                    view! {
                        <span class="eviction" data-at=record.at_ms>
                            <strong>"Eviction: "</strong>
                            {task_chip(record.task)}
                            " was pushed out of the full queue by "
                            {match by {
                                Some(task) => task_chip(task).into_any(),
                                None => view! { <strong>"#" {by_id} " (p" {by_priority} ")"</strong> }.into_any(),
                            }}
                            " because priority "
                            {by_priority}
                            " beats "
                            {record.task.priority}
                            "."
                        </span>
                    }
                        .into_any()
                }
                None => {
                    view! {
                        <span>
                            <strong>"No eviction yet. "</strong>
                            "When the queue is full, a task of priority 7 or more pushes out the lowest-priority queued task."
                        </span>
                    }
                        .into_any()
                }
            })}
        </div>
        <OverloadScene run=run.clone() show_priority=true />
        <Counters run extras=vec![Extra::Evicted] />
    }
}

//! `cancel-workers`: a root deadline over a pool of three workers. Each task
//! card shows its own timeout ring and its steps; a task checks for
//! cancellation only between steps, so the gap between "cancel requested"
//! and "noticed" is up to one step long.

use super::tree::{TreeCounters, TreeView};
use leptos::prelude::*;

#[component]
pub fn CancelWorkers(run: String) -> impl IntoView {
    view! {
        <div class="callout" data-tone="wait" role="note">
            <span class="callout-icon" aria-hidden="true">"◷"</span>
            <span>
                <strong>"Timed out"</strong>
                " means the task's own deadline stopped it; "
                <strong>"cancelled"</strong>
                " means the root's deadline (or a click) reached it from above. Either way it only notices between steps."
            </span>
        </div>
        <TreeView run=run.clone() />
        <TreeCounters run />
    }
}

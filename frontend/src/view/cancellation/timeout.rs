//! `timeout`: a caller bounds a slow operation by a deadline. When it gives
//! up, the worker goes on; if it cannot hand over its late result it is
//! stuck for good, a leak, shown in its own colour and counted.

use super::tree::{TreeCounters, TreeView};
use crate::view::{dynamic, run_memo};
use leptos::prelude::*;
use shared::cancellation::NodeState;

#[component]
pub fn Timeout(run: String) -> impl IntoView {
    let parties = run_memo(&run, |s| {
        s.tree().map(|t| {
            let find = |label: &str| {
                t.nodes
                    .values()
                    .find(|n| n.spec.label == label)
                    .map(|n| (n.state(), n.note.clone()))
            };
            (find("caller"), find("operation"))
        })
    });
    view! {
        <div class="callout" data-tone="wait" role="status">
            <span class="callout-icon" aria-hidden="true">"◔"</span>
            {dynamic(move || {
                let Some((caller, op)) = parties.get().flatten() else {
                    return view! { <span>"The caller waits for the operation, but only until its deadline."</span> }.into_any();
                };
                let leaked = op.as_ref().is_some_and(|(s, _)| *s == NodeState::Leaked);
                let line = |who: &'static str, part: Option<(NodeState, Option<String>)>| {
                    part.map(|(state, note)| {
                        view! {
                            <span class="party" data-state=state.as_str()>
                                <strong>{who}</strong>
                                ": "
                                {note.unwrap_or_else(|| crate::state::tree::state_text(state).to_owned())}
                            </span>
                        }
                    })
                };
                view! {
                    <span class="parties" data-leaked=leaked.to_string()>
                        {line("Caller", caller)}
                        {line("Operation", op)}
                    </span>
                }
                .into_any()
            })}
        </div>
        <TreeView run=run.clone() />
        <TreeCounters run />
    }
}

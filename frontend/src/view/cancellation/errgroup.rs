//! `errgroup`: three fetches in one group; the first error cancels the rest
//! and is what waiting on the group returns. The callout shows that return
//! value; each live fetch has a button to make it fail.

use super::tree::{TreeCounters, TreeView};
use crate::view::{dynamic, run_memo};
use leptos::prelude::*;

#[component]
pub fn Errgroup(run: String) -> impl IntoView {
    // The group is the root's first child; its note is what wait returned.
    let returned = run_memo(&run, |s| {
        s.tree().and_then(|t| {
            let group = t.root()?.children.first().and_then(|g| t.node(*g))?;
            Some((group.note.clone(), group.cancelled.is_some()))
        })
    });
    view! {
        <div class="callout" data-tone="drop" role="status">
            <span class="callout-icon" aria-hidden="true">"⎇"</span>
            {dynamic(move || match returned.get().flatten() {
                Some((Some(note), failed)) => view! {
                    <span class="group-result" data-failed=failed.to_string()>
                        <strong>"Wait returned: "</strong>
                        <code>{note.trim_start_matches("wait returned: ").to_owned()}</code>
                    </span>
                }
                .into_any(),
                Some((None, true)) => view! {
                    <span><strong>"A fetch failed: "</strong>"the group is cancelled; wait returns once every fetch has stopped."</span>
                }
                .into_any(),
                _ => view! {
                    <span><strong>"Waiting on the group. "</strong>"Make any live fetch fail: its error cancels the others."</span>
                }
                .into_any(),
            })}
        </div>
        <TreeView run=run.clone() />
        <TreeCounters run />
    }
}

//! `singleflight`: concurrent requests for the same key share one call.
//! The first caller for a key makes the call; the callers who ask for the
//! same key while it is in flight wait on it and get its result, so many
//! callers cost one call. Each call is drawn with its callers under it.

use super::stages::{FlowCounters, FlowView, call_groups_view, flow_of};
use crate::view::{run_memo, text};
use crate::state::flow::{CallGroup, all_call_groups, coalescing_text};
use leptos::prelude::*;

#[component]
pub fn Singleflight(run: String) -> impl IntoView {
    view! {
        <div class="flow-page">
            <Calls run=run.clone() />
            <FlowView run=run.clone() />
            <FlowCounters run />
        </div>
    }
}

/// Every call in flight with the callers waiting on it.
#[component]
fn Calls(run: String) -> impl IntoView {
    let groups = run_memo(&run, |s| {
        flow_of(s).map(all_call_groups).unwrap_or_default()
    });
    let all = move || groups.get().unwrap_or_default();
    view! {
        <section class="flow-panel calls-panel" aria-label="Calls in flight">
            <div class="box-head">
                <h3>"Calls in flight, with the callers waiting on each"</h3>
                <span
                    class="box-note calls-total"
                    data-calls=text(move || all().len().to_string())
                    data-callers=text(move || all().iter().map(CallGroup::callers).sum::<usize>().to_string())
                >
                    {text(move || coalescing_text(&all()))}
                </span>
            </div>
            <p class="calls-empty" hidden=move || !all().is_empty()>
                "No call in flight right now."
            </p>
            <div class="call-groups">
                {call_groups_view(Signal::derive(all))}
            </div>
        </section>
    }
}

//! `supervised`: no fire-and-forget. Every worker runs under a supervisor
//! that catches its panic, reports it, fails the item it had in hand (so
//! the counters lose nothing) and starts a fresh worker in its place.
//! Press "Panic" on a worker to see it happen.

use super::stages::{Decor, FlowCounters, FlowView, flow_of};
use crate::view::{run_memo, text};
use leptos::prelude::*;

#[component]
pub fn Supervised(run: String) -> impl IntoView {
    view! {
        <div class="flow-page">
            <SupervisorLine run=run.clone() />
            <FlowView run=run.clone() decor=Decor::Panic />
            <FlowCounters run />
        </div>
    }
}

/// What the supervisor has caught so far, in one line.
#[component]
fn SupervisorLine(run: String) -> impl IntoView {
    let caught = run_memo(&run, |s| {
        let panics: u64 = flow_of(s)
            .map(|f| {
                f.stages
                    .iter()
                    .flat_map(|st| &st.workers)
                    .map(|w| u64::from(w.panics))
                    .sum()
            })
            .unwrap_or(0);
        (panics, s.counters.failed)
    });
    let panics = move || caught.get().map_or(0, |c| c.0);
    let failed = move || caught.get().map_or(0, |c| c.1);
    view! {
        <section class="callout supervisor" data-tone="drop">
            <span class="callout-icon" aria-hidden="true">"↻"</span>
            <p>
                "Panics caught and workers replaced: "
                <strong data-counter="panics">{text(move || panics().to_string())}</strong>
                " · items failed with them: "
                <strong>{text(move || failed().to_string())}</strong>
                " · every other item still counted. Press "
                <strong>"✗ Panic"</strong>
                " on a worker below."
            </p>
        </section>
    }
}

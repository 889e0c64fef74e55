//! `pipeline`: the seed's log pipeline. Sources make log lines, a filter
//! keeps the levels that matter, a pool of workers enriches them and the
//! outputs write them. Each stage closes its output when its input is
//! done, so a drain empties the flow stage by stage and loses nothing it
//! accepted; Stop instead cancels every stage at once.

use super::stages::{FlowCounters, FlowView, flow_of};
use crate::view::{Ctx, ctx, run_memo, text};
use crate::net;
use leptos::prelude::*;
use shared::{Command, RunStatus};

#[component]
pub fn Pipeline(run: String) -> impl IntoView {
    view! {
        <div class="flow-page">
            <DrainBar run=run.clone() />
            <FlowView run=run.clone() />
            <FlowCounters run />
        </div>
    }
}

/// The "Drain" button, and how it differs from Stop.
#[component]
fn DrainBar(run: String) -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let state = run_memo(&run, |s| {
        (
            s.status == RunStatus::Running,
            flow_of(s).is_some_and(|f| f.draining),
        )
    });
    let running = move || state.get().is_some_and(|(r, _)| r);
    let draining = move || state.get().is_some_and(|(_, d)| d);
    let pending = RwSignal::new(false);
    let drain = move |_| {
        pending.set(true);
        net::send_then(model, run.clone(), vec![Command::Drain], move |_| {
            pending.try_set(false);
        });
    };
    view! {
        <section class="callout flow-drain" data-tone="wait">
            <button
                type="button"
                class="btn btn-primary"
                data-action="drain"
                title="Stop the sources and let everything already accepted flow out"
                disabled=move || pending.get() || !running() || draining()
                on:click=drain
            >
                <span class="btn-icon" aria-hidden="true">"▼"</span>
                <span class="btn-label">
                    {text(move || {
                        match (draining(), running()) {
                            (true, true) => "Draining…",
                            (true, false) => "Drained",
                            (false, _) => "Drain",
                        }
                        .to_owned()
                    })}
                </span>
            </button>
            <p class="flow-drain-text">
                <strong>"Drain"</strong>
                " stops the sources; each stage finishes what it holds, then closes its output, so nothing accepted is lost. "
                <strong>"Stop"</strong>
                " (in the controls) cancels every stage at once: what is still in a buffer or a worker's hands ends as cancelled."
            </p>
        </section>
    }
}

//! `tee` and `or-done`: a tee copies every item of one stream to two
//! consumers, handing each copy over before it reads the next item, so a
//! slow consumer holds both back: the fast one sits idle while the tee
//! waits for a slot at the slow one. Or-done wraps a channel so a reader's
//! loop ends as soon as the run is cancelled.

use super::stages::{FlowCounters, FlowView, flow_of};
use crate::view::{run_memo, text, virtual_now};
use crate::state::flow::{Consumer, consumers, stalls};
use leptos::prelude::*;

#[component]
pub fn Tee(run: String) -> impl IntoView {
    view! {
        <div class="flow-page">
            <TeeBoard run=run.clone() />
            <FlowView run=run.clone() />
            <FlowCounters run />
        </div>
    }
}

/// Both consumers with what each has handled, and the stall when one of
/// them holds the tee back.
#[component]
fn TeeBoard(run: String) -> impl IntoView {
    let now = virtual_now(&run);
    let outs = run_memo(&run, |s| flow_of(s).map(consumers).unwrap_or_default());
    let stall = run_memo(&run, |s| {
        flow_of(s).and_then(|f| stalls(f).into_iter().next())
    });
    let stalled = move || stall.with(|s| s.as_ref().is_some_and(Option::is_some));
    // Only a stall in progress reads the clock.
    let stall_text = move || {
        stall.get().flatten().map_or_else(
            || "Not stalled: every copy found a free slot.".to_owned(),
            |s| s.text(now.get()),
        )
    };
    view! {
        <section class="flow-panel tee-board" aria-label="The tee's consumers">
            <p class="stall" data-stalled=text(move || stalled().to_string()) role="status">
                <span class="stall-glyph" aria-hidden="true">
                    {text(move || if stalled() { "■" } else { "▶" }.to_owned())}
                </span>
                {text(stall_text)}
            </p>
            <div class="consumers">
                <For each=move || outs.get().unwrap_or_default() key=|c| c.stage let:c>
                    <ConsumerCard outs stage=c.stage />
                </For>
            </div>
        </section>
    }
}

#[component]
fn ConsumerCard(outs: Memo<Option<Vec<Consumer>>>, stage: shared::StageId) -> impl IntoView {
    let c = Memo::new(move |_| {
        outs.with(|o| {
            o.as_ref()
                .and_then(|o| o.iter().find(|c| c.stage == stage))
                .cloned()
        })
    });
    let holding = move || c.with(|c| c.as_ref().is_some_and(|c| c.holding_back));
    view! {
        <article class="consumer" data-consumer=stage data-holding-back=text(move || holding().to_string())>
            <h3>{text(move || c.with(|c| c.as_ref().map(|c| c.label.clone()).unwrap_or_default()))}</h3>
            <p class="consumer-about">{text(move || c.with(|c| c.as_ref().and_then(|c| c.about.clone()).unwrap_or_default()))}</p>
            <p class="consumer-done">
                <strong data-consumer-done=stage>
                    {text(move || c.with(|c| c.as_ref().map_or(0, |c| c.done.max(c.delivered))).to_string())}
                </strong>
                " handled"
            </p>
            <p class="consumer-buffer">
                {text(move || {
                    c.with(|c| {
                        c.as_ref()
                            .map(|c| format!("buffer {} / {}", c.buffered, c.capacity))
                            .unwrap_or_default()
                    })
                })}
            </p>
            <p class="consumer-hold" hidden=move || !holding()>
                <span aria-hidden="true">"■ "</span>
                "full: holding the tee back"
            </p>
        </article>
    }
}

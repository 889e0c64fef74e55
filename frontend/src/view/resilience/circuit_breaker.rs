//! `circuit-breaker`: calls to a downstream that sometimes fails pass
//! through a breaker. After enough failures in a row it opens and refuses
//! calls at once; after its reset timeout it lets one trial call through,
//! whose result closes it again or re-opens it. The state diagram is the
//! centre of the page, beside the downstream's "Break it" switch; under
//! them the stream of recent calls, the history strip and the counters.

use super::panels::{Breaker, DownstreamPanel, HistoryStrip, ResilienceCounters};
use crate::view::run_memo;
use crate::state::resilience::{CallToken, RECENT_CALLS, call_tokens};
use leptos::prelude::*;

#[component]
pub fn CircuitBreaker(run: String) -> impl IntoView {
    view! {
        <div class="resilience cb-layout">
            <div class="cb-top">
                <Breaker run=run.clone() />
                <DownstreamPanel run=run.clone() />
            </div>
            <RecentCalls run=run.clone() />
            <HistoryStrip run=run.clone() />
            <ResilienceCounters run />
        </div>
    }
}

/// The latest calls as small tokens, oldest at the left: ✓ succeeded,
/// ✗ failed (with its kind), ⊘ refused at once by the breaker, … still out.
/// Trial calls are ringed and marked; a result that came back after the
/// breaker had moved on is marked "not counted".
#[component]
fn RecentCalls(run: String) -> impl IntoView {
    let tokens = run_memo(&run, |s| {
        s.resilience()
            .map(|r| call_tokens(r, RECENT_CALLS))
            .unwrap_or_default()
    });
    let empty = move || tokens.with(|t| t.as_ref().is_none_or(Vec::is_empty));
    view! {
        <section class="calls" aria-label="Recent calls">
            <div class="box-head">
                <h3>"Recent calls"</h3>
                <span class="legend">
                    <span class="legend-item"><span class="call-glyph" data-result="succeeded">"✓"</span>"ok"</span>
                    <span class="legend-item"><span class="call-glyph" data-result="failed">"✗"</span>"failed"</span>
                    <span class="legend-item"><span class="call-glyph" data-result="rejected">"⊘"</span>"refused at once"</span>
                    <span class="legend-item"><span class="call-glyph" data-result="out">"…"</span>"out"</span>
                    <span class="legend-item"><span class="call-trial-mark">"trial"</span>"trial call"</span>
                </span>
            </div>
            <p class="calls-empty" hidden=move || !empty()>"No calls yet: press Start."</p>
            <ol class="call-list">
                // A call whose result arrives is a new token, so it pops in again.
                <For each=move || tokens.get().unwrap_or_default() key=CallToken::clone let:token>
                    <li
                        class="call"
                        data-job=token.id
                        data-outcome=token.outcome
                        data-result=token.result
                        data-trial=token.trial.to_string()
                        data-counted=(!token.not_counted).to_string()
                        title=token.text()
                    >
                        <span class="call-glyph" data-result=token.result aria-hidden="true">{token.glyph}</span>
                        <span class="call-word">{token.word}</span>
                        {token.trial.then(|| view! { <span class="call-trial-mark">"trial"</span> })}
                        {token.not_counted.then(|| view! { <span class="call-late">"not counted"</span> })}
                    </li>
                </For>
            </ol>
        </section>
    }
}

//! `request-values`: request-scoped values and a deadline travel down a call
//! chain. Beside the tree, the chain is drawn on a time line: each hop where
//! it would run, what it reads from the request, and the deadline as a line
//! that cuts the chain when it is shorter.

use super::tree::{TreeCounters, TreeView};
use crate::view::{dynamic, run_memo, text, virtual_now};
use crate::state::present::duration_text;
use crate::state::tree::{Chain, state_text};
use leptos::prelude::*;

#[component]
pub fn RequestValues(run: String) -> impl IntoView {
    let chain = run_memo(&run, |s| Chain::of(&s.params, s.tree()));
    let now = virtual_now(&run);
    let running = run_memo(&run, |s| s.status == shared::RunStatus::Running);
    view! {
        <section class="chain" aria-label="Call chain">
            {dynamic(move || {
                let Some(chain) = chain.get() else { return ().into_any() };
                let span = chain.span_ms();
                let pct = move |ms: f64| format!("{:.2}%", (ms / span * 100.0).clamp(0.0, 100.0));
                let cut = chain.deadline_ms < chain.total_ms();
                view! {
                    <div class="chain-head">
                        <h3>"Call chain"</h3>
                        <span class="chain-carried">
                            "carried by the request: "
                            {chain
                                .carried
                                .iter()
                                .map(|(k, v)| view! { <code class="value-chip">{format!("{k}={v}")}</code> })
                                .collect_view()}
                        </span>
                    </div>
                    <div class="chain-line">
                        {chain
                            .hops
                            .iter()
                            .map(|hop| {
                                let state = hop.state.map_or("pending", |s| s.as_str());
                                let words = hop.state.map_or("not started", state_text);
                                view! {
                                    <div
                                        class="hop"
                                        data-state=state
                                        style=format!("left: {}; width: {}", pct(hop.start_ms), pct(hop.len_ms))
                                    >
                                        <span class="hop-label">{hop.label}</span>
                                        <span class="hop-time">{duration_text(hop.len_ms)}</span>
                                        <span class="hop-state">{words}</span>
                                    </div>
                                }
                            })
                            .collect_view()}
                        <div
                            class="chain-deadline"
                            data-cuts=cut.to_string()
                            style=format!("left: {}", pct(chain.deadline_ms))
                        >
                            <span>{format!("deadline {}", duration_text(chain.deadline_ms))}</span>
                        </div>
                        <div
                            class="chain-now"
                            hidden=move || !running.get().unwrap_or(false)
                            style=text(move || format!("left: {}", pct(now.get())))
                        ></div>
                    </div>
                    <ul class="chain-reads">
                        {chain
                            .hops
                            .iter()
                            .map(|hop| {
                                let reads = if hop.values.is_empty() {
                                    "reads: (not yet)".to_owned()
                                } else {
                                    let keys: Vec<_> = hop.values.iter().map(|(k, v)| format!("{k}={v}")).collect();
                                    format!("reads {}", keys.join(", "))
                                };
                                view! {
                                    <li>
                                        <strong>{hop.label}</strong>
                                        " "
                                        <span class="chain-read">{reads}</span>
                                        {hop.note.clone().map(|n| view! { <span class="chain-note">{format!(" · {n}")}</span> })}
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                    {chain
                        .outcome
                        .clone()
                        .map(|o| view! { <p class="chain-outcome">"Request: " <strong>{o}</strong></p> })}
                }
                .into_any()
            })}
        </section>
        <TreeView run=run.clone() />
        <TreeCounters run />
    }
}

//! `rate-limit`: two ways to pace work, side by side. In one lane a ticker
//! lets one job through per tick, however many wait; in the other a token
//! bucket lets a burst through at once, up to its size, then only as fast
//! as it refills, and refuses what finds it empty.

use super::stages::{FlowCounters, FlowView, LaneCompare};
use leptos::prelude::*;

#[component]
pub fn RateLimit(run: String) -> impl IntoView {
    view! {
        <div class="flow-page">
            <LaneCompare run=run.clone() limits=true />
            <FlowView run=run.clone() />
            <FlowCounters run />
        </div>
    }
}

//! `basics`: goroutines and channels in two lanes side by side. The same
//! producer and consumer are joined by a different channel in each lane,
//! so the room sees what the channel alone changes: how long a sender
//! waits for its receiver, and how much is in between.

use super::stages::{FlowCounters, FlowView, LaneCompare};
use leptos::prelude::*;

#[component]
pub fn Basics(run: String) -> impl IntoView {
    view! {
        <div class="flow-page">
            <LaneCompare run=run.clone() limits=false />
            <FlowView run=run.clone() />
            <FlowCounters run />
        </div>
    }
}

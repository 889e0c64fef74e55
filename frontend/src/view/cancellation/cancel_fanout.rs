//! `cancel-fanout`: a thousand tasks under one root. Levels too wide to draw
//! side by side are grouped, and the tasks are cells, so one click on the
//! root visibly reaches every one of them.

use super::tree::{TreeCounters, TreeView};
use leptos::prelude::*;

#[component]
pub fn CancelFanout(run: String) -> impl IntoView {
    view! {
        <TreeView run=run.clone() />
        <TreeCounters run />
    }
}

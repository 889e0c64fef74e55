//! `cancel-tree`: scopes inside scopes, each with its deadline. The tree is
//! the whole story: which node was cancelled, by what, and how far down it
//! reached; each service's card counts its ticks.

use super::tree::{TreeCounters, TreeView};
use leptos::prelude::*;

#[component]
pub fn CancelTree(run: String) -> impl IntoView {
    view! {
        <TreeView run=run.clone() />
        <TreeCounters run />
    }
}

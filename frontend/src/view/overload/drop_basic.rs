//! `drop-basic`: a producer faster than its worker, and a non-blocking send
//! that drops the newcomer when the queue is full. The scene and counters are
//! the family's own; nothing extra is needed to tell the story.

use crate::view::counters::Counters;
use super::scene::OverloadScene;
use leptos::prelude::*;

#[component]
pub fn DropBasic(run: String) -> impl IntoView {
    view! {
        <OverloadScene run=run.clone() />
        <Counters run />
    }
}

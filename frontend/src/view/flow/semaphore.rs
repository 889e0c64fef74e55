//! `semaphore`: at most N at a time. Each job takes a permit before it
//! runs and gives it back after; when none is free it waits in line. The
//! permits are drawn as N slots, held or free, with the line beside them.

use super::stages::{FlowCounters, FlowView, chip, flow_of};
use crate::view::{run_memo, text};
use crate::state::flow::{Permit, Permits};
use leptos::prelude::*;
use shared::StageRole;

#[component]
pub fn Semaphore(run: String) -> impl IntoView {
    view! {
        <div class="flow-page">
            <PermitBoard run=run.clone() />
            <FlowView run=run.clone() />
            <FlowCounters run />
        </div>
    }
}

/// The semaphore's permits as slots, and its waiting line.
#[component]
fn PermitBoard(run: String) -> impl IntoView {
    // The gate that holds the permits: the flow's first gate, else the
    // first stage that reports a gauge.
    let permits = run_memo(&run, |s| {
        let f = flow_of(s)?;
        let gate = f
            .stages
            .iter()
            .find(|st| st.spec.role == StageRole::Gate)
            .or_else(|| f.stages.iter().find(|st| st.gauge.is_some()))?;
        Permits::of(f, gate.spec.id)
    });
    let p = move || permits.get().flatten();
    view! {
        <section class="flow-panel permits" aria-label="Permits">
            <div class="box-head">
                <h3>{text(move || p().map_or_else(|| "Permits".to_owned(), |p| format!("Permits of {}", p.label)))}</h3>
                <span class="box-note" data-permits-held=text(move || p().map_or(0, |p| p.held()).to_string())>
                    {text(move || p().map(|p| p.text()).unwrap_or_default())}
                </span>
            </div>
            <div class="permit-row">
                <ol class="permit-slots">
                    <For each=move || keyed(p().map(|p| p.permits).unwrap_or_default()) key=|(k, _, _)| k.clone() let:slot>
                        {permit_view(slot.1, slot.2)}
                    </For>
                </ol>
                <div class="permit-line">
                    <span class="permit-line-label">
                        "waiting for a permit: "
                        <strong data-counter="waiting">{text(move || p().map_or(0, |p| p.waiting.len()).to_string())}</strong>
                    </span>
                    <ol class="chips">
                        <For each=move || p().map(|p| p.waiting).unwrap_or_default() key=|c| c.id let:c>
                            <li class="chip-enter">{chip(&c)}</li>
                        </For>
                    </ol>
                </div>
            </div>
        </section>
    }
}

/// Each permit with a key that changes only when its holder does, so a
/// new holder slides in and the others stay put.
fn keyed(permits: Vec<Permit>) -> Vec<(String, usize, Permit)> {
    permits
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            let key = match &p {
                Permit::Free => format!("{i}:free"),
                Permit::Held(None) => format!("{i}:held"),
                Permit::Held(Some(c)) => format!("{i}:{}", c.id),
            };
            (key, i, p)
        })
        .collect()
}

fn permit_view(i: usize, permit: Permit) -> AnyView {
    match permit {
        Permit::Free => view! {
            <li class="permit" data-permit=i data-held="false">
                <span class="permit-glyph" aria-hidden="true">"○"</span>
                <span class="permit-word">"free"</span>
            </li>
        }
        .into_any(),
        Permit::Held(holder) => view! {
            <li class="permit" data-permit=i data-held="true">
                <span class="permit-glyph" aria-hidden="true">"●"</span>
                {match holder {
                    Some(c) => view! { <span class="chip-enter">{chip(&c)}</span> }.into_any(),
                    None => view! { <span class="permit-word">"held"</span> }.into_any(),
                }}
            </li>
        }
        .into_any(),
    }
}

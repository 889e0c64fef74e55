//! `worker-pool`: a fixed pool of workers reads one job queue. Jobs are
//! submitted into the queue, each idle worker takes the next one, and
//! closing the queue lets the workers finish and stop. Workers can be
//! added or removed while it runs: a removed one finishes its job first.

use super::stages::{FlowCounters, FlowView, chip, flow_of, stages_with};
use crate::view::{run_memo, text, virtual_now};
use crate::state::flow::{WorkerLook, busy_text, done_shares, queued_for, worker_looks};
use leptos::prelude::*;
use shared::StageRole;

#[component]
pub fn WorkerPool(run: String) -> impl IntoView {
    view! {
        <div class="flow-page">
            <PoolBoard run=run.clone() />
            <FlowView run=run.clone() />
            <FlowCounters run />
        </div>
    }
}

/// The pool's workers with their done counts in large type and a bar each
/// (how evenly they share the work), the job each has in progress, and
/// the queue they read.
#[component]
fn PoolBoard(run: String) -> impl IntoView {
    let now = virtual_now(&run);
    let pool = run_memo(&run, |s| {
        let f = flow_of(s)?;
        let id = *stages_with(s, StageRole::Worker).first()?;
        let looks = worker_looks(f, id);
        let shares = done_shares(&looks);
        Some((looks, shares, queued_for(f, id)))
    });
    let count = Memo::new(move |_| {
        pool.with(|p| p.as_ref().and_then(|p| p.as_ref()).map_or(0, |p| p.0.len()))
    });
    let busy = move || {
        pool.with(|p| {
            p.as_ref()
                .and_then(|p| p.as_ref())
                .map(|p| busy_text(&p.0))
                .unwrap_or_default()
        })
    };
    let queued = move || pool.with(|p| p.as_ref().and_then(|p| p.as_ref()).map_or(0, |p| p.2));
    view! {
        <section class="flow-panel pool-board" aria-label="The pool's workers">
            <div class="box-head">
                <h3>"Workers: jobs done and in progress"</h3>
                <span class="box-note">
                    <strong data-counter="busy_workers">{text(busy)}</strong>
                    " · queued: "
                    <strong data-counter="queued">{text(move || queued().to_string())}</strong>
                </span>
            </div>
            <ol class="pool-cards">
                <For each=move || 0..count.get() key=|i| *i let:index>
                    <PoolCard pool index now />
                </For>
            </ol>
        </section>
    }
}

type Pool = Option<Option<(Vec<WorkerLook>, Vec<f64>, usize)>>;

#[component]
fn PoolCard(pool: Memo<Pool>, index: usize, now: Memo<f64>) -> impl IntoView {
    let look = Memo::new(move |_| {
        pool.with(|p| {
            let p = p.as_ref()?.as_ref()?;
            Some((
                p.0.get(index)?.clone(),
                p.1.get(index).copied().unwrap_or(0.0),
            ))
        })
    });
    let item = Memo::new(move |_| look.with(|l| l.as_ref().and_then(|(l, _)| l.item.clone())));
    let words = move || {
        look.with(|l| {
            l.as_ref().map_or_else(String::new, |(l, _)| {
                if l.item.is_some() {
                    l.text(now.get())
                } else {
                    l.text(0.0)
                }
            })
        })
    };
    view! {
        <li class="pool-card" data-pool-worker=index data-state=text(move || look.with(|l| l.as_ref().map_or("idle", |(l, _)| l.key())).to_owned())>
            <span class="pool-card-name">{format!("Worker {}", index + 1)}</span>
            <strong class="pool-card-done" data-done=index>
                {text(move || look.with(|l| l.as_ref().map_or(0, |(l, _)| l.done)).to_string())}
            </strong>
            <span class="pool-card-unit">"done"</span>
            <span class="done-bar" aria-hidden="true">
                <span class="done-fill" style=text(move || format!("transform: scaleX({:.3})", look.with(|l| l.as_ref().map_or(0.0, |(_, s)| *s))))></span>
            </span>
            <span class="pool-card-job">
                {move || match item.get() {
                    Some(c) => view! { <span class="chip-enter">{chip(&c)}</span> }.into_any(),
                    None => view! { <span class="empty-hands">"○ no job"</span> }.into_any(),
                }}
            </span>
            <span class="pool-card-time">{text(words)}</span>
        </li>
    }
}

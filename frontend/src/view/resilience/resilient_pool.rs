//! `resilient-pool`: the seed's seven tasks (reliable, flaky, slow and
//! timeout kinds) go through three workers that share one circuit breaker,
//! under an overall deadline. Each failure is classified: retryable ones
//! are tried again after a backoff, the others give up at once; the
//! breaker protects the downstream for everyone. The workers and the
//! breaker are on top, the tasks' timelines under them, then the rates.

use super::panels::{
    Breaker, DownstreamPanel, HistoryStrip, ResilienceCounters, Rows, Timelines,
};
use crate::view::{dynamic, run_memo, text, virtual_now};
use crate::state::resilience::{Activity, WorkerLook, worker_looks};
use leptos::prelude::*;

#[component]
pub fn ResilientPool(run: String) -> impl IntoView {
    view! {
        <div class="resilience pool-layout">
            <div class="pool-top">
                <PoolWorkers run=run.clone() />
                <div class="pool-breaker">
                    <Breaker run=run.clone() compact=true />
                    <DownstreamPanel run=run.clone() compact=true />
                </div>
            </div>
            <Timelines run=run.clone() rows=Rows::Tasks />
            <HistoryStrip run=run.clone() />
            <ResilienceCounters run />
        </div>
    }
}

/// The pool's workers: the task each has in hand, which attempt, and
/// whether it is calling or backing off.
#[component]
fn PoolWorkers(run: String) -> impl IntoView {
    let looks = run_memo(&run, |s| {
        s.resilience().map(worker_looks).unwrap_or_default()
    });
    let count = Memo::new(move |_| looks.with(|l| l.as_ref().map_or(0, Vec::len)));
    let busy = Memo::new(move |_| {
        looks.with(|l| {
            l.as_ref()
                .map_or(0, |l| l.iter().filter(|w| w.job.is_some()).count())
        })
    });
    view! {
        <section class="pool-workers" aria-label="Workers">
            <div class="box-head">
                <h3>"Workers"</h3>
                <span class="box-note">
                    <strong>{text(move || busy.get().to_string())}</strong>
                    {text(move || format!(" of {} busy", count.get()))}
                </span>
            </div>
            <ol class="pool-worker-list">
                {dynamic(move || {
                    (0..count.get())
                        .map(|i| view! { <PoolWorker run=run.clone() looks index=i /> })
                        .collect_view()
                        .into_any()
                })}
            </ol>
        </section>
    }
}

#[component]
fn PoolWorker(run: String, looks: Memo<Option<Vec<WorkerLook>>>, index: usize) -> impl IntoView {
    let now = virtual_now(&run);
    let look = Memo::new(move |_| looks.with(|l| l.as_ref().and_then(|l| l.get(index)).cloned()));
    let activity = move || look.with(|l| l.as_ref().map_or(Activity::Idle, |l| l.activity));
    view! {
        <li class="pool-worker" data-worker=index data-activity=text(move || activity().key().to_owned())>
            <span class="pool-worker-name">{format!("Worker {}", index + 1)}</span>
            {dynamic(move || {
                let Some(look) = look.get() else { return ().into_any() };
                let Some((id, label, of_max)) = look.job else {
                    return view! { <span class="empty-hand">"idle: no task in hand"</span> }.into_any();
                };
                let act = look.activity;
                // Only a backoff's time left follows the clock.
                let words = text(move || match act {
                    Activity::BackingOff { .. } => act.text(of_max, now.get()),
                    _ => act.text(of_max, 0.0),
                });
                view! {
                    <span class="pool-job" data-worker-job=id>{label}</span>
                    <span class="pool-activity">
                        <span class="pool-activity-glyph" aria-hidden="true">
                            {match act {
                                Activity::Calling { .. } => "→",
                                Activity::BackingOff { .. } => "↻",
                                _ => "●",
                            }}
                        </span>
                        {words}
                    </span>
                }
                .into_any()
            })}
        </li>
    }
}

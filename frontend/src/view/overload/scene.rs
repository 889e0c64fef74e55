//! The overload family's scene: a producer, a bounded queue drawn slot by
//! slot, the workers with their progress, the completed list, and the drop
//! bin that every dropped task visibly flies into.
//!
//! Movement is done by the browser: a chip that changes slot is re-created
//! and slides in with a CSS animation; a drop is a flight element that
//! animates once from where the task was to the bin. Progress bars follow the
//! estimated virtual clock every frame, so they freeze when the run pauses.

use crate::state::present::{duration_text, progress, reason_text, trim_number};
use crate::state::{Flight, Origin};
use crate::view::{Ctx, ctx, dynamic, run_memo, text, virtual_now};
use leptos::prelude::*;
use shared::overload::{DoneRecord, DropRecord};
use shared::{DropReason, Outcome, Task};

/// How many recent drops and completions the lists show.
const LIST_LEN: usize = 4;

/// Slots per row of the queue; a longer queue wraps onto more rows.
const SLOTS_PER_ROW: usize = 10;

/// From this many slots on, a queued task shows only its id and priority.
const DENSE_FROM: usize = 6;

/// How many rows of slots a queue of `cap` takes.
fn rows(cap: usize) -> usize {
    cap.div_ceil(SLOTS_PER_ROW).max(1)
}

/// The scene. `show_priority` makes queued tasks' priorities stand out, for
/// the patterns where priority decides who stays; `blocking` says the
/// producer waits instead of dropping, so an empty bin is the point.
#[component]
pub fn OverloadScene(
    run: String,
    #[prop(optional)] show_priority: bool,
    #[prop(optional)] blocking: bool,
) -> impl IntoView {
    let empty_bin = if blocking {
        "empty by design: a blocking send never drops, the producer waits instead"
    } else {
        "nothing dropped yet"
    };
    view! {
        <div class="scene" id="scene" data-priority=show_priority.to_string()>
            <Producer run=run.clone() />
            <Queue run=run.clone() />
            <Workers run=run.clone() />
            <DropBin run=run.clone() empty=empty_bin />
            <DoneList run=run.clone() />
            <Flights run />
        </div>
    }
}

/// A task as a chip: id, kind and priority, each as text.
pub fn task_chip(task: Task) -> impl IntoView {
    let tier = match task.priority {
        7.. => "high",
        3..=6 => "mid",
        _ => "low",
    };
    view! {
        <span class="task" data-kind=task.kind.as_str() data-task=task.id>
            <span class="task-id">"#" {task.id}</span>
            <span class="task-kind">{task.kind.as_str()}</span>
            <span class="task-prio" data-tier=tier title="priority">
                "p"
                {task.priority}
            </span>
        </span>
    }
}

#[component]
fn Producer(run: String) -> impl IntoView {
    let offering = run_memo(&run, |s| s.overload().offering);
    let blocked_since = run_memo(&run, |s| s.overload().blocked_since_ms);
    let interval = run_memo(&run, |s| s.params.get("interval_ms").copied());
    let now = virtual_now(&run);
    let since = move || blocked_since.get().flatten();
    let state = move || {
        if since().is_some() {
            "blocked"
        } else if offering.get().flatten().is_some() {
            "offering"
        } else {
            "waiting"
        }
    };
    view! {
        <div class="box producer" data-state=text(move || state().to_owned())>
            <div class="box-head box-head-stack">
                <h3>"Producer"</h3>
                <span class="box-note">
                    {text(move || {
                        interval
                            .get()
                            .flatten()
                            .map(|ms| format!("a task every {} ms", trim_number(ms, 0)))
                            .unwrap_or_default()
                    })}
                </span>
            </div>
            <div class="producer-hand" id="scene-producer">
                {dynamic(move || match offering.get().flatten() {
                    Some(task) => task_chip(task).into_any(),
                    None => view! { <span class="empty-hand">"making the next task"</span> }.into_any(),
                })}
            </div>
            // Only the elapsed time changes every frame, not the banner.
            {dynamic(move || {
                if since().is_none() {
                    return ().into_any();
                }
                let waited = move || since().map_or(0.0, |since| now.get() - since as f64);
                view! {
                    <div class="blocked-banner" role="status">
                        <span class="blocked-icon" aria-hidden="true">"❚❚"</span>
                        <span class="blocked-word">"BLOCKED"</span>
                        <span class="blocked-time">"waiting " {text(move || duration_text(waited()))}</span>
                    </div>
                }
                .into_any()
            })}
        </div>
    }
}

#[component]
fn Queue(run: String) -> impl IntoView {
    let queue = run_memo(&run, |s| s.overload().queue.clone());
    let capacity = run_memo(&run, |s| {
        (s.overload().capacity as usize).max(s.overload().queue.len())
    });
    let cap = move || capacity.get().unwrap_or(0);
    let len = move || queue.with(|q| q.as_ref().map_or(0, Vec::len));
    let full = move || cap() > 0 && len() >= cap();
    view! {
        <div class="box queue" data-full=text(move || full().to_string())>
            <div class="box-head">
                <h3>"Queue"</h3>
                <span class="box-note">
                    <strong>{text(move || len().to_string())}</strong>
                    {text(move || {
                        let full = if full() { " · FULL" } else { "" };
                        format!(" of {} slots filled{full}", cap())
                    })}
                </span>
            </div>
            <div
                class="slots"
                data-rows=text(move || rows(cap()).to_string())
                data-dense=text(move || (cap() > DENSE_FROM).to_string())
                style=text(move || format!("--cols: {}", cap().clamp(1, SLOTS_PER_ROW)))
            >
                {dynamic(move || (0..cap()).map(|i| slot(queue, i)).collect_view().into_any())}
            </div>
            <div class="queue-foot" aria-hidden="true">
                <span>"← back: new tasks join"</span>
                <span>"front: next out →"</span>
            </div>
        </div>
    }
}

/// Slot `i` of the queue, 0 being the front (drawn at the right, next to the
/// workers).
fn slot(queue: Memo<Option<Vec<Task>>>, i: usize) -> impl IntoView {
    let task = Memo::new(move |_| queue.with(|q| q.as_ref().and_then(|q| q.get(i).copied())));
    view! {
        <div
            class="slot"
            id=format!("scene-slot-{i}")
            data-index=i
            data-filled=text(move || task.get().is_some().to_string())
        >
            // A new task in the slot is a new element, so its slide-in plays.
            {dynamic(move || task.get().map(task_chip).into_any())}
        </div>
    }
}

#[component]
fn Workers(run: String) -> impl IntoView {
    let count = run_memo(&run, |s| s.overload().workers.len());
    let busy = run_memo(&run, |s| {
        s.overload()
            .workers
            .iter()
            .filter(|w| w.task.is_some())
            .count()
    });
    let count = move || count.get().unwrap_or(0);
    view! {
        <div class="box workers">
            <div class="box-head">
                <h3>"Workers"</h3>
                <span class="box-note">
                    <strong>{text(move || busy.get().unwrap_or(0).to_string())}</strong>
                    {text(move || format!(" of {} busy", count()))}
                </span>
            </div>
            <div class="worker-list" data-count=text(move || count().to_string())>
                {dynamic(move || {
                    (0..count())
                        .map(|i| view! { <WorkerCard run=run.clone() index=i /> })
                        .collect_view()
                        .into_any()
                })}
            </div>
        </div>
    }
}

#[component]
fn WorkerCard(run: String, index: usize) -> impl IntoView {
    let worker = run_memo(&run, move |s| {
        s.overload().workers.get(index).copied().unwrap_or_default()
    });
    let now = virtual_now(&run);
    let task = Memo::new(move |_| worker.get().and_then(|w| w.task));
    let fraction = Memo::new(move |_| worker.get().map_or(0.0, |w| progress(&w, now.get())));
    let percent = move || format!("{:.0}", fraction.get() * 100.0);
    view! {
        <div class="worker" data-busy=text(move || task.get().is_some().to_string())>
            <div class="worker-head">
                <span class="worker-name">"Worker " {index + 1}</span>
                <span class="worker-done">
                    {text(move || format!("{} done", worker.get().map_or(0, |w| w.done)))}
                </span>
            </div>
            <div class="worker-hand">
                {dynamic(move || match task.get() {
                    Some(t) => task_chip(t).into_any(),
                    None => view! { <span class="empty-hand">"idle"</span> }.into_any(),
                })}
            </div>
            <div class="progress" role="progressbar" aria-label=format!("Worker {} progress", index + 1) aria-valuemin="0" aria-valuemax="100" aria-valuenow=text(percent)>
                <div class="progress-fill" style:transform=text(move || format!("scaleX({})", fraction.get()))></div>
                <span class="progress-text">
                    {text(move || if task.get().is_some() { format!("{}%", percent()) } else { String::new() })}
                </span>
            </div>
        </div>
    }
}

#[component]
fn DoneList(run: String) -> impl IntoView {
    let done = run_memo(&run, |s| {
        s.overload()
            .done
            .iter()
            .rev()
            .take(LIST_LEN)
            .copied()
            .collect::<Vec<DoneRecord>>()
    });
    view! {
        <div class="box done">
            <div class="box-head">
                <h3>"Finished"</h3>
            </div>
            <ol class="record-list">
                {dynamic(move || {
                    let records = done.get().unwrap_or_default();
                    if records.is_empty() {
                        return view! { <li class="record-none">"nothing finished yet"</li> }.into_any();
                    }
                    records
                        .into_iter()
                        .map(|r| {
                            let (icon, word, key) = match r.outcome {
                                Outcome::Completed => ("✓", "", "completed"),
                                Outcome::Failed => ("✗", "failed ", "failed"),
                            };
                            view! {
                                <li class="record" data-outcome=key>
                                    <span class="record-icon" aria-hidden="true">{icon}</span>
                                    {task_chip(r.task)}
                                    <span class="record-text" title=format!("worker {}", r.worker + 1)>
                                        {format!("{word}W{}", r.worker + 1)}
                                    </span>
                                </li>
                            }
                        })
                        .collect_view()
                        .into_any()
                })}
            </ol>
        </div>
    }
}

#[component]
fn DropBin(run: String, empty: &'static str) -> impl IntoView {
    let drops = run_memo(&run, |s| {
        s.overload()
            .drops
            .iter()
            .rev()
            .take(LIST_LEN)
            .copied()
            .collect::<Vec<DropRecord>>()
    });
    let dropped = run_memo(&run, |s| s.counters.dropped);
    let by_kind = run_memo(&run, |s| {
        s.overload()
            .drops_by_kind
            .iter()
            .map(|(k, n)| (k.as_str(), *n))
            .collect::<Vec<_>>()
    });
    view! {
        <div class="box bin" id="scene-bin">
            <div class="box-head">
                <h3>
                    <span class="bin-icon" aria-hidden="true"></span>
                    "Drop bin"
                </h3>
                <span class="box-note">
                    <strong>{text(move || dropped.get().unwrap_or(0).to_string())}</strong>
                    " dropped"
                </span>
                <span class="by-kind" role="group" aria-label="Drops by type">
                    {dynamic(move || {
                        by_kind
                            .get()
                            .unwrap_or_default()
                            .into_iter()
                            .map(|(kind, n)| {
                                view! {
                                    <span class="kind-count" data-kind=kind>
                                        <span class="kind-name">{kind}</span>
                                        <span class="kind-n">{n}</span>
                                    </span>
                                }
                            })
                            .collect_view()
                            .into_any()
                    })}
                </span>
            </div>
            <ol class="record-list">
                {dynamic(move || {
                    let records = drops.get().unwrap_or_default();
                    if records.is_empty() {
                        return view! { <li class="record-none">{empty}</li> }.into_any();
                    }
                    records
                        .into_iter()
                        .map(|r| {
                            view! {
                                <li class="record" data-reason=reason_key(&r.reason)>
                                    <span class="record-icon" aria-hidden="true">"↓"</span>
                                    {task_chip(r.task)}
                                    <span class="record-text">{reason_text(&r.reason)}</span>
                                </li>
                            }
                        })
                        .collect_view()
                        .into_any()
                })}
            </ol>
        </div>
    }
}

pub fn reason_key(reason: &DropReason) -> &'static str {
    match reason {
        DropReason::QueueFull => "queue_full",
        DropReason::Policy { .. } => "policy",
        DropReason::Evicted { .. } => "evicted",
    }
}

/// Drops seen since this scene appeared, each flying once into the bin.
#[component]
fn Flights(run: String) -> impl IntoView {
    let Ctx { model, .. } = ctx();
    // Drops from before this page was opened have already flown.
    let after = model.with_untracked(|m| m.last_flight_id());
    let flights = Memo::new(move |_| model.with(|m| m.flights(&run, after)));
    view! {
        <div class="flights" aria-hidden="true">
            <For each=move || flights.get() key=|f| f.id children=flight />
        </div>
    }
}

fn flight(f: Flight) -> impl IntoView {
    let path = flight_path(f.origin);
    path.map(|(x, y, w, dx, dy)| {
        view! {
            <div
                class="flight"
                data-reason=reason_key(&f.record.reason)
                style=format!("left: {x}px; top: {y}px; width: {w}px; --dx: {dx}px; --dy: {dy}px")
            >
                {task_chip(f.record.task)}
                <span class="flight-reason">{reason_text(&f.record.reason)}</span>
            </div>
        }
    })
}

/// Where a flight starts (relative to the scene), its width, and how far it
/// travels to the middle of the drop bin, measured on the page as it is now.
fn flight_path(origin: Origin) -> Option<(f64, f64, f64, f64, f64)> {
    let doc = document();
    let rect = |id: &str| {
        doc.get_element_by_id(id)
            .map(|e| e.get_bounding_client_rect())
    };
    let from_id = match origin {
        Origin::Producer => "scene-producer".to_owned(),
        Origin::Slot(i) => format!("scene-slot-{i}"),
    };
    let (scene, from, bin) = (rect("scene")?, rect(&from_id)?, rect("scene-bin")?);
    let x = from.left() - scene.left();
    let y = from.top() - scene.top();
    let dx = bin.left() + bin.width() / 2.0 - (from.left() + from.width() / 2.0);
    let dy = bin.top() + bin.height() * 0.6 - (from.top() + from.height() / 2.0);
    Some((x, y, from.width(), dx, dy))
}

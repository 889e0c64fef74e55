//! The flow family's shared pieces: the flow itself (stages as cards in a
//! grid by column and row, the channels between them as rows of slots, the
//! items moving through both), the "recently ended" strip, the family's
//! counters, and the lanes that two-lane patterns compare.
//!
//! Every state has a word or a shape besides its colour: a worker says
//! "idle" or holds its item "for 0.4 s", a full channel says "full", a closed one
//! "closed", a blocked sender "waiting for a slot", each end its glyph and
//! why. An item's chip slides in once when it lands in a slot or a
//! worker's hands (the chips are keyed by item, so only the new one
//! moves). Only what moves follows the clock every frame: the time a busy
//! worker has held its item, and a stall's length.

use crate::net;
use crate::state::flow::{
    CallGroup, ChannelLook, Chip, EndLook, Lane, Layout, SHOWN_ENDS, Slot, Split, StageCell,
    StageHead, WorkerLook, busy_text, call_groups, end_glyph, gauge_share, gauge_text, held_at,
    lanes, recent_ends, role_key, role_look, stage_tallies, waiting_line, worker_looks,
};
use crate::view::counters::counter;
use crate::view::{Ctx, ctx, dynamic, run_memo, text};
use leptos::prelude::*;
use shared::{ChannelId, Command, FlowScene, RunSnapshot, StageId};

/// What the flow adds to its workers for a pattern.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Decor {
    #[default]
    Plain,
    /// A "Panic" button on each worker of the pool (`supervised`).
    Panic,
}

/// The most chips a stage's row of held or waiting items shows; the rest
/// are counted.
const MAX_ROW_CHIPS: usize = 10;

/// The gap after a channel slot, in CSS pixels (as `app.css` draws it); a
/// slot's width plus this gap is the stylesheet's `--slot-pitch`, so a
/// channel is as wide as its slots.
const SLOT_GAP_PX: usize = 4;

/// The flow scene of a run, if it is one.
pub fn flow_of(s: &RunSnapshot) -> Option<&FlowScene> {
    s.flow()
}

/// An item's chip: its label on its tag's colour.
pub fn chip(c: &Chip) -> impl IntoView + use<> {
    view! {
        <span class="chip" data-tone=c.tone data-chip=c.id title=c.label.clone()>
            {c.label.clone()}
        </span>
    }
}

// ---------- The flow ----------

/// The whole flow: stages, channels, the items in them, the latest ends.
#[component]
pub fn FlowView(run: String, #[prop(optional)] decor: Decor) -> impl IntoView {
    let layout = run_memo(&run, |s| flow_of(s).map(Layout::of).unwrap_or_default());
    let draining = run_memo(&run, |s| flow_of(s).is_some_and(|f| f.draining));
    let running = run_memo(&run, |s| s.status == shared::RunStatus::Running);
    let now = crate::view::virtual_now(&run);
    let stages = Memo::new(move |_| {
        layout.with(|l| l.as_ref().map(|l| l.stages.clone()).unwrap_or_default())
    });
    let cells = Memo::new(move |_| {
        layout.with(|l| l.as_ref().map(|l| l.cells.clone()).unwrap_or_default())
    });
    let template = move || {
        layout.with(|l| {
            l.as_ref()
                .map(|l| {
                    format!(
                        "grid-template-columns: {}; --slots-per-row: {};",
                        l.template(),
                        l.slots_per_row()
                    )
                })
                .unwrap_or_default()
        })
    };
    let per_row = Memo::new(move |_| layout.with(|l| l.as_ref().map_or(4, Layout::slots_per_row)));
    let empty = move || stages.with(Vec::is_empty);
    let card_run = run.clone();
    let cell_run = run.clone();
    view! {
        <section
            class="flow"
            aria-label="The flow"
            data-draining=text(move || draining.get().unwrap_or(false).to_string())
        >
            <p class="flow-draining" role="status" hidden=move || !draining.get().unwrap_or(false)>
                <span class="flow-draining-glyph" aria-hidden="true">"▼"</span>
                {text(move || {
                    if running.get().unwrap_or(false) {
                        "Draining: the sources stopped taking new items; everything already accepted flows out to the end."
                    } else {
                        "Drained: the sources stopped taking new items, and everything already accepted went on to its end."
                    }
                    .to_owned()
                })}
            </p>
            <p class="flow-empty" hidden=move || !empty()>
                "No stages yet: press Start."
            </p>
            <div class="flow-grid" style=text(template)>
                <For each=move || stages.get() key=|c| *c let:cell>
                    <StageCard run=card_run.clone() cell now decor />
                </For>
                <For each=move || cells.get() key=|c| c.clone() let:cell>
                    <div class="flow-cell" style=Layout::place(cell.column, cell.row)>
                        {cell
                            .channels
                            .iter()
                            .map(|id| view! { <ChannelView run=cell_run.clone() id=*id per_row /> })
                            .collect_view()}
                    </div>
                </For>
            </div>
            <RecentEnds run />
        </section>
    }
}

/// One stage: its title and role, what it is, its gauge, its workers, the
/// items it holds or that wait in its line, and how items ended there.
#[component]
fn StageCard(run: String, cell: StageCell, now: Memo<f64>, decor: Decor) -> impl IntoView {
    let id = cell.stage;
    let stage = move |s: &RunSnapshot| flow_of(s).and_then(|f| f.stage(id)).cloned();
    let head = run_memo(&run, move |s| stage(s).as_ref().map(StageHead::of));
    let head = Memo::new(move |_| head.get().flatten());
    let gauge = run_memo(&run, move |s| stage(s).and_then(|s| s.gauge.clone()));
    let tallies = run_memo(&run, move |s| {
        stage(s).as_ref().map(stage_tallies).unwrap_or_default()
    });
    let workers = run_memo(&run, move |s| {
        flow_of(s).map(|f| worker_looks(f, id)).unwrap_or_default()
    });
    let held = run_memo(&run, move |s| {
        flow_of(s).map(|f| held_at(f, id)).unwrap_or_default()
    });
    let line = run_memo(&run, move |s| {
        flow_of(s).map(|f| waiting_line(f, id)).unwrap_or_default()
    });
    // Only calls that others wait on: a plain worker's item is shown in its hands.
    let shared_calls = run_memo(&run, move |s| {
        flow_of(s)
            .map(|f| call_groups(f, id))
            .unwrap_or_default()
            .into_iter()
            .filter(|g| !g.waiting.is_empty())
            .collect::<Vec<_>>()
    });
    let count = Memo::new(move |_| workers.with(|w| w.as_ref().map_or(0, Vec::len)));
    let role = move || head.with(|h| h.as_ref().map(|h| h.role));
    let stopped = move || head.with(|h| h.as_ref().is_some_and(|h| h.stopped));
    let panics = decor == Decor::Panic;
    view! {
        <article
            class="stage-card"
            data-stage=id
            data-role=text(move || role().map(role_key).unwrap_or_default().to_owned())
            data-stopped=text(move || stopped().to_string())
            style=Layout::place(cell.column, cell.row)
        >
            <header class="stage-head">
                <span class="role-chip">
                    <span class="role-glyph" aria-hidden="true">
                        {text(move || role().map(|r| role_look(r).0).unwrap_or_default().to_owned())}
                    </span>
                    {text(move || role().map(|r| role_look(r).1).unwrap_or_default().to_owned())}
                </span>
                <h3 class="stage-title">
                    {text(move || head.with(|h| h.as_ref().map(|h| h.label.clone()).unwrap_or_default()))}
                </h3>
                <span class="stage-stopped" hidden=move || !stopped()>
                    <span aria-hidden="true">"■ "</span>
                    "stopped"
                </span>
            </header>
            {move || {
                head.with(|h| h.as_ref().and_then(|h| h.about.clone()))
                    .map(|a| view! { <p class="stage-about">{a}</p> })
            }}
            {move || gauge.get().flatten().map(|g| {
                view! {
                    <div class="stage-gauge" data-gauge-value=g.value data-gauge-max=g.max>
                        <span class="stage-gauge-bar" aria-hidden="true">
                            <span class="stage-gauge-fill" style=format!("transform: scaleX({:.3})", gauge_share(&g))></span>
                        </span>
                        <span class="stage-gauge-text">{gauge_text(&g)}</span>
                    </div>
                }
            })}
            <div class="stage-workers" hidden=move || count.get() == 0>
                <span class="stage-busy" hidden=move || count.get() < 2>
                    {text(move || workers.with(|w| w.as_deref().map(busy_text).unwrap_or_default()))}
                </span>
                <ol class="fw-list">
                    <For each=move || 0..count.get() key=|i| *i let:index>
                        <WorkerSlot run=run.clone() workers index now panics />
                    </For>
                </ol>
            </div>
            <ItemRow
                items=Signal::derive(move || held.get().unwrap_or_default())
                class="stage-held"
                label="holding"
            />
            <ItemRow
                items=Signal::derive(move || line.get().unwrap_or_default())
                class="stage-line"
                label="waiting in line"
            />
            <div class="stage-calls" hidden=move || shared_calls.with(|g| g.as_ref().is_none_or(Vec::is_empty))>
                {call_groups_view(Signal::derive(move || shared_calls.get().unwrap_or_default()))}
            </div>
            <ul class="stage-tallies">
                {dynamic(move || {
                    tallies
                        .get()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|t| {
                            view! {
                                <li class="tally" data-tally=t.name>
                                    <span class="tally-glyph" aria-hidden="true">{t.glyph}</span>
                                    <span class="tally-label">{t.label}</span>
                                    <strong class="tally-value" data-stage-counter=format!("{id}:{}", t.name)>
                                        {t.value}
                                    </strong>
                                </li>
                            }
                        })
                        .collect_view()
                        .into_any()
                })}
            </ul>
        </article>
    }
}

/// A labelled row of item chips (held at a stage, waiting in its line),
/// hidden while empty; each chip slides in once.
#[component]
fn ItemRow(items: Signal<Vec<Chip>>, class: &'static str, label: &'static str) -> impl IntoView {
    let shown = move || items.with(|i| i.iter().take(MAX_ROW_CHIPS).cloned().collect::<Vec<_>>());
    let more = move || items.with(|i| i.len().saturating_sub(MAX_ROW_CHIPS));
    view! {
        <div class=format!("item-row {class}") hidden=move || items.with(Vec::is_empty)>
            <span class="item-row-label">
                {label}
                " "
                <strong>{text(move || items.with(Vec::len).to_string())}</strong>
            </span>
            <ol class="chips">
                <For each=shown key=|c| c.id let:c>
                    <li class="chip-enter">{chip(&c)}</li>
                </For>
                <li class="chips-more" hidden=move || more() == 0>
                    {text(move || format!("+ {} more", more()))}
                </li>
            </ol>
        </div>
    }
}

/// Callers that share one call: the call, then those waiting on it, each
/// waiter sliding in once as it joins.
#[component]
pub fn CallGroupView(group: Signal<Option<CallGroup>>) -> impl IntoView {
    let call = Memo::new(move |_| group.with(|g| g.as_ref().map(|g| g.call.clone())));
    view! {
        <div
            class="call-group"
            data-call=text(move || call.with(|c| c.as_ref().map(|c| c.id.to_string()).unwrap_or_default()))
            data-callers=text(move || group.with(|g| g.as_ref().map_or(0, CallGroup::callers)).to_string())
        >
            <span class="call-head">
                <span class="call-glyph" aria-hidden="true">"◆"</span>
                {move || call.get().map(|c| chip(&c))}
                <strong class="call-text">{text(move || group.with(|g| g.as_ref().map(CallGroup::text).unwrap_or_default()))}</strong>
            </span>
            <ol class="chips call-waiters">
                <For each=move || group.with(|g| g.as_ref().map(|g| g.waiting.clone()).unwrap_or_default()) key=|c| c.id let:c>
                    <li class="chip-enter" data-waits-on=move || call.with(|k| k.as_ref().map(|k| k.id))>{chip(&c)}</li>
                </For>
            </ol>
        </div>
    }
}

/// The calls of `groups`, each drawn by [`CallGroupView`] and kept while
/// its call is in flight.
pub fn call_groups_view(groups: Signal<Vec<CallGroup>>) -> impl IntoView {
    let ids = Memo::new(move |_| groups.with(|g| g.iter().map(|g| g.call.id).collect::<Vec<_>>()));
    view! {
        <For each=move || ids.get() key=|id| *id let:id>
            <CallGroupView group=Signal::derive(move || groups.with(|g| g.iter().find(|g| g.call.id == id).cloned())) />
        </For>
    }
}

/// One worker: idle, or the item in its hands with how long it has held
/// it; its done count; a "Panic" button where the pattern has one.
#[component]
fn WorkerSlot(
    run: String,
    workers: Memo<Option<Vec<WorkerLook>>>,
    index: usize,
    now: Memo<f64>,
    panics: bool,
) -> impl IntoView {
    let look = Memo::new(move |_| workers.with(|w| w.as_ref().and_then(|w| w.get(index)).cloned()));
    let item = Memo::new(move |_| look.with(|l| l.as_ref().and_then(|l| l.item.clone())));
    // Only a busy worker reads the clock.
    let words = move || {
        look.with(|l| {
            l.as_ref().map_or_else(String::new, |l| {
                // An empty-handed worker says so in its hands.
                if l.item.is_some() {
                    l.text(now.get())
                } else {
                    String::new()
                }
            })
        })
    };
    let share = move || {
        look.with(|l| {
            l.as_ref().map_or(0.0, |l| {
                if l.item.is_some() {
                    l.held_share(now.get())
                } else {
                    0.0
                }
            })
        })
    };
    view! {
        <li
            class="fw"
            data-worker=index
            data-item=text(move || item.with(|i| i.as_ref().map(|c| c.id.to_string()).unwrap_or_default()))
            data-state=text(move || look.with(|l| l.as_ref().map_or("idle", WorkerLook::key).to_owned()))
        >
            <span class="fw-name">{format!("W{}", index + 1)}</span>
            <span class="fw-hands">
                {dynamic(move || match item.get() {
                    Some(c) => view! { <span class="chip-enter">{chip(&c)}</span> }.into_any(),
                    None => view! {
                        <span class="empty-hands">
                            <span aria-hidden="true">"○ "</span>
                            {text(move || look.with(|l| l.as_ref().map_or("idle", WorkerLook::key)).to_owned())}
                        </span>
                    }
                    .into_any(),
                })}
            </span>
            <span class="fw-time">{text(words)}</span>
            <span class="held-bar" aria-hidden="true">
                <span class="held-fill" style=text(move || format!("transform: scaleX({:.3})", share()))></span>
            </span>
            <span class="fw-done">
                <strong data-worker-done=index>
                    {text(move || look.with(|l| l.as_ref().map_or(0, |l| l.done)).to_string())}
                </strong>
                " done"
            </span>
            {panics.then(|| view! { <PanicButton run=run.clone() look index /> })}
        </li>
    }
}

/// Makes a worker panic with the item in its hands; its supervisor
/// replaces it. The panics so far are counted beside it.
#[component]
fn PanicButton(run: String, look: Memo<Option<WorkerLook>>, index: usize) -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let pending = RwSignal::new(false);
    let panics = move || look.with(|l| l.as_ref().map_or(0, |l| l.panics));
    let press = move |_| {
        pending.set(true);
        let worker = index as u32;
        net::send_then(
            model,
            run.clone(),
            vec![Command::Panic { worker }],
            move |_| {
                pending.try_set(false);
            },
        );
    };
    view! {
        <span class="fw-panics" data-panics=index>
            <span aria-hidden="true">"↻ "</span>
            <strong>{text(move || panics().to_string())}</strong>
            {text(move || if panics() == 1 { " panic" } else { " panics" }.to_owned())}
        </span>
        <button
            type="button"
            class="btn btn-small btn-panic"
            data-action="panic"
            data-worker=index
            title="Make this worker panic with the item in its hands"
            disabled=move || pending.get()
            on:click=press
        >
            <span class="btn-icon" aria-hidden="true">"✗"</span>
            <span class="btn-label">"Panic"</span>
        </button>
    }
}

/// A channel: its buffer as a row of slots that ends in an arrow at the
/// receiver (the next out sits by the arrow), the senders blocked outside
/// it, and whether it is closed.
#[component]
fn ChannelView(run: String, id: ChannelId, per_row: Memo<u32>) -> impl IntoView {
    let look = run_memo(&run, move |s| {
        flow_of(s).and_then(|f| ChannelLook::of(f, id))
    });
    let fixed = move |f: fn(&ChannelLook) -> String| {
        text(move || {
            look.with(|l| {
                l.as_ref()
                    .and_then(|l| l.as_ref())
                    .map(f)
                    .unwrap_or_default()
            })
        })
    };
    let closed = move || {
        look.with(|l| {
            l.as_ref()
                .and_then(|l| l.as_ref())
                .is_some_and(|l| l.closed)
        })
    };
    // Drawn right to left: the arrow, the next out, ..., the free slots.
    let slots = move || {
        look.with(|l| {
            l.as_ref()
                .and_then(|l| l.as_ref())
                .map(|l| l.slots.iter().rev().cloned().collect::<Vec<_>>())
                .unwrap_or_default()
        })
    };
    let blocked = Signal::derive(move || {
        look.with(|l| {
            l.as_ref()
                .and_then(|l| l.as_ref())
                .map(|l| l.blocked.clone())
                .unwrap_or_default()
        })
    });
    view! {
        <div
            class="channel"
            data-channel=id
            data-capacity=fixed(|l| l.capacity.to_string())
            data-closed=text(move || closed().to_string())
            data-full=fixed(|l| (l.capacity > 0 && l.buffered >= l.capacity as usize).to_string())
        >
            <div class="channel-head">
                <span class="channel-label">{fixed(|l| l.label.clone())}</span>
                <span class="channel-fill">{fixed(ChannelLook::fill_text)}</span>
                <span class="channel-closed" hidden=move || !closed()>
                    <span aria-hidden="true">"⊘ "</span>
                    "closed"
                </span>
            </div>
            <div class="channel-line">
                <ol class="ch-slots" style=text(move || {
                    let drawn = look.with(|l| l.as_ref().and_then(|l| l.as_ref()).map_or(1, |l| l.slots.len().max(1)));
                    let columns = drawn.min(per_row.get() as usize);
                    // The slot's pitch is the stylesheet's (narrower on a narrow screen).
                    format!("width: calc({columns} * var(--slot-pitch) - {SLOT_GAP_PX}px);")
                })>
                    <For each=slots key=Slot::key let:slot>
                        {match slot {
                            Slot::Filled(c) => view! {
                                <li class="ch-slot ch-slot-filled" data-slot-item=c.id data-tone=c.tone title=c.label.clone()>
                                    {c.short()}
                                </li>
                            }
                            .into_any(),
                            Slot::Free(_) => view! { <li class="ch-slot ch-slot-free"></li> }.into_any(),
                        }}
                    </For>
                </ol>
                <span class="channel-arrow" aria-hidden="true">
                    {fixed(|l| if l.backwards { "←" } else { "→" }.to_owned())}
                </span>
            </div>
            <div class="ch-blocked" hidden=move || blocked.with(Vec::is_empty)>
                <span class="ch-blocked-text">
                    <span aria-hidden="true">"… "</span>
                    "waiting for a slot:"
                </span>
                <ol class="chips">
                    <For each=move || blocked.get() key=|c| c.id let:c>
                        <li class="chip-enter" data-blocked-item=c.id>{chip(&c)}</li>
                    </For>
                </ol>
            </div>
            {move || {
                look.with(|l| l.as_ref().and_then(|l| l.as_ref()).and_then(ChannelLook::hidden_text))
                    .map(|t| view! { <p class="channel-hidden">{t}</p> })
            }}
            <p class="channel-stats">
                "sent "
                <strong data-channel-sent=id>{fixed(|l| l.sent.to_string())}</strong>
                {move || {
                    look.with(|l| l.as_ref().and_then(|l| l.as_ref()).map_or(0, |l| l.dropped))
                        .gt(&0)
                        .then(|| {
                            view! {
                                <span class="channel-dropped">
                                    " · ↓ dropped "
                                    <strong data-channel-dropped=id>
                                        {fixed(|l| l.dropped.to_string())}
                                    </strong>
                                </span>
                            }
                        })
                }}
            </p>
        </div>
    }
}

/// The last items that ended, newest first, each with how and where.
#[component]
pub fn RecentEnds(run: String) -> impl IntoView {
    let ends = run_memo(&run, |s| {
        flow_of(s)
            .map(|f| recent_ends(f, SHOWN_ENDS))
            .unwrap_or_default()
    });
    let empty = move || ends.with(|e| e.as_ref().is_none_or(Vec::is_empty));
    view! {
        <section class="flow-ends" aria-label="Recently ended">
            <div class="box-head">
                <h3>"Recently ended"</h3>
                <span class="box-note">"newest first"</span>
            </div>
            <p class="flow-ends-empty" hidden=move || !empty()>"Nothing has ended yet."</p>
            <ol class="end-list">
                <For each=move || ends.get().unwrap_or_default() key=EndLook::dom_key let:e>
                    <li class="end" data-end=e.key data-item=e.item.id>
                        <span class="end-glyph" aria-hidden="true">{end_glyph(e.key)}</span>
                        {chip(&e.item)}
                        <span class="end-text">{e.text.clone()}</span>
                        {e.at.clone().map(|at| view! { <span class="end-at">{format!("at {at}")}</span> })}
                    </li>
                </For>
            </ol>
        </section>
    }
}

// ---------- Counters ----------

/// The run's counters: where every item ended up. Delivered and filtered
/// both count as completed; the scene tells them apart.
#[component]
pub fn FlowCounters(run: String) -> impl IntoView {
    let tally = run_memo(&run, |s| s.counters);
    let split = run_memo(&run, |s| flow_of(s).map(Split::of).unwrap_or_default());
    let value = move |f: fn(&shared::Counters) -> u64| {
        text(move || tally.get().map(|c| f(&c)).unwrap_or(0).to_string())
    };
    let of_split =
        move |f: fn(Split) -> u64| text(move || split.get().map(f).unwrap_or(0).to_string());
    view! {
        <section class="counters flow-counters" aria-label="Counters">
            <div class="counter-grid counter-grid-flow">
                {counter("submitted", "Submitted", "", "", value(|c| c.submitted))}
                {counter("in_flight", "In flight", "", "…", value(|c| c.in_flight))}
                {counter("delivered", "Delivered", "good", "✓", of_split(|s| s.delivered))}
                {counter("filtered", "Filtered", "", "▽", of_split(|s| s.filtered))}
                {counter("dropped", "Dropped", "drop", "↓", value(|c| c.dropped))}
                {counter("refused", "Refused", "drop", "⊘", value(|c| c.rejected))}
                {counter("failed", "Failed", "bad", "✗", value(|c| c.failed))}
                {counter("cancelled", "Cancelled", "", "■", value(|c| c.cancelled))}
            </div>
            <div class="counter-strip">
                <span class="mini mini-group">
                    <span class="mini-label">"Completed (delivered + filtered)"</span>
                    <span class="mini-value" data-counter="completed">{value(|c| c.completed)}</span>
                    <span class="mini-label">"Timed out"</span>
                    <span class="mini-value" data-counter="timed_out">{value(|c| c.timed_out)}</span>
                </span>
            </div>
        </section>
    }
}

// ---------- Lanes ----------

/// Two (or more) lanes side by side, each a row of the flow: what it let
/// through against what it refused, its waiting line, its blocked
/// senders, and its gauge drawn as a vessel (a token bucket's tokens).
#[component]
pub fn LaneCompare(
    run: String,
    /// Rate limits: allowed vs refused and the bucket; otherwise what is in
    /// each lane's buffer and how many senders wait.
    limits: bool,
) -> impl IntoView {
    let all = run_memo(&run, |s| flow_of(s).map(lanes).unwrap_or_default());
    let rows = Memo::new(move |_| {
        all.with(|l| {
            l.as_ref()
                .map(|l| l.iter().map(|l| l.row).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    });
    view! {
        <section class="lanes" aria-label="The lanes side by side">
            <For each=move || rows.get() key=|r| *r let:row>
                <LaneCard all row limits />
            </For>
        </section>
    }
}

#[component]
fn LaneCard(all: Memo<Option<Vec<Lane>>>, row: u32, limits: bool) -> impl IntoView {
    let lane = Memo::new(move |_| {
        all.with(|l| {
            l.as_ref()
                .and_then(|l| l.iter().find(|l| l.row == row))
                .cloned()
        })
    });
    let num =
        move |f: fn(&Lane) -> u64| text(move || lane.with(|l| l.as_ref().map_or(0, f)).to_string());
    let number = move |name: &'static str,
                       glyph: &'static str,
                       label: &'static str,
                       tone: &'static str,
                       f: fn(&Lane) -> u64| {
        view! {
            <span class="lane-number" data-tone=tone>
                <span class="lane-number-label"><span aria-hidden="true">{glyph}" "</span>{label}</span>
                <strong data-lane-counter=format!("{row}:{name}")>{num(f)}</strong>
            </span>
        }
    };
    let has_channels =
        Memo::new(move |_| lane.with(|l| l.as_ref().is_some_and(|l| l.channels > 0)));
    let numbers = move || {
        if limits {
            view! {
                {number("allowed", "✓", "allowed", "good", Lane::allowed)}
                {number("refused", "⊘", "refused", "drop", |l| l.refused)}
                {number("waiting", "…", "waiting now", "wait", |l| (l.waiting + l.blocked) as u64)}
            }
            .into_any()
        } else if has_channels.get() {
            view! {
                {number("delivered", "✓", "delivered", "good", |l| l.delivered)}
                {number("buffered", "■", "in the buffer", "", |l| l.buffered as u64)}
                {number("blocked", "…", "senders waiting", "wait", |l| l.blocked as u64)}
            }
            .into_any()
        } else {
            number("delivered", "✓", "delivered", "good", |l| l.delivered).into_any()
        }
    };
    view! {
        <article class="lane" data-lane=row>
            <h3 class="lane-title">{text(move || lane.with(|l| l.as_ref().map(Lane::title).unwrap_or_default()))}</h3>
            {move || lane.with(|l| l.as_ref().and_then(|l| l.about.clone())).map(|a| view! { <p class="lane-about">{a}</p> })}
            <div class="lane-body">
                {move || lane.with(|l| l.as_ref().and_then(|l| l.gauge.clone())).map(|(g, at)| {
                    let share = gauge_share(&g);
                    view! {
                        <div class="vessel" data-gauge-value=g.value data-gauge-max=g.max>
                            <span class="vessel-glass" aria-hidden="true">
                                <span class="vessel-fill" style=format!("transform: scaleY({share:.3})")></span>
                            </span>
                            <span class="vessel-text">
                                <strong>{gauge_text(&g)}</strong>
                                <span class="vessel-at">{at}</span>
                            </span>
                        </div>
                    }
                })}
                <div class="lane-numbers">
                    {numbers}
                    {number("made", "▶", "made", "", |l| l.made)}
                </div>
            </div>
        </article>
    }
}

/// The stage ids of a role, for patterns that single out a part of the
/// flow (the pool, the subscribers, the gate).
pub fn stages_with(s: &RunSnapshot, role: shared::StageRole) -> Vec<StageId> {
    flow_of(s)
        .map(|f| {
            f.stages
                .iter()
                .filter(|st| st.spec.role == role)
                .map(|st| st.spec.id)
                .collect()
        })
        .unwrap_or_default()
}

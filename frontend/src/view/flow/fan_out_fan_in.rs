//! `fan-out-fan-in`: several workers read one channel, so the items spread
//! over them (fan-out), and a merge joins their outputs into one channel
//! (fan-in). Each worker's latest items show which worker took which; the
//! merge shows the streams coming together again.

use super::stages::{FlowCounters, FlowView, chip, flow_of, stages_with};
use crate::view::{ctx, run_memo, text};
use crate::state::flow::{Taken, WorkerLook, done_shares, note_takes, worker_looks};
use leptos::prelude::*;
use shared::StageRole;

/// How many takes the "who took what" board remembers.
const KEEP_TAKES: usize = 60;
/// How many of its latest items each worker's row shows.
const SHOWN_TAKES: usize = 8;

#[component]
pub fn FanOutFanIn(run: String) -> impl IntoView {
    view! {
        <div class="flow-page">
            <WhoTook run=run.clone() />
            <FlowView run=run.clone() />
            <FlowCounters run />
        </div>
    }
}

/// One row per worker: its done count, and the items it was seen to take,
/// newest at the right. Then the merge: how many it joined from how many
/// inputs.
#[component]
fn WhoTook(run: String) -> impl IntoView {
    let model = ctx().model;
    let pools = run_memo(&run, |s| stages_with(s, StageRole::Worker));
    let workers = run_memo(&run, |s| {
        let pools = stages_with(s, StageRole::Worker);
        flow_of(s)
            .map(|f| {
                pools
                    .iter()
                    .flat_map(|p| {
                        let looks = worker_looks(f, *p);
                        let label = f
                            .stage(*p)
                            .map(|s| s.spec.label.clone())
                            .unwrap_or_default();
                        let many = looks.len() > 1;
                        looks.into_iter().map(move |w| {
                            // A stage per worker is named by the stage; a pool's
                            // workers by their number in it.
                            let name = if many {
                                format!("{label} W{}", w.index + 1)
                            } else {
                                label.clone()
                            };
                            (*p, name, w)
                        })
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default()
    });
    // The takes seen so far, kept across updates of the run.
    let run_key = run.clone();
    let takes = Memo::new(move |prev: Option<&Vec<Taken>>| {
        let stages = pools.get().unwrap_or_default();
        model.with(|m| {
            m.run(&run_key)
                .and_then(|s| s.flow())
                .map(|f| note_takes(prev.map_or(&[][..], Vec::as_slice), f, &stages, KEEP_TAKES))
                .unwrap_or_default()
        })
    });
    let merge = run_memo(&run, |s| {
        let f = flow_of(s)?;
        let m = f
            .stages
            .iter()
            .find(|st| st.spec.role == StageRole::Merge)?;
        let inputs = f.channels.iter().filter(|c| c.spec.to == m.spec.id).count();
        let joined: u64 = f
            .channels
            .iter()
            .filter(|c| c.spec.from == m.spec.id)
            .map(|c| c.sent)
            .sum::<u64>()
            .max(m.workers.iter().map(|w| w.done).sum())
            .max(m.ends.delivered);
        Some((m.spec.label.clone(), inputs, joined))
    });
    let rows = Memo::new(move |_| {
        workers.with(|w| {
            w.as_ref()
                .map(|w| w.iter().map(|(s, _, l)| (*s, l.index)).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    });
    view! {
        <section class="flow-panel who-took" aria-label="Which worker took each item">
            <div class="box-head">
                <h3>"Fan-out: which worker took each item"</h3>
                <span class="box-note">"newest at the right"</span>
            </div>
            <ol class="take-rows">
                <For each=move || rows.get() key=|r| *r let:row>
                    <TakeRow workers takes row />
                </For>
            </ol>
            {move || merge.get().flatten().map(|(label, inputs, joined)| {
                view! {
                    <p class="merge-line" data-merged=joined>
                        <span class="merge-glyph" aria-hidden="true">"⇒"</span>
                        <strong>{label}</strong>
                        {format!(": fan-in of {inputs} channels into one · ")}
                        <strong>{joined}</strong>
                        " items merged"
                    </p>
                }
            })}
        </section>
    }
}

#[component]
fn TakeRow(
    workers: Memo<Option<Vec<(shared::StageId, String, WorkerLook)>>>,
    takes: Memo<Vec<Taken>>,
    row: (shared::StageId, u32),
) -> impl IntoView {
    let (stage, index) = row;
    let look = Memo::new(move |_| {
        workers.with(|w| {
            w.as_ref().and_then(|w| {
                // Bars relative to the busiest worker of the whole fan-out.
                let looks: Vec<_> = w.iter().map(|(_, _, l)| l.clone()).collect();
                let shares = done_shares(&looks);
                w.iter()
                    .zip(shares)
                    .find(|((s, _, l), _)| *s == stage && l.index == index)
                    .map(|((_, name, l), share)| (name.clone(), l.clone(), share))
            })
        })
    });
    let mine = Memo::new(move |_| {
        takes.with(|t| {
            let mine: Vec<_> = t
                .iter()
                .filter(|t| t.stage == stage && t.worker == index)
                .cloned()
                .collect();
            let skip = mine.len().saturating_sub(SHOWN_TAKES);
            mine.into_iter().skip(skip).collect::<Vec<_>>()
        })
    });
    view! {
        <li class="take-row" data-take-stage=stage data-take-worker=index>
            <span class="take-name">{text(move || look.with(|l| l.as_ref().map(|(n, _, _)| n.clone()).unwrap_or_default()))}</span>
            <span class="take-done">
                <strong data-worker-total=index>
                    {text(move || look.with(|l| l.as_ref().map_or(0, |(_, l, _)| l.done)).to_string())}
                </strong>
                " done"
            </span>
            <span class="done-bar" aria-hidden="true">
                <span
                    class="done-fill"
                    style=text(move || format!("width: {:.1}%", look.with(|l| l.as_ref().map_or(0.0, |(_, _, s)| *s)) * 100.0))
                ></span>
            </span>
            <ol class="chips take-chips">
                <For each=move || mine.get() key=|t| t.item.id let:t>
                    <li class="chip-enter" data-took=t.item.id>{chip(&t.item)}</li>
                </For>
            </ol>
        </li>
    }
}

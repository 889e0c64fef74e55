//! `graceful-shutdown`: stop accepting, drain what was accepted, clean up,
//! and give up on what is left when the grace period ends. The phases are a
//! row of steps with the current one lit; a button sends the signal.

use super::tree::{TreeCounters, TreeView};
use crate::view::{Ctx, ctx, dynamic, run_memo};
use crate::net;
use crate::state::present::duration_text;
use leptos::prelude::*;
use shared::cancellation::Phase;
use shared::{Command, RunStatus};

const PHASES: [(Phase, &str, &str); 4] = [
    (Phase::Accepting, "Accepting", "new jobs join the queue"),
    (
        Phase::Draining,
        "Draining",
        "no new jobs; the queue is finished",
    ),
    (
        Phase::CleaningUp,
        "Cleaning up",
        "closing the database and cache",
    ),
    (
        Phase::Stopped,
        "Stopped",
        "every job finished or was abandoned",
    ),
];

#[component]
pub fn GracefulShutdown(run: String) -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let phase = run_memo(&run, |s| {
        s.tree().and_then(|t| t.phase.map(|p| (p, t.phase_ms)))
    });
    let running = run_memo(&run, |s| s.status == RunStatus::Running);
    let tally = run_memo(&run, |s| (s.counters.completed, s.counters.cancelled));
    let send = {
        let run = run.clone();
        move |_| net::send(model, run.clone(), vec![Command::Shutdown])
    };
    view! {
        <div class="phases" role="group" aria-label="Shutdown phases">
            {PHASES
                .into_iter()
                .enumerate()
                .map(|(i, (p, name, what))| {
                    let state = move || {
                        let current = phase.get().flatten().map(|(c, _)| c);
                        let at = current.map(|c| PHASES.iter().position(|(x, _, _)| *x == c).unwrap_or(0));
                        match at {
                            Some(a) if a == i => "current",
                            Some(a) if a > i => "done",
                            _ => "ahead",
                        }
                    };
                    view! {
                        <div class="phase" data-phase=p.as_str() data-state=state>
                            <span class="phase-n" aria-hidden="true">{i + 1}</span>
                            <span class="phase-name">{name}</span>
                            <span class="phase-what">{what}</span>
                            {dynamic(move || {
                                phase
                                    .get()
                                    .flatten()
                                    .filter(|(c, _)| *c == p)
                                    .map(|(_, at)| view! { <span class="phase-at">{format!("since {}", duration_text(at as f64))}</span> })
                                    .into_any()
                            })}
                        </div>
                    }
                })
                .collect_view()}
            <button
                type="button"
                class="btn btn-primary shutdown-btn"
                data-action="shutdown"
                disabled=move || {
                    !running.get().unwrap_or(false)
                        || phase.get().flatten().is_some_and(|(p, _)| p != Phase::Accepting)
                }
                on:click=send
            >
                <span class="btn-icon" aria-hidden="true">"■"</span>
                <span class="btn-label">"Send shutdown signal"</span>
            </button>
        </div>
        <p class="phase-tally">
            {move || {
                let (done, abandoned) = tally.get().unwrap_or((0, 0));
                format!("Jobs finished: {done} · abandoned: {abandoned}")
            }}
        </p>
        <TreeView run=run.clone() />
        <TreeCounters run />
    }
}

//! A pattern's page: its title and idea, its live scene and counters, and
//! the controls of its default run.

use super::chrome::NotFound;
use super::classroom::{AskMenu, ForkButton};
use super::code::CodePane;
use super::controls::{Controls, lifecycle_buttons, param_field};
use super::history::SharedScenario;
use super::route::{query_value, route};
use super::session::{follow_speed, session};
use super::timeline::Timeline;
use super::{Ctx, ctx, dynamic, run_memo, scene, text, virtual_now};
use crate::net;
use crate::state::present::{duration_text, speed_text, status_key, status_text};
use leptos::prelude::*;
use shared::PatternId;

/// `/p/<id>`. Re-creates the page when the run changes, so each page
/// starts fresh (its own animations, its own slider state).
#[component]
pub fn PatternRoute(id: String) -> impl IntoView {
    let route = route();
    // `?run=` shows another run of the pattern: a student's own.
    let run = Memo::new(move |_| route.query.with(|q| query_value(q, "run")));
    dynamic(move || match PatternId::parse(&id) {
        Some(pattern) => {
            let run = run.get().unwrap_or_else(|| pattern.as_str().to_owned());
            // `?at=<ms>` opens it scrubbed to that virtual instant.
            let at = route
                .query
                .with_untracked(|q| query_value(q, "at"))
                .and_then(|v| v.parse::<u64>().ok());
            view! { <PatternPage pattern run at /> }.into_any()
        }
        None => view! { <NotFound /> }.into_any(),
    })
}

#[component]
fn PatternPage(pattern: PatternId, run: String, at: Option<u64>) -> impl IntoView {
    let Ctx { model, .. } = ctx();
    if model.with_untracked(|m| m.run(&run).is_none()) {
        net::fetch_run(model, run.clone());
    }
    let info = Memo::new(move |_| crate::view::with_patterns(|m| m.pattern(pattern).cloned()));
    Effect::new(move || {
        let title = info
            .with(|i| i.as_ref().map(|i| i.title.clone()))
            .unwrap_or_else(|| pattern.to_string());
        document().set_title(&format!("{title} · Concurrency, live"));
    });
    let title = move || {
        info.with(|i| i.as_ref().map(|i| i.title.clone()))
            .unwrap_or_else(|| pattern.to_string())
    };
    let summary = move || info.with(|i| i.as_ref().map(|i| i.summary.clone()));
    let try_this = move || info.with(|i| i.as_ref().map(|i| i.try_this.clone()));
    follow_speed(run.clone(), pattern);
    let session = session();
    let bar_run = run.clone();
    // While the timeline shows an earlier instant, the stage says so.
    let rewound = {
        let run = run.clone();
        Memo::new(move |_| model.with(|m| m.scrub().is_some_and(|s| s.run == run)))
    };

    view! {
        <article
            class="pattern"
            data-pattern=pattern.as_str()
            data-code=text(move || session.code_open.get().to_string())
        >
            <div class="pattern-main" data-rewound=text(move || rewound.get().to_string())>
                <header class="pattern-head">
                    <h1>{title}</h1>
                    <div class="pattern-class">
                        <AskMenu pattern run=run.clone() />
                        <ForkButton pattern run=run.clone() />
                    </div>
                    <SharedScenario pattern run=run.clone() />
                    <RunStatus run=run.clone() />
                </header>
                <p class="summary">{summary}</p>
                <div class="stage">{scene(pattern, run.clone())}</div>
                <Timeline pattern run=run.clone() at />
                <CodePane pattern />
                {dynamic(move || {
                    if session.present.get() {
                        view! { <PresenterBar run=bar_run.clone() pattern /> }.into_any()
                    } else {
                        ().into_any()
                    }
                })}
            </div>
            <aside
                class="side"
                id="run-drawer"
                data-drawer-open=text(move || session.drawer_open.get().to_string())
            >
                <section class="try-this" aria-label="Try this">
                    <h2>
                        <span aria-hidden="true">"★ "</span>
                        "Try this"
                    </h2>
                    <p>{try_this}</p>
                </section>
                <Controls run pattern />
            </aside>
        </article>
    }
}

/// Presenter mode's one row of controls: the lifecycle, the pattern's key
/// parameters, and the drawer with everything else.
#[component]
fn PresenterBar(run: String, pattern: PatternId) -> impl IntoView {
    let session = session();
    let keys = Memo::new(move |_| {
        crate::view::with_patterns(|m| {
            let params = m
                .pattern(pattern)
                .map(|p| p.params.clone())
                .unwrap_or_default();
            pattern
                .key_params()
                .iter()
                .filter_map(|name| params.iter().find(|p| p.name == *name).cloned())
                .collect::<Vec<_>>()
        })
    });
    let params_run = run.clone();
    view! {
        <section class="run-bar" id="run-bar" tabindex="-1" aria-label="Run controls">
            {lifecycle_buttons(run, true)}
            <div class="run-bar-params">
                {dynamic(move || {
                    keys.get()
                        .into_iter()
                        .map(|spec| param_field(params_run.clone(), spec, "bar"))
                        .collect_view()
                        .into_any()
                })}
            </div>
            <button
                type="button"
                class="btn"
                data-action="drawer"
                aria-controls="run-drawer"
                aria-expanded=text(move || session.drawer_open.get().to_string())
                on:click=move |_| session.drawer_open.update(|o| *o = !*o)
            >
                <span class="btn-icon" aria-hidden="true">"⚙"</span>
                <span class="btn-label">"All controls"</span>
            </button>
        </section>
    }
}

/// The run's status in words, its virtual time and its speed.
#[component]
fn RunStatus(run: String) -> impl IntoView {
    let state = run_memo(&run, |s| (s.status, s.clock.paused, s.clock.speed));
    let now = virtual_now(&run);
    view! {
        <div class="run-status">
            {dynamic(move || {
                let Some((status, paused, speed)) = state.get() else {
                    return ().into_any();
                };
                let (icon, word) = status_text(status, paused);
                view! {
                    <span class="status-pill" data-status=status_key(status, paused)>
                        <span class="status-icon" aria-hidden="true">{icon}</span>
                        <span class="status-word">{word}</span>
                    </span>
                    <span class="clock-readout">
                        <span class="clock-label">"clock"</span>
                        <span class="clock-time">{text(move || duration_text(now.get()))}</span>
                        <span class="clock-speed">{speed_text(speed)}</span>
                    </span>
                }
                .into_any()
            })}
        </div>
    }
}

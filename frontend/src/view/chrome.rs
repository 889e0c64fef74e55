//! The frame around every page: header with the connection badge, the
//! pattern navigation, the welcome page, and toasts.

use super::route::route;
use super::{Ctx, ctx, dynamic, text};
use crate::state::present::{status_key, status_text};
use crate::state::{Loadable, Model};
use leptos::prelude::*;
use shared::{PatternId, PatternInfo};

/// The header; `nav_open` is the navigation drawer of a narrow screen,
/// which its Patterns button opens and closes.
#[component]
pub fn Header(nav_open: RwSignal<bool>) -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let connection = Memo::new(move |_| model.with(Model::connection));
    let lag = Memo::new(move |_| model.with(Model::lag));
    let here = route();
    view! {
        <header class="topbar">
            <button
                type="button"
                class="btn nav-toggle"
                aria-controls="patterns-nav"
                aria-expanded=move || nav_open.get().to_string()
                on:click=move |_| nav_open.update(|open| *open = !*open)
            >
                <span class="btn-icon" aria-hidden="true">"≡"</span>
                <span class="btn-label">"Patterns"</span>
            </button>
            <a href="/" aria-current=move || here.current("/")>
                <span class="brand">
                    <img class="brand-mark" src="/favicon.svg" alt="" width="40" height="40" />
                    <span class="brand-name">"Concurrency, live"</span>
                </span>
            </a>
            <div class="topbar-right">
                <super::classroom::ClassHeader />
                <super::session::SpeedBadge />
                <super::session::SessionButtons />
                {dynamic(move || {
                    lag.get()
                        .map(|l| {
                            view! {
                                <div class="lag-notice" role="status">
                                    <span class="lag-icon" aria-hidden="true">"⚠"</span>
                                    "Skipped " {l.skipped} " events: redrawn from a fresh snapshot"
                                </div>
                            }
                        })
                        .into_any()
                })}
                <div
                    id="connection"
                    class="connection"
                    data-state=text(move || connection.get().as_str().to_owned())
                    role="status"
                    aria-live="polite"
                >
                    <span class="connection-icon" aria-hidden="true"></span>
                    <span class="connection-text">{text(move || connection.get().label().to_owned())}</span>
                </div>
            </div>
        </header>
    }
}

/// The patterns, grouped by family, each linking to its page. As a drawer
/// (`nav_open`), it closes once a pattern is picked.
#[component]
pub fn Nav(nav_open: RwSignal<bool>) -> impl IntoView {
    let patterns = Memo::new(move |_| {
        crate::view::with_patterns(|m| match m.patterns() {
            Loadable::Ready(_) => Loadable::Ready(m.families()),
            Loadable::Loading => Loadable::Loading,
            Loadable::Failed(e) => Loadable::Failed(e.clone()),
        })
    });
    view! {
        <nav
            class="sidebar"
            id="patterns-nav"
            aria-label="Patterns"
            on:click=move |ev| {
                let on_link = event_target::<web_sys::Element>(&ev).closest("a").ok().flatten().is_some();
                if on_link {
                    nav_open.set(false);
                }
            }
        >
            {dynamic(move || match patterns.get() {
                Loadable::Loading => view! { <p class="nav-note">"Loading patterns…"</p> }.into_any(),
                Loadable::Failed(e) => {
                    view! {
                        <p class="nav-note nav-error" role="alert">
                            "Could not load the patterns. " {e}
                        </p>
                    }
                        .into_any()
                }
                Loadable::Ready(families) => {
                    families
                        .into_iter()
                        .map(|(family, patterns)| {
                            view! {
                                <section class="nav-family">
                                    <h2 title=family.title()>{family.name()}</h2>
                                    <ul>
                                        {patterns
                                            .into_iter()
                                            .map(|info| view! { <li>{nav_link(info)}</li> })
                                            .collect_view()}
                                    </ul>
                                </section>
                            }
                        })
                        .collect_view()
                        .into_any()
                }
            })}
        </nav>
    }
}

fn nav_link(info: PatternInfo) -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let run = info.id.as_str();
    let status = Memo::new(move |_| model.with(|m| m.status(run)));
    let here = route();
    view! {
        <a href=format!("/p/{run}") aria-current=move || here.current(&format!("/p/{run}"))>
            // The status is a glyph beside the title, one line per pattern, so
            // every family fits on one screen; the word is there for readers.
            <span class="nav-link">
                {dynamic(move || {
                    status
                        .get()
                        .map(|(status, paused)| {
                            let (icon, word) = status_text(status, paused);
                            view! {
                                <span class="nav-status" data-status=status_key(status, paused) title=word>
                                    <span aria-hidden="true">{icon}</span>
                                    <span class="sr-only">{word}</span>
                                </span>
                            }
                        })
                        .into_any()
                })}
                <span class="nav-title">{info.title}</span>
            </span>
        </a>
    }
}

/// `/`: what this is, and where to start.
#[component]
pub fn Welcome() -> impl IntoView {
    let families = Memo::new(move |_| crate::view::with_patterns(Model::families));
    Effect::new(|| document().set_title("Concurrency, live"));
    view! {
        <article class="welcome">
            <h1>"Watch concurrency happen"</h1>
            <p class="lead">
                "Every pattern here runs for real on the server: real tasks, real bounded queues, "
                "real cancellation. Pick one, press Start, and slow the clock down to see each step."
            </p>
            {dynamic(move || {
                families
                    .get()
                    .into_iter()
                    .map(|(family, patterns)| {
                        view! {
                            <section class="welcome-family">
                                <h2>{family.title()}</h2>
                                <div class="cards">
                                    {patterns.into_iter().map(welcome_card).collect_view()}
                                </div>
                            </section>
                        }
                    })
                    .collect_view()
                    .into_any()
            })}
        </article>
    }
}

fn welcome_card(info: PatternInfo) -> impl IntoView {
    view! {
        <a href=format!("/p/{}", info.id)>
            <span class="card">
                <span class="card-title">{info.title}</span>
                <span class="card-text">{info.summary}</span>
                <span class="card-go">"Open →"</span>
            </span>
        </a>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    let first = PatternId::ALL[0];
    view! {
        <article class="welcome">
            <h1>"Nothing here"</h1>
            <p class="lead">
                "There is no such page. Pick a pattern on the left, or start with "
                <a href=format!("/p/{first}")>
                    <span class="inline-link">{first.as_str()}</span>
                </a> "."
            </p>
        </article>
    }
}

/// Messages from the server, e.g. why a command was refused.
#[component]
pub fn Toasts() -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let toasts = Memo::new(move |_| model.with(|m| m.toasts().to_vec()));
    view! {
        <div class="toasts" aria-live="assertive">
            <For
                each=move || toasts.get()
                key=|t| t.id
                children=move |toast| {
                    let id = toast.id;
                    view! {
                        <div class="toast" role="alert">
                            <span class="toast-icon" aria-hidden="true">"!"</span>
                            <span class="toast-text">{toast.text}</span>
                            <button
                                class="toast-close"
                                on:click=move |_| model.update(|m| m.dismiss_toast(id))
                            >
                                "Dismiss"
                            </button>
                        </div>
                    }
                }
            />
        </div>
    }
}

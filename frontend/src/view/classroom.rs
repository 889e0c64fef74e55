//! A classroom session on screen. The presenter's header says how many are
//! watching and opens the Join panel (the address and its QR code); the
//! presenter's page reports where it is, and asks the room questions.
//! A student's page follows the presenter until the student unfollows,
//! answers the open question, and forks the pattern on screen into a run of
//! the student's own.
//!
//! Outside a session none of this shows: the server sends no `class`
//! message, and every piece here draws nothing without one.

use super::route::route;
use super::session::session;
use super::{Ctx, ctx, dynamic, text};
use crate::net;
use crate::state::Model;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::classroom::{Answer, Ask, Asked, ClassView, Follow, Role};
use shared::{PatternId, RunSnapshot};

/// Whether this student's page follows the presenter.
#[derive(Debug, Clone, Copy)]
pub struct Following(pub RwSignal<bool>);

impl Following {
    /// Provided once for the app: a student's page follows from the start.
    pub fn provide() {
        provide_context(Following(RwSignal::new(true)));
    }
}

pub fn following() -> Following {
    expect_context::<Following>()
}

fn class_memo<T: PartialEq + Send + Sync + 'static>(
    f: impl Fn(Option<&ClassView>) -> T + Send + Sync + 'static,
) -> Memo<T> {
    let model = ctx().model;
    Memo::new(move |_| model.with(|m| f(m.class())))
}

/// The role of this browser in the session, if there is one.
pub fn role() -> Memo<Option<Role>> {
    class_memo(|c| c.map(|c| c.role))
}

/// Keeps the session and this page in step: the presenter's page says where
/// it is; a student's page that follows goes there.
#[component]
pub fn ClassSync() -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let role = role();
    let location = route();
    let present = session().present;
    // The presenter: every move is reported.
    Effect::new(move || {
        let path = location.path.get();
        let present = present.get();
        if role.get() != Some(Role::Presenter) {
            return;
        }
        let follow = Follow { path, present };
        let Ok(body) = serde_json::to_string(&follow) else {
            return;
        };
        spawn_local(async move {
            net::request_or_toast(model, "POST", "/api/classroom/follow", Some(body)).await;
        });
    });
    // A student who follows: every move of the presenter is followed.
    let follow = class_memo(|c| c.and_then(|c| c.follow.clone()));
    let Following(on) = following();
    Effect::new(move || {
        let (Some(Role::Student), Some(follow), true) = (role.get(), follow.get(), on.get()) else {
            return;
        };
        present.set(follow.present);
        let here = location.path.get_untracked();
        let search = location.query.get_untracked();
        if here != follow.path || search.contains("run=") {
            location.navigate(&follow.path);
        }
    });
}

/// The header's part of the session: "23 watching" and the Join panel for
/// the presenter; following or not for a student.
#[component]
pub fn ClassHeader() -> impl IntoView {
    let role = role();
    let watching = class_memo(|c| c.map_or(0, |c| c.watching));
    let join = class_memo(|c| c.and_then(|c| c.join_url.clone()));
    let open = RwSignal::new(false);
    let Following(on) = following();
    dynamic(move || {
        match role.get() {
        None => ().into_any(),
        Some(Role::Presenter) => view! {
            <span class="watching" role="status" aria-live="polite">
                <strong>{text(move || watching.get().to_string())}</strong>
                " watching"
            </span>
            <button
                type="button"
                class="btn"
                data-action="join"
                aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)
            >
                "Join"
            </button>
            {move || open.get().then(|| view! { <JoinPanel url=join.get().unwrap_or_default() open /> })}
        }
        .into_any(),
        Some(Role::Student) => dynamic(move || {
            if on.get() {
                view! {
                    <span class="following" role="status">
                        "Following the teacher · "
                        <button type="button" class="link-btn" data-action="unfollow" on:click=move |_| on.set(false)>
                            "Unfollow"
                        </button>
                    </span>
                }
                .into_any()
            } else {
                view! {
                    <button type="button" class="btn" data-action="follow" on:click=move |_| on.set(true)>
                        "Back to the class"
                    </button>
                }
                .into_any()
            }
        })
        .into_any(),
    }
    })
}

/// The address students join at, large, with its QR code.
#[component]
fn JoinPanel(url: String, open: RwSignal<bool>) -> impl IntoView {
    view! {
        <div class="join-panel" role="dialog" aria-label="Join the class">
            <p class="join-lead">"Join the class: scan, or type"</p>
            <p class="join-url">{url}</p>
            <img class="join-qr" src="/api/classroom/qr.svg" alt="QR code of the join address" />
            <button type="button" class="btn" on:click=move |_| open.set(false)>"Close"</button>
        </div>
    }
}

/// The open question: choices to answer for a student, the live tally and
/// Reveal for the presenter, the right answer for everyone once revealed.
#[component]
pub fn QuestionCard() -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let role = role();
    let asked = class_memo(|c| c.and_then(|c| c.question.clone()));
    dynamic(move || {
        let Some(q) = asked.get() else {
            return ().into_any();
        };
        let presenter = role.get() == Some(Role::Presenter);
        let revealed = q.answer.is_some();
        let total = q.answered.max(1);
        let choices = q
            .choices
            .iter()
            .enumerate()
            .map(|(i, choice)| {
                let count = q.tally.as_ref().and_then(|t| t.get(i).copied());
                let right = q.answer == Some(i);
                let mine = q.mine == Some(i);
                let share = count.map(|n| f64::from(n) * 100.0 / f64::from(total));
                let id = q.id;
                let pick = move |_| {
                    if presenter || revealed {
                        return;
                    }
                    let answer = Answer { question: id, choice: i };
                    if let Ok(body) = serde_json::to_string(&answer) {
                        spawn_local(async move {
                            net::request_or_toast(model, "POST", "/api/classroom/answer", Some(body))
                                .await;
                        });
                    }
                };
                view! {
                    <li>
                        <button
                            type="button"
                            class="answer"
                            data-choice=i
                            data-mine=mine.to_string()
                            data-right=right.to_string()
                            aria-pressed=mine.to_string()
                            disabled=presenter || revealed
                            on:click=pick
                        >
                            <span class="answer-mark" aria-hidden="true">
                                {if right { "✓" } else if mine { "●" } else { "○" }}
                            </span>
                            <span class="answer-text">{choice.clone()}</span>
                            {count.map(|n| view! {
                                <span class="answer-count">{n}</span>
                                <span class="answer-bar" style=format!("width:{:.0}%", share.unwrap_or(0.0))></span>
                            })}
                        </button>
                    </li>
                }
            })
            .collect_view();
        let footer = footer(model, &q, presenter, revealed);
        view! {
            <section class="question-card" aria-label="Question for the class" data-revealed=revealed.to_string()>
                <h2>{q.text.clone()}</h2>
                <ol class="answers">{choices}</ol>
                {footer}
            </section>
        }
        .into_any()
    })
}

fn footer(model: RwSignal<Model>, q: &Asked, presenter: bool, revealed: bool) -> AnyView {
    let answered = format!("{} answered", q.answered);
    // One request for each of the presenter's buttons.
    let send = move |method: &'static str, url: &'static str| {
        move |_| {
            spawn_local(async move {
                net::request_or_toast(model, method, url, None).await;
            });
        }
    };
    let line = match (presenter, revealed, q.mine.is_some()) {
        (true, _, _) => "",
        (false, true, _) => "The run goes on: watch what happens.",
        (false, false, true) => "Answered: you can change it until the reveal.",
        (false, false, false) => "Pick one: what happens next?",
    };
    view! {
        <footer class="question-foot">
            <span data-answered=q.answered>{answered}</span>
            <span>{line}</span>
            {(presenter && !revealed).then(|| view! {
                <button type="button" class="btn btn-primary" data-action="reveal" on:click=send("POST", "/api/classroom/reveal")>"Reveal"</button>
            })}
            {presenter.then(|| view! {
                <button type="button" class="btn" data-action="close-question" on:click=send("DELETE", "/api/classroom/question")>"Close"</button>
            })}
        </footer>
    }
    .into_any()
}

/// The presenter's questions for the pattern on screen: its prepared ones,
/// asked of the run shown.
#[component]
pub fn AskMenu(pattern: PatternId, run: String) -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let role = role();
    let open = RwSignal::new(false);
    let prepared = Memo::new(move |_| {
        crate::view::with_patterns(|m| {
            m.pattern(pattern)
                .map(|p| p.questions.clone())
                .unwrap_or_default()
        })
    });
    dynamic(move || {
        if role.get() != Some(Role::Presenter) {
            return ().into_any();
        }
        let run = run.clone();
        let items = move || {
            prepared
                .get()
                .into_iter()
                .enumerate()
                .map(|(i, p)| {
                    let run = run.clone();
                    let ask = move |_| {
                        open.set(false);
                        let ask = Ask {
                            run: run.clone(),
                            prepared: Some(i),
                            question: None,
                        };
                        if let Ok(body) = serde_json::to_string(&ask) {
                            spawn_local(async move {
                                net::request_or_toast(
                                    model,
                                    "POST",
                                    "/api/classroom/question",
                                    Some(body),
                                )
                                .await;
                            });
                        }
                    };
                    let at = format!("at {:.1} s", p.at_ms as f64 / 1000.0);
                    view! {
                        <li>
                            <button type="button" class="ask-item" data-prepared=i on:click=ask>
                                <span class="ask-at">{at}</span>
                                <span>{p.question.text}</span>
                            </button>
                        </li>
                    }
                })
                .collect_view()
        };
        view! {
            <div class="ask-menu">
                <button
                    type="button"
                    class="btn"
                    data-action="ask"
                    aria-expanded=move || open.get().to_string()
                    on:click=move |_| open.update(|o| *o = !*o)
                >
                    <span aria-hidden="true">"? "</span>
                    "Ask the room"
                </button>
                {move || open.get().then(|| view! {
                    <div class="ask-list">
                        <ul>{items.clone()}</ul>
                    </div>
                })}
            </div>
        }
        .into_any()
    })
}

/// A student's way to try the pattern without disturbing the class: a
/// run of their own, forked from the shared one.
#[component]
pub fn ForkButton(pattern: PatternId, run: String) -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let role = role();
    let Following(on) = following();
    let here = route();
    let busy = RwSignal::new(false);
    let own = Memo::new({
        let run = run.clone();
        move |_| model.with(|m| m.class().is_some() && m.may_command(&run))
    });
    dynamic(move || {
        if role.get() != Some(Role::Student) {
            return ().into_any();
        }
        if own.get() {
            return view! { <span class="own-run" data-own="true">"Your own run"</span> }
                .into_any();
        }
        let fork = move |_| {
            busy.set(true);
            let body = format!("{{\"pattern\":\"{pattern}\"}}");
            spawn_local(async move {
                let made = net::request_or_toast(model, "POST", "/api/runs", Some(body)).await;
                busy.set(false);
                let Some(snap) = made.and_then(|t| serde_json::from_str::<RunSnapshot>(&t).ok())
                else {
                    return;
                };
                let run = snap.run.clone();
                model.update(|m| {
                    m.own(run.clone());
                    m.adopt_snapshot(snap, net::wall_ms());
                });
                // Trying it out is leaving the class for a while.
                on.set(false);
                here.navigate(&format!("/p/{pattern}?run={run}"));
            });
        };
        view! {
            <button type="button" class="btn btn-primary" data-action="fork" disabled=move || busy.get() on:click=fork>
                <span aria-hidden="true">"+ "</span>
                "Try it yourself"
            </button>
        }
        .into_any()
    })
}

//! The session around every page: the clock speed the browser runs every
//! pattern at, presenter mode, the keyboard shortcuts, and the dialogs they
//! open (the list of shortcuts, the jump to a pattern).
//!
//! The speed and presenter mode are kept in the browser's storage, so they
//! survive navigation and reloads; `?speed=0.5` and `?present` in the URL
//! set them too.

use super::route::route;
use super::{Ctx, ctx, dynamic, text};
use crate::net;
use crate::state::Model;
use crate::state::present::speed_text;
use crate::state::session::{
    SHORTCUTS, Shortcut, TEACHING_PACE, faster, parse_speed, presenter_zoom, real_time_toggle,
    search, slower,
};
use leptos::ev;
use leptos::prelude::*;
use shared::{Command, PatternId, RunStatus};
use wasm_bindgen::JsCast;

const SPEED_KEY: &str = "dashboard.speed";
const PRESENT_KEY: &str = "dashboard.present";
const CODE_KEY: &str = "dashboard.code";
/// How long a speed waits for the next key before it is sent.
const SPEED_SETTLE: std::time::Duration = std::time::Duration::from_millis(120);

/// The session's settings and what is open, shared by every component.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    /// Virtual seconds per real second, for every run this browser shows.
    pub speed: RwSignal<f64>,
    /// The projected layout: the whole scene on one screen, large type.
    pub present: RwSignal<bool>,
    /// The pattern on screen, whose run the shortcuts drive.
    pub on_screen: RwSignal<Option<PatternId>>,
    /// The run shown: the pattern's own, or another run of it (`?run=`).
    pub run_on_screen: RwSignal<Option<String>>,
    pub help_open: RwSignal<bool>,
    pub search_open: RwSignal<bool>,
    /// Presenter mode's drawer with every control of the run.
    pub drawer_open: RwSignal<bool>,
    /// The engine's code beside the scene.
    pub code_open: RwSignal<bool>,
}

pub fn session() -> Session {
    expect_context::<Session>()
}

impl Session {
    /// Reads the settings from the URL, then from storage; writes them back
    /// to storage whenever they change.
    pub fn provide() -> Session {
        let query = window().location().search().unwrap_or_default();
        let from_url = |name: &str| {
            query.trim_start_matches('?').split('&').find_map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (key == name).then(|| value.to_owned())
            })
        };
        let speed = from_url("speed")
            .as_deref()
            .and_then(parse_speed)
            .or_else(|| stored(SPEED_KEY).as_deref().and_then(parse_speed))
            .unwrap_or(TEACHING_PACE);
        let present = match from_url("present").as_deref() {
            Some("0" | "false" | "off") => false,
            Some(_) => true,
            None => stored(PRESENT_KEY).as_deref() == Some("1"),
        };
        let session = Session {
            speed: RwSignal::new(speed),
            present: RwSignal::new(present),
            on_screen: RwSignal::new(None),
            run_on_screen: RwSignal::new(None),
            help_open: RwSignal::new(false),
            search_open: RwSignal::new(false),
            drawer_open: RwSignal::new(false),
            code_open: RwSignal::new(stored(CODE_KEY).as_deref() == Some("1")),
        };
        Effect::new(move || store(CODE_KEY, if session.code_open.get() { "1" } else { "0" }));
        Effect::new(move || store(SPEED_KEY, &session.speed.get().to_string()));
        Effect::new(move || {
            let present = session.present.get();
            store(PRESENT_KEY, if present { "1" } else { "0" });
            if !present {
                session.drawer_open.set(false);
            }
        });
        fit_to_screen(session.present);
        provide_context(session);
        session
    }
}

fn stored(key: &str) -> Option<String> {
    window()
        .local_storage()
        .ok()
        .flatten()?
        .get_item(key)
        .ok()
        .flatten()
}

fn store(key: &str, value: &str) {
    if let Some(storage) = window().local_storage().ok().flatten() {
        // Private windows may refuse; the setting then lasts for the page.
        let _ = storage.set_item(key, value);
    }
}

/// In presenter mode the page is laid out on the design canvas and zoomed
/// to fill the window, whatever its size; `--canvas-w` and `--canvas-h` are
/// the window's size in canvas pixels.
fn fit_to_screen(present: RwSignal<bool>) {
    let size = RwSignal::new(window_size());
    let handle = window_event_listener(ev::resize, move |_| size.set(window_size()));
    on_cleanup(move || handle.remove());
    Effect::new(move || {
        let (width, height) = size.get();
        let root = document().document_element();
        let body = document().body();
        if present.get() {
            let zoom = presenter_zoom(width, height);
            if let Some(root) = &root {
                let _ = root.set_attribute("data-present", "");
            }
            if let Some(body) = &body {
                let _ = body.set_attribute(
                    "style",
                    &format!(
                        "zoom: {zoom}; --canvas-w: {}px; --canvas-h: {}px",
                        width / zoom,
                        height / zoom
                    ),
                );
            }
        } else {
            if let Some(root) = &root {
                let _ = root.remove_attribute("data-present");
            }
            if let Some(body) = &body {
                let _ = body.remove_attribute("style");
            }
        }
    });
}

fn window_size() -> (f64, f64) {
    let w = window();
    let read = |v: Result<wasm_bindgen::JsValue, _>| v.ok().and_then(|v| v.as_f64()).unwrap_or(0.0);
    (read(w.inner_width()), read(w.inner_height()))
}

/// The keyboard shortcuts, for the life of the app. Keys typed into a field
/// belong to the field, and Space on a focused button presses that button.
#[component]
pub fn Shortcuts() -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let session = session();
    let here = route();
    let handle = window_event_listener(ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            if session.help_open.get_untracked()
                || session.search_open.get_untracked()
                || session.drawer_open.get_untracked()
            {
                session.help_open.set(false);
                session.search_open.set(false);
                session.drawer_open.set(false);
                ev.prevent_default();
            }
            return;
        }
        if typing_or_pressing(&ev) {
            return;
        }
        let Some(shortcut) =
            Shortcut::from_key(&ev.key(), ev.ctrl_key() || ev.alt_key() || ev.meta_key())
        else {
            return;
        };
        // With a dialog open, only the dialog's own key works.
        if session.search_open.get_untracked() {
            return;
        }
        if session.help_open.get_untracked() && shortcut != Shortcut::Help {
            return;
        }
        ev.prevent_default();
        let on_screen = session.run_on_screen.get_untracked();
        let run_state = on_screen.as_ref().and_then(|run| {
            model.with_untracked(|m| m.live(run).map(|s| (s.status, s.clock.paused)))
        });
        let send = |commands: Vec<Command>| {
            if let Some(run) = &on_screen {
                net::send(model, run.clone(), commands);
            }
        };
        match shortcut {
            Shortcut::StartPause => match run_state {
                Some((RunStatus::Running, true)) => send(vec![Command::Resume]),
                Some((RunStatus::Running, false)) => send(vec![Command::Pause]),
                Some(_) => send(vec![Command::Start]),
                None => {}
            },
            // On the timeline, `.` and `,` move one event.
            Shortcut::Step if model.with_untracked(|m| m.scrub().is_some()) => {
                model.update(|m| m.scrub_by(1));
            }
            Shortcut::Back => model.update(|m| m.scrub_by(-1)),
            Shortcut::Live => model.update(Model::go_live),
            Shortcut::Step => {
                let step = Command::Step { ms: Some(100) };
                match run_state {
                    Some((RunStatus::Running, true)) => send(vec![step]),
                    Some((RunStatus::Running, false)) => send(vec![Command::Pause, step]),
                    _ => {}
                }
            }
            Shortcut::Restart => send(vec![Command::Restart]),
            Shortcut::Slower => session.speed.update(|s| *s = slower(*s)),
            Shortcut::Faster => session.speed.update(|s| *s = faster(*s)),
            Shortcut::RealTime => session.speed.update(|s| *s = real_time_toggle(*s)),
            Shortcut::Present => session.present.update(|p| *p = !*p),
            Shortcut::Code => session.code_open.update(|o| *o = !*o),
            Shortcut::Help => session.help_open.update(|o| *o = !*o),
            Shortcut::Search => session.search_open.set(true),
        }
    });
    on_cleanup(move || handle.remove());
    view! {
        <HelpDialog />
        <SearchDialog navigate=Callback::new(move |path: String| here.navigate(&path)) />
    }
}

/// Whether a key press belongs to what has the focus: a text field, a
/// slider, or (for Space and Enter) a button or link.
fn typing_or_pressing(ev: &web_sys::KeyboardEvent) -> bool {
    let Some(target) = ev
        .target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return false;
    };
    let tag = target.tag_name().to_ascii_lowercase();
    if matches!(tag.as_str(), "input" | "textarea" | "select")
        || target.has_attribute("contenteditable")
    {
        return true;
    }
    let key = ev.key();
    let activates = key == " " || key == "Enter";
    let pressable = matches!(tag.as_str(), "button" | "a" | "summary")
        || target
            .get_attribute("role")
            .is_some_and(|r| matches!(r.as_str(), "button" | "radio" | "link"));
    activates && pressable
}

/// `node`, which takes the keyboard's focus as soon as it is drawn: a
/// dialog's first control (`autofocus` does not apply to elements added
/// after the page loaded).
fn focus_on_load<E>(node: NodeRef<E>) -> NodeRef<E>
where
    E: leptos::html::ElementType,
    E::Output: JsCast + Clone + 'static,
{
    node.on_load(|el| super::focus(&el.unchecked_into()));
    node
}

/// `?`: every shortcut, in a dialog Esc closes.
#[component]
fn HelpDialog() -> impl IntoView {
    let session = session();
    dynamic(move || {
        if !session.help_open.get() {
            return ().into_any();
        }
        let close = move |_| session.help_open.set(false);
        view! {
            <div class="dialog-backdrop" on:click=close>
                <div
                    class="dialog"
                    role="dialog"
                    aria-modal="true"
                    aria-labelledby="help-title"
                    on:click=|ev| ev.stop_propagation()
                >
                    <h2 id="help-title">"Keyboard shortcuts"</h2>
                    <table class="shortcuts">
                        <tbody>
                            {SHORTCUTS
                                .iter()
                                .map(|(_, keys, what)| {
                                    view! {
                                        <tr>
                                            <th scope="row"><kbd>{*keys}</kbd></th>
                                            <td>{*what}</td>
                                        </tr>
                                    }
                                })
                                .collect_view()}
                            <tr>
                                <th scope="row"><kbd>"Esc"</kbd></th>
                                <td>"close a dialog or the controls drawer"</td>
                            </tr>
                        </tbody>
                    </table>
                    <button
                        type="button"
                        class="btn"
                        data-action="close-help"
                        node_ref=focus_on_load(NodeRef::<leptos::html::Button>::new())
                        on:click=close
                    >
                        "Close"
                    </button>
                </div>
            </div>
        }
        .into_any()
    })
}

/// `/`: type part of a pattern's name, Enter opens the first match.
#[component]
fn SearchDialog(navigate: Callback<String>) -> impl IntoView {
    let session = session();
    let query = RwSignal::new(String::new());
    let matches = Memo::new(move |_| {
        let query = query.get();
        crate::view::with_patterns(|m| {
            let titles: Vec<(PatternId, String)> = m
                .families()
                .into_iter()
                .flat_map(|(_, ps)| ps.into_iter().map(|p| (p.id, p.title)))
                .collect();
            let found = search(titles.iter().map(|(id, t)| (*id, t.as_str())), &query);
            found
                .into_iter()
                .filter_map(|id| titles.iter().find(|(p, _)| *p == id).cloned())
                .collect::<Vec<_>>()
        })
    });
    let go = move |pattern: PatternId| {
        session.search_open.set(false);
        query.set(String::new());
        navigate.run(format!("/p/{pattern}"));
    };
    dynamic(move || {
        if !session.search_open.get() {
            return ().into_any();
        }
        view! {
            <div class="dialog-backdrop" on:click=move |_| session.search_open.set(false)>
                <div
                    class="dialog dialog-search"
                    role="dialog"
                    aria-modal="true"
                    aria-labelledby="search-title"
                    on:click=|ev| ev.stop_propagation()
                >
                    <h2 id="search-title">"Jump to a pattern"</h2>
                    <input
                        type="search"
                        class="search-input"
                        aria-label="Pattern name"
                        node_ref=focus_on_load(NodeRef::<leptos::html::Input>::new())
                        prop:value=move || query.get()
                        on:input=move |ev| query.set(event_target_value(&ev))
                        on:keydown=move |ev| {
                            if ev.key() == "Enter" {
                                if let Some((first, _)) = matches.get_untracked().first() {
                                    go(*first);
                                }
                            } else if ev.key() == "Escape" {
                                session.search_open.set(false);
                            }
                        }
                    />
                    <ul class="search-results">
                        {move || {
                            matches
                                .get()
                                .into_iter()
                                .take(8)
                                .map(|(id, title)| {
                                    view! {
                                        <li>
                                            <button type="button" class="search-hit" on:click=move |_| go(id)>
                                                {title}
                                            </button>
                                        </li>
                                    }
                                })
                                .collect_view()
                        }}
                    </ul>
                </div>
            </div>
        }
        .into_any()
    })
}

/// The header's speed: the session's setting with buttons either side.
#[component]
pub fn SpeedBadge() -> impl IntoView {
    let session = session();
    view! {
        <div class="speed-badge" role="group" aria-label="Clock speed">
            {speed_button(session, "slower", "Slower", "[", "−", slower)}
            <span class="speed-value" data-speed=text(move || session.speed.get().to_string())>
                <span class="speed-label">"Speed "</span>
                {text(move || speed_text(session.speed.get()))}
            </span>
            {speed_button(session, "faster", "Faster", "]", "+", faster)}
        </div>
    }
}

/// One of the speed badge's buttons: one rung of the ladder, as `key` does.
fn speed_button(
    session: Session,
    action: &'static str,
    label: &'static str,
    key: &'static str,
    glyph: &'static str,
    step: fn(f64) -> f64,
) -> impl IntoView {
    view! {
        <button
            type="button"
            class="btn btn-head"
            data-action=action
            title=format!("{label} clock ( {key} )")
            aria-label=label
            on:click=move |_| session.speed.update(|s| *s = step(*s))
        >
            <span aria-hidden="true">{glyph}</span>
        </button>
    }
}

/// The header's presenter-mode switch and the way to the shortcuts.
#[component]
pub fn SessionButtons() -> impl IntoView {
    let session = session();
    view! {
        <button
            type="button"
            class="btn btn-head"
            data-action="present"
            aria-pressed=text(move || session.present.get().to_string())
            title="Presenter mode (P)"
            on:click=move |_| session.present.update(|p| *p = !*p)
        >
            <span class="btn-label">"Present"</span>
        </button>
        <button
            type="button"
            class="btn btn-head"
            data-action="help"
            title="Keyboard shortcuts (?)"
            aria-label="Keyboard shortcuts"
            on:click=move |_| session.help_open.set(true)
        >
            <span aria-hidden="true">"?"</span>
        </button>
    }
}

/// Keeps the run of the pattern on screen at the session's speed: when the
/// page opens (as soon as the run is known) and whenever the speed changes.
pub fn follow_speed(run: String, pattern: PatternId) {
    let Ctx { model, .. } = ctx();
    let session = session();
    session.on_screen.set(Some(pattern));
    session.run_on_screen.set(Some(run.clone()));
    let shown = run.clone();
    on_cleanup(move || {
        if session.on_screen.get_untracked() == Some(pattern) {
            session.on_screen.set(None);
        }
        if session
            .run_on_screen
            .try_get_untracked()
            .flatten()
            .as_deref()
            == Some(shown.as_str())
        {
            session.run_on_screen.set(None);
        }
    });
    let known = Memo::new({
        let run = run.clone();
        move |_| model.with(|m| m.live(&run).is_some())
    });
    // What this page last asked the run for: the run's own reading lags a
    // quick series of key presses, so changes are judged against this.
    let asked = StoredValue::new(None::<f64>);
    Effect::new(move || {
        let speed = session.speed.get();
        // A student's page shows a shared run at the presenter's speed.
        if !known.get() || !model.with(|m| m.may_command(&run)) {
            return;
        }
        let current = asked
            .get_value()
            .or_else(|| model.with_untracked(|m| m.live(&run).map(|s| s.clock.speed)));
        asked.set_value(Some(speed));
        if current.is_some_and(|c| (c - speed).abs() > 1e-9) {
            // Keys pressed in a quick series send only where they end up:
            // requests on separate connections could arrive out of order.
            let run = run.clone();
            set_timeout(
                move || {
                    if asked.try_get_value() == Some(Some(speed)) {
                        net::send(model, run, vec![Command::SetSpeed { speed }]);
                    }
                },
                SPEED_SETTLE,
            );
        }
    });
}

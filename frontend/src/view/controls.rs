//! The run's controls: lifecycle buttons, the clock's speed, and one control
//! per parameter, built from the pattern's `ParamSpec`s: a slider, or for a
//! parameter with a few named options (a switch, a kind) a row of buttons
//! that behaves as a radio group.
//!
//! Sliders send their value on `change` (when released), not on every
//! `input`, so dragging does not restart a run dozens of times; a slider
//! that restarts the run and is moved with the arrow keys applies once the
//! keys rest. The clock's speed is the session's, not the run's.

use super::session::session;
use super::{Ctx, ctx, dynamic, live_memo, text};
use crate::net;
use crate::state::Model;
use crate::state::present::{choice_index, param_hint, param_step, param_text, speed_text};
use crate::state::session::SPEEDS;
use leptos::prelude::*;
use shared::{Command, ParamSpec, Params, PatternId, RunStatus};
use std::time::Duration;
use wasm_bindgen::JsCast;

/// How long a released slider shows its own value while waiting for the
/// server to confirm it (or refuse it, in which case the server's value returns).
const CONFIRM_WAIT: Duration = Duration::from_millis(1500);

/// How long a restarting slider moved with the keyboard waits for the
/// next key before it applies.
const KEYS_SETTLE: Duration = Duration::from_millis(900);

/// The virtual milliseconds one press of Step advances.
const STEP_MS: u64 = 100;

#[component]
pub fn Controls(run: String, pattern: PatternId) -> impl IntoView {
    let specs = Memo::new(move |_| {
        crate::view::with_patterns(|m| {
            m.pattern(pattern)
                .map(|p| p.params.clone())
                .unwrap_or_default()
        })
    });

    view! {
        <section class="controls" id="controls" tabindex="-1" aria-label="Controls">
            {lifecycle_buttons(run.clone(), false)}
            <SpeedSlider />
            <h2 class="params-title">"Parameters"</h2>
            <div class="params">
                {dynamic(move || {
                    specs
                        .get()
                        .into_iter()
                        .map(|spec| param_field(run.clone(), spec, "param"))
                        .collect_view()
                        .into_any()
                })}
            </div>
            <p class="params-legend">
                <span class="restarts" aria-hidden="true">"↻"</span>
                " marks a setting that restarts the run when changed"
            </p>
        </section>
    }
}

/// One parameter's control: a slider, or a row of options. `place` keeps
/// element ids apart when the same parameter shows twice (the presenter
/// bar and its drawer).
pub fn param_field(run: String, spec: ParamSpec, place: &'static str) -> AnyView {
    if spec.choices.is_empty() {
        view! { <ParamSlider run spec place /> }.into_any()
    } else {
        view! { <ParamChoice run spec place /> }.into_any()
    }
}

/// The run's lifecycle buttons. `compact` is the presenter bar's set:
/// start / pause / resume, step, restart and reset.
pub fn lifecycle_buttons(run: String, compact: bool) -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let state = live_memo(&run, |s| (s.status, s.clock.paused));
    let running = move || state.get().is_some_and(|(s, _)| s == RunStatus::Running);
    let paused = move || state.get().is_some_and(|(_, p)| p);
    let never = Signal::stored(false);
    let button = |action: Action, disabled: Signal<bool>, hidden: Signal<bool>| {
        action_button(model, run.clone(), state, action, disabled, hidden)
    };
    // The bar has room for one of start and pause: whichever applies.
    let start_hidden = if compact {
        Signal::derive(running)
    } else {
        never
    };
    let pause_hidden = if compact {
        Signal::derive(move || !running() || paused())
    } else {
        Signal::derive(paused)
    };
    let stop_hidden = Signal::stored(compact);

    view! {
        <div class="buttons">
            {button(
                Action {
                    name: "start",
                    icon: "▶",
                    label: "Start",
                    title: "Start the run (Space)",
                    primary: true,
                    commands: |_| vec![Command::Start],
                },
                Signal::derive(running),
                start_hidden,
            )}
            {button(
                Action {
                    name: "pause",
                    icon: "❚❚",
                    label: "Pause",
                    title: "Freeze the run's clock (Space)",
                    primary: false,
                    commands: |_| vec![Command::Pause],
                },
                never,
                pause_hidden,
            )}
            {button(
                Action {
                    name: "resume",
                    icon: "▶",
                    label: "Resume",
                    title: "Let the run's clock go on (Space)",
                    primary: true,
                    commands: |_| vec![Command::Resume],
                },
                never,
                Signal::derive(move || !paused()),
            )}
            // Stepping only makes sense on a frozen clock, so it pauses first.
            {button(
                Action {
                    name: "step",
                    icon: "⇥",
                    label: "Step",
                    title: "Advance the paused clock by 100 ms (.)",
                    primary: false,
                    commands: |paused| {
                        let step = Command::Step { ms: Some(STEP_MS) };
                        if paused { vec![step] } else { vec![Command::Pause, step] }
                    },
                },
                Signal::derive(move || !running()),
                never,
            )}
            {button(
                Action {
                    name: "stop",
                    icon: "■",
                    label: "Stop",
                    title: "Cancel the run; tasks in flight end as cancelled",
                    primary: false,
                    commands: |_| vec![Command::Stop],
                },
                Signal::derive(move || !running()),
                stop_hidden,
            )}
            {button(
                Action {
                    name: "restart",
                    icon: "↻",
                    label: "Restart",
                    title: "Start over with these parameters (R)",
                    primary: false,
                    commands: |_| vec![Command::Restart],
                },
                never,
                never,
            )}
            {button(
                Action {
                    name: "reset",
                    icon: "⟲",
                    label: "Reset",
                    title: "Back to the preset parameters, ready to start",
                    primary: false,
                    commands: |_| vec![Command::Reset],
                },
                never,
                never,
            )}
        </div>
    }
}

/// A lifecycle button: what it is called and what it sends. `commands` is
/// given whether the run is paused now.
#[derive(Debug, Clone, Copy)]
struct Action {
    name: &'static str,
    icon: &'static str,
    label: &'static str,
    title: &'static str,
    primary: bool,
    commands: fn(bool) -> Vec<Command>,
}

fn action_button(
    model: RwSignal<Model>,
    run: String,
    state: Memo<Option<(RunStatus, bool)>>,
    action: Action,
    disabled: Signal<bool>,
    hidden: Signal<bool>,
) -> impl IntoView {
    view! {
        <button
            type="button"
            class=if action.primary { "btn btn-primary" } else { "btn" }
            data-action=action.name
            title=action.title
            disabled=disabled
            hidden=hidden
            on:click=move |_| {
                let paused = state.get_untracked().is_some_and(|(_, p)| p);
                net::send(model, run.clone(), (action.commands)(paused));
            }
        >
            <span class="btn-icon" aria-hidden="true">{action.icon}</span>
            <span class="btn-label">{action.label}</span>
        </button>
    }
}

/// The session's clock speed, one rung of the ladder per step, so the
/// arrow keys move it as the mouse does. It applies to every pattern.
#[component]
fn SpeedSlider() -> impl IntoView {
    let session = session();
    let rung = move || {
        let speed = session.speed.get();
        SPEEDS
            .iter()
            .position(|s| *s >= speed - 1e-9)
            .unwrap_or(SPEEDS.len() - 1)
    };
    view! {
        <div class="field field-speed">
            <label for="speed">
                <span class="field-label">"Clock speed"</span>
                <output class="field-value">{text(move || speed_text(session.speed.get()))}</output>
            </label>
            <input
                id="speed"
                type="range"
                data-control="speed"
                min="0"
                max=(SPEEDS.len() - 1).to_string()
                step="1"
                prop:value=text(move || rung().to_string())
                aria-valuetext=text(move || speed_text(session.speed.get()))
                on:input=move |ev| {
                    if let Some(speed) = event_target_value(&ev)
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| SPEEDS.get(i))
                    {
                        session.speed.set(*speed);
                    }
                }
            />
            <div class="scale" aria-hidden="true">
                <span>"0.1× teaching pace"</span>
                <span>"1×"</span>
                <span>"10×"</span>
            </div>
        </div>
    }
}

/// One slider for one parameter.
#[component]
fn ParamSlider(run: String, spec: ParamSpec, place: &'static str) -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let name = spec.name.clone();
    let (pending, shown) = param_value(&run, &spec);
    let id = format!("{place}-{name}");
    let text_spec = spec.clone();
    let hint_spec = spec.clone();
    let integer = spec.integer;
    let live = spec.live;
    let apply = Callback::new(move |mut v: f64| {
        if integer {
            v = v.round();
        }
        commit(pending, v);
        let params = Params::from([(name.clone(), v)]);
        let command = vec![Command::SetParams { params }];
        net::send_then(model, run.clone(), command, move |ok| refused(pending, ok));
    });
    // A restarting slider moved with the keyboard applies once the keys
    // rest (or on Enter, or when the focus leaves), not on every press.
    let keyed = StoredValue::new(false);
    let typed = StoredValue::new(None::<f64>);
    let generation = StoredValue::new(0u64);
    let settle = move || {
        if let Some(v) = typed.get_value() {
            typed.set_value(None);
            apply.run(v);
        }
    };
    view! {
        <div class="field" data-live=spec.live.to_string()>
            <label for=id.clone()>
                <span class="field-label">
                    {label_text(&spec)}
                </span>
                <output class="field-value">{text(move || param_text(&text_spec, shown()))}</output>
            </label>
            <input
                id=id
                type="range"
                data-param=spec.name.clone()
                min=spec.min.to_string()
                max=spec.max.to_string()
                step=param_step(&spec).to_string()
                prop:value=text(move || shown().to_string())
                on:pointerdown=move |_| keyed.set_value(false)
                on:keydown=move |ev| match ev.key().as_str() {
                    "Enter" => settle(),
                    key if key.starts_with("Arrow") || key.starts_with("Page") || key == "Home" || key == "End" => {
                        keyed.set_value(true)
                    }
                    _ => {}
                }
                on:blur=move |_| settle()
                on:input=move |ev| {
                    if let Ok(v) = event_target_value(&ev).parse::<f64>() {
                        pending.set(Some(v));
                    }
                }
                on:change=move |ev| {
                    let Ok(v) = event_target_value(&ev).parse::<f64>() else {
                        return;
                    };
                    if live || !keyed.get_value() {
                        apply.run(v);
                        return;
                    }
                    pending.set(Some(v));
                    typed.set_value(Some(v));
                    let mine = generation.get_value() + 1;
                    generation.set_value(mine);
                    set_timeout(
                        move || {
                            if generation.try_get_value() == Some(mine) {
                                settle();
                            }
                        },
                        KEYS_SETTLE,
                    );
                }
            />
            {dynamic(move || {
                param_hint(&hint_spec, shown()).map(|hint| view! { <div class="field-hint">{hint}</div> }).into_any()
            })}
        </div>
    }
}

/// A parameter with named options: one button per option, as a radio
/// group (arrow keys move the choice, Tab leaves the group). A click sends
/// the option's index at once.
#[component]
fn ParamChoice(run: String, spec: ParamSpec, place: &'static str) -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let name = spec.name.clone();
    let (pending, shown) = param_value(&run, &spec);
    let picked = {
        let spec = spec.clone();
        Memo::new(move |_| choice_index(&spec, shown()))
    };
    let pick = {
        let name = name.clone();
        Callback::new(move |index: usize| {
            let value = index as f64;
            commit(pending, value);
            let params = Params::from([(name.clone(), value)]);
            let command = vec![Command::SetParams { params }];
            net::send_then(model, run.clone(), command, move |ok| refused(pending, ok));
        })
    };
    let count = spec.choices.len();
    let label_id = format!("{place}-{name}");
    let text_spec = spec.clone();
    view! {
        <div class="field field-choice" data-live=spec.live.to_string()>
            <div class="field-head">
                <span class="field-label" id=label_id.clone()>
                    {label_text(&spec)}
                </span>
                <output class="field-value">{text(move || param_text(&text_spec, shown()))}</output>
            </div>
            <div class="choices" role="radiogroup" aria-labelledby=label_id data-param=name>
                {spec
                    .choices
                    .iter()
                    .enumerate()
                    .map(|(i, option)| {
                        let checked = move || picked.get() == Some(i);
                        // One option is reachable with Tab: the picked one, or the first.
                        let reachable = move || checked() || (i == 0 && picked.get().is_none());
                        view! {
                            <button
                                type="button"
                                class="choice"
                                role="radio"
                                data-choice=i
                                aria-checked=text(move || checked().to_string())
                                tabindex=text(move || if reachable() { "0" } else { "-1" }.to_owned())
                                on:click=move |_| pick.run(i)
                                on:keydown=move |ev| {
                                    let step = match ev.key().as_str() {
                                        "ArrowRight" | "ArrowDown" => 1,
                                        "ArrowLeft" | "ArrowUp" => count - 1,
                                        _ => return,
                                    };
                                    ev.prevent_default();
                                    let next = (i + step) % count;
                                    pick.run(next);
                                    focus_sibling(&ev, i, next);
                                }
                            >
                                {option.clone()}
                            </button>
                        }
                    })
                    .collect_view()}
            </div>
        </div>
    }
}

/// Moves the keyboard focus from option `from` of a choice group to
/// option `to`.
fn focus_sibling(ev: &web_sys::KeyboardEvent, from: usize, to: usize) {
    let Some(mut el) = ev
        .current_target()
        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
    else {
        return;
    };
    if to < from {
        for _ in to..from {
            match el.previous_element_sibling() {
                Some(prev) => el = prev,
                None => return,
            }
        }
    } else {
        for _ in from..to {
            match el.next_element_sibling() {
                Some(next) => el = next,
                None => return,
            }
        }
    }
    super::focus(&el);
}

/// A parameter's field: the value a viewer has just set while the server
/// has not confirmed it (`pending`), and what the field shows (that, or the
/// server's value, or the preset).
fn param_value(
    run: &str,
    spec: &ParamSpec,
) -> (
    RwSignal<Option<f64>>,
    impl Fn() -> f64 + Copy + Send + Sync + use<>,
) {
    let name = spec.name.clone();
    let server = live_memo(run, move |s| s.params.get(&name).copied());
    let pending = pending_value(server);
    let default = spec.default;
    let shown = move || pending.get().or(server.get().flatten()).unwrap_or(default);
    (pending, shown)
}

/// A slider's own value while it is being dragged or was just released,
/// dropped as soon as the server's value changes.
fn pending_value<T>(server: Memo<Option<T>>) -> RwSignal<Option<f64>>
where
    T: PartialEq + Send + Sync + 'static,
{
    let pending = RwSignal::new(None);
    Effect::new(move |prev: Option<()>| {
        server.track();
        // The first run only subscribes; later runs mean the server moved.
        if prev.is_some() {
            pending.set(None);
        }
    });
    pending
}

/// A refused value goes at once: the slider shows the server's value again.
fn refused(pending: RwSignal<Option<f64>>, accepted: bool) {
    if !accepted {
        pending.try_set(None);
    }
}

/// Keeps a released slider's value on screen until the server confirms it,
/// or for a short while if it never does.
fn commit(pending: RwSignal<Option<f64>>, value: f64) {
    pending.set(Some(value));
    set_timeout(
        move || {
            // The slider may be gone by now (another page): then nothing to do.
            if pending.try_get_untracked() == Some(Some(value)) {
                pending.try_set(None);
            }
        },
        CONFIRM_WAIT,
    );
}

/// A parameter's label, marked when a change restarts the run.
fn label_text(spec: &ParamSpec) -> impl IntoView + use<> {
    let restarts = (!spec.live).then(|| {
        view! {
            <span class="restarts" title="changing it restarts the run">
                " ↻"
            </span>
        }
    });
    view! { {spec.label.clone()} {restarts} }
}

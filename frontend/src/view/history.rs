//! A run's history leaving the page and coming back: Download saves it,
//! Share copies a link to its scenario (pattern, parameters, seed), and a
//! history file dropped on the page becomes a replay of it.

use super::classroom::{Following, following};
use super::route::{query_pairs, route};
use super::{Ctx, ctx, dynamic};
use crate::net;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::classroom::Role;
use shared::{Command, ParamSpec, Params, PatternId, RunSnapshot};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// The link that sets up `snap`'s scenario: its seed, and the parameters
/// that differ from their preset in `specs`.
pub fn share_path(snap: &RunSnapshot, specs: &[ParamSpec]) -> String {
    let mut query = vec![format!("seed={}", snap.seed)];
    for (name, value) in &snap.params {
        let preset = specs.iter().find(|s| &s.name == name).map(|s| s.default);
        if preset != Some(*value) {
            query.push(format!("{name}={value}"));
        }
    }
    format!("/p/{}?{}", snap.pattern, query.join("&"))
}

/// The scenario a shared link asks for: its seed and parameters, with what
/// is wrong in it. Names that are the page's own (`present`, `speed`,
/// `run`, `token`) are not parameters.
pub fn scenario_of(
    pattern: PatternId,
    specs: &[ParamSpec],
    query: &[(String, String)],
) -> (Option<u64>, Params, Vec<String>) {
    let mut seed = None;
    let mut params = Params::new();
    let mut wrong = Vec::new();
    for (name, value) in query {
        match name.as_str() {
            "present" | "speed" | "run" | "token" | "at" => {}
            "seed" => match value.parse() {
                Ok(s) => seed = Some(s),
                Err(_) => wrong.push(format!("seed must be a whole number, got {value}")),
            },
            _ => match value.parse::<f64>() {
                Ok(v) => {
                    let one = Params::from([(name.clone(), v)]);
                    match pattern.check_against(specs, &one) {
                        Ok(_) => {
                            params.insert(name.clone(), v);
                        }
                        Err(e) => wrong.push(e.to_string()),
                    }
                }
                Err(_) => wrong.push(format!("`{name}` must be a number, got {value}")),
            },
        }
    }
    (seed, params, wrong)
}

/// Download and Share for the run on screen.
#[component]
pub fn HistoryTools(pattern: PatternId, run: String) -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let href = format!("/api/runs/{run}/history");
    let file = format!("{run}.ndjson");
    let share = move |_| {
        let path = model.with_untracked(|m| {
            let specs = m
                .pattern(pattern)
                .map(|p| p.params.as_slice())
                .unwrap_or_default();
            m.run(&run).map(|snap| share_path(snap, specs))
        });
        let Some(path) = path else {
            return;
        };
        let origin = window().location().origin().unwrap_or_default();
        let url = format!("{origin}{path}");
        spawn_local(async move {
            let copied = copy(&url).await;
            let text = if copied {
                format!("Link copied: {url}")
            } else {
                format!("Share this link: {url}")
            };
            net::toast(model, text);
        });
    };
    view! {
        <div class="history-tools">
            <a class="btn" href=href download=file data-action="download">
                <span aria-hidden="true">"⤓ "</span>
                "Download"
            </a>
            <button type="button" class="btn" data-action="share" on:click=share>
                <span aria-hidden="true">"⇗ "</span>
                "Share"
            </button>
        </div>
    }
}

/// Copies `text` with the clipboard API, where the page may use it.
async fn copy(text: &str) -> bool {
    let Ok(navigator) = js_sys::Reflect::get(&window(), &JsValue::from_str("navigator")) else {
        return false;
    };
    let Ok(clipboard) = js_sys::Reflect::get(&navigator, &JsValue::from_str("clipboard")) else {
        return false;
    };
    let write = js_sys::Reflect::get(&clipboard, &JsValue::from_str("writeText"))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let Some(write) = write else {
        return false;
    };
    match write.call1(&clipboard, &JsValue::from_str(text)) {
        Ok(promise) => match promise.dyn_into::<js_sys::Promise>() {
            Ok(promise) => JsFuture::from(promise).await.is_ok(),
            Err(_) => false,
        },
        Err(_) => false,
    }
}

/// Sets up the scenario a shared link asks for, once, on the run this
/// browser may command: the pattern's own run alone, a run of the
/// student's own in a classroom session.
#[component]
pub fn SharedScenario(pattern: PatternId, run: String) -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let here = route();
    let Following(on) = following();
    let done = StoredValue::new(false);
    let role = super::classroom::role();
    let ready = Memo::new({
        let run = run.clone();
        move |_| model.with(|m| m.run(&run).is_some() && m.pattern(pattern).is_some())
    });
    Effect::new(move || {
        if done.get_value() || !ready.get() {
            return;
        }
        let pairs = here.query.with(|q| query_pairs(q));
        let specs = model.with_untracked(|m| {
            m.pattern(pattern)
                .map(|p| p.params.clone())
                .unwrap_or_default()
        });
        let (seed, params, wrong) = scenario_of(pattern, &specs, &pairs);
        if seed.is_none() && params.is_empty() && wrong.is_empty() {
            return;
        }
        done.set_value(true);
        if !wrong.is_empty() {
            net::toast(
                model,
                format!(
                    "This link asks for what cannot be: {}. Using the defaults there.",
                    wrong.join("; ")
                ),
            );
        }
        let mut commands = Vec::new();
        if let Some(seed) = seed {
            commands.push(Command::SetSeed { seed });
        }
        if !params.is_empty() {
            commands.push(Command::SetParams { params });
        }
        let run = run.clone();
        let student = role.get_untracked() == Some(Role::Student);
        spawn_local(async move {
            let target = if student {
                // A student's own run, forked for the scenario.
                let body = format!("{{\"pattern\":\"{pattern}\"}}");
                let made = net::request_or_toast(model, "POST", "/api/runs", Some(body)).await;
                let Some(snap) = made.and_then(|t| serde_json::from_str::<RunSnapshot>(&t).ok())
                else {
                    return;
                };
                let own = snap.run.clone();
                model.update(|m| {
                    m.own(own.clone());
                    m.adopt_snapshot(snap, net::wall_ms());
                });
                on.set(false);
                here.navigate(&format!("/p/{pattern}?run={own}"));
                own
            } else {
                run
            };
            net::send(model, target, commands);
        });
    });
}

/// A history file dropped anywhere on the page becomes a replay.
#[component]
pub fn DropReplay() -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let here = route();
    let Following(on) = following();
    let over = RwSignal::new(false);
    let on_over = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        over.set(true);
    };
    let on_leave = move |_: web_sys::DragEvent| over.set(false);
    let on_drop = move |ev: web_sys::DragEvent| {
        ev.prevent_default();
        over.set(false);
        let file = ev
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|f| f.get(0));
        let Some(file) = file else { return };
        spawn_local(async move {
            let text = match JsFuture::from(file.text()).await {
                Ok(text) => text.as_string().unwrap_or_default(),
                Err(_) => {
                    net::toast(model, "That file could not be read.");
                    return;
                }
            };
            let made = net::request_or_toast(model, "POST", "/api/replays", Some(text)).await;
            let Some(snap) = made.and_then(|t| serde_json::from_str::<RunSnapshot>(&t).ok()) else {
                return;
            };
            let (pattern, run) = (snap.pattern, snap.run.clone());
            model.update(|m| {
                m.own(run.clone());
                m.adopt_snapshot(snap, net::wall_ms());
            });
            on.set(false);
            net::toast(model, format!("Replaying {pattern} as {run}: press Start."));
            here.navigate(&format!("/p/{pattern}?run={run}"));
        });
    };
    // Listened for on the whole window, so a file dropped anywhere lands.
    let handlers = window_event_listener(leptos::ev::dragover, on_over);
    let leave = window_event_listener(leptos::ev::dragleave, on_leave);
    let dropped = window_event_listener(leptos::ev::drop, on_drop);
    on_cleanup(move || {
        handlers.remove();
        leave.remove();
        dropped.remove();
    });
    dynamic(move || {
        if over.get() {
            view! {
                <div class="drop-replay" role="status">
                    "Drop a downloaded history to replay it"
                </div>
            }
            .into_any()
        } else {
            ().into_any()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_link_carries_the_seed_and_what_differs_from_the_preset() {
        let mut snap = RunSnapshot::new("drop-basic", PatternId::DropBasic);
        snap.params = PatternId::DropBasic.preset();
        snap.seed = 7;
        snap.params.insert("interval_ms".into(), 50.0);
        let specs = PatternId::DropBasic.specs();
        assert_eq!(
            share_path(&snap, &specs),
            "/p/drop-basic?seed=7&interval_ms=50"
        );
    }

    #[test]
    fn a_link_is_read_back_and_what_is_wrong_in_it_is_named() {
        let q = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let specs = PatternId::DropBasic.specs();
        let (seed, params, wrong) = scenario_of(
            PatternId::DropBasic,
            &specs,
            &q(&[
                ("seed", "7"),
                ("interval_ms", "50"),
                ("present", ""),
                ("speed", "1"),
            ]),
        );
        assert_eq!(
            (seed, params.get("interval_ms"), wrong.len()),
            (Some(7), Some(&50.0), 0)
        );
        let specs = PatternId::DropBasic.specs();
        let (seed, params, wrong) = scenario_of(
            PatternId::DropBasic,
            &specs,
            &q(&[
                ("seed", "x"),
                ("workers", "99"),
                ("warp", "1"),
                ("tasks", "many"),
            ]),
        );
        assert_eq!(seed, None);
        assert!(params.is_empty());
        assert_eq!(wrong.len(), 4, "{wrong:?}");
        assert!(
            wrong
                .iter()
                .any(|w| w.contains("workers") && w.contains("between 1 and 8"))
        );
        assert!(wrong.iter().any(|w| w.contains("no parameter `warp`")));
    }
}

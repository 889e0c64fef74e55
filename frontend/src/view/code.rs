//! The code beside the animation: the pattern engine's real source (and the
//! shared files it uses, as tabs), highlighted when the server was built.
//! Each line that emits an event carries the event's name; the line that
//! produced the latest event shown lights up, following the run or the
//! timeline's scrub. Clicking a marked line picks out its events on the
//! timeline and in the scene.

use super::session::session;
use super::{Ctx, ctx, dynamic, text};
use crate::net;
use crate::state::code::{lead, lit, lit_instant};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::PatternId;
use shared::source::Source;
use wasm_bindgen::{JsCast, JsValue};

/// How many of the focused events' subjects the scene picks out.
const PICKED: usize = 12;

#[component]
pub fn CodePane(pattern: PatternId) -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let session = session();
    let source = RwSignal::new(None::<Result<Source, String>>);
    let shown = RwSignal::new(0usize);
    // Fetched the first time the pane opens.
    Effect::new(move || {
        if session.code_open.get() && source.with_untracked(Option::is_none) {
            source.set(Some(Err("Loading…".into())));
            spawn_local(async move {
                let answer =
                    net::get_json::<Source>(&format!("/api/patterns/{pattern}/source")).await;
                source.set(Some(answer));
            });
        }
    });
    // Only while the pane is open: a closed pane costs a busy run nothing.
    let latest = Memo::new(move |_| {
        if session.code_open.get() {
            model.with(|m| m.latest_events())
        } else {
            Vec::new()
        }
    });
    let focus = Memo::new(move |_| model.with(|m| m.code_focus().map(str::to_owned)));
    // The lit lines: of the focused event if a line was clicked, else of
    // what happened at the latest instant shown.
    let lit_lines = Memo::new(move |_| {
        let focus = focus.get();
        source.with(|s| match (s, focus) {
            (Some(Ok(source)), Some(event)) => lit(source, shown.get_untracked(), &event),
            (Some(Ok(source)), None) => {
                latest.with(|l| lit_instant(source, shown.get_untracked(), l))
            }
            _ => None,
        })
    });
    // Following the run: the tab with the lit line comes forward.
    Effect::new(move || {
        if let Some((file, _)) = lit_lines.get()
            && file != shown.get_untracked()
        {
            shown.set(file);
        }
    });
    let body = NodeRef::<leptos::html::Div>::new();
    // Each drawn line reads whether it is lit; once the lines are drawn,
    // the first lit one is scrolled to the middle of the pane.
    Effect::new(move || {
        let lit = lit_lines.get();
        let _file = shown.get();
        if lit.is_none() {
            return;
        }
        request_animation_frame(move || {
            let Some(body) = body.get_untracked() else {
                return;
            };
            let body: &web_sys::Element = &body;
            if let Ok(Some(line)) = body.query_selector("[data-lit]") {
                center(body, &line);
            }
        });
    });
    picks_in_the_scene(model);

    let tabs = move || {
        source.with(|s| match s {
            Some(Ok(source)) => source
                .files
                .iter()
                .enumerate()
                .map(|(i, f)| (i, f.file.rsplit('/').next().unwrap_or(&f.file).to_owned()))
                .collect::<Vec<_>>(),
            _ => Vec::new(),
        })
    };
    let file_view = move || {
        let i = shown.get();
        source.with(|s| match s {
            Some(Ok(source)) => match source.files.get(i) {
                Some(file) => {
                    let marks = file.marks.clone();
                    file.lines
                        .iter()
                        .enumerate()
                        .map(|(n, html)| {
                            let number = n as u32 + 1;
                            let events: Vec<String> = marks
                                .iter()
                                .filter(|m| m.line == number)
                                .map(|m| m.event.clone())
                                .collect();
                            let lit = Memo::new(move |_| {
                                lit_lines.with(|l| {
                                    l.as_ref().is_some_and(|(f, lines)| {
                                        *f == i && lines.contains(&number)
                                    })
                                })
                            });
                            code_line(number, html.clone(), events, lit)
                        })
                        .collect_view()
                        .into_any()
                }
                None => ().into_any(),
            },
            Some(Err(message)) => view! { <p class="code-note">{message.clone()}</p> }.into_any(),
            None => ().into_any(),
        })
    };
    let path = move || {
        source.with(|s| match s {
            Some(Ok(source)) => source.files.get(shown.get()).map(|f| f.file.clone()),
            _ => None,
        })
    };

    dynamic(move || {
        if !session.code_open.get() {
            return ().into_any();
        }
        view! {
            <section class="code-pane" aria-label="The engine's code">
                <div class="code-head">
                    <div class="code-tabs" role="tablist" aria-label="Files">
                        {move || {
                            tabs()
                                .into_iter()
                                .map(|(i, name)| {
                                    view! {
                                        <button
                                            type="button"
                                            role="tab"
                                            class="code-tab"
                                            aria-selected=text(move || (shown.get() == i).to_string())
                                            on:click=move |_| shown.set(i)
                                        >
                                            {name}
                                        </button>
                                    }
                                })
                                .collect_view()
                        }}
                    </div>
                    <span class="code-path">{path}</span>
                    <span class="code-latest" aria-live="polite">
                        {text(move || match focus.get() {
                            Some(f) => format!("picked: {f}"),
                            None => latest
                                .with(|l| lead(l).map(|e| format!("now: {e}")))
                                .unwrap_or_default(),
                        })}
                    </span>
                    <button
                        type="button"
                        class="btn btn-small"
                        data-action="close-code"
                        title="Close the code (C)"
                        on:click=move |_| session.code_open.set(false)
                    >
                        "✕"
                    </button>
                </div>
                <div class="code-body" node_ref=body>
                    {file_view}
                </div>
            </section>
        }
        .into_any()
    })
}

/// One line of the file: its number, its highlighted text, and the events
/// it emits, as buttons that pick them out.
fn code_line(number: u32, html: String, events: Vec<String>, lit: Memo<bool>) -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let marked = !events.is_empty();
    view! {
        <div
            class="code-line"
            data-line=number
            data-marked=marked.then_some("")
            data-lit=move || lit.get().then_some("")
        >
            <span class="ln" aria-hidden="true">{number}</span>
            <span class="src" inner_html=html></span>
            {events
                .into_iter()
                .map(|event| {
                    let picked = {
                        let event = event.clone();
                        Memo::new(move |_| model.with(|m| m.code_focus() == Some(event.as_str())))
                    };
                    let click = event.clone();
                    let name = event.clone();
                    view! {
                        <button
                            type="button"
                            class="code-mark"
                            data-event=name
                            aria-pressed=text(move || picked.get().to_string())
                            title="Pick out these events on the timeline and in the scene"
                            // A click does not take the focus, which would
                            // scroll the file sideways to the button.
                            on:mousedown=|ev| ev.prevent_default()
                            on:click=move |_| model.update(|m| m.toggle_code_focus(&click))
                        >
                            {event}
                        </button>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// Scrolls `body` so `line` stands in its middle (the page itself stays).
fn center(body: &web_sys::Element, line: &web_sys::Element) {
    let top = |el: &JsValue, name: &str| {
        js_sys::Reflect::get(el, &name.into())
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0)
    };
    let offset = top(line.as_ref(), "offsetTop");
    let height = f64::from(body.client_height());
    body.set_scroll_top((offset - height / 2.0).max(0.0) as i32);
}

/// The focused events' subjects (tasks, nodes, jobs, items) are picked out
/// in the scene by a style sheet of their own.
fn picks_in_the_scene(model: RwSignal<crate::state::Model>) {
    let key = focus_key(model);
    let picked = Memo::new(move |_| {
        let _changed = key.get();
        model.with_untracked(|m| m.focused_events(PICKED).1)
    });
    Effect::new(move || {
        let rules = picked
            .get()
            .iter()
            .map(|(attr, id)| format!(".stage [data-{attr}=\"{id}\"]"))
            .collect::<Vec<_>>()
            .join(",\n");
        let css = if rules.is_empty() {
            String::new()
        } else {
            format!("{rules} {{ outline: 4px solid var(--focus); outline-offset: 2px; }}")
        };
        adopt(&css);
    });
    on_cleanup(|| adopt(""));
}

/// Puts `css` in the document's one adopted style sheet (constructed, so
/// the page's content security policy allows it).
fn adopt(css: &str) {
    let document = document();
    let Ok(class) = js_sys::Reflect::get(&window(), &"CSSStyleSheet".into()) else {
        return;
    };
    let Some(class) = class.dyn_ref::<js_sys::Function>() else {
        return;
    };
    let Ok(sheet) = js_sys::Reflect::construct(class, &js_sys::Array::new()) else {
        return;
    };
    if let Ok(replace) = js_sys::Reflect::get(&sheet, &"replaceSync".into())
        && let Some(replace) = replace.dyn_ref::<js_sys::Function>()
    {
        let _ = replace.call1(&sheet, &css.into());
    }
    let sheets = js_sys::Array::of1(&sheet);
    let _ = js_sys::Reflect::set(&document, &"adoptedStyleSheets".into(), &sheets);
}

/// What the focused events depend on, coarsely: the focus, and how far
/// the history and the scrub have come, in steps of a few events. Reading
/// the whole history on every batch would cost a busy run its frames.
pub fn focus_key(
    model: RwSignal<crate::state::Model>,
) -> Memo<(Option<String>, Option<usize>, Option<usize>)> {
    Memo::new(move |_| {
        model.with(|m| {
            let focus = m.code_focus().map(str::to_owned);
            if focus.is_none() {
                return (None, None, None);
            }
            (
                focus,
                m.history().map(|h| h.len() / 64),
                m.scrub().map(|s| s.index),
            )
        })
    })
}

//! The timeline under every scene: the run's history since its last start,
//! its moments marked, and a playhead to drag back to any instant. While it
//! is away from the present the whole page shows the run as it was then;
//! the engine keeps running, and Live comes back.

use super::history::HistoryTools;
use super::{Ctx, ctx, dynamic, text};
use crate::net;
use crate::state::Model;
use crate::state::history::{Glyph, MarkKind};
use crate::state::present::duration_text;
use leptos::prelude::*;
use shared::PatternId;
use wasm_bindgen::JsCast;

/// How often the markers are redrawn at most.
const MARKERS_EVERY: std::time::Duration = std::time::Duration::from_millis(200);

/// What the timeline draws, recomputed only when a glyph or the span changes.
#[derive(Debug, Clone, PartialEq, Default)]
struct Drawn {
    span: (u64, u64),
    glyphs: Vec<Glyph>,
    cut_before_ms: Option<u64>,
}

/// Where the playhead and the fill stand, every change.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Position {
    /// Events kept, and where the scrub stands among them (`None`: live).
    len: usize,
    index: Option<usize>,
    /// The present's instant and the one shown.
    end_ms: u64,
    shown_ms: u64,
}

#[component]
pub fn Timeline(pattern: PatternId, run: String, at: Option<u64>) -> impl IntoView {
    let Ctx { model, .. } = ctx();
    model.update(|m| m.follow_history(&run, pattern));
    {
        let run = run.clone();
        on_cleanup(move || {
            model.try_update(|m| m.unfollow_history(&run));
        });
    }
    // The server's part of the history: when the page opens, and again
    // after the stream skipped events.
    let wants = Memo::new(move |_| model.with(|m| m.history().is_some_and(|h| h.wants_fetch())));
    Effect::new(move || {
        if wants.get() {
            net::fetch_history(model);
        }
    });
    // `?at=<ms>` opens the page scrubbed to that instant, once the history is in.
    let loaded = Memo::new(move |_| model.with(|m| m.history().is_some_and(|h| h.loaded())));
    let opened_at = StoredValue::new(at);
    Effect::new(move || {
        if loaded.get()
            && let Some(ms) = opened_at.get_value()
        {
            opened_at.set_value(None);
            model.update(|m| m.scrub_to_ms(ms));
        }
    });

    let version = Memo::new(move |_| model.with(|m| m.history().map(|h| h.version())));
    // A flood of drops adds a marker many times a second; the markers are
    // redrawn at most five times a second, so the scene keeps the frames.
    let settled = RwSignal::new(version.get_untracked());
    let waiting = StoredValue::new(false);
    Effect::new(move || {
        let _changed = version.get();
        if waiting.get_value() {
            return;
        }
        waiting.set_value(true);
        set_timeout(
            move || {
                waiting.try_set_value(false);
                if let Some(now) = version.try_get_untracked() {
                    settled.try_set(now);
                }
            },
            MARKERS_EVERY,
        );
    });
    let drawn = Memo::new(move |_| {
        // Read, not just tracked, so a change always reaches here.
        let _version = settled.get();
        model.with_untracked(|m| {
            m.history()
                .map(|h| Drawn {
                    span: h.span(),
                    glyphs: h.glyphs().to_vec(),
                    cut_before_ms: h.cut_before_ms(),
                })
                .unwrap_or_default()
        })
    });
    let position = Memo::new(move |_| {
        model.with(|m| {
            let Some(h) = m.history() else {
                return Position::default();
            };
            let scrub = m.scrub().filter(|s| s.run == h.run());
            Position {
                len: h.len(),
                index: scrub.map(|s| s.index),
                end_ms: h.end_ms(),
                shown_ms: scrub.map_or(h.end_ms(), |s| s.at_ms),
            }
        })
    });
    // The events of the line picked in the code pane, as ticks.
    let key = super::code::focus_key(model);
    let picks = Memo::new(move |_| {
        let _changed = key.get();
        let (start, end) = drawn.with(|d| d.span);
        let instants = model.with_untracked(|m| m.focused_events(0).0);
        let mut columns: Vec<f64> = instants
            .into_iter()
            .map(|at| {
                let x = at.saturating_sub(start) as f64 / (end - start).max(1) as f64;
                (x * 400.0).round() / 4.0
            })
            .collect();
        columns.dedup();
        columns
    });
    let scrubbed = move || position.get().index.is_some();
    let percent = move |ms: u64| {
        let (start, end) = drawn.with(|d| d.span);
        let x = ms.saturating_sub(start) as f64 / (end - start).max(1) as f64;
        format!("{:.3}%", x.clamp(0.0, 1.0) * 100.0)
    };

    // Dragging: the pointer is captured by the track while it is down.
    let dragging = StoredValue::new(false);
    let track = NodeRef::<leptos::html::Div>::new();
    let seek = move |ev: &web_sys::PointerEvent| {
        let Some(el) = track.get_untracked() else {
            return;
        };
        let rect = el.get_bounding_client_rect();
        let x = ((f64::from(ev.client_x()) - rect.left()) / rect.width().max(1.0)).clamp(0.0, 1.0);
        let (start, end) = drawn.with_untracked(|d| d.span);
        let ms = start + ((end - start) as f64 * x).round() as u64;
        model.update(|m| m.scrub_to_ms(ms));
    };
    let on_down = move |ev: web_sys::PointerEvent| {
        if ev.button() != 0 {
            return;
        }
        ev.prevent_default();
        // A marker scrubs to its own event exactly.
        let seq = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .and_then(|el| el.closest("[data-seq]").ok().flatten())
            .and_then(|el| el.get_attribute("data-seq"))
            .and_then(|s| s.parse::<u64>().ok());
        if let Some(el) = track.get_untracked() {
            let _ = el.set_pointer_capture(ev.pointer_id());
            super::focus_in_place(&el);
        }
        match seq {
            Some(seq) => model.update(|m| m.scrub_to_seq(seq)),
            None => {
                dragging.set_value(true);
                seek(&ev);
            }
        }
    };
    let on_move = move |ev: web_sys::PointerEvent| {
        if dragging.get_value() {
            seek(&ev);
        }
    };
    let on_up = move |_: web_sys::PointerEvent| dragging.set_value(false);
    let on_key = move |ev: web_sys::KeyboardEvent| {
        let step: Option<fn(&mut Model)> = match ev.key().as_str() {
            "ArrowLeft" | "ArrowDown" => Some(|m| m.scrub_by(-1)),
            "ArrowRight" | "ArrowUp" => Some(|m| m.scrub_by(1)),
            "PageUp" => Some(|m| m.scrub_to_marker(false)),
            "PageDown" => Some(|m| m.scrub_to_marker(true)),
            "Home" => Some(|m| m.scrub_to(0)),
            "End" => Some(Model::go_live),
            _ => None,
        };
        if let Some(step) = step {
            ev.prevent_default();
            model.update(step);
        }
    };

    let readout = move || {
        let p = position.get();
        match p.index {
            Some(index) => format!(
                "{} of {} · event {} of {}",
                duration_text(p.shown_ms as f64),
                duration_text(p.end_ms as f64),
                group(index),
                group(p.len)
            ),
            None => format!(
                "{} · {} events",
                duration_text(p.end_ms as f64),
                group(p.len)
            ),
        }
    };
    let value_text = move || {
        let p = position.get();
        match p.index {
            Some(_) => format!(
                "{} (the present is {})",
                duration_text(p.shown_ms as f64),
                duration_text(p.end_ms as f64)
            ),
            None => format!("live, at {}", duration_text(p.end_ms as f64)),
        }
    };
    let tools_run = run.clone();

    view! {
        <section
            class="timeline"
            aria-label="Timeline"
            data-scrubbed=text(move || scrubbed().to_string())
            data-events=text(move || position.get().len.to_string())
        >
            <div class="timeline-main">
                <div
                    class="timeline-track"
                    node_ref=track
                    role="slider"
                    tabindex="0"
                    aria-label="Run history: drag, or use the arrow keys, to see an earlier instant"
                    aria-valuemin=text(move || drawn.with(|d| d.span.0).to_string())
                    aria-valuemax=text(move || position.get().end_ms.to_string())
                    aria-valuenow=text(move || position.get().shown_ms.to_string())
                    aria-valuetext=text(value_text)
                    on:pointerdown=on_down
                    on:pointermove=on_move
                    on:pointerup=on_up
                    on:pointercancel=on_up
                    on:keydown=on_key
                >
                    <div class="timeline-fill" style:width=text(move || percent(position.get().end_ms))></div>
                    <div class="timeline-marks">
                        // Keyed by event and place: a new marker adds one
                        // element; a new span redraws them all.
                        <For
                            each=move || drawn.get().glyphs
                            key=|g| (g.seq, g.x.to_bits())
                            children=|g| {
                                view! {
                                    <span
                                        class="mark"
                                        data-kind=g.kind.key()
                                        data-seq=g.seq
                                        style:left=format!("{:.3}%", g.x * 100.0)
                                        title=format!("{} · {}", duration_text(g.at_ms as f64), g.label)
                                    >
                                        {g.kind.glyph()}
                                    </span>
                                }
                            }
                        />
                    </div>
                    <div class="timeline-picks" aria-hidden="true">
                        {dynamic(move || {
                            picks
                                .get()
                                .into_iter()
                                .map(|x| view! { <span class="pick" style:left=format!("{x:.2}%")></span> })
                                .collect_view()
                                .into_any()
                        })}
                    </div>
                    <div class="timeline-head" style:left=text(move || percent(position.get().shown_ms))></div>
                </div>
                <div class="timeline-scale">
                    <span>
                        {text(move || match drawn.with(|d| d.cut_before_ms) {
                            Some(ms) => format!("history before {} dropped", duration_text(ms as f64)),
                            None => "0 s".to_owned(),
                        })}
                    </span>
                    <Legend drawn />
                    <span>{text(move || duration_text(drawn.with(|d| d.span.1) as f64))}</span>
                </div>
            </div>
            <div class="timeline-side">
                <p class="timeline-readout" aria-live="polite">{text(readout)}</p>
                <div class="timeline-buttons">
                    <button
                        type="button"
                        class="btn"
                        data-action="live"
                        title="Back to the present (L)"
                        aria-pressed=text(move || (!scrubbed()).to_string())
                        on:click=move |_| model.update(Model::go_live)
                    >
                        <span class="live-dot" aria-hidden="true"></span>
                        "Live"
                    </button>
                    <HistoryTools pattern run=tools_run />
                </div>
            </div>
        </section>
    }
}

/// The kinds of marker the timeline holds, each glyph with its word.
#[component]
fn Legend(drawn: Memo<Drawn>) -> impl IntoView {
    let kinds = Memo::new(move |_| {
        drawn.with(|d| {
            MarkKind::ALL
                .into_iter()
                .filter(|k| d.glyphs.iter().any(|g| g.kind == *k))
                .collect::<Vec<_>>()
        })
    });
    view! {
        <ul class="timeline-legend" aria-label="Markers">
            {dynamic(move || {
                kinds
                    .get()
                    .into_iter()
                    .map(|k| {
                        view! {
                            <li data-kind=k.key()>
                                <span class="mark-glyph" aria-hidden="true">{k.glyph()}</span>
                                {k.word()}
                            </li>
                        }
                    })
                    .collect_view()
                    .into_any()
            })}
        </ul>
    }
}

/// A count with thin spaces between thousands: 12 345.
fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    out
}

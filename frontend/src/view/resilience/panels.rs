//! The failure-and-recovery family's shared pieces: the circuit breaker's
//! state diagram with its status and history strip, the simulated
//! downstream with its "Break it" / "Heal it" switch, the jobs' attempt
//! timelines on a shared time axis, and the family's counters.
//!
//! Every state is told by a word and a shape as well as a colour: CLOSED is
//! a circle with a closed switch, OPEN an octagon with the switch lifted,
//! HALF-OPEN a half-filled circle with the switch ajar. The arrow of each
//! transition flashes once when it happens (the arrows are redrawn on each
//! change of the breaker's transition count), and the latest one stays
//! marked. Only what moves follows the clock every frame: the countdown to
//! half-open, the attempts still out and the "now" line.

use crate::net;
use crate::state::Model;
use crate::state::present::duration_text;
use crate::state::resilience::{
    Axis, BUCKET_MS, Downstream, Extent, HistoryEntry, KindBar, MOVES, Piece, Rates, STATES,
    arrow_label, attempt_glyph, attempt_key, attempt_kind, attempt_text, buckets, clock_text,
    countdown_ms, countdown_share, countdown_text, failure_bars, failure_trail, failures_text,
    fresh_moves, history, job_status_text, last_trial, move_key, opened_at, outcome_glyph,
    outcome_key, peak, pieces, pips, rate_text, reset_ms, retry_label, state_about, threshold,
    trial_text, two_lines,
};
use crate::view::counters::counter;
use crate::view::{Ctx, ctx, dynamic, run_memo, text, virtual_now};
use leptos::prelude::*;
use shared::pattern::resilient_pool::ResilientPoolParams;
use shared::{
    BreakerScene, CircuitState, Command, Job, ParamSet, Params, PatternId, RunStatus, TaskId,
};

/// Where the diagram draws each state: its centre in the SVG's units.
fn centre(state: CircuitState) -> (f64, f64) {
    match state {
        CircuitState::Closed => (130.0, 130.0),
        CircuitState::Open => (500.0, 130.0),
        CircuitState::HalfOpen => (870.0, 130.0),
    }
}

/// The radius of a state's shape.
const R: f64 = 72.0;

/// The breaker of a run, if it has one.
fn breaker_of(s: &shared::RunSnapshot) -> Option<BreakerScene> {
    s.resilience().and_then(|r| r.breaker.clone())
}

// ---------- The breaker ----------

/// What the arrows show: which moves are new since the last drawing (they
/// flash) and which was the latest (it stays marked).
#[derive(Debug, Clone, Default, PartialEq)]
struct Flash {
    /// Whether the breaker had been seen at all: the moves it already made
    /// when the page opened do not flash.
    ready: bool,
    seen: u64,
    fresh: Vec<String>,
    latest: Option<String>,
}

/// The breaker's state diagram, its status line (failures toward the
/// threshold, the countdown while open, the trial call in half-open, the
/// calls refused since it opened). `compact` draws it smaller, beside
/// other things.
#[component]
pub fn Breaker(run: String, #[prop(optional)] compact: bool) -> impl IntoView {
    let breaker = run_memo(&run, breaker_of);
    let state =
        Memo::new(move |_| breaker.with(|b| b.as_ref().and_then(|b| b.as_ref().map(|b| b.state))));
    let limit = run_memo(&run, |s| threshold(&s.params));
    let flash = Memo::new(move |prev: Option<&Flash>| {
        breaker.with(|b| {
            let Some(Some(b)) = b else {
                return Flash::default();
            };
            let latest = b.history.last().map(|t| move_key(t.from, t.to));
            match prev {
                Some(p) if p.ready && p.seen == b.transitions => p.clone(),
                Some(p) if p.ready => Flash {
                    ready: true,
                    seen: b.transitions,
                    fresh: fresh_moves(b, p.seen),
                    latest,
                },
                _ => Flash {
                    ready: true,
                    seen: b.transitions,
                    fresh: Vec::new(),
                    latest,
                },
            }
        })
    });
    // No state is claimed before the run's breaker is known.
    let key = move || state.get().map(CircuitState::key);
    let label = move || {
        state.get().map_or_else(
            || "no breaker yet".to_owned(),
            |s| format!("Circuit breaker: {}", s.label()),
        )
    };
    view! {
        <section
            class="breaker"
            data-compact=compact.to_string()
            data-breaker-state=key
            aria-label=text(label)
        >
            <svg class="breaker-diagram" viewBox="0 0 1000 345" role="group" aria-label="States of the breaker">
                {dynamic(move || {
                    let flash = flash.get();
                    let limit = limit.get().unwrap_or_else(|| threshold(&Default::default()));
                    MOVES
                        .iter()
                        .map(|&(from, to)| arrow(from, to, limit, &flash))
                        .collect_view()
                        .into_any()
                })}
                {STATES.iter().map(|&s| state_node(s, state)).collect_view()}
            </svg>
            <BreakerStatus run=run.clone() breaker />
        </section>
    }
}

/// One state of the diagram: its shape, its switch glyph, its label, and
/// "▲ NOW" under it while it is the current one.
fn state_node(s: CircuitState, current: Memo<Option<CircuitState>>) -> impl IntoView {
    let (x, y) = centre(s);
    let is_now = move || current.get() == Some(s);
    let shape = match s {
        CircuitState::Closed => {
            view! { <circle class="node-shape" data-shape="circle" cx=x cy=y r=R /> }.into_any()
        }
        CircuitState::Open => {
            view! { <polygon class="node-shape" data-shape="octagon" points=octagon(x, y, R) /> }
                .into_any()
        }
        CircuitState::HalfOpen => view! {
            <circle class="node-shape" data-shape="half-filled circle" cx=x cy=y r=R />
            <path class="node-half" d=format!("M {x} {} A {R} {R} 0 0 0 {x} {} Z", y - R, y + R) />
        }
        .into_any(),
    };
    // A switch between two terminals: shut, lifted, or ajar.
    let (left, right) = ((x - 36.0, y + 12.0), (x + 36.0, y + 12.0));
    let lever_end = match s {
        CircuitState::Closed => right,
        CircuitState::Open => (x + 26.0, y - 34.0),
        CircuitState::HalfOpen => (x + 32.0, y - 10.0),
    };
    view! {
        <g
            class="state-node"
            data-state-node=s.key()
            aria-current=move || is_now().then_some("true")
            aria-label=move || {
                let now = if is_now() { " (now)" } else { "" };
                format!("{}{now}: {}", s.label(), state_about(s))
            }
            role="img"
        >
            {shape}
            <line class="node-glyph" x1=left.0 y1=left.1 x2=lever_end.0 y2=lever_end.1 />
            <circle class="node-terminal" cx=left.0 cy=left.1 r="8" />
            <circle class="node-terminal" cx=right.0 cy=right.1 r="8" />
            <text class="node-label" x=x y=y - R - 18.0>{s.label()}</text>
            <text class="node-now" x=x y=y + R + 36.0>"▲ NOW"</text>
        </g>
    }
}

/// The points of a regular octagon (a stop sign) of radius `r`.
fn octagon(x: f64, y: f64, r: f64) -> String {
    (0..8)
        .map(|k| {
            let a = (22.5 + 45.0 * f64::from(k)).to_radians();
            format!("{:.1},{:.1}", x + r * a.cos(), y + r * a.sin())
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// An arrowhead with its tip at `tip`, pointing along `dir`.
fn head(tip: (f64, f64), dir: (f64, f64)) -> String {
    let len = (dir.0 * dir.0 + dir.1 * dir.1).sqrt().max(f64::EPSILON);
    let (dx, dy) = (dir.0 / len, dir.1 / len);
    let (back, half) = (22.0, 12.0);
    let base = (tip.0 - dx * back, tip.1 - dy * back);
    format!(
        "{:.1},{:.1} {:.1},{:.1} {:.1},{:.1}",
        tip.0,
        tip.1,
        base.0 - dy * half,
        base.1 + dx * half,
        base.0 + dy * half,
        base.1 - dx * half
    )
}

/// One arrow of the diagram with what moves the breaker along it.
fn arrow(from: CircuitState, to: CircuitState, limit: u32, flash: &Flash) -> AnyView {
    use CircuitState::{Closed, HalfOpen, Open};
    let key = move_key(from, to);
    // The path, its tip and direction there, and where its label goes
    // (centre x, first line's y; a second line follows below).
    let (d, tip, dir, at) = match (from, to) {
        (Closed, Open) => (
            "M 210 112 L 420 112".to_owned(),
            (420.0, 112.0),
            (1.0, 0.0),
            (315.0, 66.0),
        ),
        (Open, HalfOpen) => (
            "M 580 112 L 790 112".to_owned(),
            (790.0, 112.0),
            (1.0, 0.0),
            (685.0, 66.0),
        ),
        (HalfOpen, Open) => (
            "M 792 150 L 580 150".to_owned(),
            (580.0, 150.0),
            (-1.0, 0.0),
            (686.0, 186.0),
        ),
        _ => (
            "M 820 192 C 740 330, 260 330, 180 192".to_owned(),
            (180.0, 192.0),
            (-80.0, -138.0),
            (500.0, 330.0),
        ),
    };
    let words = arrow_label(from, to, limit);
    let (first, second) = if (from, to) == (HalfOpen, Closed) {
        (words.clone(), String::new())
    } else {
        two_lines(&words)
    };
    let fresh = flash.fresh.contains(&key);
    let latest = flash.latest.as_deref() == Some(key.as_str());
    view! {
        <g
            class="arrow"
            aria-label=format!("{} → {}: {words}", from.label(), to.label())
            data-move=key
            data-flash=fresh.to_string()
            data-latest=latest.to_string()
        >
            <path class="arrow-line" d=d />
            <polygon class="arrow-head" points=head(tip, dir) />
            <text class="arrow-label" x=at.0 y=at.1>{first}</text>
            <text class="arrow-label" x=at.0 y=at.1 + 26.0>{second}</text>
        </g>
    }
    .into_any()
}

/// Under the diagram: the current state in words, the failures toward the
/// threshold, the countdown while open, the trial call, the refusals.
#[component]
fn BreakerStatus(run: String, breaker: Memo<Option<Option<BreakerScene>>>) -> impl IntoView {
    let now = virtual_now(&run);
    let limit = run_memo(&run, |s| threshold(&s.params));
    let reset = run_memo(&run, |s| reset_ms(&s.params));
    let state =
        Memo::new(move |_| breaker.with(|b| b.as_ref().and_then(|b| b.as_ref().map(|b| b.state))));
    let failures = Memo::new(move |_| {
        breaker.with(|b| b.as_ref().and_then(|b| b.as_ref().map(|b| b.failures)))
    });
    let trial = run_memo(&run, |s| {
        s.resilience().and_then(|r| {
            let b = r.breaker.as_ref()?;
            Some((trial_text(r, b), last_trial(r, b)))
        })
    });
    let opened = Memo::new(move |_| {
        breaker.with(|b| b.as_ref().and_then(|b| b.as_ref().and_then(opened_at)))
    });
    // Only while open does the countdown read the clock.
    let left = move || {
        opened
            .get()
            .map(|since| countdown_ms(since, reset.get().unwrap_or(0.0), now.get()))
    };
    let refused = Memo::new(move |_| {
        breaker.with(|b| {
            b.as_ref()
                .and_then(|b| b.as_ref().map(|b| (b.rejected_since_open, b.rejected)))
        })
    });
    view! {
        <div class="breaker-status">
            <p class="breaker-now">
                {dynamic(move || {
                    let Some(state) = state.get() else {
                        return view! { <span>"Waiting for the run…"</span> }.into_any();
                    };
                    view! {
                        {shape_chip(state)}
                        <strong class="breaker-word">{state.label()}</strong>
                        <span class="breaker-about">{state_about(state)}</span>
                    }
                    .into_any()
                })}
            </p>
            <div
                class="pips"
                data-failures=text(move || failures.get().unwrap_or(0).to_string())
                data-threshold=text(move || limit.get().unwrap_or_else(|| threshold(&Default::default())).to_string())
            >
                <span class="pip-row" aria-hidden="true">
                    {dynamic(move || {
                        pips(failures.get().unwrap_or(0), limit.get().unwrap_or_else(|| threshold(&Default::default())))
                            .into_iter()
                            .map(|on| view! { <span class="pip" data-on=on.to_string()></span> })
                            .collect_view()
                            .into_any()
                    })}
                </span>
                <span class="pip-text">
                    {text(move || failures_text(failures.get().unwrap_or(0), limit.get().unwrap_or_else(|| threshold(&Default::default()))).0)}
                    " "
                    <span class="pip-note">
                        {text(move || failures_text(failures.get().unwrap_or(0), limit.get().unwrap_or_else(|| threshold(&Default::default()))).1)}
                    </span>
                </span>
            </div>
            <div class="countdown" hidden=move || opened.get().is_none() role="timer">
                <span class="countdown-bar" aria-hidden="true">
                    <span
                        class="countdown-fill"
                        style:width=text(move || {
                            let share = left().map_or(0.0, |l| countdown_share(l, reset.get().unwrap_or(0.0)));
                            format!("{:.2}%", share * 100.0)
                        })
                    ></span>
                </span>
                <span class="countdown-text">{text(move || left().map(countdown_text).unwrap_or_default())}</span>
            </div>
            {dynamic(move || {
                let Some((current, last)) = trial.get().flatten() else { return ().into_any() };
                view! {
                    <div class="trial">
                        {current.map(|t| view! { <span class="trial-now" data-trial="out">{t}</span> })}
                        {last.map(|(ok, t)| {
                            view! { <span class="trial-last" data-trial-result=if ok { "succeeded" } else { "failed" }>{t}</span> }
                        })}
                    </div>
                }
                .into_any()
            })}
            <p class="refused">
                <span class="refused-glyph" aria-hidden="true">"⊘"</span>
                {text(move || {
                    let ever = refused.get().is_some_and(|r| r.1 > 0);
                    match state.get() {
                        Some(CircuitState::Closed) if ever => "rejected at once while it was last open: ",
                        Some(CircuitState::Closed) => "rejected at once (only while open): ",
                        _ => "rejected at once since it opened: ",
                    }
                    .to_owned()
                })}
                <strong data-counter="rejected_since_open">
                    {text(move || refused.get().map_or(0, |r| r.0).to_string())}
                </strong>
                <span class="refused-total">
                    " · in all: "
                    <span data-counter="breaker_rejected">
                        {text(move || refused.get().map_or(0, |r| r.1).to_string())}
                    </span>
                </span>
            </p>
        </div>
    }
}

/// A state's shape as a small inline mark, with the same meaning as in the
/// diagram (circle, octagon, half-filled circle).
pub fn shape_chip(state: CircuitState) -> impl IntoView {
    view! { <span class="shape" data-shape=state.key() aria-hidden="true"></span> }
}

/// The breaker's latest transitions, oldest to newest, so a viewer who
/// blinked sees what happened. The newest sits at the right and is the
/// one in view when the strip is too long.
#[component]
pub fn HistoryStrip(run: String) -> impl IntoView {
    let entries = run_memo(&run, |s| {
        s.resilience()
            .and_then(|r| r.breaker.as_ref())
            .map(history)
            .unwrap_or_default()
    });
    let empty = move || entries.with(|e| e.as_ref().is_none_or(Vec::is_empty));
    view! {
        <section class="history" aria-label="Breaker history">
            <div class="box-head">
                <h3>"Transitions"</h3>
                <span class="box-note">"oldest → newest"</span>
            </div>
            <p class="history-empty" hidden=move || !empty()>
                "No transitions yet: the breaker has stayed CLOSED."
            </p>
            <div class="history-scroll">
                <ol class="history-list" data-history="">
                    // Keyed on the whole entry: a run that started over
                    // numbers its transitions from 1 again.
                    <For each=move || entries.get().unwrap_or_default() key=HistoryEntry::clone let:entry>
                        <li class="transition" data-transition=entry.key.clone() title=entry.text()>
                            <span class="transition-at">{entry.at.clone()}</span>
                            <span class="transition-move">
                                {shape_chip(entry.from)}
                                <span class="transition-state">{entry.from.label()}</span>
                                <span class="transition-arrow" aria-label="to">"→"</span>
                                {shape_chip(entry.to)}
                                <span class="transition-state" data-state-key=entry.to.key()>{entry.to.label()}</span>
                            </span>
                            <span class="transition-why">{entry.why.clone()}</span>
                        </li>
                    </For>
                </ol>
            </div>
        </section>
    }
}

// ---------- The downstream ----------

/// The simulated downstream: healthy or broken in words and shape, its
/// settings in words, and the big switch that breaks or heals it.
/// Sets a switch parameter (`broken`, `jitter`) to `on`; `pending` is
/// true until the server has answered.
pub fn flip_switch(
    model: RwSignal<Model>,
    run: &str,
    name: &str,
    on: bool,
    pending: RwSignal<bool>,
) {
    pending.set(true);
    let params = Params::from([(name.to_owned(), if on { 1.0 } else { 0.0 })]);
    net::send_then(
        model,
        run.to_owned(),
        vec![Command::SetParams { params }],
        move |_| {
            pending.try_set(false);
        },
    );
}

#[component]
pub fn DownstreamPanel(run: String, #[prop(optional)] compact: bool) -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let look = run_memo(&run, |s| Downstream::of(&s.params));
    let broken = move || look.with(|l| l.as_ref().is_some_and(|l| l.broken));
    let pending = RwSignal::new(false);
    let toggle = move |_| {
        flip_switch(model, &run, "broken", !broken(), pending);
    };
    view! {
        <section
            class="downstream"
            data-compact=compact.to_string()
            data-broken=text(move || broken().to_string())
            aria-label="Downstream service"
        >
            <div class="box-head">
                <h3>"Downstream"</h3>
                <span class="downstream-state" role="status">
                    <span class="downstream-glyph" aria-hidden="true">
                        {text(move || if broken() { "↯" } else { "●" }.to_owned())}
                    </span>
                    {text(move || if broken() { "BROKEN" } else { "HEALTHY" }.to_owned())}
                </span>
            </div>
            <ul class="downstream-lines">
                {dynamic(move || {
                    look.get()
                        .map(|l| l.lines)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|line| view! { <li>{line}</li> })
                        .collect_view()
                        .into_any()
                })}
            </ul>
            <button
                type="button"
                class="btn break-switch"
                data-action=text(move || if broken() { "heal" } else { "break" }.to_owned())
                disabled=move || pending.get() || look.with(Option::is_none)
                title=text(move || {
                    if broken() {
                        "Let the downstream answer normally again".to_owned()
                    } else {
                        "Make every call to the downstream fail".to_owned()
                    }
                })
                on:click=toggle
            >
                <span class="btn-icon" aria-hidden="true">
                    {text(move || if broken() { "✓" } else { "↯" }.to_owned())}
                </span>
                <span class="btn-label">{text(move || if broken() { "Heal it" } else { "Break it" }.to_owned())}</span>
            </button>
        </section>
    }
}

// ---------- Timelines ----------

/// What a timeline's rows are: the clients of `retry-backoff` (with the
/// "attempts per 100 ms" strip above them) or the pool's tasks (with what
/// each kind is like, its worker, and the overall deadline on the axis).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    Clients,
    Tasks,
}

/// Every job as a row on one shared time axis: attempts as blocks (✓ ✗ ⊘,
/// or growing while out), backoff waits hatched and drawn to scale with
/// their delay, and how the job ended.
#[component]
pub fn Timelines(run: String, rows: Rows) -> impl IntoView {
    let jobs = run_memo(&run, |s| {
        s.resilience().map(|r| r.jobs.clone()).unwrap_or_default()
    });
    let deadline = run_memo(&run, |s| {
        (s.pattern == PatternId::ResilientPool)
            .then(|| ResilientPoolParams::read(&s.params).deadline_ms.as_millis() as u64)
    });
    let running = run_memo(&run, |s| s.status == RunStatus::Running);
    let now = virtual_now(&run);
    let extent =
        Memo::new(move |_| jobs.with(|j| j.as_deref().map(Extent::of).unwrap_or_default()));
    // The pool's overall deadline, as an instant on the axis.
    let deadline_at = Memo::new(move |_| {
        if rows == Rows::Tasks {
            deadline.get().flatten().map(|d| extent.get().start_ms + d)
        } else {
            None
        }
    });
    // Recomputed every frame, but passed on only when its round length steps up.
    let axis = Memo::new(move |_| extent.get().axis(now.get()));
    let ids = Memo::new(move |_| {
        jobs.with(|j| {
            j.as_deref()
                .unwrap_or_default()
                .iter()
                .map(Job::id)
                .collect::<Vec<_>>()
        })
    });
    let heading = match rows {
        Rows::Clients => "Clients: attempts and backoff waits",
        Rows::Tasks => "Tasks: attempts and backoff waits",
    };
    view! {
        <section class="timelines" data-rows=if rows == Rows::Tasks { "tasks" } else { "clients" } aria-label=heading>
            <div class="box-head">
                <h3>{heading}</h3>
                <span class="legend" aria-label="Legend">
                    <span class="legend-item"><span class="seg-swatch" data-result="succeeded">"✓"</span>"succeeded"</span>
                    <span class="legend-item"><span class="seg-swatch" data-result="failed">"✗"</span>"failed"</span>
                    <span class="legend-item"><span class="seg-swatch" data-result="rejected">"⊘"</span>"refused"</span>
                    <span class="legend-item"><span class="seg-swatch" data-result="out">"…"</span>"out"</span>
                    <span class="legend-item"><span class="seg-swatch seg-swatch-wait"></span>"backoff wait"</span>
                </span>
            </div>
            <div class="timeline-grid">
                <div class="timeline-row timeline-axis" aria-hidden="true">
                    <span class="row-label">"time"</span>
                    <div class="track track-axis">
                        {dynamic(move || {
                            let axis = axis.get();
                            // A deadline past the end of the axis is named at its edge.
                            let deadline = deadline_at.get().map(|at| (at, axis.pct(at as f64)));
                            // The deadline's label ends at its line: the ticks just
                            // before it would be hidden under it.
                            let clear = |pct: f64| deadline.is_none_or(|(_, d)| pct < d - 26.0 || pct > d + 3.0);
                            let ticks = axis
                                .ticks()
                                .into_iter()
                                .filter(|(at, _)| clear(*at))
                                .map(|(at, label)| view! { <span class="tick" style=format!("left: {at:.2}%")>{label}</span> })
                                .collect_view();
                            let deadline = deadline.map(|(at, pct)| {
                                view! {
                                    <span class="tick tick-deadline" style=format!("left: {pct:.2}%")>
                                        {format!("deadline {}", duration_text(at.saturating_sub(axis.start_ms) as f64))}
                                    </span>
                                }
                            });
                            view! { {ticks} {deadline} }.into_any()
                        })}
                    </div>
                    <span class="row-outcome"></span>
                </div>
                {(rows == Rows::Clients).then(|| view! { <AttemptStrip jobs axis /> })}
                <ol class="timeline-rows">
                    <For each=move || ids.get() key=|id| *id let:id>
                        <JobRow jobs id axis now rows />
                    </For>
                </ol>
                <div class="timeline-overlay" aria-hidden="true">
                    <div class="track track-overlay">
                        {move || {
                            deadline_at
                                .get()
                                .filter(|at| *at <= axis.get().start_ms + axis.get().len_ms)
                                .map(|at| {
                                    view! {
                                        <span
                                            class="deadline-line"
                                            style=text(move || format!("left: {:.2}%", axis.get().pct(at as f64)))
                                        ></span>
                                    }
                                })
                        }}
                        <span
                            class="now-line"
                            hidden=move || !running.get().unwrap_or(false) || !extent.get().open
                            style=text(move || format!("left: {:.2}%", axis.get().pct(now.get())))
                        ></span>
                    </div>
                </div>
            </div>
            <p class="timeline-empty" hidden=move || !ids.with(Vec::is_empty)>
                "No jobs yet: press Start."
            </p>
        </section>
    }
}

/// How many attempts reached the downstream in each 100 ms: retries that
/// are synchronized (a thundering herd) stand out as spikes.
#[component]
fn AttemptStrip(jobs: Memo<Option<Vec<Job>>>, axis: Memo<Axis>) -> impl IntoView {
    let counts = Memo::new(move |_| {
        let axis = axis.get();
        jobs.with(|j| buckets(j.as_deref().unwrap_or_default(), axis, BUCKET_MS))
    });
    let path = move || {
        counts.with(|c| {
            let tallest = c.iter().copied().max().unwrap_or(0).max(1) as f64;
            c.iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(i, n)| {
                    let h = f64::from(*n) / tallest * 100.0;
                    format!("M{i} 100V{:.1}H{}V100Z", 100.0 - h, i + 1)
                })
                .collect::<String>()
        })
    };
    let width = move || counts.with(|c| format!("0 0 {} 100", c.len().max(1)));
    let top = Memo::new(move |_| counts.with(|c| peak(c)));
    view! {
        <div class="timeline-row strip-row">
            <span class="row-label">"attempts per 100 ms"</span>
            <div class="track track-strip">
                <svg class="strip" viewBox=text(width) preserveAspectRatio="none" aria-hidden="true">
                    <path d=text(path) />
                </svg>
            </div>
            <span class="row-outcome strip-peak">
                {dynamic(move || match top.get() {
                    Some((i, n)) => view! {
                        "peak "
                        <strong data-counter="peak_attempts">{n}</strong>
                        {format!(" at {}", clock_text((i as u64 * BUCKET_MS) as f64))}
                    }
                    .into_any(),
                    None => "no attempts yet".into_any(),
                })}
            </span>
        </div>
    }
}

/// One job's row: its label, its timeline, and how it ended.
#[component]
fn JobRow(
    jobs: Memo<Option<Vec<Job>>>,
    id: TaskId,
    axis: Memo<Axis>,
    now: Memo<f64>,
    rows: Rows,
) -> impl IntoView {
    let job = Memo::new(move |_| {
        jobs.with(|j| {
            j.as_deref()
                .and_then(|j| {
                    j.binary_search_by_key(&id, Job::id)
                        .ok()
                        .and_then(|i| j.get(i))
                })
                .cloned()
        })
    });
    let key = move || {
        job.with(|j| j.as_ref().map_or("running", outcome_key))
            .to_owned()
    };
    let fixed = job.get_untracked();
    let label = fixed
        .as_ref()
        .map(|j| j.spec.label.clone())
        .unwrap_or_default();
    let about = fixed.as_ref().and_then(|j| j.spec.about.clone());
    view! {
        <li class="timeline-row job-row" data-job=id data-outcome=text(key)>
            <span class="row-label">
                <span class="job-label">{label}</span>
                {(rows == Rows::Tasks).then(|| about.map(|a| view! { <span class="job-about">{a}</span> }))}
                {move || {
                    (rows == Rows::Tasks)
                        .then(|| job.with(|j| j.as_ref().and_then(|j| j.worker)))
                        .flatten()
                        .map(|w| view! { <span class="job-worker">{format!("worker {}", w + 1)}</span> })
                }}
            </span>
            <div class="track">
                {dynamic(move || {
                    let Some(job) = job.get() else { return ().into_any() };
                    let axis = axis.get();
                    pieces_view(&job, axis, now)
                })}
            </div>
            <span class="row-outcome">
                {dynamic(move || {
                    let Some(job) = job.get() else { return ().into_any() };
                    let key = outcome_key(&job);
                    let trail = failure_trail(&job).join(" → ");
                    view! {
                        <span class="job-outcome" data-tone=key>
                            <span class="job-glyph" aria-hidden="true">{outcome_glyph(key)}</span>
                            {job_status_text(&job)}
                        </span>
                        {(!trail.is_empty()).then(|| view! { <span class="job-trail">{trail}</span> })}
                    }
                    .into_any()
                })}
            </span>
        </li>
    }
}

/// A job's attempts and waits, placed on the axis. Only an attempt still
/// out follows the clock.
fn pieces_view(job: &Job, axis: Axis, now: Memo<f64>) -> AnyView {
    pieces(job)
        .into_iter()
        .map(|piece| match piece {
            Piece::Attempt(a) => {
                let key = attempt_key(&a);
                let kind = attempt_kind(&a);
                let start = a.start_ms as f64;
                // Only an attempt still out reads the clock, so only it follows it.
                let end = a.end_ms;
                let style = text(move || match end {
                    Some(end) => axis.place(start, end as f64).style(),
                    None => axis.place(start, now.get().max(start)).style(),
                });
                view! {
                    <span
                        class="seg seg-attempt"
                        data-attempt=a.n
                        data-result=key
                        data-trial=a.trial.to_string()
                        data-kind=kind.map(|k| k.as_str())
                        data-retryable=kind.map(|k| k.retryable().to_string())
                        title=attempt_text(&a)
                        style=style
                    >
                        <span class="seg-glyph">{attempt_glyph(key)}</span>
                        {kind.map(|k| view! { <span class="seg-kind">{k.as_str()}</span> })}
                        {kind
                            .filter(|k| !k.retryable())
                            .map(|k| view! { <span class="seg-flag">{format!("{} · {}", k.as_str(), retry_label(k))}</span> })}
                    </span>
                }
                .into_any()
            }
            Piece::Wait {
                start_ms,
                delay_ms,
                backoff_ms,
            } => {
                let start = start_ms as f64;
                let jittered = backoff_ms != delay_ms;
                let title = if jittered {
                    format!("backoff {delay_ms} ms (jitter; the policy's delay is {backoff_ms} ms)")
                } else {
                    format!("backoff {delay_ms} ms")
                };
                view! {
                    {jittered.then(|| {
                        view! {
                            <span
                                class="seg seg-bound"
                                data-backoff-ms=backoff_ms
                                style=axis.place(start, start + backoff_ms as f64).style()
                            ></span>
                        }
                    })}
                    <span
                        class="seg seg-wait"
                        data-wait-ms=delay_ms
                        title=title
                        style=axis.place(start, start + delay_ms as f64).style()
                    >
                        <span class="seg-text">{delay_ms}<span class="seg-unit">" ms"</span></span>
                    </span>
                }
                .into_any()
            }
        })
        .collect_view()
        .into_any()
}

// ---------- Counters ----------

/// The family's counters: where every job ended, the attempts and retries,
/// the success and recovery rates, and failed attempts by kind.
#[component]
pub fn ResilienceCounters(run: String) -> impl IntoView {
    let tally = run_memo(&run, |s| s.counters);
    let scene = run_memo(&run, |s| {
        s.resilience()
            .map(|r| (r.recovered, r.attempts, r.retries))
            .unwrap_or_default()
    });
    let bars = run_memo(&run, |s| {
        s.resilience().map(failure_bars).unwrap_or_default()
    });
    let value = move |f: fn(&shared::Counters) -> u64| {
        text(move || tally.get().map(|c| f(&c)).unwrap_or(0).to_string())
    };
    let of_scene = move |f: fn((u64, u64, u64)) -> u64| {
        text(move || scene.get().map(f).unwrap_or(0).to_string())
    };
    let rates = Memo::new(move |_| {
        let c = tally.get().unwrap_or_default();
        Rates::of(&c, scene.get().map_or(0, |s| s.0))
    });
    view! {
        <section class="counters resilience-counters" aria-label="Counters">
            <div class="counter-grid counter-grid-resilience">
                {counter("submitted", "Submitted", "", "", value(|c| c.submitted))}
                {counter("in_flight", "In flight", "", "…", value(|c| c.in_flight))}
                {counter("succeeded", "Succeeded", "good", "✓", value(|c| c.completed))}
                {counter("recovered", "Recovered", "good", "↻", of_scene(|s| s.0))}
                {counter("failed", "Failed", "bad", "✗", value(|c| c.failed))}
                {counter("rejected", "Rejected", "drop", "⊘", value(|c| c.rejected))}
                {counter("timed_out", "Timed out", "wait", "◷", value(|c| c.timed_out))}
                {counter("cancelled", "Cancelled", "", "■", value(|c| c.cancelled))}
            </div>
            <div class="counter-strip">
                <span class="mini mini-strong">
                    <span class="mini-label">"Attempts"</span>
                    <span class="mini-value" data-counter="attempts">{of_scene(|s| s.1)}</span>
                </span>
                <span class="mini mini-strong" data-tone="wait">
                    <span class="mini-label">"Retries"</span>
                    <span class="mini-value" data-counter="retries">{of_scene(|s| s.2)}</span>
                </span>
                <span class="mini mini-strong" data-tone="good">
                    <span class="mini-label">"Success rate"</span>
                    <span class="mini-value" data-counter="success_rate">{text(move || rate_text(rates.get().success))}</span>
                    <span class="mini-unit">"%"</span>
                </span>
                <span class="mini mini-strong" data-tone="good">
                    <span class="mini-label">"Recovery rate"</span>
                    <span class="mini-value" data-counter="recovery_rate">{text(move || rate_text(rates.get().recovery))}</span>
                    <span class="mini-unit">"%"</span>
                    <span class="mini-note">"recovered ÷ succeeded"</span>
                </span>
            </div>
            <div class="kind-bars" aria-label="Failed attempts by kind">
                <h3 class="kind-bars-title">"Failed attempts by kind"</h3>
                {dynamic(move || bars.get().unwrap_or_default().into_iter().map(kind_bar).collect_view().into_any())}
            </div>
        </section>
    }
}

fn kind_bar(bar: KindBar) -> impl IntoView {
    let name = bar.kind.as_str();
    let (glyph, retry) = if bar.kind.retryable() {
        ("↻", "retryable")
    } else {
        ("■", "not retryable")
    };
    view! {
        <div class="kind-bar" data-kind=name data-retryable=bar.kind.retryable().to_string()>
            <span class="kind-bar-name">{name}</span>
            <span class="kind-bar-retry">
                <span aria-hidden="true">{glyph}</span>
                " "
                {retry}
            </span>
            <span class="kind-bar-track" aria-hidden="true">
                <span class="kind-bar-fill" style=format!("width: {:.1}%", bar.share * 100.0)></span>
            </span>
            <span class="kind-bar-n" data-counter=format!("failures_{name}")>{bar.count}</span>
        </div>
    }
}

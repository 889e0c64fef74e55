//! `drop-adaptive`: a monitor samples the queue's fill and sets a load level;
//! the producer then refuses tasks below the level's minimum priority (a
//! policy drop), and a full queue still drops (a queue-full drop). The gauge
//! shows the fill against both thresholds, and the two kinds of drop side by side.

use crate::view::counters::{Counters, Extra};
use super::scene::OverloadScene;
use crate::view::{run_memo, text};
use crate::state::present::{duration_text, level_rule, trim_number};
use leptos::prelude::*;
use shared::pattern::drop_adaptive::DropAdaptiveParams;
use shared::{LoadLevel, ParamSet};

#[component]
pub fn DropAdaptive(run: String) -> impl IntoView {
    let load = run_memo(&run, |s| s.overload().load);
    let thresholds = run_memo(&run, |s| {
        let p = DropAdaptiveParams::read(&s.params);
        (
            f64::from(p.medium_pct),
            f64::from(p.high_pct),
            p.sample_ms.as_millis() as f64,
        )
    });
    let split = run_memo(&run, |s| {
        (s.overload().policy_drops, s.overload().queue_full_drops)
    });

    let level = move || load.get().flatten().map(|l| l.level);
    let level_key = move || match level() {
        Some(LoadLevel::High) => "high",
        Some(LoadLevel::Medium) => "medium",
        Some(LoadLevel::Low) => "low",
        None => "none",
    };
    let fill_pct = move || {
        load.get()
            .flatten()
            .map(|l| {
                if l.capacity == 0 {
                    0.0
                } else {
                    f64::from(l.queued) * 100.0 / f64::from(l.capacity)
                }
            })
            .unwrap_or(0.0)
    };
    let (medium, high, sample) = (
        move || thresholds.get().map_or(50.0, |t| t.0),
        move || thresholds.get().map_or(80.0, |t| t.1),
        move || thresholds.get().map_or(500.0, |t| t.2),
    );
    let (policy, queue_full) = (
        move || split.get().map_or(0, |s| s.0),
        move || split.get().map_or(0, |s| s.1),
    );
    let share = move |n: u64| {
        let total = policy() + queue_full();
        if total == 0 {
            0.0
        } else {
            n as f64 * 100.0 / total as f64
        }
    };

    view! {
        <div class="load-panel">
            <div class="load" data-level=text(move || level_key().to_owned())>
                <div class="load-level">
                    <span class="load-icon" aria-hidden="true"></span>
                    <span class="load-caption">"Load level"</span>
                    <strong class="load-word">
                        {text(move || level().map_or("not sampled yet", |l| l.as_str()).to_owned())}
                    </strong>
                    <span class="load-rule">{text(move || load.get().flatten().map(|l| level_rule(l.min_priority)).unwrap_or_default())}</span>
                </div>
                <div class="gauge" role="img" aria-label=text(move || format!("queue {:.0}% full", fill_pct()))>
                    <div class="gauge-fill" style:width=text(move || format!("{}%", fill_pct()))></div>
                    <span class="gauge-text">
                        {text(move || {
                            load.get()
                                .flatten()
                                .map(|l| {
                                    // The time says how old the reading is: after the
                                    // last one the queue may well have emptied.
                                    let at = duration_text(l.at_ms as f64);
                                    format!("{} of {} queued ({:.0}%) at {at}", l.queued, l.capacity, fill_pct())
                                })
                                .unwrap_or_else(|| "no reading yet".to_owned())
                        })}
                        " · read every "
                        {text(move || trim_number(sample(), 0))}
                        " ms"
                    </span>
                    <div class="gauge-mark" style:left=text(move || format!("{}%", medium()))>
                        <span>"MEDIUM > " {text(move || trim_number(medium(), 0))} "%"</span>
                    </div>
                    <div class="gauge-mark gauge-mark-high" style:left=text(move || format!("{}%", high()))>
                        <span>"HIGH > " {text(move || trim_number(high(), 0))} "%"</span>
                    </div>
                </div>
            </div>
            <div class="split" role="group" aria-label="Why tasks were dropped">
                <div class="split-row" data-reason="policy">
                    <span class="split-label">"Refused by policy"</span>
                    <span class="split-bar">
                        <span class="split-fill" style:width=text(move || format!("{}%", share(policy())))></span>
                    </span>
                    <span class="split-n">{text(move || policy().to_string())}</span>
                </div>
                <div class="split-row" data-reason="queue_full">
                    <span class="split-label">"Queue full"</span>
                    <span class="split-bar">
                        <span class="split-fill" style:width=text(move || format!("{}%", share(queue_full())))></span>
                    </span>
                    <span class="split-n">{text(move || queue_full().to_string())}</span>
                </div>
            </div>
        </div>
        <OverloadScene run=run.clone() show_priority=true />
        <Counters run extras=vec![Extra::DropSplit] />
    }
}

//! The run's counters in large type: where every task ended up.
//!
//! Each value element carries `data-counter="<name>"` and holds only the
//! number, so it reads cleanly and tests can parse it.

use super::{run_memo, text};
use crate::state::present::drop_rate_text;
use leptos::prelude::*;
use shared::Counters as Tally;
use shared::OverloadScene as Scene;

/// Pattern-specific counters shown below the common ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Extra {
    /// The blocking producer's total time spent waiting for a slot.
    BlockedTime,
    /// Queued tasks pushed out by higher-priority ones.
    Evicted,
    /// Drops refused by the load policy vs drops at a full queue.
    DropSplit,
}

#[component]
pub fn Counters(run: String, #[prop(optional)] extras: Vec<Extra>) -> impl IntoView {
    let tally = run_memo(&run, |s| s.counters);
    let scene = run_memo(&run, |s| SceneTally::of(s.overload()));
    let value = move |f: fn(&Tally) -> u64| {
        text(move || tally.get().map(|c| f(&c)).unwrap_or(0).to_string())
    };
    let extra = move |f: fn(&SceneTally) -> u64| {
        text(move || scene.get().map(|s| f(&s)).unwrap_or(0).to_string())
    };

    view! {
        <section class="counters" aria-label="Counters">
            <div class="counter-grid">
                {counter("submitted", "Submitted", "", "", value(|c| c.submitted))}
                {counter("in_flight", "In flight", "", "", value(|c| c.in_flight))}
                {counter("completed", "Completed", "good", "✓", value(|c| c.completed))}
                {counter("failed", "Failed", "bad", "✗", value(|c| c.failed))}
                {counter("dropped", "Dropped", "drop", "↓", value(|c| c.dropped))}
                <div class="counter" data-tone="drop">
                    <span class="counter-label">"Drop rate"</span>
                    <span class="counter-value">
                        <span data-counter="drop_rate">
                            {text(move || tally.get().map(|c| drop_rate_text(&c)).unwrap_or_else(|| "0.0".into()))}
                        </span>
                        <span class="counter-unit">"%"</span>
                    </span>
                </div>
            </div>
            <div class="counter-strip">
                {extras
                    .iter()
                    .map(|e| match e {
                        Extra::BlockedTime => {
                            view! {
                                <span class="mini mini-strong" data-tone="wait">
                                    <span class="mini-label">"Producer blocked"</span>
                                    <span class="mini-value" data-counter="blocked_ms">
                                        {extra(|s| s.blocked_ms)}
                                    </span>
                                    <span class="mini-unit">"ms"</span>
                                </span>
                            }
                                .into_any()
                        }
                        Extra::Evicted => {
                            view! {
                                <span class="mini mini-strong" data-tone="drop">
                                    <span class="mini-label">"Evicted"</span>
                                    <span class="mini-value" data-counter="evicted">
                                        {extra(|s| s.evictions)}
                                    </span>
                                </span>
                                <span class="mini mini-strong" data-tone="drop">
                                    <span class="mini-label">"Queue full"</span>
                                    <span class="mini-value" data-counter="queue_full_drops">
                                        {extra(|s| s.queue_full)}
                                    </span>
                                </span>
                            }
                                .into_any()
                        }
                        Extra::DropSplit => {
                            view! {
                                <span class="mini mini-strong" data-tone="drop">
                                    <span class="mini-label">"Policy drops"</span>
                                    <span class="mini-value" data-counter="policy_drops">
                                        {extra(|s| s.policy)}
                                    </span>
                                </span>
                                <span class="mini mini-strong" data-tone="drop">
                                    <span class="mini-label">"Queue-full drops"</span>
                                    <span class="mini-value" data-counter="queue_full_drops">
                                        {extra(|s| s.queue_full)}
                                    </span>
                                </span>
                            }
                                .into_any()
                        }
                    })
                    .collect_view()}
                // Outcomes other families use; here they stay at zero unless a run is stopped.
                <span class="mini mini-group">
                    <span class="mini-label">"Cancelled"</span>
                    <span class="mini-value" data-counter="cancelled">
                        {value(|c| c.cancelled)}
                    </span>
                    <span class="mini-label">"Rejected"</span>
                    <span class="mini-value" data-counter="rejected">
                        {value(|c| c.rejected)}
                    </span>
                    <span class="mini-label">"Timed out"</span>
                    <span class="mini-value" data-counter="timed_out">
                        {value(|c| c.timed_out)}
                    </span>
                </span>
            </div>
        </section>
    }
}

/// The scene's own tallies that the counters show.
#[derive(Debug, Clone, Copy, PartialEq)]
struct SceneTally {
    blocked_ms: u64,
    evictions: u64,
    policy: u64,
    queue_full: u64,
}

impl SceneTally {
    fn of(scene: &Scene) -> SceneTally {
        SceneTally {
            blocked_ms: scene.blocked_ms,
            evictions: scene.evictions,
            policy: scene.policy_drops,
            queue_full: scene.queue_full_drops,
        }
    }
}

pub(super) fn counter(
    name: &'static str,
    label: &'static str,
    tone: &'static str,
    icon: &'static str,
    value: impl Fn() -> String + Send + Sync + 'static,
) -> impl IntoView {
    view! {
        <div class="counter" data-tone=tone>
            <span class="counter-label">
                {(!icon.is_empty()).then(|| view! { <span class="counter-icon" aria-hidden="true">{icon}</span> })}
                {label}
            </span>
            <span class="counter-value" data-counter=name>
                {value}
            </span>
        </div>
    }
}

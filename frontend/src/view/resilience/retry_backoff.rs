//! `retry-backoff`: a burst of clients call a downstream that serves only a
//! few at a time. A retryable failure is tried again after a wait that
//! doubles each time, up to a cap; a failure that would only happen again
//! is not retried. Without jitter the clients retry in lockstep (a
//! thundering herd: spikes in the "attempts per 100 ms" strip); with
//! jitter their retries spread out.

use super::panels::{DownstreamPanel, ResilienceCounters, Rows, Timelines, flip_switch};
use crate::view::{Ctx, ctx, run_memo, text};
use crate::net;
use leptos::prelude::*;
use shared::pattern::retry_backoff::RetryBackoffParams;
use shared::{Command, ParamSet, PatternId};

#[component]
pub fn RetryBackoff(run: String) -> impl IntoView {
    view! {
        <div class="resilience rb-layout">
            <div class="rb-top">
                <DownstreamPanel run=run.clone() compact=true />
                <JitterSwitch run=run.clone() />
            </div>
            <Timelines run=run.clone() rows=Rows::Clients />
            <ResilienceCounters run />
        </div>
    }
}

/// The jitter switch, in words as well as position, and the way to see a
/// fresh burst with the new setting.
#[component]
fn JitterSwitch(run: String) -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let on = run_memo(&run, |s| RetryBackoffParams::read(&s.params).retry.jitter);
    let on = move || on.get().unwrap_or(false);
    // Whether a change applies at once or restarts the run, as the server says.
    let live = Memo::new(move |_| {
        crate::view::with_patterns(|m| {
            m.pattern(PatternId::RetryBackoff)
                .and_then(|p| p.params.iter().find(|s| s.name == "jitter"))
                .is_none_or(|s| s.live)
        })
    });
    let pending = RwSignal::new(false);
    let flip = {
        let run = run.clone();
        move |_| {
            flip_switch(model, &run, "jitter", !on(), pending);
        }
    };
    let restart = move |_| net::send(model, run.clone(), vec![Command::Restart]);
    view! {
        <section class="jitter" data-jitter=text(move || if on() { "on" } else { "off" }.to_owned())>
            <button
                type="button"
                class="btn switch"
                role="switch"
                data-action="jitter"
                aria-checked=text(move || on().to_string())
                disabled=move || pending.get()
                on:click=flip
            >
                <span class="switch-track" aria-hidden="true">
                    <span class="switch-knob"></span>
                </span>
                <span class="switch-label">"Jitter: "</span>
                <strong class="switch-state">{text(move || if on() { "ON" } else { "OFF" }.to_owned())}</strong>
            </button>
            <p class="jitter-what">
                {text(move || {
                    if on() {
                        "Each client waits a random time between 0 and the backoff: their retries spread out.".to_owned()
                    } else {
                        "Every client waits exactly the backoff: their retries arrive together.".to_owned()
                    }
                })}
            </p>
            <p class="jitter-hint">
                {text(move || {
                    if live.get() {
                        "It applies to the next waits. To see a whole burst with it:".to_owned()
                    } else {
                        "Changing it restarts the run. To replay the burst:".to_owned()
                    }
                })}
                <button type="button" class="btn btn-small" data-action="replay" on:click=restart>
                    <span class="btn-icon" aria-hidden="true">"↻"</span>
                    <span class="btn-label">"Restart"</span>
                </button>
            </p>
        </section>
    }
}

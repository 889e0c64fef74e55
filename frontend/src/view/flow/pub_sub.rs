//! `pub-sub`: publishers send messages on topics to a broker, which copies
//! each to every subscriber whose pattern matches (`orders.*`,
//! `*.created`, `*`). Each subscriber has its own buffer: a slow one loses
//! messages when its buffer is full instead of holding up the publishers
//! or the other subscribers. Subscribers come and go while it runs.

use super::stages::{FlowCounters, FlowView, flow_of};
use crate::view::{Ctx, ctx, run_memo, text};
use crate::net;
use crate::state::flow::{Subscriber, subscribers, topics_seen};
use leptos::prelude::*;
use shared::{Command, StageId};

#[component]
pub fn PubSub(run: String) -> impl IntoView {
    view! {
        <div class="flow-page">
            <SubscriberBoard run=run.clone() />
            <FlowView run=run.clone() />
            <FlowCounters run />
        </div>
    }
}

/// Every subscriber with its delivered and dropped counts in large type,
/// its Unsubscribe button, and the form that adds one.
#[component]
fn SubscriberBoard(run: String) -> impl IntoView {
    let subs = run_memo(&run, |s| flow_of(s).map(subscribers).unwrap_or_default());
    let ids = Memo::new(move |_| {
        subs.with(|s| {
            s.as_ref()
                .map(|s| s.iter().map(|s| s.stage).collect::<Vec<_>>())
                .unwrap_or_default()
        })
    });
    let card_run = run.clone();
    view! {
        <section class="flow-panel subscribers" aria-label="Subscribers">
            <div class="box-head">
                <h3>"Subscribers: delivered vs dropped"</h3>
                <span class="box-note">"each has its own buffer; a full one drops, never blocks"</span>
            </div>
            <div class="subscriber-cards">
                <For each=move || ids.get() key=|id| *id let:stage>
                    <SubscriberCard run=card_run.clone() subs stage />
                </For>
            </div>
            <SubscribeForm run />
        </section>
    }
}

#[component]
fn SubscriberCard(
    run: String,
    subs: Memo<Option<Vec<Subscriber>>>,
    stage: StageId,
) -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let sub = Memo::new(move |_| {
        subs.with(|s| {
            s.as_ref()
                .and_then(|s| s.iter().find(|s| s.stage == stage))
                .cloned()
        })
    });
    let num = move |f: fn(&Subscriber) -> u64| {
        text(move || sub.with(|s| s.as_ref().map_or(0, f)).to_string())
    };
    let stopped = move || sub.with(|s| s.as_ref().is_some_and(|s| s.stopped));
    let pending = RwSignal::new(false);
    let unsubscribe = move |_| {
        pending.set(true);
        net::send_then(
            model,
            run.clone(),
            vec![Command::Unsubscribe { subscriber: stage }],
            move |_| {
                pending.try_set(false);
            },
        );
    };
    view! {
        <article
            class="subscriber"
            data-subscriber=stage
            data-delivered=num(|s| s.delivered)
            data-dropped=num(|s| s.dropped)
            data-stopped=text(move || stopped().to_string())
        >
            <header class="subscriber-head">
                <h3>{text(move || sub.with(|s| s.as_ref().map(|s| s.label.clone()).unwrap_or_default()))}</h3>
                <code class="subscriber-topic">
                    {text(move || sub.with(|s| s.as_ref().and_then(|s| s.topic.clone()).unwrap_or_default()))}
                </code>
            </header>
            <div class="subscriber-numbers">
                <span class="sub-number" data-tone="good">
                    <span class="sub-number-label"><span aria-hidden="true">"✓ "</span>"delivered"</span>
                    <strong>{num(|s| s.delivered)}</strong>
                </span>
                <span class="sub-number" data-tone="drop">
                    <span class="sub-number-label"><span aria-hidden="true">"↓ "</span>"dropped"</span>
                    <strong>{num(|s| s.dropped)}</strong>
                </span>
            </div>
            <p class="subscriber-lost">{text(move || sub.with(|s| s.as_ref().map(Subscriber::lost_text).unwrap_or_default()))}</p>
            <p class="subscriber-gone" hidden=move || !stopped()>
                <span aria-hidden="true">"■ "</span>
                "unsubscribed"
            </p>
            <button
                type="button"
                class="btn btn-small"
                data-action="unsubscribe"
                title="Remove this subscriber while the run goes on"
                disabled=move || pending.get() || stopped()
                hidden=stopped
                on:click=unsubscribe
            >
                <span class="btn-icon" aria-hidden="true">"✗"</span>
                <span class="btn-label">"Unsubscribe"</span>
            </button>
        </article>
    }
}

/// A text field for a topic pattern and a Subscribe button, with the
/// wildcard rule in words and the topics seen so far that it would match.
#[component]
fn SubscribeForm(run: String) -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let topic = RwSignal::new(String::new());
    let pending = RwSignal::new(false);
    let seen = run_memo(&run, |s| flow_of(s).map(topics_seen).unwrap_or_default());
    let matching = move || {
        let pattern = topic.get();
        let pattern = pattern.trim();
        if pattern.is_empty() {
            return String::new();
        }
        let hits: Vec<String> = seen
            .get()
            .unwrap_or_default()
            .into_iter()
            .filter(|t| shared::flow::topic::matches(pattern, t))
            .collect();
        if hits.is_empty() {
            "matches none of the topics seen so far".to_owned()
        } else {
            format!("would receive: {}", hits.join(", "))
        }
    };
    let subscribe = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let wanted = topic.get_untracked().trim().to_owned();
        if wanted.is_empty() {
            return;
        }
        pending.set(true);
        net::send_then(
            model,
            run.clone(),
            vec![Command::Subscribe { topic: wanted }],
            move |accepted| {
                pending.try_set(false);
                if accepted {
                    topic.try_set(String::new());
                }
            },
        );
    };
    view! {
        <form class="subscribe-form" on:submit=subscribe>
            <div class="subscribe-row">
            <label class="subscribe-label" for="subscribe-topic">"Subscribe to"</label>
            <input
                id="subscribe-topic"
                class="subscribe-input"
                type="text"
                data-input="topic"
                placeholder="orders.*"
                autocomplete="off"
                spellcheck="false"
                prop:value=move || topic.get()
                on:input=move |ev| topic.set(event_target_value(&ev))
            />
            <button
                type="submit"
                class="btn btn-primary"
                data-action="subscribe"
                disabled=move || pending.get() || topic.with(|t| t.trim().is_empty())
            >
                <span class="btn-icon" aria-hidden="true">"+"</span>
                <span class="btn-label">"Subscribe"</span>
            </button>
            </div>
            <p class="subscribe-rule">
                "A topic is words joined by dots (lowercase letters, digits, _). "
                <code>"*"</code>
                " matches exactly one word: "
                <code>"orders.*"</code>
                " takes orders.created, not orders.created.eu; "
                <code>"*.created"</code>
                " takes every created. "
                <code>"*"</code>
                " alone matches every topic."
            </p>
            <p class="subscribe-preview" hidden=move || topic.with(|t| t.trim().is_empty())>
                {text(matching)}
            </p>
        </form>
    }
}

//! `drop-blocking`: the same load with a blocking send. Nothing is dropped;
//! the producer waits for a slot instead (backpressure), which the scene
//! shows as a BLOCKED producer and the counters as total time blocked.

use crate::view::counters::{Counters, Extra};
use super::scene::OverloadScene;
use crate::view::{dynamic, run_memo};
use crate::state::present::duration_text;
use leptos::prelude::*;

#[component]
pub fn DropBlocking(run: String) -> impl IntoView {
    let blocked = run_memo(&run, |s| {
        (
            s.overload().blocked_ms,
            s.overload().blocked_since_ms.is_some(),
        )
    });
    view! {
        <div class="callout" data-tone="wait" role="status">
            <span class="callout-icon" aria-hidden="true">"❚❚"</span>
            {dynamic(move || match blocked.get() {
                Some((_, true)) => {
                    view! {
                        <span>
                            <strong>"Backpressure now: "</strong>
                            "the queue is full, so the producer holds its task and waits. Nothing is thrown away."
                        </span>
                    }
                        .into_any()
                }
                Some((ms, false)) if ms > 0 => {
                    view! {
                        <span>
                            <strong>"The producer has waited " {duration_text(ms as f64)} " in total. "</strong>
                            "A blocking send slows the producer down to the workers' pace."
                        </span>
                    }
                        .into_any()
                }
                _ => {
                    view! {
                        <span>
                            <strong>"Blocking send: "</strong>
                            "when the queue is full the producer waits for a slot instead of dropping the task."
                        </span>
                    }
                        .into_any()
                }
            })}
        </div>
        <OverloadScene run=run.clone() blocking=true />
        <Counters run extras=vec![Extra::BlockedTime] />
    }
}

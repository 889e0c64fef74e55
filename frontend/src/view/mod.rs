//! Components. They read the [`Model`] through signals and send commands via
//! [`crate::net`]; none of them changes the model's runs themselves.
//!
//! Each pattern has its view file (`drop_basic.rs`, `cancel_tree.rs`, ...),
//! composed from its family's shared pieces: `overload.rs` (producer, queue,
//! workers, drop bin), `tree.rs` (the cancellation tree), `resilience.rs`
//! (the circuit breaker, the downstream, the attempt timelines) or
//! `flow.rs` (stages, channels and the items moving through them).

mod chrome;
mod controls;
mod counters;
mod flow;
mod overload;
mod page;
mod resilience;
mod session;
mod tree;

use crate::net;
use crate::state::Model;
use leptos::prelude::*;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;
use shared::{PatternId, RunSnapshot};
use std::sync::Arc;
use wasm_bindgen::JsCast;

/// Declares every pattern's view, one line each: its module, its component
/// and its pattern. The component takes the run's id as `run`.
macro_rules! views {
    ($($module:ident :: $component:ident => $pattern:ident,)+) => {
        $(mod $module;)+

        /// The pattern's own view of `run`.
        pub(crate) fn scene(pattern: PatternId, run: String) -> AnyView {
            match pattern {
                $(PatternId::$pattern => {
                    use $module::$component;
                    view! { <$component run /> }.into_any()
                })+
            }
        }
    };
}

views! {
    drop_basic::DropBasic => DropBasic,
    drop_priority::DropPriority => DropPriority,
    drop_adaptive::DropAdaptive => DropAdaptive,
    drop_blocking::DropBlocking => DropBlocking,
    cancel_workers::CancelWorkers => CancelWorkers,
    cancel_tree::CancelTree => CancelTree,
    request_values::RequestValues => RequestValues,
    errgroup::Errgroup => Errgroup,
    timeout::Timeout => Timeout,
    graceful_shutdown::GracefulShutdown => GracefulShutdown,
    cancel_fanout::CancelFanout => CancelFanout,
    circuit_breaker::CircuitBreaker => CircuitBreaker,
    retry_backoff::RetryBackoff => RetryBackoff,
    resilient_pool::ResilientPool => ResilientPool,
    basics::Basics => Basics,
    worker_pool::WorkerPool => WorkerPool,
    fan_out_fan_in::FanOutFanIn => FanOutFanIn,
    pipeline::Pipeline => Pipeline,
    tee::Tee => Tee,
    rate_limit::RateLimit => RateLimit,
    semaphore::Semaphore => Semaphore,
    pub_sub::PubSub => PubSub,
    singleflight::Singleflight => Singleflight,
    supervised::Supervised => Supervised,
}

/// Reactive text (or attribute value). Every call site shares one closure
/// type, so the renderer is compiled once instead of once per call site:
/// this keeps the WebAssembly download small.
pub fn text(
    f: impl Fn() -> String + Send + Sync + 'static,
) -> impl Fn() -> String + Send + Sync + Clone + 'static {
    erased_text(Arc::new(f))
}

fn erased_text(
    f: Arc<dyn Fn() -> String + Send + Sync>,
) -> impl Fn() -> String + Send + Sync + Clone + 'static {
    move || f()
}

/// A reactive piece of view, erased like [`text`].
pub fn dynamic(
    f: impl Fn() -> AnyView + Send + Sync + 'static,
) -> impl Fn() -> AnyView + Send + Sync + 'static {
    erased_view(Arc::new(f))
}

fn erased_view(
    f: Arc<dyn Fn() -> AnyView + Send + Sync>,
) -> impl Fn() -> AnyView + Send + Sync + 'static {
    move || f()
}

/// What every component can reach: the model, and the wall clock that ticks
/// once per animation frame (for progress bars between events).
#[derive(Debug, Clone, Copy)]
pub struct Ctx {
    pub model: RwSignal<Model>,
    pub wall: RwSignal<f64>,
}

pub fn ctx() -> Ctx {
    expect_context::<Ctx>()
}

/// A value derived from one run's snapshot, recomputed when the model
/// changes but passed on only when it differs, so the DOM is touched only
/// where something really changed.
pub fn run_memo<T>(
    run: &str,
    f: impl Fn(&RunSnapshot) -> T + Send + Sync + 'static,
) -> Memo<Option<T>>
where
    T: PartialEq + Send + Sync + 'static,
{
    let model = ctx().model;
    let run = run.to_owned();
    Memo::new(move |_| model.with(|m| m.run(&run).map(&f)))
}

/// The run's estimated virtual time, in whole milliseconds, every frame.
pub fn virtual_now(run: &str) -> Memo<f64> {
    let Ctx { model, wall } = ctx();
    let run = run.to_owned();
    Memo::new(move |_| {
        let wall = wall.get();
        model
            .with(|m| m.virtual_now(&run, wall))
            .unwrap_or(0.0)
            .round()
    })
}

/// The whole app: header, navigation, the routed page, toasts.
#[component]
pub fn App() -> impl IntoView {
    let model = RwSignal::new(Model::default());
    let wall = RwSignal::new(net::wall_ms());
    provide_context(Ctx { model, wall });
    let session = session::Session::provide();
    net::start(model);
    tick(wall);
    // On a narrow screen the navigation is a drawer the header opens.
    let nav_open = RwSignal::new(false);

    view! {
        <Router>
            <a class="skip-link" href="#controls" on:click=move |ev| {
                ev.prevent_default();
                let target = if session.present.get_untracked() { "run-bar" } else { "controls" };
                focus_by_id(if session.on_screen.get_untracked().is_some() { target } else { "main" });
            }>
                "Skip to the controls"
            </a>
            <div class="shell" data-nav-open=move || nav_open.get().to_string()>
                <chrome::Header nav_open />
                <chrome::Nav nav_open />
                <main class="main" id="main" tabindex="-1">
                    <Routes fallback=|| view! { <chrome::NotFound /> }>
                        <Route path=path!("/") view=chrome::Welcome />
                        <Route path=path!("/p/:id") view=page::PatternRoute />
                    </Routes>
                </main>
            </div>
            <session::Shortcuts />
            <chrome::Toasts />
        </Router>
    }
}

/// Moves the keyboard focus to the element with `id`, if there is one.
pub fn focus_by_id(id: &str) {
    if let Some(el) = document().get_element_by_id(id) {
        focus(&el);
    }
}

/// Moves the keyboard focus to `el`.
pub fn focus(el: &web_sys::Element) {
    // `focus` belongs to HTMLElement, which the app does not bind: call it by name.
    if let Ok(focus) = js_sys::Reflect::get(el, &"focus".into())
        && let Some(focus) = focus.dyn_ref::<js_sys::Function>()
    {
        let _ = focus.call0(el);
    }
}

/// Advances the wall-clock signal once per animation frame, for the life of
/// the page. Browsers pause this in hidden tabs, which is what we want.
fn tick(wall: RwSignal<f64>) {
    request_animation_frame(move || {
        wall.set(net::wall_ms());
        tick(wall);
    });
}

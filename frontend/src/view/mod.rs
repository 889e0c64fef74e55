//! Components. They read the [`Model`] through signals and send commands via
//! [`crate::net`]; none of them changes the model's runs themselves.
//!
//! Each family has a folder (`overload`, `cancellation`, `resilience`,
//! `flow`) with the pieces its views share and one view file per pattern,
//! listed once in the family's registry (`views!` in the folder's `mod.rs`).

mod cancellation;
mod chrome;
mod classroom;
mod code;
mod controls;
mod counters;
mod flow;
mod history;
mod overload;
mod page;
mod resilience;
mod route;
mod session;
mod timeline;

use crate::net;
use crate::state::Model;
use leptos::prelude::*;
use shared::{Family, PatternId, RunSnapshot};
use std::sync::Arc;
use wasm_bindgen::JsCast;

/// Declares a family's views, one line each: the module (a file in the
/// family's folder), its component and its pattern. The component takes
/// the run's id as `run`.
macro_rules! views {
    ($($module:ident :: $component:ident => $pattern:ident,)+) => {
        $(mod $module;)+

        /// The family's patterns, each with a view.
        pub(crate) const PATTERNS: &[shared::PatternId] = &[$(shared::PatternId::$pattern),+];

        /// The view of `run`, if its pattern is one of the family's.
        pub(crate) fn scene(
            pattern: shared::PatternId,
            run: String,
        ) -> Option<leptos::prelude::AnyView> {
            use leptos::prelude::*;
            match pattern {
                $(shared::PatternId::$pattern => {
                    use $module::$component;
                    Some(view! { <$component run /> }.into_any())
                })+
                _ => None,
            }
        }
    };
}
pub(crate) use views;

/// The patterns `family` has views for.
const fn family_views(family: Family) -> &'static [PatternId] {
    match family {
        Family::Overload => overload::PATTERNS,
        Family::Cancellation => cancellation::PATTERNS,
        Family::Resilience => resilience::PATTERNS,
        Family::Flow => flow::PATTERNS,
    }
}

/// Every pattern has a view in its family's registry, or the frontend
/// does not compile.
const _: () = {
    let mut i = 0;
    while i < PatternId::COUNT {
        let pattern = PatternId::ALL[i];
        let views = family_views(pattern.family());
        let mut found = false;
        let mut j = 0;
        while j < views.len() {
            found |= views[j] as usize == pattern as usize;
            j += 1;
        }
        assert!(found, "a pattern has no view in its family's registry");
        i += 1;
    }
};

/// The pattern's own view of `run`.
pub(crate) fn scene(pattern: PatternId, run: String) -> AnyView {
    match pattern.family() {
        Family::Overload => overload::scene(pattern, run),
        Family::Cancellation => cancellation::scene(pattern, run),
        Family::Resilience => resilience::scene(pattern, run),
        Family::Flow => flow::scene(pattern, run),
    }
    .unwrap_or_else(|| unreachable!("checked when compiled: {pattern} has a view"))
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
    /// Follows [`Model::patterns_set`]: changes when the pattern list does.
    pub catalog: Memo<u32>,
}

pub fn ctx() -> Ctx {
    expect_context::<Ctx>()
}

/// Reads the pattern list (and whatever else of the model `f` reads, as it
/// is now), subscribing the caller to the list alone. The list is set once,
/// while the model changes with every event: a view of the patterns' titles
/// or parameters read through `model.with` would be recomputed, cloned and
/// compared on every batch.
pub fn with_patterns<T>(f: impl FnOnce(&Model) -> T) -> T {
    let Ctx { model, catalog, .. } = ctx();
    catalog.track();
    model.with_untracked(f)
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
    snapshot_memo(run, f, Model::run)
}

/// [`run_memo`] of the run as it is now, even while the timeline shows an
/// earlier instant: for the controls, which act on the present.
pub fn live_memo<T>(
    run: &str,
    f: impl Fn(&RunSnapshot) -> T + Send + Sync + 'static,
) -> Memo<Option<T>>
where
    T: PartialEq + Send + Sync + 'static,
{
    snapshot_memo(run, f, Model::live)
}

fn snapshot_memo<T>(
    run: &str,
    f: impl Fn(&RunSnapshot) -> T + Send + Sync + 'static,
    which: for<'m> fn(&'m Model, &str) -> Option<&'m RunSnapshot>,
) -> Memo<Option<T>>
where
    T: PartialEq + Send + Sync + 'static,
{
    let model = ctx().model;
    let run = run.to_owned();
    Memo::new(move |_| model.with(|m| which(m, &run).map(&f)))
}

/// The run's estimated virtual time, in whole milliseconds, every frame.
pub fn virtual_now(run: &str) -> Memo<f64> {
    let Ctx { model, wall, .. } = ctx();
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
    let catalog = Memo::new(move |_| model.with(Model::patterns_set));
    provide_context(Ctx {
        model,
        wall,
        catalog,
    });
    let route = route::Route::provide();
    let page = Memo::new(move |_| route::Page::of(&route.path.get()));
    let session = session::Session::provide();
    classroom::Following::provide();
    net::start(model);
    // The tab follows the run on screen and no other; the navigation
    // shows the rest from the stream's summaries.
    let on_screen = Memo::new(move |_| match page.get() {
        route::Page::Pattern(id) => Some(
            route
                .query
                .with(|q| route::query_value(q, "run"))
                .unwrap_or(id),
        ),
        _ => None,
    });
    Effect::new(move || net::follow(model, on_screen.get().into_iter().collect()));
    tick(wall);
    // On a narrow screen the navigation is a drawer the header opens.
    let nav_open = RwSignal::new(false);

    view! {
        <>
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
                {dynamic(move || match page.get() {
                    route::Page::Welcome => view! { <chrome::Welcome /> }.into_any(),
                    route::Page::Pattern(id) => view! { <page::PatternRoute id /> }.into_any(),
                    route::Page::NotFound => view! { <chrome::NotFound /> }.into_any(),
                })}
            </main>
        </div>
        <session::Shortcuts />
        <classroom::ClassSync />
        <classroom::QuestionCard />
        <history::DropReplay />
        <chrome::Toasts />
        </>
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
    call_focus(el, &wasm_bindgen::JsValue::UNDEFINED);
}

/// Moves the keyboard focus to `el` without scrolling the page to it: for
/// a control the pointer is already on.
pub fn focus_in_place(el: &web_sys::Element) {
    let options = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&options, &"preventScroll".into(), &true.into());
    call_focus(el, &options);
}

fn call_focus(el: &web_sys::Element, options: &wasm_bindgen::JsValue) {
    // `focus` belongs to HTMLElement, which the app does not bind: call it by name.
    if let Ok(focus) = js_sys::Reflect::get(el, &"focus".into())
        && let Some(focus) = focus.dyn_ref::<js_sys::Function>()
    {
        let _ = focus.call1(el, options);
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

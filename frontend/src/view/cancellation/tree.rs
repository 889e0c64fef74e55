//! The cancellation family's scene: the token tree drawn with its root at
//! the top and tasks as leaves, and the counters of where the tasks ended.
//!
//! Every node is a button: a click (or Enter) cancels its subtree on the
//! server. A card shows the node's state in words, the cause when it was
//! cancelled, a ring counting down its deadline, its progress, and the gap
//! between "cancel requested" and "the task noticed", which is the heart of
//! cooperative cancellation. A cancellation sweeps down the tree level by
//! level (a CSS delay per level below the cancelled node), so the room sees
//! which way it travels. Wide levels are grouped and many plain tasks drawn
//! as cells, so trees of a thousand nodes stay readable.

use crate::net;
use crate::state::present::duration_text;
use crate::state::tree::{
    Layout, NodeLook, cause_text, kind_icon, kind_text, layout_of, state_counts, state_icon,
    state_text,
};
use crate::view::counters::counter;
use crate::view::{Ctx, ctx, dynamic, text, virtual_now};
use leptos::prelude::*;
use shared::cancellation::{NodeId, NodeKind, NodeState, TreeScene};
use shared::{Cause, Command};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// Numbers the drawings of cells (see [`CellEl::drawing`]).
static DRAWINGS: AtomicU64 = AtomicU64::new(0);

/// What every node of one tree view shares.
#[derive(Debug, Clone)]
struct TreeCtx {
    run: String,
    /// The run's estimated virtual time, for rings and waiting times.
    now: Memo<f64>,
    /// Each drawn node's own signals, fed by the view's one diff.
    nodes: StoredValue<HashMap<NodeId, NodeSignals>>,
    /// The cells, which the diff updates directly (see [`cell`]).
    cells: StoredValue<HashMap<NodeId, CellEl>, LocalStorage>,
    /// The view's owner: node signals live as long as the view, not as
    /// long as the subtree that first drew them.
    owner: Owner,
    /// Whether the run is running: a node's buttons only make sense then.
    running: Memo<bool>,
}

/// One node's live state. A thousand nodes each reading the whole model
/// would each re-subscribe to it on every event; instead one effect per
/// view diffs the tree after each change and sets only what changed.
#[derive(Debug, Clone, Copy)]
struct NodeSignals {
    look: RwSignal<Option<NodeLook>>,
    kids: RwSignal<Kids>,
}

/// A cell's element and what it shows now.
#[derive(Debug, Clone)]
struct CellEl {
    el: web_sys::Element,
    label: String,
    shown: (NodeState, Option<Cause>),
    /// Which drawing of the cell this is, so a redrawn cell's cleanup
    /// does not remove its successor.
    drawing: u64,
}

impl CellEl {
    /// Writes the cell's state, cause and title, if they changed.
    fn show(&mut self, look: Option<&NodeLook>) {
        let now = look.map_or((NodeState::Live, None), |l| (l.state, l.cause));
        if now == self.shown {
            return;
        }
        self.shown = now;
        let (state, cause) = now;
        // Setting an attribute on an element the page holds cannot fail.
        let _ = self.el.set_attribute("data-state", state.as_str());
        let _ = self
            .el
            .set_attribute("data-cause", cause.map_or("", Cause::as_str));
    }

    /// Brings the cell's title (its name for a pointer or a screen reader)
    /// up to date. Done when someone points at or focuses it, not on every
    /// change of a thousand cells.
    fn name(&self) {
        let _ = self
            .el
            .set_attribute("title", &cell_title(&self.label, self.shown));
    }
}

fn name_cell(cells: StoredValue<HashMap<NodeId, CellEl>, LocalStorage>, id: NodeId) {
    cells.with_value(|m| {
        if let Some(cell) = m.get(&id) {
            cell.name();
        }
    });
}

/// What a cell says of itself: its label, state and cause.
fn cell_title(label: &str, (state, cause): (NodeState, Option<Cause>)) -> String {
    let cause = cause
        .map(|c| format!(" ({})", cause_text(c)))
        .unwrap_or_default();
    format!("{label}: {}{cause}", state_text(state))
}

/// A node's children, and whether they are all leaves (for the layout).
#[derive(Debug, Clone, Default, PartialEq)]
struct Kids {
    ids: Vec<NodeId>,
    all_leaves: bool,
}

impl Kids {
    fn of(tree: &TreeScene, node: &shared::TreeNode) -> Kids {
        Kids {
            ids: node.children.clone(),
            all_leaves: node
                .children
                .iter()
                .all(|c| tree.node(*c).is_none_or(|c| c.children.is_empty())),
        }
    }
}

/// What the tree says of `id` now: its look and its children.
fn read_node(tree: Option<&TreeScene>, id: NodeId) -> (Option<NodeLook>, Kids) {
    tree.and_then(|t| {
        t.node(id)
            .map(|n| (Some(NodeLook::of(t, n)), Kids::of(t, n)))
    })
    .unwrap_or_default()
}

/// The signals of node `id`, made (from the tree as it is) the first time
/// the node is drawn.
fn signals(tctx: &TreeCtx, id: NodeId) -> NodeSignals {
    if let Some(found) = tctx.nodes.with_value(|m| m.get(&id).copied()) {
        return found;
    }
    let Ctx { model, .. } = ctx();
    let (look, kids) =
        model.with_untracked(|m| read_node(m.run(&tctx.run).and_then(|s| s.tree()), id));
    let made = tctx.owner.with(|| NodeSignals {
        look: RwSignal::new(look),
        kids: RwSignal::new(kids),
    });
    tctx.nodes.update_value(|m| {
        m.insert(id, made);
    });
    made
}

/// A node's parts that never change: read once when its card is made.
#[derive(Debug, Clone, PartialEq)]
struct Fixed {
    label: String,
    kind: NodeKind,
    values: Vec<(String, String)>,
    can_fail: bool,
}

/// Reads the run's tree, if it has one, and subscribes the caller to it.
fn with_tree<T>(run: &str, f: impl FnOnce(&TreeScene) -> T) -> Option<T> {
    let Ctx { model, .. } = ctx();
    model.with(|m| m.run(run).and_then(|s| s.tree()).map(f))
}

/// Reads the run's tree once, without subscribing: for what a node never
/// changes. Read tracked while a parent renders, it would make the parent
/// redraw its whole subtree on every event.
fn peek_tree<T>(run: &str, f: impl FnOnce(&TreeScene) -> T) -> Option<T> {
    let Ctx { model, .. } = ctx();
    model.with_untracked(|m| m.run(run).and_then(|s| s.tree()).map(f))
}

#[component]
pub fn TreeView(run: String) -> impl IntoView {
    let Ctx { model, .. } = ctx();
    let tctx = TreeCtx {
        run: run.clone(),
        now: virtual_now(&run),
        nodes: StoredValue::new(HashMap::new()),
        cells: StoredValue::new_local(HashMap::new()),
        owner: Owner::current().unwrap_or_default(),
        running: {
            let running = crate::view::run_memo(&run, |s| s.status == shared::RunStatus::Running);
            Memo::new(move |_| running.get().unwrap_or(false))
        },
    };
    // The one diff: after each change of the model, every drawn node whose
    // look or children changed is told, and no other.
    let (nodes, cells) = (tctx.nodes, tctx.cells);
    let diff_run = run.clone();
    Effect::new(move || {
        model.with(|m| {
            let tree = m.run(&diff_run).and_then(|s| s.tree());
            cells.update_value(|map| {
                for (id, cell) in map.iter_mut() {
                    let look = tree.and_then(|t| t.node(*id).map(|n| NodeLook::of(t, n)));
                    cell.show(look.as_ref());
                }
            });
            nodes.with_value(|map| {
                for (id, node) in map {
                    let (look, kids) = read_node(tree, *id);
                    if node.look.with_untracked(|l| *l != look) {
                        node.look.set(look);
                    }
                    if node.kids.with_untracked(|k| *k != kids) {
                        node.kids.set(kids);
                    }
                }
            });
        });
    });
    let has_root = {
        let run = run.clone();
        Memo::new(move |_| with_tree(&run, |t| t.root().is_some()).unwrap_or(false))
    };
    let counts = {
        let run = run.clone();
        Memo::new(move |_| with_tree(&run, state_counts).unwrap_or_default())
    };
    let size = {
        let run = run.clone();
        Memo::new(move |_| with_tree(&run, |t| t.nodes.len()).unwrap_or(0))
    };
    view! {
        <section class="tree-panel" aria-label="Cancellation tree">
            <div class="tree-head">
                <h3>"Cancellation tree"</h3>
                <span class="tree-hint">"Click a node to cancel it and everything below it"</span>
                <span class="tree-summary" data-nodes=text(move || size.get().to_string())>
                    {dynamic(move || {
                        counts
                            .get()
                            .into_iter()
                            .map(|(state, n)| {
                                view! {
                                    <span class="tree-count" data-state=state.as_str()>
                                        <span aria-hidden="true">{state_icon(state)}</span>
                                        {format!(" {n} {}", state_text(state))}
                                    </span>
                                }
                            })
                            .collect_view()
                            .into_any()
                    })}
                </span>
            </div>
            <div class="tree" id="tree">
                {dynamic(move || {
                    if has_root.get() {
                        view! {
                            <ul class="tree-children tree-top" data-layout="spread">
                                <li class="tree-branch">{node_item(tctx.clone(), 0, false)}</li>
                            </ul>
                        }
                            .into_any()
                    } else {
                        view! { <p class="tree-empty">"Press Start: the tree grows as the engine makes its tokens."</p> }
                            .into_any()
                    }
                })}
            </div>
            <Legend />
        </section>
    }
}

/// A node and, below it, its children laid out by how many there are.
fn node_item(tctx: TreeCtx, id: NodeId, compact: bool) -> AnyView {
    let run = tctx.run.clone();
    let fixed = peek_tree(&run, |t| {
        t.node(id).map(|n| Fixed {
            label: n.spec.label.clone(),
            kind: n.spec.kind,
            values: n.spec.values.clone(),
            can_fail: n.spec.can_fail,
        })
    })
    .flatten();
    let Some(fixed) = fixed else {
        return ().into_any();
    };
    let node = signals(&tctx, id);
    let look = Memo::new(move |_| node.look.get());
    let shape = Memo::new(move |_| {
        node.kids
            .with(|k| (layout_of(k.ids.len(), k.all_leaves, compact), k.ids.clone()))
    });
    let card = if compact {
        compact_card(tctx.clone(), id, fixed, look).into_any()
    } else {
        node_card(tctx.clone(), id, fixed, look).into_any()
    };
    let children = dynamic(move || {
        let (layout, _) = shape.get();
        let kids = move || shape.get().1;
        let tctx = tctx.clone();
        match layout {
            Layout::Leaf => ().into_any(),
            Layout::Spread => view! {
                <ul class="tree-children" data-layout="spread">
                    <For each=kids key=|id| *id let:child>
                        <li class="tree-branch">{node_item(tctx.clone(), child, false)}</li>
                    </For>
                </ul>
            }
            .into_any(),
            // Cards in rows, or (too many subtrees to draw in full)
            // compact subtrees in rows.
            Layout::Wrapped | Layout::Grouped => {
                let compact = layout == Layout::Grouped;
                view! {
                    <div class="tree-children" data-layout=layout.as_str()>
                        <For each=kids key=|id| *id let:child>
                            {node_item(tctx.clone(), child, compact)}
                        </For>
                    </div>
                }
                .into_any()
            }
            Layout::Cells => view! {
                <div class="tree-children" data-layout="cells">
                    <For each=kids key=|id| *id let:child>
                        {cell(tctx.clone(), child)}
                    </For>
                </div>
            }
            .into_any(),
        }
    });
    view! {
        <div
            class="tree-node"
            data-compact=compact.to_string()
            data-children=text(move || shape.with(|(l, _)| l.as_str()).to_owned())
        >
            {card}
            {children}
        </div>
    }
    .into_any()
}

/// Sends a cancel for `node`; the server's answer (or refusal) comes back
/// through the stream or as a toast.
fn cancel(run: &str, node: NodeId) {
    let Ctx { model, .. } = ctx();
    net::send(model, run.to_owned(), vec![Command::Cancel { node }]);
}

/// The attributes every clickable node shares: its state and the cause of
/// its cancellation (empty while live), which the styles and tests read.
fn marks(
    look: Memo<Option<NodeLook>>,
) -> (impl Fn() -> String + Clone, impl Fn() -> String + Clone) {
    let state = text(move || {
        look.with(|l| l.as_ref().map_or("live", |l| l.state.as_str()))
            .to_owned()
    });
    let cause = text(move || {
        look.with(|l| l.as_ref().and_then(|l| l.cause))
            .map_or(String::new(), |c| c.as_str().to_owned())
    });
    (state, cause)
}

/// A full card: label, state, cause, deadline ring, progress, values, the
/// cooperative gap, and the actions a viewer can take on it.
fn node_card(
    tctx: TreeCtx,
    id: NodeId,
    fixed: Fixed,
    look: Memo<Option<NodeLook>>,
) -> impl IntoView {
    let run = tctx.run.clone();
    let now = tctx.now;
    let (state, cause) = marks(look);
    // How many levels below the cancelled node: the sweep's delay.
    let depth = text(move || {
        format!(
            "--depth: {}",
            look.with(|l| l.as_ref().map_or(0, |l| l.depth_from_origin))
        )
    });
    let label = fixed.label.clone();
    // A click anywhere on the card cancels it; the button inside carries
    // the keyboard and the accessible name (its own words, and what it does).
    let on_click = {
        let run = run.clone();
        move |_| cancel(&run, id)
    };
    let kind = fixed.kind;
    let label_of = {
        let run = run.clone();
        move |node: NodeId| {
            peek_tree(&run, |t| t.node(node).map(|n| n.spec.label.clone())).flatten()
        }
    };
    view! {
        <div
            class="node"
            data-node=id
            data-kind=kind_text(kind)
            data-state=state
            data-cause=cause
            style=depth
            on:click=on_click
        >
            <button type="button" class="node-main">
            <span class="node-head">
                <span class="node-kind" title=kind_text(kind) aria-hidden="true">{kind_icon(kind)}</span>
                <span class="sr-only">{kind_text(kind)} " "</span>
                <span class="node-label">{label}</span>
                {dynamic(move || ring(look, now).into_any())}
            </span>
            <span class="node-state">
                <span class="node-state-icon" aria-hidden="true">
                    {text(move || look.get().map_or("●", |l| state_icon(l.state)).to_owned())}
                </span>
                <span class="node-state-text">
                    {text(move || look.get().map_or("live", |l| l.state_text()).to_owned())}
                </span>
                {dynamic(move || {
                    look.get()
                        .and_then(|l| l.cause_text(label_of.clone()))
                        .map(|c| view! { <span class="node-cause">"cause: " <strong>{c}</strong></span> })
                        .into_any()
                })}
            </span>
            <span class="sr-only">". Cancel it and everything below it"</span>
            </button>
            {dynamic(move || gap(look, now).into_any())}
            {dynamic(move || progress(look, kind).into_any())}
            {(!fixed.values.is_empty())
                .then(|| {
                    view! {
                        <ul class="node-values" aria-label="values">
                            {fixed
                                .values
                                .iter()
                                .map(|(k, v)| view! { <li><span class="value-key">{k.clone()}</span>"="<span class="value-val">{v.clone()}</span></li> })
                                .collect_view()}
                        </ul>
                    }
                })}
            {dynamic(move || {
                look.get()
                    .and_then(|l| l.error.clone().or(l.note.clone()))
                    .map(|note| view! { <div class="node-note">{note}</div> })
                    .into_any()
            })}
            {dynamic({
                let run = run.clone();
                let running = tctx.running;
                move || actions(&run, id, fixed.can_fail, look, running).into_any()
            })}
        </div>
    }
}

/// A small card for a node inside a grouped level: its label and state,
/// still clickable.
fn compact_card(
    tctx: TreeCtx,
    id: NodeId,
    fixed: Fixed,
    look: Memo<Option<NodeLook>>,
) -> impl IntoView {
    let run = tctx.run.clone();
    let (state, cause) = marks(look);
    let label = fixed.label.clone();
    let title = {
        let label = label.clone();
        text(move || {
            let l = look.get();
            let state = l.as_ref().map_or("live", |l| l.state_text());
            let cause = l
                .and_then(|l| l.cause)
                .map(|c| format!(" ({})", cause_text(c)))
                .unwrap_or_default();
            format!("{label}: {state}{cause}")
        })
    };
    let on_click = {
        let run = run.clone();
        move |ev: leptos::ev::MouseEvent| {
            ev.stop_propagation();
            cancel(&run, id);
        }
    };
    view! {
        <button
            type="button"
            class="node node-compact"
            data-node=id
            data-kind=kind_text(fixed.kind)
            data-state=state
            data-cause=cause
            title=title
            on:click=on_click
        >
            <span class="node-state-icon" aria-hidden="true">
                {text(move || look.get().map_or("●", |l| state_icon(l.state)).to_owned())}
            </span>
            <span class="node-label">{label}</span>
        </button>
    }
}

/// One task among many, as a cell. A thousand cells each with their own
/// reactive attributes would wake a thousand effects on a cancel; instead
/// the view's diff writes the few attributes a cell has straight onto its
/// element.
fn cell(tctx: TreeCtx, id: NodeId) -> impl IntoView {
    let run = tctx.run.clone();
    let (label, look) = peek_tree(&run, |t| {
        t.node(id)
            .map(|n| (n.spec.label.clone(), NodeLook::of(t, n)))
    })
    .flatten()
    .map_or((String::new(), None), |(label, look)| (label, Some(look)));
    let shown = look
        .as_ref()
        .map_or((NodeState::Live, None), |l| (l.state, l.cause));
    let element = NodeRef::<leptos::html::Button>::new();
    let cells = tctx.cells;
    let title = cell_title(&label, shown);
    let drawing = DRAWINGS.fetch_add(1, Ordering::Relaxed);
    element.on_load(move |el| {
        cells.update_value(|map| {
            map.insert(
                id,
                CellEl {
                    el: el.into(),
                    label,
                    shown,
                    drawing,
                },
            );
        });
    });
    on_cleanup(move || {
        cells.update_value(|map| {
            if map.get(&id).is_some_and(|c| c.drawing == drawing) {
                map.remove(&id);
            }
        });
    });
    view! {
        <button
            type="button"
            class="cell"
            node_ref=element
            data-node=id
            data-state=shown.0.as_str()
            data-cause=shown.1.map_or("", Cause::as_str)
            // Its accessible name too: a cell has no text of its own.
            title=title
            on:click=move |_| cancel(&run, id)
            on:pointerenter=move |_| name_cell(cells, id)
            on:focus=move |_| name_cell(cells, id)
        ></button>
    }
}

/// The ring that counts a deadline down, and its time in words.
fn ring(look: Memo<Option<NodeLook>>, now: Memo<f64>) -> impl IntoView {
    let has = look.with(|l| l.as_ref().is_some_and(|l| l.deadline_ms.is_some()));
    has.then(|| {
        let left = move || look.with(|l| l.as_ref().and_then(|l| l.deadline_left(now.get()))).unwrap_or(0.0);
        let words = move || look.with(|l| l.as_ref().and_then(|l| l.deadline_text(now.get()))).unwrap_or_default();
        let at = move || look.with(|l| l.as_ref().and_then(|l| l.deadline_ms)).unwrap_or(0);
        view! {
            <span class="ring" title=text(move || format!("deadline at {}", duration_text(at() as f64)))>
                <svg viewBox="0 0 36 36" aria-hidden="true">
                    <circle class="ring-track" cx="18" cy="18" r="15.9155" />
                    <circle
                        class="ring-left"
                        cx="18"
                        cy="18"
                        r="15.9155"
                        data-low=text(move || (left() < 0.25).to_string())
                        style:stroke-dashoffset=text(move || format!("{:.2}", 100.0 * (1.0 - left())))
                    />
                </svg>
                <span class="ring-text">{text(words)}</span>
            </span>
        }
    })
}

/// The cooperative gap: "cancel requested … ago" while the task has not
/// noticed, "noticed after …" once it has.
fn gap(look: Memo<Option<NodeLook>>, now: Memo<f64>) -> impl IntoView {
    let shows = look.with(|l| {
        l.as_ref().is_some_and(|l| {
            l.cancelled_ms.is_some() && l.state != NodeState::Cancelled
                || l.ended_ms.is_some() && l.cancelled_ms.is_some()
        })
    });
    let waiting = look.with(|l| l.as_ref().is_some_and(|l| l.state == NodeState::Cancelling));
    shows.then(|| {
        view! {
            <div class="node-gap" data-waiting=waiting.to_string()>
                {text(move || look.with(|l| l.as_ref().and_then(|l| l.gap_text(now.get()))).unwrap_or_default())}
            </div>
        }
    })
}

fn progress(look: Memo<Option<NodeLook>>, kind: NodeKind) -> impl IntoView {
    let words = look.with(|l| l.as_ref().and_then(|l| l.progress_text(kind)));
    let share = look.with(|l| l.as_ref().and_then(NodeLook::progress));
    words.map(|words| {
        view! {
            <div class="node-progress">
                {share
                    .map(|s| {
                        view! {
                            <span class="node-bar" aria-hidden="true">
                                <span class="node-bar-fill" style=format!("transform: scaleX({s:.3})")></span>
                            </span>
                        }
                    })}
                <span class="node-progress-text">{words}</span>
            </div>
        }
    })
}

/// The buttons on a live node: move its deadline, or make it fail.
fn actions(
    run: &str,
    id: NodeId,
    can_fail: bool,
    look: Memo<Option<NodeLook>>,
    running: Memo<bool>,
) -> impl IntoView {
    let live = running.get() && look.with(|l| l.as_ref().is_some_and(NodeLook::cancellable));
    let Ctx { model, .. } = ctx();
    live.then(|| {
        let deadline = look.with_untracked(|l| l.as_ref().and_then(|l| l.deadline_ms));
        let extend = {
            let run = run.to_owned();
            move |ev: leptos::ev::MouseEvent| {
                ev.stop_propagation();
                // +1 s on the deadline it has now, or a first deadline 1 s
                // from now, counted from the run's clock at the click.
                let now = model
                    .with_untracked(|m| m.virtual_now(&run, net::wall_ms()))
                    .unwrap_or(0.0);
                let deadline = look.with_untracked(|l| l.as_ref().and_then(|l| l.deadline_ms));
                let in_ms = deadline.map_or(1_000.0, |d| (d as f64 - now).max(0.0) + 1_000.0);
                let command = Command::SetDeadline {
                    node: id,
                    in_ms: in_ms.round() as i64,
                };
                net::send(model, run.clone(), vec![command]);
            }
        };
        let fail = {
            let run = run.to_owned();
            move |ev: leptos::ev::MouseEvent| {
                ev.stop_propagation();
                net::send(model, run.clone(), vec![Command::Fail { node: id }]);
            }
        };
        let extend_label = if deadline.is_some() { "+1 s deadline" } else { "deadline in 1 s" };
        view! {
            <div class="node-actions">
                <button type="button" class="node-btn" data-action="deadline" on:click=extend>
                    <span aria-hidden="true">"◷ "</span>
                    {extend_label}
                </button>
                {can_fail
                    .then(|| {
                        view! {
                            <button type="button" class="node-btn node-btn-bad" data-action="fail" on:click=fail>
                                <span aria-hidden="true">"✗ "</span>
                                "Make it fail"
                            </button>
                        }
                    })}
            </div>
        }
    })
}

/// What the colours and marks mean, in words.
#[component]
fn Legend() -> impl IntoView {
    let states = NodeState::ALL;
    let causes = [
        Cause::Manual,
        Cause::Deadline,
        Cause::Parent,
        Cause::FirstError,
        Cause::Shutdown,
    ];
    view! {
        <div class="tree-legend" aria-label="Legend">
            {states
                .into_iter()
                .map(|s| {
                    view! {
                        <span class="legend-item" data-state=s.as_str()>
                            <span class="legend-swatch" aria-hidden="true">{state_icon(s)}</span>
                            {state_text(s)}
                        </span>
                    }
                })
                .collect_view()}
            <span class="legend-sep">"cause:"</span>
            {causes
                .into_iter()
                .map(|c| view! { <span class="legend-cause">{cause_text(c)}</span> })
                .collect_view()}
        </div>
    }
}

/// Where the tasks ended: the family's counters.
#[component]
pub fn TreeCounters(run: String) -> impl IntoView {
    let tally = crate::view::run_memo(&run, |s| s.counters);
    let extra = crate::view::run_memo(&run, |s| {
        s.tree().map(|t| {
            (
                t.leaked,
                t.queued,
                t.average_completed_ms(s.counters.completed),
            )
        })
    });
    let value = move |f: fn(&shared::Counters) -> u64| {
        text(move || tally.get().map(|c| f(&c)).unwrap_or(0).to_string())
    };
    let leaked = text(move || extra.get().flatten().map_or(0, |e| e.0).to_string());
    let queued = text(move || extra.get().flatten().map_or(0, |e| e.1).to_string());
    let average = text(move || {
        extra
            .get()
            .flatten()
            .and_then(|e| e.2)
            .map_or_else(|| "–".to_owned(), duration_text)
    });
    view! {
        <section class="counters" aria-label="Counters">
            <div class="counter-grid counter-grid-tree">
                {counter("submitted", "Submitted", "", "", value(|c| c.submitted))}
                {counter("in_flight", "In flight", "", "", value(|c| c.in_flight))}
                {counter("completed", "Completed", "good", "✓", value(|c| c.completed))}
                {counter("cancelled", "Cancelled", "drop", "✕", value(|c| c.cancelled))}
                {counter("timed_out", "Timed out", "wait", "◷", value(|c| c.timed_out))}
                {counter("failed", "Failed", "bad", "✗", value(|c| c.failed))}
            </div>
            <div class="counter-strip">
                <span class="mini mini-strong" data-tone="bad">
                    <span class="mini-label">"Leaked"</span>
                    <span class="mini-value" data-counter="leaked">{leaked}</span>
                </span>
                <span class="mini mini-strong">
                    <span class="mini-label">"Queued"</span>
                    <span class="mini-value" data-counter="queued">{queued}</span>
                </span>
                <span class="mini mini-strong" data-tone="good">
                    <span class="mini-label">"Average time to complete"</span>
                    <span class="mini-value" data-counter="average_ms">{average}</span>
                </span>
            </div>
        </section>
    }
}

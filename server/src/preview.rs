//! The scene a run will open with, drawn before anyone presses Start.
//!
//! The pattern's own engine is run off to the side: on a runtime of its
//! own whose time is paused, on a virtual clock held at zero, folding into a
//! snapshot of its own. Paused time moves on only once every task is
//! waiting, so when a one-millisecond sleep ends the engine has done
//! everything it does at its first instant: made its tree with its
//! deadlines, declared its stages and channels, set up its breaker. That
//! scene, with everything that moved taken out ([`Scene::blueprint`]), is
//! the preview; the side run is then dropped, tasks and all. Nothing is
//! drawn by hand, so the preview cannot drift from what the engine does.

use crate::clock::Clock;
use crate::engines::cancellation::tree::Tree;
use crate::engines::{self, Ctx, ORDERS};
use crate::run::reset_event;
use crate::sink::Sink;
use shared::{Family, Params, PatternId, RunEvent, RunSnapshot, RunStatus, Scene};
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// The preview of `pattern` with `params` and `seed`; `None` if the side
/// runtime could not be made. The overload family's reset already draws
/// its queue and workers, so it needs none.
pub fn draw(pattern: PatternId, run: &str, params: Params, seed: u64) -> Option<Scene> {
    if pattern.family() == Family::Overload {
        return None;
    }
    let run = run.to_owned();
    // A thread of its own: the caller may be on a runtime, where another
    // cannot be entered.
    std::thread::scope(|scope| {
        scope
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_time()
                    .start_paused(true)
                    .build()
                    .ok()?;
                Some(runtime.block_on(first_instant(pattern, run, params, seed)))
            })
            .join()
            .ok()
            .flatten()
    })
}

async fn first_instant(pattern: PatternId, run: String, params: Params, seed: u64) -> Scene {
    let clock = Clock::frozen();
    let sink = Sink::detached(clock.clone(), RunSnapshot::new(run, pattern));
    sink.emit(reset_event(params.clone(), seed));
    sink.emit(RunEvent::Status {
        status: RunStatus::Running,
    });
    let token = CancellationToken::new();
    // Nobody sends orders or changes parameters here.
    let (_orders, inbox) = mpsc::channel(ORDERS);
    let (_params, params) = watch::channel(params);
    let ctx = Ctx::new(
        clock.clone(),
        sink.clone(),
        token.clone(),
        params,
        seed,
        inbox,
    );
    if pattern.family() == Family::Cancellation {
        let _ = ctx.tree.set(Tree::new(&token, sink.clone(), clock));
    }
    let engine = tokio::spawn(engines::run(pattern, ctx));
    tokio::time::sleep(Duration::from_millis(1)).await;
    let scene = sink.scene().blueprint();
    token.cancel();
    engine.abort();
    scene
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::cancellation::NodeState;

    #[test]
    fn a_tree_is_drawn_with_its_deadlines_before_anything_runs() {
        let params = PatternId::CancelTree.preset();
        let Some(Scene::Tree(tree)) = draw(PatternId::CancelTree, "cancel-tree", params, 42) else {
            panic!("cancel-tree has a tree preview");
        };
        let labels: Vec<&str> = tree.nodes.values().map(|n| n.spec.label.as_str()).collect();
        assert_eq!(tree.nodes.len(), 6, "{labels:?}");
        let root = &tree.nodes[&0];
        assert_eq!(root.spec.deadline_ms, Some(5000));
        for node in tree.nodes.values() {
            assert!(node.cancelled.is_none() && node.ended.is_none() && node.started_ms.is_none());
            assert_ne!(node.state(), NodeState::Cancelled);
        }
    }

    #[test]
    fn every_pattern_beyond_overload_opens_with_something_to_look_at() {
        for pattern in PatternId::ALL {
            let scene = draw(pattern, pattern.as_str(), pattern.preset(), 42);
            match (pattern.family(), scene) {
                (Family::Overload, None) => {}
                (Family::Cancellation, Some(Scene::Tree(t))) => {
                    assert!(!t.nodes.is_empty(), "{pattern}: no node")
                }
                (Family::Flow, Some(Scene::Flow(f))) => {
                    assert!(!f.stages.is_empty(), "{pattern}: no stage");
                    assert!(f.items.is_empty(), "{pattern}: an item before Start");
                }
                (Family::Resilience, Some(Scene::Resilience(r))) => {
                    let moved = r.jobs.iter().any(|j| !j.attempts.is_empty());
                    assert!(!moved, "{pattern}: a call before Start");
                    assert_eq!(r.breaker.is_some(), pattern.has_breaker(), "{pattern}");
                }
                (family, scene) => panic!("{pattern} ({family:?}): preview {scene:?}"),
            }
        }
    }
}

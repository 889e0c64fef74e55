//! Error group: tasks run together; the first to fail cancels the others,
//! and waiting for the group returns that first error.
//!
//! Three fetches (users, orders, products) run at once under one group
//! scope. When one returns an error, the group keeps it and cancels its own
//! token, which every sibling sees at its next await point; errors returned
//! after the first are dropped. Waiting for the group waits for all three to
//! return, and answers the first error or, if there was none, every result.

use crate::engines::{About, Prompt, Ctx};
use super::tree::{Cause, NodeId, NodeKind, ROOT, Tree};
use shared::pattern::errgroup::ErrgroupParams;
use shared::cancellation::TaskEnd;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio_util::task::TaskTracker;

/// Every fetch works in steps of this long, and looks at its token between them.
const STEP: Duration = Duration::from_millis(100);

/// One of the group's calls.
struct Fetch {
    name: &'static str,
    /// How long it takes.
    took: fn(&ErrgroupParams) -> Duration,
    /// What its upstream answers when it fails.
    error: &'static str,
}

const FETCHES: [Fetch; 3] = [
    Fetch {
        name: "users",
        took: |p| p.users_ms,
        error: "user service answered 503",
    },
    Fetch {
        name: "orders",
        took: |p| p.orders_ms,
        error: "order service answered 503",
    },
    Fetch {
        name: "products",
        took: |p| p.products_ms,
        error: "catalog service answered 503",
    },
];

pub const ABOUT: About = About {
    title: "Error group",
    summary: "Three fetches run at once in one group: users (800 ms), orders (1.8 s) and \
                  products (2.4 s). At 1 s the order service answers 503: the group keeps that \
                  first error and cancels its token, so products stops at once; users had \
                  already returned. Waiting for the group returns the orders error.",
    try_this: "Set the failing fetch to 0 and all three results come back. Or make \
                   products fail before 1 s: its error is the one wait returns, and the \
                   orders failure never comes.",
    questions: &[Prompt {
        at_ms: 900,
        text: "At 1 s the orders fetch fails. What happens to products, due at 2.4 s?",
        choices: &["It runs to its end", "It is cancelled at once", "It is retried"],
        answer: 1,
    }],
};

/// What the fetches share: the group's scope and the first error returned.
#[derive(Debug)]
struct Group {
    tree: Tree,
    scope: NodeId,
    first: Mutex<Option<String>>,
}

impl Group {
    /// Ends a fetch that returned `error`, keeping the error if it is the
    /// first. The first cancels the group. Returns whether it was first.
    fn returned_error(&self, node: NodeId, end: TaskEnd, error: String) -> bool {
        // Held while the fetch ends, so the first error recorded is the
        // first one kept, whatever runs in between.
        let mut first = self.first.lock().unwrap_or_else(PoisonError::into_inner);
        self.tree.end(node, end, false);
        if first.is_some() {
            return false;
        }
        *first = Some(error);
        // Refused only if the group was already cancelled from outside,
        // which stopped everyone anyway.
        let _ = self.tree.cancel(self.scope, Cause::FirstError);
        true
    }

    fn first_error(&self) -> Option<String> {
        self.first
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

pub async fn run(ctx: Ctx) {
    let p: ErrgroupParams = ctx.params.get();
    let (tree, _keeper) = Tree::open(&ctx, "caller");
    let Some(scope) = tree.add(ROOT, "group", NodeKind::Scope).create() else {
        return;
    };
    let group = Arc::new(Group {
        tree: tree.clone(),
        scope,
        first: Mutex::new(None),
    });
    let fetches = TaskTracker::new();
    for (number, f) in (1..).zip(&FETCHES) {
        let took = (f.took)(&p);
        let Some(node) = tree
            .add(scope, format!("fetch {}", f.name), NodeKind::Task)
            .steps(steps(took))
            .can_fail()
            .create()
        else {
            continue;
        };
        let fails_at = (p.fail_fetch == number).then_some(p.fail_at_ms);
        let job = fetch(Arc::clone(&group), node, f, took, fails_at);
        ctx.tracker.spawn(fetches.track_future(job));
    }
    fetches.close();
    // Wait returns only once every fetch has returned, failed or not.
    fetches.wait().await;
    let answer = match group.first_error() {
        Some(error) => format!("wait returned: {error}"),
        None => format!("wait returned: all {} results", FETCHES.len()),
    };
    tree.note(scope, answer);
}

/// How many steps a fetch taking `took` has; the last may be shorter.
fn steps(took: Duration) -> u32 {
    took.as_millis().div_ceil(STEP.as_millis()) as u32
}

/// One fetch: works step by step until done, until its upstream fails
/// (at `fails_at` after it starts, or when a viewer makes it fail), or until
/// its token is cancelled.
async fn fetch(
    group: Arc<Group>,
    node: NodeId,
    f: &'static Fetch,
    took: Duration,
    fails_at: Option<Duration>,
) {
    let tree = &group.tree;
    let start = tree.clock().now();
    let fails_at = fails_at.map(|d| start + d);
    let upstream_failed =
        || tree.take_failure(node) || fails_at.is_some_and(|at| tree.clock().now() >= at);
    let fail = || {
        let error = format!("{}: {}", f.name, f.error);
        let end = TaskEnd::Failed {
            error: error.clone(),
        };
        let note = if group.returned_error(node, end, error) {
            "the first error: the group cancels the others"
        } else {
            "a later error: wait drops it"
        };
        tree.note(node, note);
    };
    tree.started(node);
    let total = steps(took);
    let mut done = 0;
    loop {
        if upstream_failed() {
            return fail();
        }
        if done == total {
            tree.note(node, format!("returned {}", f.name));
            tree.end(node, TaskEnd::Completed, false);
            return;
        }
        let step_end = start + (STEP * (done + 1)).min(took);
        // A failure due within this step ends it there.
        let wake = fails_at.filter(|at| *at < step_end).unwrap_or(step_end);
        match tree.pause_until(node, wake).await {
            Ok(()) if tree.clock().now() >= step_end => {
                done += 1;
                tree.step(node, done);
            }
            Ok(()) => {}
            Err(stopped) => {
                // An error already in hand when it looks is what it
                // returns, even if its token was cancelled too.
                if upstream_failed() {
                    return fail();
                }
                let error = format!("{}: {}", f.name, stopped.reason());
                let note = if group.returned_error(node, stopped.end(), error) {
                    format!("stopped: {}; the group's first error", stopped.reason())
                } else {
                    format!("stopped: {}", stopped.reason())
                };
                tree.note(node, note);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engines::trial::{self, Driven};
    use shared::cancellation::{Cause, TaskEnd};
    use shared::{Command, Event, PatternId, RunEvent, RunStatus};

    fn failed(error: &str) -> TaskEnd {
        TaskEnd::Failed {
            error: error.to_owned(),
        }
    }

    const ORDERS_503: &str = "orders: order service answered 503";
    const PRODUCTS_503: &str = "products: catalog service answered 503";

    /// The group with `changes`, run to its end after a viewer made
    /// products fail `at_ms` into it.
    async fn products_made_to_fail(changes: &[(&str, f64)], at_ms: u64) -> Driven {
        let mut d = Driven::start(PatternId::Errgroup, changes, 42).await;
        d.until(at_ms).await;
        let products = d.node("fetch products").id();
        d.command(Command::Fail { node: products })
            .await
            .expect("a running fetch can be made to fail");
        d.finish().await;
        d
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_error_cancels_the_siblings_and_is_what_wait_returns() {
        let t = trial::run(PatternId::Errgroup, &[], 42).await;
        let users = t.node("fetch users");
        assert_eq!(users.ended, Some((TaskEnd::Completed, 800)));
        assert_eq!(users.step, 8);
        let orders = t.node("fetch orders");
        assert_eq!(orders.ended, Some((failed(ORDERS_503), 1000)));
        assert_eq!(orders.step, 10, "it failed before its 11th step");
        let group = t.node("group");
        let cancel = group.cancelled.expect("the group was cancelled");
        assert_eq!((cancel.cause, cancel.at_ms), (Cause::FirstError, 1000));
        let products = t.node("fetch products");
        assert_eq!(products.ended, Some((TaskEnd::Cancelled, 1000)));
        let reached = products.cancelled.expect("the cancel reached products");
        assert_eq!((reached.cause, reached.origin), (Cause::Parent, group.id()));
        assert_eq!(products.notice_ms(), Some(0), "it waits on its token");
        assert_eq!(
            products.note.as_deref(),
            Some("stopped: cancelled by the group's first error")
        );
        assert_eq!(
            group.note.as_deref(),
            Some("wait returned: orders: order service answered 503")
        );
        let c = t.end.counters;
        assert_eq!(
            (c.submitted, c.completed, c.failed, c.cancelled),
            (3, 1, 1, 1)
        );
        let finished = t.time_of(|e| {
            matches!(
                e,
                Event::Run(RunEvent::Status {
                    status: RunStatus::Finished
                })
            )
        });
        assert_eq!(finished, Some(1000), "wait returns once products has");
    }

    #[tokio::test(start_paused = true)]
    async fn without_a_failure_wait_returns_every_result() {
        let t = trial::run(PatternId::Errgroup, &[("fail_fetch", 0.0)], 42).await;
        for (label, at) in [
            ("fetch users", 800),
            ("fetch orders", 1800),
            ("fetch products", 2400),
        ] {
            assert_eq!(t.node(label).ended, Some((TaskEnd::Completed, at)));
        }
        let group = t.node("group");
        assert_eq!(group.cancelled, None);
        assert_eq!(group.note.as_deref(), Some("wait returned: all 3 results"));
        assert_eq!(t.end.counters.completed, 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_fetch_made_to_fail_by_a_viewer_is_the_error_wait_returns() {
        let d = products_made_to_fail(&[], 450).await;
        let end = &d.folded;
        let tree = end.tree().expect("a tree");
        // It fails at its next step; orders' own failure at 1 s never comes.
        let products = trial::node(tree, "fetch products");
        assert_eq!(products.ended, Some((failed(PRODUCTS_503), 500)));
        for label in ["fetch users", "fetch orders"] {
            assert_eq!(
                trial::node(tree, label).ended,
                Some((TaskEnd::Cancelled, 500)),
                "{label}"
            );
        }
        let group = trial::node(tree, "group");
        assert_eq!(
            group.cancelled.map(|c| (c.cause, c.at_ms)),
            Some((Cause::FirstError, 500))
        );
        assert_eq!(
            group.note.as_deref(),
            Some("wait returned: products: catalog service answered 503")
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_error_after_the_first_is_dropped() {
        // Orders fails at 950 ms. Products was made to fail at 920 ms, to
        // answer at its next step (1000 ms); the group's cancel wakes it at
        // 950 with that error in hand, so it returns it: the second error.
        let d = products_made_to_fail(&[("fail_at_ms", 950.0)], 920).await;
        let end = &d.folded;
        let tree = end.tree().expect("a tree");
        assert_eq!(
            trial::node(tree, "fetch orders").ended,
            Some((failed(ORDERS_503), 950))
        );
        let products = trial::node(tree, "fetch products");
        assert_eq!(products.ended, Some((failed(PRODUCTS_503), 950)));
        assert_eq!(
            products.note.as_deref(),
            Some("a later error: wait drops it")
        );
        let group = trial::node(tree, "group");
        assert_eq!(
            group.note.as_deref(),
            Some("wait returned: orders: order service answered 503")
        );
        let c = end.counters;
        assert_eq!((c.completed, c.failed, c.cancelled), (1, 2, 0));
    }
}

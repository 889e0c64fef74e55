//! A cancellation tree that remembers why each node was cancelled.
//!
//! The cancelling itself is `tokio_util`'s: every node is a real
//! `CancellationToken`, each child made with `child_token()`, so cancelling a
//! node reaches its whole subtree and never its ancestors or siblings. What
//! tokens do not keep is the cause. This tree records it: the node that was
//! cancelled directly carries the cause it was given (a viewer's click, a
//! deadline, the first error of a group, shutdown), and every descendant
//! that the cancellation reached carries `Parent`.

use std::collections::BTreeMap;
use tokio_util::sync::CancellationToken;

/// A node's number within its tree; the root is 0.
pub type NodeId = u32;

/// Why a node was cancelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// A viewer cancelled it.
    Manual,
    /// Its deadline passed.
    Deadline,
    /// An ancestor was cancelled.
    Parent,
    /// A sibling in its group failed first.
    FirstError,
    /// The server is shutting down.
    Shutdown,
}

#[derive(Debug)]
struct Node {
    token: CancellationToken,
    parent: Option<NodeId>,
    children: Vec<NodeId>,
    cause: Option<Cause>,
}

/// Why a node could not be cancelled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CancelError {
    #[error("no node {0} in this tree")]
    UnknownNode(NodeId),
    #[error("node {0} is already cancelled")]
    AlreadyCancelled(NodeId),
}

/// A tree of cancellation tokens under one root.
#[derive(Debug)]
pub struct TokenTree {
    nodes: Vec<Node>,
}

impl TokenTree {
    /// A tree whose root is a child of `parent` (so shutdown reaches it).
    pub fn new(parent: &CancellationToken) -> TokenTree {
        let root = Node {
            token: parent.child_token(),
            parent: None,
            children: Vec::new(),
            cause: None,
        };
        TokenTree { nodes: vec![root] }
    }

    pub const ROOT: NodeId = 0;

    /// A new node under `parent`; `None` if `parent` does not exist.
    pub fn child(&mut self, parent: NodeId) -> Option<NodeId> {
        let token = self.nodes.get(parent as usize)?.token.child_token();
        let id = NodeId::try_from(self.nodes.len()).ok()?;
        self.nodes.push(Node {
            token,
            parent: Some(parent),
            children: Vec::new(),
            cause: None,
        });
        self.nodes[parent as usize].children.push(id);
        Some(id)
    }

    /// The node's token, for the task that runs under it.
    pub fn token(&self, node: NodeId) -> Option<CancellationToken> {
        self.nodes.get(node as usize).map(|n| n.token.clone())
    }

    pub fn parent(&self, node: NodeId) -> Option<NodeId> {
        self.nodes.get(node as usize)?.parent
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Why the node was cancelled; `None` while it is live.
    pub fn cause(&self, node: NodeId) -> Option<Cause> {
        self.nodes.get(node as usize)?.cause
    }

    /// Cancels `node` for `cause` and returns every node this newly
    /// cancelled with its cause: `node` first, then its descendants in
    /// depth-first order, each with `Parent`. Descendants cancelled earlier
    /// keep their own cause.
    pub fn cancel(
        &mut self,
        node: NodeId,
        cause: Cause,
    ) -> Result<Vec<(NodeId, Cause)>, CancelError> {
        let target = self
            .nodes
            .get(node as usize)
            .ok_or(CancelError::UnknownNode(node))?;
        if target.cause.is_some() {
            return Err(CancelError::AlreadyCancelled(node));
        }
        target.token.cancel();
        let mut reached = Vec::new();
        let mut stack = vec![(node, cause)];
        while let Some((id, cause)) = stack.pop() {
            let n = &mut self.nodes[id as usize];
            if n.cause.is_some() {
                continue; // cancelled before, for its own reason
            }
            debug_assert!(
                n.token.is_cancelled(),
                "tokio-util propagates to every descendant"
            );
            n.cause = Some(cause);
            reached.push((id, cause));
            stack.extend(n.children.iter().rev().map(|&c| (c, Cause::Parent)));
        }
        Ok(reached)
    }

    /// Cancels the whole tree at shutdown (the root's token is already
    /// cancelled by then, through its parent).
    pub fn shut_down(&mut self) -> Vec<(NodeId, Cause)> {
        self.cancel(Self::ROOT, Cause::Shutdown).unwrap_or_default()
    }

    /// Every node and its cause, for a snapshot.
    pub fn causes(&self) -> BTreeMap<NodeId, Option<Cause>> {
        (0..self.nodes.len())
            .map(|i| (i as NodeId, self.nodes[i].cause))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// Whether `node` is `ancestor` or below it.
    fn within(tree: &TokenTree, mut node: NodeId, ancestor: NodeId) -> bool {
        loop {
            if node == ancestor {
                return true;
            }
            match tree.parent(node) {
                Some(p) => node = p,
                None => return false,
            }
        }
    }

    #[test]
    fn cancelling_a_node_cancels_exactly_its_subtree_with_the_right_causes() {
        let mut rng = StdRng::seed_from_u64(11);
        for round in 0..300 {
            let shutdown = CancellationToken::new();
            let mut tree = TokenTree::new(&shutdown);
            for _ in 0..rng.random_range(1..80) {
                let parent = rng.random_range(0..tree.len()) as NodeId;
                tree.child(parent);
            }
            // A few cancellations in a row, so earlier causes must survive later ones.
            for _ in 0..rng.random_range(1..4) {
                let before = tree.causes();
                let target = rng.random_range(0..tree.len()) as NodeId;
                let cause =
                    [Cause::Manual, Cause::Deadline, Cause::FirstError][rng.random_range(0..3)];
                let result = tree.cancel(target, cause);
                if before[&target].is_some() {
                    assert_eq!(
                        result,
                        Err(CancelError::AlreadyCancelled(target)),
                        "round {round}"
                    );
                    continue;
                }
                let reached = result.expect("a live node can be cancelled");
                assert_eq!(
                    reached[0],
                    (target, cause),
                    "round {round}: the target first, with its own cause"
                );
                for id in 0..tree.len() as NodeId {
                    let token = tree.token(id).expect("a node");
                    let below = within(&tree, id, target);
                    let was = before[&id];
                    // The real tokens: exactly the subtree, plus what was cancelled before.
                    assert_eq!(
                        token.is_cancelled(),
                        below || was.is_some(),
                        "round {round}, node {id}"
                    );
                    let expected = match (was, below) {
                        (Some(old), _) => Some(old),
                        (None, true) if id == target => Some(cause),
                        (None, true) => Some(Cause::Parent),
                        (None, false) => None,
                    };
                    assert_eq!(tree.cause(id), expected, "round {round}, node {id}");
                    let newly = reached.iter().any(|(n, _)| *n == id);
                    assert_eq!(newly, below && was.is_none(), "round {round}, node {id}");
                }
            }
        }
    }

    #[test]
    fn shutdown_reaches_every_live_node_and_bad_ids_are_refused() {
        let shutdown = CancellationToken::new();
        let mut tree = TokenTree::new(&shutdown);
        let a = tree.child(TokenTree::ROOT).expect("root exists");
        let b = tree.child(a).expect("a exists");
        assert_eq!(
            tree.cancel(b, Cause::Deadline),
            Ok(vec![(b, Cause::Deadline)])
        );
        assert_eq!(
            tree.cancel(99, Cause::Manual),
            Err(CancelError::UnknownNode(99))
        );
        assert_eq!(tree.child(99), None);
        shutdown.cancel();
        assert!(
            tree.token(a).is_some_and(|t| t.is_cancelled()),
            "the process token reaches the tree"
        );
        let reached = tree.shut_down();
        assert_eq!(
            reached,
            [(TokenTree::ROOT, Cause::Shutdown), (a, Cause::Parent)]
        );
        assert_eq!(
            tree.cause(b),
            Some(Cause::Deadline),
            "b keeps the cause it had"
        );
    }
}

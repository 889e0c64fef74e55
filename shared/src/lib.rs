//! The wire protocol of the concurrency dashboard.
//!
//! Both the server (which runs the pattern engines) and the browser frontend
//! depend on this crate, so every message that crosses the network has exactly
//! one definition. Events are internally tagged (`"type": "..."`) JSON.
//!
//! Besides the types, the crate holds [`scene::Scene::apply`], the fold of a
//! run's events into its visible state. The server folds events to answer
//! snapshots; the browser folds the same events to animate them. One function
//! for both means a snapshot and a live view can never disagree.

pub mod command;
pub mod event;
pub mod flow;
pub mod fold;
pub mod pattern;
pub mod resilience;
pub mod scene;
mod sorted;
pub mod stream;
pub mod task;
pub mod topic;
pub mod tree;

pub use command::{Command, ErrorBody};
pub use event::{Envelope, Event};
pub use flow::{
    Channel, ChannelId, ChannelSpec, FlowScene, Item, ItemEnd, ItemId, ItemSpec, Place, Stage,
    StageId, StageRole, StageSpec,
};
pub use pattern::{Family, ParamSpec, Params, PatternId, PatternInfo};
pub use resilience::{
    AttemptResult, BreakerScene, CircuitState, FailureKind, GiveUp, Job, JobOutcome, JobSpec,
    ResilienceScene,
};
pub use scene::{ClockInfo, Counters, OverloadScene, RunSnapshot, Scene};
pub use stream::{Batch, Cursor, Lagged, Removed};
pub use task::{DropReason, LoadLevel, Outcome, RunStatus, Task, TaskId, TaskKind};
pub use tree::{Cause, NodeId, NodeKind, NodeSpec, NodeState, Phase, TaskEnd, TreeNode, TreeScene};

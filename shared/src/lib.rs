//! The wire protocol of the concurrency dashboard.
//!
//! Both the server (which runs the pattern engines) and the browser frontend
//! depend on this crate, so every message that crosses the network has exactly
//! one definition. Events are externally tagged JSON, by family and then by
//! kind: `{"flow": {"item_made": {...}}}`.
//!
//! Each family of patterns has a module of its own (`overload`,
//! `cancellation`, `resilience`, `flow`) with its scene, its events, their
//! fold and its patterns' parameters. Besides the types, the crate holds
//! [`scene::RunSnapshot::apply`], the fold of a run's events into its visible
//! state. The server folds events to answer snapshots; the browser folds the
//! same events to animate them. One function for both means a snapshot and a
//! live view can never disagree.

pub mod cancellation;
pub mod classroom;
pub mod clock;
pub mod command;
pub mod event;
pub mod flow;
pub mod fold;
pub mod overload;
pub mod params;
pub mod pattern;
pub mod resilience;
pub mod scene;
mod sorted;
pub mod source;
pub mod stream;
pub mod task;

pub use cancellation::{
    CancellationEvent, Cause, NodeId, NodeKind, NodeSpec, NodeState, Phase, TaskEnd, TreeNode,
    TreeScene,
};
pub use command::{Command, ErrorBody, Target};
pub use event::{Envelope, Event, RunEvent};
pub use flow::{
    Channel, ChannelId, ChannelSpec, FlowEvent, FlowScene, Item, ItemEnd, ItemId, ItemSpec, Place,
    Stage, StageId, StageRole, StageSpec,
};
pub use overload::{OverloadEvent, OverloadScene};
pub use params::{ParamSet, ParamSpec, Params};
pub use pattern::{Family, PatternId, PatternInfo};
pub use resilience::{
    AttemptResult, BreakerScene, CircuitState, FailureKind, GiveUp, Job, JobOutcome, JobSpec,
    ResilienceEvent, ResilienceScene,
};
pub use scene::{ClockInfo, Counters, RunSnapshot, Scene};
pub use stream::{Batch, Cursor, HistoryHeader, Lagged, Removed, RunSummary};
pub use task::{DropReason, LoadLevel, Outcome, RunStatus, Task, TaskId, TaskKind};

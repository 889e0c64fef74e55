//! What happens in a flow run: stages and channels declared, items made,
//! moved, waiting and ended.

use super::{ChannelId, ChannelSpec, ItemEnd, ItemId, ItemSpec, StageId, StageSpec};
use serde::{Deserialize, Serialize};

/// One thing that happened to a stage, a channel or an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum FlowEvent {
    /// A stage of the flow, declared (or declared again, replacing it).
    StageAdded {
        stage: StageSpec,
    },
    /// The stage stopped: its loop ended, or it unsubscribed.
    StageStopped {
        stage: StageId,
    },
    ChannelAdded {
        channel: ChannelSpec,
    },
    /// Its sender closed it: no more items will come.
    ChannelClosed {
        channel: ChannelId,
    },
    /// An item was made at `stage`. It counts as submitted.
    ItemMade {
        item: ItemSpec,
        stage: StageId,
    },
    /// The item went into the channel's buffer.
    ItemQueued {
        item: ItemId,
        channel: ChannelId,
    },
    /// The channel was full: the item's sender waits for a slot.
    ItemBlocked {
        item: ItemId,
        channel: ChannelId,
    },
    /// A worker of `stage` took the item.
    ItemTaken {
        item: ItemId,
        stage: StageId,
        worker: u32,
    },
    /// The item waits in the stage's line; `on`: the item whose call it
    /// shares (`singleflight`).
    ItemWaiting {
        item: ItemId,
        stage: StageId,
        on: Option<ItemId>,
    },
    ItemEnded {
        item: ItemId,
        end: ItemEnd,
    },
    /// The stage's pool now has `workers` workers: new ones join idle, the
    /// last ones leave once they put their item down.
    WorkersSet {
        stage: StageId,
        workers: u32,
    },
    /// A worker panicked; its supervisor caught it and started a new one.
    WorkerPanicked {
        stage: StageId,
        worker: u32,
    },
    /// A level the stage reports: tokens in a bucket, free permits.
    Gauge {
        stage: StageId,
        value: f64,
        max: f64,
        /// What it counts, in words, for its label.
        #[serde(default)]
        label: String,
    },
    /// A stage sent one message on; the items that carry it are made where
    /// it is copied (a publisher's message, copied by the broker).
    Sent {
        stage: StageId,
    },
    /// The sources were told to stop; what was accepted drains.
    Draining,
}

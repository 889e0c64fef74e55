//! The fold of the flow family's events into its scene.

use super::{FlowEvent, FlowScene, ItemEnd};
use crate::scene::Counters;

impl FlowScene {
    /// Folds one of the family's events in, counting what it settles in `c`.
    pub fn apply(&mut self, c: &mut Counters, at: u64, event: &FlowEvent) {
        match event {
            FlowEvent::StageAdded { stage } => self.add_stage(stage.clone(), at),
            FlowEvent::StageStopped { stage } => self.stop_stage(*stage),
            FlowEvent::ChannelAdded { channel } => self.add_channel(channel.clone()),
            FlowEvent::ChannelClosed { channel } => self.close(*channel),
            FlowEvent::ItemMade { item, stage } => {
                c.submitted += 1;
                c.in_flight += 1;
                self.make(item.clone(), *stage, at);
            }
            FlowEvent::ItemQueued { item, channel } => self.queue(*item, *channel, at),
            FlowEvent::ItemBlocked { item, channel } => self.block(*item, *channel, at),
            FlowEvent::ItemTaken {
                item,
                stage,
                worker,
            } => self.take(*item, *stage, *worker, at),
            FlowEvent::ItemWaiting { item, stage, on } => self.wait(*item, *stage, *on, at),
            FlowEvent::ItemEnded { item, end } => {
                // An item ends once; a repeated end must not count twice.
                if !self.end(*item, end.clone(), at) {
                    return;
                }
                match end {
                    ItemEnd::Delivered { .. } | ItemEnd::Filtered { .. } => c.completed += 1,
                    ItemEnd::Dropped { .. } => c.dropped += 1,
                    ItemEnd::Refused { .. } => c.rejected += 1,
                    ItemEnd::Failed { .. } => c.failed += 1,
                    ItemEnd::Cancelled => c.cancelled += 1,
                    ItemEnd::TimedOut => c.timed_out += 1,
                }
                c.in_flight = c.in_flight.saturating_sub(1);
            }
            FlowEvent::WorkersSet { stage, workers } => self.set_workers(*stage, *workers, at),
            FlowEvent::WorkerPanicked { stage, worker } => self.panicked(*stage, *worker),
            FlowEvent::Gauge {
                stage,
                value,
                max,
                label,
            } => self.gauge(*stage, *value, *max, label, at),
            FlowEvent::Sent { stage } => self.sent(*stage),
            FlowEvent::Draining => self.draining = true,
        }
    }
}

use super::*;
use crate::event::Event;
use crate::pattern::PatternId;
use crate::scene::RunSnapshot;

fn fold(events: Vec<(u64, Event)>) -> RunSnapshot {
    crate::fold::fold_checked(PatternId::Pipeline, events)
}

fn stage(id: StageId, role: StageRole, workers: u32) -> Event {
    Event::Flow(FlowEvent::StageAdded {
        stage: StageSpec {
            id,
            label: format!("stage {id}"),
            role,
            workers,
            column: id,
            row: 0,
            about: None,
        },
    })
}

fn channel(id: ChannelId, from: StageId, to: StageId, capacity: u32) -> Event {
    Event::Flow(FlowEvent::ChannelAdded {
        channel: ChannelSpec {
            id,
            label: format!("ch {id}"),
            from,
            to,
            capacity,
        },
    })
}

fn made(id: ItemId, stage: StageId) -> Event {
    Event::Flow(FlowEvent::ItemMade {
        item: ItemSpec {
            id,
            label: format!("#{id}"),
            tag: None,
        },
        stage,
    })
}

fn layout() -> Vec<(u64, Event)> {
    vec![
        (0, stage(0, StageRole::Source, 0)),
        (0, stage(1, StageRole::Worker, 2)),
        (0, stage(2, StageRole::Sink, 1)),
        (0, channel(0, 0, 1, 2)),
        (0, channel(1, 1, 2, 1)),
    ]
}

#[test]
fn an_item_moves_through_buffers_and_workers_to_its_end() {
    let mut events = layout();
    events.extend([
        (10, made(0, 0)),
        (
            10,
            Event::Flow(FlowEvent::ItemQueued {
                item: 0,
                channel: 0,
            }),
        ),
        (
            20,
            Event::Flow(FlowEvent::ItemTaken {
                item: 0,
                stage: 1,
                worker: 1,
            }),
        ),
        (
            70,
            Event::Flow(FlowEvent::ItemQueued {
                item: 0,
                channel: 1,
            }),
        ),
        (
            80,
            Event::Flow(FlowEvent::ItemTaken {
                item: 0,
                stage: 2,
                worker: 0,
            }),
        ),
        (
            90,
            Event::Flow(FlowEvent::ItemEnded {
                item: 0,
                end: ItemEnd::Delivered { stage: 2 },
            }),
        ),
    ]);
    let snap = fold(events);
    let flow = snap.flow().expect("a flow run");
    let pool = flow.stage(1).expect("the pool");
    assert_eq!(
        pool.workers.iter().map(|w| w.done).collect::<Vec<_>>(),
        [0, 1]
    );
    assert_eq!(flow.stage(2).map(|s| s.ends.delivered), Some(1));
    assert_eq!(
        flow.channel(0).map(|c| (c.sent, c.buffer.len())),
        Some((1, 0))
    );
    assert!(flow.items.is_empty());
    assert_eq!(flow.recent.last().map(|r| r.end.key()), Some("delivered"));
    assert_eq!((snap.counters.completed, snap.counters.in_flight), (1, 0));
}

#[test]
fn a_full_buffer_blocks_or_drops_and_a_failure_is_not_done_work() {
    let mut events = layout();
    events.extend([
        (0, made(0, 0)),
        (
            0,
            Event::Flow(FlowEvent::ItemQueued {
                item: 0,
                channel: 0,
            }),
        ),
        (0, made(1, 0)),
        (
            0,
            Event::Flow(FlowEvent::ItemQueued {
                item: 1,
                channel: 0,
            }),
        ),
        (0, made(2, 0)),
        (
            0,
            Event::Flow(FlowEvent::ItemBlocked {
                item: 2,
                channel: 0,
            }),
        ),
        (0, made(3, 0)),
        (
            0,
            Event::Flow(FlowEvent::ItemEnded {
                item: 3,
                end: ItemEnd::Dropped {
                    stage: 0,
                    channel: Some(0),
                    why: "full".into(),
                },
            }),
        ),
        (
            5,
            Event::Flow(FlowEvent::ItemTaken {
                item: 0,
                stage: 1,
                worker: 0,
            }),
        ),
        (
            5,
            Event::Flow(FlowEvent::ItemQueued {
                item: 2,
                channel: 0,
            }),
        ),
        (
            9,
            Event::Flow(FlowEvent::ItemEnded {
                item: 0,
                end: ItemEnd::Failed {
                    stage: 1,
                    why: "panic".into(),
                },
            }),
        ),
        (
            9,
            Event::Flow(FlowEvent::WorkerPanicked {
                stage: 1,
                worker: 0,
            }),
        ),
    ]);
    let snap = fold(events);
    let flow = snap.flow().expect("a flow run");
    let ch = flow.channel(0).expect("channel 0");
    assert_eq!(
        (ch.buffer.clone(), ch.blocked.len(), ch.dropped),
        (vec![1, 2], 0, 1)
    );
    let w = flow.stage(1).map(|s| s.workers[0]).expect("worker 0");
    assert_eq!((w.item, w.done, w.panics), (None, 0, 1));
    assert_eq!(
        (
            snap.counters.dropped,
            snap.counters.failed,
            snap.counters.in_flight
        ),
        (1, 1, 2)
    );
}

#[test]
fn a_shrinking_pool_lets_busy_workers_finish_first() {
    let mut events = layout();
    events.extend([
        (0, made(0, 0)),
        (
            0,
            Event::Flow(FlowEvent::ItemTaken {
                item: 0,
                stage: 1,
                worker: 1,
            }),
        ),
        (
            1,
            Event::Flow(FlowEvent::WorkersSet {
                stage: 1,
                workers: 1,
            }),
        ),
    ]);
    let snap = fold(events.clone());
    let pool = snap.flow().and_then(|f| f.stage(1)).expect("pool");
    assert_eq!(pool.workers.len(), 2, "the busy worker stays until done");
    assert!(pool.workers[1].retiring);
    events.push((
        5,
        Event::Flow(FlowEvent::ItemEnded {
            item: 0,
            end: ItemEnd::Delivered { stage: 1 },
        }),
    ));
    events.push((
        6,
        Event::Flow(FlowEvent::WorkersSet {
            stage: 1,
            workers: 4,
        }),
    ));
    let snap = fold(events);
    let pool = snap.flow().and_then(|f| f.stage(1)).expect("pool");
    assert_eq!(pool.workers.len(), 4);
    assert!(pool.workers.iter().all(|w| !w.retiring && w.item.is_none()));
}

#[test]
fn a_flow_snapshot_round_trips_through_json() {
    let mut events = layout();
    events.extend([
        (0, made(0, 0)),
        (
            0,
            Event::Flow(FlowEvent::ItemWaiting {
                item: 0,
                stage: 1,
                on: None,
            }),
        ),
        (
            0,
            Event::Flow(FlowEvent::Gauge {
                stage: 1,
                value: 2.5,
                max: 5.0,
                label: String::new(),
            }),
        ),
    ]);
    let snap = fold(events);
    let json = serde_json::to_string(&snap).expect("serializes");
    let back: RunSnapshot = serde_json::from_str(&json).expect("reads back");
    assert_eq!(back, snap);
}

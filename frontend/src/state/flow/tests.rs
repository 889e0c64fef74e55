//! The flow family's readings, checked against scenes folded from
//! scripted events.

use super::*;
use shared::{ChannelSpec, Envelope, Event, FlowEvent, PatternId, RunSnapshot, StageSpec};

/// Folds scripted events (all at `at_ms`) into a flow run.
struct Script {
    snap: RunSnapshot,
    seq: u64,
}

impl Script {
    fn new() -> Script {
        Script {
            snap: RunSnapshot::new("r", PatternId::Pipeline),
            seq: 0,
        }
    }

    fn at(&mut self, at_ms: u64, event: Event) -> &mut Script {
        self.seq += 1;
        let applied = self.snap.apply(&Envelope {
            seq: self.seq,
            at_ms,
            event,
        });
        assert!(applied);
        assert!(self.snap.counters.is_conserved());
        self
    }

    fn stage(&mut self, id: StageId, role: StageRole, workers: u32, at: (u32, u32)) -> &mut Script {
        self.at(
            0,
            Event::Flow(FlowEvent::StageAdded {
                stage: StageSpec {
                    id,
                    label: format!("S{id}"),
                    role,
                    workers,
                    column: at.0,
                    row: at.1,
                    about: None,
                },
            }),
        )
    }

    fn channel(&mut self, id: ChannelId, from: StageId, to: StageId, capacity: u32) -> &mut Script {
        self.at(
            0,
            Event::Flow(FlowEvent::ChannelAdded {
                channel: ChannelSpec {
                    id,
                    label: format!("c{id}"),
                    from,
                    to,
                    capacity,
                },
            }),
        )
    }

    fn made(&mut self, at_ms: u64, id: ItemId, tag: Option<&str>, stage: StageId) -> &mut Script {
        let label = match tag {
            Some(t) => format!("{t} #{id}"),
            None => format!("#{id}"),
        };
        self.at(
            at_ms,
            Event::Flow(FlowEvent::ItemMade {
                item: ItemSpec {
                    id,
                    label,
                    tag: tag.map(str::to_owned),
                },
                stage,
            }),
        )
    }

    fn queued(&mut self, at_ms: u64, item: ItemId, channel: ChannelId) -> &mut Script {
        self.at(at_ms, Event::Flow(FlowEvent::ItemQueued { item, channel }))
    }

    fn blocked(&mut self, at_ms: u64, item: ItemId, channel: ChannelId) -> &mut Script {
        self.at(at_ms, Event::Flow(FlowEvent::ItemBlocked { item, channel }))
    }

    fn taken(&mut self, at_ms: u64, item: ItemId, stage: StageId, worker: u32) -> &mut Script {
        self.at(
            at_ms,
            Event::Flow(FlowEvent::ItemTaken {
                item,
                stage,
                worker,
            }),
        )
    }

    fn waiting(
        &mut self,
        at_ms: u64,
        item: ItemId,
        stage: StageId,
        on: Option<ItemId>,
    ) -> &mut Script {
        self.at(
            at_ms,
            Event::Flow(FlowEvent::ItemWaiting { item, stage, on }),
        )
    }

    fn ended(&mut self, at_ms: u64, item: ItemId, end: ItemEnd) -> &mut Script {
        self.at(at_ms, Event::Flow(FlowEvent::ItemEnded { item, end }))
    }

    fn scene(&self) -> &FlowScene {
        self.snap.flow().expect("a flow run")
    }
}

/// The seed's log pipeline in small: two sources, a level filter, an
/// enrich pool of two, one output.
fn log_pipeline() -> Script {
    let mut s = Script::new();
    s.stage(0, StageRole::Source, 0, (0, 0))
        .stage(1, StageRole::Source, 0, (0, 1))
        .stage(2, StageRole::Filter, 1, (1, 0))
        .stage(3, StageRole::Worker, 2, (2, 0))
        .stage(4, StageRole::Sink, 1, (3, 0))
        .channel(0, 0, 2, 2)
        .channel(1, 1, 2, 2)
        .channel(2, 2, 3, 3)
        .channel(3, 3, 4, 2);
    s
}

#[test]
fn stages_sit_in_their_columns_with_channels_between() {
    let s = log_pipeline();
    let layout = Layout::of(s.scene());
    assert_eq!((layout.columns, layout.rows), (4, 2));
    let at = |id| {
        layout
            .stages
            .iter()
            .find(|c| c.stage == id)
            .map(|c| (c.column, c.row))
    };
    assert_eq!(at(1), Some((1, 2)), "source 1: first column, second row");
    assert_eq!(at(4), Some((7, 1)), "the output: fourth stage column");
    let cells: Vec<_> = layout
        .cells
        .iter()
        .map(|c| (c.column, c.row, c.channels.clone()))
        .collect();
    assert_eq!(
        cells,
        [
            (2, 1, vec![0]),
            (2, 2, vec![1]),
            (4, 1, vec![2]),
            (6, 1, vec![3])
        ],
        "each channel right after its sender, on the sender's row"
    );
    assert_eq!(
        layout.template(),
        "minmax(var(--stage-min), 1fr) auto minmax(var(--stage-min), 1fr) auto minmax(var(--stage-min), 1fr) auto minmax(var(--stage-min), 1fr)"
    );
    assert_eq!(
        layout.slots_per_row(),
        2,
        "four stage columns leave narrow channels"
    );
}

#[test]
fn a_fan_out_puts_each_channel_on_its_receivers_row() {
    let mut s = Script::new();
    s.stage(0, StageRole::Split, 1, (0, 1))
        .stage(1, StageRole::Sink, 1, (1, 0))
        .stage(2, StageRole::Sink, 1, (1, 1))
        .stage(3, StageRole::Sink, 1, (1, 2))
        .channel(0, 0, 1, 4)
        .channel(1, 0, 2, 4)
        .channel(2, 0, 3, 4);
    let layout = Layout::of(s.scene());
    let rows: Vec<_> = layout.cells.iter().map(|c| (c.column, c.row)).collect();
    assert_eq!(rows, [(2, 1), (2, 2), (2, 3)]);
    assert_eq!(Layout::place(2, 3), "grid-column: 2; grid-row: 3;");
}

#[test]
fn a_channel_shows_its_items_in_order_then_free_slots_then_blocked_senders() {
    let mut s = log_pipeline();
    s.made(0, 0, Some("ERROR"), 0)
        .queued(0, 0, 0)
        .made(1, 1, Some("INFO"), 0)
        .queued(1, 1, 0)
        .made(2, 2, Some("WARN"), 0)
        .blocked(2, 2, 0);
    let look = ChannelLook::of(s.scene(), 0).expect("channel 0");
    let slots: Vec<_> = look.slots.iter().map(Slot::key).collect();
    assert_eq!(
        slots,
        ["i0", "i1"],
        "capacity 2: both slots filled, next out first"
    );
    assert_eq!(look.fill_text(), "full: 2 / 2");
    let blocked: Vec<_> = look.blocked.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(blocked, ["WARN #2"], "the sender waits outside the buffer");
    assert_eq!(
        look.blocked[0].short(),
        "W2",
        "a level is told by its initial"
    );
    let chip = |label: &str| Chip {
        id: 0,
        label: label.to_owned(),
        tone: "plain",
    };
    assert_eq!(chip("item 9").short(), "9");
    assert_eq!(chip("orders.created #4").short(), "#4");
    assert_eq!(chip("#7").short(), "#7");
    let toned = Chip {
        tone: "hue-2",
        ..chip("orders.created #4")
    };
    assert_eq!(toned.short(), "O4");
    assert_eq!(chip("a b").short(), "a b", "no number: the whole label");
    assert_eq!(look.blocked[0].tone, "level-warn");
    assert_eq!(look.hidden_text(), None);

    // The filter takes the first: a slot frees and the blocked sender gets it.
    s.taken(5, 0, 2, 0).queued(5, 2, 0);
    let look = ChannelLook::of(s.scene(), 0).expect("channel 0");
    let labels: Vec<_> = look
        .slots
        .iter()
        .map(|slot| match slot {
            Slot::Filled(c) => c.label.clone(),
            Slot::Free(_) => "free".to_owned(),
        })
        .collect();
    assert_eq!(labels, ["INFO #1", "WARN #2"]);
    assert!(look.blocked.is_empty());
    let next = ChannelLook::of(s.scene(), 2).expect("channel 2");
    assert_eq!(
        next.slots,
        [Slot::Free(0), Slot::Free(1), Slot::Free(2)],
        "an empty channel is all free slots"
    );
    assert_eq!(next.fill_text(), "0 / 3 slots");
}

#[test]
fn a_big_buffer_draws_a_bounded_number_of_slots_and_counts_the_rest() {
    let mut s = Script::new();
    s.stage(0, StageRole::Source, 0, (0, 0))
        .stage(1, StageRole::Worker, 1, (1, 0))
        .channel(0, 0, 1, 50);
    for id in 0..20 {
        s.made(0, id, None, 0).queued(0, id, 0);
    }
    let look = ChannelLook::of(s.scene(), 0).expect("channel 0");
    assert_eq!(look.slots.len(), MAX_DRAWN_SLOTS);
    assert_eq!((look.hidden_filled, look.hidden_free), (4, 30));
    assert_eq!(
        look.hidden_text().as_deref(),
        Some("+ 4 items more and 30 free slots")
    );
    assert_eq!(look.fill_text(), "20 / 50 slots");
}

#[test]
fn an_unbuffered_channel_and_a_closed_one_say_so() {
    let mut s = Script::new();
    s.stage(0, StageRole::Source, 0, (0, 0))
        .stage(1, StageRole::Sink, 1, (1, 0))
        .channel(0, 0, 1, 0)
        .at(3, Event::Flow(FlowEvent::ChannelClosed { channel: 0 }));
    let look = ChannelLook::of(s.scene(), 0).expect("channel 0");
    assert!(look.slots.is_empty());
    assert_eq!(look.fill_text(), "unbuffered: a hand-off");
    assert!(look.closed);
    assert!(ChannelLook::of(s.scene(), 9).is_none());
}

#[test]
fn a_worker_shows_its_item_and_how_long_it_has_held_it() {
    let mut s = log_pipeline();
    s.made(100, 0, Some("ERROR"), 0)
        .queued(100, 0, 0)
        .taken(200, 0, 2, 0)
        .queued(300, 0, 2)
        .taken(400, 0, 3, 1);
    let workers = worker_looks(s.scene(), 3);
    assert_eq!(workers.len(), 2);
    assert_eq!(workers[0].key(), "idle");
    assert_eq!(workers[0].text(900.0), "idle");
    assert_eq!(workers[0].held_share(900.0), 0.0);
    let busy = &workers[1];
    assert_eq!(busy.key(), "busy");
    assert_eq!(
        busy.item.as_ref().map(|c| c.label.as_str()),
        Some("ERROR #0")
    );
    assert_eq!(busy.text(650.0), "for 250 ms");
    assert_eq!(busy.text(1900.0), "for 1.5 s");
    assert_eq!(busy.held_share(650.0), 0.25);
    assert_eq!(
        busy.held_share(5000.0),
        1.0,
        "the bar stays full past its scale"
    );
    assert_eq!(busy_text(&workers), "1 of 2 busy");
    assert_eq!(
        worker_looks(s.scene(), 2)[0].done_text(),
        "1 done",
        "the filter handed it on"
    );
}

#[test]
fn a_panicking_worker_counts_its_panics_not_the_lost_item_as_done() {
    let mut s = log_pipeline();
    s.made(0, 0, None, 0)
        .queued(0, 0, 0)
        .taken(0, 0, 2, 0)
        .queued(0, 0, 2)
        .taken(10, 0, 3, 0)
        .ended(
            20,
            0,
            ItemEnd::Failed {
                stage: 3,
                why: "worker panicked".into(),
            },
        )
        .at(
            20,
            Event::Flow(FlowEvent::WorkerPanicked {
                stage: 3,
                worker: 0,
            }),
        );
    let w = &worker_looks(s.scene(), 3)[0];
    assert_eq!(w.done_text(), "0 done · 1 panic");
    assert_eq!(w.key(), "idle");
    let tallies = stage_tallies(s.scene().stage(3).expect("pool"));
    let named: Vec<_> = tallies.iter().map(|t| (t.name, t.value)).collect();
    assert_eq!(named, [("done", 0), ("failed", 1)]);
}

#[test]
fn a_shrinking_pool_marks_the_busy_worker_retiring() {
    let mut s = log_pipeline();
    s.made(0, 0, None, 0).taken(0, 0, 3, 1).at(
        5,
        Event::Flow(FlowEvent::WorkersSet {
            stage: 3,
            workers: 1,
        }),
    );
    let workers = worker_looks(s.scene(), 3);
    assert_eq!(workers[1].key(), "retiring");
    assert_eq!(workers[1].text(505.0), "retiring after this: for 505 ms");
}

#[test]
fn ends_read_as_what_happened_and_why() {
    let cases = [
        (ItemEnd::Delivered { stage: 4 }, "delivered", "✓"),
        (
            ItemEnd::Filtered {
                stage: 2,
                why: "below WARN".into(),
            },
            "filtered: below WARN",
            "▽",
        ),
        (
            ItemEnd::Dropped {
                stage: 0,
                channel: Some(0),
                why: "buffer full".into(),
            },
            "dropped: buffer full",
            "↓",
        ),
        (
            ItemEnd::Refused {
                stage: 1,
                why: "no token".into(),
            },
            "refused: no token",
            "⊘",
        ),
        (
            ItemEnd::Failed {
                stage: 3,
                why: "worker panicked".into(),
            },
            "failed: worker panicked",
            "✗",
        ),
        (ItemEnd::Cancelled, "cancelled", "■"),
        (ItemEnd::TimedOut, "timed out", "◷"),
        (
            ItemEnd::Refused {
                stage: 1,
                why: " ".into(),
            },
            "refused",
            "⊘",
        ),
    ];
    for (end, words, glyph) in cases {
        assert_eq!(end_text(&end), words);
        assert_eq!(end_glyph(end.key()), glyph);
    }
}

#[test]
fn the_recent_strip_shows_the_latest_ends_newest_first_with_where() {
    let mut s = log_pipeline();
    s.made(0, 0, Some("DEBUG"), 0)
        .queued(0, 0, 0)
        .taken(1, 0, 2, 0)
        .ended(
            2,
            0,
            ItemEnd::Filtered {
                stage: 2,
                why: "below WARN".into(),
            },
        )
        .made(3, 1, Some("ERROR"), 1)
        .ended(
            4,
            1,
            ItemEnd::Dropped {
                stage: 1,
                channel: Some(1),
                why: "buffer full".into(),
            },
        );
    let ends = recent_ends(s.scene(), 5);
    let seen: Vec<_> = ends
        .iter()
        .map(|e| {
            (
                e.item.label.as_str(),
                e.key,
                e.text.as_str(),
                e.at.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("ERROR #1", "dropped", "dropped: buffer full", Some("S1")),
            ("DEBUG #0", "filtered", "filtered: below WARN", Some("S2")),
        ]
    );
    assert_eq!(recent_ends(s.scene(), 1).len(), 1);
    assert_eq!(ends[0].dom_key(), "1@4");
    let split = Split::of(s.scene());
    assert_eq!((split.delivered, split.filtered), (0, 1));
    let source = stage_tallies(s.scene().stage(1).expect("source 1"));
    let named: Vec<_> = source.iter().map(|t| (t.name, t.value)).collect();
    assert_eq!(named, [("made", 1), ("dropped", 1)]);
    let filter = stage_tallies(s.scene().stage(2).expect("filter"));
    let named: Vec<_> = filter.iter().map(|t| (t.name, t.value)).collect();
    assert_eq!(
        named,
        [("done", 1), ("filtered", 1)],
        "the filter's worker handled it, and left it out"
    );
}

#[test]
fn tags_get_a_colour_by_level_or_by_topic_family() {
    assert_eq!(tag_tone(Some("ERROR")), "level-error");
    assert_eq!(tag_tone(Some("warn")), "level-warn");
    assert_eq!(tag_tone(Some("DEBUG")), "level-debug");
    assert_eq!(tag_tone(None), "plain");
    assert_eq!(tag_tone(Some("  ")), "plain");
    assert_eq!(
        tag_tone(Some("orders.created")),
        tag_tone(Some("orders.paid")),
        "one family, one colour"
    );
    assert!(tag_tone(Some("orders.created")).starts_with("hue-"));
    let keys: Vec<_> = ["user:1", "user:2", "user:3"]
        .iter()
        .map(|k| tag_tone(Some(k)))
        .collect();
    assert!(
        keys[0] != keys[1] && keys[1] != keys[2] && keys[0] != keys[2],
        "the seed's three keys are told apart: {keys:?}"
    );
    let families = ["orders", "users", "payments", "stock", "mail", "auth"];
    let mut hues: Vec<_> = families.iter().map(|f| tag_tone(Some(f))).collect();
    hues.sort_unstable();
    hues.dedup();
    assert!(hues.len() >= 3, "families spread over the hues: {hues:?}");
}

#[test]
fn a_gate_line_is_in_the_order_items_joined_it() {
    let mut s = Script::new();
    s.stage(0, StageRole::Source, 0, (0, 0))
        .stage(1, StageRole::Gate, 0, (1, 0))
        .made(0, 0, None, 0)
        .made(0, 1, None, 0)
        .waiting(5, 1, 1, None)
        .waiting(9, 0, 1, None)
        .made(10, 2, None, 0)
        .at(
            11,
            Event::Flow(FlowEvent::Gauge {
                stage: 1,
                value: 2.5,
                max: 5.0,
                label: String::new(),
            }),
        );
    let line: Vec<_> = waiting_line(s.scene(), 1).iter().map(|c| c.id).collect();
    assert_eq!(line, [1, 0]);
    let held: Vec<_> = held_at(s.scene(), 0).iter().map(|c| c.id).collect();
    assert_eq!(held, [2], "made but not yet sent");
    let g = s
        .scene()
        .stage(1)
        .and_then(|s| s.gauge.clone())
        .expect("a gauge");
    assert_eq!(gauge_text(&g), "2.5 / 5");
    assert_eq!(gauge_share(&g), 0.5);
    let named = Gauge {
        label: "tokens".to_owned(),
        ..g.clone()
    };
    assert_eq!(
        gauge_text(&named),
        "2.5 / 5 tokens",
        "a gauge says what it counts"
    );
    let empty = Gauge {
        value: 1.0,
        max: 0.0,
        at_ms: 0,
        label: String::new(),
    };
    assert_eq!(gauge_share(&empty), 0.0);
}

#[test]
fn callers_are_grouped_under_the_call_they_wait_on() {
    let mut s = Script::new();
    s.stage(0, StageRole::Source, 0, (0, 0))
        .stage(1, StageRole::Worker, 2, (1, 0));
    for id in 0..9 {
        s.made(0, id, Some(if id < 7 { "user:1" } else { "user:2" }), 0);
    }
    s.taken(1, 0, 1, 0);
    for id in 1..7 {
        s.waiting(2 + id, id, 1, Some(0));
    }
    s.taken(3, 7, 1, 1).waiting(4, 8, 1, Some(7));
    let groups = call_groups(s.scene(), 1);
    assert_eq!(groups.len(), 2);
    assert_eq!(groups[0].call.id, 0);
    assert_eq!(groups[0].worker, Some(0));
    assert_eq!(
        groups[0].waiting.iter().map(|c| c.id).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    assert_eq!(groups[0].text(), "7 callers, 1 call");
    assert_eq!(groups[1].text(), "2 callers, 1 call");
    assert_eq!(coalescing_text(&groups), "9 callers, 2 calls");
    assert!(
        waiting_line(s.scene(), 1).is_empty(),
        "callers sharing a call are not in a plain line"
    );
}

#[test]
fn each_subscriber_counts_its_own_deliveries_and_drops() {
    let mut s = Script::new();
    s.stage(0, StageRole::Split, 0, (0, 0))
        .stage(1, StageRole::Sink, 1, (1, 0))
        .stage(2, StageRole::Sink, 1, (1, 1))
        .channel(0, 0, 1, 1)
        .channel(1, 0, 2, 1);
    // The broker reports drops at itself for subscriber 1 ...
    s.made(0, 0, Some("orders.created"), 0)
        .queued(0, 0, 0)
        .made(0, 1, Some("orders.created"), 0)
        .ended(
            0,
            1,
            ItemEnd::Dropped {
                stage: 0,
                channel: Some(0),
                why: "buffer full".into(),
            },
        )
        // ... and at the subscriber for subscriber 2.
        .made(0, 2, Some("users.created"), 0)
        .queued(0, 2, 1)
        .made(0, 3, Some("users.created"), 0)
        .ended(
            0,
            3,
            ItemEnd::Dropped {
                stage: 2,
                channel: Some(1),
                why: "buffer full".into(),
            },
        )
        .taken(1, 2, 2, 0)
        .ended(2, 2, ItemEnd::Delivered { stage: 2 });
    let subs = subscribers(s.scene());
    let seen: Vec<_> = subs
        .iter()
        .map(|s| (s.stage, s.delivered, s.dropped))
        .collect();
    assert_eq!(seen, [(1, 0, 1), (2, 1, 1)], "a drop is counted once");
    assert_eq!(subs[1].lost_text(), "lost 50%");
    assert_eq!(topics_seen(s.scene()), ["orders.created", "users.created"]);
}

#[test]
fn lanes_compare_rows_allowed_against_refused() {
    let mut s = Script::new();
    s.stage(0, StageRole::Source, 0, (0, 0))
        .stage(1, StageRole::Gate, 0, (1, 0))
        .stage(2, StageRole::Source, 0, (0, 1))
        .stage(3, StageRole::Gate, 0, (1, 1))
        .at(
            0,
            Event::Flow(FlowEvent::Gauge {
                stage: 3,
                value: 0.0,
                max: 3.0,
                label: String::new(),
            }),
        );
    for id in 0..3 {
        s.made(0, id, None, 0).waiting(0, id, 1, None);
    }
    s.ended(100, 0, ItemEnd::Delivered { stage: 1 });
    for id in 3..6 {
        s.made(0, id, None, 2);
    }
    s.ended(0, 3, ItemEnd::Delivered { stage: 3 }).ended(
        0,
        4,
        ItemEnd::Refused {
            stage: 3,
            why: "no token".into(),
        },
    );
    let lanes = lanes(s.scene());
    assert_eq!(lanes.len(), 2);
    assert_eq!(lanes[0].title(), "S0 → S1");
    assert_eq!(
        (lanes[0].made, lanes[0].waiting, lanes[0].allowed()),
        (3, 2, 1)
    );
    assert_eq!(
        (lanes[1].allowed(), lanes[1].refused, lanes[1].before_door),
        (1, 1, 1),
        "item 5 is still at its source, not refused"
    );
    assert_eq!(
        lanes[1].gauge.as_ref().map(|(g, at)| (g.max, at.as_str())),
        Some((3.0, "S3"))
    );
    assert_eq!(lanes[0].channels, 0);
}

#[test]
fn a_split_blocked_on_a_full_channel_is_a_stall() {
    let mut s = Script::new();
    s.stage(0, StageRole::Split, 1, (0, 0))
        .stage(1, StageRole::Sink, 1, (1, 0))
        .stage(2, StageRole::Sink, 1, (1, 1))
        .channel(0, 0, 1, 1)
        .channel(1, 0, 2, 1)
        .made(0, 0, None, 0)
        .queued(0, 0, 1)
        .made(100, 1, None, 0)
        .blocked(100, 1, 1);
    let stalls = stalls(s.scene());
    assert_eq!(stalls.len(), 1);
    assert_eq!(
        stalls[0].text(900.0),
        "S0 stalled 800 ms: #1 waits for a slot at S2"
    );
}
#[test]
fn pool_bars_are_relative_to_the_busiest_worker_and_its_queue_counts() {
    let mut s = Script::new();
    s.stage(0, StageRole::Source, 0, (0, 0))
        .stage(1, StageRole::Worker, 3, (1, 0))
        .channel(0, 0, 1, 2);
    for id in 0..3 {
        s.made(0, id, None, 0).queued(0, id, 0).taken(1, id, 1, 0);
        s.ended(2, id, ItemEnd::Delivered { stage: 1 });
    }
    s.made(3, 3, None, 0)
        .queued(3, 3, 0)
        .taken(3, 3, 1, 1)
        .ended(4, 3, ItemEnd::Delivered { stage: 1 });
    s.made(5, 4, None, 0)
        .queued(5, 4, 0)
        .made(5, 5, None, 0)
        .queued(5, 5, 0);
    s.made(5, 6, None, 0).blocked(5, 6, 0);
    let looks = worker_looks(s.scene(), 1);
    let shares = done_shares(&looks);
    assert_eq!(shares.len(), 3);
    assert_eq!(shares[0], 1.0);
    assert!((shares[1] - 1.0 / 3.0).abs() < 1e-9);
    assert_eq!(shares[2], 0.0);
    assert_eq!(
        queued_for(s.scene(), 1),
        3,
        "two buffered, one sender blocked"
    );
    assert_eq!(done_shares(&worker_looks(s.scene(), 0)), Vec::<f64>::new());
}

#[test]
fn takes_are_remembered_across_updates_and_bounded() {
    let mut s = Script::new();
    s.stage(0, StageRole::Source, 0, (0, 0))
        .stage(1, StageRole::Worker, 1, (1, 0))
        .stage(2, StageRole::Worker, 1, (1, 1));
    s.made(0, 0, None, 0)
        .taken(0, 0, 1, 0)
        .made(0, 1, None, 0)
        .taken(0, 1, 2, 0);
    let seen = note_takes(&[], s.scene(), &[1, 2], 10);
    let who: Vec<_> = seen.iter().map(|t| (t.item.id, t.stage)).collect();
    assert_eq!(who, [(0, 1), (1, 2)]);
    s.ended(5, 0, ItemEnd::Delivered { stage: 1 })
        .made(5, 2, None, 0)
        .taken(6, 2, 1, 0);
    let seen = note_takes(&seen, s.scene(), &[1, 2], 10);
    let who: Vec<_> = seen.iter().map(|t| (t.item.id, t.stage)).collect();
    assert_eq!(
        who,
        [(0, 1), (1, 2), (2, 1)],
        "item 0 is remembered after it ended"
    );
    let again = note_takes(&seen, s.scene(), &[1, 2], 10);
    assert_eq!(again, seen, "an item still in hand is noted once");
    let kept = note_takes(&seen, s.scene(), &[1, 2], 2);
    assert_eq!(
        kept.iter().map(|t| t.item.id).collect::<Vec<_>>(),
        [1, 2],
        "the newest are kept"
    );
    assert!(
        note_takes(&[], s.scene(), &[0], 10).is_empty(),
        "only the stages asked for"
    );
}

#[test]
fn permits_are_the_holders_hands_or_else_the_gauge() {
    let mut s = Script::new();
    s.stage(0, StageRole::Source, 0, (0, 0))
        .stage(1, StageRole::Gate, 3, (1, 0))
        .stage(2, StageRole::Gate, 0, (1, 1));
    for id in 0..5 {
        s.made(0, id, None, 0).waiting(id, id, 1, None);
    }
    s.taken(10, 0, 1, 0).taken(10, 1, 1, 2);
    let p = Permits::of(s.scene(), 1).expect("a semaphore");
    assert_eq!(p.held(), 2);
    assert_eq!(p.permits[1], Permit::Free);
    assert!(matches!(&p.permits[2], Permit::Held(Some(c)) if c.id == 1));
    assert_eq!(
        p.waiting.iter().map(|c| c.id).collect::<Vec<_>>(),
        [2, 3, 4]
    );
    assert_eq!(p.text(), "2 of 3 permits held · 3 waiting");
    assert!(
        Permits::of(s.scene(), 2).is_none(),
        "no workers and no gauge: nothing to draw"
    );
    s.at(
        11,
        Event::Flow(FlowEvent::Gauge {
            stage: 2,
            value: 1.0,
            max: 4.0,
            label: String::new(),
        }),
    );
    let g = Permits::of(s.scene(), 2).expect("a gauge of free permits");
    assert_eq!(
        g.permits,
        [
            Permit::Held(None),
            Permit::Held(None),
            Permit::Held(None),
            Permit::Free
        ]
    );
}

#[test]
fn a_tee_names_the_consumer_that_holds_it_back() {
    let mut s = Script::new();
    s.stage(0, StageRole::Split, 1, (0, 0))
        .stage(1, StageRole::Sink, 1, (1, 0))
        .stage(2, StageRole::Sink, 1, (1, 1))
        .channel(0, 0, 1, 1)
        .channel(1, 0, 2, 1)
        .made(0, 0, Some("A"), 0)
        .queued(0, 0, 0)
        .taken(1, 0, 1, 0)
        .ended(2, 0, ItemEnd::Delivered { stage: 1 })
        .made(0, 1, Some("B"), 0)
        .queued(0, 1, 1)
        .made(3, 2, Some("B"), 0)
        .blocked(3, 2, 1);
    let outs = consumers(s.scene());
    let seen: Vec<_> = outs
        .iter()
        .map(|c| (c.stage, c.delivered, c.buffered, c.holding_back))
        .collect();
    assert_eq!(seen, [(1, 1, 0, false), (2, 0, 1, true)]);
}

#[test]
fn every_call_in_flight_gathers_its_callers_wherever_they_wait() {
    let mut s = Script::new();
    s.stage(0, StageRole::Source, 0, (0, 0))
        .stage(1, StageRole::Gate, 0, (1, 0))
        .stage(2, StageRole::Worker, 2, (2, 0));
    for id in 0..5 {
        s.made(0, id, Some("user:1"), 0);
    }
    s.taken(0, 0, 2, 0)
        .taken(0, 1, 2, 1)
        .waiting(1, 2, 1, Some(0))
        .waiting(2, 3, 1, Some(0))
        .waiting(3, 4, 1, Some(1));
    let groups = all_call_groups(s.scene());
    let seen: Vec<_> = groups
        .iter()
        .map(|g| (g.call.id, g.worker, g.callers()))
        .collect();
    assert_eq!(seen, [(0, Some(0), 3), (1, Some(1), 2)]);
    assert_eq!(coalescing_text(&groups), "5 callers, 2 calls");
    let at_gate = call_groups(s.scene(), 1);
    assert_eq!(
        at_gate.len(),
        2,
        "the gate's card groups its waiters by call"
    );
    assert_eq!(at_gate[0].worker, None);
}

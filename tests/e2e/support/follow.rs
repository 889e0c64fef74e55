//! A viewer's copy of one run: the snapshot it was sent with every later
//! event folded in by `RunSnapshot::apply`, exactly as the browser does it.
//!
//! Feeding a message checks the stream's promises as it goes, so a test that
//! follows a run fails at the first broken one: events arrive in sequence
//! with no gap and no repeat, every state obeys the conservation rule, a
//! `lagged` notice is followed by a snapshot, and each message's SSE id is
//! the cursor the viewer now holds.
//!
//! One repeat is allowed: the first batch after a snapshot may start with
//! events the snapshot already holds (the snapshot can include events that
//! had not gone out yet). `apply` ignores them, as the protocol promises.

use std::time::Duration;

use shared::RunSnapshot;

use super::sse::{EventStream, Message, Received};

/// How a message changed the viewer's copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fed {
    /// A snapshot replaced the copy.
    Snapshot,
    /// This many events were folded in.
    Events(usize),
    /// The viewer fell behind; a snapshot must come next.
    Lagged,
}

#[derive(Debug)]
pub struct Follower {
    run: String,
    state: Option<RunSnapshot>,
    awaiting_snapshot: bool,
    /// No batch since the last snapshot yet.
    fresh_snapshot: bool,
    /// Every message fed, by kind.
    pub snapshots: usize,
    pub batches: usize,
    pub lagged: usize,
    /// Events folded in.
    pub events: u64,
}

impl Follower {
    pub fn new(run: &str) -> Follower {
        Follower {
            run: run.to_owned(),
            state: None,
            awaiting_snapshot: false,
            fresh_snapshot: false,
            snapshots: 0,
            batches: 0,
            lagged: 0,
            events: 0,
        }
    }

    /// The copy so far; the test fails if no snapshot came yet.
    pub fn state(&self) -> &RunSnapshot {
        self.state.as_ref().expect("a snapshot before any event")
    }

    pub fn seq(&self) -> u64 {
        self.state.as_ref().map_or(0, |s| s.seq)
    }

    pub fn feed(&mut self, received: &Received) -> Fed {
        let run = self.run.clone();
        let fed = match &received.message {
            Message::Snapshot(snapshot) => {
                assert_eq!(
                    snapshot.run, run,
                    "a snapshot of a run this viewer does not follow"
                );
                assert!(
                    snapshot.counters.is_conserved(),
                    "a snapshot whose counters do not add up: {:?}",
                    snapshot.counters
                );
                if let Some(old) = &self.state {
                    assert!(
                        snapshot.seq >= old.seq,
                        "a snapshot older ({}) than what the viewer holds ({})",
                        snapshot.seq,
                        old.seq
                    );
                }
                self.state = Some((**snapshot).clone());
                self.awaiting_snapshot = false;
                self.fresh_snapshot = true;
                self.snapshots += 1;
                Fed::Snapshot
            }
            Message::Batch(batches) => {
                assert!(
                    !self.awaiting_snapshot,
                    "events after a `lagged` notice but before a snapshot"
                );
                let state = self
                    .state
                    .as_mut()
                    .expect("a batch before the first snapshot");
                let mut folded = 0;
                for batch in batches {
                    assert_eq!(
                        batch.run, run,
                        "a batch of a run this viewer does not follow"
                    );
                    for envelope in &batch.events {
                        if self.fresh_snapshot && envelope.seq <= state.seq {
                            assert!(
                                !state.apply(envelope),
                                "apply took an event the snapshot holds"
                            );
                            continue;
                        }
                        assert_eq!(
                            envelope.seq,
                            state.seq + 1,
                            "events must continue exactly after seq {} (a gap or a repeat): {envelope:?}",
                            state.seq
                        );
                        assert!(state.apply(envelope));
                        assert!(
                            state.counters.is_conserved(),
                            "counters stopped adding up at seq {}: {:?}",
                            envelope.seq,
                            state.counters
                        );
                        folded += 1;
                    }
                }
                self.fresh_snapshot = false;
                self.batches += 1;
                self.events += folded as u64;
                Fed::Events(folded)
            }
            Message::Lagged(lagged) => {
                assert!(lagged.skipped > 0, "a `lagged` notice that skipped nothing");
                self.awaiting_snapshot = true;
                self.lagged += 1;
                Fed::Lagged
            }
            Message::Removed(removed) => {
                assert_ne!(removed.run, run, "the followed run was deleted");
                Fed::Events(0)
            }
        };
        if fed != Fed::Lagged {
            let cursor = received.cursor();
            assert_eq!(
                cursor.0.get(&run).copied(),
                Some(self.seq()),
                "the SSE id {:?} must be the cursor the viewer now holds",
                received.id
            );
        }
        fed
    }

    /// Reads and folds messages until `done` holds; fails the test if that
    /// takes longer than `limit` or the stream ends first.
    pub async fn follow_until(
        &mut self,
        stream: &mut EventStream,
        limit: Duration,
        mut done: impl FnMut(&Follower) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + limit;
        while !done(self) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match stream.next_within(left).await {
                Ok(Some(received)) => {
                    self.feed(&received);
                }
                Ok(None) => panic!("the event stream ended while following {}", self.run),
                Err(_) => panic!(
                    "following {} timed out after {limit:?} at seq {} ({} events, {} batches)",
                    self.run,
                    self.seq(),
                    self.events,
                    self.batches
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{Batch, Envelope, Event, OverloadEvent, PatternId, Task, TaskKind};

    fn snapshot(seq: u64) -> Received {
        let mut snapshot = RunSnapshot::new("r", PatternId::DropBasic);
        snapshot.seq = seq;
        Received {
            id: Some(format!("r:{seq}")),
            message: Message::Snapshot(Box::new(snapshot)),
        }
    }

    fn batch(seqs: std::ops::RangeInclusive<u64>) -> Received {
        let events = seqs
            .clone()
            .map(|seq| Envelope {
                seq,
                at_ms: seq,
                event: Event::Overload(OverloadEvent::Submitted {
                    task: Task {
                        id: seq as u32,
                        kind: TaskKind::Email,
                        priority: 1,
                        work_ms: 1,
                    },
                }),
            })
            .collect();
        Received {
            id: Some(format!("r:{}", seqs.end())),
            message: Message::Batch(vec![Batch {
                run: "r".into(),
                events,
            }]),
        }
    }

    #[test]
    fn a_batch_may_overlap_the_snapshot_it_follows() {
        let mut follower = Follower::new("r");
        follower.feed(&snapshot(5));
        assert_eq!(follower.feed(&batch(4..=7)), Fed::Events(2));
        assert_eq!(follower.feed(&batch(8..=8)), Fed::Events(1));
        assert_eq!(follower.state().counters.submitted, 3);
    }

    #[test]
    #[should_panic(expected = "a gap or a repeat")]
    fn a_gap_fails() {
        let mut follower = Follower::new("r");
        follower.feed(&snapshot(5));
        follower.feed(&batch(7..=8));
    }

    #[test]
    #[should_panic(expected = "a gap or a repeat")]
    fn a_repeat_between_batches_fails() {
        let mut follower = Follower::new("r");
        follower.feed(&snapshot(5));
        follower.feed(&batch(6..=8));
        follower.feed(&batch(8..=9));
    }

    #[test]
    #[should_panic(expected = "the cursor the viewer now holds")]
    fn an_id_behind_the_events_fails() {
        let mut follower = Follower::new("r");
        follower.feed(&snapshot(5));
        let mut received = batch(6..=8);
        received.id = Some("r:6".into());
        follower.feed(&received);
    }
}

//! What the flow family shares: declaring a layout of stages and channels,
//! making items, and channels that report every item that passes.
//!
//! A [`Pipe`] is a real bounded tokio `mpsc` channel. Each change to it and
//! the event that reports it are recorded together: a send that finds the
//! buffer full reports the sender blocked (or, for `try_send`, the item
//! dropped) and a receive reports which worker took the item. What moves
//! through it is a [`Tracked`] value: the engine's own data with the id the
//! viewers know it by.

use crate::clock::Clock;
use crate::engines::Ctx;
use crate::sink::Sink;
use shared::{ChannelId, ChannelSpec, FlowEvent, ItemEnd, ItemId, ItemSpec, StageId, StageSpec};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;
use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;

/// A run's flow: where item ids come from, and the sink events go to.
#[derive(Debug)]
pub struct Flow {
    sink: Sink,
    next_item: AtomicU64,
}

/// A value on its way through the flow, with the id viewers know it by.
#[derive(Debug)]
pub struct Tracked<T> {
    pub id: ItemId,
    pub value: T,
}

impl Flow {
    pub fn new(ctx: &Ctx) -> Arc<Flow> {
        Arc::new(Flow {
            sink: ctx.sink.clone(),
            next_item: AtomicU64::new(0),
        })
    }

    pub fn sink(&self) -> &Sink {
        &self.sink
    }

    /// Declares a stage (again, to replace it: a subscriber's new buffer).
    pub fn stage(&self, stage: StageSpec) {
        self.sink.emit(FlowEvent::StageAdded { stage });
    }

    /// Makes an item at `stage` (it counts as submitted from now) carrying
    /// `value`. Ids are handed out in the order items are made.
    pub fn make<T>(
        &self,
        stage: StageId,
        label: impl Into<String>,
        tag: Option<String>,
        value: T,
    ) -> Tracked<T> {
        let label = label.into();
        self.make_labelled(stage, |_| label, tag, value)
    }

    /// Like [`Flow::make`], for a label that names the item's own id
    /// ("ERROR #7"): `label` is given the id the item gets.
    pub fn make_labelled<T>(
        &self,
        stage: StageId,
        label: impl FnOnce(ItemId) -> String,
        tag: Option<String>,
        value: T,
    ) -> Tracked<T> {
        let id = self.next_item.fetch_add(1, Ordering::Relaxed);
        let item = ItemSpec {
            id,
            label: label(id),
            tag,
        };
        self.sink.emit(FlowEvent::ItemMade { item, stage });
        Tracked { id, value }
    }

    /// Records an item's end.
    pub fn end(&self, item: ItemId, end: ItemEnd) {
        self.sink.emit(FlowEvent::ItemEnded { item, end });
    }

    /// Records that a worker of `stage` took `item` (from a waiting line,
    /// or from its own stage's hands).
    pub fn take(&self, item: ItemId, stage: StageId, worker: u32) {
        self.sink.emit(FlowEvent::ItemTaken {
            item,
            stage,
            worker,
        });
    }

    /// Declares a channel from `from` to `to` with `capacity` slots (at
    /// least one) and makes it.
    pub fn pipe<T>(
        &self,
        id: ChannelId,
        label: impl Into<String>,
        (from, to): (StageId, StageId),
        capacity: u32,
    ) -> (Pipe<T>, PipeRx<T>) {
        let capacity = capacity.max(1);
        self.sink.emit(FlowEvent::ChannelAdded {
            channel: ChannelSpec {
                id,
                label: label.into(),
                from,
                to,
                capacity,
            },
        });
        let (tx, rx) = mpsc::channel(capacity as usize);
        let pipe = Pipe {
            tx,
            channel: id,
            sink: self.sink.clone(),
        };
        let rx = PipeRx {
            rx: Arc::new(Mutex::new(rx)),
            sink: self.sink.clone(),
        };
        (pipe, rx)
    }
}

/// The sending side of a channel, cloneable like an `mpsc::Sender`.
#[derive(Debug)]
pub struct Pipe<T> {
    tx: mpsc::Sender<Tracked<T>>,
    channel: ChannelId,
    sink: Sink,
}

impl<T> Clone for Pipe<T> {
    fn clone(&self) -> Self {
        Pipe {
            tx: self.tx.clone(),
            channel: self.channel,
            sink: self.sink.clone(),
        }
    }
}

/// A source's paced loop: makes item `n` (counting from 1) with `make`,
/// sends it into `out` (waiting while the buffer is full) and sleeps the
/// `interval`, asked afresh each time (it is live), before the next. After
/// `count` items (0: endless) it closes `out` and reports `stage` stopped:
/// the consumers' word that nothing more will come. If the run stops or no
/// one receives any more, it returns at once.
pub async fn feed<T>(
    out: Pipe<T>,
    stage: StageId,
    count: u64,
    mut make: impl FnMut(u64) -> Tracked<T>,
    interval: impl Fn() -> Duration,
    clock: &Clock,
    token: &CancellationToken,
) {
    let mut n = 0;
    while count == 0 || n < count {
        n += 1;
        if !matches!(out.send(make(n), token).await, Sent::Queued) {
            return;
        }
        if n == count {
            break;
        }
        tokio::select! {
            biased;
            () = token.cancelled() => return,
            () = clock.sleep(interval()) => {}
        }
    }
    let sink = out.sink.clone();
    out.close();
    sink.emit(FlowEvent::StageStopped { stage });
}

/// What a worker's wait for its next item came to.
#[derive(Debug)]
pub enum Take<T> {
    /// It took this item.
    Item(Tracked<T>),
    /// It was told to leave (its `stay` said no) before an item came.
    Leave,
    /// The channel is closed and empty, or the run was cancelled.
    Done,
}

/// How a blocking send went.
#[derive(Debug)]
pub enum Sent<T> {
    /// In the buffer.
    Queued,
    /// The run was cancelled while the sender waited; the item comes back.
    Cancelled(Tracked<T>),
    /// No one will ever receive from this channel again.
    Closed(Tracked<T>),
}

impl<T> Pipe<T> {
    pub fn id(&self) -> ChannelId {
        self.channel
    }

    /// Sends, waiting for a free slot (backpressure); a full buffer is
    /// reported as the sender blocked until a slot frees. Finding the slot
    /// (or none) and reporting it are one step, so the report never
    /// disagrees with the buffer.
    pub async fn send(&self, item: Tracked<T>, token: &CancellationToken) -> Sent<T> {
        let channel = self.channel;
        let item = self.sink.record(|r| match self.tx.try_reserve() {
            Ok(permit) => {
                r.emit(FlowEvent::ItemQueued {
                    item: item.id,
                    channel,
                });
                permit.send(item);
                None
            }
            Err(mpsc::error::TrySendError::Full(())) => {
                r.emit(FlowEvent::ItemBlocked {
                    item: item.id,
                    channel,
                });
                Some(Ok(item))
            }
            Err(mpsc::error::TrySendError::Closed(())) => Some(Err(item)),
        });
        let item = match item {
            None => return Sent::Queued,
            Some(Ok(item)) => item,
            Some(Err(item)) => return Sent::Closed(item),
        };
        let permit = tokio::select! {
            biased;
            () = token.cancelled() => return Sent::Cancelled(item),
            permit = self.tx.reserve() => permit,
        };
        let Ok(permit) = permit else {
            return Sent::Closed(item);
        };
        self.sink.record(|r| {
            r.emit(FlowEvent::ItemQueued {
                item: item.id,
                channel,
            });
            permit.send(item);
        });
        Sent::Queued
    }

    /// Sends if a slot is free; otherwise the item is dropped at `stage`
    /// (a send that never waits). Returns whether it went in.
    pub fn try_send(&self, item: Tracked<T>, stage: StageId) -> bool {
        let channel = self.channel;
        self.sink.record(|r| {
            let id = item.id;
            match self.tx.try_send(item) {
                Ok(()) => {
                    r.emit(FlowEvent::ItemQueued { item: id, channel });
                    true
                }
                Err(e) => {
                    let why = match e {
                        mpsc::error::TrySendError::Full(_) => "buffer full",
                        mpsc::error::TrySendError::Closed(_) => "no one receives",
                    };
                    r.emit(FlowEvent::ItemEnded {
                        item: id,
                        end: ItemEnd::Dropped {
                            stage,
                            channel: Some(channel),
                            why: why.to_owned(),
                        },
                    });
                    false
                }
            }
        })
    }

    /// Closes this sender. The channel is reported closed when the last
    /// sender closes it, so call this on every clone (or drop the others).
    pub fn close(self) {
        if self.tx.strong_count() == 1 {
            self.sink.emit(FlowEvent::ChannelClosed {
                channel: self.channel,
            });
        }
    }
}

/// The receiving side of a channel, shared by a stage's workers.
#[derive(Debug)]
pub struct PipeRx<T> {
    rx: Arc<Mutex<mpsc::Receiver<Tracked<T>>>>,
    sink: Sink,
}

impl<T> Clone for PipeRx<T> {
    fn clone(&self) -> Self {
        PipeRx {
            rx: Arc::clone(&self.rx),
            sink: self.sink.clone(),
        }
    }
}

impl<T> PipeRx<T> {
    /// The next item, taken by `worker` of `stage`; `None` once the channel
    /// is closed and empty, or the run is cancelled.
    pub async fn recv(
        &self,
        stage: StageId,
        worker: u32,
        token: &CancellationToken,
    ) -> Option<Tracked<T>> {
        match self.recv_while(stage, worker, token, || true).await {
            Take::Item(item) => Some(item),
            Take::Leave | Take::Done => None,
        }
    }

    /// Like [`recv`](Self::recv), for a worker that may be told to leave
    /// while it waits (a pool shrinking). `stay` is asked under the run's
    /// lock right before an item would be taken, and the item is taken
    /// and reported in that same step, so a change recorded under the lock
    /// is never overtaken by a take. `None` also when `stay` says no; the
    /// caller is the one to wake up (drop this future) when what `stay`
    /// reads changes.
    pub async fn recv_while(
        &self,
        stage: StageId,
        worker: u32,
        token: &CancellationToken,
        stay: impl Fn() -> bool,
    ) -> Take<T> {
        let take = async {
            let mut rx = self.rx.lock().await;
            std::future::poll_fn(|cx| {
                self.sink.record(|r| {
                    if !stay() {
                        return Poll::Ready(Take::Leave);
                    }
                    let Some(item) = std::task::ready!(rx.poll_recv(cx)) else {
                        return Poll::Ready(Take::Done);
                    };
                    r.emit(FlowEvent::ItemTaken {
                        item: item.id,
                        stage,
                        worker,
                    });
                    Poll::Ready(Take::Item(item))
                })
            })
            .await
        };
        tokio::select! {
            biased;
            () = token.cancelled() => Take::Done,
            took = take => took,
        }
    }

    /// Closes the receiving side and takes out what is still buffered,
    /// without reporting it taken: the items no one will read (a reader
    /// that quit, a subscriber that left), for the caller to end. Once
    /// closed, `recv` still waits for a sender that already holds a slot,
    /// so an item sent through that slot is not left behind.
    pub async fn close_and_empty(&self) -> Vec<Tracked<T>> {
        let mut rx = self.rx.lock().await;
        rx.close();
        let mut left = Vec::new();
        while let Some(item) = rx.recv().await {
            left.push(item);
        }
        left
    }
}

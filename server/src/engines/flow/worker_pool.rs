//! Worker pool: a crew of workers reading one job queue.
//!
//! Jobs are submitted into a bounded queue, and a full queue makes the
//! submitter wait. Each worker takes the next job, works on it and hands a
//! failure to the pool's error handler; when the last job is in, the queue
//! is closed and the pool waits for its workers to empty it. The crew can
//! grow or shrink while it runs: a removed worker finishes its job first.

use super::pipe::{Flow, Pipe, PipeRx, Take, Tracked, feed};
use crate::engines::{About, Prompt, Ctx, Settings};
use crate::clock::Clock;
use crate::sink::Sink;
use rand::Rng;
use rand::rngs::StdRng;
use shared::pattern::worker_pool::WorkerPoolParams;
use shared::{ChannelId, FlowEvent, ItemEnd, StageId, StageRole, StageSpec};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

const SUBMIT: StageId = 0;
const POOL: StageId = 1;
const ERRORS: StageId = 2;
const QUEUE: ChannelId = 0;

/// A job as the pool holds it: how long it takes and, decided when it is
/// made, whether it fails.
#[derive(Debug)]
struct Job {
    work: Duration,
    fails: bool,
}

/// What the pool does with a failed job (the seed's `OnError`).
type OnError = Arc<dyn Fn(Tracked<Job>) + Send + Sync>;

pub const ABOUT: About = About {
    title: "Worker pool",
    summary: "Thirty jobs arrive one every 100 ms in a queue of ten slots, and three \
                  workers take them, 150 to 450 ms each; one job in ten fails and goes to \
                  the error handler. After the last job the queue is closed and the pool \
                  waits until its workers have emptied it.",
    try_this: "Send a job every 20 ms: the queue fills and the submitter waits. Add \
                   workers while it runs and watch the new ones get busy at once; remove \
                   some and watch each finish the job in its hands before it leaves, with \
                   no job lost. Compare the per-worker counts at the end.",
    questions: &[Prompt {
        at_ms: 500,
        text: "One job in ten fails. Where does a failed job go?",
        choices: &["Back into the queue", "To the error handler", "Nowhere: it is lost"],
        answer: 1,
    }],
};

pub async fn run(ctx: Ctx) {
    let flow = Flow::new(&ctx);
    let p: WorkerPoolParams = ctx.params.get();
    let (capacity, workers, jobs) = (p.capacity.max(1), p.workers.max(1), p.jobs);
    layout(&flow, workers);
    let (queue, rx) = flow.pipe(QUEUE, "job queue", (SUBMIT, POOL), capacity);
    let on_error: OnError = {
        let flow = flow.clone();
        Arc::new(move |job: Tracked<Job>| {
            flow.end(
                job.id,
                ItemEnd::Failed {
                    stage: ERRORS,
                    why: "the job returned an error".to_owned(),
                },
            );
        })
    };
    let pool = Pool::new(&ctx, rx, on_error);
    pool.start(workers);

    let Ctx {
        clock,
        token,
        params,
        mut rng,
        ..
    } = ctx;
    let mut changes = params.clone();
    let submitting = submit(&flow, queue, jobs, &mut rng, &params, &clock, &token);
    tokio::pin!(submitting);
    let mut closed = false;
    loop {
        tokio::select! {
            biased;
            () = token.cancelled() => return,
            Ok(()) = changes.changed() => {
                pool.resize(changes.seen::<WorkerPoolParams>().workers.max(1));
            }
            // The submitter has closed the queue: now the pool's wait.
            () = &mut submitting, if !closed => closed = true,
            () = pool.wait(), if closed => break,
        }
    }
    flow.sink().emit(FlowEvent::StageStopped { stage: POOL });
}

fn layout(flow: &Flow, workers: u32) {
    flow.stage(StageSpec {
        id: SUBMIT,
        label: "submit".to_owned(),
        role: StageRole::Source,
        workers: 0,
        column: 0,
        row: 0,
        about: Some("waits while the queue is full".to_owned()),
    });
    flow.stage(StageSpec {
        id: POOL,
        label: "pool".to_owned(),
        role: StageRole::Worker,
        workers,
        column: 1,
        row: 0,
        about: Some("every worker reads the one queue".to_owned()),
    });
    flow.stage(StageSpec {
        id: ERRORS,
        label: "error handler".to_owned(),
        role: StageRole::Sink,
        workers: 0,
        column: 2,
        row: 0,
        about: Some("records each failed job".to_owned()),
    });
}

/// Submits the jobs one interval apart, each waiting for a slot if the
/// queue is full, then closes the queue: no more jobs will come, and the
/// workers stop once it is empty.
async fn submit(
    flow: &Flow,
    queue: Pipe<Job>,
    jobs: u64,
    rng: &mut StdRng,
    params: &Settings,
    clock: &Clock,
    token: &CancellationToken,
) {
    let make = |n| {
        let job = {
            let p: WorkerPoolParams = params.get();
            let work = p.work_ms;
            let half = work / 2;
            let fails = (p.failure_pct / 100.0).clamp(0.0, 1.0);
            Job {
                work: Duration::from_millis(rng.random_range(work - half..=work + half)),
                fails: rng.random_bool(fails),
            }
        };
        flow.make(SUBMIT, format!("job {n}"), None, job)
    };
    let interval = || params.get::<WorkerPoolParams>().interval_ms;
    feed(queue, SUBMIT, jobs, make, interval, clock, token).await;
}

/// The pool as the seed builds it (start, wait, an error handler), with a
/// crew that can be resized while it runs.
struct Pool {
    jobs: PipeRx<Job>,
    crew: Arc<Crew>,
    on_error: OnError,
    /// The workers, for `wait`.
    workers: TaskTracker,
    /// The run's tracker, where every worker is spawned too.
    tracker: TaskTracker,
    clock: Clock,
    sink: Sink,
    token: CancellationToken,
}

/// Which workers there should be, and which are running.
#[derive(Debug)]
struct Crew {
    /// Workers `0..size` stay; the others leave once their hands are free.
    size: watch::Sender<u32>,
    /// Whether worker `i`'s task is running. A worker marks itself gone in
    /// the same step as it sees it must leave, so a resize at the same
    /// moment either keeps it or starts it anew, never both or neither.
    running: Mutex<Vec<bool>>,
}

impl Crew {
    fn stays(&self, worker: u32) -> bool {
        worker < *self.size.borrow()
    }

    /// Whether `worker` must leave now; if so, it is gone from now on.
    fn leaves(&self, worker: u32) -> bool {
        let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
        if self.stays(worker) {
            return false;
        }
        running[worker as usize] = false;
        true
    }

    fn gone(&self, worker: u32) {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)[worker as usize] = false;
    }
}

impl Pool {
    fn new(ctx: &Ctx, jobs: PipeRx<Job>, on_error: OnError) -> Pool {
        Pool {
            jobs,
            crew: Arc::new(Crew {
                size: watch::Sender::new(0),
                running: Mutex::new(Vec::new()),
            }),
            on_error,
            workers: TaskTracker::new(),
            tracker: ctx.tracker.clone(),
            clock: ctx.clock.clone(),
            sink: ctx.sink.clone(),
            token: ctx.token.clone(),
        }
    }

    /// Sets the crew to `size` workers: starts those missing, and tells
    /// the ones past the end to leave.
    fn start(&self, size: u32) {
        let mut running = self
            .crew
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.crew.size.send_replace(size);
        if running.len() < size as usize {
            running.resize(size as usize, false);
        }
        for worker in 0..size {
            if !running[worker as usize] {
                running[worker as usize] = true;
                let job = work(
                    worker,
                    self.jobs.clone(),
                    Arc::clone(&self.crew),
                    Arc::clone(&self.on_error),
                    self.clock.clone(),
                    self.sink.clone(),
                    self.token.clone(),
                );
                self.tracker.spawn(self.workers.track_future(job));
            }
        }
    }

    /// A new crew size while running. Recorded under the run's lock, so
    /// no worker past the new end takes a job after it (see `recv_while`).
    fn resize(&self, size: u32) {
        if size == *self.crew.size.borrow() {
            return;
        }
        self.sink.record(|r| {
            r.emit(FlowEvent::WorkersSet {
                stage: POOL,
                workers: size,
            });
            self.start(size);
        });
    }

    /// Waits until every worker has stopped: the queue is closed and empty.
    async fn wait(&self) {
        self.workers.close();
        self.workers.wait().await;
    }
}

/// One worker: takes the next job, works on it, reports it done or hands
/// it to the error handler; leaves when the queue is closed and empty or
/// when the crew shrinks below it.
async fn work(
    worker: u32,
    jobs: PipeRx<Job>,
    crew: Arc<Crew>,
    on_error: OnError,
    clock: Clock,
    sink: Sink,
    token: CancellationToken,
) {
    let mut size = crew.size.subscribe();
    loop {
        if crew.leaves(worker) {
            return;
        }
        let next = tokio::select! {
            biased;
            _ = size.wait_for(|&n| worker >= n) => continue,
            next = jobs.recv_while(POOL, worker, &token, || crew.stays(worker)) => next,
        };
        let job = match next {
            Take::Item(job) => job,
            // Asked again at the top: the crew may have grown back since.
            Take::Leave => continue,
            Take::Done => {
                crew.gone(worker);
                return;
            }
        };
        tokio::select! {
            biased;
            () = token.cancelled() => return,
            () = clock.sleep(job.value.work) => {}
        }
        if job.value.fails {
            on_error(job);
        } else {
            sink.emit(FlowEvent::ItemEnded {
                item: job.id,
                end: ItemEnd::Delivered { stage: POOL },
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ERRORS, POOL, Pool, QUEUE, SUBMIT};
    use crate::clock::Clock;
    use crate::engines::flow::pipe::Flow;
    use crate::engines::trial::{self, Driven};
    use crate::engines::{Ctx, ORDERS};
    use crate::run::Run;
    use shared::{Command, Envelope, Event, FlowEvent, ItemEnd, PatternId, RunEvent, RunSnapshot, RunStatus};
    use std::collections::BTreeMap;
    use std::sync::Arc;
    use std::time::Duration;
    use tokio::sync::{Notify, mpsc, watch};
    use tokio_util::sync::CancellationToken;
    use tokio_util::task::TaskTracker;

    fn set(name: &str, value: f64) -> Command {
        Command::SetParams {
            params: [(name.to_owned(), value)].into(),
        }
    }

    /// Checks that no worker past the crew's size at the time ever takes a
    /// job, and returns how many workers were busy at most.
    fn takes_within_the_crew(events: &[Envelope], mut size: u32) -> usize {
        let mut busy = std::collections::BTreeSet::new();
        let mut most = 0;
        for e in events {
            match &e.event {
                Event::Flow(FlowEvent::WorkersSet { stage, workers }) if *stage == POOL => size = *workers,
                Event::Flow(FlowEvent::ItemTaken {
                    stage,
                    worker,
                    item,
                }) if *stage == POOL => {
                    assert!(*worker < size, "worker {worker} took {item} with {size}");
                    busy.insert(*item);
                    most = most.max(busy.len());
                }
                Event::Flow(FlowEvent::ItemEnded { item, .. }) => {
                    busy.remove(item);
                }
                _ => {}
            }
        }
        most
    }

    /// Every job ends once, delivered at the pool or failed at the error
    /// handler, and each worker's count is the jobs it delivered (workers
    /// that left the pool take their counts with them).
    fn accounted(events: &[Envelope], end: &RunSnapshot, jobs: u64) {
        let c = end.counters;
        assert_eq!(c.submitted, jobs);
        assert_eq!(c.completed + c.failed, jobs, "{c:?}");
        assert_eq!((c.dropped, c.cancelled, c.in_flight), (0, 0, 0));
        let mut holder = BTreeMap::new();
        let mut delivered: BTreeMap<u32, u64> = BTreeMap::new();
        for e in events {
            match &e.event {
                Event::Flow(FlowEvent::ItemTaken {
                    item,
                    stage: POOL,
                    worker,
                }) => {
                    holder.insert(*item, *worker);
                }
                Event::Flow(FlowEvent::ItemEnded {
                    item,
                    end: ItemEnd::Delivered { .. },
                }) => {
                    *delivered.entry(holder[item]).or_default() += 1;
                }
                _ => {}
            }
        }
        assert_eq!(delivered.values().sum::<u64>(), c.completed);
        let flow = end.flow().expect("a flow run");
        let pool = flow.stage(POOL).expect("the pool");
        for (w, worker) in pool.workers.iter().enumerate() {
            let by_events = delivered.get(&(w as u32)).copied().unwrap_or_default();
            assert_eq!(worker.done, by_events, "worker {w}");
        }
        assert_eq!(pool.ends.delivered, c.completed);
        assert_eq!(flow.stage(ERRORS).map(|s| s.ends.failed), Some(c.failed));
    }

    #[tokio::test(start_paused = true)]
    async fn the_preset_closes_the_queue_then_waits_for_every_job() {
        let t = trial::run(PatternId::WorkerPool, &[], 42).await;
        accounted(&t.events, &t.end, 30);
        let c = t.end.counters;
        assert_eq!((c.completed, c.failed), (27, 3), "about one in ten fails");
        let flow = t.end.flow().expect("a flow run");
        let per_worker: Vec<u64> = flow
            .stage(POOL)
            .expect("pool")
            .workers
            .iter()
            .map(|w| w.done)
            .collect();
        assert_eq!(per_worker.len(), 3);
        assert!(per_worker.iter().all(|&n| n > 0), "{per_worker:?}");
        assert!(takes_within_the_crew(&t.events, 3) <= 3);
        // The last job goes in at 2900 ms and the queue closes at once,
        // while jobs are still queued and in the workers' hands; the run
        // finishes only after the last of them ends.
        let closed = t.time_of(|e| matches!(e, Event::Flow(FlowEvent::ChannelClosed { channel: QUEUE })));
        assert_eq!(closed, Some(2_900));
        let last_end = t
            .events
            .iter()
            .filter(|e| matches!(e.event, Event::Flow(FlowEvent::ItemEnded { .. })))
            .map(|e| e.at_ms)
            .max();
        assert!(last_end > closed, "{last_end:?}");
        let finished = t.time_of(|e| {
            matches!(
                e,
                Event::Run(RunEvent::Status {
                    status: RunStatus::Finished
                })
            )
        });
        assert_eq!(finished, last_end);
        assert!(flow.channel(QUEUE).is_some_and(|c| c.closed));
        assert!(flow.stage(SUBMIT).is_some_and(|s| s.stopped));
    }

    #[tokio::test(start_paused = true)]
    async fn failures_go_to_the_error_handler_as_the_rate_changes() {
        assert_eq!(
            trial::run(PatternId::WorkerPool, &[("failure_pct", 0.0)], 5)
                .await
                .end
                .counters
                .failed,
            0
        );
        let mut d = Driven::start(PatternId::WorkerPool, &[("failure_pct", 0.0)], 5).await;
        d.until(1_050).await;
        d.command(set("failure_pct", 100.0)).await.expect("live");
        d.finish().await;
        accounted(&d.events, &d.folded, 30);
        // Jobs 1-11 were made at 0-1000 ms and succeed; the other 19 fail.
        assert_eq!(
            (d.folded.counters.completed, d.folded.counters.failed),
            (11, 19)
        );
        let failed = d
            .folded
            .flow()
            .and_then(|f| f.recent.iter().rev().find(|r| r.end.key() == "failed"))
            .map(|r| r.end.clone());
        assert_eq!(failed.and_then(|e| e.stage()), Some(ERRORS));
    }

    /// A load three workers cannot keep up with: a job every 20 ms.
    const LOAD: [(&str, f64); 2] = [("interval_ms", 20.0), ("failure_pct", 0.0)];

    fn busy(d: &Driven) -> usize {
        let pool = d
            .folded
            .flow()
            .and_then(|f| f.stage(POOL))
            .expect("the pool");
        pool.workers.iter().filter(|w| w.item.is_some()).count()
    }

    #[tokio::test(start_paused = true)]
    async fn growing_the_pool_under_load_puts_every_new_worker_to_work() {
        let mut d =
            Driven::start(PatternId::WorkerPool, &[LOAD[0], LOAD[1], ("jobs", 0.0)], 9).await;
        d.until(1_000).await;
        assert_eq!(busy(&d), 3);
        let flow = d.folded.flow().expect("a flow run");
        let queue = flow.channel(QUEUE).expect("the queue");
        assert_eq!(
            (queue.buffer.len(), queue.blocked.len()),
            (10, 1),
            "full, the submitter waits"
        );
        d.command(set("workers", 6.0)).await.expect("live");
        d.until(1_001).await;
        assert_eq!(busy(&d), 6);
        let pool = d
            .folded
            .flow()
            .and_then(|f| f.stage(POOL))
            .expect("the pool");
        assert_eq!(pool.workers.len(), 6);
        d.until(3_000).await;
        assert_eq!(busy(&d), 6);
        assert_eq!(takes_within_the_crew(&d.events, 3), 6);
        d.command(Command::Stop).await.expect("stop");
        assert_eq!(d.folded.counters.in_flight, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn shrinking_the_pool_lets_busy_workers_finish_and_loses_no_job() {
        let mut d = Driven::start(
            PatternId::WorkerPool,
            &[LOAD[0], LOAD[1], ("jobs", 60.0)],
            4,
        )
        .await;
        d.until(1_000).await;
        let held: Vec<_> = d
            .folded
            .flow()
            .and_then(|f| f.stage(POOL))
            .expect("pool")
            .workers
            .iter()
            .map(|w| w.item)
            .collect();
        assert!(held.iter().all(Option::is_some));
        d.command(set("workers", 1.0)).await.expect("live");
        // The engine applies the change at once, in virtual time.
        d.until(1_001).await;
        let pool = d
            .folded
            .flow()
            .and_then(|f| f.stage(POOL))
            .expect("the pool");
        let retiring: Vec<bool> = pool.workers.iter().map(|w| w.retiring).collect();
        assert_eq!(
            retiring,
            [false, true, true],
            "both leaving workers still hold a job"
        );
        d.finish().await;
        takes_within_the_crew(&d.events, 3);
        let shrunk = d
            .events
            .iter()
            .position(|e| matches!(e.event, Event::Flow(FlowEvent::WorkersSet { workers: 1, .. })))
            .expect("shrunk");
        let after: Vec<u32> = d.events[shrunk..]
            .iter()
            .filter_map(|e| match e.event {
                Event::Flow(FlowEvent::ItemTaken {
                    stage: POOL,
                    worker,
                    ..
                }) => Some(worker),
                _ => None,
            })
            .collect();
        assert!(
            !after.is_empty() && after.iter().all(|&w| w == 0),
            "{after:?}"
        );
        // What the leaving workers held was finished, not lost.
        for item in held.into_iter().flatten() {
            let end = d.events.iter().find_map(|e| match &e.event {
                Event::Flow(FlowEvent::ItemEnded { item: i, end }) if *i == item => Some(end.clone()),
                _ => None,
            });
            assert_eq!(end, Some(ItemEnd::Delivered { stage: POOL }));
        }
        accounted(&d.events, &d.folded, 60);
        let pool = d
            .folded
            .flow()
            .and_then(|f| f.stage(POOL))
            .expect("the pool");
        assert_eq!(pool.workers.len(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_shrink_really_stops_the_workers_and_a_grow_starts_new_ones() {
        let run = Run::new(
            "pool".into(),
            PatternId::WorkerPool,
            &CancellationToken::new(),
            TaskTracker::new(),
            Arc::new(Notify::new()),
        );
        let (_params, params) = watch::channel(PatternId::WorkerPool.preset());
        let (_orders, inbox) = mpsc::channel(ORDERS);
        let ctx = Ctx::new(
            Clock::new(),
            run.sink(),
            CancellationToken::new(),
            params,
            1,
            inbox,
        );
        let flow = Flow::new(&ctx);
        super::layout(&flow, 4);
        let (queue, rx) = flow.pipe::<super::Job>(QUEUE, "job queue", (SUBMIT, POOL), 4);
        let pool = Pool::new(&ctx, rx, Arc::new(|_| {}));
        pool.start(4);
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(pool.workers.len(), 4);
        pool.resize(1);
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(pool.workers.len(), 1, "the idle workers left at once");
        pool.resize(3);
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert_eq!(pool.workers.len(), 3);
        queue.close();
        tokio::time::timeout(Duration::from_secs(1), pool.wait())
            .await
            .expect("all stop once the queue is closed");
        assert_eq!(pool.workers.len(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn stop_mid_run_leaves_nothing_alive() {
        let mut d = Driven::start(PatternId::WorkerPool, &[LOAD[0]], 42).await;
        d.until(700).await;
        d.stop_flow().await;
    }
}

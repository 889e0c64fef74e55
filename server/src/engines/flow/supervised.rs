//! Supervised workers: no task is fired and forgotten.
//!
//! A supervisor owns its workers in a `JoinSet` and sees every one of them
//! end. A worker that panics takes neither the program nor its job into
//! silence: the supervisor catches the panic as a `JoinError`, records the
//! job the worker had in its hands as failed, and starts a new worker in
//! its place.

use super::pipe::{Flow, Pipe, PipeRx, feed};
use crate::engines::{About, Prompt, Ctx, Order, OrderError, Settings};
use crate::clock::Clock;
use crate::sink::Sink;
use rand::Rng;
use rand::rngs::StdRng;
use shared::pattern::supervised::SupervisedParams;
use shared::{ChannelId, Command, FlowEvent, ItemEnd, ItemId, StageId, StageRole, StageSpec};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::{self, JoinError, JoinSet};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

const JOBS: StageId = 0;
const WORKERS: StageId = 1;
const QUEUE: ChannelId = 0;
/// Slots in the job queue.
const QUEUE_SLOTS: u32 = 5;
/// How long every job takes.
const WORK: Duration = Duration::from_millis(300);

/// A job: if it makes its worker panic, how far into the work.
#[derive(Debug)]
struct Job {
    panics_after: Option<Duration>,
}

pub const ABOUT: About = About {
    title: "Supervised workers",
    summary: "A supervisor starts three workers in a JoinSet; forty jobs arrive one \
                  every 150 ms and take 300 ms each. When a worker panics the supervisor \
                  sees it end, records its job as failed and starts a new worker with the \
                  same number, so nothing is lost without a trace and the pool stays whole.",
    try_this: "Press Panic on a busy worker: its job turns failed, its panic count goes \
                   up, and a fresh worker takes the next job. Press it on an idle worker: \
                   refused, there is no job to lose. Set random panics to 20 %: at the end \
                   every job is either done or failed, none missing.",
    questions: &[Prompt {
        at_ms: 500,
        text: "Press Panic on a busy worker. What happens to its job?",
        choices: &["It is lost without a trace", "It is recorded as failed and a fresh worker takes over", "The whole program stops"],
        answer: 1,
    }],
};

pub async fn run(ctx: Ctx) {
    let flow = Flow::new(&ctx);
    let p: SupervisedParams = ctx.params.get();
    let (workers, jobs) = (p.workers.max(1), p.jobs);
    layout(&flow, workers);
    let (queue, rx) = flow.pipe(QUEUE, "job queue", (JOBS, WORKERS), QUEUE_SLOTS);
    let mut supervisor = Supervisor::new(&ctx, rx, workers);
    for worker in 0..workers {
        supervisor.spawn(worker);
    }

    let Ctx {
        clock,
        token,
        params,
        mut rng,
        mut orders,
        ..
    } = ctx;
    let submitting = submit(&flow, queue, jobs, &mut rng, &params, &clock, &token);
    tokio::pin!(submitting);
    let mut submitted = false;
    loop {
        tokio::select! {
            biased;
            () = token.cancelled() => return,
            Some(order) = orders.recv() => {
                let answer = supervisor.order(&order);
                order.answer(answer);
            }
            Some(ended) = supervisor.workers.join_next_with_id() => {
                if let Err(e) = ended {
                    supervisor.ended(&e);
                }
                // Every worker returned by itself: the queue is closed and empty.
                if supervisor.workers.is_empty() {
                    break;
                }
            }
            () = &mut submitting, if !submitted => submitted = true,
        }
    }
    flow.sink().emit(FlowEvent::StageStopped { stage: WORKERS });
}

fn layout(flow: &Flow, workers: u32) {
    flow.stage(StageSpec {
        id: JOBS,
        label: "jobs".to_owned(),
        role: StageRole::Source,
        workers: 0,
        column: 0,
        row: 0,
        about: None,
    });
    flow.stage(StageSpec {
        id: WORKERS,
        label: "supervised workers".to_owned(),
        role: StageRole::Worker,
        workers,
        column: 1,
        row: 0,
        about: Some("a panicked worker is replaced".to_owned()),
    });
}

/// Submits the jobs one interval apart, each waiting for a slot if the
/// queue is full, then closes the queue.
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
        let panics = (params.get::<SupervisedParams>().panic_pct / 100.0).clamp(0.0, 1.0);
        let panics_after = rng
            .random_bool(panics)
            .then(|| Duration::from_millis(rng.random_range(0..WORK.as_millis() as u64)));
        flow.make(JOBS, format!("job {n}"), None, Job { panics_after })
    };
    let interval = || params.get::<SupervisedParams>().interval_ms;
    feed(queue, JOBS, jobs, make, interval, clock, token).await;
}

/// What the supervisor and its workers share about each worker.
#[derive(Debug)]
struct Crew {
    /// The job in each worker's hands. It outlives a worker that panics,
    /// so the supervisor knows which job was lost.
    hands: Mutex<Vec<Option<ItemId>>>,
    /// A panic ordered for each worker, set only while it holds a job.
    doom: Vec<watch::Sender<bool>>,
}

impl Crew {
    fn hands(&self) -> std::sync::MutexGuard<'_, Vec<Option<ItemId>>> {
        self.hands.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Owns the workers: starts them, hears each one end, replaces those
/// that panicked.
struct Supervisor {
    workers: JoinSet<()>,
    /// Which worker each running task is.
    ids: HashMap<task::Id, u32>,
    crew: Arc<Crew>,
    jobs: PipeRx<Job>,
    tracker: TaskTracker,
    clock: Clock,
    sink: Sink,
    token: CancellationToken,
}

impl Supervisor {
    fn new(ctx: &Ctx, jobs: PipeRx<Job>, workers: u32) -> Supervisor {
        let crew = Crew {
            hands: Mutex::new(vec![None; workers as usize]),
            doom: (0..workers).map(|_| watch::Sender::new(false)).collect(),
        };
        Supervisor {
            workers: JoinSet::new(),
            ids: HashMap::new(),
            crew: Arc::new(crew),
            jobs,
            tracker: ctx.tracker.clone(),
            clock: ctx.clock.clone(),
            sink: ctx.sink.clone(),
            token: ctx.token.clone(),
        }
    }

    fn spawn(&mut self, worker: u32) {
        let job = work(
            worker,
            self.jobs.clone(),
            Arc::clone(&self.crew),
            self.clock.clone(),
            self.sink.clone(),
            self.token.clone(),
        );
        let task = self.workers.spawn(self.tracker.track_future(job));
        self.ids.insert(task.id(), worker);
    }

    /// A worker ended without returning: if it panicked, its job is
    /// failed and a new worker takes its place and number.
    fn ended(&mut self, e: &JoinError) {
        let Some(worker) = self.ids.remove(&e.id()) else {
            return;
        };
        if !e.is_panic() {
            return;
        }
        let job = self.crew.hands()[worker as usize].take();
        self.crew.doom[worker as usize].send_replace(false);
        self.sink.record(|r| {
            if let Some(item) = job {
                r.emit(FlowEvent::ItemEnded {
                    item,
                    end: ItemEnd::Failed {
                        stage: WORKERS,
                        why: "worker panicked".to_owned(),
                    },
                });
            }
            r.emit(FlowEvent::WorkerPanicked {
                stage: WORKERS,
                worker,
            });
        });
        self.spawn(worker);
    }

    /// A viewer's order: make a busy worker panic.
    fn order(&self, order: &Order) -> Result<(), OrderError> {
        let Command::Panic { worker } = order.command else {
            return Err(OrderError::Invalid(
                "supervised workers take only panic".to_owned(),
            ));
        };
        let hands = self.crew.hands();
        let Some(held) = hands.get(worker as usize) else {
            return Err(OrderError::Unknown(format!(
                "there is no worker {worker}: the workers are 0 to {}",
                hands.len() - 1
            )));
        };
        if held.is_none() {
            return Err(OrderError::Conflict(format!(
                "worker {worker} is idle; a panic needs a job in hand"
            )));
        }
        self.crew.doom[worker as usize].send_replace(true);
        Ok(())
    }
}

/// One worker: takes the next job and works on it; panics, job in hand,
/// when the job says so or a panic is ordered.
async fn work(
    worker: u32,
    jobs: PipeRx<Job>,
    crew: Arc<Crew>,
    clock: Clock,
    sink: Sink,
    token: CancellationToken,
) {
    let index = worker as usize;
    let mut doom = crew.doom[index].subscribe();
    while let Some(job) = jobs.recv(WORKERS, worker, &token).await {
        crew.hands()[index] = Some(job.id);
        tokio::select! {
            biased;
            () = token.cancelled() => return,
            _ = doom.wait_for(|ordered| *ordered) => {}
            () = clock.sleep(job.value.panics_after.unwrap_or(WORK)) => {}
        }
        // Decided under the hands' lock, which an order takes too: a panic
        // ordered just as the work ends still finds the job in hand.
        let panics = {
            let mut hands = crew.hands();
            let ordered = crew.doom[index].send_replace(false);
            let panics = ordered || job.value.panics_after.is_some();
            if !panics {
                hands[index] = None;
                sink.emit(FlowEvent::ItemEnded {
                    item: job.id,
                    end: ItemEnd::Delivered { stage: WORKERS },
                });
            }
            panics
        };
        if panics {
            // A real panic, without the panic hook's message on stderr.
            std::panic::resume_unwind(Box::new(format!("worker {worker} panicked")));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{JOBS, WORKERS};
    use crate::engines::OrderError;
    use crate::engines::trial::{self, Driven};
    use crate::run::CommandError;
    use shared::{Command, Envelope, Event, FlowEvent, ItemEnd, PatternId, RunEvent, RunSnapshot, RunStatus};

    fn panic(worker: u32) -> Command {
        Command::Panic { worker }
    }

    /// Every job made was delivered or failed, and each failure is a
    /// panic the supervisor reported.
    fn accounted(events: &[Envelope], end: &RunSnapshot, jobs: u64) {
        let c = end.counters;
        assert_eq!(c.submitted, jobs);
        assert_eq!(c.completed + c.failed, jobs, "{c:?}");
        assert_eq!((c.dropped, c.cancelled, c.in_flight), (0, 0, 0));
        let panics = events
            .iter()
            .filter(|e| matches!(e.event, Event::Flow(FlowEvent::WorkerPanicked { .. })))
            .count() as u64;
        assert_eq!(panics, c.failed);
        let flow = end.flow().expect("a flow run");
        let workers = &flow.stage(WORKERS).expect("the workers").workers;
        assert_eq!(
            workers.iter().map(|w| u64::from(w.panics)).sum::<u64>(),
            c.failed
        );
        assert_eq!(workers.iter().map(|w| w.done).sum::<u64>(), c.completed);
    }

    #[tokio::test(start_paused = true)]
    async fn an_ordered_panic_fails_the_job_and_the_worker_is_replaced() {
        let mut d = Driven::start(PatternId::Supervised, &[], 42).await;
        // Jobs at 0, 150 and 300 ms went to workers 0, 1 and 2.
        d.until(320).await;
        let held = d
            .folded
            .flow()
            .and_then(|f| f.stage(WORKERS)?.workers[1].item)
            .expect("worker 1 is busy");
        d.command(panic(1)).await.expect("worker 1 holds a job");
        d.until(330).await;
        let at = d
            .events
            .iter()
            .position(|e| matches!(e.event, Event::Flow(FlowEvent::ItemEnded { item, .. }) if item == held))
            .expect("its job ended");
        assert_eq!(
            d.events[at].event,
            Event::Flow(FlowEvent::ItemEnded {
                item: held,
                end: ItemEnd::Failed {
                    stage: WORKERS,
                    why: "worker panicked".to_owned()
                }
            })
        );
        assert_eq!(
            d.events[at + 1].event,
            Event::Flow(FlowEvent::WorkerPanicked {
                stage: WORKERS,
                worker: 1
            })
        );
        let worker = d
            .folded
            .flow()
            .and_then(|f| f.stage(WORKERS))
            .map(|s| s.workers[1])
            .expect("worker 1");
        assert_eq!((worker.panics, worker.item), (1, None));

        d.finish().await;
        // The new worker 1 goes on taking jobs.
        let later = d.events[at..]
            .iter()
            .filter(|e| {
                matches!(
                    e.event,
                    Event::Flow(FlowEvent::ItemTaken {
                        stage: WORKERS,
                        worker: 1,
                        ..
                    })
                )
            })
            .count();
        assert!(later >= 5, "worker 1 took {later} jobs after its panic");
        accounted(&d.events, &d.folded, 40);
        assert_eq!(d.folded.counters.failed, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_panic_needs_a_job_in_hand_and_a_worker_that_exists() {
        let mut d = Driven::start(PatternId::Supervised, &[], 42).await;
        d.until(50).await;
        // Only worker 0 has a job yet.
        let idle = d.command(panic(2)).await;
        assert!(
            matches!(&idle, Err(CommandError::Order(OrderError::Conflict(m))) if m == "worker 2 is idle; a panic needs a job in hand"),
            "{idle:?}"
        );
        let unknown = d.command(panic(3)).await;
        assert!(
            matches!(unknown, Err(CommandError::Order(OrderError::Unknown(_)))),
            "{unknown:?}"
        );
        assert_eq!(d.folded.counters.failed, 0);
        d.command(panic(0)).await.expect("worker 0 is busy");
        d.until(60).await;
        assert_eq!(d.folded.counters.failed, 1);
        // Its replacement starts idle: a second panic finds nothing to lose.
        let again = d.command(panic(0)).await;
        assert!(
            matches!(again, Err(CommandError::Order(OrderError::Conflict(_)))),
            "{again:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn random_panics_lose_no_job() {
        let t = trial::run(
            PatternId::Supervised,
            &[("panic_pct", 20.0), ("jobs", 100.0)],
            7,
        )
        .await;
        accounted(&t.events, &t.end, 100);
        let failed = t.end.counters.failed;
        assert!((5..=40).contains(&failed), "{failed} of 100 at 20 %");
        // Each failed job ended before its worker's panic was reported,
        // and the replacements kept every worker number in use.
        for (i, e) in t.events.iter().enumerate() {
            if let Event::Flow(FlowEvent::ItemEnded {
                end: ItemEnd::Failed { .. },
                ..
            }) = e.event
            {
                assert!(matches!(
                    t.events[i + 1].event,
                    Event::Flow(FlowEvent::WorkerPanicked { .. })
                ));
            }
        }
        let flow = t.end.flow().expect("a flow run");
        assert_eq!(flow.stage(WORKERS).map(|s| s.workers.len()), Some(3));
        assert!(flow.stage(JOBS).is_some_and(|s| s.stopped));
    }

    #[tokio::test(start_paused = true)]
    async fn without_panics_every_job_is_done() {
        let t = trial::run(PatternId::Supervised, &[], 1).await;
        accounted(&t.events, &t.end, 40);
        assert_eq!(t.end.counters.completed, 40);
        // 40 jobs 150 ms apart, the last done 300 ms after it arrived.
        assert_eq!(
            t.time_of(|e| matches!(
                e,
                Event::Run(RunEvent::Status {
                    status: RunStatus::Finished
                })
            )),
            Some(39 * 150 + 300)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn stop_mid_run_leaves_nothing_alive() {
        let mut d = Driven::start(
            PatternId::Supervised,
            &[("panic_pct", 30.0), ("interval_ms", 50.0)],
            42,
        )
        .await;
        d.until(1_000).await;
        d.stop_flow().await;
        // A panic order after the stop finds no run.
        assert!(matches!(
            d.command(panic(0)).await,
            Err(CommandError::NotRunning)
        ));
    }
}

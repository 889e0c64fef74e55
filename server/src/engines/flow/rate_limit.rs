//! Rate limiting, two ways side by side: a ticker that paces a pool, and a
//! token bucket that admits bursts up to its size and then a steady rate.
//!
//! The ticker lets one job through per tick, so the pace is the ticker's
//! and the workers mostly wait, however many there are. The bucket holds a
//! few tokens and refills them at a fixed rate: a request that finds a
//! token goes through at once, one that finds none is refused on the spot,
//! so a burst gets through up to the bucket's size and no further.

use super::pipe::{Flow, Pipe, PipeRx};
use crate::engines::{About, Prompt, Ctx, Settings};
use crate::clock::Clock;
use crate::sink::Sink;
use shared::pattern::rate_limit::RateLimitParams;
use shared::{Event, FlowEvent, ItemEnd, ItemId, StageId, StageRole, StageSpec};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The ticker lane (row 0): jobs wait at the ticker for the workers.
const JOBS: StageId = 0;
const TICKER: StageId = 1;
const WORKERS: StageId = 2;
/// The bucket lane (row 1): requests pass the bucket or are refused.
const REQUESTS: StageId = 3;
const BUCKET: StageId = 4;
const SERVERS: StageId = 5;
/// The channel from the bucket to its servers.
const ADMITTED: u32 = 0;

/// The bucket lane's workers.
const SERVER_COUNT: u32 = 5;
/// The largest bucket a viewer may choose; the admitted channel has a slot
/// for each, so a full bucket's burst never finds it full.
const BUCKET_MAX: f64 = 20.0;
/// A burst of requests comes at the start and then this often.
const BURST_EVERY: Duration = Duration::from_secs(2);

pub const ABOUT: About = About {
    title: "Rate limit: ticker and token bucket",
    summary: "Top: 50 jobs wait at a ticker that lets one through every 100 ms to five \
                  workers, each busy 50 ms: the ticker sets the pace, so the workers are \
                  idle most of the time. Bottom: 20 requests a second arrive, plus a burst \
                  of 10 at once every 2 s (the first at the start), at a bucket of 5 tokens \
                  that gains one token every 200 ms (5 a second). A request takes a token \
                  or is refused: a full bucket lets 5 of a burst through, then admissions \
                  follow the refill rate.",
    try_this: "Watch the top workers take turns, one job per tick, whatever their number; \
                   add workers (it restarts) and nothing speeds up, shorten the tick and \
                   everything does. Below, watch the bucket drain at the first burst and \
                   refill one token at a time. Lower the arrivals to 2 a second: the bucket \
                   fills between bursts and each burst gets exactly 5 through. Raise the \
                   bucket to 15: bigger bursts pass, the long-run rate stays 5 a second.",
    questions: &[Prompt {
        at_ms: 100,
        text: "A tick every 100 ms lets one job through to five workers, each busy 50 ms. With ten workers, how much sooner are the jobs done?",
        choices: &["Twice as soon", "No sooner: the ticker sets the pace", "Ten times as soon"],
        answer: 1,
    }],
};

pub async fn run(ctx: Ctx) {
    let flow = Flow::new(&ctx);
    for stage in layout(ctx.params.get::<RateLimitParams>().workers.max(1)) {
        flow.stage(stage);
    }
    let lane = |tracker: &TaskTracker| Lane {
        flow: Arc::clone(&flow),
        clock: ctx.clock.clone(),
        token: ctx.token.clone(),
        params: ctx.params.clone(),
        tracker: tracker.clone(),
    };
    tokio::join!(
        ticker_lane(lane(&ctx.tracker)),
        bucket_lane(lane(&ctx.tracker))
    );
}

fn layout(workers: u32) -> [StageSpec; 6] {
    let stage = |id, label: &str, role, workers, (column, row), about: Option<&str>| StageSpec {
        id,
        label: label.to_owned(),
        role,
        workers,
        column,
        row,
        about: about.map(str::to_owned),
    };
    [
        stage(JOBS, "jobs", StageRole::Source, 0, (0, 0), None),
        stage(
            TICKER,
            "ticker",
            StageRole::Gate,
            0,
            (1, 0),
            Some("lets one job through per tick"),
        ),
        stage(WORKERS, "workers", StageRole::Worker, workers, (2, 0), None),
        stage(REQUESTS, "requests", StageRole::Source, 0, (0, 1), None),
        stage(
            BUCKET,
            "token bucket",
            StageRole::Gate,
            0,
            (1, 1),
            Some("a request takes a token or is refused"),
        ),
        stage(
            SERVERS,
            "workers",
            StageRole::Worker,
            SERVER_COUNT,
            (2, 1),
            None,
        ),
    ]
}

/// What each lane runs with.
#[derive(Debug)]
struct Lane {
    flow: Arc<Flow>,
    clock: Clock,
    token: CancellationToken,
    params: Settings,
    tracker: TaskTracker,
}

impl Lane {
    fn sink(&self) -> &Sink {
        self.flow.sink()
    }

    fn params(&self) -> RateLimitParams {
        self.params.get()
    }
}

/// The seed's scenario: every job is queued at once, and a ticker hands one
/// to a free worker at each tick. A tick that finds every worker busy goes
/// unused, as Go's ticker drops ticks its reader is too slow for, so a job
/// only ever starts on a tick.
async fn ticker_lane(mut lane: Lane) {
    let p = lane.params();
    let (workers, jobs) = (p.workers.max(1), p.jobs.max(1));
    let mut line: VecDeque<ItemId> = (1..=jobs)
        .map(|n| {
            let job = lane.flow.make(JOBS, format!("job {n}"), None, ());
            lane.sink().emit(FlowEvent::ItemWaiting {
                item: job.id,
                stage: TICKER,
                on: None,
            });
            job.id
        })
        .collect();

    // A worker says it is free by putting its number here; every worker
    // starts free, in order, so the first ticks go to 0, 1, 2...
    let (idle_tx, mut idle) = mpsc::channel(workers as usize);
    let crew = TaskTracker::new();
    let mut hands = Vec::new();
    for worker in 0..workers {
        let (hand, job) = mpsc::channel(1);
        hands.push(hand);
        let _ = idle_tx.try_send(worker);
        let work = ticker_worker(worker, job, idle_tx.clone(), &lane);
        lane.tracker.spawn(crew.track_future(work));
    }
    crew.close();
    drop(idle_tx);

    let mut last_tick = Duration::ZERO;
    while !line.is_empty() {
        // Read afresh at every tick, and again when a parameter changes,
        // so a new period applies from the last tick on. Like Go's ticker,
        // it drops the ticks it missed instead of firing them in a burst:
        // a much shorter period set long after the last tick would
        // otherwise release a crowd of jobs at one instant.
        let period = lane.params().ticker_ms;
        let now = lane.clock.now();
        let due = last_tick + period;
        let next = if due + period <= now { now } else { due };
        tokio::select! {
            biased;
            () = lane.token.cancelled() => return,
            Ok(()) = lane.params.changed() => continue,
            () = lane.clock.sleep_until(next) => {}
        }
        last_tick = next;
        let Ok(worker) = idle.try_recv() else {
            continue;
        };
        let Some(job) = line.pop_front() else { break };
        lane.sink().record(|r| {
            r.emit(FlowEvent::ItemTaken {
                item: job,
                stage: WORKERS,
                worker,
            });
            // Cannot fail: the worker said it is free, so its hand is empty.
            let _ = hands[worker as usize].try_send(job);
        });
    }
    lane.sink().emit(FlowEvent::StageStopped { stage: TICKER });
    // No more jobs: each worker finishes the one it has and stops.
    drop(hands);
    tokio::select! {
        biased;
        () = lane.token.cancelled() => {}
        () = crew.wait() => {}
    }
}

/// A ticker lane worker: takes the job the ticker hands it, works, says it
/// is free again.
fn ticker_worker(
    worker: u32,
    mut hand: mpsc::Receiver<ItemId>,
    idle: mpsc::Sender<u32>,
    lane: &Lane,
) -> impl Future<Output = ()> + use<> {
    let (clock, token, params) = (lane.clock.clone(), lane.token.clone(), lane.params.clone());
    let sink = lane.sink().clone();
    async move {
        loop {
            let job = tokio::select! {
                biased;
                () = token.cancelled() => return,
                job = hand.recv() => job,
            };
            let Some(job) = job else { return };
            let work = params.get::<RateLimitParams>().work_ms;
            tokio::select! {
                biased;
                () = token.cancelled() => return,
                () = clock.sleep(work) => {}
            }
            sink.emit(FlowEvent::ItemEnded {
                item: job,
                end: ItemEnd::Delivered { stage: WORKERS },
            });
            // One free note per worker at most: the channel never fills.
            let _ = idle.try_send(worker);
        }
    }
}

/// A token bucket, written by hand: `size` tokens at most.
#[derive(Debug)]
struct Bucket {
    tokens: u32,
    size: u32,
}

impl Bucket {
    /// Takes a token if there is one.
    fn take(&mut self) -> bool {
        let had = self.tokens > 0;
        self.tokens = self.tokens.saturating_sub(1);
        had
    }

    /// One token back; a full bucket wastes it.
    fn refill(&mut self) {
        self.tokens = (self.tokens + 1).min(self.size);
    }

    /// A new size; returns whether that changed the bucket.
    fn resize(&mut self, size: u32) -> bool {
        let was = (self.tokens, self.size);
        self.size = size;
        self.tokens = self.tokens.min(size);
        (self.tokens, self.size) != was
    }

    fn gauge(&self) -> Event {
        Event::Flow(FlowEvent::Gauge {
            stage: BUCKET,
            value: f64::from(self.tokens),
            max: f64::from(self.size),
            label: "tokens".to_owned(),
        })
    }
}

/// `per_s` events a second, exact to the millisecond without drift: the
/// k-th after the anchor falls at ceil(k * 1000 / per_s) ms.
#[derive(Debug)]
struct Steady {
    anchor: Duration,
    per_s: u64,
    /// Events so far, counting one at the anchor itself if there was one.
    count: u64,
}

impl Steady {
    /// A schedule whose first event is at `anchor` (`at_anchor`) or one
    /// period after it.
    fn new(anchor: Duration, per_s: f64, at_anchor: bool) -> Steady {
        Steady {
            anchor,
            per_s: per_s.max(1.0) as u64,
            count: u64::from(!at_anchor),
        }
    }

    fn at(&self, k: u64) -> Duration {
        self.anchor + Duration::from_millis((k * 1000).div_ceil(self.per_s))
    }

    fn next(&self) -> Duration {
        self.at(self.count)
    }

    fn advance(&mut self) {
        self.count += 1;
    }

    /// A new rate, counted from the last event, so the next comes one new
    /// period after it, or at `now` if that is already past: a faster rate
    /// never fires the events it would have had in the past all at once.
    fn set_rate(&mut self, per_s: f64, now: Duration) {
        let per_s = per_s.max(1.0) as u64;
        if per_s == self.per_s {
            return;
        }
        if self.count > 0 {
            self.anchor = self.at(self.count - 1);
            self.count = 1;
        }
        self.per_s = per_s;
        if self.next() < now {
            self.anchor = now;
            self.count = 0;
        }
    }
}

/// Requests arrive steadily and in bursts; the bucket admits each one with
/// a token to the servers and refuses the others. Refills, bursts and
/// steady arrivals all run on this one loop, so at a shared instant the
/// order is fixed: refill, then burst, then the steady arrival.
async fn bucket_lane(mut lane: Lane) {
    let p = lane.params();
    let requests = p.requests.max(1);
    let mut bucket = Bucket {
        tokens: p.bucket,
        size: p.bucket,
    };
    let mut refills = Steady::new(Duration::ZERO, p.refill_per_s, false);
    let mut arrivals = Steady::new(Duration::ZERO, p.rate_per_s, true);
    let mut next_burst = Duration::ZERO;
    lane.sink().emit(bucket.gauge());

    let (admitted, queue) =
        lane.flow
            .pipe(ADMITTED, "admitted", (BUCKET, SERVERS), BUCKET_MAX as u32);
    let crew = TaskTracker::new();
    for worker in 0..SERVER_COUNT {
        let serve = server(worker, queue.clone(), &lane);
        lane.tracker.spawn(crew.track_future(serve));
    }
    crew.close();
    drop(queue);

    let mut made = 0;
    while made < requests {
        let at = arrivals.next().min(next_burst).min(refills.next());
        tokio::select! {
            biased;
            () = lane.token.cancelled() => return,
            Ok(()) = lane.params.changed() => {
                let p: RateLimitParams = lane.params.seen();
                if bucket.resize(p.bucket) {
                    lane.sink().emit(bucket.gauge());
                }
                let now = lane.clock.now();
                refills.set_rate(p.refill_per_s, now);
                arrivals.set_rate(p.rate_per_s, now);
                continue;
            }
            () = lane.clock.sleep_until(at) => {}
        }
        if refills.next() <= at {
            refills.advance();
            bucket.refill();
            lane.sink().emit(bucket.gauge());
        }
        if next_burst <= at {
            next_burst += BURST_EVERY;
            let burst = lane.params().burst.min(requests - made);
            for _ in 0..burst {
                made += 1;
                offer(&lane.flow, &admitted, &mut bucket, made);
            }
        }
        if arrivals.next() <= at && made < requests {
            arrivals.advance();
            made += 1;
            offer(&lane.flow, &admitted, &mut bucket, made);
        }
    }
    lane.sink().emit(FlowEvent::StageStopped { stage: BUCKET });
    // The servers finish what was admitted, then stop.
    admitted.close();
    tokio::select! {
        biased;
        () = lane.token.cancelled() => {}
        () = crew.wait() => {}
    }
}

/// The `n`-th request arrives: it takes a token and goes to the servers,
/// or finds none and is refused.
fn offer(flow: &Flow, admitted: &Pipe<()>, bucket: &mut Bucket, n: u32) {
    let request = flow.make(REQUESTS, format!("req {n}"), None, ());
    if bucket.take() {
        flow.sink().emit(bucket.gauge());
        admitted.try_send(request, BUCKET);
    } else {
        let why = "no token".to_owned();
        flow.end(request.id, ItemEnd::Refused { stage: BUCKET, why });
    }
}

/// A bucket lane worker: serves admitted requests until the channel closes.
fn server(worker: u32, queue: PipeRx<()>, lane: &Lane) -> impl Future<Output = ()> + use<> {
    let (clock, token, params) = (lane.clock.clone(), lane.token.clone(), lane.params.clone());
    let sink = lane.sink().clone();
    async move {
        while let Some(request) = queue.recv(SERVERS, worker, &token).await {
            let work = params.get::<RateLimitParams>().work_ms;
            tokio::select! {
                biased;
                () = token.cancelled() => return,
                () = clock.sleep(work) => {}
            }
            sink.emit(FlowEvent::ItemEnded {
                item: request.id,
                end: ItemEnd::Delivered { stage: SERVERS },
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{PatternId};
    use crate::engines::trial::{self, Driven};
    use shared::{Command, Envelope, FlowEvent, RunEvent, RunStatus};

    /// When each item was taken by a worker of `stage`, in order.
    fn starts(events: &[Envelope], stage: StageId) -> Vec<u64> {
        events
            .iter()
            .filter_map(|e| match e.event {
                Event::Flow(FlowEvent::ItemTaken { stage: s, .. }) if s == stage => Some(e.at_ms),
                _ => None,
            })
            .collect()
    }

    /// When each request was admitted (queued for the servers).
    fn admissions(events: &[Envelope]) -> Vec<u64> {
        events
            .iter()
            .filter_map(|e| match e.event {
                Event::Flow(FlowEvent::ItemQueued {
                    channel: ADMITTED, ..
                }) => Some(e.at_ms),
                _ => None,
            })
            .collect()
    }

    fn refusals(events: &[Envelope]) -> Vec<u64> {
        events
            .iter()
            .filter_map(|e| match &e.event {
                Event::Flow(FlowEvent::ItemEnded {
                    end: ItemEnd::Refused { stage: BUCKET, why },
                    ..
                }) if why == "no token" => Some(e.at_ms),
                _ => None,
            })
            .collect()
    }

    fn count_until(times: &[u64], ms: u64) -> usize {
        times.iter().filter(|&&t| t <= ms).count()
    }

    /// Only the ticker lane, with a single request below.
    const TICKER_ONLY: [(&str, f64); 2] = [("requests", 1.0), ("burst", 0.0)];

    #[tokio::test(start_paused = true)]
    async fn the_ticker_starts_one_job_per_tick_however_many_workers() {
        let every_tick: Vec<u64> = (1..=50).map(|k| k * 100).collect();
        for workers in [1.0, 5.0, 10.0] {
            let mut changes = TICKER_ONLY.to_vec();
            changes.push(("workers", workers));
            let t = trial::run(PatternId::RateLimit, &changes, 3).await;
            assert_eq!(starts(&t.events, WORKERS), every_tick, "{workers} workers");
            let flow = t.end.flow().expect("a flow run");
            let done: Vec<u64> = flow
                .stage(WORKERS)
                .expect("workers")
                .workers
                .iter()
                .map(|w| w.done)
                .collect();
            // 50 ms of work in a 100 ms tick: the free workers take turns.
            let share = 50 / workers as u64;
            assert_eq!(done, vec![share; workers as usize], "{workers} workers");
            assert_eq!(
                t.time_of(|e| matches!(
                    e,
                    Event::Run(RunEvent::Status {
                        status: RunStatus::Finished
                    })
                )),
                Some(5_050)
            );
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_workers_are_idle_most_of_the_time() {
        let mut d = Driven::start(PatternId::RateLimit, &TICKER_ONLY, 3).await;
        let mut busiest = 0;
        let mut idle_samples = 0;
        // Between ticks and work ends: at 5, 15, 25... ms.
        for ms in (5..5_000).step_by(10) {
            d.until(ms).await;
            let flow = d.folded.flow().expect("a flow run");
            let busy = flow
                .stage(WORKERS)
                .expect("workers")
                .workers
                .iter()
                .filter(|w| w.item.is_some())
                .count();
            busiest = busiest.max(busy);
            idle_samples += usize::from(busy == 0);
        }
        assert_eq!(busiest, 1, "never two jobs in the same tick");
        assert_eq!(idle_samples, 255, "no worker busy more than half the time");
        d.finish().await;
    }

    #[tokio::test(start_paused = true)]
    async fn slow_workers_skip_ticks_but_still_start_only_on_one() {
        let mut changes = TICKER_ONLY.to_vec();
        changes.extend([("work_ms", 950.0), ("jobs", 15.0)]);
        let t = trial::run(PatternId::RateLimit, &changes, 3).await;
        // Five workers busy 950 ms each: a worker freed at 1050 waits for
        // the tick at 1100; the ticks at 600-1000 find everyone busy.
        assert_eq!(
            starts(&t.events, WORKERS),
            [
                100, 200, 300, 400, 500, 1_100, 1_200, 1_300, 1_400, 1_500, 2_100, 2_200, 2_300,
                2_400, 2_500
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_tick_period_applies_from_the_last_tick() {
        let mut d = Driven::start(PatternId::RateLimit, &TICKER_ONLY, 3).await;
        d.until(1_050).await;
        let params = [("ticker_ms".to_owned(), 300.0)].into();
        d.command(Command::SetParams { params })
            .await
            .expect("a live change");
        d.until(2_000).await;
        assert_eq!(
            starts(&d.events, WORKERS)[8..],
            [900, 1_000, 1_300, 1_600, 1_900]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_much_shorter_tick_drops_the_missed_ticks_instead_of_a_burst() {
        let mut changes = TICKER_ONLY.to_vec();
        changes.push(("ticker_ms", 2_000.0));
        let mut d = Driven::start(PatternId::RateLimit, &changes, 3).await;
        d.until(1_900).await;
        let params = [("ticker_ms".to_owned(), 10.0)].into();
        d.command(Command::SetParams { params })
            .await
            .expect("a live change");
        d.until(1_935).await;
        // 189 ticks of the new period lie in the past: one comes now, then
        // one every 10 ms, each starting one job on a free worker.
        assert_eq!(starts(&d.events, WORKERS), [1_900, 1_910, 1_920, 1_930]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_faster_rate_starts_now_without_the_arrivals_it_missed() {
        let changes = [("jobs", 1.0), ("burst", 0.0), ("rate_per_s", 1.0)];
        let mut d = Driven::start(PatternId::RateLimit, &changes, 3).await;
        d.until(990).await;
        let params = [
            ("rate_per_s".to_owned(), 100.0),
            ("refill_per_s".to_owned(), 50.0),
        ]
        .into();
        d.command(Command::SetParams { params })
            .await
            .expect("a live change");
        d.until(1_025).await;
        let made: Vec<u64> = d
            .events
            .iter()
            .filter_map(|e| match e.event {
                Event::Flow(FlowEvent::ItemMade {
                    stage: REQUESTS, ..
                }) => Some(e.at_ms),
                _ => None,
            })
            .collect();
        // One request at 0; then, at 100 a second, one each 10 ms from the
        // change on, not the 98 the new rate would have had since.
        assert_eq!(made, [0, 990, 1_000, 1_010, 1_020]);
        // The refills follow the same rule: the bucket never gains more
        // than one token at an instant.
        let gains = d
            .events
            .windows(2)
            .filter(|w| {
                matches!(
                    (&w[0].event, &w[1].event),
                    (
                        Event::Flow(FlowEvent::Gauge { stage: BUCKET, .. }),
                        Event::Flow(FlowEvent::Gauge { stage: BUCKET, .. })
                    )
                ) && w[0].at_ms == w[1].at_ms
            })
            .count();
        assert_eq!(gains, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_bucket_admits_its_size_from_a_burst_and_refuses_the_rest() {
        let changes = [
            ("jobs", 1.0),
            ("bucket", 8.0),
            ("burst", 12.0),
            ("rate_per_s", 1.0),
            ("requests", 40.0),
        ];
        let t = trial::run(PatternId::RateLimit, &changes, 3).await;
        let admitted = admissions(&t.events);
        let refused = refusals(&t.events);
        let at = |times: &[u64], ms| times.iter().filter(|&&t| t == ms).count();
        // At 0 the burst meets a full bucket, then the first steady request
        // meets an empty one.
        assert_eq!((at(&admitted, 0), at(&refused, 0)), (8, 5));
        // By 2 s the bucket is full again (8 tokens, 5 a second, one taken
        // at 1 s): the next burst gets 8 through too.
        assert_eq!(at(&admitted, 1_000), 1);
        assert_eq!((at(&admitted, 2_000), at(&refused, 2_000)), (8, 5));
        let c = t.end.counters;
        assert_eq!(
            (c.submitted, c.completed + c.rejected, c.in_flight),
            (41, 41, 0)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn under_constant_demand_admissions_follow_the_refill_rate() {
        for (bucket, refill) in [(5.0, 5.0), (3.0, 10.0), (12.0, 2.0)] {
            let changes = [
                ("jobs", 1.0),
                ("burst", 0.0),
                ("rate_per_s", 50.0),
                ("requests", 200.0),
                ("bucket", bucket),
                ("refill_per_s", refill),
            ];
            let t = trial::run(PatternId::RateLimit, &changes, 3).await;
            let admitted = admissions(&t.events);
            // A request every 20 ms, far more than the refill: the bucket
            // empties, then each refilled token is taken at once.
            for s in 1..=3 {
                assert_eq!(
                    count_until(&admitted, s * 1_000),
                    (bucket + s as f64 * refill) as usize,
                    "bucket {bucket}, refill {refill}/s, after {s} s"
                );
            }
            let period = (1_000.0 / refill) as u64;
            let late: Vec<u64> = admitted
                .iter()
                .copied()
                .filter(|&t| t >= 1_000)
                .take(3)
                .collect();
            assert!(late.windows(2).all(|w| w[1] - w[0] == period), "{late:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_gauge_shows_the_tokens_within_the_bucket() {
        let mut d = Driven::start(PatternId::RateLimit, &[("jobs", 1.0)], 3).await;
        d.until(1_000).await;
        let params = [("bucket".to_owned(), 2.0), ("rate_per_s".to_owned(), 1.0)].into();
        d.command(Command::SetParams { params })
            .await
            .expect("live changes");
        d.finish().await;
        let gauges: Vec<(u64, f64, f64)> = d
            .events
            .iter()
            .filter_map(|e| match e.event {
                Event::Flow(FlowEvent::Gauge {
                    stage: BUCKET,
                    value,
                    max,
                    ..
                }) => Some((e.at_ms, value, max)),
                _ => None,
            })
            .collect();
        assert!(
            gauges.iter().all(|&(_, v, m)| (0.0..=m).contains(&v)),
            "{gauges:?}"
        );
        assert_eq!(gauges.first(), Some(&(0, 5.0, 5.0)), "full at the start");
        assert!(
            gauges.iter().any(|&(_, v, _)| v == 0.0),
            "the burst empties it"
        );
        // With one request a second the smaller bucket fills up again.
        assert!(
            gauges
                .iter()
                .any(|&(t, v, m)| t > 1_000 && (v, m) == (2.0, 2.0))
        );
        // A refill every 200 ms shows even when nothing arrives.
        let refills = gauges
            .iter()
            .filter(|&&(t, ..)| t > 1_000 && t % 200 == 0)
            .count();
        assert!(refills > 10, "{gauges:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn the_preset_finishes_with_every_item_accounted_for() {
        let t = trial::run(PatternId::RateLimit, &[], 42).await;
        let c = t.end.counters;
        let refused = refusals(&t.events).len() as u64;
        assert_eq!(c.submitted, 150);
        assert_eq!(
            (c.rejected, c.completed, c.in_flight),
            (refused, 150 - refused, 0)
        );
        // 20 a second and a burst of 10 at 0 and 2 s: the 100th request
        // comes at 3950 ms. The first burst takes the 5 tokens, then each
        // token refilled every 200 ms (19 by then) goes to the next request.
        assert_eq!(admissions(&t.events).len(), 24);
        let flow = t.end.flow().expect("a flow run");
        assert_eq!(flow.stage(WORKERS).map(|s| s.ends.delivered), Some(50));
        assert!(flow.stage(TICKER).is_some_and(|s| s.stopped));
    }

    #[tokio::test(start_paused = true)]
    async fn stop_mid_run_leaves_nothing_alive() {
        let mut d = Driven::start(PatternId::RateLimit, &[], 42).await;
        d.until(2_025).await;
        let flow = d.folded.flow().expect("a flow run");
        assert!(flow.items.len() > 20, "jobs still wait at the ticker");
        assert!(d.stop_flow().await > 20);
    }
}

//! Flow: work moving through stages joined by channels: pools, pipelines,
//! limits and subscriptions. `pipe` is what all ten share: declaring the
//! layout, and channels that report every item that passes.

pub mod pipe;

crate::engines::family! {
    basics => Basics,
    worker_pool => WorkerPool,
    fan_out_fan_in => FanOutFanIn,
    pipeline => Pipeline,
    tee => Tee,
    rate_limit => RateLimit,
    semaphore => Semaphore,
    pub_sub => PubSub,
    singleflight => Singleflight,
    supervised => Supervised,
}

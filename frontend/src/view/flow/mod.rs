//! Flow: work moving through stages joined by channels. `stages` is what
//! all ten views share: the stages, channels and items, the recently ended
//! strip, and lanes side by side.

pub mod stages;

crate::view::views! {
    basics::Basics => Basics,
    worker_pool::WorkerPool => WorkerPool,
    fan_out_fan_in::FanOutFanIn => FanOutFanIn,
    pipeline::Pipeline => Pipeline,
    tee::Tee => Tee,
    rate_limit::RateLimit => RateLimit,
    semaphore::Semaphore => Semaphore,
    pub_sub::PubSub => PubSub,
    singleflight::Singleflight => Singleflight,
    supervised::Supervised => Supervised,
}

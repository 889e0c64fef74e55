//! TODO(engine): being written.

use super::Ctx;
use shared::{Family, PatternId, PatternInfo};

pub fn info() -> PatternInfo {
    PatternInfo {
        id: PatternId::CancelFanout,
        family: Family::Cancellation,
        title: "cancel_fanout".to_owned(),
        summary: String::new(),
        try_this: String::new(),
        params: Vec::new(),
    }
}

pub async fn run(ctx: Ctx) {
    let _ = ctx;
}

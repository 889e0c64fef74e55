//! What the event stream (`GET /api/events`) carries besides snapshots.
//!
//! The stream sends these kinds of SSE message:
//! - `snapshot`: a [`crate::RunSnapshot`], the whole state of one run;
//! - `batch`: a JSON array of one run's [`Batch`]es, at most one message
//!   per run per frame;
//! - `lagged`: a [`Lagged`] notice, followed by fresh snapshots;
//! - `removed`: a [`Removed`] notice: the run was deleted or reclaimed and
//!   sends nothing more;
//! - `summary` (when asked for): a JSON array of [`RunSummary`], the shared
//!   runs' status, whenever one of them changes.
//!
//! A `snapshot` or `batch` message is about one run, and its SSE id is a
//! [`Cursor`] of that run alone (`run:seq`): the same bytes go to every
//! viewer of the run. A viewer that follows one run resumes exactly from
//! its `Last-Event-ID`; one that follows several keeps its own cursor and
//! says it with `after=` when it reconnects.

use crate::event::Envelope;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The events of one run within one frame, in sequence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub run: String,
    pub events: Vec<Envelope>,
}

/// The viewer fell behind: `skipped` events were not sent and the snapshots
/// that follow replace them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lagged {
    pub skipped: u64,
}

/// A run was deleted (`DELETE /api/runs/{run}`) or reclaimed after
/// standing idle and unwatched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Removed {
    pub run: String,
}

/// A run's state in a word: a line of `GET /api/runs`, and of the stream's
/// `summary` message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    pub run: String,
    pub pattern: crate::PatternId,
    pub status: crate::RunStatus,
    /// Its clock is paused.
    pub paused: bool,
}

/// The last sequence number a viewer holds for each run it follows. Written as
/// `run:seq,run:seq` in SSE ids and parsed back from `Last-Event-ID`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursor(pub BTreeMap<String, u64>);

impl Cursor {
    /// Parses a `Last-Event-ID`. Malformed parts are ignored: a run missing
    /// from the cursor simply gets a fresh snapshot.
    pub fn parse(s: &str) -> Cursor {
        let map = s
            .split(',')
            .filter_map(|part| {
                let (run, seq) = part.rsplit_once(':')?;
                Some((run.to_owned(), seq.parse().ok()?))
            })
            .collect();
        Cursor(map)
    }
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (run, seq)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{run}:{seq}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_ignores_garbage() {
        let mut c = Cursor::default();
        c.0.insert("drop-basic".into(), 12);
        c.0.insert("drop-priority-2".into(), 0);
        let text = c.to_string();
        assert_eq!(text, "drop-basic:12,drop-priority-2:0");
        assert_eq!(Cursor::parse(&text), c);
        let parsed = Cursor::parse("drop-basic:7,nonsense,x:y,:3");
        assert_eq!(parsed.0.get("drop-basic"), Some(&7));
        assert_eq!(
            parsed.0.len(),
            2,
            "only well-formed parts survive: {parsed:?}"
        );
    }
}

/// The version of the history format [`HistoryHeader`] begins.
pub const HISTORY_FORMAT: u32 = 1;

/// The first line of an exported history (`GET /api/runs/{run}/history`,
/// newline-delimited JSON): the scenario, then one [`crate::Envelope`] a
/// line, in order, without gaps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryHeader {
    pub format: u32,
    pub run: String,
    pub pattern: crate::pattern::PatternId,
    /// The parameters and seed the run started with.
    pub params: crate::params::Params,
    pub seed: u64,
    /// The clock's speed when it was exported.
    pub speed: f64,
    /// The sequence number of the first event that follows.
    pub first_seq: u64,
    /// Set when the oldest events were cut to keep within the server's
    /// budget: the history then starts after this virtual instant, not at
    /// the run's start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut_before_ms: Option<u64>,
    /// With a cut: the run's state at the cut, which the events fold from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<Box<crate::scene::RunSnapshot>>,
}

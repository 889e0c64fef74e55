//! Replaying an exported history (`GET /api/runs/{run}/history`): the file
//! is read and checked whole, line by line, before any run is made, and the
//! replay run then emits the recorded events at their virtual instants on a
//! clock of its own (see `Run::replaying`).

use shared::stream::HISTORY_FORMAT;
use shared::{Envelope, Event, HistoryHeader, RunEvent};
use std::time::Duration;

/// The largest history a replay takes.
pub const MAX_REPLAY_BYTES: usize = 32 << 20;

/// A history, read and checked.
#[derive(Debug)]
pub struct Recording {
    pub header: HistoryHeader,
    /// From the run's start (a reset), in order, without gaps.
    pub events: Vec<Envelope>,
}

/// Why a history cannot be replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    #[error("the file is empty: a history starts with its header line")]
    Empty,
    #[error("the file is not UTF-8 text")]
    NotText,
    #[error("line {line}: {problem}")]
    Line { line: usize, problem: String },
}

fn at(line: usize, problem: impl Into<String>) -> ReplayError {
    ReplayError::Line {
        line,
        problem: problem.into(),
    }
}

/// The first `n` characters of a serde message, which may list every
/// variant there is.
fn short(message: impl ToString) -> String {
    message.to_string().chars().take(160).collect()
}

/// Reads a whole history.
pub fn parse(bytes: &[u8]) -> Result<Recording, ReplayError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ReplayError::NotText)?;
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty());
    let (n, first) = lines.next().ok_or(ReplayError::Empty)?;
    let value: serde_json::Value =
        serde_json::from_str(first).map_err(|e| at(n, format!("not JSON: {}", short(e))))?;
    let format = value.get("format").and_then(serde_json::Value::as_u64);
    if format != Some(u64::from(HISTORY_FORMAT)) {
        return Err(at(
            n,
            format!("history format {format:?} is not one this server reads ({HISTORY_FORMAT})"),
        ));
    }
    if let Some(pattern) = value.get("pattern").and_then(serde_json::Value::as_str)
        && shared::PatternId::parse(pattern).is_none()
    {
        return Err(at(n, format!("unknown pattern `{}`", short(pattern))));
    }
    let header: HistoryHeader = serde_json::from_value(value)
        .map_err(|e| at(n, format!("not a history header: {}", short(e))))?;
    if let Some(ms) = header.cut_before_ms {
        return Err(at(
            n,
            format!("this history was cut before {ms} ms; only a whole one replays"),
        ));
    }
    header
        .pattern
        .check(&header.params)
        .map_err(|e| at(n, format!("its parameters: {e}")))?;

    let mut events: Vec<Envelope> = Vec::new();
    for (n, line) in lines {
        let env: Envelope =
            serde_json::from_str(line).map_err(|e| at(n, format!("not an event: {}", short(e))))?;
        let expected = events.last().map_or(header.first_seq, |last| last.seq + 1);
        if env.seq != expected {
            return Err(at(
                n,
                format!("seq {} where {expected} was due: a gap", env.seq),
            ));
        }
        if let Some(last) = events.last()
            && env.at_ms < last.at_ms
        {
            return Err(at(
                n,
                format!(
                    "at {} ms after {} ms: time runs backwards",
                    env.at_ms, last.at_ms
                ),
            ));
        }
        if events.is_empty() && !matches!(env.event, Event::Run(RunEvent::Reset { .. })) {
            return Err(at(n, "a history starts with the run's reset"));
        }
        events.push(env);
    }
    if events.is_empty() {
        return Err(ReplayError::Empty);
    }
    Ok(Recording { header, events })
}

impl Recording {
    /// The events a replay emits itself, each with its instant: all but
    /// those the run emits on its own when it starts and ends (its reset
    /// and status) and those of the original's clock and preview.
    pub fn played(&self) -> impl Iterator<Item = (Duration, &Event)> {
        self.events
            .iter()
            .filter(|e| {
                !matches!(
                    e.event,
                    Event::Run(
                        RunEvent::Reset { .. }
                            | RunEvent::Status { .. }
                            | RunEvent::Clock { .. }
                            | RunEvent::Preview { .. }
                    )
                )
            })
            .map(|e| (Duration::from_millis(e.at_ms), &e.event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shared::PatternId;

    fn header() -> serde_json::Value {
        json!({
            "format": 1, "run": "drop-basic", "pattern": "drop-basic",
            "params": PatternId::DropBasic.preset(), "seed": 42, "speed": 1.0, "first_seq": 3
        })
    }

    fn reset(seq: u64) -> serde_json::Value {
        json!({"seq": seq, "at_ms": 0, "event": {"run": {"reset": {
            "params": PatternId::DropBasic.preset(), "seed": 42, "capacity": 5, "workers": 1}}}})
    }

    fn status(seq: u64, at_ms: u64) -> serde_json::Value {
        json!({"seq": seq, "at_ms": at_ms, "event": {"run": {"status": {"status": "running"}}}})
    }

    fn file(lines: &[serde_json::Value]) -> Vec<u8> {
        lines
            .iter()
            .map(|l| l.to_string() + "\n")
            .collect::<String>()
            .into_bytes()
    }

    fn problem(bytes: &[u8]) -> String {
        parse(bytes).expect_err("refused").to_string()
    }

    #[test]
    fn a_whole_history_reads() {
        let r = parse(&file(&[header(), reset(3), status(4, 0)])).expect("it reads");
        assert_eq!(
            (r.header.pattern, r.events.len()),
            (PatternId::DropBasic, 2)
        );
        assert_eq!(r.played().count(), 0, "the run emits those itself");
    }

    #[test]
    fn each_bad_file_is_refused_naming_its_line_and_problem() {
        assert_eq!(
            problem(b""),
            "the file is empty: a history starts with its header line"
        );
        assert_eq!(problem(&[0xff, 0xfe]), "the file is not UTF-8 text");
        assert!(problem(b"{nope").starts_with("line 1: not JSON"));
        let mut old = header();
        old["format"] = json!(7);
        assert!(problem(&file(&[old, reset(3)])).contains("line 1: history format Some(7)"));
        let mut unknown = header();
        unknown["pattern"] = json!("warp-drive");
        assert_eq!(
            problem(&file(&[unknown, reset(3)])),
            "line 1: unknown pattern `warp-drive`"
        );
        let mut cut = header();
        cut["cut_before_ms"] = json!(1200);
        assert!(problem(&file(&[cut, reset(3)])).contains("cut before 1200 ms"));
        let mut bad_params = header();
        bad_params["params"]["workers"] = json!(99);
        assert!(problem(&file(&[bad_params, reset(3)])).contains("line 1: its parameters"));
        assert!(
            problem(&file(&[header(), reset(3), status(5, 0)]))
                .starts_with("line 3: seq 5 where 4 was due")
        );
        assert!(
            problem(&file(&[header(), reset(3), status(4, 10), status(5, 5)]))
                .contains("time runs backwards")
        );
        assert!(problem(&file(&[header(), status(3, 0)])).contains("starts with the run's reset"));
        let unknown_event =
            json!({"seq": 4, "at_ms": 0, "event": {"overload": {"teleported": {}}}});
        assert!(
            problem(&file(&[header(), reset(3), unknown_event]))
                .starts_with("line 3: not an event")
        );
        assert_eq!(
            problem(&file(&[header()])),
            "the file is empty: a history starts with its header line"
        );
    }
}

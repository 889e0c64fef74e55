//! How state reads on screen: the words and numbers the view prints.
//!
//! Kept out of the components so the wording a classroom sees (drop reasons,
//! load levels, rates, speeds) is tested like the rest of the state.

use shared::overload::{DropRecord, Worker};
use shared::{Counters, DropReason, OverloadScene as Scene, ParamSpec, RunStatus};

/// The slowest and fastest clock speeds the server accepts.
pub use shared::clock::{MAX_SPEED, MIN_SPEED};

/// Why a task went to the drop bin, in the room's words.
pub fn reason_text(reason: &DropReason) -> String {
    match reason {
        DropReason::QueueFull => "queue full".to_owned(),
        DropReason::Policy {
            level,
            min_priority,
        } => {
            format!("policy: {} needs >= {min_priority}", level.as_str())
        }
        DropReason::Evicted { by, by_priority } => format!("evicted by #{by} (p{by_priority})"),
    }
}

/// What the adaptive producer lets in, given the lowest priority the
/// monitor's latest reading accepts.
pub fn level_rule(min_priority: u8) -> String {
    match min_priority {
        0 => "accepting every task".to_owned(),
        p => format!("accepting priority >= {p} only"),
    }
}

/// The most recent eviction the scene remembers.
pub fn latest_eviction(scene: &Scene) -> Option<DropRecord> {
    scene
        .drops
        .iter()
        .rev()
        .find(|d| matches!(d.reason, DropReason::Evicted { .. }))
        .copied()
}

/// A speed as the slider's position: log10, so 0.1x..1x gets as much room as 1x..10x.
pub fn speed_to_slider(speed: f64) -> f64 {
    speed.clamp(MIN_SPEED, MAX_SPEED).log10()
}

/// The slider's position as a speed, rounded to a value worth reading out.
pub fn slider_to_speed(position: f64) -> f64 {
    let raw = 10f64.powf(position.clamp(-1.0, 1.0));
    let rounded = if raw < 1.0 {
        (raw * 20.0).round() / 20.0
    } else {
        (raw * 10.0).round() / 10.0
    };
    rounded.clamp(MIN_SPEED, MAX_SPEED)
}

/// A speed as printed next to its slider: "0.5×", "1×", "2.5×".
pub fn speed_text(speed: f64) -> String {
    format!("{}×", trim_number(speed, 2))
}

/// A number with at most `decimals` decimals and no trailing zeros.
pub fn trim_number(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// The option a choice parameter's value picks, by index; `None` for a
/// parameter without choices or a value outside them.
pub fn choice_index(spec: &ParamSpec, value: f64) -> Option<usize> {
    let index = value.round();
    (index >= 0.0 && (index as usize) < spec.choices.len()).then_some(index as usize)
}

/// A parameter's current value with its unit, as its slider shows it; a
/// choice reads as the option's name.
pub fn param_text(spec: &ParamSpec, value: f64) -> String {
    if let Some(name) = choice_index(spec, value).and_then(|i| spec.choices.get(i)) {
        return name.clone();
    }
    let number = if spec.integer {
        format!("{value:.0}")
    } else {
        trim_number(value, 1)
    };
    match (spec.name.as_str(), spec.unit.as_str()) {
        ("tasks", _) if value == 0.0 => "endless".to_owned(),
        (_, "") => number,
        (_, "%") => format!("{number}%"),
        // "1 worker", not "1 workers"; short units such as "ms" stay as they are.
        (_, unit) if value == 1.0 && unit.len() > 2 && unit.ends_with('s') => {
            format!("{number} {}", &unit[..unit.len() - 1])
        }
        (_, unit) => format!("{number} {unit}"),
    }
}

/// A second reading of a parameter where it helps: the producer's rate.
pub fn param_hint(spec: &ParamSpec, value: f64) -> Option<String> {
    (spec.name == "interval_ms" && value > 0.0)
        .then(|| format!("= {} tasks per second", trim_number(1000.0 / value, 1)))
}

/// The slider step for a parameter.
pub fn param_step(spec: &ParamSpec) -> f64 {
    if spec.integer {
        1.0
    } else {
        ((spec.max - spec.min) / 100.0).max(f64::EPSILON)
    }
}

/// The drop rate as a percentage with one decimal, without the % sign.
pub fn drop_rate_text(counters: &Counters) -> String {
    format!("{:.1}", counters.drop_rate() * 100.0)
}

/// A duration in virtual milliseconds: "340 ms", "2.5 s".
pub fn duration_text(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{:.0} ms", ms.max(0.0))
    } else {
        format!("{} s", trim_number(ms / 1000.0, 1))
    }
}

/// How far a worker is through its task at virtual time `now`, 0.0 to 1.0.
pub fn progress(worker: &Worker, now: f64) -> f64 {
    match worker.task {
        Some(task) if task.work_ms > 0 => {
            ((now - worker.since_ms as f64) / f64::from(task.work_ms)).clamp(0.0, 1.0)
        }
        Some(_) => 1.0,
        None => 0.0,
    }
}

/// A run's status as an icon shape and a word (never colour alone).
pub fn status_text(status: RunStatus, paused: bool) -> (&'static str, &'static str) {
    match status {
        RunStatus::Running if paused => ("❚❚", "Paused"),
        RunStatus::Running => ("▶", "Running"),
        RunStatus::Idle => ("○", "Ready"),
        RunStatus::Finished => ("✓", "Finished"),
        RunStatus::Stopped => ("■", "Stopped"),
    }
}

/// The value of `data-status` on elements that show a run's status.
pub fn status_key(status: RunStatus, paused: bool) -> &'static str {
    match status {
        RunStatus::Running if paused => "paused",
        RunStatus::Running => "running",
        RunStatus::Idle => "idle",
        RunStatus::Finished => "finished",
        RunStatus::Stopped => "stopped",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::{LoadLevel, Task, TaskKind};

    fn spec(name: &str, unit: &str, integer: bool) -> ParamSpec {
        ParamSpec {
            name: name.into(),
            label: name.into(),
            unit: unit.into(),
            min: 0.0,
            max: 1000.0,
            default: 30.0,
            integer,
            live: true,
            choices: Vec::new(),
        }
    }

    #[test]
    fn drop_reasons_read_as_the_room_expects() {
        assert_eq!(reason_text(&DropReason::QueueFull), "queue full");
        let policy = DropReason::Policy {
            level: LoadLevel::High,
            min_priority: 7,
        };
        assert_eq!(reason_text(&policy), "policy: HIGH needs >= 7");
        let evicted = DropReason::Evicted {
            by: 9,
            by_priority: 9,
        };
        assert_eq!(reason_text(&evicted), "evicted by #9 (p9)");
    }

    #[test]
    fn load_levels_name_what_they_let_in() {
        assert_eq!(level_rule(0), "accepting every task");
        assert_eq!(level_rule(7), "accepting priority >= 7 only");
    }

    #[test]
    fn the_speed_slider_is_logarithmic_and_rounds_to_readable_values() {
        assert_eq!(slider_to_speed(0.0), 1.0);
        assert_eq!(slider_to_speed(-1.0), 0.1);
        assert_eq!(slider_to_speed(1.0), 10.0);
        assert_eq!(slider_to_speed(0.301), 2.0);
        assert_eq!(slider_to_speed(-0.301), 0.5);
        for speed in [0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0] {
            assert_eq!(
                slider_to_speed(speed_to_slider(speed)),
                speed,
                "{speed} round-trips"
            );
        }
        assert_eq!(
            speed_to_slider(50.0),
            1.0,
            "out-of-range speeds are clamped"
        );
        assert_eq!(speed_text(0.5), "0.5×");
        assert_eq!(speed_text(1.0), "1×");
        assert_eq!(speed_text(2.5), "2.5×");
    }

    #[test]
    fn parameters_read_with_their_units() {
        assert_eq!(param_text(&spec("interval_ms", "ms", true), 30.0), "30 ms");
        assert_eq!(param_text(&spec("interval_ms", "ms", true), 1.0), "1 ms");
        assert_eq!(
            param_text(&spec("workers", "workers", true), 1.0),
            "1 worker"
        );
        assert_eq!(
            param_text(&spec("workers", "workers", true), 3.0),
            "3 workers"
        );
        assert_eq!(
            param_hint(&spec("interval_ms", "ms", true), 30.0).as_deref(),
            Some("= 33.3 tasks per second")
        );
        assert_eq!(param_hint(&spec("work_ms", "ms", true), 30.0), None);
        assert_eq!(param_text(&spec("tasks", "", true), 0.0), "endless");
        assert_eq!(param_text(&spec("tasks", "tasks", true), 0.0), "endless");
        assert_eq!(param_text(&spec("tasks", "", true), 15.0), "15");
        assert_eq!(param_text(&spec("success_pct", "%", true), 90.0), "90%");
        assert_eq!(param_text(&spec("work_ms", "ms", false), 12.5), "12.5 ms");
        assert_eq!(param_step(&spec("x", "", true)), 1.0);
        assert_eq!(param_step(&spec("x", "", false)), 10.0);
    }

    #[test]
    fn a_choice_reads_as_its_option_name() {
        let mut kind = spec("failure_type", "", true);
        kind.choices = ["timeout", "network", "resource"]
            .map(String::from)
            .to_vec();
        assert_eq!(param_text(&kind, 1.0), "network");
        assert_eq!(choice_index(&kind, 2.0), Some(2));
        assert_eq!(choice_index(&kind, 3.0), None, "outside the options");
        assert_eq!(choice_index(&kind, -1.0), None);
        assert_eq!(
            param_text(&kind, 7.0),
            "7",
            "an unknown option shows its number"
        );
        assert_eq!(choice_index(&spec("workers", "", true), 0.0), None);
    }

    #[test]
    fn rates_and_durations_are_short_and_exact() {
        let c = Counters {
            submitted: 15,
            dropped: 5,
            ..Counters::default()
        };
        assert_eq!(drop_rate_text(&c), "33.3");
        assert_eq!(drop_rate_text(&Counters::default()), "0.0");
        assert_eq!(duration_text(340.4), "340 ms");
        assert_eq!(duration_text(2_500.0), "2.5 s");
        assert_eq!(duration_text(3_000.0), "3 s");
    }

    #[test]
    fn progress_runs_from_start_to_work_time_and_stays_in_bounds() {
        let task = Task {
            id: 1,
            kind: TaskKind::Email,
            priority: 5,
            work_ms: 200,
        };
        let w = Worker {
            task: Some(task),
            since_ms: 1_000,
            done: 0,
        };
        assert_eq!(progress(&w, 1_000.0), 0.0);
        assert_eq!(progress(&w, 1_050.0), 0.25);
        assert_eq!(progress(&w, 9_999.0), 1.0);
        assert_eq!(progress(&w, 10.0), 0.0);
        assert_eq!(progress(&Worker::default(), 1_050.0), 0.0);
    }

    #[test]
    fn the_latest_eviction_is_found_among_other_drops() {
        let t = |id| Task {
            id,
            kind: TaskKind::Low,
            priority: 1,
            work_ms: 900,
        };
        let mut scene = Scene::default();
        assert!(latest_eviction(&scene).is_none());
        let evicted = DropRecord {
            task: t(2),
            reason: DropReason::Evicted {
                by: 5,
                by_priority: 9,
            },
            at_ms: 10,
        };
        scene.drops.push(evicted);
        scene.drops.push(DropRecord {
            task: t(6),
            reason: DropReason::QueueFull,
            at_ms: 20,
        });
        assert_eq!(latest_eviction(&scene), Some(evicted));
    }

    #[test]
    fn a_paused_run_reads_as_paused_in_words() {
        assert_eq!(status_text(RunStatus::Running, true).1, "Paused");
        assert_eq!(status_key(RunStatus::Running, true), "paused");
        assert_eq!(status_key(RunStatus::Finished, false), "finished");
    }
}

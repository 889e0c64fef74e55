//! The failure family's readings, checked against scenes folded from
//! scripted events.

use super::*;
use CircuitState::{Closed, HalfOpen, Open};
use shared::resilience::{JobSpec, TrialRecord, Wait};
use shared::{Envelope, Event, PatternId, ResilienceEvent, RunSnapshot};

fn spec(id: TaskId) -> JobSpec {
    JobSpec {
        id,
        label: format!("client {id}"),
        max_retries: 3,
        timeout_ms: None,
        about: None,
    }
}

fn attempt(n: u32, start_ms: u64, end_ms: Option<u64>, result: Option<AttemptResult>) -> Attempt {
    Attempt {
        n,
        start_ms,
        end_ms,
        result,
        trial: false,
        rejected: None,
        counted: true,
        wait: None,
    }
}

fn failed(kind: FailureKind) -> Option<AttemptResult> {
    Some(AttemptResult::Failed { kind })
}

fn job(id: TaskId, attempts: Vec<Attempt>, outcome: Option<JobOutcome>) -> Job {
    Job {
        spec: spec(id),
        submitted_ms: 0,
        worker: None,
        attempts,
        outcome,
        ended_ms: None,
    }
}

fn waited(mut a: Attempt, delay_ms: u64, backoff_ms: u64) -> Attempt {
    a.wait = Some(Wait {
        delay_ms,
        backoff_ms,
    });
    a
}

fn breaker(state: CircuitState, since_ms: u64) -> BreakerScene {
    BreakerScene {
        state,
        since_ms,
        ..BreakerScene::default()
    }
}

fn moved(from: CircuitState, to: CircuitState, at_ms: u64, failures: u32) -> Transition {
    Transition {
        from,
        to,
        at_ms,
        failures,
    }
}

#[test]
fn outcomes_read_as_the_room_expects() {
    let once = JobOutcome::Succeeded { attempts: 1 };
    assert_eq!(outcome_text(once, None), "succeeded");
    let thrice = JobOutcome::Succeeded { attempts: 3 };
    assert_eq!(outcome_text(thrice, None), "recovered after 3 attempts");
    let processing = JobOutcome::Failed {
        attempts: 1,
        kind: FailureKind::Processing,
        reason: GiveUp::NotRetryable,
    };
    assert_eq!(
        outcome_text(processing, None),
        "failed: processing is not retryable"
    );
    let spent = JobOutcome::Failed {
        attempts: 4,
        kind: FailureKind::Network,
        reason: GiveUp::OutOfRetries,
    };
    assert_eq!(
        outcome_text(spent, None),
        "failed: out of retries after 4 attempts"
    );
    let refused = JobOutcome::Rejected { attempts: 0 };
    assert_eq!(outcome_text(refused, Some(Open)), "rejected: breaker open");
    assert_eq!(
        outcome_text(refused, Some(HalfOpen)),
        "rejected: breaker half-open"
    );
    assert_eq!(
        outcome_text(JobOutcome::Rejected { attempts: 2 }, None),
        "rejected: breaker open after 2 attempts"
    );
    assert_eq!(
        outcome_text(JobOutcome::TimedOut { attempts: 0 }, None),
        "timed out"
    );
    assert_eq!(
        outcome_text(JobOutcome::TimedOut { attempts: 1 }, None),
        "timed out after 1 attempt"
    );
    assert_eq!(outcome_text(JobOutcome::Cancelled, None), "cancelled");
}

#[test]
fn a_job_in_progress_says_what_it_is_doing() {
    let out = job(0, vec![attempt(1, 0, None, None)], None);
    assert_eq!(job_status_text(&out), "calling: attempt 1");
    let waiting = job(
        1,
        vec![waited(
            attempt(1, 0, Some(80), failed(FailureKind::Timeout)),
            200,
            200,
        )],
        None,
    );
    assert_eq!(
        job_status_text(&waiting),
        "backing off 200 ms before attempt 2"
    );
    assert_eq!(job_status_text(&job(2, vec![], None)), "waiting to start");
    let mut refused = job(3, vec![attempt(1, 5, Some(5), None)], None);
    refused.attempts[0].rejected = Some(HalfOpen);
    refused.outcome = Some(JobOutcome::Rejected { attempts: 0 });
    assert_eq!(
        job_status_text(&refused),
        "rejected: breaker half-open",
        "the state the breaker refused it in"
    );
    assert_eq!(outcome_key(&refused), "rejected");
    assert_eq!(outcome_key(&out), "running");
}

#[test]
fn each_failure_says_whether_it_was_retried() {
    assert_eq!(retry_label(FailureKind::Timeout), "retryable");
    assert_eq!(retry_label(FailureKind::Resource), "retryable");
    assert_eq!(retry_label(FailureKind::Validation), "not retried");
    let j = job(
        0,
        vec![
            waited(
                attempt(1, 0, Some(100), failed(FailureKind::Network)),
                100,
                100,
            ),
            attempt(2, 200, Some(260), failed(FailureKind::Processing)),
        ],
        None,
    );
    assert_eq!(
        failure_trail(&j),
        ["network · retryable", "processing · not retried"]
    );
    let again = |n, start| {
        waited(
            attempt(n, start, Some(start + 20), failed(FailureKind::Resource)),
            100,
            100,
        )
    };
    let herd = job(
        1,
        vec![
            again(1, 0),
            again(2, 120),
            again(3, 340),
            attempt(4, 560, None, None),
        ],
        None,
    );
    assert_eq!(failure_trail(&herd), ["resource · retryable ×3"]);
    assert_eq!(
        attempt_text(&j.attempts[1]),
        "attempt 2: ✗ failed: processing (not retried)"
    );
}

#[test]
fn attempts_read_by_how_they_came_back() {
    let ok = attempt(1, 0, Some(10), Some(AttemptResult::Succeeded));
    let bad = attempt(1, 0, Some(10), failed(FailureKind::Timeout));
    let out = attempt(1, 0, None, None);
    let mut refused = attempt(1, 0, Some(0), None);
    refused.rejected = Some(Open);
    let keys: Vec<_> = [ok, bad, out, refused].iter().map(attempt_key).collect();
    assert_eq!(keys, ["succeeded", "failed", "out", "rejected"]);
    let glyphs: Vec<_> = keys.iter().map(|k| attempt_glyph(k)).collect();
    assert_eq!(glyphs, ["✓", "✗", "…", "⊘"]);
    assert_eq!(
        attempt_text(&refused),
        "attempt 1: ⊘ refused by the OPEN breaker"
    );
}

#[test]
fn the_countdown_runs_from_the_reset_timeout_to_zero_while_open() {
    let b = breaker(Open, 10_000);
    assert_eq!(opened_at(&b), Some(10_000));
    assert_eq!(countdown_ms(10_000, 30_000.0, 10_000.0), 30_000.0);
    assert_eq!(countdown_ms(10_000, 30_000.0, 27_600.0), 12_400.0);
    assert_eq!(
        countdown_ms(10_000, 30_000.0, 99_000.0),
        0.0,
        "never negative"
    );
    assert_eq!(opened_at(&breaker(Closed, 0)), None);
    assert_eq!(opened_at(&breaker(HalfOpen, 0)), None);
    assert_eq!(countdown_text(12_400.0), "half-open in 12.4 s");
    assert_eq!(countdown_text(300.0), "half-open in 0.3 s");
    assert_eq!(countdown_text(0.0), "reset timeout passed: going half-open");
    assert_eq!(countdown_share(15_000.0, 30_000.0), 0.5);
    assert_eq!(countdown_share(40_000.0, 30_000.0), 1.0);
    assert_eq!(countdown_share(5.0, 0.0), 0.0);
}

#[test]
fn failures_count_toward_the_threshold() {
    assert_eq!(failures_text(3, 5).0, "3 / 5 failures");
    assert_eq!(failures_text(0, 1).0, "0 / 1 failure");
    assert_eq!(
        failures_text(7, 5),
        ("7 failures".to_owned(), "in a row · threshold 5".to_owned())
    );
    assert_eq!(pips(3, 5), [true, true, true, false, false]);
    assert_eq!(
        pips(9, 5),
        [true; 5],
        "a count past the threshold fills them all"
    );
    assert_eq!(pips(0, 500).len(), MAX_PIPS as usize);
    let params = Params::from([("threshold".into(), 3.0), ("reset_ms".into(), 10_000.0)]);
    assert_eq!((threshold(&params), reset_ms(&params)), (3, 10_000.0));
    assert_eq!(
        (threshold(&Params::new()), reset_ms(&Params::new())),
        (5, 30_000.0),
        "until the run reports them, the seed's preset"
    );
}

#[test]
fn arrows_say_what_moves_the_breaker() {
    let labels: Vec<_> = MOVES.iter().map(|(f, t)| arrow_label(*f, *t, 5)).collect();
    assert_eq!(
        labels,
        [
            "5 failures in a row",
            "after reset timeout",
            "trial failed",
            "trial ok"
        ]
    );
    assert_eq!(arrow_label(Closed, Open, 1), "1 failure in a row");
    assert_eq!(
        two_lines("5 failures in a row"),
        ("5 failures".to_owned(), "in a row".to_owned())
    );
    assert_eq!(
        two_lines("after reset timeout"),
        ("after reset".to_owned(), "timeout".to_owned())
    );
    assert_eq!(two_lines("late"), ("late".to_owned(), String::new()));
    assert_eq!(move_key(HalfOpen, Closed), "half-open->closed");
}

#[test]
fn the_history_strip_lists_every_transition_oldest_first() {
    let mut b = breaker(Closed, 9_000);
    b.history = vec![
        moved(Closed, Open, 1_000, 5),
        moved(Open, HalfOpen, 4_000, 5),
        moved(HalfOpen, Open, 4_200, 0),
        moved(Open, HalfOpen, 7_200, 0),
        moved(HalfOpen, Closed, 9_000, 0),
    ];
    b.transitions = 5;
    let entries = history(&b);
    let texts: Vec<_> = entries.iter().map(HistoryEntry::text).collect();
    assert_eq!(
        texts,
        [
            "1.0 s · CLOSED → OPEN · 5 failures",
            "4.0 s · OPEN → HALF-OPEN · reset timeout",
            "4.2 s · HALF-OPEN → OPEN · trial failed",
            "7.2 s · OPEN → HALF-OPEN · reset timeout",
            "9.0 s · HALF-OPEN → CLOSED · trial ok",
        ]
    );
    assert_eq!(entries[0].key, "closed->open");
    assert_eq!(
        entries.iter().map(|e| e.n).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
}

#[test]
fn history_entries_keep_their_number_when_old_ones_fall_off() {
    let mut b = breaker(Open, 0);
    b.history = vec![moved(HalfOpen, Open, 10, 0), moved(Open, HalfOpen, 20, 0)];
    b.transitions = 40;
    let ns: Vec<_> = history(&b).iter().map(|e| e.n).collect();
    assert_eq!(ns, [39, 40]);
}

#[test]
fn fresh_moves_are_those_since_the_viewer_last_looked() {
    let mut b = breaker(Closed, 0);
    b.history = vec![
        moved(Closed, Open, 1_000, 5),
        moved(Open, HalfOpen, 1_005, 5),
        moved(HalfOpen, Closed, 1_009, 0),
    ];
    b.transitions = 3;
    assert_eq!(
        fresh_moves(&b, 1),
        ["open->half-open", "half-open->closed"],
        "two moves within one frame both flash"
    );
    assert!(fresh_moves(&b, 3).is_empty());
    b.history.truncate(1);
    b.transitions = 1;
    assert_eq!(
        fresh_moves(&b, 3),
        ["closed->open"],
        "after a restart the count starts over"
    );
}

#[test]
fn the_trial_call_and_its_result_are_told() {
    let mut scene = ResilienceScene::new(true, 0);
    scene.jobs.push(job(7, vec![], None));
    let mut b = breaker(HalfOpen, 0);
    assert_eq!(
        trial_text(&scene, &b).as_deref(),
        Some("waiting for a call: the next one is the trial")
    );
    b.trial = Some(7);
    assert_eq!(
        trial_text(&scene, &b).as_deref(),
        Some("trial call: client 7 is out…")
    );
    b.last_trial = Some(TrialRecord {
        job: 3,
        succeeded: false,
        at_ms: 12_345,
    });
    assert_eq!(
        last_trial(&scene, &b),
        Some((false, "last trial: #3 ✗ failed at 12.3 s".to_owned())),
        "a job the scene let go is named by its number"
    );
    assert_eq!(trial_text(&scene, &breaker(Open, 0)), None);
}

#[test]
fn the_axis_has_a_round_length_that_grows_in_steps() {
    assert_eq!(Axis::fit(0, 0).len_ms, 1_000, "at least a second");
    assert_eq!(Axis::fit(0, 1_200).len_ms, 1_500);
    assert_eq!(Axis::fit(0, 1_300).len_ms, 1_500);
    assert_eq!(
        Axis::fit(0, 1_400).len_ms,
        2_000,
        "room kept after the latest"
    );
    assert_eq!(Axis::fit(0, 8_000).len_ms, 10_000);
    assert_eq!(Axis::fit(500, 30_500).len_ms, 40_000);
    // While time passes within a step, the axis does not change.
    assert_eq!(Axis::fit(0, 2_010), Axis::fit(0, 2_700));
    let ticks = Axis::fit(0, 8_000).ticks();
    assert_eq!(ticks.len(), 6);
    assert_eq!(ticks[1], (20.0, "2 s".to_owned()));
    let short = Axis::fit(0, 1_000).ticks();
    assert_eq!(
        short.iter().map(|t| t.1.as_str()).collect::<Vec<_>>(),
        [
            "0 s", "0.2 s", "0.4 s", "0.6 s", "0.8 s", "1 s", "1.2 s", "1.4 s"
        ]
    );
}

#[test]
fn attempts_and_waits_are_placed_to_scale_on_the_shared_axis() {
    let axis = Axis {
        start_ms: 1_000,
        len_ms: 2_000,
    };
    assert_eq!(
        axis.place(1_000.0, 1_500.0),
        Span {
            left: 0.0,
            width: 25.0
        }
    );
    // A wait of 400 ms after an attempt that ended at 1.6 s.
    assert_eq!(
        axis.place(1_600.0, 2_000.0),
        Span {
            left: 30.0,
            width: 20.0
        }
    );
    // An attempt still out grows to now, and stops at the axis end.
    assert_eq!(axis.place(2_500.0, 2_900.0).width, 20.0);
    assert_eq!(axis.place(2_500.0, 9_000.0).width, 25.0);
    // Time running backwards (a late estimate) never makes a negative width.
    assert_eq!(axis.place(2_500.0, 2_000.0).width, 0.0);
    assert_eq!(
        Span {
            left: 12.5,
            width: 3.0
        }
        .style(),
        "left: 12.50%; width: 3.00%"
    );
}

#[test]
fn a_job_is_drawn_as_attempts_and_the_waits_between_them() {
    let j = job(
        0,
        vec![
            waited(
                attempt(1, 0, Some(100), failed(FailureKind::Network)),
                180,
                200,
            ),
            attempt(2, 280, None, None),
        ],
        None,
    );
    let drawn = pieces(&j);
    assert_eq!(drawn.len(), 3);
    assert_eq!(
        drawn[1],
        Piece::Wait {
            start_ms: 100,
            delay_ms: 180,
            backoff_ms: 200
        }
    );
    assert!(matches!(drawn[2], Piece::Attempt(a) if a.n == 2 && a.end_ms.is_none()));
    // The jitter bound (300 ms from 100) reaches further than the attempt out.
    let mut later = j.clone();
    later.spec.id = 1;
    later.submitted_ms = 40;
    let mut ended = later.clone();
    ended.outcome = Some(JobOutcome::Cancelled);
    ended.ended_ms = Some(320);
    let extent = Extent::of(&[j, later]);
    assert_eq!(
        extent,
        Extent {
            start_ms: 0,
            latest_ms: 300,
            open: true
        }
    );
    assert_eq!(extent.axis(450.0).len_ms, 1_000);
    assert_eq!(extent.axis(1_450.0).len_ms, 2_000, "now is in view");
    assert_eq!(extent.axis(9_900.0).len_ms, 15_000);
    let done = Extent::of(&[ended]);
    assert_eq!((done.latest_ms, done.open), (320, false));
    assert_eq!(
        done.axis(60_000.0).len_ms,
        1_000,
        "once every job ended the axis no longer follows the clock"
    );
    assert_eq!(Extent::of(&[]), Extent::default());
}

#[test]
fn synchronized_retries_show_as_spikes_and_jitter_spreads_them() {
    let axis = Axis {
        start_ms: 0,
        len_ms: 1_000,
    };
    // Twelve clients failing together and retrying after the same delay.
    let herd: Vec<Job> = (0..12)
        .map(|id| {
            let first = waited(
                attempt(1, 0, Some(50), failed(FailureKind::Resource)),
                100,
                100,
            );
            job(id, vec![first, attempt(2, 150, None, None)], None)
        })
        .collect();
    let counts = buckets(&herd, axis, BUCKET_MS);
    assert_eq!(counts.len(), 10);
    assert_eq!(&counts[..3], [12, 12, 0]);
    assert_eq!(peak(&counts), Some((0, 12)));
    // The same retries spread by jitter over 100..460 ms.
    let spread: Vec<Job> = (0..12u32)
        .map(|id| {
            let at = 100 + u64::from(id) * 30;
            job(id, vec![attempt(1, at, None, None)], None)
        })
        .collect();
    let counts = buckets(&spread, axis, BUCKET_MS);
    assert!(counts.iter().all(|c| *c <= 4), "{counts:?}");
    assert_eq!(counts.iter().sum::<u32>(), 12);
    assert_eq!(peak(&[0, 0]), None);
}

#[test]
fn refused_calls_never_reach_the_downstream_and_are_not_bucketed() {
    let mut refused = attempt(1, 10, Some(10), None);
    refused.rejected = Some(Open);
    let j = job(0, vec![refused], Some(JobOutcome::Rejected { attempts: 0 }));
    let axis = Axis {
        start_ms: 0,
        len_ms: 1_000,
    };
    assert_eq!(buckets(&[j], axis, BUCKET_MS).iter().sum::<u32>(), 0);
}

#[test]
fn call_tokens_mark_trials_refusals_and_late_results() {
    let mut scene = ResilienceScene::new(true, 0);
    let mut trial = attempt(1, 0, Some(40), Some(AttemptResult::Succeeded));
    trial.trial = true;
    scene.jobs.push(job(
        0,
        vec![trial],
        Some(JobOutcome::Succeeded { attempts: 1 }),
    ));
    let mut late = attempt(1, 0, Some(90), failed(FailureKind::Timeout));
    late.counted = false;
    let late_outcome = JobOutcome::Failed {
        attempts: 1,
        kind: FailureKind::Timeout,
        reason: GiveUp::OutOfRetries,
    };
    scene.jobs.push(job(1, vec![late], Some(late_outcome)));
    let mut refused = attempt(1, 95, Some(95), None);
    refused.rejected = Some(Open);
    scene.jobs.push(job(
        2,
        vec![refused],
        Some(JobOutcome::Rejected { attempts: 0 }),
    ));
    scene
        .jobs
        .push(job(3, vec![attempt(1, 99, None, None)], None));
    let tokens = call_tokens(&scene, 3);
    let seen: Vec<_> = tokens
        .iter()
        .map(|t| (t.id, t.glyph, t.word, t.not_counted))
        .collect();
    assert_eq!(
        seen,
        [
            (1, "✗", "timeout", true),
            (2, "⊘", "refused", false),
            (3, "…", "out", false)
        ],
        "the latest three, oldest first"
    );
    let first = CallToken::of(&scene.jobs[0]);
    assert!(first.trial);
    assert_eq!(first.text(), "client 0: ✓ ok, trial call");
    assert_eq!(
        tokens[0].text(),
        "client 1: ✗ timeout, came back late: not counted"
    );
    assert_eq!(call_tokens(&scene, 40).len(), 4);
}

#[test]
fn workers_say_what_they_do_with_their_job() {
    let mut scene = ResilienceScene::new(true, 3);
    scene
        .jobs
        .push(job(0, vec![attempt(2, 100, None, None)], None));
    scene.jobs.push(job(
        1,
        vec![waited(
            attempt(1, 0, Some(500), failed(FailureKind::Timeout)),
            400,
            400,
        )],
        None,
    ));
    scene.workers = vec![Some(0), Some(1), None];
    let looks = worker_looks(&scene);
    assert_eq!(looks[0].activity, Activity::Calling { attempt: 2 });
    assert_eq!(looks[0].job, Some((0, "client 0".to_owned(), 4)));
    assert_eq!(
        looks[1].activity,
        Activity::BackingOff {
            next: 2,
            until_ms: 900
        }
    );
    assert_eq!(
        looks[1].activity.text(4, 560.0),
        "backing off: 340 ms left, then attempt 2 of 4"
    );
    assert_eq!(
        looks[1].activity.text(4, 5_000.0),
        "backing off: 0 ms left, then attempt 2 of 4",
        "never negative"
    );
    assert_eq!(looks[2].activity, Activity::Idle);
    assert_eq!(looks[2].activity.key(), "idle");
    assert_eq!(looks[0].activity.text(4, 0.0), "calling: attempt 2 of 4");
    assert_eq!(
        Activity::of(Some(&job(5, vec![], None))),
        Activity::Starting
    );
}

#[test]
fn success_and_recovery_rates_follow_the_seed() {
    let c = Counters {
        submitted: 8,
        completed: 5,
        failed: 2,
        in_flight: 1,
        ..Counters::default()
    };
    let rates = Rates::of(&c, 2);
    // 5 of the 7 that ended succeeded; 2 of those 5 needed a retry.
    assert_eq!(rate_text(rates.success), "71.4");
    assert_eq!(rate_text(rates.recovery), "40.0");
    let none = Rates::of(&Counters::default(), 0);
    assert_eq!(
        (rate_text(none.success), rate_text(none.recovery)),
        ("–".to_owned(), "–".to_owned())
    );
}

#[test]
fn failures_by_kind_are_bars_relative_to_the_commonest() {
    // Two network failures and one validation failure, folded as the
    // server would, so the bars read the protocol's own counts.
    let mut snap = RunSnapshot::new("r", PatternId::RetryBackoff);
    let mut events = vec![Event::Resilience(ResilienceEvent::JobSubmitted {
        job: spec(0),
    })];
    for (n, kind) in [
        (1, FailureKind::Network),
        (2, FailureKind::Network),
        (3, FailureKind::Validation),
    ] {
        events.push(Event::Resilience(ResilienceEvent::AttemptStarted {
            job: 0,
            attempt: n,
            trial: false,
        }));
        events.push(Event::Resilience(ResilienceEvent::AttemptEnded {
            job: 0,
            attempt: n,
            result: AttemptResult::Failed { kind },
            counted: false,
        }));
    }
    for (i, event) in events.into_iter().enumerate() {
        let seq = i as u64 + 1;
        snap.apply(&Envelope {
            seq,
            at_ms: seq,
            event,
        });
    }
    let scene = snap.resilience().expect("a resilience run");
    let bars = failure_bars(scene);
    let seen: Vec<_> = bars
        .iter()
        .map(|b| (b.kind.as_str(), b.count, b.share))
        .collect();
    assert_eq!(
        seen,
        [
            ("timeout", 0, 0.0),
            ("network", 2, 1.0),
            ("resource", 0, 0.0),
            ("processing", 0, 0.0),
            ("validation", 1, 0.5)
        ]
    );
}

#[test]
fn the_downstream_reads_its_settings_in_words() {
    let params = Params::from([
        ("failure_pct".into(), 20.0),
        ("latency_ms".into(), 150.0),
        ("failure_type".into(), 1.0),
        ("broken".into(), 0.0),
        ("capacity".into(), 4.0),
    ]);
    let d = Downstream::of(&params);
    assert!(!d.broken);
    assert_eq!(
        d.lines,
        [
            "20% of calls fail with network errors (retryable)",
            "answers in about 150 ms",
            "serves 4 calls at a time; more fail at once with resource errors"
        ]
    );
    let mut broken = params.clone();
    broken.insert("broken".into(), 1.0);
    broken.insert("failure_type".into(), 3.0);
    let d = Downstream::of(&broken);
    assert!(d.broken);
    assert_eq!(d.lines[0], "broken: every call fails until you heal it");
    assert_eq!(
        d.lines[1],
        "20% of calls fail with processing errors (not retryable)"
    );
    let pool = Params::from([("failure_scale_pct".into(), 100.0)]);
    assert_eq!(
        Downstream::of(&pool).lines,
        ["each kind of task fails at 100% of its usual rate"]
    );
}

#[test]
fn outcome_glyphs_tell_outcomes_apart_without_colour() {
    let keys = [
        "succeeded",
        "recovered",
        "failed",
        "rejected",
        "timed_out",
        "cancelled",
        "running",
    ];
    let glyphs: Vec<_> = keys.iter().map(|k| outcome_glyph(k)).collect();
    let mut unique = glyphs.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), keys.len(), "{glyphs:?}");
    assert_eq!(
        state_about(Open),
        "calls are refused at once, without calling the downstream"
    );
}

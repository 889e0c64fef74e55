//! Twelve thousand generated hostile requests over every route and every
//! command, from one seed: the same requests on every run of the test.
//! Afterwards no answer was a 5xx, none took longer than [`HANG`], every run
//! still obeys the conservation rule, and the event stream still flows.

use crate::support::{HANG, Served, find, http_request};
use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use server::Config;
use shared::{PatternId, RunSnapshot};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SEED: u64 = 0x00C1_A55E_5EED;
const REQUESTS: usize = 12_000;
/// Clients sending at once.
const CLIENTS: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_hostile_requests_leave_the_server_whole() {
    let served = Arc::new(Served::start(Config::default()).await);
    let requests = generate(SEED, REQUESTS, &served.host());
    let mut clients = Vec::new();
    for client in 0..CLIENTS {
        let mine: Vec<Vec<u8>> = requests
            .iter()
            .skip(client)
            .step_by(CLIENTS)
            .cloned()
            .collect();
        let served = Arc::clone(&served);
        clients.push(tokio::spawn(async move {
            let mut statuses = BTreeMap::<u16, usize>::new();
            let mut slowest = Duration::ZERO;
            for request in mine {
                let started = Instant::now();
                let answer = served.exchange(&request).await;
                slowest = slowest.max(started.elapsed());
                *statuses.entry(answer.status).or_default() += 1;
                assert!(
                    answer.status < 500,
                    "{} for {:?}: {:?}",
                    answer.status,
                    String::from_utf8_lossy(&request[..request.len().min(200)]),
                    String::from_utf8_lossy(&answer.body)
                );
            }
            (statuses, slowest)
        }));
    }
    let mut statuses = BTreeMap::<u16, usize>::new();
    let mut slowest = Duration::ZERO;
    for client in clients {
        let (mine, slow) = client
            .await
            .expect("a client finished without a 5xx or a hang");
        for (status, n) in mine {
            *statuses.entry(status).or_default() += n;
        }
        slowest = slowest.max(slow);
    }
    println!("statuses: {statuses:?}; slowest answer {slowest:?}");
    assert_eq!(statuses.values().sum::<usize>(), REQUESTS);
    assert!(slowest < HANG, "{slowest:?}");
    assert!(
        statuses.get(&200).copied().unwrap_or(0) > REQUESTS / 20,
        "{statuses:?}"
    );

    every_run_is_conserved(&served).await;
    the_stream_still_flows(&served).await;
    if let Ok(served) = Arc::try_unwrap(served) {
        served.stop().await;
    }
}

async fn every_run_is_conserved(served: &Served) {
    let list = served.request("GET", "/api/runs", None).await.json();
    let runs: Vec<String> = list
        .as_array()
        .expect("a list of runs")
        .iter()
        .filter_map(|r| r["run"].as_str().map(str::to_owned))
        .collect();
    assert!(runs.len() >= PatternId::ALL.len(), "{runs:?}");
    for run in runs {
        let answer = served
            .request("GET", &format!("/api/runs/{run}"), None)
            .await;
        let snapshot: RunSnapshot =
            serde_json::from_slice(&answer.body).unwrap_or_else(|e| panic!("{run}: {e}"));
        assert!(
            snapshot.counters.is_conserved(),
            "{run}: {:?}",
            snapshot.counters
        );
    }
}

async fn the_stream_still_flows(served: &Served) {
    let again = [
        r#"{"type":"reset"}"#,
        r#"{"type":"set_speed","speed":4}"#,
        r#"{"type":"start"}"#,
    ];
    served.commands("drop-basic", &again).await;
    let mut tcp = served.connect().await;
    tcp.write_all(&http_request(
        "GET",
        "/api/events?runs=drop-basic",
        &served.host(),
        None,
        &[],
    ))
    .await
    .expect("written");
    let flowing = tokio::time::timeout(HANG, async {
        let mut seen = Vec::new();
        let mut chunk = [0u8; 16 * 1024];
        while find(&seen, b"event: batch").is_none() {
            let n = tcp.read(&mut chunk).await.unwrap_or(0);
            if n == 0 {
                return false;
            }
            seen.extend_from_slice(&chunk[..n]);
        }
        true
    })
    .await;
    assert_eq!(flowing, Ok(true), "a batch of drop-basic's events arrives");
}

/// `n` requests from `seed`, addressed to `host`.
fn generate(seed: u64, n: usize, host: &str) -> Vec<Vec<u8>> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| one(&mut rng, host)).collect()
}

fn one(rng: &mut StdRng, host: &str) -> Vec<u8> {
    match rng.random_range(0..100) {
        0..45 => command(rng, host),
        45..60 => api_get(rng, host),
        60..68 => runs(rng, host),
        68..74 => pages(rng, host),
        74..80 => wrong_method(rng, host),
        80..86 => hostile_headers(rng, host),
        86..91 => oversized(rng, host),
        91..96 => raw_garbage(rng),
        _ => malformed_json(rng, host),
    }
}

fn run_id(rng: &mut StdRng) -> String {
    let pattern = PatternId::ALL
        .choose(rng)
        .copied()
        .unwrap_or(PatternId::ALL[0]);
    match rng.random_range(0..10) {
        0..6 => pattern.as_str().to_owned(),
        6..8 => format!("{pattern}-{}", rng.random_range(2..6)),
        8 => hostile_text(rng),
        _ => "%2e%2e%2f%2e%2e%2fetc%2fpasswd".to_owned(),
    }
}

/// Text meant to hurt: escapes, line breaks, NUL, very long, not UTF-8 safe
/// once percent-decoded, or just empty.
fn hostile_text(rng: &mut StdRng) -> String {
    match rng.random_range(0..7) {
        0 => "x%0D%0AFORGED%1B%5B2J".to_owned(),
        1 => "nul%00byte".to_owned(),
        2 => "a".repeat(rng.random_range(100..20_000)),
        3 => "%FF%FE%80".to_owned(),
        4 => "%F0%9F%92%A5%E2%80%AE".to_owned(),
        5 => String::new(),
        _ => "..%2F..%2F".to_owned(),
    }
}

fn hostile_number(rng: &mut StdRng) -> String {
    [
        "0",
        "-1",
        "1e308",
        "-1e308",
        "18446744073709551615",
        "18446744073709551616",
        "9223372036854775807",
        "-9223372036854775808",
        "0.5",
        "1e-320",
        "\"NaN\"",
        "null",
        "true",
        "[]",
        "{}",
        "\"12\"",
    ]
    .choose(rng)
    .copied()
    .unwrap_or("0")
    .to_owned()
}

fn number(rng: &mut StdRng) -> String {
    if rng.random_bool(0.5) {
        hostile_number(rng)
    } else {
        format!("{}", rng.random_range(-10.0..20_000.0_f64).round())
    }
}

fn command_body(rng: &mut StdRng, run: &str) -> String {
    let pattern = PatternId::ALL
        .iter()
        .copied()
        .filter(|p| run.starts_with(p.as_str()))
        .max_by_key(|p| p.as_str().len())
        .unwrap_or(PatternId::ALL[0]);
    let params = server::engines::info(pattern).params;
    match rng.random_range(0..20) {
        0 => r#"{"type":"start"}"#.to_owned(),
        1 => r#"{"type":"stop"}"#.to_owned(),
        2 => r#"{"type":"restart"}"#.to_owned(),
        3 => r#"{"type":"reset"}"#.to_owned(),
        4 => r#"{"type":"pause"}"#.to_owned(),
        5 => r#"{"type":"resume"}"#.to_owned(),
        6 => format!(r#"{{"type":"step","ms":{}}}"#, number(rng)),
        7 => format!(r#"{{"type":"set_speed","speed":{}}}"#, number(rng)),
        8 => format!(r#"{{"type":"set_seed","seed":{}}}"#, number(rng)),
        9..12 => {
            let mut fields = Vec::new();
            for _ in 0..rng.random_range(0..4) {
                let name = match params.choose(rng) {
                    Some(spec) if rng.random_bool(0.8) => spec.name.clone(),
                    _ => "no_such_param".to_owned(),
                };
                let spec = params.iter().find(|s| s.name == name);
                let value = match spec {
                    Some(spec) if rng.random_bool(0.6) => {
                        format!("{}", rng.random_range(spec.min..=spec.max).round())
                    }
                    _ => number(rng),
                };
                fields.push(format!(r#""{name}":{value}"#));
            }
            format!(
                r#"{{"type":"set_params","params":{{{}}}}}"#,
                fields.join(",")
            )
        }
        12 => format!(r#"{{"type":"cancel","node":{}}}"#, number(rng)),
        13 => format!(
            r#"{{"type":"set_deadline","node":{},"in_ms":{}}}"#,
            number(rng),
            number(rng)
        ),
        14 => format!(r#"{{"type":"fail","node":{}}}"#, number(rng)),
        15 => r#"{"type":"shutdown"}"#.to_owned(),
        16 => r#"{"type":"drain"}"#.to_owned(),
        17 => format!(
            r#"{{"type":"subscribe","topic":{}}}"#,
            serde_json::Value::String(hostile_text(rng))
        ),
        18 => format!(r#"{{"type":"unsubscribe","subscriber":{}}}"#, number(rng)),
        _ => format!(r#"{{"type":"panic","worker":{}}}"#, number(rng)),
    }
}

fn command(rng: &mut StdRng, host: &str) -> Vec<u8> {
    let run = run_id(rng);
    let body = command_body(rng, &run);
    // Speeds stay in range most of the time, so the server keeps working.
    http_request(
        "POST",
        &format!("/api/runs/{run}/commands"),
        host,
        Some(&body),
        &[],
    )
}

fn api_get(rng: &mut StdRng, host: &str) -> Vec<u8> {
    let path = match rng.random_range(0..8) {
        0 => "/api/patterns".to_owned(),
        1 => "/api/runs".to_owned(),
        2 => format!("/api/runs/{}", run_id(rng)),
        3 => {
            let ids: Vec<String> = (0..rng.random_range(1..1_200))
                .map(|_| {
                    if rng.random_bool(0.9) {
                        "cancel-fanout".to_owned()
                    } else {
                        run_id(rng)
                    }
                })
                .collect();
            format!("/api/events?runs={}", ids.join(","))
        }
        4 => "/api/events".to_owned(),
        5 => format!("/api/events?{}", hostile_text(rng)),
        6 => format!("/api/{}", hostile_text(rng)),
        _ => format!("/api/runs/{}/commands", run_id(rng)),
    };
    let resume = format!("drop-basic:{},{}:x", number(rng), hostile_text(rng));
    let extra: &[(&str, &str)] = if rng.random_bool(0.3) {
        &[("Last-Event-ID", &resume)]
    } else {
        &[]
    };
    http_request("GET", &path, host, None, extra)
}

fn runs(rng: &mut StdRng, host: &str) -> Vec<u8> {
    if rng.random_bool(0.6) {
        let pattern = match rng.random_range(0..5) {
            0 => hostile_text(rng),
            _ => PatternId::ALL
                .choose(rng)
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
        };
        let body = serde_json::json!({ "pattern": pattern }).to_string();
        http_request("POST", "/api/runs", host, Some(&body), &[])
    } else {
        http_request(
            "DELETE",
            &format!("/api/runs/{}", run_id(rng)),
            host,
            None,
            &[],
        )
    }
}

fn pages(rng: &mut StdRng, host: &str) -> Vec<u8> {
    let path = match rng.random_range(0..7) {
        0 => "/".to_owned(),
        1 => format!("/p/{}", run_id(rng)),
        2 => "/assets/app.css".to_owned(),
        3 => format!("/assets/{}", hostile_text(rng)),
        4 => "/pkg/frontend.js".to_owned(),
        5 => "/pkg/frontend_bg.wasm.br".to_owned(),
        _ => format!("/{}", hostile_text(rng)),
    };
    let encoding = ["br", "gzip", "br;q=0", "*", "identity", "x"]
        .choose(rng)
        .copied()
        .unwrap_or("br");
    http_request(
        "GET",
        &path,
        host,
        None,
        &[("Accept-Encoding", encoding), ("If-None-Match", "\"0\", *")],
    )
}

fn wrong_method(rng: &mut StdRng, host: &str) -> Vec<u8> {
    let method = [
        "PUT", "PATCH", "OPTIONS", "HEAD", "TRACE", "CONNECT", "BREW",
    ]
    .choose(rng)
    .copied()
    .unwrap_or("PUT");
    let path = [
        "/api/runs",
        "/api/patterns",
        "/api/events",
        "/",
        "/api/runs/tee/commands",
    ]
    .choose(rng)
    .copied()
    .unwrap_or("/");
    http_request(method, path, host, None, &[])
}

fn hostile_headers(rng: &mut StdRng, host: &str) -> Vec<u8> {
    let run = run_id(rng);
    let body = command_body(rng, &run);
    let path = format!("/api/runs/{run}/commands");
    let long = "x".repeat(rng.random_range(1_000..60_000));
    match rng.random_range(0..7) {
        0 => http_request(
            "POST",
            &path,
            "evil.example:8080",
            Some(&body),
            &[("Origin", "http://evil.example:8080")],
        ),
        1 => http_request(
            "POST",
            &path,
            host,
            Some(&body),
            &[("Origin", "http://evil.example")],
        ),
        2 => http_request("POST", &path, host, Some(&body), &[("Origin", "null")]),
        3 => http_request("GET", "/api/events", "evil.example", None, &[]),
        4 => http_request("GET", "/api/runs", host, None, &[("X-Long", &long)]),
        5 => http_request(
            "POST",
            &path,
            host,
            Some(&body),
            &[("Content-Type", "text/plain")],
        ),
        _ => http_request("GET", "/api/runs", "", None, &[]),
    }
}

fn oversized(rng: &mut StdRng, host: &str) -> Vec<u8> {
    let size = rng.random_range(16 * 1024 + 1..200_000);
    let body = format!(r#"{{"type":"subscribe","topic":"{}"}}"#, "y".repeat(size));
    let path = format!("/api/runs/{}/commands", run_id(rng));
    http_request("POST", &path, host, Some(&body), &[])
}

fn raw_garbage(rng: &mut StdRng) -> Vec<u8> {
    match rng.random_range(0..5) {
        0 => {
            let mut bytes: Vec<u8> = (0..rng.random_range(1..2_000)).map(|_| rng.random()).collect();
            bytes.extend_from_slice(b"\r\n\r\n");
            bytes
        }
        1 => b"GET / HTTP/9.9\r\n\r\n".to_vec(),
        2 => b"GET /api/runs HTTP/1.1\r\nHost: localhost\r\nContent-Length: -4\r\n\r\n".to_vec(),
        3 => b"POST /api/runs HTTP/1.1\r\nHost: localhost\r\nContent-Length: 3\r\nContent-Length: 5\r\nConnection: close\r\n\r\nabcde".to_vec(),
        _ => b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n".to_vec(),
    }
}

fn malformed_json(rng: &mut StdRng, host: &str) -> Vec<u8> {
    let depth = rng.random_range(1..5_000);
    let body = match rng.random_range(0..5) {
        0 => format!("{}{}", "[".repeat(depth), "]".repeat(depth)),
        1 => r#"{"type":"start""#.to_owned(),
        2 => r#"{"type":"start","extra":1}"#.to_owned(),
        3 => "\u{feff}{}".to_owned(),
        _ => r#"{"type":"set_params","params":{"tasks":1,"tasks":2}}"#.to_owned(),
    };
    let path = format!("/api/runs/{}/commands", run_id(rng));
    http_request("POST", &path, host, Some(&body), &[])
}

//! The dashboard's performance figures, each beside the figure recorded for
//! the commit before, and the goal.
//!
//! ```text
//! cargo build --release -p server
//! cargo run --release -p e2e --example bench              # measure, compare
//! cargo run --release -p e2e --example bench -- --save    # and record
//! cargo run --release -p e2e --example bench -- --server PATH --label NAME
//! ```
//!
//! It runs the release binary as its own process (so its memory and CPU
//! time can be read from `/proc`), drives headless Chromium for what a
//! viewer sees, and opens plain HTTP streams for what the server pays per
//! viewer. The figures of the previous commit are read from
//! `tests/bench/figures.json`; `--save` writes this run's there, to commit
//! with the change. Nothing else may load the machine while it runs.

use std::collections::BTreeMap;
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, sleep};

// The browser tests' own helpers. `browser` reaches for `super::within`.
#[path = "../e2e/support/browser.rs"]
#[allow(dead_code, reason = "the tests' browser, of which this uses a part")]
mod browser;
#[path = "../e2e/support/probes.rs"]
mod probes;
#[path = "../e2e/support/wait.rs"]
mod wait;

use browser::TestBrowser;
use probes::{percentile, time_one_cancel};
use wait::{PATIENCE, within};

/// Clock ticks per second in `/proc/<pid>/stat`.
const TICKS_PER_S: f64 = 100.0;
/// Viewers for the memory and CPU rows.
const VIEWERS: usize = 200;
/// Viewers for the spread row.
const CROWD: usize = 1000;
/// Clicks timed on the cancellation tree.
const CLICKS: usize = 20;
/// Each browser figure is taken this many times: min, median, max.
const TIMES: usize = 3;

/// One row of the table: what is measured, how it reads, and the goal.
struct Row {
    key: &'static str,
    label: &'static str,
    unit: &'static str,
    goal: &'static str,
}

const ROWS: &[Row] = &[
    Row {
        key: "bundle_kb",
        label: "wasm + JS, brotli, to the pattern list",
        unit: "KB",
        goal: "<= 150",
    },
    Row {
        key: "bundle_page_kb",
        label: "the same, to the pipeline page drawn",
        unit: "KB",
        goal: "",
    },
    Row {
        key: "click_p95_ms",
        label: "click -> 1,111 nodes drawn cancelled, p95",
        unit: "ms",
        goal: "<= 50",
    },
    Row {
        key: "fps_pipeline",
        label: "pipeline page at full load",
        unit: "fps",
        goal: ">= 55",
    },
    Row {
        key: "fps_pub_sub",
        label: "pub-sub page at full load",
        unit: "fps",
        goal: ">= 55",
    },
    Row {
        key: "fps_drop_basic",
        label: "drop-basic page at full load",
        unit: "fps",
        goal: ">= 55",
    },
    Row {
        key: "memory_per_viewer_kb",
        label: "server memory per viewer (200)",
        unit: "KB",
        goal: "<= 16",
    },
    Row {
        key: "cpu_per_message_us",
        label: "server CPU per viewer-message, preset pace",
        unit: "us",
        goal: "<= 5",
    },
    Row {
        key: "cpu_per_message_full_us",
        label: "server CPU per viewer-message, full load",
        unit: "us",
        goal: "<= 5",
    },
    Row {
        key: "spread_p95_ms",
        label: "spread of a batch over 1,000 viewers, p95",
        unit: "ms",
        goal: "<= 10",
    },
    Row {
        key: "spread_full_p95_ms",
        label: "the same at full load (reader-bound)",
        unit: "ms",
        goal: "<= 10",
    },
    Row {
        key: "first_load_ms",
        label: "first load to the pattern list",
        unit: "ms",
        goal: "<= 230",
    },
    Row {
        key: "revisit_ms",
        label: "revisit (cached) to the pattern list",
        unit: "ms",
        goal: "",
    },
    Row {
        key: "page_load_ms",
        label: "first load of the pipeline page, drawn",
        unit: "ms",
        goal: "",
    },
];

/// What one run of the bench found: a figure per row, with its spread
/// where it was taken several times.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Figures {
    commit: String,
    rows: BTreeMap<String, Figure>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Figure {
    value: f64,
    /// Min and max, for a figure taken several times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    range: Option<(f64, f64)>,
}

impl Figure {
    fn one(value: f64) -> Figure {
        Figure { value, range: None }
    }

    /// The median of `values`, with their min and max.
    fn of(mut values: Vec<f64>) -> Figure {
        values.sort_by(f64::total_cmp);
        Figure {
            value: values[values.len() / 2],
            range: Some((values[0], values[values.len() - 1])),
        }
    }

    fn show(&self) -> String {
        match self.range {
            Some((min, max)) => format!("{:.1} ({:.1}-{:.1})", self.value, min, max),
            None => format!("{:.1}", self.value),
        }
    }
}

/// The release server, run as a process of its own.
struct Server {
    child: Child,
    port: u16,
    http: reqwest::Client,
}

impl Server {
    async fn start(binary: &Path) -> Server {
        let port = StdListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new(binary)
            .args(["--port", &port.to_string(), "--max-connections", "2000"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", binary.display()));
        let server = Server {
            child,
            port,
            http: reqwest::Client::new(),
        };
        for _ in 0..100 {
            if server
                .http
                .get(server.url("/api/patterns"))
                .send()
                .await
                .is_ok()
            {
                return server;
            }
            sleep(Duration::from_millis(50)).await;
        }
        panic!("the server did not answer within 5 s");
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn command(&self, run: &str, command: Value) {
        let url = self.url(&format!("/api/runs/{run}/commands"));
        let answer = within(
            "a command",
            PATIENCE,
            self.http.post(&url).json(&command).send(),
        )
        .await
        .expect("the command is sent");
        assert!(
            answer.status().is_success(),
            "{command} on {run}: {}",
            answer.status()
        );
    }

    /// Runs `run` with every parameter in `params` set and the clock at
    /// its fastest.
    async fn load(&self, run: &str, params: Value) {
        self.command(run, json!({"type": "set_params", "params": params}))
            .await;
        self.command(run, json!({"type": "set_speed", "speed": 10.0}))
            .await;
        self.command(run, json!({"type": "restart"})).await;
    }

    async fn stop(&self, run: &str) {
        self.command(run, json!({"type": "stop"})).await;
    }

    fn stat(&self) -> String {
        std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .expect("/proc/<pid>/stat")
    }

    /// CPU time used so far, user and kernel, in seconds.
    fn cpu_s(&self) -> f64 {
        let (user, kernel) = self.cpu_split_s();
        user + kernel
    }

    /// CPU time used so far in user space and in the kernel, in seconds.
    fn cpu_split_s(&self) -> (f64, f64) {
        let stat = self.stat();
        // Fields after the command name, which is in parentheses.
        let rest = &stat[stat.rfind(')').expect("a command name") + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks = |i: usize| fields[i].parse::<u64>().unwrap_or(0) as f64 / TICKS_PER_S;
        (ticks(11), ticks(12))
    }

    /// Resident memory, in KB.
    fn rss_kb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("/proc/<pid>/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmRSS")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The heaviest load of each page measured: the most producers, endless,
/// at the shortest interval.
fn full_load(pattern: &str) -> Value {
    match pattern {
        "drop-basic" => json!({"tasks": 0, "interval_ms": 1}),
        "pipeline" => json!({"sources": 6, "logs": 0, "interval_ms": 10}),
        "pub-sub" => json!({"publishers": 4, "messages": 0, "interval_ms": 10}),
        other => panic!("no full load for {other}"),
    }
}

/// What a fresh browser downloads of the app (its glue and WebAssembly
/// modules under `/pkg/`, as sent: brotli) until `ready` holds on `path`,
/// and how long from navigation until then: the median of [`TIMES`].
/// The app is one module today, so both pages download the same; the two
/// rows show what each page pays if the app is ever cut into modules
/// fetched per page (tried: the welcome page's download fell by 43 %, a
/// pattern page's first load rose by 57 %).
async fn first_page(server: &Server, path: &str, ready: &str) -> (Figure, Figure) {
    let watch = format!(
        "new MutationObserver((_, seen) => {{ if ({ready}) {{ \
         window.readyAt = performance.now(); seen.disconnect(); }} }}) \
         .observe(document, {{ childList: true, subtree: true }});"
    );
    // A resource's timing entry is added a moment after its response ends.
    let app_files = "performance.getEntriesByType('resource') \
        .filter(e => new URL(e.name).pathname.startsWith('/pkg/'))";
    let (mut times, mut sizes) = (Vec::new(), Vec::new());
    for _ in 0..TIMES {
        let ui = TestBrowser::launch().await;
        ui.on_every_page(&watch).await;
        ui.goto(&server.url(path)).await;
        ui.wait_for(
            path,
            "window.readyAt !== undefined",
            Duration::from_secs(15),
        )
        .await;
        times.push(ui.eval::<f64>("window.readyAt").await);
        ui.wait_for(
            "the app's timing entries",
            &format!("{app_files}.some(e => e.name.endsWith('.wasm'))"),
            Duration::from_secs(5),
        )
        .await;
        let kb = format!("{app_files}.reduce((sum, e) => sum + e.encodedBodySize, 0) / 1000");
        sizes.push(ui.eval::<f64>(&kb).await);
        ui.close().await;
    }
    (Figure::of(times), Figure::of(sizes))
}

/// The welcome page is ready when its list of patterns is drawn.
const LIST_DRAWN: &str = "document.querySelector('#patterns-nav a[href^=\"/p/\"]')";
/// The pipeline's page (the largest family's) is ready when its stages are.
const PIPELINE_DRAWN: &str = "document.querySelector('[data-pattern=\"pipeline\"] .stage > *')";

async fn click_to_drawn(server: &Server) -> Figure {
    let ui = TestBrowser::launch().await;
    ui.goto(&server.url("/p/cancel-fanout")).await;
    ui.wait_for(
        "the tree with a live stream",
        r#"document.querySelector('[data-pattern="cancel-fanout"]') && document.querySelector('#connection[data-state="live"]')"#,
        Duration::from_secs(15),
    )
    .await;
    let mut ms = Vec::new();
    for _ in 0..CLICKS {
        server
            .command("cancel-fanout", json!({"type": "restart"}))
            .await;
        ms.push(time_one_cancel(&ui).await);
    }
    ui.close().await;
    server.stop("cancel-fanout").await;
    ms.sort_by(f64::total_cmp);
    Figure::one(percentile(&ms, 95.0))
}

/// Frames drawn per second on `pattern`'s page while its run is at full
/// load, over 5 s, three times.
async fn fps(server: &Server, pattern: &str) -> Figure {
    let mut samples = Vec::new();
    server.load(pattern, full_load(pattern)).await;
    let ui = TestBrowser::launch().await;
    ui.goto(&server.url(&format!("/p/{pattern}?speed=10")))
        .await;
    ui.wait_for(
        "the page with a live stream",
        r#"document.querySelector('#connection[data-state="live"]')"#,
        Duration::from_secs(15),
    )
    .await;
    sleep(Duration::from_secs(2)).await;
    for _ in 0..TIMES {
        let frames: f64 = ui
            .eval_within(
                "new Promise(done => { let n = 0; const t0 = performance.now(); \
                 const f = now => { n++; if (now - t0 < 5000) requestAnimationFrame(f); \
                 else done(n * 1000 / (now - t0)); }; requestAnimationFrame(f); })",
                Duration::from_secs(15),
            )
            .await;
        samples.push(frames);
    }
    ui.close().await;
    server.stop(pattern).await;
    Figure::of(samples)
}

/// `count` raw stream readers of `path`, each as [`viewer`].
fn viewers(
    port: u16,
    count: usize,
    path: &str,
    messages: &Arc<AtomicU64>,
    timed: bool,
    until: Instant,
) -> Vec<tokio::task::JoinHandle<Vec<(String, Instant)>>> {
    (0..count)
        .map(|_| {
            tokio::spawn(viewer(
                port,
                path.to_owned(),
                Arc::clone(messages),
                timed,
                until,
            ))
        })
        .collect()
}

/// A raw stream reader, until `until`: counts the batch messages it gets
/// and, if `timed`, notes when each came (by its id, `run:seq`). As little
/// work per message as can be, so the reader's own delays stay small.
async fn viewer(
    port: u16,
    path: String,
    messages: Arc<AtomicU64>,
    timed: bool,
    until: Instant,
) -> Vec<(String, Instant)> {
    let mut arrivals = Vec::new();
    let read = async {
        let mut tcp = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n");
        tcp.write_all(request.as_bytes()).await.ok()?;
        let mut buffer: Vec<u8> = Vec::new();
        let mut chunk = vec![0u8; 256 * 1024];
        // Where the search for the end of the message under way resumes.
        let mut scanned = 0;
        loop {
            let n = tcp.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None::<()>;
            }
            let now = Instant::now();
            buffer.extend_from_slice(&chunk[..n]);
            let mut start = 0;
            while let Some(at) = buffer[scanned.max(start)..]
                .windows(2)
                .position(|w| w == b"\n\n")
            {
                let end = scanned.max(start) + at + 2;
                // After the chunked encoding's size line, at the start.
                let message = &buffer[start..end];
                let head = &message[..message.len().min(200)];
                if head.windows(12).any(|w| w == b"event: batch") {
                    messages.fetch_add(1, Ordering::Relaxed);
                    if timed {
                        let id = head
                            .split(|b| *b == b'\n')
                            .find_map(|line| line.strip_prefix(b"id: "))
                            .map(|id| String::from_utf8_lossy(id).into_owned());
                        if let Some(id) = id {
                            // With a cursor of several runs, the last names the batch.
                            let last = id.rsplit(',').next().unwrap_or(&id).to_owned();
                            arrivals.push((last, now));
                        }
                    }
                }
                start = end;
                scanned = end;
            }
            buffer.drain(..start);
            scanned = buffer.len().saturating_sub(1);
        }
    };
    let _ = tokio::time::timeout_at(until, read).await;
    arrivals
}

/// drop-basic without end at its preset pace (a task every 30 ms), at 10x:
/// batches of a few events, as a class mostly sees.
fn preset_pace() -> Value {
    json!({"tasks": 0, "interval_ms": 30})
}

/// Memory and CPU the server spends per viewer of a run under `load`.
async fn per_viewer(server: &Server, load: Value) -> (Figure, Figure) {
    let run = "drop-basic";
    server.load(run, load).await;
    sleep(Duration::from_secs(2)).await;
    let window = Duration::from_secs(5);
    // The run's own cost, with nobody watching.
    let cpu0 = server.cpu_s();
    sleep(window).await;
    let engine_cpu = server.cpu_s() - cpu0;
    let rss0 = server.rss_kb();
    let messages = Arc::new(AtomicU64::new(0));
    let path = format!("/api/events?runs={run}");
    let until = Instant::now() + Duration::from_secs(3) + window + Duration::from_secs(1);
    let tasks = viewers(server.port, VIEWERS, &path, &messages, false, until);
    sleep(Duration::from_secs(3)).await;
    let rss = server.rss_kb();
    let (cpu1, sent1) = (server.cpu_split_s(), messages.load(Ordering::Relaxed));
    sleep(window).await;
    let (cpu2, sent2) = (server.cpu_split_s(), messages.load(Ordering::Relaxed));
    let sent = (sent2 - sent1).max(1) as f64;
    eprintln!(
        "  {sent} viewer-messages in {window:?}: {:.1} us user and {:.1} us kernel each, \
         of which the engine's own {:.1} us",
        (cpu2.0 - cpu1.0) / sent * 1e6,
        (cpu2.1 - cpu1.1) / sent * 1e6,
        engine_cpu / sent * 1e6
    );
    let (cpu1, cpu2) = (cpu1.0 + cpu1.1, cpu2.0 + cpu2.1);
    for task in tasks {
        let _ = task.await;
    }
    server.stop(run).await;
    let per_message_us =
        ((cpu2 - cpu1) - engine_cpu).max(0.0) / (sent2 - sent1).max(1) as f64 * 1e6;
    (
        Figure::one((rss - rss0) / VIEWERS as f64),
        Figure::one(per_message_us),
    )
}

/// How far apart in time 1,000 viewers get the same batch, p95 over batches.
async fn spread(server: &Server, load: Value) -> Figure {
    let run = "drop-basic";
    server.load(run, load).await;
    let messages = Arc::new(AtomicU64::new(0));
    let path = format!("/api/events?runs={run}");
    // Everyone connected and past the snapshot; then five seconds of batches.
    let settled = Instant::now() + Duration::from_secs(4);
    let until = settled + Duration::from_secs(5);
    let tasks = viewers(server.port, CROWD, &path, &messages, true, until);
    let mut by_batch: BTreeMap<String, (Instant, Instant, usize)> = BTreeMap::new();
    // Viewers that got batches in the window (a viewer that fell behind
    // and was resynchronized misses some; one that never connected, all).
    let mut alive = 0;
    for task in tasks {
        let arrivals = task.await.unwrap_or_default();
        let mut got = false;
        for (id, at) in arrivals {
            if at < settled {
                continue;
            }
            got = true;
            let entry = by_batch.entry(id).or_insert((at, at, 0));
            entry.0 = entry.0.min(at);
            entry.1 = entry.1.max(at);
            entry.2 += 1;
        }
        alive += usize::from(got);
    }
    server.stop(run).await;
    let everyone = by_batch.values().filter(|(_, _, n)| *n == alive).count();
    eprintln!(
        "  spread: {alive} of {CROWD} viewers got batches; {everyone} of {} batches reached all of them",
        by_batch.len()
    );
    // Batches that reached nine in ten of the viewers, if too few reached all.
    let least = if everyone >= 10 {
        alive
    } else {
        alive * 9 / 10
    };
    let mut spreads: Vec<f64> = by_batch
        .values()
        .filter(|(_, _, n)| *n >= least)
        .map(|(first, last, _)| (*last - *first).as_secs_f64() * 1000.0)
        .collect();
    assert!(
        !spreads.is_empty(),
        "no batch reached nine in ten of {alive} viewers"
    );
    spreads.sort_by(f64::total_cmp);
    Figure::one(percentile(&spreads, 95.0))
}

/// Notes in `window.listAt` when the navigation first lists the patterns.
const LIST_WATCH: &str = "new MutationObserver((_, seen) => { \
    if (document.querySelector('#patterns-nav a[href^=\"/p/\"]')) { \
    window.listAt = performance.now(); seen.disconnect(); } }) \
    .observe(document, { childList: true, subtree: true });";

/// Time from navigation to the pattern list drawn: in a new browser each
/// time (nothing cached), then again in the same browser (a revisit).
async fn first_load(server: &Server) -> (Figure, Figure) {
    let (mut first, mut again) = (Vec::new(), Vec::new());
    for _ in 0..TIMES {
        let ui = TestBrowser::launch().await;
        ui.on_every_page(LIST_WATCH).await;
        for times in [&mut first, &mut again] {
            ui.goto(&server.url("/")).await;
            ui.wait_for("the pattern list", "window.listAt", Duration::from_secs(15))
                .await;
            times.push(ui.eval::<f64>("window.listAt").await);
            ui.goto("about:blank").await;
        }
        ui.close().await;
    }
    (Figure::of(first), Figure::of(again))
}

fn commit() -> String {
    let run = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let head = run(&["rev-parse", "--short", "HEAD"]);
    let dirty = !run(&["status", "--porcelain", "--untracked-files=no"]).is_empty();
    if dirty {
        format!("{head}+changes")
    } else {
        head
    }
}

fn figures_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("bench")
        .join("figures.json")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let save = args.iter().any(|a| a == "--save");
    let binary = args
        .iter()
        .position(|a| a == "--server")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/concurrency-dashboard")
        });
    assert!(
        binary.exists(),
        "no server at {}: run `cargo build --release -p server` first",
        binary.display()
    );
    let before: Figures = std::fs::read_to_string(figures_path())
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_default();
    let server = Server::start(&binary).await;
    let label = args
        .iter()
        .position(|a| a == "--label")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let mut now = Figures {
        commit: label.unwrap_or_else(commit),
        rows: BTreeMap::new(),
    };
    let mut put = |key: &str, figure: Figure| {
        eprintln!("  {key}: {}", figure.show());
        now.rows.insert(key.to_owned(), figure);
    };
    // `--only load,viewers` measures some groups: bundle, load, click,
    // fps, viewers, spread.
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let wanted = |group: &str| {
        only.as_ref()
            .is_none_or(|o| o.split(',').any(|g| g == group))
    };
    eprintln!("measuring {} ...", binary.display());
    if wanted("bundle") {
        let (_, kb) = first_page(&server, "/", LIST_DRAWN).await;
        put("bundle_kb", kb);
        let (ms, kb) = first_page(&server, "/p/pipeline", PIPELINE_DRAWN).await;
        put("bundle_page_kb", kb);
        put("page_load_ms", ms);
    }
    if wanted("load") {
        let (first, again) = first_load(&server).await;
        put("first_load_ms", first);
        put("revisit_ms", again);
    }
    if wanted("click") {
        put("click_p95_ms", click_to_drawn(&server).await);
    }
    if wanted("fps") {
        for (key, pattern) in [
            ("fps_pipeline", "pipeline"),
            ("fps_pub_sub", "pub-sub"),
            ("fps_drop_basic", "drop-basic"),
        ] {
            put(key, fps(&server, pattern).await);
        }
    }
    if wanted("viewers") {
        let (memory, cpu) = per_viewer(&server, full_load("drop-basic")).await;
        put("memory_per_viewer_kb", memory);
        put("cpu_per_message_full_us", cpu);
        let (_, cpu) = per_viewer(&server, preset_pace()).await;
        put("cpu_per_message_us", cpu);
    }
    if wanted("spread") {
        put("spread_p95_ms", spread(&server, preset_pace()).await);
        let full = json!({"tasks": 0, "interval_ms": 5});
        put("spread_full_p95_ms", spread(&server, full).await);
    }
    drop(server);

    let was = |key: &str| {
        before
            .rows
            .get(key)
            .map_or_else(|| "-".to_owned(), Figure::show)
    };
    let before_head = format!(
        "before ({})",
        if before.commit.is_empty() {
            "none"
        } else {
            &before.commit
        }
    );
    let now_head = format!("now ({})", now.commit);
    println!(
        "\n{:<46} {:>24} {:>24} {:>8}",
        "figure", before_head, now_head, "goal"
    );
    for row in ROWS {
        let shown = now
            .rows
            .get(row.key)
            .map_or_else(|| "-".to_owned(), Figure::show);
        println!(
            "{:<46} {:>24} {:>24} {:>8}",
            format!("{} ({})", row.label, row.unit),
            was(row.key),
            shown,
            row.goal
        );
    }
    if save {
        if only.is_some() {
            // Some groups: the rest keep their recorded figures.
            let mut all = before;
            all.commit = now.commit.clone();
            all.rows.extend(now.rows.clone());
            now = all;
        }
        let text = serde_json::to_string_pretty(&now).expect("figures as JSON");
        std::fs::write(figures_path(), text + "\n").expect("write the figures");
        println!("\nsaved to {}", figures_path().display());
    }
}

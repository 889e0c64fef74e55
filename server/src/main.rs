//! `concurrency-dashboard`: serves the live concurrency dashboard.

use anyhow::Context;
use clap::Parser;
use server::classroom::{self, Classroom};
use server::hub::{HubConfig, MAX_HISTORY_BYTES};
use server::listen::Limits;
use server::{Access, Config};
use std::io::{IsTerminal, Write};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

/// Runs concurrency patterns live and serves a dashboard that animates them.
///
/// Open the printed address in a browser. Ctrl-C stops the server; a second
/// Ctrl-C stops it at once.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// Address to listen on. The default is reachable from this machine only;
    /// use 0.0.0.0 to let others in the room connect.
    #[arg(long, env = "DASHBOARD_BIND", default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "DASHBOARD_PORT", default_value_t = 8080)]
    port: u16,
    /// Another name the server answers to (a host name students type, or a
    /// proxy's). Besides these it answers only to localhost and the
    /// addresses it is reached at. Repeat for more names.
    #[arg(
        long = "allow-host",
        value_name = "NAME",
        env = "DASHBOARD_ALLOW_HOSTS",
        value_delimiter = ','
    )]
    allow_hosts: Vec<String>,
    /// Connections served at once; one more is answered 503.
    #[arg(long, default_value_t = Limits::default().max_connections, value_parser = at_least_one)]
    max_connections: usize,
    /// Bytes of history kept per run since its last start: what viewers
    /// scrub and reconnect from, and what is exported.
    #[arg(long, alias = "replay-bytes", default_value_t = HubConfig::default().history_bytes, value_parser = history_bytes)]
    history_bytes: usize,
    /// Run a classroom session: the presenter (who opens the printed
    /// presenter URL) drives the shared runs; everyone else follows, answers
    /// questions and forks runs of their own. Implied by a bind beyond
    /// loopback.
    #[arg(long, env = "DASHBOARD_CLASSROOM")]
    classroom: bool,
    /// Minutes a run made through the API may stand unused before it is deleted.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=1440))]
    reclaim_minutes: u64,
}

fn at_least_one(text: &str) -> Result<usize, String> {
    match text.parse() {
        Ok(0) => Err("at least 1".to_owned()),
        Ok(n) => Ok(n),
        Err(e) => Err(format!("{e}")),
    }
}

fn history_bytes(text: &str) -> Result<usize, String> {
    let bytes: usize = text.parse().map_err(|e| format!("{e}"))?;
    if (64 << 10..=MAX_HISTORY_BYTES).contains(&bytes) {
        Ok(bytes)
    } else {
        Err(format!("between {} and {MAX_HISTORY_BYTES}", 64 << 10))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // A terminal that went away makes every line fail; reporting that
        // on the same terminal would panic the task that logged it.
        .log_internal_errors(false)
        // Colour codes only for a terminal, not for a log file.
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let listener = TcpListener::bind((cli.bind, cli.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", cli.bind, cli.port))?;
    let addr = listener.local_addr()?;
    let classroom = (cli.classroom || !addr.ip().is_loopback()).then(|| session(addr));
    if classroom.is_none() {
        say(&format!("Concurrency dashboard: http://{addr}/\n"));
    }

    let config = Config {
        access: Access::allowing(cli.allow_hosts),
        limits: Limits {
            max_connections: cli.max_connections,
            ..Limits::default()
        },
        hub: HubConfig {
            history_bytes: cli.history_bytes,
            reclaim_after: Duration::from_secs(cli.reclaim_minutes * 60),
            ..HubConfig::default()
        },
        classroom,
    };
    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    server::serve(listener, shutdown, config).await;
    tracing::info!("stopped");
    Ok(())
}

/// Starts a classroom session and prints how to join it: the presenter's
/// URL with its token, the students' URL and its QR code.
fn session(addr: SocketAddr) -> Arc<Classroom> {
    let joins = classroom::join_addresses(addr);
    let join = classroom::url(joins[0]);
    let class = Classroom::new(join.clone());
    let presenter = SocketAddr::new(IpAddr::from([127, 0, 0, 1]), addr.port());
    let presenter = if addr.ip().is_loopback() || addr.ip().is_unspecified() {
        presenter
    } else {
        addr
    };
    let mut text = String::from("Concurrency dashboard, classroom session\n\n");
    text += "  Presenter (open on this machine; keep it to yourself):\n";
    text += &format!(
        "    {}?token={}\n\n",
        classroom::url(presenter),
        class.token().reveal()
    );
    text += &format!("  Students join at:\n    {join}\n");
    for other in &joins[1..] {
        text += &format!("    {} (another network)\n", classroom::url(*other));
    }
    if addr.ip().is_loopback() {
        text +=
            "    (listening on this machine only: start with --bind 0.0.0.0 to let the room in)\n";
    }
    text += "\n";
    text += &classroom::qr_text(&join);
    text += "\n";
    say(&text);
    class
}

/// Writes to the terminal, which may have gone away: then nobody reads it,
/// and the server carries on.
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Cancels `token` on Ctrl-C or SIGTERM, and exits the process on the
/// second one: whoever presses Ctrl-C twice wants it gone now.
async fn cancel_on_signal(token: CancellationToken) {
    let Some(mut signals) = Signals::listen() else {
        return;
    };
    signals.next().await;
    token.cancel();
    tracing::info!("shutting down (Ctrl-C again to stop at once)");
    signals.next().await;
    let _ = writeln!(std::io::stderr(), "stopped at once");
    std::process::exit(130);
}

/// Ctrl-C and, on Unix, SIGTERM.
struct Signals {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn listen() -> Option<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            match signal(SignalKind::terminate()) {
                Ok(terminate) => Some(Signals { terminate }),
                Err(e) => {
                    tracing::error!(error = %e, "cannot listen for SIGTERM");
                    None
                }
            }
        }
        #[cfg(not(unix))]
        Some(Signals {})
    }

    async fn next(&mut self) {
        #[cfg(unix)]
        let terminate = self.terminate.recv();
        #[cfg(not(unix))]
        let terminate = std::future::pending::<Option<()>>();
        tokio::select! {
            biased;
            result = tokio::signal::ctrl_c() => {
                if let Err(e) = result {
                    tracing::error!(error = %e, "cannot listen for Ctrl-C");
                    std::future::pending::<()>().await;
                }
            }
            _ = terminate => {}
        }
    }
}

//! `concurrency-dashboard`: serves the live concurrency dashboard.

use anyhow::Context;
use clap::Parser;
use std::net::IpAddr;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

/// Runs concurrency patterns live and serves a dashboard that animates them.
///
/// Open the printed address in a browser. Ctrl-C stops the server.
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
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();

    let listener = TcpListener::bind((cli.bind, cli.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", cli.bind, cli.port))?;
    let addr = listener.local_addr()?;
    println!("Concurrency dashboard: http://{addr}/");

    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    server::serve(listener, shutdown).await?;
    tracing::info!("stopped");
    Ok(())
}

/// Cancels `token` on Ctrl-C or SIGTERM.
async fn cancel_on_signal(token: CancellationToken) {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
    token.cancel();
}

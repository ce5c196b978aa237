//! What `serve`, `bridge` and `broker` share: logs, and binding, listening and serving until
//! SIGTERM or Ctrl-C.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use tokio::net::TcpListener;

use crate::Failure;
use crate::opt::LogFormat;

/// Completes when the process is asked to stop.
pub type Shutdown = Pin<Box<dyn Future<Output = ()> + Send + 'static>>;

/// Binds `listen`, listens for SIGTERM and Ctrl-C, says where it listens (`announce` gets
/// the bound address; its failure ends the start), then runs `serve` until a stop is asked
/// for.
pub async fn listen_and_serve<Served>(
    name: &str,
    listen: SocketAddr,
    announce: impl FnOnce(&str) -> Result<(), Failure>,
    serve: impl FnOnce(TcpListener, Shutdown) -> Served,
) -> Result<(), Failure>
where
    Served: Future<Output = std::io::Result<()>>,
{
    let listener = TcpListener::bind(listen).await.map_err(|error| {
        Failure::new(format!("{name} cannot listen on {listen}: {error}"))
            .hint("another process may be using the port: pick one with --listen")
    })?;
    let address = listener
        .local_addr()
        .map(|address| address.to_string())
        .unwrap_or_default();
    // Listened for before the announcement: a SIGTERM sent right after it still stops the
    // server gracefully rather than killing it.
    let shutdown = Box::pin(shutdown_signal());
    announce(&address)?;
    serve(listener, shutdown)
        .await
        .map_err(|error| Failure::new(format!("{name} stopped: {error}")))
}

/// Writes out the log lines still buffered when dropped.
pub type LogGuard = Option<crate::batched_stderr::FlushOnDrop>;

/// Logs to stderr, filtered by COUPA_LOG or RUST_LOG (default: info, sqlx warnings). Lines
/// are written in batches (see `batched_stderr`), so logging every request costs the server
/// little; keep the guard until exit.
pub fn init_tracing(format: LogFormat) -> LogGuard {
    use std::io::IsTerminal;
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("COUPA_LOG")
        .or_else(|_| EnvFilter::try_from_default_env())
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let terminal = std::io::stderr().is_terminal();
    let (writer, guard) = crate::batched_stderr::start();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let json = match format {
        LogFormat::Json => true,
        LogFormat::Text => false,
        LogFormat::Auto => !terminal,
    };
    let installed = if json {
        builder
            .with_ansi(false)
            .event_format(crate::json_log::FlatJson)
            .try_init()
    } else {
        builder.with_ansi(terminal).try_init()
    };
    installed.ok().map(|()| guard)
}

/// Completes on Ctrl-C or SIGTERM, listened for from the moment this is called.
fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let terminate = async {
            match terminate {
                Some(mut signal) => {
                    signal.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            () = ctrl_c => {},
            () = terminate => {},
        }
        tracing::info!("shutting down: finishing requests in flight");
    }
}

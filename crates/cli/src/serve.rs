//! `coupa serve`.

use coupa_server::config::Secret;
use coupa_server::{App, Config, ConfigLayer};

use crate::Failure;
use crate::opt::ServeArgs;

pub async fn run(args: ServeArgs) -> Result<(), Failure> {
    init_tracing();
    let config = resolve_config(args)?;
    let app = App::prepare(config.clone())
        .await
        .map_err(|error| Failure::new(error.to_string()).hint(start_hint(&config)))?;
    if let Some(token) = &app.generated_admin_token {
        outln!(
            "Admin token (shown only now; the server keeps only its digest):\n  {token}\n\
             Use it as COUPA_ADMIN_TOKEN for `coupa admin`, e.g.\n  \
             COUPA_ADMIN_TOKEN={token} coupa admin clients list\n"
        );
    }
    let listener = app.bind().await.map_err(|error| {
        Failure::new(error.to_string())
            .hint("another process may be using the port: pick one with --listen")
    })?;
    let address = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let shutdown = shutdown_signal();
    tracing::info!(%address, issuer = %config.issuer, "listening");
    if let Some(client) = &app.demo_client {
        print_demo(client, &format!("http://{address}"));
    }
    if let Some((login, password)) = &app.demo_admin {
        outln!(
            "Setup (the admin pages): http://{address}/setup\n  \
             sign in as {login} with the password {password}\n  \
             (renewed at each --demo start)\n"
        );
    }
    outln!(
        "coupa serve: listening on http://{address} (issuer {})",
        config.issuer
    );
    app.serve(listener, shutdown)
        .await
        .map_err(|error| Failure::new(format!("the server stopped: {error}")))?;
    tracing::info!("stopped");
    Ok(())
}

const DEMO_SCOPES: &str =
    "core.expense.read core.invoice.read core.purchase_order.read core.supplier.read";

fn print_demo(client: &coupa_proto::admin::ClientView, url: &str) {
    let secret = client.client_secret.as_deref().unwrap_or("<secret>");
    outln!(
        "Demo data is loaded. The demo client {} holds every scope; its secret is renewed at each --demo start.\n\
         Get a token:\n  {}\n\
         Then call the API with its access_token:\n  \
         curl --location '{url}/api/expense_reports?limit=1' --header 'Accept: application/json' --header 'Authorization: Bearer <access_token>'\n",
        client.login,
        coupa_proto::admin::token_curl(url, &client.client_id, DEMO_SCOPES, secret)
    );
}

fn resolve_config(args: ServeArgs) -> Result<Config, Failure> {
    let file_layer = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|error| {
                Failure::new(format!("cannot read {}: {error}", path.display()))
            })?;
            ConfigLayer::from_toml(&text).map_err(|error| {
                Failure::new(format!("{}: {error}", path.display()))
                    .hint("see `coupa serve --help` for the settings a config file may hold")
            })?
        }
        None => ConfigLayer::default(),
    };
    let flags = args.settings;
    let admin_token = std::env::var("COUPA_ADMIN_TOKEN").ok();
    let mut config = Config::resolve(flags.over(file_layer), admin_token)
        .map_err(|error| Failure::new(error).hint("see `coupa serve --help`"))?;
    config.key_encryption_key = std::env::var("COUPA_KEY_ENCRYPTION_KEY")
        .ok()
        .filter(|key| !key.trim().is_empty())
        .map(Secret::new);
    Ok(config)
}

fn start_hint(config: &Config) -> String {
    if config.database_url.as_str().starts_with("postgres") {
        "check that PostgreSQL is running and that --database-url / COUPA_DATABASE_URL is right"
            .into()
    } else {
        "check that the directory of the SQLite file exists and is writable".into()
    }
}

pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("COUPA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    use std::io::IsTerminal;
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}

/// Completes on Ctrl-C or SIGTERM. SIGTERM is listened for from the moment this is called,
/// so call it before saying the server listens: a SIGTERM sent right after that line then
/// still stops the server gracefully rather than killing it.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
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

//! `coupa serve`.

use coupa_server::config::Secret;
use coupa_server::{App, Config, ConfigLayer};

use crate::Failure;
use crate::listening::{init_tracing, listen_and_serve};
use crate::opt::ServeArgs;

pub async fn exec(args: ServeArgs) -> Result<(), Failure> {
    let _log = init_tracing(args.log_format);
    let admin_token = std::env::var("COUPA_ADMIN_TOKEN").ok();
    let (app, config) = start(args, admin_token).await?;
    serve_started(app, config, |_| Ok(())).await
}

/// Prepares the server `args` (and `admin_token`, when given) describe, and prints what the
/// start made (a generated admin token, metrics, HTTPS).
pub async fn start(args: ServeArgs, admin_token: Option<String>) -> Result<(App, Config), Failure> {
    let config = resolve_config(args, admin_token)?;
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
    if let Some(address) = app.metrics_address() {
        tracing::info!(%address, "serving metrics");
        outln!("coupa serve: metrics on http://{address}/metrics");
    }
    if let Some(tls) = &app.tls {
        print_tls(tls);
    }
    Ok((app, config))
}

/// Listens, prints how to use the server (`announce` adds to it with the bound address),
/// and serves until told to stop.
pub async fn serve_started(
    app: App,
    config: Config,
    announce: impl FnOnce(&str) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let scheme = if app.tls.is_some() { "https" } else { "http" };
    let issuer = config.issuer.clone();
    let demo_client = app.demo_client.clone();
    let demo_admin = app.demo_admin.clone();
    let has_administrator = app.has_administrator;
    listen_and_serve(
        "coupa serve",
        config.listen,
        |address| {
            tracing::info!(%address, %issuer, "listening");
            let url = format!("{scheme}://{address}");
            print_start(
                demo_client.as_ref(),
                demo_admin.as_ref(),
                has_administrator,
                &url,
            );
            announce(address)?;
            outln!("coupa serve: listening on {url} (issuer {issuer})");
            Ok(())
        },
        |listener, shutdown| app.serve(listener, shutdown),
    )
    .await?;
    tracing::info!("stopped");
    Ok(())
}

/// The demo's credentials and how to reach Setup, printed once the server listens at `url`.
fn print_start(
    demo_client: Option<&coupa_proto::admin::ClientView>,
    demo_admin: Option<&(String, String)>,
    has_administrator: bool,
    url: &str,
) {
    if let Some(client) = demo_client {
        print_demo(client, url);
    }
    if let Some((login, password)) = demo_admin {
        outln!(
            "Setup (the admin pages): {url}/setup\n  \
             sign in as {login} with the password {password}\n  \
             (renewed at each --demo start)\n"
        );
    }
    if !has_administrator {
        outln!(
            "No administrator exists yet, so nobody can sign in to Setup \
             ({url}/setup).\nCreate the first one:\n  {}\n",
            coupa_server::sign_ins::first_administrator_command(url)
        );
    }
}

fn print_tls(tls: &coupa_server::app::TlsServing) {
    let Some(ca) = &tls.ca_certificate_file else {
        outln!("coupa serve: HTTPS with the certificate given");
        return;
    };
    let created = if tls.ca_created { "created now; " } else { "" };
    outln!(
        "coupa serve: HTTPS with a certificate for {} from the local certificate authority\n  \
         CA certificate ({created}clients must trust it): {}\n  \
         how to trust it in curl, Python, Node, Java and Debian: coupa ca trust-help\n",
        tls.names.join(", "),
        ca.display()
    );
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

fn resolve_config(args: ServeArgs, admin_token: Option<String>) -> Result<Config, Failure> {
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

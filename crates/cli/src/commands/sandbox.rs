//! `coupa sandbox`: a TLS server with demo data for proving a connector, the environment the
//! connector needs, and a reset between test runs.

use std::path::{Path, PathBuf};

use coupa_client::{AdminClient, ClientError};
use coupa_proto::admin::ClientView;

use crate::Failure;
use crate::commands::serve;
use crate::listening::init_tracing;
use crate::opt::{EnvFormat, Output, SandboxCommand, SandboxUpArgs};
use crate::output;

/// The instance name a sandbox answers to unless given others.
const DEFAULT_HOST: &str = "acme.coupahost.com";
const DEFAULT_LISTEN: &str = "127.0.0.1:8443";
const DEFAULT_DATABASE: &str = "sqlite://coupa-sandbox.db";

pub async fn exec(command: SandboxCommand, format: Output) -> Result<(), Failure> {
    match command {
        SandboxCommand::Up(args) => up(*args).await,
        SandboxCommand::Reset {
            url,
            admin_token,
            ca_dir,
        } => reset(&url, admin_token, ca_dir, format).await,
    }
}

async fn up(args: SandboxUpArgs) -> Result<(), Failure> {
    let mut serve_args = args.serve;
    let _log = init_tracing(serve_args.log_format);
    let settings = &mut serve_args.settings;
    settings.tls.get_or_insert(true);
    settings.demo.get_or_insert(true);
    settings.sandbox.get_or_insert(true);
    settings
        .listen
        .get_or_insert_with(|| DEFAULT_LISTEN.to_string());
    settings
        .database_url
        .get_or_insert_with(|| DEFAULT_DATABASE.to_string());
    if settings.host.as_ref().is_none_or(Vec::is_empty) {
        settings.host = Some(vec![DEFAULT_HOST.to_string()]);
    }
    let host = settings
        .host
        .as_ref()
        .and_then(|hosts| hosts.first())
        .cloned()
        .unwrap_or_else(|| DEFAULT_HOST.to_string());
    let admin_token = match std::env::var("COUPA_ADMIN_TOKEN")
        .ok()
        .filter(|token| !token.is_empty())
    {
        Some(token) => token,
        None => coupa_server::domain::secret::generate_secret()
            .map_err(|error| Failure::new(error.to_string()))?,
    };
    let (app, config) = serve::start(serve_args, Some(admin_token.clone())).await?;
    let client = app
        .sandbox_client(&args.scope)
        .await
        .map_err(|error| Failure::new(error.to_string()))?;
    let https = app.tls.is_some();
    let ca_file = app
        .tls
        .as_ref()
        .and_then(|tls| tls.ca_certificate_file.clone());
    let env_file = args.env_file;
    let env_format = args.env_format;
    serve::serve_started(app, config, move |address| {
        let environment = Environment::new(&Sandbox {
            address,
            host: &host,
            https,
            client: &client,
            ca_file: ca_file.as_deref(),
            admin_token: &admin_token,
        });
        outln!(
            "The connector's environment ({}):\n{}",
            match env_format {
                EnvFormat::Shell => "paste into a shell, or eval \"$(...)\"",
                EnvFormat::Dotenv => "a .env file",
            },
            environment.render(env_format)
        );
        if let Some(file) = &env_file {
            coupa_client::profile::write_private(
                file,
                environment.render(EnvFormat::Dotenv).as_bytes(),
            )
            .map_err(|error| Failure::new(format!("cannot write {}: {error}", file.display())))?;
            outln!("Written to {} (mode 0600).", file.display());
        }
        outln!(
            "\nPoint {host} at this machine (as root): echo \"127.0.0.1 {host}\" >> /etc/hosts\n\
             Between test runs: coupa sandbox reset   (the demo data again, in under 2 s)\n\
             Coupa's failure modes: coupa admin faults --help\n"
        );
        Ok(())
    })
    .await
}

/// What the connector's environment is made of.
struct Sandbox<'a> {
    /// The address the sandbox listens on.
    address: &'a str,
    /// The instance name connectors call.
    host: &'a str,
    https: bool,
    client: &'a ClientView,
    ca_file: Option<&'a Path>,
    admin_token: &'a str,
}

/// Variables in the order they are printed.
struct Environment(Vec<(&'static str, String)>);

impl Environment {
    fn new(sandbox: &Sandbox<'_>) -> Self {
        let scheme = if sandbox.https { "https" } else { "http" };
        let port = sandbox
            .address
            .rsplit_once(':')
            .map_or("", |(_, port)| port);
        let default_port = if sandbox.https { "443" } else { "80" };
        let authority = if port == default_port || port.is_empty() {
            sandbox.host.to_string()
        } else {
            format!("{}:{port}", sandbox.host)
        };
        let base = format!("{scheme}://{authority}");
        let instance = sandbox.host.split('.').next().unwrap_or(sandbox.host);
        let mut variables = vec![
            ("COUPA_BASE_URL", base.clone()),
            ("COUPA_INSTANCE", instance.to_string()),
            ("COUPA_TOKEN_URL", format!("{base}/oauth2/token")),
            ("COUPA_CLIENT_ID", sandbox.client.client_id.clone()),
            (
                "COUPA_CLIENT_SECRET",
                sandbox.client.client_secret.clone().unwrap_or_default(),
            ),
            ("COUPA_SCOPE", sandbox.client.scope.clone()),
        ];
        if let Some(ca) = sandbox.ca_file {
            let ca = ca.display().to_string();
            variables.extend([
                ("COUPA_CA_BUNDLE", ca.clone()),
                ("REQUESTS_CA_BUNDLE", ca.clone()),
                ("NODE_EXTRA_CA_CERTS", ca.clone()),
                ("SSL_CERT_FILE", ca),
            ]);
        }
        variables.extend([
            ("COUPA_SANDBOX_ADDRESS", sandbox.address.to_string()),
            ("COUPA_URL", format!("{scheme}://{}", sandbox.address)),
            ("COUPA_ADMIN_TOKEN", sandbox.admin_token.to_string()),
        ]);
        Self(variables)
    }

    fn render(&self, format: EnvFormat) -> String {
        self.0
            .iter()
            .map(|(name, value)| match format {
                EnvFormat::Shell => format!("export {name}='{}'", value.replace('\'', "'\\''")),
                EnvFormat::Dotenv if value.contains(char::is_whitespace) => {
                    format!("{name}=\"{value}\"")
                }
                EnvFormat::Dotenv => format!("{name}={value}"),
            })
            .map(|line| line + "\n")
            .collect()
    }
}

async fn reset(
    url: &str,
    admin_token: Option<String>,
    ca_dir: Option<PathBuf>,
    format: Output,
) -> Result<(), Failure> {
    let token = admin_token.filter(|token| !token.is_empty()).ok_or_else(|| {
        Failure::new("no admin token")
            .hint("set COUPA_ADMIN_TOKEN to the one `coupa sandbox up` printed (or pass --admin-token)")
    })?;
    let admin = AdminClient::with_http(url, &token, trusting_the_local_ca(ca_dir));
    let reset = admin.reset_sandbox().await.map_err(|error| match error {
        ClientError::Coupa { status: 409, .. } | ClientError::Unexpected { status: 409, .. } => {
            Failure::new(format!("{url} is not a sandbox: {error}"))
                .hint("reset only a server started with `coupa sandbox up`")
        }
        other => Failure::new(other.to_string()).hint(format!(
            "is `coupa sandbox up` running at {url}? Point --url or COUPA_URL at it"
        )),
    })?;
    if format.is_json() {
        return output::json(&reset);
    }
    outln!(
        "Sandbox reset in {} ms: the records are the demo data set again; {} fault(s) switched off.",
        reset.milliseconds,
        reset.faults_cleared
    );
    Ok(())
}

/// The HTTP client of `coupa sandbox reset`: it trusts the local CA (when there is one)
/// besides the usual roots, and follows no redirect.
fn trusting_the_local_ca(ca_dir: Option<PathBuf>) -> reqwest::Client {
    let dir = ca_dir.unwrap_or_else(coupa_server::tls::default_ca_dir);
    let mut builder = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none());
    let certificate = std::fs::read(coupa_server::tls::ca_certificate_file(&dir))
        .ok()
        .and_then(|pem| reqwest::Certificate::from_pem(&pem).ok());
    if let Some(certificate) = certificate {
        builder = builder.add_root_certificate(certificate);
    }
    builder.build().unwrap_or_default()
}

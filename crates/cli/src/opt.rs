//! Command-line definitions.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "coupa",
    version,
    about = "A Coupa-compatible OAuth 2.0 server, and the tools to manage and use it",
    long_about = "A Coupa-compatible OAuth 2.0 / OpenID Connect server with a scope-enforcing \
REST API, and the tools to manage and call it.\n\n\
Start a server:            coupa serve\n\
Create an OAuth client:    coupa admin clients create --name \"Invoices sync\" --login invoice-sync \\\n\
                               --scope \"core.invoice.read core.expense.read\"\n\
See what a scope grants:   coupa scopes show core.invoice.read"
)]
pub struct Opt {
    /// How to print results: text (for people), json, jsonl or csv (for scripts).
    /// `coupa postman export` also takes a FILE to write to (a name with a dot or a slash).
    #[arg(long, global = true, value_name = "FORMAT", default_value = "text", value_parser = parse_output)]
    pub output: OutputTarget,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
    /// One JSON record per line (`coupa api list`); elsewhere the same as json.
    Jsonl,
    /// Comma-separated values (`coupa api list`); elsewhere the same as json.
    Csv,
}

impl Output {
    /// Whether a command that prints one document should print JSON.
    pub fn is_json(self) -> bool {
        self != Self::Text
    }
}

/// Where `--output` sends results: a format on standard output, or a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutputTarget {
    Format(Output),
    File(PathBuf),
}

fn parse_output(text: &str) -> Result<OutputTarget, String> {
    if let Ok(format) = Output::from_str(text, true) {
        return Ok(OutputTarget::Format(format));
    }
    if text.contains('.') || text.contains('/') {
        return Ok(OutputTarget::File(PathBuf::from(text)));
    }
    Err(format!(
        "`{text}` is not a format: use text, json, jsonl or csv (or a file name with a dot for `coupa postman export`)"
    ))
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the authorization server and the API (SQLite by default, PostgreSQL for replicas).
    Serve(Box<ServeArgs>),
    /// Manage a running server through its admin API.
    Admin(AdminArgs),
    /// Browse the scope catalogue: what each scope grants, and what an integration needs.
    Scopes(ScopesArgs),
    /// Print an access token of a profile (client credentials).
    Token(TokenArgs),
    /// Call a Coupa instance's API with a profile: tokens, paging, retries and rate limit handled.
    Api(ApiArgs),
    /// The profiles of the config file: one per Coupa instance (prod, test, dev, stage...).
    Profiles(ProfilesArgs),
    /// A local proxy for integrations still on X-COUPA-API-KEY: strips the key, adds a bearer token.
    Bridge(BridgeArgs),
    /// Keep a fresh token for every profile and hand it to local programs that cannot do OAuth.
    Broker(BrokerArgs),
    /// Postman: a ready-to-run collection for a profile.
    Postman(PostmanArgs),
    /// Write the demo data set into a database, and with --size a large number of invoices
    /// besides, for load tests; no server needs to run.
    #[command(
        after_help = "Example:\n  coupa demo --size 100000 --database-url sqlite://load.db\n  coupa serve --database-url sqlite://load.db"
    )]
    Demo(DemoArgs),
    /// The local certificate authority behind `coupa serve --tls`: its certificate, and how
    /// to make clients trust it.
    #[command(after_help = "Examples:
  coupa serve --tls --host acme.coupahost.com --listen 127.0.0.1:8443
  coupa ca export > coupa-ca.pem
  curl --cacert coupa-ca.pem --resolve acme.coupahost.com:8443:127.0.0.1 \\
    https://acme.coupahost.com:8443/.well-known/openid-configuration
  coupa ca trust-help --host acme.coupahost.com")]
    Ca(CaArgs),
    /// A sandbox for proving a connector: a TLS server with demo data under Coupa's host
    /// names, the environment the connector needs, and a reset between test runs.
    #[command(subcommand)]
    Sandbox(SandboxCommand),
}

#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Start a sandbox (HTTPS from the local CA, the demo data, resets allowed) and print the
    /// environment a connector needs; it serves until Ctrl-C.
    #[command(after_help = "Examples:
  coupa sandbox up --env-file sandbox.env
  coupa sandbox up --scope \"core.invoice.read core.supplier.read\" --host acme.coupahost.com
  set -a; . ./sandbox.env; set +a    # in another shell: the connector's environment
  coupa sandbox reset                 # between test runs: the demo data again

Every `coupa serve` setting applies too (--faults, --rate-limit, --ca-dir, ...); the
defaults differ: --tls, --demo, --sandbox, --listen 127.0.0.1:8443,
--database-url sqlite://coupa-sandbox.db, --host acme.coupahost.com.")]
    Up(Box<SandboxUpArgs>),
    /// Put a running sandbox's records back to the demo data set (every object, ids from 1)
    /// and switch its faults off; clients, users and keys stay. Takes under 2 seconds.
    Reset {
        /// The sandbox [default: https://127.0.0.1:8443].
        #[arg(long, env = "COUPA_URL", default_value = "https://127.0.0.1:8443")]
        url: String,
        /// The admin token `coupa sandbox up` printed.
        #[arg(long, env = "COUPA_ADMIN_TOKEN", hide_env_values = true)]
        admin_token: Option<String>,
        /// Where the local CA is kept, to trust the sandbox's certificate
        /// [default: ~/.local/share/coupa/ca].
        #[arg(long, env = "COUPA_CA_DIR", value_name = "DIR")]
        ca_dir: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct SandboxUpArgs {
    /// The scopes of the connector's client (login sandbox-connector), space-separated.
    #[arg(
        long,
        default_value = "core.invoice.read core.supplier.read core.purchase_order.read core.expense.read"
    )]
    pub scope: String,
    /// Also write the environment to this file (KEY=value lines, mode 0600), for dotenv
    /// libraries or `set -a; . FILE`.
    #[arg(long, value_name = "FILE")]
    pub env_file: Option<PathBuf>,
    /// How the environment is printed: shell (export lines) or dotenv (KEY=value).
    #[arg(long, value_enum, default_value = "shell")]
    pub env_format: EnvFormat,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EnvFormat {
    Shell,
    Dotenv,
}

#[derive(Debug, Args)]
pub struct CaArgs {
    #[command(subcommand)]
    pub command: CaCommand,
    /// Where the CA is kept (as for `coupa serve --ca-dir`) [default: ~/.local/share/coupa/ca]
    #[arg(long, global = true, env = "COUPA_CA_DIR", value_name = "DIR")]
    pub ca_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Print the CA certificate, to add to a client's trust store (the CA is created first if
    /// there is none yet). With --output json: its file, fingerprint and PEM text.
    Export {
        /// pem (text) or der (binary, as Java's keytool and Windows take it).
        #[arg(long, value_enum, default_value = "pem")]
        format: CaFormat,
    },
    /// Print the exact steps that make curl, Python requests, Node, Java and Debian's trust
    /// store trust the CA, and the /etc/hosts line that sends an instance name to the server.
    TrustHelp {
        /// An instance host name the server answers to (as given to `coupa serve --host`);
        /// may be given several times [default: acme.coupahost.com].
        #[arg(long = "host", value_name = "NAME")]
        hosts: Vec<String>,
        /// The address the server listens on, for the /etc/hosts line.
        #[arg(long, default_value = "127.0.0.1", value_name = "IP")]
        address: std::net::IpAddr,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CaFormat {
    Pem,
    Der,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Invoices to add to the demo data set (one to three lines each, every status).
    #[arg(long, default_value_t = 0)]
    pub size: u64,
    /// sqlite://PATH (created if missing) or postgres://USER@HOST/DB.
    #[arg(
        long,
        env = "COUPA_DATABASE_URL",
        value_name = "URL",
        default_value = "sqlite://coupa.db"
    )]
    pub database_url: String,
}

#[derive(Debug, Args)]
pub struct PostmanArgs {
    #[command(subcommand)]
    pub command: PostmanCommand,
}

#[derive(Debug, Subcommand)]
pub enum PostmanCommand {
    /// Write a Postman v2.1 collection for a profile: OAuth 2.0 client credentials configured as
    /// Coupa's guides do (secret in the body, all scopes without commas), a token that is minted
    /// before the first call and re-minted after 20 hours, and sample requests per object.
    #[command(after_help = "Examples:
  coupa postman export --profile test --output coupa-test.postman_collection.json
  newman run coupa-test.postman_collection.json --env-var client_secret=\"$COUPA_TEST_SECRET\"

The secret is left out unless --include-secret is given: set client_secret in a Postman
environment (or pass it to newman as above) so the file can be shared.")]
    Export {
        #[command(flatten)]
        profile: ProfileArgs,
        /// Sample requests for this object (list, get by id, filtered, XML); may be given
        /// several times [default: invoices and expense_reports].
        #[arg(long = "object", value_name = "OBJECT")]
        objects: Vec<String>,
        /// Write the client secret into the collection (files are always written owner-only, 0600).
        #[arg(long)]
        include_secret: bool,
    },
}

#[derive(Debug, Args)]
#[command(after_help = "A local program then reads a token with:\n  \
curl -H \"Authorization: Bearer $COUPA_BROKER_SECRET\" http://127.0.0.1:8088/token/prod\n\
or from the file DIR/prod.token when --token-dir is given. /status (with the secret) and /metrics\n\
(Prometheus) tell how each profile is doing.")]
pub struct BrokerArgs {
    /// The config file with the profiles [default: ~/.config/coupa/config.toml].
    #[arg(long, env = "COUPA_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Loopback address to listen on.
    #[arg(long, default_value = "127.0.0.1:8088")]
    pub listen: std::net::SocketAddr,
    /// The secret local programs send as a bearer; without it one is generated and printed.
    #[arg(long, env = "COUPA_BROKER_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Also keep DIR/PROFILE.token up to date (0600, replaced atomically).
    #[arg(long, value_name = "DIR")]
    pub token_dir: Option<PathBuf>,
    /// How often to check whether a token is due for refresh.
    #[arg(long, default_value = "60s", value_name = "DURATION")]
    pub check_every: String,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Point a legacy integration at the bridge instead of the instance:\n  \
coupa bridge --profile prod --key 3f2a...e9=prod --listen 127.0.0.1:8089\n  \
curl -H 'X-COUPA-API-KEY: <old key>' http://127.0.0.1:8089/api/invoices?limit=1\n\n\
Only the keys given with --key are forwarded. A key's fingerprint is the first 32 hex digits of its\n\
SHA-256 (printf %s \"$KEY\" | sha256sum | cut -c1-32); a refused key is logged with its fingerprint,\n\
and GET /_bridge/status (with the local secret as a bearer) lists the keys seen and refused: the\n\
worklist of integrations still to migrate. Only /api/... is forwarded, only for Host names of this\n\
machine (and --allowed-host ones)."
)]
pub struct BridgeArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Where to listen; loopback only unless --allow-remote.
    #[arg(long, default_value = "127.0.0.1:8089")]
    pub listen: std::net::SocketAddr,
    /// A legacy key to forward: FINGERPRINT to send its calls as the --profile profile, or
    /// FINGERPRINT=PROFILE for another one. May be given several times; keys not given are
    /// refused (401).
    #[arg(
        long = "key",
        alias = "map-key",
        value_name = "FINGERPRINT[=PROFILE]",
        required = true
    )]
    pub keys: Vec<String>,
    /// The local secret that GET /_bridge/status needs as a bearer; without it one is
    /// generated and printed.
    #[arg(long, env = "COUPA_BRIDGE_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Also answer to this Host name (besides localhost and loopback addresses); may be given
    /// several times.
    #[arg(long = "allowed-host", value_name = "NAME")]
    pub allowed_hosts: Vec<String>,
    /// Listen beyond loopback (other machines can then call the API through the bridge with
    /// the keys given).
    #[arg(long)]
    pub allow_remote: bool,
    /// Calls forwarded at once; more get 503.
    #[arg(long, default_value_t = 32, value_name = "COUNT")]
    pub max_concurrent: usize,
}

/// Which instance to talk to.
#[derive(Debug, Args)]
pub struct ProfileArgs {
    /// A profile of the config file; without it, COUPA_URL + COUPA_CLIENT_ID + COUPA_CLIENT_SECRET
    /// (+ COUPA_SCOPE), else the file's only or `default` profile.
    #[arg(long, env = "COUPA_PROFILE", global = true)]
    pub profile: Option<String>,
    /// The config file [default: ~/.config/coupa/config.toml].
    #[arg(long, env = "COUPA_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Keep tokens in DIR (one 0600 file per profile) so that separate runs reuse one token
    /// until it is due for refresh instead of minting a new one each time.
    #[arg(long, env = "COUPA_TOKEN_CACHE", global = true, value_name = "DIR")]
    pub token_cache: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Print the token with its type, remaining lifetime (expires_in) and granted scope as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ApiArgs {
    #[command(flatten)]
    pub profile: ProfileArgs,
    #[command(subcommand)]
    pub command: ApiCommand,
}

#[derive(Debug, Subcommand)]
pub enum ApiCommand {
    /// One record, or one page of records.
    #[command(
        after_help = "Examples:\n  coupa api get invoices --limit 5 --filter 'status=approved' --filter 'total[gt]=100'\n  coupa api get invoices 42 --accept xml"
    )]
    Get {
        /// The object, as in the URL: invoices, purchase_orders, suppliers...
        object: String,
        id: Option<String>,
        #[arg(long)]
        limit: Option<u32>,
        /// 0-based: the first record is at offset 0.
        #[arg(long)]
        offset: Option<u32>,
        /// attr=value or attr[op]=value; may be given several times.
        #[arg(long = "filter", value_name = "FILTER")]
        filters: Vec<String>,
        /// A JSON array of attributes: '["id",{"supplier":["name"]}]'.
        #[arg(long)]
        fields: Option<String>,
        #[arg(long, value_enum, default_value_t = AcceptFormat::Json)]
        accept: AcceptFormat,
    },
    /// Create a record from JSON.
    #[command(
        after_help = "Example:\n  coupa api create suppliers --data '{\"name\": \"Acme\", \"number\": \"S-1\"}'"
    )]
    Create {
        object: String,
        /// The record as JSON: inline, @FILE, or - for standard input.
        #[arg(long)]
        data: String,
    },
    /// Change a record: attributes left out keep their value.
    Update {
        object: String,
        id: String,
        /// The changes as JSON: inline, @FILE, or - for standard input.
        #[arg(long)]
        data: String,
    },
    /// Take an action: `coupa api action purchase_orders 42 issue`; with the id `new`, create and
    /// act at once (`coupa api action requisitions new submit_for_approval --data @req.json`).
    Action {
        object: String,
        id: String,
        action: String,
        /// JSON for creating actions: inline, @FILE, or - for standard input.
        #[arg(long)]
        data: Option<String>,
    },
    /// Every record, page by page from offset 0, as JSON lines or CSV (use --output).
    #[command(
        after_help = "Example:\n  coupa api list invoices --all --filter 'updated-at[gt]=2026-01-01' --output csv > invoices.csv"
    )]
    List {
        object: String,
        /// Walk every page (the only mode: it says what it does).
        #[arg(long, required = true)]
        all: bool,
        #[arg(long = "filter", value_name = "FILTER")]
        filters: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AcceptFormat {
    Json,
    Xml,
}

#[derive(Debug, Args)]
pub struct ProfilesArgs {
    /// The config file [default: ~/.config/coupa/config.toml].
    #[arg(long, env = "COUPA_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: ProfilesCommand,
}

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// Every profile (secrets never print).
    List,
    /// One profile.
    Show { name: String },
    /// Add or replace a profile.
    #[command(
        after_help = "Example:\n  coupa profiles add prod --url https://acme.coupahost.com --client-id ID \\\n      --client-secret-env COUPA_PROD_SECRET --scope 'core.invoice.read core.expense.read'"
    )]
    Add {
        name: String,
        #[arg(long)]
        url: String,
        #[arg(long)]
        client_id: String,
        /// The secret itself (it lands in the file, which is kept 0600).
        #[arg(long, conflicts_with_all = ["client_secret_env", "client_secret_file"])]
        client_secret: Option<String>,
        /// An environment variable that holds the secret.
        #[arg(long)]
        client_secret_env: Option<String>,
        /// A file that holds the secret (must be 0600).
        #[arg(long)]
        client_secret_file: Option<PathBuf>,
        /// Space-separated scopes to ask for; all of the client's when left out.
        #[arg(long)]
        scope: Option<String>,
        #[arg(long, value_enum, default_value_t = AcceptFormat::Json)]
        accept: AcceptFormat,
        /// How to send the client secret: in the body (as Coupa's guides) or HTTP Basic.
        #[arg(long, value_parser = ["body", "basic"], default_value = "body")]
        auth: String,
    },
    /// Remove a profile.
    Remove { name: String },
}

#[derive(Debug, Args)]
#[command(
    after_help = "Settings come from, lowest first: defaults, the --config TOML file (keys as the \
flags without dashes in front, e.g. token-lifetime = \"24h\"), COUPA_* environment variables, flags.\n\n\
On first start without COUPA_ADMIN_TOKEN, the server prints a generated admin token once and \
keeps only its digest.\n\n\
The admin pages are at /setup: sign in as a user created with `coupa admin users create ... \
--admin` (with --demo, as the demo-admin it prints)."
)]
pub struct ServeArgs {
    /// A TOML file with settings: each option below without its `--`
    /// (`token-lifetime = "24h"`).
    #[arg(long, env = "COUPA_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// How logs are written to stderr: text for people, json (one object per line) for log
    /// shippers; auto is text on a terminal, json otherwise. Levels come from RUST_LOG (or
    /// COUPA_LOG), e.g. RUST_LOG=info,coupa::access=off drops the access log.
    #[arg(long, value_enum, env = "COUPA_LOG_FORMAT", default_value_t = LogFormat::Auto)]
    pub log_format: LogFormat,
    #[command(flatten)]
    pub settings: coupa_server::ConfigLayer,
}

/// How a server writes its logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Auto,
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct AdminArgs {
    /// Base URL of the server.
    #[arg(
        long,
        global = true,
        env = "COUPA_URL",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,
    /// The admin token (printed by the server at first start).
    #[arg(long, global = true, env = "COUPA_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,

    #[command(subcommand)]
    pub command: AdminCommand,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// OAuth2/OpenID Connect clients (Setup > OAuth2/OpenID Connect Clients).
    #[command(subcommand)]
    Clients(ClientsCommand),
    /// Legacy API keys sent as X-COUPA-API-KEY (Setup > API Keys), while integrations move to OAuth.
    #[command(subcommand)]
    ApiKeys(ApiKeysCommand),
    /// Users who sign in to authorize applications (and, as admins, to run Setup).
    #[command(subcommand)]
    Users(UsersCommand),
    /// Custom fields of API objects: extra elements under `custom-fields`, filterable like
    /// the others (`custom-fields[cost-center]=CC-100`).
    #[command(subcommand)]
    CustomFields(CustomFieldsCommand),
    /// Token signing keys: list, rotate without an outage, retire a compromised one.
    #[command(
        subcommand,
        long_about = "Token signing keys. A key moves next -> active -> retired -> removed.\n\n\
`rotate` publishes a new key in the JWKS at once; it starts signing only after the server's\n\
publication delay (by default the JWKS max-age plus 5 minutes), so relying parties that cache\n\
the JWKS know it before they see a token it signed. The previous key then verifies the tokens\n\
it signed until they expire, and is removed.\n\n\
A leaked key: `coupa admin keys retire KID --now` stops it signing and refuses every token it\n\
signed at once, on every replica; a new key signs immediately (relying parties fetch the\n\
JWKS again on the unknown kid)."
    )]
    Keys(KeysCommand),
    /// The sandbox's faults: Coupa's failure modes on demand, for one client or every caller,
    /// for a time or a number of requests.
    #[command(
        subcommand,
        long_about = "The sandbox's faults: Coupa's failure modes on demand, to prove an \
integration copes before it meets them in production. Each is on for one client (--client \
ID or login) or for every caller, for a time (--for, default 10m) or a number of requests \
(--requests), whichever ends first; it ends by itself and is recorded in the audit trail.\n\n\
Kinds:\n  \
token_unavailable        POST /oauth2/token answers 503 temporarily_unavailable\n  \
token_slow --delay 5s    POST /oauth2/token answers late\n  \
token_lifetime --lifetime 60s  tokens issued live that long\n  \
oversized_token --bytes 12000  tokens issued are that long (a scope-heavy client's)\n  \
api_rate_limited [--retry-after 5]  /api answers 429 (without Retry-After, as Coupa)\n  \
api_unavailable          /api answers 503\n  \
api_slow --delay 3s      /api answers late\n  \
api_connection_dropped   /api closes the connection without answering\n  \
clock_offset --offset 24h  held tokens expire early (the server's clock runs ahead)\n  \
token_propagation_delay --delay 5s  a fresh token is refused for its first seconds\n  \
scope_change             tokens issued before the fault are refused, as after a scope change",
        after_help = "Examples:\n  coupa admin faults add api_rate_limited --client invoice-sync --requests 3\n  \
coupa admin faults add token_unavailable --for 30s\n  coupa admin faults list\n  coupa admin faults clear"
    )]
    Faults(FaultsCommand),
    /// The report card of an integration: what its recent traffic does that a real Coupa
    /// instance punishes (a token per call, paging from offset=1, retried 403s, bursts over
    /// 25/s, ...), each with its evidence and fix. Without CLIENT, every client's count.
    #[command(
        after_help = "Examples:\n  coupa admin report\n  coupa admin report invoice-sync\n  \
coupa admin report invoice-sync --markdown > change-request.md\n  coupa admin report invoice-sync --output json"
    )]
    Report {
        /// A client's identifier or login.
        client: Option<String>,
        /// Print the report as Markdown, for a change request.
        #[arg(long, requires = "client")]
        markdown: bool,
    },
    /// The audit trail: who changed what, when and from where, newest first.
    #[command(
        after_help = "Examples:\n  coupa admin audit --since 24h\n  coupa admin audit --object client:2f1c0e... --output json\n  \
coupa admin audit --kind signing_key --since 2026-12-01T00:00:00Z"
    )]
    Audit(AuditArgs),
}

#[derive(Debug, Subcommand)]
pub enum FaultsCommand {
    /// The faults on, or waiting to begin.
    List,
    /// Switch a fault on.
    Add(Box<AddFaultArgs>),
    /// Switch one fault off (by its id from `list`).
    Remove { id: String },
    /// Switch every fault off.
    Clear,
}

#[derive(Debug, clap::Args)]
pub struct AddFaultArgs {
    /// Which failure (see `coupa admin faults --help`).
    #[arg(value_parser = clap::builder::PossibleValuesParser::new(coupa_proto::admin::FAULT_KINDS))]
    pub kind: String,
    /// Only for this client (identifier or login); without it, every caller.
    #[arg(long)]
    pub client: Option<String>,
    /// How long it stays on, e.g. 30s, 5m [default: 10m unless --requests is given].
    #[arg(long = "for", value_name = "DURATION")]
    pub duration: Option<String>,
    /// How many requests it affects; then it ends.
    #[arg(long)]
    pub requests: Option<u64>,
    /// Begin this long from now, e.g. 30s.
    #[arg(long, value_name = "DURATION")]
    pub starts_in: Option<String>,
    /// token_slow, api_slow, token_propagation_delay: how long.
    #[arg(long, value_name = "DURATION")]
    pub delay: Option<String>,
    /// api_rate_limited: send Retry-After with this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub retry_after: Option<u64>,
    /// token_lifetime: how long the tokens issued live.
    #[arg(long, value_name = "DURATION")]
    pub lifetime: Option<String>,
    /// clock_offset: how far ahead the server's clock runs.
    #[arg(long, value_name = "DURATION")]
    pub offset: Option<String>,
    /// oversized_token: how long the tokens issued are, in bytes.
    #[arg(long)]
    pub bytes: Option<u64>,
    /// The chance it affects each request, e.g. 0.25 (intermittent failures, drawn from
    /// the server's --seed).
    #[arg(long)]
    pub probability: Option<f64>,
}

#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// Entries from this time on: RFC 3339, or a duration back from now (24h, 7d).
    #[arg(long, default_value = "24h")]
    pub since: String,
    /// Entries before this time (same forms as --since).
    #[arg(long)]
    pub until: Option<String>,
    /// Who: `admin token`, `user:LOGIN`, `system`.
    #[arg(long)]
    pub actor: Option<String>,
    /// What: `client:ID` for one record, `client` for every client.
    #[arg(long)]
    pub object: Option<String>,
    /// Which kind: `client.updated`, or `client` for every kind of client entry.
    #[arg(long)]
    pub kind: Option<String>,
    /// At most this many entries (up to 200).
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Skip this many entries (paging).
    #[arg(long, default_value_t = 0)]
    pub offset: u32,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Every key with its state and when it signs and verifies.
    List,
    /// Publish a new key now; it signs after the publication delay.
    #[command(
        after_help = "Example:\n  coupa admin keys rotate --alg ES256\n  coupa admin keys list"
    )]
    Rotate {
        /// Only this algorithm (ES256, RS256, EdDSA); without it, every algorithm that signs.
        #[arg(long)]
        alg: Option<String>,
    },
    /// Stop a key signing now; it verifies the tokens it signed until they expire.
    Retire {
        kid: String,
        /// Also refuse every token it signed, now (a compromised key). Integrations holding
        /// such tokens must fetch new ones.
        #[arg(long)]
        now: bool,
    },
    /// Delete a retired key: the tokens it signed stop verifying.
    Remove { kid: String },
}

#[derive(Debug, Subcommand)]
pub enum CustomFieldsCommand {
    /// Add a custom field to an object.
    #[command(
        after_help = "Example:\n  coupa admin custom-fields create --object invoices --name cost-center --label \"Cost center\"\n  \
coupa api get invoices --filter 'custom-fields[cost-center]=CC-100'"
    )]
    Create {
        /// The object's path, as in /api/{object} (`invoices`, `purchase_orders`).
        #[arg(long)]
        object: String,
        /// The key under `custom-fields`: letters, digits and dashes.
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "string", value_parser = ["string", "integer", "decimal", "boolean", "datetime"])]
        kind: String,
        /// What Setup and the API document call it; the name when left out.
        #[arg(long)]
        label: Option<String>,
    },
    /// Every custom field, by object.
    List,
    /// Remove a custom field and every value recorded for it.
    Delete { object: String, name: String },
}

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create a user who can sign in.
    #[command(
        after_help = "Example:\n  COUPA_USER_PASSWORD='a long passphrase' coupa admin users create --login ada \\\n      --email ada@example.com --name \"Ada Lovelace\""
    )]
    Create {
        /// Unique across users and clients.
        #[arg(long)]
        login: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// At least 12 characters; better passed in COUPA_USER_PASSWORD than on the command line.
        #[arg(long, env = "COUPA_USER_PASSWORD", hide_env_values = true)]
        password: String,
        /// An administrator: may sign in to Setup, the admin pages at /setup.
        #[arg(long)]
        admin: bool,
    },
    /// List every user.
    List,
    /// Show one user, by id or login.
    Show { user: String },
    /// Change a user (by id or login); options left out keep their value. A new password ends
    /// the user's sessions.
    Update {
        user: String,
        #[arg(long)]
        email: Option<String>,
        #[arg(long)]
        name: Option<String>,
        /// A new password (at least 12 characters).
        #[arg(long)]
        password: Option<String>,
        #[arg(long)]
        admin: Option<bool>,
    },
    /// Stop the user signing in and end their sessions.
    Deactivate { user: String },
    /// Let the user sign in again.
    Activate { user: String },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeysCommand {
    /// Create a key; prints it once.
    Create {
        #[arg(long)]
        name: String,
        /// The API user the key acts as (created-by on records); defaults to the name.
        #[arg(long)]
        login: Option<String>,
        /// Space-separated scopes; may be given several times. Every scope when left out.
        #[arg(long)]
        scope: Vec<String>,
    },
    /// Every key, with when and from where it was last used: the migration worklist.
    List,
    /// Refuse the key from now on.
    Revoke { id: String },
}

#[derive(Debug, Subcommand)]
pub enum ClientsCommand {
    /// Create a client; prints its identifier and secret (the secret is shown only now).
    #[command(
        after_help = "Example:\n  coupa admin clients create --name \"Invoices sync\" --login invoice-sync \\\n      \
--scope \"core.invoice.read core.expense.read\" --contact-email team@example.com"
    )]
    Create {
        #[arg(long)]
        name: String,
        /// Unique across clients and users; records the client creates show it as created-by.
        #[arg(long)]
        login: String,
        #[arg(long, default_value = "client_credentials", value_parser = ["client_credentials", "authorization_code", "device_code"])]
        grant_type: String,
        /// Space-separated scopes; may be given several times. See `coupa scopes list`.
        #[arg(long, required = true)]
        scope: Vec<String>,
        #[arg(long, default_value = "")]
        contact_info: String,
        #[arg(long, default_value = "")]
        contact_email: String,
        /// For authorization code clients; may be given several times.
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// A public client without a secret: an authorization code client must then use PKCE,
        /// a device code client sends only its client_id.
        #[arg(long)]
        pkce: bool,
        /// Accept the PKCE `plain` method from this client (only S256 otherwise).
        #[arg(long)]
        allow_plain_pkce: bool,
        /// Let this (confidential) client introspect tokens issued to other clients, as a
        /// resource server does; otherwise it sees only its own tokens as active.
        #[arg(long)]
        introspect_any_token: bool,
    },
    /// List every client.
    List,
    /// Show one client.
    Show { client_id: String },
    /// Change a client; options left out keep their value.
    #[command(
        after_help = "Changing the scopes changes what token requests may ask for: update the \
scope list your token scripts send."
    )]
    Update {
        client_id: String,
        #[arg(long)]
        name: Option<String>,
        /// Replaces the scope list (space-separated; may be given several times).
        #[arg(long)]
        scope: Vec<String>,
        #[arg(long)]
        contact_info: Option<String>,
        #[arg(long)]
        contact_email: Option<String>,
        /// Replaces the redirect URIs; may be given several times.
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Accept (true) or refuse (false) the PKCE `plain` method.
        #[arg(long)]
        allow_plain_pkce: Option<bool>,
        /// Let the client introspect other clients' tokens (true) or only its own (false).
        #[arg(long)]
        introspect_any_token: Option<bool>,
    },
    /// Issue a new secret; the old one keeps working for the server's grace period.
    RotateSecret { client_id: String },
    /// Refuse new tokens and every token issued so far.
    Deactivate { client_id: String },
    /// Allow the client to get tokens again (tokens issued before deactivation stay refused).
    Activate { client_id: String },
    /// Delete the client and free its login.
    Delete { client_id: String },
}

#[derive(Debug, Args)]
pub struct ScopesArgs {
    #[command(subcommand)]
    pub command: ScopesCommand,
}

#[derive(Debug, Subcommand)]
pub enum ScopesCommand {
    /// Every scope with its description.
    List,
    /// One scope and the API permissions (method and path) it grants.
    Show { name: String },
    /// The least-privilege scopes for what an integration does.
    #[command(
        after_help = "Example:\n  coupa scopes needed --object invoices --object expense_reports --ops read,write"
    )]
    Needed {
        /// Objects, as in the URL; may be given several times.
        #[arg(long = "object", required = true)]
        objects: Vec<String>,
        /// read, write, or both: read,write.
        #[arg(long, default_value = "read")]
        ops: String,
    },
}

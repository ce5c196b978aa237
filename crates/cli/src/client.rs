//! `coupa token`, `coupa api` and `coupa profiles`: the client side, over the SDK.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Instant;

use coupa_client::api::{ApiClient, COUPA_LIMIT, Filters, Limiter};
use coupa_client::profile::{self, AuthMethod, Format, Profile, ProfileEntry, ProfileFile};
use coupa_client::tokens::{RefreshPolicy, TokenManager};
use serde_json::Value;

use crate::Failure;
use crate::opt::{
    AcceptFormat, ApiArgs, ApiCommand, Output, ProfileArgs, ProfilesArgs, ProfilesCommand,
    TokenArgs,
};
use crate::output;

fn config_path(explicit: Option<&std::path::Path>) -> Result<std::path::PathBuf, Failure> {
    explicit
        .map(std::path::Path::to_path_buf)
        .or_else(profile::default_path)
        .ok_or_else(|| {
            Failure::new("cannot tell where the config file is")
                .hint("pass --config FILE or set COUPA_CONFIG")
        })
}

pub(crate) fn load_profile(args: &ProfileArgs) -> Result<Profile, Failure> {
    let path = config_path(args.config.as_deref())?;
    let file = ProfileFile::load(&path).map_err(|error| Failure::new(error.to_string()))?;
    profile::choose(&file, args.profile.as_deref()).map_err(|error| {
        Failure::new(error.to_string()).hint(format!(
            "`coupa profiles add NAME --url ... --client-id ...` writes {}",
            path.display()
        ))
    })
}

fn manager(profile: Profile, token_cache: Option<&std::path::Path>) -> Arc<TokenManager> {
    let cache_file = token_cache.map(|dir| TokenManager::disk_cache_file(dir, &profile.name));
    let tokens = TokenManager::new(
        Arc::new(profile),
        coupa_client::http::client(),
        RefreshPolicy::default(),
    );
    Arc::new(match cache_file {
        Some(file) => tokens.with_disk_cache(file),
        None => tokens,
    })
}

pub async fn token(args: TokenArgs) -> Result<(), Failure> {
    let tokens = manager(
        load_profile(&args.profile)?,
        args.profile.token_cache.as_deref(),
    );
    let info = tokens
        .token_info()
        .await
        .map_err(|error| Failure::new(error.to_string()))?;
    if args.json {
        return output::json(&serde_json::json!({
            "access_token": info.token.expose(),
            "token_type": "bearer",
            "expires_in": info.expires_in,
            "scope": info.scope,
        }));
    }
    outln!("{}", info.token.expose());
    Ok(())
}

pub async fn bridge(args: crate::opt::BridgeArgs) -> Result<(), Failure> {
    crate::serve::init_tracing();
    let path = config_path(args.profile.config.as_deref())?;
    let file = ProfileFile::load(&path).map_err(|error| Failure::new(error.to_string()))?;
    let default = profile::choose(&file, args.profile.profile.as_deref())
        .map_err(|error| Failure::new(error.to_string()))?;
    let instance = default.url.clone();
    let default = manager(default, args.profile.token_cache.as_deref());
    let mut keys = std::collections::HashMap::new();
    for entry in &args.keys {
        let (fingerprint, tokens) = match entry.split_once('=') {
            Some((fingerprint, name)) => {
                let profile = file
                    .profile(name)
                    .map_err(|error| Failure::new(format!("--key {entry}: {error}")))?;
                (
                    fingerprint,
                    manager(profile, args.profile.token_cache.as_deref()),
                )
            }
            None => (entry.as_str(), std::sync::Arc::clone(&default)),
        };
        let fingerprint = fingerprint.trim().to_ascii_lowercase();
        if fingerprint.len() != 32 || !fingerprint.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(Failure::new(format!(
                "--key {entry}: a fingerprint is the first 32 hex digits of the key's SHA-256"
            ))
            .hint("printf %s \"$KEY\" | sha256sum | cut -c1-32"));
        }
        keys.insert(fingerprint, tokens);
    }
    let secret = crate::local::secret_or_generate(args.secret, "Bridge", "COUPA_BRIDGE_SECRET")?;
    let settings = crate::bridge::BridgeSettings {
        keys,
        instance,
        secret,
        allowed_hosts: args.allowed_hosts,
        max_concurrent: args.max_concurrent,
    };
    crate::bridge::run(
        crate::bridge::Bridge::new(settings),
        args.listen,
        args.allow_remote,
    )
    .await
}

pub async fn broker(args: crate::opt::BrokerArgs) -> Result<(), Failure> {
    crate::serve::init_tracing();
    let path = config_path(args.config.as_deref())?;
    let file = ProfileFile::load(&path).map_err(|error| Failure::new(error.to_string()))?;
    let mut managers = std::collections::BTreeMap::new();
    for name in file.profiles.keys() {
        let profile = file
            .profile(name)
            .map_err(|error| Failure::new(error.to_string()))?;
        managers.insert(name.clone(), manager(profile, None));
    }
    if let Some(profile) = profile::from_environment() {
        let profile = profile.map_err(|error| Failure::new(error.to_string()))?;
        managers.insert(profile.name.clone(), manager(profile, None));
    }
    if managers.is_empty() {
        return Err(Failure::new("no profiles to broker").hint("add one with `coupa profiles add`, or set COUPA_URL, COUPA_CLIENT_ID and COUPA_CLIENT_SECRET"));
    }
    let secret = crate::local::secret_or_generate(args.secret, "Broker", "COUPA_BROKER_SECRET")?;
    let check_every = coupa_server::config::parse_duration(&args.check_every)
        .map_err(|error| Failure::new(format!("--check-every: {error}")))?
        .max(std::time::Duration::from_secs(1));
    let broker = crate::broker::Broker::new(managers, &secret, args.token_dir);
    crate::broker::run(broker, args.listen, check_every).await
}

fn filters(raw: &[String]) -> Result<Filters, Failure> {
    let mut filters = Filters::new();
    for text in raw {
        let (name, value) = Filters::parse(text).ok_or_else(|| {
            Failure::new(format!(
                "--filter {text}: write attr=value or attr[op]=value"
            ))
        })?;
        filters.push(name, value);
    }
    Ok(filters)
}

pub async fn api(args: ApiArgs, format: Output) -> Result<(), Failure> {
    let profile = load_profile(&args.profile)?;
    let client = ApiClient::new(
        manager(profile, args.profile.token_cache.as_deref()),
        coupa_client::http::client(),
        Arc::new(Limiter::new(Some(COUPA_LIMIT))),
    );
    let failure = |error: coupa_client::api::ApiError| {
        let hint = match &error {
            coupa_client::api::ApiError::Status { status: 403, .. } => Some(
                "the token lacks a scope this call needs: `coupa scopes needed --object OBJECT --ops read` names it",
            ),
            coupa_client::api::ApiError::Status { status: 404, .. } => {
                Some("check the object name and id (`coupa scopes list` shows every API path)")
            }
            _ => None,
        };
        let failure = Failure::new(error.to_string());
        match hint {
            Some(hint) => failure.hint(hint),
            None => failure,
        }
    };
    match args.command {
        ApiCommand::Get {
            object,
            id,
            limit,
            offset,
            filters: raw,
            fields,
            accept,
        } => {
            let mut query = filters(&raw)?.pairs().to_vec();
            if let Some(limit) = limit {
                query.push(("limit".into(), limit.to_string()));
            }
            if let Some(offset) = offset {
                query.push(("offset".into(), offset.to_string()));
            }
            if let Some(fields) = fields {
                query.push(("fields".into(), fields));
            }
            let path = match id {
                Some(id) => format!("{object}/{id}"),
                None => object,
            };
            let accept = match accept {
                AcceptFormat::Json => Format::Json,
                AcceptFormat::Xml => Format::Xml,
            };
            let answer = client
                .send(reqwest::Method::GET, &path, &query, None, accept)
                .await
                .map_err(failure)?;
            match (accept, serde_json::from_str::<Value>(&answer.body)) {
                (Format::Json, Ok(json)) => output::json(&json),
                _ => {
                    out!("{}", answer.body);
                    Ok(())
                }
            }
        }
        ApiCommand::Create { object, data } => {
            let body = read_data(&data)?;
            print_answer(
                client
                    .send(
                        reqwest::Method::POST,
                        &object,
                        &[],
                        Some(&body),
                        Format::Json,
                    )
                    .await
                    .map_err(failure)?,
            )
        }
        ApiCommand::Update { object, id, data } => {
            let body = read_data(&data)?;
            let path = format!("{object}/{id}");
            print_answer(
                client
                    .send(reqwest::Method::PUT, &path, &[], Some(&body), Format::Json)
                    .await
                    .map_err(failure)?,
            )
        }
        ApiCommand::Action {
            object,
            id,
            action,
            data,
        } => {
            let path = format!("{object}/{id}/{action}");
            let body = data.as_deref().map(read_data).transpose()?;
            let method = if id == "new" {
                reqwest::Method::POST
            } else {
                reqwest::Method::PUT
            };
            print_answer(
                client
                    .send(method, &path, &[], body.as_ref(), Format::Json)
                    .await
                    .map_err(failure)?,
            )
        }
        ApiCommand::List {
            object,
            all: _,
            filters: raw,
        } => {
            let mut pages = client.pages(&object, filters(&raw)?);
            let started = Instant::now();
            let show_progress = std::io::stderr().is_terminal();
            let mut count = 0usize;
            let mut columns: Option<Vec<String>> = None;
            while let Some(page) = pages.next().await.map_err(failure)? {
                for record in &page {
                    let line = match format {
                        Output::Csv => csv_line(record, &mut columns),
                        _ => serde_json::to_string(record).unwrap_or_default(),
                    };
                    outln!("{line}");
                }
                count += page.len();
                if show_progress {
                    let rate = count as f64 / started.elapsed().as_secs_f64().max(0.001);
                    eprint!("\r{count} {object} ({rate:.0}/s)");
                }
            }
            if show_progress {
                eprintln!(
                    "\r{count} {object} in {:.1} s",
                    started.elapsed().as_secs_f64()
                );
            }
            Ok(())
        }
    }
}

/// `--data`: inline JSON, `@FILE`, or `-` for standard input.
fn read_data(data: &str) -> Result<Value, Failure> {
    let text = if data == "-" {
        std::io::read_to_string(std::io::stdin())
            .map_err(|error| Failure::new(format!("cannot read standard input: {error}")))?
    } else if let Some(path) = data.strip_prefix('@') {
        std::fs::read_to_string(path)
            .map_err(|error| Failure::new(format!("cannot read {path}: {error}")))?
    } else {
        data.to_string()
    };
    serde_json::from_str(&text).map_err(|error| {
        Failure::new(format!("--data is not JSON: {error}"))
            .hint("give a JSON object, @FILE or - (standard input)")
    })
}

fn print_answer(answer: coupa_client::api::Answer) -> Result<(), Failure> {
    match serde_json::from_str::<Value>(&answer.body) {
        Ok(json) => output::json(&json),
        Err(_) => {
            out!("{}", answer.body);
            Ok(())
        }
    }
}

/// One CSV row; the first call prints the header from the first record's attributes.
/// Associations appear as their id.
fn csv_line(record: &Value, columns: &mut Option<Vec<String>>) -> String {
    let Some(map) = record.as_object() else {
        return String::new();
    };
    let header = columns.get_or_insert_with(|| {
        let names: Vec<String> = map.keys().cloned().collect();
        outln!(
            "{}",
            names
                .iter()
                .map(|name| csv_cell(name))
                .collect::<Vec<_>>()
                .join(",")
        );
        names
    });
    header
        .iter()
        .map(|name| match map.get(name) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(text)) => csv_cell(text),
            Some(Value::Object(inner)) => inner
                .get("id")
                .map(|id| id.to_string())
                .or_else(|| {
                    inner
                        .get("login")
                        .map(|v| csv_cell(v.as_str().unwrap_or_default()))
                })
                .unwrap_or_default(),
            Some(Value::Array(items)) => items.len().to_string(),
            Some(other) => other.to_string(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

pub fn profiles(args: ProfilesArgs, format: Output) -> Result<(), Failure> {
    let path = config_path(args.config.as_deref())?;
    let mut file = ProfileFile::load(&path).map_err(|error| Failure::new(error.to_string()))?;
    let describe = |name: &str, entry: &ProfileEntry| {
        let secret = if entry.client_secret.is_some() {
            "in the file".to_string()
        } else if let Some(variable) = &entry.client_secret_env {
            format!("from ${variable}")
        } else if let Some(file) = &entry.client_secret_file {
            format!("from {}", file.display())
        } else {
            "missing".to_string()
        };
        serde_json::json!({
            "name": name,
            "url": entry.url,
            "client_id": entry.client_id,
            "client_secret": secret,
            "scope": entry.scope,
            "accept": entry.accept,
            "auth": entry.auth,
        })
    };
    match args.command {
        ProfilesCommand::List => {
            let all: Vec<Value> = file
                .profiles
                .iter()
                .map(|(name, entry)| describe(name, entry))
                .collect();
            if format.is_json() {
                return output::json(&all);
            }
            if all.is_empty() {
                outln!(
                    "No profiles in {}; add one with `coupa profiles add`.",
                    path.display()
                );
                return Ok(());
            }
            let rows: Vec<Vec<String>> = all
                .iter()
                .map(|p| {
                    ["name", "url", "client_id", "client_secret"]
                        .iter()
                        .map(|k| p[*k].as_str().unwrap_or_default().to_string())
                        .collect()
                })
                .collect();
            output::table(&["PROFILE", "URL", "CLIENT ID", "SECRET"], &rows);
            Ok(())
        }
        ProfilesCommand::Show { name } => {
            let entry = file.profiles.get(&name).ok_or_else(|| {
                Failure::new(format!("no profile named {name}"))
                    .hint("`coupa profiles list` shows them")
            })?;
            output::json(&describe(&name, entry))
        }
        ProfilesCommand::Add {
            name,
            url,
            client_id,
            client_secret,
            client_secret_env,
            client_secret_file,
            scope,
            accept,
            auth,
        } => {
            if client_secret.is_none()
                && client_secret_env.is_none()
                && client_secret_file.is_none()
            {
                return Err(Failure::new("no client secret")
                    .hint("give --client-secret, --client-secret-env or --client-secret-file"));
            }
            let entry = ProfileEntry {
                url,
                client_id,
                client_secret,
                client_secret_env,
                client_secret_file,
                scope,
                accept: if accept == AcceptFormat::Xml {
                    Format::Xml
                } else {
                    Format::Json
                },
                auth: if auth == "basic" {
                    AuthMethod::Basic
                } else {
                    AuthMethod::Body
                },
            };
            file.profiles.insert(name.clone(), entry);
            file.save(&path)
                .map_err(|error| Failure::new(error.to_string()))?;
            outln!("Profile {name} saved in {}", path.display());
            // A secret from the environment may be set only where the profile is used.
            if let Err(error) = file.profile(&name) {
                eprintln!("note: {error}");
            }
            Ok(())
        }
        ProfilesCommand::Remove { name } => {
            if file.profiles.remove(&name).is_none() {
                return Err(Failure::new(format!("no profile named {name}"))
                    .hint("`coupa profiles list` shows them"));
            }
            file.save(&path)
                .map_err(|error| Failure::new(error.to_string()))?;
            outln!("Profile {name} removed");
            Ok(())
        }
    }
}

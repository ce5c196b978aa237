//! `coupa api`: call an instance's API with a profile.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Instant;

use coupa_client::api::{ApiClient, COUPA_LIMIT, Filters, Limiter};
use coupa_client::profile::Format;
use serde_json::Value;

use crate::Failure;
use crate::opt::{AcceptFormat, ApiArgs, ApiCommand, Output};
use crate::output;
use crate::profile_tokens::{load_profile, manager};

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

pub async fn exec(args: ApiArgs, format: Output) -> Result<(), Failure> {
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

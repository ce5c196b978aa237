//! `coupa postman export`: a Postman v2.1 collection for a profile, runnable as is in Postman
//! and with newman.

use coupa_client::profile::{Profile, write_private};
use serde_json::{Value, json};

use crate::Failure;
use crate::opt::{OutputTarget, PostmanArgs, PostmanCommand};

const SCHEMA: &str = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json";
const DEFAULT_OBJECTS: [&str; 2] = ["invoices", "expense_reports"];

/// Stores a token response (`body`) in the collection variables the OAuth 2.0 auth reads.
const STORE_TOKEN: &str = "function storeToken(body) {
  const now = Date.now();
  pm.collectionVariables.set('access_token', body.access_token);
  pm.collectionVariables.set('access_token_obtained_at', String(now));
  pm.collectionVariables.set('access_token_expires_at', String(now + Number(body.expires_in) * 1000));
}";

/// Runs before every request: mints a token (as Coupa's guides do: client_id, grant_type, scope,
/// client_secret in a form body) when there is none, when it is 20 hours old (Coupa's advice for
/// its 24-hour tokens) or when less than 5 minutes of it remain.
const MINT_TOKEN: &str = "if (!pm.request.url.getPath().endsWith('/oauth2/token')) {
  const token = pm.collectionVariables.get('access_token');
  const obtainedAt = Number(pm.collectionVariables.get('access_token_obtained_at') || 0);
  const expiresAt = Number(pm.collectionVariables.get('access_token_expires_at') || 0);
  const refreshAfter = Number(pm.variables.get('refresh_after_seconds') || 72000) * 1000;
  const now = Date.now();
  if (!token || now - obtainedAt >= refreshAfter || now + 300000 >= expiresAt) {
    const form = [
      { key: 'client_id', value: pm.variables.get('client_id') },
      { key: 'grant_type', value: 'client_credentials' },
    ];
    const scope = pm.variables.get('scope');
    if (scope) { form.push({ key: 'scope', value: scope }); }
    form.push({ key: 'client_secret', value: pm.variables.get('client_secret') || '' });
    pm.sendRequest({
      url: pm.variables.replaceIn('{{base_url}}/oauth2/token'),
      method: 'POST',
      header: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: { mode: 'urlencoded', urlencoded: form },
    }, (error, response) => {
      if (error) {
        console.error('cannot reach the token endpoint: ' + error);
      } else if (response.code !== 200) {
        console.error('the token endpoint refused (' + response.code + '): ' + response.text() +
          ' (is client_secret set in your environment?)');
      } else {
        storeToken(response.json());
      }
    });
  }
}";

pub async fn exec(args: PostmanArgs, target: OutputTarget) -> Result<(), Failure> {
    let PostmanCommand::Export {
        profile,
        objects,
        include_secret,
    } = args.command;
    let profile = crate::profile_tokens::load_profile(&profile)?;
    let objects: Vec<String> = if objects.is_empty() {
        DEFAULT_OBJECTS
            .iter()
            .map(|object| object.to_string())
            .collect()
    } else {
        objects
    };
    if let Some(bad) = objects.iter().find(|object| !is_object_name(object)) {
        return Err(Failure::new(format!("--object {bad}: not an object name"))
            .hint("use the name in the URL, e.g. invoices, purchase_orders, suppliers"));
    }
    let collection = collection(&profile, &objects, include_secret);
    let text = serde_json::to_string_pretty(&collection)
        .map_err(|error| Failure::new(error.to_string()))?;
    match target {
        OutputTarget::Format(_) => outln!("{text}"),
        OutputTarget::File(path) => {
            write_private(&path, text.as_bytes()).map_err(|error| {
                Failure::new(format!("cannot write {}: {error}", path.display()))
            })?;
            let secret_hint = if include_secret {
                String::new()
            } else {
                " --env-var client_secret=...".to_string()
            };
            eprintln!(
                "Wrote {} ({} requests). Run it with:\n  newman run {}{secret_hint}",
                path.display(),
                count_requests(&collection),
                path.display()
            );
        }
    }
    Ok(())
}

fn is_object_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn count_requests(collection: &Value) -> usize {
    fn count(items: &Value) -> usize {
        items.as_array().map_or(0, |items| {
            items
                .iter()
                .map(|item| {
                    if item.get("request").is_some() {
                        1
                    } else {
                        count(&item["item"])
                    }
                })
                .sum()
        })
    }
    count(&collection["item"])
}

fn script(kind: &str, source: &str) -> Value {
    json!({
        "listen": kind,
        "script": { "type": "text/javascript", "exec": source.lines().collect::<Vec<_>>() },
    })
}

fn variable(key: &str, value: &str, description: &str) -> Value {
    json!({ "key": key, "value": value, "type": "string", "description": description })
}

fn oauth2_setting(key: &str, value: &str) -> Value {
    json!({ "key": key, "value": value, "type": "string" })
}

/// A URL under `{{base_url}}` in Postman's structured form.
fn url(path: &[&str], query: &[(&str, &str)]) -> Value {
    let mut raw = format!("{{{{base_url}}}}/{}", path.join("/"));
    if !query.is_empty() {
        let pairs: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        raw = format!("{raw}?{}", pairs.join("&"));
    }
    let mut url = json!({ "raw": raw, "host": ["{{base_url}}"], "path": path });
    if !query.is_empty() {
        url["query"] = query
            .iter()
            .map(|(key, value)| json!({ "key": key, "value": value }))
            .collect();
    }
    url
}

fn get(name: &str, url: Value, accept: &str, events: Vec<Value>) -> Value {
    json!({
        "name": name,
        "event": events,
        "request": {
            "method": "GET",
            "header": [{ "key": "Accept", "value": accept }],
            "url": url,
        },
    })
}

pub fn collection(profile: &Profile, objects: &[String], include_secret: bool) -> Value {
    let secret = if include_secret {
        profile.client_secret.expose()
    } else {
        ""
    };
    let scope = profile.scope.as_deref().unwrap_or("");
    json!({
        "info": {
            "name": format!("Coupa API: {} ({})", profile.name, profile.url),
            "description": format!(
                "Calls to {} with OAuth 2.0 client credentials.\n\n\
                 Every request carries the collection's OAuth 2.0 token. A pre-request script mints it \
                 (POST /oauth2/token with client_id, grant_type, scope and client_secret in the body) \
                 before the first call, and again after 20 hours or 5 minutes before it expires. \
                 Postman's own *Get New Access Token* button works with the same settings.\n\n\
                 Set `client_secret` in an environment (or `newman run ... --env-var client_secret=...`); \
                 `scope` empty asks for all of the client's scopes.",
                profile.url
            ),
            "schema": SCHEMA,
        },
        "auth": {
            "type": "oauth2",
            "oauth2": [
                oauth2_setting("accessToken", "{{access_token}}"),
                oauth2_setting("tokenType", "bearer"),
                oauth2_setting("addTokenTo", "header"),
                oauth2_setting("headerPrefix", "Bearer"),
                oauth2_setting("grant_type", "client_credentials"),
                oauth2_setting("accessTokenUrl", "{{base_url}}/oauth2/token"),
                oauth2_setting("clientId", "{{client_id}}"),
                oauth2_setting("clientSecret", "{{client_secret}}"),
                oauth2_setting("scope", "{{scope}}"),
                oauth2_setting("client_authentication", "body"),
                oauth2_setting("tokenName", &format!("coupa {}", profile.name)),
            ],
        },
        "event": [script("prerequest", &format!("{STORE_TOKEN}\n{MINT_TOKEN}"))],
        "variable": [
            variable("base_url", &profile.url, "The instance, without a trailing slash"),
            variable("client_id", &profile.client_id, "The client's Identifier (Setup > OAuth2/OpenID Connect Clients)"),
            variable("client_secret", secret, "The client's Secret; better set in an environment"),
            variable("scope", scope, "Space-separated scopes to ask for; empty asks for all of the client's"),
            variable("refresh_after_seconds", "72000", "Re-mint the token at this age (Coupa advises 20 hours)"),
            variable("access_token", "", "Set by the scripts"),
            variable("access_token_obtained_at", "", "Set by the scripts"),
            variable("access_token_expires_at", "", "Set by the scripts"),
        ],
        "item": [
            token_request(profile.scope.is_none()),
            {
                "name": "API",
                "item": objects.iter().map(|object| object_folder(object)).collect::<Vec<_>>(),
            },
        ],
    })
}

fn token_request(scope_left_out: bool) -> Value {
    let tests = format!(
        "{STORE_TOKEN}
pm.test('a token is issued', () => {{
  pm.response.to.have.status(200);
  const body = pm.response.json();
  pm.expect(body.access_token).to.be.a('string').and.not.empty;
  pm.expect(String(body.token_type).toLowerCase()).to.eql('bearer');
  pm.expect(body.expires_in).to.be.above(0);
  storeToken(body);
}});"
    );
    json!({
        "name": "Get an access token (client credentials)",
        "event": [script("test", &tests)],
        "request": {
            "auth": { "type": "noauth" },
            "method": "POST",
            "header": [
                { "key": "Content-Type", "value": "application/x-www-form-urlencoded" },
                { "key": "Accept", "value": "application/json" },
            ],
            "body": {
                "mode": "urlencoded",
                "urlencoded": [
                    { "key": "client_id", "value": "{{client_id}}", "type": "text" },
                    { "key": "grant_type", "value": "client_credentials", "type": "text" },
                    { "key": "scope", "value": "{{scope}}", "type": "text", "disabled": scope_left_out },
                    { "key": "client_secret", "value": "{{client_secret}}", "type": "text" },
                ],
            },
            "url": url(&["oauth2", "token"], &[]),
        },
    })
}

fn object_folder(object: &str) -> Value {
    let id_variable = format!("{object}_id");
    let first = format!(
        "pm.test('{object}: 200 and a JSON array', () => {{
  pm.response.to.have.status(200);
  const records = pm.response.json();
  pm.expect(records).to.be.an('array');
  pm.expect(records.length).to.be.at.most(1);
  if (records.length > 0) {{
    pm.expect(records[0]).to.have.property('id');
    pm.collectionVariables.set('{id_variable}', String(records[0].id));
  }}
}});"
    );
    let skip_without_id = format!(
        "if (!pm.collectionVariables.get('{id_variable}')) {{ pm.execution.skipRequest(); }}"
    );
    let one = format!(
        "pm.test('{object}: the record asked for', () => {{
  pm.response.to.have.status(200);
  pm.expect(String(pm.response.json().id)).to.eql(pm.collectionVariables.get('{id_variable}'));
}});"
    );
    let recent = format!(
        "pm.test('{object}: newest first, at most 10', () => {{
  pm.response.to.have.status(200);
  const ids = pm.response.json().map((record) => record.id);
  pm.expect(ids.length).to.be.at.most(10);
  pm.expect(ids).to.eql([...ids].sort((a, b) => b - a));
}});"
    );
    let xml = format!(
        "pm.test('{object}: XML, or the no-results error when there are none', () => {{
  pm.expect(pm.response.code).to.be.oneOf([200, 404]);
  pm.expect(pm.response.headers.get('Content-Type')).to.include('xml');
  pm.expect(pm.response.text()).to.match(/^<\\?xml/);
}});"
    );
    let path = ["api", object];
    let id_path = format!("{{{{{id_variable}}}}}");
    json!({
        "name": object,
        "item": [
            get(
                &format!("{object}?limit=1"),
                url(&path, &[("limit", "1")]),
                "application/json",
                vec![script("test", &first)],
            ),
            get(
                &format!("{object}/:id"),
                url(&["api", object, &id_path], &[]),
                "application/json",
                vec![script("prerequest", &skip_without_id), script("test", &one)],
            ),
            get(
                &format!("{object} updated since 2000, newest first (filter and order)"),
                url(
                    &path,
                    &[
                        ("updated-at[gt_or_eq]", "2000-01-01T00:00:00Z"),
                        ("order_by", "id"),
                        ("dir", "desc"),
                        ("limit", "10"),
                    ],
                ),
                "application/json",
                vec![script("test", &recent)],
            ),
            get(
                &format!("{object}?limit=1 as XML"),
                url(&path, &[("limit", "1")]),
                "application/xml",
                vec![script("test", &xml)],
            ),
        ],
    })
}

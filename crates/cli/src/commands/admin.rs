//! `coupa admin`: the admin API from the command line.

use coupa_client::{AdminClient, ClientError};
use coupa_proto::admin::{
    ApiKeyView, AuditFilters, ClientView, CreateApiKey, CreateClient, CreateCustomField,
    CreateFault, CreateUser, CustomFieldView, FaultView, SigningKeyView, UpdateClient, UpdateUser,
    UserView,
};

use crate::Failure;
use crate::opt::{
    AdminArgs, AdminCommand, ApiKeysCommand, AuditArgs, ClientsCommand, CustomFieldsCommand,
    FaultsCommand, KeysCommand, Output, UsersCommand,
};
use crate::output;

pub async fn exec(args: AdminArgs, format: Output) -> Result<(), Failure> {
    let format = if format.is_json() {
        Output::Json
    } else {
        Output::Text
    };
    let token = args.admin_token.clone().filter(|token| !token.is_empty()).ok_or_else(|| {
        Failure::new("no admin token")
            .hint("pass --admin-token or set COUPA_ADMIN_TOKEN to the token `coupa serve` printed at first start")
    })?;
    let admin = AdminClient::new(&args.url, &token);
    match args.command {
        AdminCommand::Clients(command) => clients(&admin, command, format, &args.url).await,
        AdminCommand::ApiKeys(command) => api_keys(&admin, command, format, &args.url).await,
        AdminCommand::Users(command) => users(&admin, command, format, &args.url).await,
        AdminCommand::CustomFields(command) => {
            custom_fields(&admin, command, format, &args.url).await
        }
        AdminCommand::Keys(command) => signing_keys(&admin, command, format, &args.url).await,
        AdminCommand::Audit(audit) => audit_trail(&admin, audit, format, &args.url).await,
        AdminCommand::Faults(command) => faults(&admin, command, format, &args.url).await,
        AdminCommand::Report { client, markdown } => {
            report(&admin, client.as_deref(), markdown, format, &args.url).await
        }
    }
}

async fn report(
    admin: &AdminClient,
    client: Option<&str>,
    markdown: bool,
    format: Output,
    url: &str,
) -> Result<(), Failure> {
    let failure = |error: ClientError| explain(error, url, "client", "coupa admin clients list");
    let Some(client) = client else {
        let reports = admin.reports().await.map_err(failure)?;
        if format.is_json() {
            return output::json(&reports);
        }
        let rows: Vec<Vec<String>> = reports
            .iter()
            .map(|report| {
                vec![
                    report.login.clone(),
                    report.name.clone(),
                    report.requests.to_string(),
                    report.findings.len().to_string(),
                    report
                        .findings
                        .iter()
                        .map(|finding| finding.kind.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                ]
            })
            .collect();
        output::table(&["LOGIN", "NAME", "REQUESTS", "FINDINGS", "KINDS"], &rows);
        return Ok(());
    };
    if markdown {
        out!("{}", admin.report_markdown(client).await.map_err(failure)?);
        return Ok(());
    }
    let report = admin.report(client).await.map_err(failure)?;
    if format.is_json() {
        return output::json(&report);
    }
    outln!(
        "Report card of {} ({}): {} recent requests, {} finding(s).",
        report.name,
        report.login,
        report.requests,
        report.findings.len()
    );
    for finding in &report.findings {
        outln!(
            "\n{}\n  evidence: {}\n  example:  {}\n  seen:     {} to {}\n  fix:      {}",
            finding.title,
            finding.evidence,
            finding.example,
            finding.first_seen,
            finding.last_seen,
            finding.fix
        );
    }
    Ok(())
}

async fn faults(
    admin: &AdminClient,
    command: FaultsCommand,
    format: Output,
    url: &str,
) -> Result<(), Failure> {
    let failure = |error: ClientError| explain(error, url, "fault", "coupa admin faults list");
    let faults = match command {
        FaultsCommand::List => admin.list_faults().await.map_err(failure)?,
        FaultsCommand::Add(args) => {
            let input = CreateFault {
                kind: args.kind,
                client: args.client,
                duration: args.duration,
                requests: args.requests,
                starts_in: args.starts_in,
                delay: args.delay,
                retry_after: args.retry_after,
                lifetime: args.lifetime,
                offset: args.offset,
                bytes: args.bytes,
                probability: args.probability,
            };
            vec![admin.add_fault(&input).await.map_err(failure)?]
        }
        FaultsCommand::Remove { id } => vec![admin.remove_fault(&id).await.map_err(failure)?],
        FaultsCommand::Clear => {
            let removed = admin.clear_faults().await.map_err(failure)?;
            return match format {
                Output::Text => {
                    outln!("{removed} fault(s) switched off");
                    Ok(())
                }
                _ => output::json(&serde_json::json!({ "removed": removed })),
            };
        }
    };
    match format {
        Output::Json | Output::Jsonl | Output::Csv => output::json(&faults),
        Output::Text if faults.is_empty() => {
            outln!("No fault is on. Switch one on with `coupa admin faults add KIND`.");
            Ok(())
        }
        Output::Text => {
            let rows: Vec<Vec<String>> = faults
                .iter()
                .map(|fault: &FaultView| {
                    vec![
                        fault.id.clone(),
                        fault.kind.clone(),
                        fault.client_id.clone().unwrap_or("every caller".into()),
                        if fault.active { "on" } else { "waiting" }.into(),
                        fault.starts_at.clone(),
                        fault.ends_at.clone(),
                        fault
                            .requests_left
                            .map_or("-".into(), |left| left.to_string()),
                        fault.effect.clone(),
                    ]
                })
                .collect();
            output::table(
                &[
                    "ID",
                    "KIND",
                    "FOR",
                    "STATE",
                    "FROM",
                    "UNTIL",
                    "REQUESTS LEFT",
                    "EFFECT",
                ],
                &rows,
            );
            Ok(())
        }
    }
}

async fn audit_trail(
    admin: &AdminClient,
    args: AuditArgs,
    format: Output,
    url: &str,
) -> Result<(), Failure> {
    let filters = AuditFilters {
        actor: args.actor,
        object: args.object,
        kind: args.kind,
        since: Some(args.since),
        until: args.until,
        limit: Some(args.limit),
        offset: Some(args.offset),
    };
    let page = admin
        .audit(&filters)
        .await
        .map_err(|error| explain(error, url, "audit entry", "coupa admin audit --since 7d"))?;
    match format {
        Output::Json | Output::Jsonl | Output::Csv => output::json(&page),
        Output::Text => {
            let rows: Vec<Vec<String>> = page
                .entries
                .iter()
                .map(|entry| {
                    vec![
                        entry.at.clone(),
                        entry.actor.clone(),
                        entry.address.clone(),
                        entry.kind.clone(),
                        entry.object.clone(),
                        entry.details.to_string(),
                    ]
                })
                .collect();
            output::table(&["AT", "ACTOR", "FROM", "KIND", "OBJECT", "CHANGES"], &rows);
            let shown = page.offset as usize + page.entries.len();
            if (shown as i64) < page.total {
                outln!(
                    "{} of {} entries; the next page: --offset {shown}",
                    page.entries.len(),
                    page.total
                );
            }
            Ok(())
        }
    }
}

async fn signing_keys(
    admin: &AdminClient,
    command: KeysCommand,
    format: Output,
    url: &str,
) -> Result<(), Failure> {
    let failure = |error: ClientError| explain(error, url, "signing key", "coupa admin keys list");
    let keys = match command {
        KeysCommand::List => admin.list_keys().await,
        KeysCommand::Rotate { alg } => admin.rotate_keys(alg.as_deref()).await,
        KeysCommand::Retire { kid, now } => admin.retire_key(&kid, now).await,
        KeysCommand::Remove { kid } => admin.remove_key(&kid).await,
    }
    .map_err(failure)?;
    match format {
        Output::Json | Output::Jsonl | Output::Csv => output::json(&keys),
        Output::Text => {
            let rows: Vec<Vec<String>> = keys
                .iter()
                .map(|key: &SigningKeyView| {
                    let or_dash = |value: &Option<String>| value.clone().unwrap_or("-".into());
                    vec![
                        key.kid.clone(),
                        key.alg.clone(),
                        key.state.clone(),
                        key.signs_from.clone(),
                        or_dash(&key.signs_until),
                        or_dash(&key.verifies_until),
                    ]
                })
                .collect();
            output::table(
                &[
                    "KID",
                    "ALG",
                    "STATE",
                    "SIGNS FROM",
                    "SIGNS UNTIL",
                    "VERIFIES UNTIL",
                ],
                &rows,
            );
            Ok(())
        }
    }
}

async fn custom_fields(
    admin: &AdminClient,
    command: CustomFieldsCommand,
    format: Output,
    url: &str,
) -> Result<(), Failure> {
    let failure =
        |error: ClientError| explain(error, url, "custom field", "coupa admin custom-fields list");
    let print_list = |fields: &[CustomFieldView]| match format {
        Output::Json | Output::Jsonl | Output::Csv => output::json(&fields),
        Output::Text => {
            let rows: Vec<Vec<String>> = fields
                .iter()
                .map(|field| {
                    vec![
                        field.object.clone(),
                        field.name.clone(),
                        field.kind.clone(),
                        field.label.clone(),
                    ]
                })
                .collect();
            output::table(&["OBJECT", "NAME", "KIND", "LABEL"], &rows);
            Ok(())
        }
    };
    match command {
        CustomFieldsCommand::Create {
            object,
            name,
            kind,
            label,
        } => {
            let input = CreateCustomField {
                object,
                name,
                kind,
                label,
            };
            let field = admin.create_custom_field(&input).await.map_err(failure)?;
            print_list(std::slice::from_ref(&field))
        }
        CustomFieldsCommand::List => {
            print_list(&admin.list_custom_fields().await.map_err(failure)?)
        }
        CustomFieldsCommand::Delete { object, name } => {
            admin
                .delete_custom_field(&object, &name)
                .await
                .map_err(failure)?;
            if format.is_json() {
                output::json(&serde_json::json!({"deleted": {"object": object, "name": name}}))
            } else {
                outln!("deleted the custom field {name} of {object} and its values");
                Ok(())
            }
        }
    }
}

async fn users(
    admin: &AdminClient,
    command: UsersCommand,
    format: Output,
    url: &str,
) -> Result<(), Failure> {
    let failure = |error: ClientError| explain(error, url, "user", "coupa admin users list");
    let print = |user: &UserView| match format {
        Output::Json | Output::Jsonl | Output::Csv => output::json(user),
        Output::Text => {
            let state = if user.active { "active" } else { "inactive" };
            outln!(
                "{} ({state}{})",
                user.login,
                if user.admin { ", admin" } else { "" }
            );
            outln!("  Id:     {}", user.user_id);
            outln!("  Name:   {}", user.name);
            outln!("  Email:  {}", user.email);
            Ok(())
        }
    };
    let update = |active: Option<bool>| UpdateUser {
        active,
        ..UpdateUser::default()
    };
    let user = match command {
        UsersCommand::Create {
            login,
            email,
            name,
            password,
            admin: is_admin,
        } => {
            let input = CreateUser {
                login,
                email,
                name,
                password,
                admin: is_admin,
            };
            admin.create_user(&input).await
        }
        UsersCommand::Show { user } => admin.user(&user).await,
        UsersCommand::Update {
            user,
            email,
            name,
            password,
            admin: is_admin,
        } => {
            let changes = UpdateUser {
                email,
                name,
                password,
                admin: is_admin,
                active: None,
            };
            admin.update_user(&user, &changes).await
        }
        UsersCommand::Deactivate { user } => admin.update_user(&user, &update(Some(false))).await,
        UsersCommand::Activate { user } => admin.update_user(&user, &update(Some(true))).await,
        UsersCommand::List => {
            let users = admin.list_users().await.map_err(failure)?;
            return match format {
                Output::Json | Output::Jsonl | Output::Csv => output::json(&users),
                Output::Text => {
                    let rows: Vec<Vec<String>> = users
                        .iter()
                        .map(|user| {
                            vec![
                                user.login.clone(),
                                user.name.clone(),
                                user.email.clone(),
                                if user.active { "active" } else { "inactive" }.to_string(),
                                if user.admin { "admin" } else { "" }.to_string(),
                            ]
                        })
                        .collect();
                    output::table(&["LOGIN", "NAME", "EMAIL", "STATE", "ROLE"], &rows);
                    Ok(())
                }
            };
        }
    };
    print(&user.map_err(failure)?)
}

async fn api_keys(
    admin: &AdminClient,
    command: ApiKeysCommand,
    format: Output,
    url: &str,
) -> Result<(), Failure> {
    let failure = |error: ClientError| explain(error, url, "API key", "coupa admin api-keys list");
    let print = |key: &ApiKeyView| match format {
        Output::Json | Output::Jsonl | Output::Csv => output::json(key),
        Output::Text => {
            outln!(
                "{} ({})",
                key.name,
                if key.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                }
            );
            outln!("  Id:         {}", key.id);
            if let Some(secret) = &key.key {
                outln!("  Key:        {secret}");
                outln!("              (shown only now; send it as X-COUPA-API-KEY)");
            }
            outln!("  Login:      {}", key.login);
            outln!("  Scopes:     {}", key.scope);
            Ok(())
        }
    };
    match command {
        ApiKeysCommand::Create { name, login, scope } => {
            let input = CreateApiKey {
                name,
                login,
                scope: (!scope.is_empty()).then(|| scope.join(" ")),
            };
            print(&admin.create_api_key(&input).await.map_err(failure)?)
        }
        ApiKeysCommand::Revoke { id } => print(&admin.revoke_api_key(&id).await.map_err(failure)?),
        ApiKeysCommand::List => {
            let keys = admin.list_api_keys().await.map_err(failure)?;
            match format {
                Output::Json | Output::Jsonl | Output::Csv => output::json(&keys),
                Output::Text => {
                    let rows: Vec<Vec<String>> = keys
                        .iter()
                        .map(|key| {
                            vec![
                                key.id.clone(),
                                key.name.clone(),
                                format!("{}…", key.key_prefix),
                                key.created_at.clone(),
                                key.last_used_at.clone().unwrap_or_else(|| "never".into()),
                                key.last_used_from.clone().unwrap_or_default(),
                                if key.revoked_at.is_some() {
                                    "revoked"
                                } else {
                                    "active"
                                }
                                .to_string(),
                            ]
                        })
                        .collect();
                    output::table(
                        &["ID", "NAME", "KEY", "CREATED", "LAST USED", "FROM", "STATE"],
                        &rows,
                    );
                    Ok(())
                }
            }
        }
    }
}

async fn clients(
    admin: &AdminClient,
    command: ClientsCommand,
    format: Output,
    url: &str,
) -> Result<(), Failure> {
    let failure = |error: ClientError| explain(error, url, "client", "coupa admin clients list");
    match command {
        ClientsCommand::Create {
            name,
            login,
            grant_type,
            scope,
            contact_info,
            contact_email,
            redirect_uris,
            pkce,
            allow_plain_pkce,
            introspect_any_token,
        } => {
            let input = CreateClient {
                name,
                login,
                grant_type,
                scope: scope.join(" "),
                contact_info,
                contact_email,
                redirect_uris,
                pkce,
                allow_plain_pkce,
                introspect_any_token,
            };
            let client = admin.create_client(&input).await.map_err(failure)?;
            print_client(&client, format, url)
        }
        ClientsCommand::List => {
            let clients = admin.list_clients().await.map_err(failure)?;
            match format {
                Output::Json | Output::Jsonl | Output::Csv => output::json(&clients),
                Output::Text => {
                    let rows: Vec<Vec<String>> = clients
                        .iter()
                        .map(|client| {
                            vec![
                                client.client_id.clone(),
                                client.name.clone(),
                                client.login.clone(),
                                client.grant_type.clone(),
                                client.scope.split_whitespace().count().to_string(),
                                if client.active { "yes" } else { "no" }.to_string(),
                                client
                                    .last_token_at
                                    .clone()
                                    .unwrap_or_else(|| "never".to_string()),
                            ]
                        })
                        .collect();
                    output::table(
                        &[
                            "IDENTIFIER",
                            "NAME",
                            "LOGIN",
                            "GRANT TYPE",
                            "SCOPES",
                            "ACTIVE",
                            "LAST TOKEN",
                        ],
                        &rows,
                    );
                    Ok(())
                }
            }
        }
        ClientsCommand::Show { client_id } => {
            let client = admin.client(&client_id).await.map_err(failure)?;
            print_client(&client, format, url)
        }
        ClientsCommand::Update {
            client_id,
            name,
            scope,
            contact_info,
            contact_email,
            redirect_uris,
            allow_plain_pkce,
            introspect_any_token,
        } => {
            let scope_changed = !scope.is_empty();
            let changes = UpdateClient {
                name,
                contact_info,
                contact_email,
                scope: scope_changed.then(|| scope.join(" ")),
                redirect_uris: (!redirect_uris.is_empty()).then_some(redirect_uris),
                active: None,
                allow_plain_pkce,
                introspect_any_token,
            };
            let client = admin
                .update_client(&client_id, &changes)
                .await
                .map_err(failure)?;
            if scope_changed && format == Output::Text {
                eprintln!(
                    "note: the scopes changed; token scripts that send a scope list must send scopes from the new list"
                );
            }
            print_client(&client, format, url)
        }
        ClientsCommand::RotateSecret { client_id } => {
            let client = admin.rotate_secret(&client_id).await.map_err(failure)?;
            print_client(&client, format, url)
        }
        ClientsCommand::Deactivate { client_id } => {
            set_active(admin, &client_id, false, format, url).await
        }
        ClientsCommand::Activate { client_id } => {
            set_active(admin, &client_id, true, format, url).await
        }
        ClientsCommand::Delete { client_id } => {
            admin.delete_client(&client_id).await.map_err(failure)?;
            match format {
                Output::Json | Output::Jsonl | Output::Csv => {
                    output::json(&serde_json::json!({"client_id": client_id, "deleted": true}))
                }
                Output::Text => {
                    outln!("Deleted client {client_id}");
                    Ok(())
                }
            }
        }
    }
}

async fn set_active(
    admin: &AdminClient,
    client_id: &str,
    active: bool,
    format: Output,
    url: &str,
) -> Result<(), Failure> {
    let changes = UpdateClient {
        active: Some(active),
        ..UpdateClient::default()
    };
    let client = admin
        .update_client(client_id, &changes)
        .await
        .map_err(|error| explain(error, url, "client", "coupa admin clients list"))?;
    print_client(&client, format, url)
}

fn print_client(client: &ClientView, format: Output, url: &str) -> Result<(), Failure> {
    if format == Output::Json {
        return output::json(client);
    }
    outln!(
        "{} ({})",
        client.name,
        if client.active {
            "active"
        } else {
            "deactivated"
        }
    );
    outln!("  Identifier:    {}", client.client_id);
    if let Some(secret) = &client.client_secret {
        outln!("  Secret:        {secret}");
        outln!("                 (shown only now: store it in your secret manager)");
    }
    if let Some(until) = &client.previous_secret_valid_until {
        outln!("  Old secret:    still accepted until {until}");
    }
    outln!("  Login:         {}", client.login);
    outln!("  Grant type:    {}", client.grant_type);
    outln!("  Scopes:        {}", client.scope);
    if !client.contact_info.is_empty() {
        outln!("  Contact info:  {}", client.contact_info);
    }
    if !client.contact_email.is_empty() {
        outln!("  Contact email: {}", client.contact_email);
    }
    for uri in &client.redirect_uris {
        outln!("  Redirect URI:  {uri}");
    }
    outln!(
        "  Last token:    {}",
        client.last_token_at.as_deref().unwrap_or("never issued")
    );
    if let Some(secret) = &client.client_secret
        && client.grant_type == "client_credentials"
    {
        outln!("\nGet a token:");
        outln!(
            "  {}",
            coupa_proto::admin::token_curl(url, &client.client_id, &client.scope, secret)
        );
    }
    Ok(())
}

/// Turns an API failure into a message with a next step.
fn explain(error: ClientError, url: &str, noun: &str, list_command: &str) -> Failure {
    match &error {
        ClientError::Unreachable { reason, .. }
            if coupa_client::http::is_untrusted_certificate(reason) =>
        {
            Failure::new(error.to_string()).hint(
                "the server's certificate is not trusted. For a `coupa serve --tls` sandbox, \
                 trust its local CA: export SSL_CERT_FILE=<the CA file `coupa serve` printed> \
                 (`coupa ca trust-help` shows where it is)",
            )
        }
        ClientError::Unreachable { .. } => Failure::new(error.to_string()).hint(format!(
            "is `coupa serve` running at {url}? Point --url or COUPA_URL at it"
        )),
        ClientError::Coupa { status: 401, .. } => Failure::new(
            "the server refused the admin token",
        )
        .hint("pass the token `coupa serve` printed at first start (or its COUPA_ADMIN_TOKEN)"),
        ClientError::Coupa { status: 404, .. } => {
            Failure::new(format!("no such {noun}")).hint(format!("`{list_command}` shows them all"))
        }
        ClientError::Coupa {
            status: 422,
            errors,
        } => {
            let hint = if errors.errors.contains_key("scope") {
                "`coupa scopes list` shows the valid scopes"
            } else {
                "fix the fields named above and try again"
            };
            Failure::new(format!("the server refused the {noun}: {errors}")).hint(hint)
        }
        _ => Failure::new(error.to_string()),
    }
}

//! The audit trail: every administrative change and the security events, with who, from
//! where, and the values before and after (never a secret); filtered and paged through the
//! admin API and `coupa admin audit`; purged past its retention; on both stores.

use coupa_proto::admin::{
    AuditFilters, AuditPage, CreateApiKey, CreateCustomField, CreateUser, UpdateClient, UpdateUser,
};
use serde_json::{Value, json};

use crate::support::{ADMIN_TOKEN, Backend, coupa, on_both_backends, spawn_on};

async fn entries(admin: &coupa_client::AdminClient, filters: AuditFilters) -> AuditPage {
    admin.audit(&filters).await.unwrap()
}

fn kinds(page: &AuditPage) -> Vec<&str> {
    page.entries
        .iter()
        .map(|entry| entry.kind.as_str())
        .collect()
}

async fn every_admin_change_is_recorded_with_who_where_and_what(backend: Backend) {
    let Some(url) = crate::support::fresh_database_url(backend).await else {
        return;
    };
    let server = spawn_on(&url, Default::default()).await;
    let admin = &server.admin;
    let (view, client) = server.create_client("audited", "core.invoice.read").await;
    admin
        .update_client(
            &view.client_id,
            &UpdateClient {
                name: Some("Audited, renamed".into()),
                ..UpdateClient::default()
            },
        )
        .await
        .unwrap();
    let rotated = admin.rotate_secret(&view.client_id).await.unwrap();
    let user = admin
        .create_user(&CreateUser {
            login: "auditee".into(),
            email: "auditee@example.com".into(),
            name: "Auditee".into(),
            password: "a first long password".into(),
            admin: false,
        })
        .await
        .unwrap();
    admin
        .update_user(
            &user.user_id,
            &UpdateUser {
                password: Some("a second long password".into()),
                ..UpdateUser::default()
            },
        )
        .await
        .unwrap();
    let key = admin
        .create_api_key(&CreateApiKey {
            name: "Audited key".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    admin.revoke_api_key(&key.id).await.unwrap();
    admin
        .create_custom_field(&CreateCustomField {
            object: "invoices".into(),
            name: "cost-center".into(),
            kind: "string".into(),
            label: Some("Cost center".into()),
        })
        .await
        .unwrap();
    admin
        .delete_custom_field("invoices", "cost-center")
        .await
        .unwrap();
    admin.rotate_keys(Some("ES256")).await.unwrap();
    admin.delete_client(&view.client_id).await.unwrap();

    let everything = entries(admin, AuditFilters::default()).await;
    assert_eq!(
        kinds(&everything),
        [
            "client.deleted",
            "signing_key.rotated",
            "custom_field.deleted",
            "custom_field.created",
            "api_key.revoked",
            "api_key.created",
            "user.updated",
            "user.created",
            "client.secret_rotated",
            "client.updated",
            "client.created",
        ],
        "newest first"
    );
    assert_eq!(everything.total, 11, "{:?}", kinds(&everything));
    for entry in &everything.entries {
        assert_eq!(entry.actor, "admin token");
        assert_eq!(entry.address, "127.0.0.1");
    }
    let text = serde_json::to_string(&everything).unwrap();
    for secret in [
        client.secret.as_str(),
        rotated.client_secret.as_deref().unwrap(),
        key.key.as_deref().unwrap(),
        "a first long password",
        "a second long password",
        ADMIN_TOKEN,
    ] {
        assert!(!text.contains(secret), "a secret in the trail: {text}");
    }
    let renamed = everything
        .entries
        .iter()
        .find(|entry| entry.kind == "client.updated")
        .unwrap();
    assert_eq!(
        renamed.details["name"],
        json!({"before": view.name, "after": "Audited, renamed"})
    );
    assert_eq!(
        renamed.details.as_object().unwrap().len(),
        1,
        "only what changed: {}",
        renamed.details
    );
    assert_eq!(renamed.object, format!("client:{}", view.client_id));
    let password = everything
        .entries
        .iter()
        .find(|entry| entry.kind == "user.updated")
        .unwrap();
    assert_eq!(password.details["password"]["after"], "(secret)");

    // Filters and paging.
    let of_client = entries(
        admin,
        AuditFilters {
            object: Some(format!("client:{}", view.client_id)),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(of_client.total, 4);
    let client_kinds = entries(
        admin,
        AuditFilters {
            kind: Some("client".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(client_kinds.total, 4);
    let by_object_family = entries(
        admin,
        AuditFilters {
            object: Some("api_key".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        kinds(&by_object_family),
        ["api_key.revoked", "api_key.created"]
    );
    let first = entries(
        admin,
        AuditFilters {
            limit: Some(4),
            ..Default::default()
        },
    )
    .await;
    let second = entries(
        admin,
        AuditFilters {
            limit: Some(4),
            offset: Some(4),
            ..Default::default()
        },
    )
    .await;
    assert_eq!((first.entries.len(), second.entries.len()), (4, 4));
    assert!(
        first.entries.last().unwrap().id > second.entries[0].id,
        "pages do not overlap"
    );
    let nobody = entries(
        admin,
        AuditFilters {
            actor: Some("user:nobody".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(nobody.total, 0);
    let future = entries(
        admin,
        AuditFilters {
            since: Some("2999-01-01T00:00:00Z".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(future.total, 0);
    let recent = entries(
        admin,
        AuditFilters {
            since: Some("1h".into()),
            until: Some("2999-01-01T00:00:00Z".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(recent.total, 11);
    let refused = admin
        .audit(&AuditFilters {
            since: Some("last tuesday".into()),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("since"), "{refused}");
    let wildcard = entries(
        admin,
        AuditFilters {
            object: Some("%".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(wildcard.total, 0, "LIKE wildcards are taken literally");
    for query in ["limit=-1", "offset=many", "limit=99999999999", "since=%FF"] {
        let refused = server
            .http
            .get(server.url(&format!("/admin/api/audit?{query}")))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .unwrap();
        let status = refused.status();
        let body: Value = refused.json().await.unwrap();
        assert!(status == 400 || status == 422, "{query}: {status} {body}");
        assert!(body["errors"].is_object(), "{query}: {body}");
    }
    let huge = entries(
        admin,
        AuditFilters {
            limit: Some(u32::MAX),
            offset: Some(u32::MAX),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        (huge.limit, huge.entries.len()),
        (200, 0),
        "a page is at most 200"
    );
}

async fn security_events_are_recorded(backend: Backend) {
    let Some(url) = crate::support::fresh_database_url(backend).await else {
        return;
    };
    let server = spawn_on(&url, Default::default()).await;
    let (view, client) = server.create_client("revoker", "core.invoice.read").await;
    let token = server.access_token(&client, None).await;
    assert_eq!(server.revoke(&client, &token).await.status(), 200);
    let page = entries(
        &server.admin,
        AuditFilters {
            kind: Some("access_token".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(kinds(&page), ["access_token.revoked"]);
    assert_eq!(page.entries[0].actor, format!("client:{}", view.client_id));
    assert!(!serde_json::to_string(&page).unwrap().contains(&token));

    // Wrong secrets are counted, and written as one entry per client and address (at the
    // latest when the server stops): a flood costs no database write per attempt.
    let wrong = crate::support::Credentials {
        id: client.id.clone(),
        secret: "not the secret".into(),
    };
    let nobody = crate::support::Credentials {
        id: "no-such-client".into(),
        secret: "whatever".into(),
    };
    for (credentials, attempts) in [(&wrong, 3), (&nobody, 2)] {
        for _ in 0..attempts {
            let refused = server.client_credentials(credentials, &[]).await;
            assert_eq!(refused.status(), 401);
        }
    }
    // Wrong admin tokens lock the address after 20: the lock is recorded.
    for _ in 0..20 {
        let refused = server
            .http
            .get(server.url("/admin/api/clients"))
            .bearer_auth("not-the-admin-token-0123456789abcdef")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), 401);
    }
    drop(server);
    let store = coupa_server::store::open(&url).await.unwrap();
    let locks = store
        .audit_entries(
            &coupa_server::domain::audit::AuditQuery {
                kind: Some("sign_in.locked".into()),
                ..Default::default()
            }
            .bounded(),
        )
        .await
        .unwrap()
        .0;
    assert_eq!(locks.len(), 1);
    assert_eq!(locks[0].entry.object, "admin:127.0.0.1");
    assert_eq!(locks[0].entry.details["locked_for_seconds"], 30);
    let query = coupa_server::domain::audit::AuditQuery {
        kind: Some("client.authentication_failed".into()),
        ..Default::default()
    }
    .bounded();
    let mut counted = Vec::new();
    for _ in 0..50 {
        counted = store
            .audit_entries(&query)
            .await
            .unwrap()
            .0
            .into_iter()
            .map(|stored| {
                (
                    stored.entry.actor,
                    stored.entry.address,
                    stored.entry.details["failures"].as_u64().unwrap(),
                )
            })
            .collect();
        if counted.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    counted.sort();
    assert_eq!(
        counted,
        [
            (format!("client:{}", view.client_id), "127.0.0.1".into(), 3),
            ("client:unknown".into(), "127.0.0.1".into(), 2)
        ]
    );
}

on_both_backends!(
    every_admin_change_is_recorded_with_who_where_and_what,
    security_events_are_recorded,
);

#[tokio::test]
async fn coupa_admin_audit_prints_the_trail_and_old_entries_are_purged() {
    let url = crate::support::fresh_sqlite_url();
    let store = coupa_server::store::open(&url).await.unwrap();
    let now = coupa_server::domain::time::now_unix();
    for (age_days, kind) in [(401, "client.ancient"), (399, "client.old")] {
        store
            .append_audit(&coupa_server::domain::audit::AuditEntry {
                at: now - age_days * 86_400,
                actor: "system".into(),
                address: String::new(),
                kind: kind.into(),
                object: "client:x".into(),
                details: Value::Null,
            })
            .await
            .unwrap();
    }
    drop(store);
    // The purge runs as the server starts: past the retention (400 days) goes.
    let server = spawn_on(&url, Default::default()).await;
    server.create_client("listed", "core.invoice.read").await;
    let all = entries(
        &server.admin,
        AuditFilters {
            since: Some("3650d".into()),
            ..Default::default()
        },
    )
    .await;
    let mut found = Vec::new();
    for _ in 0..50 {
        found = kinds(
            &entries(
                &server.admin,
                AuditFilters {
                    since: Some("3650d".into()),
                    ..Default::default()
                },
            )
            .await,
        )
        .into_iter()
        .map(str::to_string)
        .collect();
        if !found.iter().any(|kind| kind == "client.ancient") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(found, ["client.created", "client.old"], "{all:?}");

    let env = [
        ("COUPA_URL", server.url.as_str()),
        ("COUPA_ADMIN_TOKEN", ADMIN_TOKEN),
    ];
    let listed = coupa(
        &["admin", "audit", "--since", "1h", "--output", "json"],
        &env,
    )
    .await;
    assert!(listed.success, "{}", listed.stderr);
    let page: Value = serde_json::from_str(&listed.stdout).unwrap();
    assert_eq!(page["total"], 1);
    assert_eq!(page["entries"][0]["kind"], "client.created");
    let text = coupa(
        &["admin", "audit", "--since", "3650d", "--limit", "1"],
        &env,
    )
    .await;
    assert!(text.success, "{}", text.stderr);
    assert!(text.stdout.starts_with("AT"), "{}", text.stdout);
    assert!(text.stdout.contains("--offset 1"), "{}", text.stdout);
}

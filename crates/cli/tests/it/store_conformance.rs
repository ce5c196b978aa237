//! One conformance suite, run against every `Store` implementation.

use coupa_proto::admin::CreateUser;
use coupa_server::domain::client::ClientRecord;
use coupa_server::domain::user::UserRecord;
use coupa_server::store::{StoreError, StoredKey};

use crate::support::{Backend, client_input, open_store};

fn record(login: &str) -> ClientRecord {
    ClientRecord::create(
        client_input(login, "core.invoice.read core.expense.read"),
        1_000,
    )
    .unwrap()
    .0
}

async fn clients_round_trip(backend: Backend) {
    let Some(store) = open_store(backend).await else {
        return;
    };
    let client = record("round-trip");
    store.insert_client(&client).await.unwrap();
    assert_eq!(
        store.client(&client.client_id).await.unwrap(),
        Some(client.clone())
    );
    assert_eq!(store.clients().await.unwrap(), vec![client.clone()]);
    assert_eq!(store.client("missing").await.unwrap(), None);
}

async fn logins_are_unique_ignoring_case(backend: Backend) {
    let Some(store) = open_store(backend).await else {
        return;
    };
    store.insert_client(&record("Unique")).await.unwrap();
    let clash = store.insert_client(&record("uNIQUE")).await;
    assert!(
        matches!(clash, Err(StoreError::Taken("login"))),
        "{clash:?}"
    );
    assert_eq!(
        store.clients().await.unwrap().len(),
        1,
        "nothing half-written"
    );
}

async fn updates_are_compare_and_swap(backend: Backend) {
    let Some(store) = open_store(backend).await else {
        return;
    };
    let mut client = record("cas");
    store.insert_client(&client).await.unwrap();
    let mut stale = client.clone();
    client.name = "first".into();
    client.version += 1;
    store.update_client(&client).await.unwrap();
    stale.name = "second".into();
    stale.version += 1;
    assert!(matches!(
        store.update_client(&stale).await,
        Err(StoreError::Stale)
    ));
    let stored = store.client(&client.client_id).await.unwrap().unwrap();
    assert_eq!(stored.name, "first");
    let mut rotated = stored.clone();
    rotated.rotate_secret(2_000, 60).unwrap();
    rotated.version += 1;
    store.update_client(&rotated).await.unwrap();
    assert_eq!(
        store.client(&client.client_id).await.unwrap(),
        Some(rotated)
    );
}

async fn delete_frees_the_login(backend: Backend) {
    let Some(store) = open_store(backend).await else {
        return;
    };
    let client = record("freed");
    store.insert_client(&client).await.unwrap();
    assert!(store.delete_client(&client.client_id).await.unwrap());
    assert!(!store.delete_client(&client.client_id).await.unwrap());
    store.insert_client(&record("freed")).await.unwrap();
}

async fn one_active_signing_key_per_algorithm(backend: Backend) {
    let Some(store) = open_store(backend).await else {
        return;
    };
    let key = |kid: &str, alg: &str| StoredKey {
        kid: kid.into(),
        alg: alg.into(),
        private_key: vec![1, 2, 3],
        created_at: 5,
        active: true,
    };
    assert!(
        store
            .insert_signing_key_if_none_active(&key("a", "ES256"))
            .await
            .unwrap()
    );
    assert!(
        !store
            .insert_signing_key_if_none_active(&key("b", "ES256"))
            .await
            .unwrap()
    );
    assert!(
        store
            .insert_signing_key_if_none_active(&key("c", "RS256"))
            .await
            .unwrap()
    );
    let kids: Vec<String> = store
        .signing_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.kid)
        .collect();
    assert_eq!(kids, vec!["a".to_string(), "c".to_string()]);
}

async fn settings_are_set_once(backend: Backend) {
    let Some(store) = open_store(backend).await else {
        return;
    };
    assert_eq!(store.setting("x").await.unwrap(), None);
    assert!(store.insert_setting_if_absent("x", "1").await.unwrap());
    assert!(!store.insert_setting_if_absent("x", "2").await.unwrap());
    assert_eq!(store.setting("x").await.unwrap().as_deref(), Some("1"));
    store.ping().await.unwrap();
}

async fn concurrent_inserts_of_one_login_let_exactly_one_win(backend: Backend) {
    let Some(store) = open_store(backend).await else {
        return;
    };
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.insert_client(&record("contended")).await
        }));
    }
    let mut won = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => won += 1,
            Err(StoreError::Taken("login")) => {}
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(store.clients().await.unwrap().len(), 1);
}

async fn api_keys_are_stored_revoked_and_touched(backend: Backend) {
    let Some(store) = open_store(backend).await else {
        return;
    };
    let (key, _) = coupa_server::domain::api_key::ApiKeyRecord::create(
        "Legacy",
        None,
        Some("core.invoice.read"),
        100,
    )
    .unwrap();
    store.insert_api_key(&key).await.unwrap();
    assert_eq!(store.api_keys().await.unwrap(), vec![key.clone()]);
    store
        .touch_api_key(&key.key_id, 200, "10.0.0.7")
        .await
        .unwrap();
    assert!(store.revoke_api_key(&key.key_id, 300).await.unwrap());
    assert!(
        store.revoke_api_key(&key.key_id, 400).await.unwrap(),
        "revoking twice keeps the first time"
    );
    assert!(!store.revoke_api_key("missing", 300).await.unwrap());
    let stored = store.api_keys().await.unwrap().pop().unwrap();
    assert_eq!(
        (
            stored.last_used_at,
            stored.last_used_from.as_deref(),
            stored.revoked_at
        ),
        (Some(200), Some("10.0.0.7"), Some(300))
    );
}

fn user(login: &str) -> UserRecord {
    UserRecord::create(
        CreateUser {
            login: login.into(),
            email: format!("{}@example.com", login.to_lowercase()),
            name: "A User".into(),
            password: "a long enough password".into(),
            admin: false,
        },
        1_000,
    )
    .unwrap()
}

async fn users_share_logins_with_clients_and_update_by_compare_and_swap(backend: Backend) {
    let Some(store) = open_store(backend).await else {
        return;
    };
    let ada = user("Ada");
    store.insert_user(&ada).await.unwrap();
    assert_eq!(store.user(&ada.user_id).await.unwrap(), Some(ada.clone()));
    assert_eq!(store.user_by_login("ADA").await.unwrap(), Some(ada.clone()));
    assert_eq!(store.user_by_login("nobody").await.unwrap(), None);
    assert!(matches!(
        store.insert_user(&user("ada")).await,
        Err(StoreError::Taken("login"))
    ));
    assert!(matches!(
        store.insert_client(&record("aDa")).await,
        Err(StoreError::Taken("login"))
    ));
    store.insert_client(&record("sync-job")).await.unwrap();
    assert!(matches!(
        store.insert_user(&user("SYNC-JOB")).await,
        Err(StoreError::Taken("login"))
    ));
    assert_eq!(
        store.user_by_login("sync-job").await.unwrap(),
        None,
        "a client's login is not a user"
    );

    let mut changed = ada.clone();
    changed.name = "Ada King".into();
    changed.version += 1;
    store.update_user(&changed).await.unwrap();
    let mut stale = ada.clone();
    stale.version += 1;
    assert!(matches!(
        store.update_user(&stale).await,
        Err(StoreError::Stale)
    ));
    assert_eq!(store.users().await.unwrap(), vec![changed]);
}

macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Backend::Postgres).await;
                }
            )*
        }
    };
}

conformance!(
    clients_round_trip,
    logins_are_unique_ignoring_case,
    updates_are_compare_and_swap,
    delete_frees_the_login,
    one_active_signing_key_per_algorithm,
    settings_are_set_once,
    concurrent_inserts_of_one_login_let_exactly_one_win,
    api_keys_are_stored_revoked_and_touched,
    users_share_logins_with_clients_and_update_by_compare_and_swap,
);

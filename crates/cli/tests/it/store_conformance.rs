//! One conformance suite, run against every `Store` implementation.

use coupa_proto::admin::CreateUser;
use coupa_server::domain::client::ClientRecord;
use coupa_server::domain::grant::{
    CodeRecord, CodeRedemption, GrantRecord, RefreshTokenRecord, Rotation, SessionRecord,
};
use coupa_server::domain::key_schedule::{KeyTimes, TimesChange};
use coupa_server::domain::scope::ScopeSet;
use coupa_server::domain::user::UserRecord;
use coupa_server::store::{StoreError, StoredKey};

use crate::support::on_both_backends;
use crate::support::{Backend, client_input, open_store};

fn record(login: &str) -> ClientRecord {
    ClientRecord::create(
        client_input(login, "core.invoice.read core.expense.read"),
        1_000,
        Default::default(),
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

async fn signing_keys_one_per_generation_and_plans_all_or_nothing(backend: Backend) {
    let Some(store) = open_store(backend).await else {
        return;
    };
    let key = |kid: &str, alg: &str, generation: i64| StoredKey {
        kid: kid.into(),
        alg: alg.into(),
        private_key: vec![1, 2, 3],
        created_at: 5,
        generation,
        activate_at: 5,
        retired_at: None,
        expires_at: None,
        kek_id: None,
    };
    assert!(
        store
            .insert_signing_key(&key("a", "ES256", 1))
            .await
            .unwrap()
    );
    assert!(
        !store
            .insert_signing_key(&key("b", "ES256", 1))
            .await
            .unwrap(),
        "a second key of one generation loses the race"
    );
    assert!(
        store
            .insert_signing_key(&key("c", "RS256", 1))
            .await
            .unwrap()
    );
    let kids = |keys: Vec<StoredKey>| keys.into_iter().map(|k| k.kid).collect::<Vec<_>>();
    assert_eq!(kids(store.signing_keys().await.unwrap()), ["a", "c"]);

    let times = |activate_at, retired_at, expires_at| KeyTimes {
        activate_at,
        retired_at,
        expires_at,
    };
    let retire_a = TimesChange {
        kid: "a".into(),
        before: times(5, None, None),
        after: times(5, Some(100), Some(200)),
    };
    let mut next = key("d", "ES256", 2);
    next.activate_at = 100;
    assert!(
        store
            .apply_key_plan(Some(&next), std::slice::from_ref(&retire_a), &[])
            .await
            .unwrap()
    );
    let a = store.signing_keys().await.unwrap().remove(0);
    assert_eq!((a.retired_at, a.expires_at), (Some(100), Some(200)));
    let mut late = key("e", "ES256", 3);
    late.activate_at = 300;
    assert!(
        !store
            .apply_key_plan(Some(&late), &[retire_a], &["c".into()])
            .await
            .unwrap(),
        "planned from stale instants: nothing written"
    );
    assert_eq!(kids(store.signing_keys().await.unwrap()), ["a", "d", "c"]);
    assert!(
        !store
            .apply_key_plan(Some(&key("f", "ES256", 2)), &[], &[])
            .await
            .unwrap(),
        "a generation taken meanwhile"
    );
    assert!(
        store
            .apply_key_plan(None, &[], &["d".into()])
            .await
            .unwrap()
    );
    assert_eq!(kids(store.signing_keys().await.unwrap()), ["a", "c"]);
    assert_eq!(
        store.purge_expired(201).await.unwrap(),
        1,
        "a expired at 200"
    );
    assert_eq!(kids(store.signing_keys().await.unwrap()), ["c"]);
    assert!(
        store
            .insert_signing_key(&key("a", "ES256", 1))
            .await
            .unwrap()
    );
    store.seal_signing_key("a", &[9, 9], "kek-1").await.unwrap();
    store.seal_signing_key("a", &[8, 8], "kek-2").await.unwrap();
    let sealed = store.signing_keys().await.unwrap().remove(0);
    assert_eq!(
        (sealed.private_key, sealed.kek_id.as_deref()),
        (vec![9, 9], Some("kek-1")),
        "sealed once, never over a sealed key"
    );
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
    for (calls, at, from) in [(1, 310, "10.0.0.8"), (4, 370, "10.0.0.9"), (2, 350, "late")] {
        store
            .add_refused_api_key_calls(&key.key_id, calls, at, from)
            .await
            .unwrap();
    }
    let stored = store.api_keys().await.unwrap().pop().unwrap();
    assert_eq!(
        (
            stored.refused_calls,
            stored.last_refused_at,
            stored.last_refused_from.as_deref()
        ),
        (7, Some(370), Some("10.0.0.9")),
        "counts add up; the latest call stays the latest when an older batch lands after it"
    );
}

async fn api_key_sources_keep_each_address_first_and_last_use(backend: Backend) {
    let Some(store) = open_store(backend).await else {
        return;
    };
    let (key, _) =
        coupa_server::domain::api_key::ApiKeyRecord::create("Legacy", None, None, 100).unwrap();
    store.insert_api_key(&key).await.unwrap();
    for (at, from) in [
        (200, "10.0.0.1"),
        (300, "10.0.0.2"),
        (400, "10.0.0.1"),
        (150, "10.0.0.1"),
    ] {
        store.touch_api_key(&key.key_id, at, from).await.unwrap();
    }
    store
        .touch_api_key("missing", 500, "10.0.0.9")
        .await
        .unwrap();
    let sources: Vec<(String, i64, i64)> = store
        .api_key_sources()
        .await
        .unwrap()
        .into_iter()
        .map(|source| {
            assert_eq!(source.key_id, key.key_id);
            (source.address, source.first_used_at, source.last_used_at)
        })
        .collect();
    assert_eq!(
        sources,
        [
            ("10.0.0.1".to_string(), 150, 400),
            ("10.0.0.2".to_string(), 300, 300)
        ],
        "latest first; a late write of an older use moves nothing back; no unknown key"
    );
    let stored = store.api_keys().await.unwrap().pop().unwrap();
    assert_eq!(
        (stored.last_used_at, stored.last_used_from.as_deref()),
        (Some(400), Some("10.0.0.1"))
    );
}

async fn client_token_times_only_move_forward(backend: Backend) {
    let Some(store) = open_store(backend).await else {
        return;
    };
    let client = record("token-times");
    store.insert_client(&client).await.unwrap();
    store.insert_client(&record("never-issued")).await.unwrap();
    assert!(store.client_token_times().await.unwrap().is_empty());
    store
        .touch_client_token(&client.client_id, 500)
        .await
        .unwrap();
    store
        .touch_client_token(&client.client_id, 400)
        .await
        .unwrap();
    assert_eq!(
        store.client_token_times().await.unwrap(),
        vec![(client.client_id.clone(), 500)]
    );
    let mut updated = store.client(&client.client_id).await.unwrap().unwrap();
    updated.name = "Renamed".into();
    updated.version += 1;
    store.update_client(&updated).await.unwrap();
    assert_eq!(
        store.client_token_times().await.unwrap(),
        vec![(client.client_id.clone(), 500)],
        "an admin update keeps the last token time"
    );
    assert!(store.login_taken("TOKEN-times").await.unwrap());
    assert!(!store.login_taken("nobody").await.unwrap());
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
        &mut Default::default(),
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

fn grant_and_code(grant_id: &str, code: &[u8]) -> (GrantRecord, CodeRecord) {
    (
        GrantRecord {
            grant_id: grant_id.into(),
            client_id: "client".into(),
            user_id: "user".into(),
            scopes: ScopeSet::parse("openid offline_access"),
            auth_time: 100,
            nonce: Some("n".into()),
            created_at: 100,
            revoked_at: None,
        },
        CodeRecord {
            code_digest: code.to_vec(),
            grant_id: grant_id.into(),
            redirect_uri: "https://app.example/cb".into(),
            redirect_uri_given: true,
            code_challenge: None,
            code_challenge_method: None,
            expires_at: 700,
            used_at: None,
        },
    )
}

fn refresh(digest: &[u8], grant_id: &str) -> RefreshTokenRecord {
    RefreshTokenRecord {
        token_digest: digest.to_vec(),
        grant_id: grant_id.into(),
        scopes: ScopeSet::parse("openid offline_access"),
        issued_at: 100,
        expires_at: 10_000,
        rotated_at: None,
    }
}

async fn codes_are_spent_once_even_concurrently(backend: Backend) {
    let Some(store) = open_store(backend).await else {
        return;
    };
    let (grant, code) = grant_and_code("g1", b"code-1");
    store.insert_grant_with_code(&grant, &code).await.unwrap();
    assert_eq!(
        store
            .redeem_code(b"code-1", "another-client", 150)
            .await
            .unwrap(),
        CodeRedemption::OtherClient,
        "another client's attempt spends nothing"
    );
    let attempts: Vec<_> = (0..8)
        .map(|_| {
            let store = std::sync::Arc::clone(&store);
            tokio::spawn(async move { store.redeem_code(b"code-1", "client", 200).await.unwrap() })
        })
        .collect();
    let mut redeemed = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            CodeRedemption::Redeemed(redeemed_code) => {
                let (code, stored_grant) = *redeemed_code;
                redeemed += 1;
                assert_eq!(code.used_at, Some(200));
                assert_eq!(stored_grant, grant);
            }
            CodeRedemption::Replayed { grant_id } => assert_eq!(grant_id, "g1"),
            CodeRedemption::Unknown | CodeRedemption::OtherClient => {
                panic!("the code exists and is the client's")
            }
        }
    }
    assert_eq!(redeemed, 1, "exactly one redemption");
    assert_eq!(
        store.redeem_code(b"nope", "client", 200).await.unwrap(),
        CodeRedemption::Unknown
    );
}

async fn refresh_rotation_is_atomic_with_a_grace_window(backend: Backend) {
    let Some(store) = open_store(backend).await else {
        return;
    };
    let (grant, code) = grant_and_code("g2", b"code-2");
    store.insert_grant_with_code(&grant, &code).await.unwrap();
    store
        .insert_refresh_token(&refresh(b"rt-0", "g2"))
        .await
        .unwrap();
    let (found, found_grant) = store.refresh_token(b"rt-0").await.unwrap().unwrap();
    assert_eq!(found, refresh(b"rt-0", "g2"));
    assert_eq!(found_grant.grant_id, "g2");

    let attempts: Vec<_> = (0..8u8)
        .map(|n| {
            let store = std::sync::Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .rotate_refresh_token(b"rt-0", &refresh(&[b'n', n], "g2"), 500, 0)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for attempt in attempts {
        outcomes.push(attempt.await.unwrap());
    }
    let rotated = outcomes.iter().filter(|o| **o == Rotation::Rotated).count();
    assert_eq!(rotated, 1, "exactly one new token: {outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, Rotation::Rotated | Rotation::Reused { .. })),
        "without a grace window the others are reuse: {outcomes:?}"
    );

    assert_eq!(
        store
            .rotate_refresh_token(b"rt-0", &refresh(b"late", "g2"), 503, 5)
            .await
            .unwrap(),
        Rotation::JustRotated
    );
    assert_eq!(
        store
            .rotate_refresh_token(b"rt-0", &refresh(b"late", "g2"), 506, 5)
            .await
            .unwrap(),
        Rotation::Reused {
            grant_id: "g2".into()
        }
    );
    assert_eq!(
        store
            .rotate_refresh_token(b"never", &refresh(b"x", "g2"), 506, 5)
            .await
            .unwrap(),
        Rotation::Unknown
    );
}

async fn revoking_a_grant_stops_its_refresh_tokens_and_is_followed(backend: Backend) {
    let Some(store) = open_store(backend).await else {
        return;
    };
    let (grant, code) = grant_and_code("g3", b"code-3");
    store.insert_grant_with_code(&grant, &code).await.unwrap();
    store
        .insert_refresh_token(&refresh(b"rt-3", "g3"))
        .await
        .unwrap();
    let before = store.revocations_since(0, i64::MAX, 0).await.unwrap();
    let last = before.last().map_or(0, |r| r.seq);
    assert!(store.revoke_grant("g3", 600, 90_000).await.unwrap());
    assert!(
        !store.revoke_grant("g3", 601, 90_000).await.unwrap(),
        "once"
    );
    assert_eq!(
        store
            .rotate_refresh_token(b"rt-3", &refresh(b"rt-4", "g3"), 700, 5)
            .await
            .unwrap(),
        Rotation::Reused {
            grant_id: "g3".into()
        },
        "a revoked grant's token cannot rotate"
    );
    store
        .revoke_access_token("jti-9", 80_000, 650)
        .await
        .unwrap();
    let followed = store
        .revocations_since(last, i64::MAX, 1_000)
        .await
        .unwrap();
    let kinds: Vec<(&str, &str)> = followed
        .iter()
        .map(|r| (r.kind.as_str(), r.value.as_str()))
        .collect();
    assert_eq!(kinds, vec![("grant", "g3"), ("jti", "jti-9")]);
    assert!(
        store
            .revocations_since(last, i64::MAX, 85_000)
            .await
            .unwrap()
            .len()
            == 1,
        "expired ones drop out"
    );
    assert_eq!(
        store.grant("g3").await.unwrap().unwrap().revoked_at,
        Some(600)
    );
}

async fn sessions_round_trip(backend: Backend) {
    let Some(store) = open_store(backend).await else {
        return;
    };
    let session = SessionRecord {
        session_digest: vec![7; 32],
        user_id: "u".into(),
        auth_time: 5,
        expires_at: 50,
    };
    store.insert_session(&session).await.unwrap();
    assert_eq!(store.session(&[7; 32]).await.unwrap(), Some(session));
    store.delete_session(&[7; 32]).await.unwrap();
    assert_eq!(store.session(&[7; 32]).await.unwrap(), None);
}

async fn reveals_are_taken_once_by_their_session_before_they_expire(backend: Backend) {
    let Some(store) = open_store(backend).await else {
        return;
    };
    let (mine, theirs) = ([1u8; 32], [2u8; 32]);
    store
        .keep_reveal(&mine, "client:a", b"first", 100)
        .await
        .unwrap();
    store
        .keep_reveal(&mine, "client:a", b"second", 100)
        .await
        .unwrap();
    assert_eq!(
        store.take_reveal(&theirs, "client:a", 50).await.unwrap(),
        None,
        "another session sees nothing"
    );
    assert_eq!(
        store.take_reveal(&mine, "client:b", 50).await.unwrap(),
        None
    );
    assert_eq!(
        store.take_reveal(&mine, "client:a", 50).await.unwrap(),
        Some(b"second".to_vec()),
        "a later keep replaces the earlier"
    );
    assert_eq!(
        store.take_reveal(&mine, "client:a", 50).await.unwrap(),
        None,
        "taken once"
    );
    store
        .keep_reveal(&mine, "client:a", b"late", 100)
        .await
        .unwrap();
    assert_eq!(
        store.take_reveal(&mine, "client:a", 100).await.unwrap(),
        None,
        "expired"
    );
    store
        .keep_reveal(&theirs, "client:a", b"old", 100)
        .await
        .unwrap();
    store
        .keep_reveal(&theirs, "client:b", b"new", 300)
        .await
        .unwrap();
    store.purge_expired(200).await.unwrap();
    assert_eq!(
        store.take_reveal(&theirs, "client:a", 0).await.unwrap(),
        None,
        "purged"
    );
    assert_eq!(
        store.take_reveal(&theirs, "client:b", 200).await.unwrap(),
        Some(b"new".to_vec())
    );
}

async fn device_decisions_happen_once(backend: Backend) {
    use coupa_server::domain::device::{DeviceRecord, DeviceStatus};
    let Some(store) = open_store(backend).await else {
        return;
    };
    let device = DeviceRecord {
        device_digest: b"dev-1".to_vec(),
        user_code: "BCDFGHJK".into(),
        client_id: "client".into(),
        scopes: ScopeSet::parse("openid"),
        expires_at: 1_000,
        interval: 5,
        last_polled_at: None,
        status: DeviceStatus::Pending,
        grant_id: None,
    };
    store.insert_device_authorization(&device).await.unwrap();
    let clash = DeviceRecord {
        device_digest: b"dev-2".to_vec(),
        ..device.clone()
    };
    assert!(matches!(
        store.insert_device_authorization(&clash).await,
        Err(StoreError::Taken("user_code"))
    ));
    let (grant, _) = grant_and_code("g-dev", b"unused");
    assert!(
        !store
            .approve_device("BCDFGHJK", &grant, 1_000)
            .await
            .unwrap(),
        "expired"
    );
    assert!(store.approve_device("BCDFGHJK", &grant, 500).await.unwrap());
    assert!(
        !store.approve_device("BCDFGHJK", &grant, 500).await.unwrap(),
        "once"
    );
    assert!(!store.deny_device("BCDFGHJK").await.unwrap());
    assert_eq!(
        store.grant("g-dev").await.unwrap().unwrap().client_id,
        "client"
    );
    store.record_device_poll(b"dev-1", 510, 10).await.unwrap();
    let stored = store.device(b"dev-1").await.unwrap().unwrap();
    assert_eq!(
        (stored.status, stored.interval, stored.last_polled_at),
        (DeviceStatus::Approved, 10, Some(510))
    );
    assert_eq!(stored.grant_id.as_deref(), Some("g-dev"));
    let consumers: Vec<_> = (0..6)
        .map(|_| {
            let store = std::sync::Arc::clone(&store);
            tokio::spawn(async move { store.consume_device(b"dev-1").await.unwrap() })
        })
        .collect();
    let mut consumed = 0;
    for consumer in consumers {
        consumed += usize::from(consumer.await.unwrap());
    }
    assert_eq!(consumed, 1, "tokens are handed out once");
}

async fn sign_in_failures_count_lock_forget_and_clear(backend: Backend) {
    let Some(store) = open_store(backend).await else {
        return;
    };
    let key = "login:ada";
    for expected in 1..=3 {
        assert_eq!(
            store
                .record_sign_in_failure(key, 100 + expected, 0)
                .await
                .unwrap(),
            expected
        );
    }
    assert_eq!(
        store.record_sign_in_failure(key, 1000, 500).await.unwrap(),
        1,
        "a failure after a quiet spell starts again"
    );
    let keys = vec![key.to_string(), "address:127.0.0.1".to_string()];
    assert_eq!(store.sign_in_locked_until(&keys).await.unwrap(), 0);
    store.lock_sign_in(key, 2000).await.unwrap();
    store.lock_sign_in(key, 1500).await.unwrap();
    assert_eq!(
        store.sign_in_locked_until(&keys).await.unwrap(),
        2000,
        "a lock never shortens"
    );
    store.clear_sign_in_failures(key).await.unwrap();
    assert_eq!(store.sign_in_locked_until(&keys).await.unwrap(), 0);
}

async fn the_janitor_deletes_only_what_expired(backend: Backend) {
    use coupa_server::domain::device::{DeviceRecord, DeviceStatus};
    let Some(store) = open_store(backend).await else {
        return;
    };
    let now = 10_000;
    for (digest, expires_at) in [(vec![1; 32], now - 1), (vec![2; 32], now + 100)] {
        let session = SessionRecord {
            session_digest: digest,
            user_id: "u".into(),
            auth_time: 5,
            expires_at,
        };
        store.insert_session(&session).await.unwrap();
    }
    // Codes of grant_and_code expire at 700, refresh tokens of refresh() at 10 000.
    let (grant, code) = grant_and_code("g-old", b"old-code");
    store.insert_grant_with_code(&grant, &code).await.unwrap();
    store
        .insert_refresh_token(&RefreshTokenRecord {
            expires_at: now - 5,
            ..refresh(b"old-refresh", "g-old")
        })
        .await
        .unwrap();
    store
        .insert_refresh_token(&RefreshTokenRecord {
            expires_at: now + 5,
            ..refresh(b"live-refresh", "g-old")
        })
        .await
        .unwrap();
    for (digest, code, expires_at) in [
        (b"dev-old", "BCDFGHJK", now - 1),
        (b"dev-new", "BCDFGHJL", now + 1),
    ] {
        let device = DeviceRecord {
            device_digest: digest.to_vec(),
            user_code: code.into(),
            client_id: "client".into(),
            scopes: ScopeSet::parse("openid"),
            expires_at,
            interval: 5,
            last_polled_at: None,
            status: DeviceStatus::Pending,
            grant_id: None,
        };
        store.insert_device_authorization(&device).await.unwrap();
    }
    store
        .revoke_access_token("old-jti", now - 1, now - 100)
        .await
        .unwrap();
    store
        .revoke_access_token("live-jti", now + 1, now - 100)
        .await
        .unwrap();
    store
        .record_sign_in_failure("login:old", now - 2_000, 0)
        .await
        .unwrap();
    store
        .record_sign_in_failure("login:recent", now - 10, 0)
        .await
        .unwrap();

    let deleted = store.purge_expired(now).await.unwrap();
    assert_eq!(
        deleted, 6,
        "one each of session, code, refresh token, device, revocation and counter"
    );
    assert!(store.session(&[1; 32]).await.unwrap().is_none());
    assert!(store.session(&[2; 32]).await.unwrap().is_some());
    assert!(store.refresh_token(b"old-refresh").await.unwrap().is_none());
    assert!(
        store
            .refresh_token(b"live-refresh")
            .await
            .unwrap()
            .is_some()
    );
    assert!(store.device(b"dev-old").await.unwrap().is_none());
    assert!(store.device(b"dev-new").await.unwrap().is_some());
    let revocations: Vec<String> = store
        .revocations_since(0, i64::MAX, 0)
        .await
        .unwrap()
        .into_iter()
        .map(|revocation| revocation.value)
        .collect();
    assert_eq!(revocations, vec!["live-jti".to_string()]);
    assert_eq!(
        store
            .record_sign_in_failure("login:recent", now, 0)
            .await
            .unwrap(),
        2,
        "a recent counter is kept"
    );
    assert_eq!(
        store.redeem_code(b"old-code", "client", now).await.unwrap(),
        CodeRedemption::Unknown
    );
}

/// A record table made by an earlier version, with fewer columns, gains the model's columns
/// and keeps its rows.
async fn record_tables_gain_new_columns_and_keep_their_rows(backend: Backend) {
    use coupa_server::api::{model, sql};
    use coupa_server::store::{SqlQuery, SqlValue};
    let Some(store) = open_store(backend).await else {
        return;
    };
    let statement = |sql: &str| SqlQuery {
        sql: sql.to_string(),
        binds: Vec::new(),
    };
    store
        .execute(&statement(
            "CREATE TABLE api_uoms (id BIGINT PRIMARY KEY, created_at BIGINT NOT NULL, \
             updated_at BIGINT NOT NULL, created_by TEXT, updated_by TEXT, code TEXT)",
        ))
        .await
        .unwrap();
    store
        .execute(&SqlQuery {
            sql: "INSERT INTO api_uoms (id, created_at, updated_at, code) VALUES (7, 1, 1, $1)"
                .into(),
            binds: vec![SqlValue::Text("EA".into())],
        })
        .await
        .unwrap();
    store
        .ensure_record_tables(&sql::create_tables)
        .await
        .unwrap();
    store
        .ensure_record_tables(&sql::create_tables)
        .await
        .unwrap();
    let uoms = model::object("uoms").unwrap();
    let rows = store
        .select_rows(&sql::by_ids(uoms, "id", &[7]))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        rows[0].len(),
        uoms.columns.len(),
        "every column of the model"
    );
    assert_eq!(
        rows[0][uoms.field("code").unwrap().slot].as_deref(),
        Some("EA")
    );
    assert_eq!(
        rows[0][uoms.field("allowable-precision").unwrap().slot],
        None
    );
}

/// The sandbox's reset: the demo data set again, numbered from 1, however often.
async fn clearing_records_restarts_their_numbering(backend: Backend) {
    let Some(store) = open_store(backend).await else {
        return;
    };
    store
        .ensure_record_tables(&coupa_server::api::sql::create_tables)
        .await
        .unwrap();
    let config = coupa_server::Config::resolve(Default::default(), None).unwrap();
    let invoices = coupa_server::store::SqlQuery {
        sql: "SELECT CAST(COUNT(*) AS TEXT), CAST(MIN(id) AS TEXT), CAST(MAX(id) AS TEXT) \
              FROM api_invoices"
            .into(),
        binds: Vec::new(),
    };
    let mut seen = Vec::new();
    for _ in 0..2 {
        coupa_server::demo::reset(store.as_ref(), &config)
            .await
            .unwrap();
        seen.push(store.select_rows(&invoices).await.unwrap());
    }
    assert_eq!(seen[0], seen[1], "the same rows after a second reset");
    assert_eq!(seen[0][0][1].as_deref(), Some("1"), "ids start from 1");
    let files = coupa_server::store::SqlQuery {
        sql: "SELECT CAST(COUNT(*) AS TEXT) FROM files".into(),
        binds: Vec::new(),
    };
    let before = store.select_rows(&files).await.unwrap();
    coupa_server::demo::reset(store.as_ref(), &config)
        .await
        .unwrap();
    assert_eq!(store.select_rows(&files).await.unwrap(), before);
}

on_both_backends!(
    clearing_records_restarts_their_numbering,
    record_tables_gain_new_columns_and_keep_their_rows,
    clients_round_trip,
    logins_are_unique_ignoring_case,
    updates_are_compare_and_swap,
    delete_frees_the_login,
    signing_keys_one_per_generation_and_plans_all_or_nothing,
    settings_are_set_once,
    concurrent_inserts_of_one_login_let_exactly_one_win,
    api_keys_are_stored_revoked_and_touched,
    api_key_sources_keep_each_address_first_and_last_use,
    client_token_times_only_move_forward,
    users_share_logins_with_clients_and_update_by_compare_and_swap,
    codes_are_spent_once_even_concurrently,
    refresh_rotation_is_atomic_with_a_grace_window,
    revoking_a_grant_stops_its_refresh_tokens_and_is_followed,
    sessions_round_trip,
    reveals_are_taken_once_by_their_session_before_they_expire,
    device_decisions_happen_once,
    sign_in_failures_count_lock_forget_and_clear,
    the_janitor_deletes_only_what_expired,
);

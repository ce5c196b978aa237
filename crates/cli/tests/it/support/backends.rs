//! The two stores every store-facing test runs on: a fresh SQLite file, or a fresh schema of
//! the machine's PostgreSQL; and `on_both_backends!`, which runs a test on each.

use std::path::PathBuf;
use std::sync::Arc;

use coupa_server::store::Store;
use tokio::sync::OnceCell;

const POSTGRES_BASE: &str = "postgres://postgres@127.0.0.1:5432/test";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A unique name for a test's database file or schema.
pub fn unique_name(prefix: &str) -> String {
    let bytes: [u8; 8] = rand_bytes();
    format!(
        "{prefix}{}",
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

fn rand_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    aws_lc_rs::rand::fill(&mut bytes).expect("system randomness");
    bytes
}

pub fn fresh_sqlite_url() -> String {
    let dir: PathBuf = std::env::temp_dir().join(unique_name("coupa-test-"));
    std::fs::create_dir_all(&dir).expect("temp dir");
    format!("sqlite://{}", dir.join("coupa.db").display())
}

static POSTGRES_READY: OnceCell<bool> = OnceCell::const_new();

/// A URL for a fresh, empty schema, or None (loudly) when no PostgreSQL is reachable
/// outside CI. In CI an unreachable PostgreSQL fails the test.
pub async fn fresh_postgres_url() -> Option<String> {
    let ready = *POSTGRES_READY
        .get_or_init(|| async {
            match sqlx::PgPool::connect(POSTGRES_BASE).await {
                Ok(pool) => {
                    // Schemas of earlier runs.
                    let stale: Vec<String> = sqlx::query_scalar(
                        "SELECT nspname::text FROM pg_namespace WHERE nspname LIKE 'coupa_t_%'",
                    )
                    .fetch_all(&pool)
                    .await
                    .unwrap_or_default();
                    for schema in stale {
                        let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).execute(&pool).await;
                    }
                    true
                }
                Err(error) => {
                    if std::env::var_os("CI").is_some() {
                        panic!("PostgreSQL at {POSTGRES_BASE} is required in CI: {error}");
                    }
                    eprintln!(
                        "\n!!! SKIPPING PostgreSQL tests: cannot connect to {POSTGRES_BASE}: {error}\n\
                         !!! Start PostgreSQL (trust auth, database `test`) to run them.\n"
                    );
                    false
                }
            }
        })
        .await;
    if !ready {
        return None;
    }
    let schema = unique_name("coupa_t_");
    let pool = sqlx::PgPool::connect(POSTGRES_BASE)
        .await
        .expect("postgres");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&pool)
        .await
        .expect("create schema");
    pool.close().await;
    Some(format!(
        "{POSTGRES_BASE}?options=-c%20search_path%3D{schema}"
    ))
}

pub async fn fresh_database_url(backend: Backend) -> Option<String> {
    match backend {
        Backend::Sqlite => Some(fresh_sqlite_url()),
        Backend::Postgres => fresh_postgres_url().await,
    }
}

pub async fn open_store(backend: Backend) -> Option<Arc<dyn Store>> {
    let url = fresh_database_url(backend).await?;
    Some(
        coupa_server::store::open(&url)
            .await
            .unwrap_or_else(|error| panic!("{backend:?} store: {error}")),
    )
}

/// Runs each named `async fn name(backend: Backend)` of the current module as two tests,
/// `sqlite::name` and `postgres::name`.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::Backend::Postgres).await;
                }
            )*
        }
    };
}
pub(crate) use on_both_backends;

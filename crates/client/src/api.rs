//! The API of a Coupa instance: bearer tokens from the token manager, one forced refresh and
//! retry on a 401, retries with backoff on 429 and 503 (honouring `Retry-After`), a
//! client-side limiter shared by every task of a profile, and paging from offset 0.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use coupa_proto::rate::{Decision, Limit, decide};
use coupa_proto::scopes::scopes_granting;
use futures_util::Stream;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::objects::Resource;
use crate::profile::Format;
use crate::tokens::{TokenError, TokenManager, jitter};

/// Coupa's limit: 25 requests per second with a burst of 20.
pub const COUPA_LIMIT: Limit = Limit {
    per_second: 25.0,
    burst: 20,
};
/// Coupa pages by at most 50.
pub const PAGE_SIZE: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("cannot reach {url}: {reason}")]
    Unreachable { url: String, reason: String },
    #[error("{status} from {url}: {body}")]
    Status {
        status: u16,
        url: String,
        body: String,
    },
    #[error("the answer of {url} is not the JSON expected: {reason}")]
    Unexpected { url: String, reason: String },
    #[error(
        "the token cannot {operation}: that needs {}, and the token holds `{granted}`\nhint: add the scope to the client (Setup > OAuth2/OpenID Connect Clients) and to the profile's scope list",
        .needed.join(" or ")
    )]
    MissingScope {
        operation: String,
        needed: Vec<String>,
        granted: String,
    },
}

/// A client-side limiter: waits instead of refusing.
pub struct Limiter {
    limit: Option<Limit>,
    started: Instant,
    arrival: Mutex<Option<f64>>,
}

impl Limiter {
    pub fn new(limit: Option<Limit>) -> Self {
        Self {
            limit,
            started: Instant::now(),
            arrival: Mutex::new(None),
        }
    }

    pub async fn acquire(&self) {
        let Some(limit) = self.limit else { return };
        loop {
            let wait = {
                let mut arrival = self.arrival.lock().unwrap_or_else(PoisonError::into_inner);
                let (decision, next) =
                    decide(*arrival, self.started.elapsed().as_secs_f64(), limit);
                match decision {
                    Decision::Allow => {
                        *arrival = next;
                        None
                    }
                    Decision::Deny { retry_after } => Some(retry_after),
                }
            };
            match wait {
                None => return,
                Some(seconds) => tokio::time::sleep(Duration::from_secs_f64(seconds)).await,
            }
        }
    }
}

/// Builds Coupa filters: `attr=value` and `attr[op]=value`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters(Vec<(String, String)>);

impl Filters {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn eq(mut self, attribute: &str, value: impl ToString) -> Self {
        self.0.push((attribute.to_string(), value.to_string()));
        self
    }

    /// `op` is one of contains, starts_with, ends_with, blank, gt, lt, gt_or_eq, lt_or_eq,
    /// not_eq, in, not_in.
    pub fn op(mut self, attribute: &str, op: &str, value: impl ToString) -> Self {
        self.0
            .push((format!("{attribute}[{op}]"), value.to_string()));
        self
    }

    /// Parses `attr[op]=value` as written on a command line.
    pub fn parse(text: &str) -> Option<(String, String)> {
        let (name, value) = text.split_once('=')?;
        (!name.is_empty()).then(|| (name.to_string(), value.to_string()))
    }

    pub fn push(&mut self, name: String, value: String) {
        self.0.push((name, value));
    }

    pub fn pairs(&self) -> &[(String, String)] {
        &self.0
    }
}

/// Records one at a time; `futures_util::TryStreamExt` gives `try_next` and `try_collect`.
pub type RecordStream<'a, T> = Pin<Box<dyn Stream<Item = Result<T, ApiError>> + Send + 'a>>;

pub struct ApiClient {
    tokens: Arc<TokenManager>,
    http: reqwest::Client,
    limiter: Arc<Limiter>,
    max_attempts: u32,
}

/// An answer: status and body text.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

impl ApiClient {
    pub fn new(tokens: Arc<TokenManager>, http: reqwest::Client, limiter: Arc<Limiter>) -> Self {
        Self {
            tokens,
            http,
            limiter,
            max_attempts: 6,
        }
    }

    pub fn tokens(&self) -> &TokenManager {
        &self.tokens
    }

    fn url(&self, path: &str) -> String {
        format!(
            "{}/api/{}",
            self.tokens.profile().url,
            path.trim_start_matches('/')
        )
    }

    /// Sends one call with retries; `body` is JSON for POST and PUT.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
        accept: Format,
    ) -> Result<Answer, ApiError> {
        let url = self.url(path);
        let mut token = self.tokens.token().await?;
        let mut refreshed = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.limiter.acquire().await;
            let mut request = self
                .http
                .request(method.clone(), &url)
                .query(query)
                .bearer_auth(token.expose())
                .header("Accept", accept.media_type());
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request
                .send()
                .await
                .map_err(|error| ApiError::Unreachable {
                    url: url.clone(),
                    reason: crate::http::describe_send_error(&error),
                })?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let text = response.text().await.unwrap_or_default();
            match status {
                401 if !refreshed => {
                    refreshed = true;
                    token = self.tokens.force_refresh(&token).await?;
                }
                429 | 503 if attempt < self.max_attempts => {
                    let backoff = Duration::from_millis(250)
                        .saturating_mul(1 << attempt.min(10))
                        .mul_f64(jitter());
                    tokio::time::sleep(retry_after.unwrap_or(backoff)).await;
                }
                200..=299 => return Ok(Answer { status, body: text }),
                _ => {
                    return Err(ApiError::Status {
                        status,
                        url,
                        body: text,
                    });
                }
            }
        }
    }

    pub async fn get_json(
        &self,
        path: &str,
        query: &[(String, String)],
    ) -> Result<Value, ApiError> {
        self.call(reqwest::Method::GET, path, query, None).await
    }

    /// One JSON call, its answer decoded as `T`.
    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(String, String)],
        body: Option<&Value>,
    ) -> Result<T, ApiError> {
        let answer = self.send(method, path, query, body, Format::Json).await?;
        serde_json::from_str(&answer.body).map_err(|error| ApiError::Unexpected {
            url: self.url(path),
            reason: error.to_string(),
        })
    }

    /// One record by id.
    pub async fn get<R: Resource>(&self, id: u64) -> Result<R, ApiError> {
        let path = format!("{}/{id}", R::PATH);
        self.call(reqwest::Method::GET, &path, &[], None).await
    }

    /// Creates a record (leave `id` out) and answers it as the instance stored it.
    pub async fn create<R: Resource>(&self, record: &R) -> Result<R, ApiError> {
        let body = to_json(record)?;
        self.call(reqwest::Method::POST, R::PATH, &[], Some(&body))
            .await
    }

    /// Changes a record: only the fields set in `changes` are sent.
    pub async fn update<R: Resource>(&self, id: u64, changes: &R) -> Result<R, ApiError> {
        let body = to_json(changes)?;
        let path = format!("{}/{id}", R::PATH);
        self.call(reqwest::Method::PUT, &path, &[], Some(&body))
            .await
    }

    /// A custom action: `client.act::<PurchaseOrder>(42, "issue")`.
    pub async fn act<R: Resource>(&self, id: u64, action: &str) -> Result<R, ApiError> {
        let path = format!("{}/{id}/{action}", R::PATH);
        self.call(reqwest::Method::PUT, &path, &[], None).await
    }

    /// Every record of `R` matching `filters`, one at a time, fetched page by page from
    /// offset 0.
    pub fn list<R: Resource>(&self, filters: Filters) -> RecordStream<'_, R> {
        self.records(R::PATH, filters)
    }

    /// `list` for any object, decoded as `T` (`serde_json::Value` for objects without a type).
    pub fn records<T: DeserializeOwned + Send>(
        &self,
        object: &str,
        filters: Filters,
    ) -> RecordStream<'_, T> {
        let pages = self.pages(object, filters);
        Box::pin(futures_util::stream::try_unfold(
            (pages, VecDeque::new()),
            |(mut pages, mut buffered)| async move {
                loop {
                    if let Some(record) = buffered.pop_front() {
                        let record = serde_json::from_value(record).map_err(|error| {
                            ApiError::Unexpected {
                                url: pages.object.clone(),
                                reason: error.to_string(),
                            }
                        })?;
                        return Ok(Some((record, (pages, buffered))));
                    }
                    match pages.next().await? {
                        Some(page) => buffered.extend(page),
                        None => return Ok(None),
                    }
                }
            },
        ))
    }

    /// Fails fast, naming the scope, when the token's granted scopes (as the token endpoint
    /// reported them) include none of the catalogue's scopes for `method /api/path`. Paths the
    /// catalogue does not know, and tokens issued without a scope list, pass.
    pub async fn preflight(&self, method: &str, path: &str) -> Result<(), ApiError> {
        let api_path = format!("/api/{}", path.trim_start_matches('/'));
        let needed = scopes_granting(method, &api_path);
        let info = self.tokens.token_info().await?;
        let Some(granted) = info.scope else {
            return Ok(());
        };
        let held = granted
            .split_whitespace()
            .any(|scope| needed.contains(&scope));
        if needed.is_empty() || held {
            return Ok(());
        }
        Err(ApiError::MissingScope {
            operation: format!("{method} {api_path}"),
            needed: needed.iter().map(|scope| scope.to_string()).collect(),
            granted,
        })
    }

    /// Pages through `object` from offset 0 (never skipping the first record).
    pub fn pages(&self, object: &str, filters: Filters) -> Pages<'_> {
        Pages {
            client: self,
            object: object.to_string(),
            filters,
            offset: 0,
            done: false,
        }
    }
}

pub struct Pages<'a> {
    client: &'a ApiClient,
    object: String,
    filters: Filters,
    offset: usize,
    done: bool,
}

impl Pages<'_> {
    /// The next page of records, or None after the last.
    pub async fn next(&mut self) -> Result<Option<Vec<Value>>, ApiError> {
        if self.done {
            return Ok(None);
        }
        let mut query = self.filters.pairs().to_vec();
        query.push(("limit".into(), PAGE_SIZE.to_string()));
        query.push(("offset".into(), self.offset.to_string()));
        let page = self.client.get_json(&self.object, &query).await?;
        let records = match page {
            Value::Array(records) => records,
            other => {
                return Err(ApiError::Unexpected {
                    url: self.object.clone(),
                    reason: format!("expected a list, got {other}"),
                });
            }
        };
        if records.len() < PAGE_SIZE {
            self.done = true;
        }
        self.offset += records.len();
        Ok((!records.is_empty()).then_some(records))
    }
}

fn to_json<R: Resource>(record: &R) -> Result<Value, ApiError> {
    serde_json::to_value(record).map_err(|error| ApiError::Unexpected {
        url: R::PATH.to_string(),
        reason: format!("the record cannot be written as JSON: {error}"),
    })
}

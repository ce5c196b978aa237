//! The API of a Coupa instance: bearer tokens from the token manager, one forced refresh and
//! retry on a 401, retries with backoff on 429 and 503 (honouring `Retry-After`), a
//! client-side limiter shared by every task of a profile, and paging from offset 0.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use coupa_proto::rate::{Decision, Limit, decide};
use serde_json::Value;

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
                    reason: error.to_string(),
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
        let answer = self
            .send(reqwest::Method::GET, path, query, None, Format::Json)
            .await?;
        serde_json::from_str(&answer.body).map_err(|error| ApiError::Unexpected {
            url: self.url(path),
            reason: error.to_string(),
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

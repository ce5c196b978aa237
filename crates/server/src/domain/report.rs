//! The report card of an integration: what its recent traffic shows it doing that a real
//! Coupa instance punishes, each finding with its evidence (counts, an example request, when)
//! and the fix. Pure: the traffic is recorded by `crate::report`.

use std::collections::HashMap;

use coupa_proto::admin::FindingView;

use super::time::format_rfc3339;

/// Coupa's rate limit per client, in requests per second.
pub const COUPA_RATE_LIMIT: usize = 25;
/// The page size of a list without `limit`.
const DEFAULT_PAGE: u64 = 50;
/// Fewer calls than this say nothing about how tokens are reused.
const TOKEN_REUSE_MIN_CALLS: usize = 5;
/// An XML answer fetched again as JSON within this time counts as a double fetch.
const REFETCH_WINDOW_MS: i64 = 60_000;

/// One request of a client, as the report card keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// Milliseconds since the Unix epoch.
    pub at_ms: i64,
    pub method: String,
    pub path: String,
    /// The query string, with any `client_secret` value removed.
    pub query: String,
    pub status: u16,
    /// The answer was XML.
    pub xml: bool,
    /// The request carried `client_secret` in its URL.
    pub secret_in_query: bool,
}

impl Seen {
    fn is_token_request(&self) -> bool {
        self.method == "POST" && self.path == "/oauth2/token"
    }

    fn is_api_call(&self) -> bool {
        self.path.starts_with("/api/")
    }

    fn describe(&self) -> String {
        let query = if self.query.is_empty() {
            String::new()
        } else {
            format!("?{}", self.query)
        };
        format!(
            "{} {}{query} → {} at {}",
            self.method,
            self.path,
            self.status,
            format_rfc3339(self.at_ms.div_euclid(1000))
        )
    }

    fn parameter(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }

    /// A list call: its listing (path and query without offset), offset and page size.
    fn page(&self) -> Option<(String, u64, u64)> {
        if self.method != "GET" || !self.is_api_call() || self.status != 200 {
            return None;
        }
        // /api/invoices is a list; /api/invoices/7 a record.
        if self.path.trim_start_matches("/api/").contains('/') {
            return None;
        }
        let offset = self.parameter("offset").and_then(|text| text.parse().ok());
        let limit = self
            .parameter("limit")
            .and_then(|text| text.parse().ok())
            .unwrap_or(DEFAULT_PAGE);
        let rest: Vec<(String, String)> = form_urlencoded::parse(self.query.as_bytes())
            .filter(|(key, _)| key != "offset")
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
            .collect();
        let listing = form_urlencoded::Serializer::new(format!("{}?", self.path))
            .extend_pairs(rest)
            .finish();
        Some((listing, offset.unwrap_or(0), limit))
    }
}

/// What is known of one kind of finding while the traffic is read.
struct Tally {
    count: u64,
    first: Option<Seen>,
    last_at_ms: i64,
}

impl Tally {
    fn new() -> Self {
        Self {
            count: 0,
            first: None,
            last_at_ms: 0,
        }
    }

    fn add(&mut self, seen: &Seen) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some(seen.clone());
        }
        self.last_at_ms = self.last_at_ms.max(seen.at_ms);
    }

    fn finding(self, kind: &'static str, evidence: String) -> Option<FindingView> {
        let first = self.first?;
        let rule = RULES.iter().find(|rule| rule.kind == kind)?;
        Some(FindingView {
            kind: kind.to_string(),
            title: rule.title.to_string(),
            count: self.count,
            evidence,
            example: first.describe(),
            first_seen: format_rfc3339(first.at_ms.div_euclid(1000)),
            last_seen: format_rfc3339(self.last_at_ms.div_euclid(1000)),
            fix: rule.fix.to_string(),
        })
    }
}

/// A kind of finding: what it is called and how to fix it.
pub struct Rule {
    pub kind: &'static str,
    pub title: &'static str,
    pub fix: &'static str,
}

pub const RULES: &[Rule] = &[
    Rule {
        kind: "token_per_call",
        title: "A new token for (nearly) every API call",
        fix: "Keep the access token and reuse it until shortly before it expires (Coupa's live \
              24 hours; re-mint every 20 hours). Minting costs a round trip per call and counts \
              against the token endpoint's limits.",
    },
    Rule {
        kind: "secret_in_query",
        title: "client_secret sent in the URL",
        fix: "Send client_secret in the form body (or with HTTP Basic), never in the query \
              string: URLs are written to proxy and server logs.",
    },
    Rule {
        kind: "burst",
        title: "Bursts over 25 requests per second",
        fix: "Coupa allows 25 requests per second per client and answers 429 beyond it: \
              throttle to that rate and back off (exponentially) on 429.",
    },
    Rule {
        kind: "paging_from_one",
        title: "Paging starts at offset=1",
        fix: "Coupa's offset counts records from 0: start at offset=0, or the first record is \
              never read.",
    },
    Rule {
        kind: "paging_gap",
        title: "Paging skips or repeats offsets",
        fix: "Advance the offset by the page size (the limit asked for, 50 by default) after \
              each page, and stop at the first page shorter than the limit.",
    },
    Rule {
        kind: "paging_unordered",
        title: "Offset paging without order_by=id",
        fix: "Add order_by=id to paged lists: without a fixed order, records that change while \
              you page move between pages and are read twice or never.",
    },
    Rule {
        kind: "retried_refusal",
        title: "Retries of requests answered 403 or 400",
        fix: "A 403 (a scope the client lacks) or a 400 (a malformed request) answers the same \
              every time: fix the request or the client's scopes. Retry only 429 and 5xx, with \
              backoff.",
    },
    Rule {
        kind: "xml_then_json",
        title: "XML fetched, then the same again as JSON",
        fix: "Ask for the format you read once: send Accept: application/json (or \
              application/xml) on the first request.",
    },
];

/// The findings of a client's traffic, `seen` in the order it arrived.
pub fn findings(seen: &[Seen]) -> Vec<FindingView> {
    [
        token_per_call(seen),
        secret_in_query(seen),
        bursts(seen),
        paging(seen),
        retried_refusals(seen),
        xml_then_json(seen),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn token_per_call(seen: &[Seen]) -> Vec<FindingView> {
    let calls = seen.iter().filter(|seen| seen.is_api_call()).count();
    let mut tokens = Tally::new();
    for token in seen
        .iter()
        .filter(|seen| seen.is_token_request() && seen.status == 200)
    {
        tokens.add(token);
    }
    let minted = usize::try_from(tokens.count).unwrap_or(usize::MAX);
    if calls < TOKEN_REUSE_MIN_CALLS || minted * 2 < calls {
        return Vec::new();
    }
    let evidence = format!("{minted} tokens minted for {calls} API calls");
    tokens
        .finding("token_per_call", evidence)
        .into_iter()
        .collect()
}

fn secret_in_query(seen: &[Seen]) -> Vec<FindingView> {
    let mut tally = Tally::new();
    for request in seen.iter().filter(|seen| seen.secret_in_query) {
        tally.add(request);
    }
    let evidence = format!("{} requests with client_secret in the URL", tally.count);
    tally
        .finding("secret_in_query", evidence)
        .into_iter()
        .collect()
}

fn bursts(seen: &[Seen]) -> Vec<FindingView> {
    let mut per_second: HashMap<i64, Vec<&Seen>> = HashMap::new();
    for call in seen.iter().filter(|seen| seen.is_api_call()) {
        per_second
            .entry(call.at_ms.div_euclid(1000))
            .or_default()
            .push(call);
    }
    let mut seconds: Vec<(i64, Vec<&Seen>)> = per_second
        .into_iter()
        .filter(|(_, calls)| calls.len() > COUPA_RATE_LIMIT)
        .collect();
    seconds.sort_by_key(|(second, _)| *second);
    let busiest = seconds.iter().map(|(_, calls)| calls.len()).max();
    let mut tally = Tally::new();
    for (_, calls) in &seconds {
        if let Some(first) = calls.first() {
            tally.add(first);
        }
    }
    let evidence = format!(
        "{} seconds with more than {COUPA_RATE_LIMIT} API calls, up to {} in one",
        tally.count,
        busiest.unwrap_or(0)
    );
    tally.finding("burst", evidence).into_iter().collect()
}

fn paging(seen: &[Seen]) -> Vec<FindingView> {
    let mut from_one = Tally::new();
    let mut gaps = Tally::new();
    let mut unordered = Tally::new();
    let mut last_page: HashMap<String, (u64, u64)> = HashMap::new();
    for call in seen {
        let Some((listing, offset, limit)) = call.page() else {
            continue;
        };
        if offset == 1 && limit > 1 {
            from_one.add(call);
        }
        if offset > 0 && call.parameter("order_by").is_none() {
            unordered.add(call);
        }
        if let Some((previous, previous_limit)) = last_page.get(&listing)
            && offset != 0
            && offset != previous + previous_limit
        {
            gaps.add(call);
        }
        last_page.insert(listing, (offset, limit));
    }
    let from_one_evidence = format!(
        "{} lists started at offset=1: their first record was never read",
        from_one.count
    );
    let gaps_evidence = format!(
        "{} pages asked for at an offset other than the previous page's plus its size",
        gaps.count
    );
    let unordered_evidence = format!("{} pages past the first without order_by", unordered.count);
    [
        from_one.finding("paging_from_one", from_one_evidence),
        gaps.finding("paging_gap", gaps_evidence),
        unordered.finding("paging_unordered", unordered_evidence),
    ]
    .into_iter()
    .flatten()
    .collect()
}

fn retried_refusals(seen: &[Seen]) -> Vec<FindingView> {
    let mut refused: HashMap<(String, String, String), ()> = HashMap::new();
    let mut tally = Tally::new();
    for call in seen.iter().filter(|seen| seen.is_api_call()) {
        let key = (call.method.clone(), call.path.clone(), call.query.clone());
        if refused.contains_key(&key) {
            tally.add(call);
        }
        if matches!(call.status, 400 | 403) {
            refused.insert(key, ());
        } else {
            refused.remove(&key);
        }
    }
    let evidence = format!(
        "{} requests sent again after a 403 or 400 answer to the same request",
        tally.count
    );
    tally
        .finding("retried_refusal", evidence)
        .into_iter()
        .collect()
}

fn xml_then_json(seen: &[Seen]) -> Vec<FindingView> {
    let mut xml_at: HashMap<(String, String), i64> = HashMap::new();
    let mut tally = Tally::new();
    for call in seen
        .iter()
        .filter(|seen| seen.is_api_call() && seen.method == "GET" && seen.status == 200)
    {
        let key = (call.path.clone(), call.query.clone());
        if call.xml {
            xml_at.insert(key, call.at_ms);
        } else if xml_at
            .get(&key)
            .is_some_and(|at| call.at_ms - at <= REFETCH_WINDOW_MS)
        {
            tally.add(call);
        }
    }
    let evidence = format!(
        "{} answers fetched as XML and again as JSON within a minute",
        tally.count
    );
    tally
        .finding("xml_then_json", evidence)
        .into_iter()
        .collect()
}

/// The report as Markdown, for a change request.
pub fn markdown(client: &str, requests: usize, findings: &[FindingView]) -> String {
    let mut text = format!(
        "# Report card: {client}\n\n{requests} recent requests read; {} finding(s).\n",
        findings.len()
    );
    if findings.is_empty() {
        text.push_str("\nNothing to fix: the traffic seen follows Coupa's rules.\n");
    }
    for finding in findings {
        text.push_str(&format!(
            "\n## {}\n\n- Evidence: {}\n- Example: `{}`\n- Seen: {} to {} ({} time(s))\n- Fix: {}\n",
            finding.title,
            finding.evidence,
            finding.example,
            finding.first_seen,
            finding.last_seen,
            finding.count,
            finding.fix
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(at_ms: i64, path_and_query: &str) -> Seen {
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        Seen {
            at_ms,
            method: "GET".into(),
            path: path.into(),
            query: query.into(),
            status: 200,
            xml: false,
            secret_in_query: false,
        }
    }

    fn token(at_ms: i64) -> Seen {
        Seen {
            method: "POST".into(),
            ..get(at_ms, "/oauth2/token")
        }
    }

    fn kinds(seen: &[Seen]) -> Vec<String> {
        findings(seen)
            .into_iter()
            .map(|finding| finding.kind)
            .collect()
    }

    #[test]
    fn clean_traffic_has_no_finding() {
        let mut seen = vec![token(0)];
        for page in 0..4 {
            seen.push(get(
                1000 * page,
                &format!("/api/invoices?order_by=id&limit=50&offset={}", page * 50),
            ));
        }
        seen.push(get(9000, "/api/invoices/7"));
        assert!(kinds(&seen).is_empty(), "{:?}", findings(&seen));
    }

    #[test]
    fn each_mistake_is_found_with_its_evidence() {
        let calls: Vec<Seen> = (0..6)
            .flat_map(|n| [token(n * 2000), get(n * 2000 + 1, "/api/suppliers/1")])
            .collect();
        assert_eq!(kinds(&calls), ["token_per_call"]);
        assert_eq!(
            findings(&calls)[0].evidence,
            "6 tokens minted for 6 API calls"
        );

        let secret = Seen {
            secret_in_query: true,
            query: "grant_type=client_credentials&client_id=x".into(),
            ..token(0)
        };
        assert_eq!(kinds(&[secret]), ["secret_in_query"]);

        let burst: Vec<Seen> = (0..30).map(|n| get(5000 + n, "/api/invoices/1")).collect();
        let found = findings(&burst);
        assert_eq!(found[0].kind, "burst");
        assert!(
            found[0].evidence.contains("up to 30"),
            "{}",
            found[0].evidence
        );

        let from_one = [
            get(0, "/api/invoices?order_by=id&offset=1"),
            get(1, "/api/invoices?order_by=id&offset=51"),
        ];
        assert_eq!(kinds(&from_one), ["paging_from_one"]);

        let skipping = [
            get(0, "/api/invoices?order_by=id&limit=10&offset=0"),
            get(1, "/api/invoices?order_by=id&limit=10&offset=20"),
            get(2, "/api/invoices?order_by=id&limit=10&offset=20"),
        ];
        let found = findings(&skipping);
        assert_eq!(found[0].kind, "paging_gap");
        assert_eq!(found[0].count, 2, "a skip and a repeat");

        let unordered = [
            get(0, "/api/invoices?offset=0"),
            get(1, "/api/invoices?offset=50"),
        ];
        assert_eq!(kinds(&unordered), ["paging_unordered"]);

        let forbidden = Seen {
            status: 403,
            ..get(0, "/api/users")
        };
        let retried = [
            forbidden.clone(),
            Seen {
                at_ms: 10,
                ..forbidden.clone()
            },
            Seen {
                at_ms: 20,
                ..forbidden
            },
        ];
        let found = findings(&retried);
        assert_eq!(found[0].kind, "retried_refusal");
        assert_eq!(found[0].count, 2);

        let refetched = [
            Seen {
                xml: true,
                ..get(0, "/api/invoices/3")
            },
            get(500, "/api/invoices/3"),
        ];
        assert_eq!(kinds(&refetched), ["xml_then_json"]);
    }

    #[test]
    fn the_markdown_names_each_finding_with_its_fix() {
        let seen = [
            get(0, "/api/invoices?offset=1"),
            get(1, "/api/invoices?offset=51"),
        ];
        let text = markdown("Invoice sync (invoice-sync)", seen.len(), &findings(&seen));
        assert!(text.starts_with("# Report card: Invoice sync (invoice-sync)"));
        assert!(text.contains("## Paging starts at offset=1"));
        assert!(text.contains("- Fix: Coupa's offset counts records from 0"));
        assert!(markdown("x", 0, &[]).contains("Nothing to fix"));
    }
}

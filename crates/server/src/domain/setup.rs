//! The rules behind the Setup pages: scopes grouped by
//! service.object, reading the client form (select-all boxes work without a script), the API
//! key transition report, and how times and durations read.

use coupa_proto::admin::{CreateClient, UpdateClient};
use coupa_proto::scopes::{CATALOGUE, ScopeDef};

use super::api_key::{ApiKeyRecord, ApiKeySource};
use super::client::ClientKind;
use super::form::FormFields;
use super::time::format_rfc3339;

/// The scopes of one service.object (`core.invoice`), or the OpenID Connect scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeGroup {
    pub key: String,
    pub scopes: Vec<&'static ScopeDef>,
}

/// The group name of the OpenID Connect scopes (`openid`, `email`, `offline_access`...).
pub const OPENID_GROUP: &str = "OpenID Connect";

/// The service.object a scope belongs to: `core.invoice` for `core.invoice.read`.
pub fn scope_group_key(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((service_object, _)) if service_object.contains('.') => service_object,
        _ => OPENID_GROUP,
    }
}

/// The catalogue grouped by service.object, in catalogue order.
pub fn scope_groups() -> Vec<ScopeGroup> {
    let mut groups: Vec<ScopeGroup> = Vec::new();
    for scope in CATALOGUE {
        let key = scope_group_key(scope.name);
        match groups.iter_mut().find(|group| group.key == key) {
            Some(group) => group.scopes.push(scope),
            None => groups.push(ScopeGroup {
                key: key.to_string(),
                scopes: vec![scope],
            }),
        }
    }
    groups
}

/// The scopes a scope checklist selects: the ticked `scope` boxes, every scope of each ticked
/// `scope_group`, or with `all_scopes` every scope (every API scope for a client of `kind`
/// client credentials, which has no user for the OpenID Connect scopes to be about).
/// Catalogue order; names not in the catalogue are kept, so validation can name them.
pub fn selected_scopes(fields: &FormFields, kind: Option<ClientKind>) -> String {
    let api_only = kind == Some(ClientKind::ClientCredentials);
    let all = fields.is_checked("all_scopes");
    let groups: Vec<&str> = fields.all("scope_group").collect();
    let ticked: Vec<&str> = fields.all("scope").collect();
    let everything = |name: &str| all && !(api_only && scope_group_key(name) == OPENID_GROUP);
    let mut names: Vec<&str> = CATALOGUE
        .iter()
        .map(|scope| scope.name)
        .filter(|name| {
            everything(name) || ticked.contains(name) || groups.contains(&scope_group_key(name))
        })
        .collect();
    for name in ticked {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names.join(" ")
}

/// Redirect URIs typed one per line (or separated by spaces).
fn redirect_uris(fields: &FormFields) -> Vec<String> {
    fields
        .get("redirect_uris")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// The create form of a client.
pub fn client_from_form(fields: &FormFields) -> CreateClient {
    CreateClient {
        name: fields.text("name"),
        login: fields.text("login"),
        grant_type: fields.text("grant_type"),
        scope: selected_scopes(fields, ClientKind::parse(&fields.text("grant_type"))),
        contact_info: fields.text("contact_info"),
        contact_email: fields.text("contact_email"),
        redirect_uris: redirect_uris(fields),
        pkce: fields.is_checked("pkce"),
        allow_plain_pkce: fields.is_checked("allow_plain_pkce"),
        introspect_any_token: false,
    }
}

/// The edit form of a client of `grant_type`: it always carries name, contact and scopes;
/// redirect URIs and the plain-PKCE box only for authorization code clients.
pub fn client_changes_from_form(fields: &FormFields, grant_type: ClientKind) -> UpdateClient {
    let authorization_code = grant_type == ClientKind::AuthorizationCode;
    UpdateClient {
        name: Some(fields.text("name")),
        contact_info: Some(fields.text("contact_info")),
        contact_email: Some(fields.text("contact_email")),
        scope: Some(selected_scopes(fields, Some(grant_type))),
        redirect_uris: authorization_code.then(|| redirect_uris(fields)),
        active: None,
        allow_plain_pkce: authorization_code.then(|| fields.is_checked("allow_plain_pkce")),
        introspect_any_token: None,
    }
}

const DAY: i64 = 86_400;
/// The windows of the transition report, in days.
pub const USAGE_WINDOWS: [i64; 3] = [1, 7, 30];

/// Where a legacy key stands in the move to OAuth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyActivity {
    Revoked,
    /// Used within this many days (the smallest window of `USAGE_WINDOWS` that holds it).
    UsedWithin(i64),
    /// Last used longer ago than the largest window.
    Idle,
    NeverUsed,
}

impl KeyActivity {
    pub fn describe(self) -> String {
        match self {
            Self::Revoked => "Revoked".into(),
            Self::UsedWithin(1) => "Used in the last day".into(),
            Self::UsedWithin(days) => format!("Used in the last {days} days"),
            Self::Idle => "Idle (no use in 30 days)".into(),
            Self::NeverUsed => "Never used".into(),
        }
    }

    /// Still to move: not revoked and used lately.
    pub fn in_use(self) -> bool {
        matches!(self, Self::UsedWithin(_))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyReport {
    pub key: ApiKeyRecord,
    pub activity: KeyActivity,
    /// Addresses the key was used from within the largest window, latest first.
    pub recent_sources: Vec<ApiKeySource>,
}

impl KeyActivity {
    /// In use first, then idle, never used and revoked.
    fn rank(self) -> i64 {
        match self {
            Self::UsedWithin(_) => 0,
            Self::Idle => 1,
            Self::NeverUsed => 2,
            Self::Revoked => 3,
        }
    }
}

impl crate::domain::listing::Listable for KeyReport {
    fn searched(&self) -> Vec<&str> {
        let mut texts = self.key.searched();
        texts.extend(
            self.recent_sources
                .iter()
                .map(|source| source.address.as_str()),
        );
        texts
    }

    fn sort_key(&self, column: &str) -> Option<crate::domain::listing::SortKey> {
        match column {
            // The report's own order: by activity, the most recently used first.
            "activity" => Some(crate::domain::listing::SortKey::Number(
                self.activity.rank() * 10_000_000_000 - self.key.last_used_at.unwrap_or(0),
            )),
            other => self.key.sort_key(other),
        }
    }

    fn identity(&self) -> &str {
        &self.key.key_id
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionReport {
    /// In use first (most recent use first), then idle, never used and revoked.
    pub keys: Vec<KeyReport>,
    /// Keys used within each of `USAGE_WINDOWS` (cumulative: a key used today counts in all).
    pub used_within: [(i64, usize); 3],
    pub idle: usize,
    pub never_used: usize,
    pub revoked: usize,
    /// Calls refused because their key was revoked, and the revoked keys still called: the
    /// integrations a revocation broke.
    pub refused_calls: i64,
    pub broken: usize,
    pub active_oauth_clients: usize,
}

fn activity(key: &ApiKeyRecord, now: i64) -> KeyActivity {
    if key.revoked_at.is_some() {
        return KeyActivity::Revoked;
    }
    match key.last_used_at {
        None => KeyActivity::NeverUsed,
        Some(at) => USAGE_WINDOWS
            .iter()
            .find(|days| now - at <= *days * DAY)
            .map_or(KeyActivity::Idle, |days| KeyActivity::UsedWithin(*days)),
    }
}

pub fn transition_report(
    keys: &[ApiKeyRecord],
    sources: &[ApiKeySource],
    active_oauth_clients: usize,
    now: i64,
) -> TransitionReport {
    let largest_window = USAGE_WINDOWS[USAGE_WINDOWS.len() - 1] * DAY;
    let mut reports: Vec<KeyReport> = keys
        .iter()
        .map(|key| {
            let mut recent_sources: Vec<ApiKeySource> = sources
                .iter()
                .filter(|source| {
                    source.key_id == key.key_id && now - source.last_used_at <= largest_window
                })
                .cloned()
                .collect();
            recent_sources.sort_by_key(|source| std::cmp::Reverse(source.last_used_at));
            KeyReport {
                key: key.clone(),
                activity: activity(key, now),
                recent_sources,
            }
        })
        .collect();
    reports.sort_by(|a, b| {
        a.activity
            .rank()
            .cmp(&b.activity.rank())
            .then(b.key.last_used_at.cmp(&a.key.last_used_at))
            .then(a.key.name.cmp(&b.key.name))
    });
    let count = |wanted: fn(KeyActivity) -> bool| {
        reports
            .iter()
            .filter(|report| wanted(report.activity))
            .count()
    };
    let used_within = USAGE_WINDOWS.map(|days| {
        let used = reports
            .iter()
            .filter(|report| matches!(report.activity, KeyActivity::UsedWithin(within) if within <= days))
            .count();
        (days, used)
    });
    TransitionReport {
        used_within,
        idle: count(|activity| activity == KeyActivity::Idle),
        never_used: count(|activity| activity == KeyActivity::NeverUsed),
        revoked: count(|activity| activity == KeyActivity::Revoked),
        refused_calls: reports.iter().map(|report| report.key.refused_calls).sum(),
        broken: reports
            .iter()
            .filter(|report| report.key.refused_calls > 0)
            .count(),
        active_oauth_clients,
        keys: reports,
    }
}

/// A time as an administrator reads it: `2026-11-25 08:30:00 UTC`.
pub fn display_time(unix_seconds: i64) -> String {
    format_rfc3339(unix_seconds)
        .replacen('T', " ", 1)
        .trim_end_matches('Z')
        .to_string()
        + " UTC"
}

fn plural(count: i64, unit: &str) -> String {
    if count == 1 {
        format!("1 {unit}")
    } else {
        format!("{count} {unit}s")
    }
}

/// How long ago `then` was: "just now", "5 minutes ago", "3 days ago".
pub fn display_age(then: i64, now: i64) -> String {
    let seconds = (now - then).abs();
    let amount = match seconds {
        0..60 => return "just now".into(),
        60..3600 => plural(seconds / 60, "minute"),
        3600..DAY => plural(seconds / 3600, "hour"),
        _ => plural(seconds / DAY, "day"),
    };
    if then > now {
        format!("in {amount}")
    } else {
        format!("{amount} ago")
    }
}

/// A duration in the largest whole unit that states it exactly: "24 hours", "30 minutes",
/// "3 days", "90 seconds".
pub fn describe_duration(seconds: u64) -> String {
    let seconds = i64::try_from(seconds).unwrap_or(i64::MAX);
    if seconds == 0 {
        "no time".into()
    } else if seconds % DAY == 0 && seconds > DAY {
        plural(seconds / DAY, "day")
    } else if seconds % 3600 == 0 {
        plural(seconds / 3600, "hour")
    } else if seconds % 60 == 0 {
        plural(seconds / 60, "minute")
    } else {
        plural(seconds, "second")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn scopes_group_by_service_object() {
        assert_eq!(scope_group_key("core.invoice.read"), "core.invoice");
        assert_eq!(scope_group_key("core.invoice.write"), "core.invoice");
        assert_eq!(scope_group_key("openid"), OPENID_GROUP);
        assert_eq!(scope_group_key("offline_access"), OPENID_GROUP);
        let groups = scope_groups();
        assert_eq!(groups[0].key, OPENID_GROUP);
        let invoice = groups.iter().find(|g| g.key == "core.invoice").unwrap();
        let names: Vec<&str> = invoice.scopes.iter().map(|s| s.name).collect();
        assert!(names.contains(&"core.invoice.read") && names.contains(&"core.invoice.write"));
        let total: usize = groups.iter().map(|g| g.scopes.len()).sum();
        assert_eq!(total, CATALOGUE.len(), "every scope in exactly one group");
    }

    #[test]
    fn select_all_boxes_expand_without_a_script() {
        let fields =
            FormFields::parse(b"scope=core.expense.read&scope_group=core.invoice").unwrap();
        let selected = selected_scopes(&fields, None);
        let names: Vec<&str> = selected.split(' ').collect();
        assert!(names.contains(&"core.expense.read"));
        assert!(names.contains(&"core.invoice.read") && names.contains(&"core.invoice.write"));
        assert!(!names.contains(&"core.user.read"));

        let all = selected_scopes(&FormFields::parse(b"all_scopes=1").unwrap(), None);
        assert_eq!(all.split(' ').count(), CATALOGUE.len());

        let unknown = selected_scopes(&FormFields::parse(b"scope=core.bogus.read").unwrap(), None);
        assert_eq!(unknown, "core.bogus.read", "kept, so validation names it");
        assert_eq!(selected_scopes(&FormFields::default(), None), "");
        let api_only = selected_scopes(
            &FormFields::parse(b"all_scopes=1").unwrap(),
            Some(ClientKind::ClientCredentials),
        );
        assert!(api_only.contains("core.invoice.read"));
        assert!(
            !api_only
                .split(' ')
                .any(|name| name == "openid" || name == "offline_access"),
            "select all on a client credentials client takes API scopes only: {api_only}"
        );
    }

    #[test]
    fn the_client_forms() {
        let fields = FormFields::parse(
            b"grant_type=authorization_code&name=Portal&login=portal&contact_info=&contact_email=a%40b.example\
&redirect_uris=https%3A%2F%2Fa.example%2Fcb%0D%0Ahttps%3A%2F%2Fb.example%2Fcb&pkce=1&scope=openid",
        )
        .unwrap();
        let create = client_from_form(&fields);
        assert_eq!(create.grant_type, "authorization_code");
        assert_eq!(
            create.redirect_uris,
            ["https://a.example/cb", "https://b.example/cb"]
        );
        assert!(create.pkce && !create.allow_plain_pkce);
        assert_eq!(create.scope, "openid");

        let changes = client_changes_from_form(&fields, ClientKind::AuthorizationCode);
        assert_eq!(
            changes.contact_info.as_deref(),
            Some(""),
            "a cleared box clears"
        );
        assert_eq!(changes.allow_plain_pkce, Some(false));
        assert_eq!(changes.redirect_uris.map(|uris| uris.len()), Some(2));
        let changes = client_changes_from_form(&fields, ClientKind::ClientCredentials);
        assert_eq!(
            (changes.redirect_uris, changes.allow_plain_pkce),
            (None, None)
        );
    }

    fn key(id: &str, last_used_at: Option<i64>, revoked_at: Option<i64>) -> ApiKeyRecord {
        let (mut key, _) = ApiKeyRecord::create(id, None, None, 0).unwrap();
        key.key_id = id.to_string();
        key.last_used_at = last_used_at;
        key.revoked_at = revoked_at;
        key
    }

    fn source(key_id: &str, address: &str, last_used_at: i64) -> ApiKeySource {
        ApiKeySource {
            key_id: key_id.into(),
            address: address.into(),
            first_used_at: 0,
            last_used_at,
        }
    }

    #[test]
    fn the_transition_report_buckets_keys_by_last_use() {
        let now = 100 * DAY;
        let keys = [
            key("never", None, None),
            key("today", Some(now - 3600), None),
            key("week", Some(now - 3 * DAY), None),
            key("month", Some(now - 20 * DAY), None),
            key("idle", Some(now - 31 * DAY), None),
            key("revoked", Some(now - 60), Some(now)),
        ];
        let sources = [
            source("today", "10.0.0.1", now - 3600),
            source("today", "10.0.0.2", now - 60),
            source("today", "10.0.0.3", now - 40 * DAY),
            source("week", "10.0.0.9", now - 3 * DAY),
        ];
        let report = transition_report(&keys, &sources, 4, now);
        assert_eq!(report.used_within, [(1, 1), (7, 2), (30, 3)]);
        assert_eq!((report.idle, report.never_used, report.revoked), (1, 1, 1));
        assert_eq!(report.active_oauth_clients, 4);
        let order: Vec<&str> = report.keys.iter().map(|r| r.key.key_id.as_str()).collect();
        assert_eq!(
            order,
            ["today", "week", "month", "idle", "never", "revoked"]
        );
        let today = &report.keys[0];
        assert_eq!(today.activity, KeyActivity::UsedWithin(1));
        let addresses: Vec<&str> = today
            .recent_sources
            .iter()
            .map(|s| s.address.as_str())
            .collect();
        assert_eq!(
            addresses,
            ["10.0.0.2", "10.0.0.1"],
            "latest first, none older than 30 days"
        );
        assert_eq!(
            KeyActivity::UsedWithin(7).describe(),
            "Used in the last 7 days"
        );
    }

    #[test]
    fn times_and_durations_read_naturally() {
        assert_eq!(display_time(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(display_age(100, 130), "just now");
        assert_eq!(display_age(0, 60), "1 minute ago");
        assert_eq!(display_age(0, 7200), "2 hours ago");
        assert_eq!(display_age(0, 3 * DAY), "3 days ago");
        assert_eq!(display_age(600, 0), "in 10 minutes");
        assert_eq!(describe_duration(86_400), "24 hours");
        assert_eq!(describe_duration(3 * 86_400), "3 days");
        assert_eq!(describe_duration(1800), "30 minutes");
        assert_eq!(describe_duration(90), "90 seconds");
        assert_eq!(describe_duration(3600), "1 hour");
        assert_eq!(describe_duration(0), "no time");
    }

    proptest! {
        #[test]
        fn form_readers_never_panic(input in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(fields) = FormFields::parse(&input) {
                let _ = client_from_form(&fields);
                let _ = client_changes_from_form(&fields, ClientKind::AuthorizationCode);
            }
        }
    }
}

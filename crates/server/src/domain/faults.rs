//! Coupa's failure modes, on demand (the sandbox's faults): what each does, for whom, from
//! when and until when, and the rules a requested fault must pass. Pure; the faults switched
//! on live in `crate::faults`.

use coupa_proto::admin::CreateFault;
use coupa_proto::errors::CoupaErrors;

use super::lifetime::Lifetime;

/// Without a duration or a number of requests, a fault ends after this long.
pub const DEFAULT_DURATION: i64 = 600;
const MAX_DURATION: i64 = 7 * 86_400;
const MAX_REQUESTS: u64 = 1_000_000;
/// The longest added latency: a fault slows calls, it does not hang them.
const MAX_DELAY: i64 = 60;
const MAX_RETRY_AFTER: u64 = 3600;
const MAX_CLOCK_OFFSET: i64 = 30 * 86_400;
/// The largest oversized token: the largest bearer token `/api` takes.
pub const MAX_TOKEN_BYTES: u64 = 16 * 1024;

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// The token endpoint answers 503 `temporarily_unavailable`.
    TokenUnavailable,
    /// The token endpoint answers after this many seconds.
    TokenSlow { seconds: i64 },
    /// Tokens issued meanwhile live this many seconds.
    TokenLifetime { seconds: i64 },
    /// Tokens issued meanwhile are about this many bytes long.
    OversizedToken { bytes: u64 },
    /// `/api` answers 429, with `Retry-After` when given.
    ApiRateLimited { retry_after: Option<u64> },
    /// `/api` answers 503.
    ApiUnavailable,
    /// `/api` answers after this many seconds.
    ApiSlow { seconds: i64 },
    /// `/api` closes the connection without answering.
    ApiConnectionDropped,
    /// `/api` checks tokens with a clock this many seconds ahead: held tokens expire early.
    ClockOffset { seconds: i64 },
    /// `/api` refuses a token younger than this many seconds, as a token not yet propagated.
    TokenPropagationDelay { seconds: i64 },
    /// `/api` refuses tokens issued before the fault began, as after a change of the client's
    /// scopes.
    ScopeChange,
}

pub use coupa_proto::admin::FAULT_KINDS as KIND_NAMES;

/// One fault of each kind at an example setting, in the order of `KIND_NAMES`.
pub const EXAMPLES: [FaultKind; 11] = [
    FaultKind::TokenUnavailable,
    FaultKind::TokenSlow { seconds: 5 },
    FaultKind::TokenLifetime { seconds: 60 },
    FaultKind::OversizedToken { bytes: 12_000 },
    FaultKind::ApiRateLimited { retry_after: None },
    FaultKind::ApiUnavailable,
    FaultKind::ApiSlow { seconds: 5 },
    FaultKind::ApiConnectionDropped,
    FaultKind::ClockOffset { seconds: 86_400 },
    FaultKind::TokenPropagationDelay { seconds: 5 },
    FaultKind::ScopeChange,
];

impl FaultKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::TokenUnavailable => "token_unavailable",
            Self::TokenSlow { .. } => "token_slow",
            Self::TokenLifetime { .. } => "token_lifetime",
            Self::OversizedToken { .. } => "oversized_token",
            Self::ApiRateLimited { .. } => "api_rate_limited",
            Self::ApiUnavailable => "api_unavailable",
            Self::ApiSlow { .. } => "api_slow",
            Self::ApiConnectionDropped => "api_connection_dropped",
            Self::ClockOffset { .. } => "clock_offset",
            Self::TokenPropagationDelay { .. } => "token_propagation_delay",
            Self::ScopeChange => "scope_change",
        }
    }

    /// What callers see while it is on.
    pub fn effect(self) -> String {
        match self {
            Self::TokenUnavailable => {
                "POST /oauth2/token answers 503 temporarily_unavailable".into()
            }
            Self::TokenSlow { seconds } => format!("POST /oauth2/token answers after {seconds} s"),
            Self::TokenLifetime { seconds } => {
                format!("tokens issued live {seconds} s (expires_in {seconds})")
            }
            Self::OversizedToken { bytes } => format!("tokens issued are about {bytes} bytes long"),
            Self::ApiRateLimited {
                retry_after: Some(seconds),
            } => format!("/api answers 429 with Retry-After: {seconds}"),
            Self::ApiRateLimited { retry_after: None } => {
                "/api answers 429 without Retry-After, as Coupa".into()
            }
            Self::ApiUnavailable => "/api answers 503".into(),
            Self::ApiSlow { seconds } => format!("/api answers after {seconds} s"),
            Self::ApiConnectionDropped => "/api closes the connection without answering".into(),
            Self::ClockOffset { seconds } => format!(
                "/api checks tokens {seconds} s ahead: tokens expiring within that are refused"
            ),
            Self::TokenPropagationDelay { seconds } => {
                format!("/api refuses tokens younger than {seconds} s (401 invalid_token)")
            }
            Self::ScopeChange => {
                "/api refuses tokens issued before the fault began (401 invalid_token), as after \
                 a change of the client's scopes"
                    .into()
            }
        }
    }

    /// Whether it acts at the token endpoint (else at `/api`).
    pub fn at_token_endpoint(self) -> bool {
        matches!(
            self,
            Self::TokenUnavailable
                | Self::TokenSlow { .. }
                | Self::TokenLifetime { .. }
                | Self::OversizedToken { .. }
        )
    }
}

/// A fault as asked for, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultSpec {
    pub kind: FaultKind,
    /// None: every caller.
    pub client_id: Option<String>,
    pub starts_at: i64,
    /// Ends at this time, or when `requests` are spent, whichever comes first.
    pub ends_at: i64,
    pub requests: Option<u64>,
    /// The chance it affects each request it could; None: every one.
    pub probability: Option<f64>,
}

impl FaultSpec {
    /// Checks `input` at `now`; `client_of` finds a client's identifier by identifier or login.
    pub fn from_request(
        input: &CreateFault,
        client_of: impl Fn(&str) -> Option<String>,
        now: i64,
    ) -> Result<Self, CoupaErrors> {
        let mut errors = CoupaErrors::new();
        let kind = parse_kind(input, &mut errors);
        let client_id = match input.client.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(client) => {
                let found = client_of(client);
                if found.is_none() {
                    errors.add(
                        "client",
                        format!("no client has the identifier or login `{client}`"),
                    );
                }
                found
            }
        };
        let starts_in = seconds(
            &mut errors,
            "starts_in",
            input.starts_in.as_deref(),
            0,
            MAX_DURATION,
        )
        .unwrap_or(0);
        let duration = seconds(
            &mut errors,
            "duration",
            input.duration.as_deref(),
            1,
            MAX_DURATION,
        );
        if let Some(requests) = input.requests
            && !(1..=MAX_REQUESTS).contains(&requests)
        {
            errors.add("requests", format!("must be from 1 to {MAX_REQUESTS}"));
        }
        if let Some(probability) = input.probability
            && !(probability > 0.0 && probability <= 1.0)
        {
            errors.add("probability", "must be above 0 and at most 1, e.g. 0.25");
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let duration = match (duration, input.requests) {
            (Some(duration), _) => duration,
            (None, Some(_)) => MAX_DURATION,
            (None, None) => DEFAULT_DURATION,
        };
        let starts_at = now.saturating_add(starts_in);
        Ok(Self {
            kind: kind.ok_or_else(|| CoupaErrors::single("kind", "is required"))?,
            client_id,
            starts_at,
            ends_at: starts_at.saturating_add(duration),
            requests: input.requests,
            probability: input.probability.filter(|probability| *probability < 1.0),
        })
    }

    /// Whether it is on at `now` for requests of `client_id`.
    pub fn applies(&self, client_id: &str, now: i64) -> bool {
        self.starts_at <= now
            && now < self.ends_at
            && self.client_id.as_deref().is_none_or(|id| id == client_id)
    }
}

fn parse_kind(input: &CreateFault, errors: &mut CoupaErrors) -> Option<FaultKind> {
    let delay = |errors: &mut CoupaErrors| {
        let delay = seconds(errors, "delay", input.delay.as_deref(), 1, MAX_DELAY);
        if delay.is_none() && input.delay.is_none() {
            errors.add("delay", "is required, e.g. 5s");
        }
        delay
    };
    let kind = match input.kind.trim() {
        "token_unavailable" => Some(FaultKind::TokenUnavailable),
        "token_slow" => delay(errors).map(|seconds| FaultKind::TokenSlow { seconds }),
        "api_slow" => delay(errors).map(|seconds| FaultKind::ApiSlow { seconds }),
        "token_propagation_delay" => {
            delay(errors).map(|seconds| FaultKind::TokenPropagationDelay { seconds })
        }
        "token_lifetime" => {
            let lifetime = seconds(errors, "lifetime", input.lifetime.as_deref(), 1, 86_399);
            if input.lifetime.is_none() {
                errors.add("lifetime", "is required, e.g. 60s");
            }
            lifetime.map(|seconds| FaultKind::TokenLifetime { seconds })
        }
        "oversized_token" => match input.bytes {
            Some(bytes) if (1..=MAX_TOKEN_BYTES).contains(&bytes) => {
                Some(FaultKind::OversizedToken { bytes })
            }
            Some(_) => {
                errors.add("bytes", format!("must be from 1 to {MAX_TOKEN_BYTES}"));
                None
            }
            None => {
                errors.add("bytes", "is required, e.g. 12000");
                None
            }
        },
        "api_rate_limited" => match input.retry_after {
            Some(seconds) if seconds > MAX_RETRY_AFTER => {
                errors.add("retry_after", format!("must be at most {MAX_RETRY_AFTER}"));
                None
            }
            retry_after => Some(FaultKind::ApiRateLimited { retry_after }),
        },
        "api_unavailable" => Some(FaultKind::ApiUnavailable),
        "api_connection_dropped" => Some(FaultKind::ApiConnectionDropped),
        "clock_offset" => {
            let offset = seconds(
                errors,
                "offset",
                input.offset.as_deref(),
                1,
                MAX_CLOCK_OFFSET,
            );
            if input.offset.is_none() {
                errors.add("offset", "is required, e.g. 24h");
            }
            offset.map(|seconds| FaultKind::ClockOffset { seconds })
        }
        "scope_change" => Some(FaultKind::ScopeChange),
        other => {
            errors.add(
                "kind",
                format!("`{other}` is not one of {}", KIND_NAMES.join(", ")),
            );
            None
        }
    };
    let unused = |name: &str, given: bool, used: bool| (given && !used).then(|| name.to_string());
    let uses = |names: &[&str]| kind.is_some_and(|kind| names.contains(&kind.name()));
    let stray = [
        unused(
            "delay",
            input.delay.is_some(),
            uses(&["token_slow", "api_slow", "token_propagation_delay"]),
        ),
        unused(
            "retry_after",
            input.retry_after.is_some(),
            uses(&["api_rate_limited"]),
        ),
        unused(
            "lifetime",
            input.lifetime.is_some(),
            uses(&["token_lifetime"]),
        ),
        unused("offset", input.offset.is_some(), uses(&["clock_offset"])),
        unused("bytes", input.bytes.is_some(), uses(&["oversized_token"])),
    ];
    if kind.is_some() {
        for field in stray.into_iter().flatten() {
            errors.add(field, format!("does not apply to {}", input.kind.trim()));
        }
    }
    kind
}

/// A duration field in whole seconds within `min..=max`; None (with an error) when it is not.
fn seconds(
    errors: &mut CoupaErrors,
    field: &str,
    text: Option<&str>,
    min: i64,
    max: i64,
) -> Option<i64> {
    let text = text?;
    match Lifetime::parse(text) {
        Ok(lifetime) if (min..=max).contains(&lifetime.seconds()) => Some(lifetime.seconds()),
        Ok(_) => {
            errors.add(field, format!("must be from {min} s to {max} s"));
            None
        }
        Err(message) => {
            errors.add(field, message);
            None
        }
    }
}

/// Whether the `draw`-th request a fault with `probability` could affect is affected, for the
/// fault added `ordinal`-th under `seed`: the same three give the same answer on every run.
pub fn drawn(seed: u64, ordinal: u64, draw: u64, probability: f64) -> bool {
    let mixed = splitmix64(seed ^ splitmix64(ordinal) ^ splitmix64(draw.wrapping_add(0x5851_f42d)));
    // The top 53 bits as a fraction in [0, 1).
    ((mixed >> 11) as f64) / ((1u64 << 53) as f64) < probability
}

/// Steele, Lea and Flood's SplitMix64 finaliser: a well-mixed 64-bit value from any input.
fn splitmix64(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Why `/api` refuses a token under a fault of `kind`, if it does: the token was issued at
/// `issued_at`, expires at `expires_at`; the fault began at `fault_start`.
pub fn refuses_token(
    kind: FaultKind,
    fault_start: i64,
    issued_at: i64,
    expires_at: i64,
    now: i64,
) -> Option<&'static str> {
    match kind {
        FaultKind::ClockOffset { seconds } if expires_at <= now.saturating_add(seconds) => {
            Some("the access token has expired")
        }
        FaultKind::TokenPropagationDelay { seconds } if now < issued_at.saturating_add(seconds) => {
            Some(
                "the access token is not valid yet: a new token takes a few seconds to reach every server; retry shortly",
            )
        }
        FaultKind::ScopeChange if issued_at < fault_start => {
            Some("the client's scopes changed since this token was issued; request a new token")
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(input: CreateFault) -> Result<FaultSpec, CoupaErrors> {
        FaultSpec::from_request(
            &input,
            |client| (client == "sync" || client == "id-1").then(|| "id-1".to_string()),
            1000,
        )
    }

    fn fault(kind: &str) -> CreateFault {
        CreateFault {
            kind: kind.into(),
            ..CreateFault::default()
        }
    }

    #[test]
    fn a_fault_is_on_for_its_client_from_its_start_until_its_end() {
        let on = spec(CreateFault {
            client: Some("sync".into()),
            duration: Some("30s".into()),
            starts_in: Some("10s".into()),
            ..fault("api_unavailable")
        })
        .unwrap();
        assert_eq!(on.kind, FaultKind::ApiUnavailable);
        assert_eq!((on.starts_at, on.ends_at), (1010, 1040));
        assert!(!on.applies("id-1", 1009));
        assert!(on.applies("id-1", 1010));
        assert!(on.applies("id-1", 1039));
        assert!(!on.applies("id-1", 1040));
        assert!(!on.applies("other", 1020));
        let everyone = spec(fault("token_unavailable")).unwrap();
        assert_eq!(everyone.ends_at, 1000 + DEFAULT_DURATION);
        assert!(everyone.applies("anyone", 1000));
        let counted = spec(CreateFault {
            requests: Some(3),
            ..fault("api_unavailable")
        })
        .unwrap();
        assert_eq!(counted.requests, Some(3));
        assert_eq!(counted.ends_at, 1000 + MAX_DURATION);
    }

    #[test]
    fn each_kind_takes_its_own_setting_and_refuses_others() {
        assert_eq!(
            spec(CreateFault {
                delay: Some("3s".into()),
                ..fault("token_slow")
            })
            .unwrap()
            .kind,
            FaultKind::TokenSlow { seconds: 3 }
        );
        assert_eq!(
            spec(CreateFault {
                retry_after: Some(7),
                ..fault("api_rate_limited")
            })
            .unwrap()
            .kind,
            FaultKind::ApiRateLimited {
                retry_after: Some(7)
            }
        );
        let cases = [
            (fault("token_slow"), "delay"),
            (
                CreateFault {
                    delay: Some("2m".into()),
                    ..fault("api_slow")
                },
                "delay",
            ),
            (fault("token_lifetime"), "lifetime"),
            (
                CreateFault {
                    bytes: Some(MAX_TOKEN_BYTES + 1),
                    ..fault("oversized_token")
                },
                "bytes",
            ),
            (fault("clock_offset"), "offset"),
            (
                CreateFault {
                    delay: Some("3s".into()),
                    ..fault("api_unavailable")
                },
                "delay",
            ),
            (fault("no_such_kind"), "kind"),
            (
                CreateFault {
                    client: Some("nobody".into()),
                    ..fault("api_unavailable")
                },
                "client",
            ),
            (
                CreateFault {
                    requests: Some(0),
                    ..fault("api_unavailable")
                },
                "requests",
            ),
            (
                CreateFault {
                    duration: Some("8d".into()),
                    ..fault("api_unavailable")
                },
                "duration",
            ),
        ];
        for (input, field) in cases {
            let errors = spec(input.clone()).expect_err(&format!("{input:?}"));
            assert!(errors.errors.contains_key(field), "{input:?}: {errors:?}");
        }
    }

    #[test]
    fn draws_repeat_with_their_seed_and_follow_the_probability() {
        let run = |seed| {
            (0..1000)
                .filter(|draw| drawn(seed, 3, *draw, 0.25))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let hits = run(7).len();
        assert!((200..300).contains(&hits), "{hits} of 1000 at 0.25");
        assert!(
            spec(CreateFault {
                probability: Some(0.0),
                ..fault("api_unavailable")
            })
            .is_err()
        );
        assert!(
            spec(CreateFault {
                probability: Some(1.5),
                ..fault("api_unavailable")
            })
            .is_err()
        );
    }

    #[test]
    fn the_examples_are_every_kind_in_order() {
        let names: Vec<&str> = EXAMPLES.iter().map(|kind| kind.name()).collect();
        assert_eq!(names, KIND_NAMES);
    }

    #[test]
    fn token_refusals_follow_the_clock_the_age_and_the_start() {
        let offset = FaultKind::ClockOffset { seconds: 3600 };
        assert!(refuses_token(offset, 0, 900, 1000 + 3600, 1000).is_some());
        assert!(refuses_token(offset, 0, 900, 1000 + 3601, 1000).is_none());
        let young = FaultKind::TokenPropagationDelay { seconds: 5 };
        assert!(refuses_token(young, 0, 996, 9999, 1000).is_some());
        assert!(refuses_token(young, 0, 995, 9999, 1000).is_none());
        assert!(refuses_token(FaultKind::ScopeChange, 950, 949, 9999, 1000).is_some());
        assert!(refuses_token(FaultKind::ScopeChange, 950, 950, 9999, 1000).is_none());
        assert!(refuses_token(FaultKind::ApiUnavailable, 0, 0, 0, 1000).is_none());
    }
}

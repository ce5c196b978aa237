//! The device authorization grant (RFC 8628): user codes people can type, and how a poll of
//! the token endpoint is answered.

use super::scope::ScopeSet;
use super::secret::{self, RandomnessUnavailable};

/// How long a device code and its user code live.
pub const LIFETIME_SECONDS: i64 = 600;
/// The polling interval devices are told, and what a too-early poll adds to it (§3.5).
pub const INTERVAL_SECONDS: i64 = 5;
pub const SLOW_DOWN_STEP: i64 = 5;

/// Consonants only (§6.1): no vowels to spell words, none that look alike.
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
const USER_CODE_LENGTH: usize = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    Pending,
    Approved,
    Denied,
    Used,
}

impl DeviceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Denied => "denied",
            Self::Used => "used",
        }
    }

    pub fn parse(text: &str) -> Self {
        match text {
            "approved" => Self::Approved,
            "denied" => Self::Denied,
            "used" => Self::Used,
            _ => Self::Pending,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceRecord {
    pub device_digest: Vec<u8>,
    /// Normalised: 8 letters of the alphabet, no dash.
    pub user_code: String,
    pub client_id: String,
    pub scopes: ScopeSet,
    pub expires_at: i64,
    pub interval: i64,
    pub last_polled_at: Option<i64>,
    pub status: DeviceStatus,
    pub grant_id: Option<String>,
}

/// A fresh user code, normalised (`BCDFGHJK`); show it with [`display_user_code`].
pub fn generate_user_code() -> Result<String, RandomnessUnavailable> {
    let bytes = secret::random_bytes::<USER_CODE_LENGTH>()?;
    // 20 letters: 256 % 20 leaves a bias of under 2%, harmless for a 10-minute code that
    // allows no guessing without a signed-in user.
    Ok(bytes
        .iter()
        .map(|b| char::from(USER_CODE_ALPHABET[usize::from(*b) % USER_CODE_ALPHABET.len()]))
        .collect())
}

/// `BCDF-GHJK`
pub fn display_user_code(code: &str) -> String {
    if code.len() == USER_CODE_LENGTH {
        format!("{}-{}", &code[..4], &code[4..])
    } else {
        code.to_string()
    }
}

/// What a person typed, normalised: letters upper-cased, dashes and spaces dropped. None if
/// it cannot be a user code.
pub fn normalize_user_code(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == USER_CODE_LENGTH && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)))
        .then_some(code)
}

/// How the token endpoint answers a poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Poll {
    Pending,
    /// Polled sooner than the interval: the interval grows by `SLOW_DOWN_STEP`.
    SlowDown,
    Expired,
    Denied,
    Approved {
        grant_id: String,
    },
    AlreadyUsed,
}

pub fn judge_poll(record: &DeviceRecord, now: i64) -> Poll {
    if now >= record.expires_at {
        return Poll::Expired;
    }
    match (record.status, &record.grant_id) {
        (DeviceStatus::Used, _) => Poll::AlreadyUsed,
        (DeviceStatus::Denied, _) => Poll::Denied,
        (DeviceStatus::Approved, Some(grant_id)) => Poll::Approved {
            grant_id: grant_id.clone(),
        },
        _ if record
            .last_polled_at
            .is_some_and(|last| now - last < record.interval) =>
        {
            Poll::SlowDown
        }
        _ => Poll::Pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn record(status: DeviceStatus, last_polled_at: Option<i64>) -> DeviceRecord {
        DeviceRecord {
            device_digest: vec![1],
            user_code: "BCDFGHJK".into(),
            client_id: "c".into(),
            scopes: ScopeSet::parse("openid"),
            expires_at: 600,
            interval: 5,
            last_polled_at,
            status,
            grant_id: (status == DeviceStatus::Approved).then(|| "g".to_string()),
        }
    }

    #[test]
    fn polls() {
        assert_eq!(
            judge_poll(&record(DeviceStatus::Pending, None), 10),
            Poll::Pending
        );
        assert_eq!(
            judge_poll(&record(DeviceStatus::Pending, Some(8)), 10),
            Poll::SlowDown
        );
        assert_eq!(
            judge_poll(&record(DeviceStatus::Pending, Some(5)), 10),
            Poll::Pending
        );
        assert_eq!(
            judge_poll(&record(DeviceStatus::Pending, None), 600),
            Poll::Expired
        );
        assert_eq!(
            judge_poll(&record(DeviceStatus::Denied, None), 10),
            Poll::Denied
        );
        assert_eq!(
            judge_poll(&record(DeviceStatus::Used, None), 10),
            Poll::AlreadyUsed
        );
        assert_eq!(
            judge_poll(&record(DeviceStatus::Approved, Some(9)), 10),
            Poll::Approved {
                grant_id: "g".into()
            },
            "an approval is handed out even to an eager poller"
        );
    }

    #[test]
    fn user_codes() {
        let code = generate_user_code().unwrap();
        assert_eq!(
            normalize_user_code(&display_user_code(&code)),
            Some(code.clone())
        );
        assert_eq!(
            normalize_user_code(&display_user_code(&code).to_lowercase()),
            Some(code)
        );
        assert_eq!(
            normalize_user_code("ABCD-EFGH"),
            None,
            "vowels are not in the alphabet"
        );
        assert_eq!(normalize_user_code("BCDF"), None);
    }

    proptest! {
        #[test]
        fn anything_typed_is_normalised_without_panicking(typed in "\\PC{0,40}") {
            if let Some(code) = normalize_user_code(&typed) {
                prop_assert_eq!(code.len(), 8);
            }
        }
    }
}

//! What the local helper servers (`coupa broker`, `coupa bridge`) share: a local secret that
//! callers send as a bearer, and a `Host` check, so that a web page that rebinds a DNS name
//! to 127.0.0.1 cannot use them from a browser.

use axum::http::{HeaderMap, header};

/// The local secret, kept as a digest and compared in constant time.
pub struct LocalSecret {
    digest: [u8; 32],
}

impl LocalSecret {
    pub fn new(secret: &str) -> Self {
        Self {
            digest: coupa_server::domain::secret::digest(secret),
        }
    }

    /// Whether the request carries `Authorization: Bearer <the secret>`.
    pub fn admits(&self, headers: &HeaderMap) -> bool {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| {
                value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
            });
        presented.is_some_and(|secret| coupa_server::domain::secret::matches(secret, &self.digest))
    }
}

/// Whether `Host` names this machine (`localhost`, a loopback address) or one of `allowed`.
pub fn host_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(value) = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let host = coupa_proto::hosts::host_of_authority(value);
    coupa_proto::hosts::is_loopback_host(host)
        || allowed.iter().any(|name| name.eq_ignore_ascii_case(host))
}

/// A local secret from the flag or environment, else a fresh one printed once.
pub fn secret_or_generate(
    given: Option<String>,
    server: &str,
    variable: &str,
) -> Result<String, crate::Failure> {
    match given.filter(|secret| !secret.is_empty()) {
        Some(secret) => Ok(secret),
        None => {
            let secret = coupa_server::domain::secret::generate_secret()
                .map_err(|error| crate::Failure::new(error.to_string()))?;
            outln!(
                "{server} secret (send it as Authorization: Bearer; set {variable} to choose one):\n  {secret}"
            );
            Ok(secret)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_host(host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, host.parse().unwrap());
        headers
    }

    #[test]
    fn only_this_machine_or_named_hosts() {
        for host in [
            "localhost:8089",
            "127.0.0.1:8089",
            "[::1]:8089",
            "LOCALHOST",
            "127.0.0.2",
        ] {
            assert!(host_allowed(&with_host(host), &[]), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:8089",
            "localhost.evil.example",
            "10.0.0.1",
        ] {
            assert!(!host_allowed(&with_host(host), &[]), "{host}");
        }
        assert!(host_allowed(
            &with_host("bridge.internal:8089"),
            &["bridge.internal".into()]
        ));
        assert!(!host_allowed(&HeaderMap::new(), &[]), "no Host at all");
    }
}

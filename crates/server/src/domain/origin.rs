//! The base URL a request is answered under. One server may answer as several instances
//! (`--host acme.coupahost.com --host acme-test.coupahost.com`): a request naming one of
//! them in `Host` is answered as that instance, whose issuer (`iss` of its tokens, every URL
//! of discovery) and API audience follow the name and port it used; tokens of one instance are
//! refused by another, as Coupa's are. Any other `Host` gets the configured issuer, so a
//! caller cannot make the server name a host it does not serve. Pure.

use std::sync::Arc;

use coupa_proto::hosts::host_of_authority;

/// An issuer and the audience of the access tokens it issues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// No trailing slash.
    pub issuer: String,
    pub audience: String,
}

impl Origin {
    pub fn of_issuer(issuer: &str) -> Self {
        Self {
            issuer: issuer.to_string(),
            audience: format!("{issuer}/api"),
        }
    }
}

/// The configured origin and the host names whose requests get one of their own.
#[derive(Debug, Clone)]
pub struct Origins {
    configured: Arc<Origin>,
    scheme: &'static str,
    /// Lowercase; `*.example.com` matches one label in front of `example.com`.
    hosts: Vec<String>,
}

impl Origins {
    /// `https` says the server itself serves HTTPS; otherwise the configured issuer's scheme
    /// is kept (a server behind a proxy that ends TLS).
    pub fn new(issuer: &str, https: bool, hosts: Vec<String>) -> Self {
        let scheme = if https || issuer.starts_with("https://") {
            "https"
        } else {
            "http"
        };
        Self {
            configured: Arc::new(Origin::of_issuer(issuer)),
            scheme,
            hosts: hosts
                .into_iter()
                .map(|host| host.to_ascii_lowercase())
                .collect(),
        }
    }

    pub fn configured(&self) -> &Arc<Origin> {
        &self.configured
    }

    /// The origin of a request whose `Host` header is `host`.
    pub fn for_host(&self, host: Option<&str>) -> Arc<Origin> {
        let followed = host
            .filter(|_| !self.hosts.is_empty())
            .and_then(|authority| self.served_authority(authority));
        match followed {
            Some(authority) => {
                let issuer = format!("{}://{authority}", self.scheme);
                if issuer == self.configured.issuer {
                    Arc::clone(&self.configured)
                } else {
                    Arc::new(Origin::of_issuer(&issuer))
                }
            }
            None => Arc::clone(&self.configured),
        }
    }

    /// `authority` lowercased, when it names a served host with at most a valid port.
    fn served_authority(&self, authority: &str) -> Option<String> {
        let authority = authority.trim().to_ascii_lowercase();
        let host = host_of_authority(&authority);
        let port = authority
            .rsplit_once(':')
            .map(|(_, port)| port)
            .filter(|port| !port.contains(']') && host != authority);
        if port.is_some_and(|port| port.parse::<u16>().is_err()) {
            return None;
        }
        let served = self.hosts.iter().any(|served| matches_host(served, host));
        served.then_some(authority)
    }
}

fn matches_host(served: &str, host: &str) -> bool {
    match served.strip_prefix("*.") {
        Some(parent) => host
            .strip_suffix(parent)
            .and_then(|label| label.strip_suffix('.'))
            .is_some_and(|label| !label.is_empty() && !label.contains('.')),
        None => served == host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins() -> Origins {
        Origins::new(
            "https://127.0.0.1:8443",
            true,
            vec![
                "acme.coupahost.com".into(),
                "*.coupacloud.com".into(),
                "localhost".into(),
            ],
        )
    }

    #[test]
    fn a_served_host_is_the_issuer_with_the_port_it_was_named_with() {
        let origins = origins();
        let origin = origins.for_host(Some("ACME.coupahost.com"));
        assert_eq!(origin.issuer, "https://acme.coupahost.com");
        assert_eq!(origin.audience, "https://acme.coupahost.com/api");
        assert_eq!(
            origins.for_host(Some("acme.coupahost.com:8443")).issuer,
            "https://acme.coupahost.com:8443"
        );
        assert_eq!(
            origins.for_host(Some("globex.coupacloud.com")).issuer,
            "https://globex.coupacloud.com"
        );
        assert_eq!(
            origins.for_host(Some("localhost:8443")).issuer,
            "https://localhost:8443"
        );
    }

    #[test]
    fn any_other_host_gets_the_configured_issuer() {
        let origins = origins();
        for host in [
            None,
            Some("evil.example.com"),
            Some("acme.coupahost.com.evil.example"),
            Some("a.b.coupacloud.com"),
            Some("coupacloud.com"),
            Some("acme.coupahost.com:99999"),
            Some("acme.coupahost.com:x"),
            Some("acme.coupahost.com/path"),
            Some(""),
        ] {
            assert_eq!(
                origins.for_host(host).issuer,
                "https://127.0.0.1:8443",
                "{host:?}"
            );
        }
    }

    #[test]
    fn without_host_names_every_request_gets_the_configured_issuer() {
        let origins = Origins::new("http://127.0.0.1:8080", false, Vec::new());
        assert_eq!(
            origins.for_host(Some("localhost:8080")).issuer,
            "http://127.0.0.1:8080"
        );
    }
}

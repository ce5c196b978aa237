//! The HTTP client the SDK should be given. Token requests are never redirected (a 307 or 308
//! would re-post the client secret to wherever it points); API requests follow redirects only
//! within the same origin, so a bearer token never leaves the instance it was minted for.

use reqwest::redirect::{Attempt, Policy};

/// The path of the token endpoint, never followed out of.
pub const TOKEN_PATH: &str = "/oauth2/token";
const MAX_REDIRECTS: usize = 5;

/// The redirect rule above, for a `reqwest::ClientBuilder` built by hand (for instance with
/// an extra root certificate).
pub fn redirect_policy() -> Policy {
    Policy::custom(judge)
}

fn judge(attempt: Attempt<'_>) -> reqwest::redirect::Action {
    let Some(first) = attempt.previous().first() else {
        return attempt.stop();
    };
    let same_origin = first.origin() == attempt.url().origin();
    if first.path().ends_with(TOKEN_PATH) || !same_origin {
        attempt.stop()
    } else if attempt.previous().len() > MAX_REDIRECTS {
        attempt.error("too many redirects")
    } else {
        attempt.follow()
    }
}

/// A client with `redirect_policy()`.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(redirect_policy())
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// A request that got no answer, with its causes: reqwest's own message says only "error
/// sending request", the cause (refused connection, untrusted certificate) is in its sources.
pub fn describe_send_error(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Whether a failure described by `describe_send_error` is a certificate the client does not
/// trust (such as a `coupa serve --tls` sandbox's, signed by its local CA).
pub fn is_untrusted_certificate(description: &str) -> bool {
    description.contains("invalid peer certificate")
}

/// Whether a URL may carry a client secret: https, or http to this machine only.
pub fn allows_secrets(url: &str) -> bool {
    if url.starts_with("https://") {
        return true;
    }
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    parsed.scheme() == "http"
        && coupa_proto::hosts::is_loopback_host(parsed.host_str().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_is_only_for_this_machine() {
        for allowed in [
            "https://acme.coupahost.com",
            "http://localhost:8080",
            "http://127.0.0.1:8080",
            "http://[::1]:8080",
        ] {
            assert!(allows_secrets(allowed), "{allowed}");
        }
        for refused in [
            "http://acme.coupahost.com",
            "http://10.1.2.3",
            "http://localhost.evil.example",
            "ftp://x",
        ] {
            assert!(!allows_secrets(refused), "{refused}");
        }
    }
}

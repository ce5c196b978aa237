//! The HTML pages a user sees: sign-in, consent, errors. Server-rendered, no script, every
//! interpolated value escaped.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use coupa_proto::scopes;

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f6f8;color:#1d2329;margin:0}\
main{max-width:30rem;margin:4rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 1px 4px #0002}\
h1{font-size:1.4rem;margin-top:0}label{display:block;margin:1rem 0 .3rem;font-weight:600}\
input[type=text],input[type=password]{width:100%;padding:.5rem;box-sizing:border-box;font-size:1rem}\
button{margin-top:1.2rem;padding:.55rem 1.2rem;font-size:1rem;border-radius:4px;border:1px solid #0b5cad;cursor:pointer}\
button.primary{background:#0b5cad;color:#fff}button.secondary{background:#fff;color:#0b5cad}\
.error{background:#fde8e8;border:1px solid #e0a3a3;padding:.6rem;border-radius:4px}\
ul.scopes li{margin:.4rem 0}code{background:#eef1f4;padding:0 .2rem}";

/// Scripts nowhere, styles inline, forms only to this server, no `<base>`, no framing.
const PAGE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
base-uri 'none'; frame-ancestors 'none'";

/// A complete page with the headers every page gets: never cached, never framed.
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    page_with_policy(status, title, body, PAGE_POLICY.to_string())
}

fn page_with_policy(status: StatusCode, title: &str, body: &str, policy: String) -> Response {
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        title = escape(title)
    );
    html_response(status, html, policy)
}

/// HTML with the headers every page gets: never cached, never framed, no referrer, and the
/// page's own Content-Security-Policy.
pub fn html_response(status: StatusCode, html: String, policy: impl Into<String>) -> Response {
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(policy) = HeaderValue::from_str(&policy.into()) {
        headers.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

pub fn error_page(status: StatusCode, message: &str) -> Response {
    page(
        status,
        "Cannot continue",
        &format!(
            "<h1>Cannot continue</h1><p class=\"error\" role=\"alert\">{}</p>",
            escape(message)
        ),
    )
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        escape(name),
        escape(value)
    )
}

pub fn login_page(
    status: StatusCode,
    csrf: &str,
    return_to: &str,
    login: &str,
    error: Option<&str>,
) -> Response {
    let error = error
        .map(|error| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(error)))
        .unwrap_or_default();
    page(
        status,
        "Sign in",
        &format!(
            "<h1>Sign in</h1>{error}<form method=\"post\" action=\"/oauth2/login\">{csrf}{return_to}\
<label for=\"login\">Login</label><input type=\"text\" id=\"login\" name=\"login\" value=\"{login}\" autocomplete=\"username\" required autofocus>\
<label for=\"password\">Password</label><input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>\
<button type=\"submit\" class=\"primary\">Sign in</button></form>",
            csrf = hidden("csrf_token", csrf),
            return_to = hidden("return_to", return_to),
            login = escape(login),
        ),
    )
}

pub struct Consent<'a> {
    pub csrf: &'a str,
    pub action: &'a str,
    pub application: &'a str,
    pub user_name: &'a str,
    pub scopes: Vec<&'a str>,
    pub hidden: Vec<(&'a str, String)>,
    /// Where the decision is sent on to (the client's redirect URI), if anywhere: browsers
    /// hold a form's redirects to its `form-action` too.
    pub redirects_to: Option<&'a str>,
}

/// The CSP source of a redirect URI: its origin, or its scheme for a native app's.
fn form_target_source(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.split_once(':')?;
    let valid = |text: &str| {
        !text.is_empty()
            && text.chars().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | ':' | '[' | ']')
            })
    };
    match rest.strip_prefix("//") {
        Some(after) => {
            let authority = after.split(['/', '?', '#']).next().unwrap_or_default();
            let authority = authority.rsplit('@').next().unwrap_or_default();
            (valid(scheme) && valid(authority)).then(|| format!("{scheme}://{authority}"))
        }
        None => valid(scheme).then(|| format!("{scheme}:")),
    }
}

pub fn consent_page(consent: &Consent<'_>) -> Response {
    let scopes: String = consent
        .scopes
        .iter()
        .map(|name| {
            let description = scopes::find(name)
                .map(|scope| scope.description)
                .unwrap_or_default();
            format!(
                "<li><code>{}</code>: {}</li>",
                escape(name),
                escape(description)
            )
        })
        .collect();
    let carried: String = consent
        .hidden
        .iter()
        .map(|(name, value)| hidden(name, value))
        .collect();
    let policy = match consent.redirects_to.and_then(form_target_source) {
        Some(source) => PAGE_POLICY.replace(
            "form-action 'self'",
            &format!("form-action 'self' {source}"),
        ),
        None => PAGE_POLICY.to_string(),
    };
    page_with_policy(
        StatusCode::OK,
        "Allow access?",
        &format!(
            "<h1>Allow {app} to access your account?</h1>\
<p>Signed in as <strong>{user}</strong>. {app} asks for:</p><ul class=\"scopes\">{scopes}</ul>\
<form method=\"post\" action=\"{action}\">{csrf}{carried}\
<button type=\"submit\" name=\"decision\" value=\"allow\" class=\"primary\">Allow</button> \
<button type=\"submit\" name=\"decision\" value=\"deny\" class=\"secondary\">Deny</button></form>",
            app = escape(consent.application),
            user = escape(consent.user_name),
            action = escape(consent.action),
            csrf = hidden("csrf_token", consent.csrf),
        ),
        policy,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_targets_are_origins_or_app_schemes() {
        assert_eq!(
            form_target_source("https://app.example:8443/cb?x=1").as_deref(),
            Some("https://app.example:8443")
        );
        assert_eq!(
            form_target_source("http://127.0.0.1:9000/cb").as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert_eq!(
            form_target_source("com.example.app:/cb").as_deref(),
            Some("com.example.app:")
        );
        assert_eq!(form_target_source("https://a b/"), None);
        assert_eq!(form_target_source("https://x;script-src *"), None);
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}

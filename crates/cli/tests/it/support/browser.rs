//! A browser without JavaScript for the HTML pages: cookies kept, redirects not followed,
//! and the hidden fields of a page's form.

use std::collections::HashMap;

use reqwest::StatusCode;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

/// A browser without JavaScript: keeps cookies, follows nothing by itself.
pub struct Browser {
    http: reqwest::Client,
    cookies: HashMap<String, String>,
    base: String,
}

pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: HashMap::new(),
            base: base.to_string(),
        }
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with("http") {
            url.to_string()
        } else {
            format!("{}{url}", self.base)
        }
    }

    async fn finish(&mut self, request: reqwest::RequestBuilder) -> Page {
        let cookie_header: Vec<String> = self
            .cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        let response = request
            .header(COOKIE, cookie_header.join("; "))
            .send()
            .await
            .unwrap();
        for value in response.headers().get_all(SET_COOKIE) {
            let text = value.to_str().unwrap();
            assert!(
                text.contains("HttpOnly") && text.contains("SameSite=Lax"),
                "{text}"
            );
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
        Page {
            status: response.status(),
            location: response
                .headers()
                .get(LOCATION)
                .map(|value| value.to_str().unwrap().to_string()),
            headers: response.headers().clone(),
            body: response.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, url: &str) -> Page {
        let request = self.http.get(self.absolute(url));
        self.finish(request).await
    }

    /// A GET as a browser's navigation sends it, naming the media types it takes.
    pub async fn get_with_accept(&mut self, url: &str, accept: &str) -> Page {
        let request = self
            .http
            .get(self.absolute(url))
            .header(reqwest::header::ACCEPT, accept);
        self.finish(request).await
    }

    pub async fn post(&mut self, url: &str, form: &[(String, String)]) -> Page {
        let request = self.http.post(self.absolute(url)).form(form);
        self.finish(request).await
    }

    /// POSTs a body exactly as given, as a form.
    pub async fn post_raw(&mut self, url: &str, body: &str) -> Page {
        let request = self
            .http
            .post(self.absolute(url))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(body.to_string());
        self.finish(request).await
    }

    pub fn forget_cookie(&mut self, name: &str) {
        self.cookies.remove(name);
    }
}

/// HTML text as the browser reads it: named and decimal character references decoded.
pub fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&#60;", "<")
        .replace("&gt;", ">")
        .replace("&#62;", ">")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

/// The hidden fields of the first form in `html`.
pub fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|rest| {
            let name = rest
                .split("name=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            let value = rest
                .split("value=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap();
            (unescape(name), unescape(value))
        })
        .collect()
}

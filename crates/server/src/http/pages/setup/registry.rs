//! Every Setup page, in one list: it drives the navigation bar, "Find it fast" and the paths a
//! sign-in may return to. A page of Setup is routed in `setup::router` and listed here.

/// One page of Setup.
#[derive(Debug, PartialEq, Eq)]
pub struct SetupPage {
    /// Which navigation entry is current on the page (`Chrome::section`).
    pub id: &'static str,
    pub title: &'static str,
    /// The shorter name the navigation bar shows.
    pub nav_label: &'static str,
    pub path: &'static str,
    pub section: &'static str,
    pub description: &'static str,
    /// Other words an administrator may type for it.
    pub keywords: &'static str,
}

/// Where Setup starts: every page by section, and "Find it fast".
pub const HOME_PATH: &str = "/setup";

pub static SETUP_PAGES: &[SetupPage] = &[
    SetupPage {
        id: "clients",
        title: "OAuth2/OpenID Connect Clients",
        nav_label: "OAuth2/OpenID Connect Clients",
        path: "/oauth2/clients",
        section: "Integrations",
        description: "Create and manage the OAuth 2.0 clients integrations use to call the API.",
        keywords: "oauth oidc openid connect client credentials authorization code device secret integration api",
    },
    SetupPage {
        id: "scopes",
        title: "Scopes",
        nav_label: "Scopes",
        path: "/oauth2/scopes",
        section: "Integrations",
        description: "Every scope, the API permissions it grants and the clients that hold it.",
        keywords: "oauth scope permission service.object.right api",
    },
    SetupPage {
        id: "api_keys",
        title: "API Keys",
        nav_label: "API Keys",
        path: "/api_keys",
        section: "Integrations",
        description: "Legacy X-COUPA-API-KEY keys: when and from where each was last used; revoke them.",
        keywords: "api key legacy x-coupa-api-key revoke integration",
    },
    SetupPage {
        id: "transition",
        title: "API Key Transition Report",
        nav_label: "Transition",
        path: "/setup/transition",
        section: "Integrations",
        description: "Which API keys are still in use, from where, and how far the move to OAuth has come.",
        keywords: "oauth migration transition api key worklist idle usage",
    },
    SetupPage {
        id: "users",
        title: "Users",
        nav_label: "Users",
        path: "/users",
        section: "Users",
        description: "People who sign in: create them, deactivate them, reset their passwords.",
        keywords: "user admin administrator password login people account",
    },
    SetupPage {
        id: "keys",
        title: "Signing Keys",
        nav_label: "Signing Keys",
        path: "/setup/keys",
        section: "Security",
        description: "The keys tokens are signed with: rotate them without an outage, retire a leaked one at once.",
        keywords: "jwks jwk signing key rotate rotation retire compromised kid es256 rs256 eddsa",
    },
    SetupPage {
        id: "audit",
        title: "Audit Trail",
        nav_label: "Audit Trail",
        path: "/setup/audit",
        section: "Security",
        description: "Who changed what, when and from where: every administrative change, with its values before and after.",
        keywords: "audit trail log history changes who when admin events security",
    },
    SetupPage {
        id: "faults",
        title: "Faults",
        nav_label: "Faults",
        path: "/setup/faults",
        section: "Sandbox",
        description: "Coupa's failure modes on demand: 503s, 429s, slow answers, dropped connections, tokens that expire early.",
        keywords: "fault failure sandbox test outage 503 429 rate limit slow latency timeout expire token chaos",
    },
];

/// The pages matching every word of `query`, case-insensitively; all of them for an empty
/// query.
pub fn find_pages(query: &str) -> Vec<&'static SetupPage> {
    let words: Vec<String> = query.split_whitespace().map(str::to_lowercase).collect();
    SETUP_PAGES
        .iter()
        .filter(|page| {
            let text = format!(
                "{} {} {} {}",
                page.title, page.section, page.description, page.keywords
            )
            .to_lowercase();
            words.iter().all(|word| text.contains(word.as_str()))
        })
        .collect()
}

/// Whether `path` is Setup: its home, a listed page or anything under one (`/users/u1`).
pub fn is_setup_path(path: &str) -> bool {
    let under = |base: &str| {
        path.strip_prefix(base)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['/', '?']))
    };
    under(HOME_PATH) || SETUP_PAGES.iter().any(|page| under(page.path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn typing_oauth_finds_the_clients_page() {
        let found = find_pages("oauth");
        assert_eq!(found[0].title, "OAuth2/OpenID Connect Clients");
        assert_eq!(found[0].path, "/oauth2/clients");
        assert_eq!(find_pages("  OAUTH   clients ")[0].path, "/oauth2/clients");
        assert_eq!(find_pages("password")[0].path, "/users");
        assert!(find_pages("no such page").is_empty());
        assert_eq!(find_pages("").len(), SETUP_PAGES.len());
    }

    #[test]
    fn setup_paths_are_the_listed_pages_and_what_is_under_them() {
        for path in [
            "/setup",
            "/setup?q=x",
            "/users",
            "/users/u1",
            "/api_keys",
            "/oauth2/clients/new",
        ] {
            assert!(is_setup_path(path), "{path}");
        }
        for path in ["/usersx", "/api", "/oauth2/token", "/", "/setupx"] {
            assert!(!is_setup_path(path), "{path}");
        }
    }

    proptest! {
        #[test]
        fn find_never_panics(query in "\\PC{0,40}") {
            let _ = find_pages(&query);
        }
    }
}

//! The address side of Setup's lists: `?q=&sort=&dir=&page=` (and a list's own filters) read
//! leniently (nonsense reads as the default, never a refusal), and the links of sortable
//! column headers and of the pager, each keeping the rest of the query.

use serde::Deserialize;

use crate::domain::listing::{DEFAULT_PER_PAGE, ListPage, ListRequest};

/// A list's query string.
#[derive(Deserialize, Default)]
pub struct ListParams {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    sort: Option<String>,
    #[serde(default)]
    dir: Option<String>,
    #[serde(default)]
    page: Option<String>,
    #[serde(default)]
    per_page: Option<String>,
    /// Filters: `grant`, `active`; each list reads those it offers.
    #[serde(default)]
    grant: Option<String>,
    #[serde(default)]
    active: Option<String>,
}

/// Whether rows must be active, deactivated, or either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActiveFilter {
    Any,
    Active,
    Inactive,
}

impl ActiveFilter {
    /// The `active` value rows must have, if one.
    pub fn wanted(self) -> Option<bool> {
        match self {
            Self::Any => None,
            Self::Active => Some(true),
            Self::Inactive => Some(false),
        }
    }

    pub fn admits(self, active: bool) -> bool {
        match self {
            Self::Any => true,
            Self::Active => active,
            Self::Inactive => !active,
        }
    }
}

impl ListParams {
    pub fn request(&self) -> ListRequest {
        let number = |text: &Option<String>, default: usize| {
            text.as_deref()
                .and_then(|text| text.trim().parse::<usize>().ok())
                .filter(|number| *number > 0)
                .unwrap_or(default)
        };
        ListRequest {
            words: ListRequest::search(self.q.as_deref().unwrap_or_default()),
            sort: self.sort.clone().filter(|sort| !sort.is_empty()),
            descending: self.dir.as_deref() == Some("desc"),
            page: number(&self.page, 1),
            per_page: number(&self.per_page, DEFAULT_PER_PAGE),
        }
    }

    pub fn search_text(&self) -> &str {
        self.q.as_deref().unwrap_or_default()
    }

    pub fn grant(&self) -> Option<&str> {
        self.grant.as_deref().filter(|grant| !grant.is_empty())
    }

    pub fn active(&self) -> ActiveFilter {
        match self.active.as_deref() {
            Some("yes") => ActiveFilter::Active,
            Some("no") => ActiveFilter::Inactive,
            _ => ActiveFilter::Any,
        }
    }
}

/// What a list's template needs beyond its rows: the search, the order, the page, and links.
pub struct ListView {
    path: String,
    /// The query every link keeps (search and filters), without order and page.
    kept: Vec<(&'static str, String)>,
    pub search: String,
    pub sort: String,
    pub descending: bool,
    pub page: usize,
    pub pages: usize,
    pub total: usize,
    pub first_shown: usize,
    pub last_shown: usize,
    per_page: usize,
    pub active: &'static str,
}

impl ListView {
    pub fn new<T>(path: impl Into<String>, params: &ListParams, listed: &ListPage<T>) -> Self {
        let mut kept = Vec::new();
        let search = params.search_text().trim().to_string();
        if !search.is_empty() {
            kept.push(("q", search.clone()));
        }
        if let Some(grant) = params.grant() {
            kept.push(("grant", grant.to_string()));
        }
        let active = match params.active() {
            ActiveFilter::Any => "",
            ActiveFilter::Active => "yes",
            ActiveFilter::Inactive => "no",
        };
        if !active.is_empty() {
            kept.push(("active", active.to_string()));
        }
        let (first_shown, last_shown) = listed.shown();
        Self {
            path: path.into(),
            kept,
            search,
            sort: listed.sort.clone(),
            descending: listed.descending,
            page: listed.page,
            pages: listed.pages(),
            total: listed.total,
            first_shown,
            last_shown,
            per_page: listed.per_page,
            active,
        }
    }

    fn link(&self, sort: &str, descending: bool, page: usize) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in &self.kept {
            query.append_pair(name, value);
        }
        query.append_pair("sort", sort);
        if descending {
            query.append_pair("dir", "desc");
        }
        if self.per_page != DEFAULT_PER_PAGE {
            query.append_pair("per_page", &self.per_page.to_string());
        }
        if page > 1 {
            query.append_pair("page", &page.to_string());
        }
        format!("{}?{}", self.path, query.finish())
    }

    /// A column header's link: by `column` ascending, or the other way when it is the order.
    pub fn sort_link(&self, column: &str) -> String {
        let descending = self.sort == column && !self.descending;
        self.link(column, descending, 1)
    }

    /// `aria-sort` of a column header.
    pub fn aria_sort(&self, column: &str) -> &'static str {
        match (self.sort == column, self.descending) {
            (false, _) => "none",
            (true, false) => "ascending",
            (true, true) => "descending",
        }
    }

    /// The arrow after the current order's header.
    pub fn arrow(&self, column: &str) -> &'static str {
        match self.aria_sort(column) {
            "ascending" => " ▲",
            "descending" => " ▼",
            _ => "",
        }
    }

    pub fn page_link(&self, page: usize) -> String {
        self.link(&self.sort, self.descending, page)
    }

    pub fn first_link(&self) -> String {
        self.page_link(1)
    }

    pub fn previous_link(&self) -> String {
        self.page_link(self.page.saturating_sub(1).max(1))
    }

    pub fn next_link(&self) -> String {
        self.page_link((self.page + 1).min(self.pages))
    }

    pub fn last_link(&self) -> String {
        self.page_link(self.pages)
    }

    pub fn has_previous(&self) -> bool {
        self.page > 1
    }

    pub fn has_next(&self) -> bool {
        self.page < self.pages
    }

    /// Whether a search or a filter narrows the list.
    pub fn is_narrowed(&self) -> bool {
        !self.kept.is_empty()
    }

    /// "Showing 51–100 of 10,000" or what was found.
    pub fn summary(&self) -> String {
        let total = thousands(self.total);
        if self.total == 0 {
            return "Nothing matches.".to_string();
        }
        if self.pages == 1 {
            return format!("{total} in all.");
        }
        format!(
            "Showing {}–{} of {total}.",
            thousands(self.first_shown),
            thousands(self.last_shown)
        )
    }

    /// What the "Go to page" form carries besides the page: the search, filters and order.
    pub fn hidden_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = self.kept.clone();
        fields.push(("sort", self.sort.clone()));
        if self.descending {
            fields.push(("dir", "desc".to_string()));
        }
        if self.per_page != DEFAULT_PER_PAGE {
            fields.push(("per_page", self.per_page.to_string()));
        }
        fields
    }

    /// The path of the list itself, for the search form and "clear".
    pub fn path(&self) -> &str {
        &self.path
    }
}

/// 10000 as "10,000".
pub fn thousands(number: usize) -> String {
    let digits = number.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_keep_the_search_and_toggle_the_order() {
        let params: ListParams =
            serde_urlencoded_like("q=acme%20sync&grant=client_credentials&sort=name&page=3");
        let listed: ListPage<()> = ListPage {
            rows: vec![(); 50],
            total: 10_000,
            page: 3,
            per_page: 50,
            sort: "name".into(),
            descending: false,
        };
        let view = ListView::new("/oauth2/clients", &params, &listed);
        assert_eq!(
            view.sort_link("name"),
            "/oauth2/clients?q=acme+sync&grant=client_credentials&sort=name&dir=desc"
        );
        assert_eq!(
            view.sort_link("login"),
            "/oauth2/clients?q=acme+sync&grant=client_credentials&sort=login"
        );
        assert_eq!(
            view.page_link(4),
            "/oauth2/clients?q=acme+sync&grant=client_credentials&sort=name&page=4"
        );
        assert_eq!(view.summary(), "Showing 101–150 of 10,000.");
        assert_eq!(view.aria_sort("name"), "ascending");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn nonsense_reads_as_the_default() {
        let params: ListParams = serde_urlencoded_like("page=-4&per_page=abc&dir=sideways");
        let request = params.request();
        assert_eq!(request.page, 1);
        assert_eq!(request.per_page, DEFAULT_PER_PAGE);
        assert!(!request.descending);
    }

    fn serde_urlencoded_like(query: &str) -> ListParams {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let value = serde_json::Value::Object(
            pairs
                .into_iter()
                .map(|(name, value)| (name, serde_json::Value::String(value)))
                .collect(),
        );
        serde_json::from_value(value).unwrap()
    }
}

//! Lists that scale: search, sort by any column, and one page of the result with the total.
//! Pure: the rows come from wherever they are kept, already filtered by what a list offers
//! (grant type, active), and only the page's rows are handed back.

/// Rows per page unless asked otherwise, and at most.
pub const DEFAULT_PER_PAGE: usize = 50;
pub const MAX_PER_PAGE: usize = 200;

/// What a list is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    /// Lowercased; a row matches when every word is in one of its searched texts.
    pub words: Vec<String>,
    /// The column to sort by; the list's default when None or not one of its columns.
    pub sort: Option<String>,
    pub descending: bool,
    /// From 1; past the last page means the last page.
    pub page: usize,
    pub per_page: usize,
}

impl Default for ListRequest {
    fn default() -> Self {
        Self {
            words: Vec::new(),
            sort: None,
            descending: false,
            page: 1,
            per_page: DEFAULT_PER_PAGE,
        }
    }
}

impl ListRequest {
    /// The words of a search box's text.
    pub fn search(text: &str) -> Vec<String> {
        text.split_whitespace()
            .take(8)
            .map(str::to_lowercase)
            .collect()
    }
}

/// What a column sorts by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey {
    /// Absent values (never used, no date) sort first.
    Missing,
    Number(i64),
    /// Compared case-insensitively (the key holds the lowercased text).
    Text(String),
}

impl SortKey {
    pub fn text(text: &str) -> Self {
        Self::Text(text.to_lowercase())
    }

    pub fn optional_number(number: Option<i64>) -> Self {
        number.map_or(Self::Missing, Self::Number)
    }
}

/// What a list needs to know of its rows.
pub trait Listable {
    /// The texts a search looks in.
    fn searched(&self) -> Vec<&str>;

    /// What the row sorts by in `column`; None when the list has no such column.
    fn sort_key(&self, column: &str) -> Option<SortKey>;

    /// What orders rows whose sort keys are equal, so that pages never overlap.
    fn identity(&self) -> &str;
}

impl<T: Listable> Listable for &T {
    fn searched(&self) -> Vec<&str> {
        (**self).searched()
    }

    fn sort_key(&self, column: &str) -> Option<SortKey> {
        (**self).sort_key(column)
    }

    fn identity(&self) -> &str {
        (**self).identity()
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage<T> {
    pub rows: Vec<T>,
    /// Rows matching the search, on every page.
    pub total: usize,
    /// The page shown, from 1.
    pub page: usize,
    pub per_page: usize,
    /// The column the rows are sorted by.
    pub sort: String,
    pub descending: bool,
}

impl<T> ListPage<T> {
    /// The same page with each row turned into another.
    pub fn map<U>(self, turn: impl FnMut(T) -> U) -> ListPage<U> {
        ListPage {
            rows: self.rows.into_iter().map(turn).collect(),
            total: self.total,
            page: self.page,
            per_page: self.per_page,
            sort: self.sort,
            descending: self.descending,
        }
    }

    pub fn pages(&self) -> usize {
        self.total.div_ceil(self.per_page).max(1)
    }

    /// The positions (from 1) of the first and last row shown; (0, 0) when none.
    pub fn shown(&self) -> (usize, usize) {
        if self.rows.is_empty() {
            return (0, 0);
        }
        let first = (self.page - 1) * self.per_page + 1;
        (first, first + self.rows.len() - 1)
    }
}

/// Whether `row` holds every word of the search (case-insensitively).
pub fn matches(row: &impl Listable, words: &[String]) -> bool {
    if words.is_empty() {
        return true;
    }
    let texts: Vec<String> = row
        .searched()
        .iter()
        .map(|text| text.to_lowercase())
        .collect();
    words
        .iter()
        .all(|word| texts.iter().any(|text| text.contains(word.as_str())))
}

/// The page of `rows` that `request` asks for: searched, sorted by the requested column (or
/// `default_sort`), cut to one page.
pub fn list<T: Listable>(
    rows: impl IntoIterator<Item = T>,
    request: &ListRequest,
    default_sort: &str,
) -> ListPage<T> {
    let mut found: Vec<T> = rows
        .into_iter()
        .filter(|row| matches(row, &request.words))
        .collect();
    let sort = request
        .sort
        .as_deref()
        .filter(|column| {
            found
                .first()
                .is_none_or(|row| row.sort_key(column).is_some())
        })
        .unwrap_or(default_sort)
        .to_string();
    found.sort_by_cached_key(|row| {
        (
            row.sort_key(&sort).unwrap_or(SortKey::Missing),
            row.identity().to_string(),
        )
    });
    if request.descending {
        found.reverse();
    }
    let per_page = request.per_page.clamp(1, MAX_PER_PAGE);
    let total = found.len();
    let last_page = total.div_ceil(per_page).max(1);
    let page = request.page.clamp(1, last_page);
    let rows = found
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    ListPage {
        rows,
        total,
        page,
        per_page,
        sort,
        descending: request.descending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Eq)]
    struct Row {
        id: String,
        name: String,
        uses: Option<i64>,
    }

    impl Listable for Row {
        fn searched(&self) -> Vec<&str> {
            vec![&self.id, &self.name]
        }

        fn sort_key(&self, column: &str) -> Option<SortKey> {
            match column {
                "name" => Some(SortKey::text(&self.name)),
                "uses" => Some(SortKey::optional_number(self.uses)),
                _ => None,
            }
        }

        fn identity(&self) -> &str {
            &self.id
        }
    }

    fn rows(count: usize) -> Vec<Row> {
        (0..count)
            .map(|index| Row {
                id: format!("id-{index:05}"),
                name: format!("Client {}", index % 7),
                uses: (index % 3 != 0).then_some(i64::try_from(index).unwrap()),
            })
            .collect()
    }

    #[test]
    fn pages_cover_every_row_once_in_order() {
        let all = rows(1234);
        let mut seen = Vec::new();
        for page in 1..=25 {
            let request = ListRequest {
                sort: Some("name".into()),
                page,
                ..ListRequest::default()
            };
            let listed = list(all.clone(), &request, "name");
            assert_eq!(listed.total, 1234);
            assert_eq!(listed.pages(), 25);
            seen.extend(listed.rows);
        }
        assert_eq!(seen.len(), 1234);
        let mut sorted = seen.clone();
        sorted.sort_by(|a, b| (a.name.to_lowercase(), &a.id).cmp(&(b.name.to_lowercase(), &b.id)));
        assert_eq!(seen, sorted, "names, then ids: no row twice, none left out");
    }

    #[test]
    fn search_needs_every_word_in_some_field_ignoring_case() {
        let all = rows(100);
        let request = ListRequest {
            words: ListRequest::search("CLIENT 3"),
            ..ListRequest::default()
        };
        let listed = list(all.clone(), &request, "name");
        assert!(listed.total > 0);
        assert!(
            listed
                .rows
                .iter()
                .all(|row| row.name.contains('3') || row.id.contains('3'))
        );
        let by_id = ListRequest {
            words: ListRequest::search("id-00042"),
            ..ListRequest::default()
        };
        assert_eq!(list(all, &by_id, "name").rows[0].id, "id-00042");
    }

    #[test]
    fn descending_missing_values_and_out_of_range_pages() {
        let all = rows(10);
        let request = ListRequest {
            sort: Some("uses".into()),
            descending: true,
            page: 99,
            per_page: 4,
            ..ListRequest::default()
        };
        let listed = list(all.clone(), &request, "name");
        assert_eq!(listed.page, 3, "past the end is the last page");
        assert_eq!(listed.shown(), (9, 10));
        assert!(
            listed.rows.iter().all(|row| row.uses.is_none()),
            "never used last when descending"
        );
        let unknown = ListRequest {
            sort: Some("secret".into()),
            ..ListRequest::default()
        };
        assert_eq!(
            list(all, &unknown, "name").sort,
            "name",
            "an unknown column sorts by the default"
        );
        let empty: ListPage<Row> = list(Vec::new(), &ListRequest::default(), "name");
        assert_eq!((empty.pages(), empty.shown()), (1, (0, 0)));
    }
}

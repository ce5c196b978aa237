//! Sets of scope names and the rules for granting them.

use coupa_proto::scopes;

/// Scope names in the order first given, without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(Vec<String>);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScopeError {
    /// Names the client does not hold (or that do not exist at all).
    NotGranted(Vec<String>),
}

impl ScopeSet {
    /// Splits on any white space, as clients paste scope lists in many ways.
    /// Linear in the input however many names it holds: a short list (every real one) is
    /// deduplicated by scanning, a long one through a set.
    pub fn parse(text: &str) -> Self {
        const SCAN_UP_TO: usize = 64;
        let mut names: Vec<String> = Vec::new();
        let mut seen: Option<std::collections::HashSet<String>> = None;
        for name in text.split_whitespace() {
            let fresh = match &mut seen {
                Some(seen) => seen.insert(name.to_string()),
                None => !names.iter().any(|existing| existing == name),
            };
            if fresh {
                names.push(name.to_string());
                if seen.is_none() && names.len() == SCAN_UP_TO {
                    seen = Some(names.iter().cloned().collect());
                }
            }
        }
        Self(names)
    }

    /// The names of `self` that `other` also holds, in the order of `self`: what a token
    /// still grants once its client's scopes have changed.
    pub fn intersection(&self, other: &ScopeSet) -> ScopeSet {
        Self(
            self.0
                .iter()
                .filter(|name| other.contains(name))
                .cloned()
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|existing| existing == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Names that are not in the catalogue.
    pub fn unknown(&self) -> Vec<String> {
        self.0
            .iter()
            .filter(|name| scopes::find(name).is_none())
            .cloned()
            .collect()
    }

    /// RFC 6749 §3.3: the scopes to grant for a request. No `scope` means every scope the
    /// client holds; any scope it does not hold fails the whole request (Coupa does not trim).
    pub fn grant(held: &ScopeSet, requested: Option<&str>) -> Result<ScopeSet, ScopeError> {
        let Some(requested) = requested else {
            return Ok(held.clone());
        };
        let requested = ScopeSet::parse(requested);
        if requested.is_empty() {
            return Ok(held.clone());
        }
        let missing: Vec<String> = requested
            .iter()
            .filter(|name| !held.contains(name))
            .map(str::to_string)
            .collect();
        if missing.is_empty() {
            Ok(requested)
        } else {
            Err(ScopeError::NotGranted(missing))
        }
    }
}

impl std::fmt::Display for ScopeSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

/// The `error_description` for an `invalid_scope` answer, with a hint for the common mistakes.
pub fn describe_not_granted(missing: &[String]) -> String {
    let mut text = format!(
        "the client is not granted the scope{} {}",
        if missing.len() == 1 { "" } else { "s" },
        missing.join(" ")
    );
    if missing.iter().any(|name| name.contains(',')) {
        text.push_str("; separate scopes with spaces, not commas");
    }
    text.push_str("; send only scopes selected for the client in Setup, or leave `scope` out to get all of them");
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_dedupes_and_keeps_order() {
        let set = ScopeSet::parse("  b a\tb\n");
        assert_eq!(set.to_string(), "b a");
    }

    #[test]
    fn intersection_keeps_what_both_hold_in_the_first_order() {
        let token = ScopeSet::parse("c b a");
        let client = ScopeSet::parse("a c d");
        assert_eq!(token.intersection(&client).to_string(), "c a");
        assert!(token.intersection(&ScopeSet::default()).is_empty());
    }

    #[test]
    fn long_lists_dedupe_across_the_switch_to_a_set() {
        let text: String = (0..100).chain(0..100).map(|i| format!("s{i} ")).collect();
        let set = ScopeSet::parse(&text);
        let expected: Vec<String> = (0..100).map(|i| format!("s{i}")).collect();
        assert_eq!(set.iter().collect::<Vec<_>>(), expected);
    }

    #[test]
    fn parsing_many_distinct_names_is_linear() {
        let text: String = (0..40_000).map(|i| format!("s{i} ")).collect();
        let started = std::time::Instant::now();
        assert_eq!(ScopeSet::parse(&text).iter().count(), 40_000);
        assert!(started.elapsed() < std::time::Duration::from_millis(200));
    }

    #[test]
    fn grant_follows_coupa() {
        let held = ScopeSet::parse("core.invoice.read core.expense.read");
        assert_eq!(ScopeSet::grant(&held, None).unwrap(), held);
        assert_eq!(ScopeSet::grant(&held, Some(" ")).unwrap(), held);
        assert_eq!(
            ScopeSet::grant(&held, Some("core.expense.read"))
                .unwrap()
                .to_string(),
            "core.expense.read"
        );
        assert_eq!(
            ScopeSet::grant(&held, Some("core.expense.read core.user.write")),
            Err(ScopeError::NotGranted(vec!["core.user.write".into()]))
        );
    }

    #[test]
    fn comma_lists_get_a_hint() {
        let text = describe_not_granted(&["a,b".into()]);
        assert!(text.contains("not commas"), "{text}");
    }

    #[test]
    fn unknown_names_are_found() {
        let set = ScopeSet::parse("core.invoice.read core.nothing.read");
        assert_eq!(set.unknown(), vec!["core.nothing.read".to_string()]);
    }
}

//! `application/x-www-form-urlencoded` parsing for the OAuth endpoints and the pages' forms.
//!
//! Stricter than a generic decoder, as RFC 6749 §3.1 asks: a repeated parameter is an error,
//! a parameter without a value counts as absent, and bytes that are not valid percent-encoding
//! or not UTF-8 are refused rather than replaced.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormError {
    Repeated(String),
    BadPercentEncoding,
    NotUtf8,
    TooManyFields,
}

/// The most fields one form or query string may hold; no form of this server comes near it.
pub const MAX_FIELDS: usize = 500;

impl fmt::Display for FormError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Repeated(name) => write!(f, "parameter `{name}` is given more than once"),
            Self::BadPercentEncoding => f.write_str("the form contains malformed percent-encoding"),
            Self::NotUtf8 => f.write_str("the form is not valid UTF-8 once decoded"),
            Self::TooManyFields => write!(f, "the form has more than {MAX_FIELDS} parameters"),
        }
    }
}

/// Decoded form parameters, each name at most once, empty values dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormParams {
    pairs: Vec<(String, String)>,
}

/// Every field of a form as posted, in order: repeated names (checkbox lists) and empty
/// values (a cleared text box) kept. The pages' forms are read this way.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormFields {
    pairs: Vec<(String, String)>,
}

impl FormFields {
    pub fn parse(input: &[u8]) -> Result<Self, FormError> {
        let mut pairs = Vec::new();
        for pair in input.split(|&b| b == b'&') {
            if pair.is_empty() {
                continue;
            }
            if pairs.len() == MAX_FIELDS {
                return Err(FormError::TooManyFields);
            }
            let (raw_name, raw_value) = match pair.iter().position(|&b| b == b'=') {
                Some(at) => (&pair[..at], &pair[at + 1..]),
                None => (pair, &b""[..]),
            };
            pairs.push((decode_component(raw_name)?, decode_component(raw_value)?));
        }
        Ok(Self { pairs })
    }

    /// The first value of `name`, empty or not.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(existing, _)| existing == name)
            .map(|(_, value)| value.as_str())
    }

    /// The first value of `name` as typed, or "" when the form has no such field.
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default().to_string()
    }

    /// Every value of `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(existing, _)| existing == name)
            .map(|(_, value)| value.as_str())
    }

    /// Whether a checkbox named `name` was ticked (any value).
    pub fn is_checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

impl FormParams {
    pub fn parse(input: &[u8]) -> Result<Self, FormError> {
        Self::from_fields(FormFields::parse(input)?)
    }

    /// The OAuth reading of posted fields: a repeated name is an error, empty values are
    /// absent.
    pub fn from_fields(fields: FormFields) -> Result<Self, FormError> {
        Self::default().extend(fields.pairs)
    }

    /// Adds `pairs`; a name given twice is an error. Linear in the number of names.
    fn extend(mut self, pairs: Vec<(String, String)>) -> Result<Self, FormError> {
        let mut seen: std::collections::HashSet<String> =
            self.pairs.iter().map(|(name, _)| name.clone()).collect();
        for (name, value) in pairs {
            if seen.contains(&name) {
                return Err(FormError::Repeated(name));
            }
            if !value.is_empty() {
                seen.insert(name.clone());
                self.pairs.push((name, value));
            }
        }
        Ok(self)
    }

    /// Adds every parameter of `other`; a name present in both is an error.
    pub fn merge(self, other: FormParams) -> Result<Self, FormError> {
        self.extend(other.pairs)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(existing, _)| existing == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// These parameters less those named in `names`.
    pub fn without(mut self, names: &[&str]) -> Self {
        self.pairs
            .retain(|(name, _)| !names.contains(&name.as_str()));
        self
    }

    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.pairs
    }
}

/// Decodes one name or value: `+` is a space, `%XX` a byte, the result must be UTF-8.
pub fn decode_component(raw: &[u8]) -> Result<String, FormError> {
    let mut bytes = Vec::with_capacity(raw.len());
    let mut index = 0;
    while index < raw.len() {
        match raw[index] {
            b'+' => bytes.push(b' '),
            b'%' => {
                let high = raw.get(index + 1).and_then(|&b| hex_value(b));
                let low = raw.get(index + 2).and_then(|&b| hex_value(b));
                match (high, low) {
                    (Some(high), Some(low)) => bytes.push(high << 4 | low),
                    _ => return Err(FormError::BadPercentEncoding),
                }
                index += 2;
            }
            other => bytes.push(other),
        }
        index += 1;
    }
    String::from_utf8(bytes).map_err(|_| FormError::NotUtf8)
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decodes_the_seed_001_body() {
        let body = b"client_id=abc&grant_type=client_credentials&scope=core.invoice.read core.expense.read&client_secret=s%2B3";
        let params = FormParams::parse(body).unwrap();
        assert_eq!(params.get("client_id"), Some("abc"));
        assert_eq!(
            params.get("scope"),
            Some("core.invoice.read core.expense.read")
        );
        assert_eq!(params.get("client_secret"), Some("s+3"));
    }

    #[test]
    fn plus_is_a_space_and_empty_values_are_absent() {
        let params = FormParams::parse(b"scope=a+b&state=&flag").unwrap();
        assert_eq!(params.get("scope"), Some("a b"));
        assert_eq!(params.get("state"), None);
        assert_eq!(params.get("flag"), None);
    }

    #[test]
    fn refuses_repeats_bad_escapes_and_bad_utf8() {
        assert_eq!(
            FormParams::parse(b"scope=a&scope=b"),
            Err(FormError::Repeated("scope".into()))
        );
        assert_eq!(
            FormParams::parse(b"scope=%4"),
            Err(FormError::BadPercentEncoding)
        );
        assert_eq!(
            FormParams::parse(b"scope=%zz"),
            Err(FormError::BadPercentEncoding)
        );
        assert_eq!(FormParams::parse(b"scope=%ff"), Err(FormError::NotUtf8));
    }

    #[test]
    fn many_distinct_names_parse_in_linear_time_and_too_many_are_refused() {
        let body: String = (0..MAX_FIELDS).map(|i| format!("p{i}=v&")).collect();
        let started = std::time::Instant::now();
        assert_eq!(
            FormParams::parse(body.as_bytes())
                .unwrap()
                .into_pairs()
                .len(),
            MAX_FIELDS
        );
        assert!(started.elapsed() < std::time::Duration::from_millis(100));
        let over = format!("{body}one=more");
        assert_eq!(
            FormParams::parse(over.as_bytes()),
            Err(FormError::TooManyFields)
        );
        assert_eq!(
            FormFields::parse(over.as_bytes()),
            Err(FormError::TooManyFields)
        );
    }

    #[test]
    fn merge_refuses_a_name_in_both() {
        let body = FormParams::parse(b"grant_type=client_credentials").unwrap();
        let query = FormParams::parse(b"grant_type=authorization_code").unwrap();
        assert_eq!(
            body.merge(query),
            Err(FormError::Repeated("grant_type".into()))
        );
    }

    #[test]
    fn fields_keep_repeats_and_empty_values() {
        let fields = FormFields::parse(b"scope=a&scope=b&contact_info=&flag").unwrap();
        assert_eq!(fields.all("scope").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(fields.get("contact_info"), Some(""));
        assert!(fields.is_checked("flag"));
        assert!(!fields.is_checked("other"));
        assert_eq!(
            FormParams::from_fields(fields),
            Err(FormError::Repeated("scope".into()))
        );
    }

    proptest! {
        #[test]
        fn never_panics(input in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = FormParams::parse(&input);
            let _ = FormFields::parse(&input);
        }

        #[test]
        fn round_trips_what_a_client_encodes(
            pairs in proptest::collection::btree_map("[a-z_]{1,12}", "\\PC{1,40}", 0..8)
        ) {
            let encoded: String = pairs
                .iter()
                .map(|(name, value)| format!("{}={}", encode(name), encode(value)))
                .collect::<Vec<_>>()
                .join("&");
            let params = FormParams::parse(encoded.as_bytes()).unwrap();
            for (name, value) in &pairs {
                prop_assert_eq!(params.get(name), Some(value.as_str()));
            }
        }
    }

    fn encode(text: &str) -> String {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                    (b as char).to_string()
                }
                b' ' => "+".to_string(),
                other => format!("%{other:02X}"),
            })
            .collect()
    }
}

//! The `Cookie` request header (RFC 6265 §5.4): `name=value` pairs separated by `;`.

/// The value of the first cookie called `name`, if any. Values are opaque tokens here:
/// quotes are taken off, nothing is decoded.
pub fn get<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key.trim() == name).then(|| value.trim().trim_matches('"'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_the_named_cookie() {
        let header = "theme=dark; coupa_session=abc; coupa_csrf=\"x-y\"";
        assert_eq!(get(header, "coupa_session"), Some("abc"));
        assert_eq!(get(header, "coupa_csrf"), Some("x-y"));
        assert_eq!(get(header, "session"), None);
        assert_eq!(get("coupa_session", "coupa_session"), None);
        assert_eq!(get("a=1;a=2", "a"), Some("1"));
    }

    proptest! {
        #[test]
        fn any_header_is_read_without_panicking(header in "\\PC{0,200}", name in "[a-z_]{1,12}") {
            if let Some(value) = get(&header, &name) {
                prop_assert!(header.contains(value));
            }
        }
    }
}

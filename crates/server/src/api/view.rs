//! How much of a record to show: `fields=[...]` (a JSON array of attribute names and
//! `{"association": [...]}` objects) and `return_object=none|limited|shallow`.

use serde_json::Value as Json;

use super::model::{self, ObjectDef};

/// A validated `fields` selection for one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    /// Wire names of attributes and references shown in full.
    pub names: Vec<String>,
    /// Associations (references or lines) with their own selection.
    pub nested: Vec<(String, Selection)>,
}

impl Selection {
    pub fn shows(&self, name: &str) -> bool {
        self.names.iter().any(|shown| shown == name)
            || self.nested.iter().any(|(shown, _)| shown == name)
    }

    pub fn nested(&self, name: &str) -> Option<&Selection> {
        self.nested
            .iter()
            .find(|(shown, _)| shown == name)
            .map(|(_, selection)| selection)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Depth {
    /// Attributes, references and lines.
    #[default]
    Full,
    /// Own attributes; references as their id only; no lines.
    Shallow,
    /// The id only.
    Limited,
    /// Nothing (writes only).
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct View {
    pub depth: Depth,
    pub selection: Option<Selection>,
}

/// Parses `fields` and `return_object` from query parameters. `writing` allows `none`.
pub fn parse(
    object: &'static ObjectDef,
    fields: Option<&str>,
    return_object: Option<&str>,
    writing: bool,
) -> Result<View, String> {
    let depth = match return_object.map(str::to_ascii_lowercase).as_deref() {
        None | Some("full") => Depth::Full,
        Some("shallow") => Depth::Shallow,
        Some("limited") => Depth::Limited,
        Some("none") if writing => Depth::None,
        Some("none") => return Err("return_object: none applies to POST and PUT only".into()),
        Some(other) => {
            return Err(format!(
                "return_object: `{other}` is not none, limited or shallow"
            ));
        }
    };
    let selection = match fields {
        None => None,
        Some(text) => {
            let json: Json = serde_json::from_str(text)
                .map_err(|_| format!("fields: `{text}` is not a JSON array such as [\"id\",{{\"supplier\":[\"name\"]}}]"))?;
            Some(selection(object, &json, 0)?)
        }
    };
    Ok(View { depth, selection })
}

const MAX_DEPTH: usize = 4;

fn selection(object: &'static ObjectDef, json: &Json, depth: usize) -> Result<Selection, String> {
    let Some(items) = json.as_array() else {
        return Err(format!("fields: expected a JSON array for {}", object.path));
    };
    if depth > MAX_DEPTH {
        return Err(format!("fields: nested more than {MAX_DEPTH} levels"));
    }
    let mut result = Selection {
        names: Vec::new(),
        nested: Vec::new(),
    };
    for item in items {
        match item {
            Json::String(name) => {
                let name = name.replace('_', "-");
                if !object.knows(&name) {
                    return Err(format!("fields: {} has no attribute {name}", object.path));
                }
                result.names.push(name);
            }
            Json::Object(map) => {
                for (name, inner) in map {
                    let name = name.replace('_', "-");
                    let target = object
                        .reference(&name)
                        .map(|reference| reference.object)
                        .or_else(|| object.lines_named(&name).map(|lines| lines.object))
                        .and_then(model::object)
                        .ok_or_else(|| {
                            format!("fields: {} has no association {name}", object.path)
                        })?;
                    result
                        .nested
                        .push((name, selection(target, inner, depth + 1)?));
                }
            }
            _ => {
                return Err(
                    "fields: list attribute names as strings, associations as objects".into(),
                );
            }
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn invoices() -> &'static ObjectDef {
        model::object("invoices").unwrap()
    }

    #[test]
    fn parses_nested_selections() {
        let view = parse(
            invoices(),
            Some(r#"["id","invoice_number",{"invoice_lines":["id",{"account":["code"]}]}]"#),
            None,
            false,
        )
        .unwrap();
        let selection = view.selection.unwrap();
        assert!(selection.shows("invoice-number") && selection.shows("invoice-lines"));
        assert!(
            selection
                .nested("invoice-lines")
                .unwrap()
                .nested("account")
                .unwrap()
                .shows("code")
        );
    }

    #[test]
    fn refuses_what_does_not_exist() {
        for (fields, named) in [
            (r#"["colour"]"#, "colour"),
            (r#"[{"colour":["id"]}]"#, "colour"),
            ("id", "JSON array"),
            (r#"[{"supplier":["colour"]}]"#, "colour"),
            ("[1]", "strings"),
        ] {
            let error = parse(invoices(), Some(fields), None, false).unwrap_err();
            assert!(
                error.starts_with("fields") && error.contains(named),
                "{fields}: {error}"
            );
        }
        assert!(parse(invoices(), None, Some("none"), false).is_err());
        assert_eq!(
            parse(invoices(), None, Some("none"), true).unwrap().depth,
            Depth::None
        );
        assert!(parse(invoices(), None, Some("everything"), false).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(fields in "\\PC{0,60}", depth in "\\PC{0,10}") {
            let _ = parse(invoices(), Some(&fields), Some(&depth), true);
        }
    }
}

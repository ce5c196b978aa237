//! XML request bodies, as Coupa takes them: one root element per record, typed attributes
//! (`type="array"` for lists, `nil="true"` for null), converted to the JSON shape that
//! `records::parse_body` validates. No DOCTYPE, so no entity expansion of any kind.

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};
use serde_json::{Map, Value as Json};

const MAX_DEPTH: usize = 16;
const MAX_ELEMENTS: usize = 20_000;

struct Frame {
    name: String,
    array: bool,
    nil: bool,
    children: Vec<(String, Json)>,
    text: String,
}

fn open(element: &BytesStart) -> Result<Frame, String> {
    let name = element.name().as_ref().to_string();
    let mut frame = Frame {
        name,
        array: false,
        nil: false,
        children: Vec::new(),
        text: String::new(),
    };
    for attribute in element.attributes() {
        let attribute = attribute
            .map_err(|error| format!("malformed attribute in <{}>: {error}", frame.name))?;
        let value = attribute
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|error| format!("malformed attribute in <{}>: {error}", frame.name))?;
        match attribute.key.as_ref() {
            "type" => frame.array = value == "array",
            "nil" => frame.nil = value == "true",
            _ => {}
        }
    }
    Ok(frame)
}

fn close(frame: Frame) -> Result<(String, Json), String> {
    let value = if frame.nil {
        Json::Null
    } else if frame.array {
        Json::Array(frame.children.into_iter().map(|(_, value)| value).collect())
    } else if !frame.children.is_empty() {
        if !frame.text.trim().is_empty() {
            return Err(format!("<{}> mixes text and elements", frame.name));
        }
        let mut map = Map::new();
        for (name, value) in frame.children {
            if map.contains_key(&name) {
                return Err(format!(
                    "<{name}> appears twice in <{}>; a list needs type=\"array\"",
                    frame.name
                ));
            }
            map.insert(name, value);
        }
        Json::Object(map)
    } else {
        Json::String(frame.text)
    };
    Ok((frame.name, value))
}

/// Converts an XML body to JSON: the root element's content becomes one object.
pub fn to_json(input: &str) -> Result<Json, String> {
    // No trimming: it would cut the spaces around entity references (`a &amp; b`). Whitespace
    // between child elements is dropped when the parent closes; leaf text stays exact.
    let mut reader = Reader::from_str(input);
    let mut stack: Vec<Frame> = Vec::new();
    let mut root: Option<Json> = None;
    let mut elements = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|error| format!("the XML body is malformed: {error}"))?;
        let mut closed = None;
        match event {
            Event::Start(element) | Event::Empty(element) if root.is_some() => {
                return Err(format!(
                    "a second root element <{}> follows the record",
                    element.name().as_ref()
                ));
            }
            Event::Start(element) => {
                elements += 1;
                if stack.len() >= MAX_DEPTH || elements > MAX_ELEMENTS {
                    return Err("the XML body is nested too deeply or has too many elements".into());
                }
                stack.push(open(&element)?);
            }
            Event::Empty(element) => {
                elements += 1;
                if elements > MAX_ELEMENTS {
                    return Err("the XML body has too many elements".into());
                }
                closed = Some(close(open(&element)?)?);
            }
            Event::End(_) => {
                let frame = stack.pop().ok_or("an end tag has no start tag")?;
                closed = Some(close(frame)?);
            }
            Event::Text(text) => match stack.last_mut() {
                Some(frame) => frame.text.push_str(&text.xml10_content()),
                None if text.xml10_content().trim().is_empty() => {}
                None => return Err("text outside the root element".into()),
            },
            Event::CData(data) => match stack.last_mut() {
                Some(frame) => frame.text.push_str(&data.xml10_content()),
                None => return Err("CDATA outside the root element".into()),
            },
            Event::GeneralRef(reference) => {
                let frame = stack
                    .last_mut()
                    .ok_or("an entity reference outside the root element")?;
                if reference.is_char_ref() {
                    let character = reference
                        .resolve_char_ref()
                        .ok()
                        .flatten()
                        .ok_or("the XML body has an invalid character reference")?;
                    frame.text.push(character);
                } else {
                    let name = reference.xml10_content();
                    let resolved = resolve_predefined_entity(&name)
                        .ok_or_else(|| format!("the entity &{name}; is not accepted"))?;
                    frame.text.push_str(resolved);
                }
            }
            Event::DocType(_) => return Err("a DOCTYPE is not accepted in request bodies".into()),
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
        if let Some((name, value)) = closed {
            match stack.last_mut() {
                Some(parent) => parent.children.push((name, value)),
                None => root = Some(value),
            }
        }
    }
    if !stack.is_empty() {
        return Err("the XML body ends before its root element is closed".into());
    }
    match root {
        Some(Json::String(text)) if text.is_empty() => Ok(Json::Object(Map::new())),
        Some(value) => Ok(value),
        None => Err("the XML body has no root element".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{model, records, render};
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn reads_coupas_typed_xml() {
        let body = r#"<?xml version="1.0" encoding="UTF-8"?>
            <invoice-header>
              <invoice-number>INV-1 &amp; co &#233;</invoice-number>
              <total type="decimal">12.50</total>
              <exported type="boolean">true</exported>
              <invoice-date type="dateTime" nil="true"/>
              <supplier><id type="integer">3</id></supplier>
              <invoice-lines type="array">
                <invoice-line><description>Paper</description></invoice-line>
                <invoice-line><description><![CDATA[<Toner>]]></description></invoice-line>
              </invoice-lines>
            </invoice-header>"#;
        assert_eq!(
            to_json(body).unwrap(),
            json!({
                "invoice-number": "INV-1 & co é",
                "total": "12.50",
                "exported": "true",
                "invoice-date": null,
                "supplier": {"id": "3"},
                "invoice-lines": [{"description": "Paper"}, {"description": "<Toner>"}],
            })
        );
    }

    #[test]
    fn refuses_what_it_cannot_read_safely() {
        for (body, expected) in [
            ("<!DOCTYPE x [<!ENTITY e \"boom\">]><a>&e;</a>", "DOCTYPE"),
            ("<a>&e;</a>", "entity"),
            ("<a><b>1</b><b>2</b></a>", "twice"),
            ("<a>x<b>1</b></a>", "mixes"),
            ("<a><b></a>", "malformed"),
            ("<a>", "ends before"),
            ("", "no root"),
            ("<a/><b/>", "second root"),
            (&"<a>".repeat(40), "deeply"),
        ] {
            let error = to_json(body).unwrap_err();
            assert!(error.contains(expected), "{body}: {error}");
        }
    }

    #[test]
    fn what_the_server_renders_it_reads_back() {
        let object = model::object("suppliers").unwrap();
        let mut values = vec![None; object.columns.len()];
        values[object.field("name").unwrap().slot] = Some("Acme <&> \"Sons\"".into());
        values[object.field("number").unwrap().slot] = Some("S-1".into());
        let xml = render::xml(&render::Record::new(object, values), &Default::default());
        let input = records::parse_body(
            object,
            &to_json(&xml).unwrap(),
            true,
            records::Writer::Api,
            &[],
        )
        .unwrap();
        assert!(input.values.contains(&(
            "name".into(),
            crate::api::query::Value::Text("Acme <&> \"Sons\"".into())
        )));
    }

    proptest! {
        #[test]
        fn never_panics(body in "\\PC{0,200}") {
            let _ = to_json(&body);
        }

        #[test]
        fn never_panics_on_xml_like_input(parts in proptest::collection::vec(prop_oneof![
            Just("<a>"), Just("</a>"), Just("<b type=\"array\">"), Just("</b>"), Just("<c nil=\"true\"/>"),
            Just("&amp;"), Just("&#x41;"), Just("&#0;"), Just("text"), Just("<![CDATA[x]]>"), Just("<!-- c -->"),
        ], 0..40)) {
            let _ = to_json(&parts.concat());
        }
    }
}

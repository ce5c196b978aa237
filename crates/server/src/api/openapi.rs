//! The OpenAPI 3 document of `/api/*`, generated from the object model and the scope
//! catalogue, so it always says what the server does.

use coupa_proto::scopes;
use serde_json::{Map, Value as Json, json};

use super::model::{self, FieldType, ObjectDef};
use super::query::MAX_LIMIT;

fn schema_of(kind: FieldType) -> Json {
    match kind {
        FieldType::Integer => json!({"type": "integer", "format": "int64"}),
        FieldType::Decimal => json!({"type": "string", "format": "decimal", "example": "12.50"}),
        FieldType::String => json!({"type": "string"}),
        FieldType::Boolean => json!({"type": "boolean"}),
        FieldType::DateTime => json!({"type": "string", "format": "date-time"}),
    }
}

/// An association kept as given: an object, or an array of objects.
fn embedded_schema(embedded: &model::Embedded) -> Json {
    if embedded.many {
        json!({"type": "array", "items": {"type": "object"}})
    } else {
        json!({"type": "object", "nullable": true})
    }
}

/// `nullable` added to a schema.
fn nullable(mut schema: Json) -> Json {
    if let Some(map) = schema.as_object_mut() {
        map.insert("nullable".into(), json!(true));
    }
    schema
}

/// A record as the server answers it: every element, any of them null, none required (a
/// `fields` selection or `return_object` leaves elements out).
fn output_schema(object: &ObjectDef) -> Json {
    let mut properties = Map::new();
    properties.insert("id".into(), json!({"type": "integer", "format": "int64"}));
    for name in ["created-at", "updated-at"] {
        properties.insert(name.into(), nullable(schema_of(FieldType::DateTime)));
    }
    for name in ["created-by", "updated-by"] {
        properties.insert(
            name.into(),
            json!({"type": "object", "nullable": true, "properties": {"login": {"type": "string"}}}),
        );
    }
    for field in object.fields {
        properties.insert(field.name.into(), nullable(schema_of(field.kind)));
    }
    for reference in object.references {
        properties.insert(
            reference.name.into(),
            json!({"type": "object", "nullable": true, "description": format!("A record of {} (its id and summary)", reference.object), "properties": {"id": {"type": "integer", "format": "int64"}}}),
        );
    }
    for lines in object.lines {
        properties.insert(
            lines.name.into(),
            json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{}", lines.object)}}),
        );
    }
    for embedded in object.embedded {
        properties.insert(embedded.name.into(), embedded_schema(embedded));
    }
    properties.insert(
        model::CUSTOM_FIELDS.into(),
        json!({"type": "object", "description": "The custom fields an administrator defined for this object (coupa admin custom-fields), by name"}),
    );
    json!({"type": "object", "properties": properties})
}

/// A record as `return_object=shallow` shows it: its own elements, associations as their id,
/// no lines.
fn shallow_schema(object: &ObjectDef) -> Json {
    let mut schema = output_schema(object);
    if let Some(properties) = schema["properties"].as_object_mut() {
        for lines in object.lines {
            properties.remove(lines.name);
        }
        for reference in object.references {
            properties.insert(
                reference.name.into(),
                json!({"type": "object", "nullable": true, "description": format!("A record of {} (its id only)", reference.object), "properties": {"id": {"type": "integer", "format": "int64"}}}),
            );
        }
    }
    schema
}

/// A record as a request body gives it: the writable elements, with their enumerations,
/// ranges and lengths, and those required on create.
fn input_schema(object: &ObjectDef) -> Json {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for field in object.fields.iter().filter(|field| field.writable) {
        let mut schema = schema_of(field.kind);
        if let Some(map) = schema.as_object_mut() {
            if !field.values.is_empty() {
                map.insert("enum".into(), json!(field.values));
            }
            if let Some(max) = field.max_length {
                map.insert("maxLength".into(), json!(max));
            }
            if let Some((low, high)) = field.range {
                map.insert("minimum".into(), json!(low));
                map.insert("maximum".into(), json!(high));
            }
        }
        if field.required {
            required.push(field.name);
        } else {
            schema = nullable(schema);
        }
        properties.insert(field.name.into(), schema);
    }
    for reference in object
        .references
        .iter()
        .filter(|reference| reference.writable)
    {
        if reference.required {
            required.push(reference.name);
        }
        properties.insert(
            reference.name.into(),
            json!({"type": "object", "description": format!("A record of {}: {{\"id\": N}}", reference.object), "properties": {"id": {"type": "integer", "format": "int64"}}, "required": ["id"]}),
        );
    }
    for lines in object.lines.iter().filter(|lines| lines.writable) {
        properties.insert(
            lines.name.into(),
            json!({"type": "array", "items": {"$ref": format!("#/components/schemas/{}-input", lines.object)}}),
        );
    }
    for embedded in object.embedded.iter().filter(|embedded| embedded.writable) {
        properties.insert(embedded.name.into(), embedded_schema(embedded));
    }
    properties.insert(
        model::CUSTOM_FIELDS.into(),
        json!({"type": "object", "description": "Values of the custom fields defined for this object, by name"}),
    );
    let mut schema = json!({"type": "object", "properties": properties});
    // OpenAPI 3.0 forbids an empty `required`.
    if !required.is_empty()
        && let Some(map) = schema.as_object_mut()
    {
        map.insert("required".into(), json!(required));
    }
    schema
}

fn parameter(name: &str, description: &str, schema: Json) -> Json {
    json!({"name": name, "in": "query", "required": false, "description": description, "schema": schema})
}

fn operation(
    summary: String,
    method: &str,
    path: &str,
    object: &ObjectDef,
    list: bool,
    body: bool,
) -> Json {
    let needed = scopes::scopes_granting(method, &concrete(path));
    let schema = json!({"anyOf": [
        {"$ref": format!("#/components/schemas/{}", object.path)},
        {"$ref": format!("#/components/schemas/{}-shallow", object.path)},
        {"$ref": "#/components/schemas/limited"},
    ]});
    let answer = if list {
        json!({"type": "array", "items": schema})
    } else {
        schema.clone()
    };
    let mut parameters = vec![
        parameter(
            "fields",
            "JSON array of attributes, with objects for associations: [\"id\",{\"supplier\":[\"name\"]}]",
            json!({"type": "string"}),
        ),
        parameter(
            "return_object",
            "none (writes only), limited (ids) or shallow (no associations)",
            json!({"type": "string", "enum": ["none", "limited", "shallow"]}),
        ),
    ];
    if list {
        parameters.push(parameter(
            "limit",
            &format!("Records per page, at most {MAX_LIMIT}"),
            json!({"type": "integer", "default": MAX_LIMIT, "maximum": MAX_LIMIT}),
        ));
        parameters.push(parameter(
            "offset",
            "Records to skip, from 0",
            json!({"type": "integer", "default": 0, "minimum": 0}),
        ));
        parameters.push(parameter(
            "order_by",
            "An attribute",
            json!({"type": "string"}),
        ));
        parameters.push(parameter(
            "dir",
            "asc or desc",
            json!({"type": "string", "enum": ["asc", "desc"]}),
        ));
    }
    for name in ["id", "line_id"] {
        if path.contains(&format!("{{{name}}}")) {
            parameters.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "integer", "format": "int64"}}));
        }
    }
    let mut operation = json!({
        "summary": summary,
        "tags": [object.path],
        "parameters": parameters,
        "security": [{"bearer": needed}, {"apiKey": []}],
        "responses": responses(method, answer, &needed, body),
    });
    if list && let Some(map) = operation.as_object_mut() {
        map.insert("description".into(), json!("Filters: attr=value or attr[op]=value with op one of contains, starts_with, ends_with, blank, gt, lt, gt_or_eq, lt_or_eq, not_eq, in, not_in; nested through associations (supplier[name]=Acme). Dates are ISO 8601."));
    }
    if body && let Some(map) = operation.as_object_mut() {
        let input = json!({"$ref": format!("#/components/schemas/{}-input", object.path)});
        map.insert(
            "requestBody".into(),
            json!({"required": true, "content": {"application/json": {"schema": input.clone()}, "application/xml": {"schema": input}}}),
        );
    }
    operation
}

/// Every answer an operation can give: the record (or list) in JSON or XML, no content with
/// `return_object=none`, and each error status with Coupa's `errors` body.
fn responses(method: &str, answer: Json, needed: &[&str], body: bool) -> Json {
    let errors = json!({"application/json": {"schema": {"$ref": "#/components/schemas/errors"}}, "application/xml": {"schema": {"type": "string"}}});
    let error = |description: &str| json!({"description": description, "content": errors.clone()});
    let with_header = |description: &str, name: &str, about: &str| {
        let mut answer = error(description);
        if let Some(map) = answer.as_object_mut() {
            map.insert(
                "headers".into(),
                json!({name: {"description": about, "schema": {"type": "string"}}}),
            );
        }
        answer
    };
    let mut responses = json!({
        (if method == "POST" { "201" } else { "200" }): {"description": "The record (a list: records). With return_object=shallow, its own elements and associations as their id, without lines; with return_object=limited, its id only; with fields=[...], the elements named", "content": {"application/xml": {"schema": {"type": "string"}}, "application/json": {"schema": answer}}},
        "400": error("An unknown attribute, a malformed filter or a malformed body"),
        "401": with_header("No valid access token", "WWW-Authenticate", "The Bearer challenge (RFC 6750)"),
        "403": with_header(&format!("The token lacks the scope: one of {}", needed.join(", ")), "WWW-Authenticate", "The insufficient_scope challenge"),
        "404": error("No such record (an XML list: no results match)"),
        "405": error("The path does not take this method"),
        "406": error("The Accept header names neither JSON nor XML"),
        "409": error("The record changed concurrently; retry"),
        "429": with_header("Rate limit exceeded; retry with backoff", "Retry-After", "Seconds to wait, when the server is set to send it"),
        "503": with_header("The database is unavailable or the server is busy; retry", "Retry-After", "Seconds to wait"),
    });
    if let Some(map) = responses.as_object_mut() {
        if method != "GET" {
            map.insert(
                "204".into(),
                json!({"description": "Done, with return_object=none (or a DELETE): no content"}),
            );
            if method == "DELETE" {
                map.remove("200");
            }
            map.insert(
                "422".into(),
                error("Invalid attributes or an illegal status change"),
            );
        }
        if body {
            map.insert("413".into(), error("The body is too large"));
            map.insert("415".into(), error("The body is neither JSON nor XML"));
        }
    }
    responses
}

/// A path of the document with its parameters filled, as the scope catalogue matches it.
fn concrete(path: &str) -> String {
    path.replace("{id}", "1").replace("{line_id}", "1")
}

/// The lines of `object` served under its records: (segment, line object), as the scope
/// catalogue grants them.
fn nested_routes(object: &ObjectDef) -> Vec<(&'static str, &'static ObjectDef)> {
    let segments = object
        .lines
        .iter()
        .map(|lines| lines.object)
        .chain(object.nested_as.iter().map(|(segment, _)| *segment));
    segments
        .filter_map(|segment| Some((segment, model::object(object.nested(segment)?.object)?)))
        .collect()
}

pub fn document(server_url: &str) -> Json {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for object in model::objects() {
        schemas.insert(object.path.into(), output_schema(object));
        schemas.insert(format!("{}-shallow", object.path), shallow_schema(object));
        schemas.insert(format!("{}-input", object.path), input_schema(object));
        let collection = format!("/api/{}", object.path);
        let member = format!("/api/{}/{{id}}", object.path);
        let granted =
            |method: &str, path: &str| !scopes::scopes_granting(method, &concrete(path)).is_empty();
        let operations = [
            (
                &collection,
                "GET",
                format!("List {}", object.path),
                true,
                false,
            ),
            (
                &collection,
                "POST",
                format!("Create one of {}", object.path),
                false,
                true,
            ),
            (
                &member,
                "GET",
                format!("Show one of {}", object.path),
                false,
                false,
            ),
            (
                &member,
                "PUT",
                format!("Update one of {}", object.path),
                false,
                true,
            ),
            (
                &member,
                "DELETE",
                format!(
                    "Delete one of {} (a document: only in its initial status)",
                    object.path
                ),
                false,
                false,
            ),
        ];
        for (path, method, summary, list, body) in operations {
            if granted(method, path) && (method != "DELETE" || object.deletable) {
                let ops = paths
                    .entry(path.clone())
                    .or_insert_with(|| Json::Object(Map::new()));
                ops[method.to_ascii_lowercase().as_str()] =
                    operation(summary, method, path, object, list, body);
            }
        }
        for (segment, line_object) in nested_routes(object) {
            let lines = format!("/api/{}/{{id}}/{segment}", object.path);
            let line = format!("{lines}/{{line_id}}");
            let operations = [
                (&lines, "GET", "List the lines", true, false),
                (&lines, "POST", "Add a line", false, true),
                (&line, "GET", "Show a line", false, false),
                (&line, "PUT", "Update a line", false, true),
                (&line, "DELETE", "Delete a line", false, false),
            ];
            for (path, method, summary, list, body) in operations {
                if granted(method, path) {
                    let ops = paths
                        .entry(path.clone())
                        .or_insert_with(|| Json::Object(Map::new()));
                    let summary = format!("{summary} ({segment} of {})", object.path);
                    ops[method.to_ascii_lowercase().as_str()] =
                        operation(summary, method, path, line_object, list, body);
                }
            }
        }
        for action in object.actions {
            let on_record = format!("/api/{}/{{id}}/{}", object.path, action.name);
            let on_create = format!("/api/{}/new/{}", object.path, action.name);
            let on_collection = format!("/api/{}/{}", object.path, action.name);
            let from = if action.from.is_empty() {
                "any status".to_string()
            } else {
                action.from.join(" | ")
            };
            let summary = match (action.to, action.sets) {
                (Some(to), _) => format!("{}: {from} → {to}", action.name),
                (None, sets) => format!("{}: sets {}", action.name, sets.join(", ")),
            };
            if granted("PUT", &on_record) {
                paths.insert(
                    on_record.clone(),
                    json!({"put": operation(summary.clone(), "PUT", &on_record, object, false, false)}),
                );
            }
            for create in [&on_create, &on_collection] {
                if granted("POST", create) {
                    paths.insert(
                        create.clone(),
                        json!({"post": operation(summary.clone(), "POST", create, object, false, true)}),
                    );
                }
            }
        }
    }
    schemas.insert(
        "limited".into(),
        json!({"type": "object", "description": "A record as return_object=limited shows it: its id only", "properties": {"id": {"type": "integer", "format": "int64"}}, "required": ["id"]}),
    );
    schemas.insert(
        "errors".into(),
        json!({"type": "object", "properties": {"errors": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}}}, "required": ["errors"]}),
    );
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Coupa-compatible REST API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "XML by default; send Accept: application/json for JSON. Authenticate with an OAuth 2.0 client-credentials token (POST /oauth2/token) or, where allowed, a legacy X-COUPA-API-KEY.",
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "oauth2", "flows": {"clientCredentials": {"tokenUrl": format!("{server_url}/oauth2/token"), "scopes": scopes::CATALOGUE.iter().map(|scope| (scope.name.to_string(), json!(scope.description))).collect::<Map<String, Json>>()}}},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-COUPA-API-KEY"},
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_path_is_granted_and_every_reference_resolves() {
        let document = document("https://coupa.example.com");
        let paths = document["paths"].as_object().unwrap();
        assert!(paths["/api/invoices"]["get"].is_object());
        assert!(paths["/api/purchase_orders/{id}/issue"]["put"].is_object());
        assert!(paths["/api/requisitions/new/submit_for_approval"]["post"].is_object());
        assert!(paths["/api/requisitions/submit_for_approval"]["post"].is_object());
        assert!(paths["/api/requisitions/{id}"]["delete"]["responses"]["204"].is_object());
        assert!(paths["/api/requisitions/{id}"]["delete"]["responses"]["200"].is_null());
        assert!(paths["/api/invoices/{id}"]["delete"].is_null());
        let addresses = &paths["/api/suppliers/{id}/addresses/{line_id}"];
        assert!(addresses["put"].is_object() && addresses["delete"].is_object());
        assert!(paths["/api/expense_reports/{id}/expense_lines"]["post"].is_object());
        assert!(paths["/api/suppliers/{id}/remit_to_addresses/{line_id}"]["get"].is_null());
        assert!(!paths.contains_key("/api/invoices/{id}/invoice_lines"));
        assert!(
            paths
                .get("/api/purchase_order_lines/{id}")
                .and_then(|p| p.get("put"))
                .is_none()
        );
        let text = document.to_string();
        for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
            let name = reference.split('"').next().unwrap();
            assert!(
                document["components"]["schemas"].get(name).is_some(),
                "{name}"
            );
        }
    }
}

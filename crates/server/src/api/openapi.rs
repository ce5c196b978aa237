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

fn object_schema(object: &ObjectDef) -> Json {
    let mut properties = Map::new();
    properties.insert(
        "id".into(),
        json!({"type": "integer", "format": "int64", "readOnly": true}),
    );
    for name in ["created-at", "updated-at"] {
        properties.insert(
            name.into(),
            json!({"type": "string", "format": "date-time", "readOnly": true}),
        );
    }
    for name in ["created-by", "updated-by"] {
        properties.insert(name.into(), json!({"type": "object", "nullable": true, "readOnly": true, "properties": {"login": {"type": "string"}}}));
    }
    for field in object.fields {
        let mut schema = schema_of(field.kind);
        if let Some(map) = schema.as_object_mut() {
            map.insert("nullable".into(), json!(true));
            if !field.writable {
                map.insert("readOnly".into(), json!(true));
            }
            if !field.values.is_empty() {
                let mut values: Vec<Json> = field.values.iter().map(|value| json!(value)).collect();
                values.push(Json::Null);
                map.insert("enum".into(), Json::Array(values));
            }
            if let Some(max) = field.max_length {
                map.insert("maxLength".into(), json!(max));
            }
            if let Some((low, high)) = field.range {
                map.insert("minimum".into(), json!(low));
                map.insert("maximum".into(), json!(high));
            }
        }
        properties.insert(field.name.into(), schema);
    }
    for reference in object.references {
        properties.insert(
            reference.name.into(),
            json!({"type": "object", "nullable": true, "readOnly": !reference.writable, "description": format!("A record of {}; write it as {{\"id\": N}}.", reference.object), "properties": {"id": {"type": "integer", "format": "int64"}}}),
        );
    }
    for lines in object.lines {
        properties.insert(lines.name.into(), json!({"type": "array", "readOnly": !lines.writable, "items": {"$ref": format!("#/components/schemas/{}", lines.object)}}));
    }
    for embedded in object.embedded {
        let one = json!({"type": "object", "additionalProperties": true});
        let schema = if embedded.many {
            json!({"type": "array", "items": one})
        } else {
            json!({"type": "object", "nullable": true, "additionalProperties": true})
        };
        let mut schema = schema;
        if let Some(map) = schema.as_object_mut() {
            map.insert("readOnly".into(), json!(!embedded.writable));
            map.insert(
                "description".into(),
                json!(format!("{} as the record was given", embedded.target)),
            );
        }
        properties.insert(embedded.name.into(), schema);
    }
    properties.insert(
        model::CUSTOM_FIELDS.into(),
        json!({"type": "object", "additionalProperties": true, "description": "The custom fields an administrator defined for this object (coupa admin custom-fields), by name"}),
    );
    let required: Vec<&str> = object
        .fields
        .iter()
        .filter(|field| field.required)
        .map(|field| field.name)
        .chain(
            object
                .references
                .iter()
                .filter(|reference| reference.required)
                .map(|reference| reference.name),
        )
        .collect();
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
    let needed = scopes::scopes_granting(method, &path.replace("{id}", "1"));
    let schema = json!({"$ref": format!("#/components/schemas/{}", object.path)});
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
    if path.contains("{id}") {
        parameters.push(json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer", "format": "int64"}}));
    }
    let mut operation = json!({
        "summary": summary,
        "tags": [object.path],
        "parameters": parameters,
        "security": [{"bearer": needed}, {"apiKey": []}],
        "responses": {
            (if method == "POST" { "201" } else { "200" }): {"description": "OK", "content": {"application/xml": {"schema": answer.clone()}, "application/json": {"schema": answer}}},
            "400": {"description": "An unknown attribute or a malformed filter"},
            "401": {"description": "No valid access token"},
            "403": {"description": format!("The token lacks the scope: one of {}", needed.join(", "))},
            "404": {"description": "No such record (XML lists: no results match)"},
            "422": {"description": "Invalid attributes or an illegal status change"},
            "429": {"description": "Rate limit exceeded"},
        },
    });
    if list && let Some(map) = operation.as_object_mut() {
        map.insert("description".into(), json!("Filters: attr=value or attr[op]=value with op one of contains, starts_with, ends_with, blank, gt, lt, gt_or_eq, lt_or_eq, not_eq, in, not_in; nested through associations (supplier[name]=Acme). Dates are ISO 8601."));
    }
    if body && let Some(map) = operation.as_object_mut() {
        map.insert(
            "requestBody".into(),
            json!({"required": true, "content": {"application/json": {"schema": schema}}}),
        );
    }
    operation
}

pub fn document(server_url: &str) -> Json {
    let mut paths = Map::new();
    let mut schemas = Map::new();
    for object in model::objects() {
        schemas.insert(object.path.into(), object_schema(object));
        let collection = format!("/api/{}", object.path);
        let member = format!("/api/{}/{{id}}", object.path);
        let granted = |method: &str, path: &str| {
            !scopes::scopes_granting(method, &path.replace("{id}", "1")).is_empty()
        };
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
        ];
        for (path, method, summary, list, body) in operations {
            if granted(method, path) {
                let ops = paths
                    .entry(path.clone())
                    .or_insert_with(|| Json::Object(Map::new()));
                ops[method.to_ascii_lowercase().as_str()] =
                    operation(summary, method, path, object, list, body);
            }
        }
        for action in object.actions {
            let on_record = format!("/api/{}/{{id}}/{}", object.path, action.name);
            let on_create = format!("/api/{}/new/{}", object.path, action.name);
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
            if granted("POST", &on_create) {
                paths.insert(
                    on_create.clone(),
                    json!({"post": operation(summary, "POST", &on_create, object, false, true)}),
                );
            }
        }
    }
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

//! The Coupa-style REST API: objects behind their scopes, in JSON and XML, with Coupa's query
//! language, on both stores.

use std::collections::BTreeSet;

use coupa_server::api::model::objects;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::on_both_backends;
use crate::support::{Backend, TestServer, api_server};

async fn create(server: &TestServer, token: &str, path: &str, body: Value) -> Value {
    let response = server
        .api(Method::POST, path, Some(token), Some(body))
        .await;
    let status = response.status();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{path}: {body}");
    body
}

async fn get_json(server: &TestServer, token: &str, path: &str) -> (u16, Value) {
    let response = server.api(Method::GET, path, Some(token), None).await;
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|record| record["id"].as_i64().unwrap())
        .collect()
}

struct Seed {
    suppliers: Vec<i64>,
    accounts: Vec<i64>,
    /// (id, supplier index, gross total: the one line's quantity 1 × price)
    invoices: Vec<(i64, usize, f64)>,
}

/// Three suppliers, two accounts and `count` invoices with a line each.
async fn seed(server: &TestServer, token: &str, count: usize) -> Seed {
    let mut suppliers = Vec::new();
    for (name, number) in [
        ("Acme Paper", "S-1"),
        ("Bolt & Nut", "S-2"),
        ("acme_tools", ""),
    ] {
        let body = if number.is_empty() {
            json!({"name": name})
        } else {
            json!({"name": name, "number": number})
        };
        suppliers.push(
            create(server, token, "/api/suppliers", body).await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let mut accounts = Vec::new();
    for code in ["6000", "7000"] {
        accounts.push(
            create(
                server,
                token,
                "/api/accounts",
                json!({"segment-1": code, "active": true}),
            )
            .await["id"]
                .as_i64()
                .unwrap(),
        );
    }
    let mut invoices = Vec::new();
    for index in 0..count {
        let supplier = index % 3;
        let total = (index * 7 % 11) as f64 + 0.5;
        let body = json!({
            "invoice-number": format!("INV-{index:03}"),
            "invoice_date": format!("2026-01-{:02}T10:00:00Z", index % 28 + 1),
            "supplier": {"id": suppliers[supplier]},
            "invoice-lines": [{"line-num": 1, "description": "Paper", "quantity": "1", "price": format!("{total}"), "account": {"id": accounts[index % 2]}}],
        });
        let created = create(server, token, "/api/invoices", body).await;
        invoices.push((created["id"].as_i64().unwrap(), supplier, total));
    }
    Seed {
        suppliers,
        accounts,
        invoices,
    }
}

#[tokio::test]
async fn records_are_created_and_read_back_in_json_and_xml() {
    let (server, token) = api_server(Backend::Sqlite).await.unwrap();
    let seed = seed(&server, &token, 1).await;
    let (id, _, _) = seed.invoices[0];
    let (status, invoice) = get_json(&server, &token, &format!("/api/invoices/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(invoice["invoice-number"], "INV-000");
    assert_eq!(invoice["status"], "draft");
    assert_eq!(invoice["gross-total"], "0.50", "computed from the lines");
    assert_eq!(invoice["invoice-date"], "2026-01-01T10:00:00Z");
    assert_eq!(
        invoice["created-by"]["login"], "api-user",
        "created-by is the client's login"
    );
    assert_eq!(invoice["supplier"]["name"], "Acme Paper");
    assert_eq!(invoice["invoice-lines"][0]["account"]["code"], "6000");
    assert_eq!(invoice["invoice-lines"][0]["price"], "0.50");
    assert_eq!(invoice["invoice-lines"][0]["total"], "0.50");
    assert!(invoice.get("supplier-id").is_none());

    let xml = server
        .api_get(
            &format!("/api/invoices/{id}"),
            Some(&format!("Bearer {token}")),
            "application/xml",
        )
        .await;
    assert_eq!(xml.status(), 200);
    let xml = xml.text().await.unwrap();
    for expected in [
        "<invoice-header>",
        &format!("<id type=\"integer\">{id}</id>"),
        "<gross-total type=\"decimal\">0.50</gross-total>",
        "<invoice-date type=\"dateTime\">2026-01-01T10:00:00Z</invoice-date>",
        "<exported type=\"boolean\" nil=\"true\"/>",
        "<invoice-lines type=\"array\">",
        "<invoice-line>",
        "<login>api-user</login>",
    ] {
        assert!(xml.contains(expected), "{expected} missing from\n{xml}");
    }
    let list = server
        .api_get(
            "/api/invoices",
            Some(&format!("Bearer {token}")),
            "application/xml",
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(list.contains("<invoice-headers type=\"array\">"), "{list}");

    let updated = server
        .api(
            Method::PUT,
            &format!("/api/invoices/{id}"),
            Some(&token),
            Some(json!({"handling-amount": 99, "exported": true, "gross-total": "1.00"})),
        )
        .await;
    assert_eq!(updated.status(), 200);
    let updated: Value = updated.json().await.unwrap();
    assert_eq!(updated["handling-amount"], "99.00");
    assert_eq!(
        updated["exported"],
        Value::Null,
        "read-only elements are ignored, as Coupa ignores them"
    );
    assert_eq!(updated["gross-total"], "0.50");
    assert_eq!(
        updated["invoice-number"], "INV-000",
        "untouched fields stay"
    );
}

#[tokio::test]
async fn fields_and_return_object_shape_the_answer() {
    let (server, token) = api_server(Backend::Sqlite).await.unwrap();
    let seed = seed(&server, &token, 2).await;
    let fields = "%5B%22id%22%2C%7B%22supplier%22%3A%5B%22name%22%5D%7D%2C%7B%22invoice_lines%22%3A%5B%22id%22%5D%7D%5D";
    let (status, list) = get_json(&server, &token, &format!("/api/invoices?fields={fields}")).await;
    assert_eq!(status, 200, "{list}");
    let first = &list[0];
    assert_eq!(
        first.as_object().unwrap().keys().collect::<Vec<_>>(),
        vec!["id", "supplier", "invoice-lines"]
    );
    assert_eq!(first["supplier"], json!({"name": "Acme Paper"}));
    assert_eq!(first["invoice-lines"][0].as_object().unwrap().len(), 1);
    let xml = server
        .api_get(
            &format!("/api/invoices?fields={fields}"),
            Some(&format!("Bearer {token}")),
            "application/xml",
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        xml.contains("<name>Acme Paper</name>") && !xml.contains("invoice-number"),
        "{xml}"
    );

    let (_, limited) = get_json(&server, &token, "/api/invoices?return_object=limited").await;
    assert_eq!(
        limited,
        json!([{"id": seed.invoices[0].0}, {"id": seed.invoices[1].0}])
    );
    let (_, shallow) = get_json(
        &server,
        &token,
        &format!("/api/invoices/{}?return_object=shallow", seed.invoices[0].0),
    )
    .await;
    assert_eq!(shallow["supplier"], json!({"id": seed.suppliers[0]}));
    assert!(shallow.get("invoice-lines").is_none());

    let none = server
        .api(
            Method::POST,
            "/api/suppliers?return_object=none",
            Some(&token),
            Some(json!({"name": "Quiet"})),
        )
        .await;
    assert_eq!(none.status(), 204, "created, with nothing to show");
    assert!(none.text().await.unwrap().is_empty());
    let limited = server
        .api(
            Method::POST,
            "/api/suppliers?return_object=limited",
            Some(&token),
            Some(json!({"name": "Brief"})),
        )
        .await;
    let limited: Value = limited.json().await.unwrap();
    assert_eq!(limited.as_object().unwrap().len(), 1);
    for bad in [
        "fields=%5B%22colour%22%5D",
        "fields=id",
        "return_object=none",
        "return_object=everything",
    ] {
        let (status, body) = get_json(&server, &token, &format!("/api/invoices?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
}

#[tokio::test]
async fn xml_bodies_are_accepted_as_coupa_writes_them() {
    let (server, token) = api_server(Backend::Sqlite).await.unwrap();
    let post = |path: &'static str, body: &'static str| {
        server
            .http
            .post(server.url(path))
            .bearer_auth(&token)
            .header("Content-Type", "application/xml")
            .header("Accept", "application/xml")
            .body(body)
            .send()
    };
    let supplier = post(
        "/api/suppliers",
        "<supplier><name>Acme &amp; Sons</name><number>S-9</number></supplier>",
    )
    .await
    .unwrap();
    assert_eq!(supplier.status(), 201);
    let supplier = supplier.text().await.unwrap();
    assert!(
        supplier.contains("<name>Acme &amp; Sons</name>"),
        "{supplier}"
    );
    let id = supplier
        .split("<id type=\"integer\">")
        .nth(1)
        .unwrap()
        .split('<')
        .next()
        .unwrap()
        .to_string();
    let body = format!(
        "<?xml version=\"1.0\"?><invoice-header><invoice-number>INV-X</invoice-number><handling-amount type=\"decimal\">7.5</handling-amount>\
         <invoice-date type=\"dateTime\">2026-01-01T00:00:00Z</invoice-date><supplier><id type=\"integer\">{id}</id></supplier><invoice-lines type=\"array\"><invoice-line>\
         <description>Paper</description><quantity type=\"decimal\">3</quantity><price type=\"decimal\">2.5</price></invoice-line></invoice-lines></invoice-header>"
    );
    let invoice = server
        .http
        .post(server.url("/api/invoices"))
        .bearer_auth(&token)
        .header("Content-Type", "text/xml")
        .header("Accept", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(invoice.status(), 201);
    let invoice: Value = invoice.json().await.unwrap();
    assert_eq!(invoice["handling-amount"], "7.50");
    assert_eq!(invoice["invoice-lines"][0]["quantity"], "3.00");
    assert_eq!(invoice["gross-total"], "7.50");
    for (body, status) in [
        ("<supplier><name>x</name>", 400),
        (
            "<!DOCTYPE x [<!ENTITY e \"boom\">]><supplier><name>&e;</name></supplier>",
            400,
        ),
        ("<supplier><colour>red</colour></supplier>", 422),
    ] {
        let response = post("/api/suppliers", body).await.unwrap();
        assert_eq!(response.status(), status, "{body}");
        assert!(response.text().await.unwrap().contains("<errors>"));
    }
}

#[tokio::test]
async fn the_empty_list_differs_between_xml_and_json() {
    let (server, token) = api_server(Backend::Sqlite).await.unwrap();
    let (status, body) = get_json(&server, &token, "/api/suppliers").await;
    assert_eq!((status, body), (200, json!([])));
    let xml = server
        .api_get(
            "/api/suppliers",
            Some(&format!("Bearer {token}")),
            "application/xml",
        )
        .await;
    assert_eq!(xml.status(), 404);
    assert!(
        xml.text()
            .await
            .unwrap()
            .contains("<error>No results match your search criteria.</error>")
    );
}

async fn every_operator_filters_in_sql(backend: Backend) {
    let Some((server, token)) = api_server(backend).await else {
        return;
    };
    let seed = seed(&server, &token, 12).await;
    let count = |query: &'static str| {
        let server = &server;
        let token = &token;
        async move {
            let (status, body) = get_json(server, token, &format!("/api/invoices?{query}")).await;
            assert_eq!(status, 200, "{query}: {body}");
            body.as_array().unwrap().len()
        }
    };
    assert_eq!(
        count("supplier[name][contains]=ACME").await,
        8,
        "contains is case-insensitive"
    );
    assert_eq!(count("supplier[name][starts_with]=acme").await, 8);
    assert_eq!(count("supplier[name][ends_with]=paper").await, 4);
    assert_eq!(
        count("supplier[name][contains]=_").await,
        4,
        "LIKE wildcards are literal"
    );
    assert_eq!(count("supplier[number][blank]=true").await, 4);
    assert_eq!(count("supplier[number][blank]=false").await, 8);
    assert_eq!(count("invoice-number=INV-003").await, 1);
    assert_eq!(
        count("invoice_number[not_eq]=INV-003").await,
        11,
        "dashes or underscores"
    );
    assert_eq!(count("invoice_number[in]=INV-001,INV-002,INV-404").await, 2);
    assert_eq!(count("invoice_number[not_in]=INV-001,INV-002").await, 10);
    let expected_gt = seed
        .invoices
        .iter()
        .filter(|(_, _, total)| *total > 5.0)
        .count();
    assert_eq!(count("gross-total[gt]=5").await, expected_gt);
    assert_eq!(count("gross_total[lt_or_eq]=5").await, 12 - expected_gt);
    assert_eq!(count("invoice-date[gt_or_eq]=2026-01-06").await, 7);
    assert_eq!(count("invoice-date[lt]=2026-01-03T00:00:00-00:00").await, 2);
    assert_eq!(
        count("invoice_lines[account][code]=7000").await,
        6,
        "nested through lines and a reference"
    );
    let by_supplier = format!("supplier={}", seed.suppliers[1]);
    let (_, body) = get_json(&server, &token, &format!("/api/invoices?{by_supplier}")).await;
    assert_eq!(body.as_array().unwrap().len(), 4);
    let (_, ordered) = get_json(
        &server,
        &token,
        "/api/invoices?order_by=gross-total&dir=desc&limit=3",
    )
    .await;
    let totals: Vec<f64> = ordered
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["gross-total"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(
        totals.windows(2).all(|pair| pair[0] >= pair[1]),
        "{totals:?}"
    );
    let (_, accounts) = get_json(&server, &token, "/api/accounts?active=true").await;
    assert_eq!(ids(&accounts), seed.accounts);
}

/// Which seeded invoices (id, supplier index, total) a filter should keep.
type Keep<'a> = Box<dyn Fn(&(i64, usize, f64)) -> bool + 'a>;

/// Walking a filtered list with limit/offset from 0 returns each matching record exactly once,
/// in order, for many page sizes and filters.
async fn paging_returns_each_record_once(backend: Backend) {
    let Some((server, token)) = api_server(backend).await else {
        return;
    };
    let seed = seed(&server, &token, 23).await;
    let filters: Vec<(String, Keep<'_>)> = vec![
        (String::new(), Box::new(|_| true)),
        (
            format!("supplier={}&", seed.suppliers[0]),
            Box::new(|invoice| invoice.1 == 0),
        ),
        (
            "gross-total[gt]=4&".into(),
            Box::new(|invoice| invoice.2 > 4.0),
        ),
        (
            "invoice_lines[account][code]=6000&".into(),
            Box::new(|invoice| invoice.0 % 2 == seed.invoices[0].0 % 2),
        ),
    ];
    for (filter, keep) in &filters {
        let expected: Vec<i64> = seed
            .invoices
            .iter()
            .filter(|invoice| keep(invoice))
            .map(|invoice| invoice.0)
            .collect();
        for limit in [1, 2, 3, 5, 7, 50] {
            let mut seen = Vec::new();
            let mut offset = 0;
            loop {
                let (status, page) = get_json(
                    &server,
                    &token,
                    &format!("/api/invoices?{filter}limit={limit}&offset={offset}"),
                )
                .await;
                assert_eq!(status, 200);
                let page = ids(&page);
                assert!(page.len() <= limit);
                if page.is_empty() {
                    break;
                }
                offset += page.len();
                seen.extend(page);
            }
            assert_eq!(seen, expected, "filter `{filter}`, limit {limit}");
            assert_eq!(seen.iter().collect::<BTreeSet<_>>().len(), seen.len());
        }
    }
    let (_, capped) = get_json(&server, &token, "/api/invoices?limit=500").await;
    assert_eq!(capped.as_array().unwrap().len(), 23);
}

#[tokio::test]
async fn purchase_orders_move_through_their_statuses() {
    let (server, token) = api_server(Backend::Sqlite).await.unwrap();
    let supplier =
        create(&server, &token, "/api/suppliers", json!({"name": "Acme"})).await["id"].clone();
    let order = create(
        &server,
        &token,
        "/api/purchase_orders",
        json!({"po-number": "PO-1", "supplier": {"id": supplier}}),
    )
    .await;
    assert_eq!(order["status"], "draft");
    let id = order["id"].as_i64().unwrap();
    let act = |action: &'static str| {
        let server = &server;
        let token = &token;
        async move {
            let response = server
                .api(
                    Method::PUT,
                    &format!("/api/purchase_orders/{id}/{action}"),
                    Some(token),
                    None,
                )
                .await;
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap(),
            )
        }
    };
    for (action, status, expected) in [
        ("close", 422, "draft"),
        ("issue", 200, "issued"),
        ("issue", 422, "issued"),
        ("close", 200, "closed"),
        ("reopen", 200, "issued"),
        ("cancel", 200, "cancelled"),
        ("reopen", 422, "cancelled"),
        ("release_from_buyer_hold", 422, "cancelled"),
    ] {
        let (code, body) = act(action).await;
        assert_eq!(code, status, "{action}: {body}");
        if status == 200 {
            assert_eq!(body["status"], expected);
        } else {
            let message = body["errors"]["status"][0].as_str().unwrap();
            assert!(
                message.contains(&format!("cannot {action}")) && message.contains(expected),
                "{message}"
            );
        }
    }
    let (code, _) = act("explode").await;
    assert_eq!(
        code, 404,
        "no scope grants an unknown action, so there is no such route"
    );
    let (_, order) = get_json(&server, &token, &format!("/api/purchase_orders/{id}")).await;
    assert_eq!(order["status"], "cancelled");
    let direct = server
        .api(
            Method::PUT,
            &format!("/api/purchase_orders/{id}"),
            Some(&token),
            Some(json!({"status": "issued"})),
        )
        .await;
    assert_eq!(direct.status(), 200);
    let direct: Value = direct.json().await.unwrap();
    assert_eq!(
        direct["status"], "cancelled",
        "status is read-only: it moves through actions only"
    );
}

/// Every purchase order action, legal and illegal, from every status it applies to; the demo
/// data holds orders in each starting status (buyer_hold cannot be reached through the API).
#[tokio::test]
async fn every_purchase_order_transition_from_every_status() {
    let settings = coupa_server::ConfigLayer {
        demo: Some(true),
        ..Default::default()
    };
    let server = crate::support::spawn_server_with(Backend::Sqlite, settings)
        .await
        .unwrap();
    let (_, client) = server
        .create_client(
            "po-tester",
            "core.purchase_order.read core.purchase_order.write",
        )
        .await;
    let token = server.access_token(&client, None).await;
    let (_, orders) = get_json(&server, &token, "/api/purchase_orders?limit=50").await;
    // Coupa's purchase order actions, written out here rather than read from the model.
    let transitions: [(&str, &[&str], &str); 6] = [
        ("issue", &["draft", "buyer_hold"], "issued"),
        ("issue_without_send", &["draft", "buyer_hold"], "issued"),
        ("cancel", &["draft", "buyer_hold", "issued"], "cancelled"),
        ("close", &["issued"], "closed"),
        ("reopen", &["closed"], "issued"),
        ("release_from_buyer_hold", &["buyer_hold"], "issued"),
    ];
    let statuses = ["draft", "buyer_hold", "issued", "closed", "cancelled"];
    let mut checked = 0;
    for (action, allowed_from, to) in transitions {
        for status in statuses {
            let (_, candidates) = get_json(
                &server,
                &token,
                &format!("/api/purchase_orders?status={status}&limit=50"),
            )
            .await;
            // The demo data has enough orders in each status for every legal action to use up
            // one: five drafts, four on buyer hold, ten issued, five closed.
            let order = candidates
                .as_array()
                .unwrap()
                .first()
                .unwrap_or_else(|| panic!("no purchase order in {status}: {orders}"));
            let id = order["id"].as_i64().unwrap();
            let response = server
                .api(
                    Method::PUT,
                    &format!("/api/purchase_orders/{id}/{action}"),
                    Some(&token),
                    None,
                )
                .await;
            let code = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            if allowed_from.contains(&status) {
                assert_eq!(code, 200, "{action} from {status}: {body}");
                assert_eq!(body["status"], to);
                if status == "issued" && to == "closed" {
                    // Reopen it, so the issued orders last for every action.
                    let response = server
                        .api(
                            Method::PUT,
                            &format!("/api/purchase_orders/{id}/reopen"),
                            Some(&token),
                            None,
                        )
                        .await;
                    assert_eq!(response.status(), 200);
                }
            } else {
                assert_eq!(code, 422, "{action} from {status} must be refused: {body}");
                let message = body["errors"]["status"][0].as_str().unwrap();
                assert!(message.contains(status), "{message}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, transitions.len() * statuses.len());
}

#[tokio::test]
async fn invoices_and_inventory_transactions_have_their_actions() {
    let (server, token) = api_server(Backend::Sqlite).await.unwrap();
    let seed = seed(&server, &token, 2).await;
    let put = |path: String| {
        let server = &server;
        let token = &token;
        async move {
            server
                .api(Method::PUT, &path, Some(token), None)
                .await
                .status()
                .as_u16()
        }
    };
    let (first, second) = (seed.invoices[0].0, seed.invoices[1].0);
    assert_eq!(put(format!("/api/invoices/{first}/submit")).await, 200);
    assert_eq!(put(format!("/api/invoices/{first}/abandon")).await, 422);
    assert_eq!(put(format!("/api/invoices/{second}/abandon")).await, 200);
    assert_eq!(
        put(format!("/api/invoices/{second}/void")).await,
        422,
        "an abandoned invoice cannot be voided"
    );
    let (_, invoice) = get_json(&server, &token, &format!("/api/invoices/{first}")).await;
    assert_eq!(invoice["status"], "pending_approval");

    let transaction = create(
        &server,
        &token,
        "/api/inventory_transactions",
        json!({"type": "InventoryAdjustment", "quantity": "3"}),
    )
    .await;
    assert_eq!(transaction["status"], "created");
    let id = transaction["id"].as_i64().unwrap();
    assert_eq!(
        put(format!("/api/inventory_transactions/{id}/void")).await,
        200
    );
    assert_eq!(
        put(format!("/api/inventory_transactions/{id}/void")).await,
        422,
        "voided once only"
    );
}

/// `POST /api/requisitions/submit_for_approval` as Coupa documents it, and the documented
/// deletes: a draft with its lines; not a submitted one; not an object without a delete.
#[tokio::test]
async fn documented_creation_actions_and_deletes() {
    let (server, token) = api_server(Backend::Sqlite).await.unwrap();
    let lines =
        json!([{"line-num": 1, "description": "Laptop", "quantity": 2, "unit-price": "1200"}]);
    let body = json!({"justification": "New laptops", "requisition-lines": lines});
    let response = server
        .api(
            Method::POST,
            "/api/requisitions/submit_for_approval",
            Some(&token),
            Some(body.clone()),
        )
        .await;
    assert_eq!(response.status(), 201);
    let submitted: Value = response.json().await.unwrap();
    assert_eq!(submitted["status"], "pending_approval");
    let draft = create(&server, &token, "/api/requisitions", body).await;
    assert_eq!(draft["status"], "draft");
    let line = draft["requisition-lines"][0]["id"].as_i64().unwrap();
    let delete = |path: String| {
        let (server, token) = (&server, &token);
        async move {
            let response = server.api(Method::DELETE, &path, Some(token), None).await;
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };
    let (status, body) = delete(format!("/api/requisitions/{}", submitted["id"])).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("only a draft"), "{body}");
    let (status, _) = delete(format!("/api/requisitions/{}", draft["id"])).await;
    assert_eq!(status, 204);
    for gone in [
        format!("/api/requisitions/{}", draft["id"]),
        format!("/api/requisition_lines/{line}"),
    ] {
        assert_eq!(get_json(&server, &token, &gone).await.0, 404, "{gone}");
    }
    assert_eq!(
        delete(format!("/api/requisitions/{}", draft["id"])).await.0,
        404
    );
    let department = create(
        &server,
        &token,
        "/api/departments",
        json!({"name": "Finance"}),
    )
    .await;
    let (status, _) = delete(format!("/api/departments/{}", department["id"])).await;
    assert_eq!(status, 405, "Coupa documents no department delete");
    let response = server
        .api(
            Method::POST,
            "/api/requisitions/approve",
            Some(&token),
            Some(json!({})),
        )
        .await;
    assert_eq!(response.status(), 405, "no creation action of that name");
}

/// The documented nested routes: an expense report's lines and a supplier's remit-to
/// addresses, listed, created, shown, changed and deleted under their record, and only there.
#[tokio::test]
async fn lines_are_served_under_their_record() {
    let (server, token) = api_server(Backend::Sqlite).await.unwrap();
    let send = |method: Method, path: String, body: Option<Value>| {
        let (server, token) = (&server, &token);
        async move {
            let response = server.api(method, &path, Some(token), body).await;
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            (
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        }
    };
    let line = |description: &str| json!({"line-number": 1, "description": description, "amount": "12.50"});
    let report = create(
        &server,
        &token,
        "/api/expense_reports",
        json!({"title": "Berlin", "expense-lines": [line("Taxi")]}),
    )
    .await;
    let other = create(
        &server,
        &token,
        "/api/expense_reports",
        json!({"title": "Paris", "expense-lines": [line("Hotel")]}),
    )
    .await;
    let (id, other_line) = (&report["id"], &other["expense-lines"][0]["id"]);
    let lines = format!("/api/expense_reports/{id}/expense_lines");
    let (status, listed) = send(Method::GET, lines.clone(), None).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["description"], "Taxi");
    let (status, added) = send(Method::POST, lines.clone(), Some(line("Train"))).await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["expense-report-id"], *id, "{added}");
    let added_path = format!("{lines}/{}", added["id"]);
    let (status, shown) = send(Method::GET, added_path.clone(), None).await;
    assert_eq!((status, &shown["description"]), (200, &json!("Train")));
    let (status, changed) = send(
        Method::PUT,
        added_path.clone(),
        Some(json!({"description": "Night train"})),
    )
    .await;
    assert_eq!(
        (status, &changed["description"]),
        (200, &json!("Night train"))
    );
    let (status, _) = send(Method::GET, format!("{lines}/{other_line}"), None).await;
    assert_eq!(status, 404, "a line of another report");
    let (status, _) = send(Method::DELETE, format!("{lines}/{other_line}"), None).await;
    assert_eq!(status, 404, "not deleted through another report");
    let (status, _) = send(Method::DELETE, added_path.clone(), None).await;
    assert_eq!(status, 204);
    assert_eq!(send(Method::GET, added_path, None).await.0, 404);
    let (_, listed) = send(
        Method::GET,
        format!("{lines}?fields=[\"description\"]"),
        None,
    )
    .await;
    assert_eq!(listed, json!([{"description": "Taxi"}]));
    assert_eq!(
        send(
            Method::GET,
            "/api/expense_reports/999999/expense_lines".into(),
            None
        )
        .await
        .0,
        404
    );

    let address = |code: &str| json!({"remit-to-code": code, "name": "Acme remittance", "street1": "1 Main Street", "city": "Chicago", "postal-code": "60601"});
    let supplier = create(
        &server,
        &token,
        "/api/suppliers",
        json!({"name": "Acme", "remit-to-addresses": [address("RT-1")]}),
    )
    .await;
    let addresses = format!("/api/suppliers/{}/addresses", supplier["id"]);
    let (status, listed) = send(Method::GET, addresses.clone(), None).await;
    assert_eq!(
        (status, &listed[0]["remit-to-code"]),
        (200, &json!("RT-1")),
        "{listed}"
    );
    let (status, added) = send(Method::POST, addresses.clone(), Some(address("RT-2"))).await;
    assert_eq!(status, 201, "{added}");
    let remit = format!(
        "/api/suppliers/{}/remit_to_addresses/{}",
        supplier["id"], added["id"]
    );
    assert_eq!(
        send(Method::GET, remit.clone(), None).await.0,
        405,
        "only its DELETE is documented"
    );
    assert_eq!(send(Method::DELETE, remit, None).await.0, 204);
    let (_, listed) = send(Method::GET, addresses, None).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let (status, _) = send(
        Method::GET,
        format!("/api/invoices/{id}/invoice_lines"),
        None,
    )
    .await;
    assert_eq!(status, 404, "Coupa documents no such route");
}

#[tokio::test]
async fn a_requisition_is_created_and_submitted_in_one_call() {
    let (server, token) = api_server(Backend::Sqlite).await.unwrap();
    let body = json!({"justification": "New laptops", "requisition-lines": [{"line-num": 1, "description": "Laptop", "quantity": 2, "unit-price": "1200"}]});
    let response = server
        .api(
            Method::POST,
            "/api/requisitions/new/submit_for_approval",
            Some(&token),
            Some(body),
        )
        .await;
    assert_eq!(response.status(), 201);
    let requisition: Value = response.json().await.unwrap();
    assert_eq!(requisition["status"], "pending_approval");
    assert_eq!(requisition["requisition-lines"][0]["unit-price"], "1200.00");
    let id = requisition["id"].as_i64().unwrap();
    let response = server
        .api(
            Method::POST,
            &format!("/api/requisitions/{id}/submit_for_approval"),
            Some(&token),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        response.status(),
        405,
        "only `new` takes a creation action; an existing requisition is submitted with PUT"
    );
    assert_eq!(response.headers()["allow"], "PUT");
    assert_eq!(requisition["total"], "2400.00", "its lines' totals");
    let (code, body) = put_action(
        &server,
        &token,
        &format!("/api/requisitions/{id}/submit_for_approval"),
    )
    .await;
    assert_eq!(code, 422, "already submitted: {body}");
    let response = server
        .api(
            Method::POST,
            "/api/invoices/new/submit",
            Some(&token),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        response.status(),
        405,
        "submit is a PUT on an existing invoice"
    );
}

#[tokio::test]
async fn bad_requests_get_clear_errors_never_500() {
    let (server, token) = api_server(Backend::Sqlite).await.unwrap();
    seed(&server, &token, 1).await;
    for (query, named) in [
        ("colour=red", "colour"),
        ("supplier[colour]=x", "supplier[colour]"),
        ("gross-total=ten", "gross-total"),
        ("limit=0", "limit"),
        ("offset=-3", "offset"),
        ("order_by=colour", "order_by"),
        ("invoice-date[gt]=soon", "invoice-date[gt]"),
    ] {
        let (status, body) = get_json(&server, &token, &format!("/api/invoices?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert!(
            body["errors"]["base"][0]
                .as_str()
                .unwrap()
                .starts_with(named),
            "{query}: {body}"
        );
    }
    let response = server
        .api_get(
            "/api/invoices",
            Some(&format!("Bearer {token}")),
            "text/html",
        )
        .await;
    assert_eq!(response.status(), 406);
    let (status, body) = {
        let response = server
            .api(
                Method::POST,
                "/api/invoices",
                Some(&token),
                Some(json!({"handling-amount": "1"})),
            )
            .await;
        (
            response.status().as_u16(),
            response.json::<Value>().await.unwrap(),
        )
    };
    assert_eq!(status, 422);
    assert_eq!(body["errors"]["invoice-number"][0], "can't be blank");
    assert_eq!(body["errors"]["supplier"][0], "can't be blank");
    let response = server
        .api(
            Method::POST,
            "/api/invoices",
            Some(&token),
            Some(json!({"invoice-number": "X", "invoice-date": "2026-01-01", "supplier": {"id": 424242}})),
        )
        .await;
    assert_eq!(response.status(), 422);
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("suppliers 424242 does not exist")
    );
    let response = server
        .http
        .post(server.url("/api/suppliers"))
        .bearer_auth(&token)
        .header("Content-Type", "text/plain")
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let response = server
        .http
        .post(server.url("/api/suppliers"))
        .bearer_auth(&token)
        .header("Content-Type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let (status, _) = get_json(&server, &token, "/api/invoices/999999").await;
    assert_eq!(status, 404);
    let (status, _) = get_json(&server, &token, "/api/invoices/abc").await;
    assert_eq!(status, 404);
    let response = server
        .api(Method::DELETE, "/api/suppliers/1", Some(&token), None)
        .await;
    assert_eq!(response.status(), 405);
}

/// Every route of every object × (token with the route's scope → allowed, token without →
/// 403, no token → 401).
#[tokio::test]
async fn scope_matrix() {
    let (server, all_token) = api_server(Backend::Sqlite).await.unwrap();
    let (_, identity_only) = server
        .create_client("identity-only", "openid profile")
        .await;
    let none_token = server.access_token(&identity_only, None).await;
    let mut routes: Vec<(Method, String)> = Vec::new();
    for object in objects() {
        let candidates = [
            (Method::GET, format!("/api/{}", object.path)),
            (Method::GET, format!("/api/{}/1", object.path)),
            (Method::POST, format!("/api/{}", object.path)),
            (Method::PUT, format!("/api/{}/1", object.path)),
        ];
        let actions = object.actions.iter().map(|action| {
            (
                Method::PUT,
                format!("/api/{}/1/{}", object.path, action.name),
            )
        });
        // Reads and actions are always in the catalogue (a unit test of the model checks it);
        // some objects are read-only.
        routes.extend(
            candidates
                .into_iter()
                .chain(actions)
                .filter(|(method, path)| {
                    !coupa_proto::scopes::scopes_granting(method.as_str(), path).is_empty()
                }),
        );
    }
    assert!(
        routes.len() >= 2 * objects().len(),
        "every object's reads at least: {}",
        routes.len()
    );
    for (method, path) in routes {
        let needed = coupa_proto::scopes::scopes_granting(method.as_str(), &path);
        let (_, scoped_client) = server
            .create_client(&crate::support::unique_name("scoped-"), needed[0])
            .await;
        let scoped = server.access_token(&scoped_client, None).await;
        for token in [&all_token, &scoped] {
            let status = server
                .api(method.clone(), &path, Some(token), Some(json!({})))
                .await
                .status()
                .as_u16();
            assert!(
                ![401, 403].contains(&status),
                "{method} {path} refused with its scope: {status}"
            );
            assert_ne!(status, 500, "{method} {path}");
        }
        let status = server
            .api(method.clone(), &path, Some(&none_token), Some(json!({})))
            .await
            .status()
            .as_u16();
        assert_eq!(status, 403, "{method} {path} without its scope");
        let status = server
            .api(method.clone(), &path, None, Some(json!({})))
            .await
            .status()
            .as_u16();
        assert_eq!(status, 401, "{method} {path} without a token");
    }
}

on_both_backends!(
    every_operator_filters_in_sql,
    paging_returns_each_record_once,
    the_demo_fills_every_element_and_status,
    paging_walks_the_demo_objects_once,
    the_other_documented_actions,
    custom_fields_are_written_read_filtered_and_removed
);

/// Every record of `path` through pages of `limit`, in order.
async fn walk(
    server: &TestServer,
    token: &str,
    path: &str,
    filter: &str,
    limit: usize,
) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let (status, page) = get_json(
            server,
            token,
            &format!("/api/{path}?{filter}limit={limit}&offset={}", seen.len()),
        )
        .await;
        assert_eq!(status, 200, "{path}: {page}");
        let page = page.as_array().unwrap().clone();
        assert!(page.len() <= limit);
        if page.is_empty() {
            return seen;
        }
        seen.extend(page);
    }
}

/// The demo data gives every documented element of every object a value in some record,
/// and has records in every documented status of the objects that list theirs.
async fn the_demo_fills_every_element_and_status(backend: Backend) {
    let Some((server, token)) = crate::support::demo_api_server(backend).await else {
        return;
    };
    for object in objects() {
        let records = walk(&server, &token, object.path, "", 50).await;
        let names = object
            .fields
            .iter()
            .map(|field| field.name)
            .filter(|name| *name != "custom-fields")
            .chain(object.references.iter().map(|reference| reference.name))
            .chain(object.lines.iter().map(|lines| lines.name))
            .chain(object.embedded.iter().map(|embedded| embedded.name));
        for name in names {
            let filled = records.iter().any(|record| match &record[name] {
                Value::Null => false,
                Value::Array(items) => !items.is_empty(),
                Value::String(text) => !text.is_empty(),
                _ => true,
            });
            assert!(filled, "no demo {} has {name}", object.element);
        }
        let documented = object.field("status").map_or(&[][..], |field| field.values);
        for status in documented {
            assert!(
                records.iter().any(|record| record["status"] == *status),
                "no demo {} is {status}",
                object.element
            );
        }
    }
}

/// Walking the larger demo objects page by page, with and without a filter, returns each of
/// their rows exactly once and in id order, whatever the page size.
async fn paging_walks_the_demo_objects_once(backend: Backend) {
    let Some((server, token)) = crate::support::demo_api_server(backend).await else {
        return;
    };
    let store = coupa_server::store::open(&server.database_url)
        .await
        .unwrap();
    let column = |sql: String| {
        let store = store.clone();
        async move {
            let query = coupa_server::store::SqlQuery {
                sql,
                binds: Vec::new(),
            };
            let mut values: Vec<i64> = store
                .select_rows(&query)
                .await
                .unwrap()
                .into_iter()
                .map(|row| row[0].as_deref().unwrap().parse().unwrap())
                .collect();
            values.sort_unstable();
            values
        }
    };
    for path in [
        "invoices",
        "invoice_lines",
        "purchase_orders",
        "purchase_order_lines",
        "expense_reports",
        "expense_lines",
        "suppliers",
        "contracts",
        "users",
    ] {
        let times = column(format!(
            "SELECT CAST(updated_at AS TEXT) AS t FROM api_{path}"
        ))
        .await;
        // Records changed since the middle of the object's timeline.
        let since = times[times.len() / 2] - 1;
        for (filter, condition) in [
            (String::new(), "1 = 1".to_string()),
            (
                format!(
                    "updated-at[gt]={}&",
                    coupa_server::domain::time::format_rfc3339(since)
                ),
                format!("updated_at > {since}"),
            ),
        ] {
            let expected = column(format!(
                "SELECT CAST(id AS TEXT) AS t FROM api_{path} WHERE {condition}"
            ))
            .await;
            assert!(!expected.is_empty(), "{path} {filter}");
            for limit in [7, 13, 50] {
                let seen: Vec<i64> = walk(&server, &token, path, &filter, limit)
                    .await
                    .iter()
                    .map(|record| record["id"].as_i64().unwrap())
                    .collect();
                assert_eq!(seen, expected, "{path} `{filter}` by {limit}");
            }
        }
    }
}

/// Every object of the model is listed and fetched from the demo data, in JSON with every
/// documented element present and in XML under Coupa's names.
#[tokio::test]
async fn every_object_is_listed_and_fetched_in_json_and_xml() {
    let settings = coupa_server::ConfigLayer {
        demo: Some(true),
        ..Default::default()
    };
    let server = crate::support::spawn_server_with(Backend::Sqlite, settings)
        .await
        .unwrap();
    let mut scopes: Vec<&str> = objects()
        .iter()
        .map(|object| {
            coupa_proto::scopes::scopes_granting("GET", &format!("/api/{}", object.path))[0]
        })
        .collect();
    scopes.sort_unstable();
    scopes.dedup();
    let (_, client) = server.create_client("reader", &scopes.join(" ")).await;
    let token = server.access_token(&client, None).await;
    for object in objects() {
        let path = format!("/api/{}", object.path);
        let (status, list) = get_json(&server, &token, &format!("{path}?limit=5")).await;
        assert_eq!(status, 200, "{path}: {list}");
        let id = list[0]["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("{path}: the demo has none: {list}"));
        let (status, record) = get_json(&server, &token, &format!("{path}/{id}")).await;
        assert_eq!(status, 200, "{path}/{id}");
        let names = object
            .fields
            .iter()
            .map(|field| field.name)
            .chain(object.references.iter().map(|reference| reference.name))
            .chain(object.lines.iter().map(|lines| lines.name))
            .chain(object.embedded.iter().map(|embedded| embedded.name));
        for name in names {
            assert!(record.get(name).is_some(), "{path}/{id} lacks {name}");
        }
        let bearer = format!("Bearer {token}");
        let xml = server
            .api_get(&format!("{path}?limit=2"), Some(&bearer), "application/xml")
            .await
            .text()
            .await
            .unwrap();
        let root = format!("<{} type=\"array\">", object.list_element);
        assert!(xml.contains(&root), "{path}: {root} in {xml:.300}");
        let xml = server
            .api_get(&format!("{path}/{id}"), Some(&bearer), "application/xml")
            .await
            .text()
            .await
            .unwrap();
        let element = format!("?>\n<{}>", object.element);
        assert!(
            xml.contains(&element),
            "{path}/{id}: {element} in {xml:.300}"
        );
    }
    let (_, centered) = get_json(
        &server,
        &token,
        "/api/invoices?custom-fields[cost-center]=CC-100&custom-fields[ap-batch][gt]=1",
    )
    .await;
    let centered = centered.as_array().unwrap();
    assert!(
        !centered.is_empty(),
        "the demo's invoices carry custom fields"
    );
    assert!(centered.iter().all(
        |invoice| invoice["custom-fields"]["cost-center"] == "CC-100"
            && invoice["custom-fields"]["ap-batch"].as_i64() > Some(1)
    ));
}

/// An action as `PUT /api/{path}`: (status code, body).
async fn put_action(server: &TestServer, token: &str, path: &str) -> (u16, Value) {
    let response = server.api(Method::PUT, path, Some(token), None).await;
    (
        response.status().as_u16(),
        response.json().await.unwrap_or(Value::Null),
    )
}

/// Invoice disputes and approvals move as Coupa documents them; each action is refused from
/// a status it does not apply to, naming the status.
#[tokio::test]
async fn invoice_disputes_and_approvals_follow_the_documented_statuses() {
    let (server, token) = api_server(Backend::Sqlite).await.unwrap();
    let seed = seed(&server, &token, 3).await;
    let [first, second, third] = [0, 1, 2].map(|index| seed.invoices[index].0);
    let steps = [
        (first, "dispute", 422, "draft"),
        (first, "submit", 200, "pending_approval"),
        (first, "dispute", 200, "disputed"),
        (first, "approve", 422, "disputed"),
        (first, "withdraw_dispute", 200, "pending_approval"),
        (first, "reject", 200, "rejected"),
        (first, "restart_approvals", 200, "pending_approval"),
        (first, "approve", 200, "approved"),
        (first, "void", 200, "voided"),
        (first, "withdraw_dispute", 422, "voided"),
        (second, "submit", 200, "pending_approval"),
        (second, "bypass_approvals", 200, "approved"),
        (third, "void", 200, "voided"),
    ];
    for (id, action, code, status) in steps {
        let (got, body) =
            put_action(&server, &token, &format!("/api/invoices/{id}/{action}")).await;
        assert_eq!(got, code, "{action}: {body}");
        if code == 200 {
            assert_eq!(body["status"], status, "{action}");
        } else {
            let message = body["errors"]["status"][0].as_str().unwrap();
            assert!(message.contains(status), "{action}: {message}");
        }
    }
}

/// What sync jobs rely on: `exported=false` lists what is left to export, `mark_exported`
/// and `?exported=true` flag a record (with its export time), `?exported=false` unflags it.
#[tokio::test]
async fn exports_are_flagged_and_filtered_as_sync_jobs_expect() {
    let (server, token) = api_server(Backend::Sqlite).await.unwrap();
    let seed = seed(&server, &token, 3).await;
    let not_exported = || async {
        ids(
            &get_json(&server, &token, "/api/invoices?exported[not_eq]=true")
                .await
                .1,
        )
    };
    assert_eq!(not_exported().await.len(), 3);
    let first = seed.invoices[0].0;
    let (code, marked) = put_action(
        &server,
        &token,
        &format!("/api/invoices/{first}/mark_exported"),
    )
    .await;
    assert_eq!(code, 200, "{marked}");
    assert_eq!(marked["exported"], true);
    assert!(marked["last-exported-at"].is_string(), "{marked}");
    assert_eq!(marked["status"], "draft", "marking leaves the status alone");
    assert!(!not_exported().await.contains(&first));
    let (_, exported) = get_json(&server, &token, "/api/invoices?exported=true").await;
    assert_eq!(ids(&exported), vec![first]);

    let supplier = seed.suppliers[0];
    let order = create(
        &server,
        &token,
        "/api/purchase_orders",
        json!({"po-number": "PO-9", "supplier": {"id": supplier}}),
    )
    .await["id"]
        .as_i64()
        .unwrap();
    for (flag, expected) in [("true", true), ("false", false)] {
        let (code, body) = put_action(
            &server,
            &token,
            &format!("/api/purchase_orders/{order}?exported={flag}"),
        )
        .await;
        assert_eq!(code, 200, "{body}");
        assert_eq!(body["exported"], expected);
    }
    let (code, body) = put_action(
        &server,
        &token,
        &format!("/api/suppliers/{supplier}?exported=true"),
    )
    .await;
    assert_eq!(code, 400, "suppliers carry no export flag: {body}");
    let (code, _) = put_action(
        &server,
        &token,
        &format!("/api/purchase_orders/{order}?exported=soon"),
    )
    .await;
    assert_eq!(code, 400);
}

/// PATCH updates as PUT does; an account type is copied; order lines soft-close and reopen.
#[tokio::test]
async fn patch_copy_and_line_actions() {
    let (server, token) = crate::support::demo_api_server(Backend::Sqlite)
        .await
        .unwrap();
    let supplier =
        create(&server, &token, "/api/suppliers", json!({"name": "Acme"})).await["id"].clone();
    let patched = server
        .api(
            Method::PATCH,
            &format!("/api/suppliers/{supplier}"),
            Some(&token),
            Some(json!({"website": "https://acme.example"})),
        )
        .await;
    assert_eq!(patched.status(), 200);
    let patched: Value = patched.json().await.unwrap();
    assert_eq!(patched["website"], "https://acme.example");
    assert_eq!(patched["name"], "Acme");

    let currency = {
        let (_, currencies) = get_json(&server, &token, "/api/currencies").await;
        currencies[0]["id"].clone()
    };
    let original = create(
        &server,
        &token,
        "/api/account_types",
        json!({"name": "US Corporate", "active": true, "currency": {"id": currency}}),
    )
    .await;
    let copied = server
        .api(
            Method::POST,
            &format!("/api/account_types/{}/copy", original["id"]),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(copied.status(), 201);
    let copied: Value = copied.json().await.unwrap();
    assert_ne!(copied["id"], original["id"]);
    assert_eq!(copied["name"], "US Corporate");
    assert_eq!(copied["currency"]["id"], currency);
    let refused = server
        .api(
            Method::POST,
            &format!("/api/suppliers/{supplier}/copy"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(refused.status(), 404, "suppliers are not copied");

    let order = create(
        &server,
        &token,
        "/api/purchase_orders",
        json!({"po-number": "PO-7", "supplier": {"id": supplier}, "order-lines": [{"description": "Desk", "quantity": 2, "price": "150"}]}),
    )
    .await;
    assert_eq!(order["total"], "300.00", "the lines' totals");
    let line = order["order-lines"][0]["id"].as_i64().unwrap();
    assert_eq!(order["order-lines"][0]["status"], "created");
    for (action, code, status) in [
        ("reopen_for_receiving", 422, "created"),
        ("soft_close_for_receiving", 200, "soft_closed_for_receiving"),
        ("soft_close_for_receiving", 422, "soft_closed_for_receiving"),
        ("reopen_for_receiving", 200, "created"),
        ("soft_close_for_invoicing", 200, "soft_closed_for_invoicing"),
    ] {
        let (got, body) = put_action(
            &server,
            &token,
            &format!("/api/purchase_order_lines/{line}/{action}"),
        )
        .await;
        assert_eq!(got, code, "{action}: {body}");
        if code == 200 {
            assert_eq!(body["status"], status);
        }
    }
}

/// (action, expected status code, status after it or named by the refusal)
type Steps<'a> = &'a [(&'a str, u16, &'a str)];

/// Expense reports, approvals, contracts, receipts and PO changes take their documented
/// actions from the statuses they apply to, and refuse them from others (demo data, on
/// PostgreSQL too).
async fn the_other_documented_actions(backend: Backend) {
    let Some((server, token)) = crate::support::demo_api_server(backend).await else {
        return;
    };
    let steps: [(&str, &str, Steps); 5] = [
        (
            "expense_reports",
            "draft",
            &[
                ("submit", 200, "pending_approval"),
                ("submit", 422, "pending_approval"),
            ],
        ),
        (
            "approvals",
            "pending",
            &[
                ("hold", 200, "on_hold"),
                ("hold", 422, "on_hold"),
                ("approve", 200, "approved"),
                ("reject", 422, "approved"),
            ],
        ),
        (
            "contracts",
            "published",
            &[
                ("complete", 200, "completed"),
                ("complete", 422, "completed"),
            ],
        ),
        (
            "receiving_transactions",
            "created",
            &[("void", 200, "voided"), ("void", 422, "voided")],
        ),
        (
            "purchase_order_changes",
            "pending_approval",
            &[("submit_for_approval", 422, "pending_approval")],
        ),
    ];
    for (path, from, actions) in steps {
        let (_, list) = get_json(&server, &token, &format!("/api/{path}?status={from}")).await;
        let id = list[0]["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("the demo has {path} in {from}: {list}"));
        for (action, code, status) in actions {
            let (got, body) =
                put_action(&server, &token, &format!("/api/{path}/{id}/{action}")).await;
            assert_eq!(got, *code, "{path} {action}: {body}");
            if *code == 200 {
                assert_eq!(body["status"], *status, "{path} {action}");
            } else {
                let message = body["errors"]["status"][0].as_str().unwrap();
                assert!(message.contains(status), "{path} {action}: {message}");
            }
        }
    }
}

/// Custom fields an administrator defines: written and read under `custom-fields` in JSON and
/// XML, typed, filtered like other elements, cleared with null, gone with their definition.
async fn custom_fields_are_written_read_filtered_and_removed(backend: Backend) {
    use coupa_proto::admin::CreateCustomField;
    let Some((server, token)) = api_server(backend).await else {
        return;
    };
    let define = |name: &str, kind: &str| CreateCustomField {
        object: "invoices".into(),
        name: name.into(),
        kind: kind.into(),
        label: None,
    };
    let defined = server
        .admin
        .create_custom_field(&define("Cost_Center", "string"))
        .await
        .unwrap();
    assert_eq!(defined.name, "cost-center");
    server
        .admin
        .create_custom_field(&define("limit", "decimal"))
        .await
        .unwrap();
    server
        .admin
        .create_custom_field(&define("urgent", "boolean"))
        .await
        .unwrap();
    for (bad, named) in [
        (define("cost-center", "string"), "already been taken"),
        (define("status", "string"), "already has an element status"),
        (define("colour", "money"), "must be one of"),
        (
            CreateCustomField {
                object: "widgets".into(),
                ..define("x", "string")
            },
            "not an API object",
        ),
    ] {
        let error = server
            .admin
            .create_custom_field(&bad)
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains(named), "{error}");
    }

    let seed = seed(&server, &token, 3).await;
    let [first, second, third] = [0, 1, 2].map(|index| seed.invoices[index].0);
    for (id, center, limit) in [(first, "CC-100", "12.5"), (second, "CC-200", "3")] {
        let response = server
            .api(
                Method::PUT,
                &format!("/api/invoices/{id}"),
                Some(&token),
                Some(json!({"custom-fields": {"cost-center": center, "limit": limit, "urgent": id == first}})),
            )
            .await;
        assert_eq!(response.status(), 200);
    }
    let (_, invoice) = get_json(&server, &token, &format!("/api/invoices/{first}")).await;
    assert_eq!(
        invoice["custom-fields"],
        json!({"cost-center": "CC-100", "limit": "12.50", "urgent": true})
    );
    let (_, untouched) = get_json(&server, &token, &format!("/api/invoices/{third}")).await;
    assert_eq!(
        untouched["custom-fields"],
        json!({"cost-center": null, "limit": null, "urgent": null})
    );
    let xml = server
        .api_get(
            &format!("/api/invoices/{first}"),
            Some(&format!("Bearer {token}")),
            "application/xml",
        )
        .await
        .text()
        .await
        .unwrap();
    for expected in [
        "<custom-fields>",
        "<cost-center>CC-100</cost-center>",
        "<limit type=\"decimal\">12.50</limit>",
        "<urgent type=\"boolean\">true</urgent>",
    ] {
        assert!(xml.contains(expected), "{expected} in {xml}");
    }

    let count = |query: &'static str| {
        let server = &server;
        let token = &token;
        async move {
            let (status, body) = get_json(server, token, &format!("/api/invoices?{query}")).await;
            assert_eq!(status, 200, "{query}: {body}");
            ids(&body)
        }
    };
    assert_eq!(
        count("custom-fields[cost-center]=CC-100").await,
        vec![first]
    );
    assert_eq!(
        count("custom_fields[cost_center][starts_with]=cc-").await,
        vec![first, second]
    );
    assert_eq!(
        count("custom-fields[limit][gt]=5").await,
        vec![first],
        "compared as numbers"
    );
    assert_eq!(count("custom-fields[urgent]=true").await, vec![first]);
    assert_eq!(
        count("custom-fields[cost-center][not_eq]=CC-100").await,
        vec![second, third]
    );
    assert_eq!(
        count("custom-fields[cost-center][blank]=true").await,
        vec![third]
    );

    let (status, body) = get_json(&server, &token, "/api/invoices?custom-fields[colour]=red").await;
    assert_eq!(status, 400, "{body}");
    for (fields, named) in [
        (json!({"colour": "red"}), "custom-fields.colour"),
        (json!({"limit": "ten"}), "custom-fields.limit"),
        (json!("CC-1"), "custom-fields"),
    ] {
        let response = server
            .api(
                Method::PUT,
                &format!("/api/invoices/{first}"),
                Some(&token),
                Some(json!({"custom-fields": fields})),
            )
            .await;
        assert_eq!(response.status(), 422);
        let body: Value = response.json().await.unwrap();
        assert!(body["errors"].get(named).is_some(), "{named}: {body}");
    }

    let response = server
        .api(
            Method::PUT,
            &format!("/api/invoices/{first}"),
            Some(&token),
            Some(json!({"custom-fields": {"limit": null}})),
        )
        .await;
    let cleared: Value = response.json().await.unwrap();
    assert_eq!(cleared["custom-fields"]["limit"], Value::Null);
    assert_eq!(
        cleared["custom-fields"]["cost-center"], "CC-100",
        "the others stay"
    );

    let created = create(
        &server,
        &token,
        "/api/invoices",
        json!({
            "invoice-number": "INV-CF",
            "invoice-date": "2026-02-01",
            "supplier": {"id": seed.suppliers[0]},
            "custom-fields": {"cost-center": "CC-300"},
        }),
    )
    .await;
    assert_eq!(created["custom-fields"]["cost-center"], "CC-300");

    server
        .admin
        .delete_custom_field("invoices", "cost-center")
        .await
        .unwrap();
    let (_, invoice) = get_json(&server, &token, &format!("/api/invoices/{first}")).await;
    assert!(
        invoice["custom-fields"].get("cost-center").is_none(),
        "{invoice}"
    );
    let (status, _) = get_json(
        &server,
        &token,
        "/api/invoices?custom-fields[cost-center]=CC-100",
    )
    .await;
    assert_eq!(status, 400, "the definition is gone");
    assert!(
        server
            .admin
            .delete_custom_field("invoices", "cost-center")
            .await
            .is_err()
    );
}

/// Writes with each kind of element, over HTTP in JSON and XML: valid values stored,
/// enumeration, range and length violations refused naming the rule, read-only elements
/// ignored, unknown ones refused.
#[tokio::test]
async fn writes_check_every_kind_of_element() {
    let (server, token) = api_server(Backend::Sqlite).await.unwrap();
    let post = |path: &'static str, body: Value| {
        let server = &server;
        let token = &token;
        async move {
            let response = server
                .api(Method::POST, path, Some(token), Some(body))
                .await;
            (
                response.status().as_u16(),
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, terms) = post(
        "/api/payment_terms",
        json!({"code": "N30", "net-due-day": 30, "discount-rate": "2.5", "active": true, "description": "Net 30"}),
    )
    .await;
    assert_eq!(status, 201, "{terms}");
    assert_eq!(terms["net-due-day"], 30);
    assert_eq!(terms["discount-rate"], "2.50");
    assert_eq!(terms["active"], true);
    for (body, field, says) in [
        (
            json!({"code": "N30", "net-due-day": 32}),
            "net-due-day",
            "between 1 and 31",
        ),
        (
            json!({"code": "N30", "net-due-day": "soon"}),
            "net-due-day",
            "",
        ),
        (
            json!({"code": "N30", "description": "x".repeat(256)}),
            "description",
            "maximum is 255",
        ),
        (
            json!({"code": "N30", "colour": "red"}),
            "colour",
            "not an attribute",
        ),
        (
            json!({"code": "N30", "content-groups": "all"}),
            "content-groups",
            "array of objects",
        ),
        (json!({"description": "no code"}), "code", "can't be blank"),
    ] {
        let (status, errors) = post("/api/payment_terms", body.clone()).await;
        assert_eq!(status, 422, "{body}");
        let message = errors["errors"][field][0].as_str().unwrap_or_default();
        assert!(message.contains(says), "{field}: {errors}");
    }
    let (status, errors) = post(
        "/api/contracts",
        json!({"name": "MSA", "number": "C-1", "supplier": null, "whose-paper": "their_paper"}),
    )
    .await;
    assert_eq!(status, 422);
    let message = errors["errors"]["whose-paper"][0].as_str().unwrap();
    assert!(
        message.contains("our_paper") && message.contains("counterparty_paper"),
        "the allowed values are named: {message}"
    );
    let (status, terms) = post(
        "/api/payment_terms",
        json!({"code": "N45", "type": "ignored", "id": 999, "created-at": "2001-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(status, 201, "read-only elements are ignored: {terms}");
    assert_eq!(terms["type"], Value::Null);
    assert_ne!(terms["id"], 999);
    let xml = server
        .http
        .post(server.url("/api/payment_terms"))
        .bearer_auth(&token)
        .header("Content-Type", "application/xml")
        .header("Accept", "application/xml")
        .body("<payment-term><code>N60</code><net-due-day type=\"integer\">0</net-due-day></payment-term>")
        .send()
        .await
        .unwrap();
    assert_eq!(xml.status(), 422);
    assert!(xml.text().await.unwrap().contains("between 1 and 31"));
}

//! Attachments and invoice image scans: uploaded as Coupa's examples do (curl -F), kept in
//! the database or a directory, read back byte for byte.

use reqwest::Method;
use serde_json::{Value, json};

use crate::support::on_both_backends;
use crate::support::{Backend, TestServer, all_scopes, api_server, spawn_server_with, unique_name};

/// A supplier and an invoice; returns the invoice's id.
async fn invoice(server: &TestServer, token: &str, number: &str) -> i64 {
    let supplier: Value = server
        .api(
            Method::POST,
            "/api/suppliers",
            Some(token),
            Some(json!({"name": format!("Supplier {number}")})),
        )
        .await
        .json()
        .await
        .unwrap();
    let invoice: Value = server
        .api(
            Method::POST,
            "/api/invoices",
            Some(token),
            Some(json!({"invoice-number": number, "invoice-date": "2026-03-01", "supplier": {"id": supplier["id"]}})),
        )
        .await
        .json()
        .await
        .unwrap();
    invoice["id"].as_i64().unwrap()
}

/// Bytes no text encoding would survive unchanged.
fn binary(size: usize) -> Vec<u8> {
    (0..size).map(|index| (index * 7919 % 256) as u8).collect()
}

/// `curl` as Coupa's documentation shows it: a multipart POST or PUT of a file and fields.
async fn curl_upload(
    server: &TestServer,
    token: &str,
    method: &str,
    path: &str,
    form: &[String],
) -> (u16, String) {
    let mut command = tokio::process::Command::new("curl");
    command
        .args(["-sS", "-X", method, "-o", "-", "-w", "\n%{http_code}"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["-H", "Accept: application/json"]);
    for field in form {
        command.args(["-F", field]);
    }
    let output = command
        .arg(server.url(path))
        .output()
        .await
        .expect("curl runs");
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let (body, status) = text.rsplit_once('\n').unwrap();
    (status.parse().unwrap(), body.to_string())
}

async fn bytes_of(server: &TestServer, token: &str, url: &str) -> (u16, Option<String>, Vec<u8>) {
    let response = server
        .http
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|value| value.to_str().unwrap().to_string());
    (
        status,
        content_type,
        response.bytes().await.unwrap().to_vec(),
    )
}

async fn attachments_of_every_kind_round_trip(backend: Backend) {
    let Some((server, token)) = api_server(backend).await else {
        return;
    };
    let id = invoice(&server, &token, "INV-ATT").await;
    let other = invoice(&server, &token, "INV-OTHER").await;
    let base = format!("/api/invoices/{id}/attachments");
    let url = server
        .api(Method::POST, &base, Some(&token), Some(json!({"type": "url", "url": "https://docs.example/terms.pdf", "intent": "Supplier"})))
        .await;
    assert_eq!(url.status(), 201);
    let url: Value = url.json().await.unwrap();
    assert_eq!(url["type"], "url");
    assert_eq!(url["url"], "https://docs.example/terms.pdf");
    let text = server
        .http
        .post(server.url(&base))
        .bearer_auth(&token)
        .header("Content-Type", "application/xml")
        .header("Accept", "application/xml")
        .body("<attachment><type>text</type><text>Signed for at the dock</text></attachment>")
        .send()
        .await
        .unwrap();
    assert_eq!(text.status(), 201);
    assert!(
        text.text()
            .await
            .unwrap()
            .contains("<text>Signed for at the dock</text>")
    );

    let dir = std::env::temp_dir().join(unique_name("attach-"));
    std::fs::create_dir_all(&dir).unwrap();
    let upload = dir.join("scan.pdf");
    let content = binary(300_000);
    std::fs::write(&upload, &content).unwrap();
    let (status, body) = curl_upload(
        &server,
        &token,
        "POST",
        &base,
        &[
            format!(
                "attachment[file]=@{};type=application/pdf",
                upload.display()
            ),
            "attachment[type]=file".into(),
        ],
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let file: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(file["type"], "file");
    let file_url = file["file-url"].as_str().unwrap().to_string();
    assert!(
        file_url.ends_with(&format!("/api/attachments/{}/file", file["id"])),
        "{file_url}"
    );
    let (status, content_type, downloaded) = bytes_of(&server, &token, &file_url).await;
    assert_eq!(status, 200);
    assert_eq!(content_type.as_deref(), Some("application/pdf"));
    assert!(downloaded == content, "byte for byte");

    let (_, list) = crate::support::get_json_with(&server, &token, &base).await;
    let kinds: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["url", "text", "file"]);
    let (_, invoice) =
        crate::support::get_json_with(&server, &token, &format!("/api/invoices/{id}")).await;
    assert_eq!(
        invoice["attachments"].as_array().unwrap().len(),
        3,
        "the invoice lists them"
    );
    let (status, _) =
        crate::support::get_json_with(&server, &token, &format!("{base}/{}", file["id"])).await;
    assert_eq!(status, 200);
    let (status, _) = crate::support::get_json_with(
        &server,
        &token,
        &format!("/api/invoices/{other}/attachments/{}", file["id"]),
    )
    .await;
    assert_eq!(status, 404, "another invoice's attachment");

    for (body, field) in [
        (json!({"type": "video", "url": "https://x.example"}), "type"),
        (json!({"type": "url"}), "url"),
        (json!({"type": "text", "text": " "}), "text"),
        (json!({"type": "file"}), "file"),
    ] {
        let response = server
            .api(Method::POST, &base, Some(&token), Some(body.clone()))
            .await;
        assert_eq!(response.status(), 422, "{body}");
        let errors: Value = response.json().await.unwrap();
        assert!(errors["errors"].get(field).is_some(), "{field}: {errors}");
    }
    let (status, _) =
        crate::support::get_json_with(&server, &token, "/api/invoices/999999/attachments").await;
    assert_eq!(status, 404);
}

async fn image_scans_and_legal_pdfs_come_back_byte_for_byte(backend: Backend) {
    let Some((server, token)) = api_server(backend).await else {
        return;
    };
    let id = invoice(&server, &token, "INV-SCAN").await;
    let retrieve = server.url(&format!("/api/invoices/{id}/retrieve_image_scan"));
    let (status, _, body) = bytes_of(&server, &token, &retrieve).await;
    assert_eq!(
        status,
        404,
        "no scan yet: {}",
        String::from_utf8_lossy(&body)
    );
    let scan = binary(70_000);
    let response = server
        .http
        .put(server.url(&format!("/api/invoices/{id}/image_scan")))
        .bearer_auth(&token)
        .header("Content-Type", "image/png")
        .header("Accept", "application/json")
        .body(scan.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let invoice: Value = response.json().await.unwrap();
    assert_eq!(invoice["image-scan-content-type"], "image/png");
    assert_eq!(invoice["image-scan-file-size"], "70000");
    assert_eq!(invoice["image-scan-url"].as_str(), Some(retrieve.as_str()));
    let (status, content_type, downloaded) = bytes_of(&server, &token, &retrieve).await;
    assert_eq!((status, content_type.as_deref()), (200, Some("image/png")));
    assert!(downloaded == scan, "byte for byte");

    let dir = std::env::temp_dir().join(unique_name("scan-"));
    std::fs::create_dir_all(&dir).unwrap();
    let replacement = binary(5_000);
    std::fs::write(dir.join("scan.pdf"), &replacement).unwrap();
    let (status, body) = curl_upload(
        &server,
        &token,
        "PUT",
        &format!("/api/invoices/{id}/image_scan"),
        &[format!(
            "invoice[image_scan]=@{};type=application/pdf",
            dir.join("scan.pdf").display()
        )],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let invoice: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(invoice["image-scan-file-name"], "scan.pdf");
    let (_, content_type, downloaded) = bytes_of(&server, &token, &retrieve).await;
    assert_eq!(content_type.as_deref(), Some("application/pdf"));
    assert!(
        downloaded == replacement,
        "the second scan replaced the first"
    );
    let (status, _, _) = bytes_of(
        &server,
        &token,
        &server.url(&format!("/api/invoices/{id}/retrieve_legal_invoice_pdf")),
    )
    .await;
    assert_eq!(status, 404, "Coupa makes legal PDFs; none here");
}

on_both_backends!(
    attachments_of_every_kind_round_trip,
    image_scans_and_legal_pdfs_come_back_byte_for_byte
);

#[tokio::test]
async fn the_demo_invoices_carry_image_scans_and_legal_pdfs() {
    let settings = coupa_server::ConfigLayer {
        demo: Some(true),
        ..Default::default()
    };
    let server = spawn_server_with(Backend::Sqlite, settings).await.unwrap();
    let (_, client) = server.create_client("scans", "core.invoice.read").await;
    let token = server.access_token(&client, None).await;
    let (_, scanned) =
        crate::support::get_json_with(&server, &token, "/api/invoices?image-scan-url[blank]=false")
            .await;
    let scanned = scanned.as_array().unwrap();
    assert_eq!(scanned.len(), 10, "every fourth of the 40");
    let url = scanned[0]["image-scan-url"].as_str().unwrap();
    let (status, content_type, bytes) = bytes_of(&server, &token, url).await;
    assert_eq!(
        (status, content_type.as_deref()),
        (200, Some("application/pdf"))
    );
    assert!(bytes.starts_with(b"%PDF-1.4") && bytes.ends_with(b"%%EOF\n"));
    let (_, approved) =
        crate::support::get_json_with(&server, &token, "/api/invoices?status=approved").await;
    let id = approved[0]["id"].as_i64().unwrap();
    let (status, _, bytes) = bytes_of(
        &server,
        &token,
        &server.url(&format!("/api/invoices/{id}/retrieve_legal_invoice_pdf")),
    )
    .await;
    assert_eq!(status, 200);
    assert!(bytes.starts_with(b"%PDF"));
}

#[tokio::test]
async fn files_go_to_the_configured_directory_privately_and_are_capped() {
    let dir = std::env::temp_dir().join(unique_name("files-"));
    let settings = coupa_server::ConfigLayer {
        files_dir: Some(dir.to_str().unwrap().into()),
        max_file_bytes: Some(100_000),
        ..Default::default()
    };
    let server = spawn_server_with(Backend::Sqlite, settings).await.unwrap();
    let (_, client) = server.create_client("files", &all_scopes()).await;
    let token = server.access_token(&client, None).await;
    let id = invoice(&server, &token, "INV-DIR").await;
    let scan = binary(60_000);
    let put = |bytes: Vec<u8>| {
        server
            .http
            .put(server.url(&format!("/api/invoices/{id}/image_scan")))
            .bearer_auth(&token)
            .header("Content-Type", "application/pdf")
            .header("Accept", "application/json")
            .body(bytes)
            .send()
    };
    assert_eq!(put(scan.clone()).await.unwrap().status(), 200);
    let stored = dir.join(format!("invoices-{id}-image_scan"));
    assert!(std::fs::read(&stored).unwrap() == scan);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&stored).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let (_, _, downloaded) = bytes_of(
        &server,
        &token,
        &server.url(&format!("/api/invoices/{id}/retrieve_image_scan")),
    )
    .await;
    assert!(downloaded == scan);
    let too_big = put(binary(100_001)).await.unwrap();
    assert_eq!(too_big.status(), 413);
    let upload = dir.join("big.bin");
    std::fs::write(&upload, binary(150_000)).unwrap();
    let (status, body) = curl_upload(
        &server,
        &token,
        "POST",
        &format!("/api/invoices/{id}/attachments"),
        &[
            format!("attachment[file]=@{}", upload.display()),
            "attachment[type]=file".into(),
        ],
    )
    .await;
    assert_eq!(status, 413, "{body}");
}

#[tokio::test]
async fn a_requisitions_attachment_is_deleted_where_coupa_allows_it() {
    let (server, token) = api_server(Backend::Sqlite).await.unwrap();
    let requisition: Value = server
        .api(
            Method::POST,
            "/api/requisitions",
            Some(&token),
            Some(json!({"justification": "Chairs"})),
        )
        .await
        .json()
        .await
        .unwrap();
    let base = format!("/api/requisitions/{}/attachments", requisition["id"]);
    let attachment: Value = server
        .api(
            Method::POST,
            &base,
            Some(&token),
            Some(json!({"type": "text", "text": "Quote attached"})),
        )
        .await
        .json()
        .await
        .unwrap();
    let one = format!("{base}/{}", attachment["id"]);
    let deleted = server.api(Method::DELETE, &one, Some(&token), None).await;
    assert_eq!(deleted.status(), 204);
    let (_, list) = crate::support::get_json_with(&server, &token, &base).await;
    assert_eq!(list, json!([]));
    let again = server.api(Method::DELETE, &one, Some(&token), None).await;
    assert_eq!(again.status(), 404);
    let invoice = invoice(&server, &token, "INV-NODELETE").await;
    let refused = server
        .api(
            Method::DELETE,
            &format!("/api/invoices/{invoice}/attachments/1"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(
        refused.status(),
        405,
        "Coupa documents no DELETE for invoice attachments"
    );
}

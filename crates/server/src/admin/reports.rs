//! The report cards of the integrations, from each client's recent traffic.

use coupa_proto::admin::ReportView;

use super::AdminError;
use crate::cache::ClientCache;
use crate::report::Traffic;

fn report_of(client: &crate::domain::client::ClientRecord, traffic: &Traffic) -> ReportView {
    let seen = traffic.recent(&client.client_id, crate::domain::time::now_unix_ms());
    ReportView {
        client_id: client.client_id.clone(),
        name: client.name.clone(),
        login: client.login.clone(),
        requests: seen.len() as u64,
        findings: crate::domain::report::findings(&seen),
    }
}

/// The report card of the client with identifier or login `wanted`.
pub fn report(
    clients: &ClientCache,
    traffic: &Traffic,
    wanted: &str,
) -> Result<ReportView, AdminError> {
    let entries = clients.entries();
    let client = entries
        .get(wanted)
        .or_else(|| entries.values().find(|client| client.login == wanted))
        .ok_or(AdminError::NotFound)?;
    Ok(report_of(client, traffic))
}

/// Every client's report card: those with the most findings first, then by name.
pub fn reports(clients: &ClientCache, traffic: &Traffic) -> Vec<ReportView> {
    let mut reports: Vec<ReportView> = clients
        .entries()
        .values()
        .map(|client| report_of(client, traffic))
        .collect();
    reports.sort_by(|a, b| {
        b.findings
            .len()
            .cmp(&a.findings.len())
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
    });
    reports
}

/// `report` as Markdown, for a change request.
pub fn markdown(report: &ReportView) -> String {
    crate::domain::report::markdown(
        &format!("{} ({})", report.name, report.login),
        usize::try_from(report.requests).unwrap_or(usize::MAX),
        &report.findings,
    )
}

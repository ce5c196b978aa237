//! The sandbox's reset: the API's records back to the demo data set, every fault off.

use std::time::Instant;

use coupa_proto::admin::SandboxReset;

use super::{AdminContext, AdminError};
use crate::faults::FaultBoard;

/// Callers must have checked that the server is a sandbox (`Config::sandbox`).
pub async fn reset(
    admin: &AdminContext<'_>,
    board: &FaultBoard,
    config: &crate::Config,
    traffic: &crate::report::Traffic,
) -> Result<SandboxReset, AdminError> {
    let started = Instant::now();
    crate::demo::reset(admin.store.as_ref(), config).await?;
    traffic.clear();
    let faults_cleared = board.clear() as u64;
    let milliseconds = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    admin
        .record(
            "sandbox.reset",
            "sandbox".into(),
            serde_json::json!({"faults_cleared": faults_cleared, "milliseconds": milliseconds}),
        )
        .await;
    Ok(SandboxReset {
        milliseconds,
        faults_cleared,
    })
}

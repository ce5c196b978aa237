//! Faults as the admin API, Setup and scenario files switch them on and off; each change is
//! recorded in the audit trail.

use coupa_proto::admin::{CreateFault, FaultView};
use coupa_proto::errors::CoupaErrors;

use super::{AdminContext, AdminError, as_audited};
use crate::domain::faults::FaultSpec;
use crate::domain::secret::generate_identifier;
use crate::domain::time::now_unix;
use crate::faults::FaultBoard;

pub fn list(board: &FaultBoard) -> Vec<FaultView> {
    board.list(now_unix())
}

/// `input` checked at `now`, its client found by identifier or login.
pub fn check(
    admin: &AdminContext<'_>,
    input: &CreateFault,
    now: i64,
) -> Result<FaultSpec, CoupaErrors> {
    let clients = admin.clients.entries();
    let client_of = |wanted: &str| {
        clients
            .get(wanted)
            .or_else(|| clients.values().find(|client| client.login == wanted))
            .map(|client| client.client_id.clone())
    };
    FaultSpec::from_request(input, client_of, now)
}

pub async fn add(
    admin: &AdminContext<'_>,
    board: &FaultBoard,
    input: &CreateFault,
) -> Result<FaultView, AdminError> {
    let now = now_unix();
    let spec = check(admin, input, now).map_err(AdminError::Invalid)?;
    let view = board
        .add(generate_identifier()?, spec, admin.actor.name.clone(), now)
        .map_err(|full| AdminError::Invalid(CoupaErrors::single("base", full.to_string())))?;
    admin
        .record(
            "fault.added",
            format!("fault:{}", view.id),
            as_audited(&view),
        )
        .await;
    Ok(view)
}

pub async fn remove(
    admin: &AdminContext<'_>,
    board: &FaultBoard,
    id: &str,
) -> Result<FaultView, AdminError> {
    let view = board.remove(id, now_unix()).ok_or(AdminError::NotFound)?;
    admin
        .record("fault.removed", format!("fault:{id}"), as_audited(&view))
        .await;
    Ok(view)
}

/// A scenario file: the faults a test run switches on at start, in order.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    #[serde(default)]
    faults: Vec<CreateFault>,
}

/// Switches on every fault of a scenario file's `text`, each timed from now; the first that
/// is not valid stops the start with what is wrong and where.
pub async fn load_scenario(
    admin: &AdminContext<'_>,
    board: &FaultBoard,
    text: &str,
) -> Result<Vec<FaultView>, String> {
    let scenario: Scenario = toml::from_str(text).map_err(|error| error.to_string())?;
    let mut added = Vec::new();
    for (index, fault) in scenario.faults.iter().enumerate() {
        let view = add(admin, board, fault).await.map_err(|error| {
            let why = match error {
                AdminError::Invalid(errors) => errors.full_messages().join("; "),
                other => other.to_string(),
            };
            format!("fault {} ({}): {why}", index + 1, fault.kind)
        })?;
        added.push(view);
    }
    Ok(added)
}

/// Removes every fault; how many there were.
pub async fn clear(admin: &AdminContext<'_>, board: &FaultBoard) -> usize {
    let count = board.clear();
    if count > 0 {
        admin
            .record(
                "fault.cleared",
                "faults".into(),
                serde_json::json!({"removed": count}),
            )
            .await;
    }
    count
}

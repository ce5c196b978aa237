//! Setup > Faults: Coupa's failure modes switched on for a test, listed until they end.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use coupa_proto::admin::{CreateFault, FaultView};
use coupa_proto::errors::CoupaErrors;

use super::{Admin, Chrome, ConfirmPage, FieldErrors, NoticeQuery, Submitted};
use crate::admin::faults;
use crate::domain::setup::display_time;
use crate::domain::time::{now_unix, parse_iso8601};
use crate::http::pages::{PageError, see_other};
use crate::state::AppState;

const WHAT: &str = "fault";
const PATH: &str = "/setup/faults";

/// The fields of the fault form, in the order it shows them.
pub const FAULT_FORM_ORDER: &[&str] = &[
    "kind",
    "client",
    "duration",
    "requests",
    "starts_in",
    "delay",
    "retry_after",
    "lifetime",
    "offset",
    "bytes",
    "probability",
];

/// The form as typed.
#[derive(Default)]
struct FaultForm {
    values: Vec<(&'static str, String)>,
}

impl FaultForm {
    fn from_fields(fields: &crate::domain::form::FormFields) -> Self {
        Self {
            values: FAULT_FORM_ORDER
                .iter()
                .map(|name| {
                    (
                        *name,
                        fields.get(name).unwrap_or_default().trim().to_string(),
                    )
                })
                .collect(),
        }
    }

    fn value(&self, name: &str) -> &str {
        self.values
            .iter()
            .find(|(field, _)| *field == name)
            .map_or("", |(_, value)| value.as_str())
    }

    fn text(&self, name: &str) -> Option<String> {
        Some(self.value(name).to_string()).filter(|value| !value.is_empty())
    }

    /// The admin API's input; numbers that are not numbers are field errors.
    fn input(&self) -> Result<CreateFault, CoupaErrors> {
        let mut errors = CoupaErrors::new();
        let mut number = |name: &str| match self.text(name) {
            None => None,
            Some(text) => match text.parse::<u64>() {
                Ok(number) => Some(number),
                Err(_) => {
                    errors.add(name, "must be a whole number");
                    None
                }
            },
        };
        let input = CreateFault {
            kind: self.value("kind").to_string(),
            client: self.text("client"),
            duration: self.text("duration"),
            requests: number("requests"),
            starts_in: self.text("starts_in"),
            delay: self.text("delay"),
            retry_after: number("retry_after"),
            lifetime: self.text("lifetime"),
            offset: self.text("offset"),
            bytes: number("bytes"),
            probability: match self.text("probability") {
                None => None,
                Some(text) => match text.parse::<f64>() {
                    Ok(probability) => Some(probability),
                    Err(_) => {
                        errors.add("probability", "must be a number such as 0.25");
                        None
                    }
                },
            },
        };
        if errors.is_empty() {
            Ok(input)
        } else {
            Err(errors)
        }
    }
}

struct KindOption {
    name: &'static str,
    effect: String,
}

struct FaultRow {
    view: FaultView,
    client: String,
    starts_at: String,
    ends_at: String,
}

#[derive(Template)]
#[template(path = "setup/faults.html")]
struct FaultsPage {
    chrome: Chrome,
    rows: Vec<FaultRow>,
    kinds: Vec<KindOption>,
    clients: Vec<(String, String)>,
    form: FaultForm,
    errors: FieldErrors,
}

const NOTICES: &[(&str, &str)] = &[
    (
        "added",
        "Fault switched on. Callers meet it from the time shown.",
    ),
    ("removed", "Fault switched off."),
    ("cleared", "Every fault switched off."),
];

/// Every kind with its effect at an example setting, for the form's choice of kinds.
fn kind_options() -> Vec<KindOption> {
    crate::domain::faults::EXAMPLES
        .iter()
        .map(|kind| KindOption {
            name: kind.name(),
            effect: kind.effect(),
        })
        .collect()
}

async fn render(
    state: &AppState,
    admin: &Admin,
    status: StatusCode,
    notice: Option<&str>,
    form: FaultForm,
    errors: FieldErrors,
) -> Result<Response, PageError> {
    let clients_cache = state.clients.entries();
    let name_of = |client_id: &str| {
        clients_cache
            .get(client_id)
            .map_or(client_id.to_string(), |client| {
                format!("{} ({})", client.name, client.login)
            })
    };
    let when = |at: &str| parse_iso8601(at).map_or(at.to_string(), display_time);
    let rows = faults::list(&state.faults)
        .into_iter()
        .map(|view| FaultRow {
            client: view
                .client_id
                .as_deref()
                .map_or("Every caller".to_string(), name_of),
            starts_at: when(&view.starts_at),
            ends_at: when(&view.ends_at),
            view,
        })
        .collect();
    let mut clients: Vec<(String, String)> = clients_cache
        .values()
        .map(|client| {
            (
                client.client_id.clone(),
                format!("{} ({})", client.name, client.login),
            )
        })
        .collect();
    clients.sort_by_key(|(_, label)| label.to_lowercase());
    let mut chrome = admin.chrome("Faults", "faults");
    chrome.notice = NOTICES
        .iter()
        .find(|(name, _)| notice == Some(*name))
        .map(|(_, text)| (*text).to_string());
    let page = FaultsPage {
        chrome,
        rows,
        kinds: kind_options(),
        clients,
        form,
        errors,
    };
    admin.render(status, &page)
}

/// `GET /setup/faults`
pub async fn index(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Query(query): Query<NoticeQuery>,
) -> Result<Response, PageError> {
    render(
        &state,
        &admin,
        StatusCode::OK,
        query.notice.as_deref(),
        FaultForm::default(),
        FieldErrors::default(),
    )
    .await
}

/// `POST /setup/faults`: checks the form, asks first, then (with `confirmed`) switches the
/// fault on.
pub async fn add(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Submitted(fields): Submitted,
) -> Result<Response, PageError> {
    let form = FaultForm::from_fields(&fields);
    let context = state.admin_as(admin.actor());
    let checked = form
        .input()
        .and_then(|input| faults::check(&context, &input, now_unix()).map(|spec| (input, spec)));
    let (input, spec) = match checked {
        Ok(checked) => checked,
        Err(errors) => {
            let errors = FieldErrors::new(errors, FAULT_FORM_ORDER);
            return render(
                &state,
                &admin,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                form,
                errors,
            )
            .await;
        }
    };
    if fields.get("confirmed") == Some("yes") {
        faults::add(&context, &state.faults, &input)
            .await
            .map_err(admin.failure(WHAT))?;
        return see_other(&format!("{PATH}?notice=added"));
    }
    let whom = match spec
        .client_id
        .as_deref()
        .and_then(|id| state.clients.get(id))
    {
        Some(client) => format!("the client {} ({})", client.name, client.login),
        None => "every caller".to_string(),
    };
    let until = match spec.requests {
        Some(requests) => format!(
            "It lasts {requests} request(s), or until {} at the latest.",
            display_time(spec.ends_at)
        ),
        None => format!("It lasts until {}.", display_time(spec.ends_at)),
    };
    let mut hidden: Vec<(&'static str, String)> = form
        .values
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .cloned()
        .collect();
    hidden.push(("confirmed", "yes".to_string()));
    let page = ConfirmPage {
        crumbs: vec![(PATH.to_string(), "Faults".to_string())],
        back: PATH.to_string(),
        consequences: vec![
            format!("{}.", spec.kind.effect()),
            format!("From {} for {whom}. {until}", display_time(spec.starts_at)),
            "Integrations meet it at once; it ends by itself, or switch it off on this page."
                .to_string(),
        ],
        hidden,
        button: "Switch it on",
        ..ConfirmPage::new(
            &admin,
            "faults",
            format!("Switch on {} for {whom}?", spec.kind.name()),
            PATH.to_string(),
        )
    };
    admin.render(StatusCode::OK, &page)
}

/// `POST /setup/faults/{id}/remove`
pub async fn remove(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    Path(id): Path<String>,
    _form: Submitted,
) -> Result<Response, PageError> {
    faults::remove(&state.admin_as(admin.actor()), &state.faults, &id)
        .await
        .map_err(admin.failure(WHAT))?;
    see_other(&format!("{PATH}?notice=removed"))
}

/// `POST /setup/faults/clear`
pub async fn clear(
    State(state): State<Arc<AppState>>,
    admin: Admin,
    _form: Submitted,
) -> Result<Response, PageError> {
    faults::clear(&state.admin_as(admin.actor()), &state.faults).await;
    see_other(&format!("{PATH}?notice=cleared"))
}

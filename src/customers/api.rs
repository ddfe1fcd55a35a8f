//! `/api/v1/customers` (CONTRACT §3). Staff read every customer; a signed-in customer reads
//! only their own (any other code is a 404, as if it did not exist); admins and `api` tokens
//! create and change them.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{Changes, Customer, CustomerCode, CustomerError, Host, NewCustomer, Service};
use crate::auth::Role;
use crate::error::{AppError, ErrorInfo, Result};
use crate::state::AppState;
use crate::web::extract::ApiCaller;

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(show, update))
}

impl From<CustomerError> for AppError {
    fn from(e: CustomerError) -> AppError {
        match e {
            CustomerError::NotFound(_) => AppError::NotFound,
            CustomerError::Exists(_)
            | CustomerError::DomainTaken(_)
            | CustomerError::HostTaken(_)
            | CustomerError::AddressTaken(_) => AppError::Conflict(e.to_string()),
            CustomerError::EmptyName => AppError::Invalid {
                field: "name".into(),
                message: e.to_string(),
            },
            CustomerError::BadDomain(_) => AppError::Invalid {
                field: "domains".into(),
                message: e.to_string(),
            },
            CustomerError::NoSuchPolicy(_) => AppError::Invalid {
                field: "sla".into(),
                message: e.to_string(),
            },
            CustomerError::NoSuchContact(_) => AppError::Invalid {
                field: "contacts".into(),
                message: e.to_string(),
            },
            CustomerError::Invalid(m) => AppError::BadRequest(m),
            CustomerError::Store(s) => s.into(),
        }
    }
}

/// Admins and `api` tokens change customers; agents and customers may not.
fn admin_only(caller: &ApiCaller) -> Result<()> {
    match caller {
        ApiCaller::User(u) if u.role != Role::Admin => Err(AppError::Forbidden(
            "only administrators change customer accounts".into(),
        )),
        _ => Ok(()),
    }
}

/// Every customer, by name. Customers see their own account only.
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers",
    responses((status = 200, body = Vec<Customer>), (status = 401, body = ErrorInfo)),
    security(("bearer" = [])))]
async fn list(State(st): State<AppState>, caller: ApiCaller) -> Result<Json<Vec<Customer>>> {
    let mut tx = st.db.begin().await?;
    let codes: Vec<String> = match &caller {
        ApiCaller::User(u) if !u.role.is_staff() => u.customer_code.iter().cloned().collect(),
        _ => super::list(&mut tx)
            .await?
            .into_iter()
            .map(|s| s.code)
            .collect(),
    };
    let mut out = Vec::with_capacity(codes.len());
    for code in codes {
        if let Some(c) = super::get(&mut tx, &code).await? {
            out.push(c);
        }
    }
    tx.commit().await?;
    Ok(Json(out))
}

/// A new customer account. (Not `CreateBody`: the tickets API has one, and the document held
/// only one of the two, so it described this request with a ticket's fields.)
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct NewCustomerBody {
    /// 1–32 letters, digits, - or _.
    #[schema(pattern = "^[A-Za-z0-9_-]{1,32}$")]
    code: String,
    name: String,
    sla: Option<String>,
    #[serde(default)]
    domains: Vec<String>,
    #[serde(default)]
    services: Vec<Service>,
    #[serde(default)]
    hosts: Vec<Host>,
    /// Usernames or addresses of existing customer users to attach.
    #[serde(default)]
    contacts: Vec<String>,
}

/// Creates a customer account.
#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", request_body = NewCustomerBody,
    responses((status = 201, body = Customer), (status = 400, body = ErrorInfo),
        (status = 403, body = ErrorInfo), (status = 409, body = ErrorInfo)),
    security(("bearer" = [])))]
async fn create(
    State(st): State<AppState>,
    caller: ApiCaller,
    Json(b): Json<NewCustomerBody>,
) -> Result<(StatusCode, Json<Customer>)> {
    admin_only(&caller)?;
    let code = CustomerCode::parse(b.code.trim()).map_err(|message| AppError::Invalid {
        field: "code".into(),
        message,
    })?;
    super::check_policy(&st.config.policies, b.sla.as_deref())?;
    let new = NewCustomer {
        code,
        name: b.name,
        sla: b.sla,
        domains: b.domains,
        services: b.services,
        hosts: b.hosts,
    };
    let now = st.clock.now();
    let mut tx = st.db.begin().await?;
    super::create(&mut tx, &new, now).await?;
    if !b.contacts.is_empty() {
        let changes = Changes {
            contacts: Some(b.contacts),
            ..Changes::default()
        };
        super::update(&mut tx, new.code.as_str(), &changes, now).await?;
    }
    let made = super::get(&mut tx, new.code.as_str())
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(made)))
}

/// Whether `caller` may see customer `code`: staff and tokens all, a customer their own.
fn may_see(caller: &ApiCaller, code: &str) -> bool {
    match caller {
        ApiCaller::User(u) if !u.role.is_staff() => u.customer_code.as_deref() == Some(code),
        _ => true,
    }
}

/// One customer with its domains, contacts, services and hosts.
#[utoipa::path(get, path = "/api/v1/customers/{code}", tag = "customers",
    params(("code" = String, Path, description = "The customer's code")),
    responses((status = 200, body = Customer), (status = 404, body = ErrorInfo)),
    security(("bearer" = [])))]
async fn show(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(code): Path<String>,
) -> Result<Json<Customer>> {
    if !may_see(&caller, &code) {
        return Err(AppError::NotFound);
    }
    let mut tx = st.db.begin().await?;
    let c = super::get(&mut tx, &code)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(Json(c))
}

/// A change: each field present replaces what was there; lists are replaced whole.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    name: Option<String>,
    /// A policy name, or null to fall back to each queue's default.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    sla: Option<Option<String>>,
    domains: Option<Vec<String>>,
    services: Option<Vec<Service>>,
    hosts: Option<Vec<Host>>,
    /// Usernames or addresses of customer users; the others are detached.
    contacts: Option<Vec<String>>,
}

/// Changes a customer account.
#[utoipa::path(patch, path = "/api/v1/customers/{code}", tag = "customers",
    params(("code" = String, Path, description = "The customer's code")), request_body = PatchBody,
    responses((status = 200, body = Customer), (status = 400, body = ErrorInfo),
        (status = 403, body = ErrorInfo), (status = 404, body = ErrorInfo),
        (status = 409, body = ErrorInfo)),
    security(("bearer" = [])))]
async fn update(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(code): Path<String>,
    Json(b): Json<PatchBody>,
) -> Result<Json<Customer>> {
    if !may_see(&caller, &code) {
        return Err(AppError::NotFound);
    }
    admin_only(&caller)?;
    if let Some(sla) = &b.sla {
        super::check_policy(&st.config.policies, sla.as_deref())?;
    }
    let changes = Changes {
        name: b.name,
        sla: b.sla,
        domains: b.domains,
        services: b.services,
        hosts: b.hosts,
        contacts: b.contacts,
    };
    let mut tx = st.db.begin().await?;
    super::update(&mut tx, &code, &changes, st.clock.now()).await?;
    let c = super::get(&mut tx, &code)
        .await?
        .ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(Json(c))
}

/// A field that is present, even as null, is `Some`: null removes, absence keeps.
fn present<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Option<String>>, D::Error> {
    Ok(Some(Option::deserialize(d)?))
}

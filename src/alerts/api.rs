//! `POST /api/v1/alerts/{source}` (a monitoring source's native payload) and
//! `GET /api/v1/alerts` (the alerts as they stand), CONTRACT §3 and §7.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{AlertView, Delivery, Filter, Receipt, State as AlertState};
use crate::auth::tokens::Scope;
use crate::error::{AppError, ErrorInfo, Result};
use crate::state::AppState;
use crate::web::extract::ApiCaller;
use crate::web::visitor::Visitor;

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(receive))
        .routes(routes!(list))
}

/// Takes one delivery in the source's native format: an Alertmanager webhook (v4), a Nagios
/// notification (form fields or JSON named after its macros) or a PagerDuty Events API v2
/// event. Authorised by the source's token as a bearer, an API token of scope `alerts`, or
/// (Events API) the `routing_key`. 202 once applied; 400 says what is wrong and where, and
/// nothing of such a delivery is applied.
#[utoipa::path(post, path = "/api/v1/alerts/{source}", tag = "alerts",
    params(("source" = String, Path, description = "the `[[alert_source]]` name")),
    request_body(description = "the source's native payload: JSON for Alertmanager, the Events \
        API and Nagios JSON; form fields for Nagios",
        content(
            (Object = "application/json", example = json!({
                "version": "4", "groupKey": "{}:{alertname=\"HostDown\"}", "status": "firing",
                "receiver": "opsdesk", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
                "externalURL": "http://alertmanager.example:9093",
                "alerts": [{"status": "firing", "fingerprint": "4f1b9c0e2d7a6b35",
                    "labels": {"alertname": "HostDown", "instance": "web1.example.net:9100", "severity": "critical"},
                    "annotations": {"summary": "web1 does not answer"},
                    "startsAt": "2026-11-24T09:59:00Z", "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus.example:9090/graph"}]})),
            (String = "application/x-www-form-urlencoded",
                example = "NOTIFICATIONTYPE=PROBLEM&HOSTNAME=web1&SERVICEDESC=HTTP&SERVICESTATE=CRITICAL&SERVICEOUTPUT=timeout"))),
    responses(
        (status = 202, body = Receipt),
        (status = 400, description = "malformed payload: the reason, with where", body = ErrorInfo),
        (status = 401, description = "no or wrong token", body = ErrorInfo),
        (status = 404, description = "no such source", body = ErrorInfo)),
    security(("bearer" = [])))]
async fn receive(
    State(st): State<AppState>,
    v: Visitor,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<Receipt>)> {
    let authorized = v.alert_source.as_deref() == Some(source.as_str())
        || v.token.as_ref().is_some_and(|t| t.scope == Scope::Alerts);
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|h| h.to_str().ok());
    let d = Delivery {
        source: &source,
        content_type,
        body: &body,
        authorized,
    };
    let receipt = st.alerts.receive(d, st.clock.now()).await?;
    Ok((StatusCode::ACCEPTED, Json(receipt)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ListParams {
    /// `firing`, `acknowledged`, `resolved` or `all`, comma-separated; by default the current
    /// ones (firing and acknowledged).
    state: Option<String>,
    source: Option<String>,
    /// A customer code.
    customer: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// Parses `state=firing,acknowledged` (or `all`).
pub fn states(text: Option<&str>) -> std::result::Result<Vec<AlertState>, AppError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(vec![AlertState::Firing, AlertState::Acknowledged]);
    };
    if text == "all" {
        return Ok(Vec::new());
    }
    text.split(',')
        .map(|s| {
            AlertState::parse(s.trim()).ok_or_else(|| {
                AppError::invalid(
                    "state",
                    format!("\"{s}\" is not firing, acknowledged, resolved or all"),
                )
            })
        })
        .collect()
}

/// The alerts, most recently seen first; the total that match in `X-Total-Count`.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", params(ListParams),
    responses(
        (status = 200, body = Vec<AlertView>),
        (status = 403, description = "customers do not see monitoring", body = ErrorInfo),
        (status = 422, description = "a `state` that is not firing, acknowledged, resolved or all", body = ErrorInfo)),
    security(("bearer" = [])))]
async fn list(
    State(st): State<AppState>,
    caller: ApiCaller,
    Query(p): Query<ListParams>,
) -> Result<Response> {
    caller.staff_only("alerts are for staff")?;
    let per_page = p.per_page.unwrap_or(100).clamp(1, 1000);
    let page = p.page.unwrap_or(1).max(1);
    let f = Filter {
        source: p.source.filter(|s| !s.is_empty()),
        customer: p.customer.filter(|s| !s.is_empty()),
        states: states(p.state.as_deref())?,
        ticket: None,
        limit: per_page,
        offset: (page - 1).saturating_mul(per_page),
    };
    let mut tx = st.db.begin_read().await?;
    let (total, items) = super::list(&mut tx, &f).await?;
    tx.commit().await?;
    let mut r = Json(items).into_response();
    if let Ok(v) = HeaderValue::from_str(&total.to_string()) {
        r.headers_mut().insert("x-total-count", v);
    }
    Ok(r)
}

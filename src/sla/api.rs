//! SLA over the JSON API: a ticket's clocks explained, the report (JSON or CSV), and a pass of
//! the escalation worker on demand.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::explain::Explain;
use super::report::{self, ReportLine};
use super::worker::{self, PassReport};
use crate::error::{AppError, ErrorInfo, Result};
use crate::state::AppState;
use crate::web::extract::ApiCaller;

const STAFF_ONLY: &str = "SLA clocks and reports are for staff";

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(explain))
        .routes(routes!(report_route))
        .routes(routes!(escalate))
}

/// Why the ticket is due when it is: policy, calendar, the stretches each clock ran and what
/// they counted, the events that moved them, the escalation steps. `null` without a policy.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/sla", tag = "sla", params(("id" = i64, Path)),
    responses((status = 200, body = Option<Explain>), (status = 404, body = ErrorInfo)),
    security(("bearer" = [])))]
async fn explain(
    State(st): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<i64>,
) -> Result<Json<Option<Explain>>> {
    caller.staff_only(STAFF_ONLY)?;
    let mut tx = st.db.begin_read().await?;
    let e = crate::tickets::sla::explain(&mut tx, &st.config, id, st.clock.now()).await?;
    tx.commit().await?;
    Ok(Json(e))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ReportParams {
    /// First instant of the period (RFC 3339 or YYYY-MM-DD, UTC), inclusive.
    #[param(example = "2026-11-01")]
    from: String,
    /// End of the period (RFC 3339 or YYYY-MM-DD, UTC), exclusive.
    #[param(example = "2026-12-01T00:00:00Z")]
    to: String,
    /// `json` (the default) or `csv`.
    format: Option<String>,
}

/// An instant from a query parameter: RFC 3339, or a date meaning its UTC midnight.
pub(crate) fn instant(field: &str, text: &str) -> Result<Timestamp> {
    let t = text.trim();
    t.parse::<Timestamp>()
        .or_else(|_| {
            t.parse::<jiff::civil::Date>()
                .map_err(|_| ())
                .and_then(|d| d.to_zoned(jiff::tz::TimeZone::UTC).map(|z| z.timestamp()).map_err(|_| ()))
        })
        .map_err(|_| {
            AppError::invalid(
                field,
                format!("\"{text}\" is not an instant (RFC 3339, e.g. 2026-11-01T00:00:00Z) or a date (2026-11-01)"),
            )
        })
}

/// Per customer and policy, for tickets created in `[from, to)`: tickets, responses and
/// resolutions kept, missed and still open, breaches, median and p90 times (calendar minutes).
#[utoipa::path(get, path = "/api/v1/sla/report", tag = "sla", params(ReportParams),
    responses((status = 200, description = "JSON, or text/csv with format=csv",
            content((Vec<ReportLine> = "application/json"), (String = "text/csv"))),
        (status = 422, body = ErrorInfo)), security(("bearer" = [])))]
async fn report_route(
    State(st): State<AppState>,
    caller: ApiCaller,
    Query(p): Query<ReportParams>,
) -> Result<Response> {
    caller.staff_only(STAFF_ONLY)?;
    let (from, to) = (instant("from", &p.from)?, instant("to", &p.to)?);
    if to <= from {
        return Err(AppError::invalid("to", "must be after from"));
    }
    let csv = match p.format.as_deref().unwrap_or("json") {
        "json" => false,
        "csv" => true,
        other => {
            return Err(AppError::invalid(
                "format",
                format!("\"{other}\" is not json or csv"),
            ));
        }
    };
    let lines = lines(&st, from, to).await?;
    Ok(if csv {
        let name = format!(
            "attachment; filename=\"sla-report-{}-{}.csv\"",
            from.strftime("%Y%m%d"),
            to.strftime("%Y%m%d")
        );
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, name),
            ],
            report::csv(&lines),
        )
            .into_response()
    } else {
        Json(lines).into_response()
    })
}

/// The report's lines for `[from, to)`; shared with the `/sla` page.
pub(crate) async fn lines(
    st: &AppState,
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<ReportLine>> {
    let mut tx = st.db.begin_read().await?;
    let rows = crate::tickets::sla::report_rows(&mut tx, from, to).await?;
    tx.commit().await?;
    report::build(&rows, &st.config.policies, st.clock.now()).map_err(AppError::internal)
}

/// Runs an escalation pass now (the worker runs one every few seconds on every node anyway):
/// each step due fires once, however many passes and nodes run.
#[utoipa::path(post, path = "/api/v1/sla/escalate", tag = "sla",
    responses((status = 200, body = PassReport)), security(("bearer" = [])))]
async fn escalate(State(st): State<AppState>, caller: ApiCaller) -> Result<Json<PassReport>> {
    caller.staff_only(STAFF_ONLY)?;
    let r = worker::pass(&st.db, &st.config, st.clock.now())
        .await
        .map_err(AppError::internal)?;
    Ok(Json(r))
}

//! Opening a ticket.

use super::store::history::NewTxn;
use super::store::{history, rows, watchers};
use super::{
    Ctx, Priority, Source, Status, TicketError, WatcherRole, clean_email, clean_subject,
    queue_exists, queue_sla,
};
use crate::db::Tx;

#[derive(Debug, Clone)]
pub struct NewTicket {
    pub queue: String,
    pub subject: String,
    pub body: String,
    /// "text" or "markdown".
    pub body_format: &'static str,
    pub requestors: Vec<String>,
    pub priority: Option<i64>,
    pub customer: Option<String>,
    pub source: Source,
    pub host: Option<String>,
    pub runbook: Option<String>,
}

/// Opens a ticket in state `new` with its first message; answers its id and the id of the
/// create transaction (attachments of the first message hang on it). A ticket without a named
/// customer gets the customer whose mail domain matches its first requestor.
#[tracing::instrument(skip_all, fields(queue = %new.queue))]
pub async fn create(tx: &mut Tx, ctx: Ctx<'_>, new: NewTicket) -> Result<(i64, i64), TicketError> {
    if !queue_exists(ctx.config, &new.queue) {
        return Err(TicketError::NoSuchQueue(new.queue));
    }
    let subject = clean_subject(&new.subject)?;
    let priority = match new.priority {
        Some(p) => Priority::new(p).map_err(|m| TicketError::Invalid {
            field: "priority",
            message: m,
        })?,
        None => Priority::DEFAULT,
    };
    let requestors = new
        .requestors
        .iter()
        .map(|r| clean_email(r))
        .collect::<Result<Vec<_>, _>>()?;
    let customer = match &new.customer {
        Some(code) => Some(
            crate::customers::by_code(tx, code)
                .await?
                .ok_or_else(|| TicketError::NoSuchCustomer(code.clone()))?,
        ),
        None => match requestors.first() {
            Some(r) => crate::customers::by_email_domain(tx, r)
                .await?
                .map(|c| (c.id, c.sla)),
            None => None,
        },
    };
    let sla = customer
        .as_ref()
        .and_then(|(_, sla)| sla.as_deref())
        .or_else(|| queue_sla(ctx.config, &new.queue));
    let row = rows::NewRow {
        queue: &new.queue,
        subject: &subject,
        status: Status::New.as_str(),
        priority: priority.get(),
        owner_id: None,
        customer_id: customer.as_ref().map(|(id, _)| *id),
        source: new.source.as_str(),
        sla_policy: sla,
        host: new.host.as_deref(),
        runbook: new.runbook.as_deref(),
        created_by: ctx.actor,
    };
    let id = rows::insert(tx, &row, ctx.now).await?;
    let body = new.body.trim_end();
    let txn = NewTxn {
        kind: "create",
        actor: ctx.actor,
        body: (!body.is_empty()).then_some(body),
        body_format: (!body.is_empty()).then_some(new.body_format),
        ..NewTxn::default()
    };
    let txn_id = history::insert(tx, id, &txn, ctx.now).await?;
    for r in &requestors {
        watchers::add(tx, id, WatcherRole::Requestor.as_str(), r).await?;
    }
    tracing::info!(ticket_id = id, "ticket created");
    Ok((id, txn_id))
}

//! Opening a ticket.

use super::store::history::NewTxn;
use super::store::rows::TicketRow;
use super::store::{history, rows, watchers};
use super::view::{Ticket, assemble};
use super::{
    Ctx, Priority, Source, Status, TicketError, WatcherRole, clean_email, clean_subject,
    queue_exists, queue_sla,
};
use crate::customers::CustomerRef;
use crate::db::{Ts, Tx};

#[derive(Debug, Clone)]
pub struct NewTicket {
    pub queue: String,
    pub subject: String,
    pub body: String,
    /// "text" or "markdown".
    pub body_format: &'static str,
    pub requestors: Vec<String>,
    pub priority: Option<i64>,
    pub customer: TicketCustomer,
    pub source: Source,
    pub host: Option<String>,
    pub runbook: Option<String>,
}

/// Whose ticket a new ticket is.
#[derive(Debug, Clone)]
pub enum TicketCustomer {
    /// The customer with this code, as a client named it; an unknown code is refused.
    Code(String),
    /// Looked up by the caller already (mail intake knows its sender's); `None`: nobody's.
    Known(Option<CustomerRef>),
    /// The customer whose mail domain matches the first requestor, if one does.
    ByRequestor,
}

impl TicketCustomer {
    /// A code from a form or a request: empty or absent means "by the requestor's domain".
    pub fn named(code: Option<String>) -> TicketCustomer {
        match code.map(|c| c.trim().to_owned()) {
            Some(c) if !c.is_empty() => TicketCustomer::Code(c),
            _ => TicketCustomer::ByRequestor,
        }
    }
}

/// Opens a ticket in state `new` with its first message; answers the ticket as a load would
/// (built from what was written, not read back: the caller's transaction holds SQLite's one
/// writer) and the id of the create transaction (attachments of the first message hang on it).
#[tracing::instrument(skip_all, fields(queue = %new.queue))]
pub async fn create(
    tx: &mut Tx,
    ctx: Ctx<'_>,
    new: NewTicket,
) -> Result<(Ticket, i64), TicketError> {
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
    let customer = match new.customer {
        TicketCustomer::Code(code) => {
            let (id, sla) = crate::customers::by_code(tx, &code)
                .await?
                .ok_or_else(|| TicketError::NoSuchCustomer(code.clone()))?;
            Some(CustomerRef { id, code, sla })
        }
        TicketCustomer::Known(c) => c,
        TicketCustomer::ByRequestor => match requestors.first() {
            Some(r) => crate::customers::by_email_domain(tx, r).await?,
            None => None,
        },
    };
    let sla = customer
        .as_ref()
        .and_then(|c| c.sla.as_deref())
        .or_else(|| queue_sla(ctx.config, &new.queue));
    let row = rows::NewRow {
        queue: &new.queue,
        subject: &subject,
        status: Status::New.as_str(),
        priority: priority.get(),
        owner_id: None,
        customer_id: customer.as_ref().map(|c| c.id),
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
    // A new ticket's only clock event is its creation: computed here, not read back.
    let (sla, due_at) = match sla.and_then(|n| ctx.config.policies.get(n)) {
        Some(policy) => {
            let created = [crate::sla::Event::Created {
                at: ctx.now,
                priority: u8::try_from(priority.get()).unwrap_or(3),
            }];
            let c =
                super::sla::compute(policy, &created, &[], ctx.now).map_err(TicketError::Clock)?;
            rows::set_sla(tx, id, c.due_at, &c.cols).await?;
            (c.cols, c.due_at.map(Ts))
        }
        None => (rows::SlaCols::default(), None),
    };
    for r in &requestors {
        watchers::add(tx, id, WatcherRole::Requestor.as_str(), r).await?;
    }
    tracing::info!(ticket_id = id, "ticket created");
    // As the database keeps it: microseconds, requestors once each in watcher order.
    let at = Ts(jiff::Timestamp::from_microsecond(ctx.now.as_microsecond()).unwrap_or(ctx.now));
    let mut watching: Vec<(String, String)> = requestors
        .into_iter()
        .map(|r| (WatcherRole::Requestor.as_str().to_owned(), r))
        .collect();
    watching.sort();
    watching.dedup();
    let sla_policy = row.sla_policy.map(str::to_owned);
    let row = TicketRow {
        id,
        queue: new.queue,
        subject,
        status: Status::New.as_str().to_owned(),
        priority: priority.get(),
        owner: None,
        customer: customer.as_ref().map(|c| c.code.clone()),
        source: new.source.as_str().to_owned(),
        sla_policy,
        host: new.host,
        runbook: new.runbook,
        merged_into: None,
        time_worked: 0,
        created_by: ctx.actor.to_owned(),
        created_at: at,
        updated_at: at,
        resolved_at: None,
        due_at,
        sla,
    };
    Ok((assemble(row, watching, Vec::new()), txn_id))
}

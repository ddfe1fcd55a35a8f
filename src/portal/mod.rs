//! The customer portal (`/portal`): a customer sees, opens and answers their own customer's
//! tickets, with status and SLA, and nothing else. Every ticket route answers 404 for a ticket
//! of another customer (never 403: that would say it exists), and the history and attachments
//! shown are the public ones only (correspondence and status, never internal comments).

mod pages;

pub use pages::routes;

use crate::auth::{Role, User};
use crate::error::{AppError, Result};
use crate::state::AppState;
use crate::tickets::{HistoryEntry, Ticket};

/// A signed-in customer with the customer they belong to: what every portal handler needs.
pub struct Customer {
    pub user: User,
    pub code: String,
}

impl Customer {
    /// Staff have the staff UI and a customer with no customer has nothing to see: both are
    /// told so rather than shown an empty portal.
    pub fn of(user: User) -> Result<Customer> {
        if user.role != Role::Customer {
            return Err(AppError::Forbidden(
                "the portal is for customers; staff work tickets under /tickets".into(),
            ));
        }
        match user.customer_code.clone() {
            Some(code) => Ok(Customer { user, code }),
            None => Err(AppError::Forbidden(
                "your account is not linked to a customer yet; please contact support".into(),
            )),
        }
    }
}

/// Ticket `id` (its survivor when merged) with its public history, if it is this customer's;
/// `NotFound` otherwise, the same answer as for a ticket that does not exist.
pub async fn own_ticket(
    st: &AppState,
    me: &Customer,
    id: i64,
) -> Result<(Ticket, Vec<HistoryEntry>)> {
    let mut tx = st.db.begin_read().await?;
    let t = crate::tickets::load(&mut tx, id).await?;
    if t.customer.as_deref() != Some(me.code.as_str()) {
        return Err(AppError::NotFound);
    }
    let history = crate::tickets::history(&mut tx, t.id).await?;
    tx.commit().await?;
    Ok((t, crate::tickets::public_history(history)))
}

//! The SQL of the ticket tables (tickets, ticket_watchers, ticket_transactions, ticket_links,
//! attachments, blobs, saved_searches), and nowhere else.

pub(crate) mod attachments;
pub(crate) mod history;
pub(crate) mod links;
pub(crate) mod rows;
pub(crate) mod saved;
pub(crate) mod search;
pub(crate) mod watchers;

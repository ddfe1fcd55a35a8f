//! Opsdesk: tickets, mail, SLA clocks, alerts and a wiki for ISP and hosting operations.

/// Monitoring alerts (Alertmanager, Nagios, Events API) become incident tickets.
pub mod alerts;
/// Builds the app from a config and a bound listener; runs it until shutdown.
pub mod app;
/// Accounts, passwords, sessions, API tokens and login throttling.
pub mod auth;
/// The command line of CONTRACT §1.
pub mod cli;
/// The only reader of wall-clock time.
pub mod clock;
/// Defaults → opsdesk.toml → OPSDESK_* environment, checked with every problem named.
pub mod config;
/// Customer accounts.
pub mod customers;
/// The Db/Tx seam over SQLite and PostgreSQL, migrations, timestamps, backup.
pub mod db;
/// AppError and its JSON rendering.
pub mod error;
/// The database-backed job queue and its workers.
pub mod jobs;
/// Email: intake (mailgate, inbound route), threading, loop guards, the flagged-mail view.
pub mod mail;
/// On-duty rotations: who is primary and backup at any instant.
pub mod oncall;
/// The customer portal: a customer's own tickets, fenced in.
pub mod portal;
/// Full-text search across tickets and wiki pages.
pub mod search;
/// SLA clocks: business calendars and the arithmetic of deadlines in them.
pub mod sla;
/// What handlers and workers share.
pub mod state;
/// Logging setup.
pub mod telemetry;
/// Tickets: RT's model, lifecycle, history, links, merge, and their JSON API.
pub mod tickets;
/// The ticket query language (RT's TicketSQL): lexer, parser with error positions, dates.
pub mod tql;
/// The HTTP edge: router, layers, extractors, error pages, health and metrics.
pub mod web;
/// The wiki: runbooks and the customers' knowledge base, with revisions.
pub mod wiki;

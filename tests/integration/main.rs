//! The integration suite: one binary, run by scripts/test once on SQLite and once on
//! PostgreSQL (OPSDESK_TEST_DATABASE_URL). Test names are sentences.

// A test that cannot go on should stop loudly where it is: unwrap and panic are the point here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod helpers;

mod accounts;
mod alert_batches;
mod alertmanager;
mod alerts;
mod am_rig;
mod browser;
mod config;
mod crash;
mod directory_login;
mod jobs;
mod ldap;
mod lifecycle;
mod login;
mod mail_corpus;
mod mail_imap;
mod mail_intake;
mod mail_out;
mod nagios;
mod oncall;
mod openapi;
mod pair_search;
mod portal;
mod radius;
mod schema;
mod search_plans;
mod security;
mod sessions;
mod sla;
mod ticket_pages;
mod ticket_search;
mod tickets;
mod tokens;
mod web_shell;
mod wiki;

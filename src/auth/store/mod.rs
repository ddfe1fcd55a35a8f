//! The SQL of the auth tables (users, sessions, api_tokens, login_failures), and nowhere else.

pub(super) mod sessions;
pub(super) mod throttle;
pub(super) mod tokens;
pub(super) mod users;

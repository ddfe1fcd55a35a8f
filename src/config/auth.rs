//! The `[auth]` section: which sources sign people in, in which order.

use super::check::Ck;
use super::raw::*;
use super::{AuthConfig, AuthSource};

pub(super) fn check_auth(ck: &mut Ck<'_>, a: RawAuth) -> AuthConfig {
    let mut sources = Vec::new();
    for (i, s) in a.sources.iter().enumerate() {
        match s.as_str() {
            "local" => sources.push(AuthSource::Local),
            "ldap" => sources.push(AuthSource::Ldap),
            "radius" => sources.push(AuthSource::Radius),
            other => ck.bad(
                format!("auth.sources[{i}]"),
                format!("\"{other}\" is not local, ldap or radius"),
            ),
        }
    }
    if a.sources.is_empty() {
        ck.bad(
            "auth.sources",
            "must name at least one of local, ldap, radius",
        );
    }
    for (key, n) in [
        ("auth.max_failures_per_user", a.max_failures_per_user),
        ("auth.max_failures_per_address", a.max_failures_per_address),
    ] {
        if n == 0 {
            ck.bad(key, "must be at least 1");
        }
    }
    let session_idle = ck.duration("auth.session_idle", &a.session_idle);
    let session_lifetime = ck.duration("auth.session_lifetime", &a.session_lifetime);
    if session_idle > session_lifetime {
        ck.bad("auth.session_idle", "is longer than auth.session_lifetime");
    }
    AuthConfig {
        sources,
        session_idle,
        session_lifetime,
        login_window: ck.duration("auth.login_window", &a.login_window),
        max_failures_per_user: a.max_failures_per_user,
        max_failures_per_address: a.max_failures_per_address,
    }
}

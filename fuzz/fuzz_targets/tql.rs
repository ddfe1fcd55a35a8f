//! TQL from users: parse, print, and compile for both backends. Errors are fine; panics and
//! error positions outside the query are not.
#![no_main]

use libfuzzer_sys::fuzz_target;
use opsdesk::db::Backend;
use opsdesk::tql::{self, SqlCtx};

fuzz_target!(|data: &[u8]| {
    let Ok(q) = std::str::from_utf8(data) else {
        return;
    };
    match tql::parse(q) {
        Ok(expr) => {
            for backend in [Backend::Sqlite, Backend::Postgres] {
                let ctx = SqlCtx {
                    backend,
                    now: jiff::Timestamp::UNIX_EPOCH,
                    tz: jiff::tz::TimeZone::UTC,
                    current_user: Some("fuzz"),
                };
                let _ = tql::to_sql(Some(&expr), &ctx);
            }
            let printed = expr.to_string();
            // Printing normalises spacing (`Owner!='x'` becomes `Owner != 'x'`), so a query
            // near the length cap may print past it, and that text is refused for its length.
            if printed.chars().nth(tql::MAX_QUERY_CHARS).is_none() {
                assert!(
                    tql::parse(&printed).is_ok(),
                    "{q:?} printed as {printed:?} does not parse"
                );
            }
        }
        Err(e) => assert!(
            e.position <= q.len(),
            "error position {} past the end of {q:?}",
            e.position
        ),
    }
    let _ = tql::parse_order(q);
});

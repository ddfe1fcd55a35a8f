//! Date expressions in queries: what RT users type (`'2026-11-01'`, `'-2 hours'`, `'yesterday'`),
//! resolved against a `now` and a zone passed in (DESIGN §5), so tests can pin both and a user in
//! Rome gets Rome's "yesterday".

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, Zoned};

/// A bare date means the whole local day, not its first instant: `Created = '2026-11-01'` must
/// match tickets from 10:00 that day. Everything with a time of day is a single instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateValue {
    Instant(Timestamp),
    /// `[start, end)`: local midnight to the next local midnight, 23 or 25 hours on DST days.
    Day {
        start: Timestamp,
        end: Timestamp,
    },
}

/// What a date can look like; the parser puts it in the error's `expected`.
const EXPECTED_DATE: &str = "a date such as '2026-11-01', '2026-11-01 10:00', \
     '2026-11-01T10:00:00Z', 'now', 'today', 'yesterday', 'tomorrow', '-2 hours' or '3 days ago'";

/// Resolves `text` (trimmed, case-insensitive) at `now` in `tz`.
///
/// Local times that do not exist or happen twice (DST changes) are read the usual way: a time in
/// the spring-forward gap moves forward by the gap, an ambiguous one takes the earlier instant.
/// Relative minutes and hours are elapsed time; days and weeks are calendar steps in `tz`, so
/// `'-1 day'` is the same wall-clock time yesterday even across a DST change.
///
/// The error is the description of what was expected, for [`super::TqlError::expected`].
pub fn resolve_date(text: &str, now: Timestamp, tz: &TimeZone) -> Result<DateValue, String> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    let here = now.to_zoned(tz.clone());
    let today = here.date();
    let day = |offset: i8| -> Result<DateValue, String> {
        let date = match offset {
            -1 => today.yesterday(),
            1 => today.tomorrow(),
            _ => Ok(today),
        }
        .map_err(out_of_range)?;
        whole_day(date, tz)
    };
    match lower.as_str() {
        "now" => return Ok(DateValue::Instant(now)),
        "today" => return day(0),
        "yesterday" => return day(-1),
        "tomorrow" => return day(1),
        _ => {}
    }
    if let Some(relative) = relative(&lower, &here) {
        return relative;
    }
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(DateValue::Instant(ts));
    }
    for format in [
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(dt) = jiff::fmt::strtime::parse(format, text).and_then(|t| t.to_datetime()) {
            return local_instant(dt, tz);
        }
    }
    if let Ok(date) = jiff::fmt::strtime::parse("%Y-%m-%d", text).and_then(|t| t.to_date()) {
        return whole_day(date, tz);
    }
    Err(EXPECTED_DATE.to_owned())
}

fn out_of_range(_: jiff::Error) -> String {
    "a date between the years -9999 and 9999".to_owned()
}

fn whole_day(date: Date, tz: &TimeZone) -> Result<DateValue, String> {
    // start_of_day, not midnight: in zones that skip midnight the day starts at 01:00.
    let start = date
        .to_zoned(tz.clone())
        .and_then(|z| z.start_of_day())
        .map_err(out_of_range)?;
    let end = date
        .tomorrow()
        .and_then(|d| d.to_zoned(tz.clone()))
        .and_then(|z| z.start_of_day())
        .map_err(out_of_range)?;
    Ok(DateValue::Day {
        start: start.timestamp(),
        end: end.timestamp(),
    })
}

fn local_instant(dt: DateTime, tz: &TimeZone) -> Result<DateValue, String> {
    tz.to_zoned(dt)
        .map(|z| DateValue::Instant(z.timestamp()))
        .map_err(out_of_range)
}

/// `[+-]N unit` or `N unit ago`. `None` means "not shaped like a relative time" so other forms
/// get a try (`2026-11-01` starts with digits too); `Some(Err)` means it was one but is wrong.
fn relative(lower: &str, here: &Zoned) -> Option<Result<DateValue, String>> {
    let (sign, rest) = if let Some(rest) = lower.strip_prefix('-') {
        (Some(-1), rest)
    } else if let Some(rest) = lower.strip_prefix('+') {
        (Some(1), rest)
    } else {
        (None, lower)
    };
    let rest = rest.trim_start();
    let digits_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (digits, rest) = rest.split_at(digits_end);
    let rest = rest.trim();
    let (unit, ago) = match rest.strip_suffix("ago") {
        Some(unit) if unit.ends_with(char::is_whitespace) || unit.is_empty() => (unit.trim(), true),
        _ => (rest, false),
    };
    if digits.is_empty() || unit.is_empty() || !unit.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    Some(shift(here, sign, digits, unit, ago))
}

fn shift(
    here: &Zoned,
    sign: Option<i64>,
    digits: &str,
    unit: &str,
    ago: bool,
) -> Result<DateValue, String> {
    let sign = match (sign, ago) {
        (Some(s), false) => s,
        (None, true) => -1,
        (Some(_), true) => {
            return Err("a relative time with either a sign or 'ago', not both ('-2 hours' or '2 hours ago')".to_owned());
        }
        (None, false) => {
            return Err(
                "a relative time with a sign or 'ago' ('-2 hours', '+1 day' or '2 hours ago')"
                    .to_owned(),
            );
        }
    };
    let n: i64 = digits.parse().map_err(|_| "a smaller number".to_owned())?;
    let n = sign * n;
    let span = jiff::Span::new();
    let span = match unit {
        "m" | "min" | "mins" | "minute" | "minutes" => span.try_minutes(n),
        "h" | "hr" | "hrs" | "hour" | "hours" => span.try_hours(n),
        "d" | "day" | "days" => span.try_days(n),
        "w" | "week" | "weeks" => span.try_weeks(n),
        _ => return Err("a time unit (minutes, hours, days or weeks)".to_owned()),
    }
    .map_err(|_| "a smaller number".to_owned())?;
    here.checked_add(span)
        .map(|z| DateValue::Instant(z.timestamp()))
        .map_err(out_of_range)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rome() -> TimeZone {
        TimeZone::get("Europe/Rome").unwrap()
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    /// 2026-11-04 15:30 in Rome (CET, +01:00).
    fn now() -> Timestamp {
        ts("2026-11-04T14:30:00Z")
    }

    fn at(text: &str) -> DateValue {
        resolve_date(text, now(), &rome()).unwrap()
    }

    fn day(start: &str, end: &str) -> DateValue {
        DateValue::Day {
            start: ts(start),
            end: ts(end),
        }
    }

    #[test]
    fn an_iso_date_is_the_whole_local_day() {
        assert_eq!(
            at("2026-11-01"),
            day("2026-10-31T23:00:00Z", "2026-11-01T23:00:00Z")
        );
    }

    #[test]
    fn a_date_with_a_time_is_a_local_instant() {
        assert_eq!(
            at("2026-11-01 10:00"),
            DateValue::Instant(ts("2026-11-01T09:00:00Z"))
        );
        assert_eq!(
            at("2026-11-01 10:00:30"),
            DateValue::Instant(ts("2026-11-01T09:00:30Z"))
        );
        assert_eq!(
            at("2026-07-01T10:00"),
            DateValue::Instant(ts("2026-07-01T08:00:00Z"))
        );
    }

    #[test]
    fn an_rfc3339_timestamp_keeps_its_own_offset() {
        assert_eq!(
            at("2026-11-01T10:00:00Z"),
            DateValue::Instant(ts("2026-11-01T10:00:00Z"))
        );
        assert_eq!(
            at("2026-11-01T10:00:00+05:00"),
            DateValue::Instant(ts("2026-11-01T05:00:00Z"))
        );
    }

    #[test]
    fn now_today_yesterday_and_tomorrow_are_local() {
        assert_eq!(at("now"), DateValue::Instant(now()));
        assert_eq!(at(" NOW "), DateValue::Instant(now()));
        assert_eq!(
            at("today"),
            day("2026-11-03T23:00:00Z", "2026-11-04T23:00:00Z")
        );
        assert_eq!(
            at("Yesterday"),
            day("2026-11-02T23:00:00Z", "2026-11-03T23:00:00Z")
        );
        assert_eq!(
            at("tomorrow"),
            day("2026-11-04T23:00:00Z", "2026-11-05T23:00:00Z")
        );
    }

    #[test]
    fn today_in_rome_just_after_midnight_is_still_the_local_day() {
        // 00:30 in Rome is 23:30 UTC the day before.
        let r = resolve_date("today", ts("2026-11-04T23:30:00Z"), &rome()).unwrap();
        assert_eq!(r, day("2026-11-04T23:00:00Z", "2026-11-05T23:00:00Z"));
    }

    #[test]
    fn relative_times_in_every_spelling_move_back_or_forward_from_now() {
        let back = |mins: i64| {
            DateValue::Instant(ts("2026-11-04T14:30:00Z") - jiff::SignedDuration::from_mins(mins))
        };
        assert_eq!(at("-2 hours"), back(120));
        assert_eq!(at("2 hours ago"), back(120));
        assert_eq!(at("-2h"), back(120));
        assert_eq!(at("-30 minutes"), back(30));
        assert_eq!(at("-30 min"), back(30));
        assert_eq!(at("-1 minute"), back(1));
        assert_eq!(at("-3 days"), back(3 * 24 * 60));
        assert_eq!(at("3 days ago"), back(3 * 24 * 60));
        assert_eq!(at("-1 d"), back(24 * 60));
        // Two calendar weeks back is before the fall-back change: same 15:30, but CEST.
        assert_eq!(
            at("-2 weeks"),
            DateValue::Instant(ts("2026-10-21T13:30:00Z"))
        );
        assert_eq!(at("1 w ago"), back(7 * 24 * 60));
        assert_eq!(at("+1 day"), back(-24 * 60));
        assert_eq!(at("+1 HOUR"), back(-60));
    }

    #[test]
    fn yesterday_on_the_day_after_spring_forward_is_23_hours_long() {
        let monday = ts("2026-03-30T08:00:00Z");
        let r = resolve_date("yesterday", monday, &rome()).unwrap();
        // 2026-03-29 00:00 CET (+01) to 2026-03-30 00:00 CEST (+02).
        assert_eq!(r, day("2026-03-28T23:00:00Z", "2026-03-29T22:00:00Z"));
    }

    #[test]
    fn the_fall_back_day_is_25_hours_long() {
        assert_eq!(
            at("2026-10-25"),
            day("2026-10-24T22:00:00Z", "2026-10-25T23:00:00Z")
        );
    }

    #[test]
    fn a_day_back_across_dst_is_the_same_wall_clock_time_but_hours_are_elapsed_time() {
        // Monday 2026-03-30 10:00 CEST; Sunday's 10:00 was CEST too, Saturday's was CET.
        let monday = ts("2026-03-30T08:00:00Z");
        let two_days = resolve_date("-2 days", monday, &rome()).unwrap();
        assert_eq!(two_days, DateValue::Instant(ts("2026-03-28T09:00:00Z")));
        let hours = resolve_date("-48 hours", monday, &rome()).unwrap();
        assert_eq!(hours, DateValue::Instant(ts("2026-03-28T08:00:00Z")));
    }

    #[test]
    fn a_local_time_in_the_spring_forward_gap_moves_forward() {
        assert_eq!(
            at("2026-03-29 02:30"),
            DateValue::Instant(ts("2026-03-29T01:30:00Z"))
        );
    }

    #[test]
    fn an_ambiguous_local_time_on_the_fall_back_day_takes_the_earlier_instant() {
        assert_eq!(
            at("2026-10-25 02:30"),
            DateValue::Instant(ts("2026-10-25T00:30:00Z"))
        );
    }

    #[test]
    fn nonsense_is_an_error_that_says_what_a_date_looks_like() {
        for bad in [
            "blah",
            "",
            "2026-13-01",
            "2026-11-01 25:00",
            "2026",
            "2026-11-01 10",
            "last week",
        ] {
            let err = resolve_date(bad, now(), &rome()).unwrap_err();
            assert!(err.contains("'2026-11-01'"), "{bad}: {err}");
        }
    }

    #[test]
    fn relative_times_without_direction_or_with_two_are_errors() {
        assert!(
            resolve_date("2 hours", now(), &rome())
                .unwrap_err()
                .contains("sign")
        );
        assert!(
            resolve_date("-2 hours ago", now(), &rome())
                .unwrap_err()
                .contains("not both")
        );
        assert!(
            resolve_date("-2 fortnights", now(), &rome())
                .unwrap_err()
                .contains("unit")
        );
    }

    #[test]
    fn huge_relative_times_are_errors_not_panics() {
        for bad in [
            "-99999999999999999999 days",
            "-9223372036854775807 weeks",
            "+99999999 weeks",
            "-9999999 days",
        ] {
            assert!(resolve_date(bad, now(), &rome()).is_err(), "{bad}");
        }
    }
}

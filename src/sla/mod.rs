//! SLA clocks (issue 5, CONTRACT §2 `[[calendar]]`, `[[sla]]`): pure arithmetic first, with
//! `now` and events in and instants out, so every rule is testable without a database.

pub mod calendar;

pub use calendar::{Calendar, CalendarError};

//! SLA clocks (issue 5, CONTRACT §2 `[[calendar]]`, `[[sla]]`): pure arithmetic first, with
//! `now` and events in and instants out, so every rule is testable without a database.

pub mod calendar;
pub mod clock;

pub use calendar::{Calendar, CalendarError};
pub use clock::{Event, Policy, Sla, Targets, evaluate};

//! SLA clocks (issue 5, CONTRACT §2 `[[calendar]]`, `[[sla]]`): pure arithmetic first, with
//! `now` and events in and instants out, so every rule is testable without a database. The
//! ticket side (deadlines kept on the ticket, escalations fired once) is `tickets::sla`.

pub mod api;
pub mod calendar;
pub mod clock;
pub mod escalation;
pub mod explain;
pub mod pages;
pub mod policies;
pub mod report;
pub mod store;
pub mod worker;

pub use calendar::{Calendar, CalendarError};
pub use clock::{Clocks, Event, Policy, Run, Sla, Step, Targets, clocks, evaluate, missed, sla_of};
pub use escalation::{Point, Watch, points};
pub use policies::Policies;

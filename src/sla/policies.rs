//! Every configured policy, built once from the config (calendars resolved, durations parsed),
//! because a ticket's clocks are recomputed on every change and a time-zone lookup per change
//! would be waste.

use std::sync::Arc;

use super::calendar::{Calendar, CalendarError};
use super::clock::Policy;
use crate::config::{RawCalendar, RawSla};

#[derive(Debug, Clone, Default)]
pub struct Policies {
    list: Arc<[Policy]>,
}

impl Policies {
    pub fn from_config(
        calendars: &[RawCalendar],
        slas: &[RawSla],
    ) -> Result<Policies, CalendarError> {
        let calendars = calendars
            .iter()
            .map(Calendar::from_config)
            .collect::<Result<Vec<_>, _>>()?;
        let list = slas
            .iter()
            .map(|s| Policy::from_config(s, &calendars))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policies { list: list.into() })
    }

    pub fn get(&self, name: &str) -> Option<&Policy> {
        self.list.iter().find(|p| p.name == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Policy> {
        self.list.iter()
    }
}

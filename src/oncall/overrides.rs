//! Overrides on top of a rotation (issue 5): for a swap or a holiday someone else stands in
//! for `[starts_at, ends_at)`. Where two overlap the one created last wins, as a later
//! arrangement is the one people agreed on. Pure: the rotation's duty and the overrides in,
//! the duty that holds out.

use jiff::Timestamp;

use super::{Duty, OncallError, Rotation};

/// A stored override of one rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub id: i64,
    pub rotation: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub primary: String,
    /// `None` keeps the rotation's backup (a swap of the primary only).
    pub backup: Option<String>,
    pub reason: String,
    pub created_by: String,
    pub created_at: Timestamp,
}

impl Override {
    /// Start inclusive, end exclusive, so back-to-back overrides never both hold.
    pub fn covers(&self, at: Timestamp) -> bool {
        self.starts_at <= at && at < self.ends_at
    }

    /// The later-created override wins; the id breaks ties within one clock tick.
    fn precedence(&self) -> (Timestamp, i64) {
        (self.created_at, self.id)
    }
}

/// An override as asked for, checked: a real interval and names that are not blank.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOverride {
    starts_at: Timestamp,
    ends_at: Timestamp,
    primary: String,
    backup: Option<String>,
    reason: String,
}

/// Long enough for any username the auth sources hand out.
const MAX_NAME: usize = 64;
const MAX_REASON: usize = 500;

impl NewOverride {
    /// A blank `backup` means "keep the rotation's backup".
    pub fn parse(
        starts_at: Timestamp,
        ends_at: Timestamp,
        primary: &str,
        backup: Option<&str>,
        reason: &str,
    ) -> Result<NewOverride, OncallError> {
        let bad = |s: String| OncallError::BadOverride(s);
        if ends_at <= starts_at {
            return Err(bad(format!(
                "ends_at ({ends_at}) must be after starts_at ({starts_at})"
            )));
        }
        let primary = person("primary", primary)?.ok_or_else(|| {
            bad("primary: name the person who is on duty instead (it is empty)".into())
        })?;
        let backup = match backup {
            Some(b) => person("backup", b)?,
            None => None,
        };
        if backup.as_deref() == Some(primary.as_str()) {
            return Err(bad(format!(
                "backup: \"{primary}\" cannot be their own backup"
            )));
        }
        let reason = reason.trim();
        if reason.chars().count() > MAX_REASON {
            return Err(bad(format!(
                "reason: at most {MAX_REASON} characters, please"
            )));
        }
        Ok(NewOverride {
            starts_at,
            ends_at,
            primary,
            backup,
            reason: reason.to_owned(),
        })
    }

    pub fn starts_at(&self) -> Timestamp {
        self.starts_at
    }

    pub fn ends_at(&self) -> Timestamp {
        self.ends_at
    }

    pub fn primary(&self) -> &str {
        &self.primary
    }

    pub fn backup(&self) -> Option<&str> {
        self.backup.as_deref()
    }

    pub fn reason(&self) -> &str {
        &self.reason
    }
}

/// A trimmed name, `None` when blank; refuses what could not be a username.
fn person(field: &str, name: &str) -> Result<Option<String>, OncallError> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(None);
    }
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(OncallError::BadOverride(format!(
            "{field}: \"{}\" is not a username (at most {MAX_NAME} printable characters)",
            name.escape_debug()
        )));
    }
    Ok(Some(name.to_owned()))
}

/// The duty that holds at an instant, and the override that decided it (`None`: the rotation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Effective {
    pub duty: Duty,
    pub override_id: Option<i64>,
}

/// The duty at `at` once `overrides` are laid over `base`, the rotation's duty at `at`.
///
/// `since`/`until` become the bounds of the stretch around `at` in which the same override
/// (or none) wins, inside the rotation's week: `until` is the earlier of the next hand-off
/// and the next change of winner (an override starting, or the winning one ending).
pub fn apply(base: &Duty, at: Timestamp, overrides: &[Override]) -> Effective {
    // Every instant where the winner can change, within the week; the winner is constant
    // between two neighbouring cuts.
    let mut cuts = vec![base.since, base.until];
    for o in overrides {
        for t in [o.starts_at, o.ends_at] {
            if base.since < t && t < base.until {
                cuts.push(t);
            }
        }
    }
    cuts.sort();
    cuts.dedup();
    let winner = |t: Timestamp| {
        overrides
            .iter()
            .filter(|o| o.covers(t))
            .max_by_key(|o| o.precedence())
    };
    let won = winner(at);
    let id = won.map(|o| o.id);
    let same = |t: &Timestamp| winner(*t).map(|o| o.id) == id;
    // Segment j is [cuts[j], cuts[j + 1]); widen the one holding `at` while the neighbour
    // has the same winner.
    let holding = cuts.iter().filter(|c| **c <= at).count().saturating_sub(1);
    let mut lo = holding;
    while lo > 0 && cuts.get(lo - 1).is_some_and(same) {
        lo -= 1;
    }
    let mut hi = holding + 1;
    while hi + 1 < cuts.len() && cuts.get(hi).is_some_and(same) {
        hi += 1;
    }
    let since = cuts.get(lo).copied().unwrap_or(base.since);
    let until = cuts.get(hi).copied().unwrap_or(base.until);
    let (primary, backup) = match won {
        Some(o) => (
            o.primary.clone(),
            o.backup.clone().unwrap_or_else(|| base.backup.clone()),
        ),
        None => (base.primary.clone(), base.backup.clone()),
    };
    Effective {
        duty: Duty {
            primary,
            backup,
            since,
            until,
        },
        override_id: id,
    }
}

/// The duties from `from` until `to`, one entry per stretch: the rotation's hand-offs cut
/// where overrides begin and end. For the page's "next weeks" table.
pub fn timeline(
    rotation: &Rotation,
    overrides: &[Override],
    from: Timestamp,
    to: Timestamp,
) -> Result<Vec<Effective>, OncallError> {
    // Each step ends at a hand-off or an override bound, so this caps hostile data only.
    const MAX_ROWS: usize = 500;
    let mut out = Vec::new();
    let mut t = from;
    while t < to && out.len() < MAX_ROWS {
        let e = apply(&rotation.duty_at(t)?, t, overrides);
        t = e.duty.until;
        out.push(e);
    }
    Ok(out)
}

//! The ticket's vocabulary: statuses with RT's lifecycle, priorities, sources, watcher roles
//! and link kinds. Pure rules only; storage and HTTP live beside this file.

use serde::{Deserialize, Serialize};

/// RT's lifecycle (CONTRACT §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    New,
    Open,
    Stalled,
    Resolved,
    Rejected,
    Deleted,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::New,
        Status::Open,
        Status::Stalled,
        Status::Resolved,
        Status::Rejected,
        Status::Deleted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Open => "open",
            Status::Stalled => "stalled",
            Status::Resolved => "resolved",
            Status::Rejected => "rejected",
            Status::Deleted => "deleted",
        }
    }

    /// New, open and stalled tickets still need work (RT's `__Active__`).
    pub fn is_active(self) -> bool {
        matches!(self, Status::New | Status::Open | Status::Stalled)
    }

    /// Whether RT's lifecycle allows moving from `self` to `to`. Anything active may go
    /// anywhere but back to `new`; an inactive ticket is reopened (to open) before other moves.
    pub fn can_become(self, to: Status) -> bool {
        if self == to {
            return false;
        }
        match (self, to) {
            (_, Status::New) => false,
            (s, _) if s.is_active() => true,
            (_, Status::Open) => true,
            _ => false,
        }
    }

    /// The status after a requestor writes in: a reply to a stalled or resolved ticket reopens it.
    pub fn after_requestor_reply(self) -> Status {
        match self {
            Status::Stalled | Status::Resolved => Status::Open,
            s => s,
        }
    }

    /// The status after staff correspond: a new ticket is being worked on.
    pub fn after_staff_correspondence(self) -> Status {
        match self {
            Status::New => Status::Open,
            s => s,
        }
    }
}

impl std::str::FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Status, String> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("\"{s}\" is not a status (new, open, stalled, resolved, rejected, deleted)")
            })
    }
}

/// P1 (most urgent) to P4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "i32")]
pub struct Priority(i32);

impl Priority {
    pub const DEFAULT: Priority = Priority(3);

    pub fn new(p: i64) -> Result<Priority, String> {
        if (1..=4).contains(&p) {
            Ok(Priority(p as i32))
        } else {
            Err(format!("{p} is not a priority from 1 (most urgent) to 4"))
        }
    }

    pub fn get(self) -> i32 {
        self.0
    }
}

impl From<Priority> for i32 {
    fn from(p: Priority) -> i32 {
        p.0
    }
}

/// Where a ticket came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Web,
    Email,
    Api,
    Alert,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Web => "web",
            Source::Email => "email",
            Source::Api => "api",
            Source::Alert => "alert",
        }
    }

    pub fn parse(s: &str) -> Option<Source> {
        [Source::Web, Source::Email, Source::Api, Source::Alert]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// Watchers as in RT: requestors get correspondence, Cc a copy, AdminCc also the comments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WatcherRole {
    Requestor,
    Cc,
    AdminCc,
}

impl WatcherRole {
    pub fn as_str(self) -> &'static str {
        match self {
            WatcherRole::Requestor => "requestor",
            WatcherRole::Cc => "cc",
            WatcherRole::AdminCc => "admincc",
        }
    }

    pub fn parse(s: &str) -> Option<WatcherRole> {
        [
            WatcherRole::Requestor,
            WatcherRole::Cc,
            WatcherRole::AdminCc,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// Link kinds as stored (base → target); each has a reverse name seen from the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LinkKind {
    DependsOn,
    RefersTo,
    MemberOf,
}

impl LinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::DependsOn => "DependsOn",
            LinkKind::RefersTo => "RefersTo",
            LinkKind::MemberOf => "MemberOf",
        }
    }

    /// The name of the link as the target sees it.
    pub fn reverse_name(self) -> &'static str {
        match self {
            LinkKind::DependsOn => "DependedOnBy",
            LinkKind::RefersTo => "ReferredToBy",
            LinkKind::MemberOf => "Members",
        }
    }

    /// Parses either direction: answers the stored kind and whether the caller is the target.
    pub fn parse(s: &str) -> Option<(LinkKind, bool)> {
        for k in [LinkKind::DependsOn, LinkKind::RefersTo, LinkKind::MemberOf] {
            if k.as_str().eq_ignore_ascii_case(s) {
                return Some((k, false));
            }
            if k.reverse_name().eq_ignore_ascii_case(s) {
                return Some((k, true));
            }
        }
        match s.to_ascii_lowercase().as_str() {
            "parent" => Some((LinkKind::MemberOf, false)),
            "child" | "children" => Some((LinkKind::MemberOf, true)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_tickets_move_anywhere_but_back_to_new() {
        assert!(Status::New.can_become(Status::Open));
        assert!(Status::Open.can_become(Status::Resolved));
        assert!(Status::Stalled.can_become(Status::Rejected));
        assert!(!Status::Open.can_become(Status::New));
        assert!(!Status::Open.can_become(Status::Open));
    }

    #[test]
    fn inactive_tickets_are_reopened_before_anything_else() {
        assert!(Status::Resolved.can_become(Status::Open));
        assert!(!Status::Resolved.can_become(Status::Stalled));
        assert!(!Status::Deleted.can_become(Status::Resolved));
        assert!(Status::Rejected.can_become(Status::Open));
    }

    #[test]
    fn replies_reopen_and_staff_answers_open_new_tickets() {
        assert_eq!(Status::Resolved.after_requestor_reply(), Status::Open);
        assert_eq!(Status::Stalled.after_requestor_reply(), Status::Open);
        assert_eq!(Status::New.after_requestor_reply(), Status::New);
        assert_eq!(Status::New.after_staff_correspondence(), Status::Open);
        assert_eq!(
            Status::Stalled.after_staff_correspondence(),
            Status::Stalled
        );
    }

    #[test]
    fn priorities_are_one_to_four() {
        assert!(Priority::new(0).is_err());
        assert_eq!(Priority::new(4).unwrap().get(), 4);
        assert!(Priority::new(5).unwrap_err().contains("from 1"));
    }

    #[test]
    fn links_parse_in_both_directions_and_rt_aliases() {
        assert_eq!(
            LinkKind::parse("dependsOn"),
            Some((LinkKind::DependsOn, false))
        );
        assert_eq!(
            LinkKind::parse("DependedOnBy"),
            Some((LinkKind::DependsOn, true))
        );
        assert_eq!(LinkKind::parse("parent"), Some((LinkKind::MemberOf, false)));
        assert_eq!(LinkKind::parse("Members"), Some((LinkKind::MemberOf, true)));
        assert_eq!(LinkKind::parse("likes"), None);
    }
}

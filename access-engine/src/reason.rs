//! Why: every grant, revocation and user action carries structured reasons
//! whose `Display` reads like "lease 1345 Current, from 2026-03-08 10:00
//! America/New_York, perpetual".

use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::policy::NoAccessPolicy;

/// The kind of fact a reason points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum FactKind {
    /// An Entrata lease.
    Lease,
    /// An OfficeRnD membership.
    Membership,
    /// An OfficeRnD desk/office assignment.
    Assignment,
    /// An OfficeRnD booking occurrence.
    Booking,
    /// An OfficeRnD day-pass set.
    DayPass,
    /// A directory user.
    DirectoryUser,
    /// An OfficeRnD member.
    Member,
}

impl fmt::Display for FactKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FactKind::Lease => "lease",
            FactKind::Membership => "membership",
            FactKind::Assignment => "assignment",
            FactKind::Booking => "booking",
            FactKind::DayPass => "day-pass set",
            FactKind::DirectoryUser => "directory user",
            FactKind::Member => "member",
        })
    }
}

impl FactKind {
    /// A short key without spaces, used in approval ids.
    pub fn key(&self) -> &'static str {
        match self {
            FactKind::Lease => "lease",
            FactKind::Membership => "membership",
            FactKind::Assignment => "assignment",
            FactKind::Booking => "booking",
            FactKind::DayPass => "day-pass",
            FactKind::DirectoryUser => "directory-user",
            FactKind::Member => "member",
        }
    }
}

/// A pointer to one fact: its kind, id and a short note (its status, its
/// resource…).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FactRef {
    /// Kind of fact.
    pub kind: FactKind,
    /// The fact's id in its source.
    pub id: String,
    /// A short note shown after the id, e.g. the lease status `Current`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
}

impl fmt::Display for FactRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.id)?;
        if !self.note.is_empty() {
            write!(f, " {}", self.note)?;
        }
        Ok(())
    }
}

/// A half-open window `[start, end)` in UTC, with the zone its local times belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Window {
    /// First instant; `None` for "always" (directory grants).
    pub start: Option<DateTime<Utc>>,
    /// First instant after the window; `None` is perpetual.
    pub end: Option<DateTime<Utc>>,
    /// The zone of the place the window belongs to.
    pub zone: Tz,
}

impl PartialOrd for Window {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Window {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.start, self.end, self.zone.name()).cmp(&(other.start, other.end, other.zone.name()))
    }
}

impl Window {
    /// True when the window covers instant `t`.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start.is_none_or(|s| s <= t) && self.end.is_none_or(|e| t < e)
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let local = |t: DateTime<Utc>| t.with_timezone(&self.zone).format("%Y-%m-%d %H:%M");
        match self.start {
            Some(s) => write!(f, "from {} {}", local(s), self.zone.name())?,
            None => f.write_str("always")?,
        }
        match self.end {
            Some(e) => write!(f, ", until {} {}", local(e), self.zone.name()),
            None => f.write_str(", perpetual"),
        }
    }
}

/// The rule behind a reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Rule {
    /// The fact grants the group within its window.
    Grant,
    /// The fact's window is over.
    Ended,
    /// The fact's window has not begun.
    NotStarted,
    /// No fact grants this group to this identity.
    NotGranted,
    /// The user is not owned and not desired in a managed group (exclusive groups).
    NotDesiredInManagedGroup,
    /// The directory user is suspended.
    DirectorySuspended,
    /// The directory user is disabled.
    DirectoryDisabled,
    /// The directory user is deleted.
    DirectoryDeleted,
    /// The owned user has no current or upcoming access; the policy applies.
    NoAccessLeft(NoAccessPolicy),
    /// The identity has current access (create, unsuspend).
    HasAccess,
    /// The profile in the facts differs from Brivo's.
    ProfileChanged,
    /// An unowned user with the identity's email is adopted (policy).
    AdoptedByEmail,
    /// Has access and an email, and no Mobile Pass invitation yet (or an
    /// operator asked for a new one).
    MobilePass,
    /// The user's external id has an earlier version's form (a resident
    /// keyed by property); one user per resident now.
    EarlierExternalId,
    /// Another Brivo user of the same person keeps the identity (one user
    /// per person): this one is retired like a user no fact names.
    Superseded,
    /// The user's credentials are kept valid exactly while their access
    /// lasts (policy `credential_windows`).
    CredentialWindow,
    /// Has access and no card from the policy's pool yet.
    CardPool,
    /// The user carries a record that is another's person (policy
    /// `same_person`): one user for the person, with the first record's id.
    SamePerson,
}

/// One reason: a rule, usually a fact and its window.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Reason {
    /// The rule.
    pub rule: Rule,
    /// The fact, if the reason comes from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fact: Option<FactRef>,
    /// The fact's window, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
}

impl Reason {
    pub(crate) fn rule(rule: Rule) -> Self {
        Reason {
            rule,
            fact: None,
            window: None,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let prefix = match self.rule {
            Rule::Grant => "",
            Rule::HasAccess => "has current access",
            Rule::Ended => "ended: ",
            Rule::NotStarted => "not started: ",
            Rule::NotGranted => "no fact grants it",
            Rule::NotDesiredInManagedGroup => {
                "not granted by any fact (managed groups are exclusive)"
            }
            Rule::DirectorySuspended => "suspended in directory: ",
            Rule::DirectoryDisabled => "disabled in directory: ",
            Rule::DirectoryDeleted => "deleted in directory: ",
            Rule::NoAccessLeft(NoAccessPolicy::Keep) => "no access left (policy: keep)",
            Rule::NoAccessLeft(NoAccessPolicy::Suspend) => "no access left (policy: suspend)",
            Rule::NoAccessLeft(NoAccessPolicy::Delete) => "no access left (policy: delete)",
            Rule::ProfileChanged => "profile differs from the facts",
            Rule::AdoptedByEmail => "unowned user with the same email adopted (policy)",
            Rule::MobilePass => "has access and no Mobile Pass invitation yet (policy)",
            Rule::EarlierExternalId => {
                "external id in an earlier version's form (one user per resident now)"
            }
            Rule::Superseded => "the same person's other user keeps the identity",
            Rule::CredentialWindow => "credentials valid while access lasts (policy)",
            Rule::CardPool => "has access and no card from the pool yet (policy)",
            Rule::SamePerson => "the same person as another record (policy same_person)",
        };
        f.write_str(prefix)?;
        let mut sep = if prefix.is_empty() || prefix.ends_with(' ') {
            ""
        } else {
            ": "
        };
        if let Some(fact) = &self.fact {
            write!(f, "{sep}{fact}")?;
            sep = ", ";
        }
        if let Some(w) = &self.window {
            write!(f, "{sep}{w}")?;
        }
        Ok(())
    }
}

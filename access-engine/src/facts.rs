//! The fact batch the runner fills from its sources, and what they share.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::coworking::{Assignment, Booking, DayPassSet, Location, Member, Membership};
use crate::directory::DirectoryUser;
use crate::leases::{Lease, Property};

/// A person as Brivo should know them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Profile {
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Email address, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone number, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
}

impl Profile {
    /// A profile with a name only.
    pub fn new(first_name: impl Into<String>, last_name: impl Into<String>) -> Self {
        Profile {
            first_name: first_name.into(),
            last_name: last_name.into(),
            email: None,
            phone: None,
        }
    }

    /// Sets the email.
    #[must_use]
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Sets the phone.
    #[must_use]
    pub fn with_phone(mut self, phone: impl Into<String>) -> Self {
        self.phone = Some(phone.into());
        self
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.first_name, self.last_name)?;
        if let Some(email) = &self.email {
            write!(f, " <{email}>")?;
        }
        if let Some(phone) = &self.phone {
            write!(f, " {phone}")?;
        }
        Ok(())
    }
}

/// A source system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Source {
    /// Entrata leases.
    Entrata,
    /// OfficeRnD Flex coworking data.
    OfficeRnd,
    /// Directory feeds (Connect-style).
    Directory,
}

/// A part of the fact batch that may be missing or partial.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    /// A whole source.
    Source(Source),
    /// One Entrata property.
    Property(String),
    /// One OfficeRnD location.
    Location(String),
    /// One directory.
    Directory(String),
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Source(Source::Entrata) => f.write_str("source Entrata"),
            Scope::Source(Source::OfficeRnd) => f.write_str("source OfficeRnD"),
            Scope::Source(Source::Directory) => f.write_str("source directory"),
            Scope::Property(id) => write!(f, "property {id}"),
            Scope::Location(id) => write!(f, "location {id}"),
            Scope::Directory(id) => write!(f, "directory {id}"),
        }
    }
}

/// Which scopes of the batch are incomplete (a fetch failed or was partial).
/// Absence is not a move-out: revocations that depend on an incomplete scope
/// are held, never applied.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Completeness {
    /// The incomplete scopes; empty means the batch is complete.
    pub incomplete: BTreeSet<Scope>,
}

impl Completeness {
    /// Marks a scope incomplete.
    pub fn mark_incomplete(&mut self, scope: Scope) {
        self.incomplete.insert(scope);
    }

    /// True when nothing is marked incomplete.
    pub fn is_complete(&self) -> bool {
        self.incomplete.is_empty()
    }
}

/// Everything the sources say, as plain owned data. Input order never
/// matters: the plan is the same for any order of every `Vec`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Facts {
    /// Entrata properties (with their IANA zones).
    pub properties: Vec<Property>,
    /// Entrata leases.
    pub leases: Vec<Lease>,
    /// OfficeRnD locations (with their IANA zones).
    pub locations: Vec<Location>,
    /// OfficeRnD members.
    pub members: Vec<Member>,
    /// OfficeRnD memberships.
    pub memberships: Vec<Membership>,
    /// OfficeRnD desk and office assignments.
    pub assignments: Vec<Assignment>,
    /// OfficeRnD booking occurrences (recurrence already expanded).
    pub bookings: Vec<Booking>,
    /// OfficeRnD day-pass sets.
    pub day_passes: Vec<DayPassSet>,
    /// Directory users.
    pub directory_users: Vec<DirectoryUser>,
    /// Which parts of this batch are incomplete.
    pub completeness: Completeness,
}

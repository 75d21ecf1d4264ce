//! The fact batch the runner fills from its sources, and what they share.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::coworking::{Assignment, Booking, DayPassSet, Location, Member, Membership};
use crate::directory::DirectoryUser;
use crate::leases::{Lease, Property};

/// A person as Brivo should know them.
///
/// ```
/// use access_engine::Profile;
/// let p = Profile::new("Ada", "Lovelace").with_email("ada@example.com");
/// assert_eq!(p.to_string(), "Ada Lovelace <ada@example.com>");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
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
#[non_exhaustive]
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
#[non_exhaustive]
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

impl Scope {
    /// The scope a [`Scope::key`] names, if it names one.
    ///
    /// ```
    /// use access_engine::Scope;
    /// let s = Scope::Property("100".into());
    /// assert_eq!(Scope::from_key(&s.key()), Some(s));
    /// assert_eq!(Scope::from_key("planet:earth"), None);
    /// ```
    pub fn from_key(key: &str) -> Option<Scope> {
        let (kind, id) = key.split_once(':')?;
        Some(match (kind, id) {
            ("source", "entrata") => Scope::Source(Source::Entrata),
            ("source", "officernd") => Scope::Source(Source::OfficeRnd),
            ("source", "directory") => Scope::Source(Source::Directory),
            ("property", id) if !id.is_empty() => Scope::Property(id.to_owned()),
            ("location", id) if !id.is_empty() => Scope::Location(id.to_owned()),
            ("directory", id) if !id.is_empty() => Scope::Directory(id.to_owned()),
            _ => return None,
        })
    }

    /// A short stable key, e.g. `property:100`, used in approval ids.
    pub fn key(&self) -> String {
        match self {
            Scope::Source(Source::Entrata) => "source:entrata".to_owned(),
            Scope::Source(Source::OfficeRnd) => "source:officernd".to_owned(),
            Scope::Source(Source::Directory) => "source:directory".to_owned(),
            Scope::Property(id) => format!("property:{id}"),
            Scope::Location(id) => format!("location:{id}"),
            Scope::Directory(id) => format!("directory:{id}"),
        }
    }
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

/// Which scopes of the batch are incomplete (a fetch failed or was partial),
/// and why. Absence is not a move-out: revocations that depend on an
/// incomplete scope are held, never applied, and each incomplete scope is a
/// warning in the plan that carries the reason.
///
/// ```
/// use access_engine::{Completeness, Scope};
/// let mut c = Completeness::default();
/// c.mark_incomplete(Scope::Property("100".into()), "getLeases: HTTP 503");
/// assert!(!c.is_complete());
/// assert_eq!(c.reason(&Scope::Property("100".into())), Some("getLeases: HTTP 503"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Completeness {
    /// The incomplete scopes, each with why; empty means the batch is complete.
    pub incomplete: BTreeMap<Scope, String>,
}

impl Completeness {
    /// Marks a scope incomplete and says why. A scope marked twice keeps
    /// both reasons.
    pub fn mark_incomplete(&mut self, scope: Scope, reason: impl Into<String>) {
        let reason = reason.into();
        match self.incomplete.get_mut(&scope) {
            Some(r) if !r.is_empty() && !reason.is_empty() && *r != reason => {
                r.push_str("; ");
                r.push_str(&reason);
            }
            Some(r) if r.is_empty() => *r = reason,
            Some(_) => {}
            None => {
                self.incomplete.insert(scope, reason);
            }
        }
    }

    /// True when nothing is marked incomplete.
    pub fn is_complete(&self) -> bool {
        self.incomplete.is_empty()
    }

    /// Whether `scope` is marked incomplete.
    pub fn contains(&self, scope: &Scope) -> bool {
        self.incomplete.contains_key(scope)
    }

    /// Why `scope` is incomplete, if it is.
    pub fn reason(&self, scope: &Scope) -> Option<&str> {
        self.incomplete.get(scope).map(String::as_str)
    }

    /// Adds every scope of `other`.
    pub fn extend(&mut self, other: Completeness) {
        for (scope, reason) in other.incomplete {
            self.mark_incomplete(scope, reason);
        }
    }
}

/// What the runner remembers between runs, and what the operator approved
/// for this one. With no baseline (a first run, or lost state) scopes are
/// only checked for being present, not for emptying or shrinking.
///
/// ```
/// use access_engine::{Baseline, Scope};
/// let mut b = Baseline::default();
/// b.people.insert(Scope::Property("100".into()), 412);
/// b.approved.insert("scope:property:100".into()); // from `Held::approval`
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Baseline {
    /// People with access per scope at the last successful run
    /// ([`crate::ScopeReport::people`]).
    pub people: BTreeMap<Scope, usize>,
    /// Held items the operator approved for this run only, by their
    /// approval id ([`crate::HoldRule::approval`]).
    pub approved: BTreeSet<String>,
}

/// Where a property's or location's time zone came from. The plan reports
/// it for every scope, so an operator can see which zones were inferred.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ZoneSource {
    /// As given by the source record itself (the default).
    #[default]
    Given,
    /// Configured by the operator.
    Configured,
    /// Named by a service call, e.g. `getMitsPropertyUnits`.
    Service(String),
    /// Inferred from the address, e.g. `state IL, city Champaign`.
    Address(String),
}

impl ZoneSource {
    pub(crate) fn is_given(&self) -> bool {
        matches!(self, ZoneSource::Given)
    }
}

impl fmt::Display for ZoneSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ZoneSource::Given => f.write_str("given by the source"),
            ZoneSource::Configured => f.write_str("configured"),
            ZoneSource::Service(method) => write!(f, "from {method}"),
            ZoneSource::Address(detail) => write!(f, "inferred from the address ({detail})"),
        }
    }
}

/// Everything the sources say, as plain owned data. Input order never
/// matters: the plan is the same for any order of every `Vec`.
///
/// Start from `Facts::default()` and push records: new fields may be added
/// in minor releases.
///
/// ```
/// use access_engine::{Facts, Lease, LeaseStatus, Property};
/// let mut facts = Facts::default();
/// facts.properties.push(Property::new("100", "America/New_York"));
/// facts.leases.push(Lease::new("1345", "100", LeaseStatus::Current));
/// assert_eq!(facts.leases.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
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
    /// What the last run saw and what the operator approved for this one.
    pub baseline: Baseline,
}

//! Fact sources: the [`FactSource`] port and the batch each fetch returns.

use std::fmt;

use access_engine::{Facts, Scope};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What one source returned: facts, plus the parts it could not read.
///
/// An adapter that had to skip records of a property or location marks that
/// scope incomplete in `facts.completeness`, so that the engine holds every
/// revocation derived from it ("absence is not a move-out").
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct SourceBatch {
    /// The facts read.
    pub facts: Facts,
    /// Human-readable notes about skipped records (also marked incomplete).
    pub notes: Vec<String>,
    /// Requests the source made to fetch this batch (retries included).
    pub calls: u64,
}

impl SourceBatch {
    /// A batch of these facts, with no notes and no calls counted.
    pub fn new(facts: Facts) -> Self {
        SourceBatch {
            facts,
            notes: Vec::new(),
            calls: 0,
        }
    }

    /// Sets the number of requests made.
    #[must_use]
    pub fn with_calls(mut self, calls: u64) -> Self {
        self.calls = calls;
        self
    }

    /// Marks `scope` incomplete and records why.
    pub fn mark_incomplete(&mut self, scope: Scope, note: impl Into<String>) {
        let note = note.into();
        self.notes.push(format!("{scope}: {note}"));
        self.facts.completeness.mark_incomplete(scope, note);
    }
}

/// A source failed as a whole: nothing it covers may be revoked this run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}: {message}")]
#[non_exhaustive]
pub struct SourceError {
    /// The source's name ([`FactSource::name`]).
    pub source_name: String,
    /// What went wrong, in the user's terms.
    pub message: String,
}

impl SourceError {
    /// A source error.
    pub fn new(source_name: impl Into<String>, message: impl fmt::Display) -> Self {
        SourceError {
            source_name: source_name.into(),
            message: message.to_string(),
        }
    }
}

/// A system that knows who should be inside: Entrata, OfficeRnD, a
/// directory, or a test double. Implement it to plug in another source.
///
/// `fetch` returns everything the source knows (level-triggered: no deltas).
/// If it fails, the runner marks [`FactSource::scope`] incomplete, so the
/// engine holds every revocation that scope feeds.
///
/// ```
/// use access_engine::{Facts, Scope, Source};
/// use access_sync::{FactSource, SourceBatch, SourceError};
/// use chrono::{DateTime, Utc};
///
/// struct Nobody;
///
/// #[async_trait::async_trait]
/// impl FactSource for Nobody {
///     fn name(&self) -> &str { "nobody" }
///     fn scope(&self) -> Scope { Scope::Source(Source::Directory) }
///     async fn fetch(&self, _now: DateTime<Utc>) -> Result<SourceBatch, SourceError> {
///         Ok(SourceBatch::new(Facts::default()))
///     }
/// }
/// ```
#[async_trait]
pub trait FactSource: Send + Sync {
    /// A short name for reports and logs, e.g. `entrata`.
    fn name(&self) -> &str;

    /// The scope marked incomplete when [`fetch`](FactSource::fetch) fails.
    fn scope(&self) -> Scope;

    /// Reads the source. `now` lets a source bound what it reads (e.g. a
    /// bookings horizon); it must not filter out anything that still grants.
    async fn fetch(&self, now: DateTime<Utc>) -> Result<SourceBatch, SourceError>;
}

/// How one source's fetch went, for the report and the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SourceReport {
    /// The source's name.
    pub name: String,
    /// `None` if the fetch succeeded, else the error's text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Notes about skipped records.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Requests made.
    pub calls: u64,
}

/// Counts of the facts a run planned from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InputCounts {
    /// Entrata properties.
    pub properties: usize,
    /// Entrata leases.
    pub leases: usize,
    /// Entrata customers (over all leases).
    pub customers: usize,
    /// OfficeRnD locations.
    pub locations: usize,
    /// OfficeRnD members.
    pub members: usize,
    /// OfficeRnD memberships.
    pub memberships: usize,
    /// OfficeRnD assignments.
    pub assignments: usize,
    /// OfficeRnD booking occurrences.
    pub bookings: usize,
    /// OfficeRnD day-pass sets.
    pub day_passes: usize,
    /// Directory users.
    pub directory_users: usize,
    /// Brivo users observed.
    pub observed_users: usize,
    /// Managed Brivo groups observed.
    pub observed_groups: usize,
    /// Scopes marked incomplete.
    pub incomplete: Vec<String>,
}

impl InputCounts {
    pub(crate) fn of(facts: &Facts, observed: &access_engine::Observed) -> Self {
        InputCounts {
            properties: facts.properties.len(),
            leases: facts.leases.len(),
            customers: facts.leases.iter().map(|l| l.customers.len()).sum(),
            locations: facts.locations.len(),
            members: facts.members.len(),
            memberships: facts.memberships.len(),
            assignments: facts.assignments.len(),
            bookings: facts.bookings.len(),
            day_passes: facts.day_passes.len(),
            directory_users: facts.directory_users.len(),
            observed_users: observed.users.len(),
            observed_groups: observed.groups.len(),
            incomplete: facts
                .completeness
                .incomplete
                .keys()
                .map(ToString::to_string)
                .collect(),
        }
    }
}

/// Appends `other` to `into` (the vectors and the incomplete scopes, with
/// their reasons).
///
/// `Facts` is `#[non_exhaustive]`, so this destructuring needs `..` and no
/// longer fails to compile when the engine adds a field: merge it here.
pub(crate) fn merge_facts(into: &mut Facts, other: Facts) {
    let Facts {
        properties,
        leases,
        locations,
        members,
        memberships,
        assignments,
        bookings,
        day_passes,
        directory_users,
        completeness,
        ..
    } = other;
    into.properties.extend(properties);
    into.leases.extend(leases);
    into.locations.extend(locations);
    into.members.extend(members);
    into.memberships.extend(memberships);
    into.assignments.extend(assignments);
    into.bookings.extend(bookings);
    into.day_passes.extend(day_passes);
    into.directory_users.extend(directory_users);
    into.completeness.extend(completeness);
}

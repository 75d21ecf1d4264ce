//! Fact sources: the [`FactSource`] port and the batch each fetch returns.

use std::error::Error as StdError;
use std::fmt;

use access_engine::{Facts, Scope};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Cause, ErrorKind};

/// What one source returned: facts, plus the parts it could not read.
///
/// An adapter that had to skip records of a property or location marks that
/// scope incomplete in `facts.completeness`, so that the engine holds every
/// revocation derived from it ("absence is not a move-out"). When a part
/// could not be read because a call failed (a property's leases), the
/// typed error goes in [`errors`](Self::errors) too
/// ([`SourceBatch::part_failed`]).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct SourceBatch {
    /// The facts read.
    pub facts: Facts,
    /// Human-readable notes about skipped records (also marked incomplete).
    pub notes: Vec<String>,
    /// Requests the source made to fetch this batch (retries included).
    pub calls: u64,
    /// Calls that failed for a part of the source (e.g. one property's
    /// leases) while the rest was read: each part's scope is marked
    /// incomplete too. The fetch as a whole succeeded.
    pub errors: Vec<SourceError>,
    /// When the facts were read, if earlier than the fetch: a source that
    /// read only what a webhook named ([`FactSource::changed`]) and served
    /// the rest from its last full read gives that read's instant, so the
    /// runner ages the facts from it (and re-reads them in full before a
    /// revocation that rests on facts older than the source's refresh
    /// interval). `None`: everything was read by this fetch.
    pub read_at: Option<DateTime<Utc>>,
}

impl SourceBatch {
    /// A batch of these facts, with no notes and no calls counted.
    pub fn new(facts: Facts) -> Self {
        SourceBatch {
            facts,
            notes: Vec::new(),
            calls: 0,
            errors: Vec::new(),
            read_at: None,
        }
    }

    /// Sets the number of requests made.
    #[must_use]
    pub fn with_calls(mut self, calls: u64) -> Self {
        self.calls = calls;
        self
    }

    /// Sets when the oldest of its facts was read
    /// ([`read_at`](Self::read_at)).
    #[must_use]
    pub fn with_read_at(mut self, read_at: DateTime<Utc>) -> Self {
        self.read_at = Some(read_at);
        self
    }

    /// Marks `scope` incomplete and records why.
    pub fn mark_incomplete(&mut self, scope: Scope, note: impl Into<String>) {
        let note = note.into();
        self.notes.push(format!("{scope}: {note}"));
        self.facts.completeness.mark_incomplete(scope, note);
    }

    /// A call failed for one part of the source: marks `scope` incomplete
    /// (its revocations are held) with the error's text, and keeps the
    /// typed error in [`errors`](Self::errors).
    ///
    /// ```
    /// use access_engine::Scope;
    /// use access_sync::{ErrorKind, SourceBatch, SourceError};
    ///
    /// let mut batch = SourceBatch::default();
    /// let e = entrata_client::Error::RateLimited { method: "getLeases", status: 429, retry_after: None };
    /// batch.part_failed(Scope::Property("100".into()), SourceError::from_error("entrata", e));
    /// assert!(batch.errors[0].is_throttle());
    /// assert!(batch.facts.completeness.contains(&Scope::Property("100".into())));
    /// ```
    pub fn part_failed(&mut self, scope: Scope, error: SourceError) {
        self.mark_incomplete(scope, error.message());
        self.errors.push(error);
    }
}

/// A source's call failed: its kind ([`ErrorKind`]), the source's name,
/// what went wrong in words, and the underlying error (e.g. an
/// [`entrata_client::Error`]), if there is one.
///
/// Returned by [`FactSource::fetch`] when the source failed as a whole
/// (nothing it covers may be revoked this run), or kept in
/// [`SourceBatch::errors`] for a part that failed.
///
/// Displayed as `"{source name}: {message}"`; the message of an error made
/// from a client error is the client's text (free of secrets). As for
/// [`BackendError`](crate::BackendError), [`source`](std::error::Error::source)
/// is the underlying error's own source, the underlying error itself is
/// [`get_ref`](Self::get_ref), and equality ignores the underlying error.
///
/// ```
/// use access_sync::{ErrorKind, SourceError};
///
/// let e = officernd_client::Error::Unauthorized {
///     method: "list_members", required_scope: "flex.community.members.read",
///     message: "Unauthorized".into(),
/// };
/// let e = SourceError::from_error("officernd", e);
/// assert_eq!(e.kind(), ErrorKind::Auth);
/// assert!(e.is_auth() && !e.is_retryable());
/// assert!(matches!(e.downcast_ref::<officernd_client::Error>(),
///     Some(officernd_client::Error::Unauthorized { .. })));
///
/// // A source of your own: a name and a message (kind `Other`), or a kind too.
/// let e = SourceError::new("directory:hq", "HTTP 503").with_kind(ErrorKind::Transient);
/// assert!(e.is_retryable());
/// assert_eq!(e.to_string(), "directory:hq: HTTP 503");
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SourceError {
    source_name: String,
    kind: ErrorKind,
    message: String,
    cause: Option<Cause>,
}

impl SourceError {
    /// A source error of kind [`ErrorKind::Other`], described by `message`.
    pub fn new(source_name: impl Into<String>, message: impl fmt::Display) -> Self {
        SourceError {
            source_name: source_name.into(),
            kind: ErrorKind::Other,
            message: message.to_string(),
            cause: None,
        }
    }

    /// Wraps `error`, classified by its kind (`ErrorKind: From<&E>`, as for
    /// the three clients' errors; implement it for an error type of your
    /// own, or use [`SourceError::new`] and [`with_kind`](Self::with_kind)).
    pub fn from_error<E>(source_name: impl Into<String>, error: E) -> Self
    where
        E: StdError + Send + Sync + 'static,
        for<'a> ErrorKind: From<&'a E>,
    {
        SourceError {
            source_name: source_name.into(),
            kind: ErrorKind::from(&error),
            message: error.to_string(),
            cause: Some(Cause::new(error)),
        }
    }

    /// The same error with another kind.
    #[must_use]
    pub fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }

    /// The same error with `context` in front of its message
    /// (`"{context}: {message}"`), e.g. the part of the source that failed.
    #[must_use]
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// The source's name ([`FactSource::name`]).
    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// What went wrong, in the user's terms (without the source's name).
    pub fn message(&self) -> &str {
        &self.message
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// Whether a later attempt may succeed (throttled or transient).
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    /// Whether the source asked to slow down ([`ErrorKind::Throttled`]).
    ///
    /// ```
    /// use access_sync::SourceError;
    /// let e = entrata_client::Error::RateLimited { method: "getProperties", status: 429, retry_after: None };
    /// assert!(SourceError::from_error("entrata", e).is_throttle());
    /// ```
    pub fn is_throttle(&self) -> bool {
        self.kind.is_throttle()
    }

    /// Whether the credentials or the permissions were refused
    /// ([`ErrorKind::Auth`]).
    ///
    /// ```
    /// use access_sync::SourceError;
    /// let e = entrata_client::Error::Authentication {
    ///     method: "getProperties", status: 401, code: Some(113), message: "Invalid credentials".into(),
    /// };
    /// assert!(SourceError::from_error("entrata", e).is_auth());
    /// ```
    pub fn is_auth(&self) -> bool {
        self.kind.is_auth()
    }

    /// The underlying error, if there is one.
    pub fn get_ref(&self) -> Option<&(dyn StdError + Send + Sync + 'static)> {
        self.cause.as_ref().map(Cause::get)
    }

    /// The underlying error, if there is one and it is an `E` (e.g.
    /// `entrata_client::Error`).
    pub fn downcast_ref<E: StdError + 'static>(&self) -> Option<&E> {
        self.get_ref()?.downcast_ref::<E>()
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.source_name, self.message)
    }
}

impl StdError for SourceError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        crate::error::source_of(self.cause.as_ref())
    }
}

impl PartialEq for SourceError {
    fn eq(&self, other: &Self) -> bool {
        self.source_name == other.source_name
            && self.kind == other.kind
            && self.message == other.message
    }
}

impl Eq for SourceError {}

/// A system that knows who should be inside: Entrata, OfficeRnD, a
/// directory, or a test double. Implement it to plug in another source.
///
/// `fetch` returns everything the source knows (level-triggered: no deltas).
/// If it fails, the runner marks [`FactSource::scope`] incomplete, so the
/// engine holds every revocation that scope feeds.
///
/// Implement it with the re-exported [`async_trait`](crate::async_trait)
/// attribute (no `async-trait` dependency of your own needed); classify
/// your own errors with a kind so callers can branch on them:
///
/// ```
/// use access_engine::{Facts, Scope, Source};
/// use access_sync::{ErrorKind, FactSource, SourceBatch, SourceError, async_trait};
/// use chrono::{DateTime, Utc};
///
/// /// A feed of people from a CSV export of another system.
/// struct CsvExport { path: std::path::PathBuf }
///
/// #[async_trait]
/// impl FactSource for CsvExport {
///     fn name(&self) -> &str { "csv" }
///     fn scope(&self) -> Scope { Scope::Source(Source::Directory) }
///     async fn fetch(&self, _now: DateTime<Utc>) -> Result<SourceBatch, SourceError> {
///         let text = std::fs::read_to_string(&self.path)
///             .map_err(|e| SourceError::new(self.name(), e).with_kind(ErrorKind::Transient))?;
///         let _rows = text.lines().count(); // ... turn the rows into facts
///         Ok(SourceBatch::new(Facts::default()))
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let missing = CsvExport { path: "/nonexistent/people.csv".into() };
/// let e = missing.fetch(Utc::now()).await.unwrap_err();
/// assert!(e.is_retryable());
/// assert!(e.to_string().starts_with("csv: "));
/// # }
/// ```
#[async_trait]
pub trait FactSource: Send + Sync {
    /// A short name for reports and logs, e.g. `entrata`.
    fn name(&self) -> &str;

    /// The scope marked incomplete when [`fetch`](FactSource::fetch) fails.
    fn scope(&self) -> Scope;

    /// Reads the source. `now` lets a source bound what it reads (e.g. a
    /// bookings horizon); it must not filter out anything that still grants.
    /// A source may serve parts that change slowly from what it read
    /// recently (say so in its docs), as long as the batch is what a full
    /// read would return.
    async fn fetch(&self, now: DateTime<Utc>) -> Result<SourceBatch, SourceError>;

    /// Drops whatever the source keeps between fetches, so that the next
    /// [`fetch`](FactSource::fetch) reads everything. The runner calls it
    /// before a full-read run ([`Syncer::plan`](crate::Syncer::plan),
    /// [`Syncer::sync_once`](crate::Syncer::sync_once)). The default keeps
    /// nothing.
    fn invalidate(&self) {}

    /// A webhook (or another push) said that the record `id` of `kind`
    /// changed (`None`: something of that kind, which one unknown). A
    /// source that can read one record may remember it and, at its next
    /// [`fetch`](FactSource::fetch), read only what was named, as long as
    /// the batch is what a full read would return; anything it cannot
    /// read that way should make that fetch read everything. The default
    /// ignores it: every fetch reads everything.
    ///
    /// The runner does not call it; [`SourceChanges::changed`] does (see
    /// [`Syncer::changes_for`](crate::Syncer::changes_for)).
    fn changed(&self, kind: &str, id: Option<&str>) {
        let _ = (kind, id);
    }
}

/// Tells one source what changed and wakes the runner for a run that reads
/// it again: what a webhook receiver holds. Get it from
/// [`Syncer::changes_for`](crate::Syncer::changes_for); cheap to clone.
///
/// ```
/// use access_engine::{Facts, Scope, Source};
/// use access_sync::{Syncer, memory::{MemoryBackend, StaticSource}};
/// let syncer = Syncer::builder(MemoryBackend::new())
///     .source(StaticSource::new("officernd", Scope::Source(Source::OfficeRnd), Facts::default()))
///     .build();
/// let changes = syncer.changes_for("officernd").unwrap();
/// // a webhook said booking b1 changed: the next run reads it (and wakes now)
/// changes.changed("booking", Some("b1"));
/// ```
#[derive(Clone)]
pub struct SourceChanges {
    pub(crate) source: std::sync::Arc<dyn FactSource>,
    pub(crate) wake: std::sync::Arc<tokio::sync::Notify>,
    /// Records named since the source was last read, for the runner's
    /// estimate of what the next read costs ([`NAMED_UNKNOWN`]: something
    /// unnamed changed, a full read).
    pub(crate) named: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

/// [`SourceChanges::named`] after a change without an id.
pub(crate) const NAMED_UNKNOWN: u64 = u64::MAX;

impl fmt::Debug for SourceChanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceChanges")
            .field("source", &self.source.name())
            .finish_non_exhaustive()
    }
}

impl SourceChanges {
    /// The source's name.
    pub fn source_name(&self) -> &str {
        self.source.name()
    }

    /// Tells the source ([`FactSource::changed`]), then wakes a run that
    /// reads it again (the other sources stay on their cadence).
    pub fn changed(&self, kind: &str, id: Option<&str>) {
        use std::sync::atomic::Ordering;
        self.source.changed(kind, id);
        if id.is_some() {
            let _ = self
                .named
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                    Some(n.saturating_add(1))
                });
        } else {
            self.named.store(NAMED_UNKNOWN, Ordering::Relaxed);
        }
        self.wake.notify_one();
    }

    /// Wakes a run that reads the source again, with nothing named.
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

/// How one source's fetch went, for the report and the audit log.
///
/// Serialized with each error as its text and its kind:
/// `{"name":"entrata","error":"entrata: getLeases: ...","error_kind":"throttled","calls":3}`,
/// and the parts that failed as `"errors":[{"error":"...","kind":"auth"}]`.
/// Read back, an error has no underlying error (it was not serialized).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "SourceReportWire", from = "SourceReportWire")]
#[non_exhaustive]
pub struct SourceReport {
    /// The source's name.
    pub name: String,
    /// `None` if the fetch succeeded, else why it failed as a whole.
    pub error: Option<SourceError>,
    /// Calls that failed for parts of the source while the rest was read
    /// ([`SourceBatch::errors`]).
    pub errors: Vec<SourceError>,
    /// Notes about skipped records.
    pub notes: Vec<String>,
    /// Requests made.
    pub calls: u64,
    /// When the facts used were read: this run's `now` for a fetch made by
    /// the run, an earlier instant for facts served from the cache (see
    /// [`Syncer::sync_due`](crate::Syncer::sync_due)); `None` when nothing
    /// was read.
    pub read_at: Option<DateTime<Utc>>,
}

impl SourceReport {
    /// Every error of this fetch: the whole fetch's, then the parts'.
    pub fn all_errors(&self) -> impl Iterator<Item = &SourceError> {
        self.error.iter().chain(&self.errors)
    }
}

/// A [`SourceError`] as serialized: its text and kind.
#[derive(Serialize, Deserialize)]
struct SourceErrorWire {
    error: String,
    #[serde(default)]
    kind: ErrorKind,
}

/// [`SourceReport`] as serialized (the format before errors were typed,
/// plus the kinds and the parts' errors).
#[derive(Serialize, Deserialize)]
struct SourceReportWire {
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    error_kind: Option<ErrorKind>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    errors: Vec<SourceErrorWire>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    notes: Vec<String>,
    calls: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    read_at: Option<DateTime<Utc>>,
}

impl From<SourceReport> for SourceReportWire {
    fn from(r: SourceReport) -> Self {
        SourceReportWire {
            error: r.error.as_ref().map(ToString::to_string),
            error_kind: r.error.as_ref().map(SourceError::kind),
            errors: r
                .errors
                .iter()
                .map(|e| SourceErrorWire {
                    error: e.to_string(),
                    kind: e.kind(),
                })
                .collect(),
            name: r.name,
            notes: r.notes,
            calls: r.calls,
            read_at: r.read_at,
        }
    }
}

impl From<SourceReportWire> for SourceReport {
    fn from(w: SourceReportWire) -> Self {
        // Written as "{name}: {message}": read back as the message of an
        // error of that source, so that its Display shows the name once.
        let name = w.name;
        let read = |text: String, kind: ErrorKind| {
            let message = text
                .strip_prefix(name.as_str())
                .and_then(|t| t.strip_prefix(": "))
                .map(str::to_owned)
                .unwrap_or(text);
            SourceError::new(name.clone(), message).with_kind(kind)
        };
        let error = w
            .error
            .map(|text| read(text, w.error_kind.unwrap_or_default()));
        let errors = w
            .errors
            .into_iter()
            .map(|e| read(e.error, e.kind))
            .collect();
        SourceReport {
            name,
            error,
            errors,
            notes: w.notes,
            calls: w.calls,
            read_at: w.read_at,
        }
    }
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

//! Durable run state for access-sync runners, behind one small async trait,
//! [`RunState`], with three stores:
//!
//! | store | feature | for |
//! |---|---|---|
//! | [`MemoryState`] | always | tests, embedding, one-shot runs |
//! | `SqliteState` | `sqlite` (default) | one runner: a file next to its config |
//! | `PostgresState` | `postgres` | several runner replicas sharing one Brivo account |
//!
//! What a runner keeps between runs, all under a `namespace` (the runner
//! passes e.g. its Brivo account id and ownership prefix, so that several
//! installations can share one database):
//!
//! * the installation's **ownership prefix**, generated once
//!   ([`RunState::installation_prefix`]);
//! * the **people counted per scope** on the last run, to notice a scope
//!   that emptied or shrank ([`RunState::scope_people`]);
//! * **per-key backoff**, reset on success ([`RunState::backoff`]);
//! * **API budgets** as sliding windows per service, counted in
//!   [`BUDGET_BUCKET`] (one-minute) buckets and kept [`BUDGET_RETENTION`]
//!   (31 days) ([`RunState::record_calls`]);
//! * operators' **approvals** of held items, each good for one run and kept
//!   afterwards for audit ([`RunState::approve`]);
//! * a **cache** of slow-changing facts with the instant they were read,
//!   such as property time zones ([`RunState::cache_put`]);
//! * a **lease lock**, so that one runner at a time acts on a namespace
//!   ([`RunState::try_lock`]).
//!
//! The stores never read the clock: every instant is an argument, so runs
//! and tests are deterministic. Instants are kept to the microsecond.
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::time::Duration;
//! use access_state::{Backoff, LockOutcome, MemoryState, RunState};
//! use chrono::{TimeZone, Utc};
//!
//! # async fn demo() -> Result<(), access_state::StateError> {
//! let state = MemoryState::new();
//! let now = Utc.with_ymd_and_hms(2026, 3, 8, 10, 0, 0).unwrap();
//!
//! // Generated once per namespace, then always the same.
//! let prefix = state.installation_prefix("brivo:1234").await?;
//! assert!(prefix.starts_with("sync-"));
//! let ns = format!("brivo:1234/{prefix}");
//!
//! // One runner at a time.
//! let lease = Duration::from_secs(300);
//! assert!(state.try_lock(&ns, "host-a:41", now, lease).await?.is_acquired());
//! match state.try_lock(&ns, "host-b:7", now, lease).await? {
//!     LockOutcome::HeldBy { holder, until } => {
//!         assert_eq!(holder, "host-a:41");
//!         assert_eq!(until, now + chrono::Duration::minutes(5));
//!     }
//!     other => panic!("expected the lock to be held, got {other:?}"),
//! }
//!
//! // Budgets: how many Brivo calls in the last 30 days?
//! state.record_calls(&ns, "brivo", now, 12).await?;
//! let month = state.calls_since(&ns, "brivo", now - chrono::Duration::days(30)).await?;
//! assert_eq!(month, 12);
//!
//! // Last run's people per scope, and a per-user backoff.
//! let counts = BTreeMap::from([("property:100".to_string(), 240u64)]);
//! state.set_scope_people(&ns, &counts, now).await?;
//! assert_eq!(state.scope_people(&ns).await?, counts);
//! let b = Backoff::new(1, now + chrono::Duration::minutes(2));
//! state.set_backoff(&ns, "user:8812", Some(b)).await?;
//! assert_eq!(state.backoff(&ns, "user:8812").await?, Some(b));
//!
//! state.unlock(&ns, "host-a:41").await?;
//! # Ok(()) }
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(demo()).unwrap();
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

mod error;
mod memory;
mod read_only;
mod types;

#[cfg(feature = "postgres")]
mod postgres;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod schema;
#[cfg(feature = "sqlite")]
mod sqlite;

pub use error::{BoxError, StateError, StoreKind};
pub use memory::MemoryState;
#[cfg(feature = "postgres")]
pub use postgres::PostgresState;
pub use read_only::ReadOnlyState;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteState;
pub use types::{Approval, BUDGET_BUCKET, BUDGET_RETENTION, Backoff, LockOutcome};

/// The README's examples, compiled as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// The result of every [`RunState`] method.
pub type Result<T, E = StateError> = std::result::Result<T, E>;

/// Durable run state, keyed by a `namespace` that the caller chooses (for
/// example `"<brivo account id>/<ownership prefix>"`). Namespaces never see
/// each other's data, so several installations can share one database.
///
/// Every instant is passed in by the caller; a store never reads the
/// clock. Keys, ids and holders are opaque strings. Every method is atomic:
/// a reader sees a write whole or not at all.
///
/// Implemented by [`MemoryState`], `SqliteState` (feature `sqlite`) and
/// `PostgresState` (feature `postgres`); the crate's tests run one
/// conformance suite against all three. A runner takes it as
/// `&dyn RunState` (or `Arc<dyn RunState>`), whatever the store:
///
/// ```
/// use access_state::{Backoff, MemoryState, RunState, StateError};
/// use chrono::{DateTime, Duration, TimeZone, Utc};
///
/// /// Per-user backoff, doubled per consecutive failure, reset on success.
/// async fn after_action(
///     state: &dyn RunState, ns: &str, user: &str, failed: bool, now: DateTime<Utc>,
/// ) -> Result<(), StateError> {
///     if !failed {
///         return state.set_backoff(ns, user, None).await;
///     }
///     let failures = state.backoff(ns, user).await?.map_or(0, |b| b.failures) + 1;
///     let delay = Duration::seconds(30 << failures.min(10));
///     state.set_backoff(ns, user, Some(Backoff::new(failures, now + delay))).await
/// }
///
/// # async fn demo() -> Result<(), StateError> {
/// let state = MemoryState::new();
/// let now = Utc.with_ymd_and_hms(2026, 3, 8, 10, 0, 0).unwrap();
/// after_action(&state, "acct", "id:8812", true, now).await?;
/// after_action(&state, "acct", "id:8812", true, now).await?;
/// assert_eq!(state.backoff("acct", "id:8812").await?.map(|b| b.failures), Some(2));
/// after_action(&state, "acct", "id:8812", false, now).await?;
/// assert!(state.backoffs("acct").await?.is_empty());
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(demo()).unwrap();
/// ```
#[async_trait]
pub trait RunState: Send + Sync {
    /// Which store this is (for logs and errors).
    fn kind(&self) -> StoreKind;

    /// The installation's ownership prefix: `sync-` and 8 lowercase hex
    /// digits, generated at random on the first call for `namespace` and
    /// kept. Two runners calling at once get the same answer (the first
    /// insert wins; both read it back).
    ///
    /// Call it with a namespace that names the installation (the Brivo
    /// account id, say) before deriving the namespace for the rest.
    async fn installation_prefix(&self, namespace: &str) -> Result<String>;

    /// The installation's ownership prefix if one was generated for
    /// `namespace`, without generating one: for commands that only read
    /// (`who-has-access`), which must not give an installation a prefix.
    async fn stored_installation_prefix(&self, namespace: &str) -> Result<Option<String>>;

    /// The people counted per scope (`"property:100"`, …) by the last call
    /// of [`set_scope_people`](Self::set_scope_people); empty before the
    /// first.
    async fn scope_people(&self, namespace: &str) -> Result<BTreeMap<String, u64>>;

    /// Replaces the whole set of counts at once (scopes not in `counts` are
    /// forgotten), recording when (`at`). Counts above `i64::MAX` are
    /// refused with [`StateError::InvalidInput`] and change nothing.
    async fn set_scope_people(
        &self,
        namespace: &str,
        counts: &BTreeMap<String, u64>,
        at: DateTime<Utc>,
    ) -> Result<()>;

    /// The backoff of one key (a Brivo user, an action), if any.
    async fn backoff(&self, namespace: &str, key: &str) -> Result<Option<Backoff>>;

    /// Sets a key's backoff, or clears it with `None` (a success resets).
    async fn set_backoff(&self, namespace: &str, key: &str, backoff: Option<Backoff>)
    -> Result<()>;

    /// Every key's backoff, by key.
    async fn backoffs(&self, namespace: &str) -> Result<BTreeMap<String, Backoff>>;

    /// Counts `n` calls to `service` (`"brivo"`, …) made at `at`, in the
    /// one-minute bucket holding `at`, and deletes the namespace's buckets
    /// older than [`BUDGET_RETENTION`] before `at`. `n = 0` only prunes.
    async fn record_calls(
        &self,
        namespace: &str,
        service: &str,
        at: DateTime<Utc>,
        n: u64,
    ) -> Result<()>;

    /// The calls to `service` counted in buckets starting at or after the
    /// minute holding `since`: every call made at or after `since`, plus
    /// those earlier in that same minute. A sliding window is therefore
    /// exact to the minute and never undercounts; ask for
    /// `now - 30 days` for Brivo's monthly budget. Keep per-second limits in
    /// the client's in-memory rate limiter.
    async fn calls_since(
        &self,
        namespace: &str,
        service: &str,
        since: DateTime<Utc>,
    ) -> Result<u64>;

    /// Approves the held item `id` for the next run, by `by`, at `at`. It
    /// stays pending until consumed or revoked; approving a pending item
    /// again replaces who and when.
    async fn approve(&self, namespace: &str, id: &str, by: &str, at: DateTime<Utc>) -> Result<()>;

    /// The pending approvals, by id.
    async fn pending_approvals(&self, namespace: &str) -> Result<Vec<Approval>>;

    /// Marks the pending approvals among `ids` as used by the run at
    /// `run_at` and returns them (by id). Ids that are not pending are
    /// ignored. Used approvals are kept for audit
    /// ([`approval_history`](Self::approval_history)) and never pending
    /// again; approve the same id anew for a later run.
    async fn consume_approvals(
        &self,
        namespace: &str,
        ids: &[String],
        run_at: DateTime<Utc>,
    ) -> Result<Vec<Approval>>;

    /// Withdraws a pending approval; `false` when `id` was not pending.
    async fn revoke_approval(&self, namespace: &str, id: &str) -> Result<bool>;

    /// Every approval kept, pending and used, oldest first (by approval
    /// instant, then id).
    async fn approval_history(&self, namespace: &str) -> Result<Vec<Approval>>;

    /// Caches a slow-changing fact (a property's time zone: `kind = "zone"`,
    /// `key = "property:100"`) with the instant it was read.
    async fn cache_put(
        &self,
        namespace: &str,
        kind: &str,
        key: &str,
        value: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<()>;

    /// A cached fact and the instant it was read; the caller decides
    /// whether it is still fresh enough.
    async fn cache_get(
        &self,
        namespace: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<(serde_json::Value, DateTime<Utc>)>>;

    /// Takes or renews the namespace's lease lock for `holder` (e.g.
    /// `"hostname:pid"`), until `at + ttl`, atomically:
    ///
    /// * free, expired (`until <= at`) or already `holder`'s:
    ///   [`LockOutcome::Acquired`] with the new expiry;
    /// * another holder's, unexpired: [`LockOutcome::HeldBy`] with that
    ///   holder and its expiry, and nothing changes.
    ///
    /// Renew well before the expiry (at a third of `ttl`, say) while
    /// working; a runner that dies loses the lock when its lease runs out.
    /// A `ttl` of zero is [`StateError::InvalidInput`].
    async fn try_lock(
        &self,
        namespace: &str,
        holder: &str,
        at: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<LockOutcome>;

    /// Releases the lock if `holder` holds it (expired or not); `false`
    /// when it held nothing.
    async fn unlock(&self, namespace: &str, holder: &str) -> Result<bool>;
}

//! The runner that keeps Brivo door access in step with who should be
//! inside: it fetches facts from Entrata, OfficeRnD and directory feeds,
//! plans with [`access_engine`], and applies the plan to Brivo, safely and
//! observably.
//!
//! ```text
//! FactSource* ──facts──> access_engine::plan ──Plan──> Syncer::apply ──> AccessBackend (Brivo)
//!                              ^                                              │
//!                              └──────────── observed state ──────────────────┘
//! ```
//!
//! * Ports: [`FactSource`] (a source of facts) and [`AccessBackend`] (where
//!   access is written), async traits, so any source or a test double can be
//!   plugged in ([`memory`] has in-memory ones); implement them with the
//!   re-exported [`macro@async_trait`] attribute. [`secrecy`] and
//!   [`SecretString`] are re-exported too, for the secrets it takes.
//! * Errors are typed: every error carries an [`ErrorKind`] (throttled,
//!   auth, transient, ...) with `is_retryable`, `is_throttle` and `is_auth`,
//!   and keeps the client's own error ([`BackendError`], [`SourceError`],
//!   [`Outcome::Failed`], [`SyncError`]).
//! * Conversions from the clients' models to the engine's facts are public:
//!   [`brivo::observed_user`], [`entrata::lease_fact`],
//!   [`officernd::membership_fact`] and their siblings.
//! * [`Syncer::plan`] is the dry run (nothing written); [`Syncer::apply`]
//!   executes exactly a plan and refuses a stale one; [`Syncer::sync_once`]
//!   does both; [`Syncer::run`] loops, waking at the plan's `next_change`.
//! * Safety: a failed or partial fetch marks its scope incomplete, so the
//!   engine holds every revocation it feeds; a failed observation of Brivo
//!   means no plan at all; apply is idempotent per action; actions on one
//!   user run one at a time, in order; a group change's removals never wait
//!   on additions Brivo refuses for its 16-group cap ([`Outcome::Held`]).
//! * Observability: `tracing` spans per run, fetch, observation and action;
//!   a JSON-lines audit record per run ([`JsonLinesAudit`]).
//!
//! See [`Syncer`] for a runnable example.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod audit;
pub mod backend;
pub mod brivo;
pub mod budget;
pub mod clock;
pub mod config;
pub mod directory;
pub mod entrata;
pub mod error;
pub mod memory;
pub mod officernd;
#[cfg(feature = "server")]
pub mod server;
pub mod sources;
pub mod syncer;

/// The attribute that makes the async port traits ([`FactSource`],
/// [`AccessBackend`], [`DirectoryFeed`]) implementable, re-exported so an
/// implementation needs no `async-trait` dependency of its own: write
/// `#[access_sync::async_trait]` on the `impl`.
pub use async_trait::async_trait;

/// The `secrecy` crate and its [`SecretString`], re-exported for the secrets
/// this crate takes (e.g. `server::Routes::scim`'s token, `impl
/// Into<SecretString>`), so no `secrecy` dependency of your own is needed
/// and the versions always match.
///
/// ```
/// let token = access_sync::SecretString::from("scim-token");
/// use access_sync::secrecy::ExposeSecret as _;
/// assert_eq!(token.expose_secret(), "scim-token");
/// ```
pub use secrecy::{self, SecretString};

pub use audit::{AuditRecord, AuditSink, JsonLinesAudit, MemoryAudit, RunKind};
pub use backend::{
    AccessBackend, AdoptionRules, BackendError, CallCounts, CapRefusal, CredentialsHeld,
    GroupsApplied, ObserveScope, UserUpdate,
};
pub use brivo::BrivoBackend;
pub use budget::{Budget, BudgetUse, BudgetWindow, Deferral};
pub use clock::{Clock, ManualClock, SystemClock, TokioClock};
pub use directory::{DirectoryFeed, DirectoryListing, DirectoryRecord, DirectorySource};
pub use entrata::EntrataSource;
pub use error::ErrorKind;
pub use officernd::OfficeRndSource;
pub use sources::{FactSource, InputCounts, SourceBatch, SourceChanges, SourceError, SourceReport};
pub use syncer::{
    ActionResult, ApplyOptions, Outcome, RunEvent, SyncError, SyncPlan, SyncReport, Syncer,
    SyncerBuilder, describe,
};

//! The one error type of the crate.

use std::fmt;

/// The source of a store's error (rusqlite's or tokio-postgres's), boxed so
/// that the error type does not change with the cargo features.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Which store an error (or a [`RunState`](crate::RunState)) belongs to.
///
/// ```
/// use access_state::StoreKind;
/// assert_eq!(StoreKind::Postgres.to_string(), "PostgreSQL");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreKind {
    /// [`MemoryState`](crate::MemoryState): nothing survives the process.
    Memory,
    /// `SqliteState`: one file, one machine.
    Sqlite,
    /// `PostgresState`: a server shared by several runners.
    Postgres,
}

impl fmt::Display for StoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StoreKind::Memory => "in-memory",
            StoreKind::Sqlite => "SQLite",
            StoreKind::Postgres => "PostgreSQL",
        })
    }
}

/// What went wrong in a run-state store, and what to do about it.
///
/// The `Display` text names the store and the operation; the database's
/// own error is the [`source`](std::error::Error::source) (print the chain
/// to see it). No variant ever holds a password: PostgreSQL targets are
/// shown as `postgres://user@host:port/dbname`.
///
/// ```
/// use access_state::{StateError, StoreKind};
/// let e = StateError::SchemaTooNew { store: StoreKind::Sqlite, found: 9, supported: 1 };
/// assert!(e.to_string().contains("upgrade access-state"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    /// The store could not be opened, reached or set up.
    #[error(
        "could not open the {store} run state at {target}: check that it exists, that it is reachable and that this user may write to it"
    )]
    Open {
        /// Which store.
        store: StoreKind,
        /// The file path, or the PostgreSQL target without its password.
        target: String,
        /// The database's error.
        #[source]
        source: BoxError,
    },
    /// A read or write failed (the store was busy, unreachable or refused).
    #[error(
        "the {store} run state could not {operation}: the store may be busy, locked by another process or unreachable; retry later and see the cause below"
    )]
    Query {
        /// Which store.
        store: StoreKind,
        /// What was being done, e.g. `"take the lock"`.
        operation: &'static str,
        /// The database's error.
        #[source]
        source: BoxError,
    },
    /// The store was written by a newer access-state, whose schema this
    /// version does not know.
    #[error(
        "the {store} run state has schema version {found}, newer than the {supported} this access-state knows: upgrade access-state on every runner that shares this store"
    )]
    SchemaTooNew {
        /// Which store.
        store: StoreKind,
        /// The version found in the store.
        found: i64,
        /// The newest version this crate can use.
        supported: i64,
    },
    /// A stored value cannot be read back (it was edited outside
    /// access-state).
    #[error(
        "the {store} run state holds a value it cannot read ({what}); it was changed outside access-state: delete that row, and the runner will rebuild it"
    )]
    Corrupt {
        /// Which store.
        store: StoreKind,
        /// Which value, e.g. `"cache zone/property:100: not JSON"`.
        what: String,
    },
    /// An argument is out of range (a count above `i64::MAX`, a lease of
    /// zero length, an instant past the year 294 000).
    #[error("invalid run-state input: {what}")]
    InvalidInput {
        /// What was wrong with it.
        what: String,
    },
}

#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres")),
    allow(dead_code, reason = "used by the SQL stores")
)]
impl StateError {
    pub(crate) fn query(
        store: StoreKind,
        operation: &'static str,
        source: impl Into<BoxError>,
    ) -> Self {
        StateError::Query {
            store,
            operation,
            source: source.into(),
        }
    }

    pub(crate) fn corrupt(store: StoreKind, what: impl Into<String>) -> Self {
        StateError::Corrupt {
            store,
            what: what.into(),
        }
    }

    pub(crate) fn invalid(what: impl Into<String>) -> Self {
        StateError::InvalidInput { what: what.into() }
    }
}

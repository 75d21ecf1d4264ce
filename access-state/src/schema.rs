//! The versioned schema shared by the SQL stores.
//!
//! `access_state_schema_version` holds one row: the version applied. Each
//! entry of [`migrations`] takes the schema from version `i` to `i + 1`; a
//! store applies the missing ones in one locked transaction when it opens,
//! and refuses a store whose version is newer than [`LATEST`]. To change the
//! schema, append a migration; never edit one that has shipped.
//!
//! Instants are `BIGINT` microseconds since the Unix epoch (columns ending
//! in `_us`), identical in both stores; in PostgreSQL read them with
//! `to_timestamp(until_us / 1e6)`.

/// The SQL dialect: they differ only in how an identity column is spelled.
#[derive(Clone, Copy)]
pub(crate) enum Dialect {
    #[cfg(feature = "sqlite")]
    Sqlite,
    #[cfg(feature = "postgres")]
    Postgres,
}

/// Creates the version table; run before reading the version.
pub(crate) const VERSION_TABLE: &str =
    "CREATE TABLE IF NOT EXISTS access_state_schema_version (version BIGINT NOT NULL)";

/// The newest schema version this crate knows.
pub(crate) const LATEST: i64 = 1;

const V1: &str = "
CREATE TABLE access_state_installation (
    namespace TEXT PRIMARY KEY,
    prefix TEXT NOT NULL
);
CREATE TABLE access_state_scope_people (
    namespace TEXT NOT NULL,
    scope TEXT NOT NULL,
    people BIGINT NOT NULL,
    counted_at_us BIGINT NOT NULL,
    PRIMARY KEY (namespace, scope)
);
CREATE TABLE access_state_backoff (
    namespace TEXT NOT NULL,
    item_key TEXT NOT NULL,
    failures BIGINT NOT NULL,
    not_before_us BIGINT NOT NULL,
    PRIMARY KEY (namespace, item_key)
);
CREATE TABLE access_state_budget (
    namespace TEXT NOT NULL,
    service TEXT NOT NULL,
    bucket_us BIGINT NOT NULL,
    calls BIGINT NOT NULL,
    PRIMARY KEY (namespace, service, bucket_us)
);
CREATE TABLE access_state_approval (
    seq {IDENTITY},
    namespace TEXT NOT NULL,
    id TEXT NOT NULL,
    approved_by TEXT NOT NULL,
    approved_at_us BIGINT NOT NULL,
    consumed_at_us BIGINT
);
CREATE UNIQUE INDEX access_state_approval_pending
    ON access_state_approval (namespace, id) WHERE consumed_at_us IS NULL;
CREATE INDEX access_state_approval_history
    ON access_state_approval (namespace, approved_at_us);
CREATE TABLE access_state_cache (
    namespace TEXT NOT NULL,
    kind TEXT NOT NULL,
    cache_key TEXT NOT NULL,
    value_json TEXT NOT NULL,
    stored_at_us BIGINT NOT NULL,
    PRIMARY KEY (namespace, kind, cache_key)
);
CREATE TABLE access_state_lock (
    namespace TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until_us BIGINT NOT NULL
);
";

/// The migrations in order: entry `i` takes the schema to version `i + 1`.
pub(crate) fn migrations(dialect: Dialect) -> Vec<String> {
    let identity = match dialect {
        #[cfg(feature = "sqlite")]
        Dialect::Sqlite => "INTEGER PRIMARY KEY",
        #[cfg(feature = "postgres")]
        Dialect::Postgres => "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
    };
    vec![V1.replace("{IDENTITY}", identity)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_migration_per_version() {
        #[cfg(feature = "sqlite")]
        assert_eq!(migrations(Dialect::Sqlite).len() as i64, LATEST);
        #[cfg(feature = "postgres")]
        assert_eq!(migrations(Dialect::Postgres).len() as i64, LATEST);
    }
}

//! [`SqliteState`]: one file, one machine.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::schema::{self, Dialect};
use crate::types::{
    bucket_us, count_i64, from_us, lease_until, new_prefix, prune_before_us, to_us,
};
use crate::{Approval, Backoff, LockOutcome, Result, RunState, StateError, StoreKind};

const STORE: StoreKind = StoreKind::Sqlite;

/// How long a call waits for another process's write to finish before it
/// fails with [`StateError::Query`].
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Run state in one SQLite file: the default for a single runner. Keep the
/// file next to the runner's config (`access-state.sqlite`, say).
///
/// SQLite is compiled into the program (rusqlite's `bundled` feature), so
/// nothing needs installing. [`open`](Self::open) creates the file and the
/// schema if absent, upgrades an older schema, and turns on WAL mode (readers
/// never wait for the writer) with a 10-second busy timeout. Every call runs
/// on tokio's blocking pool. Several processes may open the same file (the
/// lease lock is one `IMMEDIATE` transaction), but only on one machine: do
/// not put it on a network file system; use `PostgresState` for replicas.
///
/// ```
/// # async fn demo() -> Result<(), access_state::StateError> {
/// use access_state::{RunState, SqliteState};
/// let path = std::env::temp_dir().join(format!("access-state-doc-{}.sqlite", std::process::id()));
/// let state = SqliteState::open(&path).await?;
/// let prefix = state.installation_prefix("brivo:1234").await?;
/// drop(state);
///
/// // A restarted runner finds the same prefix in the file.
/// let again = SqliteState::open(&path).await?;
/// assert_eq!(again.installation_prefix("brivo:1234").await?, prefix);
/// # drop(again);
/// # for ext in ["", "-wal", "-shm"] { let _ = std::fs::remove_file(format!("{}{ext}", path.display())); }
/// # Ok(()) }
/// # tokio::runtime::Builder::new_multi_thread().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Clone)]
pub struct SqliteState {
    conn: Arc<Mutex<Connection>>,
    path: Arc<PathBuf>,
}

impl std::fmt::Debug for SqliteState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteState")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// A failure inside a blocking closure: the database's, or ours.
enum Fail {
    Db(rusqlite::Error),
    State(StateError),
}

impl From<rusqlite::Error> for Fail {
    fn from(e: rusqlite::Error) -> Self {
        Fail::Db(e)
    }
}

impl From<StateError> for Fail {
    fn from(e: StateError) -> Self {
        Fail::State(e)
    }
}

type Done<T> = std::result::Result<T, Fail>;

impl SqliteState {
    /// Opens (creating if absent) the state file at `path`, sets it up and
    /// brings its schema to this version.
    ///
    /// Errors: [`StateError::Open`] when the file cannot be opened or
    /// written (a missing directory, no permission, not a SQLite file);
    /// [`StateError::SchemaTooNew`] when a newer access-state wrote it.
    pub async fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let p = path.clone();
        let opened = tokio::task::spawn_blocking(move || -> Done<Connection> {
            let mut conn = Connection::open(&p)?;
            conn.busy_timeout(BUSY_TIMEOUT)?;
            let _mode: String =
                conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
            migrate(&mut conn)?;
            Ok(conn)
        })
        .await;
        Self::opened(path, opened)
    }

    /// The state over a connection opened on the blocking pool, or the
    /// open error naming `path`.
    fn opened(
        path: PathBuf,
        opened: std::result::Result<Done<Connection>, tokio::task::JoinError>,
    ) -> Result<Self> {
        let open_error = |source: crate::BoxError| StateError::Open {
            store: STORE,
            target: path.display().to_string(),
            source,
        };
        match opened {
            Ok(Ok(conn)) => Ok(SqliteState {
                conn: Arc::new(Mutex::new(conn)),
                path: Arc::new(path),
            }),
            Ok(Err(Fail::Db(e))) => Err(open_error(e.into())),
            Ok(Err(Fail::State(e))) => Err(e),
            Err(join) => Err(open_error(join.into())),
        }
    }

    /// Opens an existing state file for reading only, for a command that
    /// reports and must change nothing (`who-has-access`): the file is not
    /// created, set up or migrated, nothing is written to it, and no WAL
    /// files are left beside it. While a runner has the file open (its
    /// `-wal` file exists) reads go through the runner's WAL and see every
    /// committed change; otherwise the file is copied into memory at once
    /// (checked unchanged while it was read) and read from there. Calls
    /// that write fail with [`StateError::Query`], and so
    /// does [`RunState::installation_prefix`] when no prefix is stored yet:
    /// use [`RunState::stored_installation_prefix`].
    ///
    /// Errors: [`StateError::Open`] when the file does not exist or cannot
    /// be read, or its schema is older than this version's (a runner of
    /// this version upgrades it); [`StateError::SchemaTooNew`] when a newer
    /// access-state wrote it.
    pub async fn open_read_only(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let open_error = |source: crate::BoxError| StateError::Open {
            store: STORE,
            target: path.display().to_string(),
            source,
        };
        if !path.is_file() {
            return Err(open_error(
                std::io::Error::new(std::io::ErrorKind::NotFound, "no such file").into(),
            ));
        }
        let p = path.clone();
        let opened = tokio::task::spawn_blocking(move || -> Done<Connection> {
            use rusqlite::OpenFlags;
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let mut wal = p.as_os_str().to_owned();
            wal.push("-wal");
            let conn = match snapshot(&p, Path::new(&wal), flags)? {
                Some(copy) => copy,
                // a runner has it open (or keeps writing): through its WAL
                None => Connection::open_with_flags(&p, flags)?,
            };
            conn.busy_timeout(BUSY_TIMEOUT)?;
            let found = schema_version(&conn)?;
            if found < schema::LATEST {
                return Err(StateError::Open {
                    store: STORE,
                    target: p.display().to_string(),
                    source: format!(
                        "schema version {found} is older than this version's {}; a runner \
                         upgrades it when it next opens the file",
                        schema::LATEST
                    )
                    .into(),
                }
                .into());
            }
            Ok(conn)
        })
        .await;
        Self::opened(path, opened)
    }

    /// The file this store keeps its state in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the connection, on tokio's blocking pool.
    async fn run<T, F>(&self, operation: &'static str, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Done<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        let joined = tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut guard)
        })
        .await;
        match joined {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(Fail::Db(e))) => Err(StateError::query(STORE, operation, e)),
            Ok(Err(Fail::State(e))) => Err(e),
            Err(join) => Err(StateError::query(STORE, operation, join)),
        }
    }
}

/// A copy in memory of a state file no runner has open, taken at once so
/// that a runner starting later cannot change the file under a reader that
/// takes no locks (an immutable open): the file's size and modification
/// time must be the same before and after the copy, with no `-wal` beside
/// it; else tried again, and `None` after three changes (a runner is
/// writing: read through its WAL instead). The copy refuses writes, as a
/// read-only open does.
fn snapshot(path: &Path, wal: &Path, flags: rusqlite::OpenFlags) -> Done<Option<Connection>> {
    let stamp = || -> Done<(u64, Option<std::time::SystemTime>)> {
        let m = std::fs::metadata(path).map_err(|e| StateError::Open {
            store: STORE,
            target: path.display().to_string(),
            source: e.into(),
        })?;
        Ok((m.len(), m.modified().ok()))
    };
    for _ in 0..3 {
        if wal.exists() {
            return Ok(None);
        }
        let before = stamp()?;
        let file = Connection::open_with_flags(
            immutable_uri(path),
            flags | rusqlite::OpenFlags::SQLITE_OPEN_URI,
        )?;
        let mut copy = Connection::open_in_memory()?;
        rusqlite::backup::Backup::new(&file, &mut copy)?.run_to_completion(
            i32::MAX,
            std::time::Duration::ZERO,
            None,
        )?;
        drop(file);
        if !wal.exists() && stamp()? == before {
            copy.pragma_update(None, "query_only", true)?;
            return Ok(Some(copy));
        }
    }
    Ok(None)
}

/// `file:PATH?immutable=1`: SQLite reads the file without locks and without
/// creating WAL files (it must not change while open).
fn immutable_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for c in path.to_string_lossy().chars() {
        match c {
            '%' => uri.push_str("%25"),
            '?' => uri.push_str("%3f"),
            '#' => uri.push_str("%23"),
            c => uri.push(c),
        }
    }
    uri.push_str("?immutable=1");
    uri
}

/// The schema version the file holds (0 when new); one newer than this
/// crate knows is [`StateError::SchemaTooNew`].
fn schema_version(conn: &Connection) -> Done<i64> {
    let found: Option<i64> = conn.query_row(
        "SELECT MAX(version) FROM access_state_schema_version",
        [],
        |r| r.get(0),
    )?;
    let found = found.unwrap_or(0);
    if found > schema::LATEST {
        return Err(StateError::SchemaTooNew {
            store: STORE,
            found,
            supported: schema::LATEST,
        }
        .into());
    }
    Ok(found)
}

fn migrate(conn: &mut Connection) -> Done<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.execute(schema::VERSION_TABLE, [])?;
    let found = schema_version(&tx)?;
    for (i, sql) in schema::migrations(Dialect::Sqlite).iter().enumerate() {
        let version = i as i64 + 1;
        if version > found {
            tx.execute_batch(sql)?;
        }
    }
    if found < schema::LATEST {
        tx.execute("DELETE FROM access_state_schema_version", [])?;
        tx.execute(
            "INSERT INTO access_state_schema_version (version) VALUES (?1)",
            [schema::LATEST],
        )?;
    }
    tx.commit()?;
    Ok(())
}

fn instant(us: i64, what: impl FnOnce() -> String) -> Done<DateTime<Utc>> {
    from_us(us).ok_or_else(|| {
        StateError::corrupt(STORE, format!("{}: instant {us} µs out of range", what())).into()
    })
}

fn unsigned(n: i64, what: impl FnOnce() -> String) -> Done<u64> {
    u64::try_from(n)
        .map_err(|_| StateError::corrupt(STORE, format!("{}: negative count {n}", what())).into())
}

fn approval_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, String, i64, Option<i64>)> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
}

fn to_approval(row: (String, String, i64, Option<i64>)) -> Done<Approval> {
    let (id, by, at, consumed) = row;
    let at = instant(at, || format!("approval {id:?}"))?;
    let consumed_at = match consumed {
        Some(us) => Some(instant(us, || format!("approval {id:?}"))?),
        None => None,
    };
    Ok(Approval {
        id,
        by,
        at,
        consumed_at,
    })
}

#[async_trait]
impl RunState for SqliteState {
    fn kind(&self) -> StoreKind {
        STORE
    }

    async fn installation_prefix(&self, namespace: &str) -> Result<String> {
        let ns = namespace.to_owned();
        let fresh = new_prefix();
        self.run("read or create the installation prefix", move |c| {
            c.execute(
                "INSERT INTO access_state_installation (namespace, prefix) VALUES (?1, ?2)
                 ON CONFLICT (namespace) DO NOTHING",
                params![ns, fresh],
            )?;
            Ok(c.query_row(
                "SELECT prefix FROM access_state_installation WHERE namespace = ?1",
                [&ns],
                |r| r.get(0),
            )?)
        })
        .await
    }

    async fn stored_installation_prefix(&self, namespace: &str) -> Result<Option<String>> {
        let ns = namespace.to_owned();
        self.run("read the installation prefix", move |c| {
            Ok(c.query_row(
                "SELECT prefix FROM access_state_installation WHERE namespace = ?1",
                [&ns],
                |r| r.get(0),
            )
            .optional()?)
        })
        .await
    }

    async fn scope_people(&self, namespace: &str) -> Result<BTreeMap<String, u64>> {
        let ns = namespace.to_owned();
        self.run("read the people per scope", move |c| {
            let mut stmt = c.prepare(
                "SELECT scope, people FROM access_state_scope_people WHERE namespace = ?1",
            )?;
            let rows = stmt.query_map([&ns], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
            let mut out = BTreeMap::new();
            for row in rows {
                let (scope, n) = row?;
                let n = unsigned(n, || format!("people of scope {scope:?}"))?;
                out.insert(scope, n);
            }
            Ok(out)
        })
        .await
    }

    async fn set_scope_people(
        &self,
        namespace: &str,
        counts: &BTreeMap<String, u64>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let rows = counts
            .iter()
            .map(|(scope, n)| {
                count_i64(*n, &format!("the people count of scope {scope:?}"))
                    .map(|n| (scope.clone(), n))
            })
            .collect::<Result<Vec<_>>>()?;
        let ns = namespace.to_owned();
        let at = to_us(at);
        self.run("save the people per scope", move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "DELETE FROM access_state_scope_people WHERE namespace = ?1",
                [&ns],
            )?;
            {
                let mut insert = tx.prepare(
                    "INSERT INTO access_state_scope_people (namespace, scope, people, counted_at_us)
                     VALUES (?1, ?2, ?3, ?4)",
                )?;
                for (scope, n) in &rows {
                    insert.execute(params![ns, scope, n, at])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn backoff(&self, namespace: &str, key: &str) -> Result<Option<Backoff>> {
        let (ns, key) = (namespace.to_owned(), key.to_owned());
        self.run("read a backoff", move |c| {
            let row: Option<(i64, i64)> = c
                .query_row(
                    "SELECT failures, not_before_us FROM access_state_backoff
                     WHERE namespace = ?1 AND item_key = ?2",
                    [&ns, &key],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            row.map(|(f, nb)| to_backoff(&key, f, nb)).transpose()
        })
        .await
    }

    async fn set_backoff(
        &self,
        namespace: &str,
        key: &str,
        backoff: Option<Backoff>,
    ) -> Result<()> {
        let (ns, key) = (namespace.to_owned(), key.to_owned());
        self.run("save a backoff", move |c| {
            match backoff {
                Some(b) => c.execute(
                    "INSERT INTO access_state_backoff (namespace, item_key, failures, not_before_us)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (namespace, item_key) DO UPDATE
                     SET failures = excluded.failures, not_before_us = excluded.not_before_us",
                    params![ns, key, i64::from(b.failures), to_us(b.not_before)],
                )?,
                None => c.execute(
                    "DELETE FROM access_state_backoff WHERE namespace = ?1 AND item_key = ?2",
                    [&ns, &key],
                )?,
            };
            Ok(())
        })
        .await
    }

    async fn backoffs(&self, namespace: &str) -> Result<BTreeMap<String, Backoff>> {
        let ns = namespace.to_owned();
        self.run("list the backoffs", move |c| {
            let mut stmt = c.prepare(
                "SELECT item_key, failures, not_before_us FROM access_state_backoff
                 WHERE namespace = ?1",
            )?;
            let rows = stmt.query_map([&ns], |r| {
                Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
            })?;
            let mut out = BTreeMap::new();
            for row in rows {
                let (key, f, nb) = row?;
                let b = to_backoff(&key, f, nb)?;
                out.insert(key, b);
            }
            Ok(out)
        })
        .await
    }

    async fn record_calls(
        &self,
        namespace: &str,
        service: &str,
        at: DateTime<Utc>,
        n: u64,
    ) -> Result<()> {
        let n = count_i64(n, "the number of calls")?;
        let (ns, service) = (namespace.to_owned(), service.to_owned());
        let (bucket, oldest) = (bucket_us(at), prune_before_us(at));
        self.run("record API calls", move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.execute(
                "DELETE FROM access_state_budget WHERE namespace = ?1 AND bucket_us < ?2",
                params![ns, oldest],
            )?;
            if n > 0 {
                tx.execute(
                    "INSERT INTO access_state_budget (namespace, service, bucket_us, calls)
                     VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT (namespace, service, bucket_us) DO UPDATE
                     SET calls = CASE WHEN calls > 9223372036854775807 - excluded.calls
                                      THEN 9223372036854775807
                                      ELSE calls + excluded.calls END",
                    params![ns, service, bucket, n],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn calls_since(
        &self,
        namespace: &str,
        service: &str,
        since: DateTime<Utc>,
    ) -> Result<u64> {
        let (ns, service) = (namespace.to_owned(), service.to_owned());
        let from = bucket_us(since);
        self.run("count API calls", move |c| {
            let sum: i64 = c.query_row(
                "SELECT COALESCE(SUM(calls), 0) FROM access_state_budget
                 WHERE namespace = ?1 AND service = ?2 AND bucket_us >= ?3",
                params![ns, service, from],
                |r| r.get(0),
            )?;
            unsigned(sum, || format!("calls to {service:?}"))
        })
        .await
    }

    async fn approve(&self, namespace: &str, id: &str, by: &str, at: DateTime<Utc>) -> Result<()> {
        let (ns, id, by) = (namespace.to_owned(), id.to_owned(), by.to_owned());
        let at = to_us(at);
        self.run("save an approval", move |c| {
            c.execute(
                "INSERT INTO access_state_approval (namespace, id, approved_by, approved_at_us)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (namespace, id) WHERE consumed_at_us IS NULL DO UPDATE
                 SET approved_by = excluded.approved_by, approved_at_us = excluded.approved_at_us",
                params![ns, id, by, at],
            )?;
            Ok(())
        })
        .await
    }

    async fn pending_approvals(&self, namespace: &str) -> Result<Vec<Approval>> {
        let ns = namespace.to_owned();
        self.run("list the pending approvals", move |c| {
            let mut stmt = c.prepare(
                "SELECT id, approved_by, approved_at_us, consumed_at_us FROM access_state_approval
                 WHERE namespace = ?1 AND consumed_at_us IS NULL ORDER BY id",
            )?;
            let rows = stmt.query_map([&ns], approval_row)?;
            rows.map(|r| to_approval(r?)).collect()
        })
        .await
    }

    async fn consume_approvals(
        &self,
        namespace: &str,
        ids: &[String],
        run_at: DateTime<Utc>,
    ) -> Result<Vec<Approval>> {
        let ns = namespace.to_owned();
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        let run_at = to_us(run_at);
        self.run("consume approvals", move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut out = Vec::new();
            {
                let mut update = tx.prepare(
                    "UPDATE access_state_approval SET consumed_at_us = ?3
                     WHERE namespace = ?1 AND id = ?2 AND consumed_at_us IS NULL
                     RETURNING id, approved_by, approved_at_us, consumed_at_us",
                )?;
                for id in &ids {
                    let mut rows = update.query(params![ns, id, run_at])?;
                    while let Some(row) = rows.next()? {
                        out.push(to_approval(approval_row(row)?)?);
                    }
                }
            }
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    async fn revoke_approval(&self, namespace: &str, id: &str) -> Result<bool> {
        let (ns, id) = (namespace.to_owned(), id.to_owned());
        self.run("revoke an approval", move |c| {
            let n = c.execute(
                "DELETE FROM access_state_approval
                 WHERE namespace = ?1 AND id = ?2 AND consumed_at_us IS NULL",
                [&ns, &id],
            )?;
            Ok(n > 0)
        })
        .await
    }

    async fn approval_history(&self, namespace: &str) -> Result<Vec<Approval>> {
        let ns = namespace.to_owned();
        self.run("list the approvals", move |c| {
            let mut stmt = c.prepare(
                "SELECT id, approved_by, approved_at_us, consumed_at_us FROM access_state_approval
                 WHERE namespace = ?1 ORDER BY approved_at_us, id, seq",
            )?;
            let rows = stmt.query_map([&ns], approval_row)?;
            rows.map(|r| to_approval(r?)).collect()
        })
        .await
    }

    async fn cache_put(
        &self,
        namespace: &str,
        kind: &str,
        key: &str,
        value: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<()> {
        let json = serde_json::to_string(value)
            .map_err(|e| StateError::invalid(format!("cache value not serializable: {e}")))?;
        let (ns, kind, key) = (namespace.to_owned(), kind.to_owned(), key.to_owned());
        let at = to_us(at);
        self.run("cache a fact", move |c| {
            c.execute(
                "INSERT INTO access_state_cache (namespace, kind, cache_key, value_json, stored_at_us)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (namespace, kind, cache_key) DO UPDATE
                 SET value_json = excluded.value_json, stored_at_us = excluded.stored_at_us",
                params![ns, kind, key, json, at],
            )?;
            Ok(())
        })
        .await
    }

    async fn cache_get(
        &self,
        namespace: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<(serde_json::Value, DateTime<Utc>)>> {
        let (ns, kind, key) = (namespace.to_owned(), kind.to_owned(), key.to_owned());
        self.run("read a cached fact", move |c| {
            let row: Option<(String, i64)> = c
                .query_row(
                    "SELECT value_json, stored_at_us FROM access_state_cache
                     WHERE namespace = ?1 AND kind = ?2 AND cache_key = ?3",
                    [&ns, &kind, &key],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((json, at)) = row else {
                return Ok(None);
            };
            let value = serde_json::from_str(&json)
                .map_err(|_| StateError::corrupt(STORE, format!("cache {kind}/{key}: not JSON")))?;
            Ok(Some((
                value,
                instant(at, || format!("cache {kind}/{key}"))?,
            )))
        })
        .await
    }

    async fn try_lock(
        &self,
        namespace: &str,
        holder: &str,
        at: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<LockOutcome> {
        let until = lease_until(at, ttl)?;
        let (ns, holder) = (namespace.to_owned(), holder.to_owned());
        let (at_us, until_us) = (to_us(at), to_us(until));
        self.run("take the lock", move |c| {
            // IMMEDIATE: the write lock is taken before the read, so two
            // processes cannot both see the lease free.
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let current: Option<(String, i64)> = tx
                .query_row(
                    "SELECT holder, until_us FROM access_state_lock WHERE namespace = ?1",
                    [&ns],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            if let Some((other, other_until)) = current
                && other != holder
                && other_until > at_us
            {
                let until = instant(other_until, || "the lock's expiry".to_owned())?;
                return Ok(LockOutcome::HeldBy {
                    holder: other,
                    until,
                });
            }
            tx.execute(
                "INSERT INTO access_state_lock (namespace, holder, until_us) VALUES (?1, ?2, ?3)
                 ON CONFLICT (namespace) DO UPDATE
                 SET holder = excluded.holder, until_us = excluded.until_us",
                params![ns, holder, until_us],
            )?;
            tx.commit()?;
            Ok(LockOutcome::Acquired { until })
        })
        .await
    }

    async fn unlock(&self, namespace: &str, holder: &str) -> Result<bool> {
        let (ns, holder) = (namespace.to_owned(), holder.to_owned());
        self.run("release the lock", move |c| {
            let n = c.execute(
                "DELETE FROM access_state_lock WHERE namespace = ?1 AND holder = ?2",
                [&ns, &holder],
            )?;
            Ok(n > 0)
        })
        .await
    }
}

fn to_backoff(key: &str, failures: i64, not_before: i64) -> Done<Backoff> {
    let failures = u32::try_from(failures)
        .map_err(|_| StateError::corrupt(STORE, format!("backoff {key:?}: failures {failures}")))?;
    Ok(Backoff::new(
        failures,
        instant(not_before, || format!("backoff {key:?}"))?,
    ))
}

//! [`PostgresState`]: a server shared by several runner replicas.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::{MappedMutexGuard, Mutex, MutexGuard};
use tokio_postgres::config::Host;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::{Client, Config, NoTls, Row, Socket};

use crate::schema::{self, Dialect};
use crate::types::{
    bucket_us, count_i64, from_us, lease_until, new_prefix, prune_before_us, to_us,
};
use crate::{Approval, Backoff, BoxError, LockOutcome, Result, RunState, StateError, StoreKind};

const STORE: StoreKind = StoreKind::Postgres;

/// The key of the advisory lock that serializes schema migrations
/// (`"acc_stat"` in ASCII).
const MIGRATION_LOCK: i64 = 0x6163_635f_7374_6174;

type Connecting = Pin<Box<dyn Future<Output = Result<Client, tokio_postgres::Error>> + Send>>;
type Connector = dyn Fn(Config) -> Connecting + Send + Sync;

/// Run state in PostgreSQL: for several runner replicas acting on one Brivo
/// account, which must share their budget windows, backoffs, approvals and
/// the lease lock that lets exactly one of them act at a time.
///
/// [`connect`](Self::connect) takes a libpq-style URL
/// (`postgres://user:password@host:5432/dbname`) or key-value string,
/// connects without TLS, creates the tables (all named `access_state_*`) if
/// absent and upgrades an older schema, one runner at a time (an advisory
/// lock). Put them in their own schema with
/// `?options=-csearch_path%3Daccess_state` (create the schema first), or
/// give them a database of their own. A dropped connection is reopened on
/// the next call. Calls from one `PostgresState` (and its clones) go one at
/// a time over one connection; that is ample for a runner.
///
/// **TLS.** `connect` is for a server on the same host or a private
/// network. For anything else, pass a TLS connector to
/// [`connect_with_tls`](Self::connect_with_tls): for example
/// `postgres_native_tls::MakeTlsConnector` (crate `postgres-native-tls`) or
/// `tokio_postgres_rustls::MakeRustlsConnect` (crate
/// `tokio-postgres-rustls`), and add `sslmode=require` to the URL.
///
/// The password is never shown: `Debug`, errors and [`target`](Self::target)
/// name the server as `postgres://user@host:port/dbname`.
///
/// ```no_run
/// # async fn demo() -> Result<(), access_state::StateError> {
/// use access_state::{PostgresState, RunState};
/// let url = std::env::var("ACCESS_STATE_POSTGRES_URL").unwrap_or_default();
/// let state = PostgresState::connect(&url).await?;
/// let prefix = state.installation_prefix("brivo:1234").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct PostgresState {
    inner: Arc<Inner>,
}

struct Inner {
    config: Config,
    target: String,
    connector: Box<Connector>,
    client: Mutex<Option<Client>>,
}

impl std::fmt::Debug for PostgresState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresState")
            .field("target", &self.inner.target)
            .finish_non_exhaustive()
    }
}

impl PostgresState {
    /// Connects without TLS to the server named by `url`, and creates or
    /// upgrades the schema.
    ///
    /// Errors: [`StateError::Open`] when the URL does not parse, the server
    /// cannot be reached or refuses the login, or the tables cannot be
    /// created; [`StateError::SchemaTooNew`] when a newer access-state
    /// wrote them.
    pub async fn connect(url: &str) -> Result<Self> {
        Self::connect_with_tls(url, NoTls).await
    }

    /// As [`connect`](Self::connect), through the TLS connector `tls` (see
    /// the type's docs for the usual ones).
    pub async fn connect_with_tls<T>(url: &str, tls: T) -> Result<Self>
    where
        T: MakeTlsConnect<Socket> + Clone + Send + Sync + 'static,
        T::Stream: Send + 'static,
        T::TlsConnect: Send,
        <T::TlsConnect as TlsConnect<Socket>>::Future: Send,
    {
        let config: Config = url.parse().map_err(|e| StateError::Open {
            store: STORE,
            target: "the PostgreSQL URL given".to_owned(),
            source: redacted_parse_error(e),
        })?;
        let target = describe(&config);
        let connector: Box<Connector> = Box::new(move |config: Config| {
            let tls = tls.clone();
            Box::pin(async move {
                let (client, connection) = config.connect(tls).await?;
                // The connection's errors surface as failed queries on the
                // client, after which the next call reconnects.
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                Ok(client)
            })
        });
        let open_error = |source: BoxError| StateError::Open {
            store: STORE,
            target: target.clone(),
            source,
        };
        let mut client = connector(config.clone())
            .await
            .map_err(|e| open_error(e.into()))?;
        match migrate(&mut client).await {
            Ok(()) => {}
            Err(Fail::Db(e)) => return Err(open_error(e.into())),
            Err(Fail::State(e)) => return Err(e),
        }
        Ok(PostgresState {
            inner: Arc::new(Inner {
                config,
                target,
                connector,
                client: Mutex::new(Some(client)),
            }),
        })
    }

    /// The server, as `postgres://user@host:port/dbname` (no password).
    pub fn target(&self) -> &str {
        &self.inner.target
    }

    /// The connection, reopened if it was lost.
    async fn client(&self, operation: &'static str) -> Result<MappedMutexGuard<'_, Client>> {
        let mut guard = self.inner.client.lock().await;
        if guard.as_ref().is_none_or(Client::is_closed) {
            *guard = None;
            let client = (self.inner.connector)(self.inner.config.clone())
                .await
                .map_err(|e| StateError::query(STORE, operation, e))?;
            *guard = Some(client);
        }
        MutexGuard::try_map(guard, Option::as_mut).map_err(|_| {
            StateError::query(
                STORE,
                operation,
                "the connection was lost while reopening it",
            )
        })
    }
}

/// The URL parser may quote a character of the string in its message
/// ("expected `=` but got `x`"), which could be part of the password: keep
/// only messages that name an option.
fn redacted_parse_error(e: tokio_postgres::Error) -> BoxError {
    let detail = std::error::Error::source(&e).map(ToString::to_string);
    match detail {
        Some(d) if d.starts_with("invalid value for option") || d.starts_with("unknown option") => {
            format!("invalid connection string: {d}").into()
        }
        _ => "invalid connection string (details withheld: they may quote the password); expected postgres://user:password@host:port/dbname".into(),
    }
}

/// `postgres://user@host:port/dbname`, never the password.
fn describe(config: &Config) -> String {
    let user = config.get_user().unwrap_or("");
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = match h {
                Host::Tcp(name) => name.clone(),
                #[cfg(unix)]
                Host::Unix(path) => path.display().to_string(),
            };
            let port = config
                .get_ports()
                .get(i)
                .or(config.get_ports().first())
                .copied()
                .unwrap_or(5432);
            format!("{host}:{port}")
        })
        .collect();
    let at = if user.is_empty() {
        String::new()
    } else {
        format!("{user}@")
    };
    format!(
        "postgres://{at}{}/{}",
        hosts.join(","),
        config.get_dbname().unwrap_or(user)
    )
}

enum Fail {
    Db(tokio_postgres::Error),
    State(StateError),
}

impl From<tokio_postgres::Error> for Fail {
    fn from(e: tokio_postgres::Error) -> Self {
        Fail::Db(e)
    }
}

impl From<StateError> for Fail {
    fn from(e: StateError) -> Self {
        Fail::State(e)
    }
}

async fn migrate(client: &mut Client) -> Result<(), Fail> {
    let tx = client.transaction().await?;
    // Runners starting together would race on CREATE TABLE; one at a time.
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(schema::VERSION_TABLE).await?;
    let found: Option<i64> = tx
        .query_one("SELECT MAX(version) FROM access_state_schema_version", &[])
        .await?
        .get(0);
    let found = found.unwrap_or(0);
    if found > schema::LATEST {
        return Err(StateError::SchemaTooNew {
            store: STORE,
            found,
            supported: schema::LATEST,
        }
        .into());
    }
    for (i, sql) in schema::migrations(Dialect::Postgres).iter().enumerate() {
        if i as i64 + 1 > found {
            tx.batch_execute(sql).await?;
        }
    }
    if found < schema::LATEST {
        tx.execute("DELETE FROM access_state_schema_version", &[])
            .await?;
        tx.execute(
            "INSERT INTO access_state_schema_version (version) VALUES ($1)",
            &[&schema::LATEST],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

fn db(operation: &'static str) -> impl FnOnce(tokio_postgres::Error) -> StateError {
    move |e| StateError::query(STORE, operation, e)
}

fn instant(us: i64, what: impl FnOnce() -> String) -> Result<DateTime<Utc>> {
    from_us(us).ok_or_else(|| {
        StateError::corrupt(STORE, format!("{}: instant {us} µs out of range", what()))
    })
}

fn unsigned(n: i64, what: impl FnOnce() -> String) -> Result<u64> {
    u64::try_from(n)
        .map_err(|_| StateError::corrupt(STORE, format!("{}: negative count {n}", what())))
}

fn to_approval(row: &Row) -> Result<Approval> {
    let id: String = row.get(0);
    let at = instant(row.get(2), || format!("approval {id:?}"))?;
    let consumed_at = match row.get::<_, Option<i64>>(3) {
        Some(us) => Some(instant(us, || format!("approval {id:?}"))?),
        None => None,
    };
    Ok(Approval {
        by: row.get(1),
        id,
        at,
        consumed_at,
    })
}

fn to_backoff(key: &str, failures: i64, not_before: i64) -> Result<Backoff> {
    let failures = u32::try_from(failures)
        .map_err(|_| StateError::corrupt(STORE, format!("backoff {key:?}: failures {failures}")))?;
    Ok(Backoff::new(
        failures,
        instant(not_before, || format!("backoff {key:?}"))?,
    ))
}

#[async_trait]
impl RunState for PostgresState {
    fn kind(&self) -> StoreKind {
        STORE
    }

    async fn installation_prefix(&self, namespace: &str) -> Result<String> {
        const OP: &str = "read or create the installation prefix";
        let client = self.client(OP).await?;
        // Insert if absent, then read: two runners at once both read the
        // winner's prefix.
        client
            .execute(
                "INSERT INTO access_state_installation (namespace, prefix) VALUES ($1, $2)
                 ON CONFLICT (namespace) DO NOTHING",
                &[&namespace, &new_prefix()],
            )
            .await
            .map_err(db(OP))?;
        let row = client
            .query_one(
                "SELECT prefix FROM access_state_installation WHERE namespace = $1",
                &[&namespace],
            )
            .await
            .map_err(db(OP))?;
        Ok(row.get(0))
    }

    async fn stored_installation_prefix(&self, namespace: &str) -> Result<Option<String>> {
        const OP: &str = "read the installation prefix";
        let client = self.client(OP).await?;
        let row = client
            .query_opt(
                "SELECT prefix FROM access_state_installation WHERE namespace = $1",
                &[&namespace],
            )
            .await
            .map_err(db(OP))?;
        Ok(row.map(|r| r.get(0)))
    }

    async fn scope_people(&self, namespace: &str) -> Result<BTreeMap<String, u64>> {
        const OP: &str = "read the people per scope";
        let rows = self
            .client(OP)
            .await?
            .query(
                "SELECT scope, people FROM access_state_scope_people WHERE namespace = $1",
                &[&namespace],
            )
            .await
            .map_err(db(OP))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let scope: String = row.get(0);
            let n = unsigned(row.get(1), || format!("people of scope {scope:?}"))?;
            out.insert(scope, n);
        }
        Ok(out)
    }

    async fn set_scope_people(
        &self,
        namespace: &str,
        counts: &BTreeMap<String, u64>,
        at: DateTime<Utc>,
    ) -> Result<()> {
        const OP: &str = "save the people per scope";
        let mut scopes = Vec::with_capacity(counts.len());
        let mut people = Vec::with_capacity(counts.len());
        for (scope, n) in counts {
            people.push(count_i64(
                *n,
                &format!("the people count of scope {scope:?}"),
            )?);
            scopes.push(scope.as_str());
        }
        let at = to_us(at);
        let mut client = self.client(OP).await?;
        let tx = client.transaction().await.map_err(db(OP))?;
        tx.execute(
            "DELETE FROM access_state_scope_people WHERE namespace = $1",
            &[&namespace],
        )
        .await
        .map_err(db(OP))?;
        tx.execute(
            "INSERT INTO access_state_scope_people (namespace, scope, people, counted_at_us)
             SELECT $1, s, p, $4 FROM unnest($2::text[], $3::bigint[]) AS t(s, p)",
            &[&namespace, &scopes, &people, &at],
        )
        .await
        .map_err(db(OP))?;
        tx.commit().await.map_err(db(OP))
    }

    async fn backoff(&self, namespace: &str, key: &str) -> Result<Option<Backoff>> {
        const OP: &str = "read a backoff";
        let row = self
            .client(OP)
            .await?
            .query_opt(
                "SELECT failures, not_before_us FROM access_state_backoff
                 WHERE namespace = $1 AND item_key = $2",
                &[&namespace, &key],
            )
            .await
            .map_err(db(OP))?;
        row.map(|r| to_backoff(key, r.get(0), r.get(1))).transpose()
    }

    async fn set_backoff(
        &self,
        namespace: &str,
        key: &str,
        backoff: Option<Backoff>,
    ) -> Result<()> {
        const OP: &str = "save a backoff";
        let client = self.client(OP).await?;
        match backoff {
            Some(b) => {
                client
                    .execute(
                        "INSERT INTO access_state_backoff (namespace, item_key, failures, not_before_us)
                         VALUES ($1, $2, $3, $4)
                         ON CONFLICT (namespace, item_key) DO UPDATE
                         SET failures = excluded.failures, not_before_us = excluded.not_before_us",
                        &[
                            &namespace,
                            &key,
                            &i64::from(b.failures),
                            &to_us(b.not_before),
                        ],
                    )
                    .await
            }
            None => {
                client
                    .execute(
                        "DELETE FROM access_state_backoff WHERE namespace = $1 AND item_key = $2",
                        &[&namespace, &key],
                    )
                    .await
            }
        }
        .map_err(db(OP))?;
        Ok(())
    }

    async fn backoffs(&self, namespace: &str) -> Result<BTreeMap<String, Backoff>> {
        const OP: &str = "list the backoffs";
        let rows = self
            .client(OP)
            .await?
            .query(
                "SELECT item_key, failures, not_before_us FROM access_state_backoff
                 WHERE namespace = $1",
                &[&namespace],
            )
            .await
            .map_err(db(OP))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let key: String = row.get(0);
            let b = to_backoff(&key, row.get(1), row.get(2))?;
            out.insert(key, b);
        }
        Ok(out)
    }

    async fn record_calls(
        &self,
        namespace: &str,
        service: &str,
        at: DateTime<Utc>,
        n: u64,
    ) -> Result<()> {
        const OP: &str = "record API calls";
        let n = count_i64(n, "the number of calls")?;
        let (bucket, oldest) = (bucket_us(at), prune_before_us(at));
        let mut client = self.client(OP).await?;
        let tx = client.transaction().await.map_err(db(OP))?;
        tx.execute(
            "DELETE FROM access_state_budget WHERE namespace = $1 AND bucket_us < $2",
            &[&namespace, &oldest],
        )
        .await
        .map_err(db(OP))?;
        if n > 0 {
            tx.execute(
                "INSERT INTO access_state_budget (namespace, service, bucket_us, calls)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (namespace, service, bucket_us) DO UPDATE
                 SET calls = CASE WHEN access_state_budget.calls > 9223372036854775807 - excluded.calls
                                  THEN 9223372036854775807
                                  ELSE access_state_budget.calls + excluded.calls END",
                &[&namespace, &service, &bucket, &n],
            )
            .await
            .map_err(db(OP))?;
        }
        tx.commit().await.map_err(db(OP))
    }

    async fn calls_since(
        &self,
        namespace: &str,
        service: &str,
        since: DateTime<Utc>,
    ) -> Result<u64> {
        const OP: &str = "count API calls";
        let row = self
            .client(OP)
            .await?
            .query_one(
                "SELECT COALESCE(SUM(calls), 0)::BIGINT FROM access_state_budget
                 WHERE namespace = $1 AND service = $2 AND bucket_us >= $3",
                &[&namespace, &service, &bucket_us(since)],
            )
            .await
            .map_err(db(OP))?;
        unsigned(row.get(0), || format!("calls to {service:?}"))
    }

    async fn approve(&self, namespace: &str, id: &str, by: &str, at: DateTime<Utc>) -> Result<()> {
        const OP: &str = "save an approval";
        self.client(OP)
            .await?
            .execute(
                "INSERT INTO access_state_approval (namespace, id, approved_by, approved_at_us)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (namespace, id) WHERE consumed_at_us IS NULL DO UPDATE
                 SET approved_by = excluded.approved_by, approved_at_us = excluded.approved_at_us",
                &[&namespace, &id, &by, &to_us(at)],
            )
            .await
            .map_err(db(OP))?;
        Ok(())
    }

    async fn pending_approvals(&self, namespace: &str) -> Result<Vec<Approval>> {
        const OP: &str = "list the pending approvals";
        let rows = self
            .client(OP)
            .await?
            .query(
                "SELECT id, approved_by, approved_at_us, consumed_at_us FROM access_state_approval
                 WHERE namespace = $1 AND consumed_at_us IS NULL ORDER BY id COLLATE \"C\"",
                &[&namespace],
            )
            .await
            .map_err(db(OP))?;
        rows.iter().map(to_approval).collect()
    }

    async fn consume_approvals(
        &self,
        namespace: &str,
        ids: &[String],
        run_at: DateTime<Utc>,
    ) -> Result<Vec<Approval>> {
        const OP: &str = "consume approvals";
        let rows = self
            .client(OP)
            .await?
            .query(
                "UPDATE access_state_approval SET consumed_at_us = $3
                 WHERE namespace = $1 AND id = ANY($2) AND consumed_at_us IS NULL
                 RETURNING id, approved_by, approved_at_us, consumed_at_us",
                &[&namespace, &ids, &to_us(run_at)],
            )
            .await
            .map_err(db(OP))?;
        let mut out = rows.iter().map(to_approval).collect::<Result<Vec<_>>>()?;
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    async fn revoke_approval(&self, namespace: &str, id: &str) -> Result<bool> {
        const OP: &str = "revoke an approval";
        let n = self
            .client(OP)
            .await?
            .execute(
                "DELETE FROM access_state_approval
                 WHERE namespace = $1 AND id = $2 AND consumed_at_us IS NULL",
                &[&namespace, &id],
            )
            .await
            .map_err(db(OP))?;
        Ok(n > 0)
    }

    async fn approval_history(&self, namespace: &str) -> Result<Vec<Approval>> {
        const OP: &str = "list the approvals";
        let rows = self
            .client(OP)
            .await?
            .query(
                "SELECT id, approved_by, approved_at_us, consumed_at_us FROM access_state_approval
                 WHERE namespace = $1 ORDER BY approved_at_us, id COLLATE \"C\", seq",
                &[&namespace],
            )
            .await
            .map_err(db(OP))?;
        rows.iter().map(to_approval).collect()
    }

    async fn cache_put(
        &self,
        namespace: &str,
        kind: &str,
        key: &str,
        value: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<()> {
        const OP: &str = "cache a fact";
        let json = serde_json::to_string(value)
            .map_err(|e| StateError::invalid(format!("cache value not serializable: {e}")))?;
        self.client(OP)
            .await?
            .execute(
                "INSERT INTO access_state_cache (namespace, kind, cache_key, value_json, stored_at_us)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (namespace, kind, cache_key) DO UPDATE
                 SET value_json = excluded.value_json, stored_at_us = excluded.stored_at_us",
                &[&namespace, &kind, &key, &json, &to_us(at)],
            )
            .await
            .map_err(db(OP))?;
        Ok(())
    }

    async fn cache_get(
        &self,
        namespace: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<(serde_json::Value, DateTime<Utc>)>> {
        const OP: &str = "read a cached fact";
        let row = self
            .client(OP)
            .await?
            .query_opt(
                "SELECT value_json, stored_at_us FROM access_state_cache
                 WHERE namespace = $1 AND kind = $2 AND cache_key = $3",
                &[&namespace, &kind, &key],
            )
            .await
            .map_err(db(OP))?;
        let Some(row) = row else {
            return Ok(None);
        };
        let json: String = row.get(0);
        let value = serde_json::from_str(&json)
            .map_err(|_| StateError::corrupt(STORE, format!("cache {kind}/{key}: not JSON")))?;
        Ok(Some((
            value,
            instant(row.get(1), || format!("cache {kind}/{key}"))?,
        )))
    }

    async fn try_lock(
        &self,
        namespace: &str,
        holder: &str,
        at: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<LockOutcome> {
        const OP: &str = "take the lock";
        let until = lease_until(at, ttl)?;
        let mut client = self.client(OP).await?;
        let tx = client.transaction().await.map_err(db(OP))?;
        // Takes the lease when it is free, expired or ours; otherwise the
        // conflicting row stays locked by this transaction, so the read
        // below sees the holder that kept it.
        let taken = tx
            .query_opt(
                "INSERT INTO access_state_lock (namespace, holder, until_us) VALUES ($1, $2, $4)
                 ON CONFLICT (namespace) DO UPDATE
                 SET holder = excluded.holder, until_us = excluded.until_us
                 WHERE access_state_lock.holder = excluded.holder
                    OR access_state_lock.until_us <= $3
                 RETURNING until_us",
                &[&namespace, &holder, &to_us(at), &to_us(until)],
            )
            .await
            .map_err(db(OP))?;
        let outcome = if taken.is_some() {
            LockOutcome::Acquired { until }
        } else {
            let row = tx
                .query_one(
                    "SELECT holder, until_us FROM access_state_lock WHERE namespace = $1",
                    &[&namespace],
                )
                .await
                .map_err(db(OP))?;
            LockOutcome::HeldBy {
                holder: row.get(0),
                until: instant(row.get(1), || "the lock's expiry".to_owned())?,
            }
        };
        tx.commit().await.map_err(db(OP))?;
        Ok(outcome)
    }

    async fn unlock(&self, namespace: &str, holder: &str) -> Result<bool> {
        const OP: &str = "release the lock";
        let n = self
            .client(OP)
            .await?
            .execute(
                "DELETE FROM access_state_lock WHERE namespace = $1 AND holder = $2",
                &[&namespace, &holder],
            )
            .await
            .map_err(db(OP))?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_never_show_the_password() {
        let c: Config = "postgres://runner:hunter2@db.internal:6543/state"
            .parse()
            .expect("valid URL");
        assert_eq!(describe(&c), "postgres://runner@db.internal:6543/state");
        let c: Config = "host=/run/pg user=u password=hunter2"
            .parse()
            .expect("valid");
        assert_eq!(describe(&c), "postgres://u@/run/pg:5432/u");
    }

    #[test]
    fn parse_errors_never_quote_the_password() {
        let e = "host=h password='hunter2"
            .parse::<Config>()
            .expect_err("unterminated");
        assert!(!redacted_parse_error(e).to_string().contains("hunter2"));
        let e = "postgres://u:hunter2@h:notaport/db"
            .parse::<Config>()
            .expect_err("bad port");
        let msg = redacted_parse_error(e).to_string();
        assert!(msg.contains("port"), "{msg}");
        assert!(!msg.contains("hunter2"));
    }
}

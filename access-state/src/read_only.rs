//! A run state that reads and refuses every write.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::{Approval, Backoff, LockOutcome, Result, RunState, StateError, StoreKind};

/// Another store, read through and never written: for a command that only
/// reports (`who-has-access`) against the store a runner uses. Reads go to
/// the store; every write fails with [`StateError::Query`] and changes
/// nothing, as a SQLite file opened read-only does
/// ([`SqliteState::open_read_only`](crate::SqliteState::open_read_only)),
/// whatever the store (PostgreSQL has no read-only connection of its own).
///
/// ```
/// use std::sync::Arc;
/// use access_state::{MemoryState, ReadOnlyState, RunState, StateError};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let runner = Arc::new(MemoryState::new());
/// let prefix = runner.installation_prefix("acct").await.unwrap();
/// let reader = ReadOnlyState::new(runner.clone());
/// assert_eq!(reader.stored_installation_prefix("acct").await.unwrap(), Some(prefix));
/// let e = reader.installation_prefix("other").await.unwrap_err();
/// assert!(matches!(e, StateError::Query { .. }));
/// assert_eq!(runner.stored_installation_prefix("other").await.unwrap(), None);
/// # });
/// ```
#[derive(Clone)]
pub struct ReadOnlyState {
    inner: Arc<dyn RunState>,
}

impl std::fmt::Debug for ReadOnlyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadOnlyState")
            .field("store", &self.inner.kind())
            .finish()
    }
}

impl ReadOnlyState {
    /// Reads through `inner`, writes nothing to it.
    pub fn new(inner: Arc<dyn RunState>) -> Self {
        ReadOnlyState { inner }
    }

    fn refuse<T>(&self, operation: &'static str) -> Result<T> {
        Err(StateError::Query {
            store: self.inner.kind(),
            operation,
            source: "opened read-only: this command writes nothing".into(),
        })
    }
}

#[async_trait]
impl RunState for ReadOnlyState {
    fn kind(&self) -> StoreKind {
        self.inner.kind()
    }

    /// The stored prefix; never generates one.
    async fn installation_prefix(&self, namespace: &str) -> Result<String> {
        match self.inner.stored_installation_prefix(namespace).await? {
            Some(p) => Ok(p),
            None => self.refuse("generate an installation prefix"),
        }
    }

    async fn stored_installation_prefix(&self, namespace: &str) -> Result<Option<String>> {
        self.inner.stored_installation_prefix(namespace).await
    }

    async fn scope_people(&self, namespace: &str) -> Result<BTreeMap<String, u64>> {
        self.inner.scope_people(namespace).await
    }

    async fn set_scope_people(
        &self,
        _: &str,
        _: &BTreeMap<String, u64>,
        _: DateTime<Utc>,
    ) -> Result<()> {
        self.refuse("store the scope counts")
    }

    async fn backoff(&self, namespace: &str, key: &str) -> Result<Option<Backoff>> {
        self.inner.backoff(namespace, key).await
    }

    async fn set_backoff(&self, _: &str, _: &str, _: Option<Backoff>) -> Result<()> {
        self.refuse("store a backoff")
    }

    async fn backoffs(&self, namespace: &str) -> Result<BTreeMap<String, Backoff>> {
        self.inner.backoffs(namespace).await
    }

    async fn record_calls(&self, _: &str, _: &str, _: DateTime<Utc>, _: u64) -> Result<()> {
        self.refuse("count calls")
    }

    async fn calls_since(
        &self,
        namespace: &str,
        service: &str,
        since: DateTime<Utc>,
    ) -> Result<u64> {
        self.inner.calls_since(namespace, service, since).await
    }

    async fn approve(&self, _: &str, _: &str, _: &str, _: DateTime<Utc>) -> Result<()> {
        self.refuse("store an approval")
    }

    async fn pending_approvals(&self, namespace: &str) -> Result<Vec<Approval>> {
        self.inner.pending_approvals(namespace).await
    }

    async fn consume_approvals(
        &self,
        _: &str,
        _: &[String],
        _: DateTime<Utc>,
    ) -> Result<Vec<Approval>> {
        self.refuse("use approvals")
    }

    async fn revoke_approval(&self, _: &str, _: &str) -> Result<bool> {
        self.refuse("withdraw an approval")
    }

    async fn approval_history(&self, namespace: &str) -> Result<Vec<Approval>> {
        self.inner.approval_history(namespace).await
    }

    async fn cache_put(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: &serde_json::Value,
        _: DateTime<Utc>,
    ) -> Result<()> {
        self.refuse("cache a fact")
    }

    async fn cache_get(
        &self,
        namespace: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<(serde_json::Value, DateTime<Utc>)>> {
        self.inner.cache_get(namespace, kind, key).await
    }

    async fn try_lock(
        &self,
        _: &str,
        _: &str,
        _: DateTime<Utc>,
        _: Duration,
    ) -> Result<LockOutcome> {
        self.refuse("take the lock")
    }

    async fn unlock(&self, _: &str, _: &str) -> Result<bool> {
        self.refuse("release the lock")
    }
}

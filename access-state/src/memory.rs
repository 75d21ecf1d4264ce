//! [`MemoryState`]: the in-process store.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::types::{bucket_us, count_i64, lease_until, new_prefix, prune_before_us, truncate};
use crate::{Approval, Backoff, LockOutcome, Result, RunState, StoreKind};

/// Run state in memory: nothing survives the process. For tests, for
/// embedding in a program that keeps its own state, and for one-shot runs.
///
/// Clones share the same state (an `Arc` inside), so two clones behave like
/// two runners on one database. It keeps exactly what the SQL stores keep,
/// instants truncated to the microsecond included.
///
/// ```
/// # async fn demo() -> Result<(), access_state::StateError> {
/// use access_state::{MemoryState, RunState};
/// let a = MemoryState::new();
/// let b = a.clone();
/// assert_eq!(a.installation_prefix("acct").await?, b.installation_prefix("acct").await?);
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryState {
    inner: Arc<Mutex<HashMap<String, Namespace>>>,
}

#[derive(Debug, Default)]
struct Namespace {
    prefix: Option<String>,
    scope_people: BTreeMap<String, u64>,
    backoffs: BTreeMap<String, Backoff>,
    /// (service, bucket start in µs) -> calls
    buckets: BTreeMap<(String, i64), u64>,
    approvals: Vec<Approval>,
    cache: BTreeMap<(String, String), (serde_json::Value, DateTime<Utc>)>,
    lock: Option<(String, DateTime<Utc>)>,
}

impl MemoryState {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, namespace: &str, f: impl FnOnce(&mut Namespace) -> T) -> T {
        let mut map: MutexGuard<'_, _> = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(map.entry(namespace.to_owned()).or_default())
    }
}

#[async_trait]
impl RunState for MemoryState {
    fn kind(&self) -> StoreKind {
        StoreKind::Memory
    }

    async fn installation_prefix(&self, namespace: &str) -> Result<String> {
        Ok(self.with(namespace, |ns| {
            ns.prefix.get_or_insert_with(new_prefix).clone()
        }))
    }

    async fn stored_installation_prefix(&self, namespace: &str) -> Result<Option<String>> {
        Ok(self.with(namespace, |ns| ns.prefix.clone()))
    }

    async fn scope_people(&self, namespace: &str) -> Result<BTreeMap<String, u64>> {
        Ok(self.with(namespace, |ns| ns.scope_people.clone()))
    }

    async fn set_scope_people(
        &self,
        namespace: &str,
        counts: &BTreeMap<String, u64>,
        _at: DateTime<Utc>,
    ) -> Result<()> {
        for (scope, n) in counts {
            count_i64(*n, &format!("the people count of scope {scope:?}"))?;
        }
        self.with(namespace, |ns| ns.scope_people = counts.clone());
        Ok(())
    }

    async fn backoff(&self, namespace: &str, key: &str) -> Result<Option<Backoff>> {
        Ok(self.with(namespace, |ns| ns.backoffs.get(key).copied()))
    }

    async fn set_backoff(
        &self,
        namespace: &str,
        key: &str,
        backoff: Option<Backoff>,
    ) -> Result<()> {
        self.with(namespace, |ns| match backoff {
            Some(b) => {
                ns.backoffs.insert(
                    key.to_owned(),
                    Backoff::new(b.failures, truncate(b.not_before)),
                );
            }
            None => {
                ns.backoffs.remove(key);
            }
        });
        Ok(())
    }

    async fn backoffs(&self, namespace: &str) -> Result<BTreeMap<String, Backoff>> {
        Ok(self.with(namespace, |ns| ns.backoffs.clone()))
    }

    async fn record_calls(
        &self,
        namespace: &str,
        service: &str,
        at: DateTime<Utc>,
        n: u64,
    ) -> Result<()> {
        count_i64(n, "the number of calls")?;
        let bucket = bucket_us(at);
        let oldest = prune_before_us(at);
        self.with(namespace, |ns| {
            ns.buckets.retain(|(_, b), _| *b >= oldest);
            if n > 0 {
                let slot = ns.buckets.entry((service.to_owned(), bucket)).or_insert(0);
                // The SQL stores keep a signed 64-bit sum.
                *slot = slot.saturating_add(n).min(i64::MAX as u64);
            }
        });
        Ok(())
    }

    async fn calls_since(
        &self,
        namespace: &str,
        service: &str,
        since: DateTime<Utc>,
    ) -> Result<u64> {
        let from = bucket_us(since);
        Ok(self.with(namespace, |ns| {
            ns.buckets
                .range((service.to_owned(), from)..=(service.to_owned(), i64::MAX))
                .fold(0u64, |sum, (_, n)| sum.saturating_add(*n))
        }))
    }

    async fn approve(&self, namespace: &str, id: &str, by: &str, at: DateTime<Utc>) -> Result<()> {
        let at = truncate(at);
        self.with(namespace, |ns| {
            match ns
                .approvals
                .iter_mut()
                .find(|a| a.id == id && a.consumed_at.is_none())
            {
                Some(a) => {
                    a.by = by.to_owned();
                    a.at = at;
                }
                None => ns.approvals.push(Approval {
                    id: id.to_owned(),
                    by: by.to_owned(),
                    at,
                    consumed_at: None,
                }),
            }
        });
        Ok(())
    }

    async fn pending_approvals(&self, namespace: &str) -> Result<Vec<Approval>> {
        let mut out: Vec<Approval> = self.with(namespace, |ns| {
            ns.approvals
                .iter()
                .filter(|a| a.consumed_at.is_none())
                .cloned()
                .collect()
        });
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    async fn consume_approvals(
        &self,
        namespace: &str,
        ids: &[String],
        run_at: DateTime<Utc>,
    ) -> Result<Vec<Approval>> {
        let run_at = truncate(run_at);
        let mut out: Vec<Approval> = self.with(namespace, |ns| {
            ns.approvals
                .iter_mut()
                .filter(|a| a.consumed_at.is_none() && ids.contains(&a.id))
                .map(|a| {
                    a.consumed_at = Some(run_at);
                    a.clone()
                })
                .collect()
        });
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    async fn revoke_approval(&self, namespace: &str, id: &str) -> Result<bool> {
        Ok(self.with(namespace, |ns| {
            let before = ns.approvals.len();
            ns.approvals
                .retain(|a| !(a.id == id && a.consumed_at.is_none()));
            ns.approvals.len() != before
        }))
    }

    async fn approval_history(&self, namespace: &str) -> Result<Vec<Approval>> {
        let mut out = self.with(namespace, |ns| ns.approvals.clone());
        out.sort_by(|a, b| a.at.cmp(&b.at).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    async fn cache_put(
        &self,
        namespace: &str,
        kind: &str,
        key: &str,
        value: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<()> {
        self.with(namespace, |ns| {
            ns.cache.insert(
                (kind.to_owned(), key.to_owned()),
                (value.clone(), truncate(at)),
            )
        });
        Ok(())
    }

    async fn cache_get(
        &self,
        namespace: &str,
        kind: &str,
        key: &str,
    ) -> Result<Option<(serde_json::Value, DateTime<Utc>)>> {
        Ok(self.with(namespace, |ns| {
            ns.cache.get(&(kind.to_owned(), key.to_owned())).cloned()
        }))
    }

    async fn try_lock(
        &self,
        namespace: &str,
        holder: &str,
        at: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<LockOutcome> {
        let until = lease_until(at, ttl)?;
        let at = truncate(at);
        Ok(self.with(namespace, |ns| match &ns.lock {
            Some((other, other_until)) if other != holder && *other_until > at => {
                LockOutcome::HeldBy {
                    holder: other.clone(),
                    until: *other_until,
                }
            }
            _ => {
                ns.lock = Some((holder.to_owned(), until));
                LockOutcome::Acquired { until }
            }
        }))
    }

    async fn unlock(&self, namespace: &str, holder: &str) -> Result<bool> {
        Ok(self.with(namespace, |ns| match &ns.lock {
            Some((h, _)) if h == holder => {
                ns.lock = None;
                true
            }
            _ => false,
        }))
    }
}

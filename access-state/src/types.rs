//! The plain data the stores keep, and the rules every store shares
//! (bucket size, retention, precision, input checks).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::StateError;

/// API calls are counted in buckets of this length (one minute), so a
/// sliding window of any length is exact to the minute.
///
/// ```
/// assert_eq!(access_state::BUDGET_BUCKET.as_secs(), 60);
/// ```
pub const BUDGET_BUCKET: Duration = Duration::from_secs(60);

/// Budget buckets older than this (31 days, one more than Brivo's 30-day
/// window) are deleted whenever calls are recorded.
///
/// ```
/// assert_eq!(access_state::BUDGET_RETENTION.as_secs(), 31 * 24 * 3600);
/// ```
pub const BUDGET_RETENTION: Duration = Duration::from_secs(31 * 24 * 3600);

/// Per-key backoff: how many consecutive failures, and the instant before
/// which the key is not tried again.
///
/// ```
/// use access_state::Backoff;
/// use chrono::{TimeZone, Utc};
/// let b = Backoff::new(3, Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap());
/// assert_eq!(b.failures, 3);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Backoff {
    /// Consecutive failures so far (1 after the first).
    pub failures: u32,
    /// Not to be tried before this instant.
    pub not_before: DateTime<Utc>,
}

impl Backoff {
    /// A backoff after `failures` consecutive failures, until `not_before`.
    pub fn new(failures: u32, not_before: DateTime<Utc>) -> Self {
        Backoff {
            failures,
            not_before,
        }
    }
}

/// An operator's approval of one held item (for example a scope that
/// shrank), good for one run.
///
/// ```
/// # async fn demo() -> Result<(), access_state::StateError> {
/// use access_state::{MemoryState, RunState};
/// use chrono::{TimeZone, Utc};
/// let state = MemoryState::new();
/// let at = Utc.with_ymd_and_hms(2026, 3, 1, 9, 0, 0).unwrap();
/// state.approve("acct-1", "scope:property:100", "alice", at).await?;
/// let pending = state.pending_approvals("acct-1").await?;
/// assert_eq!(pending[0].by, "alice");
/// assert_eq!(pending[0].consumed_at, None);
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Approval {
    /// What is approved (opaque to the store, chosen by the runner).
    pub id: String,
    /// Who approved it (as the caller names the operator).
    pub by: String,
    /// When it was approved.
    pub at: DateTime<Utc>,
    /// The instant of the run that used it; `None` while pending.
    pub consumed_at: Option<DateTime<Utc>>,
}

/// The answer of [`RunState::try_lock`](crate::RunState::try_lock).
///
/// ```
/// use access_state::LockOutcome;
/// use chrono::{TimeZone, Utc};
/// let until = Utc.with_ymd_and_hms(2026, 3, 1, 10, 5, 0).unwrap();
/// assert!(LockOutcome::Acquired { until }.is_acquired());
/// assert!(!LockOutcome::HeldBy { holder: "host-b:42".into(), until }.is_acquired());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum LockOutcome {
    /// The caller holds the lease until `until`: it was free, expired, or
    /// already the caller's (then it was renewed).
    Acquired {
        /// When the lease runs out unless renewed.
        until: DateTime<Utc>,
    },
    /// Another runner holds an unexpired lease.
    HeldBy {
        /// Who holds it.
        holder: String,
        /// When its lease runs out unless renewed.
        until: DateTime<Utc>,
    },
}

impl LockOutcome {
    /// Whether the caller now holds the lease.
    pub fn is_acquired(&self) -> bool {
        matches!(self, LockOutcome::Acquired { .. })
    }
}

const MINUTE_US: i64 = 60_000_000;

/// Microseconds since the Unix epoch: the precision every store keeps.
/// Never overflows: chrono's range is about ±262 000 years.
pub(crate) fn to_us(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// Back from microseconds; `None` outside chrono's range.
#[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
pub(crate) fn from_us(us: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_micros(us)
}

/// The instant as a store keeps it (truncated to the microsecond).
pub(crate) fn truncate(t: DateTime<Utc>) -> DateTime<Utc> {
    from_us(to_us(t)).unwrap_or(t)
}

/// The start of the minute bucket holding `t`, in microseconds.
pub(crate) fn bucket_us(t: DateTime<Utc>) -> i64 {
    to_us(t).div_euclid(MINUTE_US) * MINUTE_US
}

/// Buckets starting before this (in microseconds) are pruned when calls
/// are recorded at `at`.
pub(crate) fn prune_before_us(at: DateTime<Utc>) -> i64 {
    const RETENTION_US: i64 = 31 * 24 * 3600 * 1_000_000;
    bucket_us(at).saturating_sub(RETENTION_US)
}

/// A count as the SQL stores keep it (a signed 64-bit integer).
pub(crate) fn count_i64(n: u64, what: &str) -> Result<i64, StateError> {
    i64::try_from(n).map_err(|_| {
        StateError::invalid(format!(
            "{what} is {n}, above the largest count a store keeps ({})",
            i64::MAX
        ))
    })
}

/// The end of a lease taken at `at` for `ttl`.
pub(crate) fn lease_until(at: DateTime<Utc>, ttl: Duration) -> Result<DateTime<Utc>, StateError> {
    if ttl.is_zero() {
        return Err(StateError::invalid(
            "a lock lease of zero length would never be held; pass a ttl longer than a run",
        ));
    }
    chrono::Duration::from_std(ttl)
        .ok()
        .and_then(|d| at.checked_add_signed(d))
        .map(truncate)
        .ok_or_else(|| StateError::invalid(format!("a lock lease of {ttl:?} ends out of range")))
}

/// A fresh ownership prefix: `sync-` and 8 lowercase hex digits.
pub(crate) fn new_prefix() -> String {
    format!("sync-{:08x}", fastrand::u32(..))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn buckets_are_minutes_also_before_1970() {
        let t = Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 59).unwrap();
        assert_eq!(
            bucket_us(t),
            to_us(Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap())
        );
        let t = Utc.with_ymd_and_hms(1969, 12, 31, 23, 59, 30).unwrap();
        assert_eq!(bucket_us(t), -MINUTE_US);
    }

    #[test]
    fn prefix_shape() {
        let p = new_prefix();
        assert_eq!(p.len(), 13);
        assert!(p.starts_with("sync-"));
        assert!(
            p[5..]
                .chars()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
        );
    }

    #[test]
    fn bad_inputs_are_errors_not_panics() {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 10, 0, 0).unwrap();
        assert!(lease_until(at, Duration::ZERO).is_err());
        assert!(lease_until(at, Duration::from_secs(u64::MAX)).is_err());
        assert!(lease_until(DateTime::<Utc>::MAX_UTC, Duration::from_secs(1)).is_err());
        assert!(count_i64(u64::MAX, "n").is_err());
        assert_eq!(count_i64(7, "n").ok(), Some(7));
        assert!(prune_before_us(DateTime::<Utc>::MIN_UTC) < 0);
    }
}

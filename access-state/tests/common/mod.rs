//! The conformance suite every store passes: `conformance_tests!(setup)`
//! expands to one `#[tokio::test]` per check, where `setup(test_name)` is
//! an `async fn` returning `Option<Harness>` (`None`: skipped).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)] // helpers of tests

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use access_state::{Approval, Backoff, LockOutcome, RunState, StateError};
use chrono::{DateTime, TimeZone, Utc};
use serde_json::json;

pub type Opened = Pin<Box<dyn Future<Output = Box<dyn RunState>> + Send>>;

/// How a test opens "a runner's store": each call is a new store object
/// on the same file or database (a restarted or second runner).
pub struct Harness {
    open: Arc<dyn Fn() -> Opened + Send + Sync>,
    base: String,
    _cleanup: Option<Box<dyn Send + Sync>>,
}

impl Harness {
    pub fn new(
        test: &str,
        open: impl Fn() -> Opened + Send + Sync + 'static,
        cleanup: Option<Box<dyn Send + Sync>>,
    ) -> Self {
        Harness {
            open: Arc::new(open),
            base: unique(test),
            _cleanup: cleanup,
        }
    }

    pub async fn open(&self) -> Box<dyn RunState> {
        (self.open)().await
    }

    /// A namespace no other test (or test run) uses.
    pub fn ns(&self, name: &str) -> String {
        format!("{}/{name}", self.base)
    }
}

/// `test-pid-nanos-counter`: unique across tests, runs and processes that
/// share one database.
pub fn unique(test: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{test}-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 30).unwrap()
}

fn secs(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

fn mins(n: i64) -> chrono::Duration {
    chrono::Duration::minutes(n)
}

fn days(n: i64) -> chrono::Duration {
    chrono::Duration::days(n)
}

const TTL: Duration = Duration::from_secs(300);

#[macro_export]
macro_rules! conformance_tests {
    ($setup:path) => {
        $crate::conformance_tests!(@each $setup;
            prefix_is_generated_once_and_kept,
            prefix_first_calls_from_two_runners_agree,
            scope_people_are_replaced_whole,
            backoffs_are_set_listed_and_cleared,
            budget_counts_in_minute_buckets_over_sliding_windows,
            budget_buckets_older_than_31_days_are_pruned,
            approvals_are_pending_until_consumed_and_kept_for_audit,
            cache_keeps_value_and_instant,
            lock_is_held_renewed_expired_and_released,
            lock_race_has_exactly_one_winner,
            namespaces_never_see_each_other,
            restarted_runner_keeps_its_state,
            bad_input_is_an_error_and_changes_nothing,
            instants_are_kept_to_the_microsecond,
            opaque_strings_are_kept_verbatim,
        );
    };
    (@each $setup:path; $($name:ident),+ $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(h) = $setup(stringify!($name)).await {
                    common::$name(&h).await;
                }
            }
        )+
    };
}

pub async fn prefix_is_generated_once_and_kept(h: &Harness) {
    let s = h.open().await;
    let ns = h.ns("install");
    assert_eq!(s.stored_installation_prefix(&ns).await.unwrap(), None);
    let p = s.installation_prefix(&ns).await.unwrap();
    assert_eq!(
        s.stored_installation_prefix(&ns).await.unwrap(),
        Some(p.clone())
    );
    assert_eq!(p.len(), "sync-".len() + 8, "{p}");
    assert!(p.starts_with("sync-"), "{p}");
    assert!(
        p[5..]
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "{p}"
    );
    assert_eq!(s.installation_prefix(&ns).await.unwrap(), p);
    let other = s.installation_prefix(&h.ns("install-2")).await.unwrap();
    assert_ne!(other, p, "a new installation gets a new prefix");
}

pub async fn prefix_first_calls_from_two_runners_agree(h: &Harness) {
    let (a, b) = (h.open().await, h.open().await);
    for round in 0..8 {
        let ns = h.ns(&format!("race-{round}"));
        let (pa, pb) = tokio::join!(a.installation_prefix(&ns), b.installation_prefix(&ns));
        assert_eq!(pa.unwrap(), pb.unwrap(), "round {round}");
    }
}

pub async fn scope_people_are_replaced_whole(h: &Harness) {
    let s = h.open().await;
    let ns = h.ns("scopes");
    assert!(s.scope_people(&ns).await.unwrap().is_empty());
    let first = BTreeMap::from([
        ("property:100".to_string(), 240u64),
        ("property:200".to_string(), 0),
        ("location:denver".to_string(), 31),
    ]);
    s.set_scope_people(&ns, &first, t0()).await.unwrap();
    assert_eq!(s.scope_people(&ns).await.unwrap(), first);
    let second = BTreeMap::from([
        ("property:100".to_string(), 239u64),
        ("directory:connect".to_string(), i64::MAX as u64),
    ]);
    s.set_scope_people(&ns, &second, t0() + mins(5))
        .await
        .unwrap();
    assert_eq!(
        s.scope_people(&ns).await.unwrap(),
        second,
        "scopes not in the new set are forgotten"
    );
    s.set_scope_people(&ns, &BTreeMap::new(), t0() + mins(10))
        .await
        .unwrap();
    assert!(s.scope_people(&ns).await.unwrap().is_empty());
}

pub async fn backoffs_are_set_listed_and_cleared(h: &Harness) {
    let s = h.open().await;
    let ns = h.ns("backoff");
    assert_eq!(s.backoff(&ns, "user:1").await.unwrap(), None);
    assert!(s.backoffs(&ns).await.unwrap().is_empty());

    let b1 = Backoff::new(1, t0() + mins(1));
    let b2 = Backoff::new(u32::MAX, t0() + days(3));
    s.set_backoff(&ns, "user:1", Some(b1)).await.unwrap();
    s.set_backoff(&ns, "user:2", Some(b2)).await.unwrap();
    assert_eq!(s.backoff(&ns, "user:1").await.unwrap(), Some(b1));
    assert_eq!(s.backoff(&ns, "user:2").await.unwrap(), Some(b2));

    // Another failure doubles the delay: the entry is replaced.
    let b1b = Backoff::new(2, t0() + mins(3));
    s.set_backoff(&ns, "user:1", Some(b1b)).await.unwrap();
    assert_eq!(
        s.backoffs(&ns).await.unwrap(),
        BTreeMap::from([("user:1".to_string(), b1b), ("user:2".to_string(), b2)])
    );

    // Success resets; clearing an absent key is fine.
    s.set_backoff(&ns, "user:1", None).await.unwrap();
    s.set_backoff(&ns, "user:404", None).await.unwrap();
    assert_eq!(s.backoff(&ns, "user:1").await.unwrap(), None);
    assert_eq!(
        s.backoffs(&ns).await.unwrap(),
        BTreeMap::from([("user:2".to_string(), b2)])
    );
}

pub async fn budget_counts_in_minute_buckets_over_sliding_windows(h: &Harness) {
    let s = h.open().await;
    let ns = h.ns("budget");
    let t = t0(); // 12:00:30
    s.record_calls(&ns, "brivo", t, 5).await.unwrap();
    s.record_calls(&ns, "brivo", t + secs(10), 2).await.unwrap(); // same minute
    s.record_calls(&ns, "brivo", t + mins(2), 1).await.unwrap(); // 12:02
    s.record_calls(&ns, "entrata", t, 100).await.unwrap();
    s.record_calls(&ns, "brivo", t + mins(2), 0).await.unwrap(); // nothing

    let since = |at| s.calls_since(&ns, "brivo", at);
    assert_eq!(since(t - days(30)).await.unwrap(), 8);
    assert_eq!(since(t).await.unwrap(), 8);
    // Within the minute of `since`, earlier calls count too: never under.
    assert_eq!(since(t + secs(20)).await.unwrap(), 8);
    assert_eq!(since(t - secs(30)).await.unwrap(), 8);
    assert_eq!(since(t + secs(30)).await.unwrap(), 1, "12:01:00 on");
    assert_eq!(since(t + mins(2)).await.unwrap(), 1);
    assert_eq!(since(t + mins(3)).await.unwrap(), 0);
    assert_eq!(
        s.calls_since(&ns, "entrata", t - days(1)).await.unwrap(),
        100
    );
    assert_eq!(s.calls_since(&ns, "officernd", t).await.unwrap(), 0);

    // Brivo's 30-day window slides minute by minute.
    let ns = h.ns("budget-month");
    let d0 = t0();
    for (day, n) in [(0, 1), (10, 2), (29, 4)] {
        s.record_calls(&ns, "brivo", d0 + days(day), n)
            .await
            .unwrap();
    }
    let month = |now: DateTime<Utc>| s.calls_since(&ns, "brivo", now - days(30));
    assert_eq!(month(d0 + days(30)).await.unwrap(), 7);
    assert_eq!(month(d0 + days(30) + mins(1)).await.unwrap(), 6);
    assert_eq!(month(d0 + days(40) + mins(1)).await.unwrap(), 4);
    assert_eq!(month(d0 + days(60)).await.unwrap(), 0);
}

pub async fn budget_buckets_older_than_31_days_are_pruned(h: &Harness) {
    let s = h.open().await;
    let ns = h.ns("prune");
    let t = t0();
    s.record_calls(&ns, "brivo", t, 3).await.unwrap();
    s.record_calls(&ns, "entrata", t, 9).await.unwrap();
    // Exactly 31 days later the first bucket is still kept...
    s.record_calls(&ns, "brivo", t + days(31), 1).await.unwrap();
    assert_eq!(s.calls_since(&ns, "brivo", t - days(1)).await.unwrap(), 4);
    assert_eq!(s.calls_since(&ns, "entrata", t - days(1)).await.unwrap(), 9);
    // ...one minute more and every service's old buckets are gone, even
    // when nothing new is counted.
    s.record_calls(&ns, "brivo", t + days(31) + mins(1), 0)
        .await
        .unwrap();
    assert_eq!(s.calls_since(&ns, "brivo", t - days(1)).await.unwrap(), 1);
    assert_eq!(s.calls_since(&ns, "entrata", t - days(1)).await.unwrap(), 0);
    // Pruning is per namespace.
    let other = h.ns("prune-other");
    s.record_calls(&other, "brivo", t, 2).await.unwrap();
    s.record_calls(&ns, "brivo", t + days(90), 0).await.unwrap();
    assert_eq!(s.calls_since(&other, "brivo", t).await.unwrap(), 2);
}

fn approval(id: &str, by: &str, at: DateTime<Utc>, consumed: Option<DateTime<Utc>>) -> Approval {
    let mut a = serde_json::from_value::<Approval>(json!({
        "id": id, "by": by, "at": at, "consumed_at": null
    }))
    .unwrap();
    a.consumed_at = consumed;
    a
}

pub async fn approvals_are_pending_until_consumed_and_kept_for_audit(h: &Harness) {
    let s = h.open().await;
    let ns = h.ns("approvals");
    let t = t0();
    assert!(s.pending_approvals(&ns).await.unwrap().is_empty());

    s.approve(&ns, "scope:property:200", "bob", t + mins(2))
        .await
        .unwrap();
    s.approve(&ns, "scope:property:100", "alice", t)
        .await
        .unwrap();
    assert_eq!(
        s.pending_approvals(&ns).await.unwrap(),
        vec![
            approval("scope:property:100", "alice", t, None),
            approval("scope:property:200", "bob", t + mins(2), None),
        ]
    );

    // Approving again replaces who and when; still one pending.
    s.approve(&ns, "scope:property:100", "carol", t + mins(3))
        .await
        .unwrap();
    let pending = s.pending_approvals(&ns).await.unwrap();
    assert_eq!(pending.len(), 2);
    assert_eq!(
        pending[0],
        approval("scope:property:100", "carol", t + mins(3), None)
    );

    assert!(s.revoke_approval(&ns, "scope:property:200").await.unwrap());
    assert!(!s.revoke_approval(&ns, "scope:property:200").await.unwrap());

    let run = t + mins(10);
    let ids = [
        "scope:property:100".to_string(),
        "never-approved".to_string(),
        "scope:property:100".to_string(),
    ];
    let used = s.consume_approvals(&ns, &ids, run).await.unwrap();
    assert_eq!(
        used,
        vec![approval(
            "scope:property:100",
            "carol",
            t + mins(3),
            Some(run)
        )]
    );
    assert!(s.pending_approvals(&ns).await.unwrap().is_empty());
    assert!(
        s.consume_approvals(&ns, &ids, run + mins(1))
            .await
            .unwrap()
            .is_empty(),
        "an approval is good for one run"
    );
    assert!(
        !s.revoke_approval(&ns, "scope:property:100").await.unwrap(),
        "a used approval cannot be revoked"
    );
    assert!(s.consume_approvals(&ns, &[], run).await.unwrap().is_empty());

    // Approving the same item for a later run starts a new approval; the
    // used one stays for audit.
    s.approve(&ns, "scope:property:100", "alice", t + mins(20))
        .await
        .unwrap();
    assert_eq!(
        s.pending_approvals(&ns).await.unwrap(),
        vec![approval("scope:property:100", "alice", t + mins(20), None)]
    );
    assert_eq!(
        s.approval_history(&ns).await.unwrap(),
        vec![
            approval("scope:property:100", "carol", t + mins(3), Some(run)),
            approval("scope:property:100", "alice", t + mins(20), None),
        ]
    );
    assert!(s.revoke_approval(&ns, "scope:property:100").await.unwrap());
    assert_eq!(
        s.approval_history(&ns).await.unwrap(),
        vec![approval(
            "scope:property:100",
            "carol",
            t + mins(3),
            Some(run)
        )]
    );
}

pub async fn cache_keeps_value_and_instant(h: &Harness) {
    let s = h.open().await;
    let ns = h.ns("cache");
    let t = t0();
    assert_eq!(
        s.cache_get(&ns, "zone", "property:100").await.unwrap(),
        None
    );
    let ny = json!("America/New_York");
    s.cache_put(&ns, "zone", "property:100", &ny, t)
        .await
        .unwrap();
    assert_eq!(
        s.cache_get(&ns, "zone", "property:100").await.unwrap(),
        Some((ny, t))
    );
    let chi = json!("America/Chicago");
    s.cache_put(&ns, "zone", "property:100", &chi, t + days(1))
        .await
        .unwrap();
    assert_eq!(
        s.cache_get(&ns, "zone", "property:100").await.unwrap(),
        Some((chi, t + days(1)))
    );
    assert_eq!(
        s.cache_get(&ns, "other-kind", "property:100")
            .await
            .unwrap(),
        None
    );
    let rich = json!({
        "zone": "Australia/Lord_Howe",
        "offsets": [10.5, 11, -0.25],
        "big": u64::MAX,
        "neg": i64::MIN,
        "nested": {"b": [true, null], "a": "ü ✓ \"quoted\" \\"},
    });
    s.cache_put(&ns, "facts", "location:7", &rich, t)
        .await
        .unwrap();
    assert_eq!(
        s.cache_get(&ns, "facts", "location:7").await.unwrap(),
        Some((rich, t))
    );
}

pub async fn lock_is_held_renewed_expired_and_released(h: &Harness) {
    let s = h.open().await;
    let ns = h.ns("lock");
    let t = t0();
    let held = |holder: &str, until| LockOutcome::HeldBy {
        holder: holder.to_string(),
        until,
    };
    let acquired = |until| LockOutcome::Acquired { until };

    assert_eq!(
        s.try_lock(&ns, "a", t, TTL).await.unwrap(),
        acquired(t + mins(5))
    );
    assert_eq!(
        s.try_lock(&ns, "b", t + mins(1), TTL).await.unwrap(),
        held("a", t + mins(5))
    );
    // The holder renews.
    assert_eq!(
        s.try_lock(&ns, "a", t + mins(2), TTL).await.unwrap(),
        acquired(t + mins(7))
    );
    assert_eq!(
        s.try_lock(&ns, "b", t + mins(6), TTL).await.unwrap(),
        held("a", t + mins(7))
    );
    // At its expiry the lease is free: the other runner takes over.
    assert_eq!(
        s.try_lock(&ns, "b", t + mins(7), TTL).await.unwrap(),
        acquired(t + mins(12))
    );
    assert_eq!(
        s.try_lock(&ns, "a", t + mins(8), TTL).await.unwrap(),
        held("b", t + mins(12))
    );
    // Only the holder releases.
    assert!(!s.unlock(&ns, "a").await.unwrap());
    assert_eq!(
        s.try_lock(&ns, "a", t + mins(8), TTL).await.unwrap(),
        held("b", t + mins(12))
    );
    assert!(s.unlock(&ns, "b").await.unwrap());
    assert!(!s.unlock(&ns, "b").await.unwrap());
    assert_eq!(
        s.try_lock(&ns, "a", t + mins(8), Duration::from_secs(30))
            .await
            .unwrap(),
        acquired(t + mins(8) + secs(30))
    );
    // A holder may release its own expired lease.
    assert!(s.unlock(&ns, "a").await.unwrap());
}

pub async fn lock_race_has_exactly_one_winner(h: &Harness) {
    let (a, b) = (h.open().await, h.open().await);
    let t = t0();
    for round in 0..12 {
        let ns = h.ns(&format!("lock-race-{round}"));
        let (ra, rb) = tokio::join!(
            a.try_lock(&ns, "runner-a", t, TTL),
            b.try_lock(&ns, "runner-b", t, TTL)
        );
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        let until = t + mins(5);
        match (&ra, &rb) {
            (LockOutcome::Acquired { until: u }, LockOutcome::HeldBy { holder, until: v })
                if holder == "runner-a" =>
            {
                assert_eq!((*u, *v), (until, until));
            }
            (LockOutcome::HeldBy { holder, until: v }, LockOutcome::Acquired { until: u })
                if holder == "runner-b" =>
            {
                assert_eq!((*u, *v), (until, until));
            }
            other => panic!("round {round}: expected one winner, got {other:?}"),
        }
        // After the lease runs out, two new runners race to take it over.
        let later = until + secs(1);
        let (rc, rd) = tokio::join!(
            a.try_lock(&ns, "runner-c", later, TTL),
            b.try_lock(&ns, "runner-d", later, TTL)
        );
        let wins = [rc.unwrap(), rd.unwrap()]
            .iter()
            .filter(|o| o.is_acquired())
            .count();
        assert_eq!(wins, 1, "round {round}: takeover");
    }
}

pub async fn namespaces_never_see_each_other(h: &Harness) {
    let s = h.open().await;
    let (one, two) = (h.ns("tenant-one"), h.ns("tenant-two"));
    let t = t0();
    let p1 = s.installation_prefix(&one).await.unwrap();
    s.set_scope_people(&one, &BTreeMap::from([("property:1".to_string(), 5)]), t)
        .await
        .unwrap();
    s.set_backoff(&one, "user:1", Some(Backoff::new(1, t)))
        .await
        .unwrap();
    s.record_calls(&one, "brivo", t, 10).await.unwrap();
    s.approve(&one, "scope:1", "alice", t).await.unwrap();
    s.approve(&one, "scope:2", "alice", t).await.unwrap();
    s.cache_put(&one, "zone", "property:1", &json!("UTC"), t)
        .await
        .unwrap();
    assert!(s.try_lock(&one, "a", t, TTL).await.unwrap().is_acquired());

    assert_ne!(s.installation_prefix(&two).await.unwrap(), p1);
    assert!(s.scope_people(&two).await.unwrap().is_empty());
    assert_eq!(s.backoff(&two, "user:1").await.unwrap(), None);
    assert!(s.backoffs(&two).await.unwrap().is_empty());
    assert_eq!(s.calls_since(&two, "brivo", t).await.unwrap(), 0);
    assert!(s.pending_approvals(&two).await.unwrap().is_empty());
    assert!(
        s.consume_approvals(&two, &["scope:1".to_string()], t)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(!s.revoke_approval(&two, "scope:2").await.unwrap());
    assert!(s.approval_history(&two).await.unwrap().is_empty());
    assert_eq!(s.cache_get(&two, "zone", "property:1").await.unwrap(), None);
    assert!(
        s.try_lock(&two, "b", t, TTL).await.unwrap().is_acquired(),
        "a lock is per namespace"
    );
    assert!(!s.unlock(&two, "a").await.unwrap());
    s.set_scope_people(&two, &BTreeMap::new(), t).await.unwrap();
    s.record_calls(&two, "brivo", t + days(90), 0)
        .await
        .unwrap();
    s.set_backoff(&two, "user:1", None).await.unwrap();

    // ...and tenant one is untouched by all of that.
    assert_eq!(s.installation_prefix(&one).await.unwrap(), p1);
    assert_eq!(s.scope_people(&one).await.unwrap().len(), 1);
    assert!(s.backoff(&one, "user:1").await.unwrap().is_some());
    assert_eq!(s.calls_since(&one, "brivo", t).await.unwrap(), 10);
    assert_eq!(s.pending_approvals(&one).await.unwrap().len(), 2);
    assert!(
        s.cache_get(&one, "zone", "property:1")
            .await
            .unwrap()
            .is_some()
    );
    assert!(!s.try_lock(&one, "b", t, TTL).await.unwrap().is_acquired());
}

pub async fn restarted_runner_keeps_its_state(h: &Harness) {
    let ns = h.ns("restart");
    let t = t0();
    let counts = BTreeMap::from([("property:100".to_string(), 240u64)]);
    let backoff = Backoff::new(3, t + mins(8));
    let prefix;
    {
        let s = h.open().await;
        prefix = s.installation_prefix(&ns).await.unwrap();
        s.set_scope_people(&ns, &counts, t).await.unwrap();
        s.set_backoff(&ns, "user:77", Some(backoff)).await.unwrap();
        // Calls spread over the month so far.
        for day in 0..15 {
            s.record_calls(&ns, "brivo", t + days(day), 100)
                .await
                .unwrap();
        }
        s.approve(&ns, "used", "alice", t).await.unwrap();
        s.consume_approvals(&ns, &["used".to_string()], t + mins(1))
            .await
            .unwrap();
        s.approve(&ns, "pending", "bob", t + mins(2)).await.unwrap();
        s.cache_put(&ns, "zone", "property:100", &json!("America/Denver"), t)
            .await
            .unwrap();
        assert!(
            s.try_lock(&ns, "runner-1", t, TTL)
                .await
                .unwrap()
                .is_acquired()
        );
        // The store object is dropped: the runner stopped mid-month.
    }
    let s = h.open().await;
    assert_eq!(s.installation_prefix(&ns).await.unwrap(), prefix);
    assert_eq!(s.scope_people(&ns).await.unwrap(), counts);
    assert_eq!(s.backoff(&ns, "user:77").await.unwrap(), Some(backoff));
    let now = t + days(15);
    assert_eq!(
        s.calls_since(&ns, "brivo", now - days(30)).await.unwrap(),
        1500,
        "the budget window survives the restart"
    );
    assert_eq!(
        s.pending_approvals(&ns).await.unwrap(),
        vec![approval("pending", "bob", t + mins(2), None)]
    );
    assert_eq!(s.approval_history(&ns).await.unwrap().len(), 2);
    assert_eq!(
        s.cache_get(&ns, "zone", "property:100").await.unwrap(),
        Some((json!("America/Denver"), t))
    );
    // The lease of the runner before the restart still holds until it
    // runs out, unless the same holder comes back.
    assert_eq!(
        s.try_lock(&ns, "runner-2", t + mins(1), TTL).await.unwrap(),
        LockOutcome::HeldBy {
            holder: "runner-1".into(),
            until: t + mins(5)
        }
    );
    assert!(
        s.try_lock(&ns, "runner-1", t + mins(1), TTL)
            .await
            .unwrap()
            .is_acquired()
    );
}

fn is_invalid<T: std::fmt::Debug>(r: Result<T, StateError>) -> bool {
    matches!(r, Err(StateError::InvalidInput { .. }))
}

pub async fn bad_input_is_an_error_and_changes_nothing(h: &Harness) {
    let s = h.open().await;
    let ns = h.ns("bad-input");
    let t = t0();
    let good = BTreeMap::from([("property:1".to_string(), 3u64)]);
    s.set_scope_people(&ns, &good, t).await.unwrap();
    let bad = BTreeMap::from([
        ("property:1".to_string(), 1u64),
        ("property:2".to_string(), u64::MAX),
    ]);
    let err = s.set_scope_people(&ns, &bad, t).await;
    assert!(is_invalid(err), "count above i64::MAX");
    assert_eq!(s.scope_people(&ns).await.unwrap(), good);

    assert!(is_invalid(s.record_calls(&ns, "brivo", t, u64::MAX).await));
    assert_eq!(s.calls_since(&ns, "brivo", t).await.unwrap(), 0);

    assert!(is_invalid(s.try_lock(&ns, "a", t, Duration::ZERO).await));
    assert!(is_invalid(
        s.try_lock(&ns, "a", t, Duration::from_secs(u64::MAX)).await
    ));
    assert!(is_invalid(
        s.try_lock(&ns, "a", DateTime::<Utc>::MAX_UTC, TTL).await
    ));
    assert!(
        s.try_lock(&ns, "b", t, TTL).await.unwrap().is_acquired(),
        "a refused lock changes nothing"
    );

    let e = s.record_calls(&ns, "brivo", t, u64::MAX).await.unwrap_err();
    assert!(e.to_string().contains("invalid run-state input"), "{e}");
}

pub async fn instants_are_kept_to_the_microsecond(h: &Harness) {
    let s = h.open().await;
    let ns = h.ns("precision");
    let precise = t0() + chrono::Duration::nanoseconds(123_456_789);
    let kept = t0() + chrono::Duration::nanoseconds(123_456_000);
    s.set_backoff(&ns, "k", Some(Backoff::new(1, precise)))
        .await
        .unwrap();
    assert_eq!(
        s.backoff(&ns, "k").await.unwrap(),
        Some(Backoff::new(1, kept))
    );
    s.cache_put(&ns, "zone", "k", &json!(1), precise)
        .await
        .unwrap();
    assert_eq!(
        s.cache_get(&ns, "zone", "k").await.unwrap(),
        Some((json!(1), kept))
    );
    s.approve(&ns, "k", "op", precise).await.unwrap();
    assert_eq!(s.pending_approvals(&ns).await.unwrap()[0].at, kept);
    let outcome = s.try_lock(&ns, "h", precise, TTL).await.unwrap();
    assert_eq!(
        outcome,
        LockOutcome::Acquired {
            until: kept + mins(5)
        }
    );
    // Far past and far future instants round-trip too.
    let old = Utc.with_ymd_and_hms(1901, 1, 1, 0, 0, 0).unwrap();
    let far = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap();
    s.set_backoff(&ns, "old", Some(Backoff::new(0, old)))
        .await
        .unwrap();
    s.set_backoff(&ns, "far", Some(Backoff::new(0, far)))
        .await
        .unwrap();
    assert_eq!(
        s.backoff(&ns, "old").await.unwrap().unwrap().not_before,
        old
    );
    assert_eq!(
        s.backoff(&ns, "far").await.unwrap().unwrap().not_before,
        far
    );
    s.record_calls(&ns, "old", old, 1).await.unwrap();
    assert_eq!(s.calls_since(&ns, "old", old).await.unwrap(), 1);
}

pub async fn opaque_strings_are_kept_verbatim(h: &Harness) {
    let s = h.open().await;
    let ns = h.ns("strings ' \" ; DROP TABLE x; -- ü");
    let t = t0();
    let weird = [
        "",
        "'; DELETE FROM access_state_backoff; --",
        "%_*?\\",
        "名前/キー",
        "a\nb\tc",
    ];
    for (i, key) in weird.iter().enumerate() {
        s.set_backoff(&ns, key, Some(Backoff::new(i as u32, t)))
            .await
            .unwrap();
        s.cache_put(&ns, key, key, &json!(key), t).await.unwrap();
        s.approve(&ns, key, key, t).await.unwrap();
        s.record_calls(&ns, key, t, 1).await.unwrap();
    }
    let all = s.backoffs(&ns).await.unwrap();
    assert_eq!(all.len(), weird.len());
    for (i, key) in weird.iter().enumerate() {
        assert_eq!(all[*key].failures, i as u32);
        assert_eq!(
            s.cache_get(&ns, key, key).await.unwrap(),
            Some((json!(key), t))
        );
        assert_eq!(s.calls_since(&ns, key, t).await.unwrap(), 1);
    }
    // Pattern characters are not patterns.
    assert_eq!(s.calls_since(&ns, "%", t).await.unwrap(), 0);
    let pending: Vec<String> = s
        .pending_approvals(&ns)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    let mut expected: Vec<String> = weird.iter().map(|k| k.to_string()).collect();
    expected.sort();
    assert_eq!(pending, expected);
    assert!(s.try_lock(&ns, "", t, TTL).await.unwrap().is_acquired());
    assert!(s.unlock(&ns, "").await.unwrap());
}

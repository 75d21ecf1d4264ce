//! Call budgets per service: how many calls a day and per 30 days a
//! service allows, how fast the runner may poll within them, and what it
//! does when a read would overspend.
//!
//! The services sell or contract allowances, not speed: Brivo's entry API
//! tier is 100,000 calls per 30 days, Entrata's developer agreement about
//! 2,500 calls per 24 hours (and one call per property per minute).
//! OfficeRnD documents separate read and write limiters but no numbers.
//! Per-second limits stay with each client's own rate limiter
//! (`rate_limit_per_second` in the configuration); a [`Budget`] covers the
//! long windows, which only a record that survives restarts can keep: the
//! calls are counted in the run state ([`access_state::RunState::record_calls`],
//! one-minute buckets), and every check reads a sliding window from it.
//!
//! **Who spends it.** Polling (re-reading a source on its cadence, a full
//! reconciliation of Brivo) is paced to spend at most
//! [`polling_share`](Budget::polling_share) of each window, half by
//! default; the rest is kept for what cannot wait: the writes that grant
//! or revoke at a boundary, the reads that verify the users about to be
//! written, and reads an operator or a webhook asks for. A read that would
//! overspend is deferred (the cached facts go on serving, and grow stale:
//! see [`SyncerBuilder::max_fact_age`](crate::SyncerBuilder::max_fact_age));
//! the report says which window and when it recovers. Writes are never
//! deferred by a budget: a revocation that is due is never dropped to save
//! a call.
//!
//! ```
//! use access_sync::Budget;
//! use std::time::Duration;
//! let entrata = Budget::per_day(2_500);
//! // a fetch of 25 calls may run every 28.8 min within half of 2,500 a day
//! assert_eq!(entrata.pace(25), Duration::from_secs(1_728));
//! assert_eq!(Budget::per_30_days(100_000).polling_limit(access_sync::BudgetWindow::ThirtyDays), Some(50_000));
//! ```

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use access_state::RunState;

/// The long windows a budget counts over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BudgetWindow {
    /// The last 24 hours.
    Day,
    /// The last 30 days.
    ThirtyDays,
}

impl BudgetWindow {
    /// The window's length.
    pub fn length(self) -> Duration {
        match self {
            BudgetWindow::Day => Duration::from_secs(24 * 3600),
            BudgetWindow::ThirtyDays => Duration::from_secs(30 * 24 * 3600),
        }
    }

    fn delta(self) -> TimeDelta {
        TimeDelta::from_std(self.length()).unwrap_or(TimeDelta::MAX)
    }
}

impl std::fmt::Display for BudgetWindow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BudgetWindow::Day => "24 hours",
            BudgetWindow::ThirtyDays => "30 days",
        })
    }
}

/// A service's call allowance over sliding windows. See the [module
/// docs](self).
///
/// ```
/// use access_sync::{Budget, BudgetWindow};
/// let b = Budget::per_day(2_500).and_per_30_days(60_000).with_polling_share(0.4);
/// assert_eq!(b.limit(BudgetWindow::Day), Some(2_500));
/// assert_eq!(b.polling_limit(BudgetWindow::Day), Some(1_000));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Budget {
    /// Calls allowed in any 24 hours.
    #[serde(default)]
    pub per_day: Option<u64>,
    /// Calls allowed in any 30 days.
    #[serde(default)]
    pub per_30_days: Option<u64>,
    /// The share of each window polling may spend (0 to 1; default 0.5).
    #[serde(default = "default_share")]
    pub polling_share: f64,
}

fn default_share() -> f64 {
    0.5
}

impl Default for Budget {
    /// No limit.
    fn default() -> Self {
        Budget {
            per_day: None,
            per_30_days: None,
            polling_share: default_share(),
        }
    }
}

impl Budget {
    /// At most `n` calls in any 24 hours.
    pub fn per_day(n: u64) -> Self {
        Budget::default().and_per_day(n)
    }

    /// At most `n` calls in any 30 days.
    pub fn per_30_days(n: u64) -> Self {
        Budget::default().and_per_30_days(n)
    }

    /// Adds a daily limit.
    pub fn and_per_day(mut self, n: u64) -> Self {
        self.per_day = Some(n);
        self
    }

    /// Adds a 30-day limit.
    pub fn and_per_30_days(mut self, n: u64) -> Self {
        self.per_30_days = Some(n);
        self
    }

    /// The share of each window polling may spend, clamped to 0..=1 (a NaN
    /// is taken as the default, 0.5).
    pub fn with_polling_share(mut self, share: f64) -> Self {
        self.polling_share = if share.is_nan() {
            default_share()
        } else {
            share.clamp(0.0, 1.0)
        };
        self
    }

    /// Brivo's entry API tier: 100,000 calls per 30 days.
    pub fn brivo_default() -> Self {
        Budget::per_30_days(100_000)
    }

    /// Entrata's developer agreement: about 2,500 calls per 24 hours.
    pub fn entrata_default() -> Self {
        Budget::per_day(2_500)
    }

    /// The limit of `window`, if one is set.
    pub fn limit(&self, window: BudgetWindow) -> Option<u64> {
        match window {
            BudgetWindow::Day => self.per_day,
            BudgetWindow::ThirtyDays => self.per_30_days,
        }
    }

    /// What polling may spend of `window`, if a limit is set.
    pub fn polling_limit(&self, window: BudgetWindow) -> Option<u64> {
        // a share read from a file is not clamped by with_polling_share
        let share = if self.polling_share.is_nan() {
            default_share()
        } else {
            self.polling_share.clamp(0.0, 1.0)
        };
        self.limit(window)
            .map(|n| (n as f64 * share).floor() as u64)
    }

    /// The windows with a limit.
    pub fn windows(&self) -> impl Iterator<Item = (BudgetWindow, u64)> + '_ {
        [BudgetWindow::Day, BudgetWindow::ThirtyDays]
            .into_iter()
            .filter_map(|w| self.limit(w).map(|n| (w, n)))
    }

    /// The shortest interval between polls costing `cost` calls each that
    /// stays within the polling share of every window (zero without a
    /// limit). A share of zero forbids polling: a day.
    pub fn pace(&self, cost: u64) -> Duration {
        let mut pace = Duration::ZERO;
        for (w, _) in self.windows() {
            let allowed = self.polling_limit(w).unwrap_or(0);
            let p = if allowed == 0 {
                w.length()
            } else {
                let secs = w.length().as_secs_f64() * cost as f64 / allowed as f64;
                Duration::from_secs_f64(secs.min(w.length().as_secs_f64()))
            };
            pace = pace.max(p);
        }
        pace
    }

    fn check(
        &self,
        used: impl Fn(BudgetWindow) -> u64,
        cost: u64,
        polling: bool,
    ) -> Option<(BudgetWindow, u64, u64)> {
        self.windows().find_map(|(w, limit)| {
            let limit = if polling {
                self.polling_limit(w).unwrap_or(limit)
            } else {
                limit
            };
            let u = used(w);
            (u.saturating_add(cost) > limit).then_some((w, u, limit))
        })
    }
}

/// What a service's budget allows now, for `/healthz` and the audit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BudgetUse {
    /// The service (`brivo`, or a source's name).
    pub service: String,
    /// The window.
    pub window: BudgetWindow,
    /// Calls counted in the window.
    pub used: u64,
    /// The window's limit.
    pub limit: u64,
    /// What polling may spend of it.
    pub polling_limit: u64,
    /// What is left of the limit (`limit - used`, never below zero): the
    /// budget left that `/healthz` shows; `None` in audit lines written
    /// before it was recorded.
    #[serde(default)]
    pub left: Option<u64>,
}

/// A read the runner did not make because it would have overspent a
/// budget: the cached facts (or observation) served instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Deferral {
    /// The service (`brivo`, or a source's name).
    pub service: String,
    /// What was deferred (`"fetch"`, `"full reconciliation"`).
    pub what: String,
    /// The window that would have been overspent.
    pub window: BudgetWindow,
    /// Calls counted in it.
    pub used: u64,
    /// What the read was expected to cost.
    pub cost: u64,
    /// The limit it would have crossed (the polling share for a poll).
    pub limit: u64,
    /// When enough of the window's calls have aged out for the read.
    pub recovers_at: DateTime<Utc>,
}

impl std::fmt::Display for Deferral {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} deferred: {} calls in the last {} + {} would exceed {}; recovers at {}",
            self.service,
            self.what,
            self.used,
            self.window,
            self.cost,
            self.limit,
            self.recovers_at.format("%Y-%m-%d %H:%M:%SZ")
        )
    }
}

/// Reads the calls of `service` counted in `window` before `now`; a state
/// that cannot be read counts as spent (the read is deferred, never
/// guessed affordable).
async fn used(
    state: &dyn RunState,
    ns: &str,
    service: &str,
    window: BudgetWindow,
    now: DateTime<Utc>,
) -> u64 {
    match state.calls_since(ns, service, now - window.delta()).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, service, "could not read the calls counted; deferring the read");
            u64::MAX
        }
    }
}

/// Whether a read of `cost` calls to `service` fits its budget now
/// (`polling`: within the polling share). `Err` says why not and when it
/// will.
#[allow(clippy::too_many_arguments)] // one call site per kind of read
pub(crate) async fn afford(
    state: &dyn RunState,
    ns: &str,
    service: &str,
    budget: &Budget,
    what: &str,
    cost: u64,
    polling: bool,
    now: DateTime<Utc>,
) -> Result<(), Deferral> {
    let mut spent = std::collections::BTreeMap::new();
    for (w, _) in budget.windows() {
        spent.insert(w, used(state, ns, service, w, now).await);
    }
    let Some((window, used_now, limit)) =
        budget.check(|w| spent.get(&w).copied().unwrap_or(0), cost, polling)
    else {
        return Ok(());
    };
    // The earliest instant at which the calls still in the window leave
    // room: the window slides, so search the start whose remainder fits.
    let recovers_at = if used_now == u64::MAX {
        now + TimeDelta::minutes(1)
    } else {
        let fits = |n: u64| n.saturating_add(cost) <= limit;
        if fits(0) {
            // The first whole minute from which the calls counted leave
            // room, by bisection over the window (calls_since only grows
            // as its start moves back).
            let minute = |t: DateTime<Utc>| t.timestamp().div_euclid(60);
            let at = |m: i64| DateTime::from_timestamp(m * 60, 0).unwrap_or(now);
            let (mut lo, mut hi) = (minute(now - window.delta()), minute(now) + 1);
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                let n = state
                    .calls_since(ns, service, at(mid))
                    .await
                    .unwrap_or(u64::MAX);
                if fits(n) {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            at(hi) + window.delta()
        } else {
            // the read alone is larger than the limit: it never fits
            DateTime::<Utc>::MAX_UTC
        }
    };
    Err(Deferral {
        service: service.to_owned(),
        what: what.to_owned(),
        window,
        used: used_now,
        cost,
        limit,
        recovers_at,
    })
}

/// Each limited window of `budget` with the calls counted in it.
pub(crate) async fn uses(
    state: &dyn RunState,
    ns: &str,
    service: &str,
    budget: &Budget,
    now: DateTime<Utc>,
) -> Vec<BudgetUse> {
    let mut out = Vec::new();
    for (w, limit) in budget.windows() {
        let used = match state.calls_since(ns, service, now - w.delta()).await {
            Ok(n) => n,
            Err(_) => continue,
        };
        out.push(BudgetUse {
            service: service.to_owned(),
            window: w,
            used,
            limit,
            polling_limit: budget.polling_limit(w).unwrap_or(limit),
            left: Some(limit.saturating_sub(used)),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use access_state::MemoryState;
    use chrono::TimeZone;

    #[test]
    fn pace_spreads_polling_over_the_window() {
        let b = Budget::per_day(2_500);
        // 1,250 polling calls a day at 25 a fetch: 50 fetches, every 28.8 min
        assert_eq!(b.pace(25), Duration::from_secs(1728));
        assert_eq!(Budget::default().pace(1_000), Duration::ZERO);
        assert_eq!(
            b.with_polling_share(0.0).pace(1),
            Duration::from_secs(86_400)
        );
        // a fetch larger than the whole share: once a window, not never
        assert_eq!(b.pace(10_000), Duration::from_secs(86_400));
        let both = Budget::per_day(10_000).and_per_30_days(30_000);
        // the 30-day window is the tighter: 15,000 / 30 days at 10 a poll
        assert_eq!(
            both.pace(10),
            Duration::from_secs(30 * 86_400 * 10 / 15_000)
        );
    }

    #[tokio::test]
    async fn a_read_that_would_overspend_is_deferred_until_calls_age_out() {
        let state = MemoryState::new();
        let t0 = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
        state.record_calls("ns", "entrata", t0, 600).await.unwrap();
        state
            .record_calls("ns", "entrata", t0 + TimeDelta::hours(6), 600)
            .await
            .unwrap();
        let b = Budget::per_day(2_500);
        let now = t0 + TimeDelta::hours(7);
        // polling may spend 1,250: 1,200 + 40 fits, 1,200 + 60 does not
        assert!(
            afford(&state, "ns", "entrata", &b, "fetch", 40, true, now)
                .await
                .is_ok()
        );
        let d = afford(&state, "ns", "entrata", &b, "fetch", 60, true, now)
            .await
            .unwrap_err();
        assert_eq!(
            (d.used, d.limit, d.window),
            (1_200, 1_250, BudgetWindow::Day)
        );
        // it fits once the 08:00 calls leave the window: 08:01 the next day
        assert_eq!(
            d.recovers_at,
            t0 + TimeDelta::days(1) + TimeDelta::minutes(1)
        );
        // not polling: the whole 2,500 is there
        assert!(
            afford(&state, "ns", "entrata", &b, "fetch", 60, false, now)
                .await
                .is_ok()
        );
        let uses = uses(&state, "ns", "entrata", &b, now).await;
        assert_eq!(uses[0].used, 1_200);
        assert_eq!(uses[0].polling_limit, 1_250);
    }
}

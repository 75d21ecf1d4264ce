//! What the runner did, kept for `/healthz` and `/metrics`.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use serde::Serialize;

use crate::syncer::{Outcome, RunEvent, SyncReport};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabels {
    kind: &'static str,
    result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabel {
    service: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WindowLabels {
    service: String,
    window: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    result: &'static str,
}

struct Metrics {
    runs: Family<ResultLabel, Counter>,
    actions: Family<ActionLabels, Counter>,
    calls: Family<ServiceLabel, Counter>,
    throttled: Family<ServiceLabel, Counter>,
    held: Gauge,
    last_success: Gauge<f64, AtomicU64>,
    boundary_lag: Histogram,
    requests: Family<RequestLabels, Counter>,
    budget_used: Family<WindowLabels, Gauge>,
    budget_limit: Family<WindowLabels, Gauge>,
    deferred: Family<ServiceLabel, Counter>,
}

/// The health of the runner, as `/healthz` serves it (JSON).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Health {
    /// `ok`: the last successful run is recent enough; `starting`: no run
    /// has succeeded yet; `failing`: the last success is older than the
    /// allowed age (or there was none in that time).
    pub status: &'static str,
    /// When the last run ended and whether it succeeded.
    pub last_run: Option<LastRun>,
    /// When the last run that applied its plan ended.
    pub last_success: Option<DateTime<Utc>>,
    /// Failed runs since the last success.
    pub consecutive_failures: u32,
    /// Items the last successful run held for an operator (approvals,
    /// vanished scopes, the group cap).
    pub held: usize,
    /// Requests per service in the last 24 hours, and what is left of a
    /// daily budget where one is set.
    pub calls_last_24h: BTreeMap<String, Budget>,
    /// The runner's budgets after the last run: per service and window
    /// (`day`, `thirty_days`), the calls counted in the run state (so they
    /// survive restarts), the limit and what polling may spend of it.
    pub budgets: Vec<crate::budget::BudgetUse>,
    /// Reads the last run deferred to stay within a budget, each with the
    /// window and when it recovers.
    pub deferred: Vec<crate::budget::Deferral>,
}

/// The last run.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct LastRun {
    /// When it ended.
    pub at: DateTime<Utc>,
    /// Whether it applied its plan (some actions may still have failed).
    pub ok: bool,
    /// Actions that failed, or the failure's kind (`auth`, `throttled`, ...).
    pub failed: Option<String>,
}

/// Requests made to one service in the last 24 hours.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Budget {
    /// Requests made.
    pub used: u64,
    /// The daily budget, if one is set ([`Monitor::with_daily_budget`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_day: Option<u64>,
    /// What is left of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub left: Option<u64>,
}

#[derive(Default)]
struct State {
    last_run: Option<LastRun>,
    last_success: Option<DateTime<Utc>>,
    failures: u32,
    held: usize,
    /// The boundary the last plan waited for: the next run after it ends
    /// measures how late its change went out.
    pending_boundary: Option<DateTime<Utc>>,
    calls: VecDeque<(DateTime<Utc>, String, u64)>,
    budgets: Vec<crate::budget::BudgetUse>,
    deferred: Vec<crate::budget::Deferral>,
}

struct Inner {
    registry: Registry,
    metrics: Metrics,
    state: Mutex<State>,
    max_age: Duration,
    budgets: BTreeMap<String, u64>,
}

/// Watches the run loop and answers `/healthz` and `/metrics`. Cheap to
/// clone; feed it from [`Syncer::run_with`](crate::Syncer::run_with).
///
/// ```
/// use std::time::Duration;
/// use access_sync::server::Monitor;
///
/// let monitor = Monitor::new()
///     .with_max_age(Duration::from_secs(3600))
///     .with_daily_budget("entrata", 2_500);
/// // syncer.run_with(shutdown, |event| monitor.observe(&event)).await;
/// assert_eq!(monitor.health().status, "starting");
///
/// let failed = access_sync::SyncError::Panicked("a bug".into());
/// monitor.observe(&access_sync::RunEvent::Failed(&failed));
/// assert_eq!(monitor.health().status, "failing");
/// assert!(monitor.metrics_text().contains("access_sync_runs_total{result=\"failed\"} 1"));
/// ```
#[derive(Clone)]
pub struct Monitor {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("max_age", &self.inner.max_age)
            .field("budgets", &self.inner.budgets)
            .finish_non_exhaustive()
    }
}

impl Default for Monitor {
    fn default() -> Self {
        Self::new()
    }
}

/// Seconds, from 100 ms to an hour: a boundary applied on time is under a
/// second late, one found by the next poll up to the poll interval.
const LAG_BUCKETS: [f64; 10] = [0.1, 0.5, 1.0, 2.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0];

impl Monitor {
    /// A monitor that calls the runner failing when no run has succeeded
    /// for an hour.
    pub fn new() -> Self {
        Self::build(Duration::from_secs(3600), BTreeMap::new())
    }

    fn build(max_age: Duration, budgets: BTreeMap<String, u64>) -> Self {
        let metrics = Metrics {
            runs: Family::default(),
            actions: Family::default(),
            calls: Family::default(),
            throttled: Family::default(),
            held: Gauge::default(),
            last_success: Gauge::default(),
            boundary_lag: Histogram::new(LAG_BUCKETS),
            requests: Family::default(),
            budget_used: Family::default(),
            budget_limit: Family::default(),
            deferred: Family::default(),
        };
        let mut registry = Registry::with_prefix("access_sync");
        registry.register(
            "runs",
            "Runs by result (synced: the plan was applied; failed: nothing was)",
            metrics.runs.clone(),
        );
        registry.register(
            "actions",
            "Plan actions applied, by kind and result (ok, failed, skipped, held)",
            metrics.actions.clone(),
        );
        registry.register(
            "api_calls",
            "HTTP requests per service (Brivo's include retries and tokens)",
            metrics.calls.clone(),
        );
        registry.register(
            "throttled",
            "Answers per service that asked the runner to slow down",
            metrics.throttled.clone(),
        );
        registry.register(
            "held_items",
            "Items the last successful run held for an operator",
            metrics.held.clone(),
        );
        registry.register(
            "last_success_timestamp_seconds",
            "Unix time at which the last successful run ended",
            metrics.last_success.clone(),
        );
        registry.register(
            "boundary_lag_seconds",
            "From a planned boundary (a move-in, a booking's end) to the run that applied it",
            metrics.boundary_lag.clone(),
        );
        registry.register(
            "budget_used_calls",
            "Calls counted in a budget's window (day, thirty_days) after the last run, from the run state",
            metrics.budget_used.clone(),
        );
        registry.register(
            "budget_limit_calls",
            "A budget's limit per window",
            metrics.budget_limit.clone(),
        );
        registry.register(
            "reads_deferred",
            "Reads not made because they would have overspent a budget, per service",
            metrics.deferred.clone(),
        );
        registry.register(
            "http_requests",
            "Requests to the runner's own routes, by route and result",
            metrics.requests.clone(),
        );
        Monitor {
            inner: Arc::new(Inner {
                registry,
                metrics,
                state: Mutex::new(State::default()),
                max_age,
                budgets,
            }),
        }
    }

    /// How long since the last successful run before `/healthz` says
    /// `failing` (503). Set it above the poll interval plus a run's length.
    pub fn with_max_age(self, max_age: Duration) -> Self {
        let budgets = self.inner.budgets.clone();
        Self::build(max_age, budgets)
    }

    /// A daily request budget for a service (`brivo`, or a source's name
    /// such as `entrata`), shown in `/healthz` beside what was used.
    pub fn with_daily_budget(self, service: impl Into<String>, per_day: u64) -> Self {
        let mut budgets = self.inner.budgets.clone();
        budgets.insert(service.into(), per_day);
        Self::build(self.inner.max_age, budgets)
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        // a panic elsewhere while counting leaves counts that are still usable
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Records one iteration of the run loop.
    pub fn observe(&self, event: &RunEvent<'_>) {
        let now = Utc::now();
        match event {
            RunEvent::Synced(report) => self.synced(report, now),
            RunEvent::Failed(error) => {
                self.count_run("failed");
                let mut st = self.state();
                st.failures = st.failures.saturating_add(1);
                st.last_run = Some(LastRun {
                    at: now,
                    ok: false,
                    failed: Some(error.kind().to_string()),
                });
            }
        }
    }

    fn count_run(&self, result: &'static str) {
        self.inner
            .metrics
            .runs
            .get_or_create(&ResultLabel { result })
            .inc();
    }

    fn synced(&self, report: &SyncReport, now: DateTime<Utc>) {
        let m = &self.inner.metrics;
        self.count_run("synced");
        for r in &report.results {
            let result = match r.outcome {
                Outcome::Ok { .. } => "ok",
                Outcome::Failed { .. } => "failed",
                Outcome::Skipped { .. } => "skipped",
                _ => "held",
            };
            let kind = report
                .plan
                .actions
                .get(r.index)
                .map_or("unknown", action_kind);
            m.actions
                .get_or_create(&ActionLabels { kind, result })
                .inc();
        }
        let mut calls = vec![(
            "brivo".to_owned(),
            report.calls.http,
            report.calls.throttled,
        )];
        for s in &report.sources {
            let throttled = s.all_errors().filter(|e| e.is_throttle()).count() as u64;
            calls.push((s.name.clone(), s.calls, throttled));
        }
        for (service, n, throttled) in &calls {
            let label = ServiceLabel {
                service: service.clone(),
            };
            m.calls.get_or_create(&label).inc_by(*n);
            m.throttled.get_or_create(&label).inc_by(*throttled);
        }
        for b in &report.budgets {
            let label = WindowLabels {
                service: b.service.clone(),
                window: match b.window {
                    crate::budget::BudgetWindow::Day => "day",
                    crate::budget::BudgetWindow::ThirtyDays => "thirty_days",
                },
            };
            let gauge = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
            m.budget_used.get_or_create(&label).set(gauge(b.used));
            m.budget_limit.get_or_create(&label).set(gauge(b.limit));
        }
        for d in &report.deferred {
            m.deferred
                .get_or_create(&ServiceLabel {
                    service: d.service.clone(),
                })
                .inc();
        }
        let held = report.held.len() + report.plan.held.len();
        m.held.set(i64::try_from(held).unwrap_or(i64::MAX));
        m.last_success.set(now.timestamp_millis() as f64 / 1000.0);

        let mut st = self.state();
        if let Some(boundary) = st.pending_boundary
            && boundary <= report.plan.now
            && !report.results.is_empty()
        {
            let lag = (now - boundary).to_std().unwrap_or(Duration::ZERO);
            m.boundary_lag.observe(lag.as_secs_f64());
        }
        st.pending_boundary = report.plan.next_change;
        st.budgets = report.budgets.clone();
        st.deferred = report.deferred.clone();
        st.failures = 0;
        st.held = held;
        st.last_success = Some(now);
        let failed = report.failed();
        st.last_run = Some(LastRun {
            at: now,
            ok: true,
            failed: (failed > 0).then(|| format!("{failed} actions failed")),
        });
        for (service, n, _) in calls {
            st.calls.push_back((now, service, n));
        }
        prune(&mut st.calls, now);
    }

    /// Counts a request to one of the runner's routes (done by
    /// [`Routes`](super::Routes)).
    pub(crate) fn request(&self, route: &'static str, result: &'static str) {
        self.inner
            .metrics
            .requests
            .get_or_create(&RequestLabels { route, result })
            .inc();
    }

    /// The health now.
    pub fn health(&self) -> Health {
        let now = Utc::now();
        let mut st = self.state();
        prune(&mut st.calls, now);
        let mut used: BTreeMap<String, u64> = BTreeMap::new();
        for (_, service, n) in &st.calls {
            *used.entry(service.clone()).or_default() += n;
        }
        for service in self.inner.budgets.keys() {
            used.entry(service.clone()).or_default();
        }
        let calls_last_24h = used
            .into_iter()
            .map(|(service, used)| {
                let per_day = self.inner.budgets.get(&service).copied();
                let budget = Budget {
                    used,
                    per_day,
                    left: per_day.map(|b| b.saturating_sub(used)),
                };
                (service, budget)
            })
            .collect();
        let max_age =
            chrono::Duration::from_std(self.inner.max_age).unwrap_or(chrono::Duration::MAX);
        let status = match st.last_success {
            None if st.last_run.is_none() => "starting",
            Some(t) if now.signed_duration_since(t) <= max_age => "ok",
            _ => "failing",
        };
        Health {
            status,
            last_run: st.last_run.clone(),
            last_success: st.last_success,
            consecutive_failures: st.failures,
            held: st.held,
            calls_last_24h,
            budgets: st.budgets.clone(),
            deferred: st.deferred.clone(),
        }
    }

    /// The metrics in the Prometheus text exposition format (OpenMetrics
    /// 1.0, which Prometheus scrapes as text).
    pub fn metrics_text(&self) -> String {
        let mut out = String::new();
        // writing into a String cannot fail
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.inner.registry);
        out
    }
}

fn prune(calls: &mut VecDeque<(DateTime<Utc>, String, u64)>, now: DateTime<Utc>) {
    let day = chrono::Duration::hours(24);
    while calls.front().is_some_and(|(at, ..)| now - *at > day) {
        calls.pop_front();
    }
}

/// The action's kind as the plan serializes it.
fn action_kind(action: &access_engine::Action) -> &'static str {
    use access_engine::Action;
    match action {
        Action::CreateUser { .. } => "create_user",
        Action::AdoptUser { .. } => "adopt_user",
        Action::SetExternalId { .. } => "set_external_id",
        Action::SetCredentialWindow { .. } => "set_credential_window",
        Action::AssignCard { .. } => "assign_card",
        Action::UpdateProfile { .. } => "update_profile",
        Action::Unsuspend { .. } => "unsuspend",
        Action::ChangeGroups { .. } => "change_groups",
        Action::InviteMobilePass { .. } => "invite_mobile_pass",
        Action::Suspend { .. } => "suspend",
        Action::Delete { .. } => "delete",
        _ => "other",
    }
}

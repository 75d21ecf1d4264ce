//! The [`Syncer`]: fetch, observe, plan (dry run), apply, and the run loop.

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;

use access_engine::{
    Action, Baseline, BrivoUserId, Facts, GroupId, Held, HeldItem, HoldRule, Mappings, Observed,
    Plan, PlanRefused, Policy, Scope, StalePlan, UserRef, Warning,
};
use access_state::{Backoff, LockOutcome, MemoryState, RunState};
use chrono::{DateTime, Utc};
use futures::{FutureExt as _, StreamExt as _};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;
use tracing::{Instrument as _, debug, error, info, info_span, warn};

use crate::audit::{AuditRecord, AuditSink, RunKind};
use crate::backend::{
    AccessBackend, AdoptionRules, BackendError, CallCounts, CapRefusal, GroupsApplied,
    ObserveScope, UserUpdate,
};
use crate::budget::{Budget, Deferral};
use crate::clock::{Clock, SystemClock};
use crate::error::ErrorKind;
use crate::sources::{
    FactSource, InputCounts, SourceBatch, SourceChanges, SourceError, SourceReport, merge_facts,
};

mod incremental;

/// Why a run produced no plan or refused to apply one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// Brivo could not be observed: no plan is made from a partial view.
    #[error("could not observe the access backend, so nothing was planned: {0}")]
    Observe(BackendError),
    /// The saved plan was computed against a different Brivo state.
    #[error(transparent)]
    Stale(#[from] StalePlan),
    /// The saved plan was refused: made under another config, too old, or
    /// reaching outside this config's managed groups and owned users.
    #[error(transparent)]
    Refused(#[from] PlanRefused),
    /// The run state could not be read or written; nothing was applied.
    #[error("the run state store failed, so nothing was applied: {0}")]
    State(String),
    /// Another runner holds this Brivo account and ownership prefix.
    #[error(
        "another runner ({holder}) is acting on this Brivo account and prefix until {until}; \
         only one may at a time: this one waits (run) or exits (one-shot)"
    )]
    Locked {
        /// The other runner.
        holder: String,
        /// When its lease expires unless renewed.
        until: DateTime<Utc>,
    },
    /// The run panicked (a bug in the SDK, the planner, or a source or
    /// backend): it stopped part-way. The run loop logs and audits it and goes on after
    /// the retry delay; every action is idempotent and the next run
    /// re-plans from Brivo's state. Please report it with the audit line.
    #[error("the run panicked and stopped part-way (a bug; the loop goes on): {0}")]
    Panicked(String),
}

impl SyncError {
    /// What kind of failure this is: the backend's for
    /// [`Observe`](Self::Observe); [`ErrorKind::Rejected`] for a stale or
    /// refused saved plan; [`ErrorKind::Transient`] for
    /// [`Locked`](Self::Locked) (the other runner's lease ends); otherwise
    /// [`ErrorKind::Other`].
    ///
    /// ```
    /// use access_sync::{BackendError, ErrorKind, SyncError};
    ///
    /// let e = SyncError::Observe(BackendError::from(brivo_client::Error::Unauthorized {
    ///     method: "list_users", error: Some("invalid_token".into()), description: None,
    /// }));
    /// assert_eq!(e.kind(), ErrorKind::Auth);
    /// assert!(e.is_auth() && !e.is_retryable());
    /// ```
    pub fn kind(&self) -> ErrorKind {
        match self {
            SyncError::Observe(e) => e.kind(),
            SyncError::Stale(_) | SyncError::Refused(_) => ErrorKind::Rejected,
            SyncError::Locked { .. } => ErrorKind::Transient,
            _ => ErrorKind::Other,
        }
    }

    /// Whether a later run may succeed ([`ErrorKind::is_retryable`]).
    pub fn is_retryable(&self) -> bool {
        self.kind().is_retryable()
    }

    /// Whether Brivo asked to slow down while being observed.
    ///
    /// ```
    /// use access_sync::{BackendError, SyncError};
    /// let e = SyncError::Observe(BackendError::from(brivo_client::Error::Throttled {
    ///     method: "list_users", status: 429, retry_after: None,
    /// }));
    /// assert!(e.is_throttle() && e.is_retryable());
    /// ```
    pub fn is_throttle(&self) -> bool {
        self.kind().is_throttle()
    }

    /// Whether Brivo refused the credentials or the permissions while being
    /// observed.
    pub fn is_auth(&self) -> bool {
        self.kind().is_auth()
    }

    /// The backend error, for [`Observe`](Self::Observe).
    pub fn backend_error(&self) -> Option<&BackendError> {
        match self {
            SyncError::Observe(e) => Some(e),
            _ => None,
        }
    }
}

/// Runs CPU-bound `job` on tokio's blocking pool and waits for it without
/// holding up the async worker; a panic in it is [`SyncError::Panicked`].
/// If the pool refuses the job (the runtime is shutting down), `fallback`
/// runs here instead, its panic caught the same way.
async fn off_runtime<T: Send + 'static>(
    job: impl FnOnce() -> T + Send + 'static,
    fallback: impl FnOnce() -> T,
) -> Result<T, SyncError> {
    let panicked = |payload: Box<dyn std::any::Any + Send>| {
        SyncError::Panicked(panic_message(payload.as_ref()))
    };
    match tokio::task::spawn_blocking(job).await {
        Ok(value) => Ok(value),
        Err(e) if e.is_panic() => Err(panicked(e.into_panic())),
        Err(_) => {
            warn!("the blocking pool refused a job (shutting down?); running it here");
            std::panic::catch_unwind(AssertUnwindSafe(fallback)).map_err(panicked)
        }
    }
}

/// The text of a panic payload (`panic!` gives a `&str` or a `String`).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_owned())
}

/// The outcome of one action.
///
/// Serialized as before errors were typed, plus the kind of a failure:
/// `{"status":"failed","error":"get_user: ...","kind":"throttled"}`. Read
/// back, a failure keeps its text and kind but not the underlying client
/// error (it is not serialized).
///
/// ```
/// use access_sync::{BackendError, Outcome};
///
/// let failed = Outcome::Failed {
///     error: BackendError::from(brivo_client::Error::Throttled {
///         method: "add_user_to_groups", status: 429, retry_after: None,
///     }),
/// };
/// match &failed {
///     Outcome::Failed { error } if error.is_throttle() => { /* retry later */ }
///     Outcome::Failed { error } if error.is_auth() => { /* page an operator */ }
///     _ => {}
/// }
/// let json = serde_json::to_value(&failed).unwrap();
/// assert_eq!(json["status"], "failed");
/// assert_eq!(json["kind"], "throttled");
/// assert!(json["error"].as_str().unwrap().contains("throttled by Brivo (HTTP 429)"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "OutcomeWire", from = "OutcomeWire")]
#[non_exhaustive]
pub enum Outcome {
    /// Done (or already true: an idempotent success).
    Ok {
        /// What the backend found, e.g. "already existed as user 12".
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// The call failed; the other actions went on.
    Failed {
        /// What failed: its kind ([`BackendError::kind`],
        /// [`is_throttle`](BackendError::is_throttle),
        /// [`is_auth`](BackendError::is_auth), ...), its text, and the
        /// underlying client error.
        error: BackendError,
    },
    /// Not attempted.
    Skipped {
        /// Why (e.g. its user's create failed).
        reason: String,
    },
    /// A group change whose additions the backend refused because they
    /// would take the user past Brivo's 16-group cap (which counts groups
    /// the integration does not manage or cannot see). Its removals, if
    /// any, were applied; its additions were not, and are in `held` (and in
    /// [`SyncReport::held`]). Not a failure: no backoff, and nothing is
    /// remembered, so the next run plans the additions and tries again.
    Held {
        /// What was applied and why the rest was held, e.g. "removed
        /// `-[7301]; held +[7101,7102]`: Brivo refused the additions for its
        /// group cap: the user is in 16 groups (15 not managed by this
        /// integration); the change would make 17, over the limit of 16".
        note: String,
        /// The held items, with the rule and the reasons they carried.
        held: Vec<Held>,
    },
}

impl Outcome {
    fn ok() -> Self {
        Outcome::Ok { note: None }
    }

    /// The error, for [`Outcome::Failed`].
    pub fn error(&self) -> Option<&BackendError> {
        match self {
            Outcome::Failed { error } => Some(error),
            _ => None,
        }
    }
}

/// [`Outcome`] as serialized: the format from before errors were typed,
/// plus `kind` on a failure.
#[derive(Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
enum OutcomeWire {
    Ok {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    Failed {
        error: String,
        #[serde(default)]
        kind: ErrorKind,
    },
    Skipped {
        reason: String,
    },
    Held {
        note: String,
        held: Vec<Held>,
    },
}

impl From<Outcome> for OutcomeWire {
    fn from(o: Outcome) -> Self {
        match o {
            Outcome::Ok { note } => OutcomeWire::Ok { note },
            Outcome::Failed { error } => OutcomeWire::Failed {
                kind: error.kind(),
                error: error.to_string(),
            },
            Outcome::Skipped { reason } => OutcomeWire::Skipped { reason },
            Outcome::Held { note, held } => OutcomeWire::Held { note, held },
        }
    }
}

impl From<OutcomeWire> for Outcome {
    fn from(w: OutcomeWire) -> Self {
        match w {
            OutcomeWire::Ok { note } => Outcome::Ok { note },
            OutcomeWire::Failed { error, kind } => Outcome::Failed {
                error: BackendError::new(kind, error),
            },
            OutcomeWire::Skipped { reason } => Outcome::Skipped { reason },
            OutcomeWire::Held { note, held } => Outcome::Held { note, held },
        }
    }
}

/// One action's result, by index into [`Plan::actions`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ActionResult {
    /// Index into the plan's actions.
    pub index: usize,
    /// A one-line description of the action.
    pub action: String,
    /// What happened.
    pub outcome: Outcome,
    /// The Brivo user written (for a create, the user made or found), when
    /// known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<BrivoUserId>,
}

/// A dry run's result: the plan and what it was computed from. Nothing was
/// written. Pass `plan` to [`Syncer::apply`] to execute it.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SyncPlan {
    /// The plan.
    pub plan: Plan,
    /// The merged facts it was computed from.
    pub facts: Facts,
    /// The Brivo state it was diffed against.
    pub observed: Observed,
    /// Counts of the inputs.
    pub inputs: InputCounts,
    /// How each source's fetch went.
    pub sources: Vec<SourceReport>,
    /// Backend calls made to observe.
    pub calls: CallCounts,
}

/// A run's result: the plan, each action's result, and the calls made.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SyncReport {
    /// The plan applied (a fresh one if the saved plan was stale and
    /// re-planning was allowed).
    pub plan: Plan,
    /// True when `plan` replaced a stale saved plan.
    pub replanned: bool,
    /// Counts of the inputs (if this run fetched them).
    pub inputs: Option<InputCounts>,
    /// How each source's fetch went (if this run fetched them).
    pub sources: Vec<SourceReport>,
    /// One result per action, in plan order.
    pub results: Vec<ActionResult>,
    /// Backend calls this run made (observation, lookups and writes).
    pub calls: CallCounts,
    /// The backend state the plan was checked against, before the apply.
    pub observed: Observed,
    /// Items held back while applying, beside the plan's own `held`: the
    /// additions Brivo refused for its 16-group cap (see [`Outcome::Held`]).
    pub held: Vec<Held>,
    /// Reads not made because they would have overspent a [`Budget`]: the
    /// cached facts or observation served instead.
    pub deferred: Vec<Deferral>,
    /// True when Brivo was observed in full for this run; false when the
    /// plan was made from the cached observation (see
    /// [`Syncer::sync_due`]).
    pub observed_fully: bool,
    /// Users read again before writing them (a run from the cached
    /// observation).
    pub verified_users: usize,
    /// Each budget's windows after this run: calls counted and limits.
    pub budgets: Vec<crate::budget::BudgetUse>,
}

impl SyncReport {
    /// Actions that succeeded.
    pub fn succeeded(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Ok { .. }))
    }

    /// Actions that failed.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Failed { .. }))
    }

    /// Actions skipped.
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skipped { .. }))
    }

    /// Actions applied in part, the rest held ([`Outcome::Held`]).
    pub fn held_back(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Held { .. }))
    }

    /// True when every action succeeded in full.
    pub fn is_success(&self) -> bool {
        self.succeeded() == self.results.len()
    }

    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.results.iter().filter(|r| f(&r.outcome)).count()
    }
}

/// How [`Syncer::apply_with`] treats a saved plan.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApplyOptions {
    /// If the plan is stale, fetch and plan again (at the clock's now) and
    /// apply the fresh plan instead of refusing (Terraform refuses; this is
    /// the explicit opt-in).
    pub replan_if_stale: bool,
}

impl ApplyOptions {
    /// Options that re-plan a stale plan instead of refusing it.
    pub fn replanning() -> Self {
        ApplyOptions {
            replan_if_stale: true,
        }
    }
}

/// What the last successful run saw per scope, and the approvals pending
/// for the next run, as a runner reads them from its run state: the
/// [`Baseline`] a plan made outside the runner (a report, a dry run of your
/// own) should be made with.
///
/// ```
/// use access_state::{MemoryState, RunState};
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let state = MemoryState::new();
/// state.approve("acct", "scope:property:100", "ops", chrono::Utc::now()).await.unwrap();
/// let b = access_sync::syncer::baseline(&state, "acct").await.unwrap();
/// assert!(b.approved.contains("scope:property:100"));
/// # });
/// ```
pub async fn baseline(
    state: &dyn access_state::RunState,
    namespace: &str,
) -> Result<Baseline, access_state::StateError> {
    let mut b = Baseline::default();
    for (key, people) in state.scope_people(namespace).await? {
        if let Some(scope) = Scope::from_key(&key) {
            b.people
                .insert(scope, usize::try_from(people).unwrap_or(usize::MAX));
        }
    }
    for a in state.pending_approvals(namespace).await? {
        b.approved.insert(a.id);
    }
    Ok(b)
}

/// The longest interval the [`SyncerBuilder`] keeps, ten years: a longer
/// one (up to `Duration::MAX`) is clamped to it, so no instant computed
/// from it can overflow.
pub const MAX_INTERVAL: Duration = Duration::from_secs(10 * 365 * 86_400);

/// The run-state cache kind under which the runner records the users it
/// suspended itself (key: Brivo user id, value: `true`/`false`).
const SUSPENDED_BY_US: &str = "suspended-by-integration";

/// The run-state cache kind under which the runner records the users it
/// invited to Brivo Mobile Pass (key: Brivo user id).
const MOBILE_PASS_INVITED: &str = "mobile-pass-invited";

/// The run-state cache kind under which the runner records the users it
/// gave a card from the pool (key: Brivo user id, value: the card's
/// reference id).
const CARD_ASSIGNED: &str = "card-assigned";

/// The run-state cache kind under which the runner records the window it
/// last set on each owned user's credentials (key: Brivo user id, value:
/// the window and how many credentials the user held).
const CREDENTIAL_WINDOW: &str = "credential-window";

/// A user who held no credential when the window was set (a Mobile Pass
/// not redeemed yet) is looked at again after a day, then after 2, 4, 8,
/// 16 and every 32 days: a few reads per such user, not one per run
/// (2,000 users who never redeem would otherwise cost 60,000 calls a month).
/// `checks`: how many times in a row the user was found without one.
fn no_credential_recheck(checks: u64) -> chrono::TimeDelta {
    chrono::TimeDelta::days(1 << checks.saturating_sub(1).min(5))
}

/// What the run state keeps of a user's credential window.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct WindowRecord {
    /// The window last set; `None`: set it again.
    #[serde(default)]
    window: Option<access_engine::CredentialWindow>,
    /// How many credentials the user held then.
    #[serde(default)]
    credentials: u64,
    /// Of those, Mobile Passes.
    #[serde(default)]
    passes: u64,
    /// How many times in a row it was found still waiting for one.
    #[serde(default)]
    checks: u64,
    /// A pass was invited and not seen yet.
    #[serde(default)]
    awaiting: bool,
}

/// The run-state cache kind under which the runner records the unowned
/// users it found it may not adopt (key: Brivo user id, value: why).
const ADOPTION_REFUSED: &str = "adoption-refused";

/// What the run loop did in one iteration.
#[derive(Debug)]
#[non_exhaustive]
pub enum RunEvent<'a> {
    /// A run completed (possibly with failed actions).
    Synced(&'a SyncReport),
    /// A run failed before applying anything.
    Failed(&'a SyncError),
}

/// Builds a [`Syncer`]. See [`Syncer::builder`].
#[derive(Debug)]
pub struct SyncerBuilder {
    backend: Arc<dyn AccessBackend>,
    sources: Vec<Arc<dyn FactSource>>,
    mappings: Mappings,
    policy: Policy,
    concurrency: usize,
    poll_interval: Duration,
    retry_base: Duration,
    clock: Arc<dyn Clock>,
    audit: Option<Arc<dyn AuditSink>>,
    progress: ProgressFn,
    state: Store,
    namespace: Option<String>,
    holder: String,
    lock_ttl: Option<Duration>,
    max_plan_age: Duration,
    refresh: BTreeMap<String, Duration>,
    max_fact_age: Option<Duration>,
    full_every: Duration,
    budgets: BTreeMap<String, Budget>,
}

/// A progress callback: `(actions done, actions in the plan)`.
type Progress = Arc<dyn Fn(usize, usize) + Send + Sync>;

struct ProgressFn(Option<Progress>);

impl std::fmt::Debug for ProgressFn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() { "Some(..)" } else { "None" })
    }
}

/// The run state store, shown by its kind.
#[derive(Clone)]
struct Store(Arc<dyn RunState>);

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RunState({:?})", self.0.kind())
    }
}

/// `host/pid/xxxxxxxx`: enough to tell two runners apart in a lock.
fn default_holder() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "runner".to_owned());
    format!("{host}/{}/{:08x}", std::process::id(), fastrand::u32(..))
}

impl std::fmt::Debug for dyn AccessBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AccessBackend")
    }
}

impl std::fmt::Debug for dyn FactSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FactSource({})", self.name())
    }
}

impl SyncerBuilder {
    /// Adds a fact source.
    #[must_use]
    pub fn source(mut self, source: impl FactSource + 'static) -> Self {
        self.sources.push(Arc::new(source));
        self
    }

    /// Adds a shared fact source.
    #[must_use]
    pub fn source_arc(mut self, source: Arc<dyn FactSource>) -> Self {
        self.sources.push(source);
        self
    }

    /// Sets the mappings (which also define the managed groups).
    #[must_use]
    pub fn mappings(mut self, mappings: Mappings) -> Self {
        self.mappings = mappings;
        self
    }

    /// Sets the policy.
    #[must_use]
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// How many Brivo users are worked on at once during an apply (default 8).
    /// The client's rate limiter still bounds the request rate.
    #[must_use]
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = n.max(1);
        self
    }

    /// The longest the run loop sleeps between runs (default 15 minutes,
    /// at most [`MAX_INTERVAL`]).
    #[must_use]
    pub fn poll_interval(mut self, every: Duration) -> Self {
        self.poll_interval = every.min(MAX_INTERVAL);
        self
    }

    /// The first delay after a failed run or a failed action's user (default
    /// 30 s), doubled per consecutive failure, capped by the poll interval.
    #[must_use]
    pub fn retry_base(mut self, base: Duration) -> Self {
        self.retry_base = base.min(MAX_INTERVAL);
        self
    }

    /// Sets the clock (default: the system clock).
    #[must_use]
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// Sets where audit records go.
    #[must_use]
    pub fn audit(mut self, sink: impl AuditSink + 'static) -> Self {
        self.audit = Some(Arc::new(sink));
        self
    }

    /// Sets a shared audit sink.
    #[must_use]
    pub fn audit_arc(mut self, sink: Arc<dyn AuditSink>) -> Self {
        self.audit = Some(sink);
        self
    }

    /// Calls `f(done, total)` after each action of an apply (from the
    /// apply's tasks: keep it quick), e.g. to show progress on long runs.
    #[must_use]
    pub fn on_progress(mut self, f: impl Fn(usize, usize) + Send + Sync + 'static) -> Self {
        self.progress = ProgressFn(Some(Arc::new(f)));
        self
    }

    /// Where run state lives between runs (default: in memory, for one
    /// process): each scope's people at the last run, per-user backoff,
    /// API call counts, approvals, cached zones, and the lock that lets one
    /// runner at a time act on a Brivo account and ownership prefix. Use an
    /// `access_state::SqliteState` file next to the config for one runner,
    /// `PostgresState` for several replicas. `namespace` names this
    /// installation in a shared store (e.g. the Brivo account); the lock is
    /// per namespace and ownership prefix.
    #[must_use]
    pub fn state(mut self, state: impl RunState + 'static, namespace: impl Into<String>) -> Self {
        self.state = Store(Arc::new(state));
        self.namespace = Some(namespace.into());
        self
    }

    /// [`state`](SyncerBuilder::state) with a shared store.
    #[must_use]
    pub fn state_arc(mut self, state: Arc<dyn RunState>, namespace: impl Into<String>) -> Self {
        self.state = Store(state);
        self.namespace = Some(namespace.into());
        self
    }

    /// This runner's name in the lock (default: host, process id and a
    /// random suffix).
    #[must_use]
    pub fn holder(mut self, holder: impl Into<String>) -> Self {
        self.holder = holder.into();
        self
    }

    /// How long the lock lasts unless renewed by the next run (default:
    /// twice the poll interval plus 5 minutes, so a live runner never loses
    /// it and a dead one frees it; at most [`MAX_INTERVAL`]).
    #[must_use]
    pub fn lock_ttl(mut self, ttl: Duration) -> Self {
        self.lock_ttl = Some(ttl.min(MAX_INTERVAL));
        self
    }

    /// The oldest saved plan [`Syncer::apply`] accepts (default 1 hour, at
    /// most [`MAX_INTERVAL`]).
    #[must_use]
    pub fn max_plan_age(mut self, age: Duration) -> Self {
        self.max_plan_age = age.min(MAX_INTERVAL);
        self
    }

    /// How often the run loop reads `source` again (by its
    /// [`FactSource::name`]; default: the poll interval). Each source's
    /// [`Budget`] stretches it when reads at this cadence would spend more
    /// than the budget's polling share. Between reads, the loop plans from
    /// the facts last read (see [`Syncer::sync_due`]). At most
    /// [`MAX_INTERVAL`].
    pub fn refresh(mut self, source: impl Into<String>, every: Duration) -> Self {
        self.refresh.insert(source.into(), every.min(MAX_INTERVAL));
        self
    }

    /// How old a source's cached facts may grow before they are no longer
    /// trusted: its scope is then incomplete, so nothing it feeds is
    /// revoked or newly granted until it is read again. Default: twice the
    /// source's cadence (see [`refresh`](Self::refresh)), at least an hour.
    /// At most [`MAX_INTERVAL`].
    pub fn max_fact_age(mut self, age: Duration) -> Self {
        self.max_fact_age = Some(age.min(MAX_INTERVAL));
        self
    }

    /// How often the run loop observes Brivo in full (default daily),
    /// stretched so that these observations stay within half of Brivo's
    /// budget. In between it plans from its cached observation and reads
    /// again only the users it writes; the full observation is what finds
    /// changes made by hand to other users. `Duration::ZERO` observes in
    /// full as often as the budget allows. At most [`MAX_INTERVAL`].
    pub fn full_reconciliation_every(mut self, every: Duration) -> Self {
        self.full_every = every.min(MAX_INTERVAL);
        self
    }

    /// The call budget of a service: `"brivo"` or a source's name.
    /// Defaults: Brivo 100,000 calls per 30 days ([`Budget::brivo_default`]),
    /// a source named `entrata` 2,500 a day ([`Budget::entrata_default`]);
    /// others none. See [`crate::budget`].
    pub fn budget(mut self, service: impl Into<String>, budget: Budget) -> Self {
        self.budgets.insert(service.into(), budget);
        self
    }

    /// Builds the syncer.
    pub fn build(self) -> Syncer {
        let namespace = self
            .namespace
            .unwrap_or_else(|| self.policy.ownership_prefix.clone());
        let lock_ttl = self
            .lock_ttl
            .unwrap_or(self.poll_interval.saturating_mul(2) + Duration::from_secs(300));
        let source_wakes = self
            .sources
            .iter()
            .map(|_| Arc::new(Notify::new()))
            .collect();
        let source_named = self.sources.iter().map(|_| Arc::default()).collect();
        Syncer {
            inner: Arc::new(Inner {
                source_wakes,
                source_named,
                lock_key: format!("{namespace}/{}", self.policy.ownership_prefix),
                namespace,
                state: self.state,
                holder: self.holder,
                lock_ttl,
                max_plan_age: self.max_plan_age,
                backend: self.backend,
                sources: self.sources,
                scope: {
                    let mut scope = ObserveScope::new(
                        self.mappings.managed_groups(),
                        self.policy.ownership_prefix.clone(),
                    );
                    scope.adoption_candidates = self.policy.adopt_by_email;
                    scope
                },
                mappings: self.mappings,
                policy: self.policy,
                concurrency: self.concurrency,
                poll_interval: self.poll_interval,
                retry_base: self.retry_base,
                clock: self.clock,
                audit: self.audit,
                wake: Arc::new(Notify::new()),
                progress: self.progress,
                cache: tokio::sync::Mutex::default(),
                refresh: self.refresh,
                max_fact_age: self.max_fact_age,
                full_every: self.full_every,
                budgets: self.budgets,
            }),
        }
    }
}

#[derive(Debug)]
struct Inner {
    backend: Arc<dyn AccessBackend>,
    sources: Vec<Arc<dyn FactSource>>,
    mappings: Mappings,
    policy: Policy,
    scope: ObserveScope,
    concurrency: usize,
    poll_interval: Duration,
    retry_base: Duration,
    clock: Arc<dyn Clock>,
    audit: Option<Arc<dyn AuditSink>>,
    wake: Arc<Notify>,
    progress: ProgressFn,
    state: Store,
    namespace: String,
    lock_key: String,
    holder: String,
    lock_ttl: Duration,
    max_plan_age: Duration,
    cache: tokio::sync::Mutex<incremental::Cache>,
    refresh: BTreeMap<String, Duration>,
    max_fact_age: Option<Duration>,
    full_every: Duration,
    budgets: BTreeMap<String, Budget>,
    /// One waker per source, by the source's index.
    source_wakes: Vec<Arc<Notify>>,
    /// Records webhooks named per source since it was last read
    /// ([`SourceChanges`]), by the source's index.
    source_named: Vec<Arc<std::sync::atomic::AtomicU64>>,
}

/// The runner: sources → engine → backend. Cheap to clone.
///
/// * [`plan`](Syncer::plan) is the dry run: fetch every source, observe
///   Brivo, compute the plan; nothing is written.
/// * [`apply`](Syncer::apply) executes exactly a plan after checking it is
///   not stale; [`sync_once`](Syncer::sync_once) plans and applies at once.
/// * [`run`](Syncer::run) loops: it wakes at the plan's `next_change`, when
///   a source read or a full observation of Brivo falls due, or at the poll
///   interval, whichever comes first (or when [`waker`](Syncer::waker) is
///   notified), and runs [`sync_due`](Syncer::sync_due): only what may have
///   changed is read again, within each service's [`Budget`].
///
/// ```
/// use access_engine::*;
/// use access_sync::{Syncer, memory::{MemoryBackend, StaticSource}};
/// use chrono::{NaiveDate, TimeZone, Utc};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), access_sync::SyncError> {
/// let mut facts = Facts::default();
/// facts.properties.push(Property::new("100", "America/New_York"));
/// facts.leases.push(
///     Lease::new("1345", "100", LeaseStatus::Current)
///         .with_move_in(NaiveDate::from_ymd_opt(2026, 3, 8))
///         .with_customer(Customer::new("77", CustomerType::Primary, Profile::new("Ada", "Lovelace"))),
/// );
/// let brivo = MemoryBackend::new();
/// brivo.add_group(GroupId(7), "Residents");
/// let mut mappings = Mappings::default();
/// mappings.properties.insert("100".into(), vec![GroupId(7)]);
///
/// let syncer = Syncer::builder(brivo.clone())
///     .source(StaticSource::new("entrata", Scope::Source(Source::Entrata), facts))
///     .mappings(mappings)
///     .build();
/// let now = Utc.with_ymd_and_hms(2026, 3, 9, 12, 0, 0).unwrap();
///
/// let dry = syncer.plan(now).await?;           // nothing written yet
/// assert_eq!(dry.plan.actions.len(), 2);       // create Ada, add her to group 7
/// let report = syncer.apply(&dry.plan).await?; // refuses if Brivo changed meanwhile
/// assert!(report.is_success());
/// assert_eq!(brivo.members_of(GroupId(7)).len(), 1);
/// assert!(syncer.plan(now).await?.plan.is_empty()); // converged
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Syncer {
    inner: Arc<Inner>,
}

/// The per-user queue key: actions on one Brivo user run in order, one at a time.
fn user_key(action: &Action) -> Option<String> {
    let id = |u: &BrivoUserId| format!("id:{}", u.0);
    Some(match action {
        Action::CreateUser { external_id, .. } => format!("new:{external_id}"),
        Action::AdoptUser { user, .. }
        | Action::SetExternalId { user, .. }
        | Action::UpdateProfile { user, .. }
        | Action::Unsuspend { user, .. }
        | Action::Suspend { user, .. }
        | Action::Delete { user, .. } => id(user),
        Action::ChangeGroups { user, .. }
        | Action::InviteMobilePass { user, .. }
        | Action::SetCredentialWindow { user, .. }
        | Action::AssignCard { user, .. } => match user {
            UserRef::Existing(u) => id(u),
            UserRef::New(ext) => format!("new:{ext}"),
        },
        _ => return None,
    })
}

/// The Brivo id of `user`: an existing one, or the one created earlier in
/// this user's queue; a skipped outcome when the create did not happen.
fn existing(user: &UserRef, created: Option<BrivoUserId>) -> Result<BrivoUserId, Outcome> {
    match (user, created) {
        (UserRef::Existing(id), _) => Ok(*id),
        (UserRef::New(_), Some(id)) => Ok(id),
        (UserRef::New(ext), None) => Err(Outcome::Skipped {
            reason: format!("{ext} was not created in this run"),
        }),
    }
}

/// Whether `u` carries an external id under `owned` (`{prefix}:`).
fn owned_by(u: &access_engine::ObservedUser, owned: &str) -> bool {
    u.external_id
        .as_deref()
        .is_some_and(|x| x.starts_with(owned))
}

/// The Brivo user an action writes: its own id, or the user its create
/// made (`created`).
fn target(action: &Action, created: Option<BrivoUserId>) -> Option<BrivoUserId> {
    match action {
        Action::CreateUser { .. } => created,
        Action::AdoptUser { user, .. }
        | Action::SetExternalId { user, .. }
        | Action::UpdateProfile { user, .. }
        | Action::Unsuspend { user, .. }
        | Action::Suspend { user, .. }
        | Action::Delete { user, .. } => Some(*user),
        Action::ChangeGroups { user, .. }
        | Action::InviteMobilePass { user, .. }
        | Action::AssignCard { user, .. }
        | Action::SetCredentialWindow { user, .. } => match user {
            UserRef::Existing(id) => Some(*id),
            _ => created,
        },
        _ => None,
    }
}

/// A one-line description of an action.
pub fn describe(action: &Action) -> String {
    let groups = |list: &[access_engine::GroupChange]| {
        list.iter()
            .map(|c| c.group.0.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    match action {
        Action::CreateUser {
            external_id,
            profile,
            ..
        } => format!("create {external_id} ({profile})"),
        Action::AdoptUser {
            user, external_id, ..
        } => format!("adopt {user} as {external_id}"),
        Action::SetExternalId {
            user,
            from,
            external_id,
            ..
        } => format!("rekey {user} from {from} to {external_id}"),
        Action::UpdateProfile {
            user,
            external_id,
            changed,
            ..
        } => format!("update {user} ({external_id}) {changed:?}"),
        Action::Unsuspend { user, .. } => format!("unsuspend {user}"),
        Action::ChangeGroups { user, add, remove } => {
            let mut s = format!("groups of {user}:");
            if !add.is_empty() {
                s.push_str(&format!(" +[{}]", groups(add)));
            }
            if !remove.is_empty() {
                s.push_str(&format!(" -[{}]", groups(remove)));
            }
            s
        }
        Action::InviteMobilePass {
            user,
            email,
            reissue,
            ..
        } => format!(
            "invite {user} to Mobile Pass at {email}{}",
            if *reissue { " (again)" } else { "" }
        ),
        Action::SetCredentialWindow { user, window, .. } => {
            format!("credentials of {user} valid {window}")
        }
        Action::AssignCard { user, pool, .. } => format!("card for {user} from pool {pool}"),
        Action::Suspend { user, .. } => format!("suspend {user}"),
        Action::Delete { user, .. } => format!("delete {user}"),
        other => format!("{other:?}"),
    }
}

impl Syncer {
    /// Starts building a syncer writing to `backend`.
    pub fn builder(backend: impl AccessBackend + 'static) -> SyncerBuilder {
        Self::builder_arc(Arc::new(backend))
    }

    /// Starts building a syncer writing to a shared backend.
    pub fn builder_arc(backend: Arc<dyn AccessBackend>) -> SyncerBuilder {
        SyncerBuilder {
            backend,
            sources: Vec::new(),
            mappings: Mappings::default(),
            policy: Policy::default(),
            concurrency: 8,
            poll_interval: Duration::from_secs(15 * 60),
            retry_base: Duration::from_secs(30),
            clock: Arc::new(SystemClock),
            audit: None,
            progress: ProgressFn(None),
            state: Store(Arc::new(MemoryState::new())),
            namespace: None,
            holder: default_holder(),
            lock_ttl: None,
            max_plan_age: Duration::from_secs(3600),
            refresh: BTreeMap::new(),
            max_fact_age: None,
            full_every: Duration::from_secs(24 * 3600),
            budgets: BTreeMap::from([
                ("brivo".to_owned(), Budget::brivo_default()),
                ("entrata".to_owned(), Budget::entrata_default()),
            ]),
        }
    }

    /// The mappings.
    pub fn mappings(&self) -> &Mappings {
        &self.inner.mappings
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// The backend.
    pub fn backend(&self) -> &Arc<dyn AccessBackend> {
        &self.inner.backend
    }

    /// The clock's current instant.
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// A handle that wakes [`run`](Syncer::run) for an immediate run (e.g.
    /// from a webhook handler). A woken run reads every source again,
    /// whatever their cadence (see [`refresh_sources`](Syncer::refresh_sources)),
    /// within the budgets' whole allowance.
    pub fn waker(&self) -> Arc<Notify> {
        self.inner.wake.clone()
    }

    /// A handle that wakes [`run`](Syncer::run) for an immediate run that
    /// reads the source named `source` again (the others on their
    /// cadence): for a webhook of one service, whose wakes should not spend
    /// another service's budget. `None` if no source has that name.
    ///
    /// ```
    /// use access_engine::{Facts, Scope, Source};
    /// use access_sync::{Syncer, memory::{MemoryBackend, StaticSource}};
    /// let syncer = Syncer::builder(MemoryBackend::new())
    ///     .source(StaticSource::new("officernd", Scope::Source(Source::OfficeRnd), Facts::default()))
    ///     .build();
    /// assert!(syncer.waker_for("officernd").is_some());
    /// assert!(syncer.waker_for("entrata").is_none());
    /// ```
    pub fn waker_for(&self, source: &str) -> Option<Arc<Notify>> {
        let i = self.inner.sources.iter().position(|s| s.name() == source)?;
        self.inner.source_wakes.get(i).cloned()
    }

    /// A handle for a webhook receiver of the source named `source`: it
    /// tells the source which record changed ([`FactSource::changed`], so
    /// that [`OfficeRndSource`](crate::OfficeRndSource) reads just that
    /// record) and wakes a run that reads the source again, as
    /// [`waker_for`](Self::waker_for) does. `None` if no source has that
    /// name.
    pub fn changes_for(&self, source: &str) -> Option<SourceChanges> {
        let i = self.inner.sources.iter().position(|s| s.name() == source)?;
        Some(SourceChanges {
            source: self.inner.sources[i].clone(),
            wake: self.inner.source_wakes.get(i)?.clone(),
            named: self.inner.source_named.get(i)?.clone(),
        })
    }

    /// Fetches every source (concurrently), in full: what the sources keep
    /// between fetches is dropped first ([`FactSource::invalidate`]). A
    /// failed source marks its scope incomplete; it never fails the run.
    pub async fn fetch(&self, now: DateTime<Utc>) -> (Facts, Vec<SourceReport>) {
        for s in &self.inner.sources {
            s.invalidate();
        }
        {
            // a full read answers any pending request for one
            let mut cache = self.inner.cache.lock().await;
            cache.forced = false;
            cache.forced_sources.clear();
        }
        let results = self.fetch_sources(&self.inner.sources, now).await;
        let mut facts = Facts::default();
        let mut reports = Vec::new();
        let mut keep = Vec::new();
        for (i, (source, result)) in self.inner.sources.iter().zip(results).enumerate() {
            let (batch, report) = incremental::absorb(source.as_ref(), result, now);
            match &batch {
                Some(f) => merge_facts(&mut facts, f.clone()),
                None => incremental::mark_failed(&mut facts, source.as_ref(), &report),
            }
            keep.push((i, batch, report.clone()));
            reports.push(report);
        }
        // What was read serves the run loop's next runs too.
        self.inner.cache.lock().await.store_fetch(now, keep);
        (facts, reports)
    }

    /// Reads `sources` concurrently; results in their order.
    async fn fetch_sources(
        &self,
        sources: &[Arc<dyn FactSource>],
        now: DateTime<Utc>,
    ) -> Vec<Result<SourceBatch, SourceError>> {
        let fetches = sources.iter().map(|s| async move {
            let span = info_span!("fetch", source = s.name());
            s.fetch(now).instrument(span).await
        });
        futures::future::join_all(fetches).await
    }

    /// Reads the backend's state for the managed groups and owned users.
    ///
    /// # Errors
    /// [`SyncError::Observe`] if the backend cannot be read.
    pub async fn observe(&self) -> Result<Observed, SyncError> {
        let before = self.inner.backend.calls();
        let mut observed = self.observe_raw().await?;
        let calls = self.inner.backend.calls().since(&before).http;
        self.inner
            .cache
            .lock()
            .await
            .store_observation(&observed, self.inner.clock.now(), calls);
        self.mark(&mut observed).await;
        Ok(observed)
    }

    /// The backend's observation, without the run state's marks.
    async fn observe_raw(&self) -> Result<Observed, SyncError> {
        self.inner
            .backend
            .observe(&self.inner.scope)
            .instrument(info_span!("observe"))
            .await
            .map_err(SyncError::Observe)
    }

    /// Adds what the run state knows and Brivo cannot tell: who suspended
    /// a user, invitations sent, adoptions refused, windows and cards set.
    async fn mark(&self, observed: &mut Observed) {
        self.mark_own_suspensions(observed).await;
        if self.inner.policy.invite_mobile_pass {
            self.mark_invited(observed).await;
        }
        if self.inner.policy.adopt_by_email {
            self.mark_refused_adoptions(observed).await;
        }
        if self.inner.policy.credential_windows {
            self.mark_credential_windows(observed).await;
        }
        if self.inner.policy.card_pool.is_some() {
            self.mark_cards(observed).await;
        }
    }

    /// Marks the owned users the runner gave a card from the pool. A state
    /// that cannot be read marks none: the runner looks at the user's
    /// credentials before assigning, so a second card is never given.
    async fn mark_cards(&self, observed: &mut Observed) {
        let ns = &self.inner.namespace;
        let owned = format!("{}:", self.inner.policy.ownership_prefix);
        for u in observed.users.iter_mut().filter(|u| owned_by(u, &owned)) {
            match self
                .state()
                .cache_get(ns, CARD_ASSIGNED, &u.id.0.to_string())
                .await
            {
                Ok(found) => {
                    u.card_assigned = found.is_some();
                    if found.is_some() {
                        u.holds_credential = Some(true);
                    }
                }
                Err(e) => warn!(error = %e, user = %u.id,
                    "could not read the cards given; the user's credentials are looked at before assigning"),
            }
        }
    }

    /// Gives each owned user the credential window the runner last set on
    /// it. Unknown (never set, a record that cannot be read, or a user who
    /// held no credential a day ago): the plan sets it again.
    async fn mark_credential_windows(&self, observed: &mut Observed) {
        let ns = &self.inner.namespace;
        let owned = format!("{}:", self.inner.policy.ownership_prefix);
        let now = self.inner.clock.now();
        for u in observed.users.iter_mut().filter(|u| owned_by(u, &owned)) {
            match self
                .state()
                .cache_get(ns, CREDENTIAL_WINDOW, &u.id.0.to_string())
                .await
            {
                Ok(Some((value, at))) => {
                    let r: WindowRecord = serde_json::from_value(value).unwrap_or_default();
                    if r.window.is_some() {
                        u.holds_credential = Some(r.credentials > 0);
                    }
                    let waiting = r.credentials == 0 || r.awaiting;
                    if waiting && now - at >= no_credential_recheck(r.checks) {
                        continue;
                    }
                    u.credential_window = r.window;
                }
                Ok(None) => {}
                Err(e) => warn!(error = %e, user = %u.id,
                    "could not read the credential window set; setting it again"),
            }
        }
    }

    /// Marks the owned users this integration invited to Mobile Pass. A
    /// state that cannot be read marks them all: no invitation is planned
    /// rather than a second one.
    async fn mark_invited(&self, observed: &mut Observed) {
        let ns = &self.inner.namespace;
        let owned = format!("{}:", self.inner.policy.ownership_prefix);
        for u in observed.users.iter_mut().filter(|u| owned_by(u, &owned)) {
            match self
                .state()
                .cache_get(ns, MOBILE_PASS_INVITED, &u.id.0.to_string())
                .await
            {
                Ok(found) => u.mobile_pass_invited = found.is_some(),
                Err(e) => {
                    warn!(error = %e, user = %u.id, "could not read the invitations sent; sending none");
                    u.mobile_pass_invited = true;
                }
            }
        }
    }

    /// Marks the candidates the runner already found it may not adopt
    /// (recorded when an adoption was refused), so the engine creates a
    /// user of the identity's own instead of planning the same adoption on
    /// every run.
    async fn mark_refused_adoptions(&self, observed: &mut Observed) {
        let ns = &self.inner.namespace;
        for u in observed
            .users
            .iter_mut()
            .filter(|u| u.external_id.as_deref().is_none_or(|x| x.trim().is_empty()))
        {
            match self
                .state()
                .cache_get(ns, ADOPTION_REFUSED, &u.id.0.to_string())
                .await
            {
                Ok(Some((serde_json::Value::String(reason), _))) => {
                    u.adoption_refused = Some(reason);
                }
                Ok(_) => {}
                // The check just before adopting still runs; marking the user
                // refused here would give the person a second Brivo user.
                Err(e) => warn!(error = %e, user = %u.id,
                    "could not read past adoption refusals; the check before adopting still applies"),
            }
        }
    }

    /// Marks each suspended owned user this integration suspended itself
    /// (recorded in the run state when it did), so that only those are
    /// unsuspended when access returns; a suspension made by hand is held
    /// for an operator. A state that cannot be read marks none: holding an
    /// unsuspension is the safe side.
    async fn mark_own_suspensions(&self, observed: &mut Observed) {
        let ns = &self.inner.namespace;
        let owned = format!("{}:", self.inner.policy.ownership_prefix);
        for u in observed.users.iter_mut().filter(|u| u.suspended) {
            if !owned_by(u, &owned) {
                continue;
            }
            match self
                .state()
                .cache_get(ns, SUSPENDED_BY_US, &u.id.0.to_string())
                .await
            {
                Ok(Some((value, _))) => u.suspended_by_integration = value.as_bool() == Some(true),
                Ok(None) => {}
                Err(e) => warn!(error = %e, user = %u.id,
                    "could not read who suspended this user; an unsuspension will be held"),
            }
        }
    }

    /// A new card has no window yet: the record is dropped, so that the
    /// next run sets it again.
    async fn forget_window(&self, user: BrivoUserId) {
        if self.inner.policy.credential_windows {
            let lost = "the new card has no window until the user's next change";
            // keep the wait for a pass, if any
            let record = WindowRecord {
                window: None,
                ..self.window_record(user).await
            };
            let unknown = serde_json::to_value(&record).unwrap_or_default();
            self.remember(CREDENTIAL_WINDOW, user, unknown, lost).await;
        }
    }

    /// A pass was invited: it becomes a credential when redeemed, at a time
    /// nobody knows, so the user is looked at again (1, 2, 4 ... days) until
    /// it holds more credentials than now.
    async fn await_pass(&self, user: BrivoUserId) {
        if self.inner.policy.credential_windows {
            let record = WindowRecord {
                awaiting: true,
                checks: 0,
                ..self.window_record(user).await
            };
            let lost = "a pass redeemed later has no window until the user's next change";
            let value = serde_json::to_value(&record).unwrap_or_default();
            self.remember(CREDENTIAL_WINDOW, user, value, lost).await;
        }
    }

    /// What the run state keeps of `user`'s credential window (empty when
    /// nothing, or it cannot be read).
    async fn window_record(&self, user: BrivoUserId) -> WindowRecord {
        let found = self
            .state()
            .cache_get(
                &self.inner.namespace,
                CREDENTIAL_WINDOW,
                &user.0.to_string(),
            )
            .await;
        match found {
            Ok(Some((v, _))) => serde_json::from_value(v).unwrap_or_default(),
            _ => WindowRecord::default(),
        }
    }

    /// Records what this integration did to a user that Brivo cannot tell
    /// afterwards (see [`SUSPENDED_BY_US`], [`MOBILE_PASS_INVITED`],
    /// [`ADOPTION_REFUSED`]); `if_lost` says what a failed write costs.
    async fn remember(
        &self,
        kind: &str,
        user: BrivoUserId,
        value: serde_json::Value,
        if_lost: &str,
    ) {
        let at = self.inner.clock.now();
        if let Err(e) = self
            .state()
            .cache_put(&self.inner.namespace, kind, &user.0.to_string(), &value, at)
            .await
        {
            warn!(error = %e, %user, kind, "could not record it in the run state: {if_lost}");
        }
    }

    /// The dry run: fetch, observe, plan at `now`. Nothing is written to
    /// the backend; an audit record of kind `plan` is.
    ///
    /// The planner itself runs on tokio's blocking pool (it is CPU-bound:
    /// about a second at a million occupants), so the runtime's workers stay
    /// free for other tasks meanwhile.
    ///
    /// # Errors
    /// [`SyncError::Observe`] if Brivo cannot be read (a failed source is not
    /// an error: its scope is marked incomplete and its revocations held);
    /// [`SyncError::Panicked`] if the planner panicked (a bug).
    pub async fn plan(&self, now: DateTime<Utc>) -> Result<SyncPlan, SyncError> {
        let result = self
            .plan_inner(now)
            .instrument(info_span!("plan", %now))
            .await;
        if let Ok(p) = &result {
            // a dry run spends calls too
            self.count_calls(p.calls.http, &p.sources).await;
        }
        match &result {
            Ok(p) => self.audit(AuditRecord {
                recorded_at: Utc::now(),
                now,
                kind: RunKind::Plan,
                sources: p.sources.clone(),
                inputs: Some(p.inputs.clone()),
                plan: Some(p.plan.clone()),
                results: Vec::new(),
                held: Vec::new(),
                calls: p.calls,
                error: None,
                error_kind: None,
                deferred: Vec::new(),
                budgets: Vec::new(),
            }),
            Err(f) => self.audit_failure(now, f),
        }
        result.map_err(|f| f.error)
    }

    async fn plan_inner(&self, now: DateTime<Utc>) -> Result<SyncPlan, Failure> {
        let before = self.inner.backend.calls();
        let (mut facts, sources) = self.fetch(now).await;
        // Without what the last run saw, an emptied scope would look like a
        // mass move-out: no plan without the baseline.
        facts.baseline = match self.baseline().await {
            Ok(b) => b,
            Err(error) => {
                return Err(Failure {
                    error,
                    sources,
                    calls: self.inner.backend.calls().since(&before),
                });
            }
        };
        let observed = match self.observe().await {
            Ok(o) => o,
            Err(error) => {
                warn!(%error, "no plan: Brivo could not be observed");
                return Err(Failure {
                    error,
                    sources,
                    calls: self.inner.backend.calls().since(&before),
                });
            }
        };
        let (mut plan, facts, observed) = match self.plan_off_runtime(facts, observed, now).await {
            Ok(planned) => planned,
            Err(error) => {
                error!(%error, "the planner panicked; no plan");
                return Err(Failure {
                    error,
                    sources,
                    calls: self.inner.backend.calls().since(&before),
                });
            }
        };
        plan.meta.made_at = Some(self.inner.clock.now());
        let inputs = InputCounts::of(&facts, &observed);
        info!(
            actions = plan.actions.len(),
            held = plan.held.len(),
            warnings = plan.warnings.len(),
            next_change = ?plan.next_change,
            observed_users = inputs.observed_users,
            "planned"
        );
        Ok(SyncPlan {
            plan,
            facts,
            observed,
            inputs,
            sources,
            calls: self.inner.backend.calls().since(&before),
        })
    }

    /// Runs [`access_engine::plan`] on tokio's blocking pool, not on an
    /// async worker: at a million occupants it computes for a second or
    /// more, which would stall every other task of a worker (the run loop's
    /// shutdown, webhook handlers, other syncers), or the whole of a
    /// current-thread runtime. The inputs move to the blocking thread and
    /// come back with the plan. A panic in the planner is
    /// [`SyncError::Panicked`]. Should the blocking pool refuse the job (the
    /// runtime is shutting down), the plan is computed here instead.
    async fn plan_off_runtime(
        &self,
        facts: Facts,
        observed: Observed,
        now: DateTime<Utc>,
    ) -> Result<(Plan, Facts, Observed), SyncError> {
        let facts = Arc::new(facts);
        let observed = Arc::new(observed);
        let job = {
            let (inner, facts, observed) = (self.inner.clone(), facts.clone(), observed.clone());
            move || access_engine::plan(&facts, &inner.mappings, &inner.policy, &observed, now)
        };
        let inner = &self.inner;
        let plan = off_runtime(job, || {
            access_engine::plan(&facts, &inner.mappings, &inner.policy, &observed, now)
        })
        .await?;
        // The job's clones are gone once it has run: no copy in the common case.
        let facts = Arc::try_unwrap(facts).unwrap_or_else(|shared| (*shared).clone());
        let observed = Arc::try_unwrap(observed).unwrap_or_else(|shared| (*shared).clone());
        Ok((plan, facts, observed))
    }

    /// Applies exactly `plan`, after re-observing Brivo and refusing the plan
    /// if Brivo changed since it was computed (like Terraform's "saved plan
    /// is stale").
    ///
    /// Actions on one user run in plan order, one at a time; different users
    /// run concurrently (see [`SyncerBuilder::concurrency`]). A failed action
    /// never stops the others; a failed create skips the rest of its user's
    /// actions. Each action's result is in the report and the audit log.
    ///
    /// A group change's removals never wait on its additions: if Brivo
    /// refuses the additions because the user would exceed its 16-group cap
    /// (counting groups the integration does not manage), the removals are
    /// applied alone and the action ends [`Outcome::Held`], its additions
    /// in [`SyncReport::held`] with the reason (see
    /// [`AccessBackend::change_groups`]). The next run plans them again.
    ///
    /// # Errors
    /// [`SyncError::Stale`] for a stale plan, [`SyncError::Observe`] if Brivo
    /// cannot be read.
    pub async fn apply(&self, plan: &Plan) -> Result<SyncReport, SyncError> {
        self.apply_with(plan, ApplyOptions::default()).await
    }

    /// [`apply`](Syncer::apply) with options (e.g. re-plan a stale plan).
    ///
    /// # Errors
    /// As [`apply`](Syncer::apply).
    pub async fn apply_with(
        &self,
        plan: &Plan,
        options: ApplyOptions,
    ) -> Result<SyncReport, SyncError> {
        let result = self.apply_locked(plan, options).await;
        self.unlock().await;
        result
    }

    async fn apply_locked(
        &self,
        plan: &Plan,
        options: ApplyOptions,
    ) -> Result<SyncReport, SyncError> {
        let before = self.inner.backend.calls();
        let refuse = |error: SyncError| {
            let f = Failure {
                error,
                sources: Vec::new(),
                calls: self.inner.backend.calls().since(&before),
            };
            self.audit_failure(plan.now, &f);
            Err(f.error)
        };
        if let Err(e) = self.lock().await {
            return refuse(e);
        }
        let observed = match self.observe().await {
            Ok(o) => o,
            Err(error) => {
                let f = Failure {
                    error,
                    sources: Vec::new(),
                    calls: self.inner.backend.calls().since(&before),
                };
                self.audit_failure(plan.now, &f);
                return Err(f.error);
            }
        };
        if let Some(next) = plan.next_change
            && self.inner.clock.now() >= next
        {
            warn!(planned_for = %plan.now, changed_at = %next,
                "applying a plan whose desired state has changed since; the next run will catch up");
        }
        // A plan file is data: made under this config, young enough, and
        // touching only what this config owns, or refused.
        let max_age = chrono::Duration::from_std(self.inner.max_plan_age)
            .unwrap_or(chrono::Duration::hours(1));
        let checked = plan
            .check_applicable(
                &self.inner.mappings,
                &self.inner.policy,
                &observed,
                self.inner.clock.now(),
                max_age,
            )
            .map_err(SyncError::Refused)
            .and_then(|()| plan.check_observed(&observed).map_err(SyncError::Stale));
        let stale = match checked {
            Ok(()) => None,
            // Tampered or foreign: never re-planned over, always refused.
            Err(
                e @ SyncError::Refused(
                    PlanRefused::ConfigChanged { .. } | PlanRefused::OutOfScope { .. },
                ),
            ) => {
                warn!(error = %e, "refusing a saved plan");
                return refuse(e);
            }
            Err(e) => Some(e),
        };
        match stale.map_or(Ok(()), Err) {
            Ok(()) => Ok(self
                .execute(plan.clone(), observed, false, None, Vec::new(), before)
                .await),
            Err(stale) if options.replan_if_stale => {
                warn!(error = %stale, "saved plan is stale; re-planning as asked");
                let fresh = self.plan_at_clock().await?;
                Ok(self
                    .execute(
                        fresh.plan,
                        fresh.observed,
                        true,
                        Some(fresh.inputs),
                        fresh.sources,
                        before,
                    )
                    .await)
            }
            Err(stale) => {
                warn!(error = %stale, "refusing a stale plan");
                refuse(stale)
            }
        }
    }

    async fn plan_at_clock(&self) -> Result<SyncPlan, SyncError> {
        let now = self.inner.clock.now();
        match self.plan_inner(now).await {
            Ok(p) => Ok(p),
            Err(f) => {
                self.audit_failure(now, &f);
                Err(f.error)
            }
        }
    }

    /// One level-triggered run at `now`: fetch, observe, plan, and apply that
    /// plan against the state it was just computed from.
    ///
    /// # Errors
    /// [`SyncError::Observe`] if Brivo cannot be read.
    pub async fn sync_once(&self, now: DateTime<Utc>) -> Result<SyncReport, SyncError> {
        let result = self.sync_locked(now).await;
        self.unlock().await;
        result
    }

    /// A run holding the lock, which it keeps (the run loop renews it).
    async fn sync_locked(&self, now: DateTime<Utc>) -> Result<SyncReport, SyncError> {
        let before = self.inner.backend.calls();
        let span = info_span!("sync", %now);
        async {
            if let Err(error) = self.lock().await {
                let f = Failure {
                    error,
                    sources: Vec::new(),
                    calls: CallCounts::default(),
                };
                self.audit_failure(now, &f);
                return Err(f.error);
            }
            match self.plan_inner(now).await {
                Ok(p) => Ok(self
                    .execute(p.plan, p.observed, false, Some(p.inputs), p.sources, before)
                    .await),
                Err(f) => {
                    self.audit_failure(now, &f);
                    Err(f.error)
                }
            }
        }
        .instrument(span)
        .await
    }

    /// What the last successful run saw per scope, and the approvals
    /// pending for this run, from the run state.
    async fn baseline(&self) -> Result<Baseline, SyncError> {
        baseline(self.state(), &self.inner.namespace)
            .await
            .map_err(|e| SyncError::State(e.to_string()))
    }

    /// Takes (or renews) the lock on this Brivo account and prefix.
    async fn lock(&self) -> Result<(), SyncError> {
        let at = self.inner.clock.now();
        match self
            .state()
            .try_lock(
                &self.inner.lock_key,
                &self.inner.holder,
                at,
                self.inner.lock_ttl,
            )
            .await
        {
            Ok(LockOutcome::HeldBy { holder, until }) => {
                warn!(%holder, %until, "another runner holds the lock");
                Err(SyncError::Locked { holder, until })
            }
            Ok(_) => Ok(()),
            Err(e) => Err(SyncError::State(format!("taking the lock: {e}"))),
        }
    }

    async fn unlock(&self) {
        if let Err(e) = self
            .state()
            .unlock(&self.inner.lock_key, &self.inner.holder)
            .await
        {
            warn!(error = %e, "could not release the lock; it expires by itself");
        }
    }

    /// Approves a held item for the next run only (its
    /// `HoldRule::approval` id, e.g. `scope:property:100` or
    /// `revocations:523`), recorded in the run state with who approved it.
    ///
    /// # Errors
    /// [`SyncError::State`] if the store cannot be written.
    pub async fn approve(&self, id: &str, by: &str) -> Result<(), SyncError> {
        self.state()
            .approve(&self.inner.namespace, id, by, self.inner.clock.now())
            .await
            .map_err(|e| SyncError::State(e.to_string()))
    }

    /// The approvals waiting for the next run.
    ///
    /// # Errors
    /// [`SyncError::State`] if the store cannot be read.
    pub async fn pending_approvals(&self) -> Result<Vec<access_state::Approval>, SyncError> {
        self.state()
            .pending_approvals(&self.inner.namespace)
            .await
            .map_err(|e| SyncError::State(e.to_string()))
    }

    /// After an apply: each complete scope's people become the next run's
    /// baseline (an incomplete scope keeps its previous count), the
    /// approvals the plan used are spent, and the calls are counted.
    async fn record_run(&self, report: &SyncReport) {
        let ns = &self.inner.namespace;
        let state = self.state();
        let mut counts: BTreeMap<String, u64> = match state.scope_people(ns).await {
            Ok(c) => c,
            Err(e) => {
                warn!(error = %e, "could not read the scope counts; not updating them");
                return;
            }
        };
        let plan = &report.plan;
        for s in &plan.scopes {
            // A scope held as unexpected keeps the old count until approved
            // (or until it recovers); one flagged with nothing to hold (the
            // people who vanished had no access left) takes the new count,
            // or the warning would repeat forever. A failed fetch keeps it.
            let unexpected = plan
                .warnings
                .iter()
                .any(|w| matches!(w, Warning::UnexpectedScope { scope, .. } if *scope == s.scope));
            let held = plan.held.iter().any(
                |h| matches!(&h.rule, HoldRule::Unexpected { scope, .. } if *scope == s.scope),
            );
            if s.incomplete.is_none() || (unexpected && !held) {
                counts.insert(s.scope.key(), s.people as u64);
            }
        }
        let at = self.inner.clock.now();
        if let Err(e) = state.set_scope_people(ns, &counts, at).await {
            warn!(error = %e, "could not record the scope counts");
        }
        if !report.plan.meta.approvals.is_empty()
            && let Err(e) = state
                .consume_approvals(ns, &report.plan.meta.approvals, at)
                .await
        {
            warn!(error = %e, "could not mark the approvals used");
        }
        self.count_calls(report.calls.http, &report.sources).await;
    }

    /// Counts a run's calls per service in the run state (the budgets'
    /// windows), at the clock's now.
    async fn count_calls(&self, brivo: u64, sources: &[SourceReport]) {
        let at = self.inner.clock.now();
        let mut calls: Vec<(&str, u64)> = vec![("brivo", brivo)];
        calls.extend(sources.iter().map(|s| (s.name.as_str(), s.calls)));
        for (service, n) in calls {
            if n > 0
                && let Err(e) = self
                    .state()
                    .record_calls(&self.inner.namespace, service, at, n)
                    .await
            {
                warn!(error = %e, service, "could not count the calls");
            }
        }
    }

    async fn execute(
        &self,
        plan: Plan,
        observed: Observed,
        replanned: bool,
        inputs: Option<InputCounts>,
        sources: Vec<SourceReport>,
        before: CallCounts,
    ) -> SyncReport {
        let how = Observation {
            deferred: Vec::new(),
            fully: true,
            verified: 0,
        };
        self.execute_with(plan, observed, replanned, inputs, sources, before, how)
            .await
    }

    /// [`execute`](Self::execute) for a run that may have planned from the
    /// cache: how Brivo was observed, and what was deferred.
    #[allow(clippy::too_many_arguments)]
    async fn execute_with(
        &self,
        plan: Plan,
        observed: Observed,
        replanned: bool,
        inputs: Option<InputCounts>,
        sources: Vec<SourceReport>,
        before: CallCounts,
        how: Observation,
    ) -> SyncReport {
        let mut queues: Vec<(String, Vec<usize>)> = Vec::new();
        let mut index_of: HashMap<String, usize> = HashMap::new();
        let mut results: Vec<Option<ActionResult>> = vec![None; plan.actions.len()];
        for (i, action) in plan.actions.iter().enumerate() {
            match user_key(action) {
                Some(key) => {
                    let q = *index_of.entry(key.clone()).or_insert_with(|| {
                        queues.push((key, Vec::new()));
                        queues.len() - 1
                    });
                    queues[q].1.push(i);
                }
                None => {
                    results[i] = Some(ActionResult {
                        index: i,
                        action: describe(action),
                        outcome: Outcome::Skipped {
                            reason: "unknown action kind: this runner is older than the engine"
                                .into(),
                        },
                        user: None,
                    });
                }
            }
        }
        let now = plan.now;
        let plan_ref = &plan;
        let counter = std::sync::atomic::AtomicUsize::new(0);
        let counter = &counter;
        let done: Vec<Vec<ActionResult>> = futures::stream::iter(queues)
            .map(|(key, idx)| async move { self.run_queue(plan_ref, key, idx, now, counter).await })
            .buffer_unordered(self.inner.concurrency)
            .collect()
            .await;
        for r in done.into_iter().flatten() {
            let i = r.index;
            results[i] = Some(r);
        }
        let results: Vec<ActionResult> = results.into_iter().flatten().collect();
        let held = results
            .iter()
            .flat_map(|r| match &r.outcome {
                Outcome::Held { held, .. } => held.clone(),
                _ => Vec::new(),
            })
            .collect();
        let calls = self.inner.backend.calls().since(&before);
        let report = SyncReport {
            plan,
            replanned,
            inputs,
            sources,
            results,
            calls,
            observed,
            held,
            deferred: how.deferred,
            observed_fully: how.fully,
            verified_users: how.verified,
            budgets: Vec::new(),
        };
        info!(
            actions = report.results.len(),
            ok = report.succeeded(),
            failed = report.failed(),
            skipped = report.skipped(),
            held_back = report.held_back(),
            reads = calls.reads,
            writes = calls.writes,
            "applied"
        );
        self.record_run(&report).await;
        // every apply keeps the cached observation in step with its writes
        incremental::record_results(
            &mut *self.inner.cache.lock().await,
            &report.plan,
            &report.results,
        );
        let mut report = report;
        report.budgets = self.budget_use(self.inner.clock.now()).await;
        self.audit(AuditRecord {
            recorded_at: Utc::now(),
            now,
            kind: RunKind::Apply,
            sources: report.sources.clone(),
            inputs: report.inputs.clone(),
            plan: Some(report.plan.clone()),
            results: report.results.clone(),
            held: report.held.clone(),
            calls,
            error: None,
            error_kind: None,
            deferred: report.deferred.clone(),
            budgets: report.budgets.clone(),
        });
        report
    }

    /// Runs one user's actions in order; a failed create skips the rest.
    async fn run_queue(
        &self,
        plan: &Plan,
        key: String,
        indices: Vec<usize>,
        now: DateTime<Utc>,
        counter: &std::sync::atomic::AtomicUsize,
    ) -> Vec<ActionResult> {
        let total = plan.actions.len();
        let tick = || {
            let done = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            if let Some(f) = &self.inner.progress.0 {
                f(done, total);
            }
        };
        let mut out = Vec::with_capacity(indices.len());
        let backoff = self.backoff_of(&key).await;
        if let Some(b) = backoff.filter(|b| b.not_before > now) {
            for i in indices {
                out.push(ActionResult {
                    index: i,
                    action: describe(&plan.actions[i]),
                    outcome: Outcome::Skipped {
                        reason: format!(
                            "backing off after {} failed attempt(s) on this user, until {}",
                            b.failures,
                            b.not_before.format("%Y-%m-%d %H:%M:%SZ")
                        ),
                    },
                    user: target(&plan.actions[i], None),
                });
                tick();
            }
            return out;
        }
        let mut created: Option<BrivoUserId> = None;
        let mut broken: Option<String> = None;
        let mut failed = false;
        for i in indices {
            let action = &plan.actions[i];
            let outcome = match &broken {
                Some(reason) => Outcome::Skipped {
                    reason: reason.clone(),
                },
                None => {
                    let span = info_span!("action", index = i, user = %key);
                    self.run_action(action, &mut created).instrument(span).await
                }
            };
            if let Outcome::Failed { error } = &outcome {
                // An invitation Brivo keeps refusing (no passes left), an
                // empty card pool or a window Brivo refuses must not hold
                // back this user's revocations: it is retried on the next
                // run without a backoff.
                failed |= !matches!(
                    action,
                    Action::InviteMobilePass { .. }
                        | Action::AssignCard { .. }
                        | Action::SetCredentialWindow { .. }
                );
                warn!(index = i, action = %describe(action), %error, kind = %error.kind(), "action failed");
                if matches!(action, Action::CreateUser { .. }) {
                    broken = Some("skipped: its user's create failed".into());
                }
            }
            // An adoption that did not happen leaves the user someone else's.
            if matches!(action, Action::AdoptUser { .. }) && !matches!(outcome, Outcome::Ok { .. })
            {
                broken = Some("skipped: the user was not adopted".into());
            }
            out.push(ActionResult {
                index: i,
                action: describe(action),
                outcome,
                user: target(action, created),
            });
            tick();
        }
        self.record_backoff(&key, failed, now).await;
        out
    }

    async fn run_action(&self, action: &Action, created: &mut Option<BrivoUserId>) -> Outcome {
        let b = &self.inner.backend;
        let done = |r: Result<(), BackendError>| match r {
            Ok(()) => Outcome::ok(),
            Err(error) => Outcome::Failed { error },
        };
        match action {
            Action::CreateUser {
                external_id,
                profile,
                ..
            } => {
                // A timed-out create may have happened: look it up first.
                match b.find_user(external_id).await {
                    Ok(Some(id)) => {
                        *created = Some(id);
                        Outcome::Ok {
                            note: Some(format!("already existed as {id}")),
                        }
                    }
                    Ok(None) => match b.create_user(external_id, profile).await {
                        Ok(id) => {
                            *created = Some(id);
                            Outcome::Ok {
                                note: Some(format!("created {id}")),
                            }
                        }
                        Err(error) => Outcome::Failed { error },
                    },
                    Err(e) => Outcome::Failed {
                        error: e.context(format_args!("looking up {external_id} before creating")),
                    },
                }
            }
            Action::AdoptUser {
                user,
                external_id,
                profile,
                ..
            } => {
                // What the observation cannot show (groups this integration
                // does not manage, credentials) is checked now, before the
                // user becomes ours.
                let mut rules = AdoptionRules::new(self.inner.scope.managed_groups.clone());
                rules.allow_unmanaged_groups = self.inner.policy.adopt_with_unmanaged_groups;
                rules.allow_credentials = self.inner.policy.adopt_with_credentials;
                match b.adoption_refusal(*user, &rules).await {
                    Ok(None) => {}
                    Ok(Some(reason)) => {
                        let lost = "the next run plans the adoption and checks again";
                        self.remember(ADOPTION_REFUSED, *user, reason.clone().into(), lost)
                            .await;
                        return Outcome::Skipped {
                            reason: format!(
                                "not adopted: {reason}; the next run creates a user of its own"
                            ),
                        };
                    }
                    Err(error) => return Outcome::Failed { error },
                }
                done(
                    b.update_user(
                        *user,
                        UserUpdate {
                            external_id: Some(external_id),
                            profile,
                            // what is not kept in step is the user's own
                            fields: &self.inner.policy.profile_kept_in_step,
                        },
                    )
                    .await,
                )
            }
            Action::SetExternalId {
                user, external_id, ..
            } => done(
                b.update_user(
                    *user,
                    UserUpdate {
                        external_id: Some(external_id),
                        profile: &access_engine::Profile::new("", ""),
                        fields: &[],
                    },
                )
                .await,
            ),
            Action::UpdateProfile {
                user,
                profile,
                changed,
                ..
            } => done(
                b.update_user(
                    *user,
                    UserUpdate {
                        external_id: None,
                        profile,
                        fields: changed,
                    },
                )
                .await,
            ),
            Action::AssignCard { user, pool, .. } => {
                let id = match existing(user, *created) {
                    Ok(id) => id,
                    Err(skipped) => return skipped,
                };
                match b.assign_card(id, pool).await {
                    Ok(card) => {
                        let value = card.clone().map_or(serde_json::Value::Null, Into::into);
                        let lost = "the next run looks at the user's credentials and assigns none";
                        self.remember(CARD_ASSIGNED, id, value, lost).await;
                        // (also when it held one already: a crash may have
                        // come before its window was set)
                        self.forget_window(id).await;
                        Outcome::Ok {
                            note: Some(match card {
                                Some(reference) => format!("card {reference}"),
                                None => "already holds a card of the pool".to_owned(),
                            }),
                        }
                    }
                    Err(error) => Outcome::Failed { error },
                }
            }
            Action::SetCredentialWindow { user, window, .. } => {
                let id = match existing(user, *created) {
                    Ok(id) => id,
                    Err(skipped) => return skipped,
                };
                match b.set_credential_window(id, *window).await {
                    Ok(found) => {
                        let prev = self.window_record(id).await;
                        let (held, passes) = (found.total as u64, found.mobile_passes as u64);
                        // still waiting for a credential (none yet, or a pass
                        // invited and not redeemed): looked at again later
                        let awaiting = prev.awaiting && passes <= prev.passes;
                        let waiting = held == 0 || awaiting;
                        let record = WindowRecord {
                            window: Some(*window),
                            credentials: held,
                            passes,
                            checks: if waiting { prev.checks + 1 } else { 0 },
                            awaiting,
                        };
                        let note = waiting.then(|| {
                            format!(
                                "{} credential(s), waiting for one; looked at again in {} day(s)",
                                held,
                                no_credential_recheck(record.checks).num_days()
                            )
                        });
                        let lost = "the next run sets the window again";
                        let value = serde_json::to_value(&record).unwrap_or_default();
                        self.remember(CREDENTIAL_WINDOW, id, value, lost).await;
                        Outcome::Ok { note }
                    }
                    Err(error) => Outcome::Failed { error },
                }
            }
            Action::Unsuspend { user, .. } => {
                let r = b.set_suspended(*user, false).await;
                if r.is_ok() {
                    let lost = "a later suspension by hand may be taken for the runner's own";
                    self.remember(SUSPENDED_BY_US, *user, false.into(), lost)
                        .await;
                }
                done(r)
            }
            Action::Suspend { user, .. } => {
                let r = b.set_suspended(*user, true).await;
                if r.is_ok() {
                    self.remember(
                        SUSPENDED_BY_US,
                        *user,
                        true.into(),
                        "lifting this suspension will need an approval",
                    )
                    .await;
                }
                done(r)
            }
            Action::ChangeGroups { user, add, remove } => {
                let id = match existing(user, *created) {
                    Ok(id) => id,
                    Err(skipped) => return skipped,
                };
                let add_ids: Vec<GroupId> = add.iter().map(|c| c.group).collect();
                let remove_ids: Vec<GroupId> = remove.iter().map(|c| c.group).collect();
                match b.change_groups(id, &add_ids, &remove_ids).await {
                    Ok(GroupsApplied {
                        refused_additions: Some(cap),
                        ..
                    }) => self.cap_held(user, add, &remove_ids, &cap),
                    Ok(_) => Outcome::ok(),
                    Err(error) => Outcome::Failed { error },
                }
            }
            Action::Delete { user, .. } => match b.delete_user(*user).await {
                Ok(()) => Outcome::ok(),
                Err(e) if e.is_not_found() => Outcome::Ok {
                    note: Some("already gone".into()),
                },
                Err(error) => Outcome::Failed { error },
            },
            Action::InviteMobilePass {
                user,
                email,
                reissue,
                ..
            } => {
                let id = match existing(user, *created) {
                    Ok(id) => id,
                    Err(skipped) => return skipped,
                };
                match b.invite_mobile_pass(id, email, *reissue).await {
                    Ok(sent) => {
                        let lost = "the next run plans it again and looks in Brivo before sending";
                        self.remember(MOBILE_PASS_INVITED, id, true.into(), lost)
                            .await;
                        if sent {
                            self.await_pass(id).await;
                        }
                        match sent {
                            true => Outcome::ok(),
                            // a crash after sending, or an invitation made by hand
                            false => Outcome::Ok {
                                note: Some("already holds an invitation; none sent".into()),
                            },
                        }
                    }
                    Err(error) => Outcome::Failed { error },
                }
            }
            other => Outcome::Skipped {
                reason: format!("unknown action kind {other:?}"),
            },
        }
    }

    /// The outcome of a group change whose additions Brivo refused for its
    /// cap: the removals went through; each addition is held with its
    /// reasons. No backoff: the removals must not wait, and the next run
    /// simply plans the additions again.
    fn cap_held(
        &self,
        user: &UserRef,
        adds: &[access_engine::GroupChange],
        removed: &[GroupId],
        cap: &CapRefusal,
    ) -> Outcome {
        fn list(groups: impl Iterator<Item = GroupId>) -> String {
            groups
                .map(|g| g.0.to_string())
                .collect::<Vec<_>>()
                .join(",")
        }
        let applied = if removed.is_empty() {
            "nothing to remove".to_owned()
        } else {
            format!("removed -[{}]", list(removed.iter().copied()))
        };
        let unmanaged = cap.unmanaged(&self.inner.scope.managed_groups);
        let note = format!(
            "{applied}; held +[{}]: Brivo refused the additions for its group cap: the user is in {} groups ({unmanaged} not managed by this integration); the change would make {}, over the limit of {}",
            list(adds.iter().map(|c| c.group)),
            cap.count,
            cap.would_be,
            cap.limit,
        );
        warn!(%user, "{note}");
        let rule = HoldRule::TooManyGroups {
            desired: cap.would_be,
            max: cap.limit,
        };
        Outcome::Held {
            note,
            held: adds
                .iter()
                .map(|c| Held {
                    user: user.clone(),
                    item: HeldItem::AddGroup(c.group),
                    rule: rule.clone(),
                    reasons: c.reasons.clone(),
                })
                .collect(),
        }
    }

    /// The user's backoff, from the run state (a store that cannot be
    /// read means no backoff: the action is tried, which is safe).
    async fn backoff_of(&self, key: &str) -> Option<Backoff> {
        match self.state().backoff(&self.inner.namespace, key).await {
            Ok(b) => b,
            Err(e) => {
                warn!(error = %e, "could not read a backoff from the run state");
                None
            }
        }
    }

    /// Per-user backoff, kept in the run state so a restarted runner keeps
    /// it: doubled per consecutive failure, reset on success.
    async fn record_backoff(&self, key: &str, failed: bool, now: DateTime<Utc>) {
        let ns = &self.inner.namespace;
        let next = if failed {
            let failures = self.backoff_of(key).await.map_or(0, |b| b.failures) + 1;
            let delay = self.retry_delay(failures);
            Some(Backoff::new(failures, incremental::after(now, delay)))
        } else {
            None
        };
        if (failed || self.backoff_of(key).await.is_some())
            && let Err(e) = self.state().set_backoff(ns, key, next).await
        {
            warn!(error = %e, "could not record a backoff in the run state");
        }
    }

    fn state(&self) -> &dyn RunState {
        self.inner.state.0.as_ref()
    }

    fn retry_delay(&self, failures: u32) -> Duration {
        let factor = 1u32 << failures.saturating_sub(1).min(16);
        self.inner
            .retry_base
            .saturating_mul(factor)
            .min(self.inner.poll_interval)
    }

    /// The loop: [`sync_due`](Syncer::sync_due) at the clock's now, then
    /// sleep until the plan's `next_change`, the next read that falls due
    /// ([`next_due`](Syncer::next_due)) or the poll interval, whichever
    /// comes first (or until woken by [`waker`](Syncer::waker), which makes
    /// the next run read every source); after a failed run, back off
    /// (doubling from [`SyncerBuilder::retry_base`], reset on success).
    /// Returns as soon as `shutdown` completes, even mid-run: the run is
    /// dropped at its next await point, which is safe because every action
    /// is idempotent and the next run re-plans from Brivo's state (the
    /// end-to-end tests kill applies part-way to prove it).
    pub async fn run<F>(&self, shutdown: F)
    where
        F: Future<Output = ()> + Send,
    {
        self.run_with(shutdown, |_| {}).await;
    }

    /// [`run`](Syncer::run), calling `on_event` after each run.
    pub async fn run_with<F, E>(&self, shutdown: F, mut on_event: E)
    where
        F: Future<Output = ()> + Send,
        E: FnMut(RunEvent<'_>) + Send,
    {
        let mut shutdown = std::pin::pin!(shutdown);
        let mut failures: u32 = 0;
        loop {
            let now = self.inner.clock.now();
            // The lock is kept across runs (each run renews it) and released
            // at shutdown; a second runner waits for it.
            let wait = tokio::select! {
                biased;
                () = &mut shutdown => {
                    self.unlock().await;
                    return;
                }
                // A panic in one run must not kill the runner: it becomes a
                // failed run, and the loop backs off and goes on.
                result = self.sync_caught(now) => match result {
                    Ok(report) => {
                        failures = 0;
                        on_event(RunEvent::Synced(&report));
                        // From the clock's now after the run: the run itself
                        // took time. Wake for the next boundary or the next
                        // read that falls due, whichever is first.
                        let next = match (report.plan.next_change, self.next_due().await) {
                            (Some(a), Some(b)) => Some(a.min(b)),
                            (a, b) => a.or(b),
                        };
                        self.next_wait(self.inner.clock.now(), next)
                    }
                    Err(e) => {
                        failures += 1;
                        on_event(RunEvent::Failed(&e));
                        match &e {
                            // Standing by: try again when the other's lease may end.
                            SyncError::Locked { until, .. } => self.next_wait(now, Some(*until)),
                            _ => self.retry_delay(failures),
                        }
                    }
                },
            };
            debug!(?wait, "sleeping");
            tokio::select! {
                biased;
                () = &mut shutdown => {
                    self.unlock().await;
                    return;
                }
                () = tokio::time::sleep(wait) => {}
                // A wake means something changed: read every source.
                () = self.inner.wake.notified() => {
                    debug!("woken");
                    self.refresh_sources().await;
                }
                // A source's own wake: read that source.
                i = self.source_woken() => {
                    debug!(source = self.inner.sources[i].name(), "woken");
                    self.inner.cache.lock().await.forced_sources.insert(i);
                }
            }
        }
    }

    /// [`sync_locked`](Self::sync_locked), with a panic caught, logged,
    /// audited as a failed run and returned as [`SyncError::Panicked`].
    async fn sync_caught(&self, now: DateTime<Utc>) -> Result<SyncReport, SyncError> {
        let run = self
            .sync_due_locked(now)
            .instrument(info_span!("sync", %now));
        match AssertUnwindSafe(run).catch_unwind().await {
            Ok(result) => result,
            Err(payload) => {
                let error = SyncError::Panicked(panic_message(payload.as_ref()));
                error!(%error, "run panicked; it is audited as failed and the loop goes on");
                let f = Failure {
                    error,
                    sources: Vec::new(),
                    calls: CallCounts::default(),
                };
                self.audit_failure(now, &f);
                // The run stopped at an unknown point: hand the lock back so
                // a healthy replica may go on; the next run takes it again.
                self.unlock().await;
                Err(f.error)
            }
        }
    }

    /// How long to sleep after a run at `now`: until `next_change`, at most
    /// the poll interval.
    pub fn next_wait(&self, now: DateTime<Utc>, next_change: Option<DateTime<Utc>>) -> Duration {
        let poll = self.inner.poll_interval;
        match next_change {
            Some(t) => (t - now).to_std().unwrap_or(Duration::ZERO).min(poll),
            None => poll,
        }
    }

    fn audit(&self, record: AuditRecord) {
        if let Some(sink) = &self.inner.audit
            && let Err(e) = sink.record(&record)
        {
            warn!(error = %e, "could not write the audit record");
        }
    }

    fn audit_failure(&self, now: DateTime<Utc>, f: &Failure) {
        self.audit(AuditRecord {
            recorded_at: Utc::now(),
            now,
            kind: RunKind::Failed,
            sources: f.sources.clone(),
            inputs: None,
            plan: None,
            results: Vec::new(),
            held: Vec::new(),
            calls: f.calls,
            error: Some(f.error.to_string()),
            error_kind: Some(f.error.kind()),
            deferred: Vec::new(),
            budgets: Vec::new(),
        });
    }
}

/// How a run observed Brivo, for its report.
struct Observation {
    deferred: Vec<Deferral>,
    fully: bool,
    verified: usize,
}

struct Failure {
    error: SyncError,
    sources: Vec<SourceReport>,
    calls: CallCounts,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_off_the_runtime_is_a_panicked_error() {
        let err = off_runtime(
            || -> u32 { panic!("planner bug: index out of range") },
            || 0,
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&err, SyncError::Panicked(m) if m.contains("index out of range")),
            "{err}"
        );
        assert_eq!(off_runtime(|| 7, || 0).await.unwrap(), 7);
    }
}

//! Runs that re-read only what may have changed.
//!
//! Most wakes of the run loop change nothing in the sources: a wake at a
//! plan's `next_change` (a move-in at 10:00) is time passing, not a fact
//! changing. So [`Syncer::sync_due`] keeps, between runs:
//!
//! * each source's last batch and when it was read. A source is read again
//!   on its cadence ([`SyncerBuilder::refresh`], stretched so that polling
//!   stays within the source's [`Budget`]), at once when the loop is woken
//!   ([`Syncer::waker`], [`Syncer::waker_for`], [`Syncer::refresh_sources`]),
//!   and otherwise served from the cache. Facts older than
//!   [`SyncerBuilder::max_fact_age`] are not used: their scope is marked
//!   incomplete, so nothing they fed is revoked, and nothing new granted,
//!   on stale word.
//! * the last observation of Brivo, kept in step with the runner's own
//!   writes. Before a plan made from it is applied, every user it writes
//!   is read again; if any differs, the plan is made again from what was
//!   read. A full observation runs on a slower cadence
//!   ([`SyncerBuilder::full_reconciliation_every`], default daily), which
//!   also catches what was changed by hand to users the runner had no
//!   reason to write.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use access_engine::{Action, BrivoUserId, Facts, Observed, ObservedUser, Plan, Scope};
use chrono::{DateTime, TimeDelta, Utc};
use tracing::{Instrument as _, debug, info, info_span, warn};

use super::{ActionResult, Failure, Observation, Outcome, SyncError, SyncReport, Syncer, target};
use crate::budget::{self, Budget, BudgetUse, Deferral};
use std::sync::atomic::Ordering;

use crate::sources::{
    FactSource, InputCounts, NAMED_UNKNOWN, SourceBatch, SourceError, SourceReport, merge_facts,
};

/// What the runner keeps between runs. Its `Debug` shows sizes only: the
/// facts and the observation hold personal data.
#[derive(Default)]
pub(super) struct Cache {
    /// Each source's last successful batch, by the source's index.
    sources: BTreeMap<usize, CachedBatch>,
    /// The next run re-reads every source (a webhook, an operator).
    pub(super) forced: bool,
    /// The next run re-reads these sources (by index).
    pub(super) forced_sources: BTreeSet<usize>,
    /// Reads deferred by a budget wait until it recovers: per source (by
    /// index), and Brivo's full observation.
    not_before: BTreeMap<usize, DateTime<Utc>>,
    full_not_before: Option<DateTime<Utc>>,
    /// Brivo as last seen, kept in step with the runner's writes.
    observation: Option<CachedObservation>,
    /// Users whose state after a write is not known (a failed or partial
    /// write, a lookup that found an existing user): read again before the
    /// next plan.
    unsure: BTreeSet<BrivoUserId>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache")
            .field("sources", &self.sources.len())
            .field(
                "observed_users",
                &self.observation.as_ref().map(|o| o.raw.users.len()),
            )
            .field("unsure", &self.unsure.len())
            .field("forced", &self.forced)
            .finish_non_exhaustive()
    }
}

#[derive(Clone)]
struct CachedBatch {
    facts: Facts,
    report: SourceReport,
    read_at: DateTime<Utc>,
    /// When a read was last tried (failed ones too).
    tried_at: DateTime<Utc>,
    /// Calls a full read costs (a moving average of full reads).
    calls: u64,
    /// The last read fetched only what webhooks named and served the rest
    /// from an earlier read (at `read_at`).
    partial: bool,
}

#[derive(Clone)]
struct CachedObservation {
    /// Unmarked (the run-state marks are applied per run).
    raw: Observed,
    full_at: DateTime<Utc>,
    calls: u64,
    /// Counts full observations: a run writes its re-reads back only over
    /// the observation it started from.
    generation: u64,
}

impl Cache {
    /// Keeps a full read of the sources (a dry run or `sync_once`).
    pub(super) fn store_fetch(
        &mut self,
        now: DateTime<Utc>,
        batches: Vec<(usize, Option<Facts>, SourceReport)>,
    ) {
        for (i, facts, report) in batches {
            match facts {
                Some(f) => {
                    let read_at = report.read_at.unwrap_or(now);
                    let partial = read_at < now;
                    let before = self.sources.get(&i);
                    // A fetch's cost varies (a source may read slow parts
                    // only now and then): pace on a moving average, so one
                    // expensive read does not stretch the next interval.
                    // A read of what webhooks named neither counts in it
                    // nor moves the next poll (the rest of its facts are
                    // as old as the last full read).
                    let (calls, tried_at) = match before {
                        Some(c) if partial => (c.calls, c.tried_at),
                        Some(c) => ((c.calls * 7 + report.calls * 3).div_ceil(10), now),
                        None => (report.calls, now),
                    };
                    self.sources.insert(
                        i,
                        CachedBatch {
                            facts: f,
                            calls,
                            report,
                            read_at,
                            tried_at,
                            partial,
                        },
                    );
                }
                None => {
                    if let Some(c) = self.sources.get_mut(&i) {
                        c.tried_at = now;
                    }
                }
            }
        }
    }

    /// Keeps a full observation.
    pub(super) fn store_observation(&mut self, raw: &Observed, now: DateTime<Utc>, calls: u64) {
        let generation = self.observation.as_ref().map_or(0, |o| o.generation + 1);
        self.observation = Some(CachedObservation {
            raw: raw.clone(),
            full_at: now,
            calls,
            generation,
        });
        self.unsure.clear();
    }

    /// The cached observation's generation.
    fn generation(&self) -> Option<u64> {
        self.observation.as_ref().map(|o| o.generation)
    }
}

/// Replaces `users` in `raw` by what was read of them (a user not read is
/// gone from the observation). True if anything differed.
fn merge_users(raw: &mut Observed, users: &[BrivoUserId], fresh: Vec<ObservedUser>) -> bool {
    let wanted: BTreeSet<BrivoUserId> = users.iter().copied().collect();
    let mut old: BTreeMap<BrivoUserId, ObservedUser> = BTreeMap::new();
    raw.users.retain(|u| {
        if wanted.contains(&u.id) {
            old.insert(u.id, u.clone());
            false
        } else {
            true
        }
    });
    let mut changed = old.len() != fresh.len();
    for mut u in fresh {
        u.groups.sort();
        match old.get_mut(&u.id) {
            Some(o) => {
                o.groups.sort();
                changed |= *o != u;
            }
            None => changed = true,
        }
        raw.users.push(u);
    }
    changed
}

/// The existing users a plan writes.
fn written_users(plan: &Plan) -> BTreeSet<BrivoUserId> {
    plan.actions
        .iter()
        .filter_map(|a| target(a, None))
        .collect()
}

/// Whether a plan takes access away (a group removed, a user suspended or
/// deleted).
fn revokes(plan: &Plan) -> bool {
    plan.actions.iter().any(|a| match a {
        Action::Suspend { .. } | Action::Delete { .. } => true,
        Action::ChangeGroups { remove, .. } => !remove.is_empty(),
        _ => false,
    })
}

/// Whether a plan rests on users it does not write: an adoption (the other
/// users sharing the email), a person's other user retired (the survivor).
fn depends_on_others(plan: &Plan) -> bool {
    let superseded =
        |rs: &[access_engine::Reason]| rs.iter().any(|r| r.rule == access_engine::Rule::Superseded);
    plan.actions.iter().any(|a| match a {
        Action::AdoptUser { .. } | Action::SetExternalId { .. } => true,
        Action::Delete { reasons, .. } | Action::Suspend { reasons, .. } => superseded(reasons),
        Action::ChangeGroups { remove, .. } => remove.iter().any(|c| superseded(&c.reasons)),
        _ => false,
    })
}

/// Brings the cached observation in step with what a run wrote: each
/// action that succeeded is applied to it; a user whose result is not
/// known exactly is read again before the next plan.
pub(super) fn record_results(cache: &mut Cache, plan: &Plan, results: &[ActionResult]) {
    let Some(obs) = cache.observation.as_mut() else {
        return;
    };
    let raw = &mut obs.raw;
    let find = |raw: &mut Observed, id: BrivoUserId| raw.users.iter().position(|u| u.id == id);
    for r in results {
        let Some(action) = plan.actions.get(r.index) else {
            continue;
        };
        let ok = matches!(r.outcome, Outcome::Ok { .. });
        let target = r.user;
        let exact = match (action, &r.outcome) {
            (Action::CreateUser { external_id, profile, .. }, Outcome::Ok { note })
                // a create that found the user existing: its state is unknown
                if note.as_deref().is_none_or(|n| n.starts_with("created")) =>
            {
                match target {
                    Some(id) => {
                        let mut u = ObservedUser::new(id)
                            .with_name(profile.first_name.clone(), profile.last_name.clone());
                        u.external_id = Some(external_id.clone());
                        u.emails = profile.email.iter().cloned().collect();
                        u.phones = profile.phone.iter().cloned().collect();
                        raw.users.push(u);
                        true
                    }
                    None => false,
                }
            }
            (Action::ChangeGroups { add, remove, .. }, Outcome::Ok { .. }) => {
                match target.and_then(|id| find(raw, id)) {
                    Some(i) => {
                        let u = &mut raw.users[i];
                        u.groups.retain(|g| !remove.iter().any(|c| c.group == *g));
                        for c in add {
                            if !u.groups.contains(&c.group) {
                                u.groups.push(c.group);
                            }
                        }
                        u.groups.sort();
                        true
                    }
                    None => false,
                }
            }
            (Action::Suspend { user, .. } | Action::Unsuspend { user, .. }, Outcome::Ok { .. }) => {
                match find(raw, *user) {
                    Some(i) => {
                        raw.users[i].suspended = matches!(action, Action::Suspend { .. });
                        true
                    }
                    None => false,
                }
            }
            (Action::Delete { user, .. }, Outcome::Ok { .. }) => {
                raw.users.retain(|u| u.id != *user);
                true
            }
            // Credentials live in the run state's marks, not in the
            // observation: nothing to bring in step.
            (
                Action::InviteMobilePass { .. }
                | Action::AssignCard { .. }
                | Action::SetCredentialWindow { .. },
                _,
            ) => true,
            _ => false,
        };
        if let Some(id) = target.filter(|_| !exact || !ok) {
            cache.unsure.insert(id);
        }
    }
}

impl Syncer {
    /// The run loop's run: re-reads only what may have changed, and applies.
    ///
    /// * Sources are read when due (see [`SyncerBuilder::refresh`]) or when
    ///   a refresh was asked for; the others are served from the facts last
    ///   read, with their age in [`SourceReport::read_at`]. A read that
    ///   would overspend its [`Budget`] is deferred (in
    ///   [`SyncReport::deferred`]).
    /// * Brivo is observed fully when the last full observation is older
    ///   than [`SyncerBuilder::full_reconciliation_every`] (and the budget
    ///   allows); otherwise the runner plans from its cached observation and
    ///   reads again each user the plan writes, re-planning if any differs.
    ///
    /// [`sync_once`](Syncer::sync_once) is the full-read run; the first
    /// `sync_due` of a syncer reads everything too. Calls are counted, and
    /// budgets checked, at the syncer's clock
    /// ([`SyncerBuilder::clock`](crate::SyncerBuilder::clock)): pass its
    /// `now` (as the run loop does).
    ///
    /// ```
    /// use access_engine::*;
    /// use access_sync::{Syncer, memory::{MemoryBackend, StaticSource}};
    /// use chrono::{NaiveDate, TimeZone, Utc};
    /// use std::time::Duration;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), access_sync::SyncError> {
    /// let mut facts = Facts::default();
    /// facts.properties.push(Property::new("100", "UTC"));
    /// facts.leases.push(
    ///     Lease::new("1", "100", LeaseStatus::Future)
    ///         .with_move_in(NaiveDate::from_ymd_opt(2026, 3, 10))
    ///         .with_customer(Customer::new("77", CustomerType::Primary, Profile::new("Ada", "Lovelace"))),
    /// );
    /// let brivo = MemoryBackend::new();
    /// brivo.add_group(GroupId(7), "Residents");
    /// let mut mappings = Mappings::default();
    /// mappings.properties.insert("100".into(), vec![GroupId(7)]);
    /// let source = StaticSource::new("entrata", Scope::Source(Source::Entrata), facts);
    /// let syncer = Syncer::builder(brivo.clone())
    ///     .source(source.clone())
    ///     .mappings(mappings)
    ///     .refresh("entrata", Duration::from_secs(1800))
    ///     .build();
    ///
    /// let morning = Utc.with_ymd_and_hms(2026, 3, 10, 9, 50, 0).unwrap();
    /// let first = syncer.sync_due(morning).await?; // reads everything
    /// assert_eq!(source.fetches(), 1);
    /// // at 10:00, the move-in: from the facts read at 09:50
    /// let ten = first.plan.next_change.unwrap();
    /// let report = syncer.sync_due(ten).await?;
    /// assert_eq!(source.fetches(), 1);
    /// assert!(report.is_success());
    /// assert_eq!(brivo.members_of(GroupId(7)).len(), 1);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// As [`sync_once`](Syncer::sync_once).
    ///
    /// [`SyncerBuilder::refresh`]: crate::SyncerBuilder::refresh
    /// [`SyncerBuilder::full_reconciliation_every`]: crate::SyncerBuilder::full_reconciliation_every
    pub async fn sync_due(&self, now: DateTime<Utc>) -> Result<SyncReport, SyncError> {
        let result = self
            .sync_due_locked(now)
            .instrument(info_span!("sync", %now, due = true))
            .await;
        self.unlock().await;
        result
    }

    /// Makes the next [`sync_due`](Syncer::sync_due) (and the next run of
    /// the loop) read every source, whatever its cadence: for a webhook or
    /// an operator who knows something changed. Waking the loop through
    /// [`waker`](Syncer::waker) does the same.
    pub async fn refresh_sources(&self) {
        self.inner.cache.lock().await.forced = true;
    }

    /// Resolves with the index of the first source whose waker
    /// ([`waker_for`](Syncer::waker_for)) is notified; never without sources.
    pub(super) async fn source_woken(&self) -> usize {
        if self.inner.source_wakes.is_empty() {
            return std::future::pending().await;
        }
        let waits = self
            .inner
            .source_wakes
            .iter()
            .map(|n| Box::pin(n.notified()));
        futures::future::select_all(waits).await.1
    }

    /// When the next source read or full observation falls due (`None`
    /// before the first run): the loop wakes then, if nothing earlier.
    pub async fn next_due(&self) -> Option<DateTime<Utc>> {
        let cache = self.inner.cache.lock().await;
        let mut next: Option<DateTime<Utc>> = None;
        let mut at = |t: DateTime<Utc>| next = Some(next.map_or(t, |n| n.min(t)));
        for (i, s) in self.inner.sources.iter().enumerate() {
            let c = cache.sources.get(&i)?;
            let due = after(c.tried_at, self.cadence(s.name(), c.calls))
                .min(after(c.read_at, self.max_fact_age(s.name(), c.calls)));
            at(cache.not_before.get(&i).map_or(due, |t| due.max(*t)));
        }
        let obs = cache.observation.as_ref()?;
        let due = after(obs.full_at, self.full_cadence(obs.calls));
        at(cache.full_not_before.map_or(due, |t| due.max(t)));
        next
    }

    /// Each budget's windows and the calls counted in them, at `now` (the
    /// calls are counted at the syncer's clock).
    pub async fn budget_use(&self, now: DateTime<Utc>) -> Vec<BudgetUse> {
        let mut out = Vec::new();
        for (service, b) in &self.inner.budgets {
            out.extend(budget::uses(self.state(), &self.inner.namespace, service, b, now).await);
        }
        out
    }

    fn budget_of(&self, service: &str) -> Budget {
        self.inner.budgets.get(service).copied().unwrap_or_default()
    }

    /// How often a source is read: its refresh interval, stretched so that
    /// reads of its last cost stay within its budget's polling share.
    fn cadence(&self, source: &str, cost: u64) -> Duration {
        self.refresh_every(source)
            .max(MIN_CADENCE)
            .max(self.budget_of(source).pace(cost.max(1)))
    }

    /// The refresh interval set for a source, else the poll interval (not
    /// stretched by a budget).
    fn refresh_every(&self, source: &str) -> Duration {
        self.inner
            .refresh
            .get(source)
            .copied()
            .unwrap_or(self.inner.poll_interval)
    }

    /// How old a source's facts may be and still be trusted.
    fn max_fact_age(&self, source: &str, cost: u64) -> Duration {
        self.inner.max_fact_age.unwrap_or_else(|| {
            self.cadence(source, cost)
                .saturating_mul(2)
                .max(Duration::from_secs(3600))
        })
    }

    fn full_cadence(&self, cost: u64) -> Duration {
        self.inner
            .full_every
            .max(self.budget_of("brivo").pace(cost.max(1)))
    }

    pub(super) async fn sync_due_locked(
        &self,
        now: DateTime<Utc>,
    ) -> Result<SyncReport, SyncError> {
        let before = self.inner.backend.calls();
        let fail = |error: SyncError, sources: Vec<SourceReport>| {
            let f = Failure {
                error,
                sources,
                calls: self.inner.backend.calls().since(&before),
            };
            self.audit_failure(now, &f);
            Err(f.error)
        };
        if let Err(e) = self.lock().await {
            return fail(e, Vec::new());
        }
        let (mut facts, mut sources, mut deferred) = self.fetch_due(now).await;
        facts.baseline = match self.baseline().await {
            Ok(b) => b,
            Err(e) => return fail(e, sources),
        };
        let (mut raw, mut full) = match self.observe_due(now, &mut deferred).await {
            Ok(o) => o,
            Err(e) => {
                warn!(error = %e, "no plan: Brivo could not be observed");
                return fail(e, sources);
            }
        };
        let generation = self.inner.cache.lock().await.generation();
        let generation = generation.unwrap_or(0);
        // Plan; read again the users the plan writes; if any differs,
        // plan again from what was read (each user is read once a run).
        let mut verified: BTreeSet<BrivoUserId> = BTreeSet::new();
        let mut refetched = false;
        let (plan, facts, observed) = loop {
            let mut observed = raw.clone();
            self.mark(&mut observed).await;
            let (plan, f, observed) = match self.plan_off_runtime(facts, observed, now).await {
                Ok(p) => p,
                Err(e) => {
                    error_planner(&e);
                    return fail(e, sources);
                }
            };
            facts = f;
            // A revocation from facts older than their source's own refresh
            // (its cadence stretched by its budget): the source is read
            // again first, from the share of the budget kept for this.
            if !refetched && revokes(&plan) {
                let stale = self.stale_sources(now, &sources);
                if !stale.is_empty() {
                    refetched = true;
                    info!(
                        sources = stale.len(),
                        "revoking from old facts: reading them again first"
                    );
                    {
                        // a source that read only what webhooks named would
                        // serve the same old facts again: it reads everything
                        let mut cache = self.inner.cache.lock().await;
                        for i in &stale {
                            if cache.sources.get(i).is_some_and(|c| c.partial) {
                                self.inner.sources[*i].invalidate();
                            }
                        }
                        cache.forced_sources.extend(stale);
                    }
                    let (mut again, reports, more) = self.fetch_due(now).await;
                    again.baseline = std::mem::take(&mut facts.baseline);
                    facts = again;
                    sources = reports;
                    deferred.extend(more);
                    continue;
                }
            }
            if full {
                break (plan, facts, observed);
            }
            let unread: Vec<BrivoUserId> = written_users(&plan)
                .difference(&verified)
                .copied()
                .collect();
            // A plan that adopts a user or retires one of a person's users
            // rests on users it does not write (the other users sharing an
            // email, the survivor): it is made from a full observation. So is
            // one whose users cost more to read one by one than in pages.
            let full_cost = self.full_cost().await;
            let why_full = if depends_on_others(&plan) {
                Some("the plan adopts or retires users")
            } else if unread.len() as u64 * 2 > full_cost.max(2) {
                Some("re-reading the users to write costs more than a full observation")
            } else {
                None
            };
            if unread.is_empty() && why_full.is_none() {
                break (plan, facts, observed);
            }
            let fresh = match why_full {
                Some(_) => None,
                None => match self
                    .inner
                    .backend
                    .observe_users(&self.inner.scope, &unread)
                    .instrument(info_span!("verify", users = unread.len()))
                    .await
                {
                    Ok(f) => Some(f),
                    Err(e) => {
                        warn!(error = %e, "the users to write could not be read again; observing Brivo in full");
                        None
                    }
                },
            };
            let Some(fresh) = fresh else {
                if let Some(why) = why_full {
                    info!("observing Brivo in full: {why}");
                }
                raw = match self.observe_full(now).await {
                    Ok(r) => r,
                    Err(e) => {
                        warn!(error = %e, "no plan: Brivo could not be observed");
                        return fail(e, sources);
                    }
                };
                full = true;
                continue;
            };
            verified.extend(unread.iter().copied());
            if !merge_users(&mut raw, &unread, fresh) {
                break (plan, facts, observed);
            }
            info!(
                users = unread.len(),
                "Brivo differs from the cached observation; planning again"
            );
        };
        if !full {
            let mut cache = self.inner.cache.lock().await;
            // only over the observation this run started from: another
            // run's fresher one is kept
            if let Some(o) = cache
                .observation
                .as_mut()
                .filter(|o| o.generation == generation)
            {
                o.raw = raw;
            }
            for id in &verified {
                cache.unsure.remove(id);
            }
        }
        let mut plan = plan;
        plan.meta.made_at = Some(self.inner.clock.now());
        let inputs = InputCounts::of(&facts, &observed);
        let how = Observation {
            deferred,
            fully: full,
            verified: verified.len(),
        };
        Ok(self
            .execute_with(plan, observed, false, Some(inputs), sources, before, how)
            .await)
    }

    /// The raw (unmarked) observation for this run, and whether it is a
    /// full one: the cache, with the users left unsure re-read, or a full
    /// observation when due and affordable (or when there is no cache).
    async fn observe_due(
        &self,
        now: DateTime<Utc>,
        deferred: &mut Vec<Deferral>,
    ) -> Result<(Observed, bool), SyncError> {
        let (cached, unsure, not_before) = {
            let cache = self.inner.cache.lock().await;
            (
                cache.observation.clone(),
                cache.unsure.iter().copied().collect::<Vec<_>>(),
                cache.full_not_before,
            )
        };
        let due = match &cached {
            None => true,
            Some(c) => {
                now - c.full_at >= delta(self.full_cadence(c.calls))
                    && not_before.is_none_or(|t| now >= t)
                    && match budget::afford(
                        self.state(),
                        &self.inner.namespace,
                        "brivo",
                        &self.budget_of("brivo"),
                        "full reconciliation",
                        c.calls,
                        true,
                        self.inner.clock.now(),
                    )
                    .await
                    {
                        Ok(()) => true,
                        Err(d) => {
                            warn!(%d, "full reconciliation of Brivo deferred");
                            self.inner.cache.lock().await.full_not_before =
                                Some(d.recovers_at.max(now + TimeDelta::minutes(1)));
                            deferred.push(d);
                            false
                        }
                    }
            }
        };
        if due {
            return Ok((self.observe_full(now).await?, true));
        }
        let mut raw = cached.map(|c| c.raw).unwrap_or_default();
        if !unsure.is_empty() {
            let fresh = self
                .inner
                .backend
                .observe_users(&self.inner.scope, &unsure)
                .instrument(info_span!("verify", users = unsure.len()))
                .await;
            match fresh {
                Ok(fresh) => {
                    merge_users(&mut raw, &unsure, fresh);
                    let mut cache = self.inner.cache.lock().await;
                    if let Some(o) = cache.observation.as_mut() {
                        o.raw = raw.clone();
                    }
                    for id in &unsure {
                        cache.unsure.remove(id);
                    }
                }
                Err(e) => {
                    warn!(error = %e, "users left unsure could not be read again; observing Brivo in full");
                    return Ok((self.observe_full(now).await?, true));
                }
            }
        }
        debug!(
            users = raw.users.len(),
            "planning from the cached observation"
        );
        Ok((raw, false))
    }

    /// Observes Brivo in full and keeps it as the cached observation.
    async fn observe_full(&self, now: DateTime<Utc>) -> Result<Observed, SyncError> {
        let before = self.inner.backend.calls();
        let raw = self.observe_raw().await?;
        let calls = self.inner.backend.calls().since(&before).http;
        let mut cache = self.inner.cache.lock().await;
        cache.store_observation(&raw, now, calls);
        cache.full_not_before = None;
        Ok(raw)
    }

    /// The sources this run served from facts read longer ago than their
    /// own refresh interval (by index).
    fn stale_sources(&self, now: DateTime<Utc>, reports: &[SourceReport]) -> Vec<usize> {
        self.inner
            .sources
            .iter()
            .enumerate()
            .filter(|(i, s)| {
                let every = self.refresh_every(s.name());
                reports
                    .get(*i)
                    .and_then(|r| r.read_at)
                    .is_some_and(|at| now - at > delta(every))
            })
            .map(|(i, _)| i)
            .collect()
    }

    /// What the last full observation cost (calls), or `u64::MAX` before
    /// the first.
    async fn full_cost(&self) -> u64 {
        self.inner
            .cache
            .lock()
            .await
            .observation
            .as_ref()
            .map_or(u64::MAX, |o| o.calls)
    }

    /// Reads the sources that are due, serves the others from the cache.
    async fn fetch_due(&self, now: DateTime<Utc>) -> (Facts, Vec<SourceReport>, Vec<Deferral>) {
        let (cache_view, all, some, not_before) = {
            let mut cache = self.inner.cache.lock().await;
            let all = std::mem::take(&mut cache.forced);
            let some = std::mem::take(&mut cache.forced_sources);
            (cache.sources.clone(), all, some, cache.not_before.clone())
        };
        let mut deferred = Vec::new();
        let mut due: Vec<usize> = Vec::new();
        for (i, s) in self.inner.sources.iter().enumerate() {
            let name = s.name();
            let cached = cache_view.get(&i);
            let forced = all || some.contains(&i);
            // a read deferred by its budget waits until it recovers (one
            // asked for stays asked for)
            if not_before.get(&i).is_some_and(|t| now < *t) {
                if forced {
                    self.inner.cache.lock().await.forced_sources.insert(i);
                }
                continue;
            }
            let is_due = cached.is_none_or(|c| {
                forced
                    || now - c.tried_at >= delta(self.cadence(name, c.calls))
                    || now - c.read_at >= delta(self.max_fact_age(name, c.calls))
            });
            if !is_due {
                continue;
            }
            // a read woken by webhooks that named records reads those (about
            // a call each); anything else costs a full read
            let named = self.inner.source_named[i].load(Ordering::Relaxed);
            let full_cost = cached.map_or(1, |c| c.calls.max(1));
            let cost = if forced && named > 0 && named != NAMED_UNKNOWN {
                named.min(full_cost)
            } else {
                full_cost
            };
            let budget = self.budget_of(name);
            // A poll spends the polling share; the first read (nothing to
            // serve instead), a forced one, or one larger than the whole
            // share (paced to once a window already) may spend the rest.
            let polling = !forced
                && cached.is_some()
                && budget
                    .windows()
                    .all(|(w, _)| budget.polling_limit(w).is_some_and(|p| cost <= p));
            match budget::afford(
                self.state(),
                &self.inner.namespace,
                name,
                &budget,
                "fetch",
                cost,
                polling,
                self.inner.clock.now(),
            )
            .await
            {
                Ok(()) => {
                    self.inner.source_named[i].store(0, Ordering::Relaxed);
                    due.push(i);
                }
                Err(d) => {
                    warn!(%d, "source read deferred");
                    let mut cache = self.inner.cache.lock().await;
                    cache
                        .not_before
                        .insert(i, d.recovers_at.max(now + TimeDelta::minutes(1)));
                    // an asked-for read is still asked for when it recovers
                    if forced {
                        cache.forced_sources.insert(i);
                    }
                    drop(cache);
                    deferred.push(d);
                }
            }
        }
        let to_read: Vec<Arc<dyn FactSource>> =
            due.iter().map(|&i| self.inner.sources[i].clone()).collect();
        let mut fetched: BTreeMap<usize, Result<SourceBatch, SourceError>> = due
            .into_iter()
            .zip(self.fetch_sources(&to_read, now).await)
            .collect();
        let mut facts = Facts::default();
        let mut reports = Vec::new();
        let mut keep = Vec::new();
        for (i, s) in self.inner.sources.iter().enumerate() {
            let name = s.name();
            let cached = cache_view.get(&i);
            let max_age = delta(self.max_fact_age(name, cached.map_or(1, |c| c.calls)));
            match fetched.remove(&i) {
                Some(result) => {
                    let (batch_facts, report) = absorb(s.as_ref(), result, now);
                    match batch_facts {
                        Some(f) => {
                            merge_facts(&mut facts, f.clone());
                            keep.push((i, Some(f), report.clone()));
                        }
                        None => {
                            // facts read before keep granting
                            mark_failed(&mut facts, s.as_ref(), &report);
                            if let Some(c) = cached.filter(|c| now - c.read_at <= max_age) {
                                merge_facts(&mut facts, c.facts.clone());
                            }
                            keep.push((i, None, report.clone()));
                        }
                    }
                    reports.push(report);
                }
                None => match cached {
                    Some(c) => {
                        let age = now - c.read_at;
                        let mut report = c.report.clone();
                        report.calls = 0;
                        report.read_at = Some(c.read_at);
                        if age > max_age {
                            // Not trusted: what it grants is kept (its
                            // revocations are held), nothing new is granted.
                            let why = format!(
                                "facts read {} min ago, older than the {} min allowed: \
                                 nothing it feeds is revoked or newly granted until it is read again",
                                age.num_minutes(),
                                max_age.num_minutes()
                            );
                            warn!(source = name, "{why}");
                            facts.completeness.mark_incomplete(s.scope(), why.clone());
                            report.notes.push(why);
                        } else {
                            merge_facts(&mut facts, c.facts.clone());
                        }
                        reports.push(report);
                    }
                    None => {
                        facts
                            .completeness
                            .mark_incomplete(s.scope(), "not read yet: its budget is spent");
                        reports.push(SourceReport {
                            name: name.to_owned(),
                            error: None,
                            errors: Vec::new(),
                            notes: vec!["not read yet: its budget is spent".into()],
                            calls: 0,
                            read_at: None,
                        });
                    }
                },
            }
        }
        let mut cache = self.inner.cache.lock().await;
        for (i, f, _) in &keep {
            if f.is_some() {
                cache.not_before.remove(i);
            }
        }
        cache.store_fetch(now, keep);
        drop(cache);
        (facts, reports, deferred)
    }
}

/// A fetch's result as facts to merge (`None` for a failed read) and its
/// report, with its notes and errors logged.
pub(super) fn absorb(
    source: &dyn FactSource,
    result: Result<SourceBatch, SourceError>,
    now: DateTime<Utc>,
) -> (Option<Facts>, SourceReport) {
    match result {
        Ok(batch) => {
            for note in &batch.notes {
                warn!(source = source.name(), "{note}");
            }
            for e in &batch.errors {
                warn!(source = source.name(), error = %e, kind = %e.kind(),
                    "part of the source could not be read; its revocations are held");
            }
            let report = SourceReport {
                name: source.name().to_owned(),
                error: None,
                errors: batch.errors,
                notes: batch.notes,
                calls: batch.calls,
                read_at: Some(batch.read_at.map_or(now, |t| t.min(now))),
            };
            (Some(batch.facts), report)
        }
        Err(e) => {
            let scope: Scope = source.scope();
            warn!(source = source.name(), error = %e, kind = %e.kind(), %scope,
                "fetch failed; revocations it feeds are held");
            let report = SourceReport {
                name: source.name().to_owned(),
                error: Some(e),
                errors: Vec::new(),
                notes: Vec::new(),
                calls: 0,
                read_at: None,
            };
            (None, report)
        }
    }
}

/// A failed read's scope is incomplete, with the error as the reason.
pub(super) fn mark_failed(facts: &mut Facts, source: &dyn FactSource, report: &SourceReport) {
    let why = report.error.as_ref().map(ToString::to_string);
    facts
        .completeness
        .mark_incomplete(source.scope(), why.unwrap_or_default());
}

/// The shortest cadence of a source: a zero one would read it on every
/// wake, and the loop would wake at once again.
const MIN_CADENCE: Duration = Duration::from_secs(10);

fn error_planner(e: &SyncError) {
    tracing::error!(error = %e, "the planner panicked; no plan");
}

pub(super) fn delta(d: Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

/// `t + d`, saturating instead of panicking.
pub(super) fn after(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    crate::clock::add_saturating(t, delta(d))
}

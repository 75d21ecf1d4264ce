//! The month simulator: a portfolio from [`crate::month`] in the sandbox,
//! the runner's loop driven on a virtual clock for a month while the
//! portfolio's edits arrive, and a report of what it cost and how late
//! each change was.
//!
//! The runner is what `Syncer::run` runs ([`Syncer::sync_due`]), woken
//! where the loop would wake: at each plan's `next_change` and when a
//! source read or a full observation falls due ([`Syncer::next_due`]). The
//! sandbox's real-time rate windows are off (a month of calls happens in
//! minutes); the calls are counted per virtual day from the sandbox's own
//! counters, token calls included.
//!
//! What is measured, and how:
//! * **Calls** per service and virtual day, against the budgets.
//! * **Boundary lag**: for each group change applied, each reason whose
//!   window opened (a grant) or closed (a revocation) since the previous
//!   run: the run's instant minus the window's edge.
//! * **Edit lag**: each edit says which access it should change and from
//!   when (its own instant, or a later one such as a move-in); after each
//!   run the sandbox's Brivo is looked at, and the lag is the first run
//!   that shows the change minus that instant. Edits never seen applied
//!   are counted.
//! * **Redundant writes**: writes the sandbox's Brivo answered that
//!   changed nothing.
//! * **Against a full re-read**: at the end, a dry run that reads every
//!   source and all of Brivo again must plan nothing.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use access_engine::{Action, Policy, Rule};
use access_state::MemoryState;
use access_sync::{
    BrivoBackend, Budget, EntrataSource, ManualClock, OfficeRndSource, Outcome, Syncer,
};
use chrono::{DateTime, TimeDelta, Utc};
use sandbox::{Sandbox, SandboxConfig};
use secrecy::SecretString;

use crate::month::{PortfolioSize, Service, generate};

/// How the runner is set up for the month.
#[derive(Debug, Clone)]
pub struct SimOptions {
    /// Days simulated.
    pub days: u32,
    /// The portfolio's seed.
    pub seed: u64,
    /// Entrata's read cadence.
    pub entrata_every: Duration,
    /// OfficeRnD's read cadence (the poll interval of its edits).
    pub officernd_every: Duration,
    /// Brivo's full reconciliation cadence.
    pub full_every: Duration,
    /// The sandbox Entrata's `per_page` cap (its default, 100, is the
    /// pessimistic guess; users of the real service suspect 500).
    pub entrata_page_cap: Option<usize>,
    /// OfficeRnD's daily read budget (it documents none).
    pub officernd_per_day: u64,
    /// Print a line per simulated day to stderr.
    pub progress: bool,
}

impl SimOptions {
    /// The month: 30 days, Entrata every 30 min, OfficeRnD every
    /// 15 min, a daily full reconciliation.
    pub fn month() -> Self {
        SimOptions {
            days: 30,
            seed: 1,
            entrata_every: Duration::from_secs(30 * 60),
            officernd_every: Duration::from_secs(15 * 60),
            full_every: Duration::from_secs(24 * 3600),
            entrata_page_cap: Some(500),
            officernd_per_day: 100_000,
            progress: false,
        }
    }

    /// A few days, for `cargo test`.
    pub fn short(days: u32) -> Self {
        SimOptions {
            days,
            ..SimOptions::month()
        }
    }
}

/// A latency distribution (virtual time).
#[derive(Debug, Clone, Default)]
pub struct Lags(pub Vec<TimeDelta>);

impl Lags {
    /// The largest.
    pub fn max(&self) -> TimeDelta {
        self.0.iter().copied().max().unwrap_or_default()
    }

    /// The median.
    pub fn median(&self) -> TimeDelta {
        let mut v = self.0.clone();
        v.sort();
        v.get(v.len() / 2).copied().unwrap_or_default()
    }
}

/// What the month cost and how late each change was.
#[derive(Debug, Clone, Default)]
pub struct MonthReport {
    /// The portfolio, in a line.
    pub portfolio: String,
    /// Days simulated.
    pub days: u32,
    /// Calls per service (`brivo`, `entrata`, `officernd`) per virtual day.
    pub calls: BTreeMap<&'static str, Vec<u64>>,
    /// Brivo writes in the month.
    pub brivo_writes: u64,
    /// Lag from each boundary to its applied change.
    pub boundaries: Lags,
    /// Lag from each Entrata edit to its applied change.
    pub entrata_edits: Lags,
    /// Lag from each OfficeRnD edit to its applied change.
    pub officernd_edits: Lags,
    /// Edits with an expected change never seen in Brivo (their lines).
    pub unapplied: Vec<String>,
    /// Writes that changed nothing.
    pub redundant_writes: u64,
    /// Actions a full re-read plans at the end (0: identical).
    pub full_reread_actions: usize,
    /// Runs; of them with a full observation of Brivo; users re-read
    /// before writing; reads deferred by a budget; failed actions.
    pub runs: usize,
    /// Runs that observed Brivo in full.
    pub full_observations: usize,
    /// Users read again before they were written.
    pub verified_users: usize,
    /// Reads deferred by a budget, per service.
    pub deferred: BTreeMap<String, usize>,
    /// Actions that failed.
    pub failed_actions: usize,
    /// The options used.
    pub options: Option<SimOptions>,
}

impl MonthReport {
    /// Calls of `service` in the whole run.
    pub fn total(&self, service: &str) -> u64 {
        self.calls.get(service).map_or(0, |d| d.iter().sum())
    }

    /// The most calls of `service` on one day.
    pub fn max_day(&self, service: &str) -> u64 {
        self.calls
            .get(service)
            .and_then(|d| d.iter().max().copied())
            .unwrap_or(0)
    }

    /// The report as a Markdown table.
    pub fn render(&self) -> String {
        let mins = |d: TimeDelta| format!("{:.1} min", d.num_seconds() as f64 / 60.0);
        let secs = |d: TimeDelta| format!("{} s", d.num_seconds());
        let o = self.options.clone().unwrap_or_else(SimOptions::month);
        let mut s = format!(
            "{}; {} days simulated; Entrata read every {} min (page cap {:?}), OfficeRnD every {} min, Brivo in full every {} h.\n\n",
            self.portfolio,
            self.days,
            o.entrata_every.as_secs() / 60,
            o.entrata_page_cap,
            o.officernd_every.as_secs() / 60,
            o.full_every.as_secs() / 3600,
        );
        s += "| measure | result | target |\n|---|---|---|\n";
        s += &format!(
            "| Brivo calls in {} days | {} (max {} a day; {} writes) | ≤ 50,000 in 30 days |\n",
            self.days,
            self.total("brivo"),
            self.max_day("brivo"),
            self.brivo_writes
        );
        s += &format!(
            "| Entrata calls, most in one day | {} (total {}) | ≤ 1,250 a day |\n",
            self.max_day("entrata"),
            self.total("entrata")
        );
        s += &format!(
            "| OfficeRnD reads, most in one day | {} (total {}) | budget {} a day |\n",
            self.max_day("officernd"),
            self.total("officernd"),
            o.officernd_per_day
        );
        s += &format!(
            "| boundaries applied, lag max / median | {}: {} / {} | ≤ 1 s |\n",
            self.boundaries.0.len(),
            secs(self.boundaries.max()),
            secs(self.boundaries.median())
        );
        s += &format!(
            "| Entrata edits applied, lag max / median | {}: {} / {} | ≤ 30 min |\n",
            self.entrata_edits.0.len(),
            mins(self.entrata_edits.max()),
            mins(self.entrata_edits.median())
        );
        s += &format!(
            "| OfficeRnD edits applied, lag max / median | {}: {} / {} | ≤ {} min |\n",
            self.officernd_edits.0.len(),
            mins(self.officernd_edits.max()),
            mins(self.officernd_edits.median()),
            o.officernd_every.as_secs() / 60
        );
        for (service, n) in &self.deferred {
            s += &format!("| reads deferred by the {service} budget | {n} | |\n");
        }
        s += &format!("| edits never applied | {} | 0 |\n", self.unapplied.len());
        s += &format!("| redundant writes | {} | 0 |\n", self.redundant_writes);
        s += &format!(
            "| actions a full re-read plans at the end | {} | 0 |\n",
            self.full_reread_actions
        );
        s += &format!(
            "| runs (full observations; users re-read before writing; reads deferred; failed actions) | {} ({}; {}; {}; {}) | |\n",
            self.runs,
            self.full_observations,
            self.verified_users,
            self.deferred.values().sum::<usize>(),
            self.failed_actions
        );
        s
    }
}

fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

/// The sandbox's calls so far: Brivo, Entrata, OfficeRnD.
fn counters(sb: &Sandbox) -> [u64; 3] {
    [
        sb.brivo_calls(),
        sb.entrata_stats().total,
        sb.officernd_stats().total,
    ]
}

/// Simulates `opts.days` days of `size` and reports.
///
/// # Panics
/// If the sandbox cannot start or a client cannot be built (a bug).
pub async fn simulate(size: &PortfolioSize, opts: &SimOptions) -> MonthReport {
    let start = DateTime::parse_from_rfc3339("2026-11-02T05:00:00Z")
        .expect("valid")
        .with_timezone(&Utc);
    let p = generate(size, start, opts.days, opts.seed);
    let sb = Sandbox::start_with(
        p.seed.clone(),
        SandboxConfig::default().with_brivo_rate_limit(None),
    )
    .await
    .expect("sandbox starts");
    sb.entrata().set_rate_windows(false);
    sb.officernd().set_rate_windows(false);
    sb.entrata().set_page_cap(opts.entrata_page_cap);
    let c = sb.credentials();
    let brivo = brivo_client::Client::builder(brivo_client::Credentials::password(
        secret(&c.brivo_api_key),
        secret(&c.brivo_client_id),
        secret(&c.brivo_client_secret),
        secret(&c.brivo_username),
        secret(&c.brivo_password),
    ))
    .base_url(sb.brivo_api_url())
    .auth_url(sb.brivo_auth_url())
    .rate_limit(10_000.0, 1000)
    .build()
    .expect("brivo client");
    let entrata = entrata_client::Client::builder(
        &format!("{}/", sb.entrata_api_url()),
        entrata_client::Credentials::basic(c.entrata_username.clone(), secret(&c.entrata_password)),
    )
    .rate_limit(10_000.0, 1000)
    .build()
    .expect("entrata client");
    let officernd = officernd_client::Client::builder(
        c.officernd_org.clone(),
        c.officernd_client_id.clone(),
        secret(&c.officernd_client_secret),
    )
    .api_url(format!("{}/api/v2", sb.officernd_base_url()))
    .token_url(format!("{}/oauth/token", sb.officernd_identity_url()))
    .rate_limit(10_000.0, 1000)
    .build()
    .expect("officernd client");
    let mut policy = Policy::default();
    // The month's day-0 onboarding creates thousands of users at once.
    policy.revocation_threshold.max_count = None;
    policy.revocation_threshold.max_share = None;
    let clock = ManualClock::new(start);
    // A runner over its own run state (the budgets' ledger).
    let runner = |state: Arc<MemoryState>| {
        let mut source = EntrataSource::new(entrata.clone());
        for &(id, tz) in &p.zones {
            source = source.zone(id, tz);
        }
        Syncer::builder(BrivoBackend::new(brivo.clone()))
            .source(source)
            .source(OfficeRndSource::new(officernd.clone()))
            .mappings(p.mappings.clone())
            .policy(policy.clone())
            .clock(clock.clone())
            .state_arc(state, "month")
            .refresh("entrata", opts.entrata_every)
            .refresh("officernd", opts.officernd_every)
            .full_reconciliation_every(opts.full_every)
            .budget("officernd", Budget::per_day(opts.officernd_per_day))
            .concurrency(8)
            .build()
    };

    // Day 0: onboarding, not counted, by a runner of its own: the month's
    // runner starts with an empty ledger (onboarding 11,000 users spends
    // about 45,000 Brivo calls, which would hold its budget for 30 days).
    let wall = std::time::Instant::now();
    let onboarding = runner(Arc::new(MemoryState::new()));
    let onboard = onboarding.sync_once(start).await.expect("onboarding");
    assert!(onboard.is_success(), "onboarding failed");
    onboarding
        .sync_once(start)
        .await
        .expect("onboarding, second pass");
    let syncer = runner(Arc::new(MemoryState::new()));
    sb.reset_brivo_counters();
    if opts.progress {
        eprintln!("onboarded in {:.1} s", wall.elapsed().as_secs_f64());
    }
    let mut last_day = 0;

    let end = start + TimeDelta::days(i64::from(opts.days));
    let mut report = MonthReport {
        portfolio: p.summary(),
        days: opts.days,
        options: Some(opts.clone()),
        ..MonthReport::default()
    };
    for k in ["brivo", "entrata", "officernd"] {
        report.calls.insert(k, vec![0; opts.days as usize]);
    }
    let mut edits: Vec<usize> = (0..p.edits.len()).collect();
    edits.sort_by_key(|&i| p.edits[i].at);
    let mut next_edit = 0;
    // (edit, due): waiting to be seen in Brivo
    let mut pending: Vec<(usize, DateTime<Utc>)> = Vec::new();
    let mut t = start;
    let mut t_prev = start;
    let mut seen = counters(&sb);
    let writes_before = sb.brivo_writes();
    loop {
        while next_edit < edits.len() && p.edits[edits[next_edit]].at <= t {
            let i = edits[next_edit];
            p.edits[i].apply(&sb);
            if !p.edits[i].expect.is_empty() {
                pending.push((i, p.edits[i].at.max(p.edits[i].effective)));
            }
            next_edit += 1;
        }
        clock.set(t);
        let r = syncer.sync_due(t).await.expect("a run");
        report.runs += 1;
        report.full_observations += usize::from(r.observed_fully);
        report.verified_users += r.verified_users;
        for d in &r.deferred {
            *report.deferred.entry(d.service.clone()).or_default() += 1;
        }
        report.failed_actions += r.failed();
        let now_counts = counters(&sb);
        let day = usize::try_from((t - start).num_days())
            .unwrap_or(0)
            .min(opts.days as usize - 1);
        for (k, (a, b)) in ["brivo", "entrata", "officernd"]
            .into_iter()
            .zip(now_counts.iter().zip(seen.iter()))
        {
            report.calls.get_mut(k).expect("service")[day] += a - b;
        }
        seen = now_counts;
        if opts.progress && day != last_day {
            last_day = day;
            eprintln!(
                "day {day}: {} runs, {:.1} s",
                report.runs,
                wall.elapsed().as_secs_f64()
            );
        }

        // boundaries crossed since the previous run, applied now
        for res in r
            .results
            .iter()
            .filter(|x| matches!(x.outcome, Outcome::Ok { .. }))
        {
            let Some(Action::ChangeGroups { add, remove, .. }) = r.plan.actions.get(res.index)
            else {
                continue;
            };
            let edges = add
                .iter()
                .flat_map(|c| &c.reasons)
                .filter_map(|x| x.window.as_ref().and_then(|w| w.start))
                .chain(
                    remove
                        .iter()
                        .flat_map(|c| &c.reasons)
                        .filter(|x| x.rule == Rule::Ended)
                        .filter_map(|x| x.window.as_ref().and_then(|w| w.end)),
                );
            for edge in edges.filter(|e| *e > t_prev && *e <= t) {
                report.boundaries.0.push(t - edge);
            }
        }

        // edits now visible in Brivo: looked at when one falls due, or
        // when this run wrote something (nothing else changes Brivo here)
        let newly_due = pending.iter().any(|(_, due)| *due > t_prev && *due <= t);
        let wrote = r
            .results
            .iter()
            .any(|x| matches!(x.outcome, Outcome::Ok { .. }));
        if (newly_due || wrote) && pending.iter().any(|(_, due)| *due <= t) {
            let snap = sb.brivo().snapshot();
            pending.retain(|&(i, due)| {
                if due > t {
                    return true;
                }
                let e = &p.edits[i];
                let holds = e.expect.iter().all(|(ext, g, on)| {
                    snap.user_by_external_id(ext)
                        .is_some_and(|u| u.groups.contains(g))
                        == *on
                });
                if holds {
                    let lags = match e.service {
                        Service::Entrata => &mut report.entrata_edits,
                        Service::OfficeRnd => &mut report.officernd_edits,
                    };
                    lags.0.push(t - due);
                }
                !holds
            });
        }

        let mut next = end;
        if let Some(n) = r.plan.next_change {
            next = next.min(n);
        }
        if let Some(n) = syncer.next_due().await {
            next = next.min(n);
        }
        // a wake in the past (a read due now) runs a second later
        let next = next.max(t + TimeDelta::seconds(1));
        if next >= end {
            break;
        }
        t_prev = t;
        t = next;
    }
    // (an edit due after the last run is not late)
    report.unapplied = pending
        .iter()
        .filter(|&&(_, due)| due <= t)
        .map(|&(i, due)| format!("{} (due {due})", p.edits[i].what))
        .collect();
    report.redundant_writes = sb.brivo().redundant_writes();
    report.brivo_writes = sb.brivo_writes() - writes_before.min(sb.brivo_writes());
    clock.set(end);
    let full = syncer.plan(end).await.expect("a full re-read");
    report.full_reread_actions = full.plan.actions.len();
    sb.shutdown().await;
    report
}

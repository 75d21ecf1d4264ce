//! Runs from cached facts and a cached observation (`Syncer::sync_due`):
//! a boundary is applied from the facts last read, without reading any
//! source again; the users a plan writes are read again first; facts too
//! old hold their revocations; a change made by hand to a user the runner
//! has no reason to write waits for the next full reconciliation; a read
//! that would overspend its budget is deferred, a due revocation never.

#![allow(clippy::unwrap_used)] // helpers of tests

use std::sync::Arc;
use std::time::Duration;

use access_engine::{
    Customer, CustomerType, Facts, GroupId, HoldRule, Lease, LeaseStatus, Mappings, Profile,
    Property, Scope, Source,
};
use access_state::{MemoryState, RunState};
use access_sync::memory::{MemoryBackend, StaticSource};
use access_sync::{AccessBackend, Budget, BudgetWindow, ManualClock, Syncer, SyncerBuilder};
use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};

const G: GroupId = GroupId(7);

fn date(m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(2026, m, d)
}

fn resident(lease: &str, customer: &str, status: LeaseStatus) -> Lease {
    Lease::new(lease, "100", status).with_customer(Customer::new(
        customer,
        CustomerType::Primary,
        Profile::new("R", customer),
    ))
}

/// Ada moves in on 3/10 (10:00 UTC), Bob moves out on 3/10 (end of day
/// 16:00 by default), Cy stays.
fn facts() -> Facts {
    let mut f = Facts::default();
    f.properties.push(Property::new("100", "UTC"));
    f.leases
        .push(resident("1", "ada", LeaseStatus::Future).with_move_in(date(3, 10)));
    f.leases.push(
        resident("2", "bob", LeaseStatus::Notice)
            .with_move_in(date(1, 1))
            .with_move_out(date(3, 10)),
    );
    f.leases
        .push(resident("3", "cy", LeaseStatus::Current).with_move_in(date(1, 1)));
    f
}

fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, d, h, m, 0).unwrap()
}

fn builder(brivo: &MemoryBackend, source: &StaticSource) -> SyncerBuilder {
    let mut mappings = Mappings::default();
    mappings.properties.insert("100".into(), vec![G]);
    Syncer::builder(brivo.clone())
        .source(source.clone())
        .mappings(mappings)
        .refresh("entrata", Duration::from_secs(30 * 60))
}

fn member(brivo: &MemoryBackend, customer: &str) -> bool {
    brivo
        .user_by_external_id(&format!("sync:entrata:{customer}"))
        .is_some_and(|u| u.groups.contains(&G))
}

fn setup() -> (MemoryBackend, StaticSource) {
    let brivo = MemoryBackend::new();
    brivo.add_group(G, "Residents");
    let source = StaticSource::new("entrata", Scope::Source(Source::Entrata), facts());
    (brivo, source)
}

#[tokio::test]
async fn boundaries_are_applied_from_the_facts_last_read() {
    let (brivo, source) = setup();
    let syncer = builder(&brivo, &source).build();
    let first = syncer.sync_due(at(10, 9, 45)).await.unwrap();
    assert!(first.observed_fully, "the first run reads everything");
    assert!(member(&brivo, "bob") && member(&brivo, "cy") && !member(&brivo, "ada"));
    let reads = brivo.calls().reads;

    // 10:00: Ada's move-in, 15 minutes after the read: no source read, no
    // full observation; the one user written is new (nothing to re-read).
    let ten = first.plan.next_change.unwrap();
    assert_eq!(ten, at(10, 10, 0));
    let r = syncer.sync_due(ten).await.unwrap();
    assert!(r.is_success());
    assert_eq!(source.fetches(), 1);
    assert!(!r.observed_fully);
    assert_eq!(r.sources[0].read_at, Some(at(10, 9, 45)));
    assert!(member(&brivo, "ada"));
    // only the lookup before the create
    assert_eq!(brivo.calls().reads - reads, 1);

    // 16:00 is Bob's end; the source is due again (30 min cadence) and is
    // read; his user is read again before he is taken out.
    let out = r.plan.next_change.unwrap();
    let r = syncer.sync_due(out).await.unwrap();
    assert_eq!(source.fetches(), 2);
    assert_eq!(r.verified_users, 1);
    assert!(!member(&brivo, "bob"));
    // converged: the cache knows what was written
    let r = syncer.sync_due(out + TimeDelta::minutes(1)).await.unwrap();
    assert!(r.plan.is_empty(), "{:?}", r.plan.actions);
}

#[tokio::test]
async fn a_user_changed_by_hand_is_read_again_before_it_is_written() {
    let (brivo, source) = setup();
    let syncer = builder(&brivo, &source).build();
    syncer.sync_due(at(10, 15, 45)).await.unwrap();
    // an administrator takes Bob out before his move-out
    let bob = brivo.user_by_external_id("sync:entrata:bob").unwrap().id;
    brivo.take_out_of_group(bob, G);
    let writes = brivo.calls().writes;
    let r = syncer.sync_due(at(10, 16, 0)).await.unwrap();
    // the plan from the cache would take Bob out; he is read first, and
    // the plan made again has nothing left to do: no redundant write
    assert_eq!(r.verified_users, 1);
    assert!(r.plan.is_empty(), "{:?}", r.plan.actions);
    assert_eq!(brivo.calls().writes, writes);
}

#[tokio::test]
async fn a_hand_edit_elsewhere_waits_for_the_full_reconciliation() {
    let (brivo, source) = setup();
    let clock = ManualClock::new(at(10, 12, 0));
    let syncer = builder(&brivo, &source)
        .full_reconciliation_every(Duration::from_secs(6 * 3600))
        .clock(clock.clone())
        .build();
    syncer.sync_due(at(10, 12, 0)).await.unwrap();
    // Cy is taken out by hand: nothing the runner plans touches Cy
    let cy = brivo.user_by_external_id("sync:entrata:cy").unwrap().id;
    brivo.take_out_of_group(cy, G);
    let r = syncer.sync_due(at(10, 13, 0)).await.unwrap();
    assert!(!r.observed_fully);
    assert!(
        !member(&brivo, "cy"),
        "not seen before the full observation"
    );
    // six hours after the last full observation: Brivo is read in full
    // and Cy is put back
    let r = syncer.sync_due(at(10, 18, 0)).await.unwrap();
    assert!(r.observed_fully);
    assert!(member(&brivo, "cy"));
    assert_eq!(
        syncer.next_due().await.map(|t| t >= at(10, 18, 30)),
        Some(true)
    );
}

#[tokio::test]
async fn facts_older_than_allowed_are_not_trusted() {
    let (brivo, source) = setup();
    let syncer = builder(&brivo, &source)
        .refresh("entrata", Duration::from_secs(24 * 3600))
        .max_fact_age(Duration::from_secs(2 * 3600))
        .build();
    syncer.sync_due(at(10, 8, 0)).await.unwrap();
    // Entrata is down from now on; facts about to grow too old are read
    // again (and the read fails)
    source.fail("HTTP 503");
    assert_eq!(syncer.next_due().await, Some(at(10, 10, 0)));
    // 10:00: facts two hours old, still trusted: Ada is let in
    let r = syncer.sync_due(at(10, 10, 0)).await.unwrap();
    assert_eq!(source.fetches(), 2);
    assert!(member(&brivo, "ada"));
    // 16:00: eight hours old; Bob's move-out is held, not applied, and
    // the rest keep what they have
    let r2 = syncer.sync_due(at(10, 16, 0)).await.unwrap();
    assert_eq!(source.fetches(), 3);
    assert!(member(&brivo, "bob") && member(&brivo, "ada") && member(&brivo, "cy"));
    assert!(
        r2.plan
            .held
            .iter()
            .any(|h| matches!(h.rule, HoldRule::Incomplete { .. })),
        "{:?}",
        r2.plan.held
    );
    drop(r);
    // Entrata is back: the next run reads it (the facts are too old to
    // wait for the cadence) and the move-out goes through
    source.set_facts(facts());
    syncer.sync_due(at(10, 16, 5)).await.unwrap();
    assert_eq!(source.fetches(), 4);
    assert!(!member(&brivo, "bob"));
}

#[tokio::test]
async fn a_failed_read_keeps_recent_facts_granting_and_holds_revocations() {
    let (brivo, source) = setup();
    let syncer = builder(&brivo, &source).build();
    syncer.sync_due(at(10, 9, 50)).await.unwrap();
    source.fail("HTTP 503");
    syncer.refresh_sources().await;
    let r = syncer.sync_due(at(10, 10, 0)).await.unwrap();
    assert!(r.sources[0].error.is_some());
    assert!(
        member(&brivo, "ada"),
        "the move-in from the facts read 10 min before"
    );
    let r = syncer.sync_due(at(10, 16, 0)).await.unwrap();
    assert!(r.sources[0].error.is_some());
    assert!(member(&brivo, "bob"), "the move-out is held");
    assert!(member(&brivo, "ada") && member(&brivo, "cy"));
}

#[tokio::test]
async fn reads_over_budget_are_deferred_but_a_due_revocation_is_not() {
    let (brivo, source) = setup();
    let source = source.with_calls(400);
    let state: Arc<dyn RunState> = Arc::new(MemoryState::new());
    let clock = ManualClock::new(at(10, 9, 0));
    let syncer = builder(&brivo, &source)
        .budget("entrata", Budget::per_day(1_000))
        .max_fact_age(Duration::from_secs(24 * 3600))
        .state_arc(state.clone(), "t")
        .clock(clock.clone())
        .build();
    let run = |t| {
        clock.set(t);
        syncer.sync_due(t)
    };
    run(at(10, 9, 0)).await.unwrap();
    // polling may spend 500 a day: 400 a read, so one read a day
    assert_eq!(
        syncer.next_due().await,
        Some(at(11, 4, 12)),
        "the cadence is stretched to the budget: 500 a day at 400 a read"
    );
    // a forced read may spend the whole 1,000: a second one fits...
    syncer.refresh_sources().await;
    run(at(10, 10, 0)).await.unwrap();
    assert_eq!(source.fetches(), 2);
    // ...a third does not: deferred, with when it recovers
    syncer.refresh_sources().await;
    let r = run(at(10, 16, 0)).await.unwrap();
    assert_eq!(source.fetches(), 2);
    let d = &r.deferred[0];
    assert_eq!(
        (d.service.as_str(), d.window),
        ("entrata", BudgetWindow::Day)
    );
    assert_eq!((d.used, d.cost, d.limit), (800, 400, 1_000));
    assert_eq!(d.recovers_at, at(11, 9, 1));
    // and the loop does not try again before then (the next thing due is
    // Brivo's daily full observation, at 09:00)
    assert_eq!(syncer.next_due().await, Some(at(11, 9, 0)));
    let r = run(at(10, 16, 30)).await.unwrap();
    assert!(r.deferred.is_empty(), "not tried again: {:?}", r.deferred);
    assert_eq!(source.fetches(), 2);
    // the cached facts (six hours old) still revoke at Bob's move-out
    assert!(!member(&brivo, "bob"));
    let uses = syncer.budget_use(at(10, 16, 0)).await;
    let entrata = uses.iter().find(|u| u.service == "entrata").unwrap();
    assert_eq!(
        (entrata.used, entrata.limit, entrata.polling_limit),
        (800, 1_000, 500)
    );
}

#[tokio::test]
async fn brivo_over_budget_defers_the_full_reconciliation_not_the_writes() {
    let (brivo, source) = setup();
    let state: Arc<dyn RunState> = Arc::new(MemoryState::new());
    let clock = ManualClock::new(at(10, 9, 0));
    let syncer = builder(&brivo, &source)
        .budget("brivo", Budget::per_day(20))
        .full_reconciliation_every(Duration::from_secs(3600))
        .state_arc(state.clone(), "t")
        .clock(clock.clone())
        .build();
    syncer.sync_due(at(10, 9, 0)).await.unwrap();
    // someone else's calls spent the day
    state
        .record_calls("t", "brivo", at(10, 9, 30), 30)
        .await
        .unwrap();
    clock.set(at(10, 16, 0));
    let r = syncer.sync_due(at(10, 16, 0)).await.unwrap();
    assert!(!r.observed_fully);
    assert_eq!(r.deferred[0].what, "full reconciliation");
    assert!(
        !member(&brivo, "bob"),
        "the move-out is written all the same"
    );
    assert!(r.is_success());
}

#[cfg(feature = "server")]
#[tokio::test]
async fn budgets_and_deferrals_show_in_healthz_and_metrics() {
    let (brivo, source) = setup();
    let source = source.with_calls(400);
    let clock = ManualClock::new(at(10, 9, 0));
    let syncer = builder(&brivo, &source)
        .budget("entrata", Budget::per_day(1_000))
        .clock(clock.clone())
        .build();
    let monitor = access_sync::server::Monitor::new();
    for t in [at(10, 9, 0), at(10, 9, 30), at(10, 10, 0)] {
        clock.set(t);
        syncer.refresh_sources().await;
        let r = syncer.sync_due(t).await.unwrap();
        monitor.observe(&access_sync::RunEvent::Synced(&r));
    }
    let health = monitor.health();
    let entrata = health
        .budgets
        .iter()
        .find(|b| b.service == "entrata")
        .unwrap();
    assert_eq!((entrata.used, entrata.limit), (800, 1_000));
    assert_eq!(health.deferred.len(), 1, "the third read would pass 1,000");
    let json = serde_json::to_value(&health).unwrap();
    assert!(
        json["budgets"]
            .as_array()
            .unwrap()
            .iter()
            .any(|b| b["service"] == "entrata"
                && b["window"] == "day"
                && b["polling_limit"] == 500
                && b["left"] == 200),
        "{json}"
    );
    let text = monitor.metrics_text();
    assert!(
        text.contains(r#"access_sync_budget_used_calls{service="entrata",window="day"} 800"#),
        "{text}"
    );
    assert!(
        text.contains(r#"access_sync_reads_deferred_total{service="entrata"} 1"#),
        "{text}"
    );
    assert!(text.contains(
        r#"access_sync_budget_limit_calls{service="brivo",window="thirty_days"} 100000"#
    ));
}

/// A budget that stretches Entrata's cadence to hours must not let a
/// boundary revoke from facts hours old: the source is read again first.
#[tokio::test]
async fn a_revocation_from_facts_older_than_the_refresh_reads_them_again() {
    let (brivo, source) = setup();
    let source = source.with_calls(100);
    let clock = ManualClock::new(at(10, 9, 0));
    let syncer = builder(&brivo, &source)
        // polling may spend 200 a day: one read every 12 hours
        .budget("entrata", Budget::per_day(400))
        .clock(clock.clone())
        .build();
    syncer.sync_due(at(10, 9, 0)).await.unwrap();
    assert!(member(&brivo, "bob"));
    // at noon Bob withdraws his notice
    let mut f = facts();
    f.leases[1] = resident("2", "bob", LeaseStatus::Current).with_move_in(date(1, 1));
    source.set_facts(f);
    // 16:00, his old move-out: the facts are seven hours old, so they are
    // read again before revoking, and nothing is revoked
    clock.set(at(10, 16, 0));
    let r = syncer.sync_due(at(10, 16, 0)).await.unwrap();
    assert_eq!(source.fetches(), 2);
    assert!(member(&brivo, "bob"), "{:?}", r.plan.actions);
    assert!(
        member(&brivo, "ada"),
        "Ada's move-in at 10:00 went out with it"
    );
}

/// Intervals from code are clamped to `MAX_INTERVAL`: `Duration::MAX`
/// everywhere neither panics (`now + interval` would overflow) nor stops
/// the first run.
#[tokio::test]
async fn huge_intervals_from_code_never_panic() {
    let (brivo, source) = setup();
    let syncer = builder(&brivo, &source)
        .refresh("entrata", Duration::MAX)
        .max_fact_age(Duration::MAX)
        .full_reconciliation_every(Duration::MAX)
        .poll_interval(Duration::MAX)
        .retry_base(Duration::MAX)
        .lock_ttl(Duration::MAX)
        .max_plan_age(Duration::MAX)
        .build();
    let r = syncer.sync_due(at(10, 9, 0)).await.unwrap();
    assert!(r.is_success(), "{:?}", r.results);
    let due = syncer.next_due().await.unwrap();
    assert!(due > at(10, 9, 0) + TimeDelta::days(3000), "{due}");
    assert!(syncer.next_wait(at(10, 9, 0), None) <= access_sync::syncer::MAX_INTERVAL);
    // a later run from the cache: nothing is due, nothing panics
    let r = syncer.sync_due(at(10, 10, 0)).await.unwrap();
    assert_eq!(source.fetches(), 1);
    assert!(!r.observed_fully);
    // the default lock lease is twice the poll interval plus 5 minutes
    let (brivo, source) = setup();
    let syncer = builder(&brivo, &source)
        .poll_interval(Duration::MAX)
        .build();
    assert!(syncer.sync_due(at(10, 9, 0)).await.unwrap().is_success());
}

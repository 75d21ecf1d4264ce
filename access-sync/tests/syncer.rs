//! The Syncer against in-memory doubles: dry run, apply, idempotency, stale
//! plans, failed sources, failed observations, partial failures, backoff,
//! the run loop and the audit log.

use std::sync::Arc;
use std::time::Duration;

use access_engine::*;
use access_sync::memory::{MemoryBackend, StaticSource};
use access_sync::*;
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

const RESIDENTS: GroupId = GroupId(7);
const GYM: GroupId = GroupId(8);
const STAFF: GroupId = GroupId(99); // unmanaged

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn at(y: i32, mo: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, 0, 0).unwrap()
}

fn lease(
    id: &str,
    status: LeaseStatus,
    move_in: Option<NaiveDate>,
    customer: &str,
    name: &str,
) -> Lease {
    Lease::new(id, "100", status)
        .with_move_in(move_in)
        .with_customer(Customer::new(
            customer,
            CustomerType::Primary,
            Profile::new(name, "Resident"),
        ))
}

fn facts(leases: Vec<Lease>) -> Facts {
    let mut f = Facts::default();
    f.properties = vec![Property::new("100", "America/New_York")];
    f.leases = leases;
    f
}

fn mappings() -> Mappings {
    let mut m = Mappings::default();
    m.properties.insert("100".into(), vec![RESIDENTS, GYM]);
    m
}

fn brivo() -> MemoryBackend {
    let b = MemoryBackend::new();
    b.add_group(RESIDENTS, "Residents");
    b.add_group(GYM, "Gym");
    b.add_group(STAFF, "Staff");
    b
}

fn two_residents() -> Facts {
    facts(vec![
        lease("1", LeaseStatus::Current, date(2026, 1, 1), "11", "Ada"),
        lease("2", LeaseStatus::Current, date(2026, 1, 1), "22", "Bob"),
    ])
}

fn syncer(b: &MemoryBackend, source: &StaticSource) -> Syncer {
    Syncer::builder(b.clone())
        .source(source.clone())
        .mappings(mappings())
        .concurrency(4)
        .build()
}

fn entrata(f: Facts) -> StaticSource {
    StaticSource::new("entrata", Scope::Source(Source::Entrata), f)
}

#[tokio::test]
async fn plan_is_a_dry_run_and_apply_converges_then_nothing_to_do() {
    let b = brivo();
    let s = syncer(&b, &entrata(two_residents()));
    let now = at(2026, 3, 1, 12);

    let dry = s.plan(now).await.unwrap();
    assert_eq!(b.calls().writes, 0, "a dry run writes nothing");
    assert!(b.users().is_empty());
    assert_eq!(dry.plan.actions.len(), 4, "{}", dry.plan);
    assert_eq!(dry.inputs.leases, 2);

    let report = s.apply(&dry.plan).await.unwrap();
    assert!(report.is_success(), "{:?}", report.results);
    assert_eq!(report.results.len(), 4);
    // 2 lookups before create + 1 observation; 2 creates + 2 group changes.
    assert_eq!(report.calls.writes, 4);
    assert_eq!(report.calls.reads, 3);
    assert_eq!(b.members_of(RESIDENTS).len(), 2);
    assert_eq!(b.members_of(GYM).len(), 2);

    let again = s.sync_once(now).await.unwrap();
    assert!(again.plan.is_empty(), "{}", again.plan);
    assert_eq!(again.calls.writes, 0, "a second run makes zero writes");
}

#[tokio::test]
async fn progress_is_reported_per_action() {
    let b = brivo();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = Syncer::builder(b.clone())
        .source(entrata(two_residents()))
        .mappings(mappings())
        .on_progress({
            let seen = seen.clone();
            move |done, total| seen.lock().unwrap().push((done, total))
        })
        .build();
    s.sync_once(at(2026, 3, 1, 12)).await.unwrap();
    assert_eq!(*seen.lock().unwrap(), vec![(1, 4), (2, 4), (3, 4), (4, 4)]);
}

#[tokio::test]
async fn a_stale_plan_is_refused_unless_replanning_is_asked() {
    let b = brivo();
    let s = syncer(&b, &entrata(two_residents()));
    let now = at(2026, 3, 1, 12);
    let dry = s.plan(now).await.unwrap();

    // Someone edits Brivo between plan and apply.
    b.add_user(
        Some("sync:entrata:11"),
        Profile::new("Ada", "Resident"),
        &[],
    );
    let err = s.apply(&dry.plan).await.unwrap_err();
    assert!(matches!(err, SyncError::Stale(_)), "{err}");
    assert_eq!(b.calls().writes, 0);

    let report = s
        .apply_with(&dry.plan, ApplyOptions::replanning())
        .await
        .unwrap();
    assert!(report.replanned);
    assert!(report.is_success());
    assert_eq!(b.users().len(), 2, "Ada was not created twice");
    assert!(s.sync_once(now).await.unwrap().plan.is_empty());
}

#[tokio::test]
async fn a_failed_source_revokes_nothing() {
    let b = brivo();
    let former = b.add_user(
        Some("sync:entrata:50"),
        Profile::new("Fay", "Former"),
        &[RESIDENTS],
    );
    let source = entrata(facts(vec![]));
    source.fail("HTTP 500 from getLeases");
    let s = syncer(&b, &source);

    let report = s.sync_once(at(2026, 3, 1, 12)).await.unwrap();
    assert!(report.plan.actions.is_empty(), "{}", report.plan);
    assert!(
        report
            .plan
            .held
            .iter()
            .any(|h| h.user == UserRef::Existing(former)
                && matches!(h.rule, HoldRule::Incomplete { .. })),
        "{}",
        report.plan
    );
    let error = report.sources[0].error.as_ref().expect("the fetch failed");
    assert_eq!(error.to_string(), "entrata: HTTP 500 from getLeases");
    assert_eq!(error.kind(), ErrorKind::Other);
    assert_eq!(b.members_of(RESIDENTS), vec![former]);

    // Once the source answers (with no lease for Fay), she leaves the group.
    source.set_facts(facts(vec![]));
    s.sync_once(at(2026, 3, 1, 12)).await.unwrap();
    assert!(b.members_of(RESIDENTS).is_empty());
}

#[tokio::test]
async fn a_failed_observation_means_no_plan_and_no_writes() {
    let b = brivo();
    b.fail_observe(true);
    let audit = Arc::new(MemoryAudit::new());
    let s = Syncer::builder(b.clone())
        .source(entrata(two_residents()))
        .mappings(mappings())
        .audit_arc(audit.clone())
        .build();
    let err = s.sync_once(at(2026, 3, 1, 12)).await.unwrap_err();
    assert!(matches!(err, SyncError::Observe(_)));
    assert_eq!(b.calls().writes, 0);
    let records = audit.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].kind, RunKind::Failed);
    assert!(records[0].plan.is_none());
}

#[tokio::test]
async fn unowned_users_and_unmanaged_groups_are_untouched() {
    let b = brivo();
    let sam = b.add_user(None, Profile::new("Sam", "Staff"), &[STAFF]);
    let terry = b.add_user(None, Profile::new("Terry", "Tech"), &[STAFF, RESIDENTS]);
    let s = syncer(&b, &entrata(two_residents()));
    s.sync_once(at(2026, 3, 1, 12)).await.unwrap();
    let users = b.users();
    let sam_after = users.iter().find(|u| u.id == sam).unwrap();
    let terry_after = users.iter().find(|u| u.id == terry).unwrap();
    assert_eq!(sam_after.groups, [STAFF].into_iter().collect());
    assert_eq!(
        terry_after.groups,
        [STAFF].into_iter().collect(),
        "only the managed membership goes"
    );
    assert_eq!(terry_after.profile, Profile::new("Terry", "Tech"));
    assert_eq!(b.members_of(STAFF), vec![sam, terry]);
}

#[tokio::test]
async fn one_failure_never_stops_the_others_and_backs_off_per_user() {
    let b = brivo();
    let source = entrata(two_residents());
    let s = Syncer::builder(b.clone())
        .source(source.clone())
        .mappings(mappings())
        .retry_base(Duration::from_secs(60))
        .build();
    b.fail_create("sync:entrata:11");
    let now = at(2026, 3, 1, 12);
    let report = s.sync_once(now).await.unwrap();
    assert_eq!(report.failed(), 1, "{:?}", report.results);
    assert_eq!(
        report.skipped(),
        1,
        "Ada's group change is skipped: her create failed"
    );
    assert_eq!(report.succeeded(), 2, "Bob is created and added regardless");
    let skipped = report
        .results
        .iter()
        .find(|r| matches!(r.outcome, Outcome::Skipped { .. }))
        .unwrap();
    assert!(skipped.action.contains("sync:entrata:11"), "{skipped:?}");
    assert!(b.user_by_external_id("sync:entrata:22").is_some());

    // Within the backoff window Ada is not retried; after it, she is, and succeeds.
    b.clear_failures();
    let soon = s
        .sync_once(now + chrono::Duration::seconds(30))
        .await
        .unwrap();
    assert_eq!(soon.skipped(), 2, "{:?}", soon.results);
    assert_eq!(soon.calls.writes, 0);
    let later = s
        .sync_once(now + chrono::Duration::seconds(61))
        .await
        .unwrap();
    assert!(later.is_success(), "{:?}", later.results);
    assert_eq!(later.results.len(), 2);
    assert_eq!(b.members_of(RESIDENTS).len(), 2);
}

#[tokio::test]
async fn a_restarted_runner_keeps_its_backoffs_and_budget_window_in_the_run_state() {
    let path =
        std::env::temp_dir().join(format!("access-sync-backoff-{}.sqlite", fastrand::u64(..)));
    let b = brivo();
    let source = entrata(two_residents());
    let runner = |state| {
        Syncer::builder(b.clone())
            .source(source.clone())
            .mappings(mappings())
            .retry_base(Duration::from_secs(60))
            .state(state, "acme")
            .build()
    };
    b.fail_create("sync:entrata:11");
    let now = at(2026, 3, 1, 12);
    let first = runner(access_state::SqliteState::open(&path).await.unwrap());
    assert_eq!(first.sync_once(now).await.unwrap().failed(), 1);
    drop(first);
    b.clear_failures();
    // A new process 30 s later still backs off Ada; Bob is done already.
    let again = runner(access_state::SqliteState::open(&path).await.unwrap());
    let soon = again
        .sync_once(now + chrono::Duration::seconds(30))
        .await
        .unwrap();
    assert_eq!(soon.skipped(), 2, "{:?}", soon.results);
    assert!(soon.results.iter().all(
        |r| matches!(&r.outcome, Outcome::Skipped { reason } if reason.contains("backing off"))
    ));
    let later = again
        .sync_once(now + chrono::Duration::seconds(61))
        .await
        .unwrap();
    assert!(later.is_success(), "{:?}", later.results);
    drop(again);
    // The Brivo calls of every run are in the 30-day window of the store.
    let store = access_state::SqliteState::open(&path).await.unwrap();
    let month = access_state::RunState::calls_since(
        &store,
        "acme",
        "brivo",
        Utc::now() - chrono::Duration::days(30),
    )
    .await
    .unwrap();
    assert!(month >= 4, "{month} calls counted");
    std::fs::remove_file(&path).ok();
}

#[tokio::test]
async fn a_directory_that_empties_and_a_location_that_vanishes_revoke_nobody() {
    let b = brivo();
    let (members, desk) = (GroupId(40), GroupId(41));
    b.add_group(members, "Directory members");
    b.add_group(desk, "Coworking");
    let mut m = mappings();
    m.directories.insert("D".into(), vec![members]);
    m.locations.insert("L".into(), vec![desk]);
    m.plans.insert("plan".into(), vec![desk]);
    let mut f = two_residents();
    for u in ["u1", "u2", "u3"] {
        f.directory_users.push(DirectoryUser::new(
            "D",
            u,
            Profile::new(u, "Dir"),
            DirectoryState::Active,
        ));
    }
    f.locations.push(Location::new("L", "America/Denver"));
    f.members
        .push(Member::new("m1", Profile::new("Mia", "Member")));
    f.memberships.push(
        Membership::new("ms1", "plan", "L", MembershipStatus::Active)
            .with_member("m1")
            .with_start(date(2026, 1, 1)),
    );
    let source = StaticSource::new("all", Scope::Source(Source::Entrata), f.clone());
    let s = Syncer::builder(b.clone())
        .source(source.clone())
        .mappings(m)
        .build();
    let now = at(2026, 3, 1, 12);
    assert!(s.sync_once(now).await.unwrap().is_success());
    assert_eq!(b.members_of(members).len(), 3);
    assert_eq!(b.members_of(desk).len(), 1);

    // The directory answers with nobody, and the location is gone from the batch.
    let mut vanished = f;
    vanished.directory_users.clear();
    vanished.locations.clear();
    source.set_facts(vanished);
    let report = s.sync_once(now).await.unwrap();
    assert_eq!(report.plan.group_changes(), 0, "{}", report.plan);
    let text = report.plan.to_string();
    assert!(
        text.contains("directory D names no one any more; the last run's facts named 3"),
        "{text}"
    );
    // Its membership names the missing location: held as incomplete.
    assert!(text.contains("location L is not in the batch"), "{text}");
    assert!(
        report
            .plan
            .held
            .iter()
            .any(|h| h.item == HeldItem::RemoveGroup(desk)
                && h.rule
                    == HoldRule::Incomplete {
                        scope: Scope::Location("L".into())
                    }),
        "{text}"
    );
    assert_eq!(b.members_of(members).len(), 3, "nobody revoked");
    assert_eq!(b.members_of(desk).len(), 1, "nobody revoked");
}

/// A backend that hides one external id from observation, as if a create
/// had timed out after Brivo acted.
struct HidesUser {
    inner: MemoryBackend,
    hidden: String,
}

#[async_trait]
impl AccessBackend for HidesUser {
    async fn observe(&self, scope: &ObserveScope) -> Result<Observed, BackendError> {
        let mut o = self.inner.observe(scope).await?;
        o.users
            .retain(|u| u.external_id.as_deref() != Some(&self.hidden));
        Ok(o)
    }
    async fn find_user(&self, e: &str) -> Result<Option<BrivoUserId>, BackendError> {
        self.inner.find_user(e).await
    }
    async fn create_user(&self, e: &str, p: &Profile) -> Result<BrivoUserId, BackendError> {
        self.inner.create_user(e, p).await
    }
    async fn update_user(&self, u: BrivoUserId, up: UserUpdate<'_>) -> Result<(), BackendError> {
        self.inner.update_user(u, up).await
    }
    async fn set_suspended(&self, u: BrivoUserId, s: bool) -> Result<(), BackendError> {
        self.inner.set_suspended(u, s).await
    }
    async fn change_groups(
        &self,
        u: BrivoUserId,
        a: &[GroupId],
        r: &[GroupId],
    ) -> Result<GroupsApplied, BackendError> {
        self.inner.change_groups(u, a, r).await
    }
    async fn delete_user(&self, u: BrivoUserId) -> Result<(), BackendError> {
        self.inner.delete_user(u).await
    }
    fn calls(&self) -> CallCounts {
        self.inner.calls()
    }
}

#[tokio::test]
async fn create_looks_up_the_external_id_first() {
    let b = brivo();
    let ada = b.add_user(
        Some("sync:entrata:11"),
        Profile::new("Ada", "Resident"),
        &[],
    );
    let s = Syncer::builder(HidesUser {
        inner: b.clone(),
        hidden: "sync:entrata:11".into(),
    })
    .source(entrata(two_residents()))
    .mappings(mappings())
    .build();
    let report = s.sync_once(at(2026, 3, 1, 12)).await.unwrap();
    assert!(report.is_success());
    assert_eq!(b.users().len(), 2, "no duplicate Ada");
    assert_eq!(b.members_of(RESIDENTS).len(), 2);
    assert!(b.members_of(RESIDENTS).contains(&ada));
    // Creates run in the plan's (key-derived) order: find Ada's.
    let create = report
        .results
        .iter()
        .find(|r| r.action.contains("create") && r.action.contains("sync:entrata:11"))
        .expect("Ada's create is reported");
    assert!(
        matches!(&create.outcome, Outcome::Ok { note: Some(n) } if n.contains("already existed")),
        "{create:?}"
    );
}

#[tokio::test]
async fn mass_revocations_are_held() {
    let b = brivo();
    for i in 0..5 {
        b.add_user(
            Some(&format!("sync:entrata:{i}")),
            Profile::new("X", "Y"),
            &[RESIDENTS],
        );
    }
    let mut policy = Policy::default();
    policy.revocation_threshold.max_count = Some(3);
    let s = Syncer::builder(b.clone())
        .source(entrata(facts(vec![])))
        .mappings(mappings())
        .policy(policy)
        .build();
    let report = s.sync_once(at(2026, 3, 1, 12)).await.unwrap();
    assert!(report.plan.actions.is_empty(), "{}", report.plan);
    assert_eq!(report.plan.held.len(), 5);
    assert!(
        report
            .plan
            .held
            .iter()
            .all(|h| matches!(h.rule, HoldRule::MassRevocation { .. }))
    );
    assert_eq!(b.members_of(RESIDENTS).len(), 5);
}

#[tokio::test(start_paused = true)]
async fn the_run_loop_wakes_exactly_at_next_change() {
    let b = brivo();
    // Move-in 2026-03-10: 10:00 EDT = 14:00Z (DST began 03-08).
    let source = entrata(facts(vec![lease(
        "1",
        LeaseStatus::Future,
        date(2026, 3, 10),
        "11",
        "Ada",
    )]));
    let audit = Arc::new(MemoryAudit::new());
    let start = at(2026, 3, 10, 9);
    let s = Syncer::builder(b.clone())
        .source(source)
        .mappings(mappings())
        .clock(TokioClock::starting_at(start))
        .poll_interval(Duration::from_secs(24 * 3600))
        .audit_arc(audit.clone())
        .build();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let mut tx = Some(tx);
    let mut runs: Vec<(DateTime<Utc>, usize)> = Vec::new();
    s.run_with(
        async {
            let _ = rx.await;
        },
        |event| {
            if let RunEvent::Synced(r) = event {
                runs.push((r.plan.now, r.plan.actions.len()));
                if runs.len() == 2
                    && let Some(tx) = tx.take()
                {
                    let _ = tx.send(());
                }
            }
        },
    )
    .await;
    // First run at 09:00Z creates nothing yet (window not open), the second at 14:00Z.
    assert_eq!(runs[0].0, start);
    assert_eq!(runs[1].0, at(2026, 3, 10, 14));
    assert!(runs[1].1 > 0);
    assert_eq!(b.members_of(RESIDENTS).len(), 1);
    assert_eq!(
        audit
            .records()
            .iter()
            .filter(|r| r.kind == RunKind::Apply)
            .count(),
        2
    );
}

#[tokio::test(start_paused = true)]
async fn the_run_loop_backs_off_after_failures_and_stops_on_shutdown() {
    let b = brivo();
    b.fail_observe(true);
    let start = at(2026, 3, 1, 12);
    let s = Syncer::builder(b.clone())
        .source(entrata(two_residents()))
        .mappings(mappings())
        .clock(TokioClock::starting_at(start))
        .retry_base(Duration::from_secs(10))
        .poll_interval(Duration::from_secs(3600))
        .build();
    let clock = TokioClock::starting_at(start);
    let mut failed_at = Vec::new();
    s.run_with(tokio::time::sleep(Duration::from_secs(75)), |e| {
        if let RunEvent::Failed(_) = e {
            failed_at.push((clock.now() - start).num_seconds());
        }
    })
    .await;
    // 0, +10, +20, +40 (70 s), next would be +80 (150 s): after shutdown.
    assert_eq!(failed_at, vec![0, 10, 30, 70]);
}

#[tokio::test(start_paused = true)]
async fn the_waker_triggers_an_immediate_run() {
    let b = brivo();
    let source = entrata(facts(vec![]));
    let start = at(2026, 3, 1, 12);
    let s = Syncer::builder(b.clone())
        .source(source.clone())
        .mappings(mappings())
        .clock(TokioClock::starting_at(start))
        .poll_interval(Duration::from_secs(3600))
        .build();
    let waker = s.waker();
    let runner = tokio::spawn({
        let s = s.clone();
        async move { s.run(tokio::time::sleep(Duration::from_secs(100))).await }
    });
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(b.users().is_empty());
    source.set_facts(two_residents()); // a webhook says something changed
    waker.notify_one();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(b.members_of(RESIDENTS).len(), 2);
    runner.await.unwrap();
}

/// A webhook of one service reads that service again, not the others: an
/// OfficeRnD booking must not spend Entrata's daily allowance.
#[tokio::test(start_paused = true)]
async fn a_source_waker_reads_that_source_only() {
    let b = brivo();
    let entrata_source = entrata(two_residents());
    let coworking = StaticSource::new(
        "officernd",
        Scope::Source(Source::OfficeRnd),
        Facts::default(),
    );
    let start = at(2026, 3, 1, 12);
    let s = Syncer::builder(b.clone())
        .source(entrata_source.clone())
        .source(coworking.clone())
        .mappings(mappings())
        .clock(TokioClock::starting_at(start))
        .poll_interval(Duration::from_secs(3600))
        .build();
    let wake = s.waker_for("officernd").unwrap();
    let runner = tokio::spawn({
        let s = s.clone();
        async move { s.run(tokio::time::sleep(Duration::from_secs(100))).await }
    });
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!((entrata_source.fetches(), coworking.fetches()), (1, 1));
    wake.notify_one();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!((entrata_source.fetches(), coworking.fetches()), (1, 2));
    s.waker().notify_one(); // the general waker reads both
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!((entrata_source.fetches(), coworking.fetches()), (2, 3));
    runner.await.unwrap();
}

#[tokio::test]
async fn the_audit_log_has_one_json_line_per_run() {
    let dir = std::env::temp_dir().join(format!("access-sync-audit-{}", std::process::id()));
    let path = dir.join("audit.jsonl");
    let _ = std::fs::remove_file(&path);
    let b = brivo();
    let s = Syncer::builder(b.clone())
        .source(entrata(two_residents()))
        .mappings(mappings())
        .audit(JsonLinesAudit::open(&path).unwrap())
        .build();
    let now = at(2026, 3, 1, 12);
    let dry = s.plan(now).await.unwrap();
    s.apply(&dry.plan).await.unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["kind"], "plan");
    assert_eq!(lines[1]["kind"], "apply");
    assert_eq!(
        lines[1]["inputs"],
        serde_json::Value::Null,
        "apply of a saved plan fetches nothing"
    );
    assert_eq!(lines[0]["inputs"]["leases"], 2);
    assert_eq!(lines[1]["results"].as_array().unwrap().len(), 4);
    assert_eq!(lines[1]["results"][0]["outcome"]["status"], "ok");
    assert_eq!(lines[1]["calls"]["writes"], 4);
    assert!(lines[1]["plan"]["actions"][0]["reasons"][0].is_object());
    let _ = std::fs::remove_dir_all(&dir);
}

struct Feed(Vec<access_sync::DirectoryRecord>, Vec<String>);

#[async_trait]
impl DirectoryFeed for Feed {
    fn directory_id(&self) -> &str {
        "hq"
    }
    async fn list_users(&self) -> Result<DirectoryListing, SourceError> {
        let mut l = DirectoryListing::default();
        l.users = self.0.clone();
        l.skipped = self.1.clone();
        Ok(l)
    }
}

#[tokio::test]
async fn directory_lifecycles_and_a_skipped_record_holds_revocations() {
    let b = brivo();
    let mut m = Mappings::default();
    m.directories.insert("hq".into(), vec![RESIDENTS]);
    let rec = |id: &str, state| DirectoryRecord::new(id, Profile::new("D", id), state);
    let now = at(2026, 3, 1, 12);
    for state in [DirectoryState::Active, DirectoryState::Suspended] {
        let feed = Feed(
            vec![rec("a", DirectoryState::Active), rec("s", state)],
            vec![],
        );
        let s = Syncer::builder(b.clone())
            .source(DirectorySource::new(feed))
            .mappings(m.clone())
            .build();
        assert!(s.sync_once(now).await.unwrap().is_success());
    }
    let a = b.user_by_external_id("sync:directory:hq:a").unwrap();
    let susp = b.user_by_external_id("sync:directory:hq:s").unwrap();
    assert!(a.groups.contains(&RESIDENTS) && !a.suspended);
    assert!(
        susp.suspended,
        "Suspended in the directory: suspended in Brivo"
    );

    // A is disabled, but a record was unreadable: nothing is revoked.
    let feed = Feed(
        vec![
            rec("a", DirectoryState::Disabled),
            rec("s", DirectoryState::Suspended),
        ],
        vec!["user 17: bad email".into()],
    );
    let s = Syncer::builder(b.clone())
        .source(DirectorySource::new(feed))
        .mappings(m)
        .build();
    let r = s.sync_once(now).await.unwrap();
    assert!(r.plan.held.iter().any(|h| matches!(&h.rule, HoldRule::Incomplete { scope } if *scope == Scope::Directory("hq".into()))), "{}", r.plan);
    assert!(
        b.user_by_external_id("sync:directory:hq:a")
            .unwrap()
            .groups
            .contains(&RESIDENTS)
    );
}

#[tokio::test]
async fn it_lifts_only_the_suspensions_it_made_and_holds_one_made_by_hand() {
    let b = brivo();
    let state: Arc<dyn access_state::RunState> = Arc::new(access_state::MemoryState::new());
    let mut m = Mappings::default();
    m.directories.insert("hq".into(), vec![RESIDENTS]);
    let now = at(2026, 3, 1, 12);
    let syncer = |a: DirectoryState, s: DirectoryState| {
        let rec = |id: &str, state| DirectoryRecord::new(id, Profile::new("D", id), state);
        Syncer::builder(b.clone())
            .source(DirectorySource::new(Feed(
                vec![rec("a", a), rec("s", s)],
                vec![],
            )))
            .mappings(m.clone())
            .state_arc(state.clone(), "t")
            .build()
    };
    use DirectoryState::{Active, Suspended};
    assert!(
        syncer(Active, Active)
            .sync_once(now)
            .await
            .unwrap()
            .is_success()
    );
    // the directory suspends s: the runner does, and records that it did
    assert!(
        syncer(Active, Suspended)
            .sync_once(now)
            .await
            .unwrap()
            .is_success()
    );
    let s_id = b.user_by_external_id("sync:directory:hq:s").unwrap().id;
    let a_id = b.user_by_external_id("sync:directory:hq:a").unwrap().id;
    assert!(
        b.user_by_external_id("sync:directory:hq:s")
            .unwrap()
            .suspended
    );

    // an operator suspends a by hand in Brivo; s is active again
    b.set_suspended(a_id, true).await.unwrap();
    let r = syncer(Active, Active).sync_once(now).await.unwrap();
    assert!(
        !b.user_by_external_id("sync:directory:hq:s")
            .unwrap()
            .suspended,
        "its own suspension is lifted"
    );
    assert!(
        b.user_by_external_id("sync:directory:hq:a")
            .unwrap()
            .suspended,
        "the manual one stands"
    );
    let held = r
        .plan
        .held
        .iter()
        .find(|h| h.item == HeldItem::Unsuspend)
        .expect("the unsuspension is held and says so");
    assert_eq!(held.user, UserRef::Existing(a_id));
    let id = held.rule.approval().unwrap();
    assert_eq!(id, format!("unsuspend:{}", a_id.0));
    // and again on the next run: a standing hold, not a one-off
    let r = syncer(Active, Active).sync_once(now).await.unwrap();
    assert!(r.plan.held.iter().any(|h| h.item == HeldItem::Unsuspend));
    assert!(
        !r.plan
            .actions
            .iter()
            .any(|a| matches!(a, Action::Unsuspend { .. }))
    );

    // the operator approves: lifted once
    let s = syncer(Active, Active);
    s.approve(&id, "ops").await.unwrap();
    let r = s.sync_once(now).await.unwrap();
    assert!(r.is_success());
    assert!(
        !b.user_by_external_id("sync:directory:hq:a")
            .unwrap()
            .suspended
    );
    assert_ne!(s_id, a_id);
}

#[tokio::test]
async fn a_refused_invitation_never_holds_back_the_users_revocations() {
    let b = brivo();
    // a backend without Mobile Pass: every invitation fails
    let no_passes = HidesUser {
        inner: b.clone(),
        hidden: String::new(),
    };
    let with_email = |l: Lease| {
        let mut l = l;
        let c = &mut l.customers[0];
        c.profile = c
            .profile
            .clone()
            .with_email(format!("{}@example.com", c.id));
        l
    };
    // Bob moves out on March 1st, at 16:00 in New York (21:00Z)
    let f = facts(vec![
        with_email(lease(
            "1",
            LeaseStatus::Current,
            date(2026, 1, 1),
            "11",
            "Ada",
        )),
        with_email(
            lease("2", LeaseStatus::Notice, date(2026, 1, 1), "22", "Bob")
                .with_move_out(date(2026, 3, 1)),
        ),
    ]);
    let state: Arc<dyn access_state::RunState> = Arc::new(access_state::MemoryState::new());
    // the users exist (made before invitations were turned on)
    let plain = Syncer::builder(b.clone())
        .source(entrata(f.clone()))
        .mappings(mappings())
        .state_arc(state.clone(), "t")
        .build();
    assert!(
        plain
            .sync_once(Utc.with_ymd_and_hms(2026, 3, 1, 20, 0, 0).unwrap())
            .await
            .unwrap()
            .is_success()
    );
    let mut p = Policy::default();
    p.invite_mobile_pass = true;
    let s = Syncer::builder(no_passes)
        .source(entrata(f))
        .mappings(mappings())
        .policy(p)
        .state_arc(state, "t")
        // a failure would keep the user waiting ten minutes
        .retry_base(Duration::from_secs(600))
        .build();
    let before = Utc.with_ymd_and_hms(2026, 3, 1, 20, 59, 0).unwrap();
    let r = s.sync_once(before).await.unwrap();
    assert!(
        r.results
            .iter()
            .any(|x| x.action.starts_with("invite") && matches!(x.outcome, Outcome::Failed { .. }))
    );
    assert!(
        b.user_by_external_id("sync:entrata:22")
            .unwrap()
            .groups
            .contains(&RESIDENTS)
    );

    // two minutes later his revocation goes out at once, not after a backoff
    let r = s
        .sync_once(before + chrono::Duration::minutes(2))
        .await
        .unwrap();
    assert!(
        !r.results.iter().any(
            |x| matches!(&x.outcome, Outcome::Skipped { reason } if reason.contains("backing off"))
        ),
        "{:#?}",
        r.results
    );
    assert!(
        !b.user_by_external_id("sync:entrata:22")
            .unwrap()
            .groups
            .contains(&RESIDENTS)
    );
}

/// A source that takes ten minutes to answer.
struct Slow(StaticSource);

#[async_trait]
impl FactSource for Slow {
    fn name(&self) -> &str {
        "slow"
    }
    fn scope(&self) -> Scope {
        Scope::Source(Source::Entrata)
    }
    async fn fetch(&self, now: DateTime<Utc>) -> Result<SourceBatch, SourceError> {
        tokio::time::sleep(Duration::from_secs(600)).await;
        self.0.fetch(now).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_slow_run_still_wakes_at_next_change_not_later() {
    let b = brivo();
    let source = entrata(facts(vec![lease(
        "1",
        LeaseStatus::Future,
        date(2026, 3, 10),
        "11",
        "Ada",
    )]));
    let start = at(2026, 3, 10, 9);
    let clock = TokioClock::starting_at(start);
    let s = Syncer::builder(b.clone())
        .source(Slow(source))
        .mappings(mappings())
        .clock(clock)
        .poll_interval(Duration::from_secs(24 * 3600))
        .build();
    let mut started: Vec<DateTime<Utc>> = Vec::new();
    s.run_with(tokio::time::sleep(Duration::from_secs(6 * 3600)), |e| {
        if let RunEvent::Synced(r) = e {
            started.push(r.plan.now);
        }
    })
    .await;
    // Runs start at 09:00 and at 14:00 (10:00 EDT), each taking ten minutes.
    assert_eq!(started, vec![start, at(2026, 3, 10, 14)]);
    assert_eq!(b.members_of(RESIDENTS).len(), 1);
}

const POOL: GroupId = GroupId(9); // managed: property 200

/// Ada (owned, lease 1 at property 100) is in the Pool group of property
/// 200, which she should leave, and in `unmanaged` groups the integration
/// does not manage. Returns the backend, her id and a syncer.
fn ada_with_unmanaged_groups(
    unmanaged: i64,
) -> (MemoryBackend, BrivoUserId, Syncer, Arc<MemoryAudit>) {
    let b = brivo();
    b.add_group(POOL, "Pool");
    let ada = b.add_user(
        Some("sync:entrata:11"),
        Profile::new("Ada", "Resident"),
        &[POOL],
    );
    for g in 100..100 + unmanaged {
        b.add_group(GroupId(g), format!("Other {g}"));
        b.put_in_group(ada, GroupId(g));
    }
    let mut m = mappings();
    m.properties.insert("200".into(), vec![POOL]);
    let mut f = facts(vec![lease(
        "1",
        LeaseStatus::Current,
        date(2026, 1, 1),
        "11",
        "Ada",
    )]);
    f.properties.push(Property::new("200", "America/New_York"));
    let audit = Arc::new(MemoryAudit::new());
    let s = Syncer::builder(b.clone())
        .source(entrata(f))
        .mappings(m)
        .audit_arc(audit.clone())
        .build();
    (b, ada, s, audit)
}

fn groups_of(b: &MemoryBackend, user: BrivoUserId) -> Vec<GroupId> {
    b.users()
        .into_iter()
        .find(|u| u.id == user)
        .map(|u| u.groups.into_iter().collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn removals_go_through_when_additions_hit_the_group_cap() {
    // 1 managed (Pool) + 15 unmanaged = 16; -Pool +Residents +Gym = 17.
    let (b, ada, s, audit) = ada_with_unmanaged_groups(15);
    let unmanaged: Vec<GroupId> = (100..115).map(GroupId).collect();
    let now = at(2026, 3, 1, 12);

    let report = s.sync_once(now).await.unwrap();
    assert_eq!(report.plan.actions.len(), 1, "{:?}", report.plan.actions);
    assert!(
        report.plan.held.is_empty(),
        "the engine counts managed groups only"
    );
    let Outcome::Held { note, held } = &report.results[0].outcome else {
        panic!("{:?}", report.results);
    };
    assert!(note.starts_with("removed -[9]; held +[7,8]:"), "{note}");
    assert!(
        note.contains("in 16 groups (15 not managed by this integration)"),
        "{note}"
    );
    assert!(
        note.contains("would make 17, over the limit of 16"),
        "{note}"
    );
    assert_eq!(held, &report.held);
    let items: Vec<HeldItem> = report.held.iter().map(|h| h.item.clone()).collect();
    assert_eq!(
        items,
        [HeldItem::AddGroup(RESIDENTS), HeldItem::AddGroup(GYM)]
    );
    for h in &report.held {
        assert_eq!(h.user, UserRef::Existing(ada));
        assert_eq!(
            h.rule,
            HoldRule::TooManyGroups {
                desired: 17,
                max: 16
            }
        );
        assert!(!h.reasons.is_empty(), "the plan's reasons are kept");
    }
    assert_eq!(groups_of(&b, ada), unmanaged, "Pool removed, nothing added");
    assert_eq!(
        (report.failed(), report.held_back(), report.is_success()),
        (0, 1, false)
    );
    // observe, the refused call, the re-read, the removal alone
    assert_eq!((report.calls.reads, report.calls.writes), (2, 2));
    let record = audit.records().pop().unwrap();
    assert_eq!(record.held, report.held);
    let line = serde_json::to_value(&record).unwrap();
    assert_eq!(line["results"][0]["outcome"]["status"], "held");
    assert_eq!(line["held"][0]["rule"]["TooManyGroups"]["max"], 16);

    // The next run tries the additions again (no backoff, nothing
    // remembered), and does not send the removal again.
    let again = s
        .sync_once(now + chrono::Duration::minutes(1))
        .await
        .unwrap();
    let Action::ChangeGroups { add, remove, .. } = &again.plan.actions[0] else {
        panic!("{:?}", again.plan.actions);
    };
    assert_eq!((add.len(), remove.len()), (2, 0));
    let Outcome::Held { note, .. } = &again.results[0].outcome else {
        panic!("{:?}", again.results);
    };
    assert!(
        note.starts_with("nothing to remove; held +[7,8]:"),
        "{note}"
    );
    assert!(note.contains("in 15 groups (15 not managed"), "{note}");
    assert_eq!(again.held.len(), 2);
    assert_eq!((again.calls.reads, again.calls.writes), (2, 1));
    assert_eq!(groups_of(&b, ada), unmanaged);

    // Once an administrator frees room, the additions go through.
    b.change_groups(ada, &[], &[GroupId(100)]).await.unwrap();
    let room = s
        .sync_once(now + chrono::Duration::minutes(2))
        .await
        .unwrap();
    assert!(room.is_success(), "{:?}", room.results);
    assert!(room.held.is_empty());
    assert_eq!(groups_of(&b, ada).len(), 16);
}

#[tokio::test]
async fn a_refusal_that_is_not_the_cap_is_a_failure_not_a_hold_and_removals_still_go() {
    let (b, ada, s, _) = ada_with_unmanaged_groups(2);
    b.refuse_group_additions(ada);
    let report = s.sync_once(at(2026, 3, 1, 12)).await.unwrap();
    assert_eq!(report.failed(), 1, "{:?}", report.results);
    let Outcome::Failed { error } = &report.results[0].outcome else {
        unreachable!()
    };
    assert_eq!(error.kind(), ErrorKind::Rejected);
    let error = error.to_string();
    assert!(error.contains("400"), "the original error: {error}");
    assert!(report.held.is_empty());
    assert!(
        error.contains("removals were sent alone and applied"),
        "{error}"
    );
    assert_eq!(
        groups_of(&b, ada),
        [GroupId(100), GroupId(101)],
        "the removal applied alone; the additions not (3 - 1 + 2 = 4: room, not the cap)"
    );
    // observe, the refused call, the re-read, then the removal alone
    assert_eq!((report.calls.reads, report.calls.writes), (2, 2));
}

/// A source that panics on its first fetch only.
struct PanicsOnce(StaticSource, std::sync::atomic::AtomicBool);

#[async_trait]
impl FactSource for PanicsOnce {
    fn name(&self) -> &str {
        "panics-once"
    }
    fn scope(&self) -> Scope {
        Scope::Source(Source::Entrata)
    }
    async fn fetch(&self, now: DateTime<Utc>) -> Result<SourceBatch, SourceError> {
        if !self.1.swap(true, std::sync::atomic::Ordering::SeqCst) {
            panic!("source bug: index out of range");
        }
        self.0.fetch(now).await
    }
}

#[tokio::test(start_paused = true)]
async fn a_panic_in_one_run_is_audited_and_the_loop_goes_on() {
    let b = brivo();
    let start = at(2026, 3, 1, 12);
    let audit = Arc::new(MemoryAudit::new());
    let s = Syncer::builder(b.clone())
        .source(PanicsOnce(
            entrata(two_residents()),
            std::sync::atomic::AtomicBool::new(false),
        ))
        .mappings(mappings())
        .clock(TokioClock::starting_at(start))
        .audit_arc(audit.clone())
        .retry_base(Duration::from_secs(10))
        .poll_interval(Duration::from_secs(3600))
        .build();
    let clock = TokioClock::starting_at(start);
    let mut events = Vec::new();
    s.run_with(tokio::time::sleep(Duration::from_secs(60)), |e| match e {
        RunEvent::Failed(e) => events.push(((clock.now() - start).num_seconds(), e.to_string())),
        RunEvent::Synced(_) => events.push(((clock.now() - start).num_seconds(), "synced".into())),
        _ => {}
    })
    .await;
    // failed at 0 with the panic's message, retried after the delay, synced
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0].0, 0);
    assert!(
        events[0].1.contains("panicked") && events[0].1.contains("index out of range"),
        "{}",
        events[0].1
    );
    assert_eq!(events[1], (10, "synced".to_owned()));
    assert_eq!(b.members_of(RESIDENTS).len(), 2);
    let records = audit.records();
    assert_eq!(records[0].kind, RunKind::Failed);
    assert!(
        records[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("index out of range")),
        "{:?}",
        records[0].error
    );
    assert_eq!(records[1].kind, RunKind::Apply);
}

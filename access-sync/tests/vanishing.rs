//! Nothing vanishes silently, end to end against the sandbox: a property
//! that empties, one Entrata stops listing, a source removed from the
//! config, a drop over the share limit (held, then released by a one-run
//! approval), saved plans checked at apply, one runner per account and
//! prefix, two installations side by side, state that survives a restart.

mod common;

use std::time::Duration;

use access_engine::{HoldRule, NoAccessPolicy, Plan, Policy, Scope, Warning};
use access_state::{MemoryState, SqliteState};
use access_sync::{EntrataSource, SyncError, Syncer};
use sandbox::{Sandbox, story};

fn today() -> chrono::DateTime<chrono::Utc> {
    story::instants()[0].1
}

fn groups_of(sb: &Sandbox, external_id: &str) -> Vec<i64> {
    sb.brivo()
        .snapshot()
        .user_by_external_id(external_id)
        .map(|u| u.groups.iter().copied().collect())
        .unwrap_or_default()
}

const ALICE: &str = "sync:entrata:5001";

fn unexpected(plan: &Plan, scope: &Scope) -> bool {
    plan.warnings
        .iter()
        .any(|w| matches!(w, Warning::UnexpectedScope { scope: s, .. } if s == scope))
        && plan
            .held
            .iter()
            .any(|h| matches!(&h.rule, HoldRule::Unexpected { scope: s, .. } if s == scope))
}

#[tokio::test]
async fn a_property_whose_leases_vanish_revokes_nobody_until_approved_for_one_run() {
    let sb = common::start().await;
    let syncer = common::syncer(&sb).build();
    assert!(syncer.sync_once(today()).await.expect("run 1").is_success());
    assert_eq!(groups_of(&sb, ALICE), [7101, 7102]);

    // getLeases for property 100 now answers "No Records Found." (all its
    // leases gone at once): not a mass move-out.
    for lease in ["1001", "1002", "1003", "1004"] {
        sb.entrata().remove_lease(lease);
    }
    let scope = Scope::Property(story::PROPERTY_NY.into());
    let report = syncer.sync_once(today()).await.expect("run 2");
    assert!(unexpected(&report.plan, &scope), "{}", report.plan);
    assert!(
        report
            .plan
            .to_string()
            .contains("names no one any more; the last run's facts named"),
        "{}",
        report.plan
    );
    assert_eq!(groups_of(&sb, ALICE), [7101, 7102], "Alice keeps access");

    // The operator approves that scope for one run.
    syncer
        .approve("scope:property:100", "ops@example.com")
        .await
        .expect("approve");
    assert_eq!(syncer.pending_approvals().await.expect("pending").len(), 1);
    let report = syncer.sync_once(today()).await.expect("run 3");
    assert!(report.is_success(), "{:#?}", report.results);
    assert!(groups_of(&sb, ALICE).is_empty(), "revoked once approved");
    assert_eq!(report.plan.meta.approvals, ["scope:property:100"]);
    assert!(
        syncer
            .pending_approvals()
            .await
            .expect("pending")
            .is_empty(),
        "spent"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_property_entrata_stops_listing_is_held_as_absent() {
    let sb = common::start().await;
    let syncer = common::syncer(&sb).build();
    syncer.sync_once(today()).await.expect("run 1");
    let leo = "sync:entrata:5012";
    assert_eq!(groups_of(&sb, leo), [7301]);
    // A permission change: getProperties no longer lists property 300.
    sb.entrata()
        .set_property_permission(story::PROPERTY_LA, false);
    let report = syncer.sync_once(today()).await.expect("run 2");
    let scope = Scope::Property(story::PROPERTY_LA.into());
    assert!(unexpected(&report.plan, &scope), "{}", report.plan);
    assert!(
        report
            .plan
            .to_string()
            .contains("property 300 is mapped but absent from the batch")
    );
    assert_eq!(groups_of(&sb, leo), [7301], "Leo keeps access");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_source_removed_from_the_config_revokes_or_deletes_nobody() {
    let sb = common::start().await;
    common::syncer(&sb)
        .build()
        .sync_once(today())
        .await
        .expect("run 1");
    assert_eq!(groups_of(&sb, ALICE), [7101, 7102]);

    // The Entrata source is gone but its mappings stay: every property is absent.
    let mut policy = Policy::default();
    policy.no_access = NoAccessPolicy::Delete;
    let without_source = Syncer::builder(access_sync::BrivoBackend::new(common::brivo_client(&sb)))
        .mappings(common::mappings())
        .policy(policy.clone())
        .build();
    let report = without_source.sync_once(today()).await.expect("run 2");
    assert!(
        unexpected(&report.plan, &Scope::Property("100".into())),
        "{}",
        report.plan
    );
    assert_eq!(groups_of(&sb, ALICE), [7101, 7102]);

    // Source and mappings both gone: its users are left alone, never deleted.
    let mut mappings = common::mappings();
    mappings.properties.clear();
    let unconfigured = Syncer::builder(access_sync::BrivoBackend::new(common::brivo_client(&sb)))
        .mappings(mappings)
        .policy(policy)
        .build();
    let report = unconfigured.sync_once(today()).await.expect("run 3");
    assert!(
        report
            .plan
            .held
            .iter()
            .any(|h| matches!(&h.rule, HoldRule::SourceNotConfigured { .. })),
        "{}",
        report.plan
    );
    assert!(
        sb.brivo().snapshot().user_by_external_id(ALICE).is_some(),
        "Alice is not deleted"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_drop_over_the_share_limit_is_held_and_released_by_a_one_run_approval() {
    let sb = common::start().await;
    let mut policy = Policy::default();
    // The storyline's properties are small: a drop of 2 of 3 is over 25 %.
    policy.revocation_threshold.scope_drop_floor = 2;
    let syncer = common::syncer(&sb).policy(policy).build();
    syncer.sync_once(today()).await.expect("run 1");
    // Two of property 100's three residents with access (Alice, Bob, Evan) vanish.
    sb.entrata().remove_lease("1003");
    let mut lease = sb.entrata().lease("1001").expect("lease 1001");
    lease["customers"]["customer"]
        .as_array_mut()
        .expect("customers")
        .retain(|c| c["id"] != 5001);
    sb.entrata().upsert_lease(lease);
    let report = syncer.sync_once(today()).await.expect("run 2");
    assert!(
        report
            .plan
            .to_string()
            .contains("property 100 dropped from"),
        "{}",
        report.plan
    );
    assert_eq!(groups_of(&sb, ALICE), [7101, 7102]);
    let id = report.plan.held[0].rule.approval().expect("approvable");
    assert_eq!(id, "scope:property:100");
    syncer.approve(&id, "ops").await.expect("approve");
    syncer.sync_once(today()).await.expect("run 3");
    assert!(groups_of(&sb, ALICE).is_empty());
    sb.shutdown().await;
}

#[tokio::test]
async fn tampered_foreign_and_expired_saved_plans_are_refused() {
    let sb = common::start().await;
    let syncer = common::syncer(&sb)
        .max_plan_age(Duration::from_secs(3600))
        .build();
    let dry = syncer.plan(today()).await.expect("plan");

    // Tampered: a delete of Sam, a staff user the integration does not own.
    let mut tampered = dry.plan.clone();
    tampered.actions.push(access_engine::Action::ChangeGroups {
        user: access_engine::UserRef::Existing(access_engine::BrivoUserId(story::USER_SAM_STAFF)),
        add: Vec::new(),
        remove: vec![access_engine::GroupChange {
            group: access_engine::GroupId(story::GROUP_BUILDING_STAFF),
            reasons: Vec::new(),
        }],
    });
    let err = syncer.apply(&tampered).await.expect_err("tampered");
    assert!(matches!(err, SyncError::Refused(_)), "{err}");
    assert!(err.to_string().contains("does not manage"), "{err}");

    // Made under another policy.
    let other = common::syncer(&sb)
        .policy({
            let mut p = Policy::default();
            p.grace_minutes = 60;
            p
        })
        .build();
    let err = other.apply(&dry.plan).await.expect_err("foreign");
    assert!(err.to_string().contains("another config"), "{err}");

    // Expired: made two hours ago by the runner's clock.
    let mut old = dry.plan.clone();
    old.meta.made_at = Some(chrono::Utc::now() - chrono::Duration::hours(2));
    let err = syncer.apply(&old).await.expect_err("expired");
    assert!(err.to_string().contains("re-plan"), "{err}");
    assert_eq!(sb.brivo_writes(), 0, "nothing was written");

    // The untouched plan applies.
    assert!(syncer.apply(&dry.plan).await.expect("apply").is_success());
    sb.shutdown().await;
}

#[tokio::test]
async fn two_runners_on_one_account_one_acts_the_other_waits() {
    let sb = common::start().await;
    let state = MemoryState::new();
    let a = common::syncer(&sb)
        .state(state.clone(), "acme")
        .holder("runner-a")
        .build();
    let b = common::syncer(&sb)
        .state(state.clone(), "acme")
        .holder("runner-b")
        .build();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (ran, mut first_run) = tokio::sync::mpsc::unbounded_channel::<()>();
    let daemon = {
        let a = a.clone();
        tokio::spawn(async move {
            a.run_with(
                async {
                    stopped.await.ok();
                },
                move |_| {
                    ran.send(()).ok();
                },
            )
            .await;
        })
    };
    first_run.recv().await.expect("a ran");
    let err = b.sync_once(today()).await.expect_err("b must wait");
    match &err {
        SyncError::Locked { holder, .. } => assert_eq!(holder, "runner-a"),
        other => panic!("{other}"),
    }
    stop.send(()).ok();
    daemon.await.expect("daemon stops");
    assert!(
        b.sync_once(today()).await.is_ok(),
        "a released the lock at shutdown"
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn two_installations_on_one_account_never_touch_each_others_users() {
    let sb = common::start().await;
    let mut policy = Policy::default();
    policy.no_access = NoAccessPolicy::Delete;
    let install = |prefix: &str, property: &str| {
        let mut p = policy.clone();
        p.ownership_prefix = prefix.into();
        let mut m = common::mappings();
        m.properties.retain(|k, _| k == property);
        m.plans.clear();
        m.locations.clear();
        m.day_pass_locations.clear();
        m.floors.clear();
        m.resources.clear();
        Syncer::builder(access_sync::BrivoBackend::new(common::brivo_client(&sb)))
            .source(
                EntrataSource::new(common::entrata_client(&sb))
                    .properties([property.parse().expect("id")]),
            )
            .mappings(m)
            .policy(p)
            .build()
    };
    let a = install("sync-aaaa0001", story::PROPERTY_NY);
    let b = install("sync-bbbb0002", story::PROPERTY_LA);
    for _ in 0..2 {
        assert!(a.sync_once(today()).await.expect("a").is_success());
        assert!(b.sync_once(today()).await.expect("b").is_success());
    }
    let s = sb.brivo().snapshot();
    assert_eq!(groups_of(&sb, "sync-aaaa0001:entrata:5001"), [7101, 7102]);
    assert_eq!(groups_of(&sb, "sync-bbbb0002:entrata:5012"), [7301]);
    assert!(
        s.users
            .iter()
            .any(|u| u.external_id.as_deref() == Some("sync-aaaa0001:entrata:5001"))
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_restarted_runner_keeps_the_last_runs_counts() {
    let sb = common::start().await;
    let path = std::env::temp_dir().join(format!("access-sync-test-{}.sqlite", fastrand::u64(..)));
    let first = common::syncer(&sb)
        .state(SqliteState::open(&path).await.expect("sqlite"), "acme")
        .build();
    first.sync_once(today()).await.expect("run");
    drop(first);
    // A new process on the same file: last run's counts are the baseline.
    let again = common::syncer(&sb)
        .state(SqliteState::open(&path).await.expect("sqlite"), "acme")
        .build();
    for lease in ["1001", "1002", "1003", "1004"] {
        sb.entrata().remove_lease(lease);
    }
    let report = again.sync_once(today()).await.expect("run after restart");
    assert!(
        unexpected(&report.plan, &Scope::Property("100".into())),
        "{}",
        report.plan
    );
    assert_eq!(groups_of(&sb, ALICE), [7101, 7102]);
    std::fs::remove_file(&path).ok();
    sb.shutdown().await;
}

#[tokio::test]
async fn a_coworking_location_that_vanishes_revokes_nobody() {
    let sb = common::start().await;
    let syncer = common::syncer(&sb).build();
    syncer.sync_once(today()).await.expect("run 1");
    let olivia = format!("sync:officernd:{}", story::MEMBER_OLIVIA);
    let before = groups_of(&sb, &olivia);
    assert!(before.contains(&story::GROUP_MHW_MEMBERS), "{before:?}");
    // OfficeRnD stops returning the location (deleted, or a permission change).
    assert!(sb.officernd().remove("locations", story::LOCATION_DENVER));
    let report = syncer.sync_once(today()).await.expect("run 2");
    let text = report.plan.to_string();
    assert!(
        text.contains("location 64b00000000000000000a001"),
        "the plan names the location: {text}"
    );
    assert!(!report.plan.held.is_empty(), "{text}");
    assert_eq!(groups_of(&sb, &olivia), before, "Olivia keeps access");
    sb.shutdown().await;
}

/// A Connect-style directory whose users a test can change between runs.
#[derive(Clone, Default)]
struct Feed(std::sync::Arc<std::sync::Mutex<Vec<access_sync::DirectoryRecord>>>);

#[async_trait::async_trait]
impl access_sync::DirectoryFeed for Feed {
    fn directory_id(&self) -> &str {
        "connect-hq"
    }
    async fn list_users(&self) -> Result<access_sync::DirectoryListing, access_sync::SourceError> {
        let mut listing = access_sync::DirectoryListing::default();
        listing.users = self.0.lock().expect("feed").clone();
        Ok(listing)
    }
}

#[tokio::test]
async fn a_directory_that_answers_with_nobody_revokes_nobody() {
    let sb = common::start().await;
    let feed = Feed::default();
    for u in ["u1", "u2", "u3"] {
        feed.0
            .lock()
            .expect("feed")
            .push(access_sync::DirectoryRecord::new(
                u,
                access_engine::Profile::new(u, "Tenant"),
                access_engine::DirectoryState::Active,
            ));
    }
    let mut mappings = common::mappings();
    mappings.directories.insert(
        "connect-hq".into(),
        vec![access_engine::GroupId(story::GROUP_MHW_SUMMIT_ROOM)],
    );
    let syncer = common::syncer(&sb)
        .source(access_sync::DirectorySource::new(feed.clone()))
        .mappings(mappings)
        .build();
    syncer.sync_once(today()).await.expect("run 1");
    let members = |sb: &Sandbox| {
        sb.brivo()
            .snapshot()
            .members_of(story::GROUP_MHW_SUMMIT_ROOM)
            .len()
    };
    assert_eq!(members(&sb), 3);
    // The platform's listing comes back empty (an outage that answers 200).
    feed.0.lock().expect("feed").clear();
    let report = syncer.sync_once(today()).await.expect("run 2");
    assert!(
        unexpected(&report.plan, &Scope::Directory("connect-hq".into())),
        "{}",
        report.plan
    );
    assert_eq!(members(&sb), 3, "nobody revoked");
    sb.shutdown().await;
}

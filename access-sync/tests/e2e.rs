//! End-to-end: the Syncer against the sandbox's real HTTP services (Entrata,
//! OfficeRnD and Brivo on 127.0.0.1), with faults injected.

#![allow(clippy::unwrap_used)] // helpers of tests

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use access_engine::{HoldRule, Policy, Scope, ZoneSource};
use access_sync::{Outcome, SyncError};
use sandbox::{BrivoSnapshot, Fault, Sandbox, story};

fn today() -> chrono::DateTime<chrono::Utc> {
    story::instants()[0].1
}

fn groups_of(s: &BrivoSnapshot, external_id: &str) -> Vec<i64> {
    s.user_by_external_id(external_id)
        .map(|u| u.groups.iter().copied().collect())
        .unwrap_or_default()
}

fn entrata_id(customer: &str) -> String {
    format!("sync:entrata:{customer}")
}

/// Fay Former's groups, by her Brivo id: the sync gives her user (made by
/// a version that keyed residents by property) the resident's id.
fn fay_groups(s: &BrivoSnapshot) -> Vec<i64> {
    let fay = s.user(story::USER_FAY_FORMER).expect("Fay's user is kept");
    fay.groups.iter().copied().collect()
}

/// No external id appears twice.
fn assert_no_duplicates(s: &BrivoSnapshot) {
    let mut seen = BTreeSet::new();
    for u in &s.users {
        if let Some(e) = &u.external_id {
            assert!(seen.insert(e.clone()), "duplicate Brivo user for {e}");
        }
    }
}

/// What the storyline says Brivo holds after a sync at `today()`.
fn assert_today_state(s: &BrivoSnapshot) {
    assert_eq!(groups_of(s, &entrata_id("5001")), vec![7101, 7102], "Alice");
    assert_eq!(groups_of(s, &entrata_id("5002")), vec![7101, 7102], "Bob");
    assert_eq!(groups_of(s, &entrata_id("5009")), vec![7201], "Ivan");
    assert_eq!(groups_of(s, &entrata_id("5012")), vec![7301], "Leo");
    assert!(
        s.user_by_external_id(&entrata_id("5003")).is_none(),
        "a guarantor gets nothing"
    );
    assert!(
        s.user_by_external_id(&entrata_id("5010")).is_none(),
        "Jack moves in next week"
    );
    assert_eq!(
        fay_groups(s),
        Vec::<i64>::new(),
        "Fay (Past lease) left the managed groups"
    );
    assert_eq!(
        s.user(story::USER_FAY_FORMER)
            .unwrap()
            .external_id
            .as_deref(),
        Some(entrata_id(story::CUSTOMER_FORMER).as_str()),
        "Fay's user now carries the resident's id"
    );
    assert_eq!(
        groups_of(s, &format!("sync:officernd:{}", story::MEMBER_MAYA)),
        vec![7401, 7402, 7403, 7408],
        "Maya (company membership, Office 201)"
    );
    assert_eq!(
        groups_of(s, &format!("sync:officernd:{}", story::MEMBER_OLIVIA)),
        vec![7401, 7402, 7404, 7407],
        "Olivia (personal membership, Desk 7)"
    );
    for member in [story::MEMBER_QUINN, story::MEMBER_PETE] {
        assert_eq!(
            groups_of(s, &format!("sync:officernd:{member}")),
            vec![7406],
            "day passes with uses left (Pete's through his company's shared set)"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn converges_in_one_apply_and_a_second_run_makes_zero_writes() {
    let sb = common::start().await;
    let syncer = common::syncer(&sb).build();

    let report = syncer.sync_once(today()).await.unwrap();
    assert!(report.is_success(), "{:#?}", report.results);
    assert!(report.plan.held.is_empty(), "{}", report.plan);
    let s = sb.brivo().snapshot();
    assert_today_state(&s);
    assert_no_duplicates(&s);

    sb.reset_brivo_counters();
    let again = syncer.sync_once(today()).await.unwrap();
    assert!(again.plan.is_empty(), "{}", again.plan);
    assert_eq!(again.calls.writes, 0);
    assert_eq!(sb.brivo_writes(), 0, "the server saw no write either");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unowned_users_and_unmanaged_groups_are_untouched() {
    let sb = common::start().await;
    let before = sb.brivo().snapshot();
    common::syncer(&sb)
        .build()
        .sync_once(today())
        .await
        .unwrap();
    let after = sb.brivo().snapshot();
    for id in [story::USER_SAM_STAFF, story::USER_UMA_ARCHIVE] {
        assert_eq!(before.user(id), after.user(id), "user {id} untouched");
    }
    for g in [story::GROUP_BUILDING_STAFF, story::GROUP_ARCHIVE] {
        assert_eq!(
            before.group(g),
            after.group(g),
            "unmanaged group {g} untouched"
        );
    }
    // Terry is unowned: his profile and his unmanaged group stay, only the
    // managed membership goes (default exclusivity).
    let terry_before = before.user(story::USER_TERRY_TECH).unwrap();
    let terry = after.user(story::USER_TERRY_TECH).unwrap();
    assert_eq!(
        (
            &terry.first_name,
            &terry.last_name,
            terry.suspended,
            &terry.external_id
        ),
        (
            &terry_before.first_name,
            &terry_before.last_name,
            terry_before.suspended,
            &terry_before.external_id
        )
    );
    assert_eq!(
        terry.groups.iter().copied().collect::<Vec<_>>(),
        vec![story::GROUP_BUILDING_STAFF]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_entrata_fetch_revokes_nothing() {
    let sb = common::start().await;
    sb.faults().entrata(Fault::FailProperty {
        property_id: story::PROPERTY_NY.into(),
    });
    let syncer = common::syncer(&sb).build();
    let report = syncer.sync_once(today()).await.unwrap();
    assert!(report.is_success(), "{:#?}", report.results);
    let s = sb.brivo().snapshot();
    assert_eq!(
        fay_groups(&s),
        vec![7101, 7102],
        "Fay keeps her groups while property 100 cannot be read"
    );
    assert!(
        s.user(story::USER_TERRY_TECH)
            .unwrap()
            .groups
            .contains(&7101)
    );
    let held_scope = Scope::Property(story::PROPERTY_NY.into());
    assert!(
        report.plan.held.iter().any(|h| h.rule
            == HoldRule::Incomplete {
                scope: held_scope.clone()
            }),
        "{}",
        report.plan
    );
    // Other properties still progress.
    assert_eq!(groups_of(&s, &entrata_id("5012")), vec![7301]);
    assert!(
        report
            .inputs
            .unwrap()
            .incomplete
            .contains(&held_scope.to_string())
    );

    // When Entrata answers again, the revocations happen.
    sb.faults().clear();
    syncer.sync_once(today()).await.unwrap();
    assert_today_state(&sb.brivo().snapshot());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_revocation_threshold_holds_a_mass_revocation() {
    let sb = common::start().await;
    let mut policy = Policy::default();
    policy.revocation_threshold.max_count = Some(2); // Fay x2 + Terry x1 = 3
    let syncer = common::syncer(&sb).policy(policy).build();
    let report = syncer.sync_once(today()).await.unwrap();
    assert!(report.is_success());
    let mass: Vec<_> = report
        .plan
        .held
        .iter()
        .filter(|h| matches!(h.rule, HoldRule::MassRevocation { .. }))
        .collect();
    assert_eq!(mass.len(), 3, "{}", report.plan);
    let s = sb.brivo().snapshot();
    assert_eq!(fay_groups(&s), vec![7101, 7102]);
    assert!(
        s.user(story::USER_TERRY_TECH)
            .unwrap()
            .groups
            .contains(&7101)
    );
    // Grants are not held.
    assert_eq!(groups_of(&s, &entrata_id("5001")), vec![7101, 7102]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_plan_is_refused() {
    let sb = common::start().await;
    let syncer = common::syncer(&sb).build();
    let dry = syncer.plan(today()).await.unwrap();
    assert_eq!(sb.brivo_writes(), 0, "a dry run writes nothing");
    sb.brivo()
        .add_member(story::GROUP_SUNSET_RESIDENTS, story::USER_SAM_STAFF);
    let err = syncer.apply(&dry.plan).await.unwrap_err();
    assert!(matches!(err, SyncError::Stale(_)), "{err}");
    assert_eq!(sb.brivo_writes(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injected_faults_lose_and_duplicate_nothing() {
    let sb = common::start().await;
    let f = sb.faults();
    f.brivo(Fault::TooManyRequests {
        times: 3,
        retry_after_secs: 0,
    });
    f.brivo(Fault::OverQps { times: 2 });
    f.brivo(Fault::ServerError {
        times: 2,
        status: 503,
    });
    f.brivo(Fault::DropConnection { times: 2 });
    f.brivo(Fault::ExpireTokens);
    f.entrata(Fault::ServerError {
        times: 1,
        status: 502,
    });
    f.officernd(Fault::TooManyRequests {
        times: 1,
        retry_after_secs: 0,
    });
    let syncer = common::syncer(&sb).build();

    // Runs until converged: a fault may fail an action (reported, never lost).
    let mut runs = 0;
    loop {
        runs += 1;
        let report = syncer.sync_once(today()).await;
        if let Ok(r) = &report
            && r.plan.is_empty()
            && r.plan.held.is_empty()
        {
            break;
        }
        assert!(runs < 5, "did not converge: {report:?}");
    }
    let s = sb.brivo().snapshot();
    assert_no_duplicates(&s);
    assert_today_state(&s);
}

/// Kills a slowed-down apply once Brivo has received `abort_after_writes`
/// writes, then runs again. Returns the writes Brivo had received when the
/// apply was killed.
async fn crash_then_rerun(sb: &Sandbox, abort_after_writes: u64) -> u64 {
    // Every Brivo call takes 30 ms: the apply is killed part-way.
    sb.faults().brivo(Fault::Slow {
        times: 10_000,
        delay: Duration::from_millis(30),
    });
    let syncer = common::syncer(sb).concurrency(2).build();
    let task = tokio::spawn({
        let syncer = syncer.clone();
        async move { syncer.sync_once(today()).await }
    });
    while sb.brivo_writes() < abort_after_writes {
        assert!(!task.is_finished(), "the apply finished before the crash");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    task.abort();
    assert!(
        task.await.unwrap_err().is_cancelled(),
        "the apply was cut short"
    );
    sb.faults().clear();
    let writes_at_crash = sb.brivo_writes();

    let partial = sb.brivo().snapshot();
    assert_no_duplicates(&partial);
    let report = syncer.sync_once(today()).await.unwrap();
    assert!(report.is_success(), "{:#?}", report.results);
    let s = sb.brivo().snapshot();
    assert_no_duplicates(&s);
    assert_today_state(&s);
    assert!(syncer.sync_once(today()).await.unwrap().plan.is_empty());
    writes_at_crash
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_mid_apply_then_rerun_converges_without_duplicates() {
    let sb = common::start().await;
    let writes_at_crash = crash_then_rerun(&sb, 3).await;
    assert!(writes_at_crash > 0, "the crash came after some writes");
    assert!(
        sb.brivo_writes() > writes_at_crash,
        "and before the last one: the re-run had work left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_create_is_found_by_external_id_not_duplicated() {
    let sb = common::start().await;
    // The first create is answered only after the client gave up: Brivo
    // acted, the client saw a timeout.
    let c = sb.credentials();
    let brivo = brivo_client::Client::builder(brivo_client::Credentials::password(
        common::secret(&c.brivo_api_key),
        common::secret(&c.brivo_client_id),
        common::secret(&c.brivo_client_secret),
        common::secret(&c.brivo_username),
        common::secret(&c.brivo_password),
    ))
    .base_url(sb.brivo_api_url())
    .auth_url(sb.brivo_auth_url())
    .rate_limit(1000.0, 100)
    .timeout(Duration::from_millis(300))
    .build()
    .unwrap();
    let syncer = access_sync::Syncer::builder(access_sync::BrivoBackend::new(brivo))
        .source(access_sync::EntrataSource::new(common::entrata_client(&sb)).properties([300]))
        .mappings(common::mappings())
        .concurrency(1)
        .build();
    let dry = syncer.plan(today()).await.unwrap();
    let creates = dry
        .plan
        .actions
        .iter()
        .filter(|a| matches!(a, access_engine::Action::CreateUser { .. }))
        .count();
    assert!(creates >= 1, "{}", dry.plan);
    // The apply's observation is 1 group page + 1 user page + 1 page per managed group that exists.
    let groups = dry.observed.groups.len() as u32;
    let reads_before_first_create = 2 + groups + 1; // + the lookup by external id
    sb.faults().brivo(Fault::Slow {
        times: reads_before_first_create,
        delay: Duration::ZERO,
    });
    sb.faults().brivo(Fault::Slow {
        times: 1,
        delay: Duration::from_millis(600),
    });
    let first = syncer.apply(&dry.plan).await.unwrap();
    assert!(
        matches!(first.results[0].outcome, Outcome::Failed { .. }),
        "{:#?}",
        first.results
    );
    tokio::time::sleep(Duration::from_millis(700)).await; // Brivo finishes the create
    // (The same instant would find the user backing off after its failure.)
    let second = syncer
        .sync_once(today() + chrono::Duration::minutes(1))
        .await
        .unwrap();
    assert!(second.is_success(), "{:#?}", second.results);
    let s = sb.brivo().snapshot();
    assert_no_duplicates(&s);
    assert_eq!(groups_of(&s, &entrata_id("5012")), vec![7301]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_storyline_converges_at_every_instant_and_dst_is_honoured() {
    let sb = common::start().await;
    let syncer = common::syncer(&sb).build();
    let dana = entrata_id("5004");
    for (label, t) in story::instants() {
        if label.contains("DST change day") {
            // One minute before 10:00 EDT (13:59Z) Dana has nothing yet.
            let before = syncer
                .sync_once(t - chrono::Duration::minutes(1))
                .await
                .unwrap();
            assert!(before.is_success());
            assert_eq!(
                before.plan.next_change,
                Some(t),
                "wakes exactly at 10:00 EDT"
            );
            assert!(groups_of(&sb.brivo().snapshot(), &dana).is_empty());
        }
        let report = syncer.sync_once(t).await.unwrap();
        assert!(report.is_success(), "{label}: {:#?}", report.results);
        let again = syncer.plan(t).await.unwrap();
        assert!(
            again.plan.is_empty(),
            "{label}: not converged:\n{}",
            again.plan
        );
        assert_no_duplicates(&sb.brivo().snapshot());
    }
    assert_eq!(groups_of(&sb.brivo().snapshot(), &dana), vec![7101, 7102]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_file_with_secrets_from_the_environment_drives_a_sync() {
    let sb = common::start().await;
    let c = sb.credentials().clone();
    let mappings = serde_json::to_value(common::mappings()).unwrap();
    let config = serde_json::json!({
        "brivo": { "base_url": sb.brivo_api_url(), "auth_url": sb.brivo_auth_url(),
                   "rate_limit_per_second": 500.0 },
        "entrata": { "base_url": format!("{}/", sb.entrata_api_url()),
                     "zones": { "100": "America/New_York" } },
        "officernd": { "org": c.officernd_org, "client_id": c.officernd_client_id,
                       "api_url": format!("{}/api/v2", sb.officernd_base_url()),
                       "token_url": format!("{}/oauth/token", sb.officernd_identity_url()) },
        "mappings": mappings,
        "run": { "concurrency": 4 }
    });
    let config = access_sync::config::SyncConfig::from_json(&config.to_string()).unwrap();
    let env = |name: &str| -> Option<String> {
        Some(match name {
            "BRIVO_API_KEY" => c.brivo_api_key.clone(),
            "BRIVO_CLIENT_ID" => c.brivo_client_id.clone(),
            "BRIVO_CLIENT_SECRET" => c.brivo_client_secret.clone(),
            "BRIVO_USERNAME" => c.brivo_username.clone(),
            "BRIVO_PASSWORD" => c.brivo_password.clone(),
            "ENTRATA_USERNAME" => c.entrata_username.clone(),
            "ENTRATA_PASSWORD" => c.entrata_password.clone(),
            "OFFICERND_CLIENT_SECRET" => c.officernd_client_secret.clone(),
            _ => return None,
        })
    };
    let syncer = config.build(env).unwrap();
    let report = syncer.sync_once(today()).await.unwrap();
    assert!(report.is_success(), "{:#?}", report.results);
    assert_today_state(&sb.brivo().snapshot());

    // A missing secret is named, never guessed.
    let err = config.build(|_| None).unwrap_err();
    assert!(err.to_string().contains("BRIVO_API_KEY"), "{err}");
}

/// Entrata names Arizona's zone "Mountain", like Denver's; Arizona keeps no
/// daylight saving. The listed property's state decides, whether the zone
/// came from getMitsPropertyUnits (granted) or from the address (refused).
#[tokio::test]
async fn an_arizona_property_is_in_phoenix_time_not_denver() {
    use access_sync::FactSource;

    let mut entrata: serde_json::Value =
        serde_json::from_str(sandbox::fixture("entrata.json").unwrap()).unwrap();
    let is_300 = |p: &serde_json::Value| p["PropertyID"].to_string().contains("300");
    for p in entrata["properties"].as_array_mut().unwrap() {
        if is_300(p) {
            p["Address"]["State"] = "AZ".into();
            p["Address"]["City"] = "Tucson".into();
        }
    }
    for p in entrata["mitsProperties"].as_array_mut().unwrap() {
        if is_300(p) {
            p["ILS_Identification"]["TimeZone"] = "Mountain Standard Time (GMT -0700)".into();
        }
    }
    let mut seed = sandbox::Seed::sample();
    seed.entrata = sandbox::EntrataSeed::from_json(&entrata.to_string()).unwrap();
    let sb = Sandbox::start_with(seed, sandbox::SandboxConfig::default())
        .await
        .unwrap();

    for granted in [true, false] {
        if granted {
            sb.entrata().grant_method("getMitsPropertyUnits");
        } else {
            sb.entrata().revoke_method("getMitsPropertyUnits");
        }
        let batch = access_sync::EntrataSource::new(common::entrata_client(&sb))
            .fetch(today())
            .await
            .unwrap();
        let zone = |id: &str| {
            batch
                .facts
                .properties
                .iter()
                .find(|p| p.id == id)
                .map(|p| (p.zone.clone(), p.zone_source.clone()))
        };
        let source = if granted {
            ZoneSource::Service("getMitsPropertyUnits".into())
        } else {
            ZoneSource::Address("state AZ, city Tucson".into())
        };
        assert_eq!(
            zone("300"),
            Some(("America/Phoenix".to_owned(), source)),
            "{:?}",
            batch.notes
        );
        assert_eq!(
            zone("100").map(|z| z.0).as_deref(),
            Some("America/New_York")
        );
    }
    sb.shutdown().await;
}

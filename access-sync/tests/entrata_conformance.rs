//! Entrata as it really answers: recorded-shape responses (anonymised, in
//! `sandbox/fixtures/recorded/`) through the whole chain — decode, facts,
//! plan — and the Entrata source against the sandbox, which now answers
//! the way the real service does (Current leases only for a bare getLeases,
//! a server-side page cap, getMitsPropertyUnits not granted).

mod common;

use access_engine::{
    Action, BrivoUserId, Facts, GroupId, HoldRule, Mappings, Observed, ObservedGroup, ObservedUser,
    Plan, Policy, Property, Scope, UserRef, Warning, ZoneSource, plan,
};
use access_sync::FactSource;
use chrono::{DateTime, TimeZone, Utc};
use entrata_client::{Error, GetLeases, GetMitsPropertyUnits, GetProperties, PropertyId};
use sandbox::story;

fn recorded(name: &str) -> &'static [u8] {
    sandbox::fixture(&format!("recorded/{name}"))
        .unwrap_or_else(|| panic!("fixture {name}"))
        .as_bytes()
}

fn utc(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, mi, 0)
        .single()
        .expect("valid")
}

const PROPERTY: &str = "739084";

fn recorded_facts() -> Facts {
    let page = GetLeases::decode(recorded("getLeases_r2.json")).expect("decodes");
    let props = GetProperties::decode(recorded("getProperties.json")).expect("decodes");
    // getMitsPropertyUnits is refused: the zone comes from the address.
    let zone = props.properties[0]
        .address
        .as_ref()
        .and_then(|a| a.time_zone())
        .expect("Champaign, IL has a zone");
    let mut facts = Facts::default();
    facts.properties.push(
        Property::new(PROPERTY, zone.name())
            .with_zone_source(ZoneSource::Address("state IL, city Champaign".into())),
    );
    facts.leases = page
        .leases
        .iter()
        .map(|l| access_sync::entrata::lease_fact(PropertyId(739084), l))
        .collect();
    facts
}

fn mappings() -> Mappings {
    let mut m = Mappings::default();
    m.properties.insert(PROPERTY.into(), vec![GroupId(1)]);
    m
}

fn brivo(users: Vec<ObservedUser>) -> Observed {
    Observed::new(users, vec![ObservedGroup::new(GroupId(1), "Residents")])
}

fn created(plan: &Plan) -> Vec<String> {
    let mut v: Vec<String> = plan
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::CreateUser { external_id, .. } => {
                Some(external_id.trim_start_matches("sync:entrata:").to_owned())
            }
            _ => None,
        })
        .collect();
    v.sort();
    v
}

#[test]
fn recorded_get_leases_decodes_with_its_quirks_and_reports_the_empty_id() {
    let page = GetLeases::decode(recorded("getLeases_r2.json")).expect("decodes");
    assert_eq!(page.leases.len(), 14);
    // The resident whose id is "" cannot be decoded: skipped and reported
    // with its lease, the rest of the lease stands.
    assert_eq!(page.skipped.len(), 1, "{:?}", page.skipped);
    assert_eq!(page.skipped[0].kind, "customer");
    assert_eq!(page.skipped[0].parent.as_deref(), Some("lease 9100007"));
    let l7 = page
        .leases
        .iter()
        .find(|l| l.id.to_string() == "9100007")
        .expect("lease");
    assert_eq!(l7.customers.len(), 1, "Kai Moss remains");
}

#[test]
fn recorded_residents_are_admitted_by_their_own_status_and_dates() {
    let facts = recorded_facts();
    let now = utc(2025, 1, 15, 18, 0);
    let p = plan(&facts, &mappings(), &Policy::default(), &brivo(vec![]), now);
    // Who has access now (the fixture's README table).
    assert_eq!(
        created(&p),
        [
            "9200001", "9200003", "9200005", "9200007", "9200009", "9200011", "9200013", "9200014",
            "9200017", "9200019", "9200021", "9200023", "9200025"
        ],
        "{p}"
    );
    // Not Dana (Cancelled on a Current lease), not Frankie (own move-in later),
    // not Harper (own move-out passed), not Jules (bad record), no guarantor.
    // The next change is Frankie's own move-in, 02/03/2025 10:00 CST.
    assert_eq!(p.next_change, Some(utc(2025, 2, 3, 16, 0)), "{p}");
    assert!(
        p.warnings.iter().any(|w| matches!(w, Warning::BadRecord { id, problem, .. }
            if id == "9100006 (resident 9200012)" && problem.contains("Past resident with no move-out"))),
        "{p}"
    );
    // Windows: Mara until the lease's move-out, Frankie from their own move-in.
    let access = access_engine::access_at(
        &facts,
        &mappings(),
        &Policy::default(),
        None,
        utc(2025, 5, 15, 20, 59),
    );
    assert!(
        access
            .identities
            .iter()
            .any(|i| i.external_id.ends_with(":9200014") && !i.groups.is_empty())
    );
    let access = access_engine::access_at(
        &facts,
        &mappings(),
        &Policy::default(),
        None,
        utc(2025, 5, 15, 21, 0),
    );
    assert!(
        !access
            .identities
            .iter()
            .any(|i| i.external_id.ends_with(":9200014") && !i.groups.is_empty())
    );
    let access = access_engine::access_at(
        &facts,
        &mappings(),
        &Policy::default(),
        None,
        utc(2025, 2, 3, 16, 0),
    );
    assert!(
        access
            .identities
            .iter()
            .any(|i| i.external_id.ends_with(":9200008") && !i.groups.is_empty())
    );
    // The zone and where it came from are in the plan.
    assert_eq!(p.scopes[0].zone.as_deref(), Some("America/Chicago"));
    assert!(
        p.to_string()
            .contains("inferred from the address (state IL, city Champaign)"),
        "{p}"
    );
}

#[test]
fn recorded_residents_converge_and_a_past_resident_leaves_at_their_own_four_pm() {
    let facts = recorded_facts();
    let now = utc(2025, 1, 15, 18, 0);
    // Brivo still has Harper (Past since 12/20) and Dana (Cancelled) in the group.
    let stale = brivo(vec![
        ObservedUser::new(BrivoUserId(1))
            .with_external_id("sync:entrata:9200010")
            .with_groups([GroupId(1)]),
        ObservedUser::new(BrivoUserId(2))
            .with_external_id("sync:entrata:9200006")
            .with_groups([GroupId(1)]),
    ]);
    let first = plan(&facts, &mappings(), &Policy::default(), &stale, now);
    let removed: Vec<&UserRef> = first
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::ChangeGroups { user, remove, .. } if !remove.is_empty() => Some(user),
            _ => None,
        })
        .collect();
    assert_eq!(
        removed,
        [
            &UserRef::Existing(BrivoUserId(1)),
            &UserRef::Existing(BrivoUserId(2))
        ],
        "{first}"
    );
    assert!(
        first
            .to_string()
            .contains("until 2024-12-20 16:00 America/Chicago"),
        "{first}"
    );
    // Apply it the way Brivo would; planning again changes nothing.
    let mut users = stale.users.clone();
    let mut next = 100;
    for a in &first.actions {
        match a {
            Action::CreateUser {
                external_id,
                profile,
                ..
            } => {
                next += 1;
                let mut u = ObservedUser::new(BrivoUserId(next))
                    .with_external_id(external_id.clone())
                    .with_name(profile.first_name.clone(), profile.last_name.clone());
                u.emails = profile.email.iter().cloned().collect();
                u.phones = profile.phone.iter().cloned().collect();
                users.push(u);
            }
            Action::ChangeGroups { user, add, remove } => {
                let u = match user {
                    UserRef::Existing(id) => users.iter_mut().find(|u| u.id == *id),
                    UserRef::New(ext) => users
                        .iter_mut()
                        .find(|u| u.external_id.as_deref() == Some(ext)),
                }
                .expect("user");
                u.groups.extend(add.iter().map(|c| c.group));
                u.groups.retain(|g| !remove.iter().any(|c| c.group == *g));
            }
            Action::UpdateProfile { user, profile, .. } => {
                let u = users.iter_mut().find(|u| u.id == *user).expect("user");
                u.first_name = profile.first_name.clone();
                u.last_name = profile.last_name.clone();
                u.emails = profile.email.iter().cloned().collect();
                u.phones = profile.phone.iter().cloned().collect();
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    let second = plan(&facts, &mappings(), &Policy::default(), &brivo(users), now);
    assert!(second.is_empty(), "{second}");
}

#[test]
fn only_the_known_no_records_answers_are_empty() {
    for empty in ["no_records.json", "no_records_text.json"] {
        let page = GetLeases::decode(recorded(empty)).expect("empty");
        assert!(page.leases.is_empty(), "{empty}");
    }
    for odd in ["unexpected_text.json", "unexpected_object.json"] {
        let err = GetLeases::decode(recorded(odd)).expect_err(odd);
        assert!(
            matches!(err, Error::UnexpectedResult { .. }),
            "{odd}: {err}"
        );
        assert!(!err.is_retryable());
    }
    let err = GetMitsPropertyUnits::decode(recorded("getMitsPropertyUnits_refused.json"))
        .expect_err("refused");
    assert!(err.to_string().contains("getMitsPropertyUnits"), "{err}");
}

// ---------------------------------------------------------------- against the sandbox

fn today() -> DateTime<Utc> {
    story::instants()[0].1
}

async fn fetch(sb: &sandbox::Sandbox) -> access_sync::SourceBatch {
    access_sync::EntrataSource::new(common::entrata_client(sb))
        .fetch(today())
        .await
        .expect("entrata fetch")
}

fn lease_ids(batch: &access_sync::SourceBatch) -> Vec<String> {
    let mut v: Vec<String> = batch.facts.leases.iter().map(|l| l.id.clone()).collect();
    v.sort();
    v
}

#[tokio::test]
async fn the_source_names_its_statuses_and_reads_past_leases_within_the_window() {
    let sb = common::start().await;
    let batch = fetch(&sb).await;
    // A bare getLeases answers with Current leases only; these are not.
    for (lease, what) in [
        (story::LEASE_MOVE_IN, "Future"),
        (story::LEASE_NOTICE, "Notice"),
        (story::LEASE_PAST, "Past, moved out 10/31 (within 30 days)"),
    ] {
        assert!(
            lease_ids(&batch).contains(&lease.to_owned()),
            "{what} lease {lease} missing"
        );
    }
    // Applicant and Cancelled leases are never asked for.
    assert!(!lease_ids(&batch).contains(&story::LEASE_APPLICANT.to_owned()));
    assert!(!lease_ids(&batch).contains(&story::LEASE_CANCELLED.to_owned()));
    // The residents' own statuses come along.
    let cara = batch
        .facts
        .leases
        .iter()
        .flat_map(|l| &l.customers)
        .find(|c| c.id == story::CUSTOMER_CANCELLED_ON_CURRENT)
        .expect("Cara is on lease 3003");
    assert_eq!(cara.status, Some(access_engine::LeaseStatus::Cancelled));
    // Zones from the addresses (getMitsPropertyUnits is not granted).
    assert!(
        batch
            .facts
            .properties
            .iter()
            .all(|p| matches!(p.zone_source, ZoneSource::Address(_)))
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn a_server_side_page_cap_loses_no_lease() {
    let sb = common::start().await;
    let full = lease_ids(&fetch(&sb).await);
    sb.entrata().set_page_cap(Some(2));
    let capped = lease_ids(&fetch(&sb).await);
    assert_eq!(capped, full);
    sb.shutdown().await;
}

#[tokio::test]
async fn an_unexpected_text_result_holds_the_propertys_revocations() {
    let sb = common::start().await;
    let syncer = common::syncer(&sb).build();
    sb.entrata().answer_leases_with(
        story::PROPERTY_NY,
        Some(serde_json::json!(
            "Service temporarily unavailable, please retry."
        )),
    );
    let dry = syncer.plan(today()).await.expect("plan");
    // Fay (a past tenant of property 100) would leave 7101/7102; held instead.
    let fay = UserRef::Existing(BrivoUserId(story::USER_FAY_FORMER));
    assert!(
        !dry.plan
            .actions
            .iter()
            .any(|a| matches!(a, Action::ChangeGroups { user, .. } if *user == fay)),
        "{}",
        dry.plan
    );
    assert!(
        dry.plan.held.iter().any(|h| h.user == fay
            && h.rule
                == HoldRule::Incomplete {
                    scope: Scope::Property(story::PROPERTY_NY.into())
                }),
        "{}",
        dry.plan
    );
    assert!(dry.plan.warnings.iter().any(|w| matches!(w, Warning::IncompleteScope { scope, reason }
        if *scope == Scope::Property(story::PROPERTY_NY.into()) && reason.contains("unexpected result"))), "{}", dry.plan);
    sb.shutdown().await;
}

#[tokio::test]
async fn a_property_no_zone_step_can_place_is_a_held_warning_in_the_plan() {
    // Property 300's address is in a split state, in a town the table does
    // not know, and getMitsPropertyUnits is not granted.
    let mut entrata: serde_json::Value =
        serde_json::from_str(sandbox::fixture("entrata.json").expect("fixture")).expect("json");
    for p in entrata["properties"].as_array_mut().expect("properties") {
        if p["PropertyID"].to_string().contains("300") {
            p["Address"]["State"] = "TX".into();
            p["Address"]["City"] = "Smallville".into();
        }
    }
    let mut seed = sandbox::Seed::sample();
    seed.entrata = sandbox::EntrataSeed::from_json(&entrata.to_string()).expect("seed");
    let sb = sandbox::Sandbox::start_with(
        seed,
        sandbox::SandboxConfig::default().with_brivo_rate_limit(None),
    )
    .await
    .expect("sandbox");
    let dry = common::syncer(&sb)
        .build()
        .plan(today())
        .await
        .expect("plan");
    let scope = Scope::Property(story::PROPERTY_LA.into());
    let warning = dry
        .plan
        .warnings
        .iter()
        .find_map(|w| match w {
            Warning::IncompleteScope { scope: s, reason } if *s == scope => Some(reason.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no warning for property 300: {}", dry.plan));
    assert!(
        warning.contains("no time zone") && warning.contains("configure one"),
        "{warning}"
    );
    // The sync output (the plan as printed) says so, not only a log line.
    assert!(
        dry.plan
            .to_string()
            .contains("property 300 is incomplete (no time zone"),
        "{}",
        dry.plan
    );
    // Nobody of property 300 is granted or revoked on a guessed zone
    // (Jack, Kim and Leo live only there).
    let text = dry.plan.to_string();
    for resident in ["5010", "5011", "5012"] {
        assert!(
            !text.contains(&format!("sync:entrata:{resident}")),
            "{resident}: {text}"
        );
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn zones_and_a_refused_zone_service_are_kept_across_restarts() {
    let sb = common::start().await;
    sb.entrata().grant_method("getMitsPropertyUnits");
    let store: std::sync::Arc<dyn access_state::RunState> =
        std::sync::Arc::new(access_state::MemoryState::new());
    let mits_calls = |sb: &sandbox::Sandbox| {
        sb.entrata_stats()
            .by_route
            .iter()
            .filter(|(route, _)| route.contains("propertyunits"))
            .map(|(_, n)| *n)
            .sum::<u64>()
    };
    let source = || {
        access_sync::EntrataSource::new(common::entrata_client(&sb))
            .zone_store(store.clone(), "acme")
    };
    let first = source().fetch(today()).await.expect("fetch");
    assert!(
        first
            .facts
            .properties
            .iter()
            .all(|p| matches!(&p.zone_source, ZoneSource::Service(_)))
    );
    let asked = mits_calls(&sb);
    assert_eq!(asked, 3, "one getMitsPropertyUnits per property");
    // A new process (a new source) on the same store asks nothing again.
    let again = source().fetch(today()).await.expect("fetch");
    assert_eq!(mits_calls(&sb), asked);
    assert_eq!(again.facts.properties, first.facts.properties);
    sb.shutdown().await;
}

//! Nothing vanishes silently: every mapped scope is expected; one that is
//! absent, empties, or shrinks beyond the policy's share is held until it
//! recovers or an operator approves it for one run; mass revocations and bad
//! records are released by a one-run approval, never by a lasting switch;
//! users of a source no longer configured are left alone.

use access_engine::*;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0)
        .single()
        .expect("valid")
}

fn mappings() -> Mappings {
    let mut m = Mappings::default();
    m.properties.insert("P".into(), vec![GroupId(1)]);
    m.properties.insert("Q".into(), vec![GroupId(2)]);
    m
}

/// `n` residents of `property`, current.
fn residents(property: &str, n: usize) -> Vec<Lease> {
    (0..n)
        .map(|i| {
            Lease::new(format!("{property}L{i}"), property, LeaseStatus::Current)
                .with_move_in(d(2026, 1, 1))
                .with_customer(Customer::new(
                    // customer ids are the account's, not the property's
                    format!("{property}{i}"),
                    CustomerType::Primary,
                    Profile::new(format!("F{i}"), "L"),
                ))
        })
        .collect()
}

/// Brivo in step with `n` residents of `property` in `group`.
fn users(property: &str, group: i64, n: usize, first_id: i64) -> Vec<ObservedUser> {
    (0..n)
        .map(|i| {
            ObservedUser::new(BrivoUserId(first_id + i as i64))
                .with_external_id(format!("sync:entrata:{property}{i}"))
                .with_name(format!("F{i}"), "L")
                .with_groups([GroupId(group)])
        })
        .collect()
}

fn groups() -> Vec<ObservedGroup> {
    vec![
        ObservedGroup::new(GroupId(1), "P"),
        ObservedGroup::new(GroupId(2), "Q"),
    ]
}

fn facts(p: usize, q: Option<usize>) -> Facts {
    let mut f = Facts::default();
    f.properties.push(Property::new("P", "America/New_York"));
    f.leases = residents("P", p);
    if let Some(q) = q {
        f.properties.push(Property::new("Q", "America/Chicago"));
        f.leases.extend(residents("Q", q));
    }
    f
}

fn removals(plan: &Plan) -> usize {
    plan.actions
        .iter()
        .map(|a| match a {
            Action::ChangeGroups { remove, .. } => remove.len(),
            _ => 0,
        })
        .sum()
}

fn held_by(plan: &Plan, pred: impl Fn(&HoldRule) -> bool) -> usize {
    plan.held.iter().filter(|h| pred(&h.rule)).count()
}

#[test]
fn a_mapped_property_absent_from_the_batch_is_held_and_named() {
    // Q vanished from getProperties (a permission change): its 3 residents stay.
    let observed = Observed::new(
        [users("P", 1, 2, 100), users("Q", 2, 3, 200)].concat(),
        groups(),
    );
    let plan = plan(
        &facts(2, None),
        &mappings(),
        &Policy::default(),
        &observed,
        now(),
    );
    assert_eq!(removals(&plan), 0, "{plan}");
    assert_eq!(
        held_by(
            &plan,
            |r| matches!(r, HoldRule::Unexpected { scope, .. } if *scope == Scope::Property("Q".into()))
        ),
        3,
        "{plan}"
    );
    let text = plan.to_string();
    assert!(text.contains("property Q is mapped but absent from the batch; its revocations are held until it recovers or is approved (scope:property:Q)"), "{text}");
    assert!(text.contains("(approve: scope:property:Q)"), "{text}");

    // Approved for one run: the removals go through.
    let mut f = facts(2, None);
    f.baseline.approved.insert("scope:property:Q".into());
    let approved = plan_fn(&f, &observed);
    assert_eq!(removals(&approved), 3, "{approved}");
    assert!(approved.held.is_empty(), "{approved}");
}

fn plan_fn(f: &Facts, observed: &Observed) -> Plan {
    plan(f, &mappings(), &Policy::default(), observed, now())
}

#[test]
fn a_property_that_empties_where_the_last_run_saw_people_is_held() {
    // getLeases succeeded but answered "No Records Found." for Q.
    let observed = Observed::new(
        [users("P", 1, 2, 100), users("Q", 2, 3, 200)].concat(),
        groups(),
    );
    let mut f = facts(2, Some(0));
    f.baseline.people.insert(Scope::Property("Q".into()), 3);
    let plan = plan_fn(&f, &observed);
    assert_eq!(removals(&plan), 0, "{plan}");
    assert!(plan.warnings.iter().any(|w| matches!(w, Warning::UnexpectedScope { detail, .. } if detail == "names no one any more; the last run's facts named 3")), "{plan}");
    let q = plan
        .scopes
        .iter()
        .find(|s| s.scope == Scope::Property("Q".into()))
        .expect("Q reported");
    assert_eq!((q.people, q.previous), (0, Some(3)));

    // Without a baseline (first run, lost state) only presence is checked.
    let mut f = facts(2, Some(0));
    f.baseline = Baseline::default();
    assert_eq!(removals(&plan_fn(&f, &observed)), 3);
}

#[test]
fn a_drop_beyond_the_scope_share_is_held_and_released_by_a_one_run_approval() {
    // Q had 20; 6 remain: a 70 % drop in one run.
    let observed = Observed::new(users("Q", 2, 20, 200), groups());
    let mut f = facts(0, Some(6));
    f.baseline.people.insert(Scope::Property("Q".into()), 20);
    f.baseline.people.insert(Scope::Property("P".into()), 0);
    let held = plan_fn(&f, &observed);
    assert_eq!(removals(&held), 0, "{held}");
    assert_eq!(held.held.len(), 14, "{held}");
    assert!(
        held.to_string()
            .contains("property Q dropped from 20 to 6 people named in one run (70 %)"),
        "{held}"
    );

    // An approval releases its own rule only: the overall share limit
    // still holds these 14 of 20 memberships until approved too.
    f.baseline.approved.insert("scope:property:Q".into());
    let next = plan_fn(&f, &observed);
    assert_eq!(
        held_by(&next, |r| r.approval().as_deref() == Some("revocations:14")),
        14,
        "{next}"
    );
    f.baseline.approved.insert("revocations:14".into());
    let approved = plan_fn(&f, &observed);
    assert_eq!(removals(&approved), 14, "{approved}");

    // A small drop (below the floor of 5 people) is ordinary move-out churn.
    let mut f = facts(0, Some(16));
    f.baseline.people.insert(Scope::Property("Q".into()), 20);
    let churn = plan_fn(&f, &observed);
    assert_eq!(removals(&churn), 4, "{churn}");
}

#[test]
fn the_overall_share_limit_is_on_by_default_and_released_only_by_its_exact_count() {
    // 40 owned users in P; the facts now name 10 (and P's baseline is not
    // known, so only the overall limit applies): 30 of 40 memberships.
    let observed = Observed::new(users("P", 1, 40, 100), groups());
    let f = facts(10, None);
    let held = plan_fn(&f, &observed);
    assert_eq!(removals(&held), 0, "{held}");
    assert_eq!(
        held_by(&held, |r| matches!(
            r,
            HoldRule::MassRevocation {
                revocations: 30,
                ..
            }
        )),
        30
    );
    assert_eq!(
        held.held[0].rule.approval().as_deref(),
        Some("revocations:30")
    );

    let mut wrong = f.clone();
    wrong.baseline.approved.insert("revocations:29".into());
    assert_eq!(
        removals(&plan_fn(&wrong, &observed)),
        0,
        "an approval of another count"
    );

    let mut right = f.clone();
    right.baseline.approved.insert("revocations:30".into());
    assert_eq!(removals(&plan_fn(&right, &observed)), 30);

    // Below the floor of 10 revocations the share does not apply.
    let small = Observed::new(users("P", 1, 4, 100), groups());
    assert_eq!(removals(&plan_fn(&facts(1, None), &small)), 3);
}

#[test]
fn users_of_a_source_that_is_no_longer_configured_are_left_alone() {
    // Entrata was removed from the config (no property mapped); OfficeRnD stays.
    let mut m = Mappings::default();
    m.plans.insert("plan".into(), vec![GroupId(7)]);
    let observed = Observed::new(
        vec![ObservedUser::new(BrivoUserId(1)).with_external_id("sync:entrata:1")],
        vec![ObservedGroup::new(GroupId(7), "members")],
    );
    let mut policy = Policy::default();
    policy.no_access = NoAccessPolicy::Delete;
    let plan = plan(&Facts::default(), &m, &policy, &observed, now());
    assert!(plan.actions.is_empty(), "{plan}");
    assert!(
        matches!(
            plan.held.as_slice(),
            [Held {
                item: HeldItem::Delete,
                rule: HoldRule::SourceNotConfigured {
                    scope: Scope::Source(Source::Entrata)
                },
                ..
            }]
        ),
        "{plan}"
    );
}

#[test]
fn an_approved_bad_record_no_longer_holds() {
    let mut f = facts(0, None);
    f.leases.push(
        Lease::new("1345", "P", LeaseStatus::Past)
            .with_move_in(d(2025, 1, 1))
            .with_customer(Customer::new(
                "9",
                CustomerType::Primary,
                Profile::new("F9", "L"),
            )),
    );
    let observed = Observed::new(
        vec![
            ObservedUser::new(BrivoUserId(9))
                .with_external_id("sync:entrata:9")
                .with_name("F9", "L")
                .with_groups([GroupId(1)]),
        ],
        groups(),
    );
    let held = plan_fn(&f, &observed);
    assert_eq!(held.held.len(), 1, "{held}");
    assert_eq!(
        held.held[0].rule.approval().as_deref(),
        Some("record:lease:1345")
    );
    f.baseline.approved.insert("record:lease:1345".into());
    assert_eq!(removals(&plan_fn(&f, &observed)), 1);
}

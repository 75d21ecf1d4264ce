//! Entrata as it really answers: each resident on a lease has their own
//! status and dates (`leaseCustomerStatus`, `moveInDate`, `moveOutDate`),
//! which differ from the lease's on real Current leases. Admission is by
//! the resident's own status; the window is the later move-in and the
//! earlier move-out of lease and resident. A bad record holds only what it
//! could have fed; an empty id is a bad record, never an external id.

use access_engine::*;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

const NY: &str = "America/New_York";
const LA: &str = "America/Los_Angeles";

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("valid date")
}

fn utc(y: i32, m: u32, day: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, day, h, mi, 0)
        .single()
        .expect("valid instant")
}

fn resident(id: &str, t: CustomerType) -> Customer {
    Customer::new(id, t, Profile::new(format!("F{id}"), format!("L{id}")))
}

fn facts(zone: &str, leases: Vec<Lease>) -> Facts {
    let mut f = Facts::default();
    f.properties.push(Property::new("P", zone));
    f.leases = leases;
    f
}

fn mappings() -> Mappings {
    let mut m = Mappings::default();
    m.properties.insert("P".into(), vec![GroupId(1)]);
    m.units.insert("U2".into(), vec![GroupId(2)]);
    m
}

fn brivo(users: Vec<ObservedUser>) -> Observed {
    Observed::new(
        users,
        vec![
            ObservedGroup::new(GroupId(1), "residents"),
            ObservedGroup::new(GroupId(2), "unit 2"),
        ],
    )
}

/// External ids with access at `t`.
fn with_access(f: &Facts, t: DateTime<Utc>) -> Vec<String> {
    access_at(f, &mappings(), &Policy::default(), None, t)
        .identities
        .into_iter()
        .filter(|i| !i.groups.is_empty())
        .map(|i| i.external_id)
        .collect()
}

/// Applies a plan the way Brivo would (enough for these tests).
fn apply(plan: &Plan, observed: &Observed) -> Observed {
    let mut users = observed.users.clone();
    let mut next = 10_000;
    for a in &plan.actions {
        match a {
            Action::CreateUser {
                external_id,
                profile,
                ..
            } => {
                next += 1;
                users.push(
                    ObservedUser::new(BrivoUserId(next))
                        .with_external_id(external_id.clone())
                        .with_name(profile.first_name.clone(), profile.last_name.clone()),
                );
            }
            Action::ChangeGroups { user, add, remove } => {
                let u = match user {
                    UserRef::Existing(id) => users.iter_mut().find(|u| u.id == *id),
                    UserRef::New(ext) => users
                        .iter_mut()
                        .find(|u| u.external_id.as_deref() == Some(ext.as_str())),
                }
                .expect("the user exists");
                u.groups.extend(add.iter().map(|c| c.group));
                u.groups.retain(|g| !remove.iter().any(|c| c.group == *g));
            }
            other => panic!("unexpected action {other:?}"),
        }
    }
    Observed::new(users, observed.groups.clone())
}

#[test]
fn a_cancelled_resident_on_a_current_lease_gets_nothing() {
    let lease = Lease::new("1", "P", LeaseStatus::Current)
        .with_move_in(d(2026, 1, 1))
        .with_customer(resident("10", CustomerType::Primary))
        // Real recordings: an occupant Cancelled on a Current lease, no move-out.
        .with_customer(resident("11", CustomerType::Occupant).with_status(LeaseStatus::Cancelled));
    let f = facts(NY, vec![lease]);
    assert_eq!(with_access(&f, utc(2026, 6, 1, 12, 0)), ["sync:entrata:10"]);
    let plan = plan(
        &f,
        &mappings(),
        &Policy::default(),
        &brivo(vec![]),
        utc(2026, 6, 1, 12, 0),
    );
    assert!(!plan.to_string().contains("sync:entrata:11"), "{plan}");
}

#[test]
fn every_refusing_status_grants_nothing_and_unknown_ones_are_reported() {
    for status in [
        LeaseStatus::Applicant,
        LeaseStatus::Cancelled,
        LeaseStatus::Denied,
    ] {
        let lease = Lease::new("1", "P", LeaseStatus::Current)
            .with_move_in(d(2026, 1, 1))
            .with_customer(resident("10", CustomerType::Primary).with_status(status.clone()));
        assert!(
            with_access(&facts(NY, vec![lease]), utc(2026, 6, 1, 12, 0)).is_empty(),
            "{status}"
        );
    }
    let lease = Lease::new("1", "P", LeaseStatus::Current)
        .with_move_in(d(2026, 1, 1))
        .with_customer(
            resident("10", CustomerType::Primary)
                .with_status(LeaseStatus::Other("Evicted?".into())),
        );
    let f = facts(NY, vec![lease]);
    let p = plan(
        &f,
        &mappings(),
        &Policy::default(),
        &brivo(vec![]),
        utc(2026, 6, 1, 12, 0),
    );
    assert!(p.actions.is_empty());
    assert!(
        p.warnings
            .iter()
            .any(|w| matches!(w, Warning::UnknownStatus { status, .. } if status == "Evicted?"))
    );
}

#[test]
fn a_co_applicant_with_a_later_own_move_in_starts_at_its_own_ten_oclock() {
    // The lease started in 2025; Milo's own move-in is 2026-12-07.
    let lease = Lease::new("1", "P", LeaseStatus::Current)
        .with_move_in(d(2025, 8, 1))
        .with_customer(resident("10", CustomerType::Primary))
        .with_customer(
            resident("12", CustomerType::CoApplicant)
                .with_status(LeaseStatus::Future)
                .with_move_in(d(2026, 12, 7)),
        );
    let f = facts(NY, vec![lease]);
    // 10:00 EST = 15:00Z.
    assert!(!with_access(&f, utc(2026, 12, 7, 14, 59)).contains(&"sync:entrata:12".to_owned()));
    assert!(with_access(&f, utc(2026, 12, 7, 15, 0)).contains(&"sync:entrata:12".to_owned()));
    let p = plan(
        &f,
        &mappings(),
        &Policy::default(),
        &brivo(vec![]),
        utc(2026, 12, 1, 12, 0),
    );
    assert_eq!(p.next_change, Some(utc(2026, 12, 7, 15, 0)));
    let text = p.to_string();
    assert!(!text.contains("sync:entrata:12"), "not yet: {text}");
}

#[test]
fn a_past_resident_with_an_own_move_out_ends_at_its_own_four_pm() {
    let lease = Lease::new("1", "P", LeaseStatus::Current)
        .with_move_in(d(2024, 6, 1))
        .with_customer(resident("10", CustomerType::Primary))
        .with_customer(
            resident("13", CustomerType::CoApplicant)
                .with_status(LeaseStatus::Past)
                .with_move_out(d(2026, 11, 20)),
        );
    let f = facts(LA, vec![lease]);
    // 16:00 PST = 00:00Z the next day.
    assert!(with_access(&f, utc(2026, 11, 20, 23, 59)).contains(&"sync:entrata:13".to_owned()));
    assert!(!with_access(&f, utc(2026, 11, 21, 0, 0)).contains(&"sync:entrata:13".to_owned()));
    // Brivo still has Rhea: she leaves the group, with the resident's own status in the reason.
    let observed = brivo(vec![
        ObservedUser::new(BrivoUserId(5))
            .with_external_id("sync:entrata:13")
            .with_name("F13", "L13")
            .with_groups([GroupId(1)]),
    ]);
    let p = plan(
        &f,
        &mappings(),
        &Policy::default(),
        &observed,
        utc(2026, 11, 23, 12, 0),
    );
    let text = p.to_string();
    assert!(
        text.contains("ended: lease 1 Current, resident 13 Past, from 2024-06-01 10:00 America/Los_Angeles, until 2026-11-20 16:00 America/Los_Angeles"),
        "{text}"
    );
}

#[test]
fn the_window_is_the_later_move_in_and_the_earlier_move_out() {
    // The resident's own move-out is later than the lease's: the lease's wins.
    let lease = Lease::new("1", "P", LeaseStatus::Notice)
        .with_move_in(d(2026, 3, 1))
        .with_move_out(d(2026, 6, 30))
        .with_customer(
            resident("10", CustomerType::Primary)
                .with_move_in(d(2026, 2, 1))
                .with_move_out(d(2026, 7, 31)),
        );
    let f = facts(NY, vec![lease]);
    // Own move-in earlier than the lease's: the lease's 2026-03-01 10:00 EST.
    assert!(with_access(&f, utc(2026, 3, 1, 14, 59)).is_empty());
    assert!(!with_access(&f, utc(2026, 3, 1, 15, 0)).is_empty());
    // Lease move-out 2026-06-30 16:00 EDT = 20:00Z.
    assert!(!with_access(&f, utc(2026, 6, 30, 19, 59)).is_empty());
    assert!(with_access(&f, utc(2026, 6, 30, 20, 0)).is_empty());
}

#[test]
fn a_past_resident_without_a_move_out_holds_only_that_leases_groups() {
    // Resident 20 holds two leases: the bad one (unit U2) and a good one.
    let bad = Lease::new("1", "P", LeaseStatus::Current)
        .with_unit("U2")
        .with_move_in(d(2025, 1, 1))
        .with_customer(resident("20", CustomerType::Primary).with_status(LeaseStatus::Past));
    let f = facts(NY, vec![bad]);
    let observed = brivo(vec![
        ObservedUser::new(BrivoUserId(7))
            .with_external_id("sync:entrata:20")
            .with_name("F20", "L20")
            .with_groups([GroupId(1), GroupId(2)]),
    ]);
    let mut policy = Policy::default();
    policy.no_access = NoAccessPolicy::Suspend;
    let p = plan(&f, &mappings(), &policy, &observed, utc(2026, 6, 1, 12, 0));
    assert!(p.warnings.iter().any(|w| matches!(w, Warning::BadRecord { problem, .. } if problem.contains("Past resident with no move-out"))), "{p}");
    // Both of the lease's groups (property and unit) are held, and so is the suspension.
    let held: Vec<_> = p
        .held
        .iter()
        .map(|h| (h.item.clone(), h.rule.clone()))
        .collect();
    let rule = HoldRule::BadRecord {
        kind: FactKind::Lease,
        id: "1".into(),
    };
    assert!(
        held.contains(&(HeldItem::RemoveGroup(GroupId(1)), rule.clone())),
        "{p}"
    );
    assert!(
        held.contains(&(HeldItem::RemoveGroup(GroupId(2)), rule.clone())),
        "{p}"
    );
    assert!(held.contains(&(HeldItem::Suspend, rule)), "{p}");
    assert!(p.actions.is_empty(), "{p}");
}

#[test]
fn a_bad_record_does_not_hold_the_persons_other_revocations() {
    // Before: a bad record held every revocation of the person forever.
    // Now an unmapped-by-this-lease group (fitness, 3) is still removed.
    let mut m = mappings();
    m.units.insert("FIT".into(), vec![GroupId(3)]);
    let bad = Lease::new("1", "P", LeaseStatus::Current)
        .with_move_in(d(2026, 5, 1))
        .with_move_out(d(2026, 4, 1)) // before move-in: a bad record
        .with_customer(resident("30", CustomerType::Primary));
    let f = facts(NY, vec![bad]);
    let mut groups = brivo(vec![]).groups;
    groups.push(ObservedGroup::new(GroupId(3), "fitness"));
    let observed = Observed::new(
        vec![
            ObservedUser::new(BrivoUserId(9))
                .with_external_id("sync:entrata:30")
                .with_name("F30", "L30")
                .with_groups([GroupId(1), GroupId(3)]),
        ],
        groups,
    );
    let p = plan(
        &f,
        &m,
        &Policy::default(),
        &observed,
        utc(2026, 6, 1, 12, 0),
    );
    assert!(
        p.held
            .iter()
            .any(|h| h.item == HeldItem::RemoveGroup(GroupId(1))),
        "{p}"
    );
    match p.actions.as_slice() {
        [Action::ChangeGroups { add, remove, .. }] => {
            assert!(add.is_empty());
            assert_eq!(
                remove.iter().map(|c| c.group).collect::<Vec<_>>(),
                [GroupId(3)]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_empty_id_is_a_bad_record_and_the_plan_converges() {
    let lease = Lease::new("1", "P", LeaseStatus::Current)
        .with_move_in(d(2026, 1, 1))
        .with_customer(resident("", CustomerType::Primary))
        .with_customer(resident("  ", CustomerType::Occupant))
        .with_customer(resident("40", CustomerType::CoApplicant));
    let mut f = facts(NY, vec![lease]);
    f.leases.push(
        Lease::new("2", "", LeaseStatus::Current)
            .with_move_in(d(2026, 1, 1))
            .with_customer(resident("41", CustomerType::Primary)),
    );
    let now = utc(2026, 6, 1, 12, 0);
    let first = plan(&f, &mappings(), &Policy::default(), &brivo(vec![]), now);
    let creates: Vec<&str> = first
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::CreateUser { external_id, .. } => Some(external_id.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(creates, ["sync:entrata:40"], "{first}");
    let bad = first
        .warnings
        .iter()
        .filter(|w| matches!(w, Warning::BadRecord { .. }))
        .count();
    assert_eq!(bad, 3, "{first}");
    let after = apply(&first, &brivo(vec![]));
    let second = plan(&f, &mappings(), &Policy::default(), &after, now);
    assert!(second.is_empty(), "{second}");
}

#[test]
fn an_incomplete_scope_is_a_warning_with_its_reason_and_its_zone_is_reported() {
    let mut f = facts(NY, vec![]);
    f.properties[0] =
        Property::new("P", NY).with_zone_source(ZoneSource::Address("state NY".into()));
    f.completeness.mark_incomplete(
        Scope::Property("Q".into()),
        "no time zone: getMitsPropertyUnits refused, no address",
    );
    let observed = brivo(vec![
        ObservedUser::new(BrivoUserId(3))
            .with_external_id("sync:entrata:9")
            .with_groups([GroupId(1)]),
    ]);
    // Q feeds group 1 too: resident 9 may hold it through Q
    let mut m = mappings();
    m.properties.insert("Q".into(), vec![GroupId(1)]);
    let p = plan(
        &f,
        &m,
        &Policy::default(),
        &observed,
        utc(2026, 6, 1, 12, 0),
    );
    assert!(p.actions.is_empty(), "{p}");
    assert_eq!(p.held.len(), 1, "{p}");
    assert!(
        matches!(&p.held[0].rule, HoldRule::Incomplete { scope } if *scope == Scope::Property("Q".into()))
    );
    let text = p.to_string();
    assert!(text.contains("property Q is incomplete (no time zone: getMitsPropertyUnits refused, no address); its revocations are held"), "{text}");
    assert!(
        text.contains(
            "property P America/New_York (inferred from the address (state NY)): 0 named, 0 with access"
        ),
        "{text}"
    );
}

#[test]
fn the_scope_report_counts_people_named_and_with_access() {
    let f = facts(
        NY,
        vec![
            Lease::new("1", "P", LeaseStatus::Current)
                .with_move_in(d(2026, 1, 1))
                .with_customer(resident("1", CustomerType::Primary))
                .with_customer(resident("2", CustomerType::Guarantor)),
            Lease::new("2", "P", LeaseStatus::Future)
                .with_move_in(d(2027, 1, 1))
                .with_customer(resident("3", CustomerType::Primary)),
            Lease::new("3", "P", LeaseStatus::Past)
                .with_move_in(d(2025, 1, 1))
                .with_move_out(d(2025, 12, 31))
                .with_customer(resident("4", CustomerType::Primary)),
        ],
    );
    let p = plan(
        &f,
        &mappings(),
        &Policy::default(),
        &brivo(vec![]),
        utc(2026, 6, 1, 12, 0),
    );
    assert_eq!(p.scopes.len(), 1);
    assert_eq!(p.scopes[0].scope, Scope::Property("P".into()));
    // Named: the primary, the future resident and the past one (the
    // guarantor is not admitted); with access: the first two.
    assert_eq!(p.scopes[0].people, 3, "{p}");
    assert_eq!(p.scopes[0].with_access, 2, "{p}");
    assert_eq!(p.scopes[0].zone.as_deref(), Some(NY));
}

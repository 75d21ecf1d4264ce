//! One test (at least) per access rule, safety rule, warning and error path.

mod common;

use access_engine::*;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use common::*;

const NY: &str = "America/New_York";

fn map() -> Mappings {
    let mut m = Mappings::default();
    m.properties.insert("P".into(), vec![GroupId(1)]);
    m.buildings.insert("B".into(), vec![GroupId(2)]);
    m.units.insert("U".into(), vec![GroupId(3)]);
    m.plans.insert("plan".into(), vec![GroupId(6)]);
    m.locations.insert("L".into(), vec![GroupId(8)]);
    m.day_pass_locations.insert("L".into(), vec![GroupId(9)]);
    m.floors.insert("F".into(), vec![GroupId(11)]);
    m.resources.insert("desk".into(), vec![GroupId(12)]);
    m.resources.insert("room".into(), vec![GroupId(13)]);
    m.directories.insert("D".into(), vec![GroupId(14)]);
    m
}

fn all_groups() -> Vec<ObservedGroup> {
    groups(&[1, 2, 3, 6, 8, 9, 11, 12, 13, 14, 99])
}

fn lease_facts(leases: Vec<Lease>) -> Facts {
    let mut f = Facts::default();
    f.properties = vec![property("P", NY)];
    f.leases = leases;
    f
}

fn one(
    status: LeaseStatus,
    move_in: Option<chrono::NaiveDate>,
    move_out: Option<chrono::NaiveDate>,
) -> Facts {
    lease_facts(vec![lease(
        "1345",
        "P",
        status,
        move_in,
        move_out,
        vec![customer("77", CustomerType::Primary)],
    )])
}

/// Groups of each identity at `t` (identities with none are left out).
fn at(f: &Facts, m: &Mappings, p: &Policy, t: DateTime<Utc>) -> Vec<(String, Vec<i64>)> {
    access_at(f, m, p, None, t)
        .identities
        .into_iter()
        .filter(|i| !i.groups.is_empty())
        .map(|i| (i.external_id, i.groups.iter().map(|g| g.group.0).collect()))
        .collect()
}

fn ids(v: &[(&str, &[i64])]) -> Vec<(String, Vec<i64>)> {
    v.iter()
        .map(|(e, g)| ((*e).to_owned(), g.to_vec()))
        .collect()
}

fn empty_brivo() -> Observed {
    Observed::new(vec![], all_groups())
}

fn noon(y: i32, m: u32, day: u32) -> DateTime<Utc> {
    utc(y, m, day, 16, 0)
}

// ---------------------------------------------------------------- leases

#[test]
fn applicant_and_cancelled_leases_grant_nothing() {
    for s in [LeaseStatus::Applicant, LeaseStatus::Cancelled] {
        let f = one(s, Some(d(2026, 1, 1)), None);
        assert!(at(&f, &map(), &Policy::default(), noon(2026, 3, 1)).is_empty());
    }
}

#[test]
fn future_current_notice_grant_from_move_in_10am_local() {
    for s in [
        LeaseStatus::Future,
        LeaseStatus::Current,
        LeaseStatus::Notice,
    ] {
        let f = one(s.clone(), Some(d(2026, 3, 8)), None);
        let p = Policy::default();
        // 10:00 EDT = 14:00Z (DST began that morning).
        assert!(
            at(&f, &map(), &p, utc(2026, 3, 8, 13, 59)).is_empty(),
            "{s}"
        );
        assert_eq!(
            at(&f, &map(), &p, utc(2026, 3, 8, 14, 0)),
            ids(&[("sync:entrata:77", &[1])]),
            "{s}"
        );
        assert_eq!(
            at(&f, &map(), &p, utc(2030, 1, 1, 0, 0)).len(),
            1,
            "no move-out: perpetual"
        );
    }
}

#[test]
fn move_out_ends_at_4pm_local_plus_grace_and_early_access_starts_earlier() {
    let f = one(
        LeaseStatus::Notice,
        Some(d(2026, 1, 10)),
        Some(d(2026, 6, 30)),
    );
    let p = policy_with(|p| {
        p.early_access_minutes = 60;
        p.grace_minutes = 30;
    });
    // 10:00 EST = 15:00Z, less 60 min.
    assert!(at(&f, &map(), &p, utc(2026, 1, 10, 13, 59)).is_empty());
    assert_eq!(at(&f, &map(), &p, utc(2026, 1, 10, 14, 0)).len(), 1);
    // 16:00 EDT = 20:00Z, plus 30 min.
    assert_eq!(at(&f, &map(), &p, utc(2026, 6, 30, 20, 29)).len(), 1);
    assert!(at(&f, &map(), &p, utc(2026, 6, 30, 20, 30)).is_empty());
}

#[test]
fn past_leases_grant_only_what_their_window_still_covers() {
    let f = one(LeaseStatus::Past, Some(d(2026, 1, 1)), Some(d(2026, 3, 1)));
    let p = Policy::default();
    assert_eq!(at(&f, &map(), &p, noon(2026, 2, 1)).len(), 1);
    assert!(at(&f, &map(), &p, noon(2026, 3, 2)).is_empty());
}

#[test]
fn guarantors_are_not_admitted_by_default_and_types_are_configurable() {
    let f = lease_facts(vec![lease(
        "1",
        "P",
        LeaseStatus::Current,
        Some(d(2026, 1, 1)),
        None,
        vec![
            customer("a", CustomerType::Primary),
            customer("b", CustomerType::CoApplicant),
            customer("c", CustomerType::Occupant),
            customer("g", CustomerType::Guarantor),
            customer("o", CustomerType::Other("Roommate".into())),
        ],
    )]);
    let got = at(&f, &map(), &Policy::default(), noon(2026, 2, 1));
    let exts: Vec<&str> = got.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(exts, ["sync:entrata:a", "sync:entrata:b", "sync:entrata:c"]);
    let p = policy_with(|p| {
        p.admitted_customer_types = vec![
            CustomerType::Guarantor,
            CustomerType::Other("Roommate".into()),
        ]
    });
    let got = at(&f, &map(), &p, noon(2026, 2, 1));
    let exts: Vec<&str> = got.iter().map(|(e, _)| e.as_str()).collect();
    assert_eq!(exts, ["sync:entrata:g", "sync:entrata:o"]);
}

#[test]
fn a_customers_own_move_out_ends_that_customer_alone() {
    let early = customer("b", CustomerType::Occupant).with_move_out(d(2026, 2, 1));
    let f = lease_facts(vec![lease(
        "1",
        "P",
        LeaseStatus::Current,
        Some(d(2026, 1, 1)),
        Some(d(2026, 6, 30)),
        vec![customer("a", CustomerType::Primary), early],
    )]);
    let got = at(&f, &map(), &Policy::default(), noon(2026, 3, 1));
    assert_eq!(got, ids(&[("sync:entrata:a", &[1])]));
}

#[test]
fn transfers_and_renewals_are_overlapping_windows() {
    // Notice on unit U (ends 2026-04-30) and a Future lease in building B
    // (starts 2026-04-25): both apply during the overlap, and the person never
    // loses the property group.
    let old = lease(
        "old",
        "P",
        LeaseStatus::Notice,
        Some(d(2025, 1, 1)),
        Some(d(2026, 4, 30)),
        vec![customer("77", CustomerType::Primary)],
    )
    .with_unit("U");
    let new = lease(
        "new",
        "P",
        LeaseStatus::Future,
        Some(d(2026, 4, 25)),
        None,
        vec![customer("77", CustomerType::Primary)],
    )
    .with_building("B");
    let f = lease_facts(vec![old, new]);
    let p = Policy::default();
    assert_eq!(
        at(&f, &map(), &p, noon(2026, 4, 1)),
        ids(&[("sync:entrata:77", &[1, 3])])
    );
    assert_eq!(
        at(&f, &map(), &p, noon(2026, 4, 27)),
        ids(&[("sync:entrata:77", &[1, 2, 3])])
    );
    assert_eq!(
        at(&f, &map(), &p, noon(2026, 5, 2)),
        ids(&[("sync:entrata:77", &[1, 2])])
    );
    // next_change skips the group-1 seam: it is held throughout.
    let a = access_at(&f, &map(), &p, None, noon(2026, 4, 1));
    assert_eq!(
        a.next_change,
        Some(utc(2026, 4, 25, 14, 0)),
        "building group starts"
    );
    let a = access_at(&f, &map(), &p, None, noon(2026, 4, 27));
    assert_eq!(
        a.next_change,
        Some(utc(2026, 4, 30, 20, 0)),
        "unit group ends"
    );
    // The reason for group 1 names both leases.
    let g1 = &a.identities[0].groups[0];
    assert_eq!(g1.reasons.len(), 2);
}

#[test]
fn unmapped_property_is_reported_and_grants_nothing() {
    let mut f = Facts::default();
    f.properties = vec![property("Q", NY)];
    f.leases = vec![lease(
        "9",
        "Q",
        LeaseStatus::Current,
        Some(d(2026, 1, 1)),
        None,
        vec![customer("1", CustomerType::Primary)],
    )];
    let a = access_at(&f, &map(), &Policy::default(), None, noon(2026, 2, 1));
    assert!(a.identities.iter().all(|i| i.groups.is_empty()));
    assert!(a.warnings.contains(&Warning::UnmappedProperty {
        property_id: "Q".into()
    }));
}

#[test]
fn bad_records_are_skipped_reported_and_hold_revocations() {
    let f = lease_facts(vec![
        lease(
            "bad",
            "P",
            LeaseStatus::Current,
            Some(d(2026, 5, 1)),
            Some(d(2026, 4, 1)),
            vec![customer("77", CustomerType::Primary)],
        ),
        lease(
            "nodate",
            "P",
            LeaseStatus::Current,
            None,
            None,
            vec![customer("78", CustomerType::Primary)],
        ),
        lease(
            "weird",
            "P",
            LeaseStatus::Other("Eviction".into()),
            Some(d(2026, 1, 1)),
            None,
            vec![customer("79", CustomerType::Primary)],
        ),
        lease(
            "ok",
            "P",
            LeaseStatus::Current,
            Some(d(2026, 1, 1)),
            None,
            vec![customer("80", CustomerType::Primary)],
        ),
    ]);
    // 77 is in group 1 (which the bad lease could feed) and group 2 (which
    // it could not: it names no building).
    let observed = Observed::new(
        vec![user(5, Some("sync:entrata:77"), "F77", "L77", &[1, 2])],
        all_groups(),
    );
    let plan = plan(&f, &map(), &Policy::default(), &observed, noon(2026, 6, 1));
    assert!(
        plan.warnings
            .iter()
            .any(|w| matches!(w, Warning::BadRecord { id, .. } if id == "bad"))
    );
    // A lease's missing move-in is reported per resident.
    assert!(plan.warnings.iter().any(|w| matches!(w, Warning::BadRecord { id, problem, .. } if id == "nodate (resident 78)" && problem.contains("move-in"))));
    assert!(
        plan.warnings
            .iter()
            .any(|w| matches!(w, Warning::UnknownStatus { id, .. } if id == "weird"))
    );
    // The good lease still plans; the bad one's customer keeps group 1
    // (held, naming the bad lease) but loses group 2, which it could not feed.
    assert!(
        matches!(&plan.actions[0], Action::CreateUser { external_id, .. } if external_id == "sync:entrata:80")
    );
    assert_eq!(
        changes_of(&plan, &UserRef::Existing(BrivoUserId(5))),
        (vec![], vec![2])
    );
    assert_eq!(plan.held.len(), 1);
    assert_eq!(
        plan.held[0].rule,
        HoldRule::BadRecord {
            kind: FactKind::Lease,
            id: "bad".into()
        }
    );
    assert_eq!(plan.held[0].item, HeldItem::RemoveGroup(GroupId(1)));
}

#[test]
fn unknown_zone_skips_the_property_and_holds_its_revocations() {
    let mut f = Facts::default();
    f.properties = vec![property("P", "America/New_Yrok")];
    f.leases = vec![lease(
        "1",
        "P",
        LeaseStatus::Current,
        Some(d(2026, 1, 1)),
        None,
        vec![customer("77", CustomerType::Primary)],
    )];
    let observed = Observed::new(
        vec![
            user(5, Some("sync:entrata:77"), "F77", "L77", &[1]),
            user(6, None, "X", "Y", &[1]),
        ],
        all_groups(),
    );
    let plan = plan(&f, &map(), &Policy::default(), &observed, noon(2026, 6, 1));
    assert!(plan.warnings.contains(&Warning::UnknownZone {
        scope: Scope::Property("P".into()),
        zone: "America/New_Yrok".into()
    }));
    assert!(plan.is_empty(), "{plan}");
    assert_eq!(plan.held.len(), 2);
    assert!(plan.held.iter().all(|h| h.rule
        == HoldRule::Incomplete {
            scope: Scope::Property("P".into())
        }));
}

#[test]
fn lease_of_a_property_not_in_the_batch_is_reported() {
    let mut f = Facts::default();
    f.leases = vec![lease(
        "1",
        "P",
        LeaseStatus::Current,
        Some(d(2026, 1, 1)),
        None,
        vec![customer("77", CustomerType::Primary)],
    )];
    let a = access_at(&f, &map(), &Policy::default(), None, noon(2026, 6, 1));
    assert!(
        a.warnings.iter().any(
            |w| matches!(w, Warning::UnknownScope { scope: Scope::Property(p), .. } if p == "P")
        )
    );
}

// ------------------------------------------------------------- coworking

fn cowork() -> Facts {
    let member = |id: &str| Member::new(id, Profile::new(id, "M"));
    let mut f = Facts::default();
    f.locations = vec![Location::new("L", "Europe/London")];
    f.members = vec![
        member("m1").with_company("acme"),
        member("m2").with_company("acme"),
        member("m3"),
    ];
    f
}

fn membership(
    id: &str,
    member: Option<&str>,
    company: Option<&str>,
    status: MembershipStatus,
) -> Membership {
    let mut ms = Membership::new(id, "plan", "L", status)
        .with_start(d(2026, 1, 1))
        .with_end(d(2026, 1, 31));
    ms.member_id = member.map(Into::into);
    ms.company_id = company.map(Into::into);
    ms
}

#[test]
fn memberships_grant_over_inclusive_local_dates_and_not_approved_grants_nothing() {
    let mut f = cowork();
    f.memberships = vec![
        membership("a", Some("m3"), None, MembershipStatus::Active),
        membership("n", Some("m1"), None, MembershipStatus::NotApproved),
    ];
    let p = Policy::default();
    assert!(at(&f, &map(), &p, utc(2025, 12, 31, 23, 59)).is_empty());
    assert_eq!(
        at(&f, &map(), &p, utc(2026, 1, 1, 0, 0)),
        ids(&[("sync:officernd:m3", &[6])])
    );
    // Inclusive end: all of Jan 31 (London is on GMT in winter).
    assert_eq!(at(&f, &map(), &p, utc(2026, 1, 31, 23, 59)).len(), 1);
    assert!(at(&f, &map(), &p, utc(2026, 2, 1, 0, 0)).is_empty());
}

#[test]
fn team_membership_without_member_fans_out_to_the_company() {
    let mut f = cowork();
    f.memberships = vec![membership(
        "team",
        None,
        Some("acme"),
        MembershipStatus::Active,
    )];
    assert_eq!(
        at(&f, &map(), &Policy::default(), noon(2026, 1, 15)),
        ids(&[("sync:officernd:m1", &[6]), ("sync:officernd:m2", &[6])])
    );
}

#[test]
fn assignments_grant_resource_floor_and_location_within_the_membership() {
    let mut f = cowork();
    f.memberships = vec![membership("a", Some("m3"), None, MembershipStatus::Active)];
    f.assignments = vec![Assignment::new("as", "a", "desk", "L").with_floor("F")];
    assert_eq!(
        at(&f, &map(), &Policy::default(), noon(2026, 1, 15)),
        ids(&[("sync:officernd:m3", &[6, 8, 11, 12])])
    );
    assert!(at(&f, &map(), &Policy::default(), noon(2026, 2, 15)).is_empty());
}

#[test]
fn bookings_grant_with_lead_and_lag_and_visitors_only_by_policy() {
    let mut f = cowork();
    let start = utc(2026, 2, 10, 9, 0);
    let room = |id: &str| Booking::new(id, "room", "L", start, start + Duration::hours(1));
    f.bookings = vec![
        room("b1")
            .with_booker("m1")
            .with_member("m3")
            .with_visitor(Visitor::new("v1", "Vera Visitor")),
        room("b2").with_booker("m2").with_cancelled(true),
    ];
    // members only (the opt-out)
    let p = policy_with(|p| p.visitors_admitted = false);
    assert!(at(&f, &map(), &p, start - Duration::minutes(16)).is_empty());
    assert_eq!(
        at(&f, &map(), &p, start - Duration::minutes(15)),
        ids(&[("sync:officernd:m1", &[13]), ("sync:officernd:m3", &[13])])
    );
    assert_eq!(at(&f, &map(), &p, start + Duration::minutes(74)).len(), 2);
    assert!(at(&f, &map(), &p, start + Duration::minutes(75)).is_empty());
    // by default a booking's visitors come in too, for the booking
    let p = Policy::default();
    assert_eq!(at(&f, &map(), &p, start + Duration::minutes(74)).len(), 3);
    assert!(at(&f, &map(), &p, start + Duration::minutes(75)).is_empty());
    let a = access_at(&f, &map(), &p, None, start);
    let v = a
        .identity("sync:officernd-visitor:v1")
        .expect("visitor identity");
    assert_eq!(v.profile, Profile::new("Vera", "Visitor"));
    assert_eq!(v.groups[0].group, GroupId(13));
}

#[test]
fn day_passes_grant_on_valid_local_days_while_unused_passes_remain() {
    let mut f = cowork();
    let pass = |id: &str, holder: PassHolder, used: u32| {
        DayPassSet::new(id, holder, "L", d(2026, 7, 1), d(2026, 7, 2), 3).with_used(used)
    };
    f.day_passes = vec![
        pass("mine", PassHolder::Member("m3".into()), 2),
        pass("shared", PassHolder::Company("acme".into()), 1),
        pass("spent", PassHolder::Member("m3".into()), 3),
    ];
    let p = Policy::default();
    // London is on BST (+1): July 1 starts at 23:00Z on June 30.
    assert!(at(&f, &map(), &p, utc(2026, 6, 30, 22, 59)).is_empty());
    assert_eq!(
        at(&f, &map(), &p, utc(2026, 6, 30, 23, 0)),
        ids(&[
            ("sync:officernd:m1", &[9]),
            ("sync:officernd:m2", &[9]),
            ("sync:officernd:m3", &[9])
        ])
    );
    assert!(at(&f, &map(), &p, utc(2026, 7, 2, 23, 0)).is_empty());
    f.day_passes.truncate(0);
    f.day_passes
        .push(pass("spent", PassHolder::Member("m3".into()), 3));
    assert!(
        at(&f, &map(), &p, utc(2026, 7, 1, 12, 0)).is_empty(),
        "exhausted by use"
    );
}

#[test]
fn unknown_member_and_membership_references_are_reported() {
    let mut f = cowork();
    f.memberships = vec![membership(
        "a",
        Some("ghost"),
        None,
        MembershipStatus::Active,
    )];
    f.assignments = vec![Assignment::new("as", "nope", "desk", "L")];
    let a = access_at(&f, &map(), &Policy::default(), None, noon(2026, 1, 15));
    assert!(a.warnings.iter().any(
        |w| matches!(w, Warning::UnknownReference { missing, .. } if missing == "member ghost")
    ));
    assert!(a.warnings.iter().any(
        |w| matches!(w, Warning::UnknownReference { missing, .. } if missing == "membership nope")
    ));
}

// ------------------------------------------------------------- directory

fn dir_user(u: &str, state: DirectoryState) -> DirectoryUser {
    dir_user_in("D", u, state)
}

fn dir_user_in(directory: &str, u: &str, state: DirectoryState) -> DirectoryUser {
    DirectoryUser::new(directory, u, Profile::new(u, "Dir"), state)
}

#[test]
fn directory_lifecycle_states() {
    let mut f = Facts::default();
    f.directory_users = vec![
        dir_user("act", DirectoryState::Active),
        dir_user("sus", DirectoryState::Suspended),
        dir_user("dis", DirectoryState::Disabled),
        dir_user("del", DirectoryState::Deleted),
    ];
    let observed = Observed::new(
        vec![
            user(1, Some("sync:directory:D:sus"), "sus", "Dir", &[14]),
            user(2, Some("sync:directory:D:dis"), "dis", "Dir", &[14]),
            user(3, Some("sync:directory:D:del"), "del", "Dir", &[14]),
        ],
        all_groups(),
    );
    let plan = plan(&f, &map(), &Policy::default(), &observed, noon(2026, 1, 1));
    assert!(
        matches!(&plan.actions[0], Action::CreateUser { external_id, .. } if external_id == "sync:directory:D:act")
    );
    assert!(plan.actions.contains(&Action::Suspend {
        user: BrivoUserId(1),
        reasons: vec![Reason {
            rule: Rule::DirectorySuspended,
            fact: Some(FactRef {
                kind: FactKind::DirectoryUser,
                id: "D/sus".into(),
                note: "Suspended".into()
            }),
            window: None,
        }],
    }));
    assert_eq!(
        changes_of(&plan, &UserRef::Existing(BrivoUserId(1))),
        (vec![], vec![]),
        "suspended keeps groups"
    );
    assert_eq!(
        changes_of(&plan, &UserRef::Existing(BrivoUserId(2))),
        (vec![], vec![14])
    );
    assert!(
        plan.actions
            .iter()
            .any(|a| matches!(a, Action::Delete { user, .. } if *user == BrivoUserId(3)))
    );
    assert!(
        matches!(plan.actions.last(), Some(Action::Delete { .. })),
        "deletes come last"
    );
}

// -------------------------------------------------- ownership and safety

#[test]
fn unowned_users_only_lose_managed_groups_and_unmanaged_groups_are_never_named() {
    let observed = Observed::new(
        vec![
            user(1, None, "Hand", "Made", &[1, 99, 500]),
            user(2, Some("other-system:42"), "Foreign", "Id", &[6]),
        ],
        all_groups(),
    );
    // Every mapped scope is in the batch (empty): nothing is held.
    let mut f = lease_facts(vec![]);
    f.locations.push(Location::new("L", "America/Denver"));
    let plan = plan(&f, &map(), &Policy::default(), &observed, noon(2026, 1, 1));
    assert_eq!(
        changes_of(&plan, &UserRef::Existing(BrivoUserId(1))),
        (vec![], vec![1])
    );
    assert_eq!(
        changes_of(&plan, &UserRef::Existing(BrivoUserId(2))),
        (vec![], vec![6])
    );
    assert_eq!(plan.actions.len(), 2, "nothing but memberships: {plan}");
    let p = policy_with(|p| p.exclusivity = Exclusivity::OwnedOnly);
    assert!(
        access_engine::plan(&Facts::default(), &map(), &p, &observed, noon(2026, 1, 1)).is_empty()
    );
}

#[test]
fn no_access_policies_keep_suspend_delete() {
    let f = one(
        LeaseStatus::Past,
        Some(d(2025, 1, 1)),
        Some(d(2025, 12, 31)),
    );
    let observed = Observed::new(
        vec![
            user(5, Some("sync:entrata:77"), "F77", "L77", &[1]),
            user(6, Some("sync:entrata:gone"), "Gone", "Person", &[]),
        ],
        all_groups(),
    );
    let run = |no_access| {
        let p = policy_with(|p| p.no_access = no_access);
        access_engine::plan(&f, &map(), &p, &observed, noon(2026, 2, 1))
    };
    let keep = run(NoAccessPolicy::Keep);
    assert_eq!(keep.actions.len(), 1);
    assert_eq!(
        changes_of(&keep, &UserRef::Existing(BrivoUserId(5))),
        (vec![], vec![1])
    );
    let suspend = run(NoAccessPolicy::Suspend);
    let suspended: Vec<BrivoUserId> = suspend
        .actions
        .iter()
        .filter_map(|a| match a {
            Action::Suspend { user, .. } => Some(*user),
            _ => None,
        })
        .collect();
    assert_eq!(suspended, [BrivoUserId(5), BrivoUserId(6)]);
    let delete = run(NoAccessPolicy::Delete);
    assert_eq!(delete.actions.len(), 2);
    assert!(
        delete
            .actions
            .iter()
            .all(|a| matches!(a, Action::Delete { .. }))
    );
}

#[test]
fn a_future_resident_is_not_suspended_or_deleted() {
    let f = one(LeaseStatus::Future, Some(d(2026, 9, 1)), None);
    let observed = Observed::new(
        vec![user(5, Some("sync:entrata:77"), "F77", "L77", &[])],
        all_groups(),
    );
    for no_access in [NoAccessPolicy::Suspend, NoAccessPolicy::Delete] {
        let p = policy_with(|p| p.no_access = no_access);
        assert!(access_engine::plan(&f, &map(), &p, &observed, noon(2026, 2, 1)).is_empty());
    }
}

#[test]
fn fields_set_at_creation_only_are_never_written_again() {
    let mut f = one(LeaseStatus::Current, Some(d(2026, 1, 1)), None);
    f.leases[0].customers[0].profile =
        Profile::new("F77", "New").with_email("resident@example.com");
    // an administrator set another email in Brivo; the name changed in Entrata
    let observed = Observed::new(
        vec![
            user(5, Some("sync:entrata:77"), "F77", "Old", &[1])
                .with_email("front-desk@example.com"),
        ],
        all_groups(),
    );
    let p = policy_with(|p| {
        p.profile_kept_in_step = vec![ProfileField::FirstName, ProfileField::LastName]
    });
    let plan = access_engine::plan(&f, &map(), &p, &observed, noon(2026, 2, 1));
    match &plan.actions[..] {
        [Action::UpdateProfile { changed, .. }] => assert_eq!(changed, &[ProfileField::LastName]),
        other => panic!("{other:?}"),
    }
    // only the email differs: nothing to do
    let observed = Observed::new(
        vec![
            user(5, Some("sync:entrata:77"), "F77", "New", &[1])
                .with_email("front-desk@example.com"),
        ],
        all_groups(),
    );
    assert!(access_engine::plan(&f, &map(), &p, &observed, noon(2026, 2, 1)).is_empty());
    // the default keeps every field in step
    let plan = access_engine::plan(&f, &map(), &Policy::default(), &observed, noon(2026, 2, 1));
    assert!(
        matches!(&plan.actions[..], [Action::UpdateProfile { changed, .. }] if changed == &[ProfileField::Email])
    );
}

#[test]
fn owned_users_get_profile_updates_unowned_never() {
    let mut f = one(LeaseStatus::Current, Some(d(2026, 1, 1)), None);
    f.leases[0].customers[0].profile = Profile::new("F77", "L77")
        .with_email("Ada@Example.com")
        .with_phone("+1 555");
    let mut owned = user(5, Some("sync:entrata:77"), "F77", "Old", &[1]);
    owned.emails = vec!["ada@example.com".into()];
    owned.phones = vec!["+1 555".into()];
    let observed = Observed::new(vec![owned], all_groups());
    let plan = plan(&f, &map(), &Policy::default(), &observed, noon(2026, 2, 1));
    match &plan.actions[..] {
        [Action::UpdateProfile { user, changed, .. }] => {
            assert_eq!(*user, BrivoUserId(5));
            assert_eq!(
                changed,
                &[ProfileField::LastName],
                "email compared case-insensitively"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn unsuspends_an_owned_user_with_access_that_it_suspended_itself() {
    let f = one(LeaseStatus::Current, Some(d(2026, 1, 1)), None);
    let u = user(5, Some("sync:entrata:77"), "F77", "L77", &[1])
        .with_suspended(true)
        .with_suspended_by_integration(true);
    let observed = Observed::new(vec![u], all_groups());
    let plan = plan(&f, &map(), &Policy::default(), &observed, noon(2026, 2, 1));
    assert!(
        matches!(&plan.actions[..], [Action::Unsuspend { user, .. }] if *user == BrivoUserId(5))
    );
}

#[test]
fn a_suspension_made_by_hand_stands_until_an_operator_approves_lifting_it() {
    let mut f = one(LeaseStatus::Current, Some(d(2026, 1, 1)), None);
    let u = user(5, Some("sync:entrata:77"), "F77", "L77", &[1]).with_suspended(true);
    let observed = Observed::new(vec![u], all_groups());
    let held = plan(&f, &map(), &Policy::default(), &observed, noon(2026, 2, 1));
    assert!(
        !held
            .actions
            .iter()
            .any(|a| matches!(a, Action::Unsuspend { .. })),
        "{:?}",
        held.actions
    );
    let [h] = &held.held[..] else {
        panic!("one held item: {:?}", held.held)
    };
    assert_eq!(h.item, HeldItem::Unsuspend);
    assert_eq!(h.rule.approval().as_deref(), Some("unsuspend:5"));
    assert!(
        h.rule
            .to_string()
            .contains("someone other than this integration")
    );

    f.baseline.approved.insert("unsuspend:5".into());
    let approved = plan(&f, &map(), &Policy::default(), &observed, noon(2026, 2, 1));
    assert!(
        matches!(&approved.actions[..], [Action::Unsuspend { user, .. }] if *user == BrivoUserId(5))
    );
    assert!(approved.held.is_empty());
}

#[test]
fn adopt_by_email_is_opt_in_and_needs_a_unique_match() {
    let mut f = one(LeaseStatus::Current, Some(d(2026, 1, 1)), None);
    f.leases[0].customers[0].profile = Profile::new("F77", "L77").with_email("ada@example.com");
    let mut existing = user(5, None, "Ada", "L", &[]);
    existing.emails = vec!["ADA@example.com".into()];
    let observed = Observed::new(vec![existing.clone()], all_groups());
    let off = plan(&f, &map(), &Policy::default(), &observed, noon(2026, 2, 1));
    assert!(matches!(&off.actions[0], Action::CreateUser { .. }));
    let p = policy_with(|p| p.adopt_by_email = true);
    let on = access_engine::plan(&f, &map(), &p, &observed, noon(2026, 2, 1));
    assert!(
        matches!(&on.actions[0], Action::AdoptUser { user, external_id, .. } if *user == BrivoUserId(5) && external_id == "sync:entrata:77")
    );
    assert_eq!(
        changes_of(&on, &UserRef::Existing(BrivoUserId(5))),
        (vec![1], vec![])
    );
    // Two unowned users with that email: ambiguous, create instead.
    let mut twin = existing;
    twin.id = BrivoUserId(6);
    let observed = Observed::new(vec![observed.users[0].clone(), twin], all_groups());
    let amb = access_engine::plan(&f, &map(), &p, &observed, noon(2026, 2, 1));
    assert!(matches!(&amb.actions[0], Action::CreateUser { .. }));
}

#[test]
fn adoption_never_takes_a_user_another_integration_or_the_runner_refused() {
    let mut f = one(LeaseStatus::Current, Some(d(2026, 1, 1)), None);
    f.leases[0].customers[0].profile = Profile::new("F77", "L77").with_email("ada@example.com");
    let p = policy_with(|p| p.adopt_by_email = true);
    for (user, why) in [
        (
            user(5, Some("other-app:4411"), "Ada", "L", &[]).with_email("ada@example.com"),
            "it carries external id \"other-app:4411\"",
        ),
        (
            user(5, None, "Ada", "L", &[])
                .with_email("ada@example.com")
                .with_adoption_refused("it is in groups this integration does not manage: 7901"),
            "it is in groups this integration does not manage: 7901",
        ),
    ] {
        let observed = Observed::new(vec![user], all_groups());
        let plan = access_engine::plan(&f, &map(), &p, &observed, noon(2026, 2, 1));
        assert!(
            matches!(&plan.actions[0], Action::CreateUser { .. }),
            "{plan}"
        );
        assert!(
            plan.warnings.contains(&Warning::AdoptionRefused {
                user: BrivoUserId(5),
                reason: why.to_owned()
            }),
            "{:?}",
            plan.warnings
        );
    }
}

#[test]
fn more_than_16_groups_holds_additions_but_applies_removals() {
    let mut m = Mappings::default();
    m.properties
        .insert("P".into(), (1..=17).map(GroupId).collect());
    m.plans.insert("x".into(), vec![GroupId(50)]);
    let f = one(LeaseStatus::Current, Some(d(2026, 1, 1)), None);
    let observed = Observed::new(
        vec![user(5, Some("sync:entrata:77"), "F77", "L77", &[1, 50])],
        groups(&(1..=17).chain([50]).collect::<Vec<_>>()),
    );
    let plan = plan(&f, &m, &Policy::default(), &observed, noon(2026, 2, 1));
    assert_eq!(
        changes_of(&plan, &UserRef::Existing(BrivoUserId(5))),
        (vec![], vec![50])
    );
    assert_eq!(plan.held.len(), 16);
    assert!(plan.held.iter().all(|h| h.rule
        == HoldRule::TooManyGroups {
            desired: 17,
            max: 16
        }));
}

#[test]
fn mass_revocation_threshold_holds_all_revocations_until_approved_for_one_run() {
    let observed = Observed::new(
        (1..=10).map(|i| user(i, None, "U", "U", &[1])).collect(),
        all_groups(),
    );
    let f = one(LeaseStatus::Current, Some(d(2026, 1, 1)), None);
    let p = policy_with(|p| p.revocation_threshold = threshold(Some(5), None));
    let held = plan(&f, &map(), &p, &observed, noon(2026, 2, 1));
    assert_eq!(held.held.len(), 10);
    assert!(held.held.iter().all(|h| h.rule
        == HoldRule::MassRevocation {
            revocations: 10,
            observed_memberships: 10
        }));
    // Additions still go ahead.
    assert_eq!(held.actions.len(), 2, "create + its groups: {held}");
    let p = policy_with(|p| p.revocation_threshold = threshold(None, Some(0.5)));
    assert_eq!(
        access_engine::plan(&f, &map(), &p, &observed, noon(2026, 2, 1))
            .held
            .len(),
        10
    );
    let mut approved = f.clone();
    approved.baseline.approved.insert("revocations:10".into());
    let plan = access_engine::plan(&approved, &map(), &p, &observed, noon(2026, 2, 1));
    assert!(plan.held.is_empty());
    assert_eq!(plan.group_changes(), 11);
}

#[test]
fn incomplete_sources_hold_revocations_but_not_grants() {
    let f = {
        let mut f = lease_facts(vec![lease(
            "1",
            "P",
            LeaseStatus::Current,
            Some(d(2026, 1, 1)),
            None,
            vec![customer("new", CustomerType::Primary)],
        )]);
        f.completeness
            .mark_incomplete(Scope::Property("P".into()), "getLeases: HTTP 503");
        f.completeness
            .mark_incomplete(Scope::Directory("D".into()), "feed timed out");
        f.locations.push(Location::new("L", "America/Denver"));
        f
    };
    let observed = Observed::new(
        vec![
            user(5, Some("sync:entrata:gone"), "G", "G", &[1]),
            user(6, None, "Hand", "Made", &[1, 8]),
            user(7, Some("sync:directory:D:x"), "X", "X", &[14]),
        ],
        all_groups(),
    );
    let p = policy_with(|p| p.no_access = NoAccessPolicy::Delete);
    let plan = plan(&f, &map(), &p, &observed, noon(2026, 2, 1));
    // The new resident is created; nobody fed by P or D loses anything;
    // the unowned user still leaves location group 8 (its scope is complete).
    assert!(matches!(&plan.actions[0], Action::CreateUser { .. }));
    assert_eq!(
        changes_of(&plan, &UserRef::Existing(BrivoUserId(6))),
        (vec![], vec![8])
    );
    assert!(
        !plan
            .actions
            .iter()
            .any(|a| matches!(a, Action::Delete { .. }))
    );
    let rules: Vec<(&HeldItem, &HoldRule)> = plan.held.iter().map(|h| (&h.item, &h.rule)).collect();
    let p_scope = HoldRule::Incomplete {
        scope: Scope::Property("P".into()),
    };
    let d_scope = HoldRule::Incomplete {
        scope: Scope::Directory("D".into()),
    };
    assert!(rules.contains(&(&HeldItem::Delete, &p_scope)));
    assert!(rules.contains(&(&HeldItem::RemoveGroup(GroupId(1)), &p_scope)));
    assert!(rules.contains(&(&HeldItem::Delete, &d_scope)));
    // Each incomplete scope is a warning that carries its reason.
    assert!(plan.warnings.contains(&Warning::IncompleteScope {
        scope: Scope::Property("P".into()),
        reason: "getLeases: HTTP 503".into(),
    }));
}

#[test]
fn a_missing_managed_group_is_reported_and_never_planned() {
    let f = one(LeaseStatus::Current, Some(d(2026, 1, 1)), None);
    let observed = Observed::new(vec![], groups(&[2]));
    let plan = plan(&f, &map(), &Policy::default(), &observed, noon(2026, 2, 1));
    assert!(
        plan.warnings
            .contains(&Warning::MissingGroup { group: GroupId(1) })
    );
    assert!(
        plan.is_empty(),
        "no group left to give, no user to create: {plan}"
    );
}

#[test]
fn duplicate_identities_and_external_ids_are_reported() {
    let mut a = customer("77", CustomerType::Primary);
    a.profile = Profile::new("Ada", "X");
    let mut b = customer("77", CustomerType::Primary);
    b.profile = Profile::new("Bea", "X");
    let f = lease_facts(vec![
        lease(
            "1",
            "P",
            LeaseStatus::Current,
            Some(d(2026, 1, 1)),
            None,
            vec![a],
        ),
        lease(
            "2",
            "P",
            LeaseStatus::Current,
            Some(d(2026, 1, 1)),
            None,
            vec![b],
        ),
    ]);
    let observed = Observed::new(
        vec![
            user(9, Some("sync:entrata:77"), "Ada", "X", &[1]),
            user(8, Some("sync:entrata:77"), "Ada", "X", &[1]),
        ],
        all_groups(),
    );
    let plan = plan(&f, &map(), &Policy::default(), &observed, noon(2026, 2, 1));
    assert!(plan.warnings.contains(&Warning::DuplicateIdentity {
        external_id: "sync:entrata:77".into()
    }));
    assert!(plan.warnings.contains(&Warning::DuplicateExternalId {
        external_id: "sync:entrata:77".into(),
        users: vec![BrivoUserId(8), BrivoUserId(9)],
    }));
    // The lowest id keeps the identity; the other is treated as unowned.
    assert_eq!(
        changes_of(&plan, &UserRef::Existing(BrivoUserId(9))),
        (vec![], vec![1])
    );
    assert_eq!(
        changes_of(&plan, &UserRef::Existing(BrivoUserId(8))),
        (vec![], vec![])
    );
}

// ------------------------------------------------------------------- plan

#[test]
fn converged_state_plans_nothing_and_plans_are_byte_identical() {
    let f = lease_facts(vec![
        lease(
            "1",
            "P",
            LeaseStatus::Current,
            Some(d(2026, 1, 1)),
            None,
            vec![
                customer("a", CustomerType::Primary),
                customer("b", CustomerType::Occupant),
            ],
        ),
        lease(
            "2",
            "P",
            LeaseStatus::Future,
            Some(d(2026, 9, 1)),
            None,
            vec![customer("c", CustomerType::Primary)],
        ),
    ]);
    let now = noon(2026, 2, 1);
    let first = plan(&f, &map(), &Policy::default(), &empty_brivo(), now);
    assert_eq!(first.actions.len(), 4, "{first}");
    let json = serde_json::to_string(&first).expect("json");
    assert_eq!(
        json,
        serde_json::to_string(&plan(&f, &map(), &Policy::default(), &empty_brivo(), now))
            .expect("json")
    );
    let after = apply(&first, &empty_brivo());
    let second = plan(&f, &map(), &Policy::default(), &after, now);
    assert!(second.is_empty(), "{second}");
    assert_eq!(second.next_change, Some(utc(2026, 9, 1, 14, 0)));
}

#[test]
fn a_saved_plan_is_refused_when_brivo_changed() {
    let f = one(LeaseStatus::Current, Some(d(2026, 1, 1)), None);
    let observed = empty_brivo();
    let plan = plan(&f, &map(), &Policy::default(), &observed, noon(2026, 2, 1));
    assert!(plan.check_observed(&observed).is_ok());
    let mut changed = observed.clone();
    changed.users.push(user(1, None, "New", "Person", &[]));
    let err = plan.check_observed(&changed).expect_err("stale");
    assert_eq!(err.planned, plan.meta.observed_digest);
    assert!(err.to_string().starts_with("stale plan"));
    assert_eq!(plan.meta.engine_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(plan.meta.tzdb_version, chrono_tz::IANA_TZDB_VERSION);
}

#[test]
fn actions_come_in_kind_order_with_one_group_change_per_user() {
    let f = lease_facts(vec![
        {
            let mut l = lease(
                "1",
                "P",
                LeaseStatus::Current,
                Some(d(2026, 1, 1)),
                None,
                vec![customer("a", CustomerType::Primary)],
            );
            l.unit_id = Some("U".into());
            l
        },
        lease(
            "2",
            "P",
            LeaseStatus::Current,
            Some(d(2026, 1, 1)),
            None,
            vec![customer("b", CustomerType::Primary)],
        ),
    ]);
    let sus = user(3, Some("sync:entrata:b"), "Fb", "Lb", &[])
        .with_suspended(true)
        .with_suspended_by_integration(true);
    let observed = Observed::new(
        vec![sus, user(4, Some("sync:entrata:z"), "Z", "Z", &[1, 3])],
        all_groups(),
    );
    let p = policy_with(|p| p.no_access = NoAccessPolicy::Suspend);
    let plan = plan(&f, &map(), &p, &observed, noon(2026, 2, 1));
    let kinds: Vec<&str> = plan
        .actions
        .iter()
        .map(|a| match a {
            Action::CreateUser { .. } => "create",
            Action::Unsuspend { .. } => "unsuspend",
            Action::ChangeGroups { .. } => "groups",
            Action::Suspend { .. } => "suspend",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "create",
            "unsuspend",
            "groups",
            "groups",
            "groups",
            "suspend"
        ],
        "{plan}"
    );
    assert_eq!(
        changes_of(&plan, &UserRef::New("sync:entrata:a".into())),
        (vec![1, 3], vec![])
    );
    assert_eq!(
        changes_of(&plan, &UserRef::Existing(BrivoUserId(4))),
        (vec![], vec![1, 3])
    );
}

#[test]
fn reasons_read_like_the_design_and_the_table_prints_them() {
    let f = one(LeaseStatus::Current, Some(d(2026, 3, 8)), None);
    let plan = plan(
        &f,
        &map(),
        &Policy::default(),
        &empty_brivo(),
        noon(2026, 4, 1),
    );
    let Action::ChangeGroups { add, .. } = &plan.actions[1] else {
        panic!("{plan}")
    };
    assert_eq!(
        add[0].reasons[0].to_string(),
        "lease 1345 Current, from 2026-03-08 10:00 America/New_York, perpetual"
    );
    let text = plan.to_string();
    assert!(
        text.contains("create    sync:entrata:77: F77 L77"),
        "{text}"
    );
    assert!(text.contains("+ group 1"), "{text}");
}

#[test]
fn next_change_is_the_move_in_instant_not_the_next_poll() {
    let f = one(LeaseStatus::Future, Some(d(2026, 6, 1)), None);
    let plan = plan(
        &f,
        &map(),
        &Policy::default(),
        &empty_brivo(),
        noon(2026, 5, 1),
    );
    assert!(plan.is_empty());
    assert_eq!(plan.next_change, Some(utc(2026, 6, 1, 14, 0)));
}

#[test]
fn policy_and_mappings_load_from_config_with_defaults() {
    let p: Policy = serde_json::from_str(
        r#"{"no_access": "Suspend", "revocation_threshold": {"max_share": 0.1}}"#,
    )
    .expect("policy");
    assert_eq!(p.no_access, NoAccessPolicy::Suspend);
    assert_eq!(p.revocation_threshold.max_share, Some(0.1));
    assert_eq!(p.revocation_threshold.max_count, Some(500));
    assert_eq!(
        p.start_time,
        NaiveTime::from_hms_opt(10, 0, 0).expect("time")
    );
    assert_eq!(p.max_groups_per_user, 16);
    let m: Mappings = serde_json::from_str(r#"{"resources": {"desk": [12]}}"#).expect("mappings");
    assert_eq!(m.managed_groups().len(), 1);
}

#[test]
fn coworking_and_directory_warning_paths() {
    let mut f = cowork();
    f.locations.push(Location::new("Bad", "Mars/Olympus"));
    let mut unmapped_plan = membership("up", Some("m3"), None, MembershipStatus::Active);
    unmapped_plan.plan_id = "nope".into();
    let mut other = membership(
        "os",
        Some("m3"),
        None,
        MembershipStatus::Other("paused".into()),
    );
    other.plan_id = "plan".into();
    let mut backwards = membership("bw", Some("m3"), None, MembershipStatus::Active);
    backwards.end = Some(d(2025, 12, 1));
    let mut on_mars = membership("mars", Some("m3"), None, MembershipStatus::Active);
    on_mars.location_id = "Bad".into();
    f.memberships = vec![
        unmapped_plan,
        other,
        backwards,
        on_mars,
        membership("ok", Some("m1"), None, MembershipStatus::Active),
    ];
    f.assignments = vec![Assignment::new("as", "ok", "nowhere", "L9")];
    let t = utc(2026, 1, 10, 9, 0);
    f.bookings =
        vec![Booking::new("rev", "room", "L", t, t - Duration::hours(1)).with_booker("m1")];
    let m1 = || PassHolder::Member("m1".into());
    f.day_passes = vec![
        DayPassSet::new("dp-bad", m1(), "L", d(2026, 1, 5), d(2026, 1, 1), 1),
        DayPassSet::new("dp-unmapped", m1(), "L2", d(2026, 1, 1), d(2026, 1, 1), 1),
    ];
    f.locations.push(Location::new("L2", "Europe/Paris"));
    f.directory_users = vec![
        dir_user_in("a:b", "x", DirectoryState::Active),
        dir_user_in("Unmapped", "y", DirectoryState::Active),
    ];
    let a = access_at(&f, &map(), &Policy::default(), None, t);
    let has = |pred: &dyn Fn(&Warning) -> bool| a.warnings.iter().any(pred);
    assert!(has(
        &|w| matches!(w, Warning::UnmappedPlan { plan_id } if plan_id == "nope")
    ));
    assert!(has(
        &|w| matches!(w, Warning::UnknownStatus { id, .. } if id == "os")
    ));
    assert!(has(
        &|w| matches!(w, Warning::BadRecord { id, .. } if id == "bw")
    ));
    assert!(has(
        &|w| matches!(w, Warning::UnknownZone { scope: Scope::Location(l), .. } if l == "Bad")
    ));
    assert!(has(
        &|w| matches!(w, Warning::UnmappedResource { resource_id } if resource_id == "nowhere")
    ));
    assert!(has(
        &|w| matches!(w, Warning::BadRecord { id, .. } if id == "rev")
    ));
    assert!(has(
        &|w| matches!(w, Warning::BadRecord { id, .. } if id == "dp-bad")
    ));
    assert!(has(
        &|w| matches!(w, Warning::UnmappedLocation { location_id } if location_id == "L2")
    ));
    assert!(has(&|w| matches!(
        w,
        Warning::BadRecord {
            kind: FactKind::DirectoryUser,
            ..
        }
    )));
    assert!(has(
        &|w| matches!(w, Warning::UnmappedDirectory { directory_id } if directory_id == "Unmapped")
    ));
    // Only the good membership grants; every warning renders as a sentence.
    let granted: Vec<&str> = a
        .identities
        .iter()
        .filter(|i| !i.groups.is_empty())
        .map(|i| i.external_id.as_str())
        .collect();
    assert_eq!(granted, ["sync:officernd:m1"]);
    assert!(a.warnings.iter().all(|w| !w.to_string().is_empty()));
    // The backwards membership's person keeps what they have (held), and the
    // location with an unknown zone counts as incomplete.
    let observed = Observed::new(
        vec![user(5, Some("sync:officernd:m3"), "m3", "M", &[6])],
        all_groups(),
    );
    let plan = plan(&f, &map(), &Policy::default(), &observed, t);
    assert!(
        plan.held
            .iter()
            .any(|h| h.user == UserRef::Existing(BrivoUserId(5)))
    );
    assert_eq!(
        changes_of(&plan, &UserRef::Existing(BrivoUserId(5))),
        (vec![], vec![])
    );
}

#[test]
fn building_mappings_say_so_when_leases_carry_no_building() {
    let mut f = one(LeaseStatus::Current, Some(d(2026, 1, 1)), None);
    let m = map(); // maps building B
    let observed = Observed::new(vec![], all_groups());
    let warned = |f: &Facts| {
        plan(f, &m, &Policy::default(), &observed, noon(2026, 2, 1))
            .warnings
            .contains(&Warning::NoBuilding {
                property_id: "P".into(),
            })
    };
    assert!(
        warned(&f),
        "getLeases r2 sends no building: the mapping cannot apply"
    );
    f.leases[0].building_id = Some("B".into());
    assert!(!warned(&f));
    // no building mappings, nothing to say
    f.leases[0].building_id = None;
    let mut m = map();
    m.buildings.clear();
    let plan = plan(&f, &m, &Policy::default(), &observed, noon(2026, 2, 1));
    assert!(
        !plan
            .warnings
            .iter()
            .any(|w| matches!(w, Warning::NoBuilding { .. }))
    );
}

#[test]
fn mobile_pass_invitations_go_once_to_users_with_access_and_an_email() {
    let mut f = one(LeaseStatus::Current, Some(d(2026, 1, 1)), None);
    f.leases[0].customers[0].profile = Profile::new("F77", "L77").with_email("ada@example.com");
    let p = policy_with(|p| p.invite_mobile_pass = true);
    let invites = |plan: &Plan| -> Vec<(UserRef, bool)> {
        plan.actions
            .iter()
            .filter_map(|a| match a {
                Action::InviteMobilePass { user, reissue, .. } => Some((user.clone(), *reissue)),
                _ => None,
            })
            .collect()
    };
    // a new user: created, given its groups, then invited
    let empty = Observed::new(vec![], all_groups());
    let plan = access_engine::plan(&f, &map(), &p, &empty, noon(2026, 2, 1));
    let kinds: Vec<&str> = plan
        .actions
        .iter()
        .map(|a| match a {
            Action::CreateUser { .. } => "create",
            Action::ChangeGroups { .. } => "groups",
            Action::InviteMobilePass { .. } => "invite",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["create", "groups", "invite"]);
    assert_eq!(
        invites(&plan),
        [(UserRef::New("sync:entrata:77".into()), false)]
    );
    // off by default
    let plan = access_engine::plan(&f, &map(), &Policy::default(), &empty, noon(2026, 2, 1));
    assert!(invites(&plan).is_empty());

    // an existing user: invited once, then not again
    let owned = user(5, Some("sync:entrata:77"), "F77", "L77", &[1]).with_email("ada@example.com");
    let plan = access_engine::plan(
        &f,
        &map(),
        &p,
        &Observed::new(vec![owned.clone()], all_groups()),
        noon(2026, 2, 1),
    );
    assert_eq!(invites(&plan), [(UserRef::Existing(BrivoUserId(5)), false)]);
    let invited = Observed::new(vec![owned.with_mobile_pass_invited(true)], all_groups());
    let plan = access_engine::plan(&f, &map(), &p, &invited, noon(2026, 2, 1));
    assert!(invites(&plan).is_empty(), "{plan}");
    // an operator asks for a new one
    f.baseline.approved.insert("invite:5".into());
    let plan = access_engine::plan(&f, &map(), &p, &invited, noon(2026, 2, 1));
    assert_eq!(invites(&plan), [(UserRef::Existing(BrivoUserId(5)), true)]);
    assert!(check_approval_id("invite:5").is_ok());

    // suspended by hand (its unsuspension held): a pass would open nothing
    f.baseline.approved.clear();
    let by_hand = user(5, Some("sync:entrata:77"), "F77", "L77", &[1])
        .with_email("ada@example.com")
        .with_suspended(true);
    let plan = access_engine::plan(
        &f,
        &map(),
        &p,
        &Observed::new(vec![by_hand], all_groups()),
        noon(2026, 2, 1),
    );
    assert!(invites(&plan).is_empty(), "{plan}");

    // a saved plan that adopts a user and invites it is the config's own
    let mut adopting = p.clone();
    adopting.adopt_by_email = true;
    let unowned = Observed::new(
        vec![user(9, None, "F77", "L77", &[]).with_email("ada@example.com")],
        all_groups(),
    );
    let saved = access_engine::plan(&f, &map(), &adopting, &unowned, noon(2026, 2, 1));
    assert_eq!(
        invites(&saved),
        [(UserRef::Existing(BrivoUserId(9)), false)]
    );
    assert!(
        saved
            .check_applicable(
                &map(),
                &adopting,
                &unowned,
                noon(2026, 2, 1),
                chrono::TimeDelta::hours(1)
            )
            .is_ok()
    );

    // no access yet, or no email: nothing
    let plan = access_engine::plan(&f, &map(), &p, &empty, noon(2025, 12, 1));
    assert!(invites(&plan).is_empty());
    f.leases[0].customers[0].profile = Profile::new("F77", "L77");
    let plan = access_engine::plan(&f, &map(), &p, &empty, noon(2026, 2, 1));
    assert!(invites(&plan).is_empty());
}

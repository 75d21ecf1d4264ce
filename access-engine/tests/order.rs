//! The plan does not depend on the order of its input, even when the input
//! repeats itself: a membership id given twice (with different contents), a
//! member id given twice (with different profiles), a property or location
//! given twice with different zones (or once with an unknown one). And the
//! order of new users rests on a specified hash, pinned here.

use access_engine::*;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;

fn date(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).expect("date")
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 10, 12, 0, 0).unwrap()
}

fn mappings() -> Mappings {
    let mut m = Mappings::default();
    m.properties.insert("p0".into(), vec![GroupId(1)]);
    m.properties.insert("p1".into(), vec![GroupId(2)]);
    m.plans.insert("pl0".into(), vec![GroupId(6)]);
    m.plans.insert("pl1".into(), vec![GroupId(7)]);
    m.locations.insert("l0".into(), vec![GroupId(8)]);
    m.locations.insert("l1".into(), vec![GroupId(9)]);
    m.resources.insert("r0".into(), vec![GroupId(12)]);
    m.floors.insert("f0".into(), vec![GroupId(11)]);
    m
}

fn observed() -> Observed {
    let groups = [1, 2, 6, 7, 8, 9, 11, 12]
        .into_iter()
        .map(|g| ObservedGroup::new(GroupId(g), format!("g{g}")))
        .collect();
    let users = vec![
        // owned users whose facts are duplicated: revocations or holds
        ObservedUser::new(BrivoUserId(500))
            .with_external_id("sync:officernd:m0")
            .with_name("M", "Zero")
            .with_groups([GroupId(6), GroupId(8), GroupId(12)]),
        ObservedUser::new(BrivoUserId(501))
            .with_external_id("sync:entrata:c1")
            .with_name("Res", "One")
            .with_groups([GroupId(2)]),
    ];
    Observed::new(users, groups)
}

const ZONES: &[&str] = &[
    "America/New_York",
    "Europe/London",
    "Bogus/Zone",
    "Australia/Lord_Howe",
];

/// Facts that repeat ids: each generated record takes its id from a small
/// pool, so duplicates are common.
fn facts() -> impl Strategy<Value = Facts> {
    let props = prop::collection::vec((0..2usize, 0..ZONES.len()), 1..5);
    let locs = prop::collection::vec((0..2usize, 0..ZONES.len()), 1..5);
    let members = prop::collection::vec((0..3usize, 0..3usize, prop::option::of(0..2usize)), 0..6);
    let memberships = prop::collection::vec(
        (
            0..3usize,
            0..2usize,
            0..2usize,
            prop::option::of(0..3usize),
            prop::option::of(0..2usize),
            prop::option::of(1..20u32),
            prop::option::of(1..31u32),
        ),
        0..6,
    );
    let assignments = prop::collection::vec((0..3usize, 0..3usize, 0..2usize), 0..5);
    let leases = prop::collection::vec((0..3usize, 0..2usize, 0..3usize, 0..3usize), 0..6);
    (props, locs, members, memberships, assignments, leases).prop_map(
        |(props, locs, members, memberships, assignments, leases)| {
            let mut f = Facts::default();
            for (p, z) in props {
                f.properties
                    .push(Property::new(format!("p{p}"), ZONES[z]).with_zone_source(
                        if z % 2 == 0 {
                            ZoneSource::Configured
                        } else {
                            ZoneSource::Given
                        },
                    ));
            }
            for (l, z) in locs {
                f.locations.push(Location::new(format!("l{l}"), ZONES[z]));
            }
            for (m, name, company) in members {
                let mut member = Member::new(
                    format!("m{m}"),
                    Profile::new(["Ada", "Alan", "Grace"][name], "Member"),
                );
                if let Some(c) = company {
                    member = member.with_company(format!("co{c}"));
                }
                f.members.push(member);
            }
            for (id, plan, loc, member, company, start, end) in memberships {
                let mut ms = Membership::new(
                    format!("ms{id}"),
                    format!("pl{plan}"),
                    format!("l{loc}"),
                    MembershipStatus::Active,
                )
                .with_start(start.map(date))
                .with_end(end.map(date));
                if let Some(m) = member {
                    ms = ms.with_member(format!("m{m}"));
                }
                if let Some(c) = company {
                    ms = ms.with_company(format!("co{c}"));
                }
                f.memberships.push(ms);
            }
            for (id, ms, loc) in assignments {
                f.assignments.push(
                    Assignment::new(format!("a{id}"), format!("ms{ms}"), "r0", format!("l{loc}"))
                        .with_floor("f0"),
                );
            }
            for (id, p, c, name) in leases {
                f.leases.push(
                    Lease::new(format!("L{id}"), format!("p{p}"), LeaseStatus::Current)
                        .with_move_in(date(1))
                        .with_customer(Customer::new(
                            format!("c{c}"),
                            CustomerType::Primary,
                            Profile::new(["Ada", "Alan", "Grace"][name], "Resident"),
                        )),
                );
            }
            f
        },
    )
}

/// A deterministic shuffle (xorshift Fisher-Yates) of every input vector.
fn shuffled(f: &Facts, o: &Observed, mut seed: u64) -> (Facts, Observed) {
    fn shuffle<T>(v: &mut [T], seed: &mut u64) {
        for i in (1..v.len()).rev() {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            v.swap(i, (*seed % (i as u64 + 1)) as usize);
        }
    }
    seed |= 1;
    let mut f = f.clone();
    shuffle(&mut f.properties, &mut seed);
    shuffle(&mut f.locations, &mut seed);
    shuffle(&mut f.members, &mut seed);
    shuffle(&mut f.memberships, &mut seed);
    shuffle(&mut f.assignments, &mut seed);
    shuffle(&mut f.leases, &mut seed);
    let mut o = o.clone();
    shuffle(&mut o.users, &mut seed);
    shuffle(&mut o.groups, &mut seed);
    (f, o)
}

fn json(p: &Plan) -> String {
    serde_json::to_string_pretty(p).expect("json")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn repeated_ids_and_zones_do_not_make_the_plan_depend_on_input_order(
        f in facts(),
        seeds in prop::collection::vec(any::<u64>(), 3),
    ) {
        let (m, p, o) = (mappings(), Policy::default(), observed());
        let first = json(&plan(&f, &m, &p, &o, now()));
        for seed in seeds {
            let (f2, o2) = shuffled(&f, &o, seed);
            let again = json(&plan(&f2, &m, &p, &o2, now()));
            prop_assert_eq!(&first, &again);
        }
    }
}

#[test]
fn a_zone_given_twice_differently_holds_the_property_whatever_the_order() {
    let mut m = Mappings::default();
    m.properties.insert("p1".into(), vec![GroupId(2)]);
    let (p, o) = (Policy::default(), observed());
    let lease = Lease::new("L1", "p1", LeaseStatus::Current)
        .with_move_in(date(1))
        .with_customer(Customer::new(
            "c9",
            CustomerType::Primary,
            Profile::new("New", "Resident"),
        ));
    let mut plans = Vec::new();
    for zones in [
        ["America/New_York", "Europe/London", "America/New_York"],
        ["America/New_York", "America/New_York", "Europe/London"],
        ["Europe/London", "America/New_York", "America/New_York"],
    ] {
        let mut f = Facts::default();
        for z in zones {
            f.properties.push(Property::new("p1", z));
        }
        f.leases.push(lease.clone());
        plans.push(plan(&f, &m, &p, &o, now()));
    }
    for other in &plans[1..] {
        assert_eq!(json(&plans[0]), json(other));
    }
    let plan = &plans[0];
    // Fail-safe: the property's time is unknown, so its leases grant nothing
    // and its revocations are held (Res One keeps group 2).
    assert!(plan.actions.is_empty(), "{plan}");
    assert!(plan.held.iter().any(|h| h.user == UserRef::Existing(BrivoUserId(501))
        && matches!(&h.rule, HoldRule::Incomplete { scope } if *scope == Scope::Property("p1".into()))));
    let conflicts: Vec<_> = plan
        .warnings
        .iter()
        .filter(|w| matches!(w, Warning::UnknownZone { .. }))
        .collect();
    assert_eq!(conflicts.len(), 1, "{conflicts:?}");
    assert!(
        conflicts[0]
            .to_string()
            .contains("America/New_York, Europe/London"),
        "{}",
        conflicts[0]
    );
}

#[test]
fn a_membership_id_given_twice_differently_is_a_bad_record_that_holds() {
    let mut m = Mappings::default();
    m.plans.insert("pl0".into(), vec![GroupId(6)]);
    m.locations.insert("l0".into(), vec![GroupId(8)]);
    m.resources.insert("r0".into(), vec![GroupId(12)]);
    m.floors.insert("f0".into(), vec![GroupId(11)]);
    let (p, o) = (Policy::default(), observed());
    let mut f = Facts::default();
    f.locations.push(Location::new("l0", "America/New_York"));
    f.members.push(Member::new("m0", Profile::new("M", "Zero")));
    let a = Membership::new("ms0", "pl0", "l0", MembershipStatus::Active)
        .with_member("m0")
        .with_start(date(1))
        .with_end(date(5)); // ended before now
    let b = Membership::new("ms0", "pl0", "l0", MembershipStatus::Active)
        .with_member("m0")
        .with_start(date(1)); // perpetual
    f.assignments
        .push(Assignment::new("a0", "ms0", "r0", "l0").with_floor("f0"));
    let mut plans = Vec::new();
    for order in [[&a, &b], [&b, &a]] {
        let mut f = f.clone();
        f.memberships = order.into_iter().cloned().collect();
        plans.push(plan(&f, &m, &p, &o, now()));
    }
    assert_eq!(json(&plans[0]), json(&plans[1]));
    let plan = &plans[0];
    assert!(
        plan.warnings.iter().any(|w| matches!(w,
            Warning::BadRecord { kind: FactKind::Membership, id, .. } if id == "ms0")),
        "{plan}"
    );
    // Which record is right cannot be told: nothing of m0's it fed (the
    // plan's 6, the assignment's 8, 11, 12) is granted or revoked.
    assert!(plan.actions.is_empty(), "{plan}");
    let held: Vec<_> = plan
        .held
        .iter()
        .filter(|h| h.user == UserRef::Existing(BrivoUserId(500)))
        .map(|h| (h.item.clone(), h.rule.clone()))
        .collect();
    let bad = |kind, id: &str| HoldRule::BadRecord {
        kind,
        id: id.into(),
    };
    assert_eq!(
        held,
        vec![
            (
                HeldItem::RemoveGroup(GroupId(6)),
                bad(FactKind::Membership, "ms0")
            ),
            (
                HeldItem::RemoveGroup(GroupId(8)),
                bad(FactKind::Assignment, "a0")
            ),
            (
                HeldItem::RemoveGroup(GroupId(12)),
                bad(FactKind::Assignment, "a0")
            ),
        ]
    );

    // The same record given twice is just one record.
    let mut f = f.clone();
    f.memberships = vec![b.clone(), b];
    let plan = access_engine::plan(&f, &m, &p, &o, now());
    assert!(
        !plan
            .warnings
            .iter()
            .any(|w| matches!(w, Warning::BadRecord { .. })),
        "{plan}"
    );
    assert!(plan.held.is_empty(), "{plan}");
    // m0 keeps 6, 8 and 12 and gets the floor's 11.
    assert_eq!(plan.actions.len(), 1, "{plan}");
}

/// The golden order of new users under [`ORDER_HASH_VERSION`] 2: sorted by
/// FNV-1a 64 of each identity's canonical encoding (the hashes below were
/// computed independently of this crate, from the documented encoding).
/// If this test fails, the order of new users changed: that needs a new
/// `ORDER_HASH_VERSION`, not a new golden list.
#[test]
fn new_users_come_in_the_specified_hash_order() {
    assert_eq!(ORDER_HASH_VERSION, 2);
    let at = |h| Utc.with_ymd_and_hms(2026, 3, 10, h, 0, 0).unwrap();
    let mut f = Facts::default();
    f.properties.push(Property::new("100", "America/New_York"));
    for c in ["77", "78", "79", "1000"] {
        f.leases.push(
            Lease::new(format!("L{c}"), "100", LeaseStatus::Current)
                .with_move_in(date(1))
                .with_customer(Customer::new(
                    c,
                    CustomerType::Primary,
                    Profile::new("Res", c),
                )),
        );
    }
    f.locations.push(Location::new("l0", "America/New_York"));
    for m in ["m1", "m2"] {
        f.members.push(Member::new(m, Profile::new("Mem", m)));
        f.memberships.push(
            Membership::new(format!("ms-{m}"), "pl0", "l0", MembershipStatus::Active)
                .with_member(m)
                .with_start(date(1)),
        );
    }
    f.bookings.push(
        Booking::new("b1", "r0", "l0", at(11), at(13))
            .with_booker("m1")
            .with_visitor(Visitor::new("v1", "Vic Visitor")),
    );
    for u in ["u1", "u2"] {
        f.directory_users.push(DirectoryUser::new(
            "hq",
            u,
            Profile::new("Dir", u),
            DirectoryState::Active,
        ));
    }
    let mut m = Mappings::default();
    m.properties.insert("100".into(), vec![GroupId(1)]);
    m.plans.insert("pl0".into(), vec![GroupId(6)]);
    m.resources.insert("r0".into(), vec![GroupId(12)]);
    m.directories.insert("hq".into(), vec![GroupId(14)]);
    let o = Observed::new(
        vec![],
        [1, 6, 12, 14]
            .into_iter()
            .map(|g| ObservedGroup::new(GroupId(g), format!("g{g}")))
            .collect(),
    );
    let mut policy = Policy::default();
    policy.visitors_admitted = true;

    let golden = [
        "sync:directory:hq:u2",      // 0x00820472d1286aab
        "sync:directory:hq:u1",      // 0x00820572d1286c5e
        "sync:entrata:79",           // 0x56c8f1c6f9db5c42
        "sync:entrata:78",           // 0x56c8f2c6f9db5df5
        "sync:entrata:77",           // 0x56c8f3c6f9db5fa8
        "sync:officernd-visitor:v1", // 0x84d522392d701db9
        "sync:entrata:1000",         // 0x965dff0d0d72abb5
        "sync:officernd:m2",         // 0xbbd3b98f36778cd4
        "sync:officernd:m1",         // 0xbbd3bc8f367791ed
    ];
    for seed in [0, 1, 2, 3] {
        let (f, o) = if seed == 0 {
            (f.clone(), o.clone())
        } else {
            shuffled(&f, &o, seed)
        };
        let plan = plan(&f, &m, &policy, &o, now());
        assert_eq!(plan.meta.order_hash_version, ORDER_HASH_VERSION);
        let created: Vec<&str> = plan
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::CreateUser { external_id, .. } => Some(external_id.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(created, golden, "{plan}");
        // Their group changes follow in the same order.
        let changed: Vec<String> = plan
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::ChangeGroups {
                    user: UserRef::New(ext),
                    ..
                } => Some(ext.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(changed, golden);
    }
}

#[test]
fn plans_saved_before_the_order_hash_was_recorded_still_read() {
    let p = plan(
        &Facts::default(),
        &Mappings::default(),
        &Policy::default(),
        &Observed::default(),
        now(),
    );
    let mut json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["meta"]["order_hash_version"], 2);
    json["meta"]
        .as_object_mut()
        .unwrap()
        .remove("order_hash_version");
    let old: Plan = serde_json::from_value(json).unwrap();
    assert_eq!(old.meta.order_hash_version, 0);
}

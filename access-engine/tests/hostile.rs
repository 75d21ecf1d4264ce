//! `plan()` on hostile input never panics: empty, odd and huge ids, ids
//! that look like our external ids, extreme dates and instants (the ends
//! of chrono's range), bogus zones, and any policy that passes
//! [`Policy::validate`]. Bounded sizes and a modest case count keep
//! `cargo test` fast.

use access_engine::*;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use proptest::prelude::*;

fn id() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec!["p0", "l0", "m0", "ms0", "r0", "d0", "u0", "k0", "c0", "pl0"])
            .prop_map(str::to_owned),
        1 => Just(String::new()),
        1 => prop::sample::select(vec![":", "::", "sync:", "sync:entrata::", "sync:officernd:", "é", "\u{0}", " "])
            .prop_map(str::to_owned),
        1 => Just("x".repeat(300)),
        1 => "\\PC{0,8}",
    ]
}

fn date() -> impl Strategy<Value = NaiveDate> {
    prop_oneof![
        3 => (-400i64..400).prop_map(|d| NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default() + Duration::days(d)),
        1 => Just(NaiveDate::MIN),
        1 => Just(NaiveDate::MAX),
        1 => Just(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()),
    ]
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    prop_oneof![
        3 => (-10_000i64..10_000).prop_map(|h| DateTime::<Utc>::from_timestamp(1_772_000_000 + h * 3600, 0).unwrap_or_default()),
        1 => Just(DateTime::<Utc>::MIN_UTC),
        1 => Just(DateTime::<Utc>::MAX_UTC),
        1 => Just(DateTime::<Utc>::MAX_UTC - Duration::days(1)),
        1 => Just(DateTime::<Utc>::MIN_UTC + Duration::days(1)),
    ]
}

fn zone() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "America/New_York",
        "Australia/Lord_Howe",
        "Bogus/Zone",
        "",
        "UTC",
    ])
}

fn status() -> impl Strategy<Value = LeaseStatus> {
    prop_oneof![
        Just(LeaseStatus::Current),
        Just(LeaseStatus::Future),
        Just(LeaseStatus::Notice),
        Just(LeaseStatus::Past),
        Just(LeaseStatus::Other(String::new())),
    ]
}

fn profile() -> impl Strategy<Value = Profile> {
    (id(), id(), prop::option::of(id())).prop_map(|(f, l, e)| {
        let mut p = Profile::new(f, l);
        p.email = e;
        p
    })
}

#[derive(Debug, Clone)]
struct Case {
    facts: Facts,
    observed: Observed,
    policy: Policy,
    now: DateTime<Utc>,
}

fn case() -> impl Strategy<Value = Case> {
    let leases = prop::collection::vec(
        (
            id(),
            id(),
            status(),
            prop::option::of(date()),
            prop::option::of(date()),
            id(),
            profile(),
        ),
        0..4,
    );
    let coworking = (
        prop::collection::vec((id(), profile()), 0..3),
        prop::collection::vec(
            (
                id(),
                id(),
                id(),
                prop::option::of(id()),
                prop::option::of(date()),
                prop::option::of(date()),
            ),
            0..3,
        ),
        prop::collection::vec(
            (
                id(),
                id(),
                id(),
                instant(),
                instant(),
                prop::option::of(id()),
            ),
            0..3,
        ),
        prop::collection::vec(
            (id(), id(), id(), date(), date(), any::<u32>(), any::<u32>()),
            0..2,
        ),
        prop::collection::vec((id(), id(), id(), id()), 0..2),
    );
    let places = (
        prop::collection::vec((id(), zone()), 0..3),
        prop::collection::vec((id(), zone()), 0..2),
        prop::collection::vec((id(), id(), profile()), 0..3),
    );
    let users = prop::collection::vec(
        (
            prop::option::of(id().prop_map(|s| format!("sync:{s}"))),
            profile(),
            any::<bool>(),
            prop::collection::btree_set(-2i64..20, 0..4),
        ),
        0..5,
    );
    let policy = (
        0u32..=MAX_POLICY_MINUTES,
        0u32..=MAX_POLICY_MINUTES,
        0u32..=MAX_POLICY_MINUTES,
        0u32..=MAX_POLICY_MINUTES,
        1usize..=16,
        any::<bool>(),
        prop_oneof![
            Just(NoAccessPolicy::Keep),
            Just(NoAccessPolicy::Suspend),
            Just(NoAccessPolicy::Delete)
        ],
    );
    (leases, coworking, places, users, policy, instant()).prop_map(
        |(
            leases,
            (members, memberships, bookings, passes, assignments),
            (props, locs, dir),
            users,
            pol,
            now,
        )| {
            let mut facts = Facts::default();
            facts.properties = props
                .into_iter()
                .map(|(i, z)| Property::new(i, z))
                .collect();
            facts.locations = locs.into_iter().map(|(i, z)| Location::new(i, z)).collect();
            facts.leases = leases
                .into_iter()
                .map(|(l, p, s, mi, mo, c, profile)| {
                    Lease::new(l, p, s)
                        .with_move_in(mi)
                        .with_move_out(mo)
                        .with_customer(Customer::new(c, CustomerType::Primary, profile))
                })
                .collect();
            facts.members = members
                .into_iter()
                .map(|(i, p)| Member::new(i, p))
                .collect();
            facts.memberships = memberships
                .into_iter()
                .map(|(i, plan, loc, member, start, end)| {
                    let mut ms = Membership::new(i, plan, loc, MembershipStatus::Active)
                        .with_start(start)
                        .with_end(end);
                    ms.member_id = member;
                    ms
                })
                .collect();
            facts.bookings = bookings
                .into_iter()
                .map(|(i, r, l, start, end, booker)| {
                    let mut b = Booking::new(i, r, l, start, end);
                    b.booker_id = booker.clone();
                    match booker {
                        Some(m) => b.with_member(m),
                        None => b,
                    }
                })
                .collect();
            facts.day_passes = passes
                .into_iter()
                .map(|(i, m, l, from, to, count, used)| {
                    DayPassSet::new(i, PassHolder::Member(m), l, from, to, count).with_used(used)
                })
                .collect();
            facts.assignments = assignments
                .into_iter()
                .map(|(i, ms, r, l)| Assignment::new(i, ms, r, l))
                .collect();
            facts.directory_users = dir
                .into_iter()
                .map(|(d, u, p)| DirectoryUser::new(d, u, p, DirectoryState::Active))
                .collect();
            let mut seen = std::collections::BTreeSet::new();
            let observed = Observed::new(
                users
                    .into_iter()
                    .enumerate()
                    .map(|(i, (ext, p, suspended, gs))| {
                        let mut u = ObservedUser::new(BrivoUserId(i as i64 + 1))
                            .with_name(p.first_name, p.last_name)
                            .with_suspended(suspended)
                            .with_groups(gs.into_iter().map(GroupId));
                        // Brivo keeps external ids unique
                        u.external_id = ext.filter(|e| seen.insert(e.clone()));
                        u
                    })
                    .collect(),
                (-2i64..20)
                    .map(|g| ObservedGroup::new(GroupId(g), format!("g{g}")))
                    .collect(),
            );
            let (early, grace, lead, lag, max_groups, visitors, no_access) = pol;
            let mut policy = Policy::default();
            policy.early_access_minutes = early;
            policy.grace_minutes = grace;
            policy.booking_lead_minutes = lead;
            policy.booking_lag_minutes = lag;
            policy.max_groups_per_user = max_groups;
            policy.visitors_admitted = visitors;
            policy.no_access = no_access;
            Case {
                facts,
                observed,
                policy,
                now,
            }
        },
    )
}

fn mappings() -> Mappings {
    let groups: Vec<GroupId> = (0..18).map(GroupId).collect();
    let mut m = Mappings::default();
    for key in ["p0", ""] {
        m.properties.insert(key.to_owned(), groups.clone());
    }
    for key in ["pl0", ":"] {
        m.plans.insert(key.to_owned(), groups.clone());
    }
    m.locations.insert("l0".to_owned(), groups.clone());
    m.day_pass_locations.insert("l0".to_owned(), groups.clone());
    m.resources.insert("r0".to_owned(), groups.clone());
    m.directories.insert("d0".to_owned(), groups);
    m
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn plan_never_panics_on_hostile_facts(case in case()) {
        prop_assert_eq!(case.policy.validate(), Ok(()));
        let plan = plan(&case.facts, &mappings(), &case.policy, &case.observed, case.now);
        // and the plan serializes (the audit log writes it)
        let _ = serde_json::to_string(&plan);
    }
}

//! `exclusions`: every person a fact names but grants nothing says why, and
//! the plan is the same whether or not anyone asks.

use access_engine::*;
use chrono::{NaiveDate, TimeZone, Utc};

fn day(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

fn person(id: &str, first: &str, ty: CustomerType) -> Customer {
    Customer::new(id, ty, Profile::new(first, "Test"))
}

fn facts() -> Facts {
    let mut f = Facts::default();
    f.properties.push(Property::new("100", "America/New_York"));
    f.properties.push(Property::new("200", "America/Chicago"));
    f.leases.push(
        Lease::new("1", "100", LeaseStatus::Current)
            .with_move_in(day(2026, 1, 1))
            .with_customer(person("a", "Alice", CustomerType::Primary))
            .with_customer(person("g", "Gina", CustomerType::Guarantor))
            .with_customer(
                person("c", "Cara", CustomerType::Occupant).with_status(LeaseStatus::Cancelled),
            ),
    );
    f.leases.push(
        Lease::new("2", "100", LeaseStatus::Cancelled)
            .with_move_in(day(2026, 2, 1))
            .with_customer(person("d", "Dan", CustomerType::Primary)),
    );
    f.leases.push(
        Lease::new("3", "200", LeaseStatus::Current)
            .with_move_in(day(2026, 2, 1))
            .with_customer(person("u", "Una", CustomerType::Primary)),
    );
    f.leases.push(
        Lease::new("4", "100", LeaseStatus::Notice)
            .with_move_in(day(2026, 1, 1))
            .with_move_out(day(2026, 3, 1))
            // her own move-in falls after the lease's move-out
            .with_customer(person("e", "Eve", CustomerType::Primary).with_move_in(day(2026, 3, 2))),
    );
    f.locations.push(Location::new("loc", "America/Denver"));
    f.members
        .push(Member::new("m1", Profile::new("Pete", "Ruiz")));
    f.members
        .push(Member::new("m2", Profile::new("Noah", "Kim")));
    f.memberships.push(
        Membership::new("ms1", "plan", "loc", MembershipStatus::NotApproved)
            .with_member("m1")
            .with_start(day(2026, 1, 1)),
    );
    let t = |d| Utc.with_ymd_and_hms(2026, 11, d, 15, 0, 0).unwrap();
    f.bookings.push(
        Booking::new(
            "b1",
            "room",
            "loc",
            t(30),
            t(30) + chrono::Duration::hours(1),
        )
        .with_booker("m2")
        .with_cancelled(true),
    );
    f.bookings.push(
        Booking::new(
            "b2",
            "closet",
            "loc",
            t(30),
            t(30) + chrono::Duration::hours(1),
        )
        .with_booker("m2"),
    );
    f.directory_users.push(DirectoryUser::new(
        "unmapped-dir",
        "u1",
        Profile::new("Rene", "Ortiz"),
        DirectoryState::Active,
    ));
    f
}

fn mappings() -> Mappings {
    let mut m = Mappings::default();
    m.properties.insert("100".into(), vec![GroupId(7)]);
    m.plans.insert("plan".into(), vec![GroupId(8)]);
    m.resources.insert("room".into(), vec![GroupId(9)]);
    m
}

#[test]
fn each_person_a_fact_names_but_does_not_admit_says_why() {
    let why: Vec<(String, String)> = exclusions(&facts(), &mappings(), &Policy::default(), None)
        .into_iter()
        .map(|x| (x.profile.first_name, x.why))
        .collect();
    let expect = [
        ("Cara", "the resident's own status Cancelled admits nobody"),
        ("Dan", "a Cancelled lease admits nobody"),
        (
            "Eve",
            "no time between move-in 2026-03-02 and move-out 2026-03-01",
        ),
        (
            "Gina",
            "Guarantor customers are not admitted (policy.admitted_customer_types)",
        ),
        ("Noah", "resource closet is mapped to no group"),
        ("Noah", "the booking is cancelled"),
        ("Pete", "a membership not approved admits nobody"),
        ("Rene", "directory unmapped-dir is mapped to no group"),
        (
            "Una",
            "property 200 (and its building and unit) is mapped to no group",
        ),
    ];
    for (name, reason) in expect {
        assert!(
            why.iter().any(|(n, w)| n == name && w == reason),
            "{name}: {reason:?} missing from {why:#?}"
        );
    }
    assert!(!why.iter().any(|(n, _)| n == "Alice"), "Alice is admitted");
}

#[test]
fn asking_why_not_changes_nothing_in_the_plan() {
    let (f, m, p) = (facts(), mappings(), Policy::default());
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
    let before = serde_json::to_string(&access_at(&f, &m, &p, None, now)).unwrap();
    let _ = exclusions(&f, &m, &p, None);
    let after = serde_json::to_string(&access_at(&f, &m, &p, None, now)).unwrap();
    assert_eq!(before, after);
}

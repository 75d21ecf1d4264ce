//! A saved plan is applied only by the config it was made under, while it
//! is young, and only if every action stays within that config's managed
//! groups and owned users.

use access_engine::*;
use chrono::{DateTime, NaiveDate, TimeDelta, TimeZone, Utc};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 1, 12, 0, 0)
        .single()
        .expect("valid")
}

fn setup() -> (Facts, Mappings, Policy, Observed) {
    let mut f = Facts::default();
    f.properties.push(Property::new("P", "America/New_York"));
    f.leases.push(
        Lease::new("1", "P", LeaseStatus::Current)
            .with_move_in(NaiveDate::from_ymd_opt(2026, 1, 1))
            .with_customer(Customer::new(
                "7",
                CustomerType::Primary,
                Profile::new("Ada", "L"),
            )),
    );
    let mut m = Mappings::default();
    m.properties
        .insert("P".into(), vec![GroupId(2), GroupId(1)]);
    let mut p = Policy::default();
    p.no_access = NoAccessPolicy::Delete;
    let o = Observed::new(
        vec![
            ObservedUser::new(BrivoUserId(10))
                .with_external_id("sync:entrata:gone")
                .with_groups([GroupId(1)]),
            ObservedUser::new(BrivoUserId(11)).with_name("Sam", "Staff"),
        ],
        vec![
            ObservedGroup::new(GroupId(1), "a"),
            ObservedGroup::new(GroupId(2), "b"),
        ],
    );
    (f, m, p, o)
}

#[test]
fn an_untouched_plan_is_applicable_and_group_order_does_not_change_the_digest() {
    let (f, m, p, o) = setup();
    let saved = plan(&f, &m, &p, &o, now());
    assert!(saved.actions.iter().any(|a| matches!(
        a,
        Action::Delete {
            user: BrivoUserId(10),
            ..
        }
    )));
    assert_eq!(
        saved.check_applicable(&m, &p, &o, now(), TimeDelta::hours(1)),
        Ok(())
    );
    let mut reordered = m.clone();
    reordered
        .properties
        .insert("P".into(), vec![GroupId(1), GroupId(2), GroupId(1)]);
    assert_eq!(config_digest(&m, &p), config_digest(&reordered, &p));
    assert_eq!(
        saved.check_applicable(&reordered, &p, &o, now(), TimeDelta::hours(1)),
        Ok(())
    );
}

#[test]
fn a_tampered_plan_that_deletes_an_unowned_user_is_refused() {
    let (f, m, p, o) = setup();
    let mut saved = plan(&f, &m, &p, &o, now());
    for a in &mut saved.actions {
        if let Action::Delete { user, .. } = a {
            *user = BrivoUserId(11); // Sam, staff, no external id
        }
    }
    let err = saved
        .check_applicable(&m, &p, &o, now(), TimeDelta::hours(1))
        .unwrap_err();
    assert!(matches!(err, PlanRefused::OutOfScope { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("changes user 11, which this config does not own"),
        "{err}"
    );
}

#[test]
fn a_tampered_plan_that_names_an_unmanaged_group_is_refused() {
    let (f, m, p, o) = setup();
    let mut saved = plan(&f, &m, &p, &o, now());
    for a in &mut saved.actions {
        if let Action::ChangeGroups { add, .. } = a
            && let Some(c) = add.first_mut()
        {
            c.group = GroupId(7901);
        }
    }
    let err = saved
        .check_applicable(&m, &p, &o, now(), TimeDelta::hours(1))
        .unwrap_err();
    assert!(err.to_string().contains("group 7901"), "{err}");
}

#[test]
fn a_plan_made_under_another_policy_or_too_long_ago_is_refused() {
    let (f, m, p, o) = setup();
    let saved = plan(&f, &m, &p, &o, now());
    let mut other = p.clone();
    other.no_access = NoAccessPolicy::Keep;
    assert!(matches!(
        saved.check_applicable(&m, &other, &o, now(), TimeDelta::hours(1)),
        Err(PlanRefused::ConfigChanged { .. })
    ));
    // An old plan would re-grant a resident who moved out since.
    assert!(matches!(
        saved.check_applicable(
            &m,
            &p,
            &o,
            now() + TimeDelta::minutes(61),
            TimeDelta::hours(1)
        ),
        Err(PlanRefused::TooOld { .. })
    ));
}

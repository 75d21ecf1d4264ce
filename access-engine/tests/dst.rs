//! Daylight saving, done right.
//!
//! Named example tests hard-code instants and assume tzdb **2025b** (the
//! version in chrono-tz 0.10.4; cross-checked against Python's zoneinfo).
//! Each calls `assume_tzdb()`, so a tzdb upgrade makes them fail loudly and
//! get re-checked rather than silently drift. The property tests at the end
//! compute their expectations from chrono-tz's own transition data
//! (`LocalResult`, `GapInfo`) and hold for any version.

mod common;

use access_engine::time::{end_of_inclusive_date, parse_zone, start_of_day};
use access_engine::*;
use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::{GapInfo, Tz};
use common::*;
use proptest::prelude::*;

const TZDB: &str = "2025b";

fn assume_tzdb() {
    assert_eq!(
        chrono_tz::IANA_TZDB_VERSION,
        TZDB,
        "these examples were computed for tzdb {TZDB}; re-check them for the new version"
    );
}

fn tz(name: &str) -> Tz {
    parse_zone(name).expect("known zone")
}

fn local(y: i32, m: u32, day: u32, h: u32, mi: u32) -> NaiveDateTime {
    d(y, m, day).and_hms_opt(h, mi, 0).expect("valid time")
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().expect("RFC 3339 instant")
}

/// (zone, gap local time, expected instant = end of the gap)
/// A local wall time: (year, month, day, hour, minute).
type Wall = (i32, u32, u32, u32, u32);

const GAPS: &[(&str, Wall, &str)] = &[
    (
        "America/New_York",
        (2026, 3, 8, 2, 30),
        "2026-03-08T07:00:00Z",
    ),
    (
        "Europe/London",
        (2026, 3, 29, 1, 30),
        "2026-03-29T01:00:00Z",
    ),
    (
        "Australia/Sydney",
        (2026, 10, 4, 2, 30),
        "2026-10-03T16:00:00Z",
    ),
    (
        "America/Santiago",
        (2026, 9, 6, 0, 30),
        "2026-09-06T04:00:00Z",
    ),
    ("America/Havana", (2026, 3, 8, 0, 0), "2026-03-08T05:00:00Z"),
    ("Asia/Beirut", (2026, 3, 29, 0, 15), "2026-03-28T22:00:00Z"),
    (
        "Europe/Dublin",
        (2026, 3, 29, 1, 30),
        "2026-03-29T01:00:00Z",
    ),
    (
        "Australia/Lord_Howe",
        (2026, 10, 4, 2, 15),
        "2026-10-03T15:30:00Z",
    ),
];

/// (zone, fold local time, expected start = earlier, expected end = later)
const FOLDS: &[(&str, Wall, &str, &str)] = &[
    (
        "America/New_York",
        (2026, 11, 1, 1, 30),
        "2026-11-01T05:30:00Z",
        "2026-11-01T06:30:00Z",
    ),
    (
        "Europe/London",
        (2026, 10, 25, 1, 30),
        "2026-10-25T00:30:00Z",
        "2026-10-25T01:30:00Z",
    ),
    (
        "Australia/Sydney",
        (2026, 4, 5, 2, 30),
        "2026-04-04T15:30:00Z",
        "2026-04-04T16:30:00Z",
    ),
    (
        "America/Santiago",
        (2026, 4, 4, 23, 30),
        "2026-04-05T02:30:00Z",
        "2026-04-05T03:30:00Z",
    ),
    (
        "America/Havana",
        (2026, 11, 1, 0, 0),
        "2026-11-01T04:00:00Z",
        "2026-11-01T05:00:00Z",
    ),
    (
        "Asia/Beirut",
        (2026, 10, 24, 23, 30),
        "2026-10-24T20:30:00Z",
        "2026-10-24T21:30:00Z",
    ),
    (
        "Europe/Dublin",
        (2026, 10, 25, 1, 30),
        "2026-10-25T00:30:00Z",
        "2026-10-25T01:30:00Z",
    ),
    (
        "Australia/Lord_Howe",
        (2026, 4, 5, 1, 45),
        "2026-04-04T14:45:00Z",
        "2026-04-04T15:15:00Z",
    ),
];

#[test]
fn gap_resolves_to_the_end_of_the_gap_for_starts_and_ends() {
    assume_tzdb();
    for &(zone, (y, m, day, h, mi), want) in GAPS {
        let t = local(y, m, day, h, mi);
        assert!(
            tz(zone).from_local_datetime(&t).single().is_none(),
            "{zone} {t} is not in a gap"
        );
        assert_eq!(
            resolve(tz(zone), t, Edge::Start),
            at(want),
            "{zone} {t} start"
        );
        assert_eq!(resolve(tz(zone), t, Edge::End), at(want), "{zone} {t} end");
    }
}

#[test]
fn fold_resolves_earlier_for_starts_and_later_for_ends() {
    assume_tzdb();
    for &(zone, (y, m, day, h, mi), start, end) in FOLDS {
        let t = local(y, m, day, h, mi);
        assert_eq!(
            resolve(tz(zone), t, Edge::Start),
            at(start),
            "{zone} {t} start"
        );
        assert_eq!(resolve(tz(zone), t, Edge::End), at(end), "{zone} {t} end");
    }
}

#[test]
fn midnight_gap_start_of_day_is_the_end_of_the_gap() {
    assume_tzdb();
    // Santiago, Havana and Beirut skip midnight: the day starts at 01:00.
    assert_eq!(
        start_of_day(tz("America/Santiago"), d(2026, 9, 6)),
        at("2026-09-06T04:00:00Z")
    );
    assert_eq!(
        start_of_day(tz("America/Havana"), d(2026, 3, 8)),
        at("2026-03-08T05:00:00Z")
    );
    assert_eq!(
        start_of_day(tz("Asia/Beirut"), d(2026, 3, 29)),
        at("2026-03-28T22:00:00Z")
    );
    // An inclusive end date the day before ends at that same instant.
    assert_eq!(
        end_of_inclusive_date(tz("America/Santiago"), d(2026, 9, 5)),
        Some(at("2026-09-06T04:00:00Z"))
    );
}

#[test]
fn midnight_fold_inclusive_end_date_takes_the_later_midnight() {
    assume_tzdb();
    // Havana repeats 00:00–01:00 on 2026-11-01. DESIGN's choice: a membership
    // ending (inclusively) on 2026-10-31 runs until the *later* midnight,
    // 05:00Z, not 04:00Z, and the next day's start takes the earlier one.
    let havana = tz("America/Havana");
    assert_eq!(
        end_of_inclusive_date(havana, d(2026, 10, 31)),
        Some(at("2026-11-01T05:00:00Z"))
    );
    assert_eq!(
        start_of_day(havana, d(2026, 11, 1)),
        at("2026-11-01T04:00:00Z")
    );
    // So back-to-back memberships overlap by the repeated hour, never gap.
}

/// A lease whose move-in and move-out times fall in the gap and the fold.
fn lease_window(
    zone: &str,
    start: (u32, u32),
    end: (u32, u32),
    move_in: NaiveDate,
    move_out: NaiveDate,
) -> (Facts, Mappings, Policy) {
    let mut facts = Facts::default();
    facts.properties = vec![property("P", zone)];
    facts.leases = vec![lease(
        "1",
        "P",
        LeaseStatus::Current,
        Some(move_in),
        Some(move_out),
        vec![customer("c", CustomerType::Primary)],
    )];
    let mut mappings = Mappings::default();
    mappings.properties.insert("P".into(), vec![GroupId(1)]);
    let mut policy = Policy::default();
    policy.start_time = NaiveTime::from_hms_opt(start.0, start.1, 0).expect("time");
    policy.end_time = NaiveTime::from_hms_opt(end.0, end.1, 0).expect("time");
    (facts, mappings, policy)
}

fn holds(f: &Facts, m: &Mappings, p: &Policy, t: DateTime<Utc>) -> bool {
    access_at(f, m, p, None, t)
        .identities
        .iter()
        .any(|i| !i.groups.is_empty())
}

#[test]
fn lease_times_in_the_gap_and_the_fold_new_york() {
    assume_tzdb();
    // Move in at 02:30 on spring-forward day (gap), move out at 01:30 on
    // fall-back day (fold).
    let (f, m, p) = lease_window(
        "America/New_York",
        (2, 30),
        (1, 30),
        d(2026, 3, 8),
        d(2026, 11, 1),
    );
    assert!(!holds(&f, &m, &p, at("2026-03-08T06:59:59Z")));
    assert!(
        holds(&f, &m, &p, at("2026-03-08T07:00:00Z")),
        "opens at 03:00 EDT"
    );
    assert!(
        holds(&f, &m, &p, at("2026-11-01T06:29:59Z")),
        "second 01:29 EST still open"
    );
    assert!(
        !holds(&f, &m, &p, at("2026-11-01T06:30:00Z")),
        "closes at the later 01:30"
    );
    let a = access_at(&f, &m, &p, None, at("2026-03-08T06:00:00Z"));
    assert_eq!(a.next_change, Some(at("2026-03-08T07:00:00Z")));
}

#[test]
fn lease_times_in_the_gap_and_the_fold_london_and_sydney() {
    assume_tzdb();
    let (f, m, p) = lease_window(
        "Europe/London",
        (1, 30),
        (1, 30),
        d(2026, 3, 29),
        d(2026, 10, 25),
    );
    let a = access_at(&f, &m, &p, None, at("2026-03-29T00:00:00Z"));
    assert_eq!(a.next_change, Some(at("2026-03-29T01:00:00Z")));
    let a = access_at(&f, &m, &p, None, at("2026-10-25T00:45:00Z"));
    assert_eq!(a.next_change, Some(at("2026-10-25T01:30:00Z")));

    // Southern hemisphere: the gap is in October, the fold in April.
    let (f, m, p) = lease_window(
        "Australia/Sydney",
        (2, 30),
        (2, 30),
        d(2026, 4, 5),
        d(2026, 10, 4),
    );
    let a = access_at(&f, &m, &p, None, at("2026-04-04T00:00:00Z"));
    assert_eq!(
        a.next_change,
        Some(at("2026-04-04T15:30:00Z")),
        "start takes the earlier 02:30"
    );
    let a = access_at(&f, &m, &p, None, at("2026-10-03T12:00:00Z"));
    assert_eq!(
        a.next_change,
        Some(at("2026-10-03T16:00:00Z")),
        "end in the gap: 03:00 AEDT"
    );
}

#[test]
fn memberships_in_zones_that_change_at_midnight() {
    assume_tzdb();
    for (zone, start, want_start) in [
        ("America/Santiago", d(2026, 9, 6), "2026-09-06T04:00:00Z"),
        ("Asia/Beirut", d(2026, 3, 29), "2026-03-28T22:00:00Z"),
        ("America/Havana", d(2026, 3, 8), "2026-03-08T05:00:00Z"),
    ] {
        let mut facts = Facts::default();
        facts.locations = vec![Location::new("L", zone)];
        facts.members = vec![Member::new("m", Profile::new("M", "M"))];
        facts.memberships = vec![
            Membership::new("ms", "plan", "L", MembershipStatus::Active)
                .with_member("m")
                .with_start(start)
                .with_end(start + Duration::days(30)),
        ];
        let mut m = Mappings::default();
        m.plans.insert("plan".into(), vec![GroupId(6)]);
        let a = access_at(
            &facts,
            &m,
            &Policy::default(),
            None,
            at(want_start) - Duration::hours(5),
        );
        assert_eq!(a.next_change, Some(at(want_start)), "{zone}");
    }
}

#[test]
fn reasons_show_local_times_in_the_zone() {
    assume_tzdb();
    let (f, m, p) = lease_window(
        "America/New_York",
        (2, 30),
        (16, 0),
        d(2026, 3, 8),
        d(2026, 6, 30),
    );
    let a = access_at(&f, &m, &p, None, at("2026-04-01T00:00:00Z"));
    assert_eq!(
        a.identities[0].groups[0].reasons[0].to_string(),
        "lease 1 Current, from 2026-03-08 03:00 America/New_York, until 2026-06-30 16:00 America/New_York"
    );
}

// ---- Properties (STYLE.md 11.5), expectations from chrono-tz's own data ----

fn any_zone() -> impl Strategy<Value = Tz> {
    prop::sample::select(chrono_tz::TZ_VARIANTS.to_vec())
}

fn any_local() -> impl Strategy<Value = NaiveDateTime> {
    // 1970-01-01 .. 2037-12-31, minute resolution.
    (0i64..(68 * 366 * 24 * 60)).prop_map(|m| local(1970, 1, 1, 0, 0) + Duration::minutes(m))
}

/// Local times near the 2026 transitions of the zones we care about.
fn near_transition() -> impl Strategy<Value = (Tz, NaiveDateTime)> {
    let cases: Vec<(&str, NaiveDateTime)> = GAPS
        .iter()
        .map(|&(z, (y, m, d0, h, mi), _)| (z, local(y, m, d0, h, mi)))
        .chain(
            FOLDS
                .iter()
                .map(|&(z, (y, m, d0, h, mi), _, _)| (z, local(y, m, d0, h, mi))),
        )
        .collect();
    (prop::sample::select(cases), -180i64..180)
        .prop_map(|((z, t), off)| (tz(z), t + Duration::minutes(off)))
}

fn wall(tz: Tz, t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&tz).naive_local()
}

fn check_point(tz: Tz, t: NaiveDateTime) -> Result<(), TestCaseError> {
    let s = resolve(tz, t, Edge::Start);
    let e = resolve(tz, t, Edge::End);
    // 1. start <= end
    prop_assert!(s <= e);
    // 3. the wall clock reads t, or the end of the gap t falls in.
    match tz.from_local_datetime(&t) {
        LocalResult::Single(x) => {
            prop_assert_eq!(s, x.with_timezone(&Utc));
            prop_assert_eq!(e, s);
        }
        LocalResult::Ambiguous(a, b) => {
            prop_assert_eq!(s, a.min(b).with_timezone(&Utc));
            prop_assert_eq!(e, a.max(b).with_timezone(&Utc));
            prop_assert_eq!(wall(tz, s), t);
            prop_assert_eq!(wall(tz, e), t);
        }
        LocalResult::None => {
            let end = GapInfo::new(&t, &tz)
                .and_then(|g| g.end)
                .expect("gap has an end");
            prop_assert_eq!(s, end.with_timezone(&Utc));
            prop_assert_eq!(e, s);
            prop_assert!(wall(tz, s) > t);
        }
    }
    prop_assert!(wall(tz, s) >= t);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn resolve_matches_chrono_tz_everywhere(tz in any_zone(), t in any_local()) {
        check_point(tz, t)?;
    }

    #[test]
    fn resolve_matches_chrono_tz_near_transitions((tz, t) in near_transition()) {
        check_point(tz, t)?;
    }

    #[test]
    fn resolve_is_monotone((tz, t) in near_transition(), step in 0i64..240) {
        let t2 = t + Duration::minutes(step);
        for edge in [Edge::Start, Edge::End] {
            prop_assert!(resolve(tz, t, edge) <= resolve(tz, t2, edge));
        }
    }

    #[test]
    fn days_are_23_to_25_hours(
        zone in prop::sample::select(vec!["America/New_York", "Europe/London", "Australia/Sydney", "America/Santiago", "America/Havana", "Asia/Beirut", "Europe/Dublin", "Australia/Lord_Howe"]),
        day in 0i64..(38 * 365),
    ) {
        let tz = tz(zone);
        let date = d(2000, 1, 1) + Duration::days(day);
        let a = start_of_day(tz, date);
        let b = start_of_day(tz, date + Duration::days(1));
        prop_assert!(a < b);
        let minutes = (b - a).num_minutes();
        let allowed: &[i64] = if zone == "Australia/Lord_Howe" { &[23 * 60 + 30, 24 * 60, 24 * 60 + 30] } else { &[23 * 60, 24 * 60, 25 * 60] };
        prop_assert!(allowed.contains(&minutes), "{} {}: {} minutes", zone, date, minutes);
        // The inclusive end of `date` is never before the start of the next day.
        let end = end_of_inclusive_date(tz, date).expect("not the last date");
        prop_assert!(end >= b);
    }
}

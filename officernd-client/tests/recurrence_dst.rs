//! Recurring bookings across daylight-saving changes.
//!
//! Expectations are computed from chrono-tz's own data (local wall clock of
//! each resolved instant, `GapInfo`), not hard-coded offsets, except where a
//! comment names tzdb 2025b (the version in chrono-tz 0.10.4).

#![allow(clippy::unwrap_used)] // test code: a panic is a failure

use chrono::Datelike;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use officernd_client::Error;
use officernd_client::models::Booking;
use officernd_client::recurrence::expand;

fn booking(tz: &str, start: DateTime<Utc>, minutes: i64, rrule: &str, exdates: &[&str]) -> Booking {
    let end = start + chrono::Duration::minutes(minutes);
    let ex: Vec<String> = exdates.iter().map(|e| format!("\"{e}\"")).collect();
    serde_json::from_str(&format!(
        r#"{{"_id":"603dfbc260f4054084125de1","timezone":"{tz}","start":"{}","end":"{}",
            "resource":"603dfbc260f4054084125dc1","member":"603dfbc260f4054084125d33",
            "recurrence":{{"rrule":"{rrule}","exdates":[{}]}}}}"#,
        start.to_rfc3339(),
        end.to_rfc3339(),
        ex.join(",")
    ))
    .unwrap()
}

fn local(tz: Tz, y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    tz.with_ymd_and_hms(y, m, d, h, mi, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[test]
fn a_weekly_booking_keeps_its_wall_clock_time_across_both_dst_changes() {
    let ny = chrono_tz::America::New_York;
    // Mondays 09:30-10:30 from 2026-02-02, across 2026-03-08 and 2026-11-01
    let b = booking(
        "America/New_York",
        local(ny, 2026, 2, 2, 9, 30),
        60,
        "FREQ=WEEKLY;BYDAY=MO",
        &[],
    );
    let occ = expand(&b, utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z")).unwrap();
    assert_eq!(occ.len(), 48, "every Monday from 2 February to 28 December");
    let mut offsets = std::collections::BTreeSet::new();
    for o in &occ {
        let start = o.start.with_timezone(&ny);
        let end = o.end.with_timezone(&ny);
        assert_eq!(start.weekday(), Weekday::Mon);
        assert_eq!((start.hour(), start.minute()), (9, 30), "{o:?}");
        assert_eq!((end.hour(), end.minute()), (10, 30), "{o:?}");
        assert_eq!(
            o.local_start.unwrap().time(),
            NaiveTime::from_hms_opt(9, 30, 0).unwrap()
        );
        offsets.insert((o.start - start.naive_local().and_utc()).num_hours());
    }
    assert_eq!(
        offsets.len(),
        2,
        "both EST and EDT occurrences: {offsets:?}"
    );
    // tzdb 2025b: the Monday after spring-forward is 13:30Z, not 14:30Z
    assert_eq!(occ[5].start, utc("2026-03-09T13:30:00Z"));
    assert_eq!(occ[4].start, utc("2026-03-02T14:30:00Z"));
    assert_eq!(
        occ.windows(2)
            .filter(|w| w[1].start - w[0].start != chrono::Duration::days(7))
            .count(),
        2
    );
}

#[test]
fn europe_dublin_negative_dst_and_lord_howe_half_hour_shift() {
    for (zone, start) in [
        ("Europe/Dublin", (2026, 3, 2, 18, 0)),
        ("Australia/Lord_Howe", (2026, 3, 2, 18, 0)),
    ] {
        let tz: Tz = zone.parse().unwrap();
        let b = booking(
            zone,
            local(tz, start.0, start.1, start.2, start.3, start.4),
            90,
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH",
            &[],
        );
        let occ = expand(&b, utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z")).unwrap();
        assert!(occ.len() > 40, "{zone}: {}", occ.len());
        for o in &occ {
            let s = o.start.with_timezone(&tz);
            let e = o.end.with_timezone(&tz);
            assert_eq!((s.hour(), s.minute()), (18, 0), "{zone} {o:?}");
            assert_eq!((e.hour(), e.minute()), (19, 30), "{zone} {o:?}");
            assert!(matches!(s.weekday(), Weekday::Mon | Weekday::Thu));
        }
    }
}

#[test]
fn an_occurrence_in_a_gap_starts_at_the_end_of_the_gap() {
    let ny = chrono_tz::America::New_York;
    // Sundays 02:30-03:30 local; 2026-03-08 02:30 does not exist in New York
    let b = booking(
        "America/New_York",
        local(ny, 2026, 3, 1, 2, 30),
        60,
        "FREQ=WEEKLY;COUNT=3",
        &[],
    );
    let occ = expand(&b, utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z")).unwrap();
    assert_eq!(occ.len(), 3);
    let gap_local = NaiveDate::from_ymd_opt(2026, 3, 8)
        .unwrap()
        .and_hms_opt(2, 30, 0)
        .unwrap();
    let gap_end = chrono_tz::GapInfo::new(&gap_local, &ny)
        .unwrap()
        .end
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(occ[1].start, gap_end);
    assert_eq!(
        occ[1].start,
        utc("2026-03-08T07:00:00Z"),
        "03:00 EDT (tzdb 2025b)"
    );
    assert_eq!(occ[1].end, local(ny, 2026, 3, 8, 3, 30));
    assert_eq!(occ[2].start.with_timezone(&ny).hour(), 2);
}

#[test]
fn an_occurrence_in_a_fold_starts_early_and_ends_late() {
    let ny = chrono_tz::America::New_York;
    // Sundays 01:00-01:30 local; on 2026-11-01 01:00-02:00 happens twice
    let b = booking(
        "America/New_York",
        local(ny, 2026, 10, 25, 1, 0),
        30,
        "FREQ=WEEKLY;COUNT=2",
        &[],
    );
    let occ = expand(&b, utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z")).unwrap();
    let fold = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    let candidates = |t: NaiveDateTime| {
        let r = ny.from_local_datetime(&t);
        (
            r.earliest().unwrap().with_timezone(&Utc),
            r.latest().unwrap().with_timezone(&Utc),
        )
    };
    let (start_early, _) = candidates(fold.and_hms_opt(1, 0, 0).unwrap());
    let (_, end_late) = candidates(fold.and_hms_opt(1, 30, 0).unwrap());
    assert_eq!(occ[1].start, start_early);
    assert_eq!(occ[1].end, end_late);
    assert_eq!((occ[1].end - occ[1].start).num_minutes(), 90);
}

#[test]
fn midnight_gap_zone_never_panics() {
    // America/Havana skips 00:00-01:00 on 2026-03-08 (tzdb 2025b)
    let havana = chrono_tz::America::Havana;
    let b = booking(
        "America/Havana",
        local(havana, 2026, 3, 1, 0, 0),
        60,
        "FREQ=DAILY;COUNT=14",
        &[],
    );
    let occ = expand(&b, utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z")).unwrap();
    assert_eq!(occ.len(), 14);
    let gap_day = occ
        .iter()
        .find(|o| o.local_start.unwrap().date() == NaiveDate::from_ymd_opt(2026, 3, 8).unwrap())
        .unwrap();
    assert_eq!(gap_day.start.with_timezone(&havana).hour(), 1);
    for w in occ.windows(2) {
        assert!(w[0].start < w[1].start);
    }
}

#[test]
fn count_until_interval_exdates_and_window() {
    let london = chrono_tz::Europe::London;
    let start = local(london, 2026, 10, 5, 9, 0); // a Monday
    // COUNT counts excluded occurrences too (RFC 5545)
    let b = booking(
        "Europe/London",
        start,
        60,
        "FREQ=DAILY;INTERVAL=2;COUNT=5",
        &["2026-10-09T08:00:00.000Z"],
    );
    let occ = expand(&b, utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z")).unwrap();
    let days: Vec<u32> = occ
        .iter()
        .map(|o| o.start.with_timezone(&london).day())
        .collect();
    assert_eq!(days, [5, 7, 11, 13]);

    let b = booking(
        "Europe/London",
        start,
        60,
        "FREQ=WEEKLY;UNTIL=20261026T080000Z",
        &[],
    );
    let occ = expand(&b, utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z")).unwrap();
    // 26 October 09:00 GMT is 09:00Z, after UNTIL 08:00Z
    assert_eq!(occ.len(), 3);
    let b = booking(
        "Europe/London",
        start,
        60,
        "FREQ=WEEKLY;UNTIL=20261026",
        &[],
    );
    assert_eq!(
        expand(&b, utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"))
            .unwrap()
            .len(),
        4,
        "a date UNTIL includes that local day"
    );

    // only occurrences overlapping the window, even for an endless series
    let b = booking("Europe/London", start, 60, "FREQ=DAILY", &[]);
    let occ = expand(&b, utc("2030-06-01T00:00:00Z"), utc("2030-06-03T00:00:00Z")).unwrap();
    assert_eq!(occ.len(), 2);
    assert_eq!(occ[0].start, local(london, 2030, 6, 1, 9, 0));
    // an occurrence running over the window's start is included
    let occ = expand(&b, utc("2030-06-01T08:30:00Z"), utc("2030-06-01T08:45:00Z")).unwrap();
    assert_eq!(occ.len(), 1);
}

fn days_in_month(y: i32, m: u32) -> u32 {
    let next = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    NaiveDate::from_ymd_opt(next.0, next.1, 1)
        .unwrap()
        .pred_opt()
        .unwrap()
        .day()
}

#[test]
fn monthly_rules() {
    let lisbon = chrono_tz::Europe::Lisbon;
    // the last Friday of each month, 17:00 local
    let b = booking(
        "Europe/Lisbon",
        local(lisbon, 2026, 1, 30, 17, 0),
        60,
        "FREQ=MONTHLY;BYDAY=-1FR;COUNT=12",
        &[],
    );
    let occ = expand(&b, utc("2026-01-01T00:00:00Z"), utc("2027-06-01T00:00:00Z")).unwrap();
    assert_eq!(occ.len(), 12);
    for o in &occ {
        let s = o.start.with_timezone(&lisbon);
        assert_eq!(s.weekday(), Weekday::Fri);
        assert!(s.day() + 7 > days_in_month(s.year(), s.month()), "{s}");
        assert_eq!(s.hour(), 17);
    }
    // day 31 only in months that have one
    let b = booking(
        "Europe/Lisbon",
        local(lisbon, 2026, 1, 31, 8, 0),
        30,
        "FREQ=MONTHLY;COUNT=4",
        &[],
    );
    let months: Vec<u32> = expand(&b, utc("2026-01-01T00:00:00Z"), utc("2027-01-01T00:00:00Z"))
        .unwrap()
        .iter()
        .map(|o| o.start.with_timezone(&lisbon).month())
        .collect();
    assert_eq!(months, [1, 3, 5, 7]);
}

#[test]
fn unsupported_rules_and_missing_zones_are_errors_for_that_booking() {
    let start = utc("2026-10-05T08:00:00Z");
    let b = booking("Europe/London", start, 60, "FREQ=WEEKLY;BYSETPOS=-1", &[]);
    match expand(&b, start, start + chrono::Duration::days(30)) {
        Err(Error::UnsupportedRecurrence {
            booking,
            rule,
            reason,
        }) => {
            assert_eq!(booking, "603dfbc260f4054084125de1");
            assert_eq!(rule, "FREQ=WEEKLY;BYSETPOS=-1");
            assert!(reason.contains("BYSETPOS"));
        }
        other => panic!("{other:?}"),
    }
    let mut b = booking("Europe/London", start, 60, "FREQ=DAILY", &[]);
    b.timezone = None;
    assert!(matches!(
        expand(&b, start, start + chrono::Duration::days(3)),
        Err(Error::MissingTimezone { .. })
    ));
    // a one-off booking needs no zone
    let mut b = booking("Europe/London", start, 60, "", &[]);
    b.timezone = None;
    assert_eq!(
        expand(&b, start, start + chrono::Duration::days(1))
            .unwrap()
            .len(),
        1
    );
    assert!(
        expand(
            &b,
            start + chrono::Duration::hours(1),
            start + chrono::Duration::days(1)
        )
        .unwrap()
        .is_empty()
    );
}

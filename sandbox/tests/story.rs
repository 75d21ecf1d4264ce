//! The storyline constants agree with the fixtures and with chrono-tz's transition data.
#![allow(clippy::unwrap_used)] // test helpers

use chrono::{NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use sandbox::{Seed, fixture, story};
use serde_json::Value;

fn json(name: &str) -> Value {
    serde_json::from_str(fixture(name).unwrap()).unwrap()
}

fn local(zone: &str, y: i32, m: u32, d: u32, h: u32) -> chrono::DateTime<Utc> {
    let tz: Tz = zone.parse().unwrap();
    tz.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn fixtures_parse_into_a_seed() {
    let _ = Seed::sample();
}

#[test]
fn instants_are_in_order_and_mean_what_they_say() {
    let instants = story::instants();
    assert!(
        instants.windows(2).all(|w| w[0].1 < w[1].1),
        "chronological"
    );
    let at = |label: &str| instants.iter().find(|(l, _)| l.contains(label)).unwrap().1;
    // tzdb 2024+ : US DST starts 2027-03-14 02:00 local.
    assert_eq!(
        at("move-in day 10:00"),
        local("America/Los_Angeles", 2026, 11, 30, 10)
    );
    assert_eq!(
        at("DST change day"),
        local("America/New_York", 2027, 3, 14, 10)
    );
    assert_eq!(
        at("co-applicant's own move-in"),
        local("America/New_York", 2026, 12, 7, 10)
    );
    assert_eq!(
        at("recurring booking after DST"),
        local(story::LOCATION_ZONE, 2027, 3, 18, 9)
    );
    let ny: Tz = "America/New_York".parse().unwrap();
    // The DST-day move-in is UTC-4, one hour earlier in UTC than the day before at 10:00.
    let before = local("America/New_York", 2027, 3, 13, 10);
    assert_eq!((at("DST change day") - before).num_hours(), 23);
    assert!(
        ny.with_ymd_and_hms(2027, 3, 14, 2, 30, 0)
            .single()
            .is_none(),
        "02:30 does not exist"
    );
}

#[test]
fn entrata_fixture_matches_the_story() {
    let e = json("entrata.json");
    let leases = e["leases"].as_array().unwrap();
    let lease = |id: &str| leases.iter().find(|l| l["id"] == id).unwrap();
    let statuses: Vec<&str> = leases
        .iter()
        .map(|l| l["leaseStatusTypeId"].as_str().unwrap())
        .collect();
    for s in ["1", "2", "3", "4", "5", "6"] {
        assert!(statuses.contains(&s), "status {s} present");
    }
    assert_eq!(lease(story::LEASE_DST_MOVE_IN)["moveInDate"], "03/14/2027");
    assert_eq!(lease(story::LEASE_MOVE_IN)["moveInDate"], "11/30/2026");
    assert_eq!(
        lease(story::LEASE_TRANSFER_FROM)["moveOutDate"],
        "12/05/2026"
    );
    assert_eq!(
        lease(story::LEASE_TRANSFER_TO)["customers"]["customer"][0]["id"],
        5009
    );
    assert_eq!(
        lease(story::LEASE_TRANSFER_FROM)["customers"]["customer"][0]["id"],
        5009
    );
    assert_eq!(
        lease(story::LEASE_RENEWAL)["leaseIntervals"]["leaseInterval"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(lease(story::LEASE_PERPETUAL).get("moveOutDate").is_none());
    // Residents with their own status and dates, on Current leases.
    let customer = |lease_id: &str, customer_id: &str| {
        let l = lease(lease_id);
        assert_eq!(l["leaseStatusTypeId"], "4", "lease {lease_id} is Current");
        l["customers"]["customer"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == customer_id.parse::<u64>().unwrap())
            .cloned()
            .unwrap()
    };
    let cara = customer(story::LEASE_PERPETUAL, story::CUSTOMER_CANCELLED_ON_CURRENT);
    assert_eq!(
        (&cara["firstName"], &cara["lastName"]),
        (&"Cara".into(), &"Voss".into())
    );
    assert_eq!(cara["customerType"], "Occupant");
    assert_eq!(cara["leaseCustomerStatus"], "Cancelled");
    assert!(cara.get("moveOutDate").is_none());
    let milo = customer(story::LEASE_RENEWAL, story::CUSTOMER_FUTURE_COAPPLICANT);
    assert_eq!(milo["customerType"], "Co-Applicant");
    assert_eq!(milo["leaseCustomerStatus"], "Future");
    assert_eq!(milo["moveInDate"], "12/07/2026");
    assert_eq!(lease(story::LEASE_RENEWAL)["moveInDate"], "08/01/2025");
    let rhea = customer(story::LEASE_PERPETUAL, story::CUSTOMER_PAST_COAPPLICANT);
    assert_eq!(rhea["customerType"], "Co-Applicant");
    assert_eq!(rhea["leaseCustomerStatus"], "Past");
    assert_eq!(rhea["moveOutDate"], "11/20/2026");
    // The recorded type mix: lease-level ids strings, customer ids numbers.
    for l in leases {
        for k in ["id", "leaseStatusTypeId", "propertyId", "unitId"] {
            assert!(l[k].is_string(), "lease {} {k}", l["id"]);
        }
        let cs = &l["customers"]["customer"];
        let cs = cs.as_array().cloned().unwrap_or_else(|| vec![cs.clone()]);
        assert!(cs.iter().all(|c| c["id"].is_u64()), "lease {}", l["id"]);
    }
    assert!(
        lease(story::LEASE_NOTICE)["customers"]["customer"].is_object(),
        "the one-customer-as-object quirk stays"
    );
    // Every property has a MITS time zone whose standard offset matches its IANA zone.
    for (pid, zone) in story::PROPERTY_ZONES {
        let p = e["mitsProperties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["PropertyID"]["Identification"]["@attributes"]["IDValue"] == *pid)
            .unwrap();
        let label = p["ILS_Identification"]["TimeZone"].as_str().unwrap();
        let tz: Tz = zone.parse().unwrap();
        let january = tz.from_utc_datetime(
            &NaiveDate::from_ymd_opt(2027, 1, 15)
                .unwrap()
                .and_hms_opt(12, 0, 0)
                .unwrap(),
        );
        let offset = january.format("%z").to_string(); // e.g. -0500
        assert!(
            label.ends_with(&format!("(GMT {offset})")),
            "{label} vs {zone} {offset}"
        );
    }
}

#[test]
fn officernd_fixture_matches_the_story() {
    let o = json("officernd.json");
    let find = |c: &str, id: &str| {
        o[c].as_array()
            .unwrap()
            .iter()
            .find(|x| x["_id"] == id)
            .cloned()
            .unwrap()
    };
    assert_eq!(
        find("locations", story::LOCATION_DENVER)["timezone"],
        story::LOCATION_ZONE
    );
    for (c, id) in [
        ("floors", story::FLOOR_2),
        ("resources", story::RESOURCE_OFFICE_201),
        ("resources", story::RESOURCE_DESK_7),
        ("resources", story::RESOURCE_SUMMIT_ROOM),
        ("plans", story::PLAN_DEDICATED_DESK),
        ("plans", story::PLAN_PRIVATE_OFFICE),
        ("plans", story::PLAN_HOT_DESK),
        ("plans", story::PLAN_DAY_PASS),
        ("companies", story::COMPANY_ACME),
        ("members", story::MEMBER_MAYA),
        ("members", story::MEMBER_NOAH),
        ("members", story::MEMBER_OLIVIA),
        ("members", story::MEMBER_PETE),
        ("members", story::MEMBER_QUINN),
        ("bookings", story::BOOKING_WITH_VISITOR),
        ("bookings", story::BOOKING_CANCELLED),
    ] {
        let _ = find(c, id);
    }
    let rec = find("bookings", story::BOOKING_RECURRING);
    // First occurrence 09:00 MST, last 09:00 MDT: the series crosses the change.
    assert_eq!(
        rec["start"],
        local(story::LOCATION_ZONE, 2027, 3, 4, 9)
            .format("%Y-%m-%dT%H:%M:%S.000Z")
            .to_string()
    );
    assert_eq!(
        rec["seriesEnd"],
        local(story::LOCATION_ZONE, 2027, 3, 25, 10)
            .format("%Y-%m-%dT%H:%M:%S.000Z")
            .to_string()
    );
    let visit = find("bookings", story::BOOKING_WITH_VISITOR);
    assert_eq!(
        visit["start"],
        local(story::LOCATION_ZONE, 2026, 12, 2, 15)
            .format("%Y-%m-%dT%H:%M:%S.000Z")
            .to_string()
    );
    assert!(!visit["visitors"].as_array().unwrap().is_empty());
    assert_eq!(
        find("bookings", story::BOOKING_CANCELLED)["isCancelled"],
        true
    );
}

#[test]
fn brivo_fixture_matches_the_story() {
    let b = json("brivo.json");
    let groups: Vec<i64> = b["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["id"].as_i64().unwrap())
        .collect();
    for g in story::MANAGED_GROUPS
        .iter()
        .chain([&story::GROUP_BUILDING_STAFF, &story::GROUP_ARCHIVE])
    {
        assert!(groups.contains(g), "group {g}");
    }
    let members = &b["groupMembers"];
    let in_group = |g: i64, u: i64| {
        members[g.to_string()]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == u)
    };
    assert!(in_group(
        story::GROUP_HARBOR_VIEW_RESIDENTS,
        story::USER_TERRY_TECH
    ));
    assert!(in_group(
        story::GROUP_HARBOR_VIEW_RESIDENTS,
        story::USER_FAY_FORMER
    ));
    assert!(in_group(story::GROUP_BUILDING_STAFF, story::USER_SAM_STAFF));
    let fay = b["users"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["id"] == story::USER_FAY_FORMER)
        .unwrap();
    assert_eq!(fay["externalId"], story::FORMER_TENANT_EXTERNAL_ID);
    for (_, gs) in story::property_groups()
        .into_iter()
        .chain(story::officernd_groups())
    {
        assert!(gs.iter().all(|g| story::MANAGED_GROUPS.contains(g)));
    }
}

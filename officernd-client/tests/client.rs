//! httpmock tests of every client method, the error paths, pagination,
//! auth and retries, against fixtures in OfficeRnD's recorded wire shape.

#![allow(clippy::unwrap_used)] // test code: a panic is a failure

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use chrono::{NaiveDate, TimeZone, Utc};
use common::*;
use futures::{StreamExt, TryStreamExt};
use httpmock::prelude::*;
use httpmock::{HttpMockRequest, HttpMockResponse};
use officernd_client::models::*;
use officernd_client::query::*;
use officernd_client::{Client, Error, RetryPolicy};
use secrecy::SecretString;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn json_response(status: u16, body: &str) -> HttpMockResponse {
    HttpMockResponse::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .body(body.to_string())
        .build()
}

// ------------------------------------------------------------ pagination

#[tokio::test]
async fn list_members_follows_cursor_next_and_reports_bad_records() {
    let server = MockServer::start_async().await;
    let token = token_mock(&server).await;
    let page1 = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/members"))
                .header("authorization", format!("Bearer {TOKEN}"))
                .header("user-agent", officernd_client::config::USER_AGENT)
                .query_param("$limit", "50")
                .query_param_missing("$cursorNext");
            then.status(200).body(fixture("members_page1.json"));
        })
        .await;
    let page2 = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/members"))
                .query_param("$limit", "50")
                .query_param("$cursorNext", "eyJpZCI6IjMiLCAib2Zmc2V0IjoiMyJ9");
            then.status(200).body(fixture("members_page2.json"));
        })
        .await;

    let client = client(&server);
    let all = client
        .list_members(MembersQuery::new())
        .collect_all()
        .await
        .unwrap();

    token.assert_calls_async(1).await;
    page1.assert_calls_async(1).await;
    page2.assert_calls_async(1).await;
    assert_eq!(all.pages, 2);
    let ids: Vec<&str> = all.items.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "603dfbc260f4054084125d33",
            "603dfbc260f4054084125d34",
            "603dfbc260f4054084125d36",
            "603dfbc260f4054084125d37"
        ]
    );
    assert_eq!(all.skipped.len(), 1);
    assert_eq!(
        all.skipped[0].id.as_deref(),
        Some("603dfbc260f4054084125d35")
    );
    assert_eq!(all.skipped[0].path, "startDate");
    let john = &all.items[0];
    assert_eq!(john.email.as_deref(), Some("john.doe@example.com"));
    assert_eq!(
        john.company,
        Some(CompanyId::new("603dfbc260f4054084125d80"))
    );
    assert_eq!(john.start_date, Some(date(2025, 1, 1)));
    assert!(john.is_billing_person);
    assert_eq!(all.items[1].company, None);
    assert_eq!(all.items[1].status, Some(MemberStatus::DropIn));
    assert_eq!(
        all.items[3].status,
        Some(MemberStatus::Other("suspended_by_admin".into()))
    );
    assert_eq!(client.call_stats().calls, 3, "one token call and two pages");
}

#[tokio::test]
async fn the_item_stream_is_lazy() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let page1 = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/members"))
                .query_param_missing("$cursorNext");
            then.status(200).body(fixture("members_page1.json"));
        })
        .await;
    let page2 = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/members"))
                .query_param_exists("$cursorNext");
            then.status(200).body(fixture("members_page2.json"));
        })
        .await;
    let client = client(&server);
    let first: Vec<Member> = client
        .list_members(MembersQuery::new())
        .items()
        .take(2)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(first.len(), 2);
    page1.assert_calls_async(1).await;
    page2.assert_calls_async(0).await;
}

#[tokio::test]
async fn an_empty_listing_is_one_call() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let list = get_mock(
        &server,
        "/members",
        r#"{"rangeStart":0,"rangeEnd":0,"results":[]}"#.into(),
    )
    .await;
    let all = client(&server)
        .list_members(MembersQuery::new())
        .collect_all()
        .await
        .unwrap();
    assert!(all.items.is_empty() && all.skipped.is_empty());
    assert_eq!(all.pages, 1);
    list.assert_calls_async(1).await;
}

#[tokio::test]
async fn an_empty_page_with_a_cursor_ends_the_listing() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let list = get_mock(
        &server,
        "/members",
        r#"{"rangeStart":0,"rangeEnd":0,"cursorNext":"abc","results":[]}"#.into(),
    )
    .await;
    let all = client(&server)
        .list_members(MembersQuery::new())
        .collect_all()
        .await
        .unwrap();
    assert!(all.items.is_empty());
    list.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_server_repeating_a_cursor_is_stopped() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let first = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/members"))
                .query_param_missing("$cursorNext");
            then.status(200).body(
                r#"{"rangeStart":1,"rangeEnd":1,"cursorNext":"A","results":[{"_id":"603dfbc260f4054084125d33"}]}"#,
            );
        })
        .await;
    // the second page hands out cursor "A" again
    let again = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/members"))
                .query_param("$cursorNext", "A");
            then.status(200).body(
                r#"{"rangeStart":2,"rangeEnd":2,"cursorNext":"A","results":[{"_id":"603dfbc260f4054084125d34"}]}"#,
            );
        })
        .await;
    let client = client(&server);
    let err = client
        .list_members(MembersQuery::new())
        .collect_all()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::PaginationLoop {
                method: "list_members",
                pages: 2
            }
        ),
        "{err:?}"
    );
    first.assert_calls_async(1).await;
    again.assert_calls_async(1).await;

    // the page stream yields both pages, then the error, then ends
    let pages: Vec<_> = client
        .list_members(MembersQuery::new())
        .pages()
        .collect()
        .await;
    assert_eq!(pages.len(), 3);
    assert!(pages[0].is_ok() && pages[1].is_ok() && pages[2].is_err());
}

#[tokio::test]
async fn many_pages_keep_the_filters_and_page_size_on_every_request() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    // 23 members, 5 per page: pages 1..=5, cursors c1..c4
    let pages = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/members"))
                .query_param("company", "603dfbc260f4054084125d80")
                .query_param("$limit", "5");
            then.respond_with(|req: &HttpMockRequest| {
                let cursor = req
                    .query_params()
                    .into_iter()
                    .find(|(k, _)| k == "$cursorNext")
                    .map(|(_, v)| v);
                let page: usize = match cursor.as_deref() {
                    None => 1,
                    Some(c) => c.trim_start_matches('c').parse::<usize>().unwrap() + 1,
                };
                let first = (page - 1) * 5 + 1;
                let last = (page * 5).min(23);
                let results: Vec<String> = (first..=last)
                    .map(|i| format!(r#"{{"_id":"603dfbc260f40540841{i:05}","name":"M{i}"}}"#))
                    .collect();
                let cursor = if last < 23 {
                    format!(r#""cursorNext":"c{page}","#)
                } else {
                    String::new()
                };
                json_response(
                    200,
                    &format!(
                        r#"{{"rangeStart":{first},"rangeEnd":{last},{cursor}"results":[{}]}}"#,
                        results.join(",")
                    ),
                )
            });
        })
        .await;
    let all = client(&server)
        .list_members(MembersQuery::new().company("603dfbc260f4054084125d80".into()))
        .page_size(5)
        .collect_all()
        .await
        .unwrap();
    pages.assert_calls_async(5).await;
    assert_eq!(all.pages, 5);
    assert_eq!(all.items.len(), 23);
    assert_eq!(all.items[22].name.as_deref(), Some("M23"));
}

#[tokio::test]
async fn records_repeated_across_pages_are_dropped() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/members"))
                .query_param_missing("$cursorNext");
            then.status(200).body(
                r#"{"rangeStart":1,"rangeEnd":2,"cursorNext":"B","results":[{"_id":"603dfbc260f4054084125d33"},{"_id":"603dfbc260f4054084125d34"}]}"#,
            );
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/members"))
                .query_param("$cursorNext", "B");
            then.status(200).body(
                r#"{"rangeStart":2,"rangeEnd":3,"results":[{"_id":"603dfbc260f4054084125d34"},{"_id":"603dfbc260f4054084125d35"}]}"#,
            );
        })
        .await;
    let pages: Vec<_> = client(&server)
        .list_members(MembersQuery::new())
        .pages()
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[1].items.len(), 1);
    assert_eq!(pages[1].duplicates, 1);
}

#[tokio::test]
async fn page_size_is_sent_and_clamped_to_fifty() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let ten = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/plans"))
                .query_param("$limit", "10");
            then.status(200).body(fixture("plans.json"));
        })
        .await;
    let fifty = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/plans"))
                .query_param("$limit", "50");
            then.status(200).body(fixture("plans.json"));
        })
        .await;
    let client = client(&server);
    client
        .list_plans()
        .page_size(10)
        .collect_all()
        .await
        .unwrap();
    client
        .list_plans()
        .page_size(200)
        .collect_all()
        .await
        .unwrap();
    ten.assert_calls_async(1).await;
    fifty.assert_calls_async(1).await;
}

// ------------------------------------------------------- every endpoint

#[tokio::test]
async fn get_member_by_id() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let m = get_mock(
        &server,
        "/members/603dfbc260f4054084125d33",
        fixture("member.json"),
    )
    .await;
    let member = client(&server)
        .get_member(&MemberId::new("603dfbc260f4054084125d33"))
        .await
        .unwrap();
    assert_eq!(member.name.as_deref(), Some("John Doe"));
    assert_eq!(member.phone.as_deref(), Some("012-345-6789"));
    m.assert_calls_async(1).await;
}

#[tokio::test]
async fn list_companies() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/companies"))
                .query_param("location", "603dfbc260f4054084125d90");
            then.status(200).body(fixture("companies.json"));
        })
        .await;
    let all = client(&server)
        .list_companies(CompaniesQuery::new().location(LocationId::new("603dfbc260f4054084125d90")))
        .collect_all()
        .await
        .unwrap();
    m.assert_calls_async(1).await;
    assert_eq!(all.items.len(), 2);
    assert_eq!(all.items[0].start_date, Some(date(2025, 2, 25)));
    assert_eq!(all.items[1].start_date, None);
    assert_eq!(all.items[1].status, Some(CompanyStatus::Inactive));
}

#[tokio::test]
async fn get_company_membership_plan_location_floor_resource_pass_checkin_booking_visitor() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let one = |list: &str| -> String {
        let v: serde_json::Value = serde_json::from_str(&fixture(list)).unwrap();
        v["results"][0].to_string()
    };
    let cases = [
        ("/companies/603dfbc260f4054084125d80", one("companies.json")),
        (
            "/memberships/603dfbc260f4054084125d30",
            one("memberships.json"),
        ),
        ("/plans/603dfbc260f4054084125da0", one("plans.json")),
        ("/locations/603dfbc260f4054084125d90", one("locations.json")),
        ("/floors/603dfbc260f4054084125db0", one("floors.json")),
        ("/resources/603dfbc260f4054084125dc0", one("resources.json")),
        ("/passes/6080186f490fcf6e0537ec52", one("passes.json")),
        ("/checkins/6080186f490fcf6e0547ec57", one("checkins.json")),
        ("/bookings/603dfbc260f4054084125de0", one("bookings.json")),
        ("/visitors/603dfbc260f4054084125e00", one("visitors.json")),
    ];
    let mut mocks = Vec::new();
    for (path, body) in cases {
        mocks.push(get_mock(&server, path, body).await);
    }
    let c = client(&server);
    let company = c
        .get_company(&"603dfbc260f4054084125d80".into())
        .await
        .unwrap();
    assert_eq!(company.name.as_deref(), Some("My Company"));
    let ms = c
        .get_membership(&"603dfbc260f4054084125d30".into())
        .await
        .unwrap();
    assert_eq!(
        ms.calculated_status,
        Some(MembershipCalculatedStatus::Active)
    );
    let plan = c
        .get_plan(&"603dfbc260f4054084125da0".into())
        .await
        .unwrap();
    assert!(plan.should_passes_grant_active_status);
    let loc = c
        .get_location(&"603dfbc260f4054084125d90".into())
        .await
        .unwrap();
    assert_eq!(loc.timezone, Some(chrono_tz::Europe::Lisbon));
    let floor = c
        .get_floor(&"603dfbc260f4054084125db0".into())
        .await
        .unwrap();
    assert_eq!(floor.floor.as_deref(), Some("1"));
    let res = c
        .get_resource(&"603dfbc260f4054084125dc0".into())
        .await
        .unwrap();
    assert_eq!(res.kind, ResourceKind::TeamRoom);
    let pass = c
        .get_pass(&"6080186f490fcf6e0537ec52".into())
        .await
        .unwrap();
    assert_eq!(pass.used_count, Some(5.5));
    let checkin = c
        .get_checkin(&"6080186f490fcf6e0547ec57".into())
        .await
        .unwrap();
    assert_eq!(checkin.pass, Some(PassId::new("6080186f490fcf6e0537ec52")));
    let booking = c
        .get_booking(&"603dfbc260f4054084125de0".into())
        .await
        .unwrap();
    assert_eq!(
        booking.visitors,
        vec![VisitorId::new("603dfbc260f4054084125e00")]
    );
    let visitor = c
        .get_visitor(&"603dfbc260f4054084125e00".into())
        .await
        .unwrap();
    assert_eq!(visitor.email.as_deref(), Some("vera@example.org"));
    for m in mocks {
        m.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn list_memberships_with_filters() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/memberships"))
                .query_param("company", "603dfbc260f4054084125d80")
                .query_param("modifiedAt[$gte]", "2026-06-01T00:00:00.000Z")
                .query_param("$limit", "50");
            then.status(200).body(fixture("memberships.json"));
        })
        .await;
    let all = client(&server)
        .list_memberships(
            MembershipsQuery::new()
                .company("603dfbc260f4054084125d80".into())
                .modified_since(Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap()),
        )
        .collect_all()
        .await
        .unwrap();
    m.assert_calls_async(1).await;
    assert_eq!(all.items.len(), 3);
    let office = &all.items[0];
    assert_eq!(office.member, None, "company-wide membership");
    assert_eq!(office.end_date, None, "open-ended");
    assert_eq!(office.start_date, date(2024, 1, 1));
    assert!(office.covers(date(2030, 1, 1)));
    let desk = &all.items[1];
    assert_eq!(desk.status, Some(MembershipStatus::NotApproved));
    assert_eq!(
        desk.calculated_status,
        Some(MembershipCalculatedStatus::NotApproved)
    );
    assert_eq!(desk.end_date, Some(date(2024, 6, 30)));
    assert!(desk.covers(date(2024, 6, 30)) && !desk.covers(date(2024, 7, 1)));
    assert_eq!(
        all.items[2].calculated_status,
        Some(MembershipCalculatedStatus::Other(
            "paused_by_billing".into()
        ))
    );
    assert_eq!(all.skipped.len(), 1);
    assert_eq!(
        all.skipped[0].id.as_deref(),
        Some("603dfbc260f4054084125d3f")
    );
    assert!(
        all.skipped[0].reason.contains("startDate"),
        "{:?}",
        all.skipped[0]
    );
}

#[tokio::test]
async fn list_plans_locations_and_floors() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let plans = get_mock(&server, "/plans", fixture("plans.json")).await;
    let locations = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/locations"))
                .query_param("isOpen", "true");
            then.status(200).body(fixture("locations.json"));
        })
        .await;
    let floors = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/floors"))
                .query_param("location", "603dfbc260f4054084125d90");
            then.status(200).body(fixture("floors.json"));
        })
        .await;
    let c = client(&server);
    let p = c.list_plans().collect_all().await.unwrap();
    assert_eq!(
        p.items[0].locations,
        vec![LocationId::new("603dfbc260f4054084125d90")]
    );
    let l = c
        .list_locations(LocationsQuery::new().is_open(true))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(l.items.len(), 2);
    assert_eq!(l.items[0].timezone, Some(chrono_tz::Europe::Lisbon));
    assert_eq!(l.items[1].timezone, Some(chrono_tz::UTC));
    assert_eq!(l.skipped[0].id.as_deref(), Some("603dfbc260f4054084125d92"));
    // what was wrong, not the value (which could be anything the server sent)
    let reason = &l.skipped[0].reason;
    assert!(
        reason.contains("unknown IANA time zone") && !reason.contains("Mars/Olympus_Mons"),
        "{reason}"
    );
    let f = c
        .list_floors(FloorsQuery::new().location("603dfbc260f4054084125d90".into()))
        .collect_all()
        .await
        .unwrap();
    assert_eq!(
        f.items[1].floor.as_deref(),
        Some("2"),
        "numeric floor kept as text"
    );
    plans.assert_calls_async(1).await;
    locations.assert_calls_async(1).await;
    floors.assert_calls_async(1).await;
}

#[tokio::test]
async fn resource_types_and_resources_tell_assignable_from_bookable() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let types_mock = get_mock(&server, "/resource-types", fixture("resource_types.json")).await;
    let resources_mock = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/resources"))
                .query_param("location", "603dfbc260f4054084125d90");
            then.status(200).body(fixture("resources.json"));
        })
        .await;
    let c = client(&server);
    let types = c.list_resource_types().collect_all().await.unwrap().items;
    let resources = c
        .list_resources(ResourcesQuery::new().location("603dfbc260f4054084125d90".into()))
        .collect_all()
        .await
        .unwrap()
        .items;
    types_mock.assert_calls_async(1).await;
    resources_mock.assert_calls_async(1).await;
    assert_eq!(types.len(), 4);
    let office = &resources[0];
    assert_eq!(office.floor, Some(FloorId::new("603dfbc260f4054084125db0")));
    let caps = office.capabilities(&types);
    assert!(caps.assignable && !caps.bookable);
    let room = &resources[1];
    assert_eq!(room.floor, None);
    let caps = room.capabilities(&types);
    assert!(!caps.assignable && caps.bookable);
    let booth = &resources[2];
    assert_eq!(booth.kind, ResourceKind::Other("phone_booth".into()));
    assert_eq!(booth.capabilities(&types), Default::default());
}

#[tokio::test]
async fn list_assignments_per_resource() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/assignments"))
                .query_param("resource", "603dfbc260f4054084125dc0");
            then.status(200).body(fixture("assignments.json"));
        })
        .await;
    let a = client(&server)
        .list_assignments(AssignmentsQuery::new().resource("603dfbc260f4054084125dc0".into()))
        .collect_all()
        .await
        .unwrap()
        .items;
    m.assert_calls_async(1).await;
    assert_eq!(
        a[0].membership,
        MembershipId::new("603dfbc260f4054084125d30")
    );
    assert_eq!(a[0].end_date, None);
    assert_eq!(a[1].end_date, Some(date(2024, 12, 31)));
}

#[tokio::test]
async fn list_bookings_passes_checkins_and_visitors() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let bookings = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/bookings"))
                .query_param("resource", "603dfbc260f4054084125dc1");
            then.status(200).body(fixture("bookings.json"));
        })
        .await;
    let passes = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/passes"))
                .query_param("company", "603dfbc260f4054084125d80");
            then.status(200).body(fixture("passes.json"));
        })
        .await;
    let checkins = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/checkins"))
                .query_param("start[$gte]", "2024-10-01T00:00:00.000Z");
            then.status(200).body(fixture("checkins.json"));
        })
        .await;
    let visitors = get_mock(&server, "/visitors", fixture("visitors.json")).await;
    let c = client(&server);

    let b = c
        .list_bookings(BookingsQuery::new().resource("603dfbc260f4054084125dc1".into()))
        .collect_all()
        .await
        .unwrap()
        .items;
    assert_eq!(b.len(), 4);
    assert_eq!(b[0].member, Some(MemberId::new("603dfbc260f4054084125d33")));
    assert_eq!(
        b[0].members,
        vec![MemberId::new("603dfbc260f4054084125d36")]
    );
    assert!(!b[0].is_cancelled && !b[0].is_recurring());
    assert_eq!(b[0].service_slots.unwrap().before, Some(10.0));
    assert!(b[1].is_recurring() && b[1].is_tentative);
    assert!(b[2].is_cancelled);

    let p = c
        .list_passes(PassesQuery::new().company("603dfbc260f4054084125d80".into()))
        .collect_all()
        .await
        .unwrap()
        .items;
    assert_eq!(
        p[0].owner(),
        PassOwner::Member("603dfbc260f4054084125d33".into())
    );
    assert_eq!(p[0].remaining(), 9.5);
    assert_eq!(p[0].valid_to, Some(date(2024, 4, 6)));
    assert_eq!(
        p[1].owner(),
        PassOwner::Company("603dfbc260f4054084125d80".into())
    );
    assert_eq!(p[1].valid_to, None);
    assert_eq!(p[1].status, Some(PassStatus::Pending));

    let ch = c
        .list_checkins(
            CheckinsQuery::new().start_since(Utc.with_ymd_and_hms(2024, 10, 1, 0, 0, 0).unwrap()),
        )
        .collect_all()
        .await
        .unwrap()
        .items;
    assert_eq!(ch.len(), 2);
    assert_eq!(ch[1].end, None, "still checked in");

    let v = c
        .list_visitors(VisitorsQuery::new())
        .collect_all()
        .await
        .unwrap()
        .items;
    assert_eq!(v[0].name.as_deref(), Some("Vera Visitor"));

    for m in [bookings, passes, checkins, visitors] {
        m.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn booking_occurrences_expand_series_and_report_unsupported_rules() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/bookings"))
                .query_param("location", "603dfbc260f4054084125d90")
                .query_param("seriesStart[$lt]", "2026-11-24T00:00:00.000Z")
                .query_param("seriesEnd[$gte]", "2026-11-23T00:00:00.000Z");
            then.status(200).body(fixture("bookings.json"));
        })
        .await;
    let from = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap();
    let to = Utc.with_ymd_and_hms(2026, 11, 24, 0, 0, 0).unwrap();
    let got = client(&server)
        .booking_occurrences(
            from,
            to,
            BookingsQuery::new().location("603dfbc260f4054084125d90".into()),
        )
        .await
        .unwrap();
    m.assert_calls_async(1).await;
    let summary: Vec<(String, String, bool)> = got
        .occurrences
        .iter()
        .map(|o| (o.booking.to_string(), o.start.to_rfc3339(), o.is_cancelled))
        .collect();
    assert_eq!(
        summary,
        [
            // the weekly series, 09:00 Lisbon (WET after 25 October)
            (
                "603dfbc260f4054084125de1".into(),
                "2026-11-23T09:00:00+00:00".into(),
                false
            ),
            (
                "603dfbc260f4054084125de0".into(),
                "2026-11-23T10:00:00+00:00".into(),
                false
            ),
            (
                "603dfbc260f4054084125de2".into(),
                "2026-11-23T14:00:00+00:00".into(),
                true
            ),
        ]
    );
    assert_eq!(got.skipped.len(), 1);
    assert_eq!(
        got.skipped[0].id.as_deref(),
        Some("603dfbc260f4054084125de3")
    );
    assert!(
        got.skipped[0].reason.contains("FREQ=YEARLY"),
        "{:?}",
        got.skipped[0]
    );
}

// ---------------------------------------------------------- error paths

#[tokio::test]
async fn not_found_is_reported_and_not_retried() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/members/aaaaaaaaaaaaaaaaaaaaaaaa"));
            then.status(404).body(fixture("error_404.json"));
        })
        .await;
    let err = client(&server)
        .get_member(&"aaaaaaaaaaaaaaaaaaaaaaaa".into())
        .await
        .unwrap_err();
    m.assert_calls_async(1).await;
    assert_eq!(err.status(), Some(404));
    assert!(!err.is_retryable());
    assert_eq!(
        err.to_string(),
        "get_member: OfficeRnD answered HTTP 404 Not Found: Item with Id (aaaaaaaaaaaaaaaaaaaaaaaa)"
    );
}

#[tokio::test]
async fn validation_errors_with_array_messages() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{API}/memberships"));
            then.status(400).body(fixture("error_400_array.json"));
        })
        .await;
    let err = client(&server)
        .list_memberships(MembershipsQuery::new())
        .collect_all()
        .await
        .unwrap_err();
    m.assert_calls_async(1).await;
    match &err {
        Error::Api {
            method,
            status,
            error,
            messages,
            ..
        } => {
            assert_eq!(*method, "list_memberships");
            assert_eq!(*status, 400);
            assert_eq!(error.as_deref(), Some("Bad Request"));
            assert_eq!(messages.len(), 2);
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_rejected_parameter());
}

#[tokio::test]
async fn a_500_business_error_is_not_retried() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{API}/locations"));
            then.status(500).body(fixture("error_500.json"));
        })
        .await;
    let err = client(&server)
        .list_locations(LocationsQuery::new())
        .collect_all()
        .await
        .unwrap_err();
    m.assert_calls_async(1).await;
    assert!(err.to_string().contains("Organization not found"), "{err}");
}

#[tokio::test]
async fn a_body_that_is_not_json_names_the_method_and_path() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    get_mock(
        &server,
        "/members/603dfbc260f4054084125d33",
        r#"{"_id":"603dfbc260f4054084125d33","createdAt":12}"#.into(),
    )
    .await;
    let err = client(&server)
        .get_member(&"603dfbc260f4054084125d33".into())
        .await
        .unwrap_err();
    match err {
        Error::Decode { method, path, .. } => {
            assert_eq!(method, "get_member");
            assert_eq!(path, "createdAt");
        }
        other => panic!("{other:?}"),
    }
}

/// Answers `statuses` in turn, then the fixture with 200.
fn sequence(
    statuses: Vec<(u16, Vec<(&'static str, &'static str)>)>,
    ok_body: String,
    counter: Arc<AtomicU32>,
) -> impl Fn(&HttpMockRequest) -> HttpMockResponse + Send + Sync + 'static {
    move |_req| {
        let n = counter.fetch_add(1, Ordering::SeqCst) as usize;
        match statuses.get(n) {
            Some((status, headers)) => {
                let mut b = HttpMockResponse::builder()
                    .status(*status)
                    .header("content-type", "application/json");
                for (k, v) in headers {
                    b = b.header(*k, *v);
                }
                b.body(fixture("error_429.json")).build()
            }
            None => json_response(200, &ok_body),
        }
    }
}

#[tokio::test]
async fn throttling_is_retried_after_the_bucket_retry_after() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let hits = Arc::new(AtomicU32::new(0));
    let m = server
        .mock_async({
            let hits = hits.clone();
            move |when, then| {
                when.method(GET).path(format!("{API}/plans"));
                then.respond_with(sequence(
                    vec![(
                        429,
                        vec![
                            ("retry-after-read-minute", "30"),
                            ("x-ratelimit-remaining-read-minute", "0"),
                        ],
                    )],
                    fixture("plans.json"),
                    hits,
                ));
            }
        })
        .await;
    // the 30 s hint is capped to 60 ms so the test stays fast, and is still
    // longer than any backoff the policy could draw (≤ 5 ms)
    let client = builder(&server)
        .retry_policy(fast_policy().with_max_retry_after(Duration::from_millis(60)))
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let plans = client.list_plans().collect_all().await.unwrap();
    assert_eq!(plans.items.len(), 1);
    assert!(
        started.elapsed() >= Duration::from_millis(60),
        "{:?}",
        started.elapsed()
    );
    m.assert_calls_async(2).await;
    let stats = client.call_stats();
    assert_eq!((stats.calls, stats.retries, stats.throttled), (3, 1, 1));
}

#[tokio::test]
async fn a_429_error_carries_the_retry_after() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{API}/plans"));
            then.status(429)
                .header("retry-after", "7")
                .body(fixture("error_429.json"));
        })
        .await;
    let err = builder(&server)
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap()
        .list_plans()
        .collect_all()
        .await
        .unwrap_err();
    m.assert_calls_async(1).await;
    assert_eq!(err.status(), Some(429));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(err.is_retryable());
}

#[tokio::test]
async fn gateway_errors_are_retried_then_succeed() {
    for status in [502u16, 503, 504] {
        let server = MockServer::start_async().await;
        token_mock(&server).await;
        let hits = Arc::new(AtomicU32::new(0));
        let m = server
            .mock_async({
                let hits = hits.clone();
                move |when, then| {
                    when.method(GET).path(format!("{API}/floors"));
                    then.respond_with(sequence(
                        vec![(status, vec![]), (status, vec![])],
                        fixture("floors.json"),
                        hits,
                    ));
                }
            })
            .await;
        let floors = client(&server)
            .list_floors(FloorsQuery::new())
            .collect_all()
            .await
            .unwrap();
        assert_eq!(floors.items.len(), 2);
        m.assert_calls_async(3).await;
    }
}

#[tokio::test]
async fn gateway_errors_give_up_after_max_attempts() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{API}/floors"));
            then.status(503).body("<html>Service Unavailable</html>");
        })
        .await;
    let err = client(&server)
        .list_floors(FloorsQuery::new())
        .collect_all()
        .await
        .unwrap_err();
    m.assert_calls_async(3).await;
    assert_eq!(err.status(), Some(503));
    assert!(err.to_string().contains("Service Unavailable"), "{err}");
}

#[tokio::test]
async fn connection_errors_are_retried() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let client = Client::builder(SLUG, CLIENT_ID, SecretString::from(SECRET))
        .api_url(format!("http://127.0.0.1:{port}/api/v2"))
        .token_url(format!("http://127.0.0.1:{port}/oauth/token"))
        .retry_policy(fast_policy())
        .no_rate_limit()
        .build()
        .unwrap();
    let err = client.list_plans().collect_all().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Auth {
                status: None,
                retryable: true,
                ..
            }
        ),
        "{err:?}"
    );
    // three attempts (two retries); each tried the token endpoint
    assert_eq!(client.call_stats().retries, 2);
}

#[tokio::test]
async fn timeouts_are_retried_and_reported_as_timeouts() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let slow = server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{API}/plans"));
            then.status(200)
                .delay(Duration::from_millis(400))
                .body(fixture("plans.json"));
        })
        .await;
    let err = builder(&server)
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap()
        .list_plans()
        .collect_all()
        .await
        .unwrap_err();
    match &err {
        Error::Transport {
            method: "list_plans",
            timeout: true,
            ..
        } => {}
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "list_plans: could not reach OfficeRnD (timed out)"
    );
    slow.assert_calls_async(3).await;
}

// ------------------------------------------------------------------ auth

#[tokio::test]
async fn the_token_is_cached_across_calls() {
    let server = MockServer::start_async().await;
    let token = token_mock(&server).await;
    get_mock(&server, "/plans", fixture("plans.json")).await;
    let c = client(&server);
    for _ in 0..3 {
        c.list_plans().collect_all().await.unwrap();
    }
    // concurrent callers share one token too
    let clones: Vec<_> = (0..5)
        .map(|_| {
            let c = c.clone();
            tokio::spawn(async move { c.list_plans().collect_all().await })
        })
        .collect();
    for t in clones {
        t.await.unwrap().unwrap();
    }
    token.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_401_fetches_a_new_token_once_and_retries() {
    let server = MockServer::start_async().await;
    let fetches = Arc::new(AtomicU32::new(0));
    let token = server
        .mock_async({
            let fetches = fetches.clone();
            move |when, then| {
                when.method(POST).path("/oauth/token");
                then.respond_with(move |_req: &HttpMockRequest| {
                    let n = fetches.fetch_add(1, Ordering::SeqCst) + 1;
                    json_response(
                        200,
                        &format!(r#"{{"access_token":"tok-{n}","token_type":"Bearer","expires_in":3599}}"#),
                    )
                });
            }
        })
        .await;
    let stale = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/plans"))
                .header("authorization", "Bearer tok-1");
            then.status(401).body(fixture("error_401.json"));
        })
        .await;
    let fresh = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/plans"))
                .header("authorization", "Bearer tok-2");
            then.status(200).body(fixture("plans.json"));
        })
        .await;
    let c = client(&server);
    c.list_plans().collect_all().await.unwrap();
    token.assert_calls_async(2).await;
    stale.assert_calls_async(1).await;
    fresh.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_second_401_names_the_missing_scope_and_does_not_loop() {
    let server = MockServer::start_async().await;
    let token = token_mock(&server).await;
    let api = server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{API}/passes"));
            then.status(401).body(fixture("error_401.json"));
        })
        .await;
    let err = client(&server)
        .list_passes(PassesQuery::new())
        .collect_all()
        .await
        .unwrap_err();
    token.assert_calls_async(2).await;
    api.assert_calls_async(2).await;
    match &err {
        Error::Unauthorized {
            method,
            required_scope,
            message,
        } => {
            assert_eq!(*method, "list_passes");
            assert_eq!(*required_scope, "flex.space.passes.read");
            assert_eq!(message, "Unauthorized access");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("scope"));
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn refused_credentials_are_not_retried() {
    let server = MockServer::start_async().await;
    let token = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(401).body(
                r#"{"error":"invalid_client","error_description":"Client authentication failed"}"#,
            );
        })
        .await;
    let err = client(&server)
        .list_plans()
        .collect_all()
        .await
        .unwrap_err();
    token.assert_calls_async(1).await;
    match &err {
        Error::Auth {
            status: Some(401),
            error: Some(code),
            retryable: false,
            ..
        } => assert_eq!(code, "invalid_client"),
        other => panic!("{other:?}"),
    }
    assert!(err.to_string().contains("Client authentication failed"));
}

#[tokio::test]
async fn a_token_endpoint_outage_is_retried() {
    let server = MockServer::start_async().await;
    let hits = Arc::new(AtomicU32::new(0));
    let token = server
        .mock_async({
            let hits = hits.clone();
            move |when, then| {
                when.method(POST).path("/oauth/token");
                then.respond_with(sequence(vec![(503, vec![])], fixture("token.json"), hits));
            }
        })
        .await;
    let plans = get_mock(&server, "/plans", fixture("plans.json")).await;
    client(&server).list_plans().collect_all().await.unwrap();
    token.assert_calls_async(2).await;
    plans.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_token_answer_without_access_token_is_an_auth_error() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(200).body(r#"{"token_type":"Bearer"}"#);
        })
        .await;
    let err = client(&server)
        .list_plans()
        .collect_all()
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Auth {
                retryable: false,
                ..
            }
        ),
        "{err:?}"
    );
}

// ------------------------------------------------------------ rate limit

#[tokio::test]
async fn rate_limit_headers_are_exposed() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{API}/plans"));
            then.status(200)
                .header("x-ratelimit-limit-read-minute", "400")
                .header("x-ratelimit-remaining-read-minute", "399")
                .header("x-ratelimit-reset-read-minute", "60")
                .header("x-ratelimit-limit-read-day", "100000")
                .header("x-ratelimit-remaining-read-day", "99999")
                .header("x-ratelimit-reset-read-day", "86400")
                .body(fixture("plans.json"));
        })
        .await;
    let c = client(&server);
    assert!(c.rate_limit_status().is_empty());
    c.list_plans().collect_all().await.unwrap();
    let status = c.rate_limit_status();
    let minute = status.bucket("read-minute").unwrap();
    assert_eq!((minute.limit, minute.remaining), (Some(400), Some(399)));
    assert_eq!(minute.reset, Some(Duration::from_secs(60)));
    assert_eq!(status.bucket("read-day").unwrap().remaining, Some(99_999));
}

#[tokio::test]
async fn an_exhausted_bucket_pauses_the_next_call_until_it_resets() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let m = server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{API}/plans"));
            then.status(200)
                .header("x-ratelimit-limit-read-minute", "400")
                .header("x-ratelimit-remaining-read-minute", "0")
                .header("x-ratelimit-reset-read-minute", "0.3")
                .body(fixture("plans.json"));
        })
        .await;
    let c = client(&server);
    c.list_plans().collect_all().await.unwrap();
    let started = std::time::Instant::now();
    c.list_plans().collect_all().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "{:?}",
        started.elapsed()
    );
    m.assert_calls_async(2).await;
}

// ---------------------------------------------------------------- config

#[test]
fn configuration_is_checked_on_build() {
    let secret = || SecretString::from(SECRET);
    let err = Client::builder("acme", "id", secret())
        .api_url("http://app.officernd.com/api/v2")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("not HTTPS"), "{err}");
    let err = Client::builder("acme", "id", secret())
        .token_url("http://identity.officernd.com/oauth/token")
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config { .. }));
    assert!(Client::builder("ac/me", "id", secret()).build().is_err());
    assert!(Client::builder("", "id", secret()).build().is_err());
    assert!(Client::builder("acme", "", secret()).build().is_err());
    assert!(
        Client::builder("acme", "id", SecretString::from(""))
            .build()
            .is_err()
    );
    let c = Client::builder("acme", "id", secret()).build().unwrap();
    assert_eq!(
        c.base_url().as_str(),
        "https://app.officernd.com/api/v2/organizations/acme/"
    );
    let c = Client::builder("acme", "id", secret())
        .staging()
        .build()
        .unwrap();
    assert_eq!(
        c.base_url().as_str(),
        "https://staging.officernd.com/api/v2/organizations/acme/"
    );
}

fn callers_client() -> officernd_client::reqwest::Client {
    use officernd_client::reqwest;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-caller",
        reqwest::header::HeaderValue::from_static("door-sync"),
    );
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("acme-door-sync/2.1")
        .default_headers(headers)
        .build()
        .unwrap()
}

#[tokio::test]
async fn the_callers_http_client_sends_the_token_and_api_requests() {
    let server = MockServer::start_async().await;
    let token = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .header("user-agent", "acme-door-sync/2.1")
                .header("x-caller", "door-sync")
                .form_urlencoded_tuple("client_secret", SECRET);
            then.status(200)
                .header("content-type", "application/json")
                .body(fixture("token.json"));
        })
        .await;
    let member = server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/members/603dfbc260f4054084125d33"))
                .header("authorization", format!("Bearer {TOKEN}"))
                .header("user-agent", "acme-door-sync/2.1")
                .header("x-caller", "door-sync");
            then.status(200)
                .header("content-type", "application/json")
                .body(fixture("member.json"));
        })
        .await;
    let client = builder(&server)
        .http_client(callers_client())
        .build()
        .unwrap();
    client
        .get_member(&MemberId::new("603dfbc260f4054084125d33"))
        .await
        .unwrap();
    token.assert_calls_async(1).await;
    member.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_http_client_that_may_follow_redirects_is_refused() {
    let server = MockServer::start_async().await;
    let err = builder(&server)
        .http_client(officernd_client::reqwest::Client::new())
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
    assert!(err.to_string().contains("Policy::none()"), "{err}");
}

#[tokio::test]
async fn the_timeout_applies_to_the_callers_http_client() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{API}/members/m1"));
            then.status(200)
                .body(r#"{"_id":"m1","name":"Ann"}"#)
                .delay(Duration::from_secs(5));
        })
        .await;
    let client = builder(&server)
        .http_client(callers_client())
        .timeout(Duration::from_millis(200))
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = client.get_member(&MemberId::new("m1")).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

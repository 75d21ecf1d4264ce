//! getLeases r1/r2 against a mock server: request shape, decoding of the
//! recorded shape, skipped records, pagination edges.

#![allow(clippy::unwrap_used)]

mod common;

use chrono::NaiveDate;
use common::{basic_header, client, fixture};
use entrata_client::{
    CustomerType, Error, GetLeases, LeaseIntervalType, LeaseStatus, LeasesRequest, LeasesVersion,
    Money, PropertyId,
};
use futures::{StreamExt, TryStreamExt};
use httpmock::prelude::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[tokio::test]
async fn get_leases_r2_sends_the_envelope_and_decodes_the_recorded_shape() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v1/leases")
                .query_param("page_no", "1")
                .query_param("per_page", "500")
                .header("authorization", basic_header())
                .header_missing("x-api-key")
                .json_body_includes(
                    r#"{"auth":{"type":"basic"},"method":{"name":"getLeases","version":"r2",
                        "params":{"propertyId":"739084","leaseStatusTypeIds":"4,5","includeLeaseHistory":"1",
                                  "moveInDateFrom":"01/01/2024","moveInDateTo":"12/31/2024"}}}"#,
                );
            then.status(200)
                .header("content-type", "application/json;charset=utf-8")
                .body(fixture("get_leases_r2.json"));
        })
        .await;
    let req = LeasesRequest::new(PropertyId(739_084))
        .statuses([LeaseStatus::Current, LeaseStatus::Notice])
        .include_lease_history(true)
        .move_in_between(Some(date(2024, 1, 1)), Some(date(2024, 12, 31)));
    let page = client(&server).get_leases_page(&req, 1).await.unwrap();
    mock.assert_calls_async(1).await;

    assert_eq!(page.currency_code.as_deref(), Some("USD"));
    let ids: Vec<u64> = page.leases.iter().map(|l| l.id.get()).collect();
    assert_eq!(ids, [13_458_104, 13_458_200, 13_458_301]);

    let first = &page.leases[0];
    assert_eq!(first.status(), LeaseStatus::Current);
    assert_eq!(first.property_id, Some(PropertyId(739_084)));
    assert_eq!(first.unit_id.map(|u| u.get()), Some(4_087_610));
    assert_eq!(first.unit_spaces[0].unit_space_id.get(), 4_247_050);
    assert_eq!(first.move_in_date, Some(date(2024, 8, 16)));
    assert_eq!(first.move_out_date, None);
    assert_eq!(first.is_month_to_month, Some(false));
    assert_eq!(first.end_date(), Some(date(2025, 7, 30)));
    assert_eq!(
        first.scheduled_charges[0].amount,
        Some(Money::from_cents(134_500))
    );
    assert_eq!(
        first.scheduled_charges[1].amount,
        Some(Money::from_cents(9_500))
    );
    let interval = first.current_interval().unwrap();
    assert_eq!(interval.kind(), Some(LeaseIntervalType::Application));
    assert_eq!(
        interval.application_completed_on.unwrap().to_rfc3339(),
        "2023-10-19T16:03:27.632515-06:00"
    );
    assert_eq!(
        interval.applications[0].is_active_lease_interval,
        Some(true)
    );

    // three customers decoded, the fourth (bad move-in date) skipped
    let kinds: Vec<_> = first
        .customers
        .iter()
        .map(|c| c.customer_type.clone())
        .collect();
    assert_eq!(
        kinds,
        [
            Some(CustomerType::Primary),
            Some(CustomerType::Guarantor),
            Some(CustomerType::CoApplicant)
        ]
    );
    let primary = &first.customers[0];
    assert_eq!(primary.display_name(), "Jane Doe");
    assert_eq!(
        primary.email_address.as_deref(),
        Some("jane.doe@example.com")
    );
    assert_eq!(primary.phone(), Some("5555550100"));
    assert_eq!(first.customers[2].move_out_date, Some(date(2024, 12, 20)));

    // renewal on notice, single customer collapsed to an object
    let renewed = &page.leases[1];
    assert_eq!(renewed.status(), LeaseStatus::Notice);
    assert_eq!(renewed.move_out_date, Some(date(2025, 7, 30)));
    assert_eq!(renewed.renewals().count(), 1);
    assert_eq!(
        renewed.current_interval().unwrap().status(),
        Some(LeaseStatus::Notice)
    );
    assert_eq!(renewed.customers.len(), 1);
    assert_eq!(renewed.customers[0].phone(), Some("5555550102"));

    // unknown status kept; 12/31/1969 read as no date
    let odd = &page.leases[2];
    assert_eq!(odd.status(), LeaseStatus::Other("7".into()));
    assert_eq!(odd.transfer_date, None);
    assert_eq!(odd.parent_lease_id.map(|l| l.get()), Some(13_458_104));

    // what was skipped, with ids and paths
    assert_eq!(page.skipped.len(), 2, "{:#?}", page.skipped);
    let customer = page.skipped.iter().find(|s| s.kind == "customer").unwrap();
    assert_eq!(customer.id.as_deref(), Some("18058350"));
    assert_eq!(customer.parent.as_deref(), Some("lease 13458104"));
    assert_eq!(customer.path, "moveInDate");
    let lease = page.skipped.iter().find(|s| s.kind == "lease").unwrap();
    assert_eq!(lease.id.as_deref(), Some("13458300"));
    assert_eq!(lease.index, 2);
    assert!(lease.reason.contains("2025/08/16"), "{}", lease.reason);
}

#[tokio::test]
async fn get_leases_r1_reads_flat_building_and_transfer_fields() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v1/leases")
                .json_body_includes(r#"{"method":{"name":"getLeases","version":"r1"}}"#);
            then.status(200).body(fixture("get_leases_r1.json"));
        })
        .await;
    let req = LeasesRequest::new(PropertyId(739_084)).version(LeasesVersion::R1);
    let page = client(&server).get_leases_page(&req, 1).await.unwrap();
    mock.assert_calls_async(1).await;
    let lease = &page.leases[0];
    assert_eq!(lease.status(), LeaseStatus::Past);
    assert_eq!(lease.building_id.map(|b| b.get()), Some(55_404));
    assert_eq!(lease.unit(), Some("101-A"));
    assert_eq!(lease.unit_number, None);
    assert_eq!(lease.unit_space_id.map(|u| u.get()), Some(4_247_050));
    assert_eq!(lease.transfer_lease_id.map(|l| l.get()), Some(5_424_999));
    assert_eq!(lease.transfer_lease_property_id, Some(PropertyId(739_085)));
    assert_eq!(lease.termination_start_date, Some(date(2023, 7, 31)));
    assert_eq!(lease.transfers().count(), 1);
    assert_eq!(lease.end_date(), Some(date(2023, 7, 31)));
    assert!(page.skipped.is_empty());
}

#[test]
fn decode_without_network_matches_the_fixture() {
    let page = GetLeases::decode(fixture("get_leases_r2.json").as_bytes()).unwrap();
    assert_eq!(page.leases.len(), 3);
    assert_eq!(page.skipped.len(), 2);
}

/// A body with `n` minimal leases whose ids start at `first`.
fn leases_body(first: u64, n: u64) -> String {
    let items: Vec<String> = (first..first + n)
        .map(|id| format!(r#"{{"id":"{id}","propertyId":"1","leaseStatusTypeId":"4","moveInDate":"01/02/2025"}}"#))
        .collect();
    format!(
        r#"{{"response":{{"requestId":"1","code":200,"result":{{"leases":{{"lease":[{}]}}}}}}}}"#,
        items.join(",")
    )
}

async fn page_mock(server: &MockServer, page: u32, body: String) -> httpmock::Mock<'_> {
    server
        .mock_async(move |when, then| {
            when.method(POST)
                .path("/api/v1/leases")
                .query_param("page_no", page.to_string())
                .query_param("per_page", "2");
            then.status(200).body(body);
        })
        .await
}

#[tokio::test]
async fn pagination_walks_pages_until_a_short_one() {
    let server = MockServer::start_async().await;
    let p1 = page_mock(&server, 1, leases_body(1, 2)).await;
    let p2 = page_mock(&server, 2, leases_body(3, 2)).await;
    let p3 = page_mock(&server, 3, leases_body(5, 1)).await;
    let client = common::builder(&server).per_page(2).build().unwrap();
    let all = client
        .all_leases(&LeasesRequest::new(PropertyId(1)))
        .await
        .unwrap();
    let ids: Vec<u64> = all.leases.iter().map(|l| l.id.get()).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    assert_eq!(all.pages, 3);
    for m in [p1, p2, p3] {
        m.assert_calls_async(1).await;
    }
}

#[tokio::test]
async fn pagination_stops_on_an_empty_page_and_on_no_records() {
    let server = MockServer::start_async().await;
    let p1 = page_mock(&server, 1, leases_body(1, 2)).await;
    let p2 = page_mock(&server, 2, fixture("no_records.json")).await;
    let client = common::builder(&server).per_page(2).build().unwrap();
    let leases: Vec<_> = client
        .leases(&LeasesRequest::new(PropertyId(1)))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(leases.len(), 2);
    p1.assert_calls_async(1).await;
    p2.assert_calls_async(1).await;

    // nothing at all
    let server = MockServer::start_async().await;
    let only = page_mock(&server, 1, fixture("no_records_text.json")).await;
    let client = common::builder(&server).per_page(2).build().unwrap();
    let all = client
        .all_leases(&LeasesRequest::new(PropertyId(1)))
        .await
        .unwrap();
    assert!(all.leases.is_empty());
    assert_eq!(all.pages, 1);
    only.assert_calls_async(1).await;
}

#[tokio::test]
async fn one_short_page_is_one_call() {
    let server = MockServer::start_async().await;
    let p1 = page_mock(&server, 1, leases_body(1, 1)).await;
    let client = common::builder(&server).per_page(2).build().unwrap();
    let all = client
        .all_leases(&LeasesRequest::new(PropertyId(1)))
        .await
        .unwrap();
    assert_eq!(all.leases.len(), 1);
    p1.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_server_repeating_a_page_is_stopped() {
    let server = MockServer::start_async().await;
    // ignores page_no: always the same full page
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/leases");
            then.status(200).body(leases_body(1, 2));
        })
        .await;
    let client = common::builder(&server).per_page(2).build().unwrap();
    let results: Vec<_> = client
        .leases(&LeasesRequest::new(PropertyId(1)))
        .collect()
        .await;
    mock.assert_calls_async(2).await;
    assert_eq!(results.len(), 3, "two leases, then the error");
    assert!(results[..2].iter().all(Result::is_ok));
    let err = results[2].as_ref().unwrap_err();
    assert!(
        matches!(
            err,
            Error::Pagination {
                page: 2,
                method: "getLeases",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn max_pages_bounds_an_endless_listing() {
    let server = MockServer::start_async().await;
    let p1 = page_mock(&server, 1, leases_body(1, 2)).await;
    let p2 = page_mock(&server, 2, leases_body(3, 2)).await;
    let client = common::builder(&server)
        .per_page(2)
        .max_pages(2)
        .build()
        .unwrap();
    let err = client
        .all_leases(&LeasesRequest::new(PropertyId(1)))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Pagination { page: 3, .. }), "{err:?}");
    p1.assert_calls_async(1).await;
    p2.assert_calls_async(1).await;
}

#[tokio::test]
async fn the_stream_ends_at_the_first_error() {
    let server = MockServer::start_async().await;
    let p1 = page_mock(&server, 1, leases_body(1, 2)).await;
    let p2 = server
        .mock_async(|when, then| {
            when.query_param("page_no", "2");
            then.status(200).body(fixture("error_301.json"));
        })
        .await;
    let client = common::builder(&server).per_page(2).build().unwrap();
    let results: Vec<_> = client
        .lease_pages(&LeasesRequest::new(PropertyId(1)))
        .collect()
        .await;
    assert_eq!(results.len(), 2);
    assert!(results[0].is_ok());
    assert!(matches!(
        results[1],
        Err(Error::PermissionDenied {
            code: Some(301),
            ..
        })
    ));
    p1.assert_calls_async(1).await;
    p2.assert_calls_async(1).await;
}

/// Both revisions' names for the same value in one record must not make the
/// record a duplicate-field failure.
#[test]
fn r1_and_r2_names_side_by_side_still_decode() {
    let body = br#"{"response":{"code":200,"result":{"leases":{"lease":[{
        "id":"1","propertyId":"9","unitNumber":"101","unitNumberSpace":"101-A",
        "leaseIntervals":{"leaseInterval":[{"id":7,"startDate":"01/01/2025","leaseStartDate":"01/01/2025",
            "endDate":"12/31/2025","leaseEndDate":"12/31/2025"}]}}]}}}}"#;
    let page = GetLeases::decode(body).unwrap();
    assert!(page.skipped.is_empty(), "{:?}", page.skipped);
    let lease = &page.leases[0];
    assert_eq!(lease.unit(), Some("101"));
    assert_eq!(lease.end_date(), Some(date(2025, 12, 31)));
    assert_eq!(lease.lease_intervals[0].start(), Some(date(2025, 1, 1)));
}

/// A big page is decoded off the async workers (spawn_blocking) and still
/// reports its skipped records, which are collected on that thread.
#[tokio::test]
async fn a_large_page_decodes_off_the_runtime_with_its_reports() {
    let mut body = leases_body(1, 4000);
    body = body.replacen(
        r#""id":"2","propertyId":"1","leaseStatusTypeId":"4","moveInDate":"01/02/2025""#,
        r#""id":"2","propertyId":"1","leaseStatusTypeId":"4","moveInDate":"01/32/2025""#,
        1,
    );
    assert!(body.len() > 256 * 1024);
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(move |when, then| {
            when.method(POST).path("/api/v1/leases");
            then.status(200).body(body);
        })
        .await;
    let page = client(&server)
        .get_leases_page(&LeasesRequest::new(PropertyId(1)), 1)
        .await
        .unwrap();
    mock.assert_calls_async(1).await;
    assert_eq!(page.leases.len(), 3999);
    assert_eq!(page.skipped.len(), 1);
    assert_eq!(page.skipped[0].id.as_deref(), Some("2"));
}

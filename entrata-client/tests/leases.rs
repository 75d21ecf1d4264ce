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
    // what was wrong, not the value (which could be anything the server sent)
    assert!(
        lease.reason.contains("invalid date") && !lease.reason.contains("2025/08/16"),
        "{}",
        lease.reason
    );
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
    page_mock_at(server, page, 2, body).await
}

async fn page_mock_at(
    server: &MockServer,
    page: u32,
    per_page: u32,
    body: String,
) -> httpmock::Mock<'_> {
    server
        .mock_async(move |when, then| {
            when.method(POST)
                .path("/api/v1/leases")
                .query_param("page_no", page.to_string())
                .query_param("per_page", per_page.to_string());
            then.status(200).body(body);
        })
        .await
}

/// Entrata counts every call: once the server has returned a page of 5
/// records, a later first page of 3 cannot be cut by a cap (a cap would be
/// at least 5), so no empty page is asked to confirm it; a first page of 5
/// still is (a cap of exactly 5 would look the same).
#[tokio::test]
async fn a_first_page_shorter_than_one_seen_before_needs_no_confirmation() {
    let server = MockServer::start_async().await;
    let of = |property: &'static str, page: &'static str, body: String| {
        let server = &server;
        async move {
            server
                .mock_async(move |when, then| {
                    when.method(POST)
                        .path("/api/v1/leases")
                        .body_includes(format!("\"propertyId\":\"{property}\""))
                        .query_param("page_no", page);
                    then.status(200).body(body);
                })
                .await
        }
    };
    let p1 = of("1", "1", leases_body(1, 5)).await;
    let p2 = of("1", "2", fixture("no_records.json")).await;
    let client = common::builder(&server).per_page(10).build().unwrap();
    let all = client
        .all_leases(&LeasesRequest::new(PropertyId(1)))
        .await
        .unwrap();
    assert_eq!((all.leases.len(), all.pages), (5, 2));
    p1.assert_calls_async(1).await;
    p2.assert_calls_async(1).await;

    // another property's list of 3: one call
    let small = of("2", "1", leases_body(20, 3)).await;
    let all = client
        .all_leases(&LeasesRequest::new(PropertyId(2)))
        .await
        .unwrap();
    assert_eq!((all.leases.len(), all.pages), (3, 1));
    small.assert_calls_async(1).await;
    // and the list of 5 is confirmed again
    client
        .all_leases(&LeasesRequest::new(PropertyId(1)))
        .await
        .unwrap();
    p2.assert_calls_async(2).await;
}

#[tokio::test]
async fn pagination_walks_pages_until_an_empty_page_confirms_a_short_one() {
    let server = MockServer::start_async().await;
    let p1 = page_mock(&server, 1, leases_body(1, 2)).await;
    let p2 = page_mock(&server, 2, leases_body(3, 2)).await;
    let p3 = page_mock(&server, 3, leases_body(5, 1)).await;
    let p4 = page_mock(&server, 4, fixture("no_records.json")).await;
    let client = common::builder(&server).per_page(2).build().unwrap();
    let all = client
        .all_leases(&LeasesRequest::new(PropertyId(1)))
        .await
        .unwrap();
    let ids: Vec<u64> = all.leases.iter().map(|l| l.id.get()).collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);
    assert_eq!((all.pages, all.total, all.page_size), (4, None, 2));
    for m in [p1, p2, p3, p4] {
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
async fn a_short_page_is_confirmed_by_an_empty_one() {
    let server = MockServer::start_async().await;
    let p1 = page_mock(&server, 1, leases_body(1, 1)).await;
    // asked at the short page's size, so a capped server would answer the rest
    let p2 = page_mock_at(&server, 2, 1, fixture("no_records.json")).await;
    let client = common::builder(&server).per_page(2).build().unwrap();
    let pages: Vec<_> = client
        .lease_pages(&LeasesRequest::new(PropertyId(1)))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 1, "the confirming empty page is not yielded");
    assert_eq!(pages[0].leases.len(), 1);
    p1.assert_calls_async(1).await;
    p2.assert_calls_async(1).await;
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

// ---------------------------------------------------------------------------
// servers that page in odd ways

/// How a fake `getLeases` pages through `records` leases (ids 1..=records).
#[derive(Debug, Clone, Copy)]
struct Paging {
    records: u64,
    /// The most records a page holds, whatever was asked.
    cap: Option<u64>,
    /// Page `n` starts at `(n - 1) * per_page` as asked (true) or as served
    /// under the cap (false).
    offset_by_requested: bool,
    /// `X-Total-Count` to send.
    total_header: Option<u64>,
    ignore_page_no: bool,
    ignore_per_page: bool,
}

impl Paging {
    fn new(records: u64) -> Self {
        Self {
            records,
            cap: None,
            offset_by_requested: true,
            total_header: None,
            ignore_page_no: false,
            ignore_per_page: false,
        }
    }

    fn ids(self, page: u64, per_page: u64) -> Vec<u64> {
        if self.ignore_per_page {
            return (1..=self.records).collect();
        }
        let served = self.cap.map_or(per_page, |c| per_page.min(c));
        let step = if self.offset_by_requested {
            per_page
        } else {
            served
        };
        let page = if self.ignore_page_no { 1 } else { page };
        let start = (page - 1) * step;
        (start + 1..=(start + served).min(self.records)).collect()
    }
}

fn body_of(ids: &[u64]) -> String {
    if ids.is_empty() {
        return fixture("no_records.json");
    }
    let items: Vec<String> = ids
        .iter()
        .map(|id| format!(r#"{{"id":"{id}","propertyId":"1","leaseStatusTypeId":"4"}}"#))
        .collect();
    format!(
        r#"{{"response":{{"requestId":"1","code":200,"result":{{"leases":{{"lease":[{}]}}}}}}}}"#,
        items.join(",")
    )
}

/// A mock server answering `getLeases` as `paging` says; it records the
/// `(page_no, per_page)` of each request.
async fn paging_server(
    paging: Paging,
) -> (
    MockServer,
    std::sync::Arc<std::sync::Mutex<Vec<(u64, u64)>>>,
) {
    let server = MockServer::start_async().await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    server
        .mock_async(move |when, then| {
            when.method(POST).path("/api/v1/leases");
            then.respond_with(move |req: &httpmock::HttpMockRequest| {
                let q: std::collections::HashMap<String, String> =
                    req.query_params().into_iter().collect();
                let num = |k: &str| q.get(k).and_then(|v| v.parse::<u64>().ok()).unwrap();
                let (page, per_page) = (num("page_no"), num("per_page"));
                log.lock().unwrap().push((page, per_page));
                let mut resp = httpmock::HttpMockResponse::builder()
                    .status(200)
                    .body(body_of(&paging.ids(page, per_page)));
                if let Some(t) = paging.total_header {
                    resp = resp.header("X-Total-Count", t.to_string());
                }
                resp.build()
            });
        })
        .await;
    (server, seen)
}

fn ids_of(all: &entrata_client::Leases) -> Vec<u64> {
    all.leases.iter().map(|l| l.id.get()).collect()
}

/// A server capping pages at 2 while offsetting by the per_page asked (4):
/// page 2 starts at record 5, so a client stopping at the short first page
/// loses 5 of 7 records and one walking on loses 3 and 4. The cap is
/// detected, the listing restarts at 2 per page and gets every record; the
/// next listing starts at the cap.
/// Fewer records than asked for, but more than the cap: page 2 at the
/// size asked for would start past the end and look empty. The probe of
/// page 2 is asked at the first page's size, so it finds the rest.
#[tokio::test]
async fn a_cap_below_a_short_list_is_found_by_probing_at_the_first_pages_size() {
    let paging = Paging {
        cap: Some(2),
        ..Paging::new(3)
    };
    assert!(
        paging.ids(2, 10).is_empty(),
        "page 2 at 10 per page looks like the end"
    );
    let (server, seen) = paging_server(paging).await;
    let client = common::builder(&server).per_page(10).build().unwrap();
    let all = client
        .all_leases(&LeasesRequest::new(PropertyId(1)))
        .await
        .unwrap();
    assert_eq!(ids_of(&all), [1, 2, 3]);
    assert_eq!(all.page_size, 2);
    assert_eq!(
        *seen.lock().unwrap(),
        [(1, 10), (2, 2), (1, 2), (2, 2), (3, 2)]
    );
}

#[tokio::test]
async fn a_capped_server_offsetting_by_the_requested_size_loses_nothing() {
    let paging = Paging {
        cap: Some(2),
        ..Paging::new(7)
    };
    assert_eq!(paging.ids(1, 4), [1, 2]);
    assert_eq!(
        paging.ids(2, 4),
        [5, 6],
        "records 3 and 4 are never served at per_page 4"
    );
    let (server, seen) = paging_server(paging).await;
    let client = common::builder(&server).per_page(4).build().unwrap();
    let all = client
        .all_leases(&LeasesRequest::new(PropertyId(1)))
        .await
        .unwrap();
    assert_eq!(ids_of(&all), [1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(
        (all.page_size, all.total, all.pages),
        (2, None, 7),
        "2 discarded + 5"
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [(1, 4), (2, 2), (1, 2), (2, 2), (3, 2), (4, 2), (5, 2)]
    );

    // the stream never yields the discarded records
    seen.lock().unwrap().clear();
    let streamed: Vec<u64> = client
        .leases(&LeasesRequest::new(PropertyId(1)))
        .map_ok(|l| l.id.get())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(streamed, [1, 2, 3, 4, 5, 6, 7]);
    assert_eq!(
        *seen.lock().unwrap(),
        [(1, 2), (2, 2), (3, 2), (4, 2), (5, 2)],
        "the cap is remembered"
    );
}

#[tokio::test]
async fn a_capped_server_offsetting_by_the_capped_size_loses_nothing() {
    let paging = Paging {
        cap: Some(2),
        offset_by_requested: false,
        ..Paging::new(5)
    };
    let (server, seen) = paging_server(paging).await;
    let client = common::builder(&server).per_page(3).build().unwrap();
    let all = client
        .all_leases(&LeasesRequest::new(PropertyId(1)))
        .await
        .unwrap();
    assert_eq!(ids_of(&all), [1, 2, 3, 4, 5]);
    assert_eq!(all.page_size, 2);
    assert_eq!(
        *seen.lock().unwrap(),
        [(1, 3), (2, 2), (1, 2), (2, 2), (3, 2), (4, 2)]
    );
}

#[tokio::test]
async fn x_total_count_ends_the_listing_without_an_extra_call() {
    for (records, calls) in [(5, 3), (4, 2)] {
        let paging = Paging {
            total_header: Some(records),
            ..Paging::new(records)
        };
        let (server, seen) = paging_server(paging).await;
        let client = common::builder(&server).per_page(2).build().unwrap();
        let all = client
            .all_leases(&LeasesRequest::new(PropertyId(1)))
            .await
            .unwrap();
        assert_eq!(ids_of(&all), (1..=records).collect::<Vec<_>>());
        assert_eq!((all.total, all.page_size), (Some(records), 2));
        assert_eq!(seen.lock().unwrap().len(), calls, "{records} records");
    }
}

#[tokio::test]
async fn a_capped_server_with_a_total_restarts_at_once() {
    let paging = Paging {
        cap: Some(2),
        total_header: Some(5),
        ..Paging::new(5)
    };
    let (server, seen) = paging_server(paging).await;
    let client = common::builder(&server).per_page(10).build().unwrap();
    let all = client
        .all_leases(&LeasesRequest::new(PropertyId(1)))
        .await
        .unwrap();
    assert_eq!(ids_of(&all), [1, 2, 3, 4, 5]);
    assert_eq!((all.total, all.page_size), (Some(5), 2));
    assert_eq!(*seen.lock().unwrap(), [(1, 10), (1, 2), (2, 2), (3, 2)]);
}

#[tokio::test]
async fn x_total_count_mismatches_are_errors() {
    // announced 6, served 4: an empty page comes first
    let paging = Paging {
        total_header: Some(6),
        ..Paging::new(4)
    };
    let (server, _) = paging_server(paging).await;
    let client = common::builder(&server).per_page(2).build().unwrap();
    let err = client
        .all_leases(&LeasesRequest::new(PropertyId(1)))
        .await
        .unwrap_err();
    let Error::Pagination { page, message, .. } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(*page, 3);
    assert!(message.contains('4') && message.contains('6'), "{message}");
    assert!(!err.is_retryable());

    // announced 3, served 4
    let paging = Paging {
        total_header: Some(3),
        ..Paging::new(4)
    };
    let (server, _) = paging_server(paging).await;
    let client = common::builder(&server).per_page(2).build().unwrap();
    let err = client
        .all_leases(&LeasesRequest::new(PropertyId(1)))
        .await
        .unwrap_err();
    let Error::Pagination { message, .. } = &err else {
        panic!("{err:?}");
    };
    assert!(message.contains('4') && message.contains('3'), "{message}");

    // announced 5, a short page at page 2
    let paging = Paging {
        total_header: Some(5),
        ..Paging::new(3)
    };
    let (server, _) = paging_server(paging).await;
    let client = common::builder(&server).per_page(2).build().unwrap();
    let err = client
        .all_leases(&LeasesRequest::new(PropertyId(1)))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Pagination { page: 2, .. }), "{err:?}");
}

#[tokio::test]
async fn a_server_ignoring_page_no_is_read_once() {
    let paging = Paging {
        ignore_page_no: true,
        ..Paging::new(3)
    };
    let (server, seen) = paging_server(paging).await;
    let client = common::builder(&server).per_page(5).build().unwrap();
    let all = client
        .all_leases(&LeasesRequest::new(PropertyId(1)))
        .await
        .unwrap();
    assert_eq!(ids_of(&all), [1, 2, 3], "the repeat is dropped");
    assert_eq!(*seen.lock().unwrap(), [(1, 5), (2, 3)]);
}

#[tokio::test]
async fn a_server_ignoring_per_page_sends_the_whole_list() {
    let paging = Paging {
        ignore_per_page: true,
        ..Paging::new(5)
    };
    let (server, seen) = paging_server(paging).await;
    let client = common::builder(&server).per_page(2).build().unwrap();
    let all = client
        .all_leases(&LeasesRequest::new(PropertyId(1)))
        .await
        .unwrap();
    assert_eq!(ids_of(&all), [1, 2, 3, 4, 5]);
    assert_eq!(*seen.lock().unwrap(), [(1, 2)]);
}

#[tokio::test]
async fn more_records_after_a_short_page_past_page_one_is_an_error() {
    let server = MockServer::start_async().await;
    page_mock(&server, 1, leases_body(1, 2)).await;
    page_mock(&server, 2, leases_body(3, 1)).await;
    page_mock(&server, 3, leases_body(4, 2)).await;
    let client = common::builder(&server).per_page(2).build().unwrap();
    let err = client
        .all_leases(&LeasesRequest::new(PropertyId(1)))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Pagination { page: 3, .. }), "{err:?}");
}

#[tokio::test]
async fn an_unexpected_result_ends_the_listing() {
    let server = MockServer::start_async().await;
    page_mock(&server, 1, leases_body(1, 2)).await;
    page_mock(
        &server,
        2,
        r#"{"response":{"requestId":"1","code":200,"result":[]}}"#.to_owned(),
    )
    .await;
    let client = common::builder(&server).per_page(2).build().unwrap();
    let err = client
        .all_leases(&LeasesRequest::new(PropertyId(1)))
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::UnexpectedResult { method: "getLeases", expected: "leases", found } if found == "[]"
        ),
        "{err:?}"
    );
}

/// Every listing stream is the same kind in the three clients: boxed, so
/// `Unpin` (no `pin!` needed), `Send` and `'static`.
#[test]
fn listing_streams_are_boxed_unpin_send_and_static() {
    fn boxed<T>(_: &futures::stream::BoxStream<'static, Result<T, entrata_client::Error>>) {}
    let client = entrata_client::Client::builder_basic("acme", "user", "password")
        .build()
        .unwrap();
    boxed(&client.leases(&LeasesRequest::new(PropertyId(1))));
    boxed(&client.lease_pages(&LeasesRequest::new(PropertyId(1))));
    boxed(&client.lease_detail_pages(&entrata_client::LeaseDetailsRequest::new(PropertyId(1))));
}

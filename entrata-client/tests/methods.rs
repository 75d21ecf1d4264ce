//! One test per remaining method: the request each sends (service path,
//! method name, version, params) and what it decodes from the recorded or
//! documented shape, skipped records included.

#![allow(clippy::unwrap_used)]

mod common;

use chrono::NaiveDate;
use common::{client, fixture};
use entrata_client::{
    CustomerType, CustomersRequest, Error, ExpiringLeasesRequest, LeaseDetailsRequest,
    LeaseDetailsVersion, LeaseId, LeaseStatus, MitsPropertyUnitsRequest, PropertiesRequest,
    PropertyId, PropertyUnitsRequest,
};
use futures::StreamExt;
use httpmock::prelude::*;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

async fn serve<'a>(
    server: &'a MockServer,
    service: &str,
    expected_body: &str,
    fixture_name: &str,
) -> httpmock::Mock<'a> {
    let path = format!("/api/v1/{service}");
    let expected = expected_body.to_owned();
    let body = fixture(fixture_name);
    server
        .mock_async(move |when, then| {
            when.method(POST).path(path).json_body_includes(expected);
            then.status(200).body(body);
        })
        .await
}

#[tokio::test]
async fn get_properties() {
    let server = MockServer::start_async().await;
    let mock = serve(
        &server,
        "properties",
        r#"{"method":{"name":"getProperties","version":"r1","params":{"propertyIds":"518044,739084","showAllStatus":"1"}}}"#,
        "get_properties.json",
    )
    .await;
    let req = PropertiesRequest::new()
        .property_ids([PropertyId(518_044), PropertyId(739_084)])
        .show_all_status(true);
    let props = client(&server).get_properties(&req).await.unwrap();
    mock.assert_calls_async(1).await;
    assert_eq!(props.properties.len(), 2);
    let p = &props.properties[0];
    assert_eq!(p.id, PropertyId(518_044));
    assert_eq!(p.name(), "Shortbread Lofts");
    assert_eq!(p.parent_property_id, Some(PropertyId(739_076)));
    assert_eq!(p.is_disabled, Some(false));
    assert_eq!(
        p.address.as_ref().unwrap().city.as_deref(),
        Some("Chapel Hill")
    );
    assert_eq!(p.lease_terms[0].is_renewal, Some(true));
    assert_eq!(props.properties[1].is_disabled, Some(true));
    assert_eq!(props.skipped.len(), 1);
    assert_eq!(props.skipped[0].kind, "property");
    assert_eq!(props.skipped[0].id.as_deref(), Some("not-an-id"));
    assert_eq!(props.skipped[0].path, "PropertyID");
}

#[tokio::test]
async fn get_mits_property_units_and_the_time_zone() {
    let server = MockServer::start_async().await;
    let mock = serve(
        &server,
        "propertyunits",
        r#"{"method":{"name":"getMitsPropertyUnits","version":"r1","params":{"propertyIds":"739084"}}}"#,
        "get_mits_property_units.json",
    )
    .await;
    let client = client(&server);
    let mits = client
        .get_mits_property_units(&MitsPropertyUnitsRequest::new([PropertyId(739_084)]))
        .await
        .unwrap();
    assert_eq!(mits.properties.len(), 2);
    assert_eq!(mits.properties[0].id, PropertyId(739_084));
    assert_eq!(
        mits.properties[0].time_zone(),
        Some(chrono_tz::America::Chicago)
    );
    assert_eq!(
        mits.properties[1].time_zone(),
        Some(chrono_tz::America::New_York)
    );
    let tz = client
        .property_time_zone(PropertyId(739_084))
        .await
        .unwrap();
    assert_eq!(tz, Some(chrono_tz::America::Chicago));
    mock.assert_calls_async(2).await;

    // no property: refused before any call
    let err = client
        .get_mits_property_units(&MitsPropertyUnitsRequest::new([]))
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidRequest {
            method: "getMitsPropertyUnits",
            ..
        }
    ));
    mock.assert_calls_async(2).await;
}

#[tokio::test]
async fn get_property_units() {
    let server = MockServer::start_async().await;
    let mock = serve(
        &server,
        "propertyunits",
        r#"{"method":{"name":"getPropertyUnits","version":"r1","params":{"propertyIds":"739084","includeDisabledUnits":"1"}}}"#,
        "get_property_units.json",
    )
    .await;
    let req = PropertyUnitsRequest::new([PropertyId(739_084)]).include_disabled_units(true);
    let units = client(&server).get_property_units(&req).await.unwrap();
    mock.assert_calls_async(1).await;
    let prop = &units.properties[0];
    assert_eq!(prop.property_id, PropertyId(739_084));
    assert_eq!(prop.building_count, Some(2));
    assert_eq!(prop.units.len(), 2);
    let u = &prop.units[0];
    assert_eq!(u.unit_number.as_deref(), Some("302"));
    assert_eq!(u.building_id.map(|b| b.get()), Some(34));
    assert_eq!(u.floorplan_id.map(|f| f.get()), Some(565_161));
    assert_eq!(u.square_feet, Some(1500.0));
    assert_eq!(u.unit_spaces[0].available_date, Some(date(2024, 11, 8)));
    assert_eq!(u.unit_spaces[0].make_ready_date, None);
    assert_eq!(prop.units[1].building_id, None);
    assert_eq!(units.skipped.len(), 1);
    let bad = &units.skipped[0];
    assert_eq!((bad.kind, bad.id.as_deref()), ("unit", Some("unit-x")));
    assert_eq!(bad.parent.as_deref(), Some("property 739084"));
}

#[tokio::test]
async fn get_unit_types() {
    let server = MockServer::start_async().await;
    let mock = serve(
        &server,
        "propertyunits",
        r#"{"method":{"name":"getUnitTypes","version":"r1","params":{"propertyId":"739084"}}}"#,
        "get_unit_types.json",
    )
    .await;
    let types = client(&server)
        .get_unit_types(PropertyId(739_084))
        .await
        .unwrap();
    mock.assert_calls_async(1).await;
    assert_eq!(types.unit_types.len(), 2);
    let t = &types.unit_types[0];
    assert_eq!(t.id().map(|i| i.get()), Some(618_382));
    assert_eq!(t.name.as_deref(), Some("S1"));
    let key = t.floorplan.as_ref().unwrap().key.as_ref().unwrap();
    assert_eq!(key.name.as_deref(), Some("FPN"));
    assert_eq!(
        key.attributes.as_ref().unwrap().id.map(|i| i.get()),
        Some(543_312)
    );
    assert_eq!(t.max_square_feet, Some(410.5));
    assert_eq!(t.max_market_rent.map(|m| m.cents()), Some(160_000));
    assert_eq!(types.unit_types[1].bedrooms, Some(2.0));
}

#[tokio::test]
async fn get_lease_details_r2_is_paginated() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v1/leases")
                .query_param("page_no", "1")
                .json_body_includes(
                    r#"{"method":{"name":"getLeaseDetails","version":"r2","params":{"propertyId":"739084","includeCharge":"1"}}}"#,
                );
            then.status(200).body(fixture("get_lease_details_r2.json"));
        })
        .await;
    let end = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v1/leases")
                .query_param("page_no", "2");
            then.status(200).body(fixture("no_records.json"));
        })
        .await;
    let req = LeaseDetailsRequest::new(PropertyId(739_084)).include_charge(true);
    let pages: Vec<_> = client(&server).lease_detail_pages(&req).collect().await;
    mock.assert_calls_async(1).await;
    end.assert_calls_async(1).await;
    assert_eq!(pages.len(), 1, "a short page confirmed by an empty one");
    let page = pages.into_iter().next().unwrap().unwrap();
    assert_eq!(page.leases.len(), 2);
    let first = &page.leases[0];
    assert_eq!(first.lease_id, LeaseId(12_269_740));
    assert_eq!(first.unit_number.as_deref(), Some("6285-D"));
    let charges = first.scheduled_charges.as_ref().unwrap();
    assert_eq!(
        charges.recurring[0].lease_interval_status,
        Some(LeaseStatus::Notice)
    );
    assert_eq!(charges.recurring[0].lease_end_date, Some(date(2017, 11, 9)));
    assert_eq!(charges.one_time.len(), 1, "a collapsed one-element list");
    assert_eq!(
        page.leases[1].property_unit_id.map(|u| u.get()),
        Some(3_980_421)
    );

    let all = client(&server).all_lease_details(&req).await.unwrap();
    assert_eq!(all.leases.len(), 2);
    assert_eq!((all.pages, all.total, all.page_size), (2, None, 500));
    mock.assert_calls_async(2).await;
    end.assert_calls_async(2).await;
}

#[tokio::test]
async fn get_lease_details_r1_needs_a_lease_id() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v1/leases")
                .query_param_missing("page_no")
                .json_body_includes(
                    r#"{"method":{"name":"getLeaseDetails","version":"r1","params":{"propertyId":"739084","leaseId":"12269740"}}}"#,
                );
            then.status(200).body(fixture("get_lease_details_r2.json"));
        })
        .await;
    let client = client(&server);
    let req = LeaseDetailsRequest::new(PropertyId(739_084)).version(LeaseDetailsVersion::R1);
    let err = client.get_lease_details_page(&req, 1).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidRequest {
                method: "getLeaseDetails",
                ..
            }
        ),
        "{err:?}"
    );
    mock.assert_calls_async(0).await;
    let page = client
        .get_lease_details_page(&req.lease_id(LeaseId(12_269_740)), 1)
        .await
        .unwrap();
    assert_eq!(page.leases.len(), 2);
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn get_expiring_leases() {
    let server = MockServer::start_async().await;
    let mock = serve(
        &server,
        "leases",
        r#"{"method":{"name":"getExpiringLeases","version":"r1","params":{"propertyId":"739084","fromDate":"01/01/2013","toDate":"12/31/2014"}}}"#,
        "get_expiring_leases.json",
    )
    .await;
    let req = ExpiringLeasesRequest::new(PropertyId(739_084), date(2014, 12, 31))
        .from_date(date(2013, 1, 1));
    let leases = client(&server).get_expiring_leases(&req).await.unwrap();
    mock.assert_calls_async(1).await;
    assert_eq!(leases.leases.len(), 2);
    let l = &leases.leases[0];
    assert_eq!(l.id(), LeaseId(5_641_482));
    let resident = l.resident.as_ref().unwrap();
    assert_eq!(resident.attributes.unwrap().id.get(), 4_940_016);
    assert_eq!(
        resident.email_address.as_deref(),
        Some("jane.doe@example.com")
    );
    assert_eq!(l.lease_expires, Some(date(2013, 2, 27)));
    assert_eq!(l.notice_date, Some(date(2014, 2, 11)));
    assert_eq!(leases.leases[1].unit.as_deref(), Some("15"));
    assert_eq!(leases.leases[1].lease_status, Some(LeaseStatus::Notice));
}

#[tokio::test]
async fn get_customers() {
    let server = MockServer::start_async().await;
    let mock = serve(
        &server,
        "customers",
        r#"{"method":{"name":"getCustomers","version":"r1","params":{"propertyId":"739084","leaseStatusTypeIds":"4,5"}}}"#,
        "get_customers.json",
    )
    .await;
    let req = CustomersRequest::new(PropertyId(739_084))
        .statuses([LeaseStatus::Current, LeaseStatus::Notice]);
    let customers = client(&server).get_customers(&req).await.unwrap();
    mock.assert_calls_async(1).await;
    assert_eq!(customers.customers.len(), 1);
    let c = &customers.customers[0];
    assert_eq!(c.id().get(), 6_526_235);
    assert_eq!(c.attributes.external_id.as_deref(), Some("ext-1"));
    assert_eq!(c.email.as_deref(), Some("jane.doe@example.com"));
    assert_eq!(c.terms_approved_date, Some(date(2012, 6, 26)));
    assert_eq!(c.leases.len(), 2);
    assert_eq!(c.leases[0].lease_id(), Some(LeaseId(5_424_549)));
    assert_eq!(c.leases[1].lease_id(), Some(LeaseId(5_424_600)));
    assert_eq!(c.leases[1].status(), Some(LeaseStatus::Future));
    assert_eq!(c.leases[1].customer_type, Some(CustomerType::CoApplicant));
    // the second has a day-first date: skipped and reported
    assert_eq!(customers.skipped.len(), 1);
    assert_eq!(customers.skipped[0].id.as_deref(), Some("6526236"));
    assert_eq!(customers.skipped[0].path, "TermsApprovedDate");
}

#[tokio::test]
async fn every_method_reads_no_records_as_empty() {
    for body in ["no_records.json", "no_records_text.json"] {
        every_method_reads_as_empty(fixture(body)).await;
    }
    // an explicit empty list under the method's key is data too
    every_method_reads_as_empty(
        r#"{"response":{"code":200,"result":{"leases":{"lease":[]},
            "Customers":{"Customer":[]},"PhysicalProperty":{"Property":[]},"properties":[],
            "unitTypes":{"unitType":[]}}}}"#
            .to_owned(),
    )
    .await;
}

async fn every_method_reads_as_empty(body: String) {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(move |when, then| {
            when.method(POST);
            then.status(200).body(body);
        })
        .await;
    let c = client(&server);
    let p = PropertyId(1);
    assert!(
        c.get_properties(&PropertiesRequest::new())
            .await
            .unwrap()
            .properties
            .is_empty()
    );
    assert!(
        c.get_property_units(&PropertyUnitsRequest::new([p]))
            .await
            .unwrap()
            .properties
            .is_empty()
    );
    assert!(c.get_unit_types(p).await.unwrap().unit_types.is_empty());
    assert!(
        c.get_customers(&CustomersRequest::new(p))
            .await
            .unwrap()
            .customers
            .is_empty()
    );
    assert!(
        c.get_expiring_leases(&ExpiringLeasesRequest::new(p, date(2025, 1, 1)))
            .await
            .unwrap()
            .leases
            .is_empty()
    );
    assert!(
        c.get_lease_details_page(&LeaseDetailsRequest::new(p), 1)
            .await
            .unwrap()
            .leases
            .is_empty()
    );
    assert!(
        c.get_mits_property_units(&MitsPropertyUnitsRequest::new([p]))
            .await
            .unwrap()
            .properties
            .is_empty()
    );
    assert_eq!(c.property_time_zone(p).await.unwrap(), None);
    mock.assert_calls_async(8).await;
}

/// Anything but data or a known "no records" answer is an error for every
/// method, never an empty result.
#[tokio::test]
async fn every_method_refuses_an_unexpected_result() {
    for (result, found) in [
        (r#"[]"#, "[]"),
        (r#"null"#, "null"),
        (
            r#""Please try again later.""#,
            r#""Please try again later.""#,
        ),
        (
            r#"{"success":"Request processed."}"#,
            r#"{"success":"Request processed."}"#,
        ),
        (
            r#"{"message":"Web service is not enabled."}"#,
            r#"{"message":"Web service is not enabled."}"#,
        ),
    ] {
        let server = MockServer::start_async().await;
        let body = format!(r#"{{"response":{{"requestId":"15","code":200,"result":{result}}}}}"#);
        server
            .mock_async(move |when, then| {
                when.method(POST);
                then.status(200).body(body);
            })
            .await;
        let c = client(&server);
        let p = PropertyId(1);
        let errors = [
            c.get_status().await.map(drop).unwrap_err(),
            c.get_properties(&PropertiesRequest::new())
                .await
                .map(drop)
                .unwrap_err(),
            c.get_property_units(&PropertyUnitsRequest::new([p]))
                .await
                .map(drop)
                .unwrap_err(),
            c.get_unit_types(p).await.map(drop).unwrap_err(),
            c.get_customers(&CustomersRequest::new(p))
                .await
                .map(drop)
                .unwrap_err(),
            c.get_expiring_leases(&ExpiringLeasesRequest::new(p, date(2025, 1, 1)))
                .await
                .map(drop)
                .unwrap_err(),
            c.get_lease_details_page(&LeaseDetailsRequest::new(p), 1)
                .await
                .map(drop)
                .unwrap_err(),
            c.all_lease_details(&LeaseDetailsRequest::new(p))
                .await
                .map(drop)
                .unwrap_err(),
            c.get_mits_property_units(&MitsPropertyUnitsRequest::new([p]))
                .await
                .map(drop)
                .unwrap_err(),
            c.property_time_zone(p).await.map(drop).unwrap_err(),
            c.all_leases(&entrata_client::LeasesRequest::new(p))
                .await
                .map(drop)
                .unwrap_err(),
        ];
        let expected = [
            "status",
            "PhysicalProperty",
            "properties",
            "unitTypes",
            "Customers",
            "Leases",
            "leases",
            "leases",
            "PhysicalProperty",
            "PhysicalProperty",
            "leases",
        ];
        for (err, key) in errors.iter().zip(expected) {
            match err {
                Error::UnexpectedResult {
                    expected, found: f, ..
                } => {
                    assert_eq!((*expected, f.as_str()), (key, found), "{err}");
                }
                other => panic!("{result}: {other:?}"),
            }
            assert!(!err.is_retryable());
        }
    }
}

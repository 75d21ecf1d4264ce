//! The fake Entrata service, driven with raw HTTP as a client would.
#![allow(clippy::unwrap_used)] // test helpers

use std::time::Duration;

use reqwest::Client;
use sandbox::{Fault, Sandbox, story};
use serde_json::{Value, json};

thread_local! {
    // One client per test thread: building a rustls client per request is slow.
    static HTTP: Client = Client::new();
}

fn http() -> Client {
    HTTP.with(Client::clone)
}

async fn basic(
    sb: &Sandbox,
    service: &str,
    query: &str,
    body: Value,
) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Value) {
    let c = sb.credentials();
    let r = http()
        .post(format!("{}/{service}{query}", sb.entrata_api_url()))
        .basic_auth(&c.entrata_username, Some(&c.entrata_password))
        .header("Content-Type", "APPLICATION/JSON; CHARSET=UTF-8")
        .json(&body)
        .send()
        .await
        .unwrap();
    let (s, h) = (r.status(), r.headers().clone());
    (s, h, r.json().await.unwrap())
}

/// Every lease status type id (entrata.md §5.1).
const ALL_STATUSES: &str = "1,2,3,4,5,6";

fn call(method: &str, version: &str, params: Value) -> Value {
    json!({"auth": {"type": "basic"}, "requestId": 15, "method": {"name": method, "version": version, "params": params}})
}

#[tokio::test]
async fn status_and_auth_on_both_deployments() {
    let sb = Sandbox::start_default().await.unwrap();
    let (s, h, body) = basic(
        &sb,
        "status",
        "",
        json!({"auth": {"type": "basic"}, "requestId": "15", "method": {"name": "getStatus"}}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(
        body,
        json!({"response": {"requestId": "15", "code": 200, "result": {
            "status": "Success", "message": "API service is available and running."}}})
    );
    assert_eq!(h["x-ratelimit-limit"], "8640/day;360/hour;6/minute");
    assert_eq!(h["x-ratelimit-remaining"], "8639/day;359/hour;5/minute");

    // Bad Basic credentials: HTTP 200 with an in-body error.
    let r = http()
        .post(format!("{}/status", sb.entrata_api_url()))
        .basic_auth("who", Some("me"))
        .json(&json!({"auth": {"type": "basic"}, "method": {"name": "getStatus"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["response"]["error"]["code"], 113);
    assert!(
        body["response"].get("requestId").is_none(),
        "not echoed when not sent"
    );

    // Gateway with X-Api-Key.
    let c = sb.credentials();
    let r: Value = http()
        .post(format!("{}/properties", sb.entrata_gateway_url()))
        .header("X-Api-Key", &c.entrata_api_key)
        .json(&json!({"auth": {"type": "apikey"}, "requestId": "1", "method": {"name": "getProperties", "version": "r1", "params": {}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let props = r["response"]["result"]["PhysicalProperty"]["Property"]
        .as_array()
        .unwrap();
    assert_eq!(props.len(), 3);
    assert_eq!(props[0]["PropertyID"], 100, "a number here");
    assert_eq!(
        props[0]["Address"]["@attributes"]["AddressType"],
        "property"
    );
    let r: Value = http()
        .post(format!("{}/properties", sb.entrata_gateway_url()))
        .header("X-Api-Key", "wrong")
        .json(&json!({"auth": {"type": "apikey"}, "method": {"name": "getProperties"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["response"]["error"]["code"], 113);

    // Unknown method, missing param: in-body errors with HTTP 200.
    let (s, _, body) = basic(&sb, "leases", "", call("getNothing", "r1", json!({}))).await;
    assert_eq!(s, 200);
    assert_eq!(body["response"]["error"]["code"], 400);
    let (_, _, body) = basic(&sb, "leases", "", call("getLeases", "r2", json!({}))).await;
    assert_eq!(
        body["response"]["error"]["message"],
        "propertyId is required."
    );
    let (_, _, body) = basic(
        &sb,
        "leases",
        "",
        call("getLeases", "r2", json!({"propertyId": "999"})),
    )
    .await;
    assert_eq!(body["response"]["error"]["code"], 301);
}

#[tokio::test]
async fn leases_r2_quirks_filters_and_paging() {
    let sb = Sandbox::start_default().await.unwrap();
    let (_, _, body) = basic(
        &sb,
        "leases",
        "",
        call(
            "getLeases",
            "r2",
            json!({"propertyId": story::PROPERTY_NY, "leaseStatusTypeIds": ALL_STATUSES}),
        ),
    )
    .await;
    let result = &body["response"]["result"];
    assert_eq!(result["currencyCode"], "USD");
    let leases = result["leases"]["lease"].as_array().unwrap();
    assert_eq!(leases.len(), 4);
    let renewal = &leases[0];
    assert_eq!(renewal["id"], "1001", "lease ids are strings");
    assert_eq!(
        renewal["customers"]["customer"][0]["id"], 5001,
        "customer ids are numbers"
    );
    assert_eq!(
        renewal["customers"]["customer"][1]["moveOutDate"],
        "12/15/2026"
    );
    assert_eq!(
        renewal["customers"]["customer"][2]["customerType"],
        "Guarantor"
    );
    assert_eq!(
        renewal["leaseIntervals"]["leaseInterval"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        renewal["leaseIntervals"]["leaseInterval"][1]["leaseIntervalTypeName"],
        "Renewal"
    );
    // One customer sent as an object, not a list.
    assert!(leases[2]["customers"]["customer"].is_object());

    // Status filter (comma list, number or string).
    let (_, _, body) = basic(
        &sb,
        "leases",
        "",
        call(
            "getLeases",
            "r2",
            json!({"propertyId": 100, "leaseStatusTypeIds": "3,5"}),
        ),
    )
    .await;
    let ids: Vec<&str> = body["response"]["result"]["leases"]["lease"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["1002", "1003"]);
    // Date range filter.
    let (_, _, body) = basic(&sb, "leases", "", call("getLeases", "r2", json!({"propertyId": "300", "leaseStatusTypeIds": "3", "moveInDateFrom": "11/01/2026", "moveInDateTo": "12/31/2026"}))).await;
    assert_eq!(
        body["response"]["result"]["leases"]["lease"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Nothing matches: "No Records Found."
    let (_, _, body) = basic(
        &sb,
        "leases",
        "",
        call(
            "getLeases",
            "r2",
            json!({"propertyId": "300", "leaseIds": "1"}),
        ),
    )
    .await;
    assert_eq!(
        body["response"]["result"],
        json!({"success": "No Records Found."})
    );

    // Page to the end with page_no/per_page in the query string.
    let mut all = Vec::new();
    for page in 1.. {
        let (_, _, body) = basic(
            &sb,
            "leases",
            &format!("?page_no={page}&per_page=3"),
            call(
                "getLeases",
                "r1",
                json!({"propertyId": "100", "leaseStatusTypeIds": ALL_STATUSES}),
            ),
        )
        .await;
        let result = &body["response"]["result"];
        if result.get("success").is_some() {
            break;
        }
        let items = result["leases"]["lease"].as_array().unwrap();
        assert!(
            items.iter().all(|l| l.get("customers").is_none()),
            "r1 has no customers block"
        );
        all.extend(items.iter().map(|l| l["id"].as_str().unwrap().to_owned()));
        if items.len() < 3 {
            break;
        }
    }
    assert_eq!(all, ["1001", "1002", "1003", "1004"]);
}

#[tokio::test]
async fn other_methods() {
    let sb = Sandbox::start_default().await.unwrap();
    sb.entrata().grant_method("getMitsPropertyUnits");
    let (_, _, body) = basic(
        &sb,
        "propertyunits",
        "",
        call(
            "getMitsPropertyUnits",
            "r1",
            json!({"propertyIds": "100,300"}),
        ),
    )
    .await;
    let props = body["response"]["result"]["PhysicalProperty"]["Property"]
        .as_array()
        .unwrap();
    assert_eq!(
        props[0]["ILS_Identification"]["TimeZone"],
        "Eastern Standard Time (GMT -0500)"
    );
    assert_eq!(
        props[1]["ILS_Identification"]["TimeZone"],
        "Pacific Standard Time (GMT -0800)"
    );

    let (_, _, body) = basic(
        &sb,
        "propertyunits",
        "",
        call("getPropertyUnits", "r1", json!({"propertyIds": "200"})),
    )
    .await;
    assert!(
        body["response"]["result"]["properties"]["property"].is_object(),
        "one property collapses to an object"
    );

    let (_, _, body) = basic(
        &sb,
        "leases",
        "",
        call(
            "getExpiringLeases",
            "r1",
            json!({"propertyId": "100", "fromDate": "11/01/2026", "toDate": "01/31/2027"}),
        ),
    )
    .await;
    let l = &body["response"]["result"]["Leases"]["Lease"];
    assert_eq!(l.as_array().unwrap().len(), 1);
    assert_eq!(l[0]["@attributes"]["Id"], 1003);

    let (_, _, body) = basic(
        &sb,
        "customers",
        "",
        call("getCustomers", "r1", json!({"propertyId": "100"})),
    )
    .await;
    let cs = body["response"]["result"]["Customers"]["Customer"]
        .as_array()
        .unwrap();
    assert_eq!(cs.len(), 5, "Current and Notice leases only by default");
    assert_eq!(cs[0]["@attributes"]["Id"], "5001");

    let (_, _, body) = basic(
        &sb,
        "leases",
        "",
        call(
            "getLeaseDetails",
            "r2",
            json!({"propertyId": "100", "leaseId": "1001"}),
        ),
    )
    .await;
    assert_eq!(
        body["response"]["result"]["leases"]["lease"][0]["scheduledCharges"]["recurringCharge"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let (_, _, body) = basic(
        &sb,
        "properties",
        "",
        call("getFloorPlans", "r1", json!({"propertyId": "100"})),
    )
    .await;
    assert!(body["response"]["result"]["FloorPlans"]["FloorPlan"][0]["FloorplanGroups"]["FloorplanGroup"]["146"].is_object());
}

#[tokio::test]
async fn faults() {
    let sb = Sandbox::start_default().await.unwrap();
    sb.faults().entrata(Fault::FailProperty {
        property_id: story::PROPERTY_LA.into(),
    });
    let (s, _, body) = basic(
        &sb,
        "leases",
        "",
        call("getLeases", "r2", json!({"propertyId": "300"})),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(body["response"]["error"]["code"], 301);
    let (_, _, body) = basic(
        &sb,
        "leases",
        "",
        call("getLeases", "r2", json!({"propertyId": "100"})),
    )
    .await;
    assert!(
        body["response"]["result"]["leases"].is_object(),
        "other properties still work"
    );
    sb.faults().clear();
    let (_, _, body) = basic(
        &sb,
        "leases",
        "",
        call("getLeases", "r2", json!({"propertyId": "300"})),
    )
    .await;
    assert!(body["response"]["result"]["leases"].is_object());

    sb.faults()
        .entrata(Fault::TooManyRequests {
            times: 1,
            retry_after_secs: 2,
        })
        .entrata(Fault::ServerError {
            times: 1,
            status: 502,
        })
        .entrata(Fault::DropConnection { times: 1 })
        .entrata(Fault::Slow {
            times: 1,
            delay: Duration::from_millis(200),
        });
    let (s, h, body) = basic(&sb, "status", "", call("getStatus", "r1", json!({}))).await;
    assert_eq!(s, 429);
    assert_eq!(h["retry-after"], "2");
    assert_eq!(body["response"]["error"]["code"], 429);
    let (s, _, _) = basic(&sb, "status", "", call("getStatus", "r1", json!({}))).await;
    assert_eq!(s, 502);
    let c = sb.credentials();
    let err = http()
        .post(format!("{}/status", sb.entrata_api_url()))
        .basic_auth(&c.entrata_username, Some(&c.entrata_password))
        .json(&call("getStatus", "r1", json!({})))
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_status());
    let t0 = std::time::Instant::now();
    let (s, _, _) = basic(&sb, "status", "", call("getStatus", "r1", json!({}))).await;
    assert_eq!(s, 200);
    assert!(t0.elapsed() >= Duration::from_millis(200));
    assert_eq!(sb.entrata_stats().writes, 0);
}

#[tokio::test]
async fn tests_can_change_leases_between_syncs() {
    let sb = Sandbox::start_default().await.unwrap();
    let h = sb.entrata();
    let mut lease = h.lease(story::LEASE_NOTICE).unwrap();
    lease["leaseStatusTypeId"] = json!("6");
    lease["leaseIntervalStatus"] = json!("Past");
    h.upsert_lease(lease);
    let (_, _, body) = basic(
        &sb,
        "leases",
        "",
        call(
            "getLeases",
            "r2",
            json!({"propertyId": "100", "leaseStatusTypeIds": "6"}),
        ),
    )
    .await;
    assert_eq!(
        body["response"]["result"]["leases"]["lease"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(h.remove_lease(story::LEASE_NOTICE));
    let (_, _, body) = basic(
        &sb,
        "leases",
        "",
        call(
            "getLeases",
            "r2",
            json!({"propertyId": "100", "leaseIds": "1003", "leaseStatusTypeIds": ALL_STATUSES}),
        ),
    )
    .await;
    assert_eq!(body["response"]["result"]["success"], "No Records Found.");
    assert_eq!(h.stats().total, 2);
}

/// The ids of a getLeases answer (empty on "No Records Found.").
fn ids_of(body: &Value) -> Vec<String> {
    body["response"]["result"]["leases"]["lease"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|l| l["id"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// An in-body error's code and message (HTTP 200 asserted).
async fn error_of(sb: &Sandbox, service: &str, query: &str, body: Value) -> (u64, String) {
    let (s, _, body) = basic(sb, service, query, body).await;
    assert_eq!(s, 200, "in-body errors come with HTTP 200");
    let e = &body["response"]["error"];
    assert!(e.is_object(), "expected an error, got {body}");
    (
        e["code"].as_u64().unwrap(),
        e["message"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn bare_get_leases_returns_current_only() {
    let sb = Sandbox::start_default().await.unwrap();
    for (pid, current) in [("100", vec!["1001"]), ("300", vec!["3003"])] {
        for version in ["r1", "r2"] {
            let (_, _, body) = basic(
                &sb,
                "leases",
                "",
                call("getLeases", version, json!({"propertyId": pid})),
            )
            .await;
            assert_eq!(ids_of(&body), current, "{pid} {version}");
        }
    }
    // Prairie Commons has no Current lease: a bare request finds nothing at all.
    let (_, _, body) = basic(
        &sb,
        "leases",
        "",
        call("getLeases", "r2", json!({"propertyId": "200"})),
    )
    .await;
    assert_eq!(body["response"]["result"]["success"], "No Records Found.");
    // Explicit statuses return the others, as a string or a number, with spaces.
    let (_, _, body) = basic(
        &sb,
        "leases",
        "",
        call(
            "getLeases",
            "r2",
            json!({"propertyId": "200", "leaseStatusTypeIds": "1, 2,5"}),
        ),
    )
    .await;
    assert_eq!(ids_of(&body), ["2001", "2002", "2003"]);
    let (_, _, body) = basic(
        &sb,
        "leases",
        "",
        call(
            "getLeases",
            "r2",
            json!({"propertyId": "100", "leaseStatusTypeIds": 6}),
        ),
    )
    .await;
    assert_eq!(ids_of(&body), ["1004"]);
    let (_, _, body) = basic(
        &sb,
        "leases",
        "",
        call(
            "getLeases",
            "r2",
            json!({"propertyId": "100", "leaseStatusTypeIds": ALL_STATUSES}),
        ),
    )
    .await;
    assert_eq!(ids_of(&body), ["1001", "1002", "1003", "1004"]);
    // leaseStatusTypeIds is a comma list of 1–6.
    for bad in [
        json!("0"),
        json!("7"),
        json!("4,x"),
        json!("4,,5"),
        json!("4,"),
        json!(""),
        json!([4]),
        json!(4.5),
    ] {
        let (code, msg) = error_of(
            &sb,
            "leases",
            "",
            call(
                "getLeases",
                "r2",
                json!({"propertyId": "100", "leaseStatusTypeIds": bad}),
            ),
        )
        .await;
        assert_eq!(code, 400, "{bad}");
        assert!(msg.contains("'leaseStatusTypeIds'"), "{bad}: {msg}");
    }
    // getCustomers keeps its documented default: customers of Current or Notice leases.
    let (_, _, body) = basic(
        &sb,
        "customers",
        "",
        call("getCustomers", "r1", json!({"propertyId": "200"})),
    )
    .await;
    let cs = body["response"]["result"]["Customers"]["Customer"]
        .as_array()
        .unwrap();
    assert_eq!(cs.len(), 1);
    assert_eq!(cs[0]["@attributes"]["Id"], "5009", "the Notice lease 2003");
    let (_, _, body) = basic(
        &sb,
        "customers",
        "",
        call(
            "getCustomers",
            "r1",
            json!({"propertyId": "200", "leaseStatusTypeIds": "1,2"}),
        ),
    )
    .await;
    assert_eq!(
        body["response"]["result"]["Customers"]["Customer"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn unknown_or_malformed_params_are_in_body_errors_naming_the_param() {
    let sb = Sandbox::start_default().await.unwrap();
    sb.entrata().grant_method("getMitsPropertyUnits");
    let leases = |p: Value| call("getLeases", "r2", p);
    // (service, body, the param the message must name)
    let cases = [
        // Unknown params, including an undocumented one a client might guess.
        (
            "leases",
            leases(json!({"propertyId": "100", "includeDemographics": "1"})),
            "includeDemographics",
        ),
        (
            "leases",
            leases(json!({"propertyId": "100", "propertyID": "100"})),
            "propertyID",
        ),
        (
            "leases",
            leases(json!({"propertyId": "100", "page_no": 1})),
            "page_no",
        ),
        // The r1-only event filters are unknown to r2.
        (
            "leases",
            leases(json!({"propertyId": "100", "eventTypeIds": "1"})),
            "eventTypeIds",
        ),
        // Dates are MM/DD/YYYY, two-digit month and day.
        (
            "leases",
            leases(json!({"propertyId": "100", "moveInDateFrom": "2026-11-01"})),
            "moveInDateFrom",
        ),
        (
            "leases",
            leases(json!({"propertyId": "100", "moveOutDateTo": "1/5/2027"})),
            "moveOutDateTo",
        ),
        (
            "leases",
            leases(json!({"propertyId": "100", "leaseExpiringDateTo": "02/30/2027"})),
            "leaseExpiringDateTo",
        ),
        (
            "leases",
            leases(json!({"propertyId": "100", "moveInDateTo": 20261101})),
            "moveInDateTo",
        ),
        // Flags are 0 or 1.
        (
            "leases",
            leases(json!({"propertyId": "100", "includeLeaseHistory": "true"})),
            "includeLeaseHistory",
        ),
        (
            "leases",
            leases(json!({"propertyId": "100", "includeLeaseHistory": true})),
            "includeLeaseHistory",
        ),
        (
            "leases",
            leases(json!({"propertyId": "100", "residentFriendlyMode": 2})),
            "residentFriendlyMode",
        ),
        // Ids and id lists are integers.
        ("leases", leases(json!({"propertyId": "1OO"})), "propertyId"),
        (
            "leases",
            leases(json!({"propertyId": "100", "leaseIds": "1001;1002"})),
            "leaseIds",
        ),
        (
            "leases",
            leases(json!({"propertyId": "100", "customerId": "abc"})),
            "customerId",
        ),
        (
            "leases",
            leases(json!({"propertyId": "100", "customerId": null})),
            "customerId",
        ),
        // The other methods.
        (
            "properties",
            call("getProperties", "r1", json!({"propertyId": "100"})),
            "propertyId",
        ),
        (
            "properties",
            call("getProperties", "r1", json!({"propertyIds": "100|200"})),
            "propertyIds",
        ),
        (
            "properties",
            call("getProperties", "r1", json!({"showAllStatus": "yes"})),
            "showAllStatus",
        ),
        (
            "propertyunits",
            call(
                "getPropertyUnits",
                "r1",
                json!({"propertyIds": "100", "showUnitSpaces": "1"}),
            ),
            "showUnitSpaces",
        ),
        (
            "propertyunits",
            call(
                "getPropertyUnits",
                "r1",
                json!({"propertyIds": "100", "availableUnitsOnly": "Y"}),
            ),
            "availableUnitsOnly",
        ),
        (
            "propertyunits",
            call(
                "getMitsPropertyUnits",
                "r1",
                json!({"propertyIds": "100", "propertyId": "100"}),
            ),
            "propertyId",
        ),
        (
            "propertyunits",
            call(
                "getMitsPropertyUnits",
                "r1",
                json!({"propertyIds": "100", "showUnitSpaces": "t"}),
            ),
            "showUnitSpaces",
        ),
        (
            "customers",
            call(
                "getCustomers",
                "r1",
                json!({"propertyId": "100", "customerId": "5001"}),
            ),
            "customerId",
        ),
        (
            "customers",
            call(
                "getCustomers",
                "r1",
                json!({"propertyId": "100", "customerIds": "5001,x"}),
            ),
            "customerIds",
        ),
        (
            "customers",
            call(
                "getCustomers",
                "r1",
                json!({"propertyId": "100", "leaseStatusTypeIds": "8"}),
            ),
            "leaseStatusTypeIds",
        ),
        (
            "leases",
            call(
                "getLeaseDetails",
                "r1",
                json!({"propertyId": "100", "leaseId": "1001", "leaseStatusTypeIds": "4"}),
            ),
            "leaseStatusTypeIds",
        ),
        (
            "leases",
            call(
                "getLeaseDetails",
                "r2",
                json!({"propertyId": "100", "leaseId": "10-01"}),
            ),
            "leaseId",
        ),
        (
            "leases",
            call(
                "getLeaseDetails",
                "r2",
                json!({"propertyId": "100", "includeCharges": "1"}),
            ),
            "includeCharges",
        ),
        (
            "leases",
            call(
                "getExpiringLeases",
                "r1",
                json!({"propertyId": "100", "toDate": "01/31/27"}),
            ),
            "toDate",
        ),
        (
            "leases",
            call(
                "getExpiringLeases",
                "r1",
                json!({"propertyId": "100", "toDate": "01/31/2027", "leaseStatusTypeIds": "4"}),
            ),
            "leaseStatusTypeIds",
        ),
        (
            "leases",
            call(
                "getExpiringLeases",
                "r1",
                json!({"propertyId": "100", "toDate": "01/31/2027", "isMonthToMonth": "no"}),
            ),
            "isMonthToMonth",
        ),
        (
            "status",
            call("getStatus", "r1", json!({"verbose": "1"})),
            "verbose",
        ),
        (
            "leases",
            call("getLeasePickList", "r1", json!({"propertyId": "100"})),
            "propertyId",
        ),
    ];
    for (service, body, param) in cases {
        let (code, msg) = error_of(&sb, service, "", body.clone()).await;
        assert_eq!(code, 400, "{body}");
        assert!(msg.contains(&format!("'{param}'")), "{body}: {msg}");
    }
    // Required params keep their short message.
    let (_, msg) = error_of(&sb, "leases", "", leases(json!({"unitNumber": "101"}))).await;
    assert_eq!(msg, "propertyId is required.");
    let (_, msg) = error_of(
        &sb,
        "leases",
        "",
        call("getExpiringLeases", "r1", json!({"propertyId": "100"})),
    )
    .await;
    assert_eq!(msg, "toDate is required.");
    // params must be an object; versions are checked per method.
    let (code, msg) = error_of(&sb, "leases", "", leases(json!(["propertyId", "100"]))).await;
    assert_eq!((code, msg.contains("'params'")), (400, true));
    let (code, msg) = error_of(
        &sb,
        "leases",
        "",
        call("getLeases", "r3", json!({"propertyId": "100"})),
    )
    .await;
    assert_eq!((code, msg.contains("'r3'")), (400, true));
    let (code, _) = error_of(
        &sb,
        "customers",
        "",
        call("getCustomers", "r2", json!({"propertyId": "100"})),
    )
    .await;
    assert_eq!(code, 400);
    // page_no and per_page must be positive integers, on every method.
    for (query, param) in [
        ("?page_no=0&per_page=10", "page_no"),
        ("?page_no=1&per_page=abc", "per_page"),
        ("?per_page=-5", "per_page"),
        ("?page_no=1.5", "page_no"),
    ] {
        let (code, msg) =
            error_of(&sb, "leases", query, leases(json!({"propertyId": "100"}))).await;
        assert_eq!(code, 400, "{query}");
        assert!(msg.contains(param), "{query}: {msg}");
    }
    let (code, _) = error_of(
        &sb,
        "status",
        "?per_page=0",
        call("getStatus", "r1", json!({})),
    )
    .await;
    assert_eq!(code, 400);

    // Well-formed documented params pass: numbers for ids and flags, every getLeases filter,
    // the r1 event filters on r1, both names of getExpiringLeases' notice flag.
    let (_, _, body) = basic(
        &sb,
        "leases",
        "",
        leases(json!({
            "propertyId": 100, "applicationId": "91001", "customerId": 5001,
            "leaseStatusTypeIds": "4", "leaseIds": "1001, 1002", "scheduledArCodeIds": "147881",
            "unitNumber": "101", "buildingName": "Tower A",
            "moveInDateFrom": "01/01/2025", "moveInDateTo": "12/31/2025",
            "leaseExpiringDateFrom": "01/01/2027", "leaseExpiringDateTo": "12/31/2027",
            "includeOtherIncomeLeases": 0, "residentFriendlyMode": "0",
            "includeLeaseHistory": 1, "includeArTransactions": "1",
        })),
    )
    .await;
    assert_eq!(ids_of(&body), ["1001"], "{body}");
    let (_, _, body) = basic(
        &sb,
        "leases",
        "",
        call(
            "getLeases",
            "r1",
            json!({"propertyId": "100", "eventTypeIds": "472", "eventDateFrom": "01/01/2026", "eventDateTo": "12/31/2026"}),
        ),
    )
    .await;
    assert_eq!(ids_of(&body), ["1001"], "{body}");
    for flag in ["showNoticeLeasesOnly", "isWaitList"] {
        let (_, _, body) = basic(
            &sb,
            "leases",
            "",
            call(
                "getExpiringLeases",
                "r1",
                json!({"propertyId": "100", "toDate": "01/31/2027", flag: "1"}),
            ),
        )
        .await;
        assert_eq!(
            body["response"]["result"]["Leases"]["Lease"][0]["@attributes"]["Id"],
            1003
        );
    }
    // A filter that matches nothing is not an error.
    let (_, _, body) = basic(
        &sb,
        "leases",
        "",
        leases(json!({"propertyId": "100", "buildingName": "Nowhere"})),
    )
    .await;
    assert_eq!(body["response"]["result"]["success"], "No Records Found.");
}

/// Adds `n` Current leases to property 100 (copies of lease 1001 with new ids).
fn add_current_leases(sb: &Sandbox, n: usize) {
    let h = sb.entrata();
    let template = h.lease(story::LEASE_RENEWAL).unwrap();
    for i in 0..n {
        let mut l = template.clone();
        l["id"] = json!((9000 + i).to_string());
        h.upsert_lease(l);
    }
}

/// Reads every page with `per_page`, stopping at the first short (or empty) page, as a
/// naive client does.
async fn read_until_short_page(sb: &Sandbox, per_page: usize) -> Vec<String> {
    let mut all = Vec::new();
    for page in 1.. {
        let (_, _, body) = basic(
            sb,
            "leases",
            &format!("?page_no={page}&per_page={per_page}"),
            call("getLeases", "r2", json!({"propertyId": "100"})),
        )
        .await;
        let ids = ids_of(&body);
        let short = ids.len() < per_page;
        all.extend(ids);
        if short {
            break;
        }
    }
    all
}

#[tokio::test]
async fn per_page_is_capped_with_offsets_from_the_requested_size() {
    let sb = Sandbox::start_default().await.unwrap();
    let h = sb.entrata();
    assert_eq!(h.page_cap(), Some(sandbox::DEFAULT_PAGE_CAP));
    add_current_leases(&sb, 149); // 150 Current leases at property 100 with 1001
    // A client asking for 500 a page gets 100 and, stopping at the short page, misses 50
    // without any error.
    let naive = read_until_short_page(&sb, 500).await;
    assert_eq!(naive.len(), 100);
    // Page 2 at the requested size starts at record 500: nothing, so even a client that
    // reads on to an empty page misses the same 50.
    let (_, _, body) = basic(
        &sb,
        "leases",
        "?page_no=2&per_page=500",
        call("getLeases", "r2", json!({"propertyId": "100"})),
    )
    .await;
    assert_eq!(body["response"]["result"]["success"], "No Records Found.");

    // A smaller cap shows the shape of the loss: 4 leases of every status, cap 2, per_page 3.
    let sb = Sandbox::start_default().await.unwrap();
    let h = sb.entrata();
    h.set_page_cap(Some(2));
    let page = |n: usize, per_page: usize| {
        let sb = &sb;
        async move {
            let (_, headers, body) = basic(
                sb,
                "leases",
                &format!("?page_no={n}&per_page={per_page}"),
                call(
                    "getLeases",
                    "r2",
                    json!({"propertyId": "100", "leaseStatusTypeIds": ALL_STATUSES}),
                ),
            )
            .await;
            (ids_of(&body), headers)
        }
    };
    let (p1, headers) = page(1, 3).await;
    assert_eq!(p1, ["1001", "1002"], "cut to the cap");
    assert!(
        headers.get("x-total-count").is_none(),
        "not sent by default"
    );
    let (p2, _) = page(2, 3).await;
    assert_eq!(
        p2,
        ["1004"],
        "offset 3 from the requested size: 1003 is skipped"
    );
    let (p3, _) = page(3, 3).await;
    assert!(p3.is_empty());
    // The careful client saw a short page followed by a non-empty one: the server caps at
    // 2. It re-reads with per_page = 2 and gets everything.
    let mut careful = Vec::new();
    for n in 1.. {
        let (ids, _) = page(n, 2).await;
        if ids.is_empty() {
            break;
        }
        careful.extend(ids);
    }
    assert_eq!(careful, ["1001", "1002", "1003", "1004"]);
    // No per_page means the cap; no cap means everything.
    let (_, _, body) = basic(
        &sb,
        "leases",
        "",
        call(
            "getLeases",
            "r2",
            json!({"propertyId": "100", "leaseStatusTypeIds": ALL_STATUSES}),
        ),
    )
    .await;
    assert_eq!(ids_of(&body), ["1001", "1002"]);
    h.set_page_cap(None);
    let (_, _, body) = basic(
        &sb,
        "leases",
        "",
        call(
            "getLeases",
            "r2",
            json!({"propertyId": "100", "leaseStatusTypeIds": ALL_STATUSES}),
        ),
    )
    .await;
    assert_eq!(ids_of(&body).len(), 4);
    let (p1, _) = page(1, 3).await;
    assert_eq!(p1.len(), 3, "uncapped per_page is honoured");
}

#[tokio::test]
async fn x_total_count_only_when_enabled() {
    let sb = Sandbox::start_default().await.unwrap();
    let h = sb.entrata();
    let get = |query: &'static str| {
        let sb = &sb;
        async move {
            let (_, headers, _) = basic(
                sb,
                "leases",
                query,
                call(
                    "getLeases",
                    "r2",
                    json!({"propertyId": "100", "leaseStatusTypeIds": ALL_STATUSES}),
                ),
            )
            .await;
            headers
                .get("x-total-count")
                .map(|v| v.to_str().unwrap().to_owned())
        }
    };
    assert_eq!(get("?page_no=1&per_page=2").await, None);
    h.set_total_count_header(true);
    h.set_page_cap(Some(1));
    // The total counts every matching record, whatever the page and the cap.
    assert_eq!(get("?page_no=1&per_page=2").await.as_deref(), Some("4"));
    assert_eq!(get("?page_no=9&per_page=2").await.as_deref(), Some("4"));
    assert_eq!(get("").await.as_deref(), Some("4"));
    let (_, headers, _) = basic(
        &sb,
        "leases",
        "",
        call(
            "getLeaseDetails",
            "r2",
            json!({"propertyId": "100", "leaseId": "1001"}),
        ),
    )
    .await;
    assert_eq!(headers["x-total-count"], "1");
    // Not on methods that do not page.
    let (_, headers, _) = basic(&sb, "status", "", call("getStatus", "r1", json!({}))).await;
    assert!(headers.get("x-total-count").is_none());
    h.set_total_count_header(false);
    assert_eq!(get("").await, None);
}

#[tokio::test]
async fn get_mits_property_units_is_refused_until_granted() {
    let sb = Sandbox::start_default().await.unwrap();
    let h = sb.entrata();
    let mits = || call("getMitsPropertyUnits", "r1", json!({"propertyIds": "100"}));
    assert!(!h.is_granted("getMitsPropertyUnits"));
    let (code, msg) = error_of(&sb, "propertyunits", "", mits()).await;
    assert_eq!(code, 302);
    assert_eq!(
        msg,
        "API user does not have access to the getMitsPropertyUnits web service."
    );
    // Brivo's own set of web services stays available.
    for (service, method, params) in [
        ("status", "getStatus", json!({})),
        ("properties", "getProperties", json!({})),
        (
            "propertyunits",
            "getPropertyUnits",
            json!({"propertyIds": "100"}),
        ),
        ("leases", "getLeases", json!({"propertyId": "100"})),
    ] {
        let (_, _, body) = basic(&sb, service, "", call(method, "r1", params)).await;
        assert_eq!(body["response"]["code"], 200, "{method}");
    }
    h.grant_method("getMitsPropertyUnits");
    let (_, _, body) = basic(&sb, "propertyunits", "", mits()).await;
    assert_eq!(
        body["response"]["result"]["PhysicalProperty"]["Property"][0]["ILS_Identification"]["TimeZone"],
        "Eastern Standard Time (GMT -0500)"
    );
    // Any method can be revoked.
    h.revoke_method("getLeases");
    let (code, msg) = error_of(
        &sb,
        "leases",
        "",
        call("getLeases", "r2", json!({"propertyId": "100"})),
    )
    .await;
    assert_eq!(code, 302);
    assert!(msg.contains("getLeases"));
    h.grant_method("getLeases");
    let (_, _, body) = basic(
        &sb,
        "leases",
        "",
        call("getLeases", "r2", json!({"propertyId": "100"})),
    )
    .await;
    assert_eq!(ids_of(&body), ["1001"]);
}

/// A customer of a getLeases r2 lease, by id.
fn customer_of(lease: &Value, id: &str) -> Value {
    let cs = &lease["customers"]["customer"];
    cs.as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id.parse::<u64>().unwrap())
        .cloned()
        .unwrap_or_else(|| panic!("customer {id} not on lease {}", lease["id"]))
}

#[tokio::test]
async fn residents_carry_their_own_status_and_dates() {
    let sb = Sandbox::start_default().await.unwrap();
    // A bare request (Current leases only) is enough to see all three: their leases are
    // Current, their own statuses are not.
    let (_, _, body) = basic(
        &sb,
        "leases",
        "",
        call("getLeases", "r2", json!({"propertyId": story::PROPERTY_LA})),
    )
    .await;
    let lease = &body["response"]["result"]["leases"]["lease"][0];
    assert_eq!(lease["id"], story::LEASE_PERPETUAL);
    assert_eq!(lease["leaseStatusTypeId"], "4");
    let cara = customer_of(lease, story::CUSTOMER_CANCELLED_ON_CURRENT);
    assert_eq!(cara["leaseCustomerStatus"], "Cancelled");
    assert_eq!(cara["customerType"], "Occupant");
    assert!(cara.get("moveOutDate").is_none(), "no move-out date");
    let rhea = customer_of(lease, story::CUSTOMER_PAST_COAPPLICANT);
    assert_eq!(rhea["leaseCustomerStatus"], "Past");
    assert_eq!(rhea["moveOutDate"], "11/20/2026");
    assert!(
        lease.get("moveOutDate").is_none(),
        "the lease itself goes on"
    );

    let (_, _, body) = basic(
        &sb,
        "leases",
        "",
        call("getLeases", "r2", json!({"propertyId": story::PROPERTY_NY})),
    )
    .await;
    let lease = &body["response"]["result"]["leases"]["lease"][0];
    assert_eq!(lease["id"], story::LEASE_RENEWAL);
    assert_eq!(lease["moveInDate"], "08/01/2025");
    let milo = customer_of(lease, story::CUSTOMER_FUTURE_COAPPLICANT);
    assert_eq!(milo["leaseCustomerStatus"], "Future");
    assert_eq!(milo["customerType"], "Co-Applicant");
    assert_eq!(milo["moveInDate"], "12/07/2026");
    // Alice, Bob and Gina keep their places (other code indexes them).
    let ids: Vec<String> = lease["customers"]["customer"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].to_string())
        .collect();
    assert_eq!(ids, ["5001", "5002", "5003", "5014"]);

    // customerId finds the lease of each of them.
    for (pid, cid, lease_id) in [
        (
            "300",
            story::CUSTOMER_CANCELLED_ON_CURRENT,
            story::LEASE_PERPETUAL,
        ),
        (
            "300",
            story::CUSTOMER_PAST_COAPPLICANT,
            story::LEASE_PERPETUAL,
        ),
        (
            "100",
            story::CUSTOMER_FUTURE_COAPPLICANT,
            story::LEASE_RENEWAL,
        ),
    ] {
        let (_, _, body) = basic(
            &sb,
            "leases",
            "",
            call(
                "getLeases",
                "r2",
                json!({"propertyId": pid, "customerId": cid}),
            ),
        )
        .await;
        assert_eq!(ids_of(&body), [lease_id]);
    }
}

fn recorded(name: &str) -> Value {
    let text = sandbox::fixture(&format!("recorded/{name}")).unwrap();
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every `{"things": {"thing": …}}` wrapper below `v` holds an array: the recordings kept
/// one-element lists as arrays (entrata.md §4.7).
fn wrappers_hold_arrays(v: &Value, path: &str, seen: &mut usize) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                if let Some(inner) = child.as_object().filter(|o| o.len() == 1) {
                    let (ik, iv) = inner.iter().next().unwrap();
                    if format!("{ik}s") == *k || format!("{ik}es") == *k {
                        assert!(iv.is_array(), "{path}.{k}.{ik} is not an array");
                        *seen += 1;
                    }
                }
                wrappers_hold_arrays(child, &format!("{path}.{k}"), seen);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| wrappers_hold_arrays(x, path, seen)),
        _ => {}
    }
}

#[test]
fn recorded_fixtures_parse_and_keep_the_real_quirks() {
    for name in sandbox::fixture_names() {
        if name.ends_with(".json") {
            let _: Value = serde_json::from_str(sandbox::fixture(name).unwrap())
                .unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
    let readme = sandbox::fixture("recorded/README.md").unwrap();
    for name in sandbox::fixture_names()
        .iter()
        .filter_map(|n| n.strip_prefix("recorded/"))
        .filter(|n| n.ends_with(".json"))
    {
        assert!(readme.contains(&format!("`{name}`")), "README lists {name}");
    }

    let body = recorded("getLeases_r2.json");
    let r = &body["response"];
    assert_eq!((&r["requestId"], &r["code"]), (&json!("15"), &json!(200)));
    assert_eq!(r["result"]["currencyCode"], "USD");
    let leases = r["result"]["leases"]["lease"].as_array().unwrap();
    assert!((12..=20).contains(&leases.len()));
    let mut wrappers = 0;
    wrappers_hold_arrays(&body, "", &mut wrappers);
    assert!(wrappers > 100, "checked {wrappers} wrappers");
    let one_element = leases
        .iter()
        .filter(|l| l["customers"]["customer"].as_array().unwrap().len() == 1)
        .count();
    assert!(one_element > 0, "a one-resident lease keeps its array");
    let mut stamps = 0;
    for l in leases {
        assert_eq!(l["propertyId"], "739084");
        for k in [
            "id",
            "leaseStatusTypeId",
            "propertyId",
            "unitId",
            "leaseIntervalId",
        ] {
            assert!(l[k].is_string(), "lease {} {k}", l["id"]);
        }
        assert!(l["isMonthToMonth"].is_u64());
        assert!(l["unitSpaces"]["unitSpace"][0]["unitSpaceId"].is_u64());
        for c in l["customers"]["customer"].as_array().unwrap() {
            assert!(
                c["id"].is_u64() || c["id"] == "",
                "customer ids are ints: {}",
                c["id"]
            );
        }
        for i in l["leaseIntervals"]["leaseInterval"].as_array().unwrap() {
            assert!(i["id"].is_u64());
            let t = i["intervalDateTime"].as_str().unwrap();
            assert!(t.ends_with(" MDT") || t.ends_with(" MST"), "{t}");
            assert_eq!(&t[2..3], "/");
            stamps += 1;
        }
    }
    assert!(stamps >= leases.len());
    let text = sandbox::fixture("recorded/getLeases_r2.json").unwrap();
    for quirk in [
        "\"10/19/2023 16:03:27.632515 MDT\"",
        "\"amount\": \"1,345.00\"",
        "\"amount\": \"1345.00\"",
        "\"amount\": \"$95.00\"",
        "\"leaseSubStatus\": \"Renewed\"",
        "\"customerType\": \"Guarantor\"",
        "\"customerContacts\"",
        "\"pets\"",
        "\"unitSpaces\"",
    ] {
        assert!(text.contains(quirk), "{quirk}");
    }

    // The residents the README names, each as described.
    let lease = |id: &str| leases.iter().find(|l| l["id"] == id).unwrap();
    let customer = |lease_id: &str, id: Value| {
        let c = lease(lease_id)["customers"]["customer"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id)
            .cloned()
            .unwrap();
        if let Some(n) = id.as_u64() {
            assert!(readme.contains(&n.to_string()), "README names {n}");
        }
        c
    };
    let status_and_type = |c: &Value, status: &str, ctype: &str| {
        assert_eq!(c["leaseCustomerStatus"], status);
        assert_eq!(c["customerType"], ctype);
    };
    for id in ["9100003", "9100004", "9100005", "9100006", "9100007"] {
        assert_eq!(lease(id)["leaseStatusTypeId"], "4", "{id} is Current");
    }
    status_and_type(&customer("9100001", json!(9200001)), "Current", "Primary");
    let c = customer("9100003", json!(9200006));
    status_and_type(&c, "Cancelled", "Occupant");
    assert!(c.get("moveOutDate").is_none());
    let c = customer("9100004", json!(9200008));
    status_and_type(&c, "Future", "Co-Applicant");
    assert_eq!(
        (&c["moveInDate"], &lease("9100004")["moveInDate"]),
        (&json!("02/03/2025"), &json!("08/16/2024"))
    );
    let c = customer("9100005", json!(9200010));
    status_and_type(&c, "Past", "Co-Applicant");
    assert_eq!(c["moveOutDate"], "12/20/2024");
    let c = customer("9100006", json!(9200012));
    assert_eq!(c["leaseCustomerStatus"], "Past");
    assert!(c.get("moveOutDate").is_none(), "the bad Past record");
    let c = customer("9100007", json!(""));
    assert_eq!(c["leaseCustomerStatus"], "Current");
    assert!(readme.contains("`\"\"` Lane Frost"));
    let notice = lease("9100008");
    assert_eq!(
        (&notice["leaseStatusTypeId"], &notice["moveOutDate"]),
        (&json!("5"), &json!("05/15/2025"))
    );
    assert!(
        customer("9100008", json!(9200014))
            .get("moveOutDate")
            .is_none()
    );
    let future = lease("9100009");
    assert_eq!(
        (&future["leaseStatusTypeId"], &future["moveInDate"]),
        (&json!("3"), &json!("08/15/2025"))
    );
    status_and_type(&customer("9100009", json!(9200015)), "Future", "Primary");
    status_and_type(&customer("9100009", json!(9200016)), "Future", "Guarantor");
    assert_eq!(
        leases
            .iter()
            .filter(|l| l["leaseStatusTypeId"] == "4")
            .count(),
        12
    );

    let p = recorded("getProperties.json");
    assert!(
        p["response"].get("requestId").is_none(),
        "not sent, not echoed"
    );
    let prop = &p["response"]["result"]["PhysicalProperty"]["Property"][0];
    assert_eq!(prop["PropertyID"], 739084, "a number in getProperties");
    assert_eq!(prop["Type"], "Student");
    assert_eq!(
        (&prop["Address"]["City"], &prop["Address"]["State"]),
        (&json!("Champaign"), &json!("IL"))
    );

    assert_eq!(
        recorded("no_records.json")["response"]["result"],
        json!({"success": "No Records Found."})
    );
    assert_eq!(
        recorded("no_records_text.json")["response"]["result"],
        "No records found with mentioned preferences."
    );
    let unexpected = recorded("unexpected_text.json")["response"]["result"].clone();
    assert!(unexpected.is_string() && !unexpected.as_str().unwrap().contains("No records"));
    let unexpected = recorded("unexpected_object.json")["response"]["result"].clone();
    assert!(unexpected.is_object() && unexpected.get("leases").is_none());
}

#[tokio::test]
async fn the_recorded_refusal_is_what_the_sandbox_answers() {
    let sb = Sandbox::start_default().await.unwrap();
    let (_, _, body) = basic(
        &sb,
        "propertyunits",
        "",
        call(
            "getMitsPropertyUnits",
            "r1",
            json!({"propertyIds": story::PROPERTY_NY}),
        ),
    )
    .await;
    assert_eq!(body, recorded("getMitsPropertyUnits_refused.json"));
}

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
        call("getLeases", "r2", json!({"propertyId": story::PROPERTY_NY})),
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
    let (_, _, body) = basic(&sb, "leases", "", call("getLeases", "r2", json!({"propertyId": "300", "moveInDateFrom": "11/01/2026", "moveInDateTo": "12/31/2026"}))).await;
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
            call("getLeases", "r1", json!({"propertyId": "100"})),
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
    assert_eq!(cs.len(), 4, "Current and Notice leases only by default");
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
            json!({"propertyId": "100", "leaseIds": "1003"}),
        ),
    )
    .await;
    assert_eq!(body["response"]["result"]["success"], "No Records Found.");
    assert_eq!(h.stats().total, 2);
}

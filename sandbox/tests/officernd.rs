//! The fake OfficeRnD service, driven with raw HTTP as a client would.
#![allow(clippy::unwrap_used)] // test helpers

use std::time::Duration;

use reqwest::{Client, StatusCode};
use sandbox::{Fault, Sandbox, SandboxConfig, Seed, story};
use serde_json::{Value, json};

thread_local! {
    // One client per test thread: building a rustls client per request is slow.
    static HTTP: Client = Client::new();
}

fn http() -> Client {
    HTTP.with(Client::clone)
}

async fn token(sb: &Sandbox, scope: &str) -> (StatusCode, Value) {
    let c = sb.credentials();
    let r = http()
        .post(format!("{}/oauth/token", sb.officernd_identity_url()))
        .form(&[
            ("client_id", c.officernd_client_id.as_str()),
            ("client_secret", c.officernd_client_secret.as_str()),
            ("grant_type", "client_credentials"),
            ("scope", scope),
        ])
        .send()
        .await
        .unwrap();
    let s = r.status();
    (s, r.json().await.unwrap())
}

async fn get(
    sb: &Sandbox,
    bearer: &str,
    path: &str,
) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let r = http()
        .get(format!("{}{path}", sb.officernd_api_url()))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap();
    let (s, h) = (r.status(), r.headers().clone());
    (s, h, r.json().await.unwrap_or(Value::Null))
}

async fn all_scopes(sb: &Sandbox) -> String {
    let (_, t) = token(sb, &sandbox::officernd_read_scopes().join(" ")).await;
    t["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn auth_scopes_and_expiry() {
    let sb = Sandbox::start_default().await.unwrap();
    let (s, t) = token(&sb, "flex.community.members.read").await;
    assert_eq!(s, 200);
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3599);
    let tok = t["access_token"].as_str().unwrap();
    let (s, h, _) = get(&sb, tok, "/members").await;
    assert_eq!(s, 200);
    assert_eq!(h["x-ratelimit-limit-read-minute"], "400");
    // The token lacks the bookings scope: 401, not 403.
    let (s, _, body) = get(&sb, tok, "/bookings").await;
    assert_eq!(s, 401);
    assert_eq!(
        body,
        json!({"statusCode": 401, "message": "Unauthorized access", "error": "Unauthorized"})
    );

    // An ungranted scope fails the whole token request.
    let (s, body) = token(
        &sb,
        "flex.community.members.read flex.community.members.delete",
    )
    .await;
    assert_eq!(s, 400);
    assert_eq!(body["error"], "invalid_scope");

    let r = http()
        .post(format!("{}/oauth/token", sb.officernd_identity_url()))
        .form(&[
            ("client_id", "x"),
            ("client_secret", "y"),
            ("grant_type", "client_credentials"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    sb.faults().officernd(Fault::ExpireTokens);
    let (s, _, _) = get(&sb, tok, "/members").await;
    assert_eq!(s, 401);
    let (s, _, _) = get(&sb, "garbage", "/members").await;
    assert_eq!(s, 401);
}

#[tokio::test]
async fn short_ttl_and_narrow_grant() {
    let config = SandboxConfig::default()
        .with_officernd_token_ttl(Duration::from_secs(1))
        .with_officernd_scopes(["flex.community.members.read"]);
    let sb = Sandbox::start_with(Seed::sample(), config).await.unwrap();
    let (s, _) = token(&sb, "flex.space.bookings.read").await;
    assert_eq!(s, 400);
    let (_, t) = token(&sb, "flex.community.members.read").await;
    let tok = t["access_token"].as_str().unwrap();
    assert_eq!(get(&sb, tok, "/members").await.0, 200);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(get(&sb, tok, "/members").await.0, 401);
}

#[tokio::test]
async fn cursor_paging_to_the_end_and_limits() {
    let sb = Sandbox::start_default().await.unwrap();
    let tok = all_scopes(&sb).await;
    let mut ids = Vec::new();
    let mut path = "/members?$limit=2".to_owned();
    let mut pages = 0;
    loop {
        let (s, _, page) = get(&sb, &tok, &path).await;
        assert_eq!(s, 200);
        pages += 1;
        let results = page["results"].as_array().unwrap();
        assert_eq!(page["rangeStart"], ids.len() + 1);
        ids.extend(
            results
                .iter()
                .map(|m| m["_id"].as_str().unwrap().to_owned()),
        );
        assert_eq!(page["rangeEnd"], ids.len());
        match page.get("cursorNext") {
            Some(c) => {
                path = format!(
                    "/members?$limit=2&$cursorNext={}",
                    urlencode(c.as_str().unwrap())
                )
            }
            None => break,
        }
    }
    assert_eq!((pages, ids.len()), (3, 5));
    assert!(ids.contains(&story::MEMBER_QUINN.to_owned()));

    let (s, _, body) = get(&sb, &tok, "/members?$limit=51").await;
    assert_eq!(s, 400);
    assert_eq!(
        body["message"],
        json!(["$limit must not be greater than 50"])
    );
    let (s, _, body) = get(&sb, &tok, "/members?foo=1").await;
    assert_eq!(s, 400);
    assert_eq!(body["message"][0], "property foo should not exist");
    // No filter is documented for visitors: the strict whitelist refuses them all.
    let (s, _, body) = get(&sb, &tok, "/visitors?member=x").await;
    assert_eq!(s, 400);
    assert_eq!(body["message"][0], "property member should not exist");
    let (s, _, _) = get(&sb, &tok, "/members?$limit=2&$cursorNext=garbage").await;
    assert_eq!(s, 500);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn collections_filters_and_shapes() {
    let sb = Sandbox::start_default().await.unwrap();
    let tok = all_scopes(&sb).await;
    let (_, _, locs) = get(&sb, &tok, "/locations").await;
    assert_eq!(locs["results"][0]["timezone"], "America/Denver");

    let (_, _, ms) = get(&sb, &tok, "/memberships").await;
    let ms = ms["results"].as_array().unwrap();
    assert_eq!(ms.len(), 4);
    assert!(
        ms.iter()
            .any(|m| m["company"] == story::COMPANY_ACME && m.get("member").is_none()),
        "team membership"
    );
    assert!(ms.iter().any(|m| m["status"] == "not_approved"));
    assert_eq!(ms[0]["startDate"], "2026-11-01T00:00:00.000Z");
    // modifiedAt filters are refused on memberships, as observed.
    let (s, _, _) = get(
        &sb,
        &tok,
        "/memberships?modifiedAt%5B%24gte%5D=2026-01-01T00:00:00.000Z",
    )
    .await;
    assert_eq!(s, 400);
    // …and work on members.
    let (_, _, m) = get(
        &sb,
        &tok,
        "/members?modifiedAt%5B%24gte%5D=2026-11-01T00:00:00.000Z",
    )
    .await;
    assert_eq!(m["results"].as_array().unwrap().len(), 3);
    let (_, _, m) = get(
        &sb,
        &tok,
        &format!("/members?company={}", story::COMPANY_ACME),
    )
    .await;
    assert_eq!(m["results"].as_array().unwrap().len(), 2);
    let (_, _, m) = get(&sb, &tok, "/members?status%5B%24in%5D=drop-in,former").await;
    assert_eq!(m["results"].as_array().unwrap().len(), 1);

    let (_, _, b) = get(
        &sb,
        &tok,
        &format!("/bookings/{}", story::BOOKING_RECURRING),
    )
    .await;
    assert_eq!(b["recurrence"]["rrule"], "FREQ=WEEKLY;BYDAY=TH;COUNT=4");
    assert!(
        b.get("properties").is_none(),
        "empty properties omitted on a single GET"
    );
    let (_, _, b) = get(
        &sb,
        &tok,
        "/bookings?seriesStart%5B%24gte%5D=2026-12-01T00:00:00.000Z",
    )
    .await;
    assert_eq!(b["results"].as_array().unwrap().len(), 2);
    let (s, _, _) = get(
        &sb,
        &tok,
        "/bookings?start%5B%24gte%5D=2026-12-01T00:00:00.000Z",
    )
    .await;
    assert_eq!(s, 400, "occurrence start is not filterable on bookings");
    let (_, _, c) = get(
        &sb,
        &tok,
        "/checkins?start%5B%24gte%5D=2026-11-21T00:00:00.000Z",
    )
    .await;
    assert_eq!(c["results"].as_array().unwrap().len(), 2);

    let (_, _, p) = get(&sb, &tok, "/passes").await;
    let p = p["results"].as_array().unwrap();
    assert!(p.iter().any(|x| x["usedCount"] == x["count"]));
    let (_, _, a) = get(
        &sb,
        &tok,
        &format!("/assignments?resource={}", story::RESOURCE_OFFICE_201),
    )
    .await;
    assert_eq!(a["results"][0]["membership"], "64b000000000000000009002");
    let (_, _, count) = get(&sb, &tok, "/members/count").await;
    assert_eq!(count, json!({"total": 5}));
    let (s, _, body) = get(&sb, &tok, "/members/64b0000000000000000000ff").await;
    assert_eq!(s, 404);
    assert_eq!(body["error"], "Not Found");

    for c in [
        "companies",
        "plans",
        "floors",
        "resource-types",
        "resources",
        "visitors",
    ] {
        let (s, _, body) = get(&sb, &tok, &format!("/{c}")).await;
        assert_eq!(s, 200, "{c}");
        assert!(!body["results"].as_array().unwrap().is_empty(), "{c}");
    }
    // Unknown org and unknown path.
    let r = http()
        .get(format!(
            "{}/api/v2/organizations/nope/members",
            sb.officernd_base_url()
        ))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    let (s, _, body) = get(&sb, &tok, "/nothing-here").await;
    assert_eq!(s, 404);
    assert_eq!(
        body["message"],
        "Cannot GET /api/v2/organizations/sandbox-org/nothing-here"
    );
}

#[tokio::test]
async fn faults() {
    let sb = Sandbox::start_default().await.unwrap();
    let tok = all_scopes(&sb).await;
    sb.faults()
        .officernd(Fault::TooManyRequests {
            times: 1,
            retry_after_secs: 3,
        })
        .officernd(Fault::ServerError {
            times: 1,
            status: 503,
        })
        .officernd(Fault::DropConnection { times: 1 });
    let (s, h, body) = get(&sb, &tok, "/members").await;
    assert_eq!(s, 429);
    assert_eq!(h["retry-after"], "3");
    assert_eq!(h["retry-after-read-minute"], "3");
    assert_eq!(body["statusCode"], 429);
    let (s, _, body) = get(&sb, &tok, "/members").await;
    assert_eq!(s, 503);
    assert_eq!(body["statusCode"], 503);
    let err = http()
        .get(format!("{}/members", sb.officernd_api_url()))
        .bearer_auth(&tok)
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_status());
    assert_eq!(get(&sb, &tok, "/members").await.0, 200);
    assert_eq!(sb.officernd_stats().total, 5);
}

#[tokio::test]
async fn tests_can_change_records_between_syncs() {
    let sb = Sandbox::start_default().await.unwrap();
    let tok = all_scopes(&sb).await;
    let h = sb.officernd();
    let mut m = h.get("memberships", "64b000000000000000009003").unwrap();
    m["status"] = json!("approved");
    m["calculatedStatus"] = json!("not_started");
    assert!(h.upsert("memberships", m));
    let (_, _, body) = get(&sb, &tok, "/memberships?status=not_approved").await;
    assert!(body["results"].as_array().unwrap().is_empty());
    assert!(h.remove("bookings", story::BOOKING_CANCELLED));
    let (_, _, body) = get(&sb, &tok, "/bookings/count").await;
    assert_eq!(body["total"], 2);
    assert!(!h.upsert("nonsense", json!({"_id": "x"})));
}

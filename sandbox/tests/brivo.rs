//! The fake Brivo service, driven with raw HTTP as a client would.
#![allow(clippy::unwrap_used)] // test helpers

use std::time::Duration;

use reqwest::{Client, StatusCode};
use sandbox::{
    Fault, NewBrivoUser, RateLimit, Sandbox, SandboxConfig, Seed, ThrottleResponse, story,
};
use serde_json::{Value, json};

async fn token(sb: &Sandbox, http: &Client) -> Value {
    let c = sb.credentials();
    http.post(format!("{}/oauth/token", sb.brivo_auth_url()))
        .basic_auth(&c.brivo_client_id, Some(&c.brivo_client_secret))
        .header("api-key", &c.brivo_api_key)
        .form(&[
            ("grant_type", "password"),
            ("username", c.brivo_username.as_str()),
            ("password", c.brivo_password.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

struct Api {
    http: Client,
    base: String,
    key: String,
    bearer: String,
}

impl Api {
    async fn new(sb: &Sandbox) -> Self {
        let http = Client::new();
        let t = token(sb, &http).await;
        Self {
            bearer: t["access_token"].as_str().unwrap().to_owned(),
            http,
            base: sb.brivo_api_url(),
            key: sb.credentials().brivo_api_key.clone(),
        }
    }
    fn req(&self, m: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(m, format!("{}{}", self.base, path))
            .header("api-key", &self.key)
            .header("Authorization", format!("bearer {}", self.bearer))
    }
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self.req(reqwest::Method::GET, path).send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
    async fn send(&self, m: reqwest::Method, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self.req(m, path).json(&body).send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn auth_good_bad_and_expired() {
    let sb = Sandbox::start_default().await.unwrap();
    let http = Client::new();
    let c = sb.credentials().clone();
    let t = token(&sb, &http).await;
    assert_eq!(t["token_type"], "bearer");
    assert_eq!(t["expires_in"], 1800);
    assert!(t["refresh_token"].is_string());

    // Wrong client secret: Spring's {status,error,message,path}.
    let r = http
        .post(format!("{}/oauth/token", sb.brivo_auth_url()))
        .basic_auth(&c.brivo_client_id, Some("nope"))
        .header("api-key", &c.brivo_api_key)
        .form(&[
            ("grant_type", "password"),
            ("username", "x"),
            ("password", "y"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["message"],
        "Bad credentials"
    );

    // Wrong password: invalid_grant.
    let r = http
        .post(format!("{}/oauth/token", sb.brivo_auth_url()))
        .basic_auth(&c.brivo_client_id, Some(&c.brivo_client_secret))
        .header("api-key", &c.brivo_api_key)
        .form(&[
            ("grant_type", "password"),
            ("username", "sandbox-admin"),
            ("password", "y"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_grant");

    // Missing api-key: Mashery HTML 403.
    let r = http
        .get(format!("{}/users", sb.brivo_api_url()))
        .bearer_auth(t["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.text().await.unwrap(), "<h1>Developer Inactive</h1>");

    let api = Api::new(&sb).await;
    assert_eq!(api.get("/users").await.0, 200);
    sb.faults().brivo(Fault::ExpireTokens);
    let (s, body) = api.get("/users").await;
    assert_eq!(s, 401);
    assert_eq!(body["error"], "invalid_token");

    // The refresh token still works and yields a fresh access token.
    let r: Value = http
        .post(format!("{}/oauth/token", sb.brivo_auth_url()))
        .basic_auth(&c.brivo_client_id, Some(&c.brivo_client_secret))
        .header("api-key", &c.brivo_api_key)
        .form(&[
            ("grant_type", "refresh_token"),
            ("refresh_token", t["refresh_token"].as_str().unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let fresh = r["access_token"].as_str().unwrap();
    let s = http
        .get(format!("{}/users", sb.brivo_api_url()))
        .header("api-key", &c.brivo_api_key)
        .header("Authorization", format!("Bearer {fresh}"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(s, 200);
}

#[tokio::test]
async fn short_ttl_expires_on_its_own() {
    let config = SandboxConfig::default().with_brivo_token_ttl(Duration::from_millis(200));
    let sb = Sandbox::start_with(Seed::sample(), config).await.unwrap();
    let api = Api::new(&sb).await;
    assert_eq!(api.get("/groups").await.0, 200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(api.get("/groups").await.0, 401);
}

#[tokio::test]
async fn paging_to_the_end_and_filters() {
    let sb = Sandbox::start_default().await.unwrap();
    let h = sb.brivo();
    for i in 0..25 {
        h.add_user(
            NewBrivoUser::new(format!("Bulk{i}"), "Person").group(story::GROUP_BUILDING_STAFF),
        );
    }
    let api = Api::new(&sb).await;
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let (s, page) = api
            .get(&format!("/users?offset={offset}&pageSize=10"))
            .await;
        assert_eq!(s, 200);
        let data = page["data"].as_array().unwrap();
        assert_eq!(page["count"], 29);
        assert_eq!(page["pageSize"], 10);
        if data.is_empty() {
            break;
        }
        offset += data.len();
        seen.extend(data.iter().map(|u| u["id"].as_i64().unwrap()));
    }
    assert_eq!(seen.len(), 29);
    assert_eq!(api.get("/users?pageSize=101").await.0, 400);

    // Group members page too, without customFields.
    let (_, page) = api
        .get(&format!(
            "/groups/{}/users?pageSize=100",
            story::GROUP_BUILDING_STAFF
        ))
        .await;
    assert_eq!(page["count"], 27);
    assert!(page["data"][0].get("customFields").is_none());

    // Name filters match substrings: "Harbor View Residents" also finds the archive group.
    let (_, page) = api
        .get("/groups?filter=name__eq:Harbor%20View%20Residents")
        .await;
    let names: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Harbor View Residents", "Harbor View Residents Archive"]
    );
    let (_, page) = api.get("/users?filter=lastname__eq:erso").await;
    assert_eq!(page["count"], 25);
    let (s, _) = api.get("/users?filter=lastname:eq:x").await;
    assert_eq!(s, 400);

    // External id lookup, percent-encoded.
    let (s, u) = api.get("/users/sync%3Aentrata%3A100%3A5006/external").await;
    assert_eq!(s, 200);
    assert_eq!(u["firstName"], "Fay");
    let (s, body) = api.get("/users/nobody/external").await;
    assert_eq!(s, 404);
    assert_eq!(
        body,
        json!({"message": "Requested user not found", "code": 404})
    );
}

#[tokio::test]
async fn write_round_trip() {
    let sb = Sandbox::start_default().await.unwrap();
    let api = Api::new(&sb).await;
    sb.reset_brivo_counters();
    let (s, u) = api
        .send(
            reqwest::Method::POST,
            "/users",
            json!({"firstName": "Alice", "lastName": "Nguyen", "externalId": "sync:entrata:100:5001",
                   "emails": [{"address": "alice@example.com", "type": "Work"}]}),
        )
        .await;
    assert_eq!(s, 200);
    let id = u["id"].as_i64().unwrap();
    // Duplicate externalId is refused.
    let (s, _) = api
        .send(
            reqwest::Method::POST,
            "/users",
            json!({"firstName": "A", "lastName": "B", "externalId": "sync:entrata:100:5001"}),
        )
        .await;
    assert_eq!(s, 409);

    let (s, groups) = api
        .send(
            reqwest::Method::POST,
            &format!("/users/{id}/groups"),
            json!({"addGroups": [story::GROUP_HARBOR_VIEW_RESIDENTS, story::GROUP_HARBOR_VIEW_FITNESS], "removeGroups": []}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(groups["count"], 2);
    let (_, groups) = api.get(&format!("/users/{id}/groups")).await;
    assert_eq!(groups["count"], 2);
    assert!(groups.get("offset").is_none());

    // PATCH keeps the rest; PUT wipes omitted optional fields.
    let (_, u2) = api
        .send(
            reqwest::Method::PATCH,
            &format!("/users/{id}"),
            json!({"middleName": "Q"}),
        )
        .await;
    assert_eq!(u2["externalId"], "sync:entrata:100:5001");
    let (_, u3) = api
        .send(
            reqwest::Method::PUT,
            &format!("/users/{id}"),
            json!({"firstName": "Alice", "lastName": "Nguyen"}),
        )
        .await;
    assert!(u3.get("externalId").is_none());
    assert!(u3.get("middleName").is_none());

    let (s, body) = api
        .send(
            reqwest::Method::PUT,
            &format!("/users/{id}/suspended"),
            json!({"suspended": true}),
        )
        .await;
    assert_eq!(
        (s, body),
        (StatusCode::OK, json!({"id": id, "suspended": true}))
    );

    let r = api
        .req(
            reqwest::Method::DELETE,
            &format!("/groups/{}/users/{id}", story::GROUP_HARBOR_VIEW_FITNESS),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    let snap = sb.brivo().snapshot();
    let user = snap.user(id).unwrap();
    assert!(user.suspended);
    assert_eq!(
        user.groups.iter().copied().collect::<Vec<_>>(),
        [story::GROUP_HARBOR_VIEW_RESIDENTS]
    );
    assert_eq!(sb.brivo_writes(), 7);
    let stats = sb.brivo().stats();
    assert_eq!(stats.by_route["POST /v1/api/users/{id}/groups"], 1);

    let r = api
        .req(reqwest::Method::DELETE, &format!("/users/{id}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(sb.brivo().snapshot().user(id).is_none());
}

#[tokio::test]
async fn sixteen_group_limit_is_atomic() {
    let sb = Sandbox::start_default().await.unwrap();
    let h = sb.brivo();
    let groups: Vec<i64> = (0..17).map(|i| h.add_group(format!("G{i}"))).collect();
    let user = h.add_user(NewBrivoUser::new("Many", "Groups").external_id("sync:test:1"));
    let api = Api::new(&sb).await;
    let (s, body) = api
        .send(
            reqwest::Method::POST,
            &format!("/users/{user}/groups"),
            json!({"addGroups": groups}),
        )
        .await;
    assert_eq!(s, 400);
    assert_eq!(
        body,
        json!({"code": 400, "message": "Invalid criteria provided"}),
        "Brivo's plain refusal: the text names no cause, so clients must re-read to tell the cap"
    );
    assert!(
        h.snapshot().user(user).unwrap().groups.is_empty(),
        "no partial apply"
    );

    let (s, _) = api
        .send(
            reqwest::Method::POST,
            &format!("/users/{user}/groups"),
            json!({"addGroups": &groups[..16]}),
        )
        .await;
    assert_eq!(s, 200);
    let r = api
        .req(
            reqwest::Method::PUT,
            &format!("/groups/{}/users/{user}", groups[16]),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Swapping one for another in one call stays within the cap.
    let (s, body) = api
        .send(
            reqwest::Method::POST,
            &format!("/users/{user}/groups"),
            json!({"addGroups": [groups[16]], "removeGroups": [groups[0]]}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(body["count"], 16);

    // A removal bundled with two additions that would make 17 is refused as a whole, and
    // the removal alone then goes through.
    let extra = h.add_group("Extra");
    let (s, _) = api
        .send(
            reqwest::Method::POST,
            &format!("/users/{user}/groups"),
            json!({"addGroups": [groups[0], extra], "removeGroups": [groups[1]]}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(h.snapshot().user(user).unwrap().groups.contains(&groups[1]));
    let (s, body) = api
        .send(
            reqwest::Method::POST,
            &format!("/users/{user}/groups"),
            json!({"removeGroups": [groups[1]]}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(body["count"], 15);
}

#[tokio::test]
async fn refused_group_additions_are_a_400_that_is_not_the_cap() {
    let sb = Sandbox::start_default().await.unwrap();
    let h = sb.brivo();
    let user = h.add_user(
        NewBrivoUser::new("Linked", "Credentials")
            .external_id("sync:test:2")
            .group(story::GROUP_SUNSET_RESIDENTS),
    );
    h.refuse_group_additions(user);
    let api = Api::new(&sb).await;
    let (s, body) = api
        .send(
            reqwest::Method::POST,
            &format!("/users/{user}/groups"),
            json!({"addGroups": [story::GROUP_HARBOR_VIEW_RESIDENTS],
                   "removeGroups": [story::GROUP_SUNSET_RESIDENTS]}),
        )
        .await;
    assert_eq!(s, 400);
    assert!(
        body["message"].as_str().unwrap().contains("linked group"),
        "{body}"
    );
    assert_eq!(
        h.snapshot().user(user).unwrap().groups,
        [story::GROUP_SUNSET_RESIDENTS].into(),
        "nothing changed"
    );
    let r = api
        .req(
            reqwest::Method::PUT,
            &format!(
                "/groups/{}/users/{user}",
                story::GROUP_HARBOR_VIEW_RESIDENTS
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    // Removals alone still go through; and additions again once accepted.
    let (s, _) = api
        .send(
            reqwest::Method::POST,
            &format!("/users/{user}/groups"),
            json!({"removeGroups": [story::GROUP_SUNSET_RESIDENTS]}),
        )
        .await;
    assert_eq!(s, 200);
    h.accept_group_additions(user);
    let (s, body) = api
        .send(
            reqwest::Method::POST,
            &format!("/users/{user}/groups"),
            json!({"addGroups": [story::GROUP_HARBOR_VIEW_RESIDENTS]}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(body["count"], 1);
}

#[tokio::test]
async fn bad_path_is_596_html() {
    let sb = Sandbox::start_default().await.unwrap();
    let api = Api::new(&sb).await;
    let r = api
        .req(reqwest::Method::GET, "/no-such-thing")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 596);
    assert_eq!(r.text().await.unwrap(), "<h1>596 Service Not Found</h1>");
    let r = api
        .http
        .get(format!("{}/api/users", sb.brivo_auth_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 596);
    // Wrong verb on a known path.
    let r = api
        .req(reqwest::Method::DELETE, "/groups")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 596);
}

#[tokio::test]
async fn rate_limit_answers_429_or_over_qps() {
    let config = SandboxConfig::default().with_brivo_rate_limit(Some(RateLimit {
        per_second: 1.0,
        burst: 3,
        response: ThrottleResponse::TooManyRequests,
    }));
    let sb = Sandbox::start_with(Seed::sample(), config).await.unwrap();
    let api = Api::new(&sb).await; // 1 token call
    let mut codes = Vec::new();
    for _ in 0..4 {
        codes.push(api.get("/sites").await.0.as_u16());
    }
    assert_eq!(codes, [200, 200, 429, 429]);
    assert_eq!(sb.brivo().stats().throttled, 2);

    sb.brivo().set_rate_limit(Some(RateLimit {
        per_second: 0.001,
        burst: 0,
        response: ThrottleResponse::OverQps,
    }));
    let r = api
        .req(reqwest::Method::GET, "/sites")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(r.text().await.unwrap(), "<h1>Developer Over Qps</h1>");
}

#[tokio::test]
async fn faults_429_5xx_slow_and_drop() {
    let sb = Sandbox::start_default().await.unwrap();
    let api = Api::new(&sb).await;
    sb.faults()
        .brivo(Fault::TooManyRequests {
            times: 2,
            retry_after_secs: 7,
        })
        .brivo(Fault::ServerError {
            times: 1,
            status: 503,
        })
        .brivo(Fault::OverQps { times: 1 });
    let r = api
        .req(reqwest::Method::GET, "/groups")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    assert_eq!(api.get("/groups").await.0, 429);
    let (s, body) = api.get("/groups").await;
    assert_eq!(s, 503);
    assert_eq!(body["code"], 503);
    assert_eq!(api.get("/groups").await.0, 403);
    assert_eq!(api.get("/groups").await.0, 200);

    sb.faults().brivo(Fault::Slow {
        times: 1,
        delay: Duration::from_millis(300),
    });
    let t0 = std::time::Instant::now();
    assert_eq!(api.get("/groups").await.0, 200);
    assert!(t0.elapsed() >= Duration::from_millis(300));

    sb.faults().brivo(Fault::DropConnection { times: 1 });
    let err = api
        .req(reqwest::Method::GET, "/groups")
        .send()
        .await
        .unwrap_err();
    assert!(!err.is_status(), "no response at all: {err}");
    assert_eq!(api.get("/groups").await.0, 200);
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let sb = Sandbox::start_default().await.unwrap();
    let url = format!("{}/oauth/token", sb.brivo_auth_url());
    sb.shutdown().await;
    let r = Client::new().post(url).send().await;
    assert!(r.is_err());
}

#[tokio::test]
async fn drop_stops_serving() {
    let sb = Sandbox::start_default().await.unwrap();
    let url = format!("{}/oauth/token", sb.brivo_auth_url());
    drop(sb);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(Client::new().post(url).send().await.is_err());
}

#[tokio::test]
async fn credentials_sites_and_access_points() {
    let sb = Sandbox::start_default().await.unwrap();
    let api = Api::new(&sb).await;
    let (s, card) = api
        .send(
            reqwest::Method::POST,
            "/credentials",
            json!({"credentialFormat": {"id": 100}, "referenceId": "2001",
                   "fieldValues": [{"id": 1, "value": "2001"}, {"id": 2, "value": "12"}]}),
        )
        .await;
    assert_eq!(s, 201);
    let cid = card["id"].as_i64().unwrap();
    let (s, body) = api
        .send(
            reqwest::Method::POST,
            "/credentials",
            json!({"credentialFormat": {"id": 100}, "referenceId": "2001",
                   "fieldValues": [{"id": 1, "value": "2001"}, {"id": 2, "value": "12"}]}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), body["message"].as_str()),
        (400, Some("Duplicate Credential found"))
    );
    // reference_id is a contains match: "200" finds "2001".
    let (_, list) = api.get("/credentials?filter=reference_id__eq:200").await;
    assert_eq!(list["count"], 1);

    let user = story::USER_TERRY_TECH;
    let r = api
        .req(
            reqwest::Method::PUT,
            &format!("/users/{user}/credentials/{cid}"),
        )
        .json(&json!({"effectiveFrom": "2026-12-01", "effectiveTo": "2027-01-01T16:00:00-05:00"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (_, creds) = api.get(&format!("/users/{user}/credentials")).await;
    assert_eq!(creds["count"], 1);
    assert_eq!(creds["data"][0]["effectiveFrom"], "2026-12-01T00:00:00Z");
    assert_eq!(creds["data"][0]["effectiveTo"], "2027-01-01T21:00:00Z");
    assert!(
        sb.brivo()
            .snapshot()
            .user(user)
            .unwrap()
            .credentials
            .contains(&cid)
    );
    let r = api
        .req(
            reqwest::Method::DELETE,
            &format!("/users/{user}/credentials/{cid}"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let (s, body) = api.get("/credentials/1").await;
    assert_eq!(s, 404);
    assert_eq!(
        body["message"],
        "No credential could be retrieved for credential id: 1"
    );

    let (_, sites) = api.get("/sites").await;
    assert_eq!(sites["count"], 4);
    assert!(sites["data"][0].get("siteName").is_some());
    let (_, site) = api.get(&format!("/sites/{}", story::SITE_NY)).await;
    assert_eq!(site["timeZone"], "US/Eastern");
    let (_, doors) = api
        .get(&format!("/sites/{}/access-points", story::SITE_DENVER))
        .await;
    assert_eq!(doors["count"], 4);
    assert!(doors.get("offset").is_none());
    let (_, doors) = api.get("/access-points?filter=name__eq:summit").await;
    assert_eq!(doors["count"], 1);

    // user_status filter: Uma is the only suspended user.
    let (_, page) = api.get("/users?filter=user_status__eq:suspended").await;
    assert_eq!(page["data"][0]["id"], story::USER_UMA_ARCHIVE);
}

/// Redundant writes and the membership change log: a group update that only
/// re-adds what the user has (and removes what it lacks) changes nothing and
/// is counted; one that adds a new group logs exactly that change.
#[tokio::test]
async fn redundant_group_writes_are_counted_and_changes_logged() {
    let sb = Sandbox::start_default().await.unwrap();
    let h = sb.brivo();
    let (held, other, fresh) = (
        h.add_group("Held"),
        h.add_group("Other"),
        h.add_group("Fresh"),
    );
    let user = h.add_user(
        NewBrivoUser::new("Rita", "Redundant")
            .external_id("sync:test:redundant")
            .group(held),
    );
    // Seeding through the handle is not API traffic: nothing logged.
    assert!(h.membership_changes().is_empty());
    let api = Api::new(&sb).await;
    h.reset_counters();

    // Re-add a group the user is in, remove one it is not in: 200, no change.
    let (s, body) = api
        .send(
            reqwest::Method::POST,
            &format!("/users/{user}/groups"),
            json!({"addGroups": [held], "removeGroups": [other]}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(body["count"], 1);
    assert_eq!(h.redundant_writes(), 1);
    assert!(h.membership_changes().is_empty());

    // Add a new group: one change, no redundant write.
    let (s, body) = api
        .send(
            reqwest::Method::POST,
            &format!("/users/{user}/groups"),
            json!({"addGroups": [held, fresh], "removeGroups": []}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(body["count"], 2);
    assert_eq!(h.redundant_writes(), 1, "still only the first request");
    let log = h.membership_changes();
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0].seq, log[0].user_id, log[0].group_id, log[0].added),
        (1, user, fresh, true)
    );

    // reset_counters clears the count, not the log.
    h.reset_counters();
    assert_eq!(h.redundant_writes(), 0);
    assert_eq!(h.membership_changes().len(), 1);
}

/// The other writes that can change nothing: per-group PUT/DELETE, user
/// PATCH/PUT with equal values, suspension, credential windows.
#[tokio::test]
async fn other_redundant_writes_and_logged_removals() {
    let sb = Sandbox::start_default().await.unwrap();
    let h = sb.brivo();
    let (g1, g2) = (h.add_group("G1"), h.add_group("G2"));
    let user = h.add_user(
        NewBrivoUser::new("Otto", "Other")
            .external_id("sync:test:other")
            .group(g1),
    );
    let api = Api::new(&sb).await;
    let status = |m: reqwest::Method, path: String| {
        let r = api.req(m, &path);
        async move { r.send().await.unwrap().status() }
    };
    let mut expected = 0;

    // PUT of a member: redundant; DELETE of a non-member: redundant.
    let put = format!("/groups/{g1}/users/{user}");
    assert_eq!(status(reqwest::Method::PUT, put).await, 204);
    expected += 1;
    let del = format!("/groups/{g2}/users/{user}");
    assert_eq!(status(reqwest::Method::DELETE, del).await, 204);
    expected += 1;
    assert_eq!(h.redundant_writes(), expected);
    // PUT of a new member and DELETE of a member: two changes.
    let put = format!("/groups/{g2}/users/{user}");
    assert_eq!(status(reqwest::Method::PUT, put).await, 204);
    let del = format!("/groups/{g1}/users/{user}");
    assert_eq!(status(reqwest::Method::DELETE, del).await, 204);
    assert_eq!(h.redundant_writes(), expected);

    // PATCH with the current name, then PUT with the same fields: redundant.
    let (s, _) = api
        .send(
            reqwest::Method::PATCH,
            &format!("/users/{user}"),
            json!({"firstName": "Otto"}),
        )
        .await;
    assert_eq!(s, 200);
    expected += 1;
    let (s, _) = api
        .send(
            reqwest::Method::PUT,
            &format!("/users/{user}"),
            json!({"firstName": "Otto", "lastName": "Other", "externalId": "sync:test:other"}),
        )
        .await;
    assert_eq!(s, 200);
    expected += 1;
    assert_eq!(h.redundant_writes(), expected);
    // A real change is not counted.
    let (s, _) = api
        .send(
            reqwest::Method::PATCH,
            &format!("/users/{user}"),
            json!({"middleName": "Q"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(h.redundant_writes(), expected);

    // Unsuspending an active user: redundant; suspending: not; again: redundant.
    for (flag, counted) in [(false, true), (true, false), (true, true)] {
        let (s, _) = api
            .send(
                reqwest::Method::PUT,
                &format!("/users/{user}/suspended"),
                json!({"suspended": flag}),
            )
            .await;
        assert_eq!(s, 200);
        expected += u64::from(counted);
        assert_eq!(h.redundant_writes(), expected, "suspended={flag}");
    }

    // Credential window: set, set the same again (redundant), unassign twice.
    let card = h.add_card("12345");
    let window =
        json!({"effectiveFrom": "2026-01-01T10:00:00Z", "effectiveTo": "2026-02-01T16:00:00Z"});
    let path = format!("/users/{user}/credentials/{card}");
    let (s, _) = api.send(reqwest::Method::PUT, &path, window.clone()).await;
    assert_eq!(s, 204);
    assert_eq!(h.redundant_writes(), expected);
    let (s, _) = api.send(reqwest::Method::PUT, &path, window).await;
    assert_eq!(s, 204);
    expected += 1;
    assert_eq!(h.redundant_writes(), expected);
    assert_eq!(status(reqwest::Method::DELETE, path.clone()).await, 204);
    assert_eq!(h.redundant_writes(), expected);
    assert_eq!(status(reqwest::Method::DELETE, path).await, 204);
    expected += 1;
    assert_eq!(h.redundant_writes(), expected);

    // A failed write is not redundant: unknown group.
    let (s, _) = api
        .send(
            reqwest::Method::POST,
            &format!("/users/{user}/groups"),
            json!({"addGroups": [999_999_999]}),
        )
        .await;
    assert_eq!(s, 404);
    assert_eq!(h.redundant_writes(), expected);

    // Deleting the user logs the removal of its remaining membership.
    assert_eq!(
        status(reqwest::Method::DELETE, format!("/users/{user}")).await,
        204
    );
    let log: Vec<_> = h
        .membership_changes()
        .iter()
        .map(|c| (c.seq, c.user_id, c.group_id, c.added))
        .collect();
    assert_eq!(
        log,
        [
            (1, user, g2, true),
            (2, user, g1, false),
            (3, user, g2, false)
        ]
    );
}

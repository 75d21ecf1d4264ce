//! A `reqwest::Client` of the caller's: used for every request, refused if
//! it may follow redirects, and still bound by the per-request timeout.

use std::time::Duration;

use brivo_client::{Error, UserId, reqwest};
use httpmock::Method::{GET, POST};

use crate::common::*;

fn callers_client() -> reqwest::Client {
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
async fn the_callers_client_sends_every_request() {
    let server = httpmock::MockServer::start_async().await;
    let token = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .header("api-key", API_KEY)
                .header("user-agent", "acme-door-sync/2.1")
                .header("x-caller", "door-sync");
            json(then, 200, fixture("token.json"));
        })
        .await;
    let user = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1/api/users/1")
                .header("authorization", BEARER)
                .header("api-key", API_KEY)
                .header("user-agent", "acme-door-sync/2.1")
                .header("x-caller", "door-sync");
            json(then, 200, fixture("user_created.json"));
        })
        .await;
    let client = builder(&server)
        .http_client(callers_client())
        .build()
        .unwrap();
    client.get_user(UserId(1)).await.unwrap();
    token.assert_calls_async(1).await;
    user.assert_calls_async(1).await;
    assert!(format!("{:?}", builder(&server).http_client(callers_client())).contains("caller's"));
}

#[tokio::test]
async fn a_client_that_may_follow_redirects_is_refused() {
    let server = httpmock::MockServer::start_async().await;
    for http in [
        reqwest::Client::new(),
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::limited(2))
            .build()
            .unwrap(),
    ] {
        let err = builder(&server).http_client(http).build().unwrap_err();
        assert!(matches!(err, Error::Config { .. }), "{err:?}");
        assert!(err.to_string().contains("Policy::none()"), "{err}");
    }
}

#[tokio::test]
async fn the_per_request_timeout_still_applies() {
    let (server, _) = server().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/users/1");
            json(then, 200, fixture("user_created.json")).delay(Duration::from_secs(5));
        })
        .await;
    let client = builder(&server)
        .http_client(callers_client()) // no timeout of its own
        .timeout(Duration::from_millis(200))
        .retry_policy(brivo_client::RetryPolicy::never())
        .build()
        .unwrap();
    client.authenticate().await.unwrap();
    let started = std::time::Instant::now();
    let err = client.get_user(UserId(1)).await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

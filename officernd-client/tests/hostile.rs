//! A hostile or broken upstream: redirects, absurd numbers, huge bodies,
//! echoed secrets, a persistent 401, least-privilege scopes.

#![allow(clippy::unwrap_used)] // test code: a panic is a failure

mod common;

use common::*;
use httpmock::prelude::*;
use officernd_client::Error;
use officernd_client::models::LocationId;

#[tokio::test]
async fn a_redirect_from_the_token_endpoint_is_not_followed() {
    let evil = MockServer::start_async().await;
    let catch_all = evil
        .mock_async(|_when, then| {
            then.status(200);
        })
        .await;
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(307)
                .header("location", evil.url("/oauth/token"));
        })
        .await;
    let err = client(&server)
        .get_location(&LocationId::new("l1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Redirected { status: 307, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("127.0.0.1"), "{err}");
    assert_eq!(
        catch_all.calls_async().await,
        0,
        "the client secret was re-sent"
    );
}

#[tokio::test]
async fn a_redirect_from_an_api_call_is_not_followed() {
    let evil = MockServer::start_async().await;
    let catch_all = evil
        .mock_async(|_when, then| {
            then.status(200);
        })
        .await;
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{API}/locations/l1"));
            then.status(302).header("location", evil.url("/steal"));
        })
        .await;
    let err = client(&server)
        .get_location(&LocationId::new("l1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, Error::Redirected { status: 302, .. }),
        "{err:?}"
    );
    assert_eq!(
        catch_all.calls_async().await,
        0,
        "the bearer token was re-sent"
    );
}

#[tokio::test]
async fn a_token_endpoint_echoing_the_secret_never_shows_it() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(400).body(format!(
                r#"{{"error":"invalid_client {SECRET}","error_description":"bad form: grant_type=client_credentials&client_secret={SECRET}&scope=x"}}"#
            ));
        })
        .await;
    let err = client(&server)
        .get_location(&LocationId::new("l1"))
        .await
        .unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(SECRET), "{shown}");
    assert!(shown.contains("[REDACTED]"), "{shown}");
}

#[tokio::test]
async fn a_persistent_401_costs_a_bounded_number_of_token_requests() {
    let server = MockServer::start_async().await;
    let grants = token_mock(&server).await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{API}/locations/l1"));
            then.status(401)
                .body(r#"{"statusCode":401,"message":"Unauthorized"}"#);
        })
        .await;
    let client = client(&server);
    let mut last = None;
    for _ in 0..20 {
        last = Some(
            client
                .get_location(&LocationId::new("l1"))
                .await
                .unwrap_err(),
        );
    }
    let calls = grants.calls_async().await;
    assert!(calls <= 3, "{calls} token requests");
    let last = last.unwrap();
    assert!(matches!(last, Error::AuthBlocked(_)), "{last:?}");
    assert!(last.to_string().contains("check the credentials"), "{last}");
}

#[tokio::test]
async fn absurd_token_lifetimes_and_retry_after_do_not_panic() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(200)
                .body(r#"{"access_token":"tok-1234","expires_in":1e30}"#);
        })
        .await;
    let throttled = server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{API}/locations/l1"));
            then.status(429).header("retry-after", "1e30").body("{}");
        })
        .await;
    let client = builder(&server)
        .retry_policy(fast_policy().with_max_retry_after(std::time::Duration::from_millis(5)))
        .build()
        .unwrap();
    let err = client
        .get_location(&LocationId::new("l1"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(429), "{err:?}");
    assert_eq!(throttled.calls_async().await, 3);
}

#[tokio::test]
async fn a_huge_error_body_is_cut() {
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    let huge = format!(
        r#"{{"statusCode":400,"message":"{}"}}"#,
        "A".repeat(4 * 1024 * 1024)
    );
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{API}/locations/l1"));
            then.status(400).body(huge);
        })
        .await;
    let err = client(&server)
        .get_location(&LocationId::new("l1"))
        .await
        .unwrap_err();
    // the unparsable (cut) body gives no message: nothing huge is kept
    assert!(err.to_string().len() < 100_000);
}

#[tokio::test]
async fn default_scopes_are_what_the_sync_reads() {
    let server = MockServer::start_async().await;
    let scoped = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .form_urlencoded_tuple("scope", officernd_client::config::SYNC_SCOPES.join(" "));
            then.status(200).body(fixture("token.json"));
        })
        .await;
    get_mock(&server, "/locations/l1", "{}".to_string()).await;
    let _ = client(&server).get_location(&LocationId::new("l1")).await;
    assert_eq!(scoped.calls_async().await, 1);
    for unused in ["companies", "checkins", "plans", "floors"] {
        assert!(
            !officernd_client::config::SYNC_SCOPES
                .iter()
                .any(|s| s.contains(unused)),
            "{unused}"
        );
    }
}

#[test]
fn builder_values_are_checked_or_clamped() {
    let server_less =
        || officernd_client::Client::builder("acme", "id", secrecy::SecretString::from("secret-1"));
    let err = server_less()
        .timeout(std::time::Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("timeout must be more than zero"),
        "{err}"
    );
    assert!(server_less().rate_limit(1e-300, u32::MAX).build().is_ok());
}

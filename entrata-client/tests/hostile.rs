//! A hostile or broken upstream: redirects, absurd numbers, huge bodies,
//! echoed secrets.

#![allow(clippy::unwrap_used)]

mod common;

use common::{API_KEY, PASSWORD, builder, client};
use entrata_client::{Client, Credentials, Error};
use httpmock::prelude::*;

#[tokio::test]
async fn a_redirect_is_not_followed_with_the_api_key() {
    let evil = MockServer::start_async().await;
    let catch_all = evil
        .mock_async(|_when, then| {
            then.status(200);
        })
        .await;
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/ext/v1/status");
            then.status(302).header("location", evil.url("/steal"));
        })
        .await;
    let client = Client::builder(
        &server.url("/ext/v1"),
        Credentials::api_key(API_KEY.to_owned()),
    )
    .build()
    .unwrap();
    let err = client.get_status().await.unwrap_err();
    assert!(
        matches!(err, Error::Redirected { status: 302, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("127.0.0.1"), "{err}");
    assert_eq!(catch_all.calls_async().await, 0, "x-api-key was re-sent");
}

#[tokio::test]
async fn an_error_echoing_the_credentials_shows_none() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/status");
            then.status(401).body(format!(
                r#"{{"response":{{"error":{{"code":113,"message":"password {PASSWORD} is incorrect; Authorization: Basic abcdef"}}}}}}"#
            ));
        })
        .await;
    let err = client(&server).get_status().await.unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains(PASSWORD), "{shown}");
    assert!(!shown.contains("abcdef"), "{shown}");
}

#[tokio::test]
async fn a_success_body_over_the_cap_is_a_clear_error() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/status");
            then.status(200).body(" ".repeat(200 * 1024));
        })
        .await;
    let client = builder(&server).max_body_bytes(100 * 1024).build().unwrap();
    let err = client.get_status().await.unwrap_err();
    assert!(matches!(err, Error::BodyTooLarge { .. }), "{err:?}");
    assert!(err.to_string().contains("102400 bytes"), "{err}");
}

#[tokio::test]
async fn a_huge_error_body_is_cut() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/status");
            then.status(400).body("x".repeat(8 * 1024 * 1024));
        })
        .await;
    let err = client(&server).get_status().await.unwrap_err();
    assert!(err.to_string().len() < 100_000);
}

#[tokio::test]
async fn a_retry_after_of_1e30_does_not_panic() {
    let server = MockServer::start_async().await;
    let throttled = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/status");
            then.status(429).header("retry-after", "1e30").body("{}");
        })
        .await;
    let err = client(&server).get_status().await.unwrap_err();
    assert!(matches!(err, Error::RateLimited { .. }), "{err:?}");
    assert_eq!(throttled.calls_async().await, 3);
}

#[test]
fn tiny_rates_do_not_panic() {
    let server_less = Client::builder(
        "https://example.test/api/v1",
        Credentials::api_key(API_KEY.to_owned()),
    )
    .rate_limit(1e-300, u32::MAX)
    .per_page(u32::MAX)
    .max_pages(0)
    .max_body_bytes(usize::MAX)
    .build();
    assert!(server_less.is_ok());
}

#[test]
fn a_zero_timeout_is_refused_naming_the_setting() {
    let err = Client::builder(
        "https://example.test/api/v1",
        Credentials::api_key(API_KEY.to_owned()),
    )
    .request_timeout(std::time::Duration::ZERO)
    .build()
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("request_timeout must be more than zero"),
        "{err}"
    );
}

/// A persistent 401 must not re-send the refused password on every call:
/// after a few refusals in a row the client stops locally, with an error
/// that says why and is classified as an authentication failure.
#[tokio::test]
async fn twenty_calls_refused_401_reach_the_server_a_bounded_number_of_times() {
    let server = MockServer::start_async().await;
    let refused = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/status");
            then.status(401).body("Unauthorized");
        })
        .await;
    let client = client(&server);
    let mut errors = Vec::new();
    for _ in 0..20 {
        errors.push(client.get_status().await.unwrap_err());
    }
    let sent = refused.calls_async().await;
    assert_eq!(sent, 3, "requests that reached the server");
    assert!(errors.iter().all(Error::is_auth), "{errors:?}");
    let last = errors.last().unwrap();
    assert!(matches!(last, Error::AuthBlocked { .. }), "{last:?}");
    let text = last.to_string();
    assert!(
        text.contains("check the credentials") && text.contains("3 refusals in a row"),
        "{text}"
    );
    assert!(!last.is_retryable());
    assert_eq!(
        client.call_stats().calls,
        3,
        "blocked calls are not counted"
    );
}

/// Calls queued behind the rate limiter when the breaker opens send
/// nothing: a run that reads every property at once must not spend the
/// refused password once per property.
#[tokio::test]
async fn calls_queued_when_the_breaker_opens_send_nothing() {
    let server = MockServer::start_async().await;
    let refused = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/status");
            then.status(401).body("Unauthorized");
        })
        .await;
    let client = builder(&server).rate_limit(5.0, 1).build().unwrap();
    let calls = (0..10).map(|_| client.get_status());
    let errors: Vec<Error> = futures::future::join_all(calls)
        .await
        .into_iter()
        .map(Result::unwrap_err)
        .collect();
    assert_eq!(
        refused.calls_async().await,
        3,
        "requests that reached the server"
    );
    assert_eq!(
        errors
            .iter()
            .filter(|e| matches!(e, Error::AuthBlocked { .. }))
            .count(),
        7
    );
}

/// A web service this API user is not granted (HTTP 403) is not a refusal
/// of the credentials: it never stops the other calls.
#[tokio::test]
async fn a_service_refused_403_does_not_open_the_breaker() {
    let server = MockServer::start_async().await;
    let refused = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/status");
            then.status(403).body("Forbidden");
        })
        .await;
    let client = client(&server);
    for _ in 0..5 {
        let e = client.get_status().await.unwrap_err();
        assert!(!matches!(e, Error::AuthBlocked { .. }), "{e:?}");
    }
    assert_eq!(refused.calls_async().await, 5);
}

/// A 401 whose body carries a code the client does not know is still a
/// refusal of the credentials.
#[tokio::test]
async fn a_401_with_an_unknown_code_counts_towards_the_breaker() {
    let server = MockServer::start_async().await;
    let refused = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/status");
            then.status(401)
                .header("content-type", "application/json")
                .body(r#"{"response":{"error":{"code":999,"message":"Session expired"}}}"#);
        })
        .await;
    let client = client(&server);
    for _ in 0..5 {
        let _ = client.get_status().await.unwrap_err();
    }
    assert_eq!(refused.calls_async().await, 3);
}

//! The call path: auth headers, error mapping, retries, rate limits,
//! secrets never shown.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{API_KEY, PASSWORD, basic_header, client, fixture};
use entrata_client::{
    Client, Credentials, Error, LeasesRequest, PropertyId, RatePeriod, RetryPolicy,
};
use httpmock::prelude::*;

#[tokio::test]
async fn get_status_with_basic_auth() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v1/status")
                .header("authorization", basic_header())
                .header("content-type", "application/json; charset=utf-8")
                .header_exists("user-agent")
                .json_body_includes(
                    r#"{"auth":{"type":"basic"},"method":{"name":"getStatus","version":"r1"}}"#,
                )
                .body_excludes(PASSWORD);
            then.status(200).body(fixture("get_status.json"));
        })
        .await;
    let status = client(&server).get_status().await.unwrap();
    assert!(status.is_up());
    assert_eq!(
        status.message.as_deref(),
        Some("API service is available and running.")
    );
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn gateway_sends_the_api_key_header_and_apikey_auth_type() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/ext/orgs/acme/v1/status")
                .header("x-api-key", API_KEY)
                .header_missing("authorization")
                .json_body_includes(r#"{"auth":{"type":"apikey"}}"#)
                .body_excludes(API_KEY);
            then.status(200).body(fixture("get_status.json"));
        })
        .await;
    let client = Client::builder(
        &server.url("/ext/orgs/acme/v1"),
        Credentials::api_key(API_KEY.to_owned()),
    )
    .build()
    .unwrap();
    assert!(client.get_status().await.unwrap().is_up());
    mock.assert_calls_async(1).await;
}

async fn error_case(status: u16, body: &str) -> (Error, usize) {
    let server = MockServer::start_async().await;
    let body = body.to_owned();
    let mock = server
        .mock_async(move |when, then| {
            when.method(POST).path("/api/v1/status");
            then.status(status).body(body);
        })
        .await;
    let err = client(&server).get_status().await.unwrap_err();
    let hits = mock.calls_async().await;
    (err, hits)
}

#[tokio::test]
async fn code_113_in_a_200_is_an_authentication_error_not_retried() {
    let (err, hits) = error_case(200, &fixture("error_113.json")).await;
    assert!(
        matches!(
            err,
            Error::Authentication {
                code: Some(113),
                status: 200,
                method: "getStatus",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("Username and/or password is incorrect.")
    );
    assert_eq!(hits, 1);
}

#[tokio::test]
async fn code_301_is_permission_denied() {
    let (err, hits) = error_case(200, &fixture("error_301.json")).await;
    assert!(
        matches!(
            err,
            Error::PermissionDenied {
                code: Some(301),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(hits, 1);
}

#[tokio::test]
async fn code_311_with_http_403_is_permission_denied() {
    let (err, hits) = error_case(403, &fixture("error_311.json")).await;
    assert!(
        matches!(
            err,
            Error::PermissionDenied {
                code: Some(311),
                status: 403,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(hits, 1);
}

#[tokio::test]
async fn http_401_without_a_body_is_an_authentication_error() {
    let (err, hits) = error_case(401, "").await;
    assert!(
        matches!(
            err,
            Error::Authentication {
                code: None,
                status: 401,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(hits, 1);
}

#[tokio::test]
async fn other_4xx_and_unknown_codes_are_not_retried() {
    let (err, hits) = error_case(
        400,
        r#"{"response":{"error":{"code":400,"message":"Invalid propertyId"}}}"#,
    )
    .await;
    assert!(
        matches!(
            err,
            Error::Api {
                code: Some(400),
                status: 400,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    assert_eq!(hits, 1);
    let (err, hits) = error_case(404, "<html>not found</html>").await;
    assert!(
        matches!(
            err,
            Error::Api {
                status: 404,
                code: None,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("<html>not found</html>"));
    assert_eq!(hits, 1);
}

#[tokio::test]
async fn a_bad_body_names_the_method_and_path() {
    let (err, hits) = error_case(200, "{\"response\":{\"result\":").await;
    match &err {
        Error::Decode { method, path, .. } => {
            assert_eq!(*method, "getStatus");
            assert!(path.starts_with("response"), "{path}");
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
    assert_eq!(hits, 1);
}

/// A 503 (HTML from the CDN), then a success: one retry.
#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let server = MockServer::start_async().await;
    let fail = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/status");
            then.status(503)
                .body("<html>Service Unavailable</html>")
                .up_to_n_times(1);
        })
        .await;
    let ok = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/status");
            then.status(200).body(fixture("get_status.json"));
        })
        .await;
    let client = client(&server);
    assert!(client.get_status().await.unwrap().is_up());
    fail.assert_calls_async(1).await;
    ok.assert_calls_async(1).await;
    let stats = client.call_stats();
    assert_eq!((stats.calls, stats.retries), (2, 1));
}

#[tokio::test]
async fn http_429_is_retried_after_the_servers_wait() {
    let server = MockServer::start_async().await;
    let throttled = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/status");
            then.status(429).header("retry-after", "0").up_to_n_times(1);
        })
        .await;
    let ok = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/status");
            then.status(200).body(fixture("get_status.json"));
        })
        .await;
    let client = client(&server);
    assert!(client.get_status().await.unwrap().is_up());
    throttled.assert_calls_async(1).await;
    ok.assert_calls_async(1).await;
    let stats = client.call_stats();
    assert_eq!((stats.calls, stats.retries, stats.throttled), (2, 1, 1));
}

#[tokio::test]
async fn retries_stop_at_the_attempt_budget() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/status");
            then.status(500)
                .body(r#"{"response":{"error":{"code":500,"message":"Internal error"}}}"#);
        })
        .await;
    let err = client(&server).get_status().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Server {
                status: 500,
                code: Some(500),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    mock.assert_calls_async(3).await;
}

#[tokio::test]
async fn connection_errors_are_transport_errors_and_retried() {
    // a port nobody listens on
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let client = Client::builder(
        &format!("http://127.0.0.1:{port}/api/v1"),
        Credentials::basic("u", "p"),
    )
    .retry_policy(common::fast_retries())
    .build()
    .unwrap();
    let err = client.get_status().await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                kind: "connect",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(client.call_stats().calls, 3);
}

#[tokio::test]
async fn rate_limit_headers_are_exposed_per_service() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/status");
            then.status(200)
                .header("x-ratelimit-limit", "8640/day;360/hour;6/minute")
                .header("x-ratelimit-remaining", "8639/day;359/hour;5/minute")
                .header("x-ratelimit-reset", "50000;3000;30")
                .body(fixture("get_status.json"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/leases");
            then.status(200)
                .header("x-ratelimit-limit", "66000/hour;1100/minute")
                .header("x-ratelimit-remaining", "65999/hour;1099/minute")
                .header("x-ratelimit-reset", "580;40")
                .body(fixture("no_records.json"));
        })
        .await;
    let client = client(&server);
    assert!(client.rate_limit().is_none());
    client.get_status().await.unwrap();
    let snap = client.rate_limit().unwrap();
    assert_eq!(snap.service, "status");
    assert_eq!(snap.buckets.len(), 3);
    assert_eq!(snap.buckets[2].period, Some(RatePeriod::Minute));
    assert_eq!(snap.buckets[2].remaining, Some(5));
    assert_eq!(snap.buckets[2].reset_after, Some(Duration::from_secs(30)));
    client
        .get_leases_page(&LeasesRequest::new(PropertyId(1)), 1)
        .await
        .unwrap();
    assert_eq!(client.rate_limit().unwrap().service, "leases");
    assert_eq!(client.rate_limit_for("leases").unwrap().buckets.len(), 2);
    assert_eq!(client.rate_limit_for("status").unwrap().buckets.len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_bucket_slows_the_next_call() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/status");
            then.status(200)
                .header("x-ratelimit-limit", "6/minute")
                .header("x-ratelimit-remaining", "0/minute")
                .header("x-ratelimit-reset", "1")
                .body(fixture("get_status.json"));
        })
        .await;
    let client = common::builder(&server)
        .retry_policy(RetryPolicy::never().with_max_retry_after(Duration::from_millis(300)))
        .build()
        .unwrap();
    client.get_status().await.unwrap();
    let started = std::time::Instant::now();
    client.get_status().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );
    mock.assert_calls_async(2).await;
}

fn callers_client() -> entrata_client::reqwest::Client {
    use entrata_client::reqwest;
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
async fn the_callers_http_client_sends_the_requests() {
    let server = MockServer::start_async().await;
    let mock = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/api/v1/status")
                .header("authorization", basic_header())
                .header("user-agent", "acme-door-sync/2.1")
                .header("x-caller", "door-sync");
            then.status(200).body(fixture("get_status.json"));
        })
        .await;
    let client = common::builder(&server)
        .http_client(callers_client())
        .build()
        .unwrap();
    assert!(client.get_status().await.unwrap().is_up());
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_http_client_that_may_follow_redirects_is_refused() {
    let server = MockServer::start_async().await;
    let err = common::builder(&server)
        .http_client(entrata_client::reqwest::Client::new())
        .build()
        .unwrap_err();
    assert!(matches!(err, Error::Config(_)), "{err:?}");
    assert!(err.to_string().contains("Policy::none()"), "{err}");
}

#[tokio::test]
async fn the_request_timeout_applies_to_the_callers_http_client() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/status");
            then.status(200)
                .body(fixture("get_status.json"))
                .delay(Duration::from_secs(5));
        })
        .await;
    let client = common::builder(&server)
        .http_client(callers_client())
        .request_timeout(Duration::from_millis(200))
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let started = std::time::Instant::now();
    let err = client.get_status().await.unwrap_err();
    assert!(matches!(err, Error::Transport { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

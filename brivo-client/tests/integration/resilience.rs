use std::time::{Duration, Instant};

use brivo_client::{Error, RetryPolicy, UserId};
use httpmock::Method::GET;

use crate::common::*;

async fn flaky(
    status: u16,
    headers: &[(&'static str, &'static str)],
    body: &'static str,
) -> (httpmock::MockServer, brivo_client::Client) {
    let (server, client) = server().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/users/1");
            let mut then = then.status(status).body(body).up_to_n_times(1);
            for (k, v) in headers {
                then = then.header(*k, *v);
            }
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/users/1");
            json(then, 200, fixture("user_created.json"));
        })
        .await;
    (server, client)
}

#[tokio::test]
async fn a_429_then_success() {
    let (_server, client) = flaky(429, &[("retry-after", "0")], "").await;
    client.get_user(UserId(1)).await.unwrap();
    let calls = client.calls();
    assert_eq!((calls.calls, calls.retries, calls.throttled), (3, 1, 1));
}

#[tokio::test]
async fn retry_after_is_honoured() {
    let (server, _) = flaky(429, &[("retry-after", "1")], "").await;
    let client = builder(&server)
        .retry_policy(
            RetryPolicy::default()
                .with_backoff(Duration::from_millis(1), Duration::from_millis(5))
                .with_max_retry_after(Duration::from_secs(5)),
        )
        .build()
        .unwrap();
    client.authenticate().await.unwrap();
    let start = Instant::now();
    client.get_user(UserId(1)).await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn a_403_over_qps_is_throttling_then_success() {
    let (_server, client) = flaky(
        403,
        &[
            ("x-mashery-error-code", "ERR_403_DEVELOPER_OVER_QPS"),
            ("retry-after", "0"),
        ],
        "<h1>Developer Over Qps</h1>",
    )
    .await;
    client.get_user(UserId(1)).await.unwrap();
    assert_eq!(client.calls().throttled, 1);
}

#[tokio::test]
async fn a_503_then_success() {
    let (_server, client) = flaky(
        503,
        &[],
        r#"{"code":503,"message":"dependent service down"}"#,
    )
    .await;
    client.get_user(UserId(1)).await.unwrap();
    assert_eq!(client.calls().retries, 1);
}

#[tokio::test]
async fn a_400_is_not_retried() {
    let (server, client) = flaky(
        400,
        &[],
        r#"{"code":400,"message":"Invalid criteria provided"}"#,
    )
    .await;
    let err = client.get_user(UserId(1)).await.unwrap_err();
    assert!(
        matches!(&err, Error::Api { status: 400, message: Some(m), .. } if m == "Invalid criteria provided")
    );
    assert!(!err.is_retryable());
    assert_eq!(client.calls().retries, 0);
    drop(server);
}

#[tokio::test]
async fn a_403_over_rate_is_the_quota_and_not_retried() {
    let (_server, client) = flaky(403, &[], "<h1>Developer Over Rate</h1>").await;
    let err = client.get_user(UserId(1)).await.unwrap_err();
    assert!(
        matches!(err, Error::QuotaExceeded { method: "get_user" }),
        "{err:?}"
    );
    assert_eq!(client.calls().calls, 2, "token + one attempt");
}

#[tokio::test]
async fn persistent_5xx_gives_up_after_the_policy() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.path("/v1/api/users/1");
            json(then, 500, r#"{"status":500,"error":"Internal Server Error","message":"boom","path":"/v1/api/users/1"}"#);
        })
        .await;
    let err = client.get_user(UserId(1)).await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert!(err.is_retryable());
    mock.assert_calls_async(3).await;
}

#[tokio::test]
async fn persistent_throttling_is_reported_as_throttled() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.path("/v1/api/users/1");
            then.status(429).header("retry-after", "0");
        })
        .await;
    let err = client.get_user(UserId(1)).await.unwrap_err();
    assert!(
        matches!(err, Error::Throttled { status: 429, .. }),
        "{err:?}"
    );
    mock.assert_calls_async(3).await;
}

#[tokio::test]
async fn a_596_names_the_path_not_the_html() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.path("/v1/api/users/1");
            then.status(596)
                .header("content-type", "text/html")
                .body("<html><body><h1>596 Service Not Found</h1></body></html>");
        })
        .await;
    let err = client.get_user(UserId(1)).await.unwrap_err();
    match &err {
        Error::ServiceNotFound { path, .. } => assert_eq!(path, "/v1/api/users/1"),
        other => panic!("{other:?}"),
    }
    let shown = err.to_string();
    assert!(
        shown.contains("/v1/api/users/1") && !shown.contains("<h1>"),
        "{shown}"
    );
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_permission_403_is_final() {
    let (server, client) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.path("/v1/api/users/1");
            json(
                then,
                403,
                r#"{"code":403,"message":"You are not allowed to perform that action"}"#,
            );
        })
        .await;
    let err = client.get_user(UserId(1)).await.unwrap_err();
    assert!(matches!(err, Error::Api { status: 403, .. }), "{err:?}");
    mock.assert_calls_async(1).await;
}

#[tokio::test]
async fn an_undecodable_answer_names_the_method_and_path() {
    let (server, client) = server().await;
    server
        .mock_async(|when, then| {
            when.path("/v1/api/users/1");
            json(
                then,
                200,
                r#"{"id":1,"firstName":"a","lastName":"b","created":"31/12/2020"}"#,
            );
        })
        .await;
    let err = client.get_user(UserId(1)).await.unwrap_err();
    match &err {
        Error::Decode { method, path, .. } => {
            assert_eq!(*method, "get_user");
            assert_eq!(path, "created");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        std::error::Error::source(&err).is_some(),
        "the source chain is kept"
    );
}

#[tokio::test]
async fn a_connection_failure_is_a_retryable_transport_error() {
    // nothing listens on a port just released
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let client = brivo_client::Client::builder(credentials())
        .base_url(url)
        .retry_policy(fast_retries())
        .build()
        .unwrap();
    let err = client.get_user(UserId(1)).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::Transport {
                maybe_applied: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert_eq!(
        client.calls().calls,
        3,
        "the token request was retried three times"
    );
}

#[tokio::test]
async fn the_call_budget_stops_calls_before_they_are_sent() {
    let (server, _) = server().await;
    let mock = server
        .mock_async(|when, then| {
            when.path("/v1/api/users/1");
            json(then, 200, fixture("user_created.json"));
        })
        .await;
    let client = builder(&server).calls_per_30_days(3).build().unwrap();
    assert_eq!(client.remaining_budget(), Some(3));
    client.get_user(UserId(1)).await.unwrap();
    client.get_user(UserId(1)).await.unwrap();
    assert_eq!(client.remaining_budget(), Some(0));
    let err = client.get_user(UserId(1)).await.unwrap_err();
    assert!(
        matches!(
            err,
            Error::CallBudgetExhausted {
                budget: 3,
                used: 3,
                ..
            }
        ),
        "{err:?}"
    );
    mock.assert_calls_async(2).await;
    assert_eq!(client.calls().calls, 3);
}

#[tokio::test]
async fn the_rate_limiter_spaces_calls() {
    let (server, _) = server().await;
    server
        .mock_async(|when, then| {
            when.path("/v1/api/users/1");
            json(then, 200, fixture("user_created.json"));
        })
        .await;
    let client = builder(&server).rate_limit(20.0, 1).build().unwrap();
    let start = Instant::now();
    for _ in 0..3 {
        client.get_user(UserId(1)).await.unwrap();
    }
    // token + 3 calls at 20/s: at least 150 ms
    assert!(
        start.elapsed() >= Duration::from_millis(150),
        "{:?}",
        start.elapsed()
    );
}

use std::time::Duration;

use brivo_client::{Error, UserId};
use httpmock::Method::{GET, POST};
use httpmock::MockServer;

use crate::common::*;

fn token_body(access: &str, refresh: &str, expires_in: u64) -> String {
    format!(
        r#"{{"access_token":"{access}","token_type":"bearer","refresh_token":"{refresh}","expires_in":{expires_in},"scope":"brivo.api"}}"#
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_calls_with_an_expired_token_make_one_token_request() {
    let server = MockServer::start_async().await;
    // the first token lives one second (refreshed 200 ms early)
    let password = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .form_urlencoded_tuple("grant_type", "password");
            json(then, 200, token_body("access-1", "refresh-1", 1));
        })
        .await;
    let refresh = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .header("authorization", BASIC)
                .header("api-key", API_KEY)
                .form_urlencoded_tuple("grant_type", "refresh_token")
                .form_urlencoded_tuple("refresh_token", "refresh-1");
            // a slow token endpoint makes the race real
            json(then, 200, token_body("access-2", "refresh-2", 300))
                .delay(Duration::from_millis(100));
        })
        .await;
    let old = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1/api/users/1")
                .header("authorization", "Bearer access-1");
            json(then, 200, fixture("user_created.json"));
        })
        .await;
    let new = server
        .mock_async(|when, then| {
            when.method(GET)
                .path("/v1/api/users/1")
                .header("authorization", "Bearer access-2")
                .header("api-key", API_KEY);
            json(then, 200, fixture("user_created.json"));
        })
        .await;
    let client = client(&server);
    client.get_user(UserId(1)).await.unwrap();
    // now the token has expired
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let calls: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get_user(UserId(1)).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    password.assert_calls_async(1).await;
    refresh.assert_calls_async(1).await;
    old.assert_calls_async(1).await;
    new.assert_calls_async(50).await;
    assert_eq!(client.calls().calls, 1 + 1 + 1 + 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_401s_renew_the_token_once_and_replay_each_call_once() {
    let server = MockServer::start_async().await;
    let password = password_grant(&server).await;
    let refresh = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .form_urlencoded_tuple("grant_type", "refresh_token")
                .form_urlencoded_tuple("refresh_token", REFRESH);
            json(then, 200, token_body("access-2", "refresh-2", 300))
                .delay(Duration::from_millis(50));
        })
        .await;
    let refused = server
        .mock_async(|when, then| {
            when.path("/v1/api/users/1").header("authorization", BEARER);
            // slow, so that all fifty calls hold the old token before any is refused
            json(
                then,
                401,
                r#"{"error":"invalid_token","error_description":"Access token expired"}"#,
            )
            .delay(Duration::from_millis(200));
        })
        .await;
    let accepted = server
        .mock_async(|when, then| {
            when.path("/v1/api/users/1")
                .header("authorization", "Bearer access-2");
            json(then, 200, fixture("user_created.json"));
        })
        .await;
    let client = client(&server);
    let calls: Vec<_> = (0..50)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get_user(UserId(1)).await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    password.assert_calls_async(1).await;
    refresh.assert_calls_async(1).await;
    refused.assert_calls_async(50).await;
    accepted.assert_calls_async(50).await;
}

#[tokio::test]
async fn a_failed_refresh_falls_back_to_the_password_grant() {
    let server = MockServer::start_async().await;
    let password = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .form_urlencoded_tuple("grant_type", "password")
                .form_urlencoded_tuple("username", USERNAME)
                .form_urlencoded_tuple("password", PASSWORD);
            json(then, 200, token_body(ACCESS, REFRESH, 1));
        })
        .await;
    let refresh = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .form_urlencoded_tuple("grant_type", "refresh_token");
            json(
                then,
                400,
                r#"{"error":"invalid_grant","error_description":"Invalid refresh token"}"#,
            );
        })
        .await;
    let api = server
        .mock_async(|when, then| {
            when.path("/v1/api/users/1").header("authorization", BEARER);
            json(then, 200, fixture("user_created.json"));
        })
        .await;
    let client = client(&server);
    client.get_user(UserId(1)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(900)).await;
    client.get_user(UserId(1)).await.unwrap();
    password.assert_calls_async(2).await;
    refresh.assert_calls_async(1).await;
    api.assert_calls_async(2).await;
}

#[tokio::test]
async fn a_token_is_reused_while_fresh() {
    let (server, client) = server().await;
    let api = server
        .mock_async(|when, then| {
            when.path("/v1/api/users/1")
                .header("authorization", BEARER)
                .header("api-key", API_KEY)
                .header("user-agent", brivo_client::USER_AGENT)
                .header("accept", "application/json");
            json(then, 200, fixture("user_created.json"));
        })
        .await;
    assert!(brivo_client::USER_AGENT.starts_with("brivo-client/"));
    for _ in 0..3 {
        client.get_user(UserId(1)).await.unwrap();
    }
    api.assert_calls_async(3).await;
    assert_eq!(client.calls().calls, 4, "one token request, three calls");
}

#[tokio::test]
async fn bad_credentials_are_an_auth_error_and_not_retried() {
    let server = MockServer::start_async().await;
    let token = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            json(
                then,
                400,
                r#"{"error":"invalid_grant","error_description":"Bad credentials"}"#,
            );
        })
        .await;
    let api = server
        .mock_async(|when, then| {
            when.path_prefix("/v1/api");
            json(then, 200, "{}");
        })
        .await;
    let client = client(&server);
    let err = client.get_user(UserId(1)).await.unwrap_err();
    match &err {
        Error::Auth {
            method,
            status,
            error,
            description,
        } => {
            assert_eq!(*method, "get_user");
            assert_eq!(*status, 400);
            assert_eq!(error.as_deref(), Some("invalid_grant"));
            assert_eq!(description.as_deref(), Some("Bad credentials"));
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("administrator id"), "{err}");
    token.assert_calls_async(1).await;
    api.assert_calls_async(0).await;
}

#[tokio::test]
async fn a_bad_basic_header_is_an_auth_error_too() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            json(
                then,
                401,
                r#"{"status":401,"error":"Unauthorized","message":"Bad credentials","path":"/oauth/token"}"#,
            );
        })
        .await;
    let err = client(&server).authenticate().await.unwrap_err();
    assert!(matches!(err, Error::Auth { status: 401, .. }), "{err:?}");
    assert_eq!(err.brivo_message(), Some("Bad credentials"));
}

#[tokio::test]
async fn an_inactive_api_key_on_the_token_call_is_reported_as_such() {
    let server = MockServer::start_async().await;
    let token = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(403)
                .header("content-type", "text/html")
                .body("<h1>Developer Inactive</h1>");
        })
        .await;
    let err = client(&server).authenticate().await.unwrap_err();
    assert!(matches!(err, Error::ApiKeyInactive { .. }), "{err:?}");
    token.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_token_endpoint_5xx_is_retried() {
    let server = MockServer::start_async().await;
    let down = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            json(then, 503, r#"{"code":503,"message":"auth down"}"#).up_to_n_times(1);
        })
        .await;
    let up = password_grant(&server).await;
    client(&server).authenticate().await.unwrap();
    down.assert_calls_async(1).await;
    up.assert_calls_async(1).await;
}

#[tokio::test]
async fn a_persistent_401_fails_after_one_renewal() {
    let (server, client) = server().await;
    let refresh = server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .form_urlencoded_tuple("grant_type", "refresh_token");
            json(then, 200, token_body(ACCESS, REFRESH, 300));
        })
        .await;
    let api = server
        .mock_async(|when, then| {
            when.path("/v1/api/users/1");
            json(then, 401, r#"{"error":"invalid_token"}"#);
        })
        .await;
    let err = client.get_user(UserId(1)).await.unwrap_err();
    assert!(
        matches!(&err, Error::Unauthorized { error: Some(e), .. } if e == "invalid_token"),
        "{err:?}"
    );
    assert!(!err.is_retryable());
    api.assert_calls_async(2).await;
    refresh.assert_calls_async(1).await;
}

#[tokio::test]
async fn the_token_endpoint_defaults_to_the_base_url_origin_or_the_auth_url() {
    let api_server = MockServer::start_async().await;
    let auth_server = MockServer::start_async().await;
    let token = password_grant(&auth_server).await;
    let api = api_server
        .mock_async(|when, then| {
            when.path("/v1/api/users/1").header("authorization", BEARER);
            json(then, 200, fixture("user_created.json"));
        })
        .await;
    let client = builder(&api_server)
        .auth_url(auth_server.base_url())
        .build()
        .unwrap();
    client.get_user(UserId(1)).await.unwrap();
    token.assert_calls_async(1).await;
    api.assert_calls_async(1).await;
}

#[test]
fn insecure_or_malformed_urls_are_refused_at_build() {
    let build = |url: &str| {
        brivo_client::Client::builder(credentials())
            .base_url(url)
            .build()
    };
    assert!(matches!(
        build("http://api.brivo.example/v1/api"),
        Err(Error::InsecureBaseUrl(_))
    ));
    assert!(matches!(build("not a url"), Err(Error::Config { .. })));
    assert!(matches!(
        build("https://user:pw@api.brivo.com/v1/api"),
        Err(Error::Config { .. })
    ));
    assert!(build("http://localhost:9/").is_ok());
    let client = brivo_client::Client::builder(credentials())
        .region(brivo_client::Region::Eu)
        .build()
        .unwrap();
    assert_eq!(
        client.api_base_url().as_str(),
        "https://api.eu.brivo.com/v1/api"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_calls_refused_credentials_cause_one_token_request() {
    let server = MockServer::start_async().await;
    let token = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            json(
                then,
                401,
                r#"{"error":"invalid_grant","error_description":"Bad credentials"}"#,
            )
            .delay(Duration::from_millis(100));
        })
        .await;
    let client = client(&server);
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.get_user(UserId(1)).await })
        })
        .collect();
    for call in calls {
        let err = call.await.unwrap().unwrap_err();
        assert!(matches!(err, Error::Auth { status: 401, .. }), "{err:?}");
    }
    token.assert_calls_async(1).await;
    // a later call asks again: the credentials may have been fixed
    assert!(client.authenticate().await.is_err());
    token.assert_calls_async(2).await;
}

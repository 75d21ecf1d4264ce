//! A hostile or broken upstream: redirects, absurd numbers, huge bodies,
//! echoed secrets, a persistent 401.

use brivo_client::{Error, GroupId, UserId};
use httpmock::Method::{GET, POST, PUT};
use httpmock::MockServer;

use crate::common::*;

/// A second host that must never be reached, and its catch-all mock.
macro_rules! evil {
    ($evil:ident, $catch_all:ident) => {
        let $evil = MockServer::start_async().await;
        let $catch_all = $evil
            .mock_async(|_when, then| {
                then.status(200);
            })
            .await;
    };
}

#[tokio::test]
async fn a_redirect_from_the_token_endpoint_is_not_followed() {
    evil!(evil, catch_all);
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(307)
                .header("location", evil.url("/oauth/token"));
        })
        .await;
    let err = client(&server).get_user(UserId(1)).await.unwrap_err();
    assert!(
        matches!(err, Error::Redirected { status: 307, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.contains("HTTP 307") && text.contains("127.0.0.1"),
        "{text}"
    );
    assert_eq!(
        catch_all.calls_async().await,
        0,
        "the password grant was re-sent"
    );
}

#[tokio::test]
async fn a_redirect_from_an_api_call_is_not_followed() {
    evil!(evil, catch_all);
    let (server, client) = server().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/users/1");
            then.status(302).header("location", evil.url("/steal"));
        })
        .await;
    let err = client.get_user(UserId(1)).await.unwrap_err();
    assert!(
        matches!(err, Error::Redirected { status: 302, .. }),
        "{err:?}"
    );
    assert_eq!(catch_all.calls_async().await, 0, "the api-key was re-sent");
}

#[tokio::test]
async fn a_persistent_401_costs_a_bounded_number_of_token_requests() {
    let server = MockServer::start_async().await;
    let grants = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            json(
                then,
                200,
                r#"{"access_token":"a-token-1234","token_type":"bearer","expires_in":300}"#,
            );
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/users/1");
            json(then, 401, r#"{"error":"invalid_token"}"#);
        })
        .await;
    let client = client(&server);
    let mut last = None;
    for _ in 0..20 {
        last = Some(client.get_user(UserId(1)).await.unwrap_err());
    }
    assert!(
        grants.calls_async().await <= 3,
        "{}",
        grants.calls_async().await
    );
    let last = last.unwrap();
    assert!(matches!(last, Error::AuthBlocked { .. }), "{last:?}");
    let text = last.to_string();
    assert!(
        text.contains("authentication keeps failing") && text.contains("check the credentials"),
        "{text}"
    );
}

#[tokio::test]
async fn refused_credentials_stop_password_grants_after_three() {
    let server = MockServer::start_async().await;
    let grants = server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            json(
                then,
                400,
                r#"{"error":"invalid_grant","error_description":"Bad credentials"}"#,
            );
        })
        .await;
    let client = client(&server);
    for _ in 0..20 {
        assert!(client.get_user(UserId(1)).await.is_err());
    }
    assert_eq!(grants.calls_async().await, 3);
}

#[tokio::test]
async fn absurd_numbers_from_the_server_do_not_panic() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            json(
                then,
                200,
                r#"{"access_token":"a-token-1234","token_type":"bearer","expires_in":18446744073709551615}"#,
            );
        })
        .await;
    let throttled = server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/users/1");
            json(then, 429, "{}").header("retry-after", "1e30");
        })
        .await;
    let err = client(&server).get_user(UserId(1)).await.unwrap_err();
    assert!(matches!(err, Error::Throttled { .. }), "{err:?}");
    assert_eq!(
        throttled.calls_async().await,
        3,
        "retried within the policy"
    );
}

#[tokio::test]
async fn a_huge_error_body_is_cut_before_it_is_processed() {
    let (server, client) = server().await;
    let huge = format!(r#"{{"message":"{}"}}"#, "A".repeat(8 * 1024 * 1024));
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/users/1");
            json(then, 400, huge);
        })
        .await;
    let err = client.get_user(UserId(1)).await.unwrap_err();
    assert!(err.to_string().len() < 2000, "{}", err.to_string().len());
}

#[tokio::test]
async fn a_membership_put_without_payload_still_says_json() {
    let (server, client) = server().await;
    let put = server
        .mock_async(|when, then| {
            when.method(PUT)
                .path("/v1/api/groups/7/users/9")
                .header("content-type", "application/json")
                .body("{}");
            then.status(204);
        })
        .await;
    client
        .add_group_member(GroupId(7), UserId(9))
        .await
        .unwrap();
    assert_eq!(put.calls_async().await, 1);
}

#[tokio::test]
async fn an_api_error_echoing_the_secrets_shows_none() {
    let (server, client) = server().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/users/1");
            json(
                then,
                400,
                format!(
                    r#"{{"message":"api-key {API_KEY} with Authorization: Bearer {ACCESS} and password={PASSWORD}"}}"#
                ),
            );
        })
        .await;
    let err = client.get_user(UserId(1)).await.unwrap_err();
    let shown = format!("{err} {err:?}");
    for secret in [API_KEY, ACCESS] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert!(!shown.contains("p@ss"), "{shown}");
}

#[test]
fn antipassback_reset_time_may_be_a_number_or_a_string() {
    for (body, want) in [
        (
            r#"{"id":1,"name":"Staff","antipassbackResetTime":1399}"#,
            "1399",
        ),
        (
            r#"{"id":1,"name":"Staff","antipassbackResetTime":"23:59"}"#,
            "23:59",
        ),
    ] {
        let g: brivo_client::Group = serde_json::from_str(body).unwrap();
        assert_eq!(g.antipassback_reset_time.as_deref(), Some(want));
    }
}

#[tokio::test]
async fn absurd_builder_values_do_not_panic() {
    let (server, _) = server().await;
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/users/1");
            json(then, 200, fixture("user_created.json"));
        })
        .await;
    let client = builder(&server)
        .rate_limit(1e-300, u32::MAX)
        .calls_per_30_days(u64::MAX)
        .build()
        .unwrap();
    // the first call of a burst goes at once, whatever the rate
    client.get_user(UserId(1)).await.unwrap();
}

use std::time::Duration;

use brivo_client::{Client, ClientBuilder, Credentials, RetryPolicy};
use httpmock::Method::POST;
use httpmock::{Mock, MockServer};
use secrecy::SecretString;

// Distinctive values, so a leak is easy to find in logs and Debug output.
pub(crate) const API_KEY: &str = "api-key-5f2b0e";
pub(crate) const CLIENT_ID: &str = "client-id-8c1d";
pub(crate) const CLIENT_SECRET: &str = "client-secret-77aa";
pub(crate) const USERNAME: &str = "admin-id-4411";
pub(crate) const PASSWORD: &str = "p@ss w0rd&=%";
/// base64("client-id-8c1d:client-secret-77aa")
pub(crate) const BASIC: &str = "Basic Y2xpZW50LWlkLThjMWQ6Y2xpZW50LXNlY3JldC03N2Fh";
/// The access token of `fixtures/token.json`.
pub(crate) const ACCESS: &str = "access-token-e3f1";
pub(crate) const REFRESH: &str = "refresh-token-9b0c";
pub(crate) const BEARER: &str = "Bearer access-token-e3f1";

pub(crate) fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub(crate) fn credentials() -> Credentials {
    Credentials::password(
        SecretString::from(API_KEY),
        SecretString::from(CLIENT_ID),
        SecretString::from(CLIENT_SECRET),
        SecretString::from(USERNAME),
        SecretString::from(PASSWORD),
    )
}

/// A fast retry policy: tiny backoff, `Retry-After` capped at 20 ms.
pub(crate) fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .with_max_retry_after(Duration::from_millis(20))
}

pub(crate) fn builder(server: &MockServer) -> ClientBuilder {
    Client::builder(credentials())
        .base_url(server.base_url())
        .retry_policy(fast_retries())
        .no_rate_limit()
        .timeout(Duration::from_secs(5))
}

pub(crate) fn client(server: &MockServer) -> Client {
    builder(server).build().unwrap()
}

/// The password grant, answered with `fixtures/token.json`.
pub(crate) async fn password_grant(server: &MockServer) -> Mock<'_> {
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .header("authorization", BASIC)
                .header("api-key", API_KEY)
                .header("content-type", "application/x-www-form-urlencoded")
                .form_urlencoded_tuple("grant_type", "password")
                .form_urlencoded_tuple("username", USERNAME)
                .form_urlencoded_tuple("password", PASSWORD);
            then.status(200)
                .header("content-type", "application/json")
                .body(fixture("token.json"));
        })
        .await
}

/// A server with the password grant mocked.
pub(crate) async fn server() -> (MockServer, Client) {
    let server = MockServer::start_async().await;
    password_grant(&server).await;
    let client = client(&server);
    (server, client)
}

pub(crate) fn json(then: httpmock::Then, status: u16, body: impl AsRef<[u8]>) -> httpmock::Then {
    then.status(status)
        .header("content-type", "application/json")
        .body(body)
}

//! Shared helpers for the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use httpmock::prelude::*;
use officernd_client::{Client, ClientBuilder, RetryPolicy};
use secrecy::SecretString;

pub const SLUG: &str = "acme";
pub const CLIENT_ID: &str = "client-123";
pub const SECRET: &str = "s3cr3t-client-secret-value";
/// The token in `fixtures/token.json`.
pub const TOKEN: &str = "tok-AAAA-first-access-token";
pub const API: &str = "/api/v2/organizations/acme";

pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Retries with tiny backoff so tests run in milliseconds.
pub fn fast_policy() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_backoff(Duration::from_millis(1), Duration::from_millis(5))
}

pub fn builder(server: &MockServer) -> ClientBuilder {
    Client::builder(SLUG, CLIENT_ID, SecretString::from(SECRET))
        .api_url(server.url("/api/v2"))
        .token_url(server.url("/oauth/token"))
        .retry_policy(fast_policy())
        .no_rate_limit()
}

pub fn client(server: &MockServer) -> Client {
    builder(server).build().expect("client builds")
}

/// The token endpoint, answering `fixtures/token.json` to a well-formed
/// client-credentials request.
pub async fn token_mock(server: &MockServer) -> httpmock::Mock<'_> {
    server
        .mock_async(|when, then| {
            when.method(POST)
                .path("/oauth/token")
                .header("content-type", "application/x-www-form-urlencoded")
                .form_urlencoded_tuple("grant_type", "client_credentials")
                .form_urlencoded_tuple("client_id", CLIENT_ID)
                .form_urlencoded_tuple("client_secret", SECRET)
                .form_urlencoded_tuple_exists("scope");
            then.status(200)
                .header("content-type", "application/json; charset=utf-8")
                .body(fixture("token.json"));
        })
        .await
}

/// A GET of `path` (under the org) with the fixture token, answering `body`.
pub async fn get_mock<'a>(server: &'a MockServer, path: &str, body: String) -> httpmock::Mock<'a> {
    let full = format!("{API}{path}");
    server
        .mock_async(move |when, then| {
            when.method(GET)
                .path(full)
                .header("authorization", format!("Bearer {TOKEN}"));
            then.status(200)
                .header("content-type", "application/json; charset=utf-8")
                .body(body);
        })
        .await
}

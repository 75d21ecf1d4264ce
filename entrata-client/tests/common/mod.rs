//! Shared test helpers: a mock server, a client pointed at it with a tiny
//! backoff, and the recorded-shape fixtures.
#![allow(dead_code, unreachable_pub)]

use std::time::Duration;

use entrata_client::{Client, ClientBuilder, Credentials, RetryPolicy};
use httpmock::MockServer;

pub const USER: &str = "api-user";
pub const PASSWORD: &str = "hunter2-s3cr3t-pw";
pub const API_KEY: &str = "key-0f9e8d7c6b5a-SECRET";

pub fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

pub fn fast_retries() -> RetryPolicy {
    RetryPolicy::default()
        .with_max_attempts(3)
        .with_backoff(Duration::from_millis(1), Duration::from_millis(5))
        .with_max_retry_after(Duration::from_millis(20))
}

pub fn builder(server: &MockServer) -> ClientBuilder {
    Client::builder(
        &server.url("/api/v1"),
        Credentials::basic(USER, PASSWORD.to_owned()),
    )
    .retry_policy(fast_retries())
    .request_timeout(Duration::from_secs(10))
}

pub fn client(server: &MockServer) -> Client {
    builder(server).build().expect("client builds")
}

/// `Basic base64("api-user:hunter2-s3cr3t-pw")`.
pub fn basic_header() -> &'static str {
    "Basic YXBpLXVzZXI6aHVudGVyMi1zM2NyM3QtcHc="
}

//! No secret appears in any `Debug` or `Display` output or log line, at
//! TRACE level, through successful calls, retries and errors. In its own
//! test binary so that the global subscriber sees every event.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{API_KEY, PASSWORD, basic_header, fixture};
use entrata_client::{Client, Credentials, LeasesRequest, PropertyId};
use httpmock::prelude::*;

/// A `tracing` writer that keeps everything in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_secret_in_any_debug_display_or_log_line() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        // everything at TRACE, the client's dependencies (reqwest, hyper)
        // included; only the mock server's own logs (it prints the requests
        // it receives, as a real server's access log might) are left out
        .with_env_filter("trace,httpmock=off")
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/status");
            then.status(503).body("busy").up_to_n_times(1);
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/status");
            then.status(200).body(fixture("get_status.json"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/leases");
            then.status(200).body(fixture("error_113.json"));
        })
        .await;
    let basic = common::builder(&server);
    let client = basic.clone().build().unwrap();
    client.get_status().await.unwrap();
    let err = client
        .get_leases_page(&LeasesRequest::new(PropertyId(1)), 1)
        .await
        .unwrap_err();
    let gateway = Client::builder_gateway("acme", API_KEY.to_owned());
    let gw_client = gateway.clone().build().unwrap();
    let insecure = Client::builder(
        "http://example.com/api/v1",
        Credentials::basic("u", PASSWORD.to_owned()),
    )
    .build()
    .unwrap_err();
    let with_creds_in_url = Client::builder(
        &format!("https://u:{PASSWORD}@x.entrata.com/api/v1"),
        Credentials::basic("u", "p"),
    )
    .build()
    .unwrap_err();
    let bad_key = Client::builder_gateway("acme", format!("{API_KEY}\n"))
        .build()
        .unwrap_err();

    let mut shown = String::new();
    for text in [
        format!("{basic:?}"),
        format!("{:?}", basic.config()),
        format!("{client:?}"),
        format!("{:?}", client.config()),
        format!("{:?}", client.config().credentials),
        format!("{gateway:?}"),
        format!("{gw_client:?}"),
        format!("{:?}", gw_client.config().credentials),
        format!("{err:?} {err}"),
        format!("{insecure:?} {insecure}"),
        format!("{with_creds_in_url:?} {with_creds_in_url}"),
        format!("{bad_key:?} {bad_key}"),
    ] {
        shown.push_str(&text);
        shown.push('\n');
    }
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(logged.contains("getStatus"), "the capture works: {logged}");
    assert!(logged.contains("retrying"), "{logged}");
    for secret in [PASSWORD, API_KEY, &basic_header()[6..]] {
        assert!(!shown.contains(secret), "secret in Debug/Display:\n{shown}");
        assert!(!logged.contains(secret), "secret in logs:\n{logged}");
    }
    assert!(shown.contains("REDACTED"));
}

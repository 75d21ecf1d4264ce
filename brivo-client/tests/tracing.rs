//! At INFO, each call is one `http_request` span with OpenTelemetry-style
//! fields, and its retries and closing event are logged inside it.
//!
//! A test binary of its own: tracing caches whether a callsite is enabled,
//! and a test without a subscriber on another thread of the same binary
//! could register these callsites as disabled.
#![allow(clippy::unwrap_used)]

#[allow(dead_code)]
#[path = "integration/common.rs"]
mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use brivo_client::UserId;
use httpmock::Method::GET;
use tracing_subscriber::fmt::MakeWriter;

use common::*;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Gets user 1 after `failures` answers of 503, logging at INFO.
async fn logged_get_user(failures: usize) -> String {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("info,httpmock=off")
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let (server, client) = server().await;
    if failures > 0 {
        server
            .mock_async(|when, then| {
                when.method(GET).path("/v1/api/users/1");
                then.status(503).body("down").up_to_n_times(failures);
            })
            .await;
    }
    server
        .mock_async(|when, then| {
            when.method(GET).path("/v1/api/users/1");
            json(then, 200, fixture("user_created.json"));
        })
        .await;
    client.get_user(UserId(1)).await.unwrap();
    String::from_utf8(capture.0.lock().unwrap().clone()).unwrap()
}

fn line<'a>(logs: &'a str, needles: &[&str]) -> &'a str {
    logs.lines()
        .find(|l| needles.iter().all(|n| l.contains(n)))
        .unwrap_or_else(|| panic!("no line with {needles:?} in:\n{logs}"))
}

const SPAN: &[&str] = &[
    "http_request{",
    "otel.name=brivo.get_user",
    "otel.kind=\"client\"",
    "service=\"brivo\"",
    "operation=\"get_user\"",
    "http.request.method=\"GET\"",
    "server.address=\"127.0.0.1\"",
    "url.path=\"/v1/api/users/1\"",
];

#[tokio::test]
async fn a_call_is_one_info_span_closed_by_an_event() {
    let logs = logged_get_user(0).await;
    let done = line(&logs, &["request done"]);
    let done = &done[done.find("request done").unwrap()..];
    for field in ["http.response.status_code=200", "attempts=1", "elapsed_ms="] {
        assert!(done.contains(field), "{field} in {done}");
    }
    let mut with_span = SPAN.to_vec();
    with_span.extend(["INFO", "request done", "attempt=1"]);
    line(&logs, &with_span);
    // the token request is a span of its own
    line(&logs, &["otel.name=brivo.oauth_token", "request done"]);
    assert!(!logs.contains("DEBUG"), "{logs}");
}

#[tokio::test]
async fn a_retried_call_logs_the_retry_inside_its_span() {
    let logs = logged_get_user(1).await;
    let mut retrying = SPAN.to_vec();
    retrying.extend([
        " INFO ",
        "retrying attempt=1 http.response.status_code=503",
        "wait_ms=",
        "error=get_user: Brivo answered HTTP 503",
    ]);
    line(&logs, &retrying);
    let mut done = SPAN.to_vec();
    done.extend([
        "attempt=2 http.response.status_code=200",
        "request done http.response.status_code=200 attempts=2",
    ]);
    line(&logs, &done);
    assert_eq!(logs.matches("request done").count(), 2, "{logs}");
}

//! At INFO, each call is one `http_request` span with OpenTelemetry-style
//! fields, its retries and its closing event logged inside it.
//!
//! A test binary of its own: tracing caches whether a callsite is enabled,
//! and a test without a subscriber on another thread of the same binary
//! could register these callsites as disabled.
#![allow(clippy::unwrap_used)]

mod common;

use common::{client, fixture};
use httpmock::prelude::*;

#[derive(Clone, Default)]
struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// `getStatus` after `failures` answers of 503, logged at INFO.
async fn logged_get_status(failures: usize) -> String {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("info,httpmock=off")
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let server = MockServer::start_async().await;
    if failures > 0 {
        server
            .mock_async(|when, then| {
                when.method(POST).path("/api/v1/status");
                then.status(503).body("down").up_to_n_times(failures);
            })
            .await;
    }
    server
        .mock_async(|when, then| {
            when.method(POST).path("/api/v1/status");
            then.status(200).body(fixture("get_status.json"));
        })
        .await;
    assert!(client(&server).get_status().await.unwrap().is_up());
    String::from_utf8(capture.0.lock().unwrap().clone()).unwrap()
}

fn log_line<'a>(logs: &'a str, needles: &[&str]) -> &'a str {
    logs.lines()
        .find(|l| needles.iter().all(|n| l.contains(n)))
        .unwrap_or_else(|| panic!("no line with {needles:?} in:\n{logs}"))
}

const SPAN: &[&str] = &[
    "http_request{",
    "otel.name=entrata.getStatus",
    "service=\"entrata\"",
    "operation=\"getStatus\"",
    "http.request.method=\"POST\"",
    "server.address=\"127.0.0.1\"",
    "url.path=\"/api/v1/status\"",
];

#[tokio::test]
async fn a_call_is_one_info_span_closed_by_an_event() {
    let logs = logged_get_status(0).await;
    let mut done = SPAN.to_vec();
    done.extend([
        " INFO ",
        "attempt=1 http.response.status_code=200",
        "request done http.response.status_code=200 attempts=1 elapsed_ms=",
    ]);
    log_line(&logs, &done);
    assert_eq!(logs.lines().count(), 1, "one line at INFO:\n{logs}");
}

#[tokio::test]
async fn a_retried_call_logs_the_retry_inside_its_span() {
    let logs = logged_get_status(1).await;
    let mut retrying = SPAN.to_vec();
    retrying.extend([
        " INFO ",
        "retrying attempt=1 http.response.status_code=503 wait_ms=",
    ]);
    log_line(&logs, &retrying);
    let mut done = SPAN.to_vec();
    done.extend(["request done http.response.status_code=200 attempts=2"]);
    log_line(&logs, &done);
}

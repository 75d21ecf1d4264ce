//! At INFO, each call is one `http_request` span with OpenTelemetry-style
//! fields, its retries and its closing event logged inside it.
//!
//! A test binary of its own: tracing caches whether a callsite is enabled,
//! and a test without a subscriber on another thread of the same binary
//! could register these callsites as disabled.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::*;
use httpmock::prelude::*;
use officernd_client::models::MemberId;

#[derive(Clone, Default)]
struct Capture(Arc<std::sync::Mutex<Vec<u8>>>);

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

const MEMBER: &str = "603dfbc260f4054084125d33";

/// `get_member` after `failures` answers of 503, logged at INFO.
async fn logged_get_member(failures: usize) -> String {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("info,httpmock=off")
        .with_writer(capture.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let server = MockServer::start_async().await;
    token_mock(&server).await;
    if failures > 0 {
        server
            .mock_async(|when, then| {
                when.method(GET).path(format!("{API}/members/{MEMBER}"));
                then.status(503).body("down").up_to_n_times(failures);
            })
            .await;
    }
    get_mock(
        &server,
        &format!("/members/{MEMBER}"),
        fixture("member.json"),
    )
    .await;
    client(&server)
        .get_member(&MemberId::new(MEMBER))
        .await
        .unwrap();
    String::from_utf8(capture.0.lock().unwrap().clone()).unwrap()
}

fn log_line<'a>(logs: &'a str, needles: &[&str]) -> &'a str {
    logs.lines()
        .find(|l| needles.iter().all(|n| l.contains(n)))
        .unwrap_or_else(|| panic!("no line with {needles:?} in:\n{logs}"))
}

const SPAN: &[&str] = &[
    "http_request{",
    "otel.name=officernd.get_member",
    "service=\"officernd\"",
    "operation=\"get_member\"",
    "http.request.method=\"GET\"",
    "server.address=\"127.0.0.1\"",
];

#[tokio::test]
async fn a_call_is_one_info_span_closed_by_an_event() {
    let logs = logged_get_member(0).await;
    let mut done = SPAN.to_vec();
    done.extend([
        " INFO ",
        "attempt=1 http.response.status_code=200",
        "request done http.response.status_code=200 attempts=1 elapsed_ms=",
    ]);
    log_line(&logs, &done);
    // the token request: its own span, inside the call that needed it
    log_line(
        &logs,
        &[
            "otel.name=officernd.get_member",
            "otel.name=officernd.oauth_token",
            "request done http.response.status_code=200 attempts=1",
        ],
    );
}

#[tokio::test]
async fn a_retried_call_logs_the_retry_inside_its_span() {
    let logs = logged_get_member(1).await;
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

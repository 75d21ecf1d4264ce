//! No secret (client secret, access token, webhook secret) appears in any
//! `Debug` or `Display` output, nor in any log line at TRACE level.

#![allow(clippy::unwrap_used)] // test code: a panic is a failure

mod common;

use std::io::Write;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use httpmock::prelude::*;
use httpmock::{HttpMockRequest, HttpMockResponse};
use officernd_client::query::*;
use officernd_client::webhook::{WebhookVerifier, sign};
use officernd_client::{Client, RetryPolicy};
use secrecy::SecretString;

const WEBHOOK_SECRET: &str = "whsec-never-print-me-0123456789";
const SECOND_TOKEN: &str = "tok-BBBB-second-access-token";

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

fn assert_clean(what: &str, text: &str) {
    for secret in [SECRET, TOKEN, SECOND_TOKEN, WEBHOOK_SECRET] {
        assert!(!text.contains(secret), "{what} leaks `{secret}`:\n{text}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn no_secret_in_debug_display_or_logs() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer({
            let logs = logs.clone();
            move || logs.clone()
        })
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start_async().await;
    // tokens: the first is refused once (401), the second works
    let fetches = Arc::new(AtomicU32::new(0));
    server
        .mock_async({
            let fetches = fetches.clone();
            move |when, then| {
                when.method(POST).path("/oauth/token");
                then.respond_with(move |_req: &HttpMockRequest| {
                    let token = if fetches.fetch_add(1, Ordering::SeqCst) == 0 {
                        TOKEN
                    } else {
                        SECOND_TOKEN
                    };
                    HttpMockResponse::builder()
                        .status(200)
                        .header("content-type", "application/json")
                        .body(format!(
                            r#"{{"access_token":"{token}","token_type":"Bearer","expires_in":3599}}"#
                        ))
                        .build()
                });
            }
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/plans"))
                .header("authorization", format!("Bearer {TOKEN}"));
            then.status(401).body(fixture("error_401.json"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(format!("{API}/plans"))
                .header("authorization", format!("Bearer {SECOND_TOKEN}"));
            then.status(200).body(fixture("plans.json"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{API}/members"));
            then.status(429)
                .header("retry-after", "0")
                .body(fixture("error_429.json"));
        })
        .await;
    server
        .mock_async(|when, then| {
            when.method(GET).path(format!("{API}/passes"));
            then.status(401).body(fixture("error_401.json"));
        })
        .await;

    let builder = builder(&server);
    let client = builder.clone().build().unwrap();
    let mut shown = vec![format!("{builder:?}"), format!("{client:?}")];

    // success after a re-auth, a throttled failure, a scope failure
    client.list_plans().collect_all().await.unwrap();
    let errors = [
        client
            .list_members(MembersQuery::new())
            .collect_all()
            .await
            .unwrap_err(),
        client
            .list_passes(PassesQuery::new())
            .collect_all()
            .await
            .unwrap_err(),
    ];
    // a refused token request, with the secret in its form body
    let refusing = MockServer::start_async().await;
    refusing
        .mock_async(|when, then| {
            when.method(POST).path("/oauth/token");
            then.status(401).body(r#"{"error":"invalid_client"}"#);
        })
        .await;
    let refused = Client::builder(SLUG, CLIENT_ID, SecretString::from(SECRET))
        .api_url(refusing.url("/api/v2"))
        .token_url(refusing.url("/oauth/token"))
        .retry_policy(RetryPolicy::never())
        .build()
        .unwrap();
    let auth_error = refused.list_plans().collect_all().await.unwrap_err();

    let verifier = WebhookVerifier::new(SecretString::from(WEBHOOK_SECRET));
    let body = fixture("webhook_membership_updated.json");
    let header = sign(WEBHOOK_SECRET.as_bytes(), body.as_bytes(), 1);
    let webhook_error = verifier.verify(&header, body.as_bytes()).unwrap_err();
    let mismatch = verifier
        .verify("t=1,signature=00", body.as_bytes())
        .unwrap_err();

    shown.push(format!("{verifier:?}"));
    shown.push(format!("{:?}", client.list_plans()));
    for e in errors
        .iter()
        .chain([&auth_error, &webhook_error, &mismatch])
    {
        shown.push(format!("{e:?}"));
        shown.push(format!("{e}"));
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            shown.push(format!("{s} {s:?}"));
            source = s.source();
        }
    }
    for text in &shown {
        assert_clean("Debug/Display", text);
    }

    let logs = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    // the capture works: calls, statuses and the re-auth were logged
    assert!(logs.contains("officernd.list_plans"), "{logs}");
    assert!(logs.contains("officernd.oauth_token"), "{logs}");
    assert!(logs.contains("list_plans"), "{logs}");
    assert!(logs.contains("401"), "{logs}");
    assert_clean("logs", &logs);
}

//! A hostile upstream that echoes every request (credentials included) into its error
//! bodies: nothing of it may reach the runner's report, its errors or its audit log.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use access_sync::MemoryAudit;
use base64::Engine as _;
use sandbox::{Fault, Sandbox, story};

fn secrets(sb: &Sandbox) -> Vec<String> {
    let c = sb.credentials();
    let b64 = |user: &str, pass: &str| {
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
    };
    vec![
        c.brivo_api_key.clone(),
        c.brivo_client_secret.clone(),
        c.brivo_password.clone(),
        b64(&c.brivo_client_id, &c.brivo_client_secret),
        c.entrata_password.clone(),
        b64(&c.entrata_username, &c.entrata_password),
        c.officernd_client_secret.clone(),
        // sandbox access and refresh tokens all start so
        "sbx-".to_owned(),
    ]
}

#[tokio::test]
async fn an_echoed_secret_never_reaches_the_report_the_errors_or_the_audit() {
    let sb = common::start().await;
    let audit = Arc::new(MemoryAudit::new());
    let syncer = common::syncer(&sb).audit_arc(audit.clone()).build();
    let now = story::instants()[0].1;
    let echo = Fault::EchoRequest {
        times: 1_000,
        status: 400,
    };

    // Run 1: both sources echo; Brivo answers. The sources fail, nothing is revoked.
    sb.faults().entrata(echo.clone()).officernd(echo.clone());
    let first = syncer.sync_once(now).await;
    sb.faults().clear();
    // Run 2: Brivo echoes; a fresh runner, so its token request echoes too.
    let syncer = common::syncer(&sb).audit_arc(audit.clone()).build();
    sb.faults().brivo(echo);
    let second = syncer.sync_once(now).await;
    sb.faults().clear();

    let shown = format!(
        "{first:?} {second:?} {}",
        serde_json::to_string(&audit.records()).unwrap()
    );
    // the echoes did reach the runner
    assert!(shown.contains("debug:"), "{shown}");
    for secret in secrets(&sb) {
        assert!(!shown.contains(&secret), "{secret:?} reached: {shown}");
    }
}

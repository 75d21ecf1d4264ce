//! The config file against the sandbox's services: what it names reaches
//! them (here, OfficeRnD's scopes in the token request). Not in the
//! published package: the sandbox is not published.
#![allow(clippy::unwrap_used)] // helpers of tests

use access_sync::config::SyncConfig;
use serde_json::{Value, json};

fn parse(v: &Value) -> SyncConfig {
    SyncConfig::from_json(&v.to_string()).unwrap()
}

/// The configured scopes are what the token request asks for: the sandbox's
/// application was not granted the made-up one, and its refusal names it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn officernd_scopes_from_the_config_reach_the_token_request() {
    let sb = sandbox::Sandbox::start(sandbox::Seed::sample())
        .await
        .unwrap();
    let c = sb.credentials().clone();
    let officernd = |scopes: Value| {
        json!({
            "brivo": { "base_url": sb.brivo_api_url(), "auth_url": sb.brivo_auth_url() },
            "officernd": { "org": c.officernd_org, "client_id": c.officernd_client_id,
                           "api_url": format!("{}/api/v2", sb.officernd_base_url()),
                           "token_url": format!("{}/oauth/token", sb.officernd_identity_url()),
                           "scopes": scopes },
        })
    };
    let env = |name: &str| -> Option<String> {
        Some(match name {
            "OFFICERND_CLIENT_SECRET" => c.officernd_client_secret.clone(),
            _ => "unused".to_owned(),
        })
    };
    let fetch_error = |v: Value| async move {
        let syncer = parse(&v).build(env).unwrap();
        let (_, reports) = syncer.fetch(chrono::Utc::now()).await;
        let report = reports.iter().find(|r| r.name == "officernd").unwrap();
        report
            .all_errors()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    };
    let refused = fetch_error(officernd(json!(["flex.made.up.read"]))).await;
    assert!(
        refused.iter().any(|e| e.contains("flex.made.up.read")),
        "{refused:?}"
    );
    let granted = fetch_error(officernd(json!(officernd_client::config::SYNC_SCOPES))).await;
    assert!(granted.is_empty(), "{granted:?}");
}

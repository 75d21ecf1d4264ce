//! The three real clients, pointed at a sandbox, with fast retries.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::time::Duration;

use sandbox::Sandbox;
use secrecy::SecretString;

pub fn secret(s: &str) -> SecretString {
    SecretString::from(s.to_owned())
}

/// Every secret the sandbox accepts, plus the Basic-auth encodings that carry them.
pub fn secrets(sb: &Sandbox) -> Vec<String> {
    use base64::Engine as _;
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
        c.entrata_api_key.clone(),
        b64(&c.entrata_username, &c.entrata_password),
        c.officernd_client_secret.clone(),
    ]
}

pub fn brivo(sb: &Sandbox) -> brivo_client::Client {
    let c = sb.credentials();
    brivo_client::Client::builder(brivo_client::Credentials::password(
        secret(&c.brivo_api_key),
        secret(&c.brivo_client_id),
        secret(&c.brivo_client_secret),
        secret(&c.brivo_username),
        secret(&c.brivo_password),
    ))
    .base_url(sb.brivo_api_url())
    .auth_url(sb.brivo_auth_url())
    .rate_limit(1000.0, 100)
    .retry_policy(
        brivo_client::RetryPolicy::default()
            .with_backoff(Duration::from_millis(5), Duration::from_millis(20))
            .with_max_retry_after(Duration::from_millis(50)),
    )
    .timeout(Duration::from_secs(10))
    .build()
    .unwrap()
}

pub fn entrata(sb: &Sandbox) -> entrata_client::Client {
    let c = sb.credentials();
    entrata_client::Client::builder(
        &format!("{}/", sb.entrata_api_url()),
        entrata_client::Credentials::basic(c.entrata_username.clone(), secret(&c.entrata_password)),
    )
    .rate_limit(1000.0, 100)
    .retry_policy(
        entrata_client::RetryPolicy::default()
            .with_backoff(Duration::from_millis(5), Duration::from_millis(20))
            .with_max_retry_after(Duration::from_millis(50)),
    )
    .build()
    .unwrap()
}

pub fn entrata_gateway(sb: &Sandbox) -> entrata_client::Client {
    let c = sb.credentials();
    entrata_client::Client::builder(
        &format!("{}/", sb.entrata_gateway_url()),
        entrata_client::Credentials::api_key(secret(&c.entrata_api_key)),
    )
    .rate_limit(1000.0, 100)
    .build()
    .unwrap()
}

pub fn officernd(sb: &Sandbox) -> officernd_client::Client {
    let c = sb.credentials();
    officernd_client::Client::builder(
        c.officernd_org.clone(),
        c.officernd_client_id.clone(),
        secret(&c.officernd_client_secret),
    )
    .api_url(format!("{}/api/v2", sb.officernd_base_url()))
    .token_url(format!("{}/oauth/token", sb.officernd_identity_url()))
    .rate_limit(1000.0, 100)
    .retry_policy(
        officernd_client::RetryPolicy::default()
            .with_backoff(Duration::from_millis(5), Duration::from_millis(20))
            .with_max_retry_after(Duration::from_millis(50)),
    )
    .build()
    .unwrap()
}

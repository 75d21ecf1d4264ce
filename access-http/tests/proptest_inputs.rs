//! Property-based fuzzing of what every client takes from a server or a caller:
//! `Retry-After`, token lifetimes, redirect targets, rates and backoffs, and the
//! redaction applied to every error text. None may panic; every result is bounded.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use access_http::{
    MAX_RETRY_AFTER, MAX_TOKEN_LIFETIME, REDACTED, RateLimiter, RetryPolicy, describe_redirect,
    redact, retry_after_at, token_lifetime,
};
use chrono::{TimeZone, Utc};
use http::{HeaderMap, HeaderValue, header};
use proptest::prelude::*;

fn headers(name: header::HeaderName, value: &[u8]) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_bytes(value) {
        h.insert(name, v);
    }
    h
}

/// Numbers, dates and junk, as a `Retry-After` value could arrive.
fn retry_after_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| f.to_string()),
        "[0-9]{1,40}",
        "[0-9]{0,5}\\.[0-9]{0,5}(e[+-]?[0-9]{1,4})?",
        (0i64..=253_402_300_799).prop_map(|s| {
            Utc.timestamp_opt(s, 0)
                .unwrap()
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string()
        }),
        "\\PC{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn retry_after_never_panics_and_is_capped(text in retry_after_text(), now in 0i64..4_102_444_800) {
        let now = Utc.timestamp_opt(now, 0).unwrap();
        let h = headers(header::RETRY_AFTER, text.as_bytes());
        if let Some(wait) = retry_after_at(&h, now) {
            prop_assert!(wait <= MAX_RETRY_AFTER, "{text:?} gave {wait:?}");
        }
    }

    #[test]
    fn retry_after_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let h = headers(header::RETRY_AFTER, &bytes);
        let _ = retry_after_at(&h, Utc::now());
    }

    #[test]
    fn token_lifetimes_are_capped(expires_in in prop::option::of(any::<u64>()), default in any::<u64>()) {
        let got = token_lifetime(expires_in, Duration::from_secs(default));
        prop_assert!(got <= MAX_TOKEN_LIFETIME);
    }

    #[test]
    fn redirect_targets_never_panic(location in prop::collection::vec(any::<u8>(), 0..120), status in any::<u16>()) {
        let h = headers(header::LOCATION, &location);
        let text = describe_redirect(status, &h);
        prop_assert!(text.contains(&status.to_string()));
    }

    #[test]
    fn rates_and_backoffs_never_panic(
        per_second in any::<f64>(),
        burst in any::<u32>(),
        initial in any::<u64>(),
        max in any::<u64>(),
        attempts in any::<u32>(),
        retry in any::<u32>(),
    ) {
        let limiter = RateLimiter::new(per_second, burst);
        let _ = limiter.per_second();
        limiter.pause_for(Duration::from_millis(initial));
        let policy = RetryPolicy::default()
            .with_max_attempts(attempts)
            .with_backoff(Duration::from_millis(initial), Duration::from_millis(max))
            .with_max_retry_after(Duration::from_secs(max));
        let _ = policy.backoff(retry);
    }

    /// Whatever surrounds it, a configured secret never survives redaction. Secrets are
    /// lowercase words, as real keys are, so none can be spelled by `[REDACTED]` itself.
    #[test]
    fn a_secret_never_survives_redaction(
        before in "\\PC{0,60}",
        after in "\\PC{0,60}",
        secret in "[a-z0-9]{4,24}",
        copies in 1usize..4,
    ) {
        let text = format!("{before}{}{after}", secret.repeat(copies));
        let out = redact(&text, &[secret.as_str()]);
        prop_assert!(!out.contains(&secret), "{text:?} -> {out:?}");
        prop_assert!(out.contains(REDACTED));
    }

    /// Secret-looking keys are redacted in forms, JSON and headers whatever the value.
    #[test]
    fn values_of_secret_keys_are_redacted(
        key in prop::sample::select(vec!["client_secret", "password", "refresh_token", "access_token", "api_key", "x-api-key"]),
        value in "[a-zA-Z0-9]{8,32}",
    ) {
        for text in [
            format!("grant_type=password&{key}={value}&scope=x"),
            format!(r#"{{"{key}": "{value}", "other": 1}}"#),
            format!("{key}: {value}"),
        ] {
            let out = redact(&text, &[]);
            prop_assert!(!out.contains(&value), "{text:?} -> {out:?}");
        }
    }

    #[test]
    fn redaction_of_any_text_never_panics(text in "\\PC{0,200}", secrets in prop::collection::vec("\\PC{0,12}", 0..4)) {
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let _ = redact(&text, &secrets);
    }
}

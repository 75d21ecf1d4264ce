//! HTTP plumbing shared by the `entrata-client`, `brivo-client` and
//! `officernd-client` crates: the parts every well-behaved API client needs
//! and that are easy to get subtly wrong.
//!
//! - [`RetryPolicy`] and [`Pacer`]: retry with full-jitter exponential backoff,
//!   a cap on attempts and on total time, `Retry-After` honoured (but capped),
//!   and the decision whether to retry left to the caller's error type
//!   ([`Retryable`]), because only the client knows which of its operations
//!   are idempotent.
//! - [`RateLimiter`]: a GCRA token bucket that keeps a client under a
//!   configured budget and lets one throttled call pause every caller.
//! - [`CallStats`]: counts calls, retries and throttled answers, so a sync can
//!   report the calls it made (Brivo plans cap calls per 30 days).
//! - [`TokenCache`]: a single-flight, refresh-before-expiry token cache with
//!   generation-checked invalidation, so fifty concurrent calls holding an
//!   expired token cause exactly one token request. Its [`AuthBreaker`]
//!   (also used on its own by clients without tokens) stops sending
//!   credentials that were refused again and again.
//! - [`check_base_url`]: HTTPS only, unless the host is loopback (sandbox,
//!   tests).
//! - [`retry_after`]: parses `Retry-After` as seconds or an HTTP date (all
//!   three forms), clamped.
//! - [`read_body`] / [`read_body_truncated`]: response bodies read with a
//!   cap; [`redirect_policy`] / [`describe_redirect`]: redirects are never
//!   followed; [`redact`]: one redaction of secrets for every client's error
//!   text, and [`redact_decode`] / [`DecodeError`] for decoders' messages,
//!   which quote the values they refused.
//! - [`build_http_client`] / [`check_http_client`]: the `reqwest::Client` a
//!   client builds for itself (TLS backend from the `rustls` / `native-tls`
//!   features), and the check that a caller's own client never follows
//!   redirects; [`followed_redirect`] catches one that did anyway.
//!
//! # Tracing
//!
//! [`Pacer::run`] traces each call of a client method as **one span at
//! `INFO`**, named `http_request`, that covers every attempt, the waits
//! between them and the rate limiter's waits. Its fields follow
//! OpenTelemetry's HTTP client conventions where one exists:
//!
//! | field | value |
//! |---|---|
//! | `otel.name` | `<service>.<operation>`, e.g. `brivo.get_user` |
//! | `otel.kind` | `client` |
//! | `otel.status_code` | `OK` or `ERROR`, at the end |
//! | `service` | `brivo`, `entrata` or `officernd` |
//! | `operation` | the client method, e.g. `get_user`, `getLeases`, `list_members` |
//! | `http.request.method` | `GET`, `POST`, … |
//! | `server.address` | the host called |
//! | `url.path` | the path called (never the query, which can carry names) |
//! | `http.response.status_code` | the last answer's status, if any (recorded at the end) |
//! | `attempt` | the attempts made (recorded at the end) |
//! | `elapsed_ms` | the whole call, retries and waits included (recorded at the end) |
//!
//! Inside the span: `INFO` `retrying` (`attempt`, `http.response.status_code`,
//! `wait_ms`, `error`) before each retry, `WARN` `giving up` (`attempts`,
//! `http.response.status_code`, `error`) when the policy is spent, and a
//! closing `INFO` event, `request done` or `request failed`, with
//! `http.response.status_code`, `attempts`, `elapsed_ms` (and `error`).
//! `error` is the error's message with its `source()` chain. OAuth token
//! requests are spans of their own (operation `oauth_token`), inside the
//! call that needed the token when it was fetched during an attempt. No
//! field holds a credential, a token, a request or response body, or a
//! query string; error messages are redacted by the clients before they get
//! here. The clients add `DEBUG` events of their own inside the span.
//!
//! Everything waits on `tokio::time`, so tests can run retries and rate limits
//! instantly under `#[tokio::test(start_paused = true)]`.
//!
//! ```
//! use std::time::Duration;
//! use access_http::{CallInfo, Pacer, RateLimiter, RetryDecision, RetryPolicy, Retryable};
//!
//! #[derive(Debug)]
//! struct Busy;
//! impl Retryable for Busy {
//!     fn retry_decision(&self) -> RetryDecision {
//!         RetryDecision::RetryAfter(Duration::from_millis(10))
//!     }
//! }
//! impl std::fmt::Display for Busy {
//!     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
//!         f.write_str("busy")
//!     }
//! }
//! impl std::error::Error for Busy {}
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let pacer = Pacer::new(RetryPolicy::default(), RateLimiter::new(10.0, 5)).with_service("entrata");
//! let mut failures = 2;
//! let answer = pacer
//!     .run(CallInfo::new("getStatus", "POST"), |attempt| {
//!         attempt.record_status(if failures > 0 { 429 } else { 200 });
//!         let fail = failures > 0;
//!         failures -= 1;
//!         async move { if fail { Err(Busy) } else { Ok("ok") } }
//!     })
//!     .await;
//! assert_eq!(answer.unwrap(), "ok");
//! assert_eq!(pacer.stats().snapshot().retries, 2);
//! # });
//! ```
#![warn(missing_docs)]

mod base_url;
mod body;
mod breaker;
mod http_client;
mod limiter;
mod redact;
mod retry;
mod stats;
mod token;

pub use base_url::{InsecureBaseUrl, check_base_url};
pub use body::{
    BodyError, ERROR_BODY_LIMIT, TOKEN_BODY_LIMIT, describe_redirect, read_body,
    read_body_truncated, redirect_policy,
};
pub use breaker::{AuthBlocked, AuthBreaker};
pub use http_client::{
    HttpClientError, TLS_BACKEND, build_http_client, check_http_client, followed_redirect,
};
pub use limiter::RateLimiter;
pub use redact::{DecodeError, REDACTED, redact, redact_decode};
pub use retry::{
    Attempt, CallInfo, MAX_RETRY_AFTER, Pacer, RetryDecision, RetryPolicy, Retryable, retry_after,
    retry_after_at,
};
pub use stats::{CallSnapshot, CallStats};
pub use token::{CachedToken, MAX_TOKEN_LIFETIME, TokenCache, token_lifetime};

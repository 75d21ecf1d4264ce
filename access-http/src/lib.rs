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
//!   expired token cause exactly one token request.
//! - [`check_base_url`]: HTTPS only, unless the host is loopback (sandbox,
//!   tests).
//! - [`retry_after`]: parses `Retry-After` as seconds or an HTTP date (all
//!   three forms), clamped.
//! - [`read_body`] / [`read_body_truncated`]: response bodies read with a
//!   cap; [`redirect_policy`] / [`describe_redirect`]: redirects are never
//!   followed; [`redact`]: one redaction of secrets for every client's error
//!   text.
//! - [`build_http_client`] / [`check_http_client`]: the `reqwest::Client` a
//!   client builds for itself (TLS backend from the `rustls` / `native-tls`
//!   features), and the check that a caller's own client never follows
//!   redirects; [`followed_redirect`] catches one that did anyway.
//!
//! Everything waits on `tokio::time`, so tests can run retries and rate limits
//! instantly under `#[tokio::test(start_paused = true)]`.
//!
//! ```
//! use std::time::Duration;
//! use access_http::{Pacer, RateLimiter, RetryDecision, RetryPolicy, Retryable};
//!
//! #[derive(Debug)]
//! struct Busy;
//! impl Retryable for Busy {
//!     fn retry_decision(&self) -> RetryDecision {
//!         RetryDecision::RetryAfter(Duration::from_millis(10))
//!     }
//! }
//!
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! let pacer = Pacer::new(RetryPolicy::default(), RateLimiter::new(10.0, 5));
//! let mut failures = 2;
//! let answer = pacer
//!     .run("getStatus", |_attempt| {
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
pub use http_client::{
    HttpClientError, TLS_BACKEND, build_http_client, check_http_client, followed_redirect,
};
pub use limiter::RateLimiter;
pub use redact::{REDACTED, redact};
pub use retry::{
    MAX_RETRY_AFTER, Pacer, RetryDecision, RetryPolicy, Retryable, retry_after, retry_after_at,
};
pub use stats::{CallSnapshot, CallStats};
pub use token::{AuthBlocked, CachedToken, MAX_TOKEN_LIFETIME, TokenCache, token_lifetime};

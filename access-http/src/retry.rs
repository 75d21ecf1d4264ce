use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use http::HeaderMap;
use tokio::time::Instant;
use tracing::Instrument;

use crate::{CallStats, RateLimiter};

/// What a failed attempt tells the retry loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryDecision {
    /// Final: a 4xx other than throttling, a decode error, bad credentials.
    DoNotRetry,
    /// Transient (5xx, connection error): retry after the policy's backoff.
    Retry,
    /// Throttled: retry after at least this long (the server's `Retry-After`,
    /// capped by [`RetryPolicy::max_retry_after`]); every other call on the
    /// client is paused too.
    RetryAfter(Duration),
    /// Throttled without a hint: retry after the policy's backoff, pausing
    /// every other call on the client for as long.
    Throttled,
}

/// Implemented by a client's error type: which failures are worth another
/// attempt.
///
/// Idempotency is the implementer's business: a connection error after a
/// non-idempotent request was sent may have taken effect, so such an error
/// should say [`RetryDecision::DoNotRetry`] unless the operation is safe to
/// repeat.
pub trait Retryable {
    /// How the retry loop should treat this failure.
    fn retry_decision(&self) -> RetryDecision;
}

/// How many times, and how patiently, to retry.
///
/// Backoff is "full jitter" exponential: before retry `n` (from 1) the wait
/// is uniform in `[0, min(max_backoff, initial_backoff * 2^(n-1))]`, which
/// spreads out clients that failed together. A server's `Retry-After` is a
/// floor on the wait, capped at `max_retry_after`.
///
/// ```
/// use std::time::Duration;
/// use access_http::RetryPolicy;
///
/// let policy = RetryPolicy::default()
///     .with_max_attempts(6)
///     .with_max_elapsed(Duration::from_secs(30));
/// assert_eq!(policy.max_attempts, 6);
/// assert!(policy.backoff(3) <= Duration::from_millis(800));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included; `1` disables retries.
    pub max_attempts: u32,
    /// The backoff ceiling before the first retry.
    pub initial_backoff: Duration,
    /// The largest backoff ceiling.
    pub max_backoff: Duration,
    /// The longest `Retry-After` honoured; a longer one is cut to this.
    pub max_retry_after: Duration,
    /// No retry starts later than this after the first attempt.
    pub max_elapsed: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(20),
            max_retry_after: Duration::from_secs(60),
            max_elapsed: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn never() -> Self {
        Self::default().with_max_attempts(1)
    }

    /// Sets [`max_attempts`](Self::max_attempts) (at least 1).
    pub fn with_max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// Sets [`initial_backoff`](Self::initial_backoff) and [`max_backoff`](Self::max_backoff).
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }

    /// Sets [`max_retry_after`](Self::max_retry_after), at most
    /// [`MAX_RETRY_AFTER`] (a day).
    pub fn with_max_retry_after(mut self, cap: Duration) -> Self {
        self.max_retry_after = cap.min(MAX_RETRY_AFTER);
        self
    }

    /// Sets [`max_elapsed`](Self::max_elapsed).
    pub fn with_max_elapsed(mut self, budget: Duration) -> Self {
        self.max_elapsed = budget;
        self
    }

    /// A jittered wait before retry number `retry` (1 for the first retry).
    pub fn backoff(&self, retry: u32) -> Duration {
        let doubling = 2u32.saturating_pow(retry.saturating_sub(1));
        let ceiling = self
            .initial_backoff
            .saturating_mul(doubling)
            .min(self.max_backoff);
        // try_: a policy with a huge max_backoff must not panic here
        Duration::try_from_secs_f64(ceiling.as_secs_f64() * fastrand::f64()).unwrap_or(ceiling)
    }

    /// The wait before retry number `retry` after a failure with `decision`,
    /// or `None` if the failure is final.
    fn wait(&self, decision: RetryDecision, retry: u32) -> Option<Duration> {
        match decision {
            RetryDecision::DoNotRetry => None,
            RetryDecision::Retry | RetryDecision::Throttled => Some(self.backoff(retry)),
            RetryDecision::RetryAfter(hint) => {
                Some(hint.min(self.max_retry_after).max(self.backoff(retry)))
            }
        }
    }
}

/// The longest wait any `Retry-After` is read as, before the policy's own
/// cap ([`RetryPolicy::max_retry_after`]) applies: a day.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Parses a `Retry-After` header: delay-seconds or an HTTP date in any of
/// the three forms HTTP allows (IMF-fixdate, RFC 850, asctime).
///
/// Returns `None` when the header is absent or unreadable (negative, not a
/// number, not a date). Any value is clamped to [`MAX_RETRY_AFTER`], so a
/// hostile `Retry-After: 1e30` cannot overflow anything.
///
/// ```
/// use std::time::Duration;
/// use access_http::retry_after;
/// use http::{HeaderMap, HeaderValue};
///
/// let mut headers = HeaderMap::new();
/// headers.insert("retry-after", HeaderValue::from_static("7"));
/// assert_eq!(retry_after(&headers), Some(Duration::from_secs(7)));
/// ```
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    retry_after_at(headers, Utc::now())
}

/// [`retry_after`] with an explicit clock, for an HTTP-date value.
pub fn retry_after_at(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let wait = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else if let Ok(secs) = value.parse::<f64>() {
        if secs.is_nan() || secs < 0.0 {
            return None; // negative or NaN
        }
        // +inf and 1e30 do not fit a Duration: clamp instead of panicking
        Duration::try_from_secs_f64(secs).unwrap_or(MAX_RETRY_AFTER)
    } else {
        let at: DateTime<Utc> = httpdate::parse_http_date(value).ok()?.into();
        (at - now).to_std().unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// What a paced call is, for its tracing span (see the crate docs,
/// "Tracing"): the client method, the HTTP method, and optionally the URL,
/// of which only the host and the path are recorded (never the query).
///
/// ```
/// use access_http::CallInfo;
///
/// let url = url::Url::parse("https://api.example.test/v1/users?filter=x").unwrap();
/// let call = CallInfo::new("list_users", "GET").url(&url);
/// assert_eq!(call.operation(), "list_users");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CallInfo<'a> {
    operation: &'a str,
    method: &'a str,
    url: Option<&'a url::Url>,
}

impl<'a> CallInfo<'a> {
    /// A call of client method `operation` with HTTP method `method`.
    pub fn new(operation: &'a str, method: &'a str) -> Self {
        Self {
            operation,
            method,
            url: None,
        }
    }

    /// The URL called: its host becomes `server.address` and its path
    /// `url.path`. The query, which may carry user data, is left out.
    pub fn url(mut self, url: &'a url::Url) -> Self {
        self.url = Some(url);
        self
    }

    /// The client method.
    pub fn operation(&self) -> &'a str {
        self.operation
    }
}

/// One attempt of a paced call, handed to the attempt closure of
/// [`Pacer::run`]: its number, and where to record the HTTP status the
/// attempt got.
#[derive(Debug, Clone)]
pub struct Attempt {
    number: u32,
    status: Arc<AtomicU16>,
}

impl Attempt {
    /// The attempt's number, from 1.
    pub fn number(&self) -> u32 {
        self.number
    }

    /// Records the HTTP status of the answer, for the `retrying` event, the
    /// closing event and the call's span (`http.response.status_code`).
    /// Call it for every answer, errors included; the last one recorded
    /// wins.
    pub fn record_status(&self, status: u16) {
        self.status.store(status, Ordering::Relaxed);
    }
}

/// Formats an error with its `source()` chain: `outer: inner: innermost`.
struct Chain<'a>(&'a dyn std::error::Error);

impl std::fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(s) = source {
            write!(f, ": {s}")?;
            source = s.source();
        }
        Ok(())
    }
}

/// Paces a client's calls: waits for the [`RateLimiter`], counts each
/// attempt in [`CallStats`], retries failures as their [`Retryable`]
/// classification and the [`RetryPolicy`] allow, and traces each call as
/// one span (see the crate docs, "Tracing").
///
/// Cheap to clone; clones share the limiter and the counters.
#[derive(Debug, Clone)]
pub struct Pacer {
    service: &'static str,
    policy: RetryPolicy,
    limiter: Arc<RateLimiter>,
    stats: Arc<CallStats>,
}

impl Pacer {
    /// A pacer with its own counters. Its spans say `service = "http"`
    /// until [`with_service`](Self::with_service) names the service.
    pub fn new(policy: RetryPolicy, limiter: RateLimiter) -> Self {
        Self {
            service: "http",
            policy,
            limiter: Arc::new(limiter),
            stats: Arc::default(),
        }
    }

    /// Names the remote service in the spans (`service`, `otel.name`),
    /// e.g. `"brivo"`.
    pub fn with_service(mut self, service: &'static str) -> Self {
        self.service = service;
        self
    }

    /// The service named in the spans.
    pub fn service(&self) -> &'static str {
        self.service
    }

    /// The retry policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// The rate limiter.
    pub fn limiter(&self) -> &RateLimiter {
        &self.limiter
    }

    /// The call counters.
    pub fn stats(&self) -> &CallStats {
        &self.stats
    }

    /// Runs `attempt` until it succeeds, fails for good, or the policy is
    /// spent; returns the last error then. `attempt` receives an
    /// [`Attempt`]: its number, from 1, and where to record the answer's
    /// HTTP status. The whole call, retries and their waits included, is one
    /// `INFO` span described by `call`.
    pub async fn run<T, E, F, Fut>(&self, call: CallInfo<'_>, attempt: F) -> Result<T, E>
    where
        E: Retryable + std::error::Error,
        F: FnMut(Attempt) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        self.traced(call, &self.policy, true, attempt).await
    }

    /// One attempt, never retried, paced, counted and traced like a
    /// [`run`](Self::run): for a request whose retries happen around it
    /// (an OAuth token fetched inside another call's attempt).
    pub async fn once<T, E, F, Fut>(&self, call: CallInfo<'_>, attempt: F) -> Result<T, E>
    where
        E: Retryable + std::error::Error,
        F: FnOnce(Attempt) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let mut attempt = Some(attempt);
        let never = RetryPolicy::never();
        self.traced(call, &never, false, move |a| {
            let f = attempt.take().expect("a single attempt");
            f(a)
        })
        .await
    }

    async fn traced<T, E, F, Fut>(
        &self,
        call: CallInfo<'_>,
        policy: &RetryPolicy,
        retries: bool,
        attempt: F,
    ) -> Result<T, E>
    where
        E: Retryable + std::error::Error,
        F: FnMut(Attempt) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let span = tracing::info_span!(
            "http_request",
            otel.name = %format_args!("{}.{}", self.service, call.operation),
            otel.kind = "client",
            otel.status_code = tracing::field::Empty,
            service = self.service,
            operation = call.operation,
            http.request.method = call.method,
            server.address = call.url.and_then(url::Url::host_str),
            url.path = call.url.map(url::Url::path),
            http.response.status_code = tracing::field::Empty,
            attempt = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        let status = Arc::new(AtomicU16::new(0));
        let started = Instant::now();
        let (result, attempts) = self
            .attempts(policy, retries, &status, attempt)
            .instrument(span.clone())
            .await;
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let status = Some(status.load(Ordering::Relaxed)).filter(|s| *s != 0);
        // recorded once, at the end: a formatting subscriber prints every
        // recording of a field, so per-attempt recordings would repeat
        span.record("attempt", attempts);
        if let Some(status) = status {
            span.record("http.response.status_code", status);
        }
        span.record("elapsed_ms", elapsed_ms);
        span.record(
            "otel.status_code",
            if result.is_ok() { "OK" } else { "ERROR" },
        );
        let _entered = span.enter();
        match &result {
            Ok(_) => tracing::info!(
                http.response.status_code = status,
                attempts,
                elapsed_ms,
                "request done"
            ),
            Err(error) => tracing::info!(
                http.response.status_code = status,
                attempts,
                elapsed_ms,
                error = %Chain(error),
                "request failed"
            ),
        }
        result
    }

    /// The retry loop; returns the result and the number of attempts made.
    async fn attempts<T, E, F, Fut>(
        &self,
        policy: &RetryPolicy,
        retries: bool,
        status: &Arc<AtomicU16>,
        mut attempt: F,
    ) -> (Result<T, E>, u32)
    where
        E: Retryable + std::error::Error,
        F: FnMut(Attempt) -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let started = Instant::now();
        let mut number = 1;
        loop {
            self.limiter.acquire().await;
            self.stats.record_call();
            let this = Attempt {
                number,
                status: Arc::clone(status),
            };
            let error = match attempt(this).await {
                Ok(value) => return (Ok(value), number),
                Err(error) => error,
            };
            let decision = error.retry_decision();
            let code = Some(status.load(Ordering::Relaxed)).filter(|s| *s != 0);
            if matches!(
                decision,
                RetryDecision::RetryAfter(_) | RetryDecision::Throttled
            ) {
                self.stats.record_throttled();
            }
            let Some(wait) = policy.wait(decision, number) else {
                return (Err(error), number);
            };
            if number >= policy.max_attempts
                || started.elapsed().saturating_add(wait) > policy.max_elapsed
            {
                if retries {
                    tracing::warn!(
                        attempts = number,
                        http.response.status_code = code,
                        error = %Chain(&error),
                        "giving up"
                    );
                }
                return (Err(error), number);
            }
            if !matches!(decision, RetryDecision::Retry) {
                self.limiter.pause_for(wait);
            }
            let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
            tracing::info!(
                attempt = number,
                http.response.status_code = code,
                wait_ms,
                error = %Chain(&error),
                "retrying"
            );
            tokio::time::sleep(wait).await;
            self.stats.record_retry();
            number += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use std::sync::atomic::AtomicU32;

    #[derive(Debug, Clone, Copy)]
    struct Fail(RetryDecision);
    impl Retryable for Fail {
        fn retry_decision(&self) -> RetryDecision {
            self.0
        }
    }
    impl std::fmt::Display for Fail {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "failed with {:?}", self.0)
        }
    }
    impl std::error::Error for Fail {}

    fn pacer(policy: RetryPolicy) -> Pacer {
        Pacer::new(policy, RateLimiter::unlimited())
    }

    /// Fails with `fail` for the first `failures` attempts, then succeeds.
    async fn flaky(p: &Pacer, failures: u32, fail: RetryDecision) -> (Result<u32, Fail>, u32) {
        let count = AtomicU32::new(0);
        let result = p
            .run(CallInfo::new("op", "GET"), |a| {
                count.fetch_add(1, Ordering::SeqCst);
                let n = a.number();
                async move {
                    if n <= failures {
                        Err(Fail(fail))
                    } else {
                        Ok(n)
                    }
                }
            })
            .await;
        (result, count.load(Ordering::SeqCst))
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_until_success() {
        let p = pacer(RetryPolicy::default());
        let (result, attempts) = flaky(&p, 3, RetryDecision::Retry).await;
        assert_eq!(result.unwrap(), 4);
        assert_eq!(attempts, 4);
        let s = p.stats().snapshot();
        assert_eq!((s.calls, s.retries, s.throttled), (4, 3, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn final_errors_are_not_retried() {
        let p = pacer(RetryPolicy::default());
        let (result, attempts) = flaky(&p, 3, RetryDecision::DoNotRetry).await;
        assert!(result.is_err());
        assert_eq!(attempts, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_are_capped() {
        let p = pacer(RetryPolicy::default().with_max_attempts(3));
        let (result, attempts) = flaky(&p, 10, RetryDecision::Retry).await;
        assert!(result.is_err());
        assert_eq!(attempts, 3);
        let (result, attempts) =
            flaky(&pacer(RetryPolicy::never()), 10, RetryDecision::Retry).await;
        assert!(result.is_err());
        assert_eq!(attempts, 1);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_a_floor_and_capped() {
        let p = pacer(RetryPolicy::default().with_max_retry_after(Duration::from_secs(10)));
        let start = Instant::now();
        let (result, _) = flaky(&p, 1, RetryDecision::RetryAfter(Duration::from_secs(4))).await;
        assert!(result.is_ok());
        assert!(start.elapsed() >= Duration::from_secs(4));
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(p.stats().snapshot().throttled, 1);

        let start = Instant::now();
        let (result, _) = flaky(&p, 1, RetryDecision::RetryAfter(Duration::from_secs(3600))).await;
        assert!(result.is_ok());
        assert!(start.elapsed() >= Duration::from_secs(10));
        assert!(start.elapsed() < Duration::from_secs(11));
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_past_the_time_budget_is_not_started() {
        let policy = RetryPolicy::default()
            .with_max_attempts(100)
            .with_max_elapsed(Duration::from_secs(5));
        let p = pacer(policy);
        let start = Instant::now();
        let (result, attempts) =
            flaky(&p, 100, RetryDecision::RetryAfter(Duration::from_secs(2))).await;
        assert!(result.is_err());
        assert_eq!(
            attempts, 3,
            "waits of 2 s: attempts at 0, 2, 4 s; a third wait would end past 5 s"
        );
        assert!(start.elapsed() <= Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_pauses_other_callers() {
        let p = pacer(RetryPolicy::default());
        let (result, _) = flaky(&p, 1, RetryDecision::RetryAfter(Duration::from_secs(2))).await;
        assert!(result.is_ok());
        // a call made right after the throttled one succeeded does not wait again
        let start = Instant::now();
        p.limiter().acquire().await;
        assert!(start.elapsed() < Duration::from_secs(2));

        // but a call racing the throttled one waits for the pause
        let p2 = p.clone();
        let throttled = tokio::spawn(async move {
            flaky(&p2, 1, RetryDecision::RetryAfter(Duration::from_secs(3))).await
        });
        tokio::task::yield_now().await;
        let start = Instant::now();
        p.limiter().acquire().await;
        assert!(start.elapsed() >= Duration::from_secs(3));
        assert!(throttled.await.unwrap().0.is_ok());
    }

    #[test]
    fn backoff_grows_exponentially_within_its_ceiling() {
        let policy =
            RetryPolicy::default().with_backoff(Duration::from_millis(100), Duration::from_secs(1));
        for _ in 0..200 {
            assert!(policy.backoff(1) <= Duration::from_millis(100));
            assert!(policy.backoff(3) <= Duration::from_millis(400));
            assert!(policy.backoff(30) <= Duration::from_secs(1));
            assert!(policy.backoff(u32::MAX) <= Duration::from_secs(1));
        }
        // jitter: not every draw is the same
        let draws: std::collections::BTreeSet<_> = (0..50).map(|_| policy.backoff(4)).collect();
        assert!(draws.len() > 10);
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let read = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert("Retry-After", HeaderValue::from_static(v));
            retry_after_at(&h, now)
        };
        assert_eq!(read("120"), Some(Duration::from_secs(120)));
        assert_eq!(read(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(read("1.5"), Some(Duration::from_millis(1500)));
        assert_eq!(
            read("Wed, 21 Oct 2015 07:28:30 GMT"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(read("Wed, 21 Oct 2015 07:00:00 GMT"), Some(Duration::ZERO));
        // RFC 850 and asctime, the obsolete forms a recipient must accept
        assert_eq!(
            read("Wednesday, 21-Oct-15 07:28:30 GMT"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            read("Wed Oct 21 07:28:30 2015"),
            Some(Duration::from_secs(30))
        );
        assert_eq!(read("soon"), None);
        assert_eq!(read("-4"), None);
        assert_eq!(retry_after_at(&HeaderMap::new(), now), None);
    }

    #[test]
    fn hostile_retry_after_values_are_clamped_not_panicking() {
        let now = Utc::now();
        let read = |v: &'static str| {
            let mut h = HeaderMap::new();
            h.insert("Retry-After", HeaderValue::from_static(v));
            retry_after_at(&h, now)
        };
        for huge in ["1e30", "inf", "18446744073709551615", "1e308"] {
            assert_eq!(read(huge), Some(MAX_RETRY_AFTER), "{huge}");
        }
        for nonsense in ["-1e30", "NaN", "-inf", "-0.5"] {
            assert_eq!(read(nonsense), None, "{nonsense}");
        }
        assert_eq!(read("Fri, 31 Dec 9999 23:59:59 GMT"), Some(MAX_RETRY_AFTER));
        // the policy's own cap applies on top
        let policy = RetryPolicy::default().with_max_retry_after(Duration::MAX);
        assert_eq!(policy.max_retry_after, MAX_RETRY_AFTER);
        let wait = policy
            .wait(RetryDecision::RetryAfter(Duration::MAX), 1)
            .unwrap();
        assert_eq!(wait, MAX_RETRY_AFTER);
    }

    #[test]
    fn huge_policies_compute_waits_without_overflow() {
        let policy = RetryPolicy::default()
            .with_max_elapsed(Duration::MAX)
            .with_backoff(Duration::MAX, Duration::MAX);
        for retry in [1, 2, 64, u32::MAX] {
            let _ = policy.backoff(retry);
            let _ = policy.wait(RetryDecision::RetryAfter(Duration::MAX), retry);
        }
    }
}

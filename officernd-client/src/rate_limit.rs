//! OfficeRnD's rate-limit headers.
//!
//! v2 answers carry NestJS-throttler headers per named bucket:
//! `x-ratelimit-limit-read-minute`, `x-ratelimit-remaining-read-minute`,
//! `x-ratelimit-reset-read-minute` (seconds), the same for `read-day`, and
//! presumably `write-*`. A throttled answer (429) may carry `Retry-After` or
//! the bucket-suffixed `Retry-After-read-minute`.

use std::collections::BTreeMap;
use std::time::Duration;

use reqwest::header::HeaderMap;

/// One rate-limit bucket as last reported by the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RateLimitBucket {
    /// Calls allowed per window.
    pub limit: Option<u64>,
    /// Calls left in the current window.
    pub remaining: Option<u64>,
    /// Time until the window resets.
    pub reset: Option<Duration>,
}

/// The rate-limit buckets of the last answer, keyed by bucket name
/// (`read-minute`, `read-day`, …).
///
/// ```
/// use reqwest::header::{HeaderMap, HeaderValue};
/// use officernd_client::RateLimitStatus;
///
/// let mut h = HeaderMap::new();
/// h.insert("x-ratelimit-limit-read-minute", HeaderValue::from_static("400"));
/// h.insert("x-ratelimit-remaining-read-minute", HeaderValue::from_static("12"));
/// h.insert("x-ratelimit-reset-read-minute", HeaderValue::from_static("30"));
/// let status = RateLimitStatus::from_headers(&h);
/// assert_eq!(status.bucket("read-minute").unwrap().remaining, Some(12));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct RateLimitStatus {
    /// Buckets by name.
    pub buckets: BTreeMap<String, RateLimitBucket>,
}

impl RateLimitStatus {
    /// Reads every `x-ratelimit-{limit,remaining,reset}-<bucket>` header.
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let mut buckets: BTreeMap<String, RateLimitBucket> = BTreeMap::new();
        for (name, value) in headers {
            let Some(rest) = name.as_str().strip_prefix("x-ratelimit-") else {
                continue;
            };
            let Some((kind, bucket)) = rest.split_once('-') else {
                continue;
            };
            let Some(n) = value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<f64>().ok())
            else {
                continue;
            };
            if !(n.is_finite() && n >= 0.0) {
                continue;
            }
            let entry = buckets.entry(bucket.to_string()).or_default();
            match kind {
                "limit" => entry.limit = Some(n as u64),
                "remaining" => entry.remaining = Some(n as u64),
                "reset" => entry.reset = Some(Duration::from_secs_f64(n.min(1e9))),
                _ => {}
            }
        }
        Self { buckets }
    }

    /// One bucket.
    pub fn bucket(&self, name: &str) -> Option<&RateLimitBucket> {
        self.buckets.get(name)
    }

    /// How long until every exhausted bucket (`remaining == 0`) resets:
    /// the longest such reset, or `None` if no bucket is exhausted.
    pub fn exhausted_for(&self) -> Option<Duration> {
        self.buckets
            .values()
            .filter(|b| b.remaining == Some(0))
            .filter_map(|b| b.reset)
            .max()
    }

    /// Whether no bucket was reported.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }
}

/// How long a 429 asks us to wait: `Retry-After`, else the longest
/// `Retry-After-<bucket>`, else the longest reset of an exhausted bucket.
pub(crate) fn throttle_wait(headers: &HeaderMap) -> Option<Duration> {
    if let Some(d) = access_http::retry_after(headers) {
        return Some(d);
    }
    let suffixed = headers
        .iter()
        .filter(|(n, _)| n.as_str().starts_with("retry-after-"))
        .filter_map(|(_, v)| v.to_str().ok()?.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(1e9)))
        .max();
    if suffixed.is_some() {
        return suffixed;
    }
    RateLimitStatus::from_headers(headers).exhausted_for()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn throttle_wait_prefers_retry_after_then_suffixed_then_reset() {
        assert_eq!(
            throttle_wait(&headers(&[
                ("retry-after", "7"),
                ("retry-after-read-minute", "9")
            ])),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            throttle_wait(&headers(&[
                ("retry-after-read-minute", "9"),
                ("retry-after-read-day", "3")
            ])),
            Some(Duration::from_secs(9))
        );
        assert_eq!(
            throttle_wait(&headers(&[
                ("x-ratelimit-remaining-read-minute", "0"),
                ("x-ratelimit-reset-read-minute", "12"),
                ("x-ratelimit-remaining-read-day", "100"),
                ("x-ratelimit-reset-read-day", "80000"),
            ])),
            Some(Duration::from_secs(12))
        );
        assert_eq!(throttle_wait(&headers(&[("retry-after", "soon")])), None);
        assert_eq!(throttle_wait(&HeaderMap::new()), None);
    }

    #[test]
    fn unreadable_values_are_ignored() {
        let s = RateLimitStatus::from_headers(&headers(&[
            ("x-ratelimit-limit-read-minute", "lots"),
            ("x-ratelimit-remaining-read-day", "-3"),
            ("x-ratelimit-weird", "1"),
        ]));
        assert!(s.bucket("read-minute").is_none());
        assert!(s.bucket("read-day").is_none());
    }
}

//! Entrata's `X-RateLimit-*` headers.
//!
//! Each service has its own buckets, listed `;`-separated, e.g.
//! `X-RateLimit-Limit: 10000/day;1000/hour;300/minute`,
//! `X-RateLimit-Remaining: 9999/day;999/hour;299/minute`,
//! `X-RateLimit-Reset: 34681;2281;1` (seconds, in the same order). The
//! number of buckets varies between services.

use std::fmt;
use std::time::Duration;

use http::HeaderMap;

/// The period a rate-limit bucket counts over.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RatePeriod {
    /// Per second.
    Second,
    /// Per minute.
    Minute,
    /// Per hour.
    Hour,
    /// Per day.
    Day,
    /// A period this version does not know, as sent.
    Other(String),
}

impl RatePeriod {
    fn parse(s: &str) -> Self {
        match s.trim().to_ascii_lowercase().as_str() {
            "second" | "sec" | "s" => Self::Second,
            "minute" | "min" | "m" => Self::Minute,
            "hour" | "hr" | "h" => Self::Hour,
            "day" | "d" => Self::Day,
            other => Self::Other(other.to_owned()),
        }
    }

    /// The period's length, if known.
    pub fn duration(&self) -> Option<Duration> {
        Some(Duration::from_secs(match self {
            Self::Second => 1,
            Self::Minute => 60,
            Self::Hour => 3600,
            Self::Day => 86_400,
            Self::Other(_) => return None,
        }))
    }
}

impl fmt::Display for RatePeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Second => "second",
            Self::Minute => "minute",
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Other(s) => s,
        })
    }
}

/// One rate-limit bucket of a service.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitBucket {
    /// The period it counts over (`None` when the header gave none).
    pub period: Option<RatePeriod>,
    /// Calls allowed per period.
    pub limit: u64,
    /// Calls left in the current period, if the server said.
    pub remaining: Option<u64>,
    /// Time until the bucket resets, if the server said.
    pub reset_after: Option<Duration>,
}

/// The rate-limit state Entrata reported on the latest response of a
/// service.
///
/// ```
/// use entrata_client::RateLimitSnapshot;
/// use http::{HeaderMap, HeaderValue};
///
/// let mut h = HeaderMap::new();
/// h.insert("x-ratelimit-limit", HeaderValue::from_static("10000/day;1000/hour;300/minute"));
/// h.insert("x-ratelimit-remaining", HeaderValue::from_static("9999/day;999/hour;2/minute"));
/// h.insert("x-ratelimit-reset", HeaderValue::from_static("34681;2281;40"));
/// let snap = RateLimitSnapshot::from_headers("properties", &h).unwrap();
/// assert_eq!(snap.buckets.len(), 3);
/// let tight = snap.tightest().unwrap();
/// assert_eq!((tight.limit, tight.remaining), (300, Some(2)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitSnapshot {
    /// The service (URL path segment) the headers came from.
    pub service: String,
    /// The buckets, in header order.
    pub buckets: Vec<RateLimitBucket>,
}

fn split_entry(entry: &str) -> (Option<u64>, Option<RatePeriod>) {
    let entry = entry.trim();
    match entry.split_once('/') {
        Some((n, p)) => (n.trim().parse().ok(), Some(RatePeriod::parse(p))),
        None => (entry.parse().ok(), None),
    }
}

impl RateLimitSnapshot {
    /// Reads the headers; `None` when there is no `X-RateLimit-Limit`.
    pub fn from_headers(service: &str, headers: &HeaderMap) -> Option<Self> {
        let get = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let limits = get("x-ratelimit-limit")?;
        let remaining = get("x-ratelimit-remaining").unwrap_or_default();
        let resets = get("x-ratelimit-reset").unwrap_or_default();
        let remaining: Vec<_> = remaining
            .split(';')
            .filter(|s| !s.trim().is_empty())
            .map(split_entry)
            .collect();
        let resets: Vec<Option<u64>> = resets
            .split(';')
            .filter(|s| !s.trim().is_empty())
            .map(|s| split_entry(s).0)
            .collect();
        let mut buckets = Vec::new();
        for (i, entry) in limits
            .split(';')
            .filter(|s| !s.trim().is_empty())
            .enumerate()
        {
            let (Some(limit), period) = split_entry(entry) else {
                continue;
            };
            // match "remaining" by period when both name one, else by position
            let left = match &period {
                Some(p) => remaining
                    .iter()
                    .find(|(_, rp)| rp.as_ref() == Some(p))
                    .or_else(|| remaining.get(i))
                    .and_then(|(n, _)| *n),
                None => remaining.get(i).and_then(|(n, _)| *n),
            };
            buckets.push(RateLimitBucket {
                period,
                limit,
                remaining: left,
                reset_after: resets.get(i).copied().flatten().map(Duration::from_secs),
            });
        }
        (!buckets.is_empty()).then(|| Self {
            service: service.to_owned(),
            buckets,
        })
    }

    /// The bucket with the smallest share of its limit left.
    pub fn tightest(&self) -> Option<&RateLimitBucket> {
        self.buckets
            .iter()
            .filter(|b| b.remaining.is_some() && b.limit > 0)
            .min_by(|a, b| {
                let share = |x: &RateLimitBucket| {
                    #[allow(clippy::cast_precision_loss)]
                    let r = x.remaining.unwrap_or(0) as f64 / x.limit as f64;
                    r
                };
                share(a).total_cmp(&share(b))
            })
    }

    /// Whether some bucket has no calls left.
    pub fn is_exhausted(&self) -> bool {
        self.buckets.iter().any(|b| b.remaining == Some(0))
    }

    /// How long to hold the next call so the remaining calls of a nearly
    /// empty bucket (under 10% left) last until it resets: the reset time
    /// spread over the calls left. `None` when no bucket is that low.
    pub fn suggested_delay(&self) -> Option<Duration> {
        self.buckets
            .iter()
            .filter_map(|b| {
                let left = b.remaining?;
                let reset = b.reset_after?;
                (left.saturating_mul(10) < b.limit).then(|| {
                    let spread = u32::try_from(left.saturating_add(1)).unwrap_or(u32::MAX);
                    reset / spread
                })
            })
            .max()
            .filter(|d| !d.is_zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn variable_bucket_counts() {
        let h = headers(&[
            ("x-ratelimit-limit", "66000/hour;1100/minute"),
            ("x-ratelimit-remaining", "65999/hour;1099/minute"),
            ("x-ratelimit-reset", "580;40"),
        ]);
        let s = RateLimitSnapshot::from_headers("propertyunits", &h).unwrap();
        assert_eq!(s.buckets.len(), 2);
        assert_eq!(s.buckets[0].period, Some(RatePeriod::Hour));
        assert_eq!(s.buckets[1].reset_after, Some(Duration::from_secs(40)));
        assert!(!s.is_exhausted());
        assert_eq!(s.suggested_delay(), None);
    }

    #[test]
    fn nearly_empty_bucket_suggests_spreading_the_rest() {
        let h = headers(&[
            ("x-ratelimit-limit", "8640/day;360/hour;6/minute"),
            ("x-ratelimit-remaining", "8000/day;300/hour;0/minute"),
            ("x-ratelimit-reset", "50000;3000;30"),
        ]);
        let s = RateLimitSnapshot::from_headers("status", &h).unwrap();
        assert!(s.is_exhausted());
        assert_eq!(s.suggested_delay(), Some(Duration::from_secs(30)));
        assert_eq!(s.tightest().unwrap().period, Some(RatePeriod::Minute));
    }

    #[test]
    fn odd_headers_do_not_panic() {
        assert!(RateLimitSnapshot::from_headers("x", &HeaderMap::new()).is_none());
        let h = headers(&[("x-ratelimit-limit", "lots"), ("x-ratelimit-reset", ";;")]);
        assert!(RateLimitSnapshot::from_headers("x", &h).is_none());
        let h = headers(&[("x-ratelimit-limit", "100"), ("x-ratelimit-remaining", "7")]);
        let s = RateLimitSnapshot::from_headers("x", &h).unwrap();
        assert_eq!(s.buckets[0].remaining, Some(7));
        assert_eq!(s.buckets[0].period, None);
    }
}

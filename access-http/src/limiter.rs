use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// The slowest rate honoured: one call per hour.
const MAX_INTERVAL: Duration = Duration::from_secs(3600);

/// Adds without panicking: a far-future instant is as good as any.
fn add(at: Instant, d: Duration) -> Instant {
    at.checked_add(d)
        .unwrap_or_else(|| at + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// A client-side rate limiter: at most `per_second` calls per second on
/// average, with bursts of up to `burst` calls.
///
/// It is a GCRA token bucket that hands out *reservations*: each caller gets
/// the next free slot and sleeps until then, so callers are served in order
/// and none spins. [`pause_for`](Self::pause_for) pushes every later slot
/// back, which is how one `429 Retry-After: 5` slows the whole client rather
/// than only the call that saw it.
///
/// ```
/// use access_http::RateLimiter;
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap().block_on(async {
/// let limiter = RateLimiter::new(2.0, 1);
/// let start = tokio::time::Instant::now();
/// for _ in 0..3 {
///     limiter.acquire().await;
/// }
/// // the first call goes at once, the next two wait 500 ms each
/// assert_eq!(start.elapsed().as_millis(), 1000);
/// # });
/// ```
#[derive(Debug)]
pub struct RateLimiter {
    /// Time between calls at the sustained rate; `None` means unlimited.
    interval: Option<Duration>,
    /// How far ahead of the sustained schedule a burst may run.
    tolerance: Duration,
    /// Theoretical arrival time of the next call.
    tat: Mutex<Option<Instant>>,
}

impl RateLimiter {
    /// A limiter for `per_second` calls per second (fractions allowed, e.g.
    /// `0.5` for one call every two seconds) with bursts of `burst` calls.
    ///
    /// A rate that is not finite and positive means no limit. A rate below
    /// one call per hour is raised to one per hour (no client is configured
    /// that slow on purpose, and the arithmetic stays in range).
    pub fn new(per_second: f64, burst: u32) -> Self {
        if !(per_second.is_finite() && per_second > 0.0) {
            return Self::unlimited();
        }
        let interval = Duration::try_from_secs_f64(1.0 / per_second)
            .unwrap_or(MAX_INTERVAL)
            .min(MAX_INTERVAL);
        Self {
            interval: Some(interval),
            tolerance: interval.saturating_mul(burst.max(1) - 1),
            tat: Mutex::new(None),
        }
    }

    /// A limiter that never waits (except after [`pause_for`](Self::pause_for)).
    pub fn unlimited() -> Self {
        Self {
            interval: None,
            tolerance: Duration::ZERO,
            tat: Mutex::new(None),
        }
    }

    /// The sustained rate in calls per second, if limited.
    pub fn per_second(&self) -> Option<f64> {
        self.interval.map(|i| 1.0 / i.as_secs_f64())
    }

    /// Waits for this caller's slot.
    pub async fn acquire(&self) {
        let at = self.reserve(Instant::now());
        if at > Instant::now() {
            tokio::time::sleep_until(at).await;
        }
    }

    /// Makes every call that has not yet been given a slot wait at least
    /// `wait` from now: the server asked us to slow down.
    pub fn pause_for(&self, wait: Duration) {
        let until = add(Instant::now(), wait);
        let mut tat = self.tat.lock().unwrap_or_else(|p| p.into_inner());
        let floor = add(until, self.tolerance);
        if tat.is_none_or(|t| t < floor) {
            *tat = Some(floor);
        }
    }

    /// Reserves the next slot at or after `now` and returns when it starts.
    fn reserve(&self, now: Instant) -> Instant {
        let mut tat = self.tat.lock().unwrap_or_else(|p| p.into_inner());
        let current = tat.map_or(now, |t| t.max(now));
        let start = current
            .checked_sub(self.tolerance)
            .map_or(now, |s| s.max(now));
        match self.interval {
            Some(interval) => *tat = Some(add(current, interval)),
            // unlimited: only a pause (tat in the future) makes callers wait
            None if current > now => {}
            None => *tat = None,
        }
        start
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[tokio::test(start_paused = true)]
    async fn a_burst_goes_at_once_then_the_sustained_rate_applies() {
        let limiter = RateLimiter::new(10.0, 3);
        let start = Instant::now();
        for _ in 0..3 {
            limiter.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::ZERO);
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_millis(100));
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_millis(200));
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_the_budget() {
        let limiter = Arc::new(RateLimiter::new(5.0, 1));
        let start = Instant::now();
        let tasks: Vec<_> = (0..10)
            .map(|_| {
                let l = limiter.clone();
                tokio::spawn(async move { l.acquire().await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        // ten calls at five per second: the last one starts at 1.8 s
        assert_eq!(start.elapsed(), Duration::from_millis(1800));
    }

    #[tokio::test(start_paused = true)]
    async fn idle_time_does_not_bank_more_than_the_burst() {
        let limiter = RateLimiter::new(10.0, 2);
        tokio::time::sleep(Duration::from_secs(60)).await;
        let start = Instant::now();
        for _ in 0..4 {
            limiter.acquire().await;
        }
        assert_eq!(start.elapsed(), Duration::from_millis(200));
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_delays_every_later_caller_even_when_unlimited() {
        for limiter in [RateLimiter::new(100.0, 10), RateLimiter::unlimited()] {
            limiter.pause_for(Duration::from_secs(3));
            let start = Instant::now();
            limiter.acquire().await;
            assert_eq!(start.elapsed(), Duration::from_secs(3));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn tiny_rates_and_huge_bursts_and_pauses_do_not_panic() {
        for rate in [1e-300, f64::MIN_POSITIVE, 1e-9] {
            let limiter = RateLimiter::new(rate, u32::MAX);
            assert_eq!(limiter.per_second(), Some(1.0 / 3600.0));
            limiter.acquire().await;
            limiter.pause_for(Duration::MAX);
        }
        let limiter = RateLimiter::new(1e300, 1);
        limiter.acquire().await;
        limiter.acquire().await;
    }

    #[tokio::test(start_paused = true)]
    async fn nonsense_rates_mean_unlimited() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let limiter = RateLimiter::new(rate, 1);
            assert_eq!(limiter.per_second(), None);
            let start = Instant::now();
            for _ in 0..100 {
                limiter.acquire().await;
            }
            assert_eq!(start.elapsed(), Duration::ZERO);
        }
    }
}

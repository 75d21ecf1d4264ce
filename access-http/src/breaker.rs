use std::fmt;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A circuit breaker on authentication failures: after `threshold`
/// consecutive refusals of the credentials it refuses calls locally for a
/// cool-down, so a persistent 401 does not re-send refused credentials on
/// every call (an administrator lock-out risk). After the cool-down one
/// attempt is let through; if it fails too, the breaker opens again at
/// once. A success closes it.
///
/// [`TokenCache`](crate::TokenCache) keeps one for its token requests;
/// a client without tokens (Entrata's Basic auth or API key) keeps one for
/// its calls.
///
/// ```
/// use std::time::Duration;
/// use access_http::AuthBreaker;
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let breaker = AuthBreaker::default();
/// for _ in 0..AuthBreaker::DEFAULT_THRESHOLD {
///     assert!(breaker.check().is_ok());
///     breaker.record_failure(None); // the server refused the credentials
/// }
/// let blocked = breaker.check().unwrap_err();
/// assert!(blocked.to_string().contains("check the credentials"));
/// # });
/// ```
#[derive(Debug)]
pub struct AuthBreaker {
    state: Mutex<State>,
    threshold: u32,
    cooldown: Duration,
}

#[derive(Debug, Default)]
struct State {
    /// Authentication failures since the last success.
    failures: u32,
    /// The newest token generation whose refusal was counted: fifty calls
    /// refused the same token are one failure, not fifty.
    counted_generation: u64,
    open_until: Option<Instant>,
    /// After a cool-down, the one attempt let through is under way until
    /// then (it answers, or is given up).
    probe_until: Option<Instant>,
}

/// Why [`AuthBreaker::check`] refuses a call: the credentials were refused
/// too many times in a row. Its `Display` says what to do; clients put it
/// in their own error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthBlocked {
    /// Consecutive authentication failures seen.
    pub failures: u32,
    /// How long until the credentials are tried again.
    pub retry_in: Duration,
}

impl fmt::Display for AuthBlocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "authentication keeps failing ({} refusals in a row); check the credentials; \
             not retrying for another {} s (to avoid locking the account out)",
            self.failures,
            self.retry_in.as_secs().max(1)
        )
    }
}

impl std::error::Error for AuthBlocked {}

/// The longest cool-down kept: a day.
const MAX_COOLDOWN: Duration = Duration::from_secs(24 * 3600);

/// How long the one attempt after a cool-down holds the others back if it
/// is never answered nor released (its future dropped): longer than a
/// request's default timeout (120 s), so a slow probe is not joined by a
/// second one sending the same credentials.
const PROBE_TIMEOUT: Duration = Duration::from_secs(150);

impl Default for AuthBreaker {
    /// Opens after [`DEFAULT_THRESHOLD`](Self::DEFAULT_THRESHOLD) failures
    /// for [`DEFAULT_COOLDOWN`](Self::DEFAULT_COOLDOWN).
    fn default() -> Self {
        Self::new(Self::DEFAULT_THRESHOLD, Self::DEFAULT_COOLDOWN)
    }
}

impl AuthBreaker {
    /// Consecutive failures that open the breaker by default.
    pub const DEFAULT_THRESHOLD: u32 = 3;
    /// How long it stays open by default.
    pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(300);

    /// Opens after `threshold` (at least 1) consecutive failures, for
    /// `cooldown` (at most a day).
    pub fn new(threshold: u32, cooldown: Duration) -> Self {
        Self {
            state: Mutex::default(),
            threshold: threshold.max(1),
            cooldown: cooldown.min(MAX_COOLDOWN),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `Err` while the breaker is open: send nothing that carries the
    /// credentials. Call it just before sending (after any wait for a rate
    /// limiter), and record the answer: after a cool-down it lets exactly
    /// one caller through (the probe: `Ok(true)`) and holds the others back
    /// until that one's answer is recorded, or the probe is released
    /// ([`release_probe`](Self::release_probe)) because its call ended
    /// without an answer about the credentials (a 5xx, a timeout). A
    /// call's own retries check [`is_open`](Self::is_open), which takes no
    /// probe.
    pub fn check(&self) -> Result<bool, AuthBlocked> {
        let mut s = self.state();
        let now = Instant::now();
        let blocked = |s: &State, until: Instant| AuthBlocked {
            failures: s.failures,
            retry_in: until.saturating_duration_since(now),
        };
        match (s.open_until, s.probe_until) {
            (None, _) => Ok(false),
            (Some(until), _) if now < until => Err(blocked(&s, until)),
            (Some(_), Some(probe)) if now < probe => Err(blocked(&s, probe)),
            (Some(_), _) => {
                s.probe_until = now.checked_add(PROBE_TIMEOUT);
                Ok(true)
            }
        }
    }

    /// The probe's call ended without an answer about the credentials:
    /// the next caller may probe at once. Call it only from the call that
    /// [`check`](Self::check) gave the probe.
    pub fn release_probe(&self) {
        self.state().probe_until = None;
    }

    /// Like [`check`](Self::check), without taking the probe: to fail fast
    /// before queueing for a rate limiter.
    pub fn is_open(&self) -> Result<(), AuthBlocked> {
        let s = self.state();
        let now = Instant::now();
        match s.open_until {
            Some(until) if now < until => Err(AuthBlocked {
                failures: s.failures,
                retry_in: until - now,
            }),
            _ => Ok(()),
        }
    }

    /// Counts an authentication failure: the credentials were refused
    /// (`generation` `None`), or a token of `generation` was (only the
    /// first refusal of each generation counts).
    pub fn record_failure(&self, generation: Option<u64>) {
        let mut s = self.state();
        if let Some(g) = generation {
            if g <= s.counted_generation {
                return;
            }
            s.counted_generation = g;
        }
        s.failures = s.failures.saturating_add(1);
        if s.failures >= self.threshold {
            s.open_until = Instant::now().checked_add(self.cooldown);
            s.probe_until = None;
            tracing::warn!(
                failures = s.failures,
                cooldown = ?self.cooldown,
                "authentication keeps failing; not sending the credentials for a while"
            );
        }
    }

    /// The credentials were accepted: closes the breaker.
    pub fn record_success(&self) {
        let mut s = self.state();
        s.failures = 0;
        s.open_until = None;
        s.probe_until = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_defaults_open_after_three_refusals_for_five_minutes() {
        let breaker = AuthBreaker::default();
        breaker.record_failure(None);
        breaker.record_failure(None);
        assert!(breaker.check().is_ok());
        breaker.record_failure(None);
        let blocked = breaker.check().unwrap_err();
        assert_eq!(blocked.failures, 3);
        assert_eq!(blocked.retry_in, Duration::from_secs(300));
        tokio::time::sleep(Duration::from_secs(299)).await;
        assert!(breaker.check().is_err());
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(breaker.check(), Ok(true), "one attempt after the cool-down");
        assert!(breaker.check().is_err(), "the others wait for its answer");
        breaker.record_failure(None);
        assert!(breaker.check().is_err(), "whose refusal reopens it at once");
        breaker.record_success();
        assert_eq!(breaker.check(), Ok(false), "closed: no probe");
    }

    #[tokio::test(start_paused = true)]
    async fn a_probe_without_an_answer_lets_the_next_through_after_its_timeout() {
        let breaker = AuthBreaker::new(1, Duration::from_secs(60));
        breaker.record_failure(None);
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(breaker.is_open().is_ok());
        assert_eq!(breaker.check(), Ok(true), "the probe");
        assert!(breaker.is_open().is_ok(), "is_open takes no probe");
        assert!(breaker.check().is_err());
        // the probe's call was dropped: nothing recorded, nothing released
        tokio::time::sleep(PROBE_TIMEOUT).await;
        assert_eq!(breaker.check(), Ok(true), "the next probe");
        // a probe that got no answer about the credentials (a 5xx) is
        // released: the next caller probes at once
        breaker.release_probe();
        assert_eq!(breaker.check(), Ok(true));
    }
}

//! The clock the runner reads `now` from, injectable so tests and demos can
//! drive time.

use std::fmt;

use chrono::{DateTime, Utc};

/// Where the runner reads the current instant.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that starts at a chosen instant and advances with tokio's clock,
/// so that under `tokio::time::pause` a test (or a simulation) moves the
/// runner's `now` exactly as far as its sleeps.
///
/// ```
/// use access_sync::{Clock, TokioClock};
/// use chrono::{TimeZone, Utc};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let start = Utc.with_ymd_and_hms(2026, 11, 30, 17, 0, 0).unwrap();
/// let clock = TokioClock::starting_at(start);
/// tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
/// assert_eq!(clock.now(), Utc.with_ymd_and_hms(2026, 11, 30, 18, 0, 0).unwrap());
/// # }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    start: DateTime<Utc>,
    origin: tokio::time::Instant,
}

impl TokioClock {
    /// A clock reading `start` now.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        TokioClock {
            start,
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = self.origin.elapsed();
        add_saturating(
            self.start,
            chrono::Duration::from_std(elapsed).unwrap_or(chrono::Duration::MAX),
        )
    }
}

/// `t + d`, or the last (first) representable instant where that would
/// overflow: `DateTime + TimeDelta` panics on overflow, and the durations
/// added here come from callers.
pub(crate) fn add_saturating(t: DateTime<Utc>, d: chrono::TimeDelta) -> DateTime<Utc> {
    t.checked_add_signed(d)
        .unwrap_or(if d < chrono::TimeDelta::zero() {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        })
}

/// A clock that reads what it was last set to: for tests, replays and
/// demos that drive time by hand (`sync_once(t)` after `set(t)`, so that
/// what the runner records in its state carries `t` too). Clones share
/// the instant.
///
/// ```
/// use access_sync::{Clock, ManualClock};
/// use chrono::{TimeDelta, TimeZone, Utc};
///
/// let t = Utc.with_ymd_and_hms(2026, 11, 23, 17, 0, 0).unwrap();
/// let clock = ManualClock::new(t);
/// let runner_side = clock.clone();
/// clock.set(t + TimeDelta::days(1));
/// assert_eq!(runner_side.now(), t + TimeDelta::days(1));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock(std::sync::Arc<std::sync::Mutex<DateTime<Utc>>>);

impl ManualClock {
    /// A clock reading `at`.
    pub fn new(at: DateTime<Utc>) -> Self {
        ManualClock(std::sync::Arc::new(std::sync::Mutex::new(at)))
    }

    /// Moves the clock to `at` (backwards too).
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeDelta, Utc};

    use super::{Clock, TokioClock, add_saturating};

    #[test]
    fn adding_saturates_at_the_ends_of_time() {
        let now = Utc::now();
        assert_eq!(
            add_saturating(now, TimeDelta::MAX),
            DateTime::<Utc>::MAX_UTC
        );
        assert_eq!(
            add_saturating(now, TimeDelta::MIN),
            DateTime::<Utc>::MIN_UTC
        );
        assert_eq!(
            add_saturating(now, TimeDelta::hours(1)),
            now + TimeDelta::hours(1)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_tokio_clock_started_at_the_end_of_time_stays_there() {
        let clock = TokioClock::starting_at(DateTime::<Utc>::MAX_UTC);
        tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        assert_eq!(clock.now(), DateTime::<Utc>::MAX_UTC);
    }
}

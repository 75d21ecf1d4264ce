use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of the calls a client made, shared by all clones of the client.
///
/// Every attempt that reached the network counts as a call, retries
/// included: that is what a service's call quota counts.
#[derive(Debug, Default)]
pub struct CallStats {
    calls: AtomicU64,
    retries: AtomicU64,
    throttled: AtomicU64,
}

/// A point-in-time copy of [`CallStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallSnapshot {
    /// Requests sent, retries included.
    pub calls: u64,
    /// Requests that were retries of an earlier attempt.
    pub retries: u64,
    /// Answers that asked the client to slow down (429 or equivalent).
    pub throttled: u64,
}

impl CallStats {
    /// Counts one request sent.
    pub fn record_call(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one retry (the retried request is counted by [`record_call`](Self::record_call)).
    pub fn record_retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one throttled answer.
    pub fn record_throttled(&self) {
        self.throttled.fetch_add(1, Ordering::Relaxed);
    }

    /// The counts so far.
    pub fn snapshot(&self) -> CallSnapshot {
        CallSnapshot {
            calls: self.calls.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
        }
    }
}

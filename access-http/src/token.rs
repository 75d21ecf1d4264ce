use std::future::Future;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::breaker::{AuthBlocked, AuthBreaker};

/// A token handed out by [`TokenCache::get`], with the generation it belongs
/// to: pass that generation to [`TokenCache::invalidate`] after a 401.
#[derive(Debug, Clone)]
pub struct CachedToken<T> {
    /// The token (keep secrets inside it as `secrecy` types).
    pub token: T,
    /// Which fetch produced it; bumps on every successful fetch.
    pub generation: u64,
}

#[derive(Debug)]
struct Slot<T> {
    token: T,
    generation: u64,
    refresh_at: Instant,
}

/// A single-flight cache for a short-lived access token.
///
/// [`get`](Self::get) returns the cached token while it is fresh. Once it is
/// due (a margin before expiry: a fifth of its lifetime, at most
/// `max_margin`) the first caller fetches a new one while the others wait
/// for that fetch: fifty concurrent calls cause one token request. The fetch
/// is given the previous token, so it can use a refresh token before falling
/// back to the full grant.
///
/// After a 401, call [`invalidate`](Self::invalidate) with the generation of
/// the token that was refused: only the first of many such calls forces a
/// new fetch; the rest see that a newer token already replaced it.
///
/// ```
/// use std::time::Duration;
/// use access_http::TokenCache;
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// let cache = TokenCache::new(Duration::from_secs(60));
/// let fetch = |_previous: Option<String>| async {
///     Ok::<_, std::io::Error>(("token-1".to_string(), Duration::from_secs(3600)))
/// };
/// let first = cache.get(fetch).await.unwrap();
/// let again = cache.get(fetch).await.unwrap();
/// assert_eq!(first.generation, again.generation);
/// # });
/// ```
#[derive(Debug)]
pub struct TokenCache<T> {
    slot: Mutex<Option<Slot<T>>>,
    max_margin: Duration,
    breaker: AuthBreaker,
}

/// The longest token lifetime believed: a day. A server saying
/// `expires_in: 18446744073709551615` gets a token refreshed daily, and no
/// instant arithmetic overflows.
pub const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Clamps a server's `expires_in` (seconds) to [`MAX_TOKEN_LIFETIME`], with
/// `default` when the server gave none.
pub fn token_lifetime(expires_in: Option<u64>, default: Duration) -> Duration {
    expires_in
        .map_or(default, Duration::from_secs)
        .min(MAX_TOKEN_LIFETIME)
}

impl<T: Clone> TokenCache<T> {
    /// An empty cache that refreshes tokens a fifth of their lifetime, and
    /// at most `max_margin`, before they expire.
    ///
    /// Its authentication breaker opens after 3 consecutive failures for 5
    /// minutes; see [`with_auth_breaker`](Self::with_auth_breaker).
    pub fn new(max_margin: Duration) -> Self {
        Self {
            slot: Mutex::new(None),
            max_margin,
            breaker: AuthBreaker::default(),
        }
    }

    /// After `threshold` (at least 1) consecutive authentication failures
    /// (see [`record_auth_failure`](Self::record_auth_failure)), no token
    /// is requested for `cooldown` (at most a day): a persistent 401 must
    /// not cost one password grant per call, which could lock the account.
    /// After the cool-down one attempt is let through; if it fails too, the
    /// breaker opens again at once.
    pub fn with_auth_breaker(mut self, threshold: u32, cooldown: Duration) -> Self {
        self.breaker = AuthBreaker::new(threshold, cooldown);
        self
    }

    /// `Err` while the breaker is open. Call it before requesting a token
    /// (inside the `fetch` of [`get`](Self::get), so callers queued behind
    /// a failing fetch see it too).
    pub fn check_breaker(&self) -> Result<(), AuthBlocked> {
        self.breaker.check().map(|_| ())
    }

    /// A token request ended without an answer about the credentials (a
    /// 5xx, a timeout): after a cool-down, the next request may probe at
    /// once. Token requests are made one at a time, so the caller is the
    /// one a probe was given to, if any.
    pub fn release_probe(&self) {
        self.breaker.release_probe();
    }

    /// Counts an authentication failure: the token endpoint refused the
    /// credentials (`generation` `None`), or the API refused a token of
    /// `generation` (only the first refusal of each generation counts).
    pub fn record_auth_failure(&self, generation: Option<u64>) {
        self.breaker.record_failure(generation);
    }

    /// A call was accepted with a token: the credentials work.
    pub fn record_auth_success(&self) {
        self.breaker.record_success();
    }

    /// The cached token, or a new one from `fetch` if there is none or it is
    /// due. `fetch` gets the previous token, if any, and returns a token with
    /// its lifetime (`expires_in`).
    pub async fn get<F, Fut, E>(&self, fetch: F) -> Result<CachedToken<T>, E>
    where
        F: FnOnce(Option<T>) -> Fut,
        Fut: Future<Output = Result<(T, Duration), E>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some(s) = slot.as_ref().filter(|s| Instant::now() < s.refresh_at) {
            return Ok(CachedToken {
                token: s.token.clone(),
                generation: s.generation,
            });
        }
        let previous = slot.as_ref().map(|s| s.token.clone());
        let generation = slot.as_ref().map_or(1, |s| s.generation + 1);
        // The lock is held across the fetch: that is the single flight. A
        // cancelled fetch leaves the previous token in place.
        let (token, lifetime) = fetch(previous).await?;
        let lifetime = lifetime.min(MAX_TOKEN_LIFETIME);
        let margin = (lifetime / 5).min(self.max_margin);
        *slot = Some(Slot {
            token: token.clone(),
            generation,
            refresh_at: Instant::now() + lifetime - margin,
        });
        tracing::debug!(generation, ?lifetime, "fetched a new access token");
        Ok(CachedToken { token, generation })
    }

    /// Marks the token of `generation` as refused, so the next
    /// [`get`](Self::get) fetches a new one. Does nothing if a newer token
    /// has replaced it already.
    pub async fn invalidate(&self, generation: u64) {
        let mut slot = self.slot.lock().await;
        if let Some(s) = slot.as_mut().filter(|s| s.generation == generation) {
            s.refresh_at = Instant::now();
        }
    }

    /// Forgets the cached token entirely (the next fetch gets no previous
    /// token, so it cannot use a refresh token).
    pub async fn clear(&self) {
        *self.slot.lock().await = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    type Fetches = Arc<AtomicU32>;

    async fn get(
        cache: &TokenCache<String>,
        fetches: &Fetches,
        lifetime: Duration,
    ) -> CachedToken<String> {
        let fetches = fetches.clone();
        cache
            .get(|previous| async move {
                let n = fetches.fetch_add(1, Ordering::SeqCst) + 1;
                // a slow token endpoint makes the race real
                tokio::time::sleep(Duration::from_millis(50)).await;
                let kind = if previous.is_some() {
                    "refreshed"
                } else {
                    "new"
                };
                Ok::<_, ()>((format!("{kind}-{n}"), lifetime))
            })
            .await
            .unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn fifty_concurrent_callers_with_an_expired_token_fetch_once() {
        let cache = Arc::new(TokenCache::new(Duration::from_secs(10)));
        let fetches = Fetches::default();
        get(&cache, &fetches, Duration::from_secs(60)).await;
        tokio::time::sleep(Duration::from_secs(61)).await;

        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (cache, fetches) = (cache.clone(), fetches.clone());
                tokio::spawn(async move { get(&cache, &fetches, Duration::from_secs(60)).await })
            })
            .collect();
        for task in tasks {
            let token = task.await.unwrap();
            assert_eq!(token.token, "refreshed-2");
            assert_eq!(token.generation, 2);
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn tokens_are_refreshed_a_margin_before_expiry() {
        let cache = TokenCache::new(Duration::from_secs(10));
        let fetches = Fetches::default();
        // 300 s lifetime: margin is min(60 s, 10 s) = 10 s
        get(&cache, &fetches, Duration::from_secs(300)).await;
        tokio::time::sleep(Duration::from_secs(289)).await;
        assert_eq!(
            get(&cache, &fetches, Duration::from_secs(300))
                .await
                .generation,
            1
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            get(&cache, &fetches, Duration::from_secs(300))
                .await
                .generation,
            2
        );
        // 20 s lifetime: margin is a fifth, 4 s
        let cache = TokenCache::new(Duration::from_secs(10));
        get(&cache, &fetches, Duration::from_secs(20)).await;
        tokio::time::sleep(Duration::from_secs(15)).await;
        assert_eq!(
            get(&cache, &fetches, Duration::from_secs(20))
                .await
                .generation,
            1
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert_eq!(
            get(&cache, &fetches, Duration::from_secs(20))
                .await
                .generation,
            2
        );
    }

    #[tokio::test(start_paused = true)]
    async fn only_the_first_invalidation_of_a_generation_counts() {
        let cache = TokenCache::new(Duration::from_secs(10));
        let fetches = Fetches::default();
        let refused = get(&cache, &fetches, Duration::from_secs(3600)).await;
        cache.invalidate(refused.generation).await;
        let fresh = get(&cache, &fetches, Duration::from_secs(3600)).await;
        assert_eq!(fresh.token, "refreshed-2");
        // a second caller that was refused the same old token changes nothing
        cache.invalidate(refused.generation).await;
        assert_eq!(
            get(&cache, &fetches, Duration::from_secs(3600))
                .await
                .generation,
            2
        );
        assert_eq!(fetches.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn an_absurd_lifetime_is_clamped_to_a_day() {
        let cache = TokenCache::new(Duration::from_secs(10));
        let fetches = Fetches::default();
        get(&cache, &fetches, Duration::MAX).await;
        get(&cache, &fetches, Duration::MAX).await;
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        tokio::time::sleep(MAX_TOKEN_LIFETIME).await;
        assert_eq!(get(&cache, &fetches, Duration::MAX).await.generation, 2);
        assert_eq!(
            token_lifetime(Some(u64::MAX), Duration::from_secs(60)),
            MAX_TOKEN_LIFETIME
        );
        assert_eq!(
            token_lifetime(None, Duration::from_secs(60)),
            Duration::from_secs(60)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_breaker_opens_after_three_failures_and_closes_after_the_cooldown() {
        let cache: TokenCache<String> =
            TokenCache::new(Duration::from_secs(10)).with_auth_breaker(3, Duration::from_secs(60));
        cache.record_auth_failure(Some(1));
        cache.record_auth_failure(Some(1)); // same token refused twice: one failure
        cache.record_auth_failure(None);
        assert!(cache.check_breaker().is_ok());
        cache.record_auth_failure(Some(2));
        let blocked = cache.check_breaker().unwrap_err();
        assert_eq!(blocked.failures, 3);
        let text = blocked.to_string();
        assert!(text.contains("check the credentials"), "{text}");
        assert!(text.contains("60 s"), "{text}");
        tokio::time::sleep(Duration::from_secs(60)).await;
        assert!(
            cache.check_breaker().is_ok(),
            "one attempt after the cool-down"
        );
        cache.record_auth_failure(None);
        assert!(
            cache.check_breaker().is_err(),
            "which failing reopens it at once"
        );
        cache.record_auth_success();
        assert!(cache.check_breaker().is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_fetch_keeps_the_previous_token_for_a_later_refresh() {
        let cache = TokenCache::new(Duration::from_secs(10));
        let fetches = Fetches::default();
        get(&cache, &fetches, Duration::from_secs(60)).await;
        tokio::time::sleep(Duration::from_secs(60)).await;
        let failed = cache
            .get(|previous| async move {
                assert_eq!(previous.as_deref(), Some("new-1"));
                Err::<(String, Duration), _>("token endpoint down")
            })
            .await;
        assert_eq!(failed.unwrap_err(), "token endpoint down");
        assert_eq!(
            get(&cache, &fetches, Duration::from_secs(60)).await.token,
            "refreshed-2"
        );
        cache.clear().await;
        assert_eq!(
            get(&cache, &fetches, Duration::from_secs(60)).await.token,
            "new-3"
        );
    }
}

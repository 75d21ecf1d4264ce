//! The access-control side: the [`AccessBackend`] port.

use std::collections::BTreeSet;
use std::error::Error as StdError;
use std::fmt;

use access_engine::{
    BrivoUserId, CredentialWindow, GroupId, Observed, ObservedUser, Profile, ProfileField,
};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::error::{Cause, ErrorKind};

/// What may keep an unowned user from being adopted (from the policy's
/// `adopt_with_*` settings).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AdoptionRules {
    /// The managed groups: any other group the user is in counts as unmanaged.
    pub managed_groups: BTreeSet<GroupId>,
    /// Adopt a user in unmanaged groups anyway.
    pub allow_unmanaged_groups: bool,
    /// Adopt a user holding credentials anyway.
    pub allow_credentials: bool,
}

impl AdoptionRules {
    /// The strict rules: neither unmanaged groups nor credentials allowed.
    pub fn new(managed_groups: BTreeSet<GroupId>) -> Self {
        AdoptionRules {
            managed_groups,
            allow_unmanaged_groups: false,
            allow_credentials: false,
        }
    }
}

/// What the backend must observe: every member of the managed groups, every
/// user owned by the integration, and which managed groups exist.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ObserveScope {
    /// The managed groups (the union of the mappings).
    pub managed_groups: BTreeSet<GroupId>,
    /// The ownership namespace: owned users' external ids start with
    /// `"{prefix}:"`.
    pub ownership_prefix: String,
    /// Also observe every user with an email, as adopt-by-email candidates
    /// (the engine adopts only users with no external id, and warns about
    /// the others whose email an identity has).
    pub adoption_candidates: bool,
}

impl ObserveScope {
    /// A scope.
    pub fn new(managed_groups: BTreeSet<GroupId>, ownership_prefix: impl Into<String>) -> Self {
        ObserveScope {
            managed_groups,
            ownership_prefix: ownership_prefix.into(),
            adoption_candidates: false,
        }
    }

    /// True when `external_id` is in the ownership namespace.
    pub fn is_owned(&self, external_id: Option<&str>) -> bool {
        external_id
            .and_then(|e| e.strip_prefix(self.ownership_prefix.as_str()))
            .is_some_and(|rest| rest.starts_with(':'))
    }
}

/// A profile write: the fields to set on a user (PATCH semantics: fields not
/// listed are left alone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserUpdate<'a> {
    /// Sets the external id, if `Some`: adopting an unowned user, or giving
    /// an owned one the current form of its id.
    pub external_id: Option<&'a str>,
    /// The desired profile.
    pub profile: &'a Profile,
    /// Which of the profile's fields to write.
    pub fields: &'a [ProfileField],
}

/// The credentials a user holds, as [`AccessBackend::set_credential_window`]
/// found them.
///
/// ```
/// use access_sync::CredentialsHeld;
/// let held = CredentialsHeld::new(2, 1); // a card and a Mobile Pass
/// assert_eq!((held.total, held.mobile_passes), (2, 1));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CredentialsHeld {
    /// Every credential (cards, passes, a PIN).
    pub total: usize,
    /// Of those, Brivo Mobile Passes (a redeemed invitation).
    pub mobile_passes: usize,
}

impl CredentialsHeld {
    /// `total` credentials, `mobile_passes` of them passes.
    pub fn new(total: usize, mobile_passes: usize) -> Self {
        CredentialsHeld {
            total,
            mobile_passes,
        }
    }
}

/// Every profile field, for an adoption.
pub const ALL_PROFILE_FIELDS: &[ProfileField] = &[
    ProfileField::FirstName,
    ProfileField::LastName,
    ProfileField::Email,
    ProfileField::Phone,
];

/// A backend call failed: what kind of failure it is ([`ErrorKind`]), what
/// went wrong in words, and the underlying error (e.g. the
/// [`brivo_client::Error`]), if there is one.
///
/// Branch on [`kind`](Self::kind) or the predicates
/// ([`is_retryable`](Self::is_retryable), [`is_throttle`](Self::is_throttle),
/// [`is_auth`](Self::is_auth), [`is_not_found`](Self::is_not_found)); reach
/// the client's own error with [`brivo`](Self::brivo) or
/// [`downcast_ref`](Self::downcast_ref) for anything finer (a status, a
/// `Retry-After`).
///
/// The text ([`Display`](std::fmt::Display)) is the underlying error's,
/// which names the method, the status and the service's own message and is
/// already free of secrets, with context in front when the runner adds some.
/// Since it includes the underlying error's text,
/// [`source`](std::error::Error::source) is *that error's* source, as for a
/// wrapped [`std::io::Error`]; the underlying error itself is
/// [`get_ref`](Self::get_ref). Cheap to clone (the underlying error is
/// shared). Two errors are equal when their kind and text are: the
/// underlying error takes no part in equality.
///
/// ```
/// use access_sync::{BackendError, ErrorKind};
///
/// // From a client error: classified, the client error kept.
/// let e = BackendError::from(brivo_client::Error::Api {
///     method: "get_user", status: 404, code: None, message: None, retry_after: None,
/// });
/// assert!(e.is_not_found());
/// assert_eq!(e.brivo().and_then(|b| b.status()), Some(404));
///
/// // In a backend of your own: a kind and a message.
/// let e = BackendError::new(ErrorKind::Throttled, "door API: slow down");
/// assert!(e.is_throttle() && e.is_retryable());
/// assert_eq!(e.to_string(), "door API: slow down");
/// ```
#[derive(Debug, Clone)]
pub struct BackendError {
    kind: ErrorKind,
    message: String,
    cause: Option<Cause>,
}

impl BackendError {
    /// An error of this kind, described by `message` (no underlying error).
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        BackendError {
            kind,
            message: message.into(),
            cause: None,
        }
    }

    /// The user or group does not exist ([`ErrorKind::NotFound`]);
    /// `what` names it, e.g. `user 12`.
    pub fn not_found(what: impl fmt::Display) -> Self {
        Self::new(ErrorKind::NotFound, format!("not found: {what}"))
    }

    /// A failure of kind [`ErrorKind::Other`] (not retryable).
    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Other, message)
    }

    /// Wraps `error` as an error of this kind: its text is `error`'s, and
    /// `error` stays reachable ([`get_ref`](Self::get_ref),
    /// [`downcast_ref`](Self::downcast_ref)).
    ///
    /// ```
    /// use access_sync::{BackendError, ErrorKind};
    ///
    /// let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "door controller timed out");
    /// let e = BackendError::from_error(ErrorKind::Transient, io);
    /// assert!(e.is_retryable());
    /// assert_eq!(e.downcast_ref::<std::io::Error>().map(|io| io.kind()), Some(std::io::ErrorKind::TimedOut));
    /// ```
    pub fn from_error<E>(kind: ErrorKind, error: E) -> Self
    where
        E: StdError + Send + Sync + 'static,
    {
        BackendError {
            kind,
            message: error.to_string(),
            cause: Some(Cause::new(error)),
        }
    }

    /// The same error with `context` in front of its text
    /// (`"{context}: {text}"`).
    #[must_use]
    pub fn context(mut self, context: impl fmt::Display) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// The same error with another kind.
    #[must_use]
    pub fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }

    /// The same error with a new text, which must still include the
    /// underlying error's (see the type's docs on `source`).
    pub(crate) fn reworded(mut self, text: String) -> Self {
        self.message = text;
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The text, as [`Display`](std::fmt::Display) shows it.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Whether a later attempt may succeed ([`ErrorKind::is_retryable`]:
    /// throttled or transient).
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }

    /// Whether the backend asked to slow down ([`ErrorKind::Throttled`]).
    ///
    /// ```
    /// use access_sync::BackendError;
    /// let e = BackendError::from(brivo_client::Error::Throttled { method: "list_users", status: 429, retry_after: None });
    /// assert!(e.is_throttle());
    /// ```
    pub fn is_throttle(&self) -> bool {
        self.kind.is_throttle()
    }

    /// Whether the credentials or the permissions were refused
    /// ([`ErrorKind::Auth`]).
    ///
    /// ```
    /// use access_sync::BackendError;
    /// let e = BackendError::from(brivo_client::Error::ApiKeyInactive { method: "list_users" });
    /// assert!(e.is_auth() && !e.is_retryable());
    /// ```
    pub fn is_auth(&self) -> bool {
        self.kind.is_auth()
    }

    /// Whether the user or group does not exist ([`ErrorKind::NotFound`]).
    pub fn is_not_found(&self) -> bool {
        self.kind == ErrorKind::NotFound
    }

    /// The underlying error, if there is one.
    pub fn get_ref(&self) -> Option<&(dyn StdError + Send + Sync + 'static)> {
        self.cause.as_ref().map(Cause::get)
    }

    /// The underlying error, if there is one and it is an `E`.
    pub fn downcast_ref<E: StdError + 'static>(&self) -> Option<&E> {
        self.get_ref()?.downcast_ref::<E>()
    }

    /// The underlying Brivo client error, if this came from one.
    pub fn brivo(&self) -> Option<&brivo_client::Error> {
        self.downcast_ref()
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for BackendError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        crate::error::source_of(self.cause.as_ref())
    }
}

impl PartialEq for BackendError {
    fn eq(&self, other: &Self) -> bool {
        self.kind == other.kind && self.message == other.message
    }
}

impl Eq for BackendError {}

/// Classified with [`ErrorKind::from`]; the text is the client's, the
/// client error is kept ([`BackendError::brivo`]).
impl From<brivo_client::Error> for BackendError {
    fn from(e: brivo_client::Error) -> Self {
        BackendError::from_error(ErrorKind::from(&e), e)
    }
}

/// The most groups one Brivo user may belong to, counting groups the
/// integration does not manage or cannot see (Brivo documents 16).
pub const MAX_GROUPS_PER_USER: usize = brivo_client::MAX_GROUPS_PER_USER;

/// What [`AccessBackend::change_groups`] did.
///
/// In the common case everything was applied ([`GroupsApplied::all`]).
/// When the backend refused the additions because they would take the user
/// past its group cap, the removals were applied on their own and
/// [`refused_additions`](Self::refused_additions) says why the additions
/// were not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroupsApplied {
    /// `Some` when no addition was applied because of the group cap (the
    /// removals were). `None`: every addition and removal was applied.
    pub refused_additions: Option<CapRefusal>,
}

impl GroupsApplied {
    /// Every addition and removal was applied.
    pub fn all() -> Self {
        GroupsApplied::default()
    }

    /// The removals were applied; the additions were refused for the cap.
    pub fn additions_refused(refusal: CapRefusal) -> Self {
        GroupsApplied {
            refused_additions: Some(refusal),
        }
    }
}

/// Why a group change's additions were refused: with them, the user would
/// have been in more groups than the backend allows. Built from a re-read
/// of the user's groups after the refusal ([`CapRefusal::detect`]), never
/// from an error message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CapRefusal {
    /// The groups the user was in when re-read after the refusal, managed
    /// or not (before the removals were sent on their own).
    pub groups: BTreeSet<GroupId>,
    /// How many groups the user was in: `groups` plus any the backend
    /// counted but whose ids could not be read.
    pub count: usize,
    /// How many groups the whole change would have left the user in.
    pub would_be: usize,
    /// The backend's limit ([`MAX_GROUPS_PER_USER`] for Brivo).
    pub limit: usize,
}

impl CapRefusal {
    /// Decides whether a refused change was refused for the cap: `Some`
    /// when the user's current groups (`groups`, plus `unidentified` ones
    /// counted but not identified), less `remove`, plus `add`, exceed
    /// `limit`; `None` when the change fits, so the refusal had another
    /// cause.
    ///
    /// ```
    /// use std::collections::BTreeSet;
    /// use access_engine::GroupId;
    /// use access_sync::backend::CapRefusal;
    ///
    /// let now: BTreeSet<GroupId> = (1..=16).map(GroupId).collect();
    /// let cap = CapRefusal::detect(now.clone(), 0, &[GroupId(20), GroupId(21)], &[GroupId(1)], 16)
    ///     .expect("16 - 1 + 2 = 17 > 16");
    /// assert_eq!((cap.count, cap.would_be), (16, 17));
    /// assert!(CapRefusal::detect(now, 0, &[GroupId(20)], &[GroupId(1)], 16).is_none());
    /// ```
    pub fn detect(
        groups: BTreeSet<GroupId>,
        unidentified: usize,
        add: &[GroupId],
        remove: &[GroupId],
        limit: usize,
    ) -> Option<CapRefusal> {
        let mut after = groups.clone();
        for g in remove {
            after.remove(g);
        }
        after.extend(add.iter().copied());
        let would_be = after.len() + unidentified;
        (would_be > limit).then(|| CapRefusal {
            count: groups.len() + unidentified,
            groups,
            would_be,
            limit,
        })
    }

    /// How many of the user's groups are not in `managed` (groups the
    /// integration does not manage, or whose ids could not be read).
    pub fn unmanaged(&self, managed: &BTreeSet<GroupId>) -> usize {
        self.count - self.groups.intersection(managed).count()
    }
}

impl std::fmt::Display for CapRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the user is in {} groups; the change would make {}, over the limit of {}",
            self.count, self.would_be, self.limit
        )
    }
}

/// Requests a backend has made so far (monotonic counters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallCounts {
    /// Read requests (each page of a listing counts once).
    pub reads: u64,
    /// Write requests.
    pub writes: u64,
    /// HTTP requests actually sent, retries and token requests included
    /// (equal to `reads + writes` for a backend that never retries).
    pub http: u64,
    /// Of those, retries.
    pub retries: u64,
    /// Answers that asked the client to slow down.
    pub throttled: u64,
}

impl CallCounts {
    /// A count of reads and writes with no retries.
    pub fn new(reads: u64, writes: u64) -> Self {
        CallCounts {
            reads,
            writes,
            http: reads + writes,
            retries: 0,
            throttled: 0,
        }
    }

    /// `self - earlier`, field by field (saturating).
    pub fn since(&self, earlier: &CallCounts) -> CallCounts {
        CallCounts {
            reads: self.reads.saturating_sub(earlier.reads),
            writes: self.writes.saturating_sub(earlier.writes),
            http: self.http.saturating_sub(earlier.http),
            retries: self.retries.saturating_sub(earlier.retries),
            throttled: self.throttled.saturating_sub(earlier.throttled),
        }
    }
}

/// The door-access system the runner writes to: Brivo
/// ([`crate::BrivoBackend`]) or a test double ([`crate::memory::MemoryBackend`]).
///
/// Every write must be idempotent in effect: adding a member who is already
/// one and removing one who is not succeed; the runner looks a user up by
/// external id before creating it.
///
/// Implement it with `#[access_sync::async_trait]` (the re-exported
/// attribute) on the `impl`. Return errors with a kind
/// ([`BackendError::new`], or `BackendError::from` a Brivo client error), so
/// that [`Outcome::Failed`](crate::Outcome::Failed) tells callers a throttle
/// from a refused credential; a user or group that is gone must be
/// [`BackendError::not_found`].
#[async_trait]
pub trait AccessBackend: Send + Sync {
    /// Reads the state the engine diffs against. An error means no plan at
    /// all: never plan from a partial observation.
    async fn observe(&self, scope: &ObserveScope) -> Result<Observed, BackendError>;

    /// Reads `users` again, as [`observe`](Self::observe) would show them
    /// (managed groups only; a user `observe` would leave out, or one that
    /// no longer exists, is not returned). The runner calls it for the
    /// users a plan from its cached observation is about to write, so that
    /// a write never rests on a stale read.
    ///
    /// The default observes everything and keeps those users: correct for
    /// any backend, but it costs a whole observation; a backend that can
    /// read one user should (Brivo: one user and its groups, two calls).
    async fn observe_users(
        &self,
        scope: &ObserveScope,
        users: &[BrivoUserId],
    ) -> Result<Vec<ObservedUser>, BackendError> {
        let wanted: BTreeSet<BrivoUserId> = users.iter().copied().collect();
        Ok(self
            .observe(scope)
            .await?
            .users
            .into_iter()
            .filter(|u| wanted.contains(&u.id))
            .collect())
    }

    /// The user carrying this external id, if any.
    async fn find_user(&self, external_id: &str) -> Result<Option<BrivoUserId>, BackendError>;

    /// Creates a user carrying `external_id`.
    async fn create_user(
        &self,
        external_id: &str,
        profile: &Profile,
    ) -> Result<BrivoUserId, BackendError>;

    /// Writes some profile fields (and optionally the external id).
    async fn update_user(
        &self,
        user: BrivoUserId,
        update: UserUpdate<'_>,
    ) -> Result<(), BackendError>;

    /// Suspends or unsuspends a user.
    async fn set_suspended(&self, user: BrivoUserId, suspended: bool) -> Result<(), BackendError>;

    /// Adds the user to `add` and removes it from `remove`: in the common
    /// case one atomic call (Brivo's `POST /users/{id}/groups`), everything
    /// or nothing.
    ///
    /// Removals never wait on additions. A user can be in at most
    /// [`MAX_GROUPS_PER_USER`] groups, counting groups the integration does
    /// not manage or cannot see, so the engine cannot foresee every refusal.
    /// When the backend refuses the whole change and the additions are
    /// the cause (the user's groups, re-read, less `remove`, plus `add`,
    /// exceed the cap: decide with [`CapRefusal::detect`], never from an
    /// error message), the implementation sends the removals on their own
    /// (if any) and returns `Ok` with
    /// [`GroupsApplied::refused_additions`] set: no addition was applied.
    ///
    /// # Errors
    /// Any other failure, with nothing applied: a refusal that is not the
    /// cap (the re-read shows room) returns the original error; a failure
    /// of the removals sent on their own is returned as an error too.
    async fn change_groups(
        &self,
        user: BrivoUserId,
        add: &[GroupId],
        remove: &[GroupId],
    ) -> Result<GroupsApplied, BackendError>;

    /// Deletes a user; an error of kind [`ErrorKind::NotFound`]
    /// ([`BackendError::not_found`]) if it is already gone.
    async fn delete_user(&self, user: BrivoUserId) -> Result<(), BackendError>;

    /// Invites a user to Brivo Mobile Pass at `email`, unless it already
    /// holds an invitation (pending or redeemed): returns whether one was
    /// sent. With `reissue`, a pending invitation is cancelled and a new
    /// one sent. Looking first makes it safe to repeat after a crash.
    ///
    /// The default refuses: a backend without Mobile Pass.
    async fn invite_mobile_pass(
        &self,
        user: BrivoUserId,
        email: &str,
        reissue: bool,
    ) -> Result<bool, BackendError> {
        let _ = (user, email, reissue);
        Err(BackendError::new(
            ErrorKind::Rejected,
            "this backend cannot send Mobile Pass invitations",
        ))
    }

    /// Gives `user` a card from the account's card bank: the unassigned
    /// card whose reference id starts with `pool`, lowest first. Returns
    /// the card's reference id, or `None` when the user already holds a
    /// card of the pool (a crash after assigning: nothing assigned). Only
    /// ever called for owned users.
    ///
    /// # Errors
    /// Of kind [`ErrorKind::Rejected`] when the pool has no card left.
    /// The default refuses: a backend without a card bank.
    async fn assign_card(
        &self,
        user: BrivoUserId,
        pool: &str,
    ) -> Result<Option<String>, BackendError> {
        let _ = (user, pool);
        Err(BackendError::new(
            ErrorKind::Rejected,
            "this backend has no card bank",
        ))
    }

    /// Makes every credential `user` holds valid within `window`
    /// (Brivo's `effectiveFrom`/`effectiveTo` on each assignment; a
    /// `to` of `None` is no end, a `from` of `None` keeps the start the
    /// credential has) and returns what it holds, so the runner knows to
    /// look again for a user still waiting for a pass. Only ever called
    /// for owned users.
    ///
    /// The default refuses: a backend without credentials.
    async fn set_credential_window(
        &self,
        user: BrivoUserId,
        window: CredentialWindow,
    ) -> Result<CredentialsHeld, BackendError> {
        let _ = (user, window);
        Err(BackendError::new(
            ErrorKind::Rejected,
            "this backend cannot set credential windows",
        ))
    }

    /// Before adopting an unowned user (adopt-by-email): why it must not
    /// be adopted under `rules`, if there is a reason the observation could
    /// not show (groups this integration does not manage, credentials).
    /// `Ok(None)`: adopt it.
    ///
    /// The default finds no reason; [`BrivoBackend`](crate::BrivoBackend)
    /// reads the user's groups and credentials.
    async fn adoption_refusal(
        &self,
        user: BrivoUserId,
        rules: &AdoptionRules,
    ) -> Result<Option<String>, BackendError> {
        let _ = (user, rules);
        Ok(None)
    }

    /// The requests made so far.
    fn calls(&self) -> CallCounts;
}

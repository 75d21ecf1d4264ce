//! In-memory test doubles: a [`MemoryBackend`] that behaves like a small
//! Brivo account, and a [`StaticSource`] that returns fixed facts. Use them
//! to test a configuration (mappings + policy) without any network.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use access_engine::{
    BrivoUserId, CredentialWindow, Facts, GroupId, Observed, ObservedGroup, ObservedUser, Profile,
    ProfileField, Scope,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::backend::{
    AccessBackend, AdoptionRules, BackendError, CallCounts, CapRefusal, CredentialsHeld,
    GroupsApplied, MAX_GROUPS_PER_USER, ObserveScope, UserUpdate,
};
use crate::error::ErrorKind;
use crate::sources::{FactSource, SourceBatch, SourceError};

/// A user held by a [`MemoryBackend`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemoryUser {
    /// Id.
    pub id: BrivoUserId,
    /// External id.
    pub external_id: Option<String>,
    /// Profile.
    pub profile: Profile,
    /// Suspended.
    pub suspended: bool,
    /// Every group (managed or not).
    pub groups: BTreeSet<GroupId>,
    /// Credentials held (cards, passes): only counted.
    pub credentials: usize,
    /// The window last set on them.
    pub credential_window: Option<CredentialWindow>,
}

#[derive(Debug, Default)]
struct State {
    next_id: i64,
    users: BTreeMap<BrivoUserId, MemoryUser>,
    groups: BTreeMap<GroupId, String>,
    reads: u64,
    writes: u64,
    fail_observe: bool,
    failing_users: BTreeSet<BrivoUserId>,
    failing_creates: BTreeSet<String>,
    refusing_additions: BTreeSet<BrivoUserId>,
    /// Mobile Pass invitations sent: (user, email), oldest first.
    invitations: Vec<(BrivoUserId, String)>,
}

/// An in-memory access backend with Brivo's semantics: atomic group changes,
/// idempotent adds and removes, lookup by external id, and the 16-group
/// cap counted over every group of the user, managed or not (seed a user
/// with unmanaged groups through [`add_user`](Self::add_user) or
/// [`put_in_group`](Self::put_in_group)). A change over the cap is refused
/// whole, then its removals are applied alone and its additions reported
/// refused, as [`BrivoBackend`](crate::BrivoBackend) does against Brivo.
/// Counts one read per `observe`, `find_user` and re-read after a refused
/// group change, one write per write. Cheap to clone (shared state).
///
/// ```
/// use access_engine::{GroupId, Profile};
/// use access_sync::memory::MemoryBackend;
///
/// let brivo = MemoryBackend::new();
/// brivo.add_group(GroupId(7), "Residents");
/// let id = brivo.add_user(None, Profile::new("Sam", "Staff"), &[GroupId(7)]);
/// assert_eq!(brivo.members_of(GroupId(7)), vec![id]);
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryBackend {
    state: Arc<Mutex<State>>,
}

impl MemoryBackend {
    /// An empty account.
    pub fn new() -> Self {
        let b = MemoryBackend::default();
        b.lock().next_id = 1000;
        b
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a group.
    pub fn add_group(&self, id: GroupId, name: impl Into<String>) {
        self.lock().groups.insert(id, name.into());
    }

    /// Adds a user (seeding; not counted).
    pub fn add_user(
        &self,
        external_id: Option<&str>,
        profile: Profile,
        groups: &[GroupId],
    ) -> BrivoUserId {
        let mut st = self.lock();
        st.next_id += 1;
        let id = BrivoUserId(st.next_id);
        st.users.insert(
            id,
            MemoryUser {
                id,
                external_id: external_id.map(str::to_owned),
                profile,
                suspended: false,
                groups: groups.iter().copied().collect(),
                credentials: 0,
                credential_window: None,
            },
        );
        id
    }

    /// Gives `user` one more credential (a card, a redeemed pass).
    pub fn add_credential(&self, user: BrivoUserId) {
        if let Some(u) = self.lock().users.get_mut(&user) {
            u.credentials += 1;
        }
    }

    /// The Mobile Pass invitations sent to `user`, oldest first (their
    /// emails).
    pub fn invitations(&self, user: BrivoUserId) -> Vec<String> {
        self.lock()
            .invitations
            .iter()
            .filter(|(u, _)| *u == user)
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// Every user.
    pub fn users(&self) -> Vec<MemoryUser> {
        self.lock().users.values().cloned().collect()
    }

    /// The user with this external id.
    pub fn user_by_external_id(&self, external_id: &str) -> Option<MemoryUser> {
        self.lock()
            .users
            .values()
            .find(|u| u.external_id.as_deref() == Some(external_id))
            .cloned()
    }

    /// The members of a group, sorted.
    pub fn members_of(&self, group: GroupId) -> Vec<BrivoUserId> {
        self.lock()
            .users
            .values()
            .filter(|u| u.groups.contains(&group))
            .map(|u| u.id)
            .collect()
    }

    /// Makes `observe` fail until set back.
    pub fn fail_observe(&self, fail: bool) {
        self.lock().fail_observe = fail;
    }

    /// Makes every write on this user fail until [`clear_failures`](Self::clear_failures).
    pub fn fail_user(&self, user: BrivoUserId) {
        self.lock().failing_users.insert(user);
    }

    /// Makes creating the user with this external id fail.
    pub fn fail_create(&self, external_id: &str) {
        self.lock().failing_creates.insert(external_id.to_owned());
    }

    /// Makes every group change that adds this user to a group refused as
    /// Brivo refuses one for a reason other than the 16-group cap (a plain
    /// 400, e.g. the user's credentials already exist in a linked group),
    /// until [`clear_failures`](Self::clear_failures). Changes that only
    /// remove still succeed.
    pub fn refuse_group_additions(&self, user: BrivoUserId) {
        self.lock().refusing_additions.insert(user);
    }

    /// Puts a user in a group directly, managed or not (seeding; not
    /// counted, no cap check), e.g. to give a user groups the integration
    /// does not manage.
    ///
    /// # Panics
    /// If the user does not exist: a test bug.
    pub fn put_in_group(&self, user: BrivoUserId, group: GroupId) {
        self.lock()
            .users
            .get_mut(&user)
            .expect("put_in_group: no such user")
            .groups
            .insert(group);
    }

    /// Takes a user out of a group directly, as an administrator would by
    /// hand (not counted).
    pub fn take_out_of_group(&self, user: BrivoUserId, group: GroupId) {
        if let Some(u) = self.lock().users.get_mut(&user) {
            u.groups.remove(&group);
        }
    }

    /// Removes every injected failure.
    pub fn clear_failures(&self) {
        let mut st = self.lock();
        st.fail_observe = false;
        st.failing_users.clear();
        st.failing_creates.clear();
        st.refusing_additions.clear();
    }
}

fn write_user(st: &mut State, user: BrivoUserId) -> Result<&mut MemoryUser, BackendError> {
    st.writes += 1;
    if st.failing_users.contains(&user) {
        return Err(BackendError::new(
            ErrorKind::Transient,
            format!("injected failure on {user}"),
        ));
    }
    st.users
        .get_mut(&user)
        .ok_or_else(|| BackendError::not_found(user))
}

#[async_trait]
impl AccessBackend for MemoryBackend {
    async fn observe(&self, scope: &ObserveScope) -> Result<Observed, BackendError> {
        let mut st = self.lock();
        st.reads += 1;
        if st.fail_observe {
            return Err(BackendError::new(
                ErrorKind::Transient,
                "injected observe failure",
            ));
        }
        let groups = st
            .groups
            .iter()
            .filter(|(id, _)| scope.managed_groups.contains(id))
            .map(|(id, name)| ObservedGroup::new(*id, name.clone()))
            .collect();
        let users = st
            .users
            .values()
            .filter_map(|u| {
                let managed: Vec<GroupId> = u
                    .groups
                    .iter()
                    .filter(|g| scope.managed_groups.contains(g))
                    .copied()
                    .collect();
                let candidate = scope.adoption_candidates && u.profile.email.is_some();
                (scope.is_owned(u.external_id.as_deref()) || !managed.is_empty() || candidate).then(
                    || {
                        let mut o = ObservedUser::new(u.id)
                            .with_name(u.profile.first_name.clone(), u.profile.last_name.clone())
                            .with_suspended(u.suspended)
                            .with_groups(managed);
                        o.external_id = u.external_id.clone();
                        o.emails = u.profile.email.iter().cloned().collect();
                        o.phones = u.profile.phone.iter().cloned().collect();
                        o
                    },
                )
            })
            .collect();
        Ok(Observed::new(users, groups))
    }

    /// One read a user (as Brivo's `GET /users/{id}` with its groups).
    async fn observe_users(
        &self,
        scope: &ObserveScope,
        users: &[BrivoUserId],
    ) -> Result<Vec<ObservedUser>, BackendError> {
        if users.is_empty() {
            return Ok(Vec::new());
        }
        {
            let mut st = self.lock();
            // the full observation below counts one
            st.reads += users.len() as u64 - 1;
        }
        let observed = self.observe(scope).await?;
        let wanted: std::collections::BTreeSet<_> = users.iter().collect();
        Ok(observed
            .users
            .into_iter()
            .filter(|u| wanted.contains(&u.id))
            .collect())
    }

    async fn invite_mobile_pass(
        &self,
        user: BrivoUserId,
        email: &str,
        reissue: bool,
    ) -> Result<bool, BackendError> {
        let mut st = self.lock();
        st.writes += 1;
        if !st.users.contains_key(&user) {
            return Err(BackendError::not_found(format!("no user {user}")));
        }
        let held = st.invitations.iter().any(|(u, _)| *u == user);
        if held && !reissue {
            return Ok(false);
        }
        st.invitations.push((user, email.to_owned()));
        Ok(true)
    }

    async fn set_credential_window(
        &self,
        user: BrivoUserId,
        window: CredentialWindow,
    ) -> Result<CredentialsHeld, BackendError> {
        let mut st = self.lock();
        st.reads += 1;
        let Some(u) = st.users.get_mut(&user) else {
            return Err(BackendError::not_found(format!("no user {user}")));
        };
        let held = u.credentials;
        if held > 0 {
            u.credential_window = Some(window);
            st.writes += held as u64;
        }
        Ok(CredentialsHeld::new(held, 0))
    }

    async fn adoption_refusal(
        &self,
        user: BrivoUserId,
        rules: &AdoptionRules,
    ) -> Result<Option<String>, BackendError> {
        let st = self.lock();
        let Some(u) = st.users.get(&user) else {
            return Err(BackendError::not_found(format!("no user {user}")));
        };
        let other: Vec<String> = u
            .groups
            .iter()
            .filter(|g| !rules.managed_groups.contains(g))
            .map(|g| g.0.to_string())
            .collect();
        Ok(
            (!rules.allow_unmanaged_groups && !other.is_empty()).then(|| {
                format!(
                    "it is in groups this integration does not manage: {}",
                    other.join(", ")
                )
            }),
        )
    }

    async fn find_user(&self, external_id: &str) -> Result<Option<BrivoUserId>, BackendError> {
        let mut st = self.lock();
        st.reads += 1;
        Ok(st
            .users
            .values()
            .find(|u| u.external_id.as_deref() == Some(external_id))
            .map(|u| u.id))
    }

    async fn create_user(
        &self,
        external_id: &str,
        profile: &Profile,
    ) -> Result<BrivoUserId, BackendError> {
        let mut st = self.lock();
        st.writes += 1;
        if st.failing_creates.contains(external_id) {
            return Err(BackendError::failed(format!(
                "injected create failure for {external_id}"
            )));
        }
        st.next_id += 1;
        let id = BrivoUserId(st.next_id);
        st.users.insert(
            id,
            MemoryUser {
                id,
                external_id: Some(external_id.to_owned()),
                profile: profile.clone(),
                suspended: false,
                groups: BTreeSet::new(),
                credentials: 0,
                credential_window: None,
            },
        );
        Ok(id)
    }

    async fn update_user(
        &self,
        user: BrivoUserId,
        update: UserUpdate<'_>,
    ) -> Result<(), BackendError> {
        let mut st = self.lock();
        let u = write_user(&mut st, user)?;
        if let Some(ext) = update.external_id {
            u.external_id = Some(ext.to_owned());
        }
        for f in update.fields {
            match f {
                ProfileField::FirstName => u.profile.first_name = update.profile.first_name.clone(),
                ProfileField::LastName => u.profile.last_name = update.profile.last_name.clone(),
                ProfileField::Email => u.profile.email = update.profile.email.clone(),
                ProfileField::Phone => u.profile.phone = update.profile.phone.clone(),
            }
        }
        Ok(())
    }

    async fn set_suspended(&self, user: BrivoUserId, suspended: bool) -> Result<(), BackendError> {
        let mut st = self.lock();
        write_user(&mut st, user)?.suspended = suspended;
        Ok(())
    }

    /// Brivo's sequence, call for call: one atomic change (a write); if it
    /// is refused (a plain 400: over the cap, or
    /// [`refuse_group_additions`](MemoryBackend::refuse_group_additions))
    /// and it had additions, a re-read of the user's groups (a read); then
    /// the removals alone (a write), reported as held additions when the
    /// re-read shows the cap, as a failure of the additions otherwise.
    async fn change_groups(
        &self,
        user: BrivoUserId,
        add: &[GroupId],
        remove: &[GroupId],
    ) -> Result<GroupsApplied, BackendError> {
        let mut st = self.lock();
        let known: BTreeSet<GroupId> = st.groups.keys().copied().collect();
        if let Some(g) = add.iter().chain(remove).find(|g| !known.contains(g)) {
            st.writes += 1;
            return Err(BackendError::not_found(g));
        }
        let refuse_adds = !add.is_empty() && st.refusing_additions.contains(&user);
        let u = write_user(&mut st, user)?;
        let before = u.groups.clone();
        let mut after = before.clone();
        after.extend(add.iter().copied());
        for g in remove {
            after.remove(g);
        }
        if after.len() <= MAX_GROUPS_PER_USER && !refuse_adds {
            u.groups = after;
            return Ok(GroupsApplied::all());
        }
        // Refused as Brivo does: a 400 whose text names no cause, nothing
        // changed.
        let refused = BackendError::new(
            ErrorKind::Rejected,
            format!("change_groups: Brivo answered 400 for {user}: Invalid criteria provided"),
        );
        if add.is_empty() {
            return Err(refused);
        }
        st.reads += 1; // GET /users/{id}/groups
        let Some(cap) = CapRefusal::detect(before, 0, add, remove, MAX_GROUPS_PER_USER) else {
            // Not the cap; the removals still go out alone (never waiting
            // on additions), and the additions' refusal is reported.
            if remove.is_empty() {
                return Err(refused);
            }
            let u = write_user(&mut st, user)?;
            for g in remove {
                u.groups.remove(g);
            }
            return Err(BackendError::new(
                ErrorKind::Rejected,
                format!(
                    "change_groups: Brivo answered 400 for {user}: Invalid criteria provided \
                     (the additions; the removals were sent alone and applied)"
                ),
            ));
        };
        if !remove.is_empty() {
            let u = write_user(&mut st, user)?;
            for g in remove {
                u.groups.remove(g);
            }
        }
        Ok(GroupsApplied::additions_refused(cap))
    }

    async fn delete_user(&self, user: BrivoUserId) -> Result<(), BackendError> {
        let mut st = self.lock();
        write_user(&mut st, user)?;
        st.users.remove(&user);
        Ok(())
    }

    fn calls(&self) -> CallCounts {
        let st = self.lock();
        CallCounts::new(st.reads, st.writes)
    }
}

/// A source that returns fixed facts, or fails; the facts can be swapped
/// between runs. Cheap to clone (shared state).
#[derive(Debug, Clone)]
pub struct StaticSource {
    name: String,
    scope: Scope,
    facts: Arc<Mutex<Result<Facts, SourceError>>>,
    fetches: Arc<std::sync::atomic::AtomicU64>,
    calls: u64,
}

impl StaticSource {
    /// A source named `name` covering `scope`, returning `facts`.
    pub fn new(name: impl Into<String>, scope: Scope, facts: Facts) -> Self {
        StaticSource {
            name: name.into(),
            scope,
            facts: Arc::new(Mutex::new(Ok(facts))),
            fetches: Arc::default(),
            calls: 0,
        }
    }

    /// Each fetch reports `n` calls made (counted against the source's
    /// [`Budget`](crate::Budget)).
    pub fn with_calls(mut self, n: u64) -> Self {
        self.calls = n;
        self
    }

    /// How many times the source was fetched.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Replaces the facts returned from now on.
    pub fn set_facts(&self, facts: Facts) {
        *self.facts.lock().unwrap_or_else(|e| e.into_inner()) = Ok(facts);
    }

    /// Makes every fetch fail with `message` (an error of kind
    /// [`ErrorKind::Other`]) until [`set_facts`](Self::set_facts).
    pub fn fail(&self, message: impl Into<String>) {
        self.fail_with(ErrorKind::Other, message);
    }

    /// Makes every fetch fail with an error of this kind until
    /// [`set_facts`](Self::set_facts).
    ///
    /// ```
    /// use access_engine::{Facts, Scope, Source};
    /// use access_sync::{ErrorKind, FactSource, memory::StaticSource};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let source = StaticSource::new("entrata", Scope::Source(Source::Entrata), Facts::default());
    /// source.fail_with(ErrorKind::Throttled, "HTTP 429 from getLeases");
    /// let e = source.fetch(chrono::Utc::now()).await.unwrap_err();
    /// assert!(e.is_throttle());
    /// # }
    /// ```
    pub fn fail_with(&self, kind: ErrorKind, message: impl Into<String>) {
        let error = SourceError::new(&self.name, message.into()).with_kind(kind);
        *self.facts.lock().unwrap_or_else(|e| e.into_inner()) = Err(error);
    }
}

#[async_trait]
impl FactSource for StaticSource {
    fn name(&self) -> &str {
        &self.name
    }

    fn scope(&self) -> Scope {
        self.scope.clone()
    }

    async fn fetch(&self, _now: DateTime<Utc>) -> Result<SourceBatch, SourceError> {
        self.fetches
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let facts = self.facts.lock().unwrap_or_else(|e| e.into_inner()).clone();
        facts.map(|f| SourceBatch::new(f).with_calls(self.calls))
    }
}

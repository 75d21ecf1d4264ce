//! The Brivo backend: [`AccessBackend`] over [`brivo_client::Client`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};

use access_engine::{
    BrivoUserId, CredentialWindow, GroupId, Observed, ObservedGroup, ObservedUser, Profile,
    ProfileField,
};
use async_trait::async_trait;
use brivo_client::{
    Client, Email, GroupQuery, NewUser, Page, PhoneNumber, User, UserPatch, UserQuery,
};
use futures::{Stream, StreamExt as _};
use tracing::{debug, warn};

use crate::backend::{
    AccessBackend, AdoptionRules, BackendError, CallCounts, CapRefusal, CredentialsHeld,
    GroupsApplied, MAX_GROUPS_PER_USER, ObserveScope, UserUpdate,
};

/// The end written for "no end": Brivo documents no way to clear an
/// `effectiveTo` once set (unassigning a Mobile Pass would destroy it).
const NO_END: &str = "2100-01-01T00:00:00Z";
/// Brivo's credential format of a PIN, whose window is the user's own
/// (`effectiveFrom`/`effectiveTo` on the user: "the beginning date that a
/// user's PIN is valid for use", in Brivo's user API).
const PIN_FORMAT: i64 = 2;
/// Brivo's credential format of a Brivo Mobile Pass.
const MOBILE_PASS_FORMAT: i64 = 307;

/// Brivo's `type` for the email the integration writes.
const EMAIL_KIND: &str = "work";
/// Brivo's `type` for the phone number the integration writes.
const PHONE_KIND: &str = "mobile";

/// Writes access to Brivo through [`brivo_client::Client`] (its rate
/// limiter, retries and token cache apply to every call).
///
/// Observation reads, per run: the group list, the members of each managed
/// group, and the user list (Brivo cannot filter users by external-id
/// prefix: `externalId` is not a filterable field, and its text filters
/// match substrings), all paged by 100. Each page is one read in
/// [`CallCounts::reads`]. A managed group Brivo does not have is left out
/// (the engine then plans nothing against it and warns).
///
/// Group changes cost one atomic `POST /users/{id}/groups` per user. When
/// Brivo refuses one with a 400 and it adds groups, one
/// `GET /users/{id}/groups` tells whether the 16-group cap is the cause
/// (Brivo's message does not say); if so, the removals are sent alone and
/// the additions are reported refused (see
/// [`AccessBackend::change_groups`]).
///
/// ```no_run
/// use access_sync::{BrivoBackend, Syncer};
/// # fn client() -> brivo_client::Client { unimplemented!() }
/// let syncer = Syncer::builder(BrivoBackend::new(client())).build();
/// ```
#[derive(Debug, Clone)]
pub struct BrivoBackend {
    client: Client,
    counters: std::sync::Arc<Counters>,
    /// One card from the pool at a time: two users' actions run
    /// concurrently and would otherwise both pick the lowest free card.
    card_bank: std::sync::Arc<tokio::sync::Mutex<()>>,
}

#[derive(Debug, Default)]
struct Counters {
    reads: AtomicU64,
    writes: AtomicU64,
}

fn to_backend(e: brivo_client::Error) -> BackendError {
    BackendError::from(e)
}

/// A refusal of a group change that may be the 16-group cap: Brivo's
/// documented answer is a plain 400 (the client's message-based
/// [`GroupLimitExceeded`](brivo_client::Error::GroupLimitExceeded) is taken
/// as a 400 too). Only a re-read of the user's groups tells.
fn may_be_group_cap(e: &brivo_client::Error) -> bool {
    matches!(e, brivo_client::Error::GroupLimitExceeded { .. }) || e.status() == Some(400)
}

/// The removals sent alone after a cap refusal failed: nothing was applied.
fn removals_failed(cap: &CapRefusal, e: brivo_client::Error) -> BackendError {
    BackendError::from(e).context(format_args!(
        "Brivo refused the additions for its group cap ({cap}), and the removals sent alone failed"
    ))
}

/// The engine's view of a Brivo user, as [`BrivoBackend`] observes it: id,
/// external id, names, suspension, e-mail addresses and phone numbers.
///
/// Its `groups` are left empty: a user listing does not carry group
/// memberships, so the backend fills in each managed group from that
/// group's member listing (push `GroupId`s onto `groups` the same way if
/// you build an [`Observed`] of your own).
///
/// ```
/// let user: brivo_client::User = serde_json::from_str(r#"{
///     "id": 900, "externalId": "sync:entrata:50", "firstName": "Alan", "lastName": "Turing",
///     "suspended": false, "emails": [{"address": "alan@example.com", "type": "work"}]
/// }"#).unwrap();
/// let observed = access_sync::brivo::observed_user(&user);
/// assert_eq!(observed.id, access_engine::BrivoUserId(900));
/// assert_eq!(observed.external_id.as_deref(), Some("sync:entrata:50"));
/// assert_eq!(observed.emails, vec!["alan@example.com".to_owned()]);
/// assert!(observed.groups.is_empty());
/// ```
pub fn observed_user(u: &User) -> ObservedUser {
    let mut o = ObservedUser::new(user_id(u.id))
        .with_name(u.first_name.clone(), u.last_name.clone())
        .with_suspended(u.is_suspended());
    o.external_id = u.external_id.clone();
    o.emails = u.emails.iter().map(|e| e.address.clone()).collect();
    o.phones = u.phone_numbers.iter().map(|p| p.number.clone()).collect();
    o
}

/// The engine's view of a Brivo group: its id and name.
///
/// ```
/// let group: brivo_client::Group = serde_json::from_str(r#"{"id": 7101, "name": "Harbor View residents"}"#).unwrap();
/// let observed = access_sync::brivo::observed_group(&group);
/// assert_eq!(observed.id, access_engine::GroupId(7101));
/// assert_eq!(observed.name, "Harbor View residents");
/// ```
pub fn observed_group(g: &brivo_client::Group) -> ObservedGroup {
    ObservedGroup::new(group_id(g.id), g.name.clone())
}

/// A Brivo user id as the engine names it. (The two crates cannot
/// implement `From` between their ids: neither depends on the other. Both
/// ids convert from and to `i64`.)
///
/// ```
/// use access_sync::brivo::{brivo_user_id, user_id};
/// let id = user_id(brivo_client::UserId(12));
/// assert_eq!(id, access_engine::BrivoUserId(12));
/// assert_eq!(brivo_user_id(id), brivo_client::UserId(12));
/// // the same through i64
/// let raw: i64 = brivo_client::UserId(12).into();
/// assert_eq!(access_engine::BrivoUserId::from(raw), id);
/// assert_eq!(brivo_client::UserId::from(i64::from(id)), brivo_client::UserId(12));
/// ```
pub fn user_id(id: brivo_client::UserId) -> BrivoUserId {
    BrivoUserId::from(id.get())
}

/// An engine user id as Brivo's client names it (see [`user_id`]).
pub fn brivo_user_id(id: BrivoUserId) -> brivo_client::UserId {
    brivo_client::UserId::from(id.get())
}

/// A Brivo group id as the engine names it (see [`user_id`]).
///
/// ```
/// use access_sync::brivo::{brivo_group_id, group_id};
/// assert_eq!(group_id(brivo_client::GroupId(7101)), access_engine::GroupId(7101));
/// assert_eq!(brivo_group_id(access_engine::GroupId(7101)), brivo_client::GroupId(7101));
/// ```
pub fn group_id(id: brivo_client::GroupId) -> GroupId {
    GroupId::from(id.get())
}

/// An engine group id as Brivo's client names it (see [`user_id`]).
pub fn brivo_group_id(id: GroupId) -> brivo_client::GroupId {
    brivo_client::GroupId::from(id.get())
}

impl BrivoBackend {
    /// A backend over this client.
    pub fn new(client: Client) -> Self {
        BrivoBackend {
            client,
            counters: std::sync::Arc::default(),
            card_bank: std::sync::Arc::default(),
        }
    }

    /// The client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    fn read(&self) {
        self.counters.reads.fetch_add(1, Ordering::Relaxed);
    }

    fn write(&self) {
        self.counters.writes.fetch_add(1, Ordering::Relaxed);
    }

    /// After a refused group change: re-reads the user's groups (all of
    /// them, managed or not) and says whether the change would exceed the
    /// cap (`None`: it would not).
    async fn cap_refusal(
        &self,
        user: brivo_client::UserId,
        add: &[GroupId],
        remove: &[GroupId],
    ) -> Result<Option<CapRefusal>, brivo_client::Error> {
        self.read();
        let listing = self.client.user_groups(user).await?;
        let mut groups: BTreeSet<GroupId> = listing.items.iter().map(|g| group_id(g.id)).collect();
        groups.extend(listing.skipped.iter().filter_map(|s| s.id).map(GroupId));
        // Groups Brivo counts but did not let us identify (unreadable
        // records, or a `count` above what it listed) still count.
        let listed = groups.len();
        let counted = listing
            .total
            .and_then(|t| usize::try_from(t).ok())
            .unwrap_or(0)
            .max(listing.items.len() + listing.skipped.len());
        let unidentified = counted.saturating_sub(listed);
        Ok(CapRefusal::detect(
            groups,
            unidentified,
            add,
            remove,
            MAX_GROUPS_PER_USER,
        ))
    }

    /// Collects a paged listing, counting one read per page and failing on
    /// the first error (a partial observation is no observation).
    async fn collect<T>(
        &self,
        what: &str,
        pages: impl Stream<Item = Result<Page<T>, brivo_client::Error>>,
    ) -> Result<Vec<T>, BackendError> {
        let mut pages = std::pin::pin!(pages);
        let mut items = Vec::new();
        while let Some(page) = pages.next().await {
            self.read();
            let page = page.map_err(to_backend)?;
            for s in &page.skipped {
                warn!(what, index = s.index, id = ?s.id, reason = %s.reason,
                    "Brivo sent a record that could not be read; it is left out");
            }
            items.extend(page.items);
        }
        Ok(items)
    }
}

#[async_trait]
impl AccessBackend for BrivoBackend {
    async fn observe(&self, scope: &ObserveScope) -> Result<Observed, BackendError> {
        let groups = self
            .collect(
                "groups",
                self.client.list_groups(GroupQuery::default()).pages(),
            )
            .await?;
        let groups: Vec<ObservedGroup> = groups
            .into_iter()
            .filter(|g| scope.managed_groups.contains(&group_id(g.id)))
            .map(|g| observed_group(&g))
            .collect();
        let mut users: BTreeMap<i64, ObservedUser> = BTreeMap::new();
        for u in self
            .collect(
                "users",
                self.client.list_users(UserQuery::default()).pages(),
            )
            .await?
        {
            // With adoption, every user with an email: the engine adopts
            // only unclaimed ones and warns about the others it matches.
            if scope.is_owned(u.external_id.as_deref())
                || (scope.adoption_candidates && !u.emails.is_empty())
            {
                users.insert(u.id.0, observed_user(&u));
            }
        }
        for g in &groups {
            let members = self
                .collect(
                    "group members",
                    self.client.group_members(brivo_group_id(g.id)).pages(),
                )
                .await?;
            for m in members {
                users
                    .entry(m.id.0)
                    .or_insert_with(|| observed_user(&m))
                    .groups
                    .push(g.id);
            }
        }
        debug!(users = users.len(), groups = groups.len(), "observed Brivo");
        Ok(Observed::new(users.into_values().collect(), groups))
    }

    /// Two reads a user: `GET /users/{id}` (a 404 is a user gone) and
    /// `GET /users/{id}/groups` (one page holds Brivo's 16-group cap).
    async fn observe_users(
        &self,
        scope: &ObserveScope,
        users: &[BrivoUserId],
    ) -> Result<Vec<ObservedUser>, BackendError> {
        let mut out = Vec::with_capacity(users.len());
        for &id in users {
            self.read();
            let u = match self.client.get_user(brivo_user_id(id)).await {
                Ok(u) => u,
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(to_backend(e).context(format_args!("re-reading user {id}"))),
            };
            self.read();
            let listing = self.client.user_groups(u.id).await.map_err(|e| {
                to_backend(e).context(format_args!("re-reading user {id}'s groups"))
            })?;
            // a membership we cannot read, or one Brivo counts but did not
            // list, could be a managed one
            let counted = listing
                .total
                .and_then(|t| usize::try_from(t).ok())
                .unwrap_or(0);
            if !listing.skipped.is_empty() || counted > listing.items.len() {
                return Err(BackendError::failed(format!(
                    "user {id}'s groups: {} listed of {counted} counted, {} unreadable",
                    listing.items.len(),
                    listing.skipped.len()
                )));
            }
            let mut o = observed_user(&u);
            o.groups = listing
                .items
                .iter()
                .map(|g| group_id(g.id))
                .filter(|g| scope.managed_groups.contains(g))
                .collect();
            o.groups.sort();
            if scope.is_owned(o.external_id.as_deref())
                || (scope.adoption_candidates && !o.emails.is_empty())
                || !o.groups.is_empty()
            {
                out.push(o);
            }
        }
        Ok(out)
    }

    async fn invite_mobile_pass(
        &self,
        user: BrivoUserId,
        email: &str,
        reissue: bool,
    ) -> Result<bool, BackendError> {
        use brivo_client::{InvitationStatus, MobilePassInvitation};
        let id = brivo_user_id(user);
        let held = self
            .collect(
                "digital invitations",
                self.client.digital_invitations(id, None).pages(),
            )
            .await?;
        let status = |s: &InvitationStatus| held.iter().any(|i| i.status.as_ref() == Some(s));
        let pending = status(&InvitationStatus::Pending);
        // a state we do not know counts as held: never a second invitation by guess
        let holds = pending
            || status(&InvitationStatus::Redeemed)
            || held
                .iter()
                .any(|i| matches!(i.status, Some(InvitationStatus::Other(_)) | None));
        if holds && !reissue {
            return Ok(false);
        }
        if reissue && pending {
            self.write();
            self.client
                .cancel_digital_invitation(id)
                .await
                .map_err(to_backend)?;
        }
        self.write();
        self.client
            .create_mobile_pass_invitation(id, &MobilePassInvitation::new(email))
            .await
            .map_err(to_backend)?;
        Ok(true)
    }

    async fn assign_card(
        &self,
        user: BrivoUserId,
        pool: &str,
    ) -> Result<Option<String>, BackendError> {
        use brivo_client::{CredentialQuery, CredentialStatus, CredentialWindow};
        let id = brivo_user_id(user);
        let in_pool = |c: &brivo_client::Credential| {
            c.reference_id
                .as_deref()
                .is_some_and(|r| r.starts_with(pool))
        };
        // a crash after assigning: the user holds one already
        let held = self
            .collect("credentials", self.client.user_credentials(id).pages())
            .await?;
        if held.iter().any(in_pool) {
            return Ok(None);
        }
        let _one_at_a_time = self.card_bank.lock().await;
        // the filter is a contains-match: keep the prefix ones, lowest first
        let query = CredentialQuery::default()
            .status(CredentialStatus::Unassigned)
            .reference_id_contains(pool);
        let mut bank = self
            .collect("the card bank", self.client.list_credentials(query).pages())
            .await?;
        bank.retain(in_pool);
        bank.sort_by(|a, b| (&a.reference_id, a.id).cmp(&(&b.reference_id, b.id)));
        let Some(card) = bank.first() else {
            return Err(BackendError::new(
                crate::ErrorKind::Rejected,
                format!(
                    "card pool {pool:?} has no unassigned card left: add cards to Brivo's card bank"
                ),
            ));
        };
        self.write();
        self.client
            .assign_credential(id, card.id, CredentialWindow::default())
            .await
            .map_err(to_backend)?;
        Ok(card.reference_id.clone())
    }

    async fn set_credential_window(
        &self,
        user: BrivoUserId,
        window: CredentialWindow,
    ) -> Result<CredentialsHeld, BackendError> {
        let id = brivo_user_id(user);
        let held = self
            .collect("credentials", self.client.user_credentials(id).pages())
            .await?;
        let no_end = chrono::DateTime::parse_from_rfc3339(NO_END)
            .map(|t| t.to_utc())
            .ok();
        let mut pin = false;
        for c in &held {
            if c.credential_format
                .as_ref()
                .is_some_and(|f| f.id == PIN_FORMAT)
            {
                pin = true;
                continue;
            }
            // no end: leave a credential that has none, end the others far away
            let to = window.to.or(c.effective_to.and(no_end));
            let same_from = window.from.is_none() || c.effective_from == window.from;
            if c.effective_to == to && same_from {
                continue;
            }
            self.write();
            self.client
                .assign_credential(
                    id,
                    c.id,
                    brivo_client::CredentialWindow::new(window.from, to),
                )
                .await
                .map_err(|e| to_backend(e).context(format_args!("credential {}", c.id)))?;
        }
        if pin {
            // a PIN's window is the user's own
            self.write();
            let patch = UserPatch::default().pin_window(window.from, window.to.or(no_end));
            self.client
                .update_user(id, &patch)
                .await
                .map_err(|e| to_backend(e).context("the PIN's window"))?;
        }
        let passes = held
            .iter()
            .filter(|c| {
                c.credential_format
                    .as_ref()
                    .is_some_and(|f| f.id == MOBILE_PASS_FORMAT)
            })
            .count();
        Ok(CredentialsHeld::new(held.len(), passes))
    }

    async fn adoption_refusal(
        &self,
        user: BrivoUserId,
        rules: &AdoptionRules,
    ) -> Result<Option<String>, BackendError> {
        let id = brivo_user_id(user);
        if !rules.allow_unmanaged_groups {
            self.read();
            let groups = self.client.user_groups(id).await.map_err(to_backend)?;
            let other: Vec<String> = groups
                .items
                .iter()
                .filter(|g| !rules.managed_groups.contains(&group_id(g.id)))
                .map(|g| format!("{} {:?}", g.id.0, g.name))
                .collect();
            if !groups.skipped.is_empty() {
                return Ok(Some("some of its groups could not be read".to_owned()));
            }
            if !other.is_empty() {
                return Ok(Some(format!(
                    "it is in groups this integration does not manage: {}",
                    other.join(", ")
                )));
            }
        }
        if !rules.allow_credentials {
            let credentials = self
                .collect("user credentials", self.client.user_credentials(id).pages())
                .await?;
            if !credentials.is_empty() {
                return Ok(Some(format!(
                    "it holds {} credential(s)",
                    credentials.len()
                )));
            }
        }
        Ok(None)
    }

    async fn find_user(&self, external_id: &str) -> Result<Option<BrivoUserId>, BackendError> {
        self.read();
        let found = self
            .client
            .get_user_by_external_id(external_id)
            .await
            .map_err(to_backend)?;
        // Re-check: never trust a lookup to be an exact match.
        Ok(found
            .filter(|u| u.external_id.as_deref() == Some(external_id))
            .map(|u| user_id(u.id)))
    }

    async fn create_user(
        &self,
        external_id: &str,
        profile: &Profile,
    ) -> Result<BrivoUserId, BackendError> {
        let mut new =
            NewUser::new(&profile.first_name, &profile.last_name).external_id(external_id);
        if let Some(email) = &profile.email {
            new = new.email(Email::new(email, EMAIL_KIND));
        }
        if let Some(phone) = &profile.phone {
            new = new.phone_number(PhoneNumber::new(phone, PHONE_KIND));
        }
        self.write();
        let user = self.client.create_user(&new).await.map_err(to_backend)?;
        Ok(user_id(user.id))
    }

    async fn update_user(
        &self,
        user: BrivoUserId,
        update: UserUpdate<'_>,
    ) -> Result<(), BackendError> {
        let p = update.profile;
        let mut patch = UserPatch::default();
        if let Some(ext) = update.external_id {
            patch = patch.external_id(ext);
        }
        let fields: BTreeSet<ProfileField> = update.fields.iter().copied().collect();
        if fields.contains(&ProfileField::FirstName) {
            patch = patch.first_name(&p.first_name);
        }
        if fields.contains(&ProfileField::LastName) {
            patch = patch.last_name(&p.last_name);
        }
        if fields.contains(&ProfileField::Email) {
            patch = patch.emails(p.email.iter().map(|e| Email::new(e, EMAIL_KIND)).collect());
        }
        if fields.contains(&ProfileField::Phone) {
            patch = patch.phone_numbers(
                p.phone
                    .iter()
                    .map(|n| PhoneNumber::new(n, PHONE_KIND))
                    .collect(),
            );
        }
        if patch.is_empty() {
            return Ok(());
        }
        self.write();
        self.client
            .update_user(brivo_user_id(user), &patch)
            .await
            .map(drop)
            .map_err(to_backend)
    }

    async fn set_suspended(&self, user: BrivoUserId, suspended: bool) -> Result<(), BackendError> {
        self.write();
        self.client
            .set_suspended(brivo_user_id(user), suspended)
            .await
            .map(drop)
            .map_err(to_backend)
    }

    /// One atomic `POST /users/{id}/groups`. If Brivo refuses it with a 400
    /// and there were additions, one `GET /users/{id}/groups` tells whether
    /// the 16-group cap was the cause (Brivo's message does not say: its
    /// documented refusal is a plain 400); if so, the removals go alone in a
    /// second `POST` and the additions come back refused.
    async fn change_groups(
        &self,
        user: BrivoUserId,
        add: &[GroupId],
        remove: &[GroupId],
    ) -> Result<GroupsApplied, BackendError> {
        let conv = |l: &[GroupId]| -> Vec<brivo_client::GroupId> {
            l.iter().copied().map(brivo_group_id).collect()
        };
        let id = brivo_user_id(user);
        self.write();
        let refused = match self
            .client
            .change_groups(id, &conv(add), &conv(remove))
            .await
        {
            Ok(_) => return Ok(GroupsApplied::all()),
            Err(e) if !add.is_empty() && may_be_group_cap(&e) => e,
            Err(e) => return Err(to_backend(e)),
        };
        // Removals never wait on additions: whatever refused the call (the
        // cap, a group Brivo links elsewhere, groups it counts but does not
        // show us), the removals go out alone before anything is reported.
        let removals = || async {
            if remove.is_empty() {
                return Ok(());
            }
            self.write();
            self.client
                .change_groups(id, &[], &conv(remove))
                .await
                .map(drop)
        };
        let cap = match self.cap_refusal(id, add, remove).await {
            Ok(Some(cap)) => cap,
            // Room for the change: the 400 had another cause.
            Ok(None) => {
                return Err(match removals().await {
                    Ok(()) if !remove.is_empty() => {
                        let text = format!(
                            "{refused} (the additions; the removals were sent alone and applied)"
                        );
                        BackendError::from(refused).reworded(text)
                    }
                    Ok(()) => to_backend(refused),
                    // The removals' failure decides what a retry can do.
                    Err(e) => BackendError::from(e).context(format_args!(
                        "{refused}; the removals sent alone failed too"
                    )),
                });
            }
            Err(e) => {
                let sent = match removals().await {
                    Ok(()) if !remove.is_empty() => "; the removals were sent alone and applied",
                    Ok(()) => "",
                    Err(_) => "; the removals sent alone failed too",
                };
                let text = format!(
                    "{refused}; re-reading the user's groups to tell whether Brivo's group cap was the cause failed: {e}{sent}"
                );
                return Err(BackendError::from(e).reworded(text));
            }
        };
        debug!(%user, groups = cap.count, would_be = cap.would_be,
            "Brivo refused the additions for its group cap; sending the removals alone");
        if !remove.is_empty() {
            self.write();
            self.client
                .change_groups(id, &[], &conv(remove))
                .await
                .map_err(|e| removals_failed(&cap, e))?;
        }
        Ok(GroupsApplied::additions_refused(cap))
    }

    async fn delete_user(&self, user: BrivoUserId) -> Result<(), BackendError> {
        self.write();
        match self.client.delete_user(brivo_user_id(user)).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(BackendError::not_found(user)),
            Err(e) => Err(to_backend(e)),
        }
    }

    fn calls(&self) -> CallCounts {
        let http = self.client.calls();
        CallCounts {
            reads: self.counters.reads.load(Ordering::Relaxed),
            writes: self.counters.writes.load(Ordering::Relaxed),
            http: http.calls,
            retries: http.retries,
            throttled: http.throttled,
        }
    }
}

//! The Brivo backend: [`AccessBackend`] over [`brivo_client::Client`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};

use access_engine::{
    BrivoUserId, GroupId, Observed, ObservedGroup, ObservedUser, Profile, ProfileField,
};
use async_trait::async_trait;
use brivo_client::{
    Client, Email, GroupQuery, NewUser, Page, PhoneNumber, User, UserPatch, UserQuery,
};
use futures::{Stream, StreamExt as _};
use tracing::{debug, warn};

use crate::backend::{
    AccessBackend, BackendError, CallCounts, CapRefusal, GroupsApplied, MAX_GROUPS_PER_USER,
    ObserveScope, UserUpdate,
};

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

fn observed_user(u: &User) -> ObservedUser {
    let mut o = ObservedUser::new(BrivoUserId(u.id.0))
        .with_name(u.first_name.clone(), u.last_name.clone())
        .with_suspended(u.is_suspended());
    o.external_id = u.external_id.clone();
    o.emails = u.emails.iter().map(|e| e.address.clone()).collect();
    o.phones = u.phone_numbers.iter().map(|p| p.number.clone()).collect();
    o
}

impl BrivoBackend {
    /// A backend over this client.
    pub fn new(client: Client) -> Self {
        BrivoBackend {
            client,
            counters: std::sync::Arc::default(),
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
        let mut groups: BTreeSet<GroupId> = listing.items.iter().map(|g| GroupId(g.id.0)).collect();
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
            .filter(|g| scope.managed_groups.contains(&GroupId(g.id.0)))
            .map(|g| ObservedGroup::new(GroupId(g.id.0), g.name))
            .collect();
        let mut users: BTreeMap<i64, ObservedUser> = BTreeMap::new();
        for u in self
            .collect(
                "users",
                self.client.list_users(UserQuery::default()).pages(),
            )
            .await?
        {
            if scope.is_owned(u.external_id.as_deref()) {
                users.insert(u.id.0, observed_user(&u));
            }
        }
        for g in &groups {
            let members = self
                .collect(
                    "group members",
                    self.client
                        .group_members(brivo_client::GroupId(g.id.0))
                        .pages(),
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
            .map(|u| BrivoUserId(u.id.0)))
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
        Ok(BrivoUserId(user.id.0))
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
            .update_user(brivo_client::UserId(user.0), &patch)
            .await
            .map(drop)
            .map_err(to_backend)
    }

    async fn set_suspended(&self, user: BrivoUserId, suspended: bool) -> Result<(), BackendError> {
        self.write();
        self.client
            .set_suspended(brivo_client::UserId(user.0), suspended)
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
            l.iter().map(|g| brivo_client::GroupId(g.0)).collect()
        };
        let id = brivo_client::UserId(user.0);
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
        match self.client.delete_user(brivo_client::UserId(user.0)).await {
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

//! The fake Brivo Access API: OAuth2 password grant at `/oauth/token`, REST under
//! `/v1/api`. Shapes follow `/work/shared/api/brivo.md` (cited by section below).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use serde_json::{Map, Value, json};
use tokio::time::Instant;

use crate::SandboxCredentials;
use crate::common::{self, CallStats, Common, RateLimit, Style, json as json_resp, lock};
use crate::seed::BrivoSeed;

/// The most groups one Brivo user may belong to (`brivo.md` §3.2).
pub const MAX_GROUPS_PER_USER: usize = 16;

/// Optional user fields PUT replaces and PATCH merges (`brivo.md` §3.1 create/update tables).
const USER_FIELDS: &[&str] = &[
    "externalId",
    "firstName",
    "middleName",
    "lastName",
    "pin",
    "effectiveFrom",
    "effectiveTo",
    "bleTwoFactorExempt",
    "emails",
    "phoneNumbers",
];

#[derive(Debug, Clone)]
struct UserRec {
    id: i64,
    /// Profile fields in wire form (keys of [`USER_FIELDS`]); absent = not set.
    fields: Map<String, Value>,
    suspended: bool,
    custom_fields: Vec<Value>,
    created: String,
    updated: String,
}

impl UserRec {
    fn external_id(&self) -> Option<&str> {
        self.fields.get("externalId").and_then(Value::as_str)
    }
    fn str_field(&self, k: &str) -> &str {
        self.fields.get(k).and_then(Value::as_str).unwrap_or("")
    }
    /// Full user object (GET /users/{id}, create, PUT, PATCH responses).
    fn full(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        for (k, v) in &self.fields {
            m.insert(k.clone(), v.clone());
        }
        m.insert("suspended".into(), json!(self.suspended));
        m.insert("created".into(), json!(self.created));
        m.insert("updated".into(), json!(self.updated));
        m.insert(
            "customFields".into(),
            Value::Array(self.custom_fields.clone()),
        );
        m.entry("emails").or_insert_with(|| json!([]));
        m.entry("phoneNumbers").or_insert_with(|| json!([]));
        Value::Object(m)
    }
    /// Group-member list item: only these fields (`brivo.md` §2.7).
    fn member_summary(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        for k in ["externalId", "firstName", "middleName", "lastName"] {
            if let Some(v) = self.fields.get(k) {
                m.insert(k.into(), v.clone());
            }
        }
        m.insert("suspended".into(), json!(self.suspended));
        Value::Object(m)
    }
}

/// Format 100, the sandbox's only card format.
const CARD_FORMAT: (i64, &str) = (100, "Standard 26 Bit");

#[derive(Debug, Default)]
pub(crate) struct BrivoState {
    users: BTreeMap<i64, UserRec>,
    groups: BTreeMap<i64, Map<String, Value>>,
    /// (user id, group id)
    members: BTreeSet<(i64, i64)>,
    sites: BTreeMap<i64, Value>,
    access_points: BTreeMap<i64, Value>,
    credentials: BTreeMap<i64, Value>,
    /// (user id, credential id) -> (effectiveFrom, effectiveTo)
    assignments: BTreeMap<(i64, i64), (Option<String>, Option<String>)>,
    /// Users whose additions to a group are refused with a 400 that is not the cap.
    refusing_additions: BTreeSet<i64>,
    /// Mobile-pass invitations (digital invitations), oldest first.
    invitations: Vec<Invitation>,
    access_tokens: HashMap<String, Instant>,
    refresh_tokens: HashMap<String, ()>,
    next_id: i64,
    token_counter: u64,
    /// Successful write requests that changed nothing (see [`BrivoHandle::redundant_writes`]).
    redundant_writes: u64,
    /// Every effective membership change made through the API, oldest first.
    membership_log: Vec<MembershipChange>,
}

/// One effective change of a group membership made through the HTTP API, as
/// [`BrivoHandle::membership_changes`] lists them.
///
/// Why: a simulator or a test can then tell *when* (in request order) a
/// person gained or lost a door, and check that an edit upstream led to
/// exactly the change it should, without diffing snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct MembershipChange {
    /// Position in the log: 1 for the first change since the sandbox started,
    /// then consecutive. Never reset (not by
    /// [`reset_counters`](BrivoHandle::reset_counters) either), so a caller can
    /// remember the last `seq` it saw and look only at later changes.
    pub seq: u64,
    /// The Brivo user.
    pub user_id: i64,
    /// The group.
    pub group_id: i64,
    /// `true`: the user was put in the group; `false`: taken out of it.
    pub added: bool,
}

/// A Brivo Mobile Pass invitation as `brivo.md` §3.4 records it.
#[derive(Debug, Clone)]
struct Invitation {
    id: i64,
    user: i64,
    reference_id: String,
    credential_id: i64,
    created: chrono::DateTime<chrono::Utc>,
    status: &'static str,
    cancel_date: Option<chrono::DateTime<chrono::Utc>>,
    nfc_enabled: bool,
}

impl Invitation {
    fn json(&self) -> Value {
        let ts = |t: chrono::DateTime<chrono::Utc>| {
            t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        };
        let mut v = json!({
            "id": self.id,
            "referenceId": self.reference_id,
            "credentialId": self.credential_id,
            "accessCode": format!("{:08x}", self.id.wrapping_mul(2_654_435_761) & 0xffff_ffff),
            "created": ts(self.created),
            // Brivo's examples expire three days after creation
            "expiration": ts(self.created + chrono::Duration::days(3)),
            "status": self.status,
            "nfcEnabled": self.nfc_enabled,
        });
        if let Some(c) = self.cancel_date {
            v["cancelDate"] = json!(ts(c));
        }
        v
    }
}

impl BrivoState {
    fn alloc_id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }
    /// A credential of `format` (id, name) in the card bank, unassigned.
    fn put_credential(&mut self, id: i64, format: (i64, &str), reference: &str) {
        self.credentials.insert(
            id,
            json!({"id": id, "credentialFormat": {"id": format.0, "name": format.1},
                   "referenceId": reference}),
        );
    }
    /// Assigns credential `cid` to `user` from `at`, with no end.
    fn assign_from(&mut self, user: i64, cid: i64, at: chrono::DateTime<chrono::Utc>) {
        let from = at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        self.assignments.insert((user, cid), (Some(from), None));
    }
    /// Records the effective membership change `(user, group, added)`.
    fn log_membership(&mut self, user_id: i64, group_id: i64, added: bool) {
        let seq = self.membership_log.len() as u64 + 1;
        self.membership_log.push(MembershipChange {
            seq,
            user_id,
            group_id,
            added,
        });
    }
    /// Counts one successful write that changed nothing.
    fn redundant(&mut self) {
        self.redundant_writes += 1;
    }
    fn groups_of(&self, user: i64) -> BTreeSet<i64> {
        self.members
            .range((user, i64::MIN)..=(user, i64::MAX))
            .map(|&(_, g)| g)
            .collect()
    }
    fn members_of(&self, group: i64) -> Vec<i64> {
        self.members
            .iter()
            .filter(|&&(_, g)| g == group)
            .map(|&(u, _)| u)
            .collect()
    }
    fn group_ref(&self, id: i64) -> Value {
        let name = self
            .groups
            .get(&id)
            .and_then(|g| g.get("name"))
            .cloned()
            .unwrap_or(Value::Null);
        json!({"id": id, "name": name})
    }
    fn external_taken(&self, ext: &str, except: Option<i64>) -> bool {
        self.users
            .values()
            .any(|u| Some(u.id) != except && u.external_id() == Some(ext))
    }
}

/// A Brivo user as the sandbox holds it, for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BrivoUser {
    /// Brivo user id.
    pub id: i64,
    /// `externalId`, if set.
    pub external_id: Option<String>,
    /// `firstName`.
    pub first_name: String,
    /// `lastName`.
    pub last_name: String,
    /// Every `emails[].address`.
    pub emails: Vec<String>,
    /// The suspended flag (`/users/{id}/suspended`).
    pub suspended: bool,
    /// Ids of the groups the user is in.
    pub groups: BTreeSet<i64>,
    /// Ids of the credentials assigned to the user.
    pub credentials: BTreeSet<i64>,
}

/// A Brivo group as the sandbox holds it, for assertions.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BrivoGroup {
    /// Group id.
    pub id: i64,
    /// Group name.
    pub name: String,
    /// Ids of its member users.
    pub members: BTreeSet<i64>,
}

/// A consistent copy of the fake Brivo account's users and groups.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct BrivoSnapshot {
    /// Every user, by id order.
    pub users: Vec<BrivoUser>,
    /// Every group, by id order.
    pub groups: Vec<BrivoGroup>,
}

impl BrivoSnapshot {
    /// The user with this exact `externalId`.
    pub fn user_by_external_id(&self, external_id: &str) -> Option<&BrivoUser> {
        self.users
            .iter()
            .find(|u| u.external_id.as_deref() == Some(external_id))
    }
    /// The user with this id.
    pub fn user(&self, id: i64) -> Option<&BrivoUser> {
        self.users.iter().find(|u| u.id == id)
    }
    /// The group with this id.
    pub fn group(&self, id: i64) -> Option<&BrivoGroup> {
        self.groups.iter().find(|g| g.id == id)
    }
    /// Members of a group (empty if the group does not exist).
    pub fn members_of(&self, group_id: i64) -> BTreeSet<i64> {
        self.group(group_id)
            .map(|g| g.members.clone())
            .unwrap_or_default()
    }
    /// Users whose `externalId` starts with `prefix` (e.g. `"sync:"`).
    pub fn owned_users<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a BrivoUser> + 'a {
        self.users.iter().filter(move |u| {
            u.external_id
                .as_deref()
                .is_some_and(|e| e.starts_with(prefix))
        })
    }
}

/// A user to seed into the fake Brivo account with [`BrivoHandle::add_user`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NewBrivoUser {
    /// `firstName` (required by Brivo).
    pub first_name: String,
    /// `lastName` (required by Brivo).
    pub last_name: String,
    /// `externalId`, if any.
    pub external_id: Option<String>,
    /// One e-mail address of type `Work`, if any.
    pub email: Option<String>,
    /// Start suspended.
    pub suspended: bool,
    /// Groups to put the user in (must exist).
    pub groups: Vec<i64>,
}

impl NewBrivoUser {
    /// A user with a name and nothing else.
    pub fn new(first_name: impl Into<String>, last_name: impl Into<String>) -> Self {
        Self {
            first_name: first_name.into(),
            last_name: last_name.into(),
            ..Self::default()
        }
    }
    /// Sets `externalId`.
    pub fn external_id(mut self, id: impl Into<String>) -> Self {
        self.external_id = Some(id.into());
        self
    }
    /// Sets the e-mail address.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }
    /// Adds a group membership.
    pub fn group(mut self, group_id: i64) -> Self {
        self.groups.push(group_id);
        self
    }
    /// Starts the user suspended.
    pub fn suspended(mut self, suspended: bool) -> Self {
        self.suspended = suspended;
        self
    }
}

/// The fake Brivo service.
#[derive(Debug)]
pub(crate) struct Brivo {
    pub(crate) common: Arc<Common>,
    creds: SandboxCredentials,
    token_ttl: Duration,
    state: Mutex<BrivoState>,
}

/// Test-side access to the fake Brivo account: counters, snapshot, seeding.
/// Cheap to clone; get one with [`Sandbox::brivo`](crate::Sandbox::brivo).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), sandbox::Error> {
/// use sandbox::{NewBrivoUser, Sandbox, story};
///
/// let sb = Sandbox::start_default().await?;
/// let brivo = sb.brivo();
/// let id = brivo.add_user(
///     NewBrivoUser::new("Pat", "Preexisting")
///         .email("pat@example.com")
///         .group(story::GROUP_SUNSET_RESIDENTS),
/// );
/// let snap = brivo.snapshot();
/// assert!(snap.members_of(story::GROUP_SUNSET_RESIDENTS).contains(&id));
/// assert_eq!(snap.owned_users("sync:").count(), 1); // Fay Former
/// assert_eq!(brivo.calls(), 0); // seeding is not counted
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct BrivoHandle {
    pub(crate) inner: Arc<Brivo>,
}

impl BrivoHandle {
    /// Total calls received (token calls and rejected calls included).
    pub fn calls(&self) -> u64 {
        self.inner.common.stats().total
    }
    /// Mutating API calls received (POST/PUT/PATCH/DELETE under `/v1/api`).
    pub fn writes(&self) -> u64 {
        self.inner.common.stats().writes
    }
    /// All counters, per route included.
    pub fn stats(&self) -> CallStats {
        self.inner.common.stats()
    }
    /// Resets all counters to zero: the call counters and
    /// [`redundant_writes`](Self::redundant_writes). The
    /// [`membership_changes`](Self::membership_changes) log is kept.
    pub fn reset_counters(&self) {
        self.inner.reset_counters();
    }
    /// Write requests that succeeded (2xx) but changed nothing: a group
    /// update whose additions the user already had and whose removals it
    /// did not have; `PUT /groups/{g}/users/{u}` for a member or `DELETE`
    /// for a non-member; a `PUT`/`PATCH` of a user leaving every field as
    /// it was; suspending a suspended user or unsuspending an active one;
    /// assigning a credential with the window it already has, or
    /// unassigning one the user does not hold.
    ///
    /// Why: Brivo accepts such calls without complaint, so they are
    /// invisible in a snapshot, yet each spends a call of the account's
    /// rate limit. An integration that plans from an accurate observed
    /// state should make none; counting them shows when it re-sends what
    /// is already true (a stale observation, a retry of a write that had
    /// landed, a diff that is not minimal). Reset by
    /// [`reset_counters`](Self::reset_counters).
    pub fn redundant_writes(&self) -> u64 {
        lock(&self.inner.state).redundant_writes
    }
    /// Every effective group membership change made through the HTTP API,
    /// oldest first: additions and removals by `POST /users/{id}/groups`,
    /// `PUT`/`DELETE /groups/{g}/users/{u}`, and the removals that
    /// `DELETE /users/{id}` implies. Changes made through this handle
    /// ([`add_user`](Self::add_user), [`add_member`](Self::add_member)) or
    /// by the seed are not API traffic and are not logged; a request that
    /// fails, or succeeds without changing a membership, logs nothing.
    ///
    /// Why: what the doors do is group membership. A simulator can replay
    /// this log to say when each person gained or lost access and compare
    /// it with what an upstream edit should have caused, and a test can
    /// assert that a sync changed exactly one membership rather than
    /// removing and re-adding it. Not cleared by
    /// [`reset_counters`](Self::reset_counters): use
    /// [`MembershipChange::seq`] to look only at what came after a point.
    pub fn membership_changes(&self) -> Vec<MembershipChange> {
        lock(&self.inner.state).membership_log.clone()
    }
    /// Replaces the rate limit (`None` = unlimited).
    pub fn set_rate_limit(&self, limit: Option<RateLimit>) {
        self.inner.common.set_rate_limit(limit);
    }
    /// Expires every access token issued so far.
    pub fn expire_tokens(&self) {
        self.inner.expire_tokens();
    }
    /// A copy of users, groups and memberships.
    pub fn snapshot(&self) -> BrivoSnapshot {
        let st = lock(&self.inner.state);
        let users = st
            .users
            .values()
            .map(|u| BrivoUser {
                id: u.id,
                external_id: u.external_id().map(str::to_owned),
                first_name: u.str_field("firstName").to_owned(),
                last_name: u.str_field("lastName").to_owned(),
                emails: u
                    .fields
                    .get("emails")
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|e| e.get("address").and_then(Value::as_str))
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                suspended: u.suspended,
                groups: st.groups_of(u.id),
                credentials: st
                    .assignments
                    .keys()
                    .filter(|(uid, _)| *uid == u.id)
                    .map(|&(_, c)| c)
                    .collect(),
            })
            .collect();
        let groups = st
            .groups
            .iter()
            .map(|(&id, g)| BrivoGroup {
                id,
                name: g
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                members: st.members_of(id).into_iter().collect(),
            })
            .collect();
        BrivoSnapshot { users, groups }
    }
    /// A user's mobile-pass invitations: (reference id, status), oldest first.
    pub fn invitations(&self, user_id: i64) -> Vec<(String, String)> {
        lock(&self.inner.state)
            .invitations
            .iter()
            .filter(|i| i.user == user_id)
            .map(|i| (i.reference_id.clone(), i.status.to_owned()))
            .collect()
    }

    /// The resident opens the invitation on their phone: the pending one
    /// becomes REDEEMED and the pass a credential of the user's (format 307
    /// "Brivo Mobile Pass", valid from now). Returns whether there was one.
    pub fn redeem_invitation(&self, user_id: i64) -> bool {
        self.redeem_invitation_at(user_id, chrono::Utc::now())
    }

    /// [`redeem_invitation`](Self::redeem_invitation) at `at`: the pass's
    /// `effectiveFrom`, as Brivo sets it on a first assignment.
    pub fn redeem_invitation_at(&self, user_id: i64, at: chrono::DateTime<chrono::Utc>) -> bool {
        let mut st = lock(&self.inner.state);
        let Some(i) = st
            .invitations
            .iter_mut()
            .find(|i| i.user == user_id && i.status == "PENDING")
        else {
            return false;
        };
        i.status = "REDEEMED";
        let (cid, reference) = (i.credential_id, i.reference_id.clone());
        st.put_credential(cid, (307, "Brivo Mobile Pass"), &reference);
        st.assign_from(user_id, cid, at);
        true
    }

    /// Adds an unassigned card (format 100 "Standard 26 Bit", printed
    /// number `reference`) to the account's card bank; returns its id.
    pub fn add_card(&self, reference: &str) -> i64 {
        let mut st = lock(&self.inner.state);
        let cid = st.alloc_id();
        st.put_credential(cid, CARD_FORMAT, reference);
        cid
    }

    /// The reference ids of the cards assigned to `user_id`.
    pub fn cards_of(&self, user_id: i64) -> Vec<String> {
        let st = lock(&self.inner.state);
        st.assignments
            .keys()
            .filter(|(u, _)| *u == user_id)
            .filter_map(|(_, c)| st.credentials.get(c))
            .filter(|c| c["credentialFormat"]["id"] == 100)
            .filter_map(|c| c["referenceId"].as_str().map(str::to_owned))
            .collect()
    }

    /// An administrator hands `user_id` a card (format 100 "Standard 26
    /// Bit", printed number `reference`), assigned from `at` with no end;
    /// returns the credential's id.
    pub fn assign_card(
        &self,
        user_id: i64,
        reference: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> i64 {
        let mut st = lock(&self.inner.state);
        let cid = st.alloc_id();
        st.put_credential(cid, CARD_FORMAT, reference);
        st.assign_from(user_id, cid, at);
        cid
    }

    /// Whether a reader of a door of `group_id` opens for `user_id` at
    /// `at`, as Brivo decides it: the user is not suspended, is in the
    /// group, and holds a credential whose assignment window
    /// (`effectiveFrom` inclusive, `effectiveTo` exclusive) covers `at`.
    /// Brivo enforces the window itself: this is what still ends access
    /// when no runner removes the group.
    pub fn admits(&self, user_id: i64, group_id: i64, at: chrono::DateTime<chrono::Utc>) -> bool {
        let st = lock(&self.inner.state);
        let Some(u) = st.users.get(&user_id) else {
            return false;
        };
        let parse = |s: &Option<String>| {
            s.as_deref()
                .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                .map(|t| t.to_utc())
        };
        !u.suspended
            && st.members.contains(&(user_id, group_id))
            && st
                .assignments
                .iter()
                .filter(|((uid, _), _)| *uid == user_id)
                .any(|(_, (from, to))| {
                    parse(from).is_none_or(|f| f <= at) && parse(to).is_none_or(|t| at < t)
                })
    }

    /// The credential windows of `user_id`'s assignments:
    /// (credential id, `effectiveFrom`, `effectiveTo`).
    pub fn credential_windows(&self, user_id: i64) -> Vec<(i64, Option<String>, Option<String>)> {
        lock(&self.inner.state)
            .assignments
            .iter()
            .filter(|((u, _), _)| *u == user_id)
            .map(|((_, c), (f, t))| (*c, f.clone(), t.clone()))
            .collect()
    }

    /// Adds a user directly (not counted as a call); returns its id.
    ///
    /// # Panics
    /// If `external_id` is already taken or a group does not exist: a test bug.
    pub fn add_user(&self, user: NewBrivoUser) -> i64 {
        let mut st = lock(&self.inner.state);
        if let Some(ext) = &user.external_id {
            assert!(
                !st.external_taken(ext, None),
                "externalId {ext} already taken"
            );
        }
        let id = st.alloc_id();
        let mut fields = Map::new();
        fields.insert("firstName".into(), json!(user.first_name));
        fields.insert("lastName".into(), json!(user.last_name));
        if let Some(ext) = user.external_id {
            fields.insert("externalId".into(), json!(ext));
        }
        if let Some(e) = user.email {
            fields.insert("emails".into(), json!([{"address": e, "type": "Work"}]));
        }
        let now = now_str();
        st.users.insert(
            id,
            UserRec {
                id,
                fields,
                suspended: user.suspended,
                custom_fields: Vec::new(),
                created: now.clone(),
                updated: now,
            },
        );
        for g in user.groups {
            assert!(st.groups.contains_key(&g), "group {g} does not exist");
            st.members.insert((id, g));
        }
        id
    }
    /// Adds a group directly (not counted as a call); returns its id.
    pub fn add_group(&self, name: impl Into<String>) -> i64 {
        let mut st = lock(&self.inner.state);
        let id = st.alloc_id();
        st.groups.insert(id, new_group(id, &name.into()));
        id
    }
    /// Puts a user in a group directly (not counted, no 16-group check).
    pub fn add_member(&self, group_id: i64, user_id: i64) {
        lock(&self.inner.state).members.insert((user_id, group_id));
    }
    /// Takes a user out of a group as an administrator would in Brivo's web
    /// console: not through the API, so neither counted nor in
    /// [`membership_changes`](Self::membership_changes).
    pub fn remove_member(&self, group_id: i64, user_id: i64) {
        lock(&self.inner.state).members.remove(&(user_id, group_id));
    }
    /// From now on, refuses to add this user to any group they are not in, with a 400 that
    /// is not the 16-group cap: `User cannot be assigned to the group as its credentials
    /// already exist in a linked group` (`brivo.md` §3.2). The whole bulk call is refused
    /// (nothing changes); calls that only remove groups still succeed. Undo with
    /// [`accept_group_additions`](Self::accept_group_additions).
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), sandbox::Error> {
    /// use sandbox::{Sandbox, story};
    ///
    /// let sb = Sandbox::start_default().await?;
    /// sb.brivo().refuse_group_additions(story::USER_SAM_STAFF);
    /// sb.brivo().accept_group_additions(story::USER_SAM_STAFF);
    /// # Ok(())
    /// # }
    /// ```
    pub fn refuse_group_additions(&self, user_id: i64) {
        lock(&self.inner.state).refusing_additions.insert(user_id);
    }
    /// Undoes [`refuse_group_additions`](Self::refuse_group_additions) for this user.
    pub fn accept_group_additions(&self, user_id: i64) {
        lock(&self.inner.state).refusing_additions.remove(&user_id);
    }
}

fn new_group(id: i64, name: &str) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("id".into(), json!(id));
    m.insert("name".into(), json!(name));
    m.insert("keypadUnlock".into(), json!(false));
    m.insert("immuneToAntipassback".into(), json!(false));
    m.insert("excludedFromLockdown".into(), json!(false));
    m
}

/// `2026-11-23T11:00:00Z`: Brivo returns seconds precision in UTC (`brivo.md` §2.7).
fn now_str() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn as_i64(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}

impl Brivo {
    pub(crate) fn new(
        seed: &BrivoSeed,
        creds: SandboxCredentials,
        token_ttl: Duration,
        rate_limit: Option<RateLimit>,
    ) -> Result<Arc<Self>, crate::Error> {
        let mut st = BrivoState {
            next_id: 15_550_000,
            ..BrivoState::default()
        };
        let bad = |what: &str| crate::Error::Seed(format!("brivo seed: {what}"));
        let now = now_str();
        for s in &seed.sites {
            let id = s
                .get("id")
                .and_then(as_i64)
                .ok_or_else(|| bad("site without id"))?;
            st.sites.insert(id, s.clone());
        }
        for a in &seed.access_points {
            let id = a
                .get("id")
                .and_then(as_i64)
                .ok_or_else(|| bad("access point without id"))?;
            st.access_points.insert(id, a.clone());
        }
        for g in &seed.groups {
            let id = g
                .get("id")
                .and_then(as_i64)
                .ok_or_else(|| bad("group without id"))?;
            let mut m = new_group(id, g.get("name").and_then(Value::as_str).unwrap_or(""));
            if let Some(obj) = g.as_object() {
                m.extend(obj.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            st.groups.insert(id, m);
        }
        for u in &seed.users {
            let obj = u.as_object().ok_or_else(|| bad("user is not an object"))?;
            let id = obj
                .get("id")
                .and_then(as_i64)
                .ok_or_else(|| bad("user without id"))?;
            let fields = obj
                .iter()
                .filter(|(k, _)| USER_FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            st.users.insert(
                id,
                UserRec {
                    id,
                    fields,
                    suspended: obj
                        .get("suspended")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    custom_fields: obj
                        .get("customFields")
                        .and_then(Value::as_array)
                        .cloned()
                        .unwrap_or_default(),
                    created: obj
                        .get("created")
                        .and_then(Value::as_str)
                        .unwrap_or(&now)
                        .to_owned(),
                    updated: obj
                        .get("updated")
                        .and_then(Value::as_str)
                        .unwrap_or(&now)
                        .to_owned(),
                },
            );
        }
        for (g, users) in &seed.members {
            for u in users {
                if !st.users.contains_key(u) || !st.groups.contains_key(g) {
                    return Err(bad(&format!("membership {u} in {g} names an unknown id")));
                }
                st.members.insert((*u, *g));
            }
        }
        for c in &seed.credentials {
            let id = c
                .get("id")
                .and_then(as_i64)
                .ok_or_else(|| bad("credential without id"))?;
            st.credentials.insert(id, c.clone());
        }
        for (u, c, from, to) in &seed.assignments {
            st.assignments.insert((*u, *c), (from.clone(), to.clone()));
        }
        let max = [
            st.users.keys().max(),
            st.groups.keys().max(),
            st.credentials.keys().max(),
        ]
        .into_iter()
        .flatten()
        .copied()
        .max()
        .unwrap_or(0);
        st.next_id = st.next_id.max(max);
        Ok(Arc::new(Self {
            common: Common::new(Style::Brivo, rate_limit),
            creds,
            token_ttl,
            state: Mutex::new(st),
        }))
    }

    /// The call counters and the redundant-write count back to zero.
    pub(crate) fn reset_counters(&self) {
        self.common.reset_stats();
        lock(&self.state).redundant_writes = 0;
    }

    pub(crate) fn expire_tokens(&self) {
        let now = Instant::now();
        for exp in lock(&self.state).access_tokens.values_mut() {
            *exp = now;
        }
    }

    pub(crate) fn router(self: &Arc<Self>) -> Router {
        let api = Router::new()
            .route("/users", get(list_users).post(create_user))
            .route(
                "/users/{id}",
                get(get_user)
                    .put(put_user)
                    .patch(patch_user)
                    .delete(delete_user),
            )
            .route("/users/{id}/external", get(get_user_external))
            .route(
                "/users/{id}/suspended",
                get(get_suspended).put(put_suspended),
            )
            .route(
                "/users/{id}/groups",
                get(user_groups).post(update_user_groups),
            )
            .route("/users/{id}/credentials", get(user_credentials))
            .route(
                "/users/{id}/credentials/digital-invitations",
                get(list_invitations)
                    .post(create_invitation)
                    .delete(cancel_invitation),
            )
            .route(
                "/users/{id}/credentials/{cid}",
                put(assign_credential).delete(unassign_credential),
            )
            .route("/groups", get(list_groups).post(create_group))
            .route("/groups/{id}", get(get_group))
            .route("/groups/{id}/users", get(group_users))
            .route(
                "/groups/{id}/users/{uid}",
                put(add_group_user).delete(remove_group_user),
            )
            .route("/sites", get(list_sites))
            .route("/sites/{id}", get(get_site))
            .route("/sites/{id}/access-points", get(site_access_points))
            .route("/access-points", get(list_access_points))
            .route("/access-points/{id}", get(get_access_point))
            .route(
                "/credentials",
                get(list_credentials).post(create_credential),
            )
            .route("/credentials/formats", get(credential_formats))
            .route("/credentials/{id}", get(get_credential))
            .route("/administrators/whoami", get(whoami))
            .route_layer(middleware::from_fn_with_state(self.clone(), api_auth))
            .method_not_allowed_fallback(service_not_found);
        Router::new()
            .route("/oauth/token", post(token))
            .nest("/v1/api", api)
            .fallback(service_not_found)
            .method_not_allowed_fallback(service_not_found)
            .layer(middleware::from_fn_with_state(
                self.common.clone(),
                common::fault_middleware,
            ))
            .with_state(self.clone())
    }
}

// ---------------------------------------------------------------------------------------
// errors (brivo.md §1.5, §2.5)

/// `{"code":N,"message":"…"}`, Brivo's usual error body.
fn err(status: StatusCode, message: &str) -> Response {
    json_resp(
        status,
        &json!({"code": status.as_u16(), "message": message}),
    )
}

/// 596 with HTML for a wrong path or verb (`brivo.md` §2.1, §2.5).
async fn service_not_found() -> Response {
    (
        StatusCode::from_u16(596).unwrap_or(StatusCode::NOT_FOUND),
        [(header::CONTENT_TYPE, "text/html")],
        "<h1>596 Service Not Found</h1>",
    )
        .into_response()
}

/// 403 HTML from Mashery for a missing or wrong `api-key` (`brivo.md` §1.2).
fn developer_inactive() -> Response {
    (
        StatusCode::FORBIDDEN,
        [(header::CONTENT_TYPE, "text/html")],
        "<h1>Developer Inactive</h1>",
    )
        .into_response()
}

fn user_not_found() -> Response {
    err(StatusCode::NOT_FOUND, "Requested user not found")
}

fn group_not_found() -> Response {
    err(StatusCode::NOT_FOUND, "Unknown Group")
}

fn bad_body() -> Response {
    err(StatusCode::BAD_REQUEST, "Invalid request body")
}

fn api_key_ok(b: &Brivo, headers: &HeaderMap) -> bool {
    headers
        .get("api-key")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|k| k == b.creds.brivo_api_key)
}

// ---------------------------------------------------------------------------------------
// auth

async fn api_auth(State(b): State<Arc<Brivo>>, req: Request, next: Next) -> Response {
    if !api_key_ok(&b, req.headers()) {
        return developer_inactive();
    }
    let Some(tok) = common::bearer(req.headers()) else {
        return json_resp(
            StatusCode::UNAUTHORIZED,
            &json!({"error": "unauthorized",
                    "error_description": "Full authentication is required to access this resource"}),
        );
    };
    let expiry = lock(&b.state).access_tokens.get(&tok).copied();
    match expiry {
        None => json_resp(
            StatusCode::UNAUTHORIZED,
            &json!({"error": "invalid_token", "error_description": format!("Invalid access token: {tok}")}),
        ),
        Some(exp) if exp <= Instant::now() => json_resp(
            StatusCode::UNAUTHORIZED,
            &json!({"error": "invalid_token", "error_description": format!("Access token expired: {tok}")}),
        ),
        Some(_) => next.run(req).await,
    }
}

/// `POST /oauth/token` (`brivo.md` §1.3): Basic client auth, `api-key`, form body (the
/// parameters may also come in the query string, as recorded in 2017).
async fn token(
    State(b): State<Arc<Brivo>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !api_key_ok(&b, &headers) {
        return developer_inactive();
    }
    let Some((id, secret)) = common::basic_auth(&headers) else {
        return json_resp(
            StatusCode::UNAUTHORIZED,
            &json!({"error": "unauthorized",
                    "error_description": "Full authentication is required to access this resource"}),
        );
    };
    if id != b.creds.brivo_client_id || secret != b.creds.brivo_client_secret {
        return json_resp(
            StatusCode::UNAUTHORIZED,
            &json!({"status": 401, "error": "Unauthorized", "message": "Bad credentials", "path": "/oauth/token"}),
        );
    }
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().contains("json"));
    let mut params = common::parse_form(query.as_deref().unwrap_or(""));
    if !body.is_empty() {
        if is_json {
            // "JSON is not supported" (brivo.md §1.3).
            return json_resp(
                StatusCode::BAD_REQUEST,
                &json!({"error": "invalid_request", "error_description": "Missing grant type"}),
            );
        }
        params.extend(common::parse_form(&String::from_utf8_lossy(&body)));
    }
    let grant = params.get("grant_type").map(String::as_str).unwrap_or("");
    let invalid_grant = |desc: &str| {
        json_resp(
            StatusCode::UNAUTHORIZED,
            &json!({"error": "invalid_grant", "error_description": desc}),
        )
    };
    let mut st = lock(&b.state);
    match grant {
        "password" => {
            let ok = params.get("username") == Some(&b.creds.brivo_username)
                && params.get("password") == Some(&b.creds.brivo_password);
            if !ok {
                return invalid_grant("Bad credentials");
            }
        }
        "refresh_token" => {
            let rt = params.get("refresh_token").cloned().unwrap_or_default();
            if !st.refresh_tokens.contains_key(&rt) {
                return invalid_grant(&format!("Invalid refresh token: {rt}"));
            }
        }
        "" => {
            return json_resp(
                StatusCode::BAD_REQUEST,
                &json!({"error": "invalid_request", "error_description": "Missing grant type"}),
            );
        }
        other => {
            return json_resp(
                StatusCode::BAD_REQUEST,
                &json!({"error": "unsupported_grant_type",
                        "error_description": format!("Unsupported grant type: {other}")}),
            );
        }
    }
    st.token_counter += 1;
    let n = st.token_counter;
    let access = common::new_token("sbx-brivo-at-", n);
    let refresh = common::new_token("sbx-brivo-rt-", n);
    st.access_tokens
        .insert(access.clone(), Instant::now() + b.token_ttl);
    st.refresh_tokens.insert(refresh.clone(), ());
    json_resp(
        StatusCode::OK,
        &json!({
            "access_token": access,
            "token_type": "bearer",
            "refresh_token": refresh,
            "expires_in": b.token_ttl.as_secs(),
            "scope": "brivo.api",
            "jti": format!("00000000-0000-4000-8000-{n:012}"),
        }),
    )
}

// ---------------------------------------------------------------------------------------
// paging and filters (brivo.md §2.2–2.4)

struct Paging {
    offset: usize,
    page_size: usize,
}

fn paging(q: &HashMap<String, String>) -> Result<Paging, Response> {
    let invalid = || err(StatusCode::BAD_REQUEST, "Invalid criteria provided");
    let offset = match q.get("offset") {
        Some(s) => s.parse::<usize>().map_err(|_| invalid())?,
        None => 0,
    };
    let page_size = match q.get("pageSize") {
        Some(s) => s.parse::<usize>().map_err(|_| invalid())?,
        None => 20,
    };
    if !(1..=100).contains(&page_size) {
        return Err(invalid());
    }
    Ok(Paging { offset, page_size })
}

fn envelope(items: Vec<Value>, p: &Paging) -> Response {
    let count = items.len();
    let data: Vec<Value> = items.into_iter().skip(p.offset).take(p.page_size).collect();
    json_resp(
        StatusCode::OK,
        &json!({"data": data, "offset": p.offset, "pageSize": p.page_size, "count": count}),
    )
}

/// Sub-resource lists carry only `data` and `count` (`brivo.md` §2.2).
fn sub_list(items: Vec<Value>) -> Response {
    let count = items.len();
    json_resp(StatusCode::OK, &json!({"data": items, "count": count}))
}

#[derive(Debug)]
struct Cond {
    field: String,
    op: String,
    values: Vec<String>,
}

/// `field__op:v1,v2;field2__op:v`.
fn parse_filter(q: &HashMap<String, String>) -> Result<Vec<Cond>, Response> {
    let Some(raw) = q.get("filter") else {
        return Ok(Vec::new());
    };
    let invalid = || err(StatusCode::BAD_REQUEST, "Invalid filter format");
    let mut out = Vec::new();
    for part in raw.split(';').filter(|p| !p.is_empty()) {
        let (lhs, vals) = part.split_once(':').ok_or_else(invalid)?;
        let (field, op) = lhs.split_once("__").ok_or_else(invalid)?;
        if field.is_empty() || !["eq", "ne", "gt", "lt", "exact"].contains(&op) {
            return Err(invalid());
        }
        out.push(Cond {
            field: field.to_owned(),
            op: op.to_owned(),
            values: vals.split(',').map(str::to_owned).collect(),
        });
    }
    Ok(out)
}

fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.to_lowercase().contains(&needle.to_lowercase())
}

// ---------------------------------------------------------------------------------------
// users (brivo.md §3.1)

fn parse_id(s: &str) -> Option<i64> {
    s.parse().ok()
}

fn parse_body(body: &Bytes) -> Result<Map<String, Value>, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(bad_body()),
    }
}

/// Keeps the known profile fields of a request body; a numeric `externalId` becomes a
/// string, as Brivo does (`brivo.md` §2.7).
fn profile_fields(body: &Map<String, Value>) -> Map<String, Value> {
    body.iter()
        .filter(|(k, _)| USER_FIELDS.contains(&k.as_str()))
        .map(|(k, v)| {
            let v = match (k.as_str(), v) {
                ("externalId", Value::Number(n)) => Value::String(n.to_string()),
                _ => v.clone(),
            };
            (k.clone(), v)
        })
        .collect()
}

fn check_names(fields: &Map<String, Value>) -> Result<(), Response> {
    for k in ["firstName", "lastName"] {
        let ok = fields
            .get(k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty());
        if !ok {
            return Err(err(StatusCode::BAD_REQUEST, &format!("{k} is required")));
        }
    }
    Ok(())
}

/// Duplicate `externalId`: Brivo guarantees uniqueness (`brivo.md` §3.1) but its error is
/// not recorded; the sandbox answers 409 Conflict with Brivo's `{code,message}` body.
fn duplicate_external(ext: &str) -> Response {
    err(
        StatusCode::CONFLICT,
        &format!("A user with external id '{ext}' already exists"),
    )
}

async fn list_users(
    State(b): State<Arc<Brivo>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let p = match paging(&q) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let conds = match parse_filter(&q) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let st = lock(&b.state);
    // the page is rendered after filtering: rendering every user for each
    // page would make a listing quadratic in the account's size
    let mut matched = Vec::new();
    for u in st.users.values() {
        let mut keep = true;
        for c in &conds {
            let m = match (c.field.as_str(), c.op.as_str()) {
                ("id", "eq") => c.values.iter().any(|v| parse_id(v) == Some(u.id)),
                ("id", "ne") => !c.values.iter().any(|v| parse_id(v) == Some(u.id)),
                // Text `eq` is a contains match (brivo.md §2.4).
                ("firstname", "eq") => c
                    .values
                    .iter()
                    .any(|v| contains_ci(u.str_field("firstName"), v)),
                ("lastname", "eq") => c
                    .values
                    .iter()
                    .any(|v| contains_ci(u.str_field("lastName"), v)),
                // Not documented as filterable (brivo.md §2.4 "Not filterable, though clients
                // try"); the sandbox accepts it with the same contains semantics so that a
                // client relying on it must re-check equality. Use `/users/{id}/external`.
                ("externalId", "eq") => c
                    .values
                    .iter()
                    .any(|v| u.external_id().is_some_and(|e| contains_ci(e, v))),
                ("email", "eq") => c.values.iter().any(|v| {
                    u.fields
                        .get("emails")
                        .and_then(Value::as_array)
                        .is_some_and(|a| {
                            a.iter().any(|e| {
                                e.get("address")
                                    .and_then(Value::as_str)
                                    .is_some_and(|s| contains_ci(s, v))
                            })
                        })
                }),
                ("user_status", "eq") => {
                    let in_group = !st.groups_of(u.id).is_empty();
                    c.values.iter().any(|v| match v.as_str() {
                        "suspended" => u.suspended,
                        "active" => !u.suspended && in_group,
                        "unaffiliated" => !u.suspended && !in_group,
                        _ => false,
                    })
                }
                _ => return err(StatusCode::BAD_REQUEST, "Invalid criteria provided"),
            };
            keep &= m;
        }
        if keep {
            matched.push(u);
        }
    }
    let count = matched.len();
    let data: Vec<Value> = matched
        .into_iter()
        .skip(p.offset)
        .take(p.page_size)
        .map(|u| {
            let mut full = u.full();
            if let Some(m) = full.as_object_mut() {
                m.remove("pin");
            }
            full
        })
        .collect();
    json_resp(
        StatusCode::OK,
        &json!({"data": data, "offset": p.offset, "pageSize": p.page_size, "count": count}),
    )
}

async fn get_user(State(b): State<Arc<Brivo>>, Path(id): Path<String>) -> Response {
    let st = lock(&b.state);
    match parse_id(&id).and_then(|id| st.users.get(&id)) {
        Some(u) => json_resp(StatusCode::OK, &u.full()),
        None => user_not_found(),
    }
}

/// `GET /users/{externalId}/external`: axum percent-decodes the segment.
async fn get_user_external(State(b): State<Arc<Brivo>>, Path(ext): Path<String>) -> Response {
    let st = lock(&b.state);
    match st
        .users
        .values()
        .find(|u| u.external_id() == Some(ext.as_str()))
    {
        Some(u) => json_resp(StatusCode::OK, &u.full()),
        None => user_not_found(),
    }
}

async fn create_user(State(b): State<Arc<Brivo>>, body: Bytes) -> Response {
    let body = match parse_body(&body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let fields = profile_fields(&body);
    if let Err(r) = check_names(&fields) {
        return r;
    }
    let mut st = lock(&b.state);
    if let Some(ext) = fields.get("externalId").and_then(Value::as_str)
        && st.external_taken(ext, None)
    {
        return duplicate_external(ext);
    }
    let id = st.alloc_id();
    let now = now_str();
    let user = UserRec {
        id,
        fields,
        // Accepted on create (VCR), brivo.md §3.1.
        suspended: body
            .get("suspended")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        custom_fields: Vec::new(),
        created: now.clone(),
        updated: now,
    };
    let out = user.full();
    st.users.insert(id, user);
    // Create answers 200, not 201 (VCR).
    json_resp(StatusCode::OK, &out)
}

async fn put_user(State(b): State<Arc<Brivo>>, Path(id): Path<String>, body: Bytes) -> Response {
    write_user(&b, &id, body, true)
}

async fn patch_user(State(b): State<Arc<Brivo>>, Path(id): Path<String>, body: Bytes) -> Response {
    write_user(&b, &id, body, false)
}

/// PUT replaces: omitted optional fields are removed, `externalId` included ("Optional
/// fields which are not included in the request body will have any existing value
/// removed", brivo.md §3.1). PATCH merges; `null` clears. Neither changes `suspended`.
fn write_user(b: &Brivo, id: &str, body: Bytes, replace: bool) -> Response {
    let body = match parse_body(&body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let mut st = lock(&b.state);
    let Some(id) = parse_id(id).filter(|id| st.users.contains_key(id)) else {
        return user_not_found();
    };
    let incoming = profile_fields(&body);
    let mut fields = if replace {
        Map::new()
    } else {
        st.users[&id].fields.clone()
    };
    for (k, v) in incoming {
        if v.is_null() {
            fields.remove(&k);
        } else {
            fields.insert(k, v);
        }
    }
    if let Err(r) = check_names(&fields) {
        return r;
    }
    if let Some(ext) = fields.get("externalId").and_then(Value::as_str)
        && st.external_taken(ext, Some(id))
    {
        return duplicate_external(ext);
    }
    if st.users[&id].fields == fields {
        st.redundant();
    }
    let Some(user) = st.users.get_mut(&id) else {
        return user_not_found();
    };
    user.fields = fields;
    user.updated = now_str();
    json_resp(StatusCode::OK, &user.full())
}

async fn delete_user(State(b): State<Arc<Brivo>>, Path(id): Path<String>) -> Response {
    let mut st = lock(&b.state);
    let Some(id) = parse_id(&id).filter(|id| st.users.contains_key(id)) else {
        return user_not_found();
    };
    st.users.remove(&id);
    for g in st.groups_of(id) {
        st.members.remove(&(id, g));
        st.log_membership(id, g, false);
    }
    st.assignments.retain(|&(u, _), _| u != id);
    StatusCode::NO_CONTENT.into_response()
}

async fn get_suspended(State(b): State<Arc<Brivo>>, Path(id): Path<String>) -> Response {
    let st = lock(&b.state);
    match parse_id(&id).and_then(|id| st.users.get(&id)) {
        Some(u) => json_resp(
            StatusCode::OK,
            &json!({"id": u.id, "suspended": u.suspended}),
        ),
        None => user_not_found(),
    }
}

async fn put_suspended(
    State(b): State<Arc<Brivo>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let body = match parse_body(&body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let Some(flag) = body.get("suspended").and_then(Value::as_bool) else {
        return bad_body();
    };
    let mut st = lock(&b.state);
    if parse_id(&id)
        .and_then(|id| st.users.get(&id))
        .is_some_and(|u| u.suspended == flag)
    {
        st.redundant();
    }
    match parse_id(&id).and_then(|id| st.users.get_mut(&id)) {
        Some(u) => {
            u.suspended = flag;
            u.updated = now_str();
            json_resp(
                StatusCode::OK,
                &json!({"id": u.id, "suspended": u.suspended}),
            )
        }
        None => user_not_found(),
    }
}

async fn user_groups(State(b): State<Arc<Brivo>>, Path(id): Path<String>) -> Response {
    let st = lock(&b.state);
    let Some(id) = parse_id(&id).filter(|id| st.users.contains_key(id)) else {
        return user_not_found();
    };
    let items = st
        .groups_of(id)
        .into_iter()
        .map(|g| st.group_ref(g))
        .collect();
    sub_list(items)
}

fn too_many_groups() -> Response {
    // The documented rule (brivo.md §3.2, AD25 "Update user's group memberships"): "If the
    // user's total number of groups would exceed 16 … it is considered an error and no
    // action will be taken". The body is not recorded, and no public source shows a message
    // naming 16 or groups: the only documented refusal is the plain "Invalid criteria
    // provided" 400 (brivo.md §2.5, §3.2 correction). So the sandbox answers exactly that,
    // and a client can tell the cap only by re-reading the user's groups.
    err(StatusCode::BAD_REQUEST, "Invalid criteria provided")
}

/// A 400 that is not the cap (brivo.md §3.2, group sharing across accounts); answered to
/// users marked with [`BrivoHandle::refuse_group_additions`].
fn linked_group_refusal() -> Response {
    err(
        StatusCode::BAD_REQUEST,
        "User cannot be assigned to the group as its credentials already exist in a linked group",
    )
}

/// `POST /users/{id}/groups` `{"addGroups":[…],"removeGroups":[…]}`: all or nothing
/// (brivo.md §3.3). Answers the user's resulting groups as `{"count","data"}`.
async fn update_user_groups(
    State(b): State<Arc<Brivo>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let body = match parse_body(&body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let ids = |k: &str| -> Result<Vec<i64>, Response> {
        match body.get(k) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) => a.iter().map(|v| as_i64(v).ok_or_else(bad_body)).collect(),
            Some(_) => Err(bad_body()),
        }
    };
    let (add, remove) = match (ids("addGroups"), ids("removeGroups")) {
        (Ok(a), Ok(r)) => (a, r),
        (Err(r), _) | (_, Err(r)) => return r,
    };
    let mut st = lock(&b.state);
    let Some(uid) = parse_id(&id).filter(|id| st.users.contains_key(id)) else {
        return user_not_found();
    };
    if add
        .iter()
        .chain(&remove)
        .any(|g| !st.groups.contains_key(g))
    {
        return group_not_found();
    }
    let before = st.groups_of(uid);
    let mut groups = before.clone();
    if st.refusing_additions.contains(&uid) && add.iter().any(|g| !groups.contains(g)) {
        return linked_group_refusal();
    }
    for g in &remove {
        groups.remove(g);
    }
    for g in &add {
        groups.insert(*g);
    }
    if groups.len() > MAX_GROUPS_PER_USER {
        return too_many_groups();
    }
    // Removals first, then additions: the order the request applies them.
    for &g in before.difference(&groups) {
        st.members.remove(&(uid, g));
        st.log_membership(uid, g, false);
    }
    for &g in groups.difference(&before) {
        st.members.insert((uid, g));
        st.log_membership(uid, g, true);
    }
    if before == groups {
        st.redundant();
    }
    let items = groups.iter().map(|&g| st.group_ref(g)).collect();
    sub_list(items)
}

// ---------------------------------------------------------------------------------------
// groups (brivo.md §3.2)

async fn list_groups(
    State(b): State<Arc<Brivo>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let p = match paging(&q) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let conds = match parse_filter(&q) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let st = lock(&b.state);
    let mut items = Vec::new();
    for g in st.groups.values() {
        let name = g.get("name").and_then(Value::as_str).unwrap_or("");
        let mut keep = true;
        for c in &conds {
            keep &= match (c.field.as_str(), c.op.as_str()) {
                // "includes any group with a name that contains the provided name value"
                ("name", "eq") => c.values.iter().any(|v| contains_ci(name, v)),
                _ => return err(StatusCode::BAD_REQUEST, "Invalid criteria provided"),
            };
        }
        if keep {
            items.push(Value::Object(g.clone()));
        }
    }
    envelope(items, &p)
}

async fn create_group(State(b): State<Arc<Brivo>>, body: Bytes) -> Response {
    let body = match parse_body(&body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let name = body.get("name").and_then(Value::as_str).unwrap_or("");
    if name.is_empty() || name.chars().count() > 35 {
        return err(
            StatusCode::BAD_REQUEST,
            "Group creation requires a name parameter of 35 characters or less",
        );
    }
    let mut st = lock(&b.state);
    let id = st.alloc_id();
    let g = new_group(id, name);
    let out = Value::Object(g.clone());
    st.groups.insert(id, g);
    json_resp(StatusCode::OK, &out)
}

async fn get_group(State(b): State<Arc<Brivo>>, Path(id): Path<String>) -> Response {
    let st = lock(&b.state);
    match parse_id(&id).and_then(|id| st.groups.get(&id)) {
        Some(g) => json_resp(StatusCode::OK, &Value::Object(g.clone())),
        None => group_not_found(),
    }
}

async fn group_users(
    State(b): State<Arc<Brivo>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let p = match paging(&q) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let st = lock(&b.state);
    let Some(gid) = parse_id(&id).filter(|id| st.groups.contains_key(id)) else {
        return group_not_found();
    };
    let items = st
        .members_of(gid)
        .into_iter()
        .filter_map(|u| st.users.get(&u).map(UserRec::member_summary))
        .collect();
    envelope(items, &p)
}

/// `PUT /groups/{g}/users/{u}` → 204; adding an existing member is a no-op 204 (the
/// bulk endpoint documents "skipped if already a member"); the 16-group cap applies.
async fn add_group_user(
    State(b): State<Arc<Brivo>>,
    Path((gid, uid)): Path<(String, String)>,
) -> Response {
    let mut st = lock(&b.state);
    let Some(gid) = parse_id(&gid).filter(|id| st.groups.contains_key(id)) else {
        return group_not_found();
    };
    let Some(uid) = parse_id(&uid).filter(|id| st.users.contains_key(id)) else {
        return user_not_found();
    };
    if !st.members.contains(&(uid, gid)) {
        if st.refusing_additions.contains(&uid) {
            return linked_group_refusal();
        }
        if st.groups_of(uid).len() >= MAX_GROUPS_PER_USER {
            return too_many_groups();
        }
        st.members.insert((uid, gid));
        st.log_membership(uid, gid, true);
    } else {
        st.redundant();
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `DELETE /groups/{g}/users/{u}` → 204, also when the user was not a member.
async fn remove_group_user(
    State(b): State<Arc<Brivo>>,
    Path((gid, uid)): Path<(String, String)>,
) -> Response {
    let mut st = lock(&b.state);
    let Some(gid) = parse_id(&gid).filter(|id| st.groups.contains_key(id)) else {
        return group_not_found();
    };
    let Some(uid) = parse_id(&uid).filter(|id| st.users.contains_key(id)) else {
        return user_not_found();
    };
    if st.members.remove(&(uid, gid)) {
        st.log_membership(uid, gid, false);
    } else {
        st.redundant();
    }
    StatusCode::NO_CONTENT.into_response()
}

// ---------------------------------------------------------------------------------------
// sites and access points (brivo.md §3.6), read-only

fn name_filtered(
    q: &HashMap<String, String>,
    items: impl Iterator<Item = Value>,
    name_key: &str,
) -> Result<Vec<Value>, Response> {
    let conds = parse_filter(q)?;
    let mut out = Vec::new();
    for it in items {
        let name = it
            .get(name_key)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let mut keep = true;
        for c in &conds {
            keep &= match (c.field.as_str(), c.op.as_str()) {
                ("name", "eq") => c.values.iter().any(|v| contains_ci(&name, v)),
                _ => return Err(err(StatusCode::BAD_REQUEST, "Invalid criteria provided")),
            };
        }
        if keep {
            out.push(it);
        }
    }
    Ok(out)
}

async fn list_sites(
    State(b): State<Arc<Brivo>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let p = match paging(&q) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let st = lock(&b.state);
    // The list carries only id and siteName.
    let items = st
        .sites
        .values()
        .map(|s| json!({"id": s.get("id"), "siteName": s.get("siteName")}));
    match name_filtered(&q, items, "siteName") {
        Ok(items) => envelope(items, &p),
        Err(r) => r,
    }
}

async fn get_site(State(b): State<Arc<Brivo>>, Path(id): Path<String>) -> Response {
    let st = lock(&b.state);
    match parse_id(&id).and_then(|id| st.sites.get(&id)) {
        Some(s) => json_resp(StatusCode::OK, s),
        None => err(StatusCode::NOT_FOUND, "Site not found"),
    }
}

async fn site_access_points(State(b): State<Arc<Brivo>>, Path(id): Path<String>) -> Response {
    let st = lock(&b.state);
    let Some(sid) = parse_id(&id).filter(|id| st.sites.contains_key(id)) else {
        return err(StatusCode::NOT_FOUND, "Site not found");
    };
    let items = st
        .access_points
        .values()
        .filter(|a| a.get("siteId").and_then(as_i64) == Some(sid))
        .map(|a| {
            let mut a = a.clone();
            if let Some(m) = a.as_object_mut() {
                m.insert("type".into(), json!("Door"));
            }
            a
        })
        .collect();
    sub_list(items)
}

async fn list_access_points(
    State(b): State<Arc<Brivo>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let p = match paging(&q) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let st = lock(&b.state);
    match name_filtered(&q, st.access_points.values().cloned(), "name") {
        Ok(items) => envelope(items, &p),
        Err(r) => r,
    }
}

async fn get_access_point(State(b): State<Arc<Brivo>>, Path(id): Path<String>) -> Response {
    let st = lock(&b.state);
    match parse_id(&id).and_then(|id| st.access_points.get(&id)) {
        Some(a) => json_resp(StatusCode::OK, a),
        None => err(StatusCode::NOT_FOUND, "Access point not found"),
    }
}

async fn whoami() -> Response {
    json_resp(
        StatusCode::OK,
        &json!({"id": 10457058, "firstName": "Sandbox", "lastName": "Admin", "adminId": "sandbox-admin"}),
    )
}

// ---------------------------------------------------------------------------------------
// credentials (brivo.md §3.4), minimal

fn credential_not_found(id: &str) -> Response {
    err(
        StatusCode::NOT_FOUND,
        &format!("No credential could be retrieved for credential id: {id}"),
    )
}

async fn credential_formats() -> Response {
    sub_list(vec![
        json!({"id": 100, "name": "Standard 26 Bit",
               "credentialFields": [{"id": 1, "name": "card_number"}, {"id": 2, "name": "facility_code"}]}),
        json!({"id": 307, "name": "Brivo Mobile Pass", "credentialFields": []}),
    ])
}

async fn list_credentials(
    State(b): State<Arc<Brivo>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let p = match paging(&q) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let conds = match parse_filter(&q) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let st = lock(&b.state);
    let mut items = Vec::new();
    for (id, c) in &st.credentials {
        let assigned = st.assignments.keys().any(|&(_, cid)| cid == *id);
        let reference = c.get("referenceId").and_then(Value::as_str).unwrap_or("");
        let mut keep = true;
        for cond in &conds {
            keep &= match (cond.field.as_str(), cond.op.as_str()) {
                ("reference_id", "eq") => cond.values.iter().any(|v| contains_ci(reference, v)),
                ("status", "eq") => cond.values.iter().any(|v| match v.as_str() {
                    "assigned" => assigned,
                    "unassigned" => !assigned,
                    _ => false,
                }),
                _ => return err(StatusCode::BAD_REQUEST, "Invalid criteria provided"),
            };
        }
        if keep {
            items.push(c.clone());
        }
    }
    envelope(items, &p)
}

async fn get_credential(State(b): State<Arc<Brivo>>, Path(id): Path<String>) -> Response {
    let st = lock(&b.state);
    match parse_id(&id).and_then(|i| st.credentials.get(&i)) {
        Some(c) => json_resp(StatusCode::OK, c),
        None => credential_not_found(&id),
    }
}

/// `POST /credentials` → **201** (VCR), `400 "Duplicate Credential found"` on a repeat.
async fn create_credential(State(b): State<Arc<Brivo>>, body: Bytes) -> Response {
    let body = match parse_body(&body) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let Some(reference) = body
        .get("referenceId")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return err(StatusCode::BAD_REQUEST, "referenceId is required");
    };
    let Some(format_id) = body
        .get("credentialFormat")
        .and_then(|f| f.get("id"))
        .and_then(as_i64)
    else {
        return err(StatusCode::BAD_REQUEST, "credentialFormat is required");
    };
    let field_values = body.get("fieldValues").cloned().unwrap_or(json!([]));
    let mut st = lock(&b.state);
    let dup = st.credentials.values().any(|c| {
        c.get("referenceId").and_then(Value::as_str) == Some(reference.as_str())
            && c.get("fieldValues") == Some(&field_values)
    });
    if dup {
        return err(StatusCode::BAD_REQUEST, "Duplicate Credential found");
    }
    let id = st.alloc_id();
    let format_name = if format_id == 100 {
        "Standard 26 Bit"
    } else {
        "Unknown"
    };
    let c = json!({
        "id": id,
        "credentialFormat": {"id": format_id, "name": format_name},
        "referenceId": reference,
        "fieldValues": field_values,
        "accountId": 1707325,
    });
    st.credentials.insert(id, c.clone());
    json_resp(StatusCode::CREATED, &c)
}

async fn user_credentials(State(b): State<Arc<Brivo>>, Path(id): Path<String>) -> Response {
    let st = lock(&b.state);
    let Some(uid) = parse_id(&id).filter(|id| st.users.contains_key(id)) else {
        return user_not_found();
    };
    let items = st
        .assignments
        .iter()
        .filter(|((u, _), _)| *u == uid)
        .filter_map(|((_, c), (from, to))| {
            let mut cred = st.credentials.get(c)?.clone();
            if let Some(m) = cred.as_object_mut() {
                if let Some(f) = from {
                    m.insert("effectiveFrom".into(), json!(f));
                }
                if let Some(t) = to {
                    m.insert("effectiveTo".into(), json!(t));
                }
            }
            Some(cred)
        })
        .collect();
    sub_list(items)
}

/// `POST /users/{id}/credentials/digital-invitations?sendInvitationEmail=…&nfcEnabled=…&language=…`
/// with `{"referenceId": …}` (brivo.md §3.4): 409 while one is pending.
async fn create_invitation(
    State(b): State<Arc<Brivo>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    for k in q.keys() {
        if !["sendInvitationEmail", "nfcEnabled", "language"].contains(&k.as_str()) {
            return err(StatusCode::BAD_REQUEST, &format!("Unknown parameter {k}"));
        }
    }
    if let Some(l) = q.get("language")
        && !["en", "fr", "es", "nl", "de", "sv"].contains(&l.as_str())
    {
        return err(StatusCode::BAD_REQUEST, "Unsupported language");
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return bad_body();
    };
    let Some(reference) = body
        .get("referenceId")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
    else {
        return err(StatusCode::BAD_REQUEST, "referenceId is required");
    };
    let mut st = lock(&b.state);
    let Some(uid) = parse_id(&id).filter(|id| st.users.contains_key(id)) else {
        return user_not_found();
    };
    if st
        .invitations
        .iter()
        .any(|i| i.user == uid && i.status == "PENDING")
    {
        return err(
            StatusCode::CONFLICT,
            "There is already a pending invitation for the cardHolder. No new invitation will be generated",
        );
    }
    let inv = Invitation {
        id: st.alloc_id(),
        user: uid,
        reference_id: reference.to_owned(),
        credential_id: st.alloc_id(),
        created: chrono::Utc::now(),
        status: "PENDING",
        cancel_date: None,
        nfc_enabled: q.get("nfcEnabled").is_some_and(|v| v == "true"),
    };
    let out = inv.json();
    st.invitations.push(inv);
    json_resp(StatusCode::OK, &out)
}

/// `GET …/digital-invitations?filter=status__eq:pending|redeemed|expired|cancelled|all`;
/// pending only by default (brivo.md §3.4).
async fn list_invitations(
    State(b): State<Arc<Brivo>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let status = match q.get("filter").map(String::as_str) {
        None => "pending".to_owned(),
        Some(f) => match f.strip_prefix("status__eq:") {
            Some(s) if ["pending", "redeemed", "expired", "cancelled", "all"].contains(&s) => {
                s.to_owned()
            }
            _ => return err(StatusCode::BAD_REQUEST, "Invalid filter format"),
        },
    };
    let st = lock(&b.state);
    let Some(uid) = parse_id(&id).filter(|id| st.users.contains_key(id)) else {
        return user_not_found();
    };
    let items = st
        .invitations
        .iter()
        .filter(|i| i.user == uid)
        .filter(|i| status == "all" || i.status.eq_ignore_ascii_case(&status))
        .map(Invitation::json)
        .collect();
    sub_list(items)
}

/// `DELETE …/digital-invitations`: cancels the pending invitation.
async fn cancel_invitation(State(b): State<Arc<Brivo>>, Path(id): Path<String>) -> Response {
    let mut st = lock(&b.state);
    let Some(uid) = parse_id(&id).filter(|id| st.users.contains_key(id)) else {
        return user_not_found();
    };
    match st
        .invitations
        .iter_mut()
        .find(|i| i.user == uid && i.status == "PENDING")
    {
        Some(i) => {
            i.status = "CANCELLED";
            i.cancel_date = Some(chrono::Utc::now());
            json_resp(StatusCode::OK, &i.json())
        }
        // not documented: the strict answer
        None => err(StatusCode::NOT_FOUND, "No pending invitation"),
    }
}

/// Date-only inputs come back as midnight UTC (VCR, brivo.md §3.4).
fn normalize_dt(v: &Value) -> Option<String> {
    let s = v.as_str()?;
    if s.len() == 10 {
        return Some(format!("{s}T00:00:00Z"));
    }
    match chrono::DateTime::parse_from_rfc3339(s) {
        Ok(dt) => Some(
            dt.with_timezone(&chrono::Utc)
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string(),
        ),
        Err(_) => Some(s.to_owned()),
    }
}

/// `PUT /users/{u}/credentials/{c}` with optional `effectiveFrom`/`effectiveTo` → 204.
async fn assign_credential(
    State(b): State<Arc<Brivo>>,
    Path((uid, cid)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let body = if body.is_empty() {
        Map::new()
    } else {
        match parse_body(&body) {
            Ok(m) => m,
            Err(r) => return r,
        }
    };
    let mut st = lock(&b.state);
    let Some(u) = parse_id(&uid).filter(|id| st.users.contains_key(id)) else {
        return user_not_found();
    };
    let Some(c) = parse_id(&cid).filter(|id| st.credentials.contains_key(id)) else {
        return credential_not_found(&cid);
    };
    let from = body.get("effectiveFrom").and_then(normalize_dt);
    let to = body.get("effectiveTo").and_then(normalize_dt);
    let before = st.assignments.get(&(u, c)).cloned();
    let entry = st
        .assignments
        .entry((u, c))
        .or_insert_with(|| (Some(now_str()), None));
    if let Some(f) = from {
        entry.0 = Some(f);
    }
    if let Some(t) = to {
        entry.1 = Some(t);
    }
    if before.as_ref() == Some(&*entry) {
        st.redundant();
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn unassign_credential(
    State(b): State<Arc<Brivo>>,
    Path((uid, cid)): Path<(String, String)>,
) -> Response {
    let mut st = lock(&b.state);
    let Some(u) = parse_id(&uid).filter(|id| st.users.contains_key(id)) else {
        return user_not_found();
    };
    let Some(c) = parse_id(&cid).filter(|id| st.credentials.contains_key(id)) else {
        return credential_not_found(&cid);
    };
    if st.assignments.remove(&(u, c)).is_none() {
        st.redundant();
    }
    StatusCode::NO_CONTENT.into_response()
}

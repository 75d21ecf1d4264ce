//! The Plan: what to change in Brivo, in order, with reasons; what was held
//! back and why; when to run again; what was odd in the input.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::Hasher;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::desired::{self, Desired, Eval};
use crate::directory::DirectoryState;
use crate::facts::{Facts, Profile, Scope};
use crate::hash::{FxHasher, FxMap, fingerprint, map_with_capacity};
use crate::identity::{IdKey, Owner};
use crate::mapping::{GroupId, Mappings};
use crate::observed::{BrivoUserId, Observed, ObservedUser};
use crate::policy::{Exclusivity, NoAccessPolicy, Policy};
use crate::reason::{FactKind, FactRef, Reason, Rule};
use crate::warning::Warning;

/// A Brivo user an action applies to: an existing one, or one the plan
/// creates, named by its external id until it exists.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum UserRef {
    /// An existing Brivo user.
    Existing(BrivoUserId),
    /// A user created by this plan's `CreateUser` with this external id.
    New(String),
}

impl fmt::Display for UserRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UserRef::Existing(id) => write!(f, "{id}"),
            UserRef::New(ext) => write!(f, "new user {ext}"),
        }
    }
}

/// One group added or removed, with its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupChange {
    /// The group.
    pub group: GroupId,
    /// Why.
    pub reasons: Vec<Reason>,
}

/// A profile field an update changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ProfileField {
    /// `firstName`.
    FirstName,
    /// `lastName`.
    LastName,
    /// `emails`.
    Email,
    /// `phoneNumbers`.
    Phone,
}

/// One step of a plan. Kinds come in this order in [`Plan::actions`]. Inside
/// a kind the order is deterministic: existing users by Brivo id, then new
/// users in a fixed order derived from their external ids alone (a
/// fingerprint order, so a million new users sort without comparing strings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Action {
    /// Create a Brivo user carrying `external_id` (look it up first: a
    /// timed-out create may have happened).
    CreateUser {
        /// The owned external id.
        external_id: String,
        /// Name and contact.
        profile: Profile,
        /// Why.
        reasons: Vec<Reason>,
    },
    /// Take over an unowned user (adopt-by-email policy): set its external
    /// id and profile (PATCH).
    AdoptUser {
        /// The user.
        user: BrivoUserId,
        /// The external id to set.
        external_id: String,
        /// The profile to set.
        profile: Profile,
        /// Why.
        reasons: Vec<Reason>,
    },
    /// Update an owned user's profile (PATCH: Brivo's PUT wipes omitted fields).
    UpdateProfile {
        /// The user.
        user: BrivoUserId,
        /// Its external id.
        external_id: String,
        /// The full desired profile.
        profile: Profile,
        /// The fields that differ.
        changed: Vec<ProfileField>,
        /// Why.
        reasons: Vec<Reason>,
    },
    /// Unsuspend an owned user.
    Unsuspend {
        /// The user.
        user: BrivoUserId,
        /// Why.
        reasons: Vec<Reason>,
    },
    /// Change one user's managed-group memberships in one atomic call
    /// (`POST /users/{id}/groups`).
    ChangeGroups {
        /// The user.
        user: UserRef,
        /// Groups to join (sorted).
        add: Vec<GroupChange>,
        /// Groups to leave (sorted).
        remove: Vec<GroupChange>,
    },
    /// Suspend an owned user.
    Suspend {
        /// The user.
        user: BrivoUserId,
        /// Why.
        reasons: Vec<Reason>,
    },
    /// Delete an owned user.
    Delete {
        /// The user.
        user: BrivoUserId,
        /// Why.
        reasons: Vec<Reason>,
    },
}

/// What a held item would have done.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum HeldItem {
    /// Add the user to a group.
    AddGroup(GroupId),
    /// Remove the user from a group.
    RemoveGroup(GroupId),
    /// Suspend the user.
    Suspend,
    /// Delete the user.
    Delete,
}

/// The safety rule that held an item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum HoldRule {
    /// The revocation depends on a scope whose facts are incomplete (a failed
    /// or partial fetch, an unknown zone, a missing property or location).
    Incomplete {
        /// The scope.
        scope: Scope,
    },
    /// A record that could have granted this (a lease, a membership, ...)
    /// could not be read (see the warnings).
    BadRecord {
        /// The kind of record.
        kind: FactKind,
        /// Its id.
        id: String,
    },
    /// The plan would revoke more than the policy's threshold.
    MassRevocation {
        /// Revocations the plan would carry.
        revocations: usize,
        /// Observed memberships in managed groups.
        observed_memberships: usize,
    },
    /// The user would hold more groups than Brivo allows; additions held.
    TooManyGroups {
        /// Groups desired.
        desired: usize,
        /// The limit.
        max: usize,
    },
}

impl fmt::Display for HoldRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HoldRule::Incomplete { scope } => write!(f, "{scope} is incomplete"),
            HoldRule::BadRecord { kind, id } => {
                write!(f, "{kind} {id}, which could grant it, was skipped")
            }
            HoldRule::MassRevocation {
                revocations,
                observed_memberships,
            } => write!(
                f,
                "{revocations} revocations exceed the threshold ({observed_memberships} managed memberships observed)"
            ),
            HoldRule::TooManyGroups { desired, max } => {
                write!(f, "{desired} groups desired, Brivo allows {max}")
            }
        }
    }
}

/// An item withheld by a safety rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Held {
    /// The user.
    pub user: UserRef,
    /// What was held.
    pub item: HeldItem,
    /// The rule that held it.
    pub rule: HoldRule,
    /// The reasons the item would have carried.
    pub reasons: Vec<Reason>,
}

/// What a plan was computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanMeta {
    /// [`Observed::digest`] of the state diffed against.
    pub observed_digest: String,
    /// SHA-256 of the canonical JSON of mappings and policy.
    pub config_digest: String,
    /// This crate's version.
    pub engine_version: String,
    /// The tzdb version compiled into chrono-tz.
    pub tzdb_version: String,
}

/// The observed state changed since the plan was made: re-plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "stale plan: computed against observed state {planned}, Brivo now reads {current}; re-plan"
)]
pub struct StalePlan {
    /// The digest the plan recorded.
    pub planned: String,
    /// The digest of the fresh observed state.
    pub current: String,
}

/// The exact changes that bring Brivo to the desired state. Serializable:
/// a dry run can be saved, reviewed and applied later (see
/// [`Plan::check_observed`]). Byte-identical for the same input, whatever
/// the order of the input vectors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The instant the plan was computed for.
    pub now: DateTime<Utc>,
    /// Ordered actions.
    pub actions: Vec<Action>,
    /// Items withheld by a safety rule.
    pub held: Vec<Held>,
    /// The first instant after `now` at which the desired state changes.
    pub next_change: Option<DateTime<Utc>>,
    /// What was skipped or odd in the input.
    pub warnings: Vec<Warning>,
    /// What the plan was computed from.
    pub meta: PlanMeta,
}

impl Plan {
    /// True when there is nothing to do (held items and warnings aside).
    pub fn is_empty(&self) -> bool {
        self.actions.is_empty()
    }

    /// Refuses a saved plan whose observed digest no longer matches Brivo.
    pub fn check_observed(&self, observed: &Observed) -> Result<(), StalePlan> {
        let current = observed.digest();
        if current == self.meta.observed_digest {
            Ok(())
        } else {
            Err(StalePlan {
                planned: self.meta.observed_digest.clone(),
                current,
            })
        }
    }

    /// Number of single group changes (adds plus removes) in the actions.
    pub fn group_changes(&self) -> usize {
        self.actions
            .iter()
            .map(|a| match a {
                Action::ChangeGroups { add, remove, .. } => add.len() + remove.len(),
                _ => 0,
            })
            .sum()
    }
}

fn write_reasons(f: &mut fmt::Formatter<'_>, reasons: &[Reason], indent: &str) -> fmt::Result {
    for r in reasons {
        writeln!(f, "{indent}because {r}")?;
    }
    Ok(())
}

impl fmt::Display for Plan {
    /// A human-readable listing: one line per action (and per group change),
    /// each followed by its reasons; then held items and warnings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "plan at {} (engine {}, tzdb {}): {} actions, {} held, {} warnings",
            self.now.format("%Y-%m-%d %H:%M:%SZ"),
            self.meta.engine_version,
            self.meta.tzdb_version,
            self.actions.len(),
            self.held.len(),
            self.warnings.len()
        )?;
        match self.next_change {
            Some(t) => writeln!(f, "next change at {}", t.format("%Y-%m-%d %H:%M:%SZ"))?,
            None => writeln!(f, "no change scheduled")?,
        }
        for a in &self.actions {
            match a {
                Action::CreateUser {
                    external_id,
                    profile,
                    reasons,
                } => {
                    writeln!(f, "  create    {external_id}: {profile}")?;
                    write_reasons(f, reasons, "            ")?;
                }
                Action::AdoptUser {
                    user,
                    external_id,
                    profile,
                    reasons,
                } => {
                    writeln!(f, "  adopt     {user} as {external_id}: {profile}")?;
                    write_reasons(f, reasons, "            ")?;
                }
                Action::UpdateProfile {
                    user,
                    external_id,
                    profile,
                    changed,
                    reasons,
                } => {
                    writeln!(
                        f,
                        "  update    {user} ({external_id}) {changed:?} -> {profile}"
                    )?;
                    write_reasons(f, reasons, "            ")?;
                }
                Action::Unsuspend { user, reasons } => {
                    writeln!(f, "  unsuspend {user}")?;
                    write_reasons(f, reasons, "            ")?;
                }
                Action::ChangeGroups { user, add, remove } => {
                    writeln!(f, "  groups    {user}")?;
                    for (sign, list) in [("+", add), ("-", remove)] {
                        for c in list {
                            writeln!(f, "            {sign} {}", c.group)?;
                            write_reasons(f, &c.reasons, "                ")?;
                        }
                    }
                }
                Action::Suspend { user, reasons } => {
                    writeln!(f, "  suspend   {user}")?;
                    write_reasons(f, reasons, "            ")?;
                }
                Action::Delete { user, reasons } => {
                    writeln!(f, "  delete    {user}")?;
                    write_reasons(f, reasons, "            ")?;
                }
            }
        }
        for h in &self.held {
            writeln!(f, "  HELD      {:?} for {}: {}", h.item, h.user, h.rule)?;
            write_reasons(f, &h.reasons, "            ")?;
        }
        for w in &self.warnings {
            writeln!(f, "  warning   {w}")?;
        }
        Ok(())
    }
}

/// Digest of mappings and policy (canonical JSON: maps are `BTreeMap`s).
pub(crate) fn config_digest(mappings: &Mappings, policy: &Policy) -> String {
    let mut h = Sha256::new();
    h.update(b"config-v1\0");
    // Serializing plain data structs to JSON cannot fail.
    h.update(serde_json::to_vec(mappings).unwrap_or_default());
    h.update(b"\0");
    h.update(serde_json::to_vec(policy).unwrap_or_default());
    hex::encode(h.finalize())
}

const NONE: u32 = u32::MAX;

/// The desired Brivo-side state of one identity at an instant.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Want {
    pub(crate) eval: Eval,
    /// `Some(true)`: must be suspended; `Some(false)`: must not; `None`: either.
    pub(crate) suspended: Option<bool>,
    pub(crate) delete: bool,
    pub(crate) directory: Option<DirectoryState>,
}

/// Evaluates identity `i` at `t` (current groups into `out`), applying the
/// directory lifecycle and the no-access policy.
pub(crate) fn want(
    d: &Desired<'_>,
    policy: &Policy,
    i: usize,
    t: DateTime<Utc>,
    out: &mut Vec<GroupId>,
) -> Want {
    out.clear();
    let mut eval = d.eval(i, t, out);
    let directory = d.identities[i].directory.map(|(s, _)| s);
    if matches!(
        directory,
        Some(DirectoryState::Disabled | DirectoryState::Deleted)
    ) {
        out.clear();
        eval = Eval::default();
    }
    let no_access_left = !eval.has_future;
    let delete = directory == Some(DirectoryState::Deleted)
        || (policy.no_access == NoAccessPolicy::Delete && no_access_left);
    let suspended = if directory == Some(DirectoryState::Suspended)
        || (policy.no_access == NoAccessPolicy::Suspend && no_access_left)
    {
        Some(true)
    } else if !out.is_empty() {
        Some(false)
    } else {
        None
    };
    Want {
        eval,
        suspended,
        delete,
        directory,
    }
}

/// A 64-bit digest of the fields [`profile_changes`] compares (emails
/// case-insensitively), so the hot loop compares one word per user and only
/// reads the observed user's strings when they differ. Equal profiles always
/// hash equal; unequal ones collide with probability about 2^-64.
fn profile_hash<'a>(
    first: &str,
    last: &str,
    emails: impl Iterator<Item = &'a str>,
    phones: impl Iterator<Item = &'a str>,
) -> u64 {
    let mut h = FxHasher::default();
    h.write(first.as_bytes());
    h.write_u8(0xff);
    h.write(last.as_bytes());
    h.write_u8(0xff);
    let mut buf = [0u8; 64];
    let mut n = 0u64;
    for e in emails {
        for chunk in e.as_bytes().chunks(buf.len()) {
            let b = &mut buf[..chunk.len()];
            b.copy_from_slice(chunk);
            b.make_ascii_lowercase();
            h.write(b);
        }
        h.write_u8(0xfe);
        n += 1;
    }
    h.write_u64(n);
    let mut n = 0u64;
    for p in phones {
        h.write(p.as_bytes());
        h.write_u8(0xfd);
        n += 1;
    }
    h.write_u64(n);
    h.finish()
}

fn fact_profile_hash(p: &Profile) -> u64 {
    profile_hash(
        &p.first_name,
        &p.last_name,
        p.email.as_deref().into_iter(),
        p.phone.as_deref().into_iter(),
    )
}

/// What the plan needs of an observed user, gathered in one sequential pass.
struct ObsInfo {
    id: BrivoUserId,
    profile_hash: u64,
    suspended: bool,
    /// Its live managed groups, sorted and distinct: the first `len` of
    /// `inline` when `len <= INLINE_GROUPS` (the common case, read with the
    /// rest of the summary), else `flat[start..start + len]`.
    inline: [GroupId; INLINE_GROUPS],
    start: u32,
    len: u32,
    /// Its owned key's bytes, to confirm a fingerprint match without
    /// chasing the user's strings.
    key: PackedKey,
}

const INLINE_GROUPS: usize = 2;

/// An owned key packed into the user's summary: its kind and its one or two
/// ids, when they fit. Comparing it with an identity's key reads the
/// identity's strings (in fact order) and this summary (read anyway), where
/// comparing the observed strings would be two more cache misses per user.
#[derive(Clone, Copy)]
struct PackedKey {
    kind: u8,
    /// Length of the first id; the second follows it.
    split: u8,
    /// Total length, or [`PackedKey::TOO_LONG`].
    len: u8,
    bytes: [u8; PackedKey::CAP],
}

impl PackedKey {
    const CAP: usize = 29;
    const TOO_LONG: u8 = u8::MAX;
    const NONE: PackedKey = PackedKey {
        kind: 0,
        split: 0,
        len: PackedKey::TOO_LONG,
        bytes: [0; PackedKey::CAP],
    };

    fn parts<'k>(key: &IdKey<'k>) -> (u8, &'k str, &'k str) {
        match *key {
            IdKey::Directory(a, b) => (1, a, b),
            IdKey::Entrata(a, b) => (2, a, b),
            IdKey::Member(a) => (3, a, ""),
            IdKey::Visitor(a) => (4, a, ""),
        }
    }

    fn new(key: &IdKey<'_>) -> PackedKey {
        let (kind, a, b) = PackedKey::parts(key);
        let len = a.len() + b.len();
        if len > PackedKey::CAP {
            return PackedKey::NONE;
        }
        let mut bytes = [0; PackedKey::CAP];
        bytes[..a.len()].copy_from_slice(a.as_bytes());
        bytes[a.len()..len].copy_from_slice(b.as_bytes());
        PackedKey {
            kind,
            split: a.len() as u8,
            len: len as u8,
            bytes,
        }
    }

    /// Whether `key` is this key; `None` when it did not fit.
    fn matches(&self, key: &IdKey<'_>) -> Option<bool> {
        if self.len == PackedKey::TOO_LONG {
            return None;
        }
        let (kind, a, b) = PackedKey::parts(key);
        let (split, len) = (usize::from(self.split), usize::from(self.len));
        Some(
            kind == self.kind
                && a.len() == split
                && a.len() + b.len() == len
                && self.bytes[..split] == *a.as_bytes()
                && self.bytes[split..len] == *b.as_bytes(),
        )
    }
}

fn profile_changes(p: &Profile, u: &ObservedUser) -> Vec<ProfileField> {
    let mut out = Vec::new();
    if p.first_name != u.first_name {
        out.push(ProfileField::FirstName);
    }
    if p.last_name != u.last_name {
        out.push(ProfileField::LastName);
    }
    let email_ok = match &p.email {
        Some(e) => u.emails.len() == 1 && u.emails[0].eq_ignore_ascii_case(e),
        None => u.emails.is_empty(),
    };
    if !email_ok {
        out.push(ProfileField::Email);
    }
    let phone_ok = match &p.phone {
        Some(ph) => u.phones.len() == 1 && u.phones[0] == *ph,
        None => u.phones.is_empty(),
    };
    if !phone_ok {
        out.push(ProfileField::Phone);
    }
    out
}

#[derive(Default)]
struct Out {
    creates: Vec<(usize, Action)>,
    adopts: Vec<(BrivoUserId, Action)>,
    updates: Vec<(BrivoUserId, Action)>,
    unsuspends: Vec<(BrivoUserId, Action)>,
    /// (sort key, user, add, remove); new users sort after existing ones.
    changes: Vec<(ChangeKey, UserRef, Vec<GroupChange>, Vec<GroupChange>)>,
    suspends: Vec<(BrivoUserId, Action)>,
    deletes: Vec<(BrivoUserId, Action)>,
    held: Vec<Held>,
    /// Users matched by fingerprint whose key differs: orphans after all.
    mismatched: Vec<u32>,
}

impl Out {
    /// Suspends an existing user, or holds the suspension under `hold`.
    fn suspend(&mut self, id: BrivoUserId, hold: Option<HoldRule>, reasons: Vec<Reason>) {
        match hold {
            Some(rule) => self.hold(id, HeldItem::Suspend, rule, reasons),
            None => self
                .suspends
                .push((id, Action::Suspend { user: id, reasons })),
        }
    }

    /// Deletes an existing user, or holds the deletion under `hold`.
    fn delete(&mut self, id: BrivoUserId, hold: Option<HoldRule>, reasons: Vec<Reason>) {
        match hold {
            Some(rule) => self.hold(id, HeldItem::Delete, rule, reasons),
            None => self
                .deletes
                .push((id, Action::Delete { user: id, reasons })),
        }
    }

    /// Removes an existing user from group `g` (into `removes`), or holds
    /// the removal: under the user's own hold, else when an incomplete scope
    /// feeds the group.
    fn remove(
        &mut self,
        d: &Desired<'_>,
        id: BrivoUserId,
        removes: &mut Vec<GroupChange>,
        g: GroupId,
        user_hold: Option<HoldRule>,
        reasons: Vec<Reason>,
    ) {
        let hold = user_hold.or_else(|| {
            d.group_hold
                .get(&g)
                .map(|s| HoldRule::Incomplete { scope: s.clone() })
        });
        match hold {
            Some(rule) => self.hold(id, HeldItem::RemoveGroup(g), rule, reasons),
            None => removes.push(GroupChange { group: g, reasons }),
        }
    }

    fn hold(&mut self, id: BrivoUserId, item: HeldItem, rule: HoldRule, reasons: Vec<Reason>) {
        self.held.push(Held {
            user: UserRef::Existing(id),
            item,
            rule,
            reasons,
        });
    }

    fn append(&mut self, other: Out) {
        self.creates.extend(other.creates);
        self.adopts.extend(other.adopts);
        self.updates.extend(other.updates);
        self.unsuspends.extend(other.unsuspends);
        self.changes.extend(other.changes);
        self.suspends.extend(other.suspends);
        self.deletes.extend(other.deletes);
        self.held.extend(other.held);
        self.mismatched.extend(other.mismatched);
    }
}

/// Sorts by a small key (ties in input order), moving each element once:
/// sorting large actions in place moves each about log n times, which was a
/// sixth of a plan from an empty Brivo at a million occupants.
fn sort_by_small_key<T, K: Ord>(v: &mut Vec<T>, key: impl Fn(&T) -> K) {
    let mut order: Vec<(K, u32)> = v
        .iter()
        .enumerate()
        .map(|(i, x)| (key(x), i as u32))
        .collect();
    order.sort_unstable();
    let mut slots: Vec<Option<T>> = std::mem::take(v).into_iter().map(Some).collect();
    v.reserve_exact(slots.len());
    v.extend(
        order
            .into_iter()
            .filter_map(|(_, i)| slots[i as usize].take()),
    );
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ChangeKey {
    Existing(BrivoUserId),
    New(usize),
}

fn directory_reason(facts: &Facts, d: &Desired<'_>, i: usize, rule: Rule) -> Reason {
    let fact = d.identities[i].directory.map(|(s, ui)| {
        let u = &facts.directory_users[ui as usize];
        FactRef {
            kind: FactKind::DirectoryUser,
            id: format!("{}/{}", u.directory_id, u.user_id),
            note: s.to_string(),
        }
    });
    Reason {
        rule,
        fact,
        window: None,
    }
}

/// Below this many observed users plus fact records, or identities, a
/// second thread costs more than it saves. (Small in unit tests, so that they
/// cover the two-thread path quickly.)
const PARALLEL_MIN: usize = if cfg!(test) { 2_000 } else { 50_000 };

/// Computes the plan. Pure and deterministic: no clock, no I/O; `now` is an
/// argument. See the crate docs for the rules and an example.
pub fn plan(
    facts: &Facts,
    mappings: &Mappings,
    policy: &Policy,
    observed: &Observed,
    now: DateTime<Utc>,
) -> Plan {
    let prefix = policy.ownership_prefix.as_str();
    let observe = || {
        let live = desired::live_groups(mappings, Some(&observed.groups)).0;
        summarize(observed, &live, prefix)
    };
    let records = facts.leases.len()
        + facts.members.len()
        + facts.memberships.len()
        + facts.bookings.len()
        + facts.directory_users.len();
    if observed.users.len() + records < PARALLEL_MIN {
        let d = desired::build(facts, mappings, policy, Some(&observed.groups));
        return plan_inner(
            facts,
            d,
            mappings,
            policy,
            observed,
            now,
            observe(),
            || observed.digest(),
            false,
        );
    }
    // Brivo's side only reads `observed`: its summary is made on a second
    // core while the desired state is built, then its digest while users are
    // matched, and the identities are planned in two halves. Inline where
    // threads are unavailable; the plan is the same either way.
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("access-engine-observed".into())
            .spawn_scoped(scope, observe)
            .ok();
        let d = desired::build(facts, mappings, policy, Some(&observed.groups));
        let summary = match worker.map(|w| w.join()) {
            Some(Ok(summary)) => summary,
            _ => observe(),
        };
        let worker = std::thread::Builder::new()
            .name("access-engine-digest".into())
            .spawn_scoped(scope, || observed.digest())
            .ok();
        let digest = move || match worker.map(|w| w.join()) {
            Some(Ok(digest)) => digest,
            _ => observed.digest(),
        };
        plan_inner(
            facts, d, mappings, policy, observed, now, summary, digest, true,
        )
    })
}

/// What the plan needs of Brivo's users, gathered in one sequential pass.
struct Summary<'o> {
    infos: Vec<ObsInfo>,
    /// Live groups of users with more than [`INLINE_GROUPS`].
    flat: Vec<GroupId>,
    /// (key fingerprint, user) of owned users, sorted.
    owned_keys: Vec<(u128, u32)>,
    unowned: Vec<u32>,
    /// Owned users whose external id is not an identity's.
    orphans: Vec<(u32, Option<IdKey<'o>>)>,
    /// External ids held by more than one user.
    dup: BTreeMap<&'o str, Vec<BrivoUserId>>,
}

fn summarize<'o>(observed: &'o Observed, live: &[GroupId], prefix: &str) -> Summary<'o> {
    let is_live = |g: GroupId| live.binary_search(&g).is_ok();
    let mut orphans: Vec<(u32, Option<IdKey<'o>>)> = Vec::new();
    let mut unowned: Vec<u32> = Vec::new();
    let mut dup: BTreeMap<&str, Vec<BrivoUserId>> = BTreeMap::new();
    let mut orphan_seen: FxMap<&str, usize> = FxMap::default();
    let mut owned_keys: Vec<(u128, u32)> = Vec::with_capacity(observed.users.len());
    let mut infos: Vec<ObsInfo> = Vec::with_capacity(observed.users.len());
    let mut flat: Vec<GroupId> = Vec::new();
    for (ui, u) in observed.users.iter().enumerate() {
        let ui = ui as u32;
        let start = flat.len();
        flat.extend(u.groups.iter().copied().filter(|g| is_live(*g)));
        if flat.len() - start > 1 {
            let tail = &mut flat[start..];
            tail.sort_unstable();
            let mut kept = 1;
            for r in 1..tail.len() {
                if tail[r] != tail[kept - 1] {
                    tail[kept] = tail[r];
                    kept += 1;
                }
            }
            flat.truncate(start + kept);
        }
        let len = (flat.len() - start) as u32;
        let mut inline = [GroupId(0); INLINE_GROUPS];
        if len as usize <= INLINE_GROUPS {
            inline[..len as usize].copy_from_slice(&flat[start..]);
            flat.truncate(start);
        }
        infos.push(ObsInfo {
            id: u.id,
            profile_hash: profile_hash(
                &u.first_name,
                &u.last_name,
                u.emails.iter().map(String::as_str),
                u.phones.iter().map(String::as_str),
            ),
            suspended: u.suspended,
            inline,
            start: start as u32,
            len,
            key: PackedKey::NONE,
        });
        match IdKey::parse(u.external_id.as_deref(), prefix) {
            Owner::Unowned => unowned.push(ui),
            Owner::Owned(key) => {
                if let Some(info) = infos.last_mut() {
                    info.key = PackedKey::new(&key);
                }
                owned_keys.push((fingerprint(&key), ui));
            }
            Owner::OwnedUnparsed => {
                // In our namespace but not an identity: an orphan.
                let ext = u.external_id.as_deref().unwrap_or_default();
                match orphan_seen.get(ext) {
                    None => {
                        orphan_seen.insert(ext, orphans.len());
                        orphans.push((ui, None));
                    }
                    Some(&slot) => {
                        let prev = orphans[slot].0;
                        let entry = dup.entry(ext).or_default();
                        if entry.is_empty() {
                            entry.push(observed.users[prev as usize].id);
                        }
                        entry.push(u.id);
                        if u.id < observed.users[prev as usize].id {
                            orphans[slot].0 = ui;
                            unowned.push(prev);
                        } else {
                            unowned.push(ui);
                        }
                    }
                }
            }
        }
    }

    owned_keys.sort_unstable();
    Summary {
        infos,
        flat,
        owned_keys,
        unowned,
        orphans,
        dup,
    }
}

#[allow(clippy::too_many_arguments)]
fn plan_inner<'o>(
    facts: &Facts,
    desired: Desired<'_>,
    mappings: &Mappings,
    policy: &Policy,
    observed: &'o Observed,
    now: DateTime<Utc>,
    summary: Summary<'o>,
    digest: impl FnOnce() -> String,
    parallel: bool,
) -> Plan {
    let d = &desired;
    let prefix = policy.ownership_prefix.as_str();
    let n = d.identities.len();
    let mut extra_warnings: Vec<Warning> = Vec::new();
    let Summary {
        infos,
        flat,
        owned_keys,
        mut unowned,
        mut orphans,
        mut dup,
    } = summary;
    let mut user_of: Vec<u32> = vec![NONE; n];

    // Merge join of observed keys with identities, both sorted by key
    // fingerprint: sequential passes instead of a million random probes.
    // Every match is confirmed by comparing the keys themselves.
    let key_of =
        |ui: u32| match IdKey::parse(observed.users[ui as usize].external_id.as_deref(), prefix) {
            Owner::Owned(k) => Some(k),
            _ => None,
        };
    let by_fp = d.by_fingerprint();
    let (mut j, mut k) = (0usize, 0usize);
    while k < owned_keys.len() {
        let fp = owned_keys[k].0;
        let mut e = k + 1;
        while e < owned_keys.len() && owned_keys[e].0 == fp {
            e += 1;
        }
        while j < by_fp.len() && by_fp[j].0 < fp {
            j += 1;
        }
        let mut je = j;
        while je < by_fp.len() && by_fp[je].0 == fp {
            je += 1;
        }
        let cands = &by_fp[j..je];
        if e - k == 1 && cands.len() <= 1 {
            // Confirmed by key below, in identity order.
            let ui = owned_keys[k].1;
            match cands.first() {
                Some(&(_, id)) => user_of[id as usize] = ui,
                None => orphans.push((ui, key_of(ui))),
            }
        } else {
            let mut groups: Vec<(IdKey<'_>, Vec<u32>)> = Vec::new();
            for &(_, ui) in &owned_keys[k..e] {
                let Some(key) = key_of(ui) else { continue };
                match groups.iter_mut().find(|(g, _)| *g == key) {
                    Some((_, v)) => v.push(ui),
                    None => groups.push((key, vec![ui])),
                }
            }
            for (key, mut uis) in groups {
                // The lowest Brivo id keeps the identity; others are unowned.
                uis.sort_unstable_by_key(|&ui| observed.users[ui as usize].id);
                let keep = uis[0];
                if uis.len() > 1 {
                    let ext = observed.users[keep as usize]
                        .external_id
                        .as_deref()
                        .unwrap_or_default();
                    dup.entry(ext)
                        .or_default()
                        .extend(uis.iter().map(|&ui| observed.users[ui as usize].id));
                    unowned.extend_from_slice(&uis[1..]);
                }
                match cands
                    .iter()
                    .find(|(_, id)| d.identities[*id as usize].key == key)
                {
                    Some(&(_, id)) => user_of[id as usize] = keep,
                    None => orphans.push((keep, Some(key))),
                }
            }
        }
        k = e;
    }
    // A 128-bit fingerprint from a non-cryptographic hasher is not proof of
    // identity: every match is confirmed by the key itself, against the copy
    // in the user's summary, which the identity's planning reads anyway.
    // Adoption needs the unmatched identities first, so with it the check is
    // a pass of its own.
    let confirmed = |i: usize, ui: u32| {
        let key = &d.identities[i].key;
        match infos[ui as usize].key.matches(key) {
            Some(same) => same,
            None => key_of(ui).as_ref() == Some(key),
        }
    };
    if policy.adopt_by_email {
        for (i, ui) in user_of.iter_mut().enumerate() {
            if *ui != NONE && !confirmed(i, *ui) {
                orphans.push((*ui, key_of(*ui)));
                *ui = NONE;
            }
        }
    }
    for (ext, mut users) in dup {
        users.sort_unstable();
        extra_warnings.push(Warning::DuplicateExternalId {
            external_id: ext.to_owned(),
            users,
        });
    }

    let live_groups_of = |info: &ObsInfo, out: &mut Vec<GroupId>| {
        out.clear();
        if info.len as usize <= INLINE_GROUPS {
            out.extend_from_slice(&info.inline[..info.len as usize]);
        } else {
            out.extend_from_slice(&flat[info.start as usize..(info.start + info.len) as usize]);
        }
    };

    // Adopt-by-email: an unowned user whose email is unique among unowned
    // users and wanted by exactly one identity that needs a user.
    let mut adopted: Vec<u32> = vec![NONE; n];
    let mut is_adopted: Vec<bool> = Vec::new();
    if policy.adopt_by_email {
        is_adopted = vec![false; observed.users.len()];
        let mut by_email: FxMap<String, Vec<u32>> = map_with_capacity(unowned.len());
        for &ui in &unowned {
            for e in &observed.users[ui as usize].emails {
                let list = by_email.entry(e.to_ascii_lowercase()).or_default();
                if list.last() != Some(&ui) {
                    list.push(ui);
                }
            }
        }
        let mut claims: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        let mut scratch: Vec<GroupId> = Vec::with_capacity(16);
        for (i, &matched) in user_of.iter().enumerate() {
            if matched != NONE {
                continue;
            }
            let w = want(d, policy, i, now, &mut scratch);
            if scratch.is_empty() || w.suspended == Some(true) || w.delete {
                continue;
            }
            if let Some(email) = &d.profile(i).email
                && let Some([ui]) = by_email.get(&email.to_ascii_lowercase()).map(Vec::as_slice)
            {
                claims.entry(*ui).or_default().push(i);
            }
        }
        for (ui, ids) in claims {
            if let [i] = ids.as_slice() {
                adopted[*i] = ui;
                is_adopted[ui as usize] = true;
            }
        }
    }

    // Each identity is planned from read-only state: two halves run on two
    // cores for large portfolios, and the parts are merged (and sorted
    // below, so the plan does not depend on the split).
    let plan_range = |range: std::ops::Range<usize>| {
        let mut out = Out::default();
        let mut next_change: Option<DateTime<Utc>> = None;
        let mut observed_memberships = 0usize;
        let mut scratch: Vec<GroupId> = Vec::with_capacity(16);
        let mut obs_groups: Vec<GroupId> = Vec::with_capacity(16);
        for i in range {
            let w = want(d, policy, i, now, &mut scratch);
            if let Some(t) = w.eval.next
                && next_change.is_none_or(|n| t < n)
            {
                next_change = Some(t);
            }
            let ident = &d.identities[i];
            // Revocations of the whole user wait for an incomplete scope it
            // belongs to, or for any bad record about it; a group's removal
            // waits for a bad record that could have granted that group.
            let scope_hold = || {
                d.identity_hold(&ident.key)
                    .map(|scope| HoldRule::Incomplete { scope })
            };
            let bad_rule = |src| {
                let (kind, id) = desired::src_id(facts, src);
                HoldRule::BadRecord {
                    kind,
                    id: id.to_owned(),
                }
            };
            let hold = || scope_hold().or_else(|| d.bad_record(i).map(bad_rule));
            let group_hold = |g: GroupId| scope_hold().or_else(|| d.bad_hold(i, g).map(bad_rule));
            let mut ui = user_of[i];
            if ui != NONE && !policy.adopt_by_email && !confirmed(i, ui) {
                out.mismatched.push(ui);
                ui = NONE;
            }
            let mut adopting = false;
            if ui == NONE && adopted[i] != NONE {
                ui = adopted[i];
                adopting = true;
            }
            if ui == NONE {
                // No Brivo user: create one only when there is access to give.
                if scratch.is_empty() || w.suspended == Some(true) || w.delete {
                    continue;
                }
                let external_id = ident.key.external_id(prefix);
                let mut adds = Vec::with_capacity(scratch.len());
                for &g in &scratch {
                    adds.push(GroupChange {
                        group: g,
                        reasons: d.reasons(facts, i, g, now),
                    });
                }
                out.creates.push((
                    i,
                    Action::CreateUser {
                        external_id: external_id.clone(),
                        profile: d.profile(i).clone(),
                        reasons: vec![Reason::rule(Rule::HasAccess)],
                    },
                ));
                let user = UserRef::New(external_id);
                if scratch.len() > policy.max_groups_per_user {
                    let rule = HoldRule::TooManyGroups {
                        desired: scratch.len(),
                        max: policy.max_groups_per_user,
                    };
                    for c in adds {
                        out.held.push(Held {
                            user: user.clone(),
                            item: HeldItem::AddGroup(c.group),
                            rule: rule.clone(),
                            reasons: c.reasons,
                        });
                    }
                } else {
                    out.changes
                        .push((ChangeKey::New(i), user, adds, Vec::new()));
                }
                continue;
            }

            let u = &infos[ui as usize];
            live_groups_of(u, &mut obs_groups);
            observed_memberships += obs_groups.len();
            let user = UserRef::Existing(u.id);

            if w.delete {
                let reasons = vec![if w.directory == Some(DirectoryState::Deleted) {
                    directory_reason(facts, d, i, Rule::DirectoryDeleted)
                } else {
                    Reason::rule(Rule::NoAccessLeft(NoAccessPolicy::Delete))
                }];
                out.delete(u.id, hold(), reasons);
                continue;
            }

            if adopting {
                out.adopts.push((
                    u.id,
                    Action::AdoptUser {
                        user: u.id,
                        external_id: ident.key.external_id(prefix),
                        profile: d.profile(i).clone(),
                        reasons: vec![Reason::rule(Rule::AdoptedByEmail)],
                    },
                ));
            } else {
                let profile = d.profile(i);
                let changed = if fact_profile_hash(profile) == u.profile_hash {
                    Vec::new()
                } else {
                    profile_changes(profile, &observed.users[ui as usize])
                };
                if !changed.is_empty() {
                    out.updates.push((
                        u.id,
                        Action::UpdateProfile {
                            user: u.id,
                            external_id: ident.key.external_id(prefix),
                            profile: d.profile(i).clone(),
                            changed,
                            reasons: vec![Reason::rule(Rule::ProfileChanged)],
                        },
                    ));
                }
            }

            match (w.suspended, u.suspended) {
                (Some(true), false) => {
                    let reasons = vec![if w.directory == Some(DirectoryState::Suspended) {
                        directory_reason(facts, d, i, Rule::DirectorySuspended)
                    } else {
                        Reason::rule(Rule::NoAccessLeft(NoAccessPolicy::Suspend))
                    }];
                    out.suspend(u.id, hold(), reasons);
                }
                (Some(false), true) => out.unsuspends.push((
                    u.id,
                    Action::Unsuspend {
                        user: u.id,
                        reasons: vec![Reason::rule(Rule::HasAccess)],
                    },
                )),
                _ => {}
            }

            // Group diff (both sorted).
            let (mut a, mut b) = (0, 0);
            let mut adds = Vec::new();
            let mut removes = Vec::new();
            let too_many = scratch.len() > policy.max_groups_per_user;
            while a < scratch.len() || b < obs_groups.len() {
                let (want_g, have_g) = (scratch.get(a).copied(), obs_groups.get(b).copied());
                let step = match (want_g, have_g) {
                    (Some(x), Some(y)) => x.cmp(&y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    _ => std::cmp::Ordering::Greater,
                };
                match step {
                    std::cmp::Ordering::Equal => {
                        a += 1;
                        b += 1;
                    }
                    std::cmp::Ordering::Less => {
                        let x = scratch[a];
                        a += 1;
                        let reasons = d.reasons(facts, i, x, now);
                        if too_many {
                            out.held.push(Held {
                                user: user.clone(),
                                item: HeldItem::AddGroup(x),
                                rule: HoldRule::TooManyGroups {
                                    desired: scratch.len(),
                                    max: policy.max_groups_per_user,
                                },
                                reasons,
                            });
                        } else {
                            adds.push(GroupChange { group: x, reasons });
                        }
                    }
                    std::cmp::Ordering::Greater => {
                        let y = obs_groups[b];
                        b += 1;
                        let mut reasons = if matches!(w.directory, Some(DirectoryState::Disabled)) {
                            vec![directory_reason(facts, d, i, Rule::DirectoryDisabled)]
                        } else {
                            d.reasons(facts, i, y, now)
                        };
                        if reasons.is_empty() {
                            reasons.push(Reason::rule(Rule::NotGranted));
                        }
                        out.remove(d, u.id, &mut removes, y, group_hold(y), reasons);
                    }
                }
            }
            if !adds.is_empty() || !removes.is_empty() {
                out.changes
                    .push((ChangeKey::Existing(u.id), user, adds, removes));
            }
        }
        (out, next_change, observed_memberships)
    };
    let (mut out, next_change, mut observed_memberships) = if parallel && n >= PARALLEL_MIN / 2 {
        let mid = n / 2;
        std::thread::scope(|scope| {
            let second = std::thread::Builder::new()
                .name("access-engine-plan".into())
                .spawn_scoped(scope, || plan_range(mid..n))
                .ok();
            let (mut out, first_next, first_count) = plan_range(0..mid);
            let (second_out, second_next, second_count) = match second.map(|h| h.join()) {
                Some(Ok(part)) => part,
                _ => plan_range(mid..n),
            };
            out.append(second_out);
            let next = match (first_next, second_next) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            (out, next, first_count + second_count)
        })
    } else {
        plan_range(0..n)
    };
    let mut obs_groups: Vec<GroupId> = Vec::with_capacity(16);

    orphans.extend(
        std::mem::take(&mut out.mismatched)
            .into_iter()
            .map(|ui| (ui, key_of(ui))),
    );
    // Owned users whose identity is in no fact: no access left.
    for &(ui, key) in &orphans {
        let u = &infos[ui as usize];
        live_groups_of(u, &mut obs_groups);
        observed_memberships += obs_groups.len();
        let user = UserRef::Existing(u.id);
        let hold = key
            .and_then(|k| d.identity_hold(&k))
            .map(|scope| HoldRule::Incomplete { scope });
        match policy.no_access {
            NoAccessPolicy::Delete => {
                let reasons = vec![Reason::rule(Rule::NoAccessLeft(NoAccessPolicy::Delete))];
                out.delete(u.id, hold.clone(), reasons);
                continue;
            }
            NoAccessPolicy::Suspend if !u.suspended => {
                let reasons = vec![Reason::rule(Rule::NoAccessLeft(NoAccessPolicy::Suspend))];
                out.suspend(u.id, hold.clone(), reasons);
            }
            _ => {}
        }
        let mut removes = Vec::new();
        for &g in &obs_groups {
            let reasons = vec![Reason::rule(Rule::NotGranted)];
            out.remove(d, u.id, &mut removes, g, hold.clone(), reasons);
        }
        if !removes.is_empty() {
            out.changes
                .push((ChangeKey::Existing(u.id), user, Vec::new(), removes));
        }
    }

    // Unowned users: only their managed-group memberships.
    for &ui in &unowned {
        if is_adopted.get(ui as usize).copied().unwrap_or(false) {
            continue;
        }
        let u = &infos[ui as usize];
        live_groups_of(u, &mut obs_groups);
        observed_memberships += obs_groups.len();
        if policy.exclusivity == Exclusivity::OwnedOnly || obs_groups.is_empty() {
            continue;
        }
        let user = UserRef::Existing(u.id);
        let mut removes = Vec::new();
        for &g in &obs_groups {
            let reasons = vec![Reason::rule(Rule::NotDesiredInManagedGroup)];
            out.remove(d, u.id, &mut removes, g, None, reasons);
        }
        if !removes.is_empty() {
            out.changes
                .push((ChangeKey::Existing(u.id), user, Vec::new(), removes));
        }
    }

    // Mass-revocation threshold.
    let revocations: usize = out.changes.iter().map(|c| c.3.len()).sum::<usize>()
        + out.suspends.len()
        + out.deletes.len();
    let limits = policy.revocation_threshold;
    let exceeded = limits.max_count.is_some_and(|m| revocations > m)
        || limits
            .max_share
            .is_some_and(|s| revocations as f64 > s * observed_memberships as f64);
    if exceeded && !policy.force_revocations && revocations > 0 {
        let rule = HoldRule::MassRevocation {
            revocations,
            observed_memberships,
        };
        for c in &mut out.changes {
            for r in std::mem::take(&mut c.3) {
                out.held.push(Held {
                    user: c.1.clone(),
                    item: HeldItem::RemoveGroup(r.group),
                    rule: rule.clone(),
                    reasons: r.reasons,
                });
            }
        }
        out.changes.retain(|c| !c.2.is_empty());
        for (item, list) in [
            (HeldItem::Suspend, std::mem::take(&mut out.suspends)),
            (HeldItem::Delete, std::mem::take(&mut out.deletes)),
        ] {
            for (id, action) in list {
                let reasons = match action {
                    Action::Suspend { reasons, .. } | Action::Delete { reasons, .. } => reasons,
                    _ => Vec::new(),
                };
                out.held.push(Held {
                    user: UserRef::Existing(id),
                    item: item.clone(),
                    rule: rule.clone(),
                    reasons,
                });
            }
        }
    }

    // Deterministic order.
    sort_by_small_key(&mut out.creates, |(i, _)| d.rank(*i));
    for v in [
        &mut out.adopts,
        &mut out.updates,
        &mut out.unsuspends,
        &mut out.suspends,
        &mut out.deletes,
    ] {
        sort_by_small_key(v, |(id, _)| *id);
    }
    // Existing users by Brivo id, then new users in rank order.
    sort_by_small_key(&mut out.changes, |c| match c.0 {
        ChangeKey::Existing(id) => (0u8, id.0),
        ChangeKey::New(i) => (1u8, i64::from(d.rank(i))),
    });
    out.held.sort_unstable();

    let mut actions = Vec::with_capacity(
        out.creates.len()
            + out.adopts.len()
            + out.updates.len()
            + out.unsuspends.len()
            + out.changes.len()
            + out.suspends.len()
            + out.deletes.len(),
    );
    actions.extend(out.creates.into_iter().map(|(_, a)| a));
    actions.extend(out.adopts.into_iter().map(|(_, a)| a));
    actions.extend(out.updates.into_iter().map(|(_, a)| a));
    actions.extend(out.unsuspends.into_iter().map(|(_, a)| a));
    actions.extend(
        out.changes
            .into_iter()
            .map(|(_, user, add, remove)| Action::ChangeGroups { user, add, remove }),
    );
    actions.extend(out.suspends.into_iter().map(|(_, a)| a));
    actions.extend(out.deletes.into_iter().map(|(_, a)| a));

    let mut warnings = desired.warnings;
    warnings.extend(extra_warnings);

    Plan {
        now,
        actions,
        held: out.held,
        next_change,
        warnings: warnings.into_iter().collect(),
        meta: PlanMeta {
            observed_digest: digest(),
            config_digest: config_digest(mappings, policy),
            engine_version: env!("CARGO_PKG_VERSION").to_owned(),
            tzdb_version: chrono_tz::IANA_TZDB_VERSION.to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_key_is_the_key_itself() {
        let k = IdKey::Entrata("12", "3");
        let p = PackedKey::new(&k);
        assert_eq!(p.matches(&k), Some(true));
        // Same bytes, other split or kind: not the same key.
        assert_eq!(p.matches(&IdKey::Entrata("1", "23")), Some(false));
        assert_eq!(p.matches(&IdKey::Directory("12", "3")), Some(false));
        assert_eq!(p.matches(&IdKey::Member("123")), Some(false));
        assert_eq!(p.matches(&IdKey::Entrata("12", "4")), Some(false));
        assert_eq!(p.matches(&IdKey::Entrata("12", "34")), Some(false));
        let m = IdKey::Member("64b00000000000000000d003");
        assert_eq!(PackedKey::new(&m).matches(&m), Some(true));
        assert_eq!(
            PackedKey::new(&m).matches(&IdKey::Visitor("64b00000000000000000d003")),
            Some(false)
        );
    }

    #[test]
    fn a_key_too_long_to_pack_defers_to_the_strings() {
        let long = "x".repeat(PackedKey::CAP);
        let k = IdKey::Entrata("1", &long);
        assert_eq!(PackedKey::new(&k).matches(&k), None);
        let fits = IdKey::Entrata("", &long);
        assert_eq!(PackedKey::new(&fits).matches(&fits), Some(true));
    }

    #[test]
    fn sorting_by_a_small_key_keeps_ties_in_input_order() {
        let mut v: Vec<(u8, &str)> = vec![(3, "c"), (1, "a1"), (2, "b"), (1, "a2"), (0, "z")];
        sort_by_small_key(&mut v, |x| x.0);
        assert_eq!(v, [(0, "z"), (1, "a1"), (1, "a2"), (2, "b"), (3, "c")]);
        let mut empty: Vec<(u8, &str)> = Vec::new();
        sort_by_small_key(&mut empty, |x| x.0);
        assert!(empty.is_empty());
    }

    #[test]
    fn an_unowned_user_packs_nothing() {
        assert_eq!(PackedKey::NONE.matches(&IdKey::Member("m")), None);
    }

    /// Above [`PARALLEL_MIN`] the plan is made on two threads; it must be
    /// the plan one thread makes, byte for byte.
    #[test]
    fn two_threads_plan_what_one_thread_plans() {
        use crate::{Customer, CustomerType, Lease, LeaseStatus, ObservedGroup, Profile, Property};
        use chrono::{NaiveDate, TimeZone};

        let n = PARALLEL_MIN;
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d);
        let facts = Facts {
            properties: vec![Property::new("100", "America/New_York")],
            leases: (0..n)
                .map(|i| {
                    Lease::new(
                        format!("L{i}"),
                        "100",
                        if i % 11 == 0 {
                            LeaseStatus::Future
                        } else {
                            LeaseStatus::Current
                        },
                    )
                    .with_building(format!("B{}", i % 7))
                    .with_move_in(if i % 11 == 0 { day(12, 1) } else { day(1, 1) })
                    .with_move_out((i % 5 == 0).then(|| day(6, 30)).flatten())
                    .with_customer(Customer::new(
                        format!("{}", 7_000_000 + i),
                        CustomerType::Primary,
                        Profile::new(format!("First{i}"), "Last"),
                    ))
                })
                .collect(),
            ..Default::default()
        };
        let mut mappings = Mappings::default();
        mappings.properties.insert("100".into(), vec![GroupId(1)]);
        for b in 0..7 {
            mappings
                .buildings
                .insert(format!("B{b}"), vec![GroupId(10 + b)]);
        }
        let policy = Policy {
            revocation_threshold: crate::RevocationThreshold {
                max_count: None,
                max_share: None,
            },
            ..Policy::default()
        };
        // A Brivo in every state: users missing, in step, with a stale name
        // or group, owned orphans, unowned users in managed groups.
        let mut users = Vec::new();
        for i in 0..n {
            let groups = match i % 4 {
                0 => continue,
                1 => vec![GroupId(1), GroupId(10 + (i % 7) as i64)],
                2 => vec![GroupId(1)],
                _ => vec![GroupId(10 + ((i + 1) % 7) as i64)],
            };
            users.push(ObservedUser {
                id: BrivoUserId(i as i64 + 1),
                external_id: Some(format!("sync:entrata:100:{}", 7_000_000 + i)),
                first_name: if i % 13 == 0 {
                    "Old".into()
                } else {
                    format!("First{i}")
                },
                last_name: "Last".into(),
                groups,
                ..Default::default()
            });
        }
        for j in 0..500 {
            users.push(ObservedUser {
                id: BrivoUserId(10_000_000 + j),
                external_id: Some(format!("sync:entrata:100:gone{j}")),
                groups: vec![GroupId(1)],
                ..Default::default()
            });
            users.push(ObservedUser {
                id: BrivoUserId(20_000_000 + j),
                external_id: None,
                groups: vec![GroupId(1), GroupId(99)],
                ..Default::default()
            });
        }
        let observed = Observed {
            users,
            groups: mappings
                .managed_groups()
                .into_iter()
                .map(|id| ObservedGroup {
                    id,
                    name: format!("{id}"),
                })
                .collect(),
        };
        let now = Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap();

        let two = plan(&facts, &mappings, &policy, &observed, now);
        let live = desired::live_groups(&mappings, Some(&observed.groups)).0;
        let one = plan_inner(
            &facts,
            desired::build(&facts, &mappings, &policy, Some(&observed.groups)),
            &mappings,
            &policy,
            &observed,
            now,
            summarize(&observed, &live, "sync"),
            || observed.digest(),
            false,
        );
        assert!(two.actions.len() > n / 2, "{} actions", two.actions.len());
        assert_eq!(
            serde_json::to_string(&two).unwrap(),
            serde_json::to_string(&one).unwrap()
        );
    }
}

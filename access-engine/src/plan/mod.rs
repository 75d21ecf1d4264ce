//! The Plan: what to change in Brivo, in order, with reasons; what was held
//! back and why; when to run again; what was odd in the input.
//!
//! [`plan()`] reads like the rules, one stage per module:
//!
//! 0. `summary`: Brivo's users in one pass (live groups, profile hash,
//!    owned key);
//! 1. `matching`: observed users matched to identities by key, adopted by
//!    email, or left as orphans and unowned users;
//! 2. `diff`: each identity's wanted state at `now` against its user, then
//!    the orphans and the unowned users in managed groups; a revocation that
//!    depends on an incomplete scope or a bad record is held here;
//! 3. `safety`: the revocation threshold over the whole plan;
//! 4. `order`: the actions in their fixed order.

mod diff;
mod expect;
mod matching;
mod order;
mod safety;
mod scopes;
mod summary;

pub use scopes::ScopeReport;

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub(crate) use diff::want;

use crate::desired::{self, Desired};
use crate::facts::{Facts, Profile, Scope};
use crate::mapping::{GroupId, Mappings};
use crate::observed::{BrivoUserId, CredentialWindow, Observed};
use crate::policy::Policy;
use crate::reason::{FactKind, Reason};
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

/// The version of the hash that orders new users in a plan, recorded in
/// [`PlanMeta::order_hash_version`]. A new version changes the order of the
/// new users' actions (never which actions there are); plans made under
/// another version are still applied as they are.
///
/// Version 2: each new user's identity is encoded by hand (not through a
/// derived `Hash`, whose byte stream Rust does not specify): one tag byte
/// for its kind (`0x05` Entrata resident, `0x02` OfficeRnD member, `0x03`
/// OfficeRnD visitor, `0x04` directory user), then each of its ids in order
/// (Entrata: customer; directory: directory, user) as its UTF-8
/// length in 4 little-endian bytes followed by its UTF-8 bytes; the
/// ownership prefix is not part of it. New users are sorted by the FNV-1a
/// 64-bit hash of that encoding (offset basis `0xcbf29ce484222325`, prime
/// `0x100000001b3`), then by the encoding's bytes. The Entrata resident
/// `77` (`sync:entrata:77`) encodes as `05 02000000 3737` and hashes to
/// `0x56c8f3c6f9db5fa8`. Version 1 (before one identity per resident)
/// keyed a resident by property: tag `0x01`, then property and customer.
pub const ORDER_HASH_VERSION: u32 = 2;

/// One step of a plan. Kinds come in this order in [`Plan::actions`]. Inside
/// a kind the order is deterministic: existing users by Brivo id, then new
/// users in a fixed order derived from their identities alone (a specified
/// hash order, see [`ORDER_HASH_VERSION`], so a million new users sort
/// without comparing strings, and the same on every platform and compiler).
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
    /// Give an owned user the current form of its identity's external id
    /// (PATCH): a resident that an earlier version keyed by property
    /// (`sync:entrata:5009`) becomes the one user of that resident
    /// across the account (`sync:entrata:5009`), keeping its groups and
    /// credentials.
    SetExternalId {
        /// The user.
        user: BrivoUserId,
        /// The external id it carries.
        from: String,
        /// The external id to set.
        external_id: String,
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
    /// Invite the user to Brivo Mobile Pass: an email whose link puts a
    /// credential on their phone (the runner first looks for an invitation
    /// the user already holds, so a crash never sends two).
    InviteMobilePass {
        /// The user.
        user: UserRef,
        /// Where the invitation goes.
        email: String,
        /// Cancel a pending invitation and send a new one, as an operator
        /// asked (approval `invite:<Brivo id>`).
        reissue: bool,
        /// Why.
        reasons: Vec<Reason>,
    },
    /// Give the user a card from the policy's pool (`card_pool`): the
    /// runner assigns the unassigned card of the account's card bank whose
    /// reference id starts with `pool`, lowest first, unless the user holds
    /// one of the pool's cards already (a crash after assigning).
    AssignCard {
        /// The user.
        user: UserRef,
        /// The pool: the prefix of its cards' reference ids.
        pool: String,
        /// Why.
        reasons: Vec<Reason>,
    },
    /// Make every credential of an owned user valid within `window`
    /// (`PUT /users/{id}/credentials/{credential}` with `effectiveFrom` /
    /// `effectiveTo`): Brivo itself ends the user's access at `window.to`
    /// if the runner stops (policy `credential_windows`).
    SetCredentialWindow {
        /// The user.
        user: UserRef,
        /// The window: `to` is the end of the user's access (`None`: no
        /// end); `from` is set only while access has not begun.
        window: CredentialWindow,
        /// Why.
        reasons: Vec<Reason>,
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
    /// Lifting the user's suspension.
    Unsuspend,
    /// Bringing the end of the user's credential window forward.
    CredentialWindow,
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
    /// The scope changed more than expected since the last run: it is
    /// mapped but absent from the batch, it emptied, or it lost more than
    /// the policy's share of its people. Held until an operator approves it
    /// for one run, or the source recovers.
    Unexpected {
        /// The scope.
        scope: Scope,
        /// What changed, e.g. "dropped from 412 to 3 people with access".
        detail: String,
    },
    /// The owned user's identity belongs to a source that is not configured
    /// (no mapping names it): never suspended, deleted or removed.
    SourceNotConfigured {
        /// The source, as a scope.
        scope: Scope,
    },
    /// The user would hold more groups than Brivo allows; additions held.
    TooManyGroups {
        /// Groups desired.
        desired: usize,
        /// The limit.
        max: usize,
    },
    /// The user was suspended in Brivo by someone else (an operator), not by
    /// this integration: the facts give access again, but lifting a
    /// suspension made by hand needs an operator's approval
    /// (`unsuspend:<Brivo id>`).
    SuspendedByHand {
        /// The Brivo user.
        user: BrivoUserId,
    },
    /// Another Brivo user of the same person keeps the identity (one user
    /// per person) and does not hold this group yet: the person's access
    /// moves to it before this user loses any. Released by itself once the
    /// survivor holds the group.
    Merging {
        /// The user that keeps the identity.
        survivor: BrivoUserId,
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
            HoldRule::Unexpected { scope, detail } => write!(f, "{scope} {detail}"),
            HoldRule::SourceNotConfigured { scope } => {
                write!(f, "{scope} is not configured; its users are left alone")
            }
            HoldRule::TooManyGroups { desired, max } => {
                write!(f, "{desired} groups desired, Brivo allows {max}")
            }
            HoldRule::SuspendedByHand { .. } => write!(
                f,
                "suspended in Brivo by someone other than this integration; lifting it needs an approval"
            ),
            HoldRule::Merging { survivor } => write!(
                f,
                "the same person's user {survivor}, which keeps the identity, is granted it first"
            ),
        }
    }
}

/// Checks that `id` has the form of an approval id ([`HoldRule::approval`]),
/// so that a typo is refused when it is given rather than silently matching
/// nothing on the next run. It does not say whether anything is held under
/// it now (only a plan knows).
///
/// ```
/// use access_engine::check_approval_id;
/// assert!(check_approval_id("scope:property:100").is_ok());
/// assert!(check_approval_id("revocations:523").is_ok());
/// assert!(check_approval_id("record:lease:1345").is_ok());
/// assert!(check_approval_id("unsuspend:15540004").is_ok());
/// assert!(check_approval_id("revocation:523").unwrap_err().contains("scope:"));
/// assert!(check_approval_id("revocations:many").is_err());
/// ```
///
/// # Errors
/// What is wrong with it, and the forms an id takes.
pub fn check_approval_id(id: &str) -> Result<(), String> {
    let forms = "scope:<kind>:<id>, revocations:<count>, record:<kind>:<id>, \
        unsuspend:<Brivo user id> or invite:<Brivo user id>";
    let ok = match id.split_once(':') {
        Some(("scope", key)) => Scope::from_key(key).is_some(),
        Some(("revocations" | "unsuspend" | "invite", n)) => n.parse::<u64>().is_ok(),
        Some(("record", rest)) => rest.split_once(':').is_some_and(|(kind, id)| {
            !id.is_empty()
                && [
                    FactKind::Lease,
                    FactKind::Membership,
                    FactKind::Assignment,
                    FactKind::Booking,
                    FactKind::DayPass,
                    FactKind::DirectoryUser,
                    FactKind::Member,
                ]
                .iter()
                .any(|k| k.key() == kind)
        }),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{id:?} is not an approval id: one is {forms}, as shown after each held item"
        ))
    }
}

impl HoldRule {
    /// The id an operator approves to release every item held by this rule
    /// for one run (`None`: not approvable; fix the cause instead):
    /// `scope:property:100`, `revocations:523`, `record:lease:1345`,
    /// `unsuspend:15540004`.
    ///
    /// A mass revocation's id names its count, so an approval covers
    /// exactly what was reviewed: one more revocation needs a new approval.
    pub fn approval(&self) -> Option<String> {
        match self {
            HoldRule::Unexpected { scope, .. } => Some(format!("scope:{}", scope.key())),
            HoldRule::MassRevocation { revocations, .. } => {
                Some(format!("revocations:{revocations}"))
            }
            HoldRule::BadRecord { kind, id } => Some(format!("record:{}:{id}", kind.key())),
            HoldRule::SuspendedByHand { user } => Some(format!("unsuspend:{}", user.0)),
            _ => None,
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
    /// The approvals the plan was made with ([`crate::Baseline::approved`]),
    /// for the audit; a runner marks them used when it applies the plan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<String>,
    /// The version of the hash that ordered the new users' actions
    /// ([`ORDER_HASH_VERSION`]); `0` in plans saved before it was recorded.
    #[serde(default)]
    pub order_hash_version: u32,
    /// When the plan was made, by the runner's clock (the engine has none
    /// and leaves it `None`; `Plan::now` is the instant planned *for*).
    /// [`Plan::check_applicable`] measures a saved plan's age from it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub made_at: Option<DateTime<Utc>>,
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

/// Why a saved plan is not applied by the config in hand.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanRefused {
    /// The plan was made under other mappings or another policy.
    #[error(
        "the plan was made under another config (digest {planned}, now {current}); re-plan with this config"
    )]
    ConfigChanged {
        /// The digest the plan recorded.
        planned: String,
        /// The digest of the config in hand.
        current: String,
    },
    /// The plan is older than the age limit: access has moved on since.
    #[error("the plan was made at {planned_at}, more than {max_age_minutes} minutes ago; re-plan")]
    TooOld {
        /// When the plan was made for.
        planned_at: DateTime<Utc>,
        /// The limit.
        max_age_minutes: i64,
    },
    /// An action touches what this config does not own.
    #[error("action {action} {why}; refusing the whole plan")]
    OutOfScope {
        /// The action's index in [`Plan::actions`].
        action: usize,
        /// What it touches.
        why: String,
    },
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
    /// Every property, location and directory: zone, people, completeness.
    #[serde(default)]
    pub scopes: Vec<ScopeReport>,
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

    /// Checks a saved plan before it is applied by the config in hand, and
    /// refuses it with a reason: made under another config (canonical
    /// digest), older than `max_age` (from [`PlanMeta::made_at`], else
    /// [`Plan::now`]), or touching anything this config does
    /// not own (a group it does not manage, a user without its ownership
    /// prefix, an adoption its policy does not allow). Check the observed
    /// digest too ([`Plan::check_observed`]).
    ///
    /// ```
    /// use access_engine::{Mappings, Observed, Policy, Facts, plan, PlanRefused};
    /// use chrono::{TimeDelta, TimeZone, Utc};
    /// let now = Utc.with_ymd_and_hms(2026, 3, 9, 12, 0, 0).unwrap();
    /// let (m, p, o) = (Mappings::default(), Policy::default(), Observed::default());
    /// let saved = plan(&Facts::default(), &m, &p, &o, now);
    /// assert!(saved.check_applicable(&m, &p, &o, now, TimeDelta::hours(1)).is_ok());
    /// let later = now + TimeDelta::hours(2);
    /// assert!(matches!(saved.check_applicable(&m, &p, &o, later, TimeDelta::hours(1)),
    ///     Err(PlanRefused::TooOld { .. })));
    /// ```
    pub fn check_applicable(
        &self,
        mappings: &Mappings,
        policy: &Policy,
        observed: &Observed,
        now: DateTime<Utc>,
        max_age: chrono::TimeDelta,
    ) -> Result<(), PlanRefused> {
        let current = config_digest(mappings, policy);
        if current != self.meta.config_digest {
            return Err(PlanRefused::ConfigChanged {
                planned: self.meta.config_digest.clone(),
                current,
            });
        }
        let made = self.meta.made_at.unwrap_or(self.now);
        let age = now - made;
        if age > max_age || age < -max_age {
            return Err(PlanRefused::TooOld {
                planned_at: made,
                max_age_minutes: max_age.num_minutes(),
            });
        }
        let managed = mappings.managed_groups();
        let prefix = format!("{}:", policy.ownership_prefix);
        // a user this plan adopts is owned from that action on
        let adopted: Vec<BrivoUserId> = self
            .actions
            .iter()
            .filter_map(|a| match a {
                Action::AdoptUser { user, .. } => Some(*user),
                _ => None,
            })
            .collect();
        let owned = |id: &BrivoUserId| {
            adopted.contains(id)
                || observed.users.iter().any(|u| {
                    u.id == *id
                        && u.external_id
                            .as_deref()
                            .is_some_and(|e| e.starts_with(&prefix))
                })
        };
        let refuse = |i: usize, why: String| Err(PlanRefused::OutOfScope { action: i, why });
        for (i, a) in self.actions.iter().enumerate() {
            match a {
                Action::CreateUser { external_id, .. } if !external_id.starts_with(&prefix) => {
                    return refuse(i, format!("creates {external_id}, outside {prefix}*"));
                }
                Action::AdoptUser {
                    user, external_id, ..
                } => {
                    if !policy.adopt_by_email {
                        return refuse(i, format!("adopts {user}, but adopt_by_email is off"));
                    }
                    if !external_id.starts_with(&prefix) {
                        return refuse(
                            i,
                            format!("adopts {user} as {external_id}, outside {prefix}*"),
                        );
                    }
                }
                Action::SetExternalId {
                    user, external_id, ..
                } if !external_id.starts_with(&prefix) => {
                    return refuse(
                        i,
                        format!("gives {user} the external id {external_id}, outside {prefix}*"),
                    );
                }
                Action::InviteMobilePass {
                    user: UserRef::Existing(user),
                    ..
                }
                | Action::SetCredentialWindow {
                    user: UserRef::Existing(user),
                    ..
                }
                | Action::AssignCard {
                    user: UserRef::Existing(user),
                    ..
                }
                | Action::SetExternalId { user, .. }
                | Action::UpdateProfile { user, .. }
                | Action::Unsuspend { user, .. }
                | Action::Suspend { user, .. }
                | Action::Delete { user, .. }
                    if !owned(user) =>
                {
                    return refuse(i, format!("changes {user}, which this config does not own"));
                }
                Action::ChangeGroups { user, add, remove } => {
                    if let Some(c) = add
                        .iter()
                        .chain(remove)
                        .find(|c| !managed.contains(&c.group))
                    {
                        return refuse(
                            i,
                            format!(
                                "changes {} of {user}, a group this config does not manage",
                                c.group
                            ),
                        );
                    }
                    if let UserRef::New(ext) = user
                        && !ext.starts_with(&prefix)
                    {
                        return refuse(i, format!("gives groups to {ext}, outside {prefix}*"));
                    }
                }
                _ => {}
            }
        }
        Ok(())
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
                Action::SetExternalId {
                    user,
                    from,
                    external_id,
                    reasons,
                } => {
                    writeln!(f, "  rekey     {user} {from} -> {external_id}")?;
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
                Action::InviteMobilePass {
                    user,
                    email,
                    reissue,
                    reasons,
                } => {
                    let again = if *reissue { " (again)" } else { "" };
                    writeln!(f, "  invite    {user} to Mobile Pass at {email}{again}")?;
                    write_reasons(f, reasons, "            ")?;
                }
                Action::AssignCard {
                    user,
                    pool,
                    reasons,
                } => {
                    writeln!(f, "  card      {user} from pool {pool}")?;
                    write_reasons(f, reasons, "            ")?;
                }
                Action::SetCredentialWindow {
                    user,
                    window,
                    reasons,
                } => {
                    writeln!(f, "  window    {user} credentials {window}")?;
                    write_reasons(f, reasons, "            ")?;
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
            write!(f, "  HELD      {:?} for {}: {}", h.item, h.user, h.rule)?;
            match h.rule.approval() {
                Some(id) => writeln!(f, " (approve: {id})")?,
                None => writeln!(f)?,
            }
            write_reasons(f, &h.reasons, "            ")?;
        }
        for w in &self.warnings {
            writeln!(f, "  warning   {w}")?;
        }
        for s in &self.scopes {
            writeln!(f, "  scope     {s}")?;
        }
        Ok(())
    }
}

/// Digest of mappings and policy (canonical JSON: maps are `BTreeMap`s).
///
/// Canonical: the order of groups in a mapping or of admitted customer
/// types does not change it (maps are already sorted), so reordering a
/// config file does not make its saved plans foreign.
pub fn config_digest(mappings: &Mappings, policy: &Policy) -> String {
    let mut m = mappings.clone();
    for (_, table) in m.all_tables_mut() {
        for groups in table.values_mut() {
            groups.sort_unstable();
            groups.dedup();
        }
    }
    let mut p = policy.clone();
    p.admitted_customer_types.sort();
    p.admitted_customer_types.dedup();
    let mut h = Sha256::new();
    h.update(b"config-v2\0");
    // Serializing plain data structs to JSON cannot fail.
    h.update(serde_json::to_vec(&m).unwrap_or_default());
    h.update(b"\0");
    h.update(serde_json::to_vec(&p).unwrap_or_default());
    hex::encode(h.finalize())
}

/// Below this many observed users plus fact records, a second thread
/// costs more than it saves. (Small in unit tests, so that they cover the
/// two-thread path quickly.)
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
        summary::summarize(observed, &live, prefix)
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

/// The stages, in order (see the module docs).
#[allow(clippy::too_many_arguments)]
fn plan_inner<'o>(
    facts: &Facts,
    mut desired: Desired<'_>,
    mappings: &Mappings,
    policy: &Policy,
    observed: &'o Observed,
    now: DateTime<Utc>,
    summary: summary::Summary<'o>,
    digest: impl FnOnce() -> String,
    parallel: bool,
) -> Plan {
    let scope_index = scopes::ScopeIndex::new(facts, mappings);
    let counts = scope_index.count_all(facts, &desired, now);
    expect::check_scopes(facts, mappings, policy, &mut desired, &scope_index, &counts);
    let d = &desired;
    let matches = matching::match_users(d, policy, observed, now, summary);
    let cx = diff::Ctx {
        facts,
        d,
        policy,
        observed,
        now,
        m: &matches,
        mappings,
    };
    let mut out = diff::diff_identities(&cx, parallel);
    diff::diff_orphans(&cx, &mut out);
    diff::diff_unowned(&cx, &mut out);
    safety::hold_mass_revocation(&mut out, policy, &facts.baseline.approved);
    let next_change = out.next_change;
    let (actions, held) = order::order(out, d);
    let scopes = scope_index.report(facts, d, &counts);

    let mut warnings = desired.warnings;
    warnings.extend(matches.warnings);
    Plan {
        now,
        actions,
        held,
        next_change,
        warnings: warnings.into_iter().collect(),
        scopes,
        meta: PlanMeta {
            observed_digest: digest(),
            config_digest: config_digest(mappings, policy),
            engine_version: env!("CARGO_PKG_VERSION").to_owned(),
            tzdb_version: chrono_tz::IANA_TZDB_VERSION.to_owned(),
            approvals: facts.baseline.approved.iter().cloned().collect(),
            order_hash_version: ORDER_HASH_VERSION,
            made_at: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::order::sort_by_small_key;
    use super::summary::{PackedKey, summarize};
    use super::*;
    use crate::identity::IdKey;

    #[test]
    fn packed_key_is_the_key_itself() {
        let k = IdKey::Directory("12", "3");
        let p = PackedKey::new(&k);
        assert_eq!(p.matches(&k), Some(true));
        // Same bytes, other split or kind: not the same key.
        assert_eq!(p.matches(&IdKey::Directory("1", "23")), Some(false));
        assert_eq!(p.matches(&IdKey::Entrata("123")), Some(false));
        assert_eq!(p.matches(&IdKey::Member("123")), Some(false));
        assert_eq!(p.matches(&IdKey::Directory("12", "4")), Some(false));
        assert_eq!(p.matches(&IdKey::Directory("12", "34")), Some(false));
        let r = IdKey::Entrata("18058344");
        assert_eq!(PackedKey::new(&r).matches(&r), Some(true));
        assert_eq!(
            PackedKey::new(&r).matches(&IdKey::Member("18058344")),
            Some(false)
        );
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
        let k = IdKey::Directory("1", &long);
        assert_eq!(PackedKey::new(&k).matches(&k), None);
        let fits = IdKey::Entrata(&long);
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
        use crate::{
            Customer, CustomerType, Lease, LeaseStatus, ObservedGroup, ObservedUser, Profile,
            Property,
        };
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
            revocation_threshold: crate::RevocationThreshold::none(),
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
                external_id: Some(format!("sync:entrata:{}", 7_000_000 + i)),
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
                external_id: Some(format!("sync:entrata:gone{j}")),
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

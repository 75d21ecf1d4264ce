//! Stage 2: each identity's wanted state at `now` diffed with its Brivo
//! user: create, adopt, update the profile, (un)suspend, delete, and one
//! atomic group change; then the owned users no fact names (orphans) and
//! the unowned users in managed groups. Revocations go through [`Out`],
//! which holds them when a scope they depend on is incomplete or a record
//! that could have granted them was unreadable.

use chrono::{DateTime, Utc};

use super::matching::{Matches, NONE, key_of};
use super::summary::fact_profile_hash;
use super::{Action, GroupChange, Held, HeldItem, HoldRule, ProfileField, UserRef};
use crate::desired::{self, Desired, Eval};
use crate::directory::DirectoryState;
use crate::facts::{Facts, Profile, Scope, Source};
use crate::identity::IdKey;
use crate::mapping::{GroupId, Mappings};
use crate::observed::{BrivoUserId, CredentialWindow, Observed, ObservedUser};
use crate::policy::{Exclusivity, NoAccessPolicy, Policy};
use crate::reason::{FactKind, FactRef, Reason, Rule};

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

/// Where new users sort among the group changes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum ChangeKey {
    /// An existing user, by Brivo id.
    Existing(BrivoUserId),
    /// A new user, by identity (ordered by its order key; see `order`).
    New(usize),
}

/// What every stage-2 step reads.
pub(super) struct Ctx<'a, 'o> {
    pub(super) facts: &'a Facts,
    pub(super) d: &'a Desired<'a>,
    pub(super) policy: &'a Policy,
    pub(super) observed: &'o Observed,
    pub(super) now: DateTime<Utc>,
    pub(super) m: &'a Matches<'o>,
    pub(super) mappings: &'a Mappings,
}

/// Below this many identities a second thread costs more than it saves.
/// (Small in unit tests, so that they cover the two-thread path quickly.)
pub(super) const PARALLEL_IDENTITIES: usize = if cfg!(test) { 1_000 } else { 25_000 };

/// Diffs every identity. Each is planned from read-only state, so large
/// portfolios are planned in two halves on two cores and merged (the
/// order stage sorts, so the plan does not depend on the split).
pub(super) fn diff_identities(cx: &Ctx<'_, '_>, parallel: bool) -> Out {
    let n = cx.d.identities.len();
    let range = |r: std::ops::Range<usize>| {
        let mut out = Out::default();
        let mut scratch: Vec<GroupId> = Vec::with_capacity(16);
        let mut obs_groups: Vec<GroupId> = Vec::with_capacity(16);
        for i in r {
            diff_identity(cx, i, &mut out, &mut scratch, &mut obs_groups);
        }
        out
    };
    if !parallel || n < PARALLEL_IDENTITIES {
        return range(0..n);
    }
    let mid = n / 2;
    std::thread::scope(|scope| {
        let second = std::thread::Builder::new()
            .name("access-engine-plan".into())
            .spawn_scoped(scope, || range(mid..n))
            .ok();
        let mut out = range(0..mid);
        let second = match second.map(|h| h.join()) {
            Some(Ok(part)) => part,
            _ => range(mid..n),
        };
        out.append(second);
        out
    })
}

/// One identity: what it wants at `now` against what its user holds.
fn diff_identity(
    cx: &Ctx<'_, '_>,
    i: usize,
    out: &mut Out,
    scratch: &mut Vec<GroupId>,
    obs_groups: &mut Vec<GroupId>,
) {
    let Ctx {
        facts,
        d,
        policy,
        observed,
        now,
        m,
        ..
    } = *cx;
    let prefix = policy.ownership_prefix.as_str();
    let w = want(d, policy, i, now, scratch);
    if let Some(t) = w.eval.next
        && out.next_change.is_none_or(|n| t < n)
    {
        out.next_change = Some(t);
    }
    let ident = &d.identities[i];
    // Revocations of the whole user wait for an incomplete scope it
    // belongs to, or for any bad record about it; a group's removal waits
    // for a bad record that could have granted that group.
    let scope_hold = || {
        d.identity_hold(&ident.key)
            .map(|scope| scope_rule(d, scope))
    };
    let bad_rule = |src| {
        let (kind, id) = desired::src_id(facts, src);
        HoldRule::BadRecord {
            kind,
            id: id.to_owned(),
        }
    };
    let hold = || scope_hold().or_else(|| d.bad_record(i).map(bad_rule));
    let group_hold = |g: GroupId| {
        d.removal_hold(&ident.key)
            .map(|scope| scope_rule(d, scope))
            .or_else(|| d.bad_hold(i, g).map(bad_rule))
    };

    let mut ui = m.user_of[i];
    if ui != NONE && !m.confirmed_upfront && !m.confirmed(d, observed, prefix, i, ui) {
        out.mismatched.push(ui);
        ui = NONE;
    }
    let adopting = ui == NONE && m.adopted[i] != NONE;
    if adopting {
        ui = m.adopted[i];
    }
    if ui == NONE {
        create(cx, i, &w, scratch, out);
        return;
    }

    let u = m.info(ui);
    m.summary.live_groups_of(ui, obs_groups);
    out.observed_memberships += obs_groups.len();
    let user = UserRef::Existing(u.id);

    if w.delete {
        let reasons = vec![if w.directory == Some(DirectoryState::Deleted) {
            directory_reason(facts, d, i, Rule::DirectoryDeleted)
        } else {
            Reason::rule(Rule::NoAccessLeft(NoAccessPolicy::Delete))
        }];
        out.delete(u.id, hold(), reasons);
        return;
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
        if u.earlier_form {
            let from = observed.users[ui as usize].external_id.clone();
            out.rekeys.push((
                u.id,
                Action::SetExternalId {
                    user: u.id,
                    from: from.unwrap_or_default(),
                    external_id: ident.key.external_id(prefix),
                    reasons: vec![Reason::rule(if u.merged {
                        Rule::SamePerson
                    } else {
                        Rule::EarlierExternalId
                    })],
                },
            ));
        }
        let profile = d.profile(i);
        let mut changed = if fact_profile_hash(profile) == u.profile_hash {
            Vec::new()
        } else {
            profile_changes(profile, &observed.users[ui as usize])
        };
        changed.retain(|f| policy.profile_kept_in_step.contains(f));
        if !changed.is_empty() {
            out.updates.push((
                u.id,
                Action::UpdateProfile {
                    user: u.id,
                    external_id: ident.key.external_id(prefix),
                    profile: profile.clone(),
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
        (Some(false), true) => {
            let reasons = vec![Reason::rule(Rule::HasAccess)];
            // Only a suspension this integration made is its to lift; one
            // made by hand in Brivo stands until an operator approves.
            let approved = || {
                facts
                    .baseline
                    .approved
                    .contains(&format!("unsuspend:{}", u.id.0))
            };
            if u.suspended_by_integration || approved() {
                out.unsuspends.push((
                    u.id,
                    Action::Unsuspend {
                        user: u.id,
                        reasons,
                    },
                ));
            } else {
                let rule = HoldRule::SuspendedByHand { user: u.id };
                out.hold(u.id, HeldItem::Unsuspend, rule, reasons);
            }
        }
        _ => {}
    }

    let held_before = out.held.len();
    // Group diff (both sorted).
    let (mut a, mut b) = (0, 0);
    let mut adds = Vec::new();
    let mut removes = Vec::new();
    let too_many = scratch.len() > policy.max_groups_per_user;
    while a < scratch.len() || b < obs_groups.len() {
        let step = match (scratch.get(a), obs_groups.get(b)) {
            (Some(x), Some(y)) => x.cmp(y),
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
            .push((ChangeKey::Existing(u.id), user.clone(), adds, removes));
    }

    // A Mobile Pass invitation: once per user with access now and an email;
    // again only when an operator asks.
    let reissue = || {
        facts
            .baseline
            .approved
            .contains(&format!("invite:{}", u.id.0))
    };
    // A credential opens something only for a user with access now, whose
    // groups are not all held, and who is not suspended (by hand: the
    // unsuspension is held).
    let opens = !scratch.is_empty()
        && !too_many
        && w.suspended != Some(true)
        && (!u.suspended || out.unsuspends.last().is_some_and(|(id, _)| *id == u.id))
        && credentials_for(policy, d, i);
    if opens && policy.invite_mobile_pass && (!u.mobile_pass_invited || reissue()) {
        out.invite(
            d,
            i,
            ChangeKey::Existing(u.id),
            user.clone(),
            u.mobile_pass_invited,
        );
    }
    if let Some(pool) = policy
        .card_pool
        .as_deref()
        .filter(|_| opens && !u.card_assigned)
    {
        out.card(ChangeKey::Existing(u.id), user, pool);
    }

    // The backstop: the user's credentials end with their access, so that
    // Brivo itself ends it if the runner stops.
    let gone = matches!(
        w.directory,
        Some(DirectoryState::Disabled | DirectoryState::Deleted)
    );
    // (an adoption the runner refuses skips the user's later actions)
    if !gone && w.suspended != Some(true) {
        let known = observed.users[ui as usize].credential_window;
        // groups it keeps after this plan: held removals (no access now)
        let holds_groups = out.held[held_before..]
            .iter()
            .any(|h| matches!(h.item, HeldItem::RemoveGroup(_)));
        out.window(cx, i, ChangeKey::Existing(u.id), known, holds_groups, hold);
    }
}

/// An identity with no Brivo user: create one only when there is access
/// to give.
fn create(cx: &Ctx<'_, '_>, i: usize, w: &Want, groups: &[GroupId], out: &mut Out) {
    let (facts, d, policy, now) = (cx.facts, cx.d, cx.policy, cx.now);
    if groups.is_empty() || w.suspended == Some(true) || w.delete {
        return;
    }
    let external_id = d.identities[i].key.external_id(&policy.ownership_prefix);
    let adds: Vec<GroupChange> = groups
        .iter()
        .map(|&g| GroupChange {
            group: g,
            reasons: d.reasons(facts, i, g, now),
        })
        .collect();
    out.creates.push((
        i,
        Action::CreateUser {
            external_id: external_id.clone(),
            profile: d.profile(i).clone(),
            reasons: vec![Reason::rule(Rule::HasAccess)],
        },
    ));
    out.window(cx, i, ChangeKey::New(i), None, false, || None);
    let user = UserRef::New(external_id);
    if groups.len() > policy.max_groups_per_user {
        let rule = HoldRule::TooManyGroups {
            desired: groups.len(),
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
            .push((ChangeKey::New(i), user.clone(), adds, Vec::new()));
    }
    // an invitation or a card opens nothing while every group is held
    if groups.len() <= policy.max_groups_per_user && credentials_for(policy, d, i) {
        if policy.invite_mobile_pass {
            out.invite(d, i, ChangeKey::New(i), user.clone(), false);
        }
        if let Some(pool) = &policy.card_pool {
            out.card(ChangeKey::New(i), user, pool);
        }
    }
}

/// Whether the policy gives credentials (invitations, cards) to identity
/// `i` (`credential_sources`): a person any of whose facts comes from one
/// of those sources (a resident who is also a member, from either).
fn credentials_for(policy: &Policy, d: &Desired<'_>, i: usize) -> bool {
    let wanted = &policy.credential_sources;
    let of = |key: &IdKey<'_>| match key {
        IdKey::Entrata(_) => Source::Entrata,
        IdKey::Member(_) | IdKey::Visitor(_) => Source::OfficeRnd,
        IdKey::Directory(..) => Source::Directory,
    };
    wanted.contains(&of(&d.identities[i].key))
        || d.grants_of(i).iter().any(|g| {
            wanted.contains(&match g.src {
                desired::Src::Lease { .. } => Source::Entrata,
                desired::Src::Directory { .. } => Source::Directory,
                _ => Source::OfficeRnd,
            })
        })
}

/// The rule that holds what `scope` feeds: it is incomplete, or it changed
/// more than expected since the last run.
fn scope_rule(d: &Desired<'_>, scope: Scope) -> HoldRule {
    match d.unexpected.get(&scope) {
        Some(detail) => HoldRule::Unexpected {
            detail: detail.clone(),
            scope,
        },
        None => HoldRule::Incomplete { scope },
    }
}

/// The source of an identity when no mapping names that source at all: a
/// source removed from the config. Its users are left alone, never taken
/// for people who moved out.
fn unconfigured(mappings: &Mappings, key: &IdKey<'_>) -> Option<Scope> {
    let (source, tables) = match key {
        IdKey::Entrata(..) => (
            Source::Entrata,
            vec![&mappings.properties, &mappings.buildings, &mappings.units],
        ),
        IdKey::Member(_) | IdKey::Visitor(_) => (
            Source::OfficeRnd,
            vec![
                &mappings.plans,
                &mappings.locations,
                &mappings.day_pass_locations,
                &mappings.floors,
                &mappings.resources,
            ],
        ),
        IdKey::Directory(..) => (Source::Directory, vec![&mappings.directories]),
    };
    tables
        .iter()
        .all(|t| t.is_empty())
        .then_some(Scope::Source(source))
}

/// Owned users whose identity is in no fact (plus fingerprint matches that
/// the key did not confirm): no access left.
pub(super) fn diff_orphans(cx: &Ctx<'_, '_>, out: &mut Out) {
    let (d, policy, m) = (cx.d, cx.policy, cx.m);
    let prefix = policy.ownership_prefix.as_str();
    let mismatched = std::mem::take(&mut out.mismatched);
    let orphans = m.orphans.iter().copied().chain(
        mismatched
            .into_iter()
            .map(|ui| (ui, key_of(cx.observed, prefix, ui))),
    );
    let mut obs_groups: Vec<GroupId> = Vec::with_capacity(16);
    for (ui, key) in orphans {
        retire(cx, out, ui, key, None, &mut obs_groups);
    }
    // A person's other users: what the survivor should hold now and does
    // not yet is held on them, so the person never stands locked out
    // between the two changes (or if the survivor's grant fails).
    let (mut wanted, mut held) = (Vec::with_capacity(16), Vec::with_capacity(16));
    for &(ui, i) in &m.retired {
        let survivor = m.user_of[i as usize];
        if survivor == NONE {
            retire(
                cx,
                out,
                ui,
                key_of(cx.observed, prefix, ui),
                None,
                &mut obs_groups,
            );
            continue;
        }
        want(d, policy, i as usize, cx.now, &mut wanted);
        m.summary.live_groups_of(survivor, &mut held);
        // a suspended survivor opens nothing, nor does one known to hold no
        // credential (the other user may hold the person's only one): it
        // lacks every group
        let s = m.info(survivor);
        if !s.suspended && !s.no_credential {
            wanted.retain(|g| held.binary_search(g).is_err());
        }
        let to = Survivor {
            user: m.info(survivor).id,
            pending: &wanted,
        };
        let key = Some(d.identities[i as usize].key);
        retire(cx, out, ui, key, Some(to), &mut obs_groups);
    }
}

/// The user that keeps a retired user's identity, and the groups it
/// should hold now but does not yet (sorted).
#[derive(Clone, Copy)]
struct Survivor<'a> {
    user: BrivoUserId,
    pending: &'a [GroupId],
}

/// An owned user with no access of its own (an orphan, or a person's
/// retired second user): the no-access policy and every managed group
/// removed, each revocation held where a scope it depends on is
/// incomplete or the person's survivor does not hold the group yet.
fn retire(
    cx: &Ctx<'_, '_>,
    out: &mut Out,
    ui: u32,
    key: Option<IdKey<'_>>,
    survivor: Option<Survivor<'_>>,
    obs_groups: &mut Vec<GroupId>,
) {
    let (d, policy, m) = (cx.d, cx.policy, cx.m);
    let u = m.info(ui);
    m.summary.live_groups_of(ui, obs_groups);
    out.observed_memberships += obs_groups.len();
    let user = UserRef::Existing(u.id);
    let unconfigured = key
        .and_then(|k| unconfigured(cx.mappings, &k))
        .map(|scope| HoldRule::SourceNotConfigured { scope });
    let merging = |pending: bool| {
        survivor
            .filter(|_| pending)
            .map(|s| HoldRule::Merging { survivor: s.user })
    };
    let whole_hold = unconfigured.clone().or_else(|| {
        key.and_then(|k| d.identity_hold(&k))
            .map(|scope| scope_rule(d, scope))
            .or_else(|| merging(survivor.is_some_and(|s| !s.pending.is_empty())))
    });
    let why = |rule: Rule| match survivor {
        Some(_) => vec![Reason::rule(Rule::Superseded), Reason::rule(rule)],
        None => vec![Reason::rule(rule)],
    };
    match policy.no_access {
        NoAccessPolicy::Delete => {
            let reasons = why(Rule::NoAccessLeft(NoAccessPolicy::Delete));
            out.delete(u.id, whole_hold, reasons);
            return;
        }
        NoAccessPolicy::Suspend if !u.suspended => {
            let reasons = why(Rule::NoAccessLeft(NoAccessPolicy::Suspend));
            out.suspend(u.id, whole_hold, reasons);
        }
        _ => {}
    }
    let removal_hold = unconfigured.or_else(|| {
        key.and_then(|k| d.removal_hold(&k))
            .map(|scope| scope_rule(d, scope))
    });
    let mut removes = Vec::new();
    for &g in obs_groups.iter() {
        let hold = removal_hold
            .clone()
            .or_else(|| merging(survivor.is_some_and(|s| s.pending.binary_search(&g).is_ok())));
        out.remove(d, u.id, &mut removes, g, hold, why(Rule::NotGranted));
    }
    if !removes.is_empty() {
        out.changes
            .push((ChangeKey::Existing(u.id), user, Vec::new(), removes));
    }
}

/// Unowned users: only their managed-group memberships, and only when the
/// managed groups are exclusive.
pub(super) fn diff_unowned(cx: &Ctx<'_, '_>, out: &mut Out) {
    let (d, policy, m) = (cx.d, cx.policy, cx.m);
    let mut obs_groups: Vec<GroupId> = Vec::with_capacity(16);
    for &ui in &m.unowned {
        if m.is_adopted.get(ui as usize).copied().unwrap_or(false) {
            continue;
        }
        let u = m.info(ui);
        m.summary.live_groups_of(ui, &mut obs_groups);
        out.observed_memberships += obs_groups.len();
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
}

/// Whether a credential window closes a door: it ends earlier or starts
/// later than the credentials allow now.
#[derive(Clone, Copy)]
pub(super) struct Closes {
    /// It does (held with the revocations when they are held).
    pub(super) door: bool,
    /// It does, and a window was known before: counted as a revocation.
    pub(super) counted: bool,
}

/// The changes found so far, by kind, before they are ordered.
#[derive(Default)]
pub(super) struct Out {
    pub(super) creates: Vec<(usize, Action)>,
    pub(super) adopts: Vec<(BrivoUserId, Action)>,
    pub(super) rekeys: Vec<(BrivoUserId, Action)>,
    pub(super) updates: Vec<(BrivoUserId, Action)>,
    pub(super) unsuspends: Vec<(BrivoUserId, Action)>,
    /// (sort key, user, add, remove); new users sort after existing ones.
    pub(super) changes: Vec<(ChangeKey, UserRef, Vec<GroupChange>, Vec<GroupChange>)>,
    /// (sort key as for `changes`, action).
    pub(super) invites: Vec<(ChangeKey, Action)>,
    /// (sort key as for `changes`, action).
    pub(super) cards: Vec<(ChangeKey, Action)>,
    /// (sort key as for `changes`, action, whether it closes a door).
    pub(super) windows: Vec<(ChangeKey, Action, Closes)>,
    pub(super) suspends: Vec<(BrivoUserId, Action)>,
    pub(super) deletes: Vec<(BrivoUserId, Action)>,
    pub(super) held: Vec<Held>,
    /// Users matched by fingerprint whose key differs: orphans after all.
    mismatched: Vec<u32>,
    /// The first instant after `now` at which some identity's groups flip.
    pub(super) next_change: Option<DateTime<Utc>>,
    /// Memberships of observed users in live managed groups (the base of
    /// the revocation share).
    pub(super) observed_memberships: usize,
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
        let hold = user_hold.or_else(|| d.group_hold.get(&g).map(|s| scope_rule(d, s.clone())));
        match hold {
            Some(rule) => self.hold(id, HeldItem::RemoveGroup(g), rule, reasons),
            None => removes.push(GroupChange { group: g, reasons }),
        }
    }

    /// The backstop (policy `credential_windows`): identity `i`'s
    /// credentials end with its access, so that Brivo itself ends it if
    /// the runner stops. Planned when the window the runner last set
    /// (`known`) differs from the span of the access, or is unknown; an
    /// end brought forward is a revocation and waits under `hold` like one.
    fn window(
        &mut self,
        cx: &Ctx<'_, '_>,
        i: usize,
        key: ChangeKey,
        known: Option<CredentialWindow>,
        holds_groups: bool,
        hold: impl FnOnce() -> Option<HoldRule>,
    ) {
        let now = cx.now;
        if !cx.policy.credential_windows {
            return;
        }
        let Some((start, end)) = cx.d.span(i, now) else {
            return;
        };
        let from = match (start.filter(|s| *s > now), known.and_then(|k| k.from)) {
            // a start written while access had not begun, and it has now
            // (a move-in brought forward): bring the start back too
            (None, Some(f)) if f > now => Some(start.filter(|s| *s <= now).unwrap_or(now)),
            // a start in the future only on a user who holds no group now:
            // on one who does, it would close the door before any of its
            // removals (which may be held) is made
            (Some(_), _) if holds_groups => None,
            (wanted, _) => wanted,
        };
        let wanted = CredentialWindow::new(from, end);
        let differs = known
            .is_none_or(|k| k.to != wanted.to || (wanted.from.is_some() && k.from != wanted.from));
        if !differs {
            return;
        }
        let reasons = vec![Reason::rule(Rule::CredentialWindow)];
        // an earlier end, or a start still to come, closes a door: a
        // revocation, held like one
        let earlier_end = match (wanted.to, known.map(|k| k.to)) {
            (None, _) => false,
            (Some(a), Some(Some(b))) => a < b,
            (Some(_), _) => true,
        };
        let restricts = earlier_end || wanted.from.is_some_and(|f| f > now);
        let closes = Closes {
            door: restricts,
            // what the mass-revocation threshold counts: a window known
            // before that now closes earlier (a first one is no revocation)
            counted: restricts && known.is_some(),
        };
        let user = match key {
            ChangeKey::Existing(id) => UserRef::Existing(id),
            ChangeKey::New(i) => UserRef::New(
                cx.d.identities[i]
                    .key
                    .external_id(&cx.policy.ownership_prefix),
            ),
        };
        match (hold().filter(|_| restricts), key) {
            (Some(rule), ChangeKey::Existing(id)) => {
                self.hold(id, HeldItem::CredentialWindow, rule, reasons);
            }
            _ => self.windows.push((
                key,
                Action::SetCredentialWindow {
                    user,
                    window: wanted,
                    reasons,
                },
                closes,
            )),
        }
    }

    /// Gives the user a card from `pool`.
    fn card(&mut self, key: ChangeKey, user: UserRef, pool: &str) {
        self.cards.push((
            key,
            Action::AssignCard {
                user,
                pool: pool.to_owned(),
                reasons: vec![Reason::rule(Rule::CardPool)],
            },
        ));
    }

    /// Invites the identity's user to Mobile Pass, if it has an email.
    fn invite(&mut self, d: &Desired<'_>, i: usize, key: ChangeKey, user: UserRef, reissue: bool) {
        let Some(email) = d
            .profile(i)
            .email
            .as_deref()
            .filter(|e| !e.trim().is_empty())
        else {
            return;
        };
        self.invites.push((
            key,
            Action::InviteMobilePass {
                user,
                email: email.to_owned(),
                reissue,
                reasons: vec![Reason::rule(Rule::MobilePass)],
            },
        ));
    }

    fn hold(&mut self, id: BrivoUserId, item: HeldItem, rule: HoldRule, reasons: Vec<Reason>) {
        self.held.push(Held {
            user: UserRef::Existing(id),
            item,
            rule,
            reasons,
        });
    }

    pub(super) fn append(&mut self, other: Out) {
        self.creates.extend(other.creates);
        self.adopts.extend(other.adopts);
        self.rekeys.extend(other.rekeys);
        self.updates.extend(other.updates);
        self.unsuspends.extend(other.unsuspends);
        self.changes.extend(other.changes);
        self.invites.extend(other.invites);
        self.cards.extend(other.cards);
        self.windows.extend(other.windows);
        self.suspends.extend(other.suspends);
        self.deletes.extend(other.deletes);
        self.held.extend(other.held);
        self.mismatched.extend(other.mismatched);
        self.next_change = match (self.next_change, other.next_change) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.observed_memberships += other.observed_memberships;
    }
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

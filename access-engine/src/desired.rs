//! The desired-state computation shared by [`crate::plan()`] and
//! [`crate::access_at`]: facts + mappings + policy → per identity, the
//! windows in which each group is granted, with a pointer to the fact.
//!
//! Built for a million occupants: ids are borrowed from the facts, zones are
//! parsed once, (zone, date, edge) → instant is memoised, grants are plain
//! `Copy` records bucketed per identity, and nothing is formatted until a
//! reason is actually shown.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;

use crate::coworking::{MembershipStatus, PassHolder};
use crate::directory::DirectoryState;
use crate::facts::{Facts, Profile, Scope, Source};
use crate::hash::{FxMap, FxSet, fingerprint, map_with_capacity};
use crate::identity::IdKey;
use crate::leases::{Customer, CustomerType, Lease, LeaseStatus};
use crate::mapping::{GroupId, Mappings};
use crate::observed::ObservedGroup;
use crate::policy::{Policy, SamePerson};
use crate::reason::{FactKind, FactRef, Reason, Rule, Window};
use crate::time::{self, Edge};
use crate::warning::Warning;

/// Which fact a grant comes from (indexes into [`Facts`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Src {
    Lease { lease: u32, customer: u32 },
    Membership { membership: u32 },
    Assignment { assignment: u32, membership: u32 },
    Booking { booking: u32 },
    DayPass { set: u32 },
    Directory { user: u32 },
}

/// One group granted to one identity within `[start, end)`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Grant {
    pub(crate) group: GroupId,
    /// `None`: always.
    pub(crate) start: Option<DateTime<Utc>>,
    /// `None`: perpetual.
    pub(crate) end: Option<DateTime<Utc>>,
    pub(crate) zone: Tz,
    pub(crate) src: Src,
}

impl Grant {
    pub(crate) fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start.is_none_or(|s| s <= t) && self.end.is_none_or(|e| t < e)
    }
}

/// Where an identity's profile lives: in a fact, or (for visitors, whose
/// profile is derived from a name) in [`Desired`]'s own list. Kept small:
/// there is one per identity.
#[derive(Debug, Clone, Copy)]
pub(crate) enum ProfileSrc<'f> {
    Fact(&'f Profile),
    Derived(u32),
}

/// An identity and what the facts say about it beyond its grants.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Identity<'f> {
    pub(crate) key: IdKey<'f>,
    pub(crate) profile: ProfileSrc<'f>,
    /// The record is another's person (policy `same_person`): its key was
    /// rewritten to that person's, and its profile yields to theirs.
    pub(crate) alias: bool,
    /// Directory lifecycle state, with the directory user's index.
    pub(crate) directory: Option<(DirectoryState, u32)>,
}

/// The desired-state model: identities, their grants bucketed per identity
/// and sorted by (group, start), the warnings, and the effective incomplete
/// scopes (declared ones plus those whose facts had to be skipped).
pub(crate) struct Desired<'f> {
    pub(crate) identities: Vec<Identity<'f>>,
    /// (key fingerprint, identity), sorted: observed users are matched to
    /// identities by a merge join on it, without chasing string pointers.
    by_fp: Vec<(u128, u32)>,
    offsets: Vec<u32>,
    grants: Vec<Grant>,
    /// (identity, group, bad record): revocations of `group` from the
    /// identity are held, because a record that could have granted it was
    /// unreadable. Sorted.
    bad_holds: Vec<(u32, GroupId, Src)>,
    pub(crate) warnings: BTreeSet<Warning>,
    pub(crate) incomplete: BTreeSet<Scope>,
    derived_profiles: Vec<Profile>,
    /// For each live group, the first incomplete scope feeding it (only
    /// filled when some scope is incomplete).
    pub(crate) group_hold: FxMap<GroupId, Scope>,
    /// Scopes held because they changed more than expected since the last
    /// run (absent, emptied, shrunk), with what changed; also in `incomplete`.
    pub(crate) unexpected: BTreeMap<Scope, String>,
    /// The managed groups that exist (sorted).
    live: Vec<GroupId>,
    /// With [`build_explained`]: people facts name but grant nothing.
    pub(crate) excluded: Vec<Excluded<'f>>,
    /// (identity, property) of every resident, sorted and distinct: the
    /// properties whose facts name them (a transfer: two).
    homes: Vec<(u32, &'f str)>,
    /// Keys merged into another identity (policy `same_person`), with it,
    /// by key fingerprint.
    aliases: FxMap<u128, Vec<(IdKey<'f>, u32)>>,
    /// Whether the policy merges records of different sources.
    same_person: bool,
}

/// A fact that names a person but grants them nothing, and why (recorded
/// only by [`build_explained`]: it costs a string per skipped person).
#[derive(Debug, Clone)]
pub(crate) struct Excluded<'f> {
    pub(crate) key: IdKey<'f>,
    pub(crate) profile: &'f Profile,
    pub(crate) fact: FactRef,
    pub(crate) why: String,
}

/// The result of evaluating one identity at an instant.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Eval {
    /// First instant after `t` at which one of its groups flips.
    pub(crate) next: Option<DateTime<Utc>>,
    /// Some grant is current or upcoming.
    pub(crate) has_future: bool,
}

impl<'f> Desired<'f> {
    pub(crate) fn profile(&self, identity: usize) -> &Profile {
        match self.identities[identity].profile {
            ProfileSrc::Fact(p) => p,
            ProfileSrc::Derived(i) => &self.derived_profiles[i as usize],
        }
    }

    pub(crate) fn grants_of(&self, identity: usize) -> &[Grant] {
        let (a, b) = (self.offsets[identity], self.offsets[identity + 1]);
        &self.grants[a as usize..b as usize]
    }

    /// (key fingerprint, identity) sorted by fingerprint; see
    /// [`crate::hash::fingerprint`].
    pub(crate) fn by_fingerprint(&self) -> &[(u128, u32)] {
        &self.by_fp
    }

    /// The bad record that could have granted `group` to the identity, if any.
    pub(crate) fn bad_hold(&self, identity: usize, group: GroupId) -> Option<Src> {
        if self.bad_holds.is_empty() {
            return None;
        }
        let key = (identity as u32, group);
        let i = self.bad_holds.partition_point(|h| (h.0, h.1) < key);
        self.bad_holds
            .get(i)
            .filter(|h| (h.0, h.1) == key)
            .map(|h| h.2)
    }

    /// The span of an identity's current and upcoming access at `t`: the
    /// earliest start and the latest end of its grants that have not ended
    /// (an end of `None` when one is perpetual); `None` when none is left.
    pub(crate) fn span(&self, identity: usize, t: DateTime<Utc>) -> Option<Span> {
        let mut live = self
            .grants_of(identity)
            .iter()
            .filter(|g| g.end.is_none_or(|e| e > t));
        let first = live.next()?;
        let (mut from, mut to) = (first.start, first.end);
        for g in live {
            from = from.zip(g.start).map(|(a, b)| a.min(b));
            to = to.zip(g.end).map(|(a, b)| a.max(b));
        }
        Some((from, to))
    }

    /// The identity a record merged into another's (policy `same_person`)
    /// is now part of, if `key` is such a record's.
    pub(crate) fn alias_of(&self, key: &IdKey<'_>) -> Option<u32> {
        if self.aliases.is_empty() {
            return None;
        }
        self.aliases
            .get(&fingerprint(key))?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, i)| *i)
    }

    /// The properties whose facts name resident `identity` (sorted).
    pub(crate) fn homes_of(&self, identity: usize) -> impl Iterator<Item = &'f str> + '_ {
        let a = self.homes.partition_point(|h| h.0 < identity as u32);
        self.homes[a..]
            .iter()
            .take_while(move |h| h.0 == identity as u32)
            .map(|h| h.1)
    }

    /// The first bad record about the identity, if any: suspending or
    /// deleting it is held, since its access cannot be known.
    pub(crate) fn bad_record(&self, identity: usize) -> Option<Src> {
        if self.bad_holds.is_empty() {
            return None;
        }
        let i = self.bad_holds.partition_point(|h| h.0 < identity as u32);
        self.bad_holds
            .get(i)
            .filter(|h| h.0 == identity as u32)
            .map(|h| h.2)
    }

    /// Holds a scope that changed more than expected: revocations it feeds
    /// are held like an incomplete scope's, under their own rule.
    pub(crate) fn mark_unexpected(&mut self, mappings: &Mappings, scope: Scope, detail: String) {
        self.incomplete.insert(scope.clone());
        self.warnings.insert(Warning::UnexpectedScope {
            scope: scope.clone(),
            detail: detail.clone(),
        });
        self.unexpected.insert(scope, detail);
        self.group_hold = group_holds(mappings, &self.incomplete, &self.live);
    }

    /// The incomplete scope an identity belongs to, if any.
    pub(crate) fn identity_hold(&self, key: &IdKey<'_>) -> Option<Scope> {
        if self.incomplete.is_empty() {
            return None;
        }
        let has = |s: &Scope| self.incomplete.contains(s);
        let check = |source: Source, own: Option<Scope>| {
            let src = Scope::Source(source);
            if has(&src) {
                return Some(src);
            }
            own.filter(|s| has(s))
        };
        match key {
            // A resident's leases may be at any property of the account;
            // with records merged (policy same_person), the resident may be
            // a member too.
            IdKey::Entrata(_) => check(Source::Entrata, None)
                .or_else(|| {
                    self.incomplete
                        .iter()
                        .find(|s| matches!(s, Scope::Property(_)))
                        .cloned()
                })
                .or_else(|| {
                    // (configured, not only merged now: a failed OfficeRnD
                    // read leaves nothing to merge)
                    let merging = self.same_person;
                    let coworking = |s: &&Scope| {
                        matches!(s, Scope::Location(_) | Scope::Source(Source::OfficeRnd))
                    };
                    merging
                        .then(|| self.incomplete.iter().find(coworking).cloned())
                        .flatten()
                }),
            IdKey::Directory(d, _) => {
                check(Source::Directory, Some(Scope::Directory((*d).to_owned())))
            }
            // A person's OfficeRnD facts may come from any location.
            IdKey::Member(_) | IdKey::Visitor(_) => check(Source::OfficeRnd, None).or_else(|| {
                self.incomplete
                    .iter()
                    .find(|s| matches!(s, Scope::Location(_)))
                    .cloned()
            }),
        }
    }

    /// The incomplete scope that holds every group removal of an identity,
    /// if any. A resident's removal of one group waits only for the scopes
    /// that feed that group (see `group_hold`): holding every resident's
    /// removals for one failed property of twenty would keep move-outs at
    /// the nineteen others in. Removing the whole user still waits for
    /// every property ([`identity_hold`](Self::identity_hold)).
    pub(crate) fn removal_hold(&self, key: &IdKey<'_>) -> Option<Scope> {
        match key {
            IdKey::Entrata(_) => {
                let source = Scope::Source(Source::Entrata);
                self.incomplete.contains(&source).then_some(source)
            }
            _ => self.identity_hold(key),
        }
    }

    /// Evaluates one identity at `t`: pushes its current groups (sorted,
    /// distinct) into `out` and returns when that set next changes.
    pub(crate) fn eval(&self, identity: usize, t: DateTime<Utc>, out: &mut Vec<GroupId>) -> Eval {
        eval_grants(self.grants_of(identity), t, out)
    }

    /// The reasons for `group` of `identity` at `t`: the grants covering `t`
    /// when it is held, otherwise the grants that ended or have not begun.
    pub(crate) fn reasons(
        &self,
        facts: &Facts,
        identity: usize,
        group: GroupId,
        t: DateTime<Utc>,
    ) -> Vec<Reason> {
        let grants = self.grants_of(identity);
        let lo = grants.partition_point(|g| g.group < group);
        let run = grants[lo..].iter().take_while(|g| g.group == group);
        let active: Vec<&Grant> = run.clone().filter(|g| g.contains(t)).collect();
        let mut out: Vec<Reason> = if active.is_empty() {
            run.map(|g| {
                let rule = if g.start.is_some_and(|s| s > t) {
                    Rule::NotStarted
                } else {
                    Rule::Ended
                };
                reason_for(facts, g, rule)
            })
            .collect()
        } else {
            active
                .into_iter()
                .map(|g| reason_for(facts, g, Rule::Grant))
                .collect()
        };
        out.sort();
        out.dedup();
        out
    }
}

/// A window as (start, end); `None` is unbounded on that side.
type Span = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// See [`Desired::eval`]. `grants` are sorted by (group, start).
pub(crate) fn eval_grants(grants: &[Grant], t: DateTime<Utc>, out: &mut Vec<GroupId>) -> Eval {
    let mut ev = Eval::default();
    let mut note = |at: DateTime<Utc>| {
        if ev.next.is_none_or(|n| at < n) {
            ev.next = Some(at);
        }
    };
    let mut i = 0;
    while i < grants.len() {
        let group = grants[i].group;
        let mut active = false;
        // Merge the run's windows (sorted by start) into disjoint intervals;
        // the group flips only at the ends of those intervals.
        let mut cur: Option<Span> = None;
        let settle = |(s, e): Span, active: &mut bool, note: &mut dyn FnMut(DateTime<Utc>)| match s
        {
            Some(s) if s > t => note(s),
            _ => match e {
                Some(e) if e <= t => {}
                Some(e) => {
                    *active = true;
                    note(e);
                }
                None => *active = true,
            },
        };
        while i < grants.len() && grants[i].group == group {
            let g = &grants[i];
            i += 1;
            if g.end.is_none_or(|e| e > t) {
                ev.has_future = true;
            }
            cur = Some(match cur {
                None => (g.start, g.end),
                Some((s, e)) => {
                    // `g.start >= s`; does it touch the current interval?
                    let touches = match (e, g.start) {
                        (None, _) => true,
                        (Some(_), None) => true,
                        (Some(e), Some(gs)) => gs <= e,
                    };
                    if touches {
                        let end = match (e, g.end) {
                            (Some(a), Some(b)) => Some(a.max(b)),
                            _ => None,
                        };
                        (s, end)
                    } else {
                        settle((s, e), &mut active, &mut note);
                        (g.start, g.end)
                    }
                }
            });
        }
        if let Some(c) = cur {
            settle(c, &mut active, &mut note);
        }
        if active {
            out.push(group);
        }
    }
    ev
}

/// The kind and id of the fact behind `src`, for ordering and hold rules.
pub(crate) fn src_id(facts: &Facts, src: Src) -> (FactKind, &str) {
    match src {
        Src::Lease { lease, .. } => (FactKind::Lease, &facts.leases[lease as usize].id),
        Src::Membership { membership } => (
            FactKind::Membership,
            &facts.memberships[membership as usize].id,
        ),
        Src::Assignment { assignment, .. } => (
            FactKind::Assignment,
            &facts.assignments[assignment as usize].id,
        ),
        Src::Booking { booking } => (FactKind::Booking, &facts.bookings[booking as usize].id),
        Src::DayPass { set } => (FactKind::DayPass, &facts.day_passes[set as usize].id),
        Src::Directory { user } => (
            FactKind::DirectoryUser,
            &facts.directory_users[user as usize].user_id,
        ),
    }
}

/// Materialises the reason for one grant (only called for shown reasons).
pub(crate) fn reason_for(facts: &Facts, g: &Grant, rule: Rule) -> Reason {
    let window = Some(Window {
        start: g.start,
        end: g.end,
        zone: g.zone,
    });
    let fact = match g.src {
        Src::Lease { lease, customer } => {
            let l = &facts.leases[lease as usize];
            lease_ref(l, l.customers.get(customer as usize))
        }
        Src::Membership { membership } => {
            let m = &facts.memberships[membership as usize];
            FactRef {
                kind: FactKind::Membership,
                id: m.id.clone(),
                note: format!("{} (plan {})", m.status, m.plan_id),
            }
        }
        Src::Assignment {
            assignment,
            membership,
        } => {
            let a = &facts.assignments[assignment as usize];
            let m = &facts.memberships[membership as usize];
            FactRef {
                kind: FactKind::Assignment,
                id: a.id.clone(),
                note: format!("(resource {}, membership {})", a.resource_id, m.id),
            }
        }
        Src::Booking { booking } => {
            let b = &facts.bookings[booking as usize];
            FactRef {
                kind: FactKind::Booking,
                id: b.id.clone(),
                note: format!("(resource {})", b.resource_id),
            }
        }
        Src::DayPass { set } => {
            let p = &facts.day_passes[set as usize];
            FactRef {
                kind: FactKind::DayPass,
                id: p.id.clone(),
                note: format!("({} of {} used)", p.used, p.count),
            }
        }
        Src::Directory { user } => {
            let u = &facts.directory_users[user as usize];
            FactRef {
                kind: FactKind::DirectoryUser,
                id: format!("{}/{}", u.directory_id, u.user_id),
                note: u.state.to_string(),
            }
        }
    };
    Reason {
        rule,
        fact: Some(fact),
        window,
    }
}

/// Above this many occurrences their fingerprints are computed and sorted
/// on two threads.
const PARALLEL_FINGERPRINTS: usize = if cfg!(test) { 1_000 } else { 100_000 };

/// Merges two sorted vectors into one.
fn merge_sorted<T: Ord + Copy>(a: Vec<T>, b: Vec<T>) -> Vec<T> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        if b[j] < a[i] {
            out.push(b[j]);
            j += 1;
        } else {
            out.push(a[i]);
            i += 1;
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

type Merged<'f> = (Vec<Identity<'f>>, Vec<u32>, Vec<(u128, u32)>, BTreeSet<u32>);

/// Merges occurrences with the same key into identities, numbered in order
/// of first occurrence (so lease grants stay in identity order). Keys are
/// grouped by sorting their fingerprints, a cache-friendly pass, instead of
/// probing a million-entry hash table; equal fingerprints are confirmed by
/// comparing keys, so a fingerprint collision never merges two people.
/// Returns the identities, occurrence → identity, the sorted (fingerprint,
/// identity) list, and the identities seen with conflicting profiles.
fn merge_occurrences<'f>(occs: Vec<Identity<'f>>, b: &Builder<'f>) -> Merged<'f> {
    let n_occ = occs.len();
    let fingerprints = |from: usize, to: usize| {
        let mut v: Vec<(u128, u32)> = occs[from..to]
            .iter()
            .enumerate()
            .map(|(o, x)| (fingerprint(&x.key), (from + o) as u32))
            .collect();
        v.sort_unstable();
        v
    };
    // Large inputs: each half on its own core, then one merge; the result
    // is the sorted whole either way.
    let order = if n_occ >= PARALLEL_FINGERPRINTS {
        let mid = n_occ / 2;
        std::thread::scope(|scope| {
            let second = std::thread::Builder::new()
                .name("access-engine-keys".into())
                .spawn_scoped(scope, || fingerprints(mid, n_occ))
                .ok();
            let first = fingerprints(0, mid);
            let second = match second.map(|h| h.join()) {
                Some(Ok(v)) => v,
                _ => fingerprints(mid, n_occ),
            };
            merge_sorted(first, second)
        })
    } else {
        fingerprints(0, n_occ)
    };
    if order.windows(2).all(|w| w[0].0 != w[1].0) {
        // Every occurrence is its own identity (the common lease case):
        // keep them as they are, numbered in occurrence order.
        let occ_id = (0..n_occ as u32).collect();
        return (occs, occ_id, order, BTreeSet::new());
    }
    let mut canon: Vec<u32> = (0..n_occ as u32).collect();
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && order[j].0 == order[i].0 {
            j += 1;
        }
        for a in i + 1..j {
            let oa = order[a].1 as usize;
            // Earlier in the run means a smaller occurrence index.
            if let Some(c) = (i..a).find(|&c| occs[order[c].1 as usize].key == occs[oa].key) {
                canon[oa] = canon[order[c].1 as usize];
            }
        }
        i = j;
    }
    let mut occ_id = vec![0u32; n_occ];
    let mut identities: Vec<Identity<'f>> = Vec::with_capacity(n_occ);
    let mut conflicts = BTreeSet::new();
    for o in 0..n_occ {
        let c = canon[o] as usize;
        if c == o {
            occ_id[o] = identities.len() as u32;
            identities.push(occs[o]);
            continue;
        }
        let id = occ_id[c];
        occ_id[o] = id;
        let ident = &mut identities[id as usize];
        let occ = &occs[o];
        let (old, new) = (b.resolve(ident.profile), b.resolve(occ.profile));
        if ident.alias && !occ.alias {
            // the person's own record names them, not the merged one
            ident.profile = occ.profile;
            ident.alias = false;
        } else if old != new && !ident.alias && !occ.alias {
            conflicts.insert(id);
            if new < old {
                ident.profile = occ.profile;
            }
        }
        if let Some((state, ui)) = occ.directory
            && ident.directory.is_none_or(|(s, _)| state > s)
        {
            ident.directory = Some((state, ui));
        }
    }
    let mut by_fp: Vec<(u128, u32)> = order
        .iter()
        .filter(|(_, o)| canon[*o as usize] == *o)
        .map(|(fp, o)| (*fp, occ_id[*o as usize]))
        .collect();
    // Already sorted by fingerprint; order distinct keys that share one by
    // key, so that nothing depends on input order.
    by_fp.sort_by(|a, b| {
        a.0.cmp(&b.0).then_with(|| {
            identities[a.1 as usize]
                .key
                .cmp(&identities[b.1 as usize].key)
        })
    });
    (identities, occ_id, by_fp, conflicts)
}

/// A mapping table with only live groups, keyed by borrowed ids.
struct Table<'m> {
    map: FxMap<&'m str, Vec<GroupId>>,
}

impl<'m> Table<'m> {
    fn new(src: &'m BTreeMap<String, Vec<GroupId>>, live: &[GroupId]) -> Self {
        let mut map = map_with_capacity(src.len());
        for (k, v) in src {
            let mut gs: Vec<GroupId> = v
                .iter()
                .copied()
                .filter(|g| live.binary_search(g).is_ok())
                .collect();
            gs.sort_unstable();
            gs.dedup();
            map.insert(k.as_str(), gs);
        }
        Table { map }
    }

    fn get(&self, k: &str) -> Option<&[GroupId]> {
        self.map.get(k).map(Vec::as_slice)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum At {
    /// The date at the policy's start time, as a start.
    StartTime,
    /// The date at the policy's end time, as an end.
    EndTime,
    /// The first instant of the date.
    DayStart,
    /// The end of the date taken inclusively (next local midnight, as an end).
    DayEnd,
}

struct Builder<'f> {
    facts: &'f Facts,
    policy: &'f Policy,
    /// One entry per (fact, person) occurrence; merged into identities at the end.
    identities: Vec<Identity<'f>>,
    pending: Vec<(u32, Grant)>,
    /// (occurrence, property) of each resident occurrence.
    homes: Vec<(u32, &'f str)>,
    /// (occurrence, group, bad record): see [`Desired::bad_hold`].
    holds: Vec<(u32, GroupId, Src)>,
    warnings: BTreeSet<Warning>,
    incomplete: BTreeSet<Scope>,
    memo: FxMap<(Tz, NaiveDate, At), Option<DateTime<Utc>>>,
    derived_profiles: Vec<Profile>,
    /// `Some` when explaining: see [`Excluded`].
    excluded: Option<Vec<Excluded<'f>>>,
}

impl<'f> Builder<'f> {
    fn explaining(&self) -> bool {
        self.excluded.is_some()
    }

    /// When explaining, records that `fact` names this person but grants
    /// them nothing, and why. The closures run only then.
    fn exclude(
        &mut self,
        key: IdKey<'f>,
        profile: &'f Profile,
        fact: impl FnOnce() -> FactRef,
        why: impl FnOnce() -> String,
    ) {
        if let Some(x) = &mut self.excluded {
            x.push(Excluded {
                key,
                profile,
                fact: fact(),
                why: why(),
            });
        }
    }

    /// [`exclude`](Self::exclude) for each of these members (indexes into
    /// the facts' members), when explaining.
    fn exclude_members(
        &mut self,
        members: impl IntoIterator<Item = u32>,
        fact: impl Fn() -> FactRef,
        why: impl Fn() -> String,
    ) {
        if !self.explaining() {
            return;
        }
        let facts = self.facts;
        for t in members {
            let m = &facts.members[t as usize];
            self.exclude(IdKey::Member(&m.id), &m.profile, &fact, &why);
        }
    }

    /// [`exclude`](Self::exclude) for every admitted-or-not resident of a
    /// lease, when explaining.
    fn exclude_lease(&mut self, lease: &'f Lease, why: impl Fn() -> String) {
        if !self.explaining() {
            return;
        }
        for c in &lease.customers {
            self.exclude(
                IdKey::Entrata(&c.id),
                &c.profile,
                || lease_ref(lease, Some(c)),
                &why,
            );
        }
    }
    fn resolve(&self, p: ProfileSrc<'f>) -> &Profile {
        match p {
            ProfileSrc::Fact(p) => p,
            ProfileSrc::Derived(i) => &self.derived_profiles[i as usize],
        }
    }

    /// Records one occurrence of an identity; identities are merged by key
    /// once all facts are read (see [`merge_occurrences`]).
    /// A resident of `property`: one occurrence of their identity.
    fn intern_resident(&mut self, property: &'f str, c: &'f Customer) -> u32 {
        let id = self.intern(IdKey::Entrata(&c.id), ProfileSrc::Fact(&c.profile));
        self.homes.push((id, property));
        id
    }

    fn intern(&mut self, key: IdKey<'f>, profile: ProfileSrc<'f>) -> u32 {
        self.identities.push(Identity {
            key,
            profile,
            alias: false,
            directory: None,
        });
        self.identities.len() as u32 - 1
    }

    fn at(&mut self, tz: Tz, date: NaiveDate, at: At) -> Option<DateTime<Utc>> {
        let policy = self.policy;
        *self.memo.entry((tz, date, at)).or_insert_with(|| match at {
            At::StartTime => Some(time::resolve(
                tz,
                date.and_time(policy.start_time),
                Edge::Start,
            )),
            At::EndTime => Some(time::resolve(tz, date.and_time(policy.end_time), Edge::End)),
            At::DayStart => Some(time::start_of_day(tz, date)),
            At::DayEnd => time::end_of_inclusive_date(tz, date),
        })
    }

    fn bad(&mut self, kind: FactKind, id: &str, problem: impl Into<String>) {
        self.warnings.insert(Warning::BadRecord {
            kind,
            id: id.to_owned(),
            problem: problem.into(),
        });
    }

    /// Holds revocations of `groups` from an identity: `src` could have
    /// granted them but was unreadable.
    fn hold(&mut self, identity: u32, groups: &[GroupId], src: Src) {
        self.holds
            .extend(groups.iter().map(|&g| (identity, g, src)));
    }

    fn push(
        &mut self,
        identity: u32,
        groups: &[GroupId],
        window: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
        zone: Tz,
        src: Src,
    ) {
        for &group in groups {
            self.pending.push((
                identity,
                Grant {
                    group,
                    start: window.0,
                    end: window.1,
                    zone,
                    src,
                },
            ));
        }
    }
}

fn minus(t: DateTime<Utc>, minutes: u32) -> DateTime<Utc> {
    t.checked_sub_signed(TimeDelta::minutes(i64::from(minutes)))
        .unwrap_or(t)
}

fn plus(t: DateTime<Utc>, minutes: u32) -> DateTime<Utc> {
    t.checked_add_signed(TimeDelta::minutes(i64::from(minutes)))
        .unwrap_or(t)
}

/// `true` when `[start, end)` is empty.
fn empty(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> bool {
    matches!((start, end), (Some(s), Some(e)) if e <= s)
}

/// Zones of properties or locations, by id; `None` for an unknown zone, or
/// for an id given several times with zones that differ (which zone is
/// right cannot be told: fail safe, as for an unknown zone: the scope is
/// incomplete, so its facts grant nothing new and its revocations are
/// held). Decided from the set of zones given per id, so that the result
/// and the warnings do not depend on the order of the records.
fn zones<'f, I>(
    items: I,
    scope: fn(&str) -> Scope,
    b: &mut Builder<'f>,
) -> FxMap<&'f str, Option<Tz>>
where
    I: ExactSizeIterator<Item = (&'f str, &'f str)>,
{
    let mut out: FxMap<&'f str, Option<Tz>> = map_with_capacity(items.len());
    // Ids given more than once, with every zone they were given.
    let mut repeated: FxMap<&'f str, Vec<&'f str>> = FxMap::default();
    let mut first_zone: FxMap<&'f str, &'f str> = map_with_capacity(items.len());
    for (id, zone) in items {
        match first_zone.get(id) {
            None => {
                first_zone.insert(id, zone);
            }
            Some(&first) => repeated.entry(id).or_insert_with(|| vec![first]).push(zone),
        }
    }
    for (id, zone) in first_zone {
        let given = match repeated.get_mut(id) {
            Some(all) => {
                all.sort_unstable();
                all.as_slice()
            }
            None => std::slice::from_ref(&zone),
        };
        let mut distinct: Vec<&str> = given.to_vec();
        distinct.dedup();
        let parsed: Vec<Option<Tz>> = distinct.iter().map(|z| time::parse_zone(z)).collect();
        for (z, tz) in distinct.iter().zip(&parsed) {
            if tz.is_none() {
                b.warnings.insert(Warning::UnknownZone {
                    scope: scope(id),
                    zone: (*z).to_owned(),
                });
                b.incomplete.insert(scope(id));
            }
        }
        let tz = parsed[0];
        if parsed.iter().any(|t| *t != tz) {
            b.warnings.insert(Warning::UnknownZone {
                scope: scope(id),
                zone: format!(
                    "{} (given {} times with different zones)",
                    distinct.join(", "),
                    given.len()
                ),
            });
            b.incomplete.insert(scope(id));
            out.insert(id, None);
        } else {
            out.insert(id, tz);
        }
    }
    out
}

/// The managed groups that exist in Brivo (`existing`; `None`: all of them),
/// sorted, with a warning for each mapped group that does not.
pub(crate) fn live_groups(
    mappings: &Mappings,
    existing: Option<&[ObservedGroup]>,
) -> (Vec<GroupId>, BTreeSet<Warning>) {
    // A sorted vector, not `Mappings::managed_groups()`'s tree: one
    // allocation, and no tree nodes to free.
    let tables = mappings.all_tables();
    let mut managed: Vec<GroupId> = Vec::with_capacity(
        tables
            .iter()
            .map(|(_, t)| t.values().map(Vec::len).sum::<usize>())
            .sum(),
    );
    for (_, t) in tables {
        for groups in t.values() {
            managed.extend_from_slice(groups);
        }
    }
    managed.sort_unstable();
    managed.dedup();
    let mut warnings = BTreeSet::new();
    let live: Vec<GroupId> = match existing {
        None => managed,
        Some(groups) => {
            let there: FxSet<GroupId> = groups.iter().map(|g| g.id).collect();
            managed
                .into_iter()
                .filter(|g| {
                    let ok = there.contains(g);
                    if !ok {
                        warnings.insert(Warning::MissingGroup { group: *g });
                    }
                    ok
                })
                .collect()
        }
    };
    (live, warnings)
}

/// Builds the desired-state model. `existing` is Brivo's list of groups: a
/// mapped group missing from it is reported and never granted; `None` treats
/// every mapped group as existing.
pub(crate) fn build<'f>(
    facts: &'f Facts,
    mappings: &'f Mappings,
    policy: &'f Policy,
    existing: Option<&[ObservedGroup]>,
) -> Desired<'f> {
    build_with(facts, mappings, policy, existing, false)
}

/// [`build`], also recording in [`Desired::excluded`] the people facts name
/// but grant nothing (for "why not" questions, not for planning).
pub(crate) fn build_explained<'f>(
    facts: &'f Facts,
    mappings: &'f Mappings,
    policy: &'f Policy,
    existing: Option<&[ObservedGroup]>,
) -> Desired<'f> {
    build_with(facts, mappings, policy, existing, true)
}

fn build_with<'f>(
    facts: &'f Facts,
    mappings: &'f Mappings,
    policy: &'f Policy,
    existing: Option<&[ObservedGroup]>,
    explain: bool,
) -> Desired<'f> {
    let (live, warnings) = live_groups(mappings, existing);
    let occupants: usize = facts.leases.iter().map(|l| l.customers.len()).sum();
    let mut b = Builder {
        facts,
        policy,
        identities: Vec::with_capacity(
            occupants + facts.members.len() + facts.directory_users.len(),
        ),
        pending: Vec::with_capacity(occupants * 2),
        holds: Vec::new(),
        homes: Vec::new(),
        warnings,
        incomplete: facts.completeness.incomplete.keys().cloned().collect(),
        memo: map_with_capacity(1024),
        derived_profiles: Vec::new(),
        excluded: explain.then(Vec::new),
    };
    let t_props = Table::new(&mappings.properties, &live);
    let t_buildings = Table::new(&mappings.buildings, &live);
    let t_units = Table::new(&mappings.units, &live);
    let t_plans = Table::new(&mappings.plans, &live);
    let t_locations = Table::new(&mappings.locations, &live);
    let t_passes = Table::new(&mappings.day_pass_locations, &live);
    let t_floors = Table::new(&mappings.floors, &live);
    let t_resources = Table::new(&mappings.resources, &live);
    let t_dirs = Table::new(&mappings.directories, &live);

    leases(&mut b, &t_props, &t_buildings, &t_units);
    coworking(
        &mut b,
        &t_plans,
        &t_locations,
        &t_passes,
        &t_floors,
        &t_resources,
    );
    directory(&mut b, &t_dirs);

    let mut occurrences = std::mem::take(&mut b.identities);
    let renamed = same_person(&mut occurrences, &mut b, &policy.same_person);
    let (identities, occ_id, by_fp, conflicts) = merge_occurrences(occurrences, &b);
    let mut aliases: FxMap<u128, Vec<(IdKey<'f>, u32)>> = FxMap::default();
    if !renamed.is_empty() {
        let wanted: BTreeSet<IdKey<'f>> = renamed.iter().map(|(_, p)| *p).collect();
        let primaries: FxMap<IdKey<'f>, u32> = identities
            .iter()
            .enumerate()
            .filter(|(_, x)| wanted.contains(&x.key))
            .map(|(i, x)| (x.key, i as u32))
            .collect();
        for (alias, primary) in renamed {
            if let Some(&i) = primaries.get(&primary) {
                aliases
                    .entry(fingerprint(&alias))
                    .or_default()
                    .push((alias, i));
            }
        }
    }
    for id in conflicts {
        let key = identities[id as usize].key;
        b.warnings.insert(Warning::DuplicateIdentity {
            external_id: key.external_id(&policy.ownership_prefix),
        });
    }

    // Bucket the grants per identity (counting sort; skipped when the
    // grants already come in identity order, as leases usually do).
    let n = identities.len();
    let mut offsets = vec![0u32; n + 1];
    for (occ, _) in &mut b.pending {
        *occ = occ_id[*occ as usize];
        offsets[*occ as usize + 1] += 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let pending = std::mem::take(&mut b.pending);
    let sorted = pending.windows(2).all(|w| w[0].0 <= w[1].0);
    let mut grants: Vec<Grant> = if sorted {
        pending.into_iter().map(|(_, g)| g).collect()
    } else {
        let mut cursor = offsets.clone();
        let filler = match pending.first() {
            Some((_, g)) => *g,
            None => Grant {
                group: GroupId(0),
                start: None,
                end: None,
                zone: Tz::UTC,
                src: Src::Lease {
                    lease: 0,
                    customer: 0,
                },
            },
        };
        let mut out = vec![filler; pending.len()];
        for (id, g) in pending {
            let slot = &mut cursor[id as usize];
            out[*slot as usize] = g;
            *slot += 1;
        }
        out
    };
    for i in 0..n {
        let slice = &mut grants[offsets[i] as usize..offsets[i + 1] as usize];
        if slice.len() > 1 {
            slice.sort_unstable_by_key(|g| (g.group, g.start, g.end));
        }
    }

    let mut bad_holds: Vec<(u32, GroupId, Src)> = std::mem::take(&mut b.holds)
        .into_iter()
        .map(|(occ, g, src)| (occ_id[occ as usize], g, src))
        .collect();
    // One record per (identity, group), chosen by the records' ids so that
    // input order does not matter.
    bad_holds.sort_by(|a, b| {
        (a.0, a.1)
            .cmp(&(b.0, b.1))
            .then_with(|| src_id(facts, a.2).cmp(&src_id(facts, b.2)))
    });
    bad_holds.dedup_by_key(|h| (h.0, h.1));
    // A record the operator approved (for this run) no longer holds.
    if !facts.baseline.approved.is_empty() {
        bad_holds.retain(|h| {
            let (kind, id) = src_id(facts, h.2);
            !facts
                .baseline
                .approved
                .contains(&format!("record:{}:{id}", kind.key()))
        });
    }
    for (scope, reason) in &facts.completeness.incomplete {
        b.warnings.insert(Warning::IncompleteScope {
            scope: scope.clone(),
            reason: reason.clone(),
        });
    }

    let mut homes = std::mem::take(&mut b.homes);
    for h in &mut homes {
        h.0 = occ_id[h.0 as usize];
    }
    homes.sort_unstable();
    homes.dedup();

    let mut group_hold = FxMap::default();
    if !b.incomplete.is_empty() {
        group_hold = group_holds(mappings, &b.incomplete, &live);
    }

    Desired {
        identities,
        by_fp,
        offsets,
        grants,
        bad_holds,
        warnings: b.warnings,
        incomplete: b.incomplete,
        group_hold,
        unexpected: BTreeMap::new(),
        live,
        derived_profiles: b.derived_profiles,
        excluded: b.excluded.unwrap_or_default(),
        homes,
        aliases,
        same_person: !policy.same_person.is_empty(),
    }
}

fn membership_ref(m: &crate::coworking::Membership) -> FactRef {
    FactRef {
        kind: FactKind::Membership,
        id: m.id.clone(),
        note: format!("{} (plan {})", m.status, m.plan_id),
    }
}

fn booking_ref(b: &crate::coworking::Booking) -> FactRef {
    FactRef {
        kind: FactKind::Booking,
        id: b.id.clone(),
        note: format!("(resource {})", b.resource_id),
    }
}

/// A lease, and the resident's own status where it differs, as a reason
/// shows it.
fn lease_ref(l: &Lease, c: Option<&Customer>) -> FactRef {
    let note = match c.and_then(|c| c.status.as_ref().map(|s| (c, s))) {
        Some((c, s)) if *s != l.status => format!("{}, resident {} {s}", l.status, c.id),
        _ => l.status.to_string(),
    };
    FactRef {
        kind: FactKind::Lease,
        id: l.id.clone(),
        note,
    }
}

/// Which scopes feed each group, intersected with the incomplete ones. A
/// building, unit, plan, floor or resource is not tied to one property or
/// location in the mapping, so any incomplete property (resp. location) feeds
/// it: holding too much is safe, revoking on missing data is not.
fn group_holds(
    mappings: &Mappings,
    incomplete: &BTreeSet<Scope>,
    live: &[GroupId],
) -> FxMap<GroupId, Scope> {
    use crate::mapping::MappingKind as K;
    let any = |pred: fn(&Scope) -> bool| incomplete.iter().find(|s| pred(s)).cloned();
    let src = |s: Source| {
        let s = Scope::Source(s);
        incomplete.contains(&s).then_some(s)
    };
    let mut out: BTreeMap<GroupId, Scope> = BTreeMap::new();
    for (kind, table) in mappings.all_tables() {
        for (id, groups) in table {
            let hold = match kind {
                K::Property => src(Source::Entrata).or_else(|| {
                    let s = Scope::Property(id.clone());
                    incomplete.contains(&s).then_some(s)
                }),
                K::Building | K::Unit => {
                    src(Source::Entrata).or_else(|| any(|s| matches!(s, Scope::Property(_))))
                }
                K::Location | K::DayPassLocation => src(Source::OfficeRnd).or_else(|| {
                    let s = Scope::Location(id.clone());
                    incomplete.contains(&s).then_some(s)
                }),
                K::Plan | K::Floor | K::Resource => {
                    src(Source::OfficeRnd).or_else(|| any(|s| matches!(s, Scope::Location(_))))
                }
                K::Directory => src(Source::Directory).or_else(|| {
                    let s = Scope::Directory(id.clone());
                    incomplete.contains(&s).then_some(s)
                }),
            };
            if let Some(scope) = hold {
                for g in groups {
                    if live.binary_search(g).is_ok() {
                        out.entry(*g)
                            .and_modify(|s| {
                                if scope < *s {
                                    *s = scope.clone();
                                }
                            })
                            .or_insert_with(|| scope.clone());
                    }
                }
            }
        }
    }
    out.into_iter().collect()
}

/// Whether an id can key an identity: ids become part of an external id,
/// so an empty one (or one of spaces) is a bad record, never an identity.
fn blank(id: &str) -> bool {
    id.trim().is_empty()
}

/// Whether a resident id can key an identity: not blank, and without the
/// `:` that would make `{prefix}:entrata:{id}` read as the earlier form,
/// keyed by property (Entrata's ids are integers).
fn keyable(id: &str) -> bool {
    !blank(id) && !id.contains(':')
}

/// Policy `same_person`: the records that are one person (explicit links,
/// and trusted emails that name exactly one resident and one member) get
/// the key of the person's first record (Entrata, then OfficeRnD, then by
/// id), so that the merge of occurrences gives them one identity and the
/// union of their grants. Returns each rewritten key with its new one,
/// and for a link whose other record is not in the batch, that record's
/// key with the present one's (its user, if it has one, is the person's).
///
/// Never a guess: a group that would hold two residents or two members
/// (links and emails chained) merges nothing and is warned about, and no
/// email merges while a property or location was not read completely (a
/// resident with the same email may be the one missing).
fn same_person<'f>(
    occs: &mut [Identity<'f>],
    b: &mut Builder<'f>,
    rule: &'f SamePerson,
) -> Vec<(IdKey<'f>, IdKey<'f>)> {
    if rule.is_empty() {
        return Vec::new();
    }
    // the records that may merge, numbered
    let mut nodes: BTreeMap<IdKey<'f>, usize> = BTreeMap::new();
    for o in occs.iter() {
        if matches!(o.key, IdKey::Entrata(_) | IdKey::Member(_)) {
            let next = nodes.len();
            nodes.entry(o.key).or_insert(next);
        }
    }
    let mut keys: Vec<IdKey<'f>> = vec![IdKey::Entrata(""); nodes.len()];
    for (k, &n) in &nodes {
        keys[n] = *k;
    }
    let mut parent: Vec<usize> = (0..nodes.len()).collect();
    fn root(parent: &mut [usize], mut n: usize) -> usize {
        while parent[n] != n {
            parent[n] = parent[parent[n]];
            n = parent[n];
        }
        n
    }
    let join = |parent: &mut Vec<usize>, a: usize, c: usize| {
        let (ra, rc) = (root(parent, a), root(parent, c));
        // the least key is the root: the person's first record
        let (lo, hi) = if keys[ra] <= keys[rc] {
            (ra, rc)
        } else {
            (rc, ra)
        };
        parent[hi] = lo;
    };
    // links to a record not in this batch: (absent key, present node)
    let mut absent: Vec<(IdKey<'f>, usize)> = Vec::new();
    for [x, y] in &rule.links {
        let (Some(kx), Some(ky)) = (IdKey::parse_bare(x), IdKey::parse_bare(y)) else {
            continue; // refused by validation
        };
        match (nodes.get(&kx).copied(), nodes.get(&ky).copied()) {
            (Some(a), Some(c)) => join(&mut parent, a, c),
            (Some(a), None) => absent.push((ky, a)),
            (None, Some(c)) => absent.push((kx, c)),
            (None, None) => {}
        }
    }
    let complete = !b.incomplete.iter().any(|s| {
        matches!(
            s,
            Scope::Source(Source::Entrata | Source::OfficeRnd)
                | Scope::Property(_)
                | Scope::Location(_)
        )
    });
    let name = |k: &IdKey<'_>| k.external_id("").trim_start_matches(':').to_owned();
    if complete
        && rule.by_email.contains(&Source::Entrata)
        && rule.by_email.contains(&Source::OfficeRnd)
    {
        let mut by_email: BTreeMap<String, [BTreeSet<usize>; 2]> = BTreeMap::new();
        for o in occs.iter() {
            let side = match o.key {
                IdKey::Entrata(_) => 0,
                IdKey::Member(_) => 1,
                _ => continue,
            };
            let Some(email) = b.resolve(o.profile).email.as_deref() else {
                continue;
            };
            let email = email.trim().to_lowercase();
            if email.is_empty() {
                continue;
            }
            by_email.entry(email).or_default()[side].insert(nodes[&o.key]);
        }
        for (email, [residents, members]) in by_email {
            match (residents.len(), members.len()) {
                (1, 1) => {
                    let (a, c) = (
                        *residents.first().unwrap_or(&0),
                        *members.first().unwrap_or(&0),
                    );
                    join(&mut parent, a, c);
                }
                (r, m) if r > 1 && m > 0 || m > 1 && r > 0 => {
                    let records = residents
                        .iter()
                        .chain(&members)
                        .map(|&n| name(&keys[n]))
                        .collect();
                    b.warnings.insert(Warning::SamePersonConflict {
                        records,
                        why: format!("the email {email} names more than one of a source"),
                    });
                }
                _ => {}
            }
        }
    }
    // every group: at most one resident and one member, or nothing merges
    let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for n in 0..keys.len() {
        let r = root(&mut parent, n);
        groups.entry(r).or_default().push(n);
    }
    let mut renamed = Vec::new();
    let mut refused = BTreeSet::new();
    for (r, members) in &groups {
        if members.len() < 2 {
            continue;
        }
        let residents = members
            .iter()
            .filter(|&&n| matches!(keys[n], IdKey::Entrata(_)))
            .count();
        if residents > 1 || members.len() - residents > 1 {
            refused.insert(*r);
            b.warnings.insert(Warning::SamePersonConflict {
                records: members.iter().map(|&n| name(&keys[n])).collect(),
                why: "links and emails would join two residents or two members".to_owned(),
            });
            continue;
        }
        for &n in members.iter().filter(|&&n| n != *r) {
            renamed.push((keys[n], keys[*r]));
        }
    }
    if !renamed.is_empty() {
        let to: BTreeMap<IdKey<'f>, IdKey<'f>> = renamed.iter().copied().collect();
        for o in occs.iter_mut() {
            if let Some(&primary) = to.get(&o.key) {
                o.key = primary;
                o.alias = true;
            }
        }
    }
    for (key, present) in absent {
        let r = root(&mut parent, present);
        if !refused.contains(&r) {
            renamed.push((key, keys[r]));
        }
    }
    renamed
}

/// The later of two optional dates (either may be missing).
fn later(a: Option<NaiveDate>, b: Option<NaiveDate>) -> Option<NaiveDate> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.max(y)),
        (x, y) => x.or(y),
    }
}

/// The earlier of two optional dates (either may be missing).
fn earlier(a: Option<NaiveDate>, b: Option<NaiveDate>) -> Option<NaiveDate> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// The leases' grants. The lease's status can refuse everyone; then each
/// resident is admitted by their own status, within the later move-in and
/// the earlier move-out of lease and resident (see [`crate::leases`]).
fn leases<'f>(b: &mut Builder<'f>, props: &Table<'_>, buildings: &Table<'_>, units: &Table<'_>) {
    let facts = b.facts;
    let policy = b.policy;
    let prop_zone = zones(
        facts
            .properties
            .iter()
            .map(|p| (p.id.as_str(), p.zone.as_str())),
        |id| Scope::Property(id.to_owned()),
        b,
    );
    let admitted = |t: &CustomerType| policy.admitted_customer_types.contains(t);
    let mut unmapped: FxSet<&str> = FxSet::default();
    let mut no_building: FxSet<&str> = FxSet::default();
    let mut groups: Vec<GroupId> = Vec::with_capacity(8);
    for (li, lease) in facts.leases.iter().enumerate() {
        let pid = lease.property_id.as_str();
        if blank(pid) || blank(&lease.id) {
            b.bad(FactKind::Lease, &lease.id, "empty lease or property id");
            continue;
        }
        let Some(&zone) = prop_zone.get(pid) else {
            b.warnings.insert(Warning::UnknownScope {
                kind: FactKind::Lease,
                id: lease.id.clone(),
                scope: Scope::Property(pid.to_owned()),
            });
            b.incomplete.insert(Scope::Property(pid.to_owned()));
            b.exclude_lease(lease, || {
                format!(
                    "property {pid} is not among the source's properties (its revocations are held)"
                )
            });
            continue;
        };
        let Some(tz) = zone else {
            b.exclude_lease(lease, || {
                format!("property {pid} has no usable time zone (its revocations are held)")
            });
            continue;
        };
        if lease.status.refuses() {
            b.exclude_lease(lease, || format!("a {} lease admits nobody", lease.status));
            continue;
        }
        groups.clear();
        let mut mapped = false;
        // Building mappings need the lease's building, which Entrata's
        // getLeases r2 does not send: say so once per property rather than
        // leave its residents silently without their building's doors.
        if lease.building_id.is_none() && !buildings.map.is_empty() && no_building.insert(pid) {
            b.warnings.insert(Warning::NoBuilding {
                property_id: pid.to_owned(),
            });
        }
        for (table, key) in [
            (props, Some(pid)),
            (buildings, lease.building_id.as_deref()),
            (units, lease.unit_id.as_deref()),
        ] {
            if let Some(g) = key.and_then(|k| table.get(k)) {
                mapped = true;
                groups.extend_from_slice(g);
            }
        }
        if !mapped {
            if unmapped.insert(pid) {
                b.warnings.insert(Warning::UnmappedProperty {
                    property_id: pid.to_owned(),
                });
            }
            b.exclude_lease(lease, || {
                format!("property {pid} (and its building and unit) is mapped to no group")
            });
            continue;
        }
        if groups.len() > 1 {
            groups.sort_unstable();
            groups.dedup();
        }
        let src_of = |ci: usize| Src::Lease {
            lease: li as u32,
            customer: ci as u32,
        };
        // A problem with the lease itself: every admitted resident's
        // revocations of this lease's groups are held, nothing more.
        let lease_problem = match (&lease.status, lease.move_in, lease.move_out) {
            (LeaseStatus::Other(s), _, _) => {
                b.warnings.insert(Warning::UnknownStatus {
                    kind: FactKind::Lease,
                    id: lease.id.clone(),
                    status: s.clone(),
                });
                Some(None)
            }
            (_, Some(i), Some(o)) if o < i => {
                Some(Some(format!("move-out {o} before move-in {i}")))
            }
            (LeaseStatus::Past, _, None) => {
                Some(Some("no move-out date for a Past lease".to_owned()))
            }
            _ => None,
        };
        if let Some(problem) = lease_problem {
            if let Some(problem) = problem {
                b.bad(FactKind::Lease, &lease.id, problem);
            }
            for (ci, c) in lease.customers.iter().enumerate() {
                if admitted(&c.customer_type) && keyable(&c.id) {
                    let id = b.intern_resident(pid, c);
                    b.hold(id, &groups, src_of(ci));
                }
            }
            continue;
        }
        let window = |b: &mut Builder<'f>, move_in: NaiveDate, move_out: Option<NaiveDate>| {
            let start = b
                .at(tz, move_in, At::StartTime)
                .map(|s| minus(s, policy.early_access_minutes));
            let end = match move_out {
                Some(d) => b
                    .at(tz, d, At::EndTime)
                    .map(|e| plus(e, policy.grace_minutes)),
                None => None,
            };
            (start, end)
        };
        let lease_window = lease.move_in.map(|i| window(b, i, lease.move_out));
        for (ci, c) in lease.customers.iter().enumerate() {
            if !admitted(&c.customer_type) {
                b.exclude(
                    IdKey::Entrata(&c.id),
                    &c.profile,
                    || lease_ref(lease, Some(c)),
                    || {
                        format!(
                            "{} customers are not admitted (policy.admitted_customer_types)",
                            c.customer_type
                        )
                    },
                );
                continue;
            }
            let resident = || format!("{} (resident {})", lease.id, c.id);
            if blank(&c.id) {
                b.bad(FactKind::Lease, &resident(), "a resident with an empty id");
                continue;
            }
            if !keyable(&c.id) {
                b.bad(
                    FactKind::Lease,
                    &resident(),
                    "resident id contains ':' (not representable in an external id)",
                );
                continue;
            }
            let status = c.status.as_ref().unwrap_or(&lease.status);
            if status.refuses() {
                b.exclude(
                    IdKey::Entrata(&c.id),
                    &c.profile,
                    || lease_ref(lease, Some(c)),
                    || format!("the resident's own status {status} admits nobody"),
                );
                continue;
            }
            let move_in = later(lease.move_in, c.move_in);
            let move_out = earlier(lease.move_out, c.move_out);
            let problem = match (status, move_in, move_out) {
                (LeaseStatus::Other(s), _, _) => {
                    b.warnings.insert(Warning::UnknownStatus {
                        kind: FactKind::Lease,
                        id: resident(),
                        status: s.clone(),
                    });
                    Some(None)
                }
                (_, None, _) => Some(Some(format!("no move-in date for a {status} resident"))),
                (LeaseStatus::Past, _, None) => {
                    Some(Some("a Past resident with no move-out date".to_owned()))
                }
                _ => match (c.move_in, c.move_out) {
                    (Some(i), Some(o)) if o < i => {
                        Some(Some(format!("own move-out {o} before own move-in {i}")))
                    }
                    _ => None,
                },
            };
            if let Some(problem) = problem {
                if let Some(problem) = problem {
                    b.bad(FactKind::Lease, &resident(), problem);
                }
                let id = b.intern_resident(pid, c);
                b.hold(id, &groups, src_of(ci));
                continue;
            }
            let Some(move_in) = move_in else { continue };
            // Most residents follow the lease's dates: resolve those once per
            // lease, not once per resident.
            let (start, end) = match (lease_window, c.move_in, c.move_out) {
                (Some(w), None, None) => w,
                _ => window(b, move_in, move_out),
            };
            if empty(start, end) {
                b.exclude(
                    IdKey::Entrata(&c.id),
                    &c.profile,
                    || lease_ref(lease, Some(c)),
                    || {
                        format!(
                            "no time between move-in {move_in} and move-out {}",
                            move_out.map_or("-".into(), |d| d.to_string())
                        )
                    },
                );
                continue;
            }
            let id = b.intern_resident(pid, c);
            b.push(id, &groups, (start, end), tz, src_of(ci));
        }
    }
}

fn coworking<'f>(
    b: &mut Builder<'f>,
    plans: &Table<'_>,
    locations: &Table<'_>,
    passes: &Table<'_>,
    floors: &Table<'_>,
    resources: &Table<'_>,
) {
    let facts = b.facts;
    let policy = b.policy;
    if facts.memberships.is_empty()
        && facts.assignments.is_empty()
        && facts.bookings.is_empty()
        && facts.day_passes.is_empty()
    {
        return;
    }
    let loc_zone = zones(
        facts
            .locations
            .iter()
            .map(|l| (l.id.as_str(), l.zone.as_str())),
        |id| Scope::Location(id.to_owned()),
        b,
    );
    let mut members: FxMap<&'f str, u32> = map_with_capacity(facts.members.len());
    // A member id given more than once: every record of it (in input
    // order), so that a reference reaches all of them and the identity
    // merge settles the profile whatever the order (see `merge_occurrences`).
    let mut member_repeats: FxMap<&'f str, Vec<u32>> = FxMap::default();
    let mut companies: FxMap<&'f str, Vec<u32>> = FxMap::default();
    for (i, m) in facts.members.iter().enumerate() {
        if blank(&m.id) {
            b.bad(FactKind::Member, &m.id, "a member with an empty id");
            continue;
        }
        match members.entry(m.id.as_str()) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(i as u32);
            }
            std::collections::hash_map::Entry::Occupied(e) => member_repeats
                .entry(m.id.as_str())
                .or_insert_with(|| vec![*e.get()])
                .push(i as u32),
        }
        if let Some(c) = &m.company_id {
            companies.entry(c.as_str()).or_default().push(i as u32);
        }
    }
    // Resolves the people a fact targets to member indexes (sorted, distinct).
    enum Target<'a> {
        Member(&'a str),
        Company(&'a str),
    }
    // The same without warnings or bad records: for explanations only.
    let quiet_targets = |t: Target<'_>| -> Vec<u32> {
        match t {
            Target::Member(m) => member_repeats
                .get(m)
                .cloned()
                .or_else(|| members.get(m).map(|&i| vec![i]))
                .unwrap_or_default(),
            Target::Company(c) => companies.get(c).cloned().unwrap_or_default(),
        }
    };
    let resolve_targets =
        |b: &mut Builder<'f>, kind: FactKind, id: &str, t: Target<'_>| -> Vec<u32> {
            match t {
                Target::Member(m) => match members.get(m) {
                    Some(&i) => match member_repeats.get(m) {
                        Some(all) => all.clone(),
                        None => vec![i],
                    },
                    None => {
                        b.warnings.insert(Warning::UnknownReference {
                            kind,
                            id: id.to_owned(),
                            missing: format!("member {m}"),
                        });
                        vec![]
                    }
                },
                Target::Company(c) => companies.get(c).cloned().unwrap_or_default(),
            }
        };
    let location = |b: &mut Builder<'f>, kind: FactKind, id: &str, lid: &str| -> Option<Tz> {
        match loc_zone.get(lid) {
            Some(z) => *z,
            None => {
                b.warnings.insert(Warning::UnknownScope {
                    kind,
                    id: id.to_owned(),
                    scope: Scope::Location(lid.to_owned()),
                });
                b.incomplete.insert(Scope::Location(lid.to_owned()));
                None
            }
        }
    };

    // Memberships: window and targets, kept for their assignments.
    type MsGrant = (Option<DateTime<Utc>>, Option<DateTime<Utc>>, Tz, Vec<u32>);
    // Each id's first membership. An id given more than once is one
    // membership if its records are equal (the repeats are skipped); if
    // they differ, which one is right cannot be told, so every record of
    // it is a bad record: what it could grant is neither granted nor
    // revoked (held), and so is what its assignments could grant,
    // whatever the order of the records.
    let mut ms_index: FxMap<&'f str, u32> = map_with_capacity(facts.memberships.len());
    let mut ms_repeats: FxMap<&'f str, Vec<u32>> = FxMap::default();
    for (mi, ms) in facts.memberships.iter().enumerate() {
        match ms_index.entry(ms.id.as_str()) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(mi as u32);
            }
            std::collections::hash_map::Entry::Occupied(e) => ms_repeats
                .entry(ms.id.as_str())
                .or_insert_with(|| vec![*e.get()])
                .push(mi as u32),
        }
    }
    let mut ms_skip: Vec<bool> = Vec::new();
    if !ms_repeats.is_empty() {
        ms_skip = vec![false; facts.memberships.len()];
        ms_repeats.retain(|_, all| {
            let first = &facts.memberships[all[0] as usize];
            if all[1..]
                .iter()
                .all(|&i| facts.memberships[i as usize] == *first)
            {
                for &i in &all[1..] {
                    ms_skip[i as usize] = true;
                }
                false
            } else {
                true
            }
        });
    }
    let mut ms_state: Vec<Option<MsGrant>> = Vec::with_capacity(facts.memberships.len());
    // Bad memberships' people, whose assignments' groups are held.
    let mut ms_bad: FxMap<u32, Vec<u32>> = FxMap::default();
    for (mi, ms) in facts.memberships.iter().enumerate() {
        ms_state.push(None);
        if ms_skip.get(mi).copied().unwrap_or(false) {
            continue;
        }
        let kind = FactKind::Membership;
        let Some(tz) = location(b, kind, &ms.id, &ms.location_id) else {
            continue;
        };
        let unknown_status = match &ms.status {
            MembershipStatus::NotApproved => {
                if b.explaining() {
                    let target = match (&ms.member_id, &ms.company_id) {
                        (Some(m), _) => Target::Member(m),
                        (None, Some(c)) => Target::Company(c),
                        (None, None) => continue,
                    };
                    b.exclude_members(
                        quiet_targets(target),
                        || membership_ref(ms),
                        || "a membership not approved admits nobody".to_owned(),
                    );
                }
                continue;
            }
            MembershipStatus::Other(s) => {
                b.warnings.insert(Warning::UnknownStatus {
                    kind,
                    id: ms.id.clone(),
                    status: s.clone(),
                });
                true
            }
            _ => false,
        };
        let target = match (&ms.member_id, &ms.company_id) {
            (Some(m), _) => Target::Member(m),
            (None, Some(c)) => Target::Company(c),
            (None, None) => {
                b.bad(kind, &ms.id, "neither member nor company");
                continue;
            }
        };
        let targets = resolve_targets(b, kind, &ms.id, target);
        let repeated = ms_repeats.get(ms.id.as_str()).map(Vec::len);
        let problem = match (ms.start, ms.end) {
            _ if repeated.is_some() => Some(Some(format!(
                "its id is given {} times with different contents",
                repeated.unwrap_or_default()
            ))),
            _ if unknown_status => Some(None),
            (None, _) => Some(Some("no start date".to_owned())),
            (Some(s), Some(e)) if e < s => Some(Some(format!("end {e} before start {s}"))),
            _ => None,
        };
        let (Some(start_date), None) = (ms.start, &problem) else {
            // Held: the plan's groups now, the assignments' groups below.
            if let Some(Some(problem)) = problem {
                b.bad(kind, &ms.id, problem);
            }
            let src = Src::Membership {
                membership: mi as u32,
            };
            let groups = plans.get(&ms.plan_id).unwrap_or_default();
            for &t in &targets {
                let m = &facts.members[t as usize];
                let id = b.intern(IdKey::Member(&m.id), ProfileSrc::Fact(&m.profile));
                b.hold(id, groups, src);
            }
            ms_bad.insert(mi as u32, targets);
            continue;
        };
        let start = b.at(tz, start_date, At::DayStart);
        let end = match ms.end {
            Some(e) => b.at(tz, e, At::DayEnd),
            None => None,
        };
        if empty(start, end) {
            continue;
        }
        match plans.get(&ms.plan_id) {
            None => {
                b.warnings.insert(Warning::UnmappedPlan {
                    plan_id: ms.plan_id.clone(),
                });
                b.exclude_members(
                    targets.iter().copied(),
                    || membership_ref(ms),
                    || {
                        format!(
                            "plan {} is mapped to no group (its assignments may still grant)",
                            ms.plan_id
                        )
                    },
                );
            }
            Some(groups) => {
                for &t in &targets {
                    let m = &facts.members[t as usize];
                    let id = b.intern(IdKey::Member(&m.id), ProfileSrc::Fact(&m.profile));
                    b.push(
                        id,
                        groups,
                        (start, end),
                        tz,
                        Src::Membership {
                            membership: mi as u32,
                        },
                    );
                }
            }
        }
        ms_state[mi] = Some((start, end, tz, targets));
    }

    let mut groups: Vec<GroupId> = Vec::with_capacity(8);
    let mut repeat_targets: Vec<u32> = Vec::new();
    for (ai, a) in facts.assignments.iter().enumerate() {
        let Some(&mi) = ms_index.get(a.membership_id.as_str()) else {
            b.warnings.insert(Warning::UnknownReference {
                kind: FactKind::Assignment,
                id: a.id.clone(),
                missing: format!("membership {}", a.membership_id),
            });
            continue;
        };
        groups.clear();
        let mut mapped = false;
        for (table, key) in [
            (resources, Some(a.resource_id.as_str())),
            (floors, a.floor_id.as_deref()),
            (locations, Some(a.location_id.as_str())),
        ] {
            if let Some(g) = key.and_then(|k| table.get(k)) {
                mapped = true;
                groups.extend_from_slice(g);
            }
        }
        let src = Src::Assignment {
            assignment: ai as u32,
            membership: mi,
        };
        // A membership id with differing records: the people of all of them.
        let targets = match ms_repeats.get(a.membership_id.as_str()) {
            Some(all) => {
                repeat_targets.clear();
                for i in all {
                    repeat_targets.extend(ms_bad.get(i).into_iter().flatten());
                }
                repeat_targets.sort_unstable();
                repeat_targets.dedup();
                Some(repeat_targets.as_slice())
            }
            None => ms_bad.get(&mi).map(Vec::as_slice),
        };
        if let Some(targets) = targets {
            for &t in targets {
                let m = &facts.members[t as usize];
                let id = b.intern(IdKey::Member(&m.id), ProfileSrc::Fact(&m.profile));
                b.hold(id, &groups, src);
            }
            continue;
        }
        let Some((start, end, tz, targets)) = &ms_state[mi as usize] else {
            continue;
        };
        if !mapped {
            b.warnings.insert(Warning::UnmappedResource {
                resource_id: a.resource_id.clone(),
            });
            continue;
        }
        groups.sort_unstable();
        groups.dedup();
        for &t in targets {
            let m = &facts.members[t as usize];
            let id = b.intern(IdKey::Member(&m.id), ProfileSrc::Fact(&m.profile));
            b.push(
                id,
                &groups,
                (*start, *end),
                *tz,
                Src::Assignment {
                    assignment: ai as u32,
                    membership: mi,
                },
            );
        }
    }

    let mut people: Vec<&'f str> = Vec::new();
    for (bi, bk) in facts.bookings.iter().enumerate() {
        let booked = || {
            bk.booker_id
                .iter()
                .chain(&bk.member_ids)
                .flat_map(|p| quiet_targets(Target::Member(p.as_str())))
        };
        if bk.cancelled {
            if b.explaining() {
                b.exclude_members(
                    booked(),
                    || booking_ref(bk),
                    || "the booking is cancelled".to_owned(),
                );
            }
            continue;
        }
        let kind = FactKind::Booking;
        let Some(tz) = location(b, kind, &bk.id, &bk.location_id) else {
            continue;
        };
        if bk.end < bk.start {
            b.bad(kind, &bk.id, "ends before it starts");
            continue;
        }
        let Some(groups) = resources.get(&bk.resource_id) else {
            b.warnings.insert(Warning::UnmappedResource {
                resource_id: bk.resource_id.clone(),
            });
            if b.explaining() {
                b.exclude_members(
                    booked(),
                    || booking_ref(bk),
                    || format!("resource {} is mapped to no group", bk.resource_id),
                );
            }
            continue;
        };
        let window = (
            Some(minus(bk.start, policy.booking_lead_minutes)),
            Some(plus(bk.end, policy.booking_lag_minutes)),
        );
        people.clear();
        people.extend(bk.booker_id.as_deref());
        people.extend(bk.member_ids.iter().map(String::as_str));
        people.sort_unstable();
        people.dedup();
        for &p in &people {
            for t in resolve_targets(b, kind, &bk.id, Target::Member(p)) {
                let m = &facts.members[t as usize];
                let id = b.intern(IdKey::Member(&m.id), ProfileSrc::Fact(&m.profile));
                b.push(id, groups, window, tz, Src::Booking { booking: bi as u32 });
            }
        }
        if policy.visitors_admitted {
            for v in &bk.visitors {
                if blank(&v.id) {
                    b.bad(kind, &bk.id, "a visitor with an empty id");
                    continue;
                }
                let (first, last) = v.name.trim().split_once(' ').unwrap_or((v.name.trim(), ""));
                let profile = Profile {
                    first_name: first.to_owned(),
                    last_name: last.trim().to_owned(),
                    email: v.email.clone(),
                    phone: None,
                };
                b.derived_profiles.push(profile);
                let derived = ProfileSrc::Derived(b.derived_profiles.len() as u32 - 1);
                let id = b.intern(IdKey::Visitor(&v.id), derived);
                b.push(id, groups, window, tz, Src::Booking { booking: bi as u32 });
            }
        }
    }

    for (pi, p) in facts.day_passes.iter().enumerate() {
        let kind = FactKind::DayPass;
        let Some(tz) = location(b, kind, &p.id, &p.location_id) else {
            continue;
        };
        if p.valid_to < p.valid_from {
            b.bad(
                kind,
                &p.id,
                format!("valid_to {} before valid_from {}", p.valid_to, p.valid_from),
            );
            continue;
        }
        if p.used >= p.count {
            continue;
        }
        let Some(groups) = passes.get(&p.location_id) else {
            b.warnings.insert(Warning::UnmappedLocation {
                location_id: p.location_id.clone(),
            });
            continue;
        };
        let window = (
            b.at(tz, p.valid_from, At::DayStart),
            b.at(tz, p.valid_to, At::DayEnd),
        );
        if empty(window.0, window.1) {
            continue;
        }
        let target = match &p.holder {
            PassHolder::Member(m) => Target::Member(m),
            PassHolder::Company(c) => Target::Company(c),
        };
        for t in resolve_targets(b, kind, &p.id, target) {
            let m = &facts.members[t as usize];
            let id = b.intern(IdKey::Member(&m.id), ProfileSrc::Fact(&m.profile));
            b.push(id, groups, window, tz, Src::DayPass { set: pi as u32 });
        }
    }
}

fn directory<'f>(b: &mut Builder<'f>, dirs: &Table<'_>) {
    let facts = b.facts;
    let mut unmapped: FxSet<&str> = FxSet::default();
    for (ui, u) in facts.directory_users.iter().enumerate() {
        let did = u.directory_id.as_str();
        if blank(did) || blank(&u.user_id) {
            b.bad(
                FactKind::DirectoryUser,
                &format!("{did}/{}", u.user_id),
                "empty directory or user id",
            );
            continue;
        }
        if did.contains(':') {
            b.bad(
                FactKind::DirectoryUser,
                &format!("{did}/{}", u.user_id),
                "directory id contains ':' (not representable in an external id)",
            );
            continue;
        }
        let id = b.intern(
            IdKey::Directory(did, &u.user_id),
            ProfileSrc::Fact(&u.profile),
        );
        let ident = &mut b.identities[id as usize];
        // The same user listed twice: the most restrictive state wins.
        if ident.directory.is_none_or(|(s, _)| u.state > s) {
            ident.directory = Some((u.state, ui as u32));
        }
        if matches!(u.state, DirectoryState::Active | DirectoryState::Suspended) {
            match dirs.get(did) {
                Some(groups) => b.push(
                    id,
                    groups,
                    (None, None),
                    Tz::UTC,
                    Src::Directory { user: ui as u32 },
                ),
                None => {
                    if unmapped.insert(did) {
                        b.warnings.insert(Warning::UnmappedDirectory {
                            directory_id: did.to_owned(),
                        });
                    }
                    b.exclude(
                        IdKey::Directory(did, &u.user_id),
                        &u.profile,
                        || FactRef {
                            kind: FactKind::DirectoryUser,
                            id: format!("{did}/{}", u.user_id),
                            note: u.state.to_string(),
                        },
                        || format!("directory {did} is mapped to no group"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::merge_sorted;

    #[test]
    fn merging_two_sorted_halves_sorts_the_whole() {
        // A deterministic scramble with repeats, split unevenly.
        let all: Vec<(u32, u32)> = (0..1000u32).map(|i| ((i * 7919) % 97, i)).collect();
        for cut in [0, 1, 333, 999, 1000] {
            let (mut a, mut b) = (all[..cut].to_vec(), all[cut..].to_vec());
            a.sort_unstable();
            b.sort_unstable();
            let mut want = all.clone();
            want.sort_unstable();
            assert_eq!(merge_sorted(a, b), want, "cut at {cut}");
        }
    }
}

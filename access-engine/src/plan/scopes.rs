//! The plan's per-scope report: every property, location and directory the
//! batch or the mappings name, with its zone and where the zone came from,
//! how many people have current or upcoming access through it, and why it
//! is incomplete, if it is. Operators read it to see inferred zones; a
//! runner keeps the counts of people the facts name, to notice a scope
//! whose records vanish between runs (people who move out stay named by
//! their ended leases, so an ordinary move-out is not a vanishing).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::desired::{Desired, Grant, Src};
use crate::directory::DirectoryState;
use crate::facts::{Facts, Scope, ZoneSource};
use crate::hash::FxMap;
use crate::identity::IdKey;
use crate::mapping::Mappings;

/// One scope as the plan saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ScopeReport {
    /// The property, location or directory.
    pub scope: Scope,
    /// Its IANA zone (properties and locations), as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// Where the zone came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_source: Option<ZoneSource>,
    /// People this scope's facts name (whatever their window; records that
    /// could not be read included): what the next run expects to see again.
    pub people: usize,
    /// Of those, people with current or upcoming access.
    pub with_access: usize,
    /// People the scope's facts named at the last run, from the baseline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<usize>,
    /// Why the scope is incomplete (its revocations are held), if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
}

impl std::fmt::Display for ScopeReport {
    /// `property 100 America/New_York (configured): 14 named, 12 with access`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.scope)?;
        if let Some(zone) = &self.zone {
            write!(f, " {zone}")?;
            if let Some(source) = &self.zone_source {
                write!(f, " ({source})")?;
            }
        }
        write!(
            f,
            ": {} named, {} with access",
            self.people, self.with_access
        )?;
        if let Some(previous) = self.previous {
            write!(f, " (last run {previous})")?;
        }
        if let Some(why) = &self.incomplete {
            write!(f, "; INCOMPLETE, revocations held: {why}")?;
        }
        Ok(())
    }
}

/// People per scope, in [`ScopeIndex`] order.
pub(super) struct Counts {
    /// Named by the scope's facts (any window, bad records included).
    pub(super) named: Vec<u32>,
    /// Of those, with current or upcoming access.
    pub(super) with_access: Vec<u32>,
}

/// Scope kinds, as indexes into [`ScopeIndex`]'s tables.
const PROPERTY: usize = 0;
const LOCATION: usize = 1;
const DIRECTORY: usize = 2;

/// Every scope of the batch and the mappings, numbered, so that counting
/// people is an array increment.
pub(super) struct ScopeIndex<'f> {
    ids: [FxMap<&'f str, u32>; 3],
    scopes: Vec<Scope>,
}

impl<'f> ScopeIndex<'f> {
    pub(super) fn new(facts: &'f Facts, mappings: &'f Mappings) -> Self {
        let mut ix = ScopeIndex {
            ids: Default::default(),
            scopes: Vec::new(),
        };
        let mut add = |kind: usize, id: &'f str, scope: fn(String) -> Scope| {
            let next = ix.scopes.len() as u32;
            if let std::collections::hash_map::Entry::Vacant(e) = ix.ids[kind].entry(id) {
                e.insert(next);
                ix.scopes.push(scope(id.to_owned()));
            }
        };
        for p in &facts.properties {
            add(PROPERTY, &p.id, Scope::Property);
        }
        for id in mappings.properties.keys() {
            add(PROPERTY, id, Scope::Property);
        }
        for l in &facts.locations {
            add(LOCATION, &l.id, Scope::Location);
        }
        for id in mappings
            .locations
            .keys()
            .chain(mappings.day_pass_locations.keys())
        {
            add(LOCATION, id, Scope::Location);
        }
        for u in &facts.directory_users {
            add(DIRECTORY, &u.directory_id, Scope::Directory);
        }
        for id in mappings.directories.keys() {
            add(DIRECTORY, id, Scope::Directory);
        }
        ix
    }

    /// The scopes, in index order.
    pub(super) fn scopes(&self) -> &[Scope] {
        &self.scopes
    }

    /// People per scope: named by its facts (`named`), and of those, with
    /// current or upcoming access (`with_access`). One pass over the
    /// identities' grants, made before the diff so that a scope whose facts
    /// vanished is held before anything is revoked.
    pub(super) fn count_all(&self, facts: &Facts, d: &Desired<'_>, now: DateTime<Utc>) -> Counts {
        let mut c = Counts {
            named: vec![0; self.scopes.len()],
            with_access: vec![0; self.scopes.len()],
        };
        let mut last = None;
        for (i, ident) in d.identities.iter().enumerate() {
            let live = |g: &&Grant| g.end.is_none_or(|e| e > now);
            let grants = d.grants_of(i);
            match ident.key {
                IdKey::Directory(dir, _) => {
                    if let Some(at) = self.index(DIRECTORY, dir) {
                        let gone = matches!(
                            ident.directory,
                            Some((DirectoryState::Disabled | DirectoryState::Deleted, _))
                        );
                        c.named[at as usize] += 1;
                        if !gone && grants.iter().any(|g| live(&g)) {
                            c.with_access[at as usize] += 1;
                        }
                    }
                }
                // A resident is named in each property whose facts name
                // them (a transfer: both), records that could not be read
                // included; a resident who is also a member (policy
                // same_person), in the member's locations too.
                IdKey::Entrata(_) => {
                    for p in d.homes_of(i) {
                        if let Some(at) = self.index(PROPERTY, p) {
                            c.named[at as usize] += 1;
                        }
                    }
                    let coworking = grants
                        .iter()
                        .map(|g| g.src)
                        .filter(|s| !matches!(s, Src::Lease { .. }));
                    self.count_in(facts, coworking, &mut last, &mut c.named);
                    if grants.iter().any(|g| live(&g)) {
                        let srcs = grants.iter().filter(live).map(|g| g.src);
                        self.count_in(facts, srcs, &mut last, &mut c.with_access);
                    }
                }
                // A member is counted once in each location they have
                // access through.
                IdKey::Member(_) | IdKey::Visitor(_) => {
                    let srcs = grants.iter().map(|g| g.src);
                    self.count_in(facts, srcs, &mut last, &mut c.named);
                    if grants.iter().any(|g| live(&g)) {
                        let srcs = grants.iter().filter(live).map(|g| g.src);
                        self.count_in(facts, srcs, &mut last, &mut c.with_access);
                    }
                }
            }
        }
        c
    }

    fn index(&self, kind: usize, id: &str) -> Option<u32> {
        self.ids[kind].get(id).copied()
    }

    /// Counts one person once in the scope of each of `srcs` (distinct
    /// scopes). `last` caches the previous lookup: consecutive identities
    /// mostly share a property or a location.
    fn count_in<'a>(
        &self,
        facts: &'a Facts,
        srcs: impl Iterator<Item = Src>,
        last: &mut Option<(usize, &'a str, u32)>,
        counts: &mut [u32],
    ) {
        let mut seen: [u32; 4] = [u32::MAX; 4];
        let mut n = 0;
        for src in srcs {
            let (kind, id) = match src {
                Src::Lease { lease, .. } => (PROPERTY, &facts.leases[lease as usize].property_id),
                Src::Membership { membership } => (
                    LOCATION,
                    &facts.memberships[membership as usize].location_id,
                ),
                Src::Assignment { assignment, .. } => (
                    LOCATION,
                    &facts.assignments[assignment as usize].location_id,
                ),
                Src::Booking { booking } => {
                    (LOCATION, &facts.bookings[booking as usize].location_id)
                }
                Src::DayPass { set } => (LOCATION, &facts.day_passes[set as usize].location_id),
                Src::Directory { .. } => continue,
            };
            let at = match *last {
                Some((k, q, at)) if k == kind && q == id.as_str() => at,
                _ => match self.index(kind, id) {
                    Some(at) => {
                        *last = Some((kind, id.as_str(), at));
                        at
                    }
                    None => continue,
                },
            };
            if seen[..n.min(4)].contains(&at) {
                continue;
            }
            if n < 4 {
                seen[n] = at;
            }
            n += 1;
            counts[at as usize] += 1;
        }
    }

    /// The report, sorted by scope.
    pub(super) fn report(
        self,
        facts: &Facts,
        d: &Desired<'_>,
        counts: &Counts,
    ) -> Vec<ScopeReport> {
        // A scope given several times shows the least of its (zone, source)
        // pairs, whatever the records' order (a zone given twice
        // differently is a warning of its own, and holds the scope).
        let mut zones: BTreeMap<Scope, (&str, &ZoneSource)> = BTreeMap::new();
        let props = facts.properties.iter().map(|p| {
            (
                Scope::Property(p.id.clone()),
                (p.zone.as_str(), &p.zone_source),
            )
        });
        let locs = facts.locations.iter().map(|l| {
            (
                Scope::Location(l.id.clone()),
                (l.zone.as_str(), &l.zone_source),
            )
        });
        for (scope, z) in props.chain(locs) {
            zones
                .entry(scope)
                .and_modify(|least| *least = (*least).min(z))
                .or_insert(z);
        }
        let mut out: Vec<ScopeReport> = self
            .scopes
            .iter()
            .enumerate()
            .map(|(at, scope)| {
                let zone = zones.get(scope);
                let incomplete = facts
                    .completeness
                    .reason(scope)
                    .map(str::to_owned)
                    .or_else(|| d.unexpected.get(scope).map(|why| format!("{scope} {why}")))
                    .or_else(|| {
                        d.incomplete
                            .contains(scope)
                            .then(|| "see the warnings".to_owned())
                    })
                    .or_else(|| {
                        facts
                            .completeness
                            .incomplete
                            .keys()
                            .find_map(|s| match (s, scope) {
                                (Scope::Source(src), _) if scope_source(scope) == Some(*src) => {
                                    facts.completeness.reason(s).map(|r| format!("{s}: {r}"))
                                }
                                _ => None,
                            })
                    });
                ScopeReport {
                    scope: scope.clone(),
                    zone: zone.map(|z| z.0.to_owned()),
                    zone_source: zone.map(|z| z.1.clone()),
                    people: counts.named[at] as usize,
                    with_access: counts.with_access[at] as usize,
                    previous: facts.baseline.people.get(scope).copied(),
                    incomplete,
                }
            })
            .collect();
        out.sort_by(|a, b| a.scope.cmp(&b.scope));
        out
    }
}

fn scope_source(scope: &Scope) -> Option<crate::facts::Source> {
    use crate::facts::Source;
    match scope {
        Scope::Property(_) => Some(Source::Entrata),
        Scope::Location(_) => Some(Source::OfficeRnd),
        Scope::Directory(_) => Some(Source::Directory),
        _ => None,
    }
}

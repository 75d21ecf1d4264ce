//! The plan's per-scope report: every property, location and directory the
//! batch or the mappings name, with its zone and where the zone came from,
//! how many people have current or upcoming access through it, and why it
//! is incomplete, if it is. Operators read it to see inferred zones; a
//! runner keeps the counts to notice a scope that empties between runs.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::desired::{Desired, Src};
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
    /// People with current or upcoming access granted by this scope's facts.
    pub people: usize,
    /// People with access at the last run, from the baseline, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<usize>,
    /// Why the scope is incomplete (its revocations are held), if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incomplete: Option<String>,
}

impl std::fmt::Display for ScopeReport {
    /// `property 100 America/New_York (configured): 12 with access`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.scope)?;
        if let Some(zone) = &self.zone {
            write!(f, " {zone}")?;
            if let Some(source) = &self.zone_source {
                write!(f, " ({source})")?;
            }
        }
        write!(f, ": {} with access", self.people)?;
        if let Some(previous) = self.previous {
            write!(f, " (last run {previous})")?;
        }
        if let Some(why) = &self.incomplete {
            write!(f, "; INCOMPLETE, revocations held: {why}")?;
        }
        Ok(())
    }
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

    /// People with current or upcoming access, per scope: one pass over
    /// the identities' grants, made before the diff so that a scope that
    /// emptied is held before anything is revoked.
    pub(super) fn count_all(&self, facts: &Facts, d: &Desired<'_>, now: DateTime<Utc>) -> Vec<u32> {
        let mut counts = vec![0u32; self.scopes.len()];
        let mut last = None;
        for (i, ident) in d.identities.iter().enumerate() {
            if matches!(
                ident.directory,
                Some((DirectoryState::Disabled | DirectoryState::Deleted, _))
            ) {
                continue;
            }
            if !d.grants_of(i).iter().any(|g| g.end.is_none_or(|e| e > now)) {
                continue;
            }
            self.count(facts, d, i, now, &mut counts, &mut last);
        }
        counts
    }

    fn index(&self, kind: usize, id: &str) -> Option<u32> {
        self.ids[kind].get(id).copied()
    }

    /// Counts identity `i` once in each scope whose facts give it current
    /// or upcoming access. `last` caches the previous property lookup:
    /// consecutive lease identities mostly share one.
    fn count<'d>(
        &self,
        facts: &Facts,
        d: &Desired<'d>,
        i: usize,
        now: DateTime<Utc>,
        counts: &mut [u32],
        last: &mut Option<(&'d str, u32)>,
    ) {
        match d.identities[i].key {
            IdKey::Entrata(p, _) => {
                let at = match *last {
                    Some((q, at)) if q == p => Some(at),
                    _ => self.index(PROPERTY, p),
                };
                if let Some(at) = at {
                    *last = Some((p, at));
                    counts[at as usize] += 1;
                }
            }
            IdKey::Directory(dir, _) => {
                if let Some(at) = self.index(DIRECTORY, dir) {
                    counts[at as usize] += 1;
                }
            }
            IdKey::Member(_) | IdKey::Visitor(_) => {
                // A member's access may come from several locations.
                let mut seen: [u32; 4] = [u32::MAX; 4];
                let mut n = 0;
                for g in d.grants_of(i) {
                    if g.end.is_some_and(|e| e <= now) {
                        continue;
                    }
                    let loc = match g.src {
                        Src::Membership { membership } => {
                            &facts.memberships[membership as usize].location_id
                        }
                        Src::Assignment { assignment, .. } => {
                            &facts.assignments[assignment as usize].location_id
                        }
                        Src::Booking { booking } => &facts.bookings[booking as usize].location_id,
                        Src::DayPass { set } => &facts.day_passes[set as usize].location_id,
                        Src::Lease { .. } | Src::Directory { .. } => continue,
                    };
                    let Some(at) = self.index(LOCATION, loc) else {
                        continue;
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
        }
    }

    /// The report, sorted by scope.
    pub(super) fn report(self, facts: &Facts, d: &Desired<'_>, counts: &[u32]) -> Vec<ScopeReport> {
        // The first record of a scope names its zone (a zone given twice
        // differently is a warning of its own).
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
            zones.entry(scope).or_insert(z);
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
                    people: counts[at] as usize,
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

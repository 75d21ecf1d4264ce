//! Stage 1b: scope expectations. Absence is not a move-out: every mapped
//! property, location and directory is expected in the batch. One that is
//! absent, whose facts name no one where the last run's named people, or
//! that lost more than the policy's share of the people its facts name in
//! one run is held (its revocations wait) until the source recovers or an
//! operator approves it
//! for one run. Scopes already incomplete (a failed fetch) are held anyway.

use super::scopes::{Counts, ScopeIndex};
use crate::desired::Desired;
use crate::facts::{Facts, Scope};
use crate::mapping::Mappings;
use crate::policy::Policy;

/// Marks every scope that changed more than expected (see the module docs).
pub(super) fn check_scopes(
    facts: &Facts,
    mappings: &Mappings,
    policy: &Policy,
    d: &mut Desired<'_>,
    index: &ScopeIndex<'_>,
    counts: &Counts,
) {
    let limits = policy.revocation_threshold;
    let mut marks: Vec<(Scope, String)> = Vec::new();
    for (at, scope) in index.scopes().iter().enumerate() {
        if d.incomplete.contains(scope) {
            continue;
        }
        if facts
            .baseline
            .approved
            .contains(&format!("scope:{}", scope.key()))
        {
            continue;
        }
        let now = counts.named[at] as usize;
        let detail = match scope {
            Scope::Property(id)
                if mappings.properties.contains_key(id)
                    && !facts.properties.iter().any(|p| p.id == *id) =>
            {
                Some("is mapped but absent from the batch".to_owned())
            }
            Scope::Location(id)
                if (mappings.locations.contains_key(id)
                    || mappings.day_pass_locations.contains_key(id))
                    && !facts.locations.iter().any(|l| l.id == *id) =>
            {
                Some("is mapped but absent from the batch".to_owned())
            }
            _ => match facts.baseline.people.get(scope) {
                Some(&before) if before > 0 && now == 0 => Some(format!(
                    "names no one any more; the last run's facts named {before}"
                )),
                Some(&before) if before > now => {
                    let drop = before - now;
                    let share = drop as f64 / before as f64;
                    (drop >= limits.scope_drop_floor
                        && limits.max_scope_drop.is_some_and(|max| share > max))
                    .then(|| {
                        format!(
                            "dropped from {before} to {now} people named in one run ({:.0} %)",
                            share * 100.0
                        )
                    })
                }
                _ => None,
            },
        };
        if let Some(detail) = detail {
            marks.push((scope.clone(), detail));
        }
    }
    for (scope, detail) in marks {
        d.mark_unexpected(mappings, scope, detail);
    }
}

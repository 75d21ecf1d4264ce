//! Stage 3: safety holds over the whole plan. (Per-user holds, for an
//! incomplete scope or a bad record, are made in stage 2 where each
//! revocation is found.) Beyond the revocation threshold, in count or in
//! share of the observed managed memberships, every revocation is held.

use std::collections::BTreeSet;

use super::diff::Out;
use super::{Action, Held, HeldItem, HoldRule, UserRef};
use crate::policy::Policy;

/// Holds every revocation in `out` when there are more than the policy's
/// threshold allows, unless the operator approved exactly this many for
/// this run.
pub(super) fn hold_mass_revocation(out: &mut Out, policy: &Policy, approved: &BTreeSet<String>) {
    let revocations: usize = out.changes.iter().map(|c| c.3.len()).sum::<usize>()
        + out.suspends.len()
        + out.deletes.len()
        + out.windows.iter().filter(|w| w.2.counted).count();
    let limits = policy.revocation_threshold;
    let exceeded = limits.max_count.is_some_and(|m| revocations > m)
        || (revocations >= limits.share_floor
            && limits
                .max_share
                .is_some_and(|s| revocations as f64 > s * out.observed_memberships as f64));
    let rule = HoldRule::MassRevocation {
        revocations,
        observed_memberships: out.observed_memberships,
    };
    let approval_given = rule.approval().is_some_and(|id| approved.contains(&id));
    if exceeded && !approval_given && revocations > 0 {
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
        // windows that close a door: Brivo would enforce them even with
        // every group removal held
        for (_, action, _) in out.windows.extract_if(.., |w| w.2.door) {
            if let Action::SetCredentialWindow { user, reasons, .. } = action {
                out.held.push(Held {
                    user,
                    item: HeldItem::CredentialWindow,
                    rule: rule.clone(),
                    reasons,
                });
            }
        }
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
}

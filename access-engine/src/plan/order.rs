//! Stage 4: the plan's fixed order. Kinds come in the order of
//! [`Action`]'s variants; inside a kind, existing users by Brivo id, then
//! new users by rank (a fixed order of their keys), so the plan is the same
//! byte for byte whatever the order of the input or the split over threads.

use super::diff::{ChangeKey, Out};
use super::{Action, Held};
use crate::desired::Desired;

/// The actions of `out` in plan order, and the held items sorted.
pub(super) fn order(mut out: Out, d: &Desired<'_>) -> (Vec<Action>, Vec<Held>) {
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

    (actions, out.held)
}

/// Sorts by a small key (ties in input order), moving each element once:
/// sorting large actions in place moves each about log n times, which was a
/// sixth of a plan from an empty Brivo at a million occupants.
pub(super) fn sort_by_small_key<T, K: Ord>(v: &mut Vec<T>, key: impl Fn(&T) -> K) {
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

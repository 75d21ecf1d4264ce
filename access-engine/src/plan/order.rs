//! Stage 4: the plan's fixed order. Kinds come in the order of
//! [`Action`]'s variants; inside a kind, existing users by Brivo id, then
//! new users by their order key (version [`ORDER_HASH_VERSION`]: FNV-1a 64
//! of the identity's canonical encoding, then the encoding itself), so the
//! plan is the same byte for byte whatever the order of the input, the
//! split over threads, or the compiler.

use super::diff::{ChangeKey, Out};
use super::{Action, Held, ORDER_HASH_VERSION};
use crate::desired::Desired;
use crate::hash::fnv1a64;
use crate::identity::IdKey;

/// The order key of an identity, version [`ORDER_HASH_VERSION`] (2):
/// FNV-1a 64 of its canonical encoding ([`IdKey::canonical`]).
pub(crate) fn order_hash(key: &IdKey<'_>, buf: &mut Vec<u8>) -> u64 {
    const _: () = assert!(ORDER_HASH_VERSION == 2, "order_hash implements version 2");
    buf.clear();
    key.canonical(buf);
    fnv1a64(buf)
}

/// The place of each new user (identity) in the plan: by order hash, then
/// by canonical encoding where two hashes are equal. Only new users are
/// ranked: a plan in step with Brivo has none, so costs nothing here.
struct NewUserRanks {
    /// By identity; `u32::MAX` for identities that are not new users.
    rank: Vec<u32>,
}

impl NewUserRanks {
    fn new(d: &Desired<'_>, new_users: impl Iterator<Item = usize>) -> Self {
        let mut buf = Vec::with_capacity(64);
        let mut keyed: Vec<(u64, u32)> = new_users
            .map(|i| (order_hash(&d.identities[i].key, &mut buf), i as u32))
            .collect();
        if keyed.is_empty() {
            return NewUserRanks { rank: Vec::new() };
        }
        keyed.sort_unstable();
        keyed.dedup();
        // Distinct identities sharing a hash (about 2^-64 per pair): by
        // their encodings, so that nothing depends on identity numbering.
        let mut start = 0;
        while start < keyed.len() {
            let mut end = start + 1;
            while end < keyed.len() && keyed[end].0 == keyed[start].0 {
                end += 1;
            }
            if end - start > 1 {
                keyed[start..end].sort_by_cached_key(|&(_, i)| {
                    let mut bytes = Vec::new();
                    d.identities[i as usize].key.canonical(&mut bytes);
                    bytes
                });
            }
            start = end;
        }
        let mut rank = vec![u32::MAX; d.identities.len()];
        for (pos, (_, i)) in keyed.iter().enumerate() {
            rank[*i as usize] = pos as u32;
        }
        NewUserRanks { rank }
    }

    fn of(&self, identity: usize) -> u32 {
        self.rank.get(identity).copied().unwrap_or(u32::MAX)
    }
}

/// The actions of `out` in plan order, and the held items sorted.
pub(super) fn order(mut out: Out, d: &Desired<'_>) -> (Vec<Action>, Vec<Held>) {
    let new_in_changes = out.changes.iter().filter_map(|c| match c.0 {
        ChangeKey::New(i) => Some(i),
        ChangeKey::Existing(_) => None,
    });
    let ranks = NewUserRanks::new(d, out.creates.iter().map(|(i, _)| *i).chain(new_in_changes));
    sort_by_small_key(&mut out.creates, |(i, _)| ranks.of(*i));
    for v in [
        &mut out.adopts,
        &mut out.rekeys,
        &mut out.updates,
        &mut out.unsuspends,
        &mut out.suspends,
        &mut out.deletes,
    ] {
        sort_by_small_key(v, |(id, _)| *id);
    }
    // Existing users by Brivo id, then new users in rank order.
    let key = |k: &ChangeKey| match *k {
        ChangeKey::Existing(id) => (0u8, id.0),
        ChangeKey::New(i) => (1u8, i64::from(ranks.of(i))),
    };
    sort_by_small_key(&mut out.changes, |c| key(&c.0));
    sort_by_small_key(&mut out.invites, |(k, _)| key(k));
    sort_by_small_key(&mut out.cards, |(k, _)| key(k));
    sort_by_small_key(&mut out.windows, |(k, ..)| key(k));
    out.held.sort_unstable();

    let mut actions = Vec::with_capacity(
        out.creates.len()
            + out.adopts.len()
            + out.rekeys.len()
            + out.updates.len()
            + out.unsuspends.len()
            + out.changes.len()
            + out.invites.len()
            + out.cards.len()
            + out.windows.len()
            + out.suspends.len()
            + out.deletes.len(),
    );
    actions.extend(out.creates.into_iter().map(|(_, a)| a));
    actions.extend(out.adopts.into_iter().map(|(_, a)| a));
    actions.extend(out.rekeys.into_iter().map(|(_, a)| a));
    actions.extend(out.updates.into_iter().map(|(_, a)| a));
    actions.extend(out.unsuspends.into_iter().map(|(_, a)| a));
    actions.extend(
        out.changes
            .into_iter()
            .map(|(_, user, add, remove)| Action::ChangeGroups { user, add, remove }),
    );
    // after the groups: an invitation is redeemed into access that exists
    actions.extend(out.invites.into_iter().map(|(_, a)| a));
    // a card before the windows, so that it gets its window in the same run
    actions.extend(out.cards.into_iter().map(|(_, a)| a));
    actions.extend(out.windows.into_iter().map(|(_, a, _)| a));
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Version 2's encoding and hash, pinned (the values were computed
    /// outside Rust from the documented encoding).
    #[test]
    fn order_hash_v2_is_pinned() {
        let mut buf = Vec::new();
        let cases = [
            (
                IdKey::Entrata("77"),
                "05020000003737",
                0x56c8_f3c6_f9db_5fa8_u64,
            ),
            (IdKey::Member("m1"), "02020000006d31", 0xbbd3_bc8f_3677_91ed),
            (
                IdKey::Visitor("v1"),
                "030200000076 31",
                0x84d5_2239_2d70_1db9,
            ),
            (
                IdKey::Directory("hq", "u1"),
                "0402000000687102000000 7531",
                0x0082_0572_d128_6c5e,
            ),
        ];
        for (key, encoding, hash) in cases {
            let encoding = encoding.replace(' ', "");
            buf.clear();
            key.canonical(&mut buf);
            assert_eq!(hex::encode(&buf), encoding, "{key:?}");
            assert_eq!(order_hash(&key, &mut buf), hash, "{key:?}");
        }
        // Lengths keep ids apart that concatenate alike.
        let (mut a, mut b) = (Vec::new(), Vec::new());
        IdKey::Directory("1", "00").canonical(&mut a);
        IdKey::Directory("10", "0").canonical(&mut b);
        assert_ne!(a, b);
    }
}

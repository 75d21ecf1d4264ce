//! Stage 0: Brivo's users, summarised in one sequential pass: each user's
//! live managed groups, a hash of the profile fields the plan compares, and
//! its owned key (packed, to confirm matches without chasing strings); the
//! owned keys sorted by fingerprint for the merge join; the unowned users;
//! the owned users whose external id is no identity's (orphans).

use std::collections::BTreeMap;
use std::hash::Hasher;

use crate::facts::Profile;
use crate::hash::{FxHasher, FxMap, fingerprint};
use crate::identity::{IdKey, Owner};
use crate::mapping::GroupId;
use crate::observed::{BrivoUserId, Observed};

/// A 64-bit digest of the fields the diff compares (emails
/// case-insensitively), so the hot loop compares one word per user and only
/// reads the observed user's strings when they differ. Equal profiles always
/// hash equal; unequal ones collide with probability about 2^-64.
pub(super) fn profile_hash<'a>(
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

pub(super) fn fact_profile_hash(p: &Profile) -> u64 {
    profile_hash(
        &p.first_name,
        &p.last_name,
        p.email.as_deref().into_iter(),
        p.phone.as_deref().into_iter(),
    )
}

/// What the plan needs of an observed user, gathered in one sequential pass.
pub(super) struct ObsInfo {
    pub(super) id: BrivoUserId,
    pub(super) profile_hash: u64,
    pub(super) suspended: bool,
    /// This integration made the suspension (see
    /// [`ObservedUser::suspended_by_integration`](crate::ObservedUser::suspended_by_integration)).
    pub(super) suspended_by_integration: bool,
    /// This integration invited it to Mobile Pass.
    pub(super) mobile_pass_invited: bool,
    /// This integration gave it a card from the pool.
    pub(super) card_assigned: bool,
    /// Known to hold no credential.
    pub(super) no_credential: bool,
    /// Its external id has an earlier version's form ([`Owner::Earlier`]),
    /// or another record's that is the same person: it is given the
    /// identity's own.
    pub(super) earlier_form: bool,
    /// It carries the key of a record merged into another identity
    /// (policy `same_person`).
    pub(super) merged: bool,
    /// Its live managed groups, sorted and distinct: the first `len` of
    /// `inline` when `len <= INLINE_GROUPS` (the common case, read with the
    /// rest of the summary), else `flat[start..start + len]`.
    inline: [GroupId; INLINE_GROUPS],
    start: u32,
    len: u32,
    /// Its owned key's bytes, to confirm a fingerprint match without
    /// chasing the user's strings.
    pub(super) key: PackedKey,
}

const INLINE_GROUPS: usize = 2;

/// An owned key packed into the user's summary: its kind and its one or two
/// ids, when they fit. Comparing it with an identity's key reads the
/// identity's strings (in fact order) and this summary (read anyway), where
/// comparing the observed strings would be two more cache misses per user.
#[derive(Clone, Copy)]
pub(super) struct PackedKey {
    kind: u8,
    /// Length of the first id; the second follows it.
    split: u8,
    /// Total length, or [`PackedKey::TOO_LONG`].
    len: u8,
    bytes: [u8; PackedKey::CAP],
}

impl PackedKey {
    pub(super) const CAP: usize = 29;
    const TOO_LONG: u8 = u8::MAX;
    pub(super) const NONE: PackedKey = PackedKey {
        kind: 0,
        split: 0,
        len: PackedKey::TOO_LONG,
        bytes: [0; PackedKey::CAP],
    };

    fn parts<'k>(key: &IdKey<'k>) -> (u8, &'k str, &'k str) {
        match *key {
            IdKey::Directory(a, b) => (1, a, b),
            IdKey::Entrata(a) => (2, a, ""),
            IdKey::Member(a) => (3, a, ""),
            IdKey::Visitor(a) => (4, a, ""),
        }
    }

    pub(super) fn new(key: &IdKey<'_>) -> PackedKey {
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
    pub(super) fn matches(&self, key: &IdKey<'_>) -> Option<bool> {
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

/// What the plan needs of Brivo's users, gathered in one sequential pass.
pub(super) struct Summary<'o> {
    pub(super) infos: Vec<ObsInfo>,
    /// Live groups of users with more than [`INLINE_GROUPS`].
    pub(super) flat: Vec<GroupId>,
    /// (key fingerprint, user) of owned users, sorted.
    pub(super) owned_keys: Vec<(u128, u32)>,
    pub(super) unowned: Vec<u32>,
    /// Owned users whose external id is not an identity's.
    pub(super) orphans: Vec<(u32, Option<IdKey<'o>>)>,
    /// External ids held by more than one user.
    pub(super) dup: BTreeMap<&'o str, Vec<BrivoUserId>>,
}

pub(super) fn summarize<'o>(observed: &'o Observed, live: &[GroupId], prefix: &str) -> Summary<'o> {
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
            suspended_by_integration: u.suspended_by_integration,
            mobile_pass_invited: u.mobile_pass_invited,
            card_assigned: u.card_assigned,
            no_credential: u.holds_credential == Some(false),
            earlier_form: false,
            merged: false,
            inline,
            start: start as u32,
            len,
            key: PackedKey::NONE,
        });
        match IdKey::parse(u.external_id.as_deref(), prefix) {
            Owner::Unowned => unowned.push(ui),
            owner @ (Owner::Owned(key) | Owner::Earlier(key)) => {
                if let Some(info) = infos.last_mut() {
                    info.key = PackedKey::new(&key);
                    info.earlier_form = matches!(owner, Owner::Earlier(_));
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

impl Summary<'_> {
    /// The live managed groups of user `ui`, sorted and distinct, into `out`.
    pub(super) fn live_groups_of(&self, ui: u32, out: &mut Vec<GroupId>) {
        let info = &self.infos[ui as usize];
        out.clear();
        if info.len as usize <= INLINE_GROUPS {
            out.extend_from_slice(&info.inline[..info.len as usize]);
        } else {
            out.extend_from_slice(
                &self.flat[info.start as usize..(info.start + info.len) as usize],
            );
        }
    }
}

//! Stage 1: observed users matched to identities. Owned users are joined
//! to identities by key fingerprint (a merge join of two sorted lists, not
//! a million random probes); every match is then confirmed by the key
//! itself. With adopt-by-email, an unowned user may be adopted by the one
//! identity that wants its email. What is left are orphans (owned users no
//! fact names) and unowned users.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::diff::want;
use super::summary::{ObsInfo, PackedKey, Summary};
use crate::desired::Desired;
use crate::hash::{FxMap, map_with_capacity};
use crate::identity::IdKey;
use crate::mapping::GroupId;
use crate::observed::Observed;
use crate::policy::Policy;
use crate::warning::Warning;

/// No user (an index that is never a user's).
pub(super) const NONE: u32 = u32::MAX;

/// Who is who: the observed users against the identities.
pub(super) struct Matches<'o> {
    /// The summary of Brivo's users the matches index into.
    pub(super) summary: Summary<'o>,
    /// Identity → its user (`NONE`: none). Without adopt-by-email a match
    /// is confirmed while the identity is planned (see [`Matches::confirmed`]).
    pub(super) user_of: Vec<u32>,
    /// Whether every match in `user_of` is already confirmed.
    pub(super) confirmed_upfront: bool,
    /// Identity → the unowned user it adopts (`NONE`: none).
    pub(super) adopted: Vec<u32>,
    /// User → adopted (empty without adopt-by-email).
    pub(super) is_adopted: Vec<bool>,
    /// Owned users whose identity is in no fact, with their key if it parses.
    pub(super) orphans: Vec<(u32, Option<IdKey<'o>>)>,
    /// (user, identity): owned users of an identity that another user
    /// keeps (a resident who had one user per property): retired like
    /// orphans once the survivor holds what they held.
    pub(super) retired: Vec<(u32, u32)>,
    /// Users outside our namespace (and duplicates of an owned id).
    pub(super) unowned: Vec<u32>,
    /// Duplicate external ids.
    pub(super) warnings: Vec<Warning>,
}

/// User `ui`'s owned key, if it has one.
pub(super) fn key_of<'o>(observed: &'o Observed, prefix: &str, ui: u32) -> Option<IdKey<'o>> {
    IdKey::parse(observed.users[ui as usize].external_id.as_deref(), prefix).key()
}

impl Matches<'_> {
    /// Whether user `ui` really carries identity `i`'s key. A 128-bit
    /// fingerprint from a non-cryptographic hasher is not proof of identity:
    /// the key is compared against the copy packed in the user's summary,
    /// which the identity's planning reads anyway.
    pub(super) fn confirmed(
        &self,
        d: &Desired<'_>,
        observed: &Observed,
        prefix: &str,
        i: usize,
        ui: u32,
    ) -> bool {
        let key = &d.identities[i].key;
        match self.info(ui).key.matches(key) {
            Some(same) => same,
            None => key_of(observed, prefix, ui).as_ref() == Some(key),
        }
    }

    pub(super) fn info(&self, ui: u32) -> &ObsInfo {
        &self.summary.infos[ui as usize]
    }
}

/// Matches Brivo's users to the identities (see the module docs).
pub(super) fn match_users<'o>(
    d: &Desired<'_>,
    policy: &Policy,
    observed: &'o Observed,
    now: DateTime<Utc>,
    mut summary: Summary<'o>,
) -> Matches<'o> {
    let prefix = policy.ownership_prefix.as_str();
    let n = d.identities.len();
    let owned_keys = std::mem::take(&mut summary.owned_keys);
    let mut unowned = std::mem::take(&mut summary.unowned);
    let mut orphans = std::mem::take(&mut summary.orphans);
    let mut dup = std::mem::take(&mut summary.dup);
    let mut user_of: Vec<u32> = vec![NONE; n];
    let mut retired: Vec<(u32, u32)> = Vec::new();

    // Merge join of observed keys with identities, both sorted by key
    // fingerprint: sequential passes instead of a million random probes.
    // Every match is confirmed by comparing the keys themselves.
    let key_of = |ui: u32| key_of(observed, prefix, ui);
    let by_fp = d.by_fingerprint();
    let (mut j, mut k) = (0usize, 0usize);
    while k < owned_keys.len() {
        let fp = owned_keys[k].0;
        let mut e = k + 1;
        while e < owned_keys.len() && owned_keys[e].0 == fp {
            e += 1;
        }
        while j < by_fp.len() && by_fp[j].0 < fp {
            j += 1;
        }
        let mut je = j;
        while je < by_fp.len() && by_fp[je].0 == fp {
            je += 1;
        }
        let cands = &by_fp[j..je];
        if e - k == 1 && cands.len() <= 1 {
            // Confirmed by key below, in identity order.
            let ui = owned_keys[k].1;
            match cands.first() {
                Some(&(_, id)) => user_of[id as usize] = ui,
                None => orphans.push((ui, key_of(ui))),
            }
        } else {
            let mut groups: Vec<(IdKey<'_>, Vec<u32>)> = Vec::new();
            for &(_, ui) in &owned_keys[k..e] {
                let Some(key) = key_of(ui) else { continue };
                match groups.iter_mut().find(|(g, _)| *g == key) {
                    Some((_, v)) => v.push(ui),
                    None => groups.push((key, vec![ui])),
                }
            }
            for (key, mut uis) in groups {
                // One user keeps the identity: one already in the current
                // form, else the lowest Brivo id that is not suspended (the
                // oldest, which most likely holds the person's credential).
                uis.sort_unstable_by_key(|&ui| observed.users[ui as usize].id);
                let info = |ui: u32| &summary.infos[ui as usize];
                let keep = uis
                    .iter()
                    .copied()
                    .find(|&ui| !info(ui).earlier_form)
                    .or_else(|| uis.iter().copied().find(|&ui| !info(ui).suspended))
                    .unwrap_or(uis[0]);
                let ext = |ui: u32| {
                    observed.users[ui as usize]
                        .external_id
                        .as_deref()
                        .unwrap_or_default()
                };
                let identity = cands
                    .iter()
                    .find(|(_, id)| d.identities[*id as usize].key == key)
                    .map(|&(_, id)| id);
                let mut twins = vec![observed.users[keep as usize].id];
                for &ui in uis.iter().filter(|&&ui| ui != keep) {
                    if ext(ui) == ext(keep) {
                        // The same external id twice: the lowest Brivo id
                        // keeps it; the others are not ours to touch.
                        twins.push(observed.users[ui as usize].id);
                        unowned.push(ui);
                    } else {
                        // The same person under another form of the id:
                        // ours, and retired in favour of `keep`.
                        match identity {
                            Some(id) => retired.push((ui, id)),
                            None => orphans.push((ui, Some(key))),
                        }
                    }
                }
                if twins.len() > 1 {
                    dup.entry(ext(keep)).or_default().extend(twins);
                }
                match identity {
                    Some(id) => user_of[id as usize] = keep,
                    None => orphans.push((keep, Some(key))),
                }
            }
        }
        k = e;
    }
    let mut m = Matches {
        summary,
        user_of,
        confirmed_upfront: false,
        adopted: vec![NONE; n],
        is_adopted: Vec::new(),
        orphans,
        retired,
        unowned,
        warnings: Vec::new(),
    };
    for (ext, mut users) in dup {
        users.sort_unstable();
        m.warnings.push(Warning::DuplicateExternalId {
            external_id: ext.to_owned(),
            users,
        });
    }
    claim_merged(&mut m, d, observed, prefix);
    if policy.adopt_by_email {
        // Adoption needs the unmatched identities first, so with it the
        // confirmation is a pass of its own.
        for i in 0..n {
            let ui = m.user_of[i];
            if ui != NONE && !m.confirmed(d, observed, prefix, i, ui) {
                m.orphans.push((ui, self::key_of(observed, prefix, ui)));
                m.user_of[i] = NONE;
            }
        }
        m.confirmed_upfront = true;
        adopt_by_email(&mut m, d, policy, observed, now);
    }
    m
}

/// Users that carry the key of a record merged into another identity
/// (policy `same_person`) are that person's. One keeps the identity: a
/// user with the identity's own key, else the lowest Brivo id that is not
/// suspended (then given the identity's key); the others are retired once
/// it holds the person's groups.
fn claim_merged(m: &mut Matches<'_>, d: &Desired<'_>, observed: &Observed, prefix: &str) {
    let mut claimed: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    m.orphans
        .retain(|&(ui, key)| match key.and_then(|k| d.alias_of(&k)) {
            Some(i) => {
                claimed.entry(i).or_default().push(ui);
                false
            }
            None => true,
        });
    for (i, mut users) in claimed {
        let own = m.user_of[i as usize];
        let own_confirmed = own != NONE && m.confirmed(d, observed, prefix, i as usize, own);
        if own_confirmed {
            users.push(own);
        }
        users.sort_unstable_by_key(|&ui| observed.users[ui as usize].id);
        let keep = match own_confirmed && !m.info(own).earlier_form {
            true => own,
            false => users
                .iter()
                .copied()
                .find(|&ui| !m.info(ui).suspended)
                .unwrap_or(users[0]),
        };
        for &ui in users.iter().filter(|&&ui| ui != keep) {
            m.retired.push((ui, i));
        }
        if keep != own {
            let info = &mut m.summary.infos[keep as usize];
            info.earlier_form = true;
            info.merged = true;
            info.key = PackedKey::new(&d.identities[i as usize].key);
            m.user_of[i as usize] = keep;
        }
    }
}

/// Adopt-by-email: an unowned user whose email is unique among unowned
/// users and wanted by exactly one identity that needs a user.
fn adopt_by_email(
    m: &mut Matches<'_>,
    d: &Desired<'_>,
    policy: &Policy,
    observed: &Observed,
    now: DateTime<Utc>,
) {
    m.is_adopted = vec![false; observed.users.len()];
    let mut by_email: FxMap<String, Vec<u32>> = map_with_capacity(m.unowned.len());
    // Users that share a wanted email but may not be adopted: warned about
    // only when an identity wants their email.
    let mut refused: FxMap<String, Vec<(u32, String)>> = FxMap::default();
    for &ui in &m.unowned {
        let u = &observed.users[ui as usize];
        // Only a user no integration claims: an external id of any kind
        // (another integration's, or a duplicate of one of ours) is someone
        // else's record.
        let why_not = match (&u.external_id, &u.adoption_refused) {
            (Some(x), _) if !x.trim().is_empty() => Some(format!("it carries external id {x:?}")),
            (_, Some(reason)) => Some(reason.clone()),
            _ => None,
        };
        if let Some(reason) = why_not {
            for e in &u.emails {
                refused
                    .entry(e.to_ascii_lowercase())
                    .or_default()
                    .push((ui, reason.clone()));
            }
            continue;
        }
        for e in &u.emails {
            let list = by_email.entry(e.to_ascii_lowercase()).or_default();
            if list.last() != Some(&ui) {
                list.push(ui);
            }
        }
    }
    let mut claims: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    let mut scratch: Vec<GroupId> = Vec::with_capacity(16);
    for (i, &matched) in m.user_of.iter().enumerate() {
        if matched != NONE {
            continue;
        }
        let w = want(d, policy, i, now, &mut scratch);
        if scratch.is_empty() || w.suspended == Some(true) || w.delete {
            continue;
        }
        let Some(email) = &d.profile(i).email else {
            continue;
        };
        let email = email.to_ascii_lowercase();
        if let Some([ui]) = by_email.get(&email).map(Vec::as_slice) {
            claims.entry(*ui).or_default().push(i);
        }
        for (ui, reason) in refused.get(&email).into_iter().flatten() {
            m.warnings.push(Warning::AdoptionRefused {
                user: observed.users[*ui as usize].id,
                reason: reason.clone(),
            });
        }
    }
    for (ui, ids) in claims {
        if let [i] = ids.as_slice() {
            m.adopted[*i] = ui;
            m.is_adopted[ui as usize] = true;
        }
    }
}

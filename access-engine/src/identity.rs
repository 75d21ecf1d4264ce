//! Identities: the owned external ids that key Brivo users.
//!
//! `{prefix}:entrata:{customerId}`, `{prefix}:officernd:{memberId}`,
//! `{prefix}:officernd-visitor:{visitorId}`, `{prefix}:directory:{directoryId}:{userId}`.
//!
//! An Entrata resident is one identity across the properties of the one
//! Entrata account a sync reads (customer ids are the account's), so a
//! transfer or a renewal keeps its Brivo user. Versions before 0.2 keyed a
//! resident by property, `{prefix}:entrata:{propertyId}:{customerId}`: such
//! a user still parses as the resident's ([`Owner::Earlier`]) and the plan
//! gives it the current form.

use std::fmt::Write as _;

/// An identity, borrowing its ids from the facts or from an observed external id.
/// Variant order matches the order of the external ids' kind names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum IdKey<'a> {
    Directory(&'a str, &'a str),
    /// An Entrata customer (resident) id.
    Entrata(&'a str),
    Member(&'a str),
    Visitor(&'a str),
}

/// What an observed external id says about ownership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner<'a> {
    /// Not in our namespace (or none): never updated, suspended or deleted.
    Unowned,
    /// In our namespace but not a well-formed identity.
    OwnedUnparsed,
    /// One of our identities.
    Owned(IdKey<'a>),
    /// One of our identities under the form an earlier version gave its
    /// external id (an Entrata resident keyed by property): ours, to be
    /// given the current form.
    Earlier(IdKey<'a>),
}

impl<'a> Owner<'a> {
    /// The identity, in whichever form.
    pub(crate) fn key(self) -> Option<IdKey<'a>> {
        match self {
            Owner::Owned(k) | Owner::Earlier(k) => Some(k),
            Owner::Unowned | Owner::OwnedUnparsed => None,
        }
    }
}

impl<'a> IdKey<'a> {
    pub(crate) fn external_id(&self, prefix: &str) -> String {
        let mut s = String::with_capacity(prefix.len() + 32);
        s.push_str(prefix);
        // Writing to a String cannot fail.
        let _ = match self {
            IdKey::Directory(d, u) => write!(s, ":directory:{d}:{u}"),
            IdKey::Entrata(c) => write!(s, ":entrata:{c}"),
            IdKey::Member(m) => write!(s, ":officernd:{m}"),
            IdKey::Visitor(v) => write!(s, ":officernd-visitor:{v}"),
        };
        s
    }

    /// Appends the identity's canonical encoding, version 2 (see
    /// [`crate::ORDER_HASH_VERSION`]): one tag byte for the kind (`0x05`
    /// Entrata resident, `0x02` OfficeRnD member, `0x03` OfficeRnD
    /// visitor, `0x04` directory user; version 1's `0x01` was a resident
    /// keyed by property), then each id in order (Entrata: customer;
    /// directory: directory, user) as its UTF-8 length
    /// in 4 little-endian bytes followed by its UTF-8 bytes. Written by
    /// hand, not by a derived `Hash`, so that it never changes with the
    /// compiler or the enum's layout; the ownership prefix is not part of
    /// it.
    pub(crate) fn canonical(&self, out: &mut Vec<u8>) {
        let (tag, ids): (u8, [Option<&str>; 2]) = match *self {
            IdKey::Entrata(c) => (0x05, [Some(c), None]),
            IdKey::Member(m) => (0x02, [Some(m), None]),
            IdKey::Visitor(v) => (0x03, [Some(v), None]),
            IdKey::Directory(d, u) => (0x04, [Some(d), Some(u)]),
        };
        out.push(tag);
        for id in ids.into_iter().flatten() {
            // No source sends an id of 4 GiB; saturate rather than wrap.
            let len = u32::try_from(id.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(id.as_bytes());
        }
    }

    /// A resident's or member's key as the policy names it, without the
    /// prefix: `entrata:5009`, `officernd:64b0…`.
    pub(crate) fn parse_bare(id: &'a str) -> Option<IdKey<'a>> {
        if let Some(c) = id.strip_prefix("entrata:") {
            return (!c.is_empty() && !c.contains(':')).then_some(IdKey::Entrata(c));
        }
        let m = id.strip_prefix("officernd:")?;
        (!m.is_empty()).then_some(IdKey::Member(m))
    }

    pub(crate) fn parse(external_id: Option<&'a str>, prefix: &str) -> Owner<'a> {
        let Some(rest) = external_id
            .and_then(|e| e.strip_prefix(prefix))
            .and_then(|e| e.strip_prefix(':'))
        else {
            return Owner::Unowned;
        };
        let two = |s: &'a str| {
            s.split_once(':')
                .filter(|(a, b)| !a.is_empty() && !b.is_empty())
        };
        let key = if let Some(r) = rest.strip_prefix("entrata:") {
            if r.contains(':') {
                // the earlier form, by property: the customer id is the
                // account's, so the property adds nothing to who it is
                return two(r)
                    .filter(|(_, c)| !c.contains(':'))
                    .map_or(Owner::OwnedUnparsed, |(_, c)| {
                        Owner::Earlier(IdKey::Entrata(c))
                    });
            }
            (!r.is_empty()).then_some(IdKey::Entrata(r))
        } else if let Some(r) = rest.strip_prefix("officernd:") {
            (!r.is_empty()).then_some(IdKey::Member(r))
        } else if let Some(r) = rest.strip_prefix("officernd-visitor:") {
            (!r.is_empty()).then_some(IdKey::Visitor(r))
        } else if let Some(r) = rest.strip_prefix("directory:") {
            two(r).map(|(d, u)| IdKey::Directory(d, u))
        } else {
            None
        };
        key.map_or(Owner::OwnedUnparsed, Owner::Owned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn external_ids_round_trip() {
        for key in [
            IdKey::Entrata("77"),
            IdKey::Member("m1"),
            IdKey::Visitor("v:1"),
            IdKey::Directory("d", "u:2"),
        ] {
            let ext = key.external_id("sync");
            assert_eq!(IdKey::parse(Some(&ext), "sync"), Owner::Owned(key), "{ext}");
        }
    }

    #[test]
    fn a_resident_keyed_by_property_is_the_same_resident() {
        let earlier = IdKey::parse(Some("sync:entrata:100:77"), "sync");
        assert_eq!(earlier, Owner::Earlier(IdKey::Entrata("77")));
        assert_eq!(earlier.key(), Some(IdKey::Entrata("77")));
        assert_eq!(IdKey::Entrata("77").external_id("sync"), "sync:entrata:77");
    }

    #[test]
    fn foreign_and_malformed_ids() {
        assert_eq!(IdKey::parse(None, "sync"), Owner::Unowned);
        assert_eq!(
            IdKey::parse(Some("syncx:entrata:1:2"), "sync"),
            Owner::Unowned
        );
        assert_eq!(
            IdKey::parse(Some("other:entrata:1:2"), "sync"),
            Owner::Unowned
        );
        assert_eq!(
            IdKey::parse(Some("sync:entrata:"), "sync"),
            Owner::OwnedUnparsed
        );
        assert_eq!(
            IdKey::parse(Some("sync:entrata:1::"), "sync"),
            Owner::OwnedUnparsed
        );
        assert_eq!(
            IdKey::parse(Some("sync:what:1"), "sync"),
            Owner::OwnedUnparsed
        );
    }
}

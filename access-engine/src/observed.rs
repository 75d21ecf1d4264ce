//! The observed Brivo state: users (with their memberships in managed
//! groups) and the managed groups that exist.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::mapping::GroupId;

/// A Brivo user id.
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct BrivoUserId(pub i64);

impl fmt::Display for BrivoUserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "user {}", self.0)
    }
}

/// A Brivo user as read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedUser {
    /// Brivo id.
    pub id: BrivoUserId,
    /// `externalId`; owned users carry one in the policy's namespace.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Given name.
    pub first_name: String,
    /// Family name.
    pub last_name: String,
    /// Email addresses.
    #[serde(default)]
    pub emails: Vec<String>,
    /// Phone numbers.
    #[serde(default)]
    pub phones: Vec<String>,
    /// Whether the user is suspended.
    #[serde(default)]
    pub suspended: bool,
    /// The user's memberships in managed groups (others are ignored).
    #[serde(default)]
    pub groups: Vec<GroupId>,
}

/// A Brivo group that exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedGroup {
    /// Brivo id.
    pub id: GroupId,
    /// Name.
    pub name: String,
}

/// What Brivo holds now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Observed {
    /// Users (at least every owned user and every member of a managed group).
    pub users: Vec<ObservedUser>,
    /// The managed groups that exist (a mapped group missing here is reported
    /// and nothing is planned against it).
    pub groups: Vec<ObservedGroup>,
}

impl Observed {
    /// SHA-256 (hex) of a canonical form of this state, independent of the
    /// order of users, groups, memberships, emails and phones. A saved plan
    /// records it; see [`crate::Plan::check_observed`].
    ///
    /// ```
    /// use access_engine::{BrivoUserId, GroupId, Observed, ObservedUser};
    /// let u = |id, groups: Vec<i64>| ObservedUser {
    ///     id: BrivoUserId(id), groups: groups.into_iter().map(GroupId).collect(), ..Default::default()
    /// };
    /// let a = Observed { users: vec![u(1, vec![1, 2]), u(2, vec![])], groups: vec![] };
    /// let b = Observed { users: vec![u(2, vec![]), u(1, vec![2, 1])], groups: vec![] };
    /// assert_eq!(a.digest(), b.digest());
    /// ```
    pub fn digest(&self) -> String {
        // Each user is serialized into a reusable buffer that is fed to the
        // hasher in large blocks: one `update` per field would cost more than
        // the hashing itself at a million users.
        let mut h = Sha256::new();
        let mut users: Vec<&ObservedUser> = self.users.iter().collect();
        users.sort_unstable_by(|a, b| canonical_user_cmp(a, b));
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 16);
        buf.extend_from_slice(b"observed-v1\0");
        buf.extend_from_slice(&(users.len() as u64).to_le_bytes());
        let mut scratch_groups: Vec<GroupId> = Vec::new();
        let mut scratch_strs: Vec<&str> = Vec::new();
        for u in users {
            buf.extend_from_slice(&u.id.0.to_le_bytes());
            match &u.external_id {
                Some(e) => {
                    buf.push(1);
                    put_str(&mut buf, e);
                }
                None => buf.push(0),
            }
            put_str(&mut buf, &u.first_name);
            put_str(&mut buf, &u.last_name);
            for list in [&u.emails, &u.phones] {
                scratch_strs.clear();
                scratch_strs.extend(list.iter().map(String::as_str));
                scratch_strs.sort_unstable();
                buf.extend_from_slice(&(scratch_strs.len() as u64).to_le_bytes());
                for s in &scratch_strs {
                    put_str(&mut buf, s);
                }
            }
            buf.push(u8::from(u.suspended));
            scratch_groups.clear();
            scratch_groups.extend_from_slice(&u.groups);
            scratch_groups.sort_unstable();
            scratch_groups.dedup();
            buf.extend_from_slice(&(scratch_groups.len() as u64).to_le_bytes());
            for g in &scratch_groups {
                buf.extend_from_slice(&g.0.to_le_bytes());
            }
            if buf.len() >= 1 << 15 {
                h.update(&buf);
                buf.clear();
            }
        }
        let mut groups: Vec<&ObservedGroup> = self.groups.iter().collect();
        groups.sort_unstable_by(|a, b| (a.id, &a.name).cmp(&(b.id, &b.name)));
        buf.extend_from_slice(&(groups.len() as u64).to_le_bytes());
        for g in groups {
            buf.extend_from_slice(&g.id.0.to_le_bytes());
            put_str(&mut buf, &g.name);
        }
        h.update(&buf);
        hex::encode(h.finalize())
    }
}

/// Orders users by id, then by content, so that duplicates (which Brivo
/// should never return) still give an order-independent digest.
fn canonical_user_cmp(a: &ObservedUser, b: &ObservedUser) -> std::cmp::Ordering {
    a.id.cmp(&b.id).then_with(|| {
        (&a.external_id, &a.first_name, &a.last_name, a.suspended).cmp(&(
            &b.external_id,
            &b.first_name,
            &b.last_name,
            b.suspended,
        ))
    })
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    buf.extend_from_slice(&(s.len() as u64).to_le_bytes());
    buf.extend_from_slice(s.as_bytes());
}

//! The observed Brivo state: users (with their memberships in managed
//! groups) and the managed groups that exist.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::mapping::GroupId;

/// A Brivo user id.
#[derive(
    Debug, Default, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct BrivoUserId(pub i64);

impl BrivoUserId {
    /// The raw Brivo id.
    ///
    /// ```
    /// use access_engine::BrivoUserId;
    /// assert_eq!(BrivoUserId::from(42).get(), 42);
    /// assert_eq!(i64::from(BrivoUserId(7)), 7);
    /// ```
    pub fn get(self) -> i64 {
        self.0
    }
}

impl From<i64> for BrivoUserId {
    fn from(id: i64) -> Self {
        BrivoUserId(id)
    }
}

impl From<BrivoUserId> for i64 {
    fn from(id: BrivoUserId) -> Self {
        id.0
    }
}

impl fmt::Display for BrivoUserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "user {}", self.0)
    }
}

/// A Brivo user as read.
///
/// ```
/// use access_engine::{BrivoUserId, GroupId, ObservedUser};
/// let u = ObservedUser::new(BrivoUserId(900))
///     .with_external_id("sync:entrata:50")
///     .with_name("Alan", "Turing")
///     .with_groups([GroupId(10)]);
/// assert_eq!(u.groups, vec![GroupId(10)]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
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
    /// Whether this integration suspended it (the runner records each
    /// suspension it makes). Only such a suspension is lifted when the user
    /// has access again; one made by hand in Brivo is respected and the
    /// unsuspension held for an operator's approval (`unsuspend:<id>`).
    #[serde(default)]
    pub suspended_by_integration: bool,
    /// Whether the user was invited to Brivo Mobile Pass by this
    /// integration (the runner records each invitation it sends).
    #[serde(default)]
    pub mobile_pass_invited: bool,
    /// Whether the user holds a credential (a card, a pass), when the
    /// runner knows (its run state records what it saw when it set a
    /// window or gave a card); `None`: unknown. A person's second user is
    /// not retired while the user that keeps the identity is known to hold
    /// none: the second may hold the only credential the person uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holds_credential: Option<bool>,
    /// Whether this integration gave the user a card from the policy's
    /// card pool (the runner records each one it assigns).
    #[serde(default)]
    pub card_assigned: bool,
    /// Why adopt-by-email may never adopt this user, if the runner found a
    /// reason when it tried (it belongs to groups this integration does not
    /// manage, or holds credentials; recorded in the run state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adoption_refused: Option<String>,
    /// The validity window this integration last set on the user's
    /// credentials, if it is known (the runner records each one it sets).
    /// With [`Policy::credential_windows`](crate::Policy::credential_windows)
    /// the plan sets it when it is unknown or differs from the span of the
    /// user's access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_window: Option<CredentialWindow>,
    /// The user's memberships in managed groups (others are ignored).
    #[serde(default)]
    pub groups: Vec<GroupId>,
}

/// The validity window of a user's credentials (Brivo's `effectiveFrom`
/// and `effectiveTo` on each credential assignment): the one time window
/// Brivo enforces itself, so access ends at `to` even if the runner stops.
///
/// ```
/// use access_engine::CredentialWindow;
/// use chrono::{TimeZone, Utc};
/// let move_out = Utc.with_ymd_and_hms(2026, 12, 5, 22, 0, 0).unwrap();
/// let w = CredentialWindow::new(None, Some(move_out));
/// assert_eq!(w.to, Some(move_out));
/// assert!(CredentialWindow::new(None, None).to.is_none()); // perpetual
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CredentialWindow {
    /// The start (`effectiveFrom`), when access has not begun yet; `None`:
    /// whatever the credential already has (access has begun).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    /// The end (`effectiveTo`); `None`: no end (some grant is perpetual).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
}

impl CredentialWindow {
    /// A window from `from` to `to` (`None`: open).
    pub fn new(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Self {
        CredentialWindow { from, to }
    }
}

impl fmt::Display for CredentialWindow {
    /// `from 2026-12-01 18:00Z until 2026-12-06 00:00Z`, `until ...` (the
    /// start kept), `with no end`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%MZ");
        if let Some(from) = self.from {
            write!(f, "from {} ", at(from))?;
        }
        match self.to {
            Some(to) => write!(f, "until {}", at(to)),
            None => f.write_str("with no end"),
        }
    }
}

impl ObservedUser {
    /// A user with no name, external id or groups.
    pub fn new(id: BrivoUserId) -> Self {
        ObservedUser {
            id,
            ..Default::default()
        }
    }

    /// Sets the external id.
    #[must_use]
    pub fn with_external_id(mut self, external_id: impl Into<String>) -> Self {
        self.external_id = Some(external_id.into());
        self
    }

    /// Sets the names.
    #[must_use]
    pub fn with_name(mut self, first: impl Into<String>, last: impl Into<String>) -> Self {
        self.first_name = first.into();
        self.last_name = last.into();
        self
    }

    /// Adds an email address.
    #[must_use]
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.emails.push(email.into());
        self
    }

    /// Adds a phone number.
    #[must_use]
    pub fn with_phone(mut self, phone: impl Into<String>) -> Self {
        self.phones.push(phone.into());
        self
    }

    /// Sets the managed-group memberships.
    #[must_use]
    pub fn with_groups(mut self, groups: impl IntoIterator<Item = GroupId>) -> Self {
        self.groups = groups.into_iter().collect();
        self
    }

    /// Sets whether the user is suspended.
    #[must_use]
    pub fn with_suspended(mut self, suspended: bool) -> Self {
        self.suspended = suspended;
        self
    }

    /// Sets whether this integration invited the user to Mobile Pass.
    #[must_use]
    pub fn with_mobile_pass_invited(mut self, invited: bool) -> Self {
        self.mobile_pass_invited = invited;
        self
    }

    /// Marks the user as never to be adopted, with why (see
    /// [`adoption_refused`](Self::adoption_refused)).
    #[must_use]
    pub fn with_adoption_refused(mut self, reason: impl Into<String>) -> Self {
        self.adoption_refused = Some(reason.into());
        self
    }

    /// Sets whether this integration gave the user a card from the pool.
    #[must_use]
    pub fn with_card_assigned(mut self, assigned: bool) -> Self {
        self.card_assigned = assigned;
        self
    }

    /// Sets the window this integration last set on the user's credentials.
    #[must_use]
    pub fn with_credential_window(mut self, window: CredentialWindow) -> Self {
        self.credential_window = Some(window);
        self
    }

    /// Sets whether this integration made the suspension (see
    /// [`suspended_by_integration`](Self::suspended_by_integration)).
    #[must_use]
    pub fn with_suspended_by_integration(mut self, ours: bool) -> Self {
        self.suspended_by_integration = ours;
        self
    }
}

/// A Brivo group that exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ObservedGroup {
    /// Brivo id.
    pub id: GroupId,
    /// Name.
    pub name: String,
}

impl ObservedGroup {
    /// A group.
    pub fn new(id: GroupId, name: impl Into<String>) -> Self {
        ObservedGroup {
            id,
            name: name.into(),
        }
    }
}

/// What Brivo holds now. Start from [`Observed::new`] or `Observed::default()`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Observed {
    /// Users (at least every owned user and every member of a managed group).
    pub users: Vec<ObservedUser>,
    /// The managed groups that exist (a mapped group missing here is reported
    /// and nothing is planned against it).
    pub groups: Vec<ObservedGroup>,
}

impl Observed {
    /// The observed users and groups.
    pub fn new(users: Vec<ObservedUser>, groups: Vec<ObservedGroup>) -> Self {
        Observed { users, groups }
    }

    /// SHA-256 (hex) of a canonical form of this state, independent of the
    /// order of users, groups, memberships, emails and phones. A saved plan
    /// records it; see [`crate::Plan::check_observed`].
    ///
    /// ```
    /// use access_engine::{BrivoUserId, GroupId, Observed, ObservedUser};
    /// let u = |id, groups: Vec<i64>| ObservedUser::new(BrivoUserId(id))
    ///     .with_groups(groups.into_iter().map(GroupId));
    /// let a = Observed::new(vec![u(1, vec![1, 2]), u(2, vec![])], vec![]);
    /// let b = Observed::new(vec![u(2, vec![]), u(1, vec![2, 1])], vec![]);
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

//! Directory facts (Connect-style): users with a lifecycle state.
//!
//! Active users get the directory's groups; Suspended users keep them and the
//! Brivo user is suspended; Disabled users lose every managed membership;
//! Deleted users' Brivo users are deleted (only ever users the integration
//! created).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::facts::Profile;

/// A directory user's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DirectoryState {
    /// Gets the directory's groups.
    Active,
    /// The Brivo user is suspended.
    Suspended,
    /// All managed memberships revoked.
    Disabled,
    /// The Brivo user is deleted, if the integration created it.
    Deleted,
}

impl fmt::Display for DirectoryState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DirectoryState::Active => "Active",
            DirectoryState::Suspended => "Suspended",
            DirectoryState::Disabled => "Disabled",
            DirectoryState::Deleted => "Deleted",
        })
    }
}

/// A user of a directory.
///
/// ```
/// use access_engine::{DirectoryState, DirectoryUser, Profile};
/// let u = DirectoryUser::new("acme", "u1", Profile::new("Ada", "Lovelace"), DirectoryState::Active);
/// assert_eq!(u.state, DirectoryState::Active);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DirectoryUser {
    /// The directory (see [`crate::Mappings::directories`]).
    pub directory_id: String,
    /// The user's id in that directory.
    pub user_id: String,
    /// Name and contact.
    pub profile: Profile,
    /// Lifecycle state.
    pub state: DirectoryState,
}

impl DirectoryUser {
    /// A user of `directory_id`.
    pub fn new(
        directory_id: impl Into<String>,
        user_id: impl Into<String>,
        profile: Profile,
        state: DirectoryState,
    ) -> Self {
        DirectoryUser {
            directory_id: directory_id.into(),
            user_id: user_id.into(),
            profile,
            state,
        }
    }
}

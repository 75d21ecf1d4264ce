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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

//! Groups and membership.

use serde::{Deserialize, Serialize};

use super::common::{GroupId, opt_string_or_number, string_or_number_or_null};

/// A Brivo group. Group names are **not unique**: key by id.
///
/// `GET /users/{id}/groups` and `POST /users/{id}/groups` return only `id`
/// and `name`; the other fields are then `None`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Group {
    /// Brivo's id.
    pub id: GroupId,
    /// The name (at most 35 characters).
    #[serde(default, deserialize_with = "string_or_number_or_null")]
    pub name: String,
    /// Antipassback reset time as Brivo returns it (`"HH:MM"`; a number,
    /// as some producers send minutes of the day, is kept as its text).
    #[serde(
        default,
        deserialize_with = "opt_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub antipassback_reset_time: Option<String>,
    /// Keypad unlock allowed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keypad_unlock: Option<bool>,
    /// Immune to antipassback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immune_to_antipassback: Option<bool>,
    /// Excluded from lockdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excluded_from_lockdown: Option<bool>,
}

/// What a single membership change found and did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum MembershipChange {
    /// Brivo accepted the addition (204). Brivo may answer 204 for a user
    /// who was a member already too, so this does not prove a change.
    Added,
    /// Brivo refused the addition, and the user's groups show they were a
    /// member already (a success: the goal holds).
    AlreadyMember,
    /// Brivo accepted the removal (204); as for `Added`, the user may not
    /// have been a member.
    Removed,
    /// Brivo refused the removal, and the user's groups show they were not
    /// a member (a success: the goal holds).
    NotMember,
}

/// The exact-name matches of [`find_groups_by_name`](crate::Client::find_groups_by_name).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroupMatches {
    /// The name looked for.
    pub name: String,
    /// Every group whose name equals it exactly (Brivo allows duplicates).
    pub groups: Vec<Group>,
}

impl GroupMatches {
    /// The single match, `None` if there is none.
    ///
    /// # Errors
    /// [`Error::DuplicateGroupName`](crate::Error::DuplicateGroupName) when
    /// several groups share the name.
    pub fn unique(self) -> Result<Option<Group>, crate::Error> {
        match self.groups.len() {
            0 => Ok(None),
            1 => Ok(self.groups.into_iter().next()),
            _ => Err(crate::Error::DuplicateGroupName {
                ids: self.groups.iter().map(|g| g.id).collect(),
                name: self.name,
            }),
        }
    }

    /// `true` when several groups share the name.
    pub fn is_ambiguous(&self) -> bool {
        self.groups.len() > 1
    }
}

/// Filters for [`list_groups`](crate::Client::list_groups).
///
/// ```
/// use brivo_client::GroupQuery;
///
/// let q = GroupQuery::default().name_contains("Tenants");
/// assert_eq!(q.filter_string().unwrap().as_deref(), Some("name__eq:Tenants"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct GroupQuery {
    pub(crate) parts: Vec<(String, &'static str, Vec<String>)>,
}

impl GroupQuery {
    /// Groups whose name **contains** `name` (Brivo's `name__eq` is a
    /// substring match; see
    /// [`find_groups_by_name`](crate::Client::find_groups_by_name) for
    /// exact names).
    pub fn name_contains(mut self, name: impl Into<String>) -> Self {
        self.parts.push(("name".into(), "eq", vec![name.into()]));
        self
    }

    /// The `filter` parameter, `None` without filters; an error when a value
    /// holds `,` or `;`.
    pub fn filter_string(&self) -> Result<Option<String>, String> {
        super::filter_string(&self.parts)
    }
}

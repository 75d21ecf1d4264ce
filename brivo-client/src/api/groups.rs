//! `/groups`: groups, finding them by exact name, membership.

use reqwest::Method;

use crate::client::Client;
use crate::error::{Error, is_group_limit};
use crate::models::common::{GroupId, UserId};
use crate::models::group::{Group, GroupMatches, GroupQuery, MembershipChange};
use crate::models::user::User;
use crate::pagination::Paginator;

impl Client {
    /// Lists groups (`GET /groups`), lazily, page by page.
    pub fn list_groups(&self, query: GroupQuery) -> Paginator<Group> {
        Paginator::new(self, "list_groups", self.url(["groups"])).with_filter(query.filter_string())
    }

    /// One group (`GET /groups/{id}`).
    ///
    /// # Errors
    /// 404 ([`Error::is_not_found`]) if there is none; any failure.
    pub async fn get_group(&self, id: GroupId) -> Result<Group, Error> {
        let req = self.req("get_group", Method::GET, ["groups", &id.to_string()]);
        self.execute_json(&req).await
    }

    /// Every group whose name is **exactly** `name` (case-sensitive).
    ///
    /// Brivo's name filter is a substring match, so the candidates are
    /// re-checked here; group names are not unique in Brivo, so there may be
    /// several: [`GroupMatches::unique`] turns duplicates into
    /// [`Error::DuplicateGroupName`]. A name holding `,` or `;` cannot be
    /// filtered on; then every group is listed and compared.
    ///
    /// ```no_run
    /// # async fn run(client: brivo_client::Client) -> Result<(), brivo_client::Error> {
    /// let matches = client.find_groups_by_name("Residents").await?;
    /// if matches.is_ambiguous() {
    ///     eprintln!("{} groups are called Residents", matches.groups.len());
    /// }
    /// let residents = matches.unique()?; // Err(DuplicateGroupName) if ambiguous
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// Any failure while listing.
    pub async fn find_groups_by_name(&self, name: &str) -> Result<GroupMatches, Error> {
        const NAME: &str = "find_groups_by_name";
        let query = if name.contains([',', ';']) || name.trim().is_empty() {
            GroupQuery::default()
        } else {
            GroupQuery::default().name_contains(name)
        };
        let mut pager = self.list_groups(query);
        pager.rename(NAME);
        let all = pager.collect_all().await?;
        let groups: Vec<Group> = all.items.into_iter().filter(|g| g.name == name).collect();
        if groups.len() > 1 {
            tracing::warn!(
                name,
                count = groups.len(),
                "several Brivo groups share a name"
            );
        }
        Ok(GroupMatches {
            name: name.to_owned(),
            groups,
        })
    }

    /// The members of a group (`GET /groups/{id}/users`), lazily, page by
    /// page. Members carry only id, external id, names and `suspended`.
    pub fn group_members(&self, group: GroupId) -> Paginator<User> {
        Paginator::new(
            self,
            "group_members",
            self.url(["groups", &group.to_string(), "users"]),
        )
    }

    /// Adds a user to a group (`PUT /groups/{g}/users/{u}`, 204).
    ///
    /// Brivo does not document its answer when the user is a member
    /// already. A 400 or 409 is therefore checked against the user's groups
    /// (one more call): if the user is in the group, the answer is
    /// [`MembershipChange::AlreadyMember`], a success. Idempotent.
    ///
    /// # Errors
    /// [`Error::GroupLimitExceeded`] at 16 groups; 404 for an unknown user
    /// or group; any other failure.
    pub async fn add_group_member(
        &self,
        group: GroupId,
        user: UserId,
    ) -> Result<MembershipChange, Error> {
        const NAME: &str = "add_group_member";
        let req = self.req(
            NAME,
            Method::PUT,
            ["groups", &group.to_string(), "users", &user.to_string()],
        );
        match self.execute(&req).await {
            Ok(_) => Ok(MembershipChange::Added),
            Err(e) if is_group_limit(&e) => Err(Error::GroupLimitExceeded {
                method: NAME,
                user,
                message: e.brivo_message().map(str::to_owned),
            }),
            Err(
                e @ Error::Api {
                    status: 400 | 409, ..
                },
            ) => match self.user_groups(user).await {
                Ok(groups) if groups.items.iter().any(|g| g.id == group) => {
                    Ok(MembershipChange::AlreadyMember)
                }
                _ => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// Removes a user from a group (`DELETE /groups/{g}/users/{u}`, 204).
    ///
    /// Brivo does not document its answer when the user is not a member. A
    /// 400, 404 or 409 that does not say the *group* is unknown is checked
    /// against the user's groups (one more call): if the user is not in the
    /// group, the answer is [`MembershipChange::NotMember`], a success.
    /// Idempotent.
    ///
    /// # Errors
    /// 404 for an unknown group, or for an unknown user; any other failure.
    pub async fn remove_group_member(
        &self,
        group: GroupId,
        user: UserId,
    ) -> Result<MembershipChange, Error> {
        const NAME: &str = "remove_group_member";
        let req = self.req(
            NAME,
            Method::DELETE,
            ["groups", &group.to_string(), "users", &user.to_string()],
        );
        match self.execute(&req).await {
            Ok(_) => Ok(MembershipChange::Removed),
            Err(
                e @ Error::Api {
                    status: 400 | 404 | 409,
                    ..
                },
            ) => {
                if says_group_unknown(&e) {
                    return Err(e);
                }
                match self.user_groups(user).await {
                    Ok(groups) if groups.items.iter().all(|g| g.id != group) => {
                        Ok(MembershipChange::NotMember)
                    }
                    _ => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }
}

/// `404 "Unknown Group"` / `"Group not found"`.
fn says_group_unknown(e: &Error) -> bool {
    e.brivo_message().is_some_and(|m| {
        let m = m.to_lowercase();
        m.contains("unknown group") || m.contains("group not found")
    })
}

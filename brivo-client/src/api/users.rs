//! `/users`: users, suspension, a user's groups, custom field values.

use std::collections::BTreeSet;

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::{Client, Req};
use crate::error::{Error, is_group_limit};
use crate::models::common::{CustomFieldId, GroupId, UserId};
use crate::models::custom_field::CustomField;
use crate::models::group::Group;
use crate::models::user::{CustomFieldValue, NewUser, User, UserPatch, UserQuery};
use crate::pagination::{Listing, Paginator, decode_listing};

/// Brivo's cap on groups per user.
pub const MAX_GROUPS_PER_USER: usize = 16;

pub(crate) fn json_body<T: Serialize>(name: &'static str, body: &T) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(body).map_err(|e| Error::InvalidArgument {
        method: name,
        message: format!("the request body could not be encoded: {e}"),
    })
}

impl Client {
    pub(crate) fn req<S: AsRef<str>>(
        &self,
        name: &'static str,
        verb: Method,
        segments: impl IntoIterator<Item = S>,
    ) -> Req {
        Req {
            name,
            idempotent: verb != Method::POST,
            verb,
            url: self.url(segments),
            body: None,
        }
    }

    /// Lists users (`GET /users`), lazily, page by page.
    ///
    /// List items carry fewer fields than [`get_user`](Self::get_user)
    /// (usually no custom fields).
    pub fn list_users(&self, query: UserQuery) -> Paginator<User> {
        Paginator::new(self, "list_users", self.url(["users"])).with_filter(query.filter_string())
    }

    /// One user with every field (`GET /users/{id}`).
    ///
    /// # Errors
    /// A 404 is an [`Error::Api`] with [`is_not_found`](Error::is_not_found).
    pub async fn get_user(&self, id: UserId) -> Result<User, Error> {
        let req = self.req("get_user", Method::GET, ["users", &id.to_string()]);
        self.execute_json(&req).await
    }

    /// The user with this external id (`GET /users/{externalId}/external`,
    /// the id percent-encoded), or `None` if there is none (404).
    ///
    /// ```no_run
    /// # async fn run(client: brivo_client::Client) -> Result<(), brivo_client::Error> {
    /// match client.get_user_by_external_id("sync:entrata:42").await? {
    ///     Some(user) => println!("found Brivo user {}", user.id),
    ///     None => println!("not in Brivo yet"),
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty id; any other failure.
    pub async fn get_user_by_external_id(&self, external_id: &str) -> Result<Option<User>, Error> {
        const NAME: &str = "get_user_by_external_id";
        if external_id.trim().is_empty() {
            return Err(Error::InvalidArgument {
                method: NAME,
                message: "the external id is empty".into(),
            });
        }
        let req = self.req(NAME, Method::GET, ["users", external_id, "external"]);
        match self.execute_json(&req).await {
            Ok(user) => Ok(Some(user)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates a user (`POST /users`); Brivo answers 200 (or 201) with it.
    ///
    /// **Not idempotent.** It is retried only when Brivo certainly did not
    /// act: a throttled answer or a failed connect. After a timeout, a
    /// broken connection or a 5xx the user may exist: the error says so
    /// ([`Error::Transport`] `maybe_applied`), and the caller should look
    /// it up with [`get_user_by_external_id`](Self::get_user_by_external_id)
    /// before creating again.
    ///
    /// ```no_run
    /// # async fn run(client: brivo_client::Client) -> Result<(), brivo_client::Error> {
    /// use brivo_client::{Email, NewUser};
    ///
    /// let id = "sync:entrata:42";
    /// let new = NewUser::new("Peter", "Quill")
    ///     .external_id(id)
    ///     .email(Email::new("peter@example.com", "work"));
    /// let user = match client.create_user(&new).await {
    ///     Ok(user) => user,
    ///     // it may have been created before the connection broke
    ///     Err(e @ brivo_client::Error::Transport { maybe_applied: true, .. }) => {
    ///         match client.get_user_by_external_id(id).await? {
    ///             Some(user) => user,
    ///             None => return Err(e),
    ///         }
    ///     }
    ///     Err(e) => return Err(e),
    /// };
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] without first or last name; any failure.
    pub async fn create_user(&self, user: &NewUser) -> Result<User, Error> {
        const NAME: &str = "create_user";
        if user.first_name.trim().is_empty() || user.last_name.trim().is_empty() {
            return Err(Error::InvalidArgument {
                method: NAME,
                message: "Brivo requires a first and a last name".into(),
            });
        }
        let mut req = self.req(NAME, Method::POST, ["users"]);
        req.body = Some(json_body(NAME, user)?);
        self.execute_json(&req).await
    }

    /// Changes the fields set in `patch` and leaves the others alone
    /// (`PATCH /users/{id}`). Idempotent, so retried like a read.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for an empty patch; any failure.
    pub async fn update_user(&self, id: UserId, patch: &UserPatch) -> Result<User, Error> {
        const NAME: &str = "update_user";
        if patch.is_empty() {
            return Err(Error::InvalidArgument {
                method: NAME,
                message: "the patch changes nothing".into(),
            });
        }
        let mut req = self.req(NAME, Method::PATCH, ["users", &id.to_string()]);
        req.body = Some(json_body(NAME, patch)?);
        self.execute_json(&req).await
    }

    /// **Destructive full replace** (`PUT /users/{id}`): every optional
    /// field *not* in `user` is **erased** in Brivo, the external id, PIN,
    /// e-mails and phone numbers included. Use [`update_user`](Self::update_user)
    /// (PATCH) unless you mean exactly that.
    ///
    /// # Errors
    /// Any failure.
    pub async fn replace_user_erasing_omitted_fields(
        &self,
        id: UserId,
        user: &NewUser,
    ) -> Result<User, Error> {
        const NAME: &str = "replace_user_erasing_omitted_fields";
        let mut req = self.req(NAME, Method::PUT, ["users", &id.to_string()]);
        req.body = Some(json_body(NAME, user)?);
        self.execute_json(&req).await
    }

    /// Deletes a user (`DELETE /users/{id}`). `Ok(false)` if there was no
    /// such user (404), so a repeated delete is a success.
    ///
    /// # Errors
    /// Any failure but 404.
    pub async fn delete_user(&self, id: UserId) -> Result<bool, Error> {
        let req = self.req("delete_user", Method::DELETE, ["users", &id.to_string()]);
        match self.execute(&req).await {
            Ok(_) => Ok(true),
            Err(e) if e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Whether the user is suspended (`GET /users/{id}/suspended`).
    ///
    /// # Errors
    /// Any failure.
    pub async fn is_suspended(&self, id: UserId) -> Result<bool, Error> {
        let req = self.req(
            "is_suspended",
            Method::GET,
            ["users", &id.to_string(), "suspended"],
        );
        let s: Suspension = self.execute_json(&req).await?;
        Ok(s.suspended)
    }

    /// Suspends or reinstates a user (`PUT /users/{id}/suspended`).
    /// Suspension stops every credential and keeps memberships. Returns the
    /// state Brivo reports. Idempotent.
    ///
    /// # Errors
    /// Any failure.
    pub async fn set_suspended(&self, id: UserId, suspended: bool) -> Result<bool, Error> {
        const NAME: &str = "set_suspended";
        let mut req = self.req(NAME, Method::PUT, ["users", &id.to_string(), "suspended"]);
        req.body = Some(json_body(NAME, &SuspensionBody { suspended })?);
        let answer = self.execute(&req).await?;
        if answer.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(suspended);
        }
        let s: Suspension = crate::client::decode(NAME, &answer.body)?;
        Ok(s.suspended)
    }

    /// [`set_suspended`](Self::set_suspended)`(id, true)`.
    ///
    /// # Errors
    /// Any failure.
    pub async fn suspend_user(&self, id: UserId) -> Result<bool, Error> {
        self.set_suspended(id, true).await
    }

    /// [`set_suspended`](Self::set_suspended)`(id, false)`.
    ///
    /// # Errors
    /// Any failure.
    pub async fn unsuspend_user(&self, id: UserId) -> Result<bool, Error> {
        self.set_suspended(id, false).await
    }

    /// The user's groups (`GET /users/{id}/groups`; at most 16, one call).
    ///
    /// # Errors
    /// Any failure; 404 if there is no such user.
    pub async fn user_groups(&self, id: UserId) -> Result<Listing<Group>, Error> {
        const NAME: &str = "user_groups";
        let req = self.req(NAME, Method::GET, ["users", &id.to_string(), "groups"]);
        let answer = self.execute(&req).await?;
        Ok(decode_listing(NAME, &answer.body, 0)?.0)
    }

    /// Adds the user to `add` and removes them from `remove` in **one
    /// atomic call** (`POST /users/{id}/groups`): either every change is
    /// made or none. Adding a group the user is in and removing one they
    /// are not in are no-ops. Returns the user's groups afterwards.
    ///
    /// Idempotent (the same call twice leaves the same state), so it is
    /// retried like a read.
    ///
    /// ```no_run
    /// # async fn run(client: brivo_client::Client) -> Result<(), brivo_client::Error> {
    /// use brivo_client::{Error, GroupId, UserId};
    ///
    /// match client
    ///     .change_groups(UserId(442211), &[GroupId(76123)], &[GroupId(76336)])
    ///     .await
    /// {
    ///     Ok(now) => println!("now in {} groups", now.items.len()),
    ///     Err(Error::GroupLimitExceeded { .. }) => println!("held: 16 groups at most"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// - [`Error::GroupLimitExceeded`] when asked to add more than 16
    ///   groups (refused before sending), or when Brivo's 400 mentions 16
    ///   and groups (Brivo changes nothing). Brivo's documented refusal of
    ///   a change over the cap is a plain 400 that names no cause
    ///   (Brivo's user-groups documentation), which comes back as [`Error::Api`]: to tell the
    ///   cap from another 400, re-read [`user_groups`](Self::user_groups)
    ///   and count (the cap counts groups you do not manage, too);
    /// - [`Error::InvalidArgument`] when a group is in both lists;
    /// - any other failure (404 for an unknown user or group).
    pub async fn change_groups(
        &self,
        user: UserId,
        add: &[GroupId],
        remove: &[GroupId],
    ) -> Result<Listing<Group>, Error> {
        const NAME: &str = "change_groups";
        let add: BTreeSet<GroupId> = add.iter().copied().collect();
        let remove: BTreeSet<GroupId> = remove.iter().copied().collect();
        if let Some(both) = add.intersection(&remove).next() {
            return Err(Error::InvalidArgument {
                method: NAME,
                message: format!("group {both} is both added and removed"),
            });
        }
        if add.len() > MAX_GROUPS_PER_USER {
            return Err(Error::GroupLimitExceeded {
                method: NAME,
                user,
                message: None,
            });
        }
        let mut req = self.req(NAME, Method::POST, ["users", &user.to_string(), "groups"]);
        req.idempotent = true;
        req.body = Some(json_body(
            NAME,
            &GroupsBody {
                add_groups: add.into_iter().collect(),
                remove_groups: remove.into_iter().collect(),
            },
        )?);
        match self.execute(&req).await {
            Ok(answer) => Ok(decode_listing(NAME, &answer.body, 0)?.0),
            Err(e) if is_group_limit(&e) => Err(Error::GroupLimitExceeded {
                method: NAME,
                user,
                message: e.brivo_message().map(str::to_owned),
            }),
            Err(e) => Err(e),
        }
    }

    /// The user's custom field values (`GET /users/{id}/custom-fields`).
    ///
    /// # Errors
    /// Any failure.
    pub async fn user_custom_fields(&self, id: UserId) -> Result<Listing<CustomFieldValue>, Error> {
        const NAME: &str = "user_custom_fields";
        let req = self.req(
            NAME,
            Method::GET,
            ["users", &id.to_string(), "custom-fields"],
        );
        let answer = self.execute(&req).await?;
        Ok(decode_listing(NAME, &answer.body, 0)?.0)
    }

    /// Sets a custom field's value on a user
    /// (`PUT /users/{u}/custom-fields/{cf}`). Numbers and dates are sent as
    /// text; a date must follow the field's pattern.
    ///
    /// # Errors
    /// A 400 if the value does not fit the field's type; any failure.
    pub async fn set_custom_field(
        &self,
        user: UserId,
        field: CustomFieldId,
        value: &str,
    ) -> Result<CustomFieldValue, Error> {
        const NAME: &str = "set_custom_field";
        let mut req = self.req(
            NAME,
            Method::PUT,
            [
                "users",
                &user.to_string(),
                "custom-fields",
                &field.to_string(),
            ],
        );
        req.body = Some(json_body(NAME, &ValueBody { value })?);
        self.execute_json(&req).await
    }

    /// Clears a custom field on a user (`DELETE /users/{u}/custom-fields/{cf}`).
    ///
    /// # Errors
    /// Any failure.
    pub async fn clear_custom_field(
        &self,
        user: UserId,
        field: CustomFieldId,
    ) -> Result<(), Error> {
        let req = self.req(
            "clear_custom_field",
            Method::DELETE,
            [
                "users",
                &user.to_string(),
                "custom-fields",
                &field.to_string(),
            ],
        );
        self.execute(&req).await.map(drop)
    }

    /// The account's custom field definitions (`GET /custom-fields`).
    pub fn list_custom_fields(&self) -> Paginator<CustomField> {
        Paginator::new(self, "list_custom_fields", self.url(["custom-fields"]))
    }
}

#[derive(Serialize)]
struct SuspensionBody {
    suspended: bool,
}

#[derive(Deserialize)]
struct Suspension {
    suspended: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GroupsBody {
    add_groups: Vec<GroupId>,
    remove_groups: Vec<GroupId>,
}

#[derive(Serialize)]
struct ValueBody<'a> {
    value: &'a str,
}

//! Credentials: listing, assignment with a validity window, mobile passes.

use reqwest::Method;
use serde::Serialize;

use crate::api::users::json_body;
use crate::client::{Client, decode};
use crate::error::Error;
use crate::models::common::{CredentialId, UserId};
use crate::models::credential::{
    Credential, CredentialQuery, CredentialWindow, DigitalInvitation, InvitationStatus,
    MobilePassInvitation,
};
use crate::pagination::Paginator;

impl Client {
    /// The account's credentials (`GET /credentials`), lazily, page by page.
    pub fn list_credentials(&self, query: CredentialQuery) -> Paginator<Credential> {
        Paginator::new(self, "list_credentials", self.url(["credentials"]))
            .with_filter(query.filter_string())
    }

    /// One credential (`GET /credentials/{id}`).
    ///
    /// # Errors
    /// 404 if there is none; any failure.
    pub async fn get_credential(&self, id: CredentialId) -> Result<Credential, Error> {
        let req = self.req(
            "get_credential",
            Method::GET,
            ["credentials", &id.to_string()],
        );
        self.execute_json(&req).await
    }

    /// A user's credentials with their assignment windows
    /// (`GET /users/{id}/credentials`).
    pub fn user_credentials(&self, user: UserId) -> Paginator<Credential> {
        Paginator::new(
            self,
            "user_credentials",
            self.url(["users", &user.to_string(), "credentials"]),
        )
    }

    /// Assigns a credential to a user, or changes the window of an existing
    /// assignment (`PUT /users/{u}/credentials/{c}`, 204).
    ///
    /// This window is the only time window Brivo itself enforces (group
    /// membership has none), so it is the second line of defence when a
    /// sync stops running. See [`CredentialWindow`] for Brivo's defaults.
    /// Idempotent.
    ///
    /// ```no_run
    /// # async fn run(client: brivo_client::Client) -> Result<(), brivo_client::Error> {
    /// use brivo_client::{CredentialId, CredentialWindow, UserId};
    /// use chrono::{TimeZone, Utc};
    ///
    /// // move-in 10:00 to move-out 16:00, already converted from the site's zone
    /// let window = CredentialWindow::new(
    ///     Some(Utc.with_ymd_and_hms(2026, 3, 8, 15, 0, 0).unwrap()),
    ///     Some(Utc.with_ymd_and_hms(2027, 2, 28, 21, 0, 0).unwrap()),
    /// );
    /// client.assign_credential(UserId(15540781), CredentialId(22197840), window).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// 404 for an unknown user or credential; any failure.
    pub async fn assign_credential(
        &self,
        user: UserId,
        credential: CredentialId,
        window: CredentialWindow,
    ) -> Result<(), Error> {
        const NAME: &str = "assign_credential";
        let mut req = self.req(
            NAME,
            Method::PUT,
            [
                "users",
                &user.to_string(),
                "credentials",
                &credential.to_string(),
            ],
        );
        req.body = Some(json_body(NAME, &window)?);
        self.execute(&req).await.map(drop)
    }

    /// Unassigns a credential from a user (`DELETE /users/{u}/credentials/{c}`,
    /// 204); the credential stays in the account's card bank.
    ///
    /// # Errors
    /// Any failure.
    pub async fn unassign_credential(
        &self,
        user: UserId,
        credential: CredentialId,
    ) -> Result<(), Error> {
        let req = self.req(
            "unassign_credential",
            Method::DELETE,
            [
                "users",
                &user.to_string(),
                "credentials",
                &credential.to_string(),
            ],
        );
        self.execute(&req).await.map(drop)
    }

    /// Invites a user to a Brivo Mobile Pass
    /// (`POST /users/{id}/credentials/digital-invitations`).
    ///
    /// **Not idempotent**: like [`create_user`](Self::create_user) it is
    /// retried only when Brivo certainly did not act. Brivo answers 409
    /// when an invitation is pending already and 412 when the account has
    /// no passes left; look at
    /// [`digital_invitations`](Self::digital_invitations) first.
    ///
    /// # Errors
    /// [`Error::Api`] 409 / 412 as above; any failure.
    pub async fn create_mobile_pass_invitation(
        &self,
        user: UserId,
        invitation: &MobilePassInvitation,
    ) -> Result<DigitalInvitation, Error> {
        const NAME: &str = "create_mobile_pass_invitation";
        let mut req = self.req(
            NAME,
            Method::POST,
            [
                "users",
                &user.to_string(),
                "credentials",
                "digital-invitations",
            ],
        );
        req.url
            .query_pairs_mut()
            .append_pair(
                "sendInvitationEmail",
                &invitation.send_invitation_email.to_string(),
            )
            .append_pair("nfcEnabled", &invitation.nfc_enabled.to_string())
            .append_pair("language", &invitation.language);
        req.body = Some(json_body(
            NAME,
            &ReferenceBody {
                reference_id: &invitation.reference_id,
            },
        )?);
        self.execute_json(&req).await
    }

    /// A user's mobile-pass invitations in one state, or in every state
    /// with `None` (`GET /users/{id}/credentials/digital-invitations`;
    /// Brivo's own default is pending only).
    pub fn digital_invitations(
        &self,
        user: UserId,
        status: Option<InvitationStatus>,
    ) -> Paginator<DigitalInvitation> {
        let status = status.map_or_else(|| "all".to_owned(), |s| s.as_str().to_lowercase());
        Paginator::new(
            self,
            "digital_invitations",
            self.url([
                "users",
                &user.to_string(),
                "credentials",
                "digital-invitations",
            ]),
        )
        .with_query("filter", &format!("status__eq:{status}"))
    }

    /// Cancels the user's pending mobile-pass invitation
    /// (`DELETE /users/{id}/credentials/digital-invitations`). Returns the
    /// cancelled invitation when Brivo sends it back.
    ///
    /// # Errors
    /// Any failure.
    pub async fn cancel_digital_invitation(
        &self,
        user: UserId,
    ) -> Result<Option<DigitalInvitation>, Error> {
        const NAME: &str = "cancel_digital_invitation";
        let req = self.req(
            NAME,
            Method::DELETE,
            [
                "users",
                &user.to_string(),
                "credentials",
                "digital-invitations",
            ],
        );
        let answer = self.execute(&req).await?;
        if answer.body.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        decode(NAME, &answer.body).map(Some)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReferenceBody<'a> {
    reference_id: &'a str,
}

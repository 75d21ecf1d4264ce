//! A Connect-style directory platform (essensys Connect and the like) that
//! provisions its users into a SCIM 2.0 endpoint, as an identity provider
//! does: it creates a user when one joins, sets `active` false when one is
//! suspended or disabled, and deletes one that is decommissioned.
//!
//! It speaks SCIM the way provisioning clients do (RFC 7644): it looks a
//! user up by `userName` before creating it, sends `application/scim+json`,
//! patches `active` with a PatchOp, and authenticates with a bearer token.

use std::time::Duration;

use serde_json::{Value, json};

/// A platform pushing to one SCIM endpoint.
#[derive(Debug, Clone)]
pub struct DirectoryPlatform {
    base: String,
    token: String,
    http: reqwest::Client,
}

/// What went wrong talking to the SCIM endpoint.
#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    /// The endpoint could not be reached.
    #[error("SCIM endpoint unreachable: {0}")]
    Unreachable(#[from] reqwest::Error),
    /// The endpoint answered with an error status.
    #[error("SCIM endpoint answered {status}: {body}")]
    Refused {
        /// The HTTP status.
        status: u16,
        /// The SCIM error body.
        body: String,
    },
}

impl DirectoryPlatform {
    /// A platform pushing to `base` (e.g. `http://127.0.0.1:8080/scim/v2`)
    /// with this bearer token.
    pub fn new(base: impl Into<String>, token: impl Into<String>) -> Self {
        DirectoryPlatform {
            base: base.into().trim_end_matches('/').to_owned(),
            token: token.into(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(5))
                .build()
                .expect("a plain HTTP client builds"),
        }
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<(u16, Value), PlatformError> {
        let r = req
            .bearer_auth(&self.token)
            .header("accept", "application/scim+json")
            .send()
            .await?;
        let status = r.status().as_u16();
        let body = r.text().await?;
        if status >= 400 {
            return Err(PlatformError::Refused { status, body });
        }
        Ok((status, serde_json::from_str(&body).unwrap_or(Value::Null)))
    }

    fn json(&self, req: reqwest::RequestBuilder, body: &Value) -> reqwest::RequestBuilder {
        req.header("content-type", "application/scim+json")
            .body(body.to_string())
    }

    /// A user joins: looked up by `user_name` first (as provisioning
    /// clients do, so a retry does not create twice), else created.
    /// Returns the SCIM id.
    pub async fn create_user(
        &self,
        user_name: &str,
        given_name: &str,
        family_name: &str,
        email: &str,
    ) -> Result<String, PlatformError> {
        let filter = format!("userName eq {}", json!(user_name));
        let (_, found) = self
            .send(
                self.http
                    .get(format!("{}/Users", self.base))
                    .query(&[("filter", filter)]),
            )
            .await?;
        if let Some(id) = found["Resources"][0]["id"].as_str() {
            return Ok(id.to_owned());
        }
        let user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
            "name": {"givenName": given_name, "familyName": family_name},
            "emails": [{"value": email, "type": "work", "primary": true}],
            "active": true,
        });
        let (_, created) = self
            .send(self.json(self.http.post(format!("{}/Users", self.base)), &user))
            .await?;
        Ok(created["id"].as_str().unwrap_or_default().to_owned())
    }

    async fn set_active(&self, id: &str, active: bool) -> Result<(), PlatformError> {
        let patch = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": active}],
        });
        self.send(self.json(self.http.patch(format!("{}/Users/{id}", self.base)), &patch))
            .await?;
        Ok(())
    }

    /// A user is suspended (or disabled) in the platform.
    pub async fn suspend(&self, id: &str) -> Result<(), PlatformError> {
        self.set_active(id, false).await
    }

    /// A suspended user is reinstated.
    pub async fn reinstate(&self, id: &str) -> Result<(), PlatformError> {
        self.set_active(id, true).await
    }

    /// A user is decommissioned.
    pub async fn decommission(&self, id: &str) -> Result<(), PlatformError> {
        self.send(self.http.delete(format!("{}/Users/{id}", self.base)))
            .await
            .map(|_| ())
    }
}

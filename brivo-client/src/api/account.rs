//! The administrator behind the credentials.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::Error;
use crate::models::common::opt_lenient_i64;

/// The administrator the client acts as (`GET /administrators/whoami`).
///
/// Brivo's notes do not record this answer's full shape, so only the common
/// fields are typed; everything else is kept in `extra`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Administrator {
    /// Brivo's id for the administrator.
    #[serde(
        default,
        deserialize_with = "opt_lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub id: Option<i64>,
    /// First name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Last name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Client {
    /// Checks the whole chain (API key, client id and secret, administrator
    /// credentials, base URL) with one token request and one cheap call, and
    /// returns the administrator the client acts as.
    ///
    /// ```no_run
    /// # async fn run(client: brivo_client::Client) -> Result<(), brivo_client::Error> {
    /// let admin = client.whoami().await?;
    /// println!("connected as administrator {:?}", admin.id);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Auth`], [`Error::ApiKeyInactive`], [`Error::ServiceNotFound`]
    /// (wrong base URL or region) and any other failure.
    pub async fn whoami(&self) -> Result<Administrator, Error> {
        let req = self.req("whoami", Method::GET, ["administrators", "whoami"]);
        self.execute_json(&req).await
    }
}

//! `getStatus`, `status` service.

use serde::Deserialize;

use crate::client::{Call, Client};
use crate::de;
use crate::envelope::{Output, Params, decode_body};
use crate::error::Error;

/// The answer of `getStatus`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Status {
    /// `"Success"` when the service is up.
    #[serde(deserialize_with = "de::text")]
    pub status: Option<String>,
    /// E.g. `"API service is available and running."`.
    #[serde(deserialize_with = "de::text")]
    pub message: Option<String>,
}

impl Status {
    /// Whether the service said it is up.
    pub fn is_up(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("success"))
    }
}

impl Output for Status {
    const EXPECTED: &'static [&'static str] = &["status"];
    const TEXT_DATA: bool = true;
}

/// The `getStatus` method (service `status`, r1): checks that the service
/// is up and the credentials work.
///
/// ```
/// use entrata_client::GetStatus;
///
/// let status = GetStatus::decode(br#"{"response":{"requestId":"15","code":200,
///     "result":{"status":"Success","message":"API service is available and running."}}}"#)?;
/// assert!(status.is_up());
/// # Ok::<(), entrata_client::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct GetStatus;

impl GetStatus {
    /// The remote method's name.
    pub const NAME: &'static str = "getStatus";

    /// Decodes a `getStatus` response body.
    pub fn decode(body: &[u8]) -> Result<Status, Error> {
        decode_body(Self::NAME, 200, body)
    }
}

impl Client {
    /// `getStatus`: is the service up, and do the credentials work?
    pub async fn get_status(&self) -> Result<Status, Error> {
        self.call(&Call {
            service: "status",
            name: GetStatus::NAME,
            version: "r1",
            params: Params::new(),
            page: None,
        })
        .await
    }
}

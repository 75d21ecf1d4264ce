//! Credentials (cards, PINs, mobile passes) and digital invitations.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::common::{
    CredentialId, SensitiveString, lenient_i64, opt_datetime, opt_lenient_i64, opt_string_or_number,
};

/// A credential, as listed for a user or in the account's card bank.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Credential {
    /// Brivo's id.
    pub id: CredentialId,
    /// The format (e.g. 100 "Standard 26 Bit", 2 "PIN Code", 307 "Brivo Mobile Pass").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_format: Option<CredentialFormatRef>,
    /// The reference id (card number as printed, or an e-mail for mobile passes).
    #[serde(
        default,
        deserialize_with = "opt_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub reference_id: Option<String>,
    /// The encoded value: card bits, or a PIN's digits (redacted in `Debug`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoded_credential: Option<SensitiveString>,
    /// Bit size.
    #[serde(
        default,
        deserialize_with = "opt_lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub size: Option<i64>,
    /// Start of this assignment's validity (user credentials only).
    #[serde(
        default,
        with = "opt_datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub effective_from: Option<DateTime<Utc>>,
    /// End of this assignment's validity (user credentials only).
    #[serde(
        default,
        with = "opt_datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub effective_to: Option<DateTime<Utc>>,
    /// The owning account.
    #[serde(
        default,
        deserialize_with = "opt_lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub account_id: Option<i64>,
}

/// A credential format reference.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct CredentialFormatRef {
    /// The format id.
    #[serde(deserialize_with = "lenient_i64")]
    pub id: i64,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// The validity window of a credential assignment
/// (`PUT /users/{u}/credentials/{c}`), sent as `YYYY-MM-DDTHH:MM:SSZ`.
///
/// Brivo's rules: with neither end set on an already-assigned credential,
/// nothing changes; on a new assignment `from` defaults to now and `to` to
/// open-ended; with only `to`, `from` keeps its value (or now). There is no
/// documented way to clear an existing `to`: unassign and assign again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CredentialWindow {
    /// `effectiveFrom`.
    #[serde(with = "opt_datetime", skip_serializing_if = "Option::is_none")]
    pub effective_from: Option<DateTime<Utc>>,
    /// `effectiveTo`.
    #[serde(with = "opt_datetime", skip_serializing_if = "Option::is_none")]
    pub effective_to: Option<DateTime<Utc>>,
}

impl CredentialWindow {
    /// A window from `from` (if any) to `to` (if any).
    pub fn new(from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Self {
        Self {
            effective_from: from,
            effective_to: to,
        }
    }
}

/// Filter for [`list_credentials`](crate::Client::list_credentials).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialStatus {
    /// Assigned to a user.
    Assigned,
    /// In the card bank, unassigned.
    Unassigned,
}

/// A mobile-pass invitation's state; unknown states are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum InvitationStatus {
    /// Sent, not redeemed yet.
    Pending,
    /// Redeemed: the pass exists.
    Redeemed,
    /// Expired unredeemed (after about three days).
    Expired,
    /// Cancelled.
    Cancelled,
    /// A state this crate does not know, as Brivo spelled it.
    Other(String),
}

impl InvitationStatus {
    /// Brivo's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Pending => "PENDING",
            Self::Redeemed => "REDEEMED",
            Self::Expired => "EXPIRED",
            Self::Cancelled => "CANCELLED",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for InvitationStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for InvitationStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = super::common::string_or_number_or_null(d)?;
        Ok(match s.to_ascii_uppercase().as_str() {
            "PENDING" => Self::Pending,
            "REDEEMED" => Self::Redeemed,
            "EXPIRED" => Self::Expired,
            "CANCELLED" | "CANCELED" => Self::Cancelled,
            _ => Self::Other(s),
        })
    }
}

impl Serialize for InvitationStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A Brivo Mobile Pass invitation
/// (`/users/{id}/credentials/digital-invitations`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct DigitalInvitation {
    /// The invitation id.
    #[serde(deserialize_with = "lenient_i64")]
    pub id: i64,
    /// Usually the invitee's e-mail.
    #[serde(
        default,
        deserialize_with = "opt_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub reference_id: Option<String>,
    /// The credential that the pass becomes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_id: Option<CredentialId>,
    /// The code the invitee redeems (redacted in `Debug`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_code: Option<SensitiveString>,
    /// When it was created.
    #[serde(
        default,
        with = "opt_datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub created: Option<DateTime<Utc>>,
    /// When it expires.
    #[serde(
        default,
        with = "opt_datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub expiration: Option<DateTime<Utc>>,
    /// Its state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<InvitationStatus>,
    /// NFC enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nfc_enabled: Option<bool>,
}

/// Options of [`create_mobile_pass_invitation`](crate::Client::create_mobile_pass_invitation).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MobilePassInvitation {
    /// The reference id, usually the invitee's e-mail.
    pub reference_id: String,
    /// Let Brivo e-mail the invitation (default `true`).
    pub send_invitation_email: bool,
    /// Enable NFC (default `false`).
    pub nfc_enabled: bool,
    /// Invitation language: en, fr, es, nl, de, sv (default en).
    pub language: String,
}

impl MobilePassInvitation {
    /// An e-mailed, English, non-NFC invitation for `reference_id`.
    pub fn new(reference_id: impl Into<String>) -> Self {
        Self {
            reference_id: reference_id.into(),
            send_invitation_email: true,
            nfc_enabled: false,
            language: "en".into(),
        }
    }

    /// Whether Brivo e-mails the invitation.
    pub fn send_invitation_email(mut self, send: bool) -> Self {
        self.send_invitation_email = send;
        self
    }

    /// Whether NFC is enabled.
    pub fn nfc_enabled(mut self, nfc: bool) -> Self {
        self.nfc_enabled = nfc;
        self
    }

    /// The invitation language.
    pub fn language(mut self, language: impl Into<String>) -> Self {
        self.language = language.into();
        self
    }
}

/// Filters for [`list_credentials`](crate::Client::list_credentials).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CredentialQuery {
    pub(crate) parts: Vec<(String, &'static str, Vec<String>)>,
}

impl CredentialQuery {
    /// Only assigned or only unassigned credentials.
    pub fn status(mut self, status: CredentialStatus) -> Self {
        let v = match status {
            CredentialStatus::Assigned => "assigned",
            CredentialStatus::Unassigned => "unassigned",
        };
        self.parts.push(("status".into(), "eq", vec![v.into()]));
        self
    }

    /// Credentials whose reference id **contains** `reference` (re-check
    /// equality: several credentials may share a reference id).
    pub fn reference_id_contains(mut self, reference: impl Into<String>) -> Self {
        self.parts
            .push(("reference_id".into(), "eq", vec![reference.into()]));
        self
    }

    /// Credentials whose facility code **contains** `code`.
    pub fn facility_code_contains(mut self, code: impl Into<String>) -> Self {
        self.parts
            .push(("facility_code".into(), "eq", vec![code.into()]));
        self
    }

    /// The `filter` parameter, `None` without filters.
    pub fn filter_string(&self) -> Result<Option<String>, String> {
        super::filter_string(&self.parts)
    }
}

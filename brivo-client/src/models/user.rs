//! Users: the record, what `POST /users` and `PATCH /users/{id}` take, and
//! the listing filters.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::common::{
    CustomFieldId, SensitiveString, UserId, null_as_default, opt_datetime, opt_string_or_number,
    string_or_number_or_null,
};
use super::custom_field::CustomFieldType;

/// A Brivo user (a cardholder, not an administrator).
///
/// Listing calls return fewer fields than [`get_user`](crate::Client::get_user):
/// group members carry only id, external id, names and `suspended`; user
/// lists usually lack custom fields. Every field but `id` is therefore
/// optional or defaults to empty.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct User {
    /// Brivo's id.
    pub id: UserId,
    /// The client-defined id, unique within the account (sent as text; a
    /// number is accepted when reading).
    #[serde(
        default,
        deserialize_with = "opt_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub external_id: Option<String>,
    /// First name.
    #[serde(default, deserialize_with = "string_or_number_or_null")]
    pub first_name: String,
    /// Middle name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// Last name.
    #[serde(default, deserialize_with = "string_or_number_or_null")]
    pub last_name: String,
    /// The user's PIN (redacted in `Debug`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pin: Option<SensitiveString>,
    /// Start of the **PIN's** validity (not the user's access window: that
    /// lives on credential assignments and group membership).
    #[serde(
        default,
        with = "opt_datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub effective_from: Option<DateTime<Utc>>,
    /// End of the PIN's validity.
    #[serde(
        default,
        with = "opt_datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub effective_to: Option<DateTime<Utc>>,
    /// Whether the user is suspended (all credentials stop working).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suspended: Option<bool>,
    /// When the user was created.
    #[serde(
        default,
        with = "opt_datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub created: Option<DateTime<Utc>>,
    /// When the user was last changed.
    #[serde(
        default,
        with = "opt_datetime",
        skip_serializing_if = "Option::is_none"
    )]
    pub updated: Option<DateTime<Utc>>,
    /// Exempt from Bluetooth two-factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ble_two_factor_exempt: Option<bool>,
    /// Custom field values (full user only).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub custom_fields: Vec<CustomFieldValue>,
    /// E-mail addresses. Brivo has no single top-level e-mail.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub emails: Vec<Email>,
    /// Phone numbers.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub phone_numbers: Vec<PhoneNumber>,
}

impl User {
    /// `true` only when Brivo said the user is suspended.
    pub fn is_suspended(&self) -> bool {
        self.suspended == Some(true)
    }

    /// The first e-mail address, if any.
    pub fn primary_email(&self) -> Option<&str> {
        self.emails.first().map(|e| e.address.as_str())
    }

    /// "First Last" (middle name left out).
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
            .trim()
            .to_owned()
    }
}

/// An e-mail address. `kind` is Brivo's free-text `type` ("home", "Work",
/// admin-defined...): compare it case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct Email {
    /// The address.
    #[serde(default, deserialize_with = "string_or_number_or_null")]
    pub address: String,
    /// Brivo's `type`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl Email {
    /// An address with a type such as `"work"`.
    pub fn new(address: impl Into<String>, kind: impl Into<String>) -> Self {
        Self {
            address: address.into(),
            kind: Some(kind.into()),
        }
    }
}

/// A phone number. `kind` is Brivo's free-text `type`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[non_exhaustive]
pub struct PhoneNumber {
    /// The number, as entered.
    #[serde(default, deserialize_with = "string_or_number_or_null")]
    pub number: String,
    /// Brivo's `type`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl PhoneNumber {
    /// A number with a type such as `"mobile"`.
    pub fn new(number: impl Into<String>, kind: impl Into<String>) -> Self {
        Self {
            number: number.into(),
            kind: Some(kind.into()),
        }
    }
}

/// A custom field's value on a user.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CustomFieldValue {
    /// The field's id.
    pub id: CustomFieldId,
    /// The field's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_name: Option<String>,
    /// TEXT, NUMBER or DATE.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_type: Option<CustomFieldType>,
    /// The value as text (numbers and dates included; dates follow the
    /// field's own pattern).
    #[serde(
        default,
        deserialize_with = "opt_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub value: Option<String>,
}

/// The body of `POST /users`.
///
/// ```
/// use brivo_client::{Email, NewUser};
///
/// let user = NewUser::new("Peter", "Quill")
///     .external_id("sync:entrata:42")
///     .email(Email::new("peter.quill@example.com", "work"));
/// let json = serde_json::to_value(&user).unwrap();
/// assert_eq!(json["externalId"], "sync:entrata:42");
/// assert_eq!(json["emails"][0]["type"], "work");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewUser {
    /// Required.
    pub first_name: String,
    /// Required.
    pub last_name: String,
    /// Optional.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// Always sent as a JSON string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// A PIN (4–8 digits, keypad readers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin: Option<SensitiveString>,
    /// Start of the PIN's validity.
    #[serde(with = "opt_datetime", skip_serializing_if = "Option::is_none")]
    pub effective_from: Option<DateTime<Utc>>,
    /// End of the PIN's validity.
    #[serde(with = "opt_datetime", skip_serializing_if = "Option::is_none")]
    pub effective_to: Option<DateTime<Utc>>,
    /// Create the user suspended (accepted by Brivo though not documented).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspended: Option<bool>,
    /// E-mail addresses.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<Email>,
    /// Phone numbers.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub phone_numbers: Vec<PhoneNumber>,
}

impl NewUser {
    /// A user with the two required names.
    pub fn new(first_name: impl Into<String>, last_name: impl Into<String>) -> Self {
        Self {
            first_name: first_name.into(),
            last_name: last_name.into(),
            middle_name: None,
            external_id: None,
            pin: None,
            effective_from: None,
            effective_to: None,
            suspended: None,
            emails: Vec::new(),
            phone_numbers: Vec::new(),
        }
    }

    /// Sets the external id.
    pub fn external_id(mut self, id: impl Into<String>) -> Self {
        self.external_id = Some(id.into());
        self
    }

    /// Sets the middle name.
    pub fn middle_name(mut self, name: impl Into<String>) -> Self {
        self.middle_name = Some(name.into());
        self
    }

    /// Sets the PIN.
    pub fn pin(mut self, pin: impl Into<SensitiveString>) -> Self {
        self.pin = Some(pin.into());
        self
    }

    /// Sets the PIN's validity window.
    pub fn pin_window(mut self, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Self {
        self.effective_from = from;
        self.effective_to = to;
        self
    }

    /// Creates the user suspended (or explicitly not).
    pub fn suspended(mut self, suspended: bool) -> Self {
        self.suspended = Some(suspended);
        self
    }

    /// Adds an e-mail address.
    pub fn email(mut self, email: Email) -> Self {
        self.emails.push(email);
        self
    }

    /// Adds a phone number.
    pub fn phone_number(mut self, phone: PhoneNumber) -> Self {
        self.phone_numbers.push(phone);
        self
    }
}

/// The body of `PATCH /users/{id}`: only the fields set are sent, and Brivo
/// leaves the others unchanged.
///
/// Setting `emails` or `phone_numbers` replaces the whole list. To change
/// suspension use [`set_suspended`](crate::Client::set_suspended); to
/// change custom fields use
/// [`set_custom_field`](crate::Client::set_custom_field).
///
/// ```
/// use brivo_client::UserPatch;
///
/// let patch = UserPatch::default().first_name("Pete");
/// assert_eq!(serde_json::to_string(&patch).unwrap(), r#"{"firstName":"Pete"}"#);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserPatch {
    /// New first name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// New middle name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub middle_name: Option<String>,
    /// New last name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// New external id (never overwrite someone else's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// New PIN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin: Option<SensitiveString>,
    /// New PIN validity start.
    #[serde(with = "opt_datetime", skip_serializing_if = "Option::is_none")]
    pub effective_from: Option<DateTime<Utc>>,
    /// New PIN validity end.
    #[serde(with = "opt_datetime", skip_serializing_if = "Option::is_none")]
    pub effective_to: Option<DateTime<Utc>>,
    /// Replaces every e-mail address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emails: Option<Vec<Email>>,
    /// Replaces every phone number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_numbers: Option<Vec<PhoneNumber>>,
}

impl UserPatch {
    /// Sets the first name.
    pub fn first_name(mut self, v: impl Into<String>) -> Self {
        self.first_name = Some(v.into());
        self
    }

    /// Sets the middle name.
    pub fn middle_name(mut self, v: impl Into<String>) -> Self {
        self.middle_name = Some(v.into());
        self
    }

    /// Sets the last name.
    pub fn last_name(mut self, v: impl Into<String>) -> Self {
        self.last_name = Some(v.into());
        self
    }

    /// Sets the external id.
    pub fn external_id(mut self, v: impl Into<String>) -> Self {
        self.external_id = Some(v.into());
        self
    }

    /// Sets the PIN.
    pub fn pin(mut self, v: impl Into<SensitiveString>) -> Self {
        self.pin = Some(v.into());
        self
    }

    /// Sets the PIN's validity window (a `None` leaves that end unchanged).
    pub fn pin_window(mut self, from: Option<DateTime<Utc>>, to: Option<DateTime<Utc>>) -> Self {
        self.effective_from = from;
        self.effective_to = to;
        self
    }

    /// Replaces the e-mail addresses.
    pub fn emails(mut self, v: Vec<Email>) -> Self {
        self.emails = Some(v);
        self
    }

    /// Replaces the phone numbers.
    pub fn phone_numbers(mut self, v: Vec<PhoneNumber>) -> Self {
        self.phone_numbers = Some(v);
        self
    }

    /// `true` when nothing is set (the call would change nothing).
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// `user_status` values for [`UserQuery::status`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserStatus {
    /// At least one active credential in its window *and* at least one group.
    Active,
    /// Not in any group.
    Unaffiliated,
    /// Suspended.
    Suspended,
}

impl UserStatus {
    pub(crate) fn as_filter(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Unaffiliated => "unaffiliated",
            Self::Suspended => "suspended",
        }
    }
}

/// Filters for [`list_users`](crate::Client::list_users).
///
/// Brivo's `eq` on names is a **contains** match; re-check what you need.
/// There is no filter on `externalId` or e-mail: use
/// [`get_user_by_external_id`](crate::Client::get_user_by_external_id).
///
/// ```
/// use brivo_client::{CustomFieldId, UserQuery, UserStatus};
///
/// let q = UserQuery::default()
///     .status(UserStatus::Suspended)
///     .custom_field_exact(CustomFieldId(2562), "Sales");
/// assert_eq!(
///     q.filter_string().unwrap().as_deref(),
///     Some("user_status__eq:suspended;cf_2562__exact:Sales")
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserQuery {
    pub(crate) parts: Vec<(String, &'static str, Vec<String>)>,
}

impl UserQuery {
    /// Users whose first name *contains* `name`.
    pub fn first_name_contains(mut self, name: impl Into<String>) -> Self {
        self.parts
            .push(("firstname".into(), "eq", vec![name.into()]));
        self
    }

    /// Users whose last name *contains* `name`.
    pub fn last_name_contains(mut self, name: impl Into<String>) -> Self {
        self.parts
            .push(("lastname".into(), "eq", vec![name.into()]));
        self
    }

    /// Users with this status.
    pub fn status(mut self, status: UserStatus) -> Self {
        self.parts
            .push(("user_status".into(), "eq", vec![status.as_filter().into()]));
        self
    }

    /// Users with one of these ids.
    pub fn ids(mut self, ids: impl IntoIterator<Item = UserId>) -> Self {
        self.parts.push((
            "id".into(),
            "eq",
            ids.into_iter().map(|i| i.to_string()).collect(),
        ));
        self
    }

    /// Users whose TEXT custom field equals `value` exactly (`__exact`).
    pub fn custom_field_exact(mut self, field: CustomFieldId, value: impl Into<String>) -> Self {
        self.parts
            .push((format!("cf_{field}"), "exact", vec![value.into()]));
        self
    }

    /// The `filter` parameter, `None` without filters; an error when a value
    /// holds `,` or `;`, which Brivo's filter syntax cannot express.
    pub fn filter_string(&self) -> Result<Option<String>, String> {
        super::filter_string(&self.parts)
    }
}

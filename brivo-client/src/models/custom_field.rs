//! Custom field definitions.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::common::{CustomFieldId, opt_string_or_number};

/// A custom field's type; unknown types are kept, not failed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CustomFieldType {
    /// Free text.
    Text,
    /// A number (its values still travel as strings).
    Number,
    /// A date in the field's own `pattern`.
    Date,
    /// A type this crate does not know, as Brivo spelled it.
    Other(String),
}

impl CustomFieldType {
    /// Brivo's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Text => "TEXT",
            Self::Number => "NUMBER",
            Self::Date => "DATE",
            Self::Other(s) => s,
        }
    }
}

impl fmt::Display for CustomFieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CustomFieldType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = super::common::string_or_number_or_null(d)?;
        Ok(match s.to_ascii_uppercase().as_str() {
            "TEXT" => Self::Text,
            "NUMBER" => Self::Number,
            "DATE" => Self::Date,
            _ => Self::Other(s),
        })
    }
}

impl Serialize for CustomFieldType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A custom field definition (`GET /custom-fields`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CustomField {
    /// Brivo's id.
    pub id: CustomFieldId,
    /// The name; look fields up by it case-insensitively.
    #[serde(default, deserialize_with = "super::common::string_or_number_or_null")]
    pub field_name: String,
    /// The type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_type: Option<CustomFieldType>,
    /// Display order (Brivo sends it as a string).
    #[serde(
        default,
        deserialize_with = "opt_string_or_number",
        skip_serializing_if = "Option::is_none"
    )]
    pub display_order: Option<String>,
    /// Java-style date pattern of a DATE field, e.g. `MM/dd/yyyy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
}

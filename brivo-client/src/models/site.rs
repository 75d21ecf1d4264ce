//! Sites and access points (read only).

use serde::{Deserialize, Serialize};

use super::common::{AccessPointId, SiteId, opt_lenient_i64, string_or_number_or_null};

/// A site. Brivo calls its name `siteName` (except in `/sites/proximity`,
/// which says `name`; both are read).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Site {
    /// Brivo's id.
    pub id: SiteId,
    /// The name.
    #[serde(default, alias = "name", deserialize_with = "string_or_number_or_null")]
    pub site_name: String,
    /// IANA zone name, often a legacy alias such as `US/Eastern`
    /// (`GET /sites/{id}` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Postal address (`GET /sites/{id}` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

impl Site {
    /// The site's time zone, if Brivo gave one that chrono-tz knows
    /// (legacy aliases such as `US/Eastern` included).
    ///
    /// ```
    /// # use brivo_client::Site;
    /// let site: Site = serde_json::from_str(
    ///     r#"{"id":111,"siteName":"Site 1","timeZone":"US/Eastern"}"#).unwrap();
    /// assert_eq!(site.tz(), Some(chrono_tz::US::Eastern));
    /// ```
    pub fn tz(&self) -> Option<chrono_tz::Tz> {
        self.time_zone.as_deref()?.trim().parse().ok()
    }
}

/// A site's address; every part is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct Address {
    /// Line 1.
    pub street_address1: Option<String>,
    /// Line 2.
    pub street_address2: Option<String>,
    /// City.
    pub city: Option<String>,
    /// State or region.
    pub state: Option<String>,
    /// Postal code.
    pub postal_code: Option<String>,
    /// Country.
    pub country: Option<String>,
}

/// An access point: a door, floor or lock.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AccessPoint {
    /// Brivo's id.
    pub id: AccessPointId,
    /// The name.
    #[serde(default, deserialize_with = "string_or_number_or_null")]
    pub name: String,
    /// The site it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_id: Option<SiteId>,
    /// That site's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_name: Option<String>,
    /// The control panel.
    #[serde(
        default,
        deserialize_with = "opt_lenient_i64",
        skip_serializing_if = "Option::is_none"
    )]
    pub control_panel_id: Option<i64>,
    /// Kind, e.g. `"Door"` (site listings only).
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Remote activation (unlock) enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation_enabled: Option<bool>,
    /// Two-factor enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub two_factor_enabled: Option<bool>,
}

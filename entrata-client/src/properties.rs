//! `getProperties` (`properties` service) and `getMitsPropertyUnits`
//! (`propertyunits` service), which carries the property's time zone.

use std::str::FromStr;

use chrono_tz::Tz;
use serde::Deserialize;
use serde::de::Deserializer;
use serde_json::Value;

use crate::client::{Call, Client};
use crate::de::{self, Record};
use crate::envelope::{Output, Params, decode_body};
use crate::error::Error;
use crate::model::{PropertyId, SkippedRecord};

/// Parameters of `getProperties` (all optional).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PropertiesRequest {
    /// Only these properties (default: every property the user can see).
    pub property_ids: Vec<PropertyId>,
    /// Only the property with this lookup code.
    pub property_lookup_code: Option<String>,
    /// Include properties of any status (disabled ones too).
    pub show_all_status: Option<bool>,
}

impl PropertiesRequest {
    /// Every property.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only these properties.
    #[must_use]
    pub fn property_ids(mut self, ids: impl IntoIterator<Item = PropertyId>) -> Self {
        self.property_ids = ids.into_iter().collect();
        self
    }

    /// `showAllStatus`.
    #[must_use]
    pub fn show_all_status(mut self, on: bool) -> Self {
        self.show_all_status = Some(on);
        self
    }

    /// `propertyLookupCode`.
    #[must_use]
    pub fn property_lookup_code(mut self, code: impl Into<String>) -> Self {
        self.property_lookup_code = Some(code.into());
        self
    }
}

/// A property, from `getProperties`. It has no time zone: see
/// [`Client::get_mits_property_units`].
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Property {
    /// The property id.
    #[serde(rename = "PropertyID", alias = "PropertyId", alias = "propertyId")]
    pub id: PropertyId,
    /// Its marketing name.
    #[serde(rename = "MarketingName", default, deserialize_with = "de::text")]
    pub marketing_name: Option<String>,
    /// E.g. `"Student"`, `"Apartment"`.
    #[serde(rename = "Type", default, deserialize_with = "de::text")]
    pub property_type: Option<String>,
    /// Year built.
    #[serde(rename = "YearBuilt", default, deserialize_with = "de::text")]
    pub year_built: Option<String>,
    /// Website.
    #[serde(
        rename = "webSite",
        alias = "WebSite",
        default,
        deserialize_with = "de::text"
    )]
    pub website: Option<String>,
    /// The parent property of a phase.
    #[serde(rename = "ParentPropertyID", default, deserialize_with = "de::opt_id")]
    pub parent_property_id: Option<PropertyId>,
    /// Disabled in Entrata.
    #[serde(rename = "IsDisabled", default, deserialize_with = "de::opt_bool")]
    pub is_disabled: Option<bool>,
    /// The property's address.
    #[serde(rename = "Address", default)]
    pub address: Option<PropertyAddress>,
    /// Lease terms offered.
    #[serde(rename = "LeaseTerms", default, deserialize_with = "de::wrapped")]
    pub lease_terms: Vec<LeaseTerm>,
}

impl Property {
    /// The marketing name, or the id when there is none.
    pub fn name(&self) -> String {
        self.marketing_name
            .clone()
            .unwrap_or_else(|| self.id.to_string())
    }
}

impl Record for Property {
    const KIND: &'static str = "property";
    fn record_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

/// A property's postal address.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct PropertyAddress {
    /// Street.
    #[serde(rename = "Address", deserialize_with = "de::text")]
    pub street: Option<String>,
    /// City.
    #[serde(rename = "City", deserialize_with = "de::text")]
    pub city: Option<String>,
    /// State.
    #[serde(rename = "State", alias = "StateCode", deserialize_with = "de::text")]
    pub state: Option<String>,
    /// Postal code.
    #[serde(rename = "PostalCode", deserialize_with = "de::text")]
    pub postal_code: Option<String>,
    /// Country.
    #[serde(rename = "Country", deserialize_with = "de::text")]
    pub country: Option<String>,
}

impl PropertyAddress {
    /// The address's time zone by [`zone_for_address`](crate::zone_for_address)
    /// (state, and city where the state is split): a fallback for when
    /// `getMitsPropertyUnits` is refused. `None` without a state, outside
    /// the US (a `Country` other than US or Puerto Rico), or where the
    /// table does not know the city.
    ///
    /// ```
    /// use entrata_client::GetProperties;
    ///
    /// let props = GetProperties::decode(br#"{"response":{"code":200,"result":{"PhysicalProperty":{"Property":[
    ///   {"PropertyID":1,"Address":{"City":"El Paso","State":"TX","Country":"US"}},
    ///   {"PropertyID":2,"Address":{"City":"Smallville","State":"TX","Country":"US"}}]}}}}"#)?;
    /// let zone = |i: usize| props.properties[i].address.as_ref().and_then(|a| a.time_zone());
    /// assert_eq!(zone(0), Some(chrono_tz::America::Denver));
    /// assert_eq!(zone(1), None); // Texas is split and the city is not on the list
    /// # Ok::<(), entrata_client::Error>(())
    /// ```
    pub fn time_zone(&self) -> Option<Tz> {
        let in_us = self.country.as_deref().is_none_or(|c| {
            let c = c.trim();
            [
                "US",
                "USA",
                "United States",
                "United States of America",
                "PR",
                "Puerto Rico",
            ]
            .iter()
            .any(|k| c.eq_ignore_ascii_case(k))
        });
        if !in_us {
            return None;
        }
        crate::zone_for_address(self.state.as_deref()?, self.city.as_deref())
    }
}

/// A lease term of a property.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct LeaseTerm {
    /// The term id.
    #[serde(rename = "Id", deserialize_with = "de::opt_id")]
    pub id: Option<u64>,
    /// Its name (e.g. `"2024/2025"`).
    #[serde(rename = "Name", deserialize_with = "de::text")]
    pub name: Option<String>,
    /// Months.
    #[serde(rename = "TermMonths", deserialize_with = "de::opt_u32")]
    pub term_months: Option<u32>,
    /// Offered to prospects.
    #[serde(rename = "IsProspect", deserialize_with = "de::opt_bool")]
    pub is_prospect: Option<bool>,
    /// Offered for renewals.
    #[serde(rename = "IsRenewal", deserialize_with = "de::opt_bool")]
    pub is_renewal: Option<bool>,
}

/// The answer of `getProperties`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct Properties {
    /// The properties that decoded.
    #[serde(
        rename = "PhysicalProperty",
        default,
        deserialize_with = "de::tolerant_wrapped"
    )]
    pub properties: Vec<Property>,
    /// Properties that could not be decoded.
    #[serde(skip)]
    pub skipped: Vec<SkippedRecord>,
}

impl Output for Properties {
    const EXPECTED: &'static [&'static str] = &["PhysicalProperty"];

    fn attach_skipped(&mut self, skipped: Vec<SkippedRecord>) {
        self.skipped = skipped;
    }
}

/// The `getProperties` method (service `properties`, r1).
///
/// ```
/// use entrata_client::GetProperties;
///
/// let props = GetProperties::decode(br#"{"response":{"code":200,"result":{"PhysicalProperty":
///   {"Property":[{"PropertyID":518044,"MarketingName":"Shortbread Lofts","IsDisabled":0}]}}}}"#)?;
/// assert_eq!(props.properties[0].id.get(), 518044);
/// assert_eq!(props.properties[0].is_disabled, Some(false));
/// # Ok::<(), entrata_client::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct GetProperties;

impl GetProperties {
    /// The remote method's name.
    pub const NAME: &'static str = "getProperties";

    /// Decodes a `getProperties` response body.
    pub fn decode(body: &[u8]) -> Result<Properties, Error> {
        decode_body(Self::NAME, 200, body)
    }
}

/// Parameters of `getMitsPropertyUnits`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MitsPropertyUnitsRequest {
    /// The properties (required).
    pub property_ids: Vec<PropertyId>,
    /// `availableUnitsOnly`.
    pub available_units_only: Option<bool>,
    /// `usePropertyPreferences`.
    pub use_property_preferences: Option<bool>,
    /// `includeDisabledFloorplans`.
    pub include_disabled_floorplans: Option<bool>,
    /// `includeDisabledUnits`.
    pub include_disabled_units: Option<bool>,
    /// `showUnitSpaces`.
    pub show_unit_spaces: Option<bool>,
}

impl MitsPropertyUnitsRequest {
    /// For these properties.
    pub fn new(property_ids: impl IntoIterator<Item = PropertyId>) -> Self {
        Self {
            property_ids: property_ids.into_iter().collect(),
            ..Self::default()
        }
    }
}

/// A property as `getMitsPropertyUnits` describes it: the only place
/// Entrata gives a property's time zone.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct MitsProperty {
    /// The property id (from `PropertyID`, in any of its MITS spellings).
    #[serde(
        rename = "PropertyID",
        alias = "PropertyId",
        deserialize_with = "mits_property_id"
    )]
    pub id: PropertyId,
    /// The marketing name, when sent at this level.
    #[serde(rename = "MarketingName", default, deserialize_with = "de::text")]
    pub marketing_name: Option<String>,
    /// `ILS_Identification`: time zone and rental type.
    #[serde(rename = "ILS_Identification", default)]
    pub ils_identification: Option<IlsIdentification>,
}

impl MitsProperty {
    /// The property's IANA time zone, if Entrata's zone name is known
    /// (see [`iana_time_zone`]).
    pub fn time_zone(&self) -> Option<Tz> {
        let ils = self.ils_identification.as_ref()?;
        iana_time_zone(ils.time_zone.as_deref()?)
    }
}

impl Record for MitsProperty {
    const KIND: &'static str = "property";
    fn record_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

/// `ILS_Identification` of a MITS property.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct IlsIdentification {
    /// Entrata's zone name, e.g. `"Central Standard Time (GMT -0600)"`.
    #[serde(rename = "TimeZone", deserialize_with = "de::text")]
    pub time_zone: Option<String>,
    /// `DaylightSaving` as sent (`"0"`/`"1"`); its meaning is not documented.
    #[serde(rename = "DaylightSaving", deserialize_with = "de::opt_bool")]
    pub daylight_saving: Option<bool>,
}

/// Reads `PropertyID` as a number, a string, or a MITS block
/// (`{"Identification": {"@attributes": {"IDValue": "..."}}}`, with
/// `IDValue` as an attribute or a child, the identification one or many).
fn mits_property_id<'de, D: Deserializer<'de>>(d: D) -> Result<PropertyId, D::Error> {
    fn find(v: &Value) -> Option<u64> {
        match v {
            Value::Number(n) => n.as_u64(),
            Value::String(s) => s.trim().parse().ok(),
            Value::Array(items) => items.iter().find_map(find),
            Value::Object(map) => ["IDValue", "IdValue", "Id", "ID", "id"]
                .iter()
                .find_map(|k| map.get(*k).and_then(find))
                .or_else(|| map.get("@attributes").and_then(find))
                .or_else(|| map.get("Identification").and_then(find)),
            _ => None,
        }
    }
    let v = Value::deserialize(d)?;
    find(&v)
        .map(PropertyId)
        .ok_or_else(|| serde::de::Error::custom(format_args!("no property id in `{v}`")))
}

/// Corrects a zone from [`iana_time_zone`] with the property's state:
/// Entrata's "Mountain" names both Denver, which observes daylight saving,
/// and Arizona, which does not. A property in Arizona (`"AZ"` or
/// `"Arizona"`, any case) whose zone came out as `America/Denver` is in
/// `America/Phoenix`; every other zone and state is returned as it is. (The
/// Navajo Nation, in Arizona, does observe daylight saving: configure such a
/// property's zone explicitly.)
///
/// ```
/// use entrata_client::{iana_time_zone, zone_in_state};
/// use chrono_tz::America;
///
/// let mountain = iana_time_zone("Mountain Standard Time (GMT -0700)").unwrap();
/// assert_eq!(zone_in_state(mountain, Some("AZ")), America::Phoenix);
/// assert_eq!(zone_in_state(mountain, Some("CO")), America::Denver);
/// assert_eq!(zone_in_state(mountain, None), America::Denver);
/// assert_eq!(zone_in_state(America::Chicago, Some("AZ")), America::Chicago);
/// ```
pub fn zone_in_state(zone: Tz, state: Option<&str>) -> Tz {
    let in_arizona = state.is_some_and(|s| {
        let s = s.trim();
        s.eq_ignore_ascii_case("AZ") || s.eq_ignore_ascii_case("Arizona")
    });
    if in_arizona && zone == chrono_tz::America::Denver {
        chrono_tz::America::Phoenix
    } else {
        zone
    }
}

/// Maps Entrata's time-zone names to IANA zones.
///
/// Entrata's MITS feed names zones the Windows way, with an offset:
/// `"Central Standard Time (GMT -0600)"`. The name decides: Eastern →
/// `America/New_York`, Central → `America/Chicago`, Mountain →
/// `America/Denver`, Arizona or "US Mountain" → `America/Phoenix`, Pacific →
/// `America/Los_Angeles`, Alaska → `America/Anchorage`, Hawaii →
/// `Pacific/Honolulu`, Atlantic → `America/Puerto_Rico`. An IANA name
/// (`"America/Denver"`) is taken as is. Otherwise a bare `GMT ±hhmm`
/// offset maps to the fixed `Etc/GMT∓h` zone (no daylight saving), and
/// anything else is `None`: pass your own zone then.
///
/// The `DaylightSaving` flag is not used (Entrata sends `"0"` for zones that
/// do observe it). An Arizona property whose zone says only "Mountain" maps
/// to `America/Denver` here: correct it with the property's state by
/// [`zone_in_state`].
///
/// ```
/// use entrata_client::iana_time_zone;
///
/// assert_eq!(iana_time_zone("Central Standard Time (GMT -0600)"), Some(chrono_tz::America::Chicago));
/// assert_eq!(iana_time_zone("America/Denver"), Some(chrono_tz::America::Denver));
/// assert_eq!(iana_time_zone("(GMT -0500)"), Some(chrono_tz::Etc::GMTPlus5));
/// assert_eq!(iana_time_zone("Moon Time"), None);
/// ```
pub fn iana_time_zone(name: &str) -> Option<Tz> {
    use chrono_tz::{America, Etc, Pacific};
    let t = name.trim();
    if let Ok(tz) = Tz::from_str(t) {
        return Some(tz);
    }
    let lower = t.to_ascii_lowercase();
    let by_name = [
        ("arizona", America::Phoenix),
        ("us mountain", America::Phoenix),
        ("eastern", America::New_York),
        ("central", America::Chicago),
        ("mountain", America::Denver),
        ("pacific", America::Los_Angeles),
        ("alaska", America::Anchorage),
        ("hawaii", Pacific::Honolulu),
        ("atlantic", America::Puerto_Rico),
    ];
    if let Some((_, tz)) = by_name.iter().find(|(k, _)| lower.contains(k)) {
        return Some(*tz);
    }
    // "(GMT -0600)" → Etc/GMT+6 (POSIX sign convention)
    let at = lower.find("gmt").or_else(|| lower.find("utc"))?;
    let rest: String = lower[at + 3..]
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ')')
        .collect();
    if rest.is_empty() {
        return Some(Etc::GMT);
    }
    let (sign, digits) = rest.split_at(rest.find(|c: char| c.is_ascii_digit())?);
    let hours: i32 = digits.get(..2).unwrap_or(digits).parse().ok()?;
    let minutes: i32 = digits.get(2..4).and_then(|m| m.parse().ok()).unwrap_or(0);
    if minutes != 0 || hours > 14 {
        return None;
    }
    let east = match sign {
        "-" => -hours,
        "+" | "" => hours,
        _ => return None,
    };
    if east == 0 {
        return Some(Etc::GMT);
    }
    Tz::from_str(&format!("Etc/GMT{:+}", -east)).ok()
}

/// The answer of `getMitsPropertyUnits` (the property level; units and
/// floor plans are not modelled yet).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct MitsPropertyUnits {
    /// The properties that decoded.
    #[serde(
        rename = "PhysicalProperty",
        default,
        deserialize_with = "de::tolerant_wrapped"
    )]
    pub properties: Vec<MitsProperty>,
    /// Properties that could not be decoded.
    #[serde(skip)]
    pub skipped: Vec<SkippedRecord>,
}

impl Output for MitsPropertyUnits {
    const EXPECTED: &'static [&'static str] = &["PhysicalProperty"];

    fn attach_skipped(&mut self, skipped: Vec<SkippedRecord>) {
        self.skipped = skipped;
    }
}

/// The `getMitsPropertyUnits` method (service `propertyunits`, r1).
///
/// ```
/// use entrata_client::GetMitsPropertyUnits;
///
/// let body = br#"{"response":{"code":200,"result":{"PhysicalProperty":{"Property":[{
///   "PropertyID":{"Identification":{"@attributes":{"IDValue":"739084","IDType":"property"}}},
///   "ILS_Identification":{"DaylightSaving":"0","TimeZone":"Central Standard Time (GMT -0600)",
///     "@attributes":{"ILS_IdentificationType":"Apartment","RentalType":"Unspecified"}}}]}}}}"#;
/// let mits = GetMitsPropertyUnits::decode(body)?;
/// assert_eq!(mits.properties[0].id.get(), 739084);
/// assert_eq!(mits.properties[0].time_zone(), Some(chrono_tz::America::Chicago));
/// # Ok::<(), entrata_client::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct GetMitsPropertyUnits;

impl GetMitsPropertyUnits {
    /// The remote method's name.
    pub const NAME: &'static str = "getMitsPropertyUnits";

    /// Decodes a `getMitsPropertyUnits` response body.
    pub fn decode(body: &[u8]) -> Result<MitsPropertyUnits, Error> {
        decode_body(Self::NAME, 200, body)
    }
}

impl Client {
    /// `getProperties`: the properties the API user can see.
    pub async fn get_properties(&self, request: &PropertiesRequest) -> Result<Properties, Error> {
        let mut p = Params::new();
        p.list("propertyIds", &request.property_ids)
            .text(
                "propertyLookupCode",
                request.property_lookup_code.as_deref(),
            )
            .flag("showAllStatus", request.show_all_status);
        self.call(&Call {
            service: "properties",
            name: GetProperties::NAME,
            version: "r1",
            params: p,
            page: None,
        })
        .await
    }

    /// `getMitsPropertyUnits`: MITS property data, including each
    /// property's time zone ([`MitsProperty::time_zone`]).
    pub async fn get_mits_property_units(
        &self,
        request: &MitsPropertyUnitsRequest,
    ) -> Result<MitsPropertyUnits, Error> {
        if request.property_ids.is_empty() {
            return Err(Error::InvalidRequest {
                method: GetMitsPropertyUnits::NAME,
                message: "at least one property id is required".to_owned(),
            });
        }
        let mut p = Params::new();
        p.list("propertyIds", &request.property_ids)
            .flag("availableUnitsOnly", request.available_units_only)
            .flag("usePropertyPreferences", request.use_property_preferences)
            .flag(
                "includeDisabledFloorplans",
                request.include_disabled_floorplans,
            )
            .flag("includeDisabledUnits", request.include_disabled_units)
            .flag("showUnitSpaces", request.show_unit_spaces);
        self.call(&Call {
            service: "propertyunits",
            name: GetMitsPropertyUnits::NAME,
            version: "r1",
            params: p,
            page: None,
        })
        .await
    }

    /// The IANA time zone of a property, from `getMitsPropertyUnits`;
    /// `Ok(None)` when Entrata names no zone, or one [`iana_time_zone`]
    /// does not know.
    pub async fn property_time_zone(&self, property_id: PropertyId) -> Result<Option<Tz>, Error> {
        let mits = self
            .get_mits_property_units(&MitsPropertyUnitsRequest::new([property_id]))
            .await?;
        Ok(mits
            .properties
            .iter()
            .find(|p| p.id == property_id)
            .or(mits.properties.first())
            .and_then(MitsProperty::time_zone))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Etc, Pacific};

    #[test]
    fn zone_names() {
        for (name, tz) in [
            ("Eastern Standard Time (GMT -0500)", America::New_York),
            ("Eastern Daylight Time", America::New_York),
            ("Central Standard Time (GMT -0600)", America::Chicago),
            ("Mountain Standard Time (GMT -0700)", America::Denver),
            ("US Mountain Standard Time", America::Phoenix),
            ("Arizona", America::Phoenix),
            ("Pacific Standard Time (GMT -0800)", America::Los_Angeles),
            ("Alaskan Standard Time", America::Anchorage),
            ("Hawaiian Standard Time (GMT -1000)", Pacific::Honolulu),
            ("America/Chicago", America::Chicago),
            ("(GMT -0600)", Etc::GMTPlus6),
            ("GMT+0100", Etc::GMTMinus1),
            ("GMT", chrono_tz::GMT),
            ("UTC -0000", Etc::GMT),
        ] {
            assert_eq!(iana_time_zone(name), Some(tz), "{name}");
        }
        for name in ["", "Moon", "GMT -0530", "GMT -9900"] {
            assert_eq!(iana_time_zone(name), None, "{name}");
        }
    }
}

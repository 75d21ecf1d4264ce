//! `getPropertyUnits` and `getUnitTypes` (`propertyunits` service).

use chrono::NaiveDate;
use serde::Deserialize;

use crate::client::{Call, Client};
use crate::de::{self, Record};
use crate::envelope::{Output, Params, decode_body};
use crate::error::Error;
use crate::model::{
    BuildingId, FloorPlanId, Money, PropertyId, SkippedRecord, UnitId, UnitSpaceId, UnitTypeId,
    opt_money,
};

/// Parameters of `getPropertyUnits`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PropertyUnitsRequest {
    /// The properties (required).
    pub property_ids: Vec<PropertyId>,
    /// `availableUnitsOnly`.
    pub available_units_only: Option<bool>,
    /// `usePropertyPreferences` (needs `availableUnitsOnly`).
    pub use_property_preferences: Option<bool>,
    /// `includeDisabledFloorplans`.
    pub include_disabled_floorplans: Option<bool>,
    /// `includeDisabledUnits`.
    pub include_disabled_units: Option<bool>,
}

impl PropertyUnitsRequest {
    /// The units of these properties.
    pub fn new(property_ids: impl IntoIterator<Item = PropertyId>) -> Self {
        Self {
            property_ids: property_ids.into_iter().collect(),
            ..Self::default()
        }
    }

    /// `includeDisabledUnits`.
    #[must_use]
    pub fn include_disabled_units(mut self, on: bool) -> Self {
        self.include_disabled_units = Some(on);
        self
    }

    /// `availableUnitsOnly`.
    #[must_use]
    pub fn available_units_only(mut self, on: bool) -> Self {
        self.available_units_only = Some(on);
        self
    }
}

/// A property and its units, from `getPropertyUnits`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UnitsProperty {
    /// The property id.
    pub property_id: PropertyId,
    /// Its name.
    #[serde(default, deserialize_with = "de::text")]
    pub property_name: Option<String>,
    /// Buildings.
    #[serde(default, deserialize_with = "de::opt_u32")]
    pub building_count: Option<u32>,
    /// Units.
    #[serde(default, deserialize_with = "de::opt_u32")]
    pub unit_count: Option<u32>,
    /// The units that decoded (malformed ones are skipped and reported).
    #[serde(default, deserialize_with = "de::tolerant_wrapped")]
    pub units: Vec<Unit>,
}

impl Record for UnitsProperty {
    const KIND: &'static str = "property";
    fn record_id(&self) -> Option<String> {
        Some(self.property_id.to_string())
    }
}

/// A unit.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Unit {
    /// The unit id.
    #[serde(alias = "propertyUnitId", alias = "unitId")]
    pub id: UnitId,
    /// The unit number (text: `"302"`, `"6285-D"`).
    #[serde(default, deserialize_with = "de::text")]
    pub unit_number: Option<String>,
    /// The building.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub building_id: Option<BuildingId>,
    /// The building's name.
    #[serde(default, deserialize_with = "de::text")]
    pub building_name: Option<String>,
    /// The floor plan.
    #[serde(default, alias = "floorPlanId", deserialize_with = "de::opt_id")]
    pub floorplan_id: Option<FloorPlanId>,
    /// The floor plan's name.
    #[serde(default, alias = "floorPlanName", deserialize_with = "de::text")]
    pub floorplan_name: Option<String>,
    /// The unit type.
    #[serde(default, deserialize_with = "de::opt_id")]
    pub unit_type_id: Option<UnitTypeId>,
    /// The unit type's name.
    #[serde(default, deserialize_with = "de::text")]
    pub unit_type_name: Option<String>,
    /// The floor.
    #[serde(default, deserialize_with = "de::text")]
    pub floor_number: Option<String>,
    /// Bedrooms.
    #[serde(default, deserialize_with = "de::opt_f64")]
    pub no_of_bedrooms: Option<f64>,
    /// Bathrooms.
    #[serde(default, deserialize_with = "de::opt_f64")]
    pub no_of_bathrooms: Option<f64>,
    /// Square feet.
    #[serde(default, deserialize_with = "de::opt_f64")]
    pub square_feet: Option<f64>,
    /// The unit's spaces (beds).
    #[serde(default, deserialize_with = "de::wrapped")]
    pub unit_spaces: Vec<PropertyUnitSpace>,
}

impl Record for Unit {
    const KIND: &'static str = "unit";
    fn record_id(&self) -> Option<String> {
        Some(self.id.to_string())
    }
}

/// A space of a unit, from `getPropertyUnits`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PropertyUnitSpace {
    /// The unit space id.
    pub unit_space_id: UnitSpaceId,
    /// Its number (e.g. `"302-A"`).
    #[serde(default, deserialize_with = "de::text")]
    pub unit_number: Option<String>,
    /// E.g. `"Unoccupied"`.
    #[serde(default, deserialize_with = "de::text")]
    pub availability_status: Option<String>,
    /// Available from.
    #[serde(default, deserialize_with = "de::opt_date")]
    pub available_date: Option<NaiveDate>,
    /// Make-ready date.
    #[serde(default, deserialize_with = "de::opt_date")]
    pub make_ready_date: Option<NaiveDate>,
}

/// The answer of `getPropertyUnits`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[non_exhaustive]
pub struct PropertyUnits {
    /// The properties with their units.
    #[serde(default, deserialize_with = "de::tolerant_wrapped")]
    pub properties: Vec<UnitsProperty>,
    /// Properties and units that could not be decoded.
    #[serde(skip)]
    pub skipped: Vec<SkippedRecord>,
}

impl Output for PropertyUnits {
    const EXPECTED: &'static [&'static str] = &["properties"];

    fn attach_skipped(&mut self, skipped: Vec<SkippedRecord>) {
        self.skipped = skipped;
    }
}

/// The `getPropertyUnits` method (service `propertyunits`, r1).
///
/// ```
/// use entrata_client::GetPropertyUnits;
///
/// // one property and one unit, each collapsed to an object
/// let units = GetPropertyUnits::decode(br#"{"response":{"requestId":15,"result":{"properties":{"property":{
///   "propertyId":1234,"propertyName":"property name",
///   "units":{"unit":{"id":5678,"unitNumber":302,"buildingId":34,"floorPlanId":"123"}}}}}}}"#)?;
/// let unit = &units.properties[0].units[0];
/// assert_eq!((unit.id.get(), unit.unit_number.as_deref()), (5678, Some("302")));
/// assert_eq!(unit.floorplan_id.map(|f| f.get()), Some(123));
/// # Ok::<(), entrata_client::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct GetPropertyUnits;

impl GetPropertyUnits {
    /// The remote method's name.
    pub const NAME: &'static str = "getPropertyUnits";

    /// Decodes a `getPropertyUnits` response body.
    pub fn decode(body: &[u8]) -> Result<PropertyUnits, Error> {
        decode_body(Self::NAME, 200, body)
    }
}

/// A unit type, from `getUnitTypes`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct UnitType {
    /// `identificationType`: the unit type id.
    pub identification_type: Option<UnitTypeIdentification>,
    /// The name.
    #[serde(deserialize_with = "de::text")]
    pub name: Option<String>,
    /// The floor plan it belongs to.
    pub floorplan: Option<UnitTypeFloorplan>,
    /// Bedrooms.
    #[serde(rename = "unitBedRooms", deserialize_with = "de::opt_f64")]
    pub bedrooms: Option<f64>,
    /// Bathrooms.
    #[serde(rename = "unitBathrooms", deserialize_with = "de::opt_f64")]
    pub bathrooms: Option<f64>,
    /// Smallest square feet.
    #[serde(deserialize_with = "de::opt_f64")]
    pub min_square_feet: Option<f64>,
    /// Largest square feet.
    #[serde(deserialize_with = "de::opt_f64")]
    pub max_square_feet: Option<f64>,
    /// Lowest market rent.
    #[serde(deserialize_with = "opt_money")]
    pub min_market_rent: Option<Money>,
    /// Highest market rent.
    #[serde(deserialize_with = "opt_money")]
    pub max_market_rent: Option<Money>,
}

impl UnitType {
    /// The unit type id.
    pub fn id(&self) -> Option<UnitTypeId> {
        self.identification_type.as_ref()?.id_value
    }
}

impl Record for UnitType {
    const KIND: &'static str = "unit type";
    fn record_id(&self) -> Option<String> {
        self.id().map(|i| i.to_string())
    }
}

/// `identificationType` of a unit type.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct UnitTypeIdentification {
    /// The id.
    #[serde(rename = "idValue", alias = "IDValue", deserialize_with = "de::opt_id")]
    pub id_value: Option<UnitTypeId>,
}

/// The floor plan of a unit type: `{"key": {"@attributes": {"Id": ...}, "@value": name}}`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct UnitTypeFloorplan {
    /// The floor plan key.
    pub key: Option<FloorplanKey>,
}

/// A floor plan reference in `@attributes`/`@value` form.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct FloorplanKey {
    /// Its attributes.
    #[serde(rename = "@attributes")]
    pub attributes: Option<FloorplanKeyAttributes>,
    /// Its name.
    #[serde(rename = "@value", deserialize_with = "de::text")]
    pub name: Option<String>,
}

/// The attributes of a [`FloorplanKey`].
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct FloorplanKeyAttributes {
    /// The floor plan id.
    #[serde(rename = "Id", alias = "id", deserialize_with = "de::opt_id")]
    pub id: Option<FloorPlanId>,
}

/// The answer of `getUnitTypes`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UnitTypes {
    /// The unit types that decoded.
    #[serde(default, deserialize_with = "de::tolerant_wrapped")]
    pub unit_types: Vec<UnitType>,
    /// Unit types that could not be decoded.
    #[serde(skip)]
    pub skipped: Vec<SkippedRecord>,
}

impl Output for UnitTypes {
    const EXPECTED: &'static [&'static str] = &["unitTypes"];

    fn attach_skipped(&mut self, skipped: Vec<SkippedRecord>) {
        self.skipped = skipped;
    }
}

/// The `getUnitTypes` method (service `propertyunits`, r1).
///
/// ```
/// use entrata_client::GetUnitTypes;
///
/// let types = GetUnitTypes::decode(br#"{"response":{"requestId":15,"result":{"unitTypes":{"unitType":[{
///   "identificationType":{"@attributes":{"idType":"unitTypeId"},"idValue":"618382"},"name":"S1",
///   "floorplan":{"key":{"@attributes":{"Id":"543312"},"@value":"FPN"}},"minMarketRent":"1,565.00"}]}}}}"#)?;
/// let t = &types.unit_types[0];
/// assert_eq!(t.id().map(|i| i.get()), Some(618382));
/// assert_eq!(t.min_market_rent.map(|m| m.cents()), Some(156_500));
/// # Ok::<(), entrata_client::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct GetUnitTypes;

impl GetUnitTypes {
    /// The remote method's name.
    pub const NAME: &'static str = "getUnitTypes";

    /// Decodes a `getUnitTypes` response body.
    pub fn decode(body: &[u8]) -> Result<UnitTypes, Error> {
        decode_body(Self::NAME, 200, body)
    }
}

impl Client {
    /// `getPropertyUnits`: the units (and unit spaces) of properties.
    pub async fn get_property_units(
        &self,
        request: &PropertyUnitsRequest,
    ) -> Result<PropertyUnits, Error> {
        if request.property_ids.is_empty() {
            return Err(Error::InvalidRequest {
                method: GetPropertyUnits::NAME,
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
            .flag("includeDisabledUnits", request.include_disabled_units);
        self.call(&Call {
            service: "propertyunits",
            name: GetPropertyUnits::NAME,
            version: "r1",
            params: p,
            page: None,
        })
        .await
    }

    /// `getUnitTypes` of a property.
    pub async fn get_unit_types(&self, property_id: PropertyId) -> Result<UnitTypes, Error> {
        let mut p = Params::new();
        p.text("propertyId", Some(property_id));
        self.call(&Call {
            service: "propertyunits",
            name: GetUnitTypes::NAME,
            version: "r1",
            params: p,
            page: None,
        })
        .await
    }
}

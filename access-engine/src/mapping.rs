//! Mappings from facts to Brivo groups. The union of their group ids is the
//! set of *managed* groups, in which the integration is authoritative.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

/// A Brivo group id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct GroupId(pub i64);

impl GroupId {
    /// The raw Brivo id.
    ///
    /// ```
    /// use access_engine::GroupId;
    /// assert_eq!(GroupId::from(42).get(), 42);
    /// assert_eq!(i64::from(GroupId(7)), 7);
    /// ```
    pub fn get(self) -> i64 {
        self.0
    }
}

impl From<i64> for GroupId {
    fn from(id: i64) -> Self {
        GroupId(id)
    }
}

impl From<GroupId> for i64 {
    fn from(id: GroupId) -> Self {
        id.0
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "group {}", self.0)
    }
}

/// Which Brivo groups each kind of fact grants. Keys are source ids
/// (Entrata property, building and unit ids; OfficeRnD plan, location, floor
/// and resource ids; directory ids). Every field defaults to empty, so a
/// config file names only what it maps.
///
/// ```
/// use access_engine::{GroupId, Mappings};
/// let m: Mappings = serde_json::from_str(r#"{"properties": {"100": [7]}, "plans": {"p1": [9]}}"#).unwrap();
/// assert_eq!(m.managed_groups().into_iter().collect::<Vec<_>>(), vec![GroupId(7), GroupId(9)]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Mappings {
    /// Entrata property id → groups for every admitted occupant of its leases.
    pub properties: BTreeMap<String, Vec<GroupId>>,
    /// Entrata building id → extra groups for leases in that building.
    pub buildings: BTreeMap<String, Vec<GroupId>>,
    /// Entrata unit id → extra groups for leases of that unit.
    pub units: BTreeMap<String, Vec<GroupId>>,
    /// OfficeRnD plan id → groups for members of memberships on that plan.
    pub plans: BTreeMap<String, Vec<GroupId>>,
    /// OfficeRnD location id → groups for desk/office assignments at that location.
    pub locations: BTreeMap<String, Vec<GroupId>>,
    /// OfficeRnD location id → groups for day passes valid at that location.
    pub day_pass_locations: BTreeMap<String, Vec<GroupId>>,
    /// OfficeRnD floor id → groups for assignments to desks/offices on that floor.
    pub floors: BTreeMap<String, Vec<GroupId>>,
    /// OfficeRnD resource id (desk, office, bookable room) → groups.
    pub resources: BTreeMap<String, Vec<GroupId>>,
    /// Directory id → groups for its active users.
    pub directories: BTreeMap<String, Vec<GroupId>>,
}

impl Mappings {
    /// The managed groups: exactly the union of every group id named here.
    pub fn managed_groups(&self) -> BTreeSet<GroupId> {
        self.all_tables()
            .into_iter()
            .flat_map(|(_, table)| table.values().flatten().copied())
            .collect()
    }

    pub(crate) fn all_tables_mut(
        &mut self,
    ) -> [(MappingKind, &mut BTreeMap<String, Vec<GroupId>>); 9] {
        [
            (MappingKind::Property, &mut self.properties),
            (MappingKind::Building, &mut self.buildings),
            (MappingKind::Unit, &mut self.units),
            (MappingKind::Plan, &mut self.plans),
            (MappingKind::Location, &mut self.locations),
            (MappingKind::DayPassLocation, &mut self.day_pass_locations),
            (MappingKind::Floor, &mut self.floors),
            (MappingKind::Resource, &mut self.resources),
            (MappingKind::Directory, &mut self.directories),
        ]
    }

    pub(crate) fn all_tables(&self) -> [(MappingKind, &BTreeMap<String, Vec<GroupId>>); 9] {
        [
            (MappingKind::Property, &self.properties),
            (MappingKind::Building, &self.buildings),
            (MappingKind::Unit, &self.units),
            (MappingKind::Plan, &self.plans),
            (MappingKind::Location, &self.locations),
            (MappingKind::DayPassLocation, &self.day_pass_locations),
            (MappingKind::Floor, &self.floors),
            (MappingKind::Resource, &self.resources),
            (MappingKind::Directory, &self.directories),
        ]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MappingKind {
    Property,
    Building,
    Unit,
    Plan,
    Location,
    DayPassLocation,
    Floor,
    Resource,
    Directory,
}

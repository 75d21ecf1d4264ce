//! What the fake services start with. [`Seed::sample`] loads the storyline fixtures
//! (`sandbox/fixtures/*.json`, in each service's wire shape); see `sandbox/README.md`.

use serde_json::Value;

use crate::Error;

const BRIVO_SAMPLE: &str = include_str!("../fixtures/brivo.json");
const ENTRATA_SAMPLE: &str = include_str!("../fixtures/entrata.json");
const OFFICERND_SAMPLE: &str = include_str!("../fixtures/officernd.json");

/// The initial data of all three fake services.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Seed {
    /// The Brivo account: sites, doors, groups, users, memberships, credentials.
    pub brivo: BrivoSeed,
    /// The Entrata portfolio: properties, units, time zones, leases.
    pub entrata: EntrataSeed,
    /// The OfficeRnD organization: locations, floors, resources, members, memberships, …
    pub officernd: OfficeRndSeed,
}

impl Seed {
    /// The sample portfolio described in `sandbox/README.md` and [`crate::story`].
    ///
    /// # Panics
    /// Never in practice: the fixtures are compiled in and checked by the crate's tests.
    pub fn sample() -> Self {
        Self {
            brivo: BrivoSeed::from_json(BRIVO_SAMPLE).expect("bundled brivo.json is valid"),
            entrata: EntrataSeed::from_json(ENTRATA_SAMPLE).expect("bundled entrata.json is valid"),
            officernd: OfficeRndSeed::from_json(OFFICERND_SAMPLE)
                .expect("bundled officernd.json is valid"),
        }
    }

    /// No data at all (every list is empty; Entrata answers "No Records Found.").
    pub fn empty() -> Self {
        Self {
            brivo: BrivoSeed::default(),
            entrata: EntrataSeed::default(),
            officernd: OfficeRndSeed::default(),
        }
    }
}

/// Anonymised Entrata responses in the shape of real recorded ones, for conformance tests;
/// `fixtures/recorded/README.md` says what each interesting record must yield.
const RECORDED: &[(&str, &str)] = &[
    (
        "recorded/getLeases_r2.json",
        include_str!("../fixtures/recorded/getLeases_r2.json"),
    ),
    (
        "recorded/getProperties.json",
        include_str!("../fixtures/recorded/getProperties.json"),
    ),
    (
        "recorded/getMitsPropertyUnits_refused.json",
        include_str!("../fixtures/recorded/getMitsPropertyUnits_refused.json"),
    ),
    (
        "recorded/no_records.json",
        include_str!("../fixtures/recorded/no_records.json"),
    ),
    (
        "recorded/no_records_text.json",
        include_str!("../fixtures/recorded/no_records_text.json"),
    ),
    (
        "recorded/unexpected_text.json",
        include_str!("../fixtures/recorded/unexpected_text.json"),
    ),
    (
        "recorded/unexpected_object.json",
        include_str!("../fixtures/recorded/unexpected_object.json"),
    ),
    (
        "recorded/README.md",
        include_str!("../fixtures/recorded/README.md"),
    ),
];

/// The raw text of a bundled fixture, e.g. for client-crate tests that want a realistic
/// response body: the seeds `"brivo.json"`, `"entrata.json"`, `"officernd.json"`, and the
/// recorded-shape Entrata responses `"recorded/getLeases_r2.json"`,
/// `"recorded/getProperties.json"`, `"recorded/getMitsPropertyUnits_refused.json"`,
/// `"recorded/no_records.json"`, `"recorded/no_records_text.json"`,
/// `"recorded/unexpected_text.json"`, `"recorded/unexpected_object.json"` (full
/// `{"response":…}` envelopes; `"recorded/README.md"` says what each must yield).
///
/// ```
/// let body = sandbox::fixture("recorded/getLeases_r2.json").unwrap_or_default();
/// assert!(body.contains("\"leaseCustomerStatus\": \"Cancelled\""));
/// assert!(sandbox::fixture("nope.json").is_none());
/// ```
pub fn fixture(name: &str) -> Option<&'static str> {
    match name {
        "brivo.json" => Some(BRIVO_SAMPLE),
        "entrata.json" => Some(ENTRATA_SAMPLE),
        "officernd.json" => Some(OFFICERND_SAMPLE),
        _ => RECORDED
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| *text),
    }
}

/// Every name [`fixture`] serves.
pub fn fixture_names() -> Vec<&'static str> {
    ["brivo.json", "entrata.json", "officernd.json"]
        .into_iter()
        .chain(RECORDED.iter().map(|(n, _)| *n))
        .collect()
}

fn parse(text: &str, what: &str) -> Result<serde_json::Map<String, Value>, Error> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(Error::Seed(format!("{what}: top level must be an object"))),
        Err(e) => Err(Error::Seed(format!("{what}: {e}"))),
    }
}

fn list(m: &serde_json::Map<String, Value>, key: &str) -> Vec<Value> {
    m.get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// The fake Brivo account's initial content.
///
/// JSON form (see `fixtures/brivo.json`): `sites`, `accessPoints`, `groups`, `users`,
/// `credentials` as arrays of Brivo wire objects; `groupMembers` as
/// `{"<groupId>": [userId, …]}`; `credentialAssignments` as
/// `[{"userId", "credentialId", "effectiveFrom"?, "effectiveTo"?}]`.
#[derive(Debug, Clone, Default)]
pub struct BrivoSeed {
    pub(crate) sites: Vec<Value>,
    pub(crate) access_points: Vec<Value>,
    pub(crate) groups: Vec<Value>,
    pub(crate) users: Vec<Value>,
    pub(crate) members: Vec<(i64, Vec<i64>)>,
    pub(crate) credentials: Vec<Value>,
    pub(crate) assignments: Vec<(i64, i64, Option<String>, Option<String>)>,
}

impl BrivoSeed {
    /// Parses the JSON form described above.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let m = parse(text, "brivo seed")?;
        let mut members = Vec::new();
        if let Some(obj) = m.get("groupMembers").and_then(Value::as_object) {
            for (g, users) in obj {
                let gid: i64 = g
                    .parse()
                    .map_err(|_| Error::Seed(format!("brivo seed: bad group id {g}")))?;
                let ids = users
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_i64).collect())
                    .unwrap_or_default();
                members.push((gid, ids));
            }
        }
        let mut assignments = Vec::new();
        for a in list(&m, "credentialAssignments") {
            let (Some(u), Some(c)) = (
                a.get("userId").and_then(Value::as_i64),
                a.get("credentialId").and_then(Value::as_i64),
            ) else {
                return Err(Error::Seed("brivo seed: bad credential assignment".into()));
            };
            let s = |k: &str| a.get(k).and_then(Value::as_str).map(str::to_owned);
            assignments.push((u, c, s("effectiveFrom"), s("effectiveTo")));
        }
        Ok(Self {
            sites: list(&m, "sites"),
            access_points: list(&m, "accessPoints"),
            groups: list(&m, "groups"),
            users: list(&m, "users"),
            members,
            credentials: list(&m, "credentials"),
            assignments,
        })
    }
}

/// The fake Entrata portfolio's content, in Entrata's wire shapes.
///
/// JSON form (see `fixtures/entrata.json`): `properties` (getProperties `Property` items),
/// `propertyUnits` (getPropertyUnits `property` items), `mitsProperties`
/// (getMitsPropertyUnits `Property` items, with the time zone), `floorPlans` (getFloorPlans
/// `FloorPlan` items) and `leases` (getLeases r2 `lease` items).
#[derive(Debug, Clone, Default)]
pub struct EntrataSeed {
    pub(crate) properties: Vec<Value>,
    pub(crate) property_units: Vec<Value>,
    pub(crate) mits_properties: Vec<Value>,
    pub(crate) floor_plans: Vec<Value>,
    pub(crate) leases: Vec<Value>,
}

impl EntrataSeed {
    /// Parses the JSON form described above.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let m = parse(text, "entrata seed")?;
        Ok(Self {
            properties: list(&m, "properties"),
            property_units: list(&m, "propertyUnits"),
            mits_properties: list(&m, "mitsProperties"),
            floor_plans: list(&m, "floorPlans"),
            leases: list(&m, "leases"),
        })
    }
}

/// The fake OfficeRnD organization's content, in OfficeRnD v2 wire shapes.
///
/// JSON form (see `fixtures/officernd.json`): one array per collection, keyed by its URL
/// segment: `members`, `companies`, `memberships`, `plans`, `locations`, `floors`,
/// `resource-types`, `resources`, `assignments`, `bookings`, `passes`, `checkins`,
/// `visitors`.
#[derive(Debug, Clone, Default)]
pub struct OfficeRndSeed {
    pub(crate) collections: serde_json::Map<String, Value>,
}

impl OfficeRndSeed {
    /// Parses the JSON form described above.
    pub fn from_json(text: &str) -> Result<Self, Error> {
        let mut m = parse(text, "officernd seed")?;
        m.remove("_comment");
        for (k, v) in &m {
            if !v.is_array() {
                return Err(Error::Seed(format!("officernd seed: {k} must be an array")));
            }
        }
        Ok(Self { collections: m })
    }
}

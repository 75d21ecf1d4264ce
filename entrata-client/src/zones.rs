//! A property's time zone from its postal address, for when Entrata's only
//! zone source (`getMitsPropertyUnits`, a web service an API user is often
//! not granted) is unavailable.

use chrono_tz::{America, Pacific, Tz};

/// How a state's zone is decided.
enum Rule {
    /// The whole state observes one zone.
    One(Tz),
    /// The state is split: well-known cities per zone; any other city is
    /// unknown.
    ByCity(&'static [(Tz, &'static [&'static str])]),
}

struct State {
    code: &'static str,
    name: &'static str,
    rule: Rule,
}

const fn one(code: &'static str, name: &'static str, tz: Tz) -> State {
    State {
        code,
        name,
        rule: Rule::One(tz),
    }
}

const fn split(
    code: &'static str,
    name: &'static str,
    zones: &'static [(Tz, &'static [&'static str])],
) -> State {
    State {
        code,
        name,
        rule: Rule::ByCity(zones),
    }
}

/// The table. Cities are written as people write them; lookups normalize
/// both sides (see [`normalize_city`]).
static STATES: &[State] = &[
    one("AL", "Alabama", America::Chicago),
    split(
        "AK",
        "Alaska",
        &[
            (
                America::Anchorage,
                &[
                    "Anchorage",
                    "Fairbanks",
                    "Juneau",
                    "Wasilla",
                    "Palmer",
                    "Sitka",
                    "Ketchikan",
                    "Kenai",
                    "Soldotna",
                    "Homer",
                    "Kodiak",
                    "Bethel",
                    "Valdez",
                    "Seward",
                    "Nome",
                    "Kotzebue",
                    "Utqiagvik",
                    "Barrow",
                    "North Pole",
                    "Eagle River",
                    "Dillingham",
                    "Unalaska",
                    "Dutch Harbor",
                ],
            ),
            (America::Adak, &["Adak", "Atka"]),
        ],
    ),
    split(
        "AZ",
        "Arizona",
        &[
            (
                America::Phoenix,
                &[
                    "Phoenix",
                    "Tucson",
                    "Mesa",
                    "Chandler",
                    "Gilbert",
                    "Glendale",
                    "Scottsdale",
                    "Peoria",
                    "Tempe",
                    "Surprise",
                    "Goodyear",
                    "Avondale",
                    "Buckeye",
                    "Yuma",
                    "Flagstaff",
                    "San Tan Valley",
                    "Queen Creek",
                    "Maricopa",
                    "Casa Grande",
                    "Lake Havasu City",
                    "Sierra Vista",
                    "Prescott",
                    "Prescott Valley",
                    "Bullhead City",
                    "Kingman",
                    "Apache Junction",
                    "Marana",
                    "Oro Valley",
                    "Sahuarita",
                    "El Mirage",
                    "Fountain Hills",
                    "Cave Creek",
                    "Paradise Valley",
                    "Florence",
                    "Nogales",
                    "Douglas",
                    "Payson",
                    "Sedona",
                    "Cottonwood",
                    "Show Low",
                    "Page",
                    "Winslow",
                    "Holbrook",
                    "Safford",
                    "Tolleson",
                    "Litchfield Park",
                    "Anthem",
                    "Laveen",
                ],
            ),
            // the Navajo Nation observes daylight saving
            (
                America::Denver,
                &[
                    "Window Rock",
                    "Chinle",
                    "Tuba City",
                    "Kayenta",
                    "Ganado",
                    "Fort Defiance",
                    "Many Farms",
                ],
            ),
        ],
    ),
    one("AR", "Arkansas", America::Chicago),
    one("CA", "California", America::Los_Angeles),
    one("CO", "Colorado", America::Denver),
    one("CT", "Connecticut", America::New_York),
    one("DE", "Delaware", America::New_York),
    one("DC", "District of Columbia", America::New_York),
    split(
        "FL",
        "Florida",
        &[
            (
                America::New_York,
                &[
                    "Jacksonville",
                    "Miami",
                    "Tampa",
                    "Orlando",
                    "St. Petersburg",
                    "Hialeah",
                    "Port St. Lucie",
                    "Cape Coral",
                    "Tallahassee",
                    "Fort Lauderdale",
                    "Pembroke Pines",
                    "Hollywood",
                    "Gainesville",
                    "Miramar",
                    "Coral Springs",
                    "Palm Bay",
                    "Lakeland",
                    "West Palm Beach",
                    "Clearwater",
                    "Pompano Beach",
                    "Davie",
                    "Boca Raton",
                    "Miami Gardens",
                    "Sunrise",
                    "Plantation",
                    "Deltona",
                    "Palm Coast",
                    "Fort Myers",
                    "Kissimmee",
                    "Sarasota",
                    "Bradenton",
                    "Daytona Beach",
                    "Ocala",
                    "Naples",
                    "Melbourne",
                    "Boynton Beach",
                    "Delray Beach",
                    "Jupiter",
                    "Largo",
                    "Doral",
                    "Homestead",
                    "Coral Gables",
                    "Miami Beach",
                    "Weston",
                    "Sanford",
                    "Winter Park",
                    "Winter Garden",
                    "Altamonte Springs",
                    "Oviedo",
                    "Clermont",
                    "St. Augustine",
                    "Titusville",
                    "Vero Beach",
                    "Stuart",
                    "Fort Pierce",
                    "Port Charlotte",
                    "Punta Gorda",
                    "North Port",
                    "Palm Beach Gardens",
                    "Wellington",
                    "Brandon",
                    "Riverview",
                    "Wesley Chapel",
                    "New Port Richey",
                    "Key West",
                    "Lake City",
                    "Apalachicola",
                ],
            ),
            // the panhandle west of the Apalachicola River
            (
                America::Chicago,
                &[
                    "Pensacola",
                    "Panama City",
                    "Panama City Beach",
                    "Lynn Haven",
                    "Callaway",
                    "Fort Walton Beach",
                    "Destin",
                    "Niceville",
                    "Crestview",
                    "Mary Esther",
                    "Navarre",
                    "Milton",
                    "Pace",
                    "Gulf Breeze",
                    "Santa Rosa Beach",
                    "DeFuniak Springs",
                    "Marianna",
                    "Chipley",
                ],
            ),
        ],
    ),
    one("GA", "Georgia", America::New_York),
    one("HI", "Hawaii", Pacific::Honolulu),
    split(
        "ID",
        "Idaho",
        &[
            (
                America::Boise,
                &[
                    "Boise",
                    "Meridian",
                    "Nampa",
                    "Caldwell",
                    "Eagle",
                    "Kuna",
                    "Star",
                    "Garden City",
                    "Idaho Falls",
                    "Ammon",
                    "Rigby",
                    "Rexburg",
                    "Pocatello",
                    "Chubbuck",
                    "Blackfoot",
                    "Twin Falls",
                    "Jerome",
                    "Burley",
                    "Mountain Home",
                    "Hailey",
                    "Ketchum",
                    "Sun Valley",
                    "Emmett",
                    "Payette",
                    "Weiser",
                    "Salmon",
                ],
            ),
            // the panhandle, north of the Salmon River
            (
                America::Los_Angeles,
                &[
                    "Coeur d'Alene",
                    "Post Falls",
                    "Hayden",
                    "Rathdrum",
                    "Sandpoint",
                    "Bonners Ferry",
                    "Lewiston",
                    "Moscow",
                ],
            ),
        ],
    ),
    one("IL", "Illinois", America::Chicago),
    split(
        "IN",
        "Indiana",
        &[
            (
                America::Indiana::Indianapolis,
                &[
                    "Indianapolis",
                    "Fort Wayne",
                    "South Bend",
                    "Carmel",
                    "Fishers",
                    "Bloomington",
                    "Lafayette",
                    "West Lafayette",
                    "Muncie",
                    "Noblesville",
                    "Terre Haute",
                    "Kokomo",
                    "Anderson",
                    "Greenwood",
                    "Elkhart",
                    "Mishawaka",
                    "Lawrence",
                    "Jeffersonville",
                    "New Albany",
                    "Columbus",
                    "Westfield",
                    "Richmond",
                    "Goshen",
                    "Marion",
                    "Zionsville",
                    "Brownsburg",
                    "Plainfield",
                    "Avon",
                    "Franklin",
                    "Clarksville",
                    "Seymour",
                    "Shelbyville",
                    "Logansport",
                    "Vincennes",
                    "Warsaw",
                ],
            ),
            // the north-west (Chicago area) and south-west (Evansville) corners
            (
                America::Chicago,
                &[
                    "Gary",
                    "Hammond",
                    "East Chicago",
                    "Merrillville",
                    "Crown Point",
                    "Hobart",
                    "Schererville",
                    "Munster",
                    "Highland",
                    "Dyer",
                    "Griffith",
                    "St. John",
                    "Cedar Lake",
                    "Lake Station",
                    "Valparaiso",
                    "Portage",
                    "Chesterton",
                    "Michigan City",
                    "La Porte",
                    "Evansville",
                    "Newburgh",
                    "Boonville",
                    "Mount Vernon",
                    "Princeton",
                    "Tell City",
                ],
            ),
        ],
    ),
    one("IA", "Iowa", America::Chicago),
    split(
        "KS",
        "Kansas",
        &[
            (
                America::Chicago,
                &[
                    "Wichita",
                    "Overland Park",
                    "Kansas City",
                    "Olathe",
                    "Topeka",
                    "Lawrence",
                    "Shawnee",
                    "Lenexa",
                    "Manhattan",
                    "Salina",
                    "Hutchinson",
                    "Leavenworth",
                    "Leawood",
                    "Dodge City",
                    "Garden City",
                    "Emporia",
                    "Junction City",
                    "Derby",
                    "Prairie Village",
                    "Hays",
                    "Liberal",
                    "Pittsburg",
                    "Gardner",
                    "Great Bend",
                    "McPherson",
                    "Newton",
                    "Ottawa",
                    "Atchison",
                    "Colby",
                    "Merriam",
                    "Mission",
                ],
            ),
            // Sherman, Wallace, Greeley and Hamilton counties
            (
                America::Denver,
                &["Goodland", "Sharon Springs", "Tribune", "Syracuse"],
            ),
        ],
    ),
    split(
        "KY",
        "Kentucky",
        &[
            (America::Kentucky::Louisville, &["Louisville"]),
            (
                America::New_York,
                &[
                    "Lexington",
                    "Frankfort",
                    "Covington",
                    "Florence",
                    "Georgetown",
                    "Richmond",
                    "Nicholasville",
                    "Newport",
                    "Independence",
                    "Erlanger",
                    "Fort Thomas",
                    "Winchester",
                    "Ashland",
                    "Elizabethtown",
                    "Radcliff",
                    "Shelbyville",
                    "Shepherdsville",
                    "Danville",
                    "Berea",
                    "Somerset",
                    "London",
                    "Morehead",
                    "Pikeville",
                    "Hazard",
                    "Versailles",
                ],
            ),
            (
                America::Chicago,
                &[
                    "Bowling Green",
                    "Owensboro",
                    "Paducah",
                    "Hopkinsville",
                    "Henderson",
                    "Murray",
                    "Madisonville",
                    "Mayfield",
                    "Glasgow",
                    "Russellville",
                    "Fort Campbell",
                    "Oak Grove",
                    "Franklin",
                ],
            ),
        ],
    ),
    one("LA", "Louisiana", America::Chicago),
    one("ME", "Maine", America::New_York),
    one("MD", "Maryland", America::New_York),
    one("MA", "Massachusetts", America::New_York),
    split(
        "MI",
        "Michigan",
        &[
            (
                America::Detroit,
                &[
                    "Detroit",
                    "Grand Rapids",
                    "Warren",
                    "Sterling Heights",
                    "Ann Arbor",
                    "Lansing",
                    "East Lansing",
                    "Flint",
                    "Dearborn",
                    "Dearborn Heights",
                    "Livonia",
                    "Troy",
                    "Westland",
                    "Farmington Hills",
                    "Kalamazoo",
                    "Wyoming",
                    "Southfield",
                    "Rochester Hills",
                    "Taylor",
                    "Pontiac",
                    "St. Clair Shores",
                    "Royal Oak",
                    "Novi",
                    "Battle Creek",
                    "Saginaw",
                    "Kentwood",
                    "Portage",
                    "Midland",
                    "Muskegon",
                    "Bay City",
                    "Jackson",
                    "Holland",
                    "Ypsilanti",
                    "Mount Pleasant",
                    "Traverse City",
                    "Allendale",
                    "Big Rapids",
                    "Marquette",
                    "Sault Ste. Marie",
                    "Escanaba",
                    "Houghton",
                ],
            ),
            // Gogebic, Iron, Dickinson and Menominee counties
            (
                America::Menominee,
                &[
                    "Menominee",
                    "Iron Mountain",
                    "Kingsford",
                    "Ironwood",
                    "Iron River",
                    "Bessemer",
                    "Norway",
                    "Crystal Falls",
                    "Wakefield",
                ],
            ),
        ],
    ),
    one("MN", "Minnesota", America::Chicago),
    one("MS", "Mississippi", America::Chicago),
    one("MO", "Missouri", America::Chicago),
    one("MT", "Montana", America::Denver),
    split(
        "NE",
        "Nebraska",
        &[
            (
                America::Chicago,
                &[
                    "Omaha",
                    "Lincoln",
                    "Bellevue",
                    "Grand Island",
                    "Kearney",
                    "Fremont",
                    "Hastings",
                    "Norfolk",
                    "Columbus",
                    "North Platte",
                    "Papillion",
                    "La Vista",
                    "South Sioux City",
                    "Beatrice",
                    "Lexington",
                    "Gretna",
                    "Elkhorn",
                    "McCook",
                    "York",
                    "Seward",
                    "Blair",
                ],
            ),
            // the western panhandle
            (
                America::Denver,
                &[
                    "Scottsbluff",
                    "Gering",
                    "Terrytown",
                    "Alliance",
                    "Sidney",
                    "Chadron",
                    "Ogallala",
                    "Kimball",
                    "Mitchell",
                ],
            ),
        ],
    ),
    split(
        "NV",
        "Nevada",
        &[
            (
                America::Los_Angeles,
                &[
                    "Las Vegas",
                    "Henderson",
                    "Reno",
                    "North Las Vegas",
                    "Sparks",
                    "Carson City",
                    "Paradise",
                    "Spring Valley",
                    "Enterprise",
                    "Sunrise Manor",
                    "Summerlin",
                    "Fernley",
                    "Elko",
                    "Mesquite",
                    "Boulder City",
                    "Fallon",
                    "Winnemucca",
                    "Pahrump",
                    "Minden",
                    "Gardnerville",
                    "Dayton",
                    "Incline Village",
                    "Ely",
                    "Laughlin",
                ],
            ),
            (America::Denver, &["West Wendover"]),
        ],
    ),
    one("NH", "New Hampshire", America::New_York),
    one("NJ", "New Jersey", America::New_York),
    one("NM", "New Mexico", America::Denver),
    one("NY", "New York", America::New_York),
    one("NC", "North Carolina", America::New_York),
    split(
        "ND",
        "North Dakota",
        &[
            (
                America::Chicago,
                &[
                    "Fargo",
                    "Bismarck",
                    "Grand Forks",
                    "Minot",
                    "West Fargo",
                    "Williston",
                    "Mandan",
                    "Jamestown",
                    "Wahpeton",
                    "Devils Lake",
                    "Valley City",
                    "Grafton",
                    "Horace",
                    "Lincoln",
                ],
            ),
            // the south-west
            (
                America::Denver,
                &[
                    "Dickinson",
                    "Belfield",
                    "Beach",
                    "Medora",
                    "Bowman",
                    "Hettinger",
                    "Mott",
                ],
            ),
        ],
    ),
    one("OH", "Ohio", America::New_York),
    one("OK", "Oklahoma", America::Chicago),
    split(
        "OR",
        "Oregon",
        &[
            (
                America::Los_Angeles,
                &[
                    "Portland",
                    "Salem",
                    "Eugene",
                    "Gresham",
                    "Hillsboro",
                    "Beaverton",
                    "Bend",
                    "Medford",
                    "Springfield",
                    "Corvallis",
                    "Albany",
                    "Tigard",
                    "Lake Oswego",
                    "Keizer",
                    "Grants Pass",
                    "Oregon City",
                    "McMinnville",
                    "Redmond",
                    "Tualatin",
                    "West Linn",
                    "Woodburn",
                    "Forest Grove",
                    "Newberg",
                    "Wilsonville",
                    "Happy Valley",
                    "Milwaukie",
                    "Roseburg",
                    "Klamath Falls",
                    "Ashland",
                    "Hermiston",
                    "Pendleton",
                    "La Grande",
                    "Baker City",
                    "Astoria",
                    "Coos Bay",
                    "The Dalles",
                    "Hood River",
                ],
            ),
            // Malheur County
            (America::Boise, &["Ontario", "Nyssa", "Vale"]),
        ],
    ),
    one("PA", "Pennsylvania", America::New_York),
    one("PR", "Puerto Rico", America::Puerto_Rico),
    one("RI", "Rhode Island", America::New_York),
    one("SC", "South Carolina", America::New_York),
    split(
        "SD",
        "South Dakota",
        &[
            (
                America::Chicago,
                &[
                    "Sioux Falls",
                    "Aberdeen",
                    "Brookings",
                    "Watertown",
                    "Mitchell",
                    "Yankton",
                    "Huron",
                    "Vermillion",
                    "Pierre",
                    "Brandon",
                    "Madison",
                    "Harrisburg",
                    "Tea",
                    "Mobridge",
                ],
            ),
            // the west river country
            (
                America::Denver,
                &[
                    "Rapid City",
                    "Spearfish",
                    "Box Elder",
                    "Sturgis",
                    "Belle Fourche",
                    "Lead",
                    "Deadwood",
                    "Hot Springs",
                    "Custer",
                    "Fort Pierre",
                ],
            ),
        ],
    ),
    split(
        "TN",
        "Tennessee",
        &[
            (
                America::New_York,
                &[
                    "Knoxville",
                    "Chattanooga",
                    "Johnson City",
                    "Kingsport",
                    "Bristol",
                    "Cleveland",
                    "Morristown",
                    "Oak Ridge",
                    "Maryville",
                    "Alcoa",
                    "Farragut",
                    "Sevierville",
                    "Pigeon Forge",
                    "Gatlinburg",
                    "Athens",
                    "Greeneville",
                    "Elizabethton",
                ],
            ),
            (
                America::Chicago,
                &[
                    "Nashville",
                    "Memphis",
                    "Clarksville",
                    "Murfreesboro",
                    "Franklin",
                    "Jackson",
                    "Hendersonville",
                    "Bartlett",
                    "Brentwood",
                    "Smyrna",
                    "Collierville",
                    "Spring Hill",
                    "Gallatin",
                    "Germantown",
                    "Cookeville",
                    "Lebanon",
                    "Mount Juliet",
                    "Columbia",
                    "La Vergne",
                    "Tullahoma",
                    "Dyersburg",
                    "Shelbyville",
                    "Crossville",
                    "McMinnville",
                    "Martin",
                ],
            ),
        ],
    ),
    split(
        "TX",
        "Texas",
        &[
            (
                America::Chicago,
                &[
                    "Houston",
                    "San Antonio",
                    "Dallas",
                    "Austin",
                    "Fort Worth",
                    "Arlington",
                    "Corpus Christi",
                    "Plano",
                    "Lubbock",
                    "Laredo",
                    "Irving",
                    "Garland",
                    "Frisco",
                    "McKinney",
                    "Amarillo",
                    "Grand Prairie",
                    "Brownsville",
                    "Killeen",
                    "Pasadena",
                    "Mesquite",
                    "McAllen",
                    "Denton",
                    "Waco",
                    "Carrollton",
                    "Midland",
                    "Odessa",
                    "Abilene",
                    "Round Rock",
                    "Beaumont",
                    "Richardson",
                    "Lewisville",
                    "College Station",
                    "Bryan",
                    "Pearland",
                    "League City",
                    "Tyler",
                    "Wichita Falls",
                    "San Angelo",
                    "Allen",
                    "Sugar Land",
                    "Edinburg",
                    "Conroe",
                    "New Braunfels",
                    "Mission",
                    "Longview",
                    "Pharr",
                    "Flower Mound",
                    "Temple",
                    "Georgetown",
                    "Baytown",
                    "Cedar Park",
                    "San Marcos",
                    "Pflugerville",
                    "North Richland Hills",
                    "Mansfield",
                    "Rowlett",
                    "Victoria",
                    "Missouri City",
                    "Harlingen",
                    "Spring",
                    "The Woodlands",
                    "Katy",
                    "Cypress",
                    "Humble",
                    "Galveston",
                    "Texas City",
                    "Huntsville",
                    "Nacogdoches",
                    "Stephenville",
                    "Denison",
                    "Sherman",
                    "Kyle",
                    "Leander",
                    "Little Elm",
                    "Prosper",
                    "Alpine",
                ],
            ),
            // El Paso and Hudspeth counties
            (
                America::Denver,
                &[
                    "El Paso",
                    "Socorro",
                    "Horizon City",
                    "Canutillo",
                    "San Elizario",
                    "Anthony",
                    "Fabens",
                    "Clint",
                    "Sierra Blanca",
                    "Fort Hancock",
                    "Dell City",
                ],
            ),
        ],
    ),
    one("UT", "Utah", America::Denver),
    one("VT", "Vermont", America::New_York),
    one("VA", "Virginia", America::New_York),
    one("WA", "Washington", America::Los_Angeles),
    one("WV", "West Virginia", America::New_York),
    one("WI", "Wisconsin", America::Chicago),
    one("WY", "Wyoming", America::Denver),
];

/// The IANA time zone of a US address, from its state (or DC, or Puerto
/// Rico) and, where the state is split between zones, its city.
///
/// `state` is a two-letter code (`"TX"`) or a full name (`"Texas"`), in any
/// case. `city` is compared ignoring case, punctuation and spacing, with
/// "Saint"/"St", "Sainte"/"Ste", "Fort"/"Ft" and "Mount"/"Mt" read alike.
///
/// - **One zone per state** for most: e.g. Colorado → `America/Denver`,
///   Hawaii → `Pacific/Honolulu`, Puerto Rico → `America/Puerto_Rico`; the
///   city is not looked at.
/// - **Split states** decide by city, from a short list of well-known
///   cities per zone:
///   Alaska (the western Aleutians: `America/Adak`, else
///   `America/Anchorage`), Arizona (the Navajo Nation observes daylight
///   saving: `America/Denver`, else `America/Phoenix`), Florida (the
///   panhandle west of the Apalachicola: `America/Chicago`), Idaho (north:
///   `America/Los_Angeles`, south: `America/Boise`), Indiana (the north-west
///   and south-west corners: `America/Chicago`, else
///   `America/Indiana/Indianapolis`), Kansas (four western counties:
///   `America/Denver`), Kentucky (west: `America/Chicago`, Louisville:
///   `America/Kentucky/Louisville`, east: `America/New_York`), Michigan
///   (four Upper Peninsula counties: `America/Menominee`, else
///   `America/Detroit`), Nebraska and the Dakotas (west:
///   `America/Denver`), Nevada (West Wendover: `America/Denver`), Oregon
///   (Malheur County: `America/Boise`), Tennessee (east:
///   `America/New_York`, middle and west: `America/Chicago`) and Texas
///   (El Paso and Hudspeth counties: `America/Denver`).
///
/// `None` when the state is not recognised (other countries, US
/// territories other than Puerto Rico), or when a split state's city is
/// missing or not on its list: this never guesses. A caller should then
/// hold the property and ask for its zone to be configured.
///
/// Limits: the lists name cities, not counties, so a well-known city name
/// is taken to be the well-known city (a namesake elsewhere in the state
/// may be in the other zone); places that keep unofficial time (Phenix
/// City, Alabama, on Eastern; Kenton, Oklahoma, and Jackpot, Nevada, on
/// Mountain) get their state's legal zone; zones are chosen for today's
/// rules, not for historical dates.
///
/// ```
/// use entrata_client::zone_for_address;
/// use chrono_tz::America;
///
/// assert_eq!(zone_for_address("CO", None), Some(America::Denver));
/// assert_eq!(zone_for_address("arizona", Some("Tempe")), Some(America::Phoenix));
/// assert_eq!(zone_for_address("AZ", Some("Window Rock")), Some(America::Denver));
/// assert_eq!(zone_for_address("TX", Some("El Paso")), Some(America::Denver));
/// assert_eq!(zone_for_address("TX", Some("Austin")), Some(America::Chicago));
/// assert_eq!(zone_for_address("TX", Some("Smallville")), None); // never guessed
/// assert_eq!(zone_for_address("TX", None), None);
/// assert_eq!(zone_for_address("ON", Some("Toronto")), None);
/// ```
pub fn zone_for_address(state: &str, city: Option<&str>) -> Option<Tz> {
    let state = find_state(state)?;
    match state.rule {
        Rule::One(tz) => Some(tz),
        Rule::ByCity(zones) => {
            let city = normalize_city(city?);
            if city.is_empty() {
                return None;
            }
            zones
                .iter()
                .find(|(_, cities)| cities.iter().any(|c| normalize_city(c) == city))
                .map(|(tz, _)| *tz)
        }
    }
}

fn find_state(state: &str) -> Option<&'static State> {
    let wanted = normalize_state(state);
    STATES.iter().find(|s| {
        normalize_state(s.code) == wanted
            || normalize_state(s.name) == wanted
            || (s.code == "DC" && wanted == "washington dc")
    })
}

/// Lower case, no dots, single spaces: `"D.C."` → `"dc"`.
fn normalize_state(s: &str) -> String {
    s.split_whitespace()
        .map(|w| w.replace('.', ""))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Lower case, letters and digits only, single spaces, common
/// abbreviations spelled one way: `"St. Petersburg"` and
/// `"saint  petersburg"` → `"st petersburg"`; `"Coeur d'Alene"` →
/// `"coeur dalene"`.
fn normalize_city(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s
        .split(|c: char| c.is_whitespace() || c == '-' || c == '.' || c == ',')
        .filter(|w| !w.is_empty())
    {
        let word: String = word
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        if word.is_empty() {
            continue;
        }
        let word = match word.as_str() {
            "saint" => "st",
            "sainte" => "ste",
            "ft" => "fort",
            "mt" => "mount",
            w => w,
        };
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Pacific};

    #[test]
    fn every_single_zone_state_by_code_and_name() {
        let expected = [
            ("AL", "Alabama", America::Chicago),
            ("AR", "Arkansas", America::Chicago),
            ("CA", "California", America::Los_Angeles),
            ("CO", "Colorado", America::Denver),
            ("CT", "Connecticut", America::New_York),
            ("DE", "Delaware", America::New_York),
            ("DC", "District of Columbia", America::New_York),
            ("GA", "Georgia", America::New_York),
            ("HI", "Hawaii", Pacific::Honolulu),
            ("IL", "Illinois", America::Chicago),
            ("IA", "Iowa", America::Chicago),
            ("LA", "Louisiana", America::Chicago),
            ("ME", "Maine", America::New_York),
            ("MD", "Maryland", America::New_York),
            ("MA", "Massachusetts", America::New_York),
            ("MN", "Minnesota", America::Chicago),
            ("MS", "Mississippi", America::Chicago),
            ("MO", "Missouri", America::Chicago),
            ("MT", "Montana", America::Denver),
            ("NH", "New Hampshire", America::New_York),
            ("NJ", "New Jersey", America::New_York),
            ("NM", "New Mexico", America::Denver),
            ("NY", "New York", America::New_York),
            ("NC", "North Carolina", America::New_York),
            ("OH", "Ohio", America::New_York),
            ("OK", "Oklahoma", America::Chicago),
            ("PA", "Pennsylvania", America::New_York),
            ("PR", "Puerto Rico", America::Puerto_Rico),
            ("RI", "Rhode Island", America::New_York),
            ("SC", "South Carolina", America::New_York),
            ("UT", "Utah", America::Denver),
            ("VT", "Vermont", America::New_York),
            ("VA", "Virginia", America::New_York),
            ("WA", "Washington", America::Los_Angeles),
            ("WV", "West Virginia", America::New_York),
            ("WI", "Wisconsin", America::Chicago),
            ("WY", "Wyoming", America::Denver),
        ];
        for (code, name, tz) in expected {
            for state in [code, name, &code.to_lowercase(), &name.to_uppercase()] {
                assert_eq!(zone_for_address(state, None), Some(tz), "{state}");
                assert_eq!(
                    zone_for_address(state, Some("Anywhere")),
                    Some(tz),
                    "{state}"
                );
            }
        }
        let split = [
            "AK", "AZ", "FL", "ID", "IN", "KS", "KY", "MI", "NE", "NV", "ND", "OR", "SD", "TN",
            "TX",
        ];
        // 50 states, DC and Puerto Rico, each exactly once
        assert_eq!(expected.len() + split.len(), 52);
        assert_eq!(STATES.len(), 52);
        for code in split {
            let s = find_state(code).unwrap();
            assert!(matches!(s.rule, Rule::ByCity(_)), "{code}");
        }
        for (i, a) in STATES.iter().enumerate() {
            for b in &STATES[i + 1..] {
                assert!(a.code != b.code && a.name != b.name, "{}", a.code);
            }
        }
    }

    /// Each split state: a city of each zone, an unknown city and no city.
    #[test]
    fn every_split_rule() {
        let cases: &[(&str, &str, Tz)] = &[
            ("AK", "Anchorage", America::Anchorage),
            ("AK", "Juneau", America::Anchorage),
            ("AK", "Adak", America::Adak),
            ("AZ", "Phoenix", America::Phoenix),
            ("AZ", "Flagstaff", America::Phoenix),
            ("AZ", "Tuba City", America::Denver),
            ("AZ", "Window Rock", America::Denver),
            ("FL", "Miami", America::New_York),
            ("FL", "Tallahassee", America::New_York),
            ("FL", "Apalachicola", America::New_York),
            ("FL", "Pensacola", America::Chicago),
            ("FL", "Panama City", America::Chicago),
            ("ID", "Boise", America::Boise),
            ("ID", "Idaho Falls", America::Boise),
            ("ID", "Coeur d'Alene", America::Los_Angeles),
            ("ID", "Lewiston", America::Los_Angeles),
            ("IN", "Indianapolis", America::Indiana::Indianapolis),
            ("IN", "South Bend", America::Indiana::Indianapolis),
            ("IN", "Gary", America::Chicago),
            ("IN", "Valparaiso", America::Chicago),
            ("IN", "Evansville", America::Chicago),
            ("KS", "Wichita", America::Chicago),
            ("KS", "Goodland", America::Denver),
            ("KS", "Syracuse", America::Denver),
            ("KY", "Louisville", America::Kentucky::Louisville),
            ("KY", "Lexington", America::New_York),
            ("KY", "Bowling Green", America::Chicago),
            ("KY", "Paducah", America::Chicago),
            ("MI", "Detroit", America::Detroit),
            ("MI", "Marquette", America::Detroit),
            ("MI", "Iron Mountain", America::Menominee),
            ("MI", "Ironwood", America::Menominee),
            ("NE", "Omaha", America::Chicago),
            ("NE", "North Platte", America::Chicago),
            ("NE", "Scottsbluff", America::Denver),
            ("NV", "Las Vegas", America::Los_Angeles),
            ("NV", "Reno", America::Los_Angeles),
            ("NV", "West Wendover", America::Denver),
            ("ND", "Fargo", America::Chicago),
            ("ND", "Dickinson", America::Denver),
            ("OR", "Portland", America::Los_Angeles),
            ("OR", "Ontario", America::Boise),
            ("SD", "Sioux Falls", America::Chicago),
            ("SD", "Rapid City", America::Denver),
            ("TN", "Knoxville", America::New_York),
            ("TN", "Chattanooga", America::New_York),
            ("TN", "Nashville", America::Chicago),
            ("TN", "Memphis", America::Chicago),
            ("TX", "Houston", America::Chicago),
            ("TX", "Dallas", America::Chicago),
            ("TX", "El Paso", America::Denver),
            ("TX", "Sierra Blanca", America::Denver),
        ];
        for (state, city, tz) in cases {
            assert_eq!(
                zone_for_address(state, Some(city)),
                Some(*tz),
                "{state} {city}"
            );
            let name = find_state(state).unwrap().name;
            assert_eq!(
                zone_for_address(name, Some(city)),
                Some(*tz),
                "{name} {city}"
            );
        }
        for s in STATES.iter().filter(|s| matches!(s.rule, Rule::ByCity(_))) {
            assert_eq!(zone_for_address(s.code, None), None, "{}", s.code);
            assert_eq!(zone_for_address(s.code, Some("")), None, "{}", s.code);
            assert_eq!(zone_for_address(s.code, Some("  ")), None, "{}", s.code);
            assert_eq!(
                zone_for_address(s.code, Some("Nowhere Junction")),
                None,
                "{}",
                s.code
            );
        }
    }

    /// No city is listed twice within a state, and every listed city finds
    /// its own zone.
    #[test]
    fn split_tables_are_consistent() {
        for s in STATES {
            let Rule::ByCity(zones) = s.rule else {
                continue;
            };
            let mut seen = std::collections::HashSet::new();
            for (tz, cities) in zones {
                assert!(!cities.is_empty(), "{}", s.code);
                for c in *cities {
                    assert!(seen.insert(normalize_city(c)), "{} {c} twice", s.code);
                    assert_eq!(zone_for_address(s.code, Some(c)), Some(*tz), "{c}");
                }
            }
        }
    }

    #[test]
    fn spellings() {
        assert_eq!(
            zone_for_address(" fl ", Some("saint petersburg")),
            Some(America::New_York)
        );
        assert_eq!(
            zone_for_address("Florida", Some("ST. PETERSBURG")),
            Some(America::New_York)
        );
        assert_eq!(
            zone_for_address("ID", Some("Coeur d’Alene")),
            Some(America::Los_Angeles)
        );
        assert_eq!(
            zone_for_address("ID", Some("coeur  d alene")),
            None,
            "a split word is a different name"
        );
        assert_eq!(
            zone_for_address("FL", Some("Ft. Walton Beach")),
            Some(America::Chicago)
        );
        assert_eq!(
            zone_for_address("TN", Some("Mt. Juliet")),
            Some(America::Chicago)
        );
        assert_eq!(
            zone_for_address("MI", Some("Sault Sainte Marie")),
            Some(America::Detroit)
        );
        assert_eq!(zone_for_address("D.C.", None), Some(America::New_York));
        assert_eq!(
            zone_for_address("Washington, D.C.", None),
            None,
            "not a state spelling"
        );
        assert_eq!(
            zone_for_address("Washington DC", None),
            Some(America::New_York)
        );
        assert_eq!(zone_for_address("new  york", None), Some(America::New_York));
        for bad in ["", "  ", "XX", "Ontario", "GU", "Tex", "T X"] {
            assert_eq!(zone_for_address(bad, Some("Austin")), None, "{bad}");
        }
    }
}

//! The NHS App's uptake: the areas it is counted in (England's 106 sub-ICB locations, 42
//! integrated care boards, seven regions and England), the five areas that piloted it in 2018,
//! the measures counted each month and the age bands (docs/RULES.md §9). The areas and measures
//! are fixed lists compiled into the application from `data/app_areas.csv` and
//! `data/app_measures.csv` (sources in `data/README.md`).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::LazyLock;

/// England as an area: its ONS code.
pub const ENGLAND: &str = "E92000001";

/// The level of an area, from the smallest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    SubIcb,
    Icb,
    Region,
    England,
}

impl Level {
    pub const ALL: [Level; 4] = [Level::SubIcb, Level::Icb, Level::Region, Level::England];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::SubIcb => "sub_icb",
            Level::Icb => "icb",
            Level::Region => "region",
            Level::England => "england",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Level::SubIcb => "Sub-ICB location",
            Level::Icb => "Integrated care board",
            Level::Region => "NHS England region",
            Level::England => "England",
        }
    }
}

/// An area the app's uptake is counted in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Area {
    /// A sub-ICB location's ODS code (`99A`), an ICB's (`QYG`), a region's (`Y62`) or England's
    /// ONS code.
    pub code: String,
    pub name: String,
    pub level: Level,
    /// The area it lies in: a sub-ICB location's ICB, an ICB's region, a region's England.
    pub parent: Option<String>,
    /// The 2018 pilot area a sub-ICB location lies in; an ICB or region holding one is marked
    /// by `holds_pilot`.
    pub pilot_area: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AreaRecord {
    area_code: String,
    #[allow(dead_code)]
    ons_code: String,
    name: String,
    icb_code: String,
    pilot_area: String,
}

static AREAS: LazyLock<Vec<Area>> = LazyLock::new(|| {
    let mut areas: Vec<Area> = csv::Reader::from_reader(include_str!("../../data/app_areas.csv").as_bytes())
        .deserialize::<AreaRecord>()
        .map(|r| {
            let r = r.expect("data/app_areas.csv is valid (checked by a test)");
            Area {
                code: r.area_code,
                name: r.name,
                level: Level::SubIcb,
                parent: Some(r.icb_code),
                pilot_area: (!r.pilot_area.is_empty()).then_some(r.pilot_area),
            }
        })
        .collect();
    for icb in super::icbs() {
        let region = super::REGIONS.iter().find(|(_, name)| *name == icb.region).map(|(code, _)| code.to_string());
        areas.push(Area {
            code: icb.icb_code.clone(),
            name: icb.name.clone(),
            level: Level::Icb,
            parent: region,
            pilot_area: None,
        });
    }
    for (code, name) in super::REGIONS {
        areas.push(Area {
            code: code.to_string(),
            name: name.to_string(),
            level: Level::Region,
            parent: Some(ENGLAND.into()),
            pilot_area: None,
        });
    }
    areas.push(Area {
        code: ENGLAND.into(),
        name: "England".into(),
        level: Level::England,
        parent: None,
        pilot_area: None,
    });
    areas
});

/// Every area: the sub-ICB locations, then the ICBs, the regions and England.
pub fn areas() -> &'static [Area] {
    &AREAS
}

/// The area with code `code`.
pub fn area(code: &str) -> Option<&'static Area> {
    AREAS.iter().find(|a| a.code == code)
}

impl Area {
    /// The area of `level` this one lies in (itself at its own level).
    pub fn within(&self, level: Level) -> Option<&'static Area> {
        let mut at = area(&self.code)?;
        while at.level < level {
            at = area(at.parent.as_deref()?)?;
        }
        (at.level == level).then_some(at)
    }

    /// Whether a pilot area lies in this area.
    pub fn holds_pilot(&self) -> bool {
        self.pilot_area.is_some()
            || AREAS.iter().any(|a| a.pilot_area.is_some() && a.within(self.level).is_some_and(|w| w.code == self.code))
    }
}

/// A tile map's places, `code,col,row` under any header.
fn tiles(text: &str, file: &str) -> Vec<(String, i32, i32)> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize::<(String, i32, i32)>()
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| panic!("{file} is valid (checked by a test): {e}"))
}

static ICB_TILES: LazyLock<Vec<(String, i32, i32)>> =
    LazyLock::new(|| tiles(include_str!("../../data/icb_tiles.csv"), "data/icb_tiles.csv"));
static REGION_TILES: LazyLock<Vec<(String, i32, i32)>> =
    LazyLock::new(|| tiles(include_str!("../../data/region_tiles.csv"), "data/region_tiles.csv"));

/// The tile map of the 42 ICBs: each one's (code, column, row), west to east and north to
/// south, one equal tile each in its rough place (`data/icb_tiles.csv`).
pub fn icb_tiles() -> &'static [(String, i32, i32)] {
    &ICB_TILES
}

/// The tile map of the seven NHS England regions (`data/region_tiles.csv`).
pub fn region_tiles() -> &'static [(String, i32, i32)] {
    &REGION_TILES
}

/// A measure of the app's use, counted per area and month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Measure {
    pub measure: String,
    pub name: String,
    /// The feature it counts the use of (`appointments`, `prescriptions`, …), `account` for
    /// registrations and logins, `population` for the denominator.
    pub feature: String,
    /// `count` (events) or `people`.
    pub unit: String,
    pub definition: String,
    pub source: String,
}

/// The denominator of every rate: people aged 13 and over registered with a GP practice.
pub const POPULATION: &str = "population_13_plus";
/// New registrations: their running total over the population is the share registered.
pub const REGISTRATIONS: &str = "registrations";

static MEASURES: LazyLock<Vec<Measure>> = LazyLock::new(|| {
    csv::Reader::from_reader(include_str!("../../data/app_measures.csv").as_bytes())
        .deserialize()
        .collect::<Result<Vec<Measure>, _>>()
        .expect("data/app_measures.csv is valid (checked by a test)")
});

/// Every measure, in catalogue order.
pub fn measures() -> &'static [Measure] {
    &MEASURES
}

pub fn measure(id: &str) -> Option<&'static Measure> {
    MEASURES.iter().find(|m| m.measure == id)
}

/// The seven features the app offered in its pilot, in the programme's order, with the
/// measure that counts each one's use.
pub const FEATURES: [(&str, &str, &str); 7] = [
    ("appointments", "Booking GP appointments", "appointments_booked"),
    ("prescriptions", "Ordering repeat prescriptions", "prescriptions_ordered"),
    ("record", "Viewing the medical record", "record_views"),
    ("nhs111", "NHS 111 online", "nhs111_visits"),
    ("data_sharing", "Data-sharing preferences", "data_sharing_changes"),
    ("organ_donation", "Organ donation preferences", "organ_donation_registrations"),
    ("end_of_life", "End-of-life care preferences", "end_of_life_preferences"),
];

/// An age band of the population aged 13 and over, or all of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AgeBand {
    All,
    From13To15,
    From16To24,
    From25To34,
    From35To44,
    From45To54,
    From55To64,
    From65To74,
    From75,
}

impl AgeBand {
    pub const ALL: [AgeBand; 9] = [
        AgeBand::All,
        AgeBand::From13To15,
        AgeBand::From16To24,
        AgeBand::From25To34,
        AgeBand::From35To44,
        AgeBand::From45To54,
        AgeBand::From55To64,
        AgeBand::From65To74,
        AgeBand::From75,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AgeBand::All => "all",
            AgeBand::From13To15 => "13-15",
            AgeBand::From16To24 => "16-24",
            AgeBand::From25To34 => "25-34",
            AgeBand::From35To44 => "35-44",
            AgeBand::From45To54 => "45-54",
            AgeBand::From55To64 => "55-64",
            AgeBand::From65To74 => "65-74",
            AgeBand::From75 => "75+",
        }
    }
}

impl std::str::FromStr for AgeBand {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        AgeBand::ALL.into_iter().find(|b| b.as_str() == s).ok_or_else(|| {
            let all: Vec<&str> = AgeBand::ALL.iter().map(|b| b.as_str()).collect();
            format!("'{s}' is not an age band: write one of {}", all.join(", "))
        })
    }
}

impl fmt::Display for AgeBand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A calendar month, written `2019-03`; held as its index (`year × 12 + month − 1`), so that it
/// orders as time does.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(i32);

impl Month {
    pub fn new(year: i32, month: u32) -> Result<Self, String> {
        if !(1..=12).contains(&month) {
            return Err(format!("month {month} does not exist: months run from 01 to 12"));
        }
        if !super::quarter::YEARS.contains(&year) {
            return Err(format!("year {year} is out of range"));
        }
        Ok(Self(year * 12 + month as i32 - 1))
    }

    /// Parses `2019-03`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bad = || format!("'{text}' is not a month: write it as 2019-03");
        let (year, month) = text.split_once('-').ok_or_else(bad)?;
        if year.len() != 4 || month.len() != 2 || !(year.bytes().chain(month.bytes())).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        Self::new(year.parse().map_err(|_| bad())?, month.parse().map_err(|_| bad())?)
    }

    /// The month that contains `date`.
    pub fn containing(date: chrono::NaiveDate) -> Self {
        use chrono::Datelike;
        Self(date.year() * 12 + date.month0() as i32)
    }

    pub fn year(self) -> i32 {
        self.0.div_euclid(12)
    }

    /// 1 to 12.
    pub fn month(self) -> u32 {
        self.0.rem_euclid(12) as u32 + 1
    }

    pub fn index(self) -> i32 {
        self.0
    }

    pub fn from_index(index: i32) -> Self {
        Self(index)
    }

    /// The month `k` months later.
    pub fn offset(self, k: i32) -> Self {
        Self(self.0 + k)
    }

    /// "March 2019".
    pub fn label(self) -> String {
        const NAMES: [&str; 12] = [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ];
        format!("{} {}", NAMES[self.month() as usize - 1], self.year())
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:02}", self.year(), self.month())
    }
}

impl fmt::Debug for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Month({self})")
    }
}

/// One valid row of an uptake submission: a count of `measure` in `area_code` in `month`,
/// for `age_band`.
#[derive(Debug, Clone, PartialEq)]
pub struct UptakeRow {
    pub row: usize,
    pub area_code: String,
    pub month: Month,
    pub measure: String,
    pub age_band: AgeBand,
    pub value: f64,
}

/// The current count of one (area, month, measure, age band).
#[derive(Debug, Clone, PartialEq)]
pub struct UptakeValue {
    pub area_code: String,
    pub month: Month,
    pub measure: String,
    pub age_band: AgeBand,
    pub value: f64,
    pub revision: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_areas_are_106_locations_42_icbs_7_regions_and_england_each_inside_the_next() {
        let count = |level| areas().iter().filter(|a| a.level == level).count();
        assert_eq!([Level::SubIcb, Level::Icb, Level::Region, Level::England].map(count), [106, 42, 7, 1]);
        for a in areas() {
            for level in Level::ALL.into_iter().filter(|l| *l >= a.level) {
                assert!(a.within(level).is_some(), "{} has no {level:?}", a.code);
            }
        }
        assert_eq!(area("99A").and_then(|a| a.within(Level::Icb)).map(|i| i.code.as_str()), Some("QYG"));
        assert_eq!(area("99A").and_then(|a| a.within(Level::Region)).map(|i| i.code.as_str()), Some("Y62"));
        let pilots: Vec<&str> = areas().iter().filter(|a| a.pilot_area.is_some()).map(|a| a.code.as_str()).collect();
        assert_eq!(pilots.len(), 10, "{pilots:?}");
        assert!(area("QYG").unwrap().holds_pilot() && !area("QWO").unwrap().holds_pilot());
        let tiles = icb_tiles();
        assert_eq!(tiles.len(), 42);
        assert!(tiles.iter().all(|(code, _, _)| area(code).is_some_and(|a| a.level == Level::Icb)));
        let places: std::collections::HashSet<(i32, i32)> = tiles.iter().map(|(_, c, r)| (*c, *r)).collect();
        assert_eq!(places.len(), 42, "one tile a place");
        let regions = region_tiles();
        assert_eq!(regions.len(), 7);
        assert!(regions.iter().all(|(code, _, _)| area(code).is_some_and(|a| a.level == Level::Region)));
        let places: std::collections::HashSet<(i32, i32)> = regions.iter().map(|(_, c, r)| (*c, *r)).collect();
        assert_eq!(places.len(), 7, "one tile a place");
    }

    #[test]
    fn the_measures_include_the_denominator_and_each_feature() {
        assert_eq!(measures().len(), 16);
        assert!(measure(POPULATION).is_some() && measure(REGISTRATIONS).is_some());
        for (_, _, m) in FEATURES {
            assert!(measure(m).is_some(), "{m}");
        }
    }

    #[test]
    fn months_read_and_write_as_year_dash_month() {
        assert_eq!(Month::parse("2019-03").unwrap().to_string(), "2019-03");
        assert_eq!(Month::parse("2019-03").unwrap().label(), "March 2019");
        assert_eq!(Month::parse("2019-12").unwrap().offset(1).to_string(), "2020-01");
        for bad in ["2019-3", "2019/03", "201903", "2019-13", "March 2019"] {
            assert!(Month::parse(bad).is_err(), "{bad}");
        }
        assert_eq!("16-24".parse::<AgeBand>(), Ok(AgeBand::From16To24));
        assert!("16-25".parse::<AgeBand>().is_err());
    }
}

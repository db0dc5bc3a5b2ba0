//! The reference data's types: organisations, domains, the metric catalogue, standards and systems.

use serde::Serialize;
use std::fmt;
use std::str::FromStr;

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(text: &str) -> Result<Self, String> {
                match text.trim() {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "'{other}' is not one of: {}",
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// A trust's type, which is also its peer group.
    TrustType { Acute = "acute", MentalHealth = "mental_health", Community = "community", Ambulance = "ambulance" }
);

text_enum!(
    /// Membership of the Global Digital Exemplar programme.
    Exemplar { Gde = "gde", FastFollower = "fast_follower", None = "none" }
);

text_enum!(
    Unit { Score = "score", Percent = "percent", Count = "count", Days = "days", Boolean = "boolean", Gbp = "gbp" }
);

text_enum!(
    Direction { HigherBetter = "higher_better", LowerBetter = "lower_better" }
);

text_enum!(
    StandardCategory { Interoperability = "interoperability", Permissions = "permissions", Privacy = "privacy", Security = "security" }
);

text_enum!(
    AssessedAt { System = "system", Organisation = "organisation" }
);

text_enum!(
    /// The outcome of a conformance assessment.
    Conformance { Pass = "pass", Fail = "fail", Partial = "partial" }
);

text_enum!(
    /// What a signed-in user may do (docs/RULES.md §1).
    Role { Trust = "trust", Board = "board", Analyst = "analyst", Assessor = "assessor", Admin = "admin" }
);

impl TrustType {
    pub fn label(self) -> &'static str {
        match self {
            TrustType::Acute => "Acute",
            TrustType::MentalHealth => "Mental health",
            TrustType::Community => "Community",
            TrustType::Ambulance => "Ambulance",
        }
    }
}

impl Exemplar {
    pub fn is_exemplar(self) -> bool {
        self != Exemplar::None
    }

    pub fn label(self) -> &'static str {
        match self {
            Exemplar::Gde => "Global Digital Exemplar",
            Exemplar::FastFollower => "Fast follower",
            Exemplar::None => "Not an exemplar",
        }
    }
}

impl Direction {
    /// `d` of the benchmark definitions: +1 when higher is better, −1 when lower is.
    pub fn sign(self) -> f64 {
        match self {
            Direction::HigherBetter => 1.0,
            Direction::LowerBetter => -1.0,
        }
    }
}

/// The seven NHS England regions, by the region codes of the ODS extract.
pub const REGIONS: &[(&str, &str)] = &[
    ("Y56", "London"),
    ("Y58", "South West"),
    ("Y59", "South East"),
    ("Y60", "Midlands"),
    ("Y61", "East of England"),
    ("Y62", "North West"),
    ("Y63", "North East and Yorkshire"),
];

#[derive(Debug, Clone, Serialize)]
pub struct Organisation {
    pub ods_code: String,
    pub name: String,
    pub trust_type: TrustType,
    pub region: String,
    /// The ODS code of the integrated care board the trust lies in (`QWO`); empty if unknown.
    pub icb: String,
    pub exemplar: Exemplar,
    pub exemplar_cohort: Option<i32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Domain {
    pub domain_id: String,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metric {
    pub metric_id: String,
    pub domain: String,
    pub name: String,
    pub description: String,
    pub unit: Unit,
    pub scale_min: f64,
    pub scale_max: f64,
    pub direction: Direction,
    /// The trust types it applies to; empty means all.
    pub applies_to: Vec<TrustType>,
    /// For a proportion, what its denominator counts ("staff", "inpatient discharges"); empty
    /// for a metric that is not a proportion of counts.
    pub counted: String,
    pub definition: Definition,
}

/// A metric's definition, as Fingertips defines an indicator: why it matters, what its
/// numerator and denominator count (proportions only), where the figure comes from, how often,
/// and what to bear in mind. From `data/metric_definitions.csv`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Definition {
    pub rationale: String,
    pub numerator: String,
    pub denominator: String,
    pub source: String,
    pub frequency: String,
    pub caveats: String,
}

impl Metric {
    /// Whether the metric is a proportion whose counts trusts send (docs/RULES.md §3.9).
    pub fn is_proportion(&self) -> bool {
        !self.counted.is_empty()
    }

    pub fn applies(&self, trust_type: TrustType) -> bool {
        self.applies_to.is_empty() || self.applies_to.contains(&trust_type)
    }

    /// `applies_to` as the exports write it: trust types joined by `;`, or `all`.
    pub fn applies_to_text(&self) -> String {
        if self.applies_to.is_empty() {
            "all".into()
        } else {
            self.applies_to.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(";")
        }
    }

    pub fn parse_applies_to(text: &str) -> Result<Vec<TrustType>, String> {
        if text.trim() == "all" {
            return Ok(Vec::new());
        }
        text.split(';').map(str::parse).collect()
    }

    /// The 0–100 score of docs/RULES.md §4.2: where `v` sits on the metric's scale, higher is better.
    pub fn score(&self, v: f64) -> f64 {
        let span = self.scale_max - self.scale_min;
        match self.direction {
            Direction::HigherBetter => 100.0 * (v - self.scale_min) / span,
            Direction::LowerBetter => 100.0 * (self.scale_max - v) / span,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Standard {
    pub standard_id: String,
    pub name: String,
    pub category: StandardCategory,
    pub version: String,
    pub mandatory_from: Option<chrono::NaiveDate>,
    pub assessed_at: AssessedAt,
    pub reference: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct System {
    pub system_id: String,
    pub supplier: String,
    pub product: String,
    pub version: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Deployment {
    pub ods_code: String,
    pub system_id: String,
    pub function: String,
}

//! England's 42 integrated care boards (ICBs): each one's ODS code (the code trusts' records
//! carry, `QWO`), ONS code, name and NHS England region, from `data/icbs.csv` (see its sources in
//! `data/README.md`). Like the seven regions, a fixed list compiled into the application.

use std::sync::LazyLock;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Icb {
    pub icb_code: String,
    pub ons_code: String,
    pub name: String,
    pub region: String,
}

impl Icb {
    /// The name without "NHS " and " Integrated Care Board", for tight spaces: "West Yorkshire".
    pub fn short_name(&self) -> &str {
        let name = self.name.strip_prefix("NHS ").unwrap_or(&self.name);
        name.strip_suffix(" Integrated Care Board").unwrap_or(name)
    }
}

static ICBS: LazyLock<Vec<Icb>> = LazyLock::new(|| {
    csv::Reader::from_reader(include_str!("../../data/icbs.csv").as_bytes())
        .deserialize()
        .collect::<Result<Vec<Icb>, _>>()
        .expect("data/icbs.csv is valid (checked by a test)")
});

/// Every ICB, by name.
pub fn icbs() -> &'static [Icb] {
    &ICBS
}

/// The ICB with ODS code `code`, if there is one.
pub fn icb(code: &str) -> Option<&'static Icb> {
    ICBS.iter().find(|i| i.icb_code == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_42_icbs_each_in_one_of_the_seven_regions() {
        assert_eq!(icbs().len(), 42);
        for i in icbs() {
            assert!(crate::domain::REGIONS.iter().any(|(_, r)| *r == i.region), "{i:?}");
            assert!(i.ons_code.starts_with("E54") && i.icb_code.starts_with('Q'), "{i:?}");
        }
        assert_eq!(icb("QWO").map(Icb::short_name), Some("West Yorkshire"));
    }
}

//! The features each trust is compared on to find its peers (docs/RULES.md §10.1), from the
//! figures of a quarter, the deployments and the A&E attendances of `data/ae_attendances_2025_05.csv`.

use super::Figures;
use crate::analytics::peers::{NEIGHBOURS, Peer, PeerFeatures, WEIGHTS, nearest};
use crate::domain::Quarter;
use std::collections::HashMap;
use std::sync::LazyLock;

/// The deployment functions that are a trust's main electronic patient record.
const MAIN_RECORDS: [&str; 4] = ["epr", "mental_health_epr", "community_epr", "epcr"];

/// Monthly A&E attendances (type 1, type 2 and other departments) by ODS code, May 2025.
static ATTENDANCES: LazyLock<HashMap<String, f64>> = LazyLock::new(|| {
    csv::Reader::from_reader(include_str!("../../data/ae_attendances_2025_05.csv").as_bytes())
        .deserialize::<(String, f64)>()
        .collect::<Result<HashMap<_, _>, _>>()
        .expect("data/ae_attendances_2025_05.csv is valid (checked by a test)")
});

/// A trust's monthly A&E attendances, where NHS England's file lists it.
pub fn attendances(ods_code: &str) -> Option<f64> {
    ATTENDANCES.get(ods_code).copied()
}

impl Figures {
    /// Every trust's features in `quarter`.
    pub fn peer_features(&self, quarter: Quarter) -> Vec<PeerFeatures> {
        let r = &self.reference;
        let supplier_of: HashMap<&str, &str> = r
            .deployments
            .iter()
            .filter(|d| MAIN_RECORDS.contains(&d.function.as_str()))
            .filter_map(|d| {
                let system = r.systems.iter().find(|s| s.system_id == d.system_id)?;
                Some((d.ods_code.as_str(), system.supplier.as_str()))
            })
            .collect();
        r.organisations
            .iter()
            .map(|o| PeerFeatures {
                org_code: o.ods_code.clone(),
                trust_type: o.trust_type.as_str().to_string(),
                region: o.region.clone(),
                icb: o.icb.clone(),
                maturity: self.index(&o.ods_code, quarter, "all").and_then(|i| i.domain_index),
                domains: r
                    .domains
                    .iter()
                    .map(|d| self.index(&o.ods_code, quarter, &d.domain_id).and_then(|i| i.domain_index))
                    .collect(),
                supplier: supplier_of.get(o.ods_code.as_str()).map(|s| s.to_string()),
                attendances: attendances(&o.ods_code),
            })
            .collect()
    }

    /// Each trust's nearest peers in `quarter` (only `org_code`'s when given).
    pub fn peers(&self, quarter: Quarter, org_code: Option<&str>) -> Vec<Peer> {
        nearest(&self.peer_features(quarter), NEIGHBOURS, &WEIGHTS, org_code)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_attendances_file_reads_and_holds_real_trusts() {
        // Cambridge University Hospitals has a type 1 department; Liverpool Heart and Chest none.
        assert!(super::attendances("RGT").is_some_and(|a| a > 5_000.0));
        assert_eq!(super::attendances("RBQ"), Some(0.0));
    }
}

//! Conformance and procurement (docs/RULES.md §5): the current result of each subject for each standard,
//! which systems may be bought on a date, each trust's conformance rate, the upgrade list, and
//! trusts whose self-assessed maturity outruns their verified conformance.

use crate::domain::{AssessedAt, Conformance, Reference, Standard};
use crate::store::ConformanceRecord;
use chrono::NaiveDate;
use std::collections::HashMap;

/// The current result of each (subject, standard) on a date: the one with the latest
/// `assessed_on` not after it; ties go to the latest submitted.
pub struct Current<'a> {
    map: HashMap<(&'a str, &'a str), &'a ConformanceRecord>,
}

impl<'a> Current<'a> {
    pub fn on(results: &'a [ConformanceRecord], date: NaiveDate) -> Self {
        let date = date.to_string();
        let mut map: HashMap<(&str, &str), &ConformanceRecord> = HashMap::new();
        for r in results.iter().filter(|r| r.assessed_on <= date) {
            let key = (r.subject.as_str(), r.standard_id.as_str());
            let newer =
                map.get(&key).is_none_or(|old| (r.assessed_on.as_str(), r.id) > (old.assessed_on.as_str(), old.id));
            if newer {
                map.insert(key, r);
            }
        }
        Self { map }
    }

    pub fn get(&self, subject: &str, standard_id: &str) -> Option<&'a ConformanceRecord> {
        self.map.get(&(subject, standard_id)).copied()
    }

    /// Whether the current result is a pass; no result counts as not passed.
    pub fn passes(&self, subject: &str, standard_id: &str) -> bool {
        self.get(subject, standard_id).is_some_and(|r| r.result() == Some(Conformance::Pass))
    }
}

/// The standards in force on `date` at one level.
pub fn mandatory(reference: &Reference, level: AssessedAt, date: NaiveDate) -> impl Iterator<Item = &Standard> {
    reference.standards.iter().filter(move |s| s.assessed_at == level && s.mandatory_from.is_some_and(|m| m <= date))
}

/// A system's procurable status on a date and the mandatory standards it does not pass.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemStatus {
    pub system_id: String,
    pub procurable: bool,
    pub failing: Vec<String>,
}

pub fn system_status(reference: &Reference, current: &Current<'_>, system_id: &str, date: NaiveDate) -> SystemStatus {
    let failing: Vec<String> = mandatory(reference, AssessedAt::System, date)
        .filter(|s| !current.passes(system_id, &s.standard_id))
        .map(|s| s.standard_id.clone())
        .collect();
    SystemStatus { system_id: system_id.to_string(), procurable: failing.is_empty(), failing }
}

/// A trust's conformance: current passes over required results.
#[derive(Debug, Clone, PartialEq)]
pub struct TrustConformance {
    pub org_code: String,
    pub required: usize,
    pub passed: usize,
    pub failing: Vec<String>,
}

impl TrustConformance {
    pub fn rate(&self) -> Option<f64> {
        (self.required > 0).then(|| self.passed as f64 / self.required as f64)
    }
}

/// Required: every (deployed system, system-level mandatory standard in force) pair and every
/// organisation-level mandatory standard in force for the trust itself.
pub fn trust_conformance(
    reference: &Reference,
    current: &Current<'_>,
    org_code: &str,
    date: NaiveDate,
) -> TrustConformance {
    let mut systems: Vec<&str> =
        reference.deployments.iter().filter(|d| d.ods_code == org_code).map(|d| d.system_id.as_str()).collect();
    systems.sort();
    systems.dedup();
    let (mut required, mut passed, mut failing) = (0, 0, Vec::new());
    for system in systems {
        for s in mandatory(reference, AssessedAt::System, date) {
            required += 1;
            if current.passes(system, &s.standard_id) {
                passed += 1;
            } else {
                failing.push(format!("{system}:{}", s.standard_id));
            }
        }
    }
    for s in mandatory(reference, AssessedAt::Organisation, date) {
        required += 1;
        if current.passes(org_code, &s.standard_id) {
            passed += 1;
        } else {
            failing.push(s.standard_id.clone());
        }
    }
    TrustConformance { org_code: org_code.to_string(), required, passed, failing }
}

/// A deployment of a system that may not be bought, with what it fails.
#[derive(Debug, Clone, PartialEq)]
pub struct Upgrade {
    pub ods_code: String,
    pub system_id: String,
    pub function: String,
    /// (standard, the date it became mandatory)
    pub failing: Vec<(String, NaiveDate)>,
}

pub fn upgrades(reference: &Reference, current: &Current<'_>, date: NaiveDate) -> Vec<Upgrade> {
    let status: HashMap<&str, SystemStatus> = reference
        .systems
        .iter()
        .map(|s| (s.system_id.as_str(), system_status(reference, current, &s.system_id, date)))
        .collect();
    reference
        .deployments
        .iter()
        .filter_map(|d| {
            let st = status.get(d.system_id.as_str())?;
            (!st.procurable).then(|| Upgrade {
                ods_code: d.ods_code.clone(),
                system_id: d.system_id.clone(),
                function: d.function.clone(),
                failing: st
                    .failing
                    .iter()
                    .filter_map(|id| Some((id.clone(), reference.standard(id)?.mandatory_from?)))
                    .collect(),
            })
        })
        .collect()
}

/// The domains whose self-assessment standards evidence.
pub const CLAIM_DOMAINS: [&str; 2] = ["smart_foundations", "safe_practice"];
/// A claim outruns its evidence when the self-assessed index exceeds the verified conformance
/// rate (as a percentage) by more than this many points.
pub const CLAIM_MARGIN: f64 = 25.0;

pub fn claim_rule() -> String {
    format!(
        "A trust is flagged when its self-assessed maturity — the mean of its Ensure smart foundations and Safe practice \
         domain indices (0–100) — exceeds its verified conformance rate (the share of its required results that are \
         current passes, as a percentage) by more than {CLAIM_MARGIN:.0} points."
    )
}

/// Whether a claim outruns its evidence.
pub fn claim_flagged(claimed: Option<f64>, verified: Option<f64>) -> bool {
    matches!((claimed, verified), (Some(c), Some(v)) if c - v > CLAIM_MARGIN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::*;

    fn standard(id: &str, level: AssessedAt, from: Option<&str>) -> Standard {
        Standard {
            standard_id: id.into(),
            name: id.into(),
            category: StandardCategory::Interoperability,
            version: "1".into(),
            mandatory_from: from.map(|d| d.parse().unwrap()),
            assessed_at: level,
            reference: String::new(),
            description: String::new(),
        }
    }

    fn reference() -> Reference {
        let org = Organisation {
            ods_code: "RX1".into(),
            name: "Trust".into(),
            trust_type: TrustType::Acute,
            region: "London".into(),
            icb: String::new(),
            exemplar: Exemplar::None,
            exemplar_cohort: None,
        };
        let systems = ["epr", "lims"]
            .iter()
            .map(|s| System { system_id: (*s).into(), supplier: "S".into(), product: "P".into(), version: "1".into() })
            .collect();
        let deployments = ["epr", "lims"]
            .iter()
            .map(|s| Deployment { ods_code: "RX1".into(), system_id: (*s).into(), function: "epr".into() })
            .collect();
        let standards = vec![
            standard("api", AssessedAt::System, Some("2025-04-01")),
            standard("codes", AssessedAt::System, Some("2020-01-01")),
            standard("later", AssessedAt::System, Some("2030-01-01")),
            standard("advisory", AssessedAt::System, None),
            standard("toolkit", AssessedAt::Organisation, Some("2024-06-30")),
        ];
        Reference::new(vec![org], vec![], vec![], standards, systems, deployments)
    }

    fn result(id: i64, subject: &str, standard: &str, result: &str, on: &str) -> ConformanceRecord {
        ConformanceRecord {
            id,
            subject: subject.into(),
            subject_kind: "system".into(),
            standard_id: standard.into(),
            result: result.into(),
            assessed_on: on.into(),
            assessor: None,
            evidence: None,
            submission_id: id,
        }
    }

    fn date(d: &str) -> NaiveDate {
        d.parse().unwrap()
    }

    #[test]
    fn a_system_is_procurable_only_while_it_passes_every_standard_in_force() {
        let r = reference();
        let results = vec![result(1, "epr", "codes", "pass", "2024-01-10")];
        let current = Current::on(&results, date("2025-03-31"));
        assert!(
            system_status(&r, &current, "epr", date("2025-03-31")).procurable,
            "the API mandate is not in force yet"
        );
        let current = Current::on(&results, date("2025-04-01"));
        let status = system_status(&r, &current, "epr", date("2025-04-01"));
        assert!(!status.procurable, "from the day the API mandate starts, no result is not a pass");
        assert_eq!(status.failing, ["api"]);
    }

    #[test]
    fn the_latest_assessment_wins_and_ties_go_to_the_latest_submitted() {
        let results = vec![
            result(1, "epr", "api", "pass", "2025-05-01"),
            result(2, "epr", "api", "fail", "2025-03-01"),
            result(3, "lims", "api", "fail", "2025-05-01"),
            result(4, "lims", "api", "pass", "2025-05-01"),
        ];
        let current = Current::on(&results, date("2025-06-01"));
        assert_eq!(current.get("epr", "api").unwrap().id, 1, "a later assessment submitted earlier still wins");
        assert_eq!(current.get("lims", "api").unwrap().id, 4, "same day: the latest submitted");
        let before = Current::on(&results, date("2025-04-01"));
        assert_eq!(
            before.get("epr", "api").unwrap().result,
            "fail",
            "on an earlier date the earlier result is current"
        );
        assert!(!current.passes("epr", "codes"), "no result counts as not passed");
    }

    #[test]
    fn the_conformance_rate_mixes_system_and_organisation_results() {
        let r = reference();
        let results = vec![
            result(1, "epr", "api", "pass", "2025-05-01"),
            result(2, "epr", "codes", "pass", "2025-05-01"),
            result(3, "lims", "api", "partial", "2025-05-01"),
            result(4, "lims", "codes", "pass", "2025-05-01"),
            ConformanceRecord {
                subject_kind: "organisation".into(),
                ..result(5, "RX1", "toolkit", "pass", "2025-06-30")
            },
        ];
        let on = date("2025-07-01");
        let t = trust_conformance(&r, &Current::on(&results, on), "RX1", on);
        // Two systems × two system standards in force + one organisation standard = 5 required.
        assert_eq!((t.required, t.passed), (5, 4));
        assert_eq!(t.failing, ["lims:api"]);
        assert!((t.rate().unwrap() - 0.8).abs() < 1e-12);
        let ups = upgrades(&r, &Current::on(&results, on), on);
        assert_eq!(ups.len(), 1);
        assert_eq!((ups[0].system_id.as_str(), ups[0].failing[0].0.as_str()), ("lims", "api"));
        assert_eq!(ups[0].failing[0].1, date("2025-04-01"));
    }

    #[test]
    fn a_claim_is_flagged_only_beyond_the_margin() {
        assert!(claim_flagged(Some(80.0), Some(50.0)));
        assert!(!claim_flagged(Some(75.0), Some(50.0)));
        assert!(!claim_flagged(None, Some(0.0)));
    }
}

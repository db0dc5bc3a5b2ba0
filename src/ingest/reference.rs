//! The reference data shipped in `data/`: the ODS trust list with trust types and exemplar
//! cohorts, the domains, the metric catalogue, standards, systems and deployments.

use crate::domain::reference::*;
use crate::domain::{MetricId, OdsCode, Reference};
use anyhow::{Context, Result, bail};
use serde::Deserialize;
use std::collections::HashMap;

/// The files of `data/`, compiled into the binary so that a fresh database gets them anywhere.
pub struct ReferenceFiles<'a> {
    pub etr: &'a str,
    pub overrides: &'a str,
    pub exemplars: &'a str,
    pub domains: &'a str,
    pub metrics: &'a str,
    pub definitions: &'a str,
    pub standards: &'a str,
    pub systems: &'a str,
    pub deployments: &'a str,
}

pub const BUNDLED: ReferenceFiles<'static> = ReferenceFiles {
    etr: include_str!("../../data/etr_2025.csv"),
    overrides: include_str!("../../data/trust_type_overrides.csv"),
    exemplars: include_str!("../../data/exemplars.csv"),
    domains: include_str!("../../data/domains.csv"),
    metrics: include_str!("../../data/metrics.csv"),
    definitions: include_str!("../../data/metric_definitions.csv"),
    standards: include_str!("../../data/standards.csv"),
    systems: include_str!("../../data/systems.csv"),
    deployments: include_str!("../../data/deployments.csv"),
};

/// The reference data shipped with the app.
pub fn bundled() -> Result<Reference> {
    parse(&BUNDLED)
}

#[derive(Deserialize)]
struct OverrideRow {
    ods_code: String,
    trust_type: String,
}

#[derive(Deserialize)]
struct ExemplarRow {
    ods_code: String,
    exemplar: String,
    cohort_year: Option<i32>,
}

#[derive(Deserialize)]
struct MetricRow {
    metric_id: String,
    domain: String,
    name: String,
    description: String,
    unit: String,
    scale_min: f64,
    scale_max: f64,
    direction: String,
    applies_to: String,
    #[serde(default)]
    counted: String,
}

#[derive(Deserialize)]
struct DefinitionRow {
    metric_id: String,
    rationale: String,
    numerator: String,
    denominator: String,
    source: String,
    frequency: String,
    caveats: String,
}

#[derive(Deserialize)]
struct StandardRow {
    standard_id: String,
    name: String,
    category: String,
    version: String,
    mandatory_from: String,
    assessed_at: String,
    reference: String,
    description: String,
}

pub fn parse(files: &ReferenceFiles<'_>) -> Result<Reference> {
    let overrides: HashMap<String, TrustType> = records::<OverrideRow>(files.overrides, "trust_type_overrides.csv")?
        .into_iter()
        .map(|r| Ok((r.ods_code, r.trust_type.parse().map_err(anyhow::Error::msg)?)))
        .collect::<Result<_>>()?;
    let exemplars: HashMap<String, (Exemplar, Option<i32>)> = records::<ExemplarRow>(files.exemplars, "exemplars.csv")?
        .into_iter()
        .map(|r| Ok((r.ods_code, (r.exemplar.parse().map_err(anyhow::Error::msg)?, r.cohort_year))))
        .collect::<Result<_>>()?;
    let organisations = organisations(files.etr, &overrides, &exemplars)?;
    let domains: Vec<Domain> = csv::Reader::from_reader(files.domains.as_bytes())
        .deserialize::<(String, String, String)>()
        .map(|r| r.map(|(domain_id, name, description)| Domain { domain_id, name, description }))
        .collect::<Result<_, _>>()
        .context("data/domains.csv")?;
    let metrics = records::<MetricRow>(files.metrics, "metrics.csv")?
        .into_iter()
        .map(|r| {
            MetricId::parse(&r.metric_id).map_err(anyhow::Error::msg)?;
            if !domains.iter().any(|d| d.domain_id == r.domain) {
                bail!("metric {} names unknown domain {}", r.metric_id, r.domain);
            }
            if !r.counted.is_empty() && r.unit != "percent" {
                bail!("metric {} names what it counts but is not a percentage", r.metric_id);
            }
            if r.scale_min.partial_cmp(&r.scale_max) != Some(std::cmp::Ordering::Less) {
                bail!("metric {} has scale_min not below scale_max", r.metric_id);
            }
            Ok(Metric {
                unit: r.unit.parse().map_err(anyhow::Error::msg)?,
                direction: r.direction.parse().map_err(anyhow::Error::msg)?,
                applies_to: Metric::parse_applies_to(&r.applies_to).map_err(anyhow::Error::msg)?,
                metric_id: r.metric_id,
                domain: r.domain,
                name: r.name,
                description: r.description,
                scale_min: r.scale_min,
                scale_max: r.scale_max,
                counted: r.counted,
                definition: Definition::default(),
            })
        })
        .collect::<Result<Vec<_>>>()
        .context("data/metrics.csv")?;
    let mut metrics = metrics;
    for d in records::<DefinitionRow>(files.definitions, "metric_definitions.csv")? {
        let Some(m) = metrics.iter_mut().find(|m| m.metric_id == d.metric_id) else {
            bail!("data/metric_definitions.csv defines unknown metric {}", d.metric_id);
        };
        if m.is_proportion() == (d.numerator.trim().is_empty() || d.denominator.trim().is_empty()) {
            bail!(
                "data/metric_definitions.csv: {} must name its numerator and denominator exactly when it is a proportion",
                d.metric_id
            );
        }
        m.definition = Definition {
            rationale: d.rationale,
            numerator: d.numerator,
            denominator: d.denominator,
            source: d.source,
            frequency: d.frequency,
            caveats: d.caveats,
        };
    }
    if let Some(m) = metrics.iter().find(|m| m.definition.rationale.trim().is_empty()) {
        bail!("data/metric_definitions.csv has no definition of metric {}", m.metric_id);
    }
    let standards = records::<StandardRow>(files.standards, "standards.csv")?
        .into_iter()
        .map(|r| {
            let mandatory_from = match r.mandatory_from.trim() {
                "" => None,
                d => Some(d.parse().with_context(|| format!("standard {}: mandatory_from", r.standard_id))?),
            };
            Ok(Standard {
                category: r.category.parse().map_err(anyhow::Error::msg)?,
                assessed_at: r.assessed_at.parse().map_err(anyhow::Error::msg)?,
                standard_id: r.standard_id,
                name: r.name,
                version: r.version,
                mandatory_from,
                reference: r.reference,
                description: r.description,
            })
        })
        .collect::<Result<Vec<_>>>()
        .context("data/standards.csv")?;
    let systems: Vec<System> = csv::Reader::from_reader(files.systems.as_bytes())
        .deserialize::<(String, String, String, String)>()
        .map(|r| r.map(|(system_id, supplier, product, version)| System { system_id, supplier, product, version }))
        .collect::<Result<_, _>>()
        .context("data/systems.csv")?;
    let deployments: Vec<Deployment> = csv::Reader::from_reader(files.deployments.as_bytes())
        .deserialize::<(String, String, String)>()
        .map(|r| r.map(|(ods_code, system_id, function)| Deployment { ods_code, system_id, function }))
        .collect::<Result<_, _>>()
        .context("data/deployments.csv")?;
    let reference = Reference::new(organisations, domains, metrics, standards, systems, deployments);
    for d in &reference.deployments {
        if reference.organisation(&d.ods_code).is_none()
            || !reference.systems.iter().any(|s| s.system_id == d.system_id)
        {
            bail!("deployment {} {} names an unknown trust or system", d.ods_code, d.system_id);
        }
    }
    Ok(reference)
}

fn records<T: serde::de::DeserializeOwned>(text: &str, file: &str) -> Result<Vec<T>> {
    csv::Reader::from_reader(text.as_bytes())
        .deserialize()
        .collect::<Result<Vec<T>, _>>()
        .with_context(|| format!("data/{file}"))
}

/// The open English trusts of the ODS extract, typed and with their exemplar cohort.
fn organisations(
    etr: &str,
    overrides: &HashMap<String, TrustType>,
    exemplars: &HashMap<String, (Exemplar, Option<i32>)>,
) -> Result<Vec<Organisation>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(etr.as_bytes());
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.context("data/etr_2025.csv")?;
        let (code, name, region) = (&record[0], &record[1], &record[2]);
        let closed = record.get(11).is_some_and(|c| !c.trim().is_empty());
        if closed || region == "W00" {
            continue;
        }
        let code = OdsCode::parse(code).map_err(anyhow::Error::msg)?;
        let trust_type = overrides.get(code.as_str()).copied().unwrap_or_else(|| type_from_name(name));
        let (exemplar, exemplar_cohort) = exemplars.get(code.as_str()).copied().unwrap_or((Exemplar::None, None));
        out.push(Organisation {
            ods_code: code.as_str().to_string(),
            name: title_case(name),
            trust_type,
            region: Reference::region_name(region).to_string(),
            icb: record
                .get(3)
                .map(str::trim)
                .filter(|c| crate::domain::icb(c).is_some())
                .unwrap_or_default()
                .to_string(),
            exemplar,
            exemplar_cohort,
        });
    }
    for code in overrides.keys().chain(exemplars.keys()) {
        if !out.iter().any(|o| &o.ods_code == code) {
            bail!("{code} is in the override or exemplar list but not an open English trust");
        }
    }
    Ok(out)
}

/// A trust's type from its name; the reviewed overrides correct the names that mislead.
pub fn type_from_name(name: &str) -> TrustType {
    let name = name.to_ascii_uppercase();
    if name.contains("AMBULANCE") {
        TrustType::Ambulance
    } else if name.contains("MENTAL HEALTH") || name.contains("PARTNERSHIP") {
        TrustType::MentalHealth
    } else if name.contains("COMMUNITY") {
        TrustType::Community
    } else {
        TrustType::Acute
    }
}

/// `MANCHESTER UNIVERSITY NHS FOUNDATION TRUST` → `Manchester University NHS Foundation Trust`.
pub fn title_case(name: &str) -> String {
    const KEEP: &[&str] = &["NHS", "UK", "NHSFT"];
    const SMALL: &[&str] = &["AND", "OF", "THE", "FOR", "IN", "ON", "AT"];
    name.split(' ')
        .enumerate()
        .map(|(i, word)| {
            if KEEP.contains(&word) {
                word.to_string()
            } else if i > 0 && SMALL.contains(&word) {
                word.to_ascii_lowercase()
            } else {
                let mut out = String::with_capacity(word.len());
                let mut start = true;
                for c in word.chars() {
                    out.extend(if start { c.to_uppercase().collect::<Vec<_>>() } else { c.to_lowercase().collect() });
                    start = !c.is_alphanumeric() && c != '\'';
                }
                out
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_names_become_title_case() {
        assert_eq!(
            title_case("MANCHESTER UNIVERSITY NHS FOUNDATION TRUST"),
            "Manchester University NHS Foundation Trust"
        );
        assert_eq!(
            title_case("ALDER HEY CHILDREN'S NHS FOUNDATION TRUST"),
            "Alder Hey Children's NHS Foundation Trust"
        );
        assert_eq!(
            title_case("THE QUEEN ELIZABETH HOSPITAL, KING'S LYNN, NHS FOUNDATION TRUST"),
            "The Queen Elizabeth Hospital, King's Lynn, NHS Foundation Trust"
        );
        assert_eq!(
            title_case("TEES, ESK AND WEAR VALLEYS NHS FOUNDATION TRUST"),
            "Tees, Esk and Wear Valleys NHS Foundation Trust"
        );
    }

    #[test]
    fn names_give_a_first_guess_at_the_trust_type() {
        assert_eq!(type_from_name("EAST MIDLANDS AMBULANCE SERVICE NHS TRUST"), TrustType::Ambulance);
        assert_eq!(type_from_name("ESSEX PARTNERSHIP UNIVERSITY NHS FOUNDATION TRUST"), TrustType::MentalHealth);
        assert_eq!(type_from_name("SUSSEX COMMUNITY NHS FOUNDATION TRUST"), TrustType::Community);
        assert_eq!(type_from_name("BARTS HEALTH NHS TRUST"), TrustType::Acute);
    }

    #[test]
    fn the_bundled_reference_data_loads_whole() {
        let r = bundled().unwrap();
        assert!(r.organisations.len() > 180, "{} trusts", r.organisations.len());
        assert!(r.organisations.iter().all(|o| crate::domain::REGIONS.iter().any(|(_, n)| *n == o.region)));
        for t in TrustType::ALL {
            let of_type: Vec<_> = r.organisations.iter().filter(|o| o.trust_type == *t).collect();
            let exemplars = of_type.iter().filter(|o| o.exemplar.is_exemplar()).count();
            assert!(!of_type.is_empty() && exemplars > 0, "{t}: {} trusts, {exemplars} exemplars", of_type.len());
        }
        assert_eq!(r.domains.len(), 7);
        assert!(r.metrics.len() >= 40);
        assert!(r.standards.len() >= 12);
        assert!(r.systems.len() >= 20);
        assert!(r.organisation("RGT").is_some());
    }
}

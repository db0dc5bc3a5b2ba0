//! Deterministic demo submissions of any size: exemplar trusts ahead and improving faster, some
//! trusts behind in some domains, ties from rounding, gaps, and a few implausible outliers.

/// Filling a new database with the demo data and accounts.
pub mod seed;
pub mod uptake;

use crate::domain::{Counts, Direction, Metric, Organisation, Quarter, Reference, TrustType, Unit};
use std::io::Write;

#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// How many trusts (at most the reference data's); all when `None`.
    pub trusts: Option<usize>,
    pub quarters: usize,
    pub seed: u64,
    /// The last quarter; by default the latest one that has ended.
    pub end: Quarter,
}

/// The reference data with synthetic organisations added until it holds `total`, for demos at
/// national scale (about 7,000 organisations report when GP practices join). Their ODS codes
/// start with `Z`, which no NHS trust code does; their types follow the proportions of the real
/// trust list, their regions cycle over the seven, and one in twenty is a fast follower.
pub fn with_synthetic(reference: &Reference, total: usize) -> Reference {
    let mut organisations = reference.organisations.clone();
    organisations.extend(synthetic_organisations(reference, total));
    Reference::new(
        organisations,
        reference.domains.clone(),
        reference.metrics.clone(),
        reference.standards.clone(),
        reference.systems.clone(),
        reference.deployments.clone(),
    )
}

/// The synthetic organisations `with_synthetic` adds.
pub fn synthetic_organisations(reference: &Reference, total: usize) -> Vec<Organisation> {
    let real = &reference.organisations;
    let types: Vec<crate::domain::TrustType> = real.iter().map(|o| o.trust_type).collect();
    (0..total.saturating_sub(real.len()))
        .map(|i| {
            let mut code = String::from("Z");
            let mut n = i;
            for _ in 0..4 {
                code.insert(1, char::from_digit((n % 36) as u32, 36).unwrap_or('0').to_ascii_uppercase());
                n /= 36;
            }
            let exemplar =
                if i % 20 == 7 { crate::domain::Exemplar::FastFollower } else { crate::domain::Exemplar::None };
            Organisation {
                name: format!("Synthetic organisation {code}"),
                ods_code: code,
                trust_type: types[i % types.len().max(1)],
                region: crate::domain::REGIONS[i % crate::domain::REGIONS.len()].1.to_string(),
                icb: crate::domain::icbs()[i % crate::domain::icbs().len()].icb_code.clone(),
                exemplar,
                exemplar_cohort: exemplar.is_exemplar().then_some(2019),
            }
        })
        .collect()
}

/// Writes organisations with the columns of the `organisations.csv` export.
pub fn write_organisations<W: Write>(orgs: &[Organisation], out: W) -> anyhow::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(["org_code", "org_name", "trust_type", "region", "exemplar", "exemplar_cohort"])?;
    for o in orgs {
        let cohort = o.exemplar_cohort.map(|y| y.to_string()).unwrap_or_default();
        writer.write_record([
            o.ods_code.as_str(),
            &o.name,
            o.trust_type.as_str(),
            &o.region,
            o.exemplar.as_str(),
            &cohort,
        ])?;
    }
    writer.flush()?;
    Ok(())
}

/// The trusts a demo of `options` covers, in a seeded order that keeps every trust type.
pub fn pick_trusts<'r>(reference: &'r Reference, options: &DemoOptions) -> Vec<&'r Organisation> {
    let mut rng = fastrand::Rng::with_seed(options.seed);
    let mut orgs: Vec<&Organisation> = reference.organisations.iter().collect();
    rng.shuffle(&mut orgs);
    // Round-robin over types so that a small demo still has every peer group.
    let mut by_type: Vec<Vec<&Organisation>> = crate::domain::TrustType::ALL
        .iter()
        .map(|t| orgs.iter().copied().filter(|o| o.trust_type == *t).collect())
        .collect();
    let want = options.trusts.unwrap_or(orgs.len()).min(orgs.len());
    let mut picked = Vec::with_capacity(want);
    while picked.len() < want {
        for list in by_type.iter_mut() {
            if picked.len() < want && !list.is_empty() {
                picked.push(list.remove(0));
            }
        }
    }
    picked.sort_by(|a, b| a.ods_code.cmp(&b.ods_code));
    picked
}

/// Writes the demo CSV (`org_code,metric_id,period,value,numerator,denominator`), quarter by
/// quarter; returns the row count.
pub fn write_demo<W: Write>(reference: &Reference, options: &DemoOptions, out: W) -> anyhow::Result<usize> {
    let mut writer = csv::Writer::from_writer(out);
    let mut rows = 0;
    for q in 0..options.quarters {
        let quarter = quarter_rows(reference, options, q);
        rows += quarter.len();
        write_rows(
            reference,
            options.seed,
            quarter.iter().map(|r| (r.0.as_str(), r.1.as_str(), r.2, r.3)),
            &mut writer,
            q == 0,
        )?;
    }
    writer.flush()?;
    Ok(rows)
}

/// Writes demo rows as CSV (with the header when `header`): a proportion's row with its
/// counts (see `counts_for`), any other with its value alone.
pub fn write_rows<'a, W: Write>(
    reference: &Reference,
    seed: u64,
    rows: impl Iterator<Item = (&'a str, &'a str, Quarter, f64)>,
    writer: &mut csv::Writer<W>,
    header: bool,
) -> anyhow::Result<()> {
    if header {
        writer.write_record(["org_code", "metric_id", "period", "value", "numerator", "denominator"])?;
    }
    for (org, metric, period, value) in rows {
        let counted = reference
            .organisation(org)
            .zip(reference.metric(metric))
            .and_then(|(o, m)| counts_for(seed, o, m, period, value));
        match counted {
            Some((value, c)) => writer.write_record([
                org,
                metric,
                &period.to_string(),
                &format_value(value),
                &c.numerator.to_string(),
                &c.denominator.to_string(),
            ])?,
            None => writer.write_record([org, metric, &period.to_string(), &format_value(value), "", ""])?,
        }
    }
    Ok(())
}

/// A proportion's demo counts near `value` (a percentage), with the value they make (to two
/// decimals): the denominator sized to the trust and to what is counted — tens of systems or
/// programmes, hundreds of vehicles, beds or digital posts, thousands of staff, tens of
/// thousands of patients, contacts or records a quarter. `None` for a metric that is not a
/// proportion.
pub fn counts_for(
    seed: u64,
    org: &Organisation,
    metric: &Metric,
    period: Quarter,
    value: f64,
) -> Option<(f64, Counts)> {
    if !metric.is_proportion() {
        return None;
    }
    let mut size_rng = fastrand::Rng::with_seed(mix(&[seed, hash(&org.ods_code), 0x517E]));
    // The trust's size, from small (0.4) to very large (2.5) against a typical trust of its type.
    let size = 0.4 + 2.1 * size_rng.f64().powf(1.6);
    let staff = match org.trust_type {
        TrustType::Acute => 7_000.0,
        TrustType::MentalHealth => 3_500.0,
        TrustType::Community => 2_800.0,
        TrustType::Ambulance => 4_000.0,
    } * size;
    let counted = metric.counted.as_str();
    let base = if counted.contains("systems") || counted.contains("programmes") {
        30.0 * size.sqrt()
    } else if counted.contains("vehicles") {
        120.0 * size
    } else if counted.contains("posts") {
        staff / 40.0
    } else if counted.contains("beds") {
        staff / 9.0
    } else if counted.contains("accounts") || counted.contains("workstations") {
        staff / 2.5
    } else if counted.contains("surveyed") || counted.contains("phishing") {
        staff * 0.6
    } else if counted.contains("staff") {
        staff * if counted.contains("clinical") { 0.55 } else { 1.0 }
    } else if counted.contains("forms") || counted.contains("referrals") || counted.contains("discharges") {
        staff * 0.8
    } else {
        // Patients, contacts, records, letters, visits, administrations, observations, results.
        staff * 6.0
    };
    let mut rng =
        fastrand::Rng::with_seed(mix(&[seed, hash(&org.ods_code), hash(&metric.metric_id), period.index() as u64]));
    let denominator = (base * (0.92 + 0.16 * rng.f64())).round().max(8.0) as u32;
    let numerator = ((value / 100.0) * f64::from(denominator)).round().clamp(0.0, f64::from(denominator)) as u32;
    let made = (100.0 * f64::from(numerator) / f64::from(denominator) * 100.0).round() / 100.0;
    Some((made, Counts { numerator, denominator }))
}

/// The demo rows of quarter number `q` (0 = the oldest) as (org, metric, quarter, value).
pub fn quarter_rows(reference: &Reference, options: &DemoOptions, q: usize) -> Vec<(String, String, Quarter, f64)> {
    let first = Quarter::from_index(options.end.index() - options.quarters as i32 + 1);
    let period = Quarter::from_index(first.index() + q as i32);
    let mut out = Vec::new();
    for org in pick_trusts(reference, options) {
        let profile = TrustProfile::new(options.seed, org, reference);
        for (m_index, metric) in reference.metrics.iter().enumerate().filter(|(_, m)| m.applies(org.trust_type)) {
            let mut rng = fastrand::Rng::with_seed(mix(&[
                options.seed,
                hash(&org.ods_code),
                m_index as u64,
                period.index() as u64,
            ]));
            if rng.f64() < 0.03 {
                continue; // not reported this quarter
            }
            let domain_offset = profile.domain_offset(&metric.domain, reference);
            let mut level = profile.base + domain_offset + profile.growth * q as f64 + (rng.f64() - 0.5) * 0.12;
            if profile.start.is_some_and(|s| period >= s) {
                level += COHORT_EFFECT;
            }
            if rng.f64() < 0.002 {
                level = if rng.bool() { 1.0 } else { 0.0 }; // an implausible outlier
            }
            out.push((org.ods_code.clone(), metric.metric_id.clone(), period, value_at(metric, level.clamp(0.0, 1.0))));
        }
    }
    out
}

struct TrustProfile {
    base: f64,
    growth: f64,
    offsets: Vec<f64>,
    /// A demo cohort's start: the trust is like any other before it and gains `COHORT_EFFECT`
    /// from it, for the evaluation to find (docs/RULES.md §10.2).
    start: Option<Quarter>,
}

/// The step in level (0–1 of each metric's scale) a demo cohort's trusts take at its start.
pub const COHORT_EFFECT: f64 = 0.12;

impl TrustProfile {
    fn new(seed: u64, org: &Organisation, reference: &Reference) -> Self {
        let mut rng = fastrand::Rng::with_seed(mix(&[seed, hash(&org.ods_code), 0xD0]));
        let start = crate::analytics::evaluation::cohort_of(org.exemplar, org.exemplar_cohort)
            .filter(|c| c.demo)
            .map(|c| c.start);
        let (base, growth) = if org.exemplar.is_exemplar() && start.is_none() {
            (0.55 + rng.f64() * 0.25, 0.012 + rng.f64() * 0.01)
        } else {
            (0.25 + rng.f64() * 0.35, 0.002 + rng.f64() * 0.008)
        };
        let offsets = reference
            .domains
            .iter()
            .map(|_| if rng.f64() < 0.2 { -0.15 - rng.f64() * 0.15 } else { (rng.f64() - 0.5) * 0.1 })
            .collect();
        Self { base, growth, offsets, start }
    }

    fn domain_offset(&self, domain: &str, reference: &Reference) -> f64 {
        reference.domains.iter().position(|d| d.domain_id == domain).map_or(0.0, |i| self.offsets[i])
    }
}

/// The value at `level` (0 worst … 1 best) of a metric's scale, rounded as such values are reported.
fn value_at(metric: &Metric, level: f64) -> f64 {
    let good = match metric.direction {
        Direction::HigherBetter => level,
        Direction::LowerBetter => 1.0 - level,
    };
    let raw = metric.scale_min + good * (metric.scale_max - metric.scale_min);
    let rounded = match metric.unit {
        Unit::Score | Unit::Percent => (raw * 10.0).round() / 10.0,
        Unit::Boolean => {
            if good >= 0.5 {
                1.0
            } else {
                0.0
            }
        }
        Unit::Count | Unit::Days | Unit::Gbp => raw.round(),
    };
    rounded.clamp(metric.scale_min, metric.scale_max)
}

pub fn format_value(v: f64) -> String {
    format!("{v}")
}

fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf29ce484222325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100000001b3))
}

fn mix(parts: &[u64]) -> u64 {
    parts.iter().fold(0x9E3779B97F4A7C15, |h, p| (h ^ p).wrapping_mul(0xBF58476D1CE4E5B9).rotate_left(31))
}

/// Demo conformance results (CSV): each system assessed against each system-level standard, some
/// twice (a failure later fixed, or a pass later lost), and each trust against the
/// organisation-level standards other than the toolkit, whose real results are loaded instead.
pub fn conformance_csv(reference: &Reference, seed: u64, today: chrono::NaiveDate) -> Vec<u8> {
    use crate::domain::AssessedAt;
    let mut rng = fastrand::Rng::with_seed(seed ^ 0xC0F0);
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["subject", "standard_id", "result", "assessed_on", "assessor", "evidence"]).expect("in memory");
    let day = |rng: &mut fastrand::Rng, back: i64| (today - chrono::Duration::days(rng.i64(1..back))).to_string();
    let pick = |rng: &mut fastrand::Rng, pass: f64| {
        let x = rng.f64();
        if x < pass {
            "pass"
        } else if x < pass + (1.0 - pass) / 3.0 {
            "partial"
        } else {
            "fail"
        }
    };
    for s in &reference.standards {
        match s.assessed_at {
            AssessedAt::System => {
                for sys in &reference.systems {
                    if rng.f64() < 0.1 {
                        continue; // never assessed
                    }
                    let first = pick(&mut rng, 0.75);
                    let on = day(&mut rng, 900);
                    let assessor = format!("{} assurance", sys.supplier);
                    w.write_record([sys.system_id.as_str(), &s.standard_id, first, &on, &assessor, ""])
                        .expect("in memory");
                    if rng.f64() < 0.2 {
                        let later = if first == "pass" { "fail" } else { "pass" };
                        let on2 = day(&mut rng, 120);
                        if on2 > on {
                            w.write_record([
                                sys.system_id.as_str(),
                                &s.standard_id,
                                later,
                                &on2,
                                "NHS England assurance",
                                "",
                            ])
                            .expect("in memory");
                        }
                    }
                }
            }
            AssessedAt::Organisation if s.standard_id != crate::ingest::dspt::STANDARD => {
                for o in &reference.organisations {
                    let result = pick(&mut rng, if o.exemplar.is_exemplar() { 0.9 } else { 0.7 });
                    let on = day(&mut rng, 700);
                    w.write_record([o.ods_code.as_str(), &s.standard_id, result, &on, "internal audit", ""])
                        .expect("in memory");
                }
            }
            AssessedAt::Organisation => {}
        }
    }
    w.into_inner().expect("in memory")
}

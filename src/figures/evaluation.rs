//! The evaluation of the exemplar programme from the figures (docs/RULES.md §10.2): each
//! cohort's trusts matched to comparison trusts, and the difference in differences and event
//! study of the maturity index and each domain index.

use super::Figures;
use crate::analytics::evaluation::{Cohort, Estimate, Obs, cohorts, estimate};
use crate::analytics::peers::{WEIGHTS, nearest};
use crate::domain::{Exemplar, Quarter};
use std::collections::{BTreeSet, HashSet};

/// Quarters needed inside the data on each side of a cohort's start.
pub const QUARTERS_EACH_SIDE: i32 = 4;

/// The fewest cohort trusts (and comparison trusts) with values for an estimate: with fewer
/// clusters an interval clustered by trust is not to be trusted.
pub const FEWEST_TRUSTS: usize = 5;

/// A trust of an evaluation: a cohort's trust, or the comparison trust matched to one.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationUnit {
    pub cohort: String,
    pub org_code: String,
    /// `treated` or `control`.
    pub role: &'static str,
    /// The trust it is matched to (a control's cohort trust, a cohort trust's control).
    pub matched_to: Option<String>,
    pub start_period: Quarter,
}

/// One outcome's estimate for one cohort.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationRow {
    pub cohort: String,
    /// `maturity_index`, or a domain's id.
    pub outcome: String,
    pub n_treated: usize,
    pub n_control: usize,
    pub estimate: Estimate,
}

/// One quarter of an event study.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub cohort: String,
    pub outcome: String,
    /// Quarters from the cohort's start (−1 the reference, 0 the start).
    pub relative_quarter: i32,
    pub estimate: f64,
    pub ci_lower: f64,
    pub ci_upper: f64,
}

impl EvaluationRow {
    pub fn events(&self) -> impl Iterator<Item = EventRow> + '_ {
        self.estimate.event.iter().map(|(k, e, l, u)| EventRow {
            cohort: self.cohort.clone(),
            outcome: self.outcome.clone(),
            relative_quarter: *k,
            estimate: *e,
            ci_lower: *l,
            ci_upper: *u,
        })
    }
}

/// A cohort's evaluation, or why it cannot be evaluated.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortEvaluation {
    pub cohort: &'static Cohort,
    pub units: Vec<EvaluationUnit>,
    pub rows: Vec<EvaluationRow>,
    /// Set when the cohort is not evaluated, saying why.
    pub not_evaluated: Option<String>,
}

impl Figures {
    /// Every cohort's evaluation, in the order of `data/exemplar_cohorts.csv`.
    pub fn evaluation(&self) -> Vec<CohortEvaluation> {
        cohorts().iter().map(|c| self.evaluate(c)).collect()
    }

    fn evaluate(&self, cohort: &'static Cohort) -> CohortEvaluation {
        let start = cohort.start;
        let mut out = CohortEvaluation { cohort, units: Vec::new(), rows: Vec::new(), not_evaluated: None };
        let r = &self.reference;
        let mut treated: Vec<&crate::domain::Organisation> = r
            .organisations
            .iter()
            .filter(|o| o.exemplar == cohort.exemplar && o.exemplar_cohort == Some(cohort.year))
            .collect();
        treated.sort_by(|a, b| a.ods_code.cmp(&b.ods_code));
        let (first, last) = (self.periods.first().copied(), self.periods.last().copied());
        let inside = |q: Quarter| first.is_some_and(|f| q >= f) && last.is_some_and(|l| q <= l);
        if treated.is_empty() {
            out.not_evaluated = Some("no trust belongs to this cohort".into());
            return out;
        }
        if !inside(start + -QUARTERS_EACH_SIDE) || !inside(start + (QUARTERS_EACH_SIDE - 1)) {
            out.not_evaluated = Some(format!(
                "it started in {}: the data ({}) do not hold four quarters before and four from the start",
                start.financial_label(),
                match (first, last) {
                    (Some(f), Some(l)) => format!("{} to {}", f.financial_label(), l.financial_label()),
                    _ => "none yet".into(),
                }
            ));
            return out;
        }
        // Match each cohort trust, in ODS order, to its nearest trust of the same type on the
        // quarter before the start that is outside every cohort and not yet matched.
        let before = start + -1;
        let features = self.peer_features(before);
        let mut used: HashSet<String> = HashSet::new();
        for t in &treated {
            let control = nearest(&features, usize::MAX, &WEIGHTS, Some(&t.ods_code)).into_iter().find(|p| {
                !used.contains(&p.peer_code)
                    && r.organisation(&p.peer_code).is_some_and(|o| o.exemplar == Exemplar::None)
            });
            out.units.push(EvaluationUnit {
                cohort: cohort.id(),
                org_code: t.ods_code.clone(),
                role: "treated",
                matched_to: control.as_ref().map(|c| c.peer_code.clone()),
                start_period: start,
            });
            if let Some(c) = control {
                used.insert(c.peer_code.clone());
                out.units.push(EvaluationUnit {
                    cohort: cohort.id(),
                    org_code: c.peer_code.clone(),
                    role: "control",
                    matched_to: Some(t.ods_code.clone()),
                    start_period: start,
                });
            }
        }
        let outcomes: Vec<(String, String)> = std::iter::once(("maturity_index".to_string(), "all".to_string()))
            .chain(r.domains.iter().map(|d| (d.domain_id.clone(), d.domain_id.clone())))
            .collect();
        for (outcome, domain) in outcomes {
            let mut obs = Vec::new();
            let mut treated_units = BTreeSet::new();
            let (mut n_treated, mut n_control) = (0, 0);
            for (u, unit) in out.units.iter().enumerate() {
                let before = obs.len();
                for q in &self.periods {
                    if let Some(y) = self.index(&unit.org_code, *q, &domain).and_then(|i| i.domain_index) {
                        obs.push(Obs { unit: u, quarter: *q, y });
                    }
                }
                if obs.len() > before {
                    if unit.role == "treated" {
                        treated_units.insert(u);
                        n_treated += 1;
                    } else {
                        n_control += 1;
                    }
                }
            }
            if n_treated < FEWEST_TRUSTS || n_control < FEWEST_TRUSTS {
                continue;
            }
            if let Some(estimate) = estimate(&obs, &treated_units, start) {
                out.rows.push(EvaluationRow { cohort: cohort.id(), outcome, n_treated, n_control, estimate });
            }
        }
        if out.rows.is_empty() {
            out.not_evaluated = Some(format!(
                "fewer than {FEWEST_TRUSTS} of its trusts (or of their comparison trusts) have values: an interval clustered by trust would not be reliable"
            ));
        }
        out
    }
}

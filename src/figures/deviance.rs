//! Positive deviance (docs/RULES.md §10.3): the trusts that improved most on a metric over the
//! last four quarters among trusts of their type, and, for a trust behind best practice, the
//! trusts like it that closed the same gap.

use super::Figures;
use crate::analytics::peers::Peer;
use crate::domain::{Direction, Quarter};

/// How far back an improvement is measured.
pub const QUARTERS_BACK: i32 = 4;

/// A trust's improvement on a metric from four quarters before `to`.
#[derive(Debug, Clone, PartialEq)]
pub struct Improver {
    pub org_code: String,
    pub trust_type: String,
    pub from: Quarter,
    pub to: Quarter,
    pub value_from: f64,
    pub value_to: f64,
    /// The change in score points (0–100 of the metric's scale, higher better).
    pub improvement: f64,
    /// For a proportion sent with counts in both quarters: whether the change is significant at
    /// 95 % (Newcombe's interval of the difference of the two proportions clear of 0, in the
    /// better direction). None otherwise.
    pub significant: Option<bool>,
}

impl Figures {
    /// Every trust that improved on `metric_id` from four quarters before `to` to `to`, most
    /// improved first within each trust type (types in the reference data's order).
    pub fn improvers(&self, metric_id: &str, to: Quarter) -> Vec<Improver> {
        let Some(metric) = self.reference.metric(metric_id) else { return Vec::new() };
        let from = to + -QUARTERS_BACK;
        let span = metric.scale_max - metric.scale_min;
        let sign = match metric.direction {
            Direction::HigherBetter => 1.0,
            Direction::LowerBetter => -1.0,
        };
        let mut out: Vec<Improver> = self
            .reference
            .organisations
            .iter()
            .filter_map(|o| {
                let (a, b) = (self.value_at(&o.ods_code, metric_id, from)?, self.value_at(&o.ods_code, metric_id, to)?);
                let improvement = if span > 0.0 { 100.0 * sign * (b.value - a.value) / span } else { 0.0 };
                if improvement <= 0.0 {
                    return None;
                }
                let significant = a.counts.zip(b.counts).and_then(|(x, y)| {
                    let (_, lo, hi) = crate::analytics::uncertainty::newcombe(
                        f64::from(y.numerator),
                        f64::from(y.denominator),
                        f64::from(x.numerator),
                        f64::from(x.denominator),
                    )?;
                    Some(if sign > 0.0 { lo > 0.0 } else { hi < 0.0 })
                });
                Some(Improver {
                    org_code: o.ods_code.clone(),
                    trust_type: o.trust_type.as_str().to_string(),
                    from,
                    to,
                    value_from: a.value,
                    value_to: b.value,
                    improvement,
                    significant,
                })
            })
            .collect();
        let order = |t: &str| crate::domain::TrustType::ALL.iter().position(|x| x.as_str() == t);
        out.sort_by(|a, b| {
            order(&a.trust_type)
                .cmp(&order(&b.trust_type))
                .then(b.improvement.total_cmp(&a.improvement))
                .then(a.org_code.cmp(&b.org_code))
        });
        out
    }

    /// Of `peers`, those that were behind best practice on `metric_id` four quarters before
    /// `period` and are not behind in `period`, nearest first.
    pub fn closed_gap<'p>(&self, peers: &'p [Peer], metric_id: &str, period: Quarter) -> Vec<&'p Peer> {
        peers
            .iter()
            .filter(|p| {
                let behind = |q: Quarter| self.behind(&p.peer_code, metric_id, q);
                behind(period + -QUARTERS_BACK) == Some(true) && behind(period) == Some(false)
            })
            .collect()
    }
}

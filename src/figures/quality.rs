//! Data-quality flags: accepted values that look implausible, far from the trust's own history
//! or far outside its peers. Flagged values are kept and counted; the flag says which rule.

use super::Figures;
use crate::analytics::BenchmarkRow;
use crate::domain::{Metric, Quarter, Reference};
use serde::Serialize;

/// Far from its own history: more than this share of the scale from the trust's recent mean.
pub const HISTORY_SHARE: f64 = 0.25;
/// Far outside peers: more than this many inter-quartile ranges beyond the middle half.
pub const PEER_IQRS: f64 = 3.0;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualityFlag {
    /// Shared texts: a refresh keeps most flags of the quarters it touches, as copies.
    pub org_code: crate::domain::Text,
    pub metric_id: crate::domain::Text,
    pub period: crate::domain::Quarter,
    pub value: f64,
    pub rule: &'static str,
    pub detail: crate::domain::Text,
}

pub const RULE_HISTORY: &str = "far from the trust's own history";
pub const RULE_PEERS: &str = "far outside its peers";

/// The rules, in words, for the pages that show flags.
pub fn rules_text() -> String {
    format!(
        "A value is flagged {RULE_HISTORY} when it differs from the mean of the trust's values in the four quarters before \
         by more than {:.0}% of the metric's scale (with at least two of those quarters reported), and {RULE_PEERS} when it \
         lies more than {PEER_IQRS} inter-quartile ranges below the lower quartile or above the upper quartile of its peer \
         group in that quarter (at least five peers; the range taken as at least 2% of the scale). Flagged values are kept \
         and counted in the benchmarks.",
        HISTORY_SHARE * 100.0
    )
}

/// The flags a value `v` of `org` for `metric` in `period` would raise against `figures`.
pub fn check(f: &Figures, org: &str, metric_id: &str, period: Quarter, v: f64) -> Vec<QualityFlag> {
    let r: &Reference = &f.reference;
    let (Some(m), Some(o)) = (r.metric(metric_id), r.organisation(org)) else { return Vec::new() };
    let history: Vec<f64> = (1..=4).filter_map(|k| f.value_of(org, metric_id, period - k)).collect();
    let bench = f
        .benchmark(metric_id, period, o.trust_type.as_str())
        .or_else(|| f.benchmark(metric_id, period.previous(), o.trust_type.as_str()));
    flags_of(m, org, period, v, &history, bench)
}

/// The flags of a value `v` of `org` for metric `m` in `period`, from the trust's values of the
/// metric in the four quarters before (`history`, nearest first) and the statistics of its peer
/// group in that quarter, or else the quarter before (`bench`).
pub fn flags_of(
    m: &Metric,
    org: &str,
    period: Quarter,
    v: f64,
    history: &[f64],
    bench: Option<&BenchmarkRow>,
) -> Vec<QualityFlag> {
    let mut flags = Vec::new();
    let span = m.scale_max - m.scale_min;
    let flag = |rule, detail: String| QualityFlag {
        org_code: org.into(),
        metric_id: m.metric_id.as_str().into(),
        period,
        value: v,
        rule,
        detail: detail.into(),
    };
    if history.len() >= 2 {
        let mean = history.iter().sum::<f64>() / history.len() as f64;
        if (v - mean).abs() > HISTORY_SHARE * span {
            flags.push(flag(
                RULE_HISTORY,
                format!("{v} against a mean of {} over the trust's previous {} quarters", round(mean), history.len()),
            ));
        }
    }
    if let Some(b) = bench.filter(|b| b.n >= 5) {
        let iqr = (b.p75 - b.p25).max(0.02 * span);
        let (lo, hi) = (b.p25 - PEER_IQRS * iqr, b.p75 + PEER_IQRS * iqr);
        if v < lo || v > hi {
            flags.push(flag(
                RULE_PEERS,
                format!(
                    "{v} outside {} to {} for {} peers",
                    round(lo.max(m.scale_min)),
                    round(hi.min(m.scale_max)),
                    b.n
                ),
            ));
        }
    }
    flags
}

fn round(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

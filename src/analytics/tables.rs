//! The computed tables, as typed rows that pages, exports and the snapshot store share.

use serde::{Deserialize, Serialize};

pub use crate::domain::Text;

/// Peer-group statistics of one metric in one quarter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchmarkRow {
    pub metric_id: Text,
    pub domain: Text,
    #[serde(with = "crate::domain::quarter::as_index")]
    pub period: crate::domain::Quarter,
    pub peer_group: Text,
    pub n: i64,
    pub min: f64,
    pub p25: f64,
    pub median: f64,
    pub p75: f64,
    pub max: f64,
    pub mean: f64,
    pub exemplar_n: i64,
    pub exemplar_median: Option<f64>,
    pub national_median: f64,
}

/// One trust's position on one metric in one quarter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrustBenchmarkRow {
    pub org_code: Text,
    pub trust_type: Text,
    pub metric_id: Text,
    pub domain: Text,
    #[serde(with = "crate::domain::quarter::as_index")]
    pub period: crate::domain::Quarter,
    pub value: f64,
    pub rank: i64,
    pub percentile: f64,
    pub quartile: i64,
    pub score: f64,
    pub gap_to_exemplar: Option<f64>,
    pub gap_to_median: f64,
    pub behind_best_practice: Option<bool>,
}

/// A domain index, or the maturity index when `domain` is `all`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexRow {
    pub org_code: Text,
    pub trust_type: Text,
    #[serde(with = "crate::domain::quarter::as_index")]
    pub period: crate::domain::Quarter,
    pub domain: Text,
    pub domain_index: Option<f64>,
    pub n_metrics: i64,
    pub n_applicable: i64,
}

impl IndexRow {
    /// The share of applicable metrics with a value.
    pub fn coverage(&self) -> f64 {
        if self.n_applicable == 0 { 0.0 } else { self.n_metrics as f64 / self.n_applicable as f64 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendRow {
    pub org_code: Text,
    pub metric_id: Text,
    #[serde(with = "crate::domain::quarter::as_index")]
    pub period: crate::domain::Quarter,
    pub change: Option<f64>,
    pub slope: Option<f64>,
    pub trend: Option<Text>,
}

/// Where best practice is not followed: the share of a peer group behind the exemplar median.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GapRow {
    pub metric_id: Text,
    #[serde(with = "crate::domain::quarter::as_index")]
    pub period: crate::domain::Quarter,
    pub peer_group: Text,
    pub n: i64,
    pub n_behind: i64,
    pub share_behind: f64,
    pub median_gap: Option<f64>,
}

/// The distribution of a domain index (or the maturity index, `domain = all`) over a set of
/// trusts in one quarter: a trust type's, or England's (`scope = england`), and of those their
/// exemplar trusts or the others (`group`). Quartiles are type 7, as everywhere.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexSummaryRow {
    #[serde(with = "crate::domain::quarter::as_index")]
    pub period: crate::domain::Quarter,
    /// A trust type, or `england`.
    pub scope: Text,
    pub domain: Text,
    /// `all`, `exemplar` or `others`.
    pub group: Text,
    pub n: i64,
    pub p25: Option<f64>,
    pub median: Option<f64>,
    pub p75: Option<f64>,
}

/// Every computed table for one data version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Tables {
    pub benchmarks: Vec<BenchmarkRow>,
    pub trust_benchmarks: Vec<TrustBenchmarkRow>,
    pub indices: Vec<IndexRow>,
    pub trends: Vec<TrendRow>,
    pub gaps: Vec<GapRow>,
    /// Derived from `indices` (`with_summaries`).
    pub summaries: Vec<IndexSummaryRow>,
}

impl Tables {
    /// These tables with the summaries of their indices.
    pub fn with_summaries(mut self, reference: &crate::domain::Reference) -> Self {
        self.summaries = super::summaries::index_summaries(&self.indices, reference);
        self
    }
}

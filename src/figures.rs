//! The figures of one data version: reference data, current values and every computed table,
//! with the look-ups pages need. Computed once per data version and stored; readers share it.

use crate::analytics::{self, BenchmarkRow, IndexRow, Tables, TrendRow, TrustBenchmarkRow};
use crate::domain::{Quarter, Reference};
use crate::store::{CurrentValue, Store};
use anyhow::{Context, Result};
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug)]
pub struct Figures {
    pub data_version: i64,
    pub computed_at: String,
    pub reference: Reference,
    pub values: Vec<CurrentValue>,
    pub tables: Tables,
    /// Quarters with any value, oldest first.
    pub periods: Vec<Quarter>,
    benchmark_at: HashMap<(String, i32, String), usize>,
    trust_at: HashMap<(String, String, i32), usize>,
    index_at: HashMap<(String, i32, String), usize>,
    trend_at: HashMap<(String, String, i32), usize>,
    value_at: HashMap<(String, String, i32), usize>,
    /// Data-quality flags of the current values.
    pub quality: Vec<crate::quality::QualityFlag>,
    /// The latest revision of every target.
    pub targets: Vec<crate::store::Target>,
    /// Every conformance result.
    pub conformance: Vec<crate::store::ConformanceRecord>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    computed_at: String,
    tables: Tables,
}

impl Figures {
    /// The figures for the store's current data version: the stored snapshot when there is one,
    /// otherwise computed now (with polars, off the async runtime) and stored.
    pub async fn load(store: &Store) -> Result<Arc<Figures>> {
        let reference = store.reference().await?;
        let data_version = store.data_version().await?;
        let values = store.current_values().await?;
        let targets = store.targets().await?;
        let conformance = store.conformance_results().await?;
        if let Some((_, payload)) = store.snapshot(data_version).await?
            && let Ok(p) = serde_json::from_str::<Payload>(&payload)
        {
            let mut f = Self::new(data_version, p.computed_at, reference, values, p.tables);
            f.targets = targets;
            f.conformance = conformance;
            return Ok(Arc::new(f));
        }
        let (reference, values, tables) = tokio::task::spawn_blocking(move || {
            let tables = analytics::compute(&reference, &values);
            (reference, values, tables)
        })
        .await?;
        let tables = tables.context("computing the benchmarks")?;
        let computed_at = crate::store::now_text();
        let payload = serde_json::to_string(&Payload { computed_at: computed_at.clone(), tables })?;
        store.put_snapshot(data_version, &computed_at, &payload).await?;
        let tables = serde_json::from_str::<Payload>(&payload)?.tables;
        let mut f = Self::new(data_version, computed_at, reference, values, tables);
        f.targets = targets;
        f.conformance = conformance;
        Ok(Arc::new(f))
    }

    pub fn new(
        data_version: i64,
        computed_at: String,
        reference: Reference,
        values: Vec<CurrentValue>,
        tables: Tables,
    ) -> Self {
        let mut periods: Vec<Quarter> = values.iter().map(|v| Quarter::from_index(v.period_index)).collect();
        periods.sort();
        periods.dedup();
        let benchmark_at = tables
            .benchmarks
            .iter()
            .enumerate()
            .map(|(i, b)| ((b.metric_id.clone(), b.period_index, b.peer_group.clone()), i))
            .collect();
        let trust_at = tables
            .trust_benchmarks
            .iter()
            .enumerate()
            .map(|(i, t)| ((t.org_code.clone(), t.metric_id.clone(), t.period_index), i))
            .collect();
        let index_at = tables
            .indices
            .iter()
            .enumerate()
            .map(|(i, x)| ((x.org_code.clone(), x.period_index, x.domain.clone()), i))
            .collect();
        let trend_at = tables
            .trends
            .iter()
            .enumerate()
            .map(|(i, t)| ((t.org_code.clone(), t.metric_id.clone(), t.period_index), i))
            .collect();
        let value_at = values
            .iter()
            .enumerate()
            .map(|(i, v)| ((v.org_code.clone(), v.metric_id.clone(), v.period_index), i))
            .collect();
        let mut figures = Self {
            data_version,
            computed_at,
            reference,
            values,
            tables,
            periods,
            benchmark_at,
            trust_at,
            index_at,
            trend_at,
            value_at,
            quality: Vec::new(),
            targets: Vec::new(),
            conformance: Vec::new(),
        };
        figures.quality = crate::quality::all(&figures);
        figures
    }

    pub fn latest_period(&self) -> Option<Quarter> {
        self.periods.last().copied()
    }

    pub fn benchmark(&self, metric_id: &str, period: Quarter, peer_group: &str) -> Option<&BenchmarkRow> {
        let key = (metric_id.to_string(), period.index(), peer_group.to_string());
        self.benchmark_at.get(&key).map(|&i| &self.tables.benchmarks[i])
    }

    pub fn position(&self, org_code: &str, metric_id: &str, period: Quarter) -> Option<&TrustBenchmarkRow> {
        let key = (org_code.to_string(), metric_id.to_string(), period.index());
        self.trust_at.get(&key).map(|&i| &self.tables.trust_benchmarks[i])
    }

    pub fn index(&self, org_code: &str, period: Quarter, domain: &str) -> Option<&IndexRow> {
        let key = (org_code.to_string(), period.index(), domain.to_string());
        self.index_at.get(&key).map(|&i| &self.tables.indices[i])
    }

    pub fn value_at(&self, org_code: &str, metric_id: &str, period_index: i32) -> Option<&CurrentValue> {
        let key = (org_code.to_string(), metric_id.to_string(), period_index);
        self.value_at.get(&key).map(|&i| &self.values[i])
    }

    /// Progress towards a target: (latest value, baseline, progress) where progress is
    /// (value − baseline) ÷ (target − baseline), the baseline being the value in the quarter the
    /// target was set and the value the latest up to the target's quarter.
    pub fn progress(&self, t: &crate::store::Target) -> (Option<f64>, Option<f64>, Option<f64>) {
        let baseline = self.value_at(&t.org_code, &t.metric_id, t.set_in.index()).map(|v| v.value);
        let latest = self
            .values
            .iter()
            .filter(|v| v.org_code == t.org_code && v.metric_id == t.metric_id && v.period_index <= t.period.index())
            .max_by_key(|v| v.period_index)
            .map(|v| v.value);
        let progress = match (latest, baseline) {
            (Some(v), Some(b)) if t.target != b => Some((v - b) / (t.target - b)),
            _ => None,
        };
        (latest, baseline, progress)
    }

    pub fn trend(&self, org_code: &str, metric_id: &str, period: Quarter) -> Option<&TrendRow> {
        let key = (org_code.to_string(), metric_id.to_string(), period.index());
        self.trend_at.get(&key).map(|&i| &self.tables.trends[i])
    }
}

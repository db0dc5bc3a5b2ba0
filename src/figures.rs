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
    /// Still loading at start-up: pages say so instead of showing figures.
    pub loading: bool,
}

/// The quarters of `values`, without repeats.
fn periods_of(values: &[CurrentValue]) -> Vec<i32> {
    let mut periods: Vec<i32> = values.iter().map(|v| v.period_index).collect();
    periods.sort_unstable();
    periods.dedup();
    periods
}

/// `analytics::refresh` over the values of the quarters it reads.
fn incremental(reference: &Reference, previous: &Tables, values: &[CurrentValue], touched: &[i32]) -> Result<Tables> {
    let window = analytics::window_periods(touched);
    let read: Vec<CurrentValue> =
        values.iter().filter(|v| window.binary_search(&v.period_index).is_ok()).cloned().collect();
    let frame = analytics::values_frame(reference, &read)?;
    Ok(analytics::refresh(reference, previous, frame, touched)?)
}

impl Figures {
    /// The figures for the store's current data version. From the newest stored snapshot, brought
    /// up to date by an incremental refresh when submissions came after it; computed in full
    /// (with polars, off the async runtime) and stored when there is no usable snapshot or the
    /// organisations changed since.
    pub async fn load(store: &Store) -> Result<Arc<Figures>> {
        let reference = store.reference().await?;
        let data_version = store.data_version().await?;
        let values = store.current_values().await?;
        let targets = store.targets().await?;
        let conformance = store.conformance_results().await?;
        let snapshot = match store.latest_snapshot().await? {
            Some((version, computed_at, payload)) if version <= data_version => {
                let changes = store.changes_between(version, data_version).await?;
                match rmp_serde::from_slice::<Tables>(&payload) {
                    Ok(tables) if !changes.organisations => Some((computed_at, tables, changes.values)),
                    _ => None,
                }
            }
            _ => None,
        };
        let (reference, values, tables, computed_at) = match snapshot {
            Some((computed_at, tables, changed)) if changed.is_empty() => {
                let f = Self::new(data_version, computed_at, reference, values, tables);
                return Ok(Arc::new(f.with(targets, conformance)));
            }
            Some((_, previous, changed)) => {
                let touched = periods_of(&changed);
                let (reference, values, tables) = tokio::task::spawn_blocking(move || {
                    let tables = incremental(&reference, &previous, &values, &touched);
                    (reference, values, tables)
                })
                .await?;
                (reference, values, tables?, crate::store::now_text())
            }
            None => {
                let (reference, values, tables) = tokio::task::spawn_blocking(move || {
                    let tables = analytics::compute(&reference, &values);
                    (reference, values, tables)
                })
                .await?;
                (reference, values, tables.context("computing the benchmarks")?, crate::store::now_text())
            }
        };
        let f = Arc::new(Self::new(data_version, computed_at, reference, values, tables).with(targets, conformance));
        f.store_snapshot(store).await?;
        Ok(f)
    }

    /// The figures of the store's data version, from `previous`: the values accepted since are
    /// applied, and only the quarters they can change are recomputed (see
    /// `analytics::refresh`). A change of organisations (peer groups) recomputes everything.
    pub async fn refresh(previous: Arc<Figures>, store: &Store) -> Result<Arc<Figures>> {
        let data_version = store.data_version().await?;
        if data_version == previous.data_version && !previous.loading {
            return Ok(previous);
        }
        let changes = store.changes_between(previous.data_version, data_version).await?;
        if changes.organisations || previous.loading {
            return Self::load(store).await;
        }
        let targets = store.targets().await?;
        let conformance = store.conformance_results().await?;
        let touched = periods_of(&changes.values);
        let figures = tokio::task::spawn_blocking(move || -> Result<Figures> {
            let mut values = previous.values.clone();
            for v in changes.values {
                match previous.value_at.get(&(v.org_code.clone(), v.metric_id.clone(), v.period_index)) {
                    Some(&i) => values[i] = v,
                    None => values.push(v),
                }
            }
            let tables = incremental(&previous.reference, &previous.tables, &values, &touched)?;
            Ok(Self::new(data_version, crate::store::now_text(), previous.reference.clone(), values, tables))
        })
        .await??;
        Ok(Arc::new(figures.with(targets, conformance)))
    }

    /// Stores these figures' tables (MessagePack) as the snapshot that instances start from.
    pub async fn store_snapshot(self: &Arc<Self>, store: &Store) -> Result<()> {
        let f = self.clone();
        let bytes = tokio::task::spawn_blocking(move || rmp_serde::to_vec(&f.tables)).await??;
        store.put_snapshot(self.data_version, &self.computed_at, bytes).await
    }

    /// Figures with no values, shown while the real ones load in the background at start-up.
    pub fn loading(reference: Reference) -> Self {
        Self { loading: true, ..Self::new(0, String::new(), reference, Vec::new(), Tables::default()) }
    }

    fn with(mut self, targets: Vec<crate::store::Target>, conformance: Vec<crate::store::ConformanceRecord>) -> Self {
        self.targets = targets;
        self.conformance = conformance;
        self
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
            loading: false,
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

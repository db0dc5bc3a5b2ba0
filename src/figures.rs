//! The figures of one data version: reference data, current values and every computed table,
//! with the look-ups pages need. Computed once per data version and stored; readers share it.
//!
//! The figures are held quarter by quarter, each quarter behind an `Arc`: a submission changes
//! the tables of the quarters it touches and the trends of the three after them, so the next
//! version recomputes and rebuilds only those quarters and shares every other one with the
//! version before (see `Figures::refresh`).

mod columns;
/// Data-quality flags for implausible values.
pub mod deviance;
pub mod evaluation;
pub mod groups;
pub mod peers;
pub mod quality;
mod snapshot;
mod spill;
/// The format of the snapshot's payloads that these figures write and read.
pub use snapshot::FORMAT as SNAPSHOT_FORMAT;
/// Intervals, significance, funnels and Making Data Count charts.
pub mod statistics;

use crate::analytics::{self, BenchmarkRow, GapRow, IndexRow, IndexSummaryRow, Tables, TrendRow, TrustBenchmarkRow};
use crate::domain::{Quarter, Reference};
use crate::figures::quality::QualityFlag;
use crate::store::{CurrentValue, Store};
use anyhow::{Context, Result};
use columns::{Interner, Maturity, Position, Texts, Trend, Value};
use spill::{Records, Table};
use std::collections::BTreeMap;
use std::sync::Arc;

type Map<K> = foldhash::HashMap<K, usize>;

fn enumerate<K: std::hash::Hash + Eq>(keys: impl Iterator<Item = K>) -> Map<K> {
    keys.enumerate().map(|(i, k)| (k, i)).collect()
}

/// Where each row of a quarter's values, trust positions or trends is, by the organisation's
/// and the metric's positions in the reference: a dense table with one slot per organisation and
/// metric (`width` metrics to an organisation), `EMPTY` where there is no row. At national scale a
/// quarter has most of its pairs, and four bytes a slot is a fraction of a hash map's entry.
/// Keys of codes the reference does not know (`u32::MAX`) are not kept.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
struct Index {
    width: u32,
    #[serde(deserialize_with = "columns::exact")]
    slots: Vec<u32>,
}

const EMPTY: u32 = u32::MAX;

impl Index {
    fn new(width: usize) -> Self {
        Self { width: width as u32, slots: Vec::new() }
    }

    /// The index of rows with these keys, in order, with room for its slots only.
    fn of(width: usize, keys: impl Iterator<Item = (u32, u32)>) -> Self {
        let mut at = Self::new(width);
        let keys: Vec<(u32, u32)> = keys.collect();
        let last = keys.iter().filter_map(|&k| at.slot(k)).max();
        at.slots = vec![EMPTY; last.map_or(0, |l| l + 1)];
        for (i, k) in keys.into_iter().enumerate() {
            at.insert(k, i);
        }
        at
    }

    fn slot(&self, (o, m): (u32, u32)) -> Option<usize> {
        (o != u32::MAX && m < self.width).then(|| o as usize * self.width as usize + m as usize)
    }

    fn get(&self, key: &(u32, u32)) -> Option<usize> {
        let &i = self.slots.get(self.slot(*key)?)?;
        (i != EMPTY).then_some(i as usize)
    }

    fn contains_key(&self, key: &(u32, u32)) -> bool {
        self.get(key).is_some()
    }

    fn insert(&mut self, key: (u32, u32), row: usize) {
        let Some(at) = self.slot(key) else { return };
        if at >= self.slots.len() {
            self.slots.resize(at + 1, EMPTY);
        }
        self.slots[at] = row as u32;
    }

    /// Every key and its row, by organisation and then metric.
    fn iter(&self) -> impl Iterator<Item = ((u32, u32), usize)> + '_ {
        let width = self.width.max(1) as usize;
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, i)| **i != EMPTY)
            .map(move |(at, &i)| (((at / width) as u32, (at % width) as u32), i as usize))
    }
}

/// A quarter's records of one kind and where each is: kept, or written to disk, together.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(bound(deserialize = "R: serde::Deserialize<'de>"))]
struct Keyed<R> {
    #[serde(deserialize_with = "columns::exact")]
    rows: Vec<R>,
    /// Shared between versions while the rows keep their places.
    at: Arc<Index>,
}

impl<R: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static> Table for Keyed<R> {
    fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

impl<R> Default for Keyed<R> {
    fn default() -> Self {
        Self { rows: Vec::new(), at: Arc::default() }
    }
}

impl<R> Keyed<R> {
    fn get(&self, key: &(u32, u32)) -> Option<&R> {
        self.at.get(key).map(|i| &self.rows[i])
    }
}

/// The figures of one quarter: its values and every table but the trends (`Core`, which only a
/// change to the quarter's own values changes), and its trends (which a change to any of the
/// three quarters before changes too). Each part is shared between versions until it changes.
/// Look-ups go by the organisation's and metric's positions in the reference: small keys
/// without text, because at national scale they hold millions of entries.
#[derive(Debug, Clone, Default)]
struct QuarterFigures {
    core: Arc<Core>,
    trends: Arc<Trends>,
}

#[derive(Debug, Default)]
struct Core {
    /// The texts that `values` and `positions` point into.
    texts: Texts,
    values: Vec<Value>,
    benchmarks: Vec<BenchmarkRow>,
    /// The trust benchmarks, by organisation and metric (on disk in an older quarter: see
    /// `Figures::spill_older`).
    positions: Records<Keyed<Position>>,
    /// The domain and maturity indices.
    indices: Vec<Maturity>,
    gaps: Vec<GapRow>,
    summaries: Vec<IndexSummaryRow>,
    /// By metric and trust type.
    benchmark_at: Map<(u32, u32)>,
    /// By organisation and domain (`domain_pos`).
    index_at: Index,
    value_at: Index,
    /// The quarter's intervals and funnels, computed when first asked for.
    statistics: std::sync::OnceLock<statistics::QuarterStatistics>,
    /// Each value's decimal places, by its index (`analytics::each_places`), counted when a
    /// refresh first revises the quarter and then kept up to date by the refreshes.
    places: std::sync::OnceLock<Vec<u8>>,
}

#[derive(Debug, Default)]
struct Trends {
    texts: Texts,
    /// By organisation and metric (on disk in an older quarter: see `Figures::spill_older`).
    records: Records<Keyed<Trend>>,
}

fn metric_pos(reference: &Reference, id: &str) -> u32 {
    reference.metric_position(id).map_or(u32::MAX, |i| i as u32)
}

fn type_pos(peer_group: &str) -> u32 {
    crate::domain::TrustType::ALL.iter().position(|t| t.as_str() == peer_group).map_or(u32::MAX, |i| i as u32)
}

/// A domain's position in the reference; then `all` (the maturity index); `u32::MAX` for others.
fn domain_pos(reference: &Reference, domain: &str) -> u32 {
    match reference.domains.iter().position(|d| d.domain_id == domain) {
        Some(i) => i as u32,
        None if domain == "all" => reference.domains.len() as u32,
        None => u32::MAX,
    }
}

/// Adds the values of quarter `p` (with `at`, their index) to a values frame, by position.
fn push_quarter(frame: &mut analytics::ValuesBuilder, p: Quarter, values: &[Value], at: &Index) {
    for ((o, m), i) in at.iter() {
        frame.push_coded(o, m, p, values[i].value);
    }
}

/// The (organisation, metric) positions of known codes.
fn key_of(reference: &Reference, org: &str, metric: &str) -> Option<(u32, u32)> {
    Some((reference.org_position(org)? as u32, reference.metric_position(metric)? as u32))
}

/// The trust type position of the organisation at position `o`.
fn org_type(reference: &Reference, o: u32) -> u32 {
    type_pos(reference.organisations[o as usize].trust_type.as_str())
}

/// What a refresh recomputes in a quarter whose changes only revise values it had (the same
/// pairs, new values): the peer groups of the revised pairs (a metric and the trust's type) and
/// the indices of the revising organisations. Nothing else in the quarter can change but each
/// revised metric's national median (docs/RULES.md §4: a statistic depends on its peer group's
/// values, a score on its own value, an index on its trust's scores; and each figure is snapped
/// to the places of the values it comes from, §4.7).
struct Revising {
    period: Quarter,
    /// Every value of the peer groups to recompute.
    group_values: analytics::ValuesBuilder,
    /// Each revised metric's national median (by metric position).
    national: Vec<(u32, f64)>,
    /// Every value of the quarter of each revising organisation.
    org_values: analytics::ValuesBuilder,
    /// The peer groups to recompute (`analytics::peer_key`), sorted.
    groups: Vec<i32>,
}

impl Revising {
    /// `keys` revised in quarter `p`, whose values are now `values` (at `at`, the same places as
    /// before, with `places`, each one's decimal places); `types`, each organisation's trust
    /// type position.
    fn of(
        reference: &Reference,
        types: &[u32],
        (p, keys): (Quarter, &[(u32, u32)]),
        values: &[Value],
        at: &Index,
        places: &[u8],
    ) -> Self {
        let mut metrics: Vec<u32> = keys.iter().map(|k| k.1).collect();
        let mut orgs: Vec<u32> = keys.iter().map(|k| k.0).collect();
        metrics.sort_unstable();
        metrics.dedup();
        orgs.sort_unstable();
        orgs.dedup();
        let mut groups: Vec<i32> = keys.iter().map(|&(o, m)| analytics::peer_key(m, types[o as usize])).collect();
        groups.sort_unstable();
        groups.dedup();
        // Each revised metric's values (with their places), by organisation: gathered one
        // organisation at a time, as the index and the values lie, rather than one metric at a
        // time across them all.
        let mut rows: Vec<Vec<(u32, f64, u8)>> = vec![Vec::with_capacity(types.len()); metrics.len()];
        for o in 0..types.len() as u32 {
            for (rows, &m) in rows.iter_mut().zip(&metrics) {
                if let Some(i) = at.get(&(o, m)) {
                    rows.push((o, values[i].value, places[i]));
                }
            }
        }
        let in_groups = |m: u32, o: u32| groups.binary_search(&analytics::peer_key(m, types[o as usize])).is_ok();
        let size = rows.iter().zip(&metrics).map(|(rows, &m)| rows.iter().filter(|r| in_groups(m, r.0)).count()).sum();
        let mut group_values = analytics::ValuesBuilder::with_capacity(size);
        let mut national = Vec::with_capacity(metrics.len());
        for (&m, rows) in metrics.iter().zip(&rows) {
            for &(o, value, places) in rows {
                if in_groups(m, o) {
                    group_values.push_counted(o, m, p, value, places);
                }
            }
            let all: Vec<(f64, u8)> = rows.iter().map(|r| (r.1, r.2)).collect();
            national.push((m, analytics::national_median(reference, m as usize, &all)));
        }
        let mut revising = Self { period: p, group_values, national, org_values: Default::default(), groups };
        for &o in &orgs {
            for m in 0..reference.metrics.len() as u32 {
                if let Some(i) = at.get(&(o, m)) {
                    revising.org_values.push_coded(o, m, p, values[i].value);
                }
            }
        }
        revising
    }

    fn compute(self, reference: &Reference) -> polars::prelude::PolarsResult<analytics::Revision> {
        analytics::compute_revision(reference, self.group_values.finish()?, self.national, self.org_values.finish()?)
    }
}

impl Core {
    /// A quarter's figures from its values (records pointing into `texts`, with `value_at`, their
    /// index, when the caller has it) and its tables.
    fn new(
        reference: &Reference,
        mut texts: Interner,
        values: Vec<Value>,
        value_at: Option<Index>,
        mut tables: Tables,
    ) -> Self {
        let positions = tables.trust_benchmarks.iter().map(|t| Position::of(t, &mut texts)).collect();
        let indices = tables.indices.iter().map(|x| Maturity::of(x, &mut texts)).collect();
        (tables.trust_benchmarks, tables.indices) = (Vec::new(), Vec::new());
        Self::of_records(reference, texts.finish(), values, value_at, positions, indices, tables)
    }

    /// A quarter's figures from its values as rows, and its tables.
    fn of_rows(reference: &Reference, values: &[CurrentValue], tables: Tables) -> Self {
        let mut texts = Interner::default();
        let values = values.iter().map(|v| Value::of(v, &mut texts)).collect();
        Self::new(reference, texts, values, None, tables)
    }

    /// A quarter's figures from its values', positions' and indices' records and its other
    /// tables (`tables.trust_benchmarks`, `tables.indices` and `tables.trends` are not read).
    fn of_records(
        reference: &Reference,
        texts: Texts,
        values: Vec<Value>,
        value_at: Option<Index>,
        positions: Vec<Position>,
        indices: Vec<Maturity>,
        mut tables: Tables,
    ) -> Self {
        // Kept for the life of the figures: no room to grow (a table pushed to can have up to
        // twice the room it needs; see `columns::exact`).
        let (values, positions, indices) = (columns::tight(values), columns::tight(positions), columns::tight(indices));
        tables.benchmarks = columns::tight(tables.benchmarks);
        tables.gaps = columns::tight(tables.gaps);
        tables.summaries = columns::tight(tables.summaries);
        let (org_of, metric_of) = texts.positions(reference);
        let key = |o: u32, m: u32| (org_of[o as usize], metric_of[m as usize]);
        let width = reference.metrics.len();
        let domain_of: Vec<u32> = texts.as_slice().iter().map(|t| domain_pos(reference, t)).collect();
        let index_keys = indices.iter().map(|x| (org_of[x.org as usize], domain_of[x.domain as usize]));
        let metric = |m: &str| metric_pos(reference, m);
        Self {
            benchmark_at: enumerate(tables.benchmarks.iter().map(|b| (metric(&b.metric_id), type_pos(&b.peer_group)))),
            positions: Records::new(Keyed {
                at: Arc::new(Index::of(width, positions.iter().map(|t| key(t.org, t.metric)))),
                rows: positions,
            }),
            index_at: Index::of(reference.domains.len() + 1, index_keys),
            value_at: value_at.unwrap_or_else(|| Index::of(width, values.iter().map(|v| key(v.org, v.metric)))),
            texts,
            values,
            benchmarks: tables.benchmarks,
            indices,
            gaps: tables.gaps,
            summaries: tables.summaries,
            statistics: Default::default(),
            places: Default::default(),
        }
    }

    fn value(&self, i: usize, period: Quarter) -> CurrentValue {
        self.values[i].row(&self.texts, period)
    }

    /// The quarter's trust benchmarks as rows, in the records' order.
    fn position_rows(&self, period: Quarter) -> impl Iterator<Item = TrustBenchmarkRow> + '_ {
        let positions = self.positions.get();
        (0..positions.rows.len()).map(move |i| positions.rows[i].row(&self.texts, period))
    }

    /// Each value's decimal places, by its index.
    fn places(&self) -> &[u8] {
        self.places.get_or_init(|| analytics::each_places(&self.values.iter().map(|v| v.value).collect::<Vec<_>>()))
    }

    /// The quarter's values as rows, in the records' order.
    fn value_rows(&self, period: Quarter) -> Vec<CurrentValue> {
        (0..self.values.len()).map(|i| self.value(i, period)).collect()
    }

    /// This quarter's figures after a revision of some of its values (`values`, the same pairs
    /// as before, with `texts` and `value_at`), from what the revision recomputed: the rows of
    /// the peer groups and organisations in `revision` take the places of the old ones, and
    /// every benchmark of a metric in it takes its new national median. A peer group has the
    /// same trusts as before, so its trust positions fill the block the old ones filled (the
    /// records are in order of metric, type and rank).
    fn revised(
        &self,
        reference: &Reference,
        period: Quarter,
        mut texts: Interner,
        values: Vec<Value>,
        value_at: Index,
        revision: analytics::Revision,
    ) -> Result<Self> {
        let analytics::Revision { tables, national, positions: trust } = revision;
        let group_of = |metric: &str, peer_group: &str| (metric_pos(reference, metric), type_pos(peer_group));
        let mut benchmarks = self.benchmarks.clone();
        for b in tables.benchmarks {
            let Some(&i) = self.benchmark_at.get(&group_of(&b.metric_id, &b.peer_group)) else {
                anyhow::bail!("a revised peer group ({}, {}) that was not there", b.metric_id, b.peer_group)
            };
            benchmarks[i] = b;
        }
        let national: foldhash::HashMap<u32, f64> = national.into_iter().collect();
        for b in &mut benchmarks {
            if let Some(&median) = national.get(&metric_pos(reference, &b.metric_id)) {
                b.national_median = median;
            }
        }
        let mut gaps = self.gaps.clone();
        let gap_at = enumerate(gaps.iter().map(|g| group_of(&g.metric_id, &g.peer_group)));
        for g in tables.gaps {
            let Some(&i) = gap_at.get(&group_of(&g.metric_id, &g.peer_group)) else {
                anyhow::bail!("a revised gap summary ({}, {}) that was not there", g.metric_id, g.peer_group)
            };
            gaps[i] = g;
        }
        let old = self.positions.get();
        let mut positions = old.rows.clone();
        // The numbers of the texts of each organisation, metric, type and domain position.
        let mut ids: [Vec<u32>; 4] = [
            vec![u32::MAX; reference.organisations.len()],
            vec![u32::MAX; reference.metrics.len()],
            vec![u32::MAX; crate::domain::TrustType::ALL.len()],
            vec![u32::MAX; reference.domains.len() + 1],
        ];
        let mut id = |kind: usize, at: usize, texts: &mut Interner| {
            if ids[kind][at] == u32::MAX {
                let text = match kind {
                    0 => reference.org_text(at),
                    1 => reference.metric_text(at),
                    2 => reference.type_text(at),
                    _ if at == reference.domains.len() => reference.word("all"),
                    _ => reference.domain_text(at),
                };
                ids[kind][at] = texts.id(&text);
            }
            ids[kind][at]
        };
        let mut start = 0;
        while start < trust.len() {
            let group = (trust[start].metric, trust[start].trust_type);
            let len = trust[start..].iter().take_while(|t| (t.metric, t.trust_type) == group).count();
            let block = &trust[start..start + len];
            // The group's trusts filled one block before: where it starts.
            let at: Option<Vec<usize>> = block.iter().map(|t| old.at.get(&(t.org, t.metric))).collect();
            let first = at.as_ref().and_then(|at| at.iter().min().copied());
            match first {
                Some(first) if at.as_ref().and_then(|at| at.iter().max()) == Some(&(first + len - 1)) => {
                    for (i, t) in block.iter().enumerate() {
                        let domain = usize::try_from(t.domain).unwrap_or(reference.domains.len());
                        let texts_of = [
                            id(0, t.org as usize, &mut texts),
                            id(1, t.metric as usize, &mut texts),
                            id(2, t.trust_type as usize, &mut texts),
                            id(3, domain, &mut texts),
                        ];
                        positions[first + i] = Position::coded(t, texts_of);
                    }
                }
                _ => anyhow::bail!("the trusts of a revised peer group ({:?}) are not those it had", group),
            }
            start += len;
        }
        let mut indices = self.indices.clone();
        for x in &tables.indices {
            let k =
                (reference.org_position(&x.org_code).map_or(u32::MAX, |o| o as u32), domain_pos(reference, &x.domain));
            let Some(i) = self.index_at.get(&k) else {
                anyhow::bail!("a revised index ({}, {}) that was not there", x.org_code, x.domain)
            };
            indices[i] = Maturity::of(x, &mut texts);
        }
        let texts = texts.finish();
        let (org_of, _) = texts.positions(reference);
        let mut domain_of = vec![u32::MAX; texts.as_slice().len()];
        let coded: Vec<analytics::CodedIndex> = indices
            .iter()
            .map(|x| {
                let (org, index) = x.coded();
                let at = &mut domain_of[x.domain as usize];
                if *at == u32::MAX {
                    *at = domain_pos(reference, texts.get(x.domain));
                }
                analytics::CodedIndex { period, org: org_of[org as usize] as usize, domain: *at as usize, index }
            })
            .collect();
        let summaries = analytics::coded_summaries(&coded, reference);
        let tables = Tables { benchmarks, gaps, summaries, ..Tables::default() };
        Ok(Self::of_records(reference, texts, values, Some(value_at), positions, indices, tables))
    }
}

impl Trends {
    fn new(reference: &Reference, rows: Vec<TrendRow>) -> Self {
        let mut texts = Interner::default();
        let rows = rows.iter().map(|t| Trend::of(t, &mut texts)).collect();
        Self::of_records(reference, texts.finish(), rows)
    }

    fn of_records(reference: &Reference, texts: Texts, rows: Vec<Trend>) -> Self {
        let rows = columns::tight(rows);
        let (org_of, metric_of) = texts.positions(reference);
        let keys = rows.iter().map(|t| (org_of[t.org as usize], metric_of[t.metric as usize]));
        let at = Index::of(reference.metrics.len(), keys);
        Self { texts, records: Records::new(Keyed { rows, at: Arc::new(at) }) }
    }

    /// The quarter's trends as rows, in the records' order.
    fn trend_rows(&self, period: Quarter) -> impl Iterator<Item = TrendRow> + '_ {
        let records = self.records.get();
        (0..records.rows.len()).map(move |i| records.rows[i].row(&self.texts, period))
    }

    /// These trends with the rows of the changed `pairs` replaced by `fresh` (the new trends of
    /// those pairs in this quarter), in the same order: organisation, then metric in catalogue
    /// order.
    fn with(&self, reference: &Reference, pairs: &foldhash::HashSet<(u32, u32)>, fresh: Vec<TrendRow>) -> Self {
        let keyed: Vec<((u32, u32), TrendRow)> =
            fresh.into_iter().filter_map(|t| Some((key_of(reference, &t.org_code, &t.metric_id)?, t))).collect();
        let before = self.records.get();
        let old = pairs.iter().filter(|k| before.at.contains_key(k)).count();
        let mut texts = Interner::from(&self.texts);
        if keyed.len() == old && keyed.iter().all(|(k, _)| before.at.contains_key(k)) {
            // The same pairs as before (the usual revision): each new row takes its old one's
            // place, and the index stays.
            let mut rows = before.rows.clone();
            for (k, t) in keyed {
                if let Some(i) = before.at.get(&k) {
                    rows[i] = Trend::of(&t, &mut texts);
                }
            }
            let records = Records::new(Keyed { rows, at: before.at.clone() });
            return Self { texts: texts.finish(), records };
        }
        // Some pairs are new to the quarter: the new rows are merged into the others, by key.
        let mut key_at = vec![(u32::MAX, u32::MAX); before.rows.len()];
        for (k, i) in before.at.iter() {
            key_at[i] = k;
        }
        let order = |a: &(&str, u32), b: &(&str, u32)| a.cmp(b);
        let mut keyed = keyed;
        keyed.sort_by(|(a, x), (b, y)| order(&(&x.org_code, a.1), &(&y.org_code, b.1)));
        let mut rows = Vec::with_capacity(before.rows.len() + keyed.len());
        let mut keys = Vec::with_capacity(before.rows.len() + keyed.len());
        let mut fresh = keyed.into_iter().peekable();
        for (t, k) in before.rows.iter().zip(key_at) {
            if pairs.contains(&k) {
                continue;
            }
            let org = self.texts.get(t.org);
            while let Some((fk, ft)) = fresh.next_if(|(fk, ft)| order(&(&ft.org_code, fk.1), &(org, k.1)).is_lt()) {
                rows.push(Trend::of(&ft, &mut texts));
                keys.push(fk);
            }
            rows.push(*t);
            keys.push(k);
        }
        for (fk, ft) in fresh {
            rows.push(Trend::of(&ft, &mut texts));
            keys.push(fk);
        }
        let at = Arc::new(Index::of(reference.metrics.len(), keys.into_iter()));
        Self { texts: texts.finish(), records: Records::new(Keyed { rows: columns::tight(rows), at }) }
    }
}

/// How many of the latest quarters keep their trust positions and trends in memory: the quarter
/// pages show first and the one they compare it with. The older quarters' are on disk until
/// asked for (`spill`).
const HELD_QUARTERS: usize = 2;

impl QuarterFigures {
    /// Writes the trust positions and trends to disk, until asked for.
    fn spill(&self) {
        self.core.positions.spill();
        self.trends.records.spill();
    }

    fn new(reference: &Reference, values: Vec<CurrentValue>, mut tables: Tables) -> Self {
        let trends = Arc::new(Trends::new(reference, std::mem::take(&mut tables.trends)));
        Self { core: Arc::new(Core::of_rows(reference, &values, tables)), trends }
    }
}

#[derive(Debug)]
pub struct Figures {
    pub data_version: i64,
    pub computed_at: String,
    pub reference: Reference,
    /// Quarters with any value, oldest first.
    pub periods: Vec<Quarter>,
    /// Each quarter decoded from the snapshot when first asked for (`snapshot::Quarterly`).
    quarters: BTreeMap<Quarter, snapshot::Quarterly>,
    /// Data-quality flags of the current values, by quarter.
    quality: BTreeMap<Quarter, Arc<Vec<QualityFlag>>>,
    /// The latest revision of every target.
    pub targets: Vec<crate::store::Target>,
    /// Every conformance result.
    pub conformance: Vec<crate::store::ConformanceRecord>,
    /// Still loading at start-up: pages say so instead of showing figures.
    pub loading: bool,
    /// The database holds demonstration values (invented figures beside real trust names):
    /// every page and export says so.
    pub synthetic: bool,
    /// The figures of the saved peer groups asked for lately (see `groups`), which live and
    /// die with these figures: a new data version starts without them.
    groups: groups::KeptGroups,
}

/// The quarters of `values`, without repeats.
fn periods_of(values: &[CurrentValue]) -> Vec<Quarter> {
    let mut periods: Vec<Quarter> = values.iter().map(|v| v.period).collect();
    periods.sort_unstable();
    periods.dedup();
    periods
}

/// The benchmarks and gaps with their codes and words replaced by the reference's shared copies
/// (a decoded snapshot has one copy per row); the trust positions, indices and trends are
/// records, whose texts are shared as they are read (`columns::Texts::shared`).
fn share_texts(reference: &Reference, mut t: Tables) -> Tables {
    let share = |x: &mut analytics::Text| *x = reference.shared(x);
    for r in &mut t.benchmarks {
        share(&mut r.metric_id);
        share(&mut r.domain);
        share(&mut r.peer_group);
    }
    for r in &mut t.gaps {
        share(&mut r.metric_id);
        share(&mut r.peer_group);
    }
    t
}

/// Every table's rows, quarter by quarter (each table keeps its order within a quarter).
fn split_tables(tables: Tables) -> BTreeMap<Quarter, Tables> {
    let mut out: BTreeMap<Quarter, Tables> = BTreeMap::new();
    for r in tables.benchmarks {
        out.entry(r.period).or_default().benchmarks.push(r);
    }
    for r in tables.trust_benchmarks {
        out.entry(r.period).or_default().trust_benchmarks.push(r);
    }
    for r in tables.indices {
        out.entry(r.period).or_default().indices.push(r);
    }
    for r in tables.trends {
        out.entry(r.period).or_default().trends.push(r);
    }
    for r in tables.gaps {
        out.entry(r.period).or_default().gaps.push(r);
    }
    for r in tables.summaries {
        out.entry(r.period).or_default().summaries.push(r);
    }
    out
}

fn split_values(values: Vec<CurrentValue>) -> BTreeMap<Quarter, Vec<CurrentValue>> {
    let mut out: BTreeMap<Quarter, Vec<CurrentValue>> = BTreeMap::new();
    for v in values {
        out.entry(v.period).or_default().push(v);
    }
    out
}

impl Figures {
    /// The figures for the store's current data version. From the newest stored snapshot, brought
    /// up to date by an incremental refresh when submissions came after it; computed in full
    /// (with polars, off the async runtime) and stored when there is no usable snapshot or the
    /// organisations changed since.
    pub async fn load(store: &Store) -> Result<Arc<Figures>> {
        let synthetic = store.state("demo_loaded").await?.is_some();
        let reference = store.reference().await?;
        let data_version = store.data_version().await?;
        let targets = store.targets().await?;
        let conformance = store.conformance_results().await?;
        // The snapshot's quarters (tables, values and quality flags), brought up to date with
        // the values accepted since by the same incremental refresh that follows a submission.
        // The value table is read in full only when there is no usable snapshot.
        let started = std::time::Instant::now();
        let snapshot = match store.snapshot(snapshot::FORMAT).await? {
            Some(snap) if snap.data_version <= data_version => {
                let changes = store.changes_between(snap.data_version, data_version).await?;
                (!changes.organisations).then_some((snap, changes.values))
            }
            _ => None,
        };
        if let Some((snap, changed)) = snapshot {
            let (reference, stale) = (reference.clone(), !changed.is_empty());
            let read = started.elapsed();
            let decoded = tokio::task::spawn_blocking(move || -> Result<Figures> {
                let f = Self::from_snapshot(snap, reference)?;
                tracing::debug!(
                    read_ms = read.as_secs_f64() * 1e3,
                    decode_ms = (started.elapsed() - read).as_secs_f64() * 1e3,
                    "the snapshot is read (the latest quarter decoded)"
                );
                if stale { f.apply(data_version, changed) } else { Ok(Figures { data_version, ..f }) }
            })
            .await?;
            match decoded {
                Ok(f) => {
                    let f = Arc::new(Figures { synthetic, ..f.with(targets, conformance) });
                    if stale {
                        f.store_snapshot(store).await?;
                        let all = f.clone();
                        tokio::task::spawn_blocking(move || {
                            all.decode_all();
                            all.spill_older();
                        });
                    } else {
                        // Nothing was computed: the first refresh would start polars' threads and
                        // fill its allocator. One quarter computed now, in the background, does
                        // that instead.
                        let warm = f.clone();
                        tokio::task::spawn_blocking(move || {
                            warm.decode_all();
                            warm.warm_up();
                        });
                    }
                    return Ok(f);
                }
                // A snapshot of an older format: computed in full below, and stored anew.
                Err(e) => {
                    tracing::info!(error = %e, "the stored snapshot is not usable; computing the figures in full")
                }
            }
        }
        let values = store.current_values().await?;
        let f = tokio::task::spawn_blocking(move || -> Result<Figures> {
            let tables = analytics::compute(&reference, &values).context("computing the benchmarks")?;
            let now = crate::store::now_text();
            Ok(Self::assemble(data_version, now, reference, split_values(values), split_tables(tables)))
        })
        .await??;
        let f = Arc::new(Figures { synthetic, ..f.with(targets, conformance) });
        f.store_snapshot(store).await?;
        f.spill_older();
        Ok(f)
    }

    /// The figures at `cut` — a release's data version, or a moment (`as_of`) — computed in
    /// full from the revision history, with the targets and conformance results submitted up to
    /// it. `computed_at` is what they say they were computed at: a release's publication time,
    /// so that its files never change.
    pub async fn at(store: &Store, cut: crate::store::Cut, computed_at: String) -> Result<Arc<Figures>> {
        let synthetic = store.state("demo_loaded").await?.is_some();
        let reference = store.reference().await?;
        let data_version = store.data_version_at(&cut).await?;
        let values = store.values_at(&cut).await?;
        let targets = store.targets_at(data_version).await?;
        let mut conformance = store.conformance_results().await?;
        conformance.retain(|c| c.submission_id <= data_version);
        let f = tokio::task::spawn_blocking(move || -> Result<Figures> {
            if values.is_empty() {
                return Ok(Self::new(data_version, computed_at, reference, Vec::new(), Tables::default()));
            }
            let tables = analytics::compute(&reference, &values).context("computing the benchmarks")?;
            Ok(Self::assemble(data_version, computed_at, reference, split_values(values), split_tables(tables)))
        })
        .await??;
        f.spill_older();
        Ok(Arc::new(Figures { synthetic, ..f.with(targets, conformance) }))
    }

    /// The figures of the store's data version, from `previous`: the values accepted since are
    /// applied, and only the quarters they can change are recomputed (see `Figures::apply`).
    /// A change of organisations (peer groups) recomputes everything.
    pub async fn refresh(previous: Arc<Figures>, store: &Store) -> Result<Arc<Figures>> {
        let data_version = store.data_version().await?;
        if data_version == previous.data_version && !previous.loading {
            return Ok(previous);
        }
        if previous.loading {
            return Self::load(store).await;
        }
        let started = std::time::Instant::now();
        let changes = store.changes_between(previous.data_version, data_version).await?;
        if changes.organisations {
            return Self::load(store).await;
        }
        // Targets and conformance results are read again only when a submission brought some.
        let targets = if changes.targets { store.targets().await? } else { previous.targets.clone() };
        let conformance =
            if changes.conformance { store.conformance_results().await? } else { previous.conformance.clone() };
        let read = started.elapsed();
        let f = tokio::task::spawn_blocking(move || previous.apply(data_version, changes.values)).await??;
        tracing::debug!(
            read_ms = read.as_secs_f64() * 1e3,
            total_ms = started.elapsed().as_secs_f64() * 1e3,
            "refresh"
        );
        f.spill_older();
        Ok(Arc::new(f.with(targets, conformance)))
    }

    /// These figures with `changed` values applied, as data version `data_version`, recomputing
    /// only what the changes can change (docs/RULES.md §4 makes it exact):
    ///
    /// - in each quarter a change touches, every table but the trends: they depend on that
    ///   quarter's values only;
    /// - the trends of the changed (organisation, metric) pairs, in those quarters and the three
    ///   after each: a trend depends on its own pair's last four quarters only;
    /// - the quality flags of the touched quarters, and of the changed pairs in the four quarters
    ///   after (a flag compares with its pair's four quarters before and its own quarter's peers).
    ///
    /// Both recomputations run through `analytics::compute_frames` on one small frame — every
    /// value of the touched quarters and the changed pairs' values around them — so that they
    /// give exactly what a full recompute gives. Every other quarter is shared.
    pub fn apply(&self, data_version: i64, changed: Vec<CurrentValue>) -> Result<Figures> {
        let started = std::time::Instant::now();
        let reference = &self.reference;
        let touched = periods_of(&changed);
        let key = |org: &str, metric: &str| key_of(reference, org, metric);
        let pairs: foldhash::HashSet<(u32, u32)> =
            changed.iter().filter_map(|v| key(&v.org_code, &v.metric_id)).collect();
        // The touched quarters' values with the changes, and where each is; and, for a quarter
        // whose changes only revise values it had, the pairs they revise (`None` otherwise).
        let mut fresh_values: BTreeMap<Quarter, (Interner, Vec<Value>, Index)> = BTreeMap::new();
        let mut revised: BTreeMap<Quarter, Option<Vec<(u32, u32)>>> = BTreeMap::new();
        for v in changed {
            let p = v.period;
            let revises = revised.entry(p).or_insert_with(|| self.quarters.contains_key(&p).then(Vec::new));
            let (texts, values, at) = fresh_values.entry(p).or_insert_with(|| {
                self.quarters
                    .get(&p)
                    .map(|q| (Interner::from(&q.core.texts), q.core.values.clone(), q.core.value_at.clone()))
                    .unwrap_or_else(|| (Interner::default(), Vec::new(), Index::new(reference.metrics.len())))
            });
            let record = Value::of(&v, texts);
            match key(&v.org_code, &v.metric_id) {
                Some(k) => match at.get(&k) {
                    Some(i) => {
                        values[i] = record;
                        if let Some(keys) = revises {
                            keys.push(k);
                        }
                    }
                    None => {
                        at.insert(k, values.len());
                        values.push(record);
                        *revises = None;
                    }
                },
                None => {
                    values.push(record);
                    *revises = None;
                }
            }
        }
        let values_of = |p: Quarter| -> Option<(&[Value], &Index)> {
            match fresh_values.get(&p) {
                Some((_, values, at)) => Some((values, at)),
                None => self.quarters.get(&p).map(|q| (&q.core.values[..], &q.core.value_at)),
            }
        };
        // Every value of the touched quarters, for their tables, but in a quarter whose values
        // were only revised, where the revised peer groups and organisations are recomputed
        // alone (`Revising`); the changed pairs' values around them, for those pairs' trends.
        let (mut whole, mut pair_values) = (analytics::ValuesBuilder::default(), analytics::ValuesBuilder::default());
        let window = analytics::window_periods(&touched);
        let (mut whole_quarters, mut revising, mut counted) = (Vec::new(), Vec::new(), BTreeMap::new());
        let types: Vec<u32> = (0..reference.organisations.len() as u32).map(|o| org_type(reference, o)).collect();
        for &p in &touched {
            let Some((values, at)) = values_of(p) else { continue };
            match (revised.get(&p), self.quarters.get(&p)) {
                (Some(Some(keys)), Some(q)) => {
                    // The places of the quarter's values but the revised ones are those it had.
                    let mut places = q.core.places().to_vec();
                    for k in keys {
                        if let Some(i) = at.get(k) {
                            places[i] = analytics::places_of_value(values[i].value);
                        }
                    }
                    revising.push(Revising::of(reference, &types, (p, keys), values, at, &places));
                    counted.insert(p, places);
                }
                _ => {
                    push_quarter(&mut whole, p, values, at);
                    whole_quarters.push(p);
                }
            }
        }
        let affected: Vec<Quarter> =
            analytics::affected_periods(&touched).into_iter().filter(|p| values_of(*p).is_some()).collect();
        for &p in &window {
            let Some((values, at)) = values_of(p) else { continue };
            for &(o, m) in &pairs {
                if let Some(i) = at.get(&(o, m)) {
                    pair_values.push_coded(o, m, p, values[i].value);
                }
            }
        }
        let t0 = std::time::Instant::now();
        // The two computations are independent, and each is a chain of small polars queries
        // whose fixed costs leave cores idle: they run side by side.
        let (whole, pair_values) = (whole.finish()?, pair_values.finish()?);
        let groups: BTreeMap<Quarter, Vec<i32>> = revising.iter().map(|r| (r.period, r.groups.clone())).collect();
        let (tables, trends) = std::thread::scope(|scope| {
            let tables = scope.spawn(|| {
                let tables = if whole_quarters.is_empty() {
                    Tables::default()
                } else {
                    analytics::compute_parts(reference, whole, Some(&whole_quarters), analytics::Parts::AllButTrends)
                        .and_then(|frames| frames.tables(reference))?
                };
                let revisions = revising
                    .into_iter()
                    .map(|r| Ok((r.period, r.compute(reference)?)))
                    .collect::<polars::prelude::PolarsResult<BTreeMap<_, _>>>()?;
                Ok::<_, polars::prelude::PolarsError>((tables, revisions, t0.elapsed()))
            });
            let trends =
                analytics::compute_parts(reference, pair_values, Some(&affected), analytics::Parts::TrendsOnly)
                    .and_then(|frames| frames.tables(reference));
            tracing::debug!(trends_ms = t0.elapsed().as_secs_f64() * 1e3, "apply");
            (tables.join().expect("the benchmark computation does not panic"), trends)
        });
        let t1 = std::time::Instant::now();
        let (tables, mut revisions, tables_time) = tables?;
        let mut fresh = split_tables(tables);
        for (p, t) in split_tables(trends?) {
            fresh.entry(p).or_default().trends = t.trends;
        }
        let t2 = std::time::Instant::now();
        let mut quarters = self.quarters.clone();
        for &p in &affected {
            let mut new = fresh.remove(&p).unwrap_or_default();
            let old = self.quarters.get(&p);
            let trends = std::mem::take(&mut new.trends);
            let trends = Arc::new(match old {
                Some(q) => q.trends.with(reference, &pairs, trends),
                None => Trends::new(reference, trends),
            });
            let core = match (old, fresh_values.remove(&p)) {
                (Some(q), Some((texts, values, at))) if revisions.contains_key(&p) => {
                    let revision = revisions.remove(&p).expect("a revision of the quarter");
                    let core = q.core.revised(reference, p, texts, values, at, revision)?;
                    if let Some(places) = counted.remove(&p) {
                        let _ = core.places.set(places);
                    }
                    Arc::new(core)
                }
                (_, Some((texts, values, at))) => Arc::new(Core::new(reference, texts, values, Some(at), new)),
                (Some(q), None) => q.core.clone(),
                (None, None) => Arc::new(Core::of_rows(reference, &[], new)),
            };
            quarters.insert(p, snapshot::Quarterly::ready(QuarterFigures { core, trends }));
        }
        let mut f = Figures {
            data_version,
            computed_at: crate::store::now_text(),
            reference: reference.clone(),
            periods: quarters.keys().copied().collect(),
            quarters,
            quality: self.quality.clone(),
            targets: Vec::new(),
            conformance: Vec::new(),
            loading: false,
            synthetic: self.synthetic,
            groups: Default::default(),
        };
        let t3 = std::time::Instant::now();
        let mut after: Vec<Quarter> = touched.iter().flat_map(|&p| (1..=4).map(move |k| p + k)).collect();
        after.sort_unstable();
        after.dedup();
        for p in touched.iter().copied().chain(after) {
            let Some(q) = f.quarters.get(&p) else { continue };
            let flags = if touched.binary_search(&p).is_ok() {
                f.quality_after(p, self.quality.get(&p).map_or(&[], |q| &q[..]), &pairs, groups.get(&p))
            } else {
                // Only the changed pairs' flags can change in a quarter after a touched one.
                let of_pair = |org: &str, metric: &str| key(org, metric).is_some_and(|k| pairs.contains(&k));
                let kept = f.quality.get(&p).into_iter().flat_map(|q| q.iter());
                let mut flags: Vec<QualityFlag> =
                    kept.filter(|x| !of_pair(&x.org_code, &x.metric_id)).cloned().collect();
                let checker = Checker::new(&f, p);
                for k in &pairs {
                    if let Some(i) = q.core.value_at.get(k) {
                        flags.extend(checker.flags(*k, q.core.values[i].value));
                    }
                }
                f.sort_flags(&mut flags);
                flags
            };
            f.quality.insert(p, Arc::new(flags));
        }
        tracing::debug!(
            prepare_ms = (t0 - started).as_secs_f64() * 1e3,
            compute_ms = (t1 - t0).as_secs_f64() * 1e3,
            tables_ms = tables_time.as_secs_f64() * 1e3,
            rows_ms = (t2 - t1).as_secs_f64() * 1e3,
            quarters_ms = (t3 - t2).as_secs_f64() * 1e3,
            quality_ms = t3.elapsed().as_secs_f64() * 1e3,
            "apply"
        );
        Ok(f)
    }

    /// Writes the trust positions and trends of every decoded quarter but the latest
    /// `HELD_QUARTERS` to disk, on a thread of its own (quarters still to be decoded from the
    /// snapshot are written as they are decoded).
    fn spill_older(&self) {
        let older = self.older_held();
        if !older.is_empty() {
            std::thread::spawn(move || older.iter().for_each(QuarterFigures::spill));
        }
    }

    /// What the server does in the background after each version (`spill_older`), now and on
    /// this thread: the older quarters' trust positions and trends written to disk.
    pub fn spill_older_now(&self) {
        self.older_held().iter().for_each(QuarterFigures::spill);
    }

    /// The decoded quarters but the latest `HELD_QUARTERS` whose positions or trends are held.
    fn older_held(&self) -> Vec<QuarterFigures> {
        (self.quarters.values().rev().skip(HELD_QUARTERS))
            .filter_map(|q| q.decoded())
            .filter(|q| q.core.positions.held() || q.trends.records.held())
            .cloned()
            .collect()
    }

    /// Computes the latest quarter's tables and drops them (see `load`).
    fn warm_up(&self) {
        let Some((&p, q)) = self.quarters.last_key_value() else { return };
        let mut values = analytics::ValuesBuilder::default();
        push_quarter(&mut values, p, &q.core.values, &q.core.value_at);
        let computed = values.finish().and_then(|v| {
            analytics::compute_parts(&self.reference, v, Some(&[p]), analytics::Parts::All)?.tables(&self.reference)
        });
        if let Err(e) = computed {
            tracing::warn!(error = %e, "could not warm up the benchmark computation");
        }
    }

    /// Figures from values and tables split by quarter, with every quality flag checked.
    fn assemble(
        data_version: i64,
        computed_at: String,
        reference: Reference,
        mut values: BTreeMap<Quarter, Vec<CurrentValue>>,
        mut tables: BTreeMap<Quarter, Tables>,
    ) -> Self {
        let periods: Vec<Quarter> = values
            .keys()
            .chain(tables.keys())
            .copied()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let quarters: BTreeMap<Quarter, snapshot::Quarterly> = periods
            .iter()
            .map(|p| {
                let (v, t) = (values.remove(p).unwrap_or_default(), tables.remove(p).unwrap_or_default());
                (*p, snapshot::Quarterly::ready(QuarterFigures::new(&reference, v, t)))
            })
            .collect();
        let mut f = Figures {
            data_version,
            computed_at,
            reference,
            periods: periods.to_vec(),
            quarters,
            quality: BTreeMap::new(),
            targets: Vec::new(),
            conformance: Vec::new(),
            loading: false,
            synthetic: false,
            groups: Default::default(),
        };
        f.quality = periods.iter().map(|p| (*p, Arc::new(f.quality_of(*p)))).collect();
        f
    }

    fn quality_of(&self, p: Quarter) -> Vec<QualityFlag> {
        let Some(q) = self.quarters.get(&p) else { return Vec::new() };
        let checker = Checker::new(self, p);
        // Values of codes the reference does not know raise no flags (`quality::check`).
        let at: Vec<((u32, u32), usize)> = q.core.value_at.iter().collect();
        // A quarter's values, in as many parts as there are cores; the flags are sorted after.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let part = at.len().div_ceil(cores).max(1);
        let mut flags: Vec<QualityFlag> = std::thread::scope(|scope| {
            let parts: Vec<_> = at
                .chunks(part)
                .map(|at| {
                    let checker = &checker;
                    scope.spawn(move || {
                        at.iter().flat_map(|(k, i)| checker.flags(*k, q.core.values[*i].value)).collect::<Vec<_>>()
                    })
                })
                .collect();
            parts.into_iter().flat_map(|h| h.join().expect("the quality checks do not panic")).collect()
        });
        self.sort_flags(&mut flags);
        flags
    }

    /// The flags of quarter `p` after the values of `pairs` changed in it (or in the quarters
    /// before), from its flags before (`old`). Another pair's value and history are as they were,
    /// so its history flag is too; its peer group's statistics may have changed, so its peer
    /// flag is checked again: every peer group's, or only those of `groups` (the peer groups
    /// recomputed, `analytics::peer_key`, sorted) when given.
    fn quality_after(
        &self,
        p: Quarter,
        old: &[QualityFlag],
        pairs: &foldhash::HashSet<(u32, u32)>,
        groups: Option<&Vec<i32>>,
    ) -> Vec<QualityFlag> {
        let Some(q) = self.quarters.get(&p) else { return Vec::new() };
        let checker = Checker::new(self, p);
        let key = |x: &QualityFlag| key_of(&self.reference, &x.org_code, &x.metric_id);
        let rechecked = |(o, m): (u32, u32)| {
            groups.is_none_or(|g| g.binary_search(&analytics::peer_key(m, org_type(&self.reference, o))).is_ok())
        };
        let mut flags: Vec<QualityFlag> = old
            .iter()
            .filter(|x| {
                key(x).is_some_and(|k| {
                    !pairs.contains(&k) && (x.rule == crate::figures::quality::RULE_HISTORY || !rechecked(k))
                })
            })
            .cloned()
            .collect();
        for (k, i) in q.core.value_at.iter() {
            let v = q.core.values[i].value;
            if pairs.contains(&k) {
                flags.extend(checker.flags(k, v));
            } else if rechecked(k) {
                flags.extend(checker.peer_flags(k, v));
            }
        }
        self.sort_flags(&mut flags);
        flags
    }

    /// Flags by organisation, then metric in catalogue order, then rule.
    fn sort_flags(&self, flags: &mut [QualityFlag]) {
        let metric_pos = |id: &str| self.reference.metric_position(id).unwrap_or(usize::MAX);
        flags.sort_by(|a, b| {
            a.org_code
                .cmp(&b.org_code)
                .then_with(|| metric_pos(&a.metric_id).cmp(&metric_pos(&b.metric_id)))
                .then(a.rule.cmp(b.rule))
        });
    }

    /// Figures from every value and every table, as one full recompute gives them.
    pub fn new(
        data_version: i64,
        computed_at: String,
        reference: Reference,
        values: Vec<CurrentValue>,
        tables: Tables,
    ) -> Self {
        Self::assemble(data_version, computed_at, reference, split_values(values), split_tables(tables))
    }

    /// Stores these figures as the snapshot that instances start from: the tables of each
    /// quarter that changed since the stored snapshot (MessagePack, one row per quarter).
    pub async fn store_snapshot(self: &Arc<Self>, store: &Store) -> Result<()> {
        let stored = store.snapshot_version(snapshot::FORMAT).await?;
        if stored >= self.data_version && stored > 0 {
            return Ok(());
        }
        let changes = if stored > 0 { Some(store.changes_between(stored, self.data_version).await?) } else { None };
        // A change touches its quarters' tables and flags, the trends of the three quarters
        // after and the flags of the four after.
        let changed: Option<Vec<Quarter>> = match changes {
            Some(c) if !c.organisations => {
                let touched = periods_of(&c.values);
                let mut changed: Vec<Quarter> = touched.iter().flat_map(|&p| (0..=4).map(move |k| p + k)).collect();
                changed.sort_unstable();
                changed.dedup();
                Some(changed)
            }
            _ => None,
        };
        let f = self.clone();
        let replace_all = changed.is_none();
        let quarters = tokio::task::spawn_blocking(move || -> Result<Vec<crate::store::QuarterPayload>> {
            f.quarters
                .iter()
                .filter(|(p, _)| changed.as_ref().is_none_or(|c| c.binary_search(p).is_ok()))
                .map(|(p, q)| snapshot::encode(*p, q, f.quality.get(p).map_or(&[], |x| &x[..])))
                .collect()
        })
        .await??;
        store.put_snapshot(self.data_version, &self.computed_at, snapshot::FORMAT, replace_all, quarters).await?;
        Ok(())
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

    /// Every current value, quarter by quarter.
    pub fn values(&self) -> impl Iterator<Item = CurrentValue> + '_ {
        self.quarters.iter().flat_map(|(&p, q)| (0..q.core.values.len()).map(move |i| q.core.value(i, p)))
    }

    /// The current values of one quarter.
    pub fn values_in(&self, period: Quarter) -> impl Iterator<Item = CurrentValue> + '_ {
        self.quarters
            .get(&period)
            .into_iter()
            .flat_map(move |q| (0..q.core.values.len()).map(move |i| q.core.value(i, period)))
    }

    /// Every current value of an organisation and metric the reference knows, by ODS code, then
    /// metric id, then quarter.
    pub fn values_by_code(&self) -> impl Iterator<Item = CurrentValue> + '_ {
        let r = &self.reference;
        let mut orgs: Vec<u32> = (0..r.organisations.len() as u32).collect();
        orgs.sort_by_key(|&o| r.org_rank(o as usize));
        let mut metrics: Vec<u32> = (0..r.metrics.len() as u32).collect();
        metrics.sort_by(|&a, &b| r.metrics[a as usize].metric_id.cmp(&r.metrics[b as usize].metric_id));
        orgs.into_iter().flat_map(move |o| {
            let metrics = metrics.clone();
            metrics.into_iter().flat_map(move |m| {
                self.quarters.iter().filter_map(move |(&p, q)| q.core.value_at.get(&(o, m)).map(|i| q.core.value(i, p)))
            })
        })
    }

    pub fn value_count(&self) -> usize {
        self.quarters.values().map(|q| q.core.values.len()).sum()
    }

    pub fn benchmarks(&self) -> impl Iterator<Item = &BenchmarkRow> {
        self.quarters.values().flat_map(|q| q.core.benchmarks.iter())
    }

    pub fn trust_benchmarks(&self) -> impl Iterator<Item = TrustBenchmarkRow> + '_ {
        self.quarters.keys().flat_map(|&p| self.trust_benchmarks_in(p))
    }

    /// The trust benchmarks of one quarter.
    pub fn trust_benchmarks_in(&self, period: Quarter) -> impl Iterator<Item = TrustBenchmarkRow> + '_ {
        self.quarters.get(&period).into_iter().flat_map(move |q| q.core.position_rows(period))
    }

    /// The trust benchmarks of one quarter on one metric within one trust type (or every type).
    pub fn positions_on(
        &self,
        metric_id: &str,
        period: Quarter,
        trust_type: Option<&str>,
    ) -> impl Iterator<Item = TrustBenchmarkRow> + '_ {
        let q = self.metric_key(metric_id).and_then(|_| self.quarters.get(&period));
        // The metric's number among the quarter's texts: records are chosen by it.
        let core = q.map(|q| &*q.core);
        let metric = core.and_then(|c| c.texts.id(metric_id));
        let trust_type = trust_type.map(str::to_string);
        core.zip(metric).into_iter().flat_map(move |(core, metric)| {
            let trust_type = trust_type.clone();
            let positions = core.positions.get();
            let chosen = positions.clone();
            (0..positions.rows.len())
                .filter(move |&i| {
                    let t = &chosen.rows[i];
                    t.metric == metric && trust_type.as_deref().is_none_or(|x| t.trust_type(&core.texts) == x)
                })
                .map(move |i| positions.rows[i].row(&core.texts, period))
        })
    }

    pub fn indices(&self) -> impl Iterator<Item = IndexRow> + '_ {
        self.quarters.keys().flat_map(|&p| self.indices_in(p))
    }

    pub fn trends(&self) -> impl Iterator<Item = TrendRow> + '_ {
        self.quarters.iter().flat_map(|(&p, q)| q.trends.trend_rows(p))
    }

    pub fn gaps(&self) -> impl Iterator<Item = &GapRow> {
        self.quarters.values().flat_map(|q| q.core.gaps.iter())
    }

    /// Every data-quality flag, quarter by quarter.
    pub fn quality(&self) -> impl Iterator<Item = &QualityFlag> {
        self.quality.values().flat_map(|q| q.iter())
    }

    /// Every table as one `Tables`, in the order of `analytics::compute` (for comparisons).
    pub fn tables(&self) -> Tables {
        let mut all = Tables::default();
        for (&p, q) in &self.quarters {
            all.benchmarks.extend(q.core.benchmarks.iter().cloned());
            all.trust_benchmarks.extend(q.core.position_rows(p));
            all.indices.extend(q.core.indices.iter().map(|x| x.row(&q.core.texts, p)));
            all.trends.extend(q.trends.trend_rows(p));
            all.gaps.extend(q.core.gaps.iter().cloned());
            all.summaries.extend(q.core.summaries.iter().cloned());
        }
        analytics::sort(&mut all, &self.reference);
        all
    }

    fn org_key(&self, code: &str) -> Option<u32> {
        self.reference.org_position(code).map(|i| i as u32)
    }

    fn metric_key(&self, id: &str) -> Option<u32> {
        self.reference.metric_position(id).map(|i| i as u32)
    }

    pub fn latest_period(&self) -> Option<Quarter> {
        self.periods.last().copied()
    }

    pub fn benchmark(&self, metric_id: &str, period: Quarter, peer_group: &str) -> Option<&BenchmarkRow> {
        let q = self.quarters.get(&period)?;
        let key = (self.metric_key(metric_id)?, type_pos(peer_group));
        q.core.benchmark_at.get(&key).map(|&i| &q.core.benchmarks[i])
    }

    pub fn position(&self, org_code: &str, metric_id: &str, period: Quarter) -> Option<TrustBenchmarkRow> {
        let q = self.quarters.get(&period)?;
        let key = (self.org_key(org_code)?, self.metric_key(metric_id)?);
        q.core.positions.get().get(&key).map(|t| t.row(&q.core.texts, period))
    }

    /// Whether a trust is behind best practice on a metric in a quarter (`position`'s
    /// `behind_best_practice`, without building the row).
    pub fn behind(&self, org_code: &str, metric_id: &str, period: Quarter) -> Option<bool> {
        let q = self.quarters.get(&period)?;
        let key = (self.org_key(org_code)?, self.metric_key(metric_id)?);
        q.core.positions.get().get(&key).and_then(|t| t.behind_best_practice())
    }

    /// The domain and maturity indices of one quarter.
    pub fn indices_in(&self, period: Quarter) -> impl Iterator<Item = IndexRow> + '_ {
        let core = self.quarters.get(&period).map(|q| &*q.core);
        core.into_iter().flat_map(move |c| c.indices.iter().map(move |x| x.row(&c.texts, period)))
    }

    /// The distribution of a domain index (`all`: the maturity index) in `period` over `scope`
    /// (a trust type, or `england`) and `group` (`all`, `exemplar` or `others`).
    pub fn summary(&self, period: Quarter, scope: &str, domain: &str, group: &str) -> Option<&IndexSummaryRow> {
        let q = self.quarters.get(&period)?;
        q.core.summaries.iter().find(|s| &*s.scope == scope && &*s.domain == domain && &*s.group == group)
    }

    pub fn index(&self, org_code: &str, period: Quarter, domain: &str) -> Option<IndexRow> {
        let q = self.quarters.get(&period)?;
        let key = (self.org_key(org_code)?, domain_pos(&self.reference, domain));
        q.core.index_at.get(&key).map(|i| q.core.indices[i].row(&q.core.texts, period))
    }

    pub fn value_at(&self, org_code: &str, metric_id: &str, period: Quarter) -> Option<CurrentValue> {
        let q = self.quarters.get(&period)?;
        let key = (self.org_key(org_code)?, self.metric_key(metric_id)?);
        q.core.value_at.get(&key).map(|i| q.core.value(i, period))
    }

    /// A trust's value of a metric in a quarter (`value_at`'s `value`, without building the row).
    pub fn value_of(&self, org_code: &str, metric_id: &str, period: Quarter) -> Option<f64> {
        let q = self.quarters.get(&period)?;
        let key = (self.org_key(org_code)?, self.metric_key(metric_id)?);
        q.core.value_at.get(&key).map(|i| q.core.values[i].value)
    }

    /// Progress towards a target: (latest value, baseline, progress) where progress is
    /// (value − baseline) ÷ (target − baseline), the baseline being the value in the quarter the
    /// target was set and the value the latest up to the target's quarter.
    pub fn progress(&self, t: &crate::store::Target) -> (Option<f64>, Option<f64>, Option<f64>) {
        let baseline = self.value_of(&t.org_code, &t.metric_id, t.set_in);
        let latest =
            self.quarters.range(..=t.period).rev().find_map(|(p, _)| self.value_of(&t.org_code, &t.metric_id, *p));
        let progress = match (latest, baseline) {
            (Some(v), Some(b)) if t.target != b => Some((v - b) / (t.target - b)),
            _ => None,
        };
        (latest, baseline, progress)
    }

    pub fn trend(&self, org_code: &str, metric_id: &str, period: Quarter) -> Option<TrendRow> {
        let q = self.quarters.get(&period)?;
        let key = (self.org_key(org_code)?, self.metric_key(metric_id)?);
        q.trends.records.get().get(&key).map(|t| t.row(&q.trends.texts, period))
    }
}

/// `quality::check` for the values of one quarter, by positions: the quarters before and the
/// peer groups' statistics are looked up once for the whole quarter.
struct Checker<'a> {
    reference: &'a Reference,
    period: Quarter,
    /// The four quarters before that have figures, nearest first.
    before: Vec<&'a Core>,
    /// By metric × trust type: the peer group's statistics in the quarter, or else the one before.
    peers: Vec<Option<&'a BenchmarkRow>>,
}

const TYPES: usize = crate::domain::TrustType::ALL.len();

impl<'a> Checker<'a> {
    fn new(f: &'a Figures, p: Quarter) -> Self {
        let core = |p: Quarter| f.quarters.get(&p).map(|q| &*q.core);
        let before = (1..=4).filter_map(|k| core(p - k)).collect();
        let bench_in =
            |c: Option<&'a Core>, key: (u32, u32)| c.and_then(|c| Some(&c.benchmarks[*c.benchmark_at.get(&key)?]));
        let (now, previous) = (core(p), core(p - 1));
        let peers = (0..f.reference.metrics.len() * TYPES)
            .map(|i| {
                let key = ((i / TYPES) as u32, (i % TYPES) as u32);
                bench_in(now, key).or_else(|| bench_in(previous, key))
            })
            .collect();
        Self { reference: &f.reference, period: p, before, peers }
    }

    fn flags(&self, (o, m): (u32, u32), v: f64) -> Vec<QualityFlag> {
        let mut history = [0.0; 4];
        let mut n = 0;
        for c in &self.before {
            if let Some(i) = c.value_at.get(&(o, m)) {
                history[n] = c.values[i].value;
                n += 1;
            }
        }
        self.check((o, m), v, &history[..n])
    }

    /// The peer flag alone (`flags` without the history).
    fn peer_flags(&self, key: (u32, u32), v: f64) -> Vec<QualityFlag> {
        self.check(key, v, &[])
    }

    fn check(&self, (o, m): (u32, u32), v: f64, history: &[f64]) -> Vec<QualityFlag> {
        let (org, metric) = (&self.reference.organisations[o as usize], &self.reference.metrics[m as usize]);
        let t = crate::domain::TrustType::ALL.iter().position(|t| *t == org.trust_type).unwrap_or(0);
        let bench = self.peers[m as usize * TYPES + t];
        crate::figures::quality::flags_of(metric, &org.ods_code, self.period, v, history, bench)
    }
}

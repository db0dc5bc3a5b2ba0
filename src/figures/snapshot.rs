//! The stored snapshot's format: one payload per quarter (MessagePack) with everything a
//! starting instance needs to serve that quarter without reading the value table — its tables,
//! its current values as columns (each code and submission time written once) and its quality
//! flags. A payload of an older format does not decode, and the figures are then computed in
//! full (`Figures::load`).

use super::quality::{QualityFlag, RULE_HISTORY, RULE_PEERS};
use super::{Figures, QuarterFigures, Trends};
use crate::analytics::{BenchmarkRow, GapRow, IndexRow, IndexSummaryRow, Tables, TrendRow, TrustBenchmarkRow};
use crate::domain::{Counts, Quarter, Reference};
use crate::store::CurrentValue;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One quarter's tables as the snapshot stores them (the fields of `Tables`, in its order).
#[derive(Serialize)]
struct QuarterTables<'a> {
    benchmarks: &'a [BenchmarkRow],
    trust_benchmarks: &'a [TrustBenchmarkRow],
    indices: &'a [IndexRow],
    trends: &'a [TrendRow],
    gaps: &'a [GapRow],
    summaries: &'a [IndexSummaryRow],
}

/// A quarter's current values as columns: `texts` holds each organisation code, metric id and
/// submission time once, and the rows point into it.
#[derive(Serialize, Deserialize, Default)]
struct ValueColumns {
    texts: Vec<String>,
    org: Vec<u32>,
    metric: Vec<u32>,
    submitted_at: Vec<u32>,
    value: Vec<f64>,
    revision: Vec<i64>,
    counts: Vec<Option<Counts>>,
}

/// A quality flag as stored: its rule by number.
#[derive(Serialize, Deserialize)]
struct StoredFlag<'a> {
    org_code: Cow<'a, str>,
    metric_id: Cow<'a, str>,
    value: f64,
    rule: u8,
    detail: Cow<'a, str>,
}

/// The payloads' format, kept beside the snapshot (`store::Snapshot::format`): 1 held the
/// tables only.
pub const FORMAT: i64 = 2;

const RULES: [&str; 2] = [RULE_HISTORY, RULE_PEERS];

#[derive(Serialize)]
struct QuarterOut<'a> {
    tables: QuarterTables<'a>,
    values: ValueColumns,
    flags: Vec<StoredFlag<'a>>,
}

#[derive(Deserialize)]
struct QuarterIn<'a> {
    tables: Tables,
    values: ValueColumns,
    #[serde(borrow)]
    flags: Vec<StoredFlag<'a>>,
}

impl ValueColumns {
    fn of(values: &[CurrentValue]) -> Self {
        let mut at: foldhash::HashMap<&str, u32> = foldhash::HashMap::default();
        let mut c = ValueColumns::default();
        for v in values {
            c.org.push(intern(&mut at, &mut c.texts, &v.org_code));
            c.metric.push(intern(&mut at, &mut c.texts, &v.metric_id));
            c.submitted_at.push(intern(&mut at, &mut c.texts, &v.submitted_at));
            c.value.push(v.value);
            c.revision.push(v.revision);
            c.counts.push(v.counts);
        }
        c
    }

    /// The rows, with codes the reference knows as its shared copies.
    fn into_values(self, reference: &Reference, period: Quarter) -> Result<Vec<CurrentValue>> {
        let n = self.value.len();
        anyhow::ensure!(
            [self.org.len(), self.metric.len(), self.submitted_at.len(), self.revision.len(), self.counts.len()]
                .iter()
                .all(|&l| l == n),
            "the snapshot's value columns differ in length"
        );
        let texts: Vec<Arc<str>> = self
            .texts
            .iter()
            .map(|t| match (reference.org_position(t), reference.metric_position(t)) {
                (Some(i), _) => reference.org_text(i),
                (None, Some(i)) => reference.metric_text(i),
                (None, None) => Arc::from(t.as_str()),
            })
            .collect();
        let text = |i: u32| texts.get(i as usize).cloned().ok_or_else(|| anyhow::anyhow!("a text out of range"));
        (0..n)
            .map(|i| {
                Ok(CurrentValue {
                    org_code: text(self.org[i])?,
                    metric_id: text(self.metric[i])?,
                    period,
                    value: self.value[i],
                    revision: self.revision[i],
                    submitted_at: text(self.submitted_at[i])?,
                    counts: self.counts[i],
                })
            })
            .collect()
    }
}

/// Where `t` is in `texts`, adding it the first time.
fn intern<'v>(at: &mut foldhash::HashMap<&'v str, u32>, texts: &mut Vec<String>, t: &'v str) -> u32 {
    *at.entry(t).or_insert_with(|| {
        texts.push(t.to_string());
        (texts.len() - 1) as u32
    })
}

/// The payload of quarter `q` with its quality `flags`.
pub(super) fn encode(q: &QuarterFigures, flags: &[QualityFlag]) -> Result<Vec<u8>> {
    let out = QuarterOut {
        tables: QuarterTables {
            benchmarks: &q.core.benchmarks,
            trust_benchmarks: &q.core.trust_benchmarks,
            indices: &q.core.indices,
            trends: &q.trends.rows,
            gaps: &q.core.gaps,
            summaries: &q.core.summaries,
        },
        values: ValueColumns::of(&q.core.values),
        flags: flags
            .iter()
            .map(|f| StoredFlag {
                org_code: Cow::Borrowed(&f.org_code),
                metric_id: Cow::Borrowed(&f.metric_id),
                value: f.value,
                rule: RULES.iter().position(|r| *r == f.rule).unwrap_or(0) as u8,
                detail: Cow::Borrowed(&f.detail),
            })
            .collect(),
    };
    Ok(rmp_serde::to_vec(&out)?)
}

/// A decoded quarter: its figures and its quality flags.
pub(super) type Decoded = (QuarterFigures, Vec<QualityFlag>);

/// Decodes one quarter's payload.
pub(super) fn decode(reference: &Reference, period: Quarter, payload: &[u8]) -> Result<Decoded> {
    let q: QuarterIn = rmp_serde::from_slice(payload)?;
    let values = q.values.into_values(reference, period)?;
    let mut tables = super::share_texts(reference, q.tables);
    let trends = Arc::new(Trends::new(reference, std::mem::take(&mut tables.trends)));
    let core = Arc::new(super::Core::new(reference, values, None, tables));
    let flags = q
        .flags
        .into_iter()
        .map(|f| {
            Ok(QualityFlag {
                org_code: f.org_code.into_owned(),
                metric_id: f.metric_id.into_owned(),
                period,
                value: f.value,
                rule: RULES.get(f.rule as usize).copied().ok_or_else(|| anyhow::anyhow!("an unknown quality rule"))?,
                detail: f.detail.into_owned(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok((QuarterFigures { core, trends }, flags))
}

/// Every quarter's payload decoded, the quarters shared out between the cores; each payload is
/// dropped once decoded.
pub(super) fn decode_all(
    reference: &Reference,
    quarters: Vec<(Quarter, Vec<u8>)>,
) -> Result<BTreeMap<Quarter, Decoded>> {
    use rayon::prelude::*;
    quarters.into_par_iter().map(|(p, payload)| Ok((p, decode(reference, p, &payload)?))).collect()
}

impl Figures {
    /// The figures a stored snapshot holds, as they were at its data version.
    pub(super) fn from_snapshot(
        data_version: i64,
        computed_at: String,
        reference: Reference,
        quarters: BTreeMap<Quarter, Decoded>,
    ) -> Self {
        let mut quality = BTreeMap::new();
        let quarters: BTreeMap<Quarter, QuarterFigures> = quarters
            .into_iter()
            .map(|(p, (q, flags))| {
                quality.insert(p, Arc::new(flags));
                (p, q)
            })
            .collect();
        Figures {
            data_version,
            computed_at,
            reference,
            periods: quarters.keys().copied().collect(),
            quarters,
            quality,
            targets: Vec::new(),
            conformance: Vec::new(),
            loading: false,
            synthetic: false,
            groups: Default::default(),
        }
    }
}

//! The stored snapshot's format: one payload per quarter (MessagePack) with everything a
//! starting instance needs to serve that quarter without reading the value table — its quality
//! flags (the head), and its tables, with its current values, trust positions and trends as the
//! records the figures hold (`columns`), each code and submission time written once (the body),
//! stored apart (`store::QuarterPayload`). A snapshot of an older
//! format is not read, and the figures are then computed in full (`Figures::load`).
//!
//! A starting instance reads and decodes every head, and the latest quarter's body, before its
//! figures are ready; the other bodies are read in the background (`store::Bodies`) and decoded
//! there, or by the first reader that asks for their quarter (`Quarterly`), whichever comes
//! first.

use super::columns::{Maturity, Position, Record, Stored, StoredOut, Trend, Value, exact};
use super::quality::{QualityFlag, RULE_HISTORY, RULE_PEERS};
use super::{Figures, QuarterFigures, Trends};
use crate::analytics::{BenchmarkRow, GapRow, IndexSummaryRow, Tables, Text};
use crate::domain::{Quarter, Reference};
use crate::store::{Bodies, QuarterPayload};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

/// One quarter's tables but the trust benchmarks, indices and trends, as the snapshot stores them.
#[derive(Serialize)]
struct QuarterTables<'a> {
    benchmarks: &'a [BenchmarkRow],
    gaps: &'a [GapRow],
    summaries: &'a [IndexSummaryRow],
}

#[derive(Deserialize)]
struct QuarterTablesIn {
    #[serde(deserialize_with = "exact")]
    benchmarks: Vec<BenchmarkRow>,
    #[serde(deserialize_with = "exact")]
    gaps: Vec<GapRow>,
    #[serde(deserialize_with = "exact")]
    summaries: Vec<IndexSummaryRow>,
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

/// The payloads' format, kept beside the snapshot (`snapshot_format`): 1 held the tables only,
/// 2 the flags, tables and values in one body, 3 the head and body in one payload, 4 the values,
/// trust positions and trends as rows, 5 the indices as rows, 6 the figures of a metric with a
/// value that is not a decimal snapped as a whole (7 snaps each figure to the places of its own
/// values, docs/RULES.md §4.7; the layout is 6's).
pub const FORMAT: i64 = 7;

const RULES: [&str; 2] = [RULE_HISTORY, RULE_PEERS];

/// A body: the values, positions and indices point into `texts`, the trends into their own.
#[derive(Serialize)]
struct BodyOut<'a> {
    tables: QuarterTables<'a>,
    texts: &'a [Text],
    values: &'a [Value],
    positions: &'a [Position],
    indices: &'a [Maturity],
    trends: StoredOut<'a, Trend>,
}

#[derive(Deserialize)]
struct BodyIn {
    tables: QuarterTablesIn,
    texts: Vec<String>,
    #[serde(deserialize_with = "exact")]
    values: Vec<Value>,
    #[serde(deserialize_with = "exact")]
    positions: Vec<Position>,
    #[serde(deserialize_with = "exact")]
    indices: Vec<Maturity>,
    trends: Stored<Trend>,
}

/// The payload of quarter `q` of `period` with its quality `flags`.
pub(super) fn encode(period: Quarter, q: &QuarterFigures, flags: &[QualityFlag]) -> Result<QuarterPayload> {
    let head: Vec<StoredFlag> = flags
        .iter()
        .map(|f| StoredFlag {
            org_code: Cow::Borrowed(&f.org_code),
            metric_id: Cow::Borrowed(&f.metric_id),
            value: f.value,
            rule: RULES.iter().position(|r| *r == f.rule).unwrap_or(0) as u8,
            detail: Cow::Borrowed(&f.detail),
        })
        .collect();
    let head = rmp_serde::to_vec(&head)?;
    let (positions, trends) = (q.core.positions.get(), q.trends.records.get());
    let body = BodyOut {
        tables: QuarterTables { benchmarks: &q.core.benchmarks, gaps: &q.core.gaps, summaries: &q.core.summaries },
        texts: q.core.texts.as_slice(),
        values: &q.core.values,
        positions: &positions.rows,
        indices: &q.core.indices,
        trends: StoredOut::of(&q.trends.texts, &trends.rows),
    };
    Ok(QuarterPayload { period, head, body: rmp_serde::to_vec(&body)? })
}

/// A payload's head: its quality flags.
fn head(period: Quarter, head: &[u8]) -> Result<Vec<QualityFlag>> {
    let stored: Vec<StoredFlag> = rmp_serde::from_slice(head)?;
    let flags = stored
        .into_iter()
        .map(|f| {
            Ok(QualityFlag {
                org_code: f.org_code.into(),
                metric_id: f.metric_id.into(),
                period,
                value: f.value,
                rule: RULES.get(f.rule as usize).copied().context("an unknown quality rule")?,
                detail: f.detail.into(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(super::columns::tight(flags))
}

/// A quarter's figures from its payload's body.
fn body(reference: &Reference, period: Quarter, body: &[u8]) -> Result<QuarterFigures> {
    let q: BodyIn = rmp_serde::from_slice(body)?;
    let n = q.texts.len();
    anyhow::ensure!(
        q.values.iter().all(|v| v.fits(n))
            && q.positions.iter().all(|t| t.fits(n))
            && q.indices.iter().all(|x| x.fits(n)),
        "a record of quarter {period} points past its texts"
    );
    let texts = super::columns::Texts::shared(reference, q.texts);
    let (trend_texts, trends) = q.trends.check(reference)?;
    let t = q.tables;
    let tables = Tables { benchmarks: t.benchmarks, gaps: t.gaps, summaries: t.summaries, ..Default::default() };
    let tables = super::share_texts(reference, tables);
    let trends = Arc::new(Trends::of_records(reference, trend_texts, trends));
    let core = Arc::new(super::Core::of_records(reference, texts, q.values, None, q.positions, q.indices, tables));
    Ok(QuarterFigures { core, trends })
}

/// A quarter's figures, decoded when first asked for: shared between versions as
/// `QuarterFigures` are, and read through `Deref`.
#[derive(Clone)]
pub(super) struct Quarterly(Arc<Lazy>);

struct Lazy {
    figures: OnceLock<QuarterFigures>,
    /// The payload, until it is decoded.
    body: Mutex<Option<Pending>>,
}

/// A quarter not yet decoded: its body is in `bodies`, or on its way there.
struct Pending {
    reference: Arc<Reference>,
    period: Quarter,
    bodies: Arc<Bodies>,
    /// Whether the quarter's trust positions and trends go to disk once decoded (an older
    /// quarter's: see `Figures::spill_older`).
    spill: bool,
}

impl Pending {
    fn decode(self) -> Result<QuarterFigures> {
        let period = self.period;
        let q = body(&self.reference, period, &self.bodies.take(period)?)
            .with_context(|| format!("the snapshot's quarter {period} does not decode"))?;
        if self.spill {
            q.spill();
        }
        Ok(q)
    }
}

impl Quarterly {
    pub(super) fn ready(q: QuarterFigures) -> Self {
        Self(Arc::new(Lazy { figures: OnceLock::from(q), body: Mutex::new(None) }))
    }

    fn later(pending: Pending) -> Self {
        Self(Arc::new(Lazy { figures: OnceLock::new(), body: Mutex::new(Some(pending)) }))
    }

    /// The quarter's figures, when decoded.
    pub(super) fn decoded(&self) -> Option<&QuarterFigures> {
        self.0.figures.get()
    }

    fn decode(lazy: &Lazy) -> QuarterFigures {
        let taken = lazy.body.lock().expect("a quarter's payload lock").take();
        let Some(pending) = taken else {
            unreachable!("a quarter's payload is decoded once, by the one that initialises it")
        };
        // The payload was written by this format's `encode` and its head decoded at start: a
        // body that does not decode, or that the database no longer gives, is a corrupt or lost
        // database, which no figures can be shown from.
        pending.decode().unwrap_or_else(|e| panic!("{e:#}"))
    }
}

impl std::ops::Deref for Quarterly {
    type Target = QuarterFigures;

    fn deref(&self) -> &QuarterFigures {
        self.0.figures.get_or_init(|| Self::decode(&self.0))
    }
}

impl std::fmt::Debug for Quarterly {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.figures.get() {
            Some(q) => q.fmt(f),
            None => f.write_str("Quarterly(not yet decoded)"),
        }
    }
}

impl Figures {
    /// The figures a stored snapshot holds, as they were at its data version: every quarter's
    /// head decoded now, its body when first asked for.
    pub(super) fn from_snapshot(snapshot: crate::store::Snapshot, reference: Reference) -> Result<Self> {
        let shared = Arc::new(reference.clone());
        let mut quality = BTreeMap::new();
        let mut quarters = BTreeMap::new();
        // The latest quarters stay in memory; the older ones' positions and trends go to disk.
        let mut periods: Vec<Quarter> = snapshot.heads.iter().map(|(p, _)| *p).collect();
        periods.sort_unstable();
        let held_from = periods.len().checked_sub(super::HELD_QUARTERS).and_then(|i| periods.get(i)).copied();
        for (p, payload) in snapshot.heads {
            quality.insert(p, Arc::new(head(p, &payload).with_context(|| format!("the snapshot's quarter {p}"))?));
            let (reference, bodies) = (shared.clone(), snapshot.bodies.clone());
            quarters.insert(
                p,
                Quarterly::later(Pending { reference, period: p, bodies, spill: held_from.is_some_and(|h| p < h) }),
            );
        }
        // The latest quarter, which most pages show, is decoded before the figures are ready:
        // a body that does not decode is found here rather than by a reader.
        if let Some(q) = quarters.values().next_back() {
            let lazy = &q.0;
            let taken = lazy.body.lock().expect("a quarter's payload lock").take();
            if let Some(pending) = taken {
                let _ = lazy.figures.set(pending.decode()?);
            }
        }
        Ok(Figures {
            data_version: snapshot.data_version,
            computed_at: snapshot.computed_at,
            reference,
            periods: quarters.keys().copied().collect(),
            quarters,
            quality,
            targets: Vec::new(),
            conformance: Vec::new(),
            loading: false,
            synthetic: false,
            groups: Default::default(),
        })
    }

    /// Decodes every quarter not yet decoded (in the background after a start), newest first as
    /// the read brings them: one body is decoded while the next is read, and each read body is
    /// soon decoded and dropped.
    pub(super) fn decode_all(&self) {
        for q in self.quarters.values().rev().filter(|q| q.0.figures.get().is_none()) {
            // A read that ended without this body (stopped as the server shuts down) ends the
            // decoding here; a reader who asks for the quarter learns why.
            let missing =
                q.0.body.lock().expect("a quarter's payload lock").as_ref().is_some_and(|p| p.bodies.missing(p.period));
            if missing {
                return;
            }
            let _ = std::ops::Deref::deref(q);
        }
    }
}

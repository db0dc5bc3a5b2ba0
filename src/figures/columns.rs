//! A quarter's values, trust positions and trends as compact records: numbers kept as they are,
//! every code, word and submission time as a number into the quarter's `Texts`. At national
//! scale these three tables hold a row per value in every quarter; a value, a position and a
//! trend take 40, 64 and 32 bytes here against 88, 144 and 88 as the rows that pages and
//! exports read (`CurrentValue`, `TrustBenchmarkRow`, `TrendRow`), which are built from the
//! records when asked for.

use crate::analytics::{IndexRow, Text, TrendRow, TrustBenchmarkRow};
use crate::domain::{Counts, CurrentValue, Quarter, Reference};
use serde::{Deserialize, Serialize};

/// The texts a quarter's records point into, each once (the reference's shared copies where it
/// knows them).
#[derive(Debug, Clone, Default)]
pub(super) struct Texts(Vec<Text>);

impl Texts {
    pub(super) fn get(&self, i: u32) -> &Text {
        &self.0[i as usize]
    }

    /// The number of `text` among these texts.
    pub(super) fn id(&self, text: &str) -> Option<u32> {
        self.0.iter().position(|t| **t == *text).map(|i| i as u32)
    }

    pub(super) fn as_slice(&self) -> &[Text] {
        &self.0
    }

    /// Texts read from a snapshot, as the reference's shared copies where it knows them.
    pub(super) fn shared(reference: &Reference, texts: Vec<String>) -> Self {
        Self(texts.into_iter().map(|t| reference.shared(&t)).collect())
    }

    /// The reference's position of each text as an organisation code (`u32::MAX` where it is
    /// not one), and as a metric id.
    pub(super) fn positions(&self, reference: &Reference) -> (Vec<u32>, Vec<u32>) {
        let org = self.0.iter().map(|t| reference.org_position(t).map_or(u32::MAX, |i| i as u32)).collect();
        let metric = self.0.iter().map(|t| reference.metric_position(t).map_or(u32::MAX, |i| i as u32)).collect();
        (org, metric)
    }
}

/// Texts being gathered: each new text is added once and numbered.
#[derive(Debug, Default)]
pub(super) struct Interner {
    texts: Vec<Text>,
    at: foldhash::HashMap<Text, u32>,
}

impl Interner {
    /// Gathering on from `texts`, whose numbers stay as they are.
    pub(super) fn from(texts: &Texts) -> Self {
        let at = texts.0.iter().enumerate().map(|(i, t)| (t.clone(), i as u32)).collect();
        Self { texts: texts.0.clone(), at }
    }

    pub(super) fn id(&mut self, t: &Text) -> u32 {
        if let Some(&i) = self.at.get(&**t) {
            return i;
        }
        let i = self.texts.len() as u32;
        self.texts.push(t.clone());
        self.at.insert(t.clone(), i);
        i
    }

    pub(super) fn finish(self) -> Texts {
        Texts(self.texts)
    }
}

/// `u32::MAX` for none.
const NONE: u32 = u32::MAX;

/// A current value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(super) struct Value {
    pub org: u32,
    pub metric: u32,
    submitted: u32,
    /// The counts behind the value, when `counted`.
    numerator: u32,
    denominator: u32,
    counted: bool,
    pub value: f64,
    revision: i64,
}

impl Value {
    pub(super) fn of(v: &CurrentValue, texts: &mut Interner) -> Self {
        let c = v.counts;
        Self {
            org: texts.id(&v.org_code),
            metric: texts.id(&v.metric_id),
            submitted: texts.id(&v.submitted_at),
            numerator: c.map_or(0, |c| c.numerator),
            denominator: c.map_or(0, |c| c.denominator),
            counted: c.is_some(),
            value: v.value,
            revision: v.revision,
        }
    }

    pub(super) fn row(&self, texts: &Texts, period: Quarter) -> CurrentValue {
        CurrentValue {
            org_code: texts.get(self.org).clone(),
            metric_id: texts.get(self.metric).clone(),
            period,
            value: self.value,
            revision: self.revision,
            submitted_at: texts.get(self.submitted).clone(),
            counts: self.counted.then_some(Counts { numerator: self.numerator, denominator: self.denominator }),
        }
    }
}

/// A trust's position on a metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(super) struct Position {
    pub org: u32,
    pub metric: u32,
    trust_type: u32,
    domain: u32,
    rank: u32,
    quartile: u8,
    /// `HAS_GAP`, `HAS_BEHIND`, `BEHIND`.
    flags: u8,
    value: f64,
    percentile: f64,
    score: f64,
    gap_to_exemplar: f64,
    gap_to_median: f64,
}

const HAS_GAP: u8 = 1;
const HAS_BEHIND: u8 = 2;
const BEHIND: u8 = 4;

impl Position {
    pub(super) fn of(t: &TrustBenchmarkRow, texts: &mut Interner) -> Self {
        let (org, metric) = (texts.id(&t.org_code), texts.id(&t.metric_id));
        let (trust_type, domain) = (texts.id(&t.trust_type), texts.id(&t.domain));
        let p = crate::analytics::CodedPosition {
            org,
            trust_type,
            metric,
            domain: 0,
            period: t.period.index(),
            value: t.value,
            rank: t.rank,
            percentile: t.percentile,
            quartile: t.quartile,
            score: t.score,
            gap_to_exemplar: t.gap_to_exemplar,
            gap_to_median: t.gap_to_median,
            behind_best_practice: t.behind_best_practice,
        };
        Self::coded(&p, [org, metric, trust_type, domain])
    }

    /// A position from the pipeline's, with the numbers of its organisation's, metric's, type's
    /// and domain's texts.
    pub(super) fn coded(t: &crate::analytics::CodedPosition, [org, metric, trust_type, domain]: [u32; 4]) -> Self {
        let mut flags = 0;
        if t.gap_to_exemplar.is_some() {
            flags |= HAS_GAP;
        }
        if let Some(b) = t.behind_best_practice {
            flags |= HAS_BEHIND | if b { BEHIND } else { 0 };
        }
        Self {
            org,
            metric,
            trust_type,
            domain,
            // A rank is at least 1 and at most the trusts of a type; a quartile 1 to 4.
            rank: u32::try_from(t.rank).unwrap_or(NONE),
            quartile: u8::try_from(t.quartile).unwrap_or(u8::MAX),
            flags,
            value: t.value,
            percentile: t.percentile,
            score: t.score,
            gap_to_exemplar: t.gap_to_exemplar.unwrap_or(0.0),
            gap_to_median: t.gap_to_median,
        }
    }

    pub(super) fn row(&self, texts: &Texts, period: Quarter) -> TrustBenchmarkRow {
        TrustBenchmarkRow {
            org_code: texts.get(self.org).clone(),
            trust_type: texts.get(self.trust_type).clone(),
            metric_id: texts.get(self.metric).clone(),
            domain: texts.get(self.domain).clone(),
            period,
            value: self.value,
            rank: i64::from(self.rank),
            percentile: self.percentile,
            quartile: i64::from(self.quartile),
            score: self.score,
            gap_to_exemplar: (self.flags & HAS_GAP != 0).then_some(self.gap_to_exemplar),
            gap_to_median: self.gap_to_median,
            behind_best_practice: (self.flags & HAS_BEHIND != 0).then_some(self.flags & BEHIND != 0),
        }
    }

    /// The trust type, without building the row.
    pub(super) fn trust_type<'t>(&self, texts: &'t Texts) -> &'t str {
        texts.get(self.trust_type)
    }

    pub(super) fn behind_best_practice(&self) -> Option<bool> {
        (self.flags & HAS_BEHIND != 0).then_some(self.flags & BEHIND != 0)
    }
}

/// A trust's trend on a metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(super) struct Trend {
    pub org: u32,
    pub metric: u32,
    /// The trend's word, or `NONE`.
    word: u32,
    /// `HAS_CHANGE`, `HAS_SLOPE`.
    flags: u8,
    change: f64,
    slope: f64,
}

const HAS_CHANGE: u8 = 1;
const HAS_SLOPE: u8 = 2;

impl Trend {
    pub(super) fn of(t: &TrendRow, texts: &mut Interner) -> Self {
        let flags = if t.change.is_some() { HAS_CHANGE } else { 0 } | if t.slope.is_some() { HAS_SLOPE } else { 0 };
        Self {
            org: texts.id(&t.org_code),
            metric: texts.id(&t.metric_id),
            word: t.trend.as_ref().map_or(NONE, |w| texts.id(w)),
            flags,
            change: t.change.unwrap_or(0.0),
            slope: t.slope.unwrap_or(0.0),
        }
    }

    pub(super) fn row(&self, texts: &Texts, period: Quarter) -> TrendRow {
        TrendRow {
            org_code: texts.get(self.org).clone(),
            metric_id: texts.get(self.metric).clone(),
            period,
            change: (self.flags & HAS_CHANGE != 0).then_some(self.change),
            slope: (self.flags & HAS_SLOPE != 0).then_some(self.slope),
            trend: (self.word != NONE).then(|| texts.get(self.word).clone()),
        }
    }
}

/// A trust's domain index, or its maturity index (domain `all`), in a quarter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub(super) struct Maturity {
    pub org: u32,
    trust_type: u32,
    pub domain: u32,
    /// Counts of metrics: at most the catalogue's.
    n_metrics: u32,
    n_applicable: u32,
    /// Whether there is an index (`index` is 0 when not).
    has_index: bool,
    index: f64,
}

impl Maturity {
    pub(super) fn of(x: &IndexRow, texts: &mut Interner) -> Self {
        Self {
            org: texts.id(&x.org_code),
            trust_type: texts.id(&x.trust_type),
            domain: texts.id(&x.domain),
            n_metrics: u32::try_from(x.n_metrics).unwrap_or(NONE),
            n_applicable: u32::try_from(x.n_applicable).unwrap_or(NONE),
            has_index: x.domain_index.is_some(),
            index: x.domain_index.unwrap_or(0.0),
        }
    }

    /// The organisation's text number and the index.
    pub(super) fn coded(&self) -> (u32, Option<f64>) {
        (self.org, self.has_index.then_some(self.index))
    }

    pub(super) fn row(&self, texts: &Texts, period: Quarter) -> IndexRow {
        IndexRow {
            org_code: texts.get(self.org).clone(),
            trust_type: texts.get(self.trust_type).clone(),
            period,
            domain: texts.get(self.domain).clone(),
            domain_index: self.has_index.then_some(self.index),
            n_metrics: i64::from(self.n_metrics),
            n_applicable: i64::from(self.n_applicable),
        }
    }
}

/// Records and the texts they point into, as a snapshot stores them; `check` before use.
#[derive(Deserialize, Default)]
pub(super) struct Stored<R> {
    pub texts: Vec<String>,
    #[serde(deserialize_with = "exact", bound(deserialize = "R: Deserialize<'de>"))]
    pub rows: Vec<R>,
}

/// The most room `exact` makes ahead for a sequence, whatever length it claims.
const MOST_AHEAD: usize = 1 << 24;

/// A sequence read into a vector with room for exactly its length. Serde's own reading makes
/// room as it goes, doubling, so that a table read from a snapshot could hold up to twice the
/// memory it needs for as long as the figures live; and the allocator keeps a block that a
/// shrink asks to give back less than half of.
pub(super) fn exact<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct Exact<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Exact<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a sequence")
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MOST_AHEAD));
            while let Some(x) = seq.next_element()? {
                out.push(x);
            }
            Ok(out)
        }
    }
    d.deserialize_seq(Exact(std::marker::PhantomData))
}

/// `v` with room for its length only: a copy when it has more (see `exact`).
pub(super) fn tight<T: Clone>(v: Vec<T>) -> Vec<T> {
    if v.capacity() > v.len() { v.as_slice().to_vec() } else { v }
}

/// `Stored`, as written.
#[derive(Serialize)]
pub(super) struct StoredOut<'a, R> {
    texts: &'a [Text],
    rows: &'a [R],
}

impl<'a, R> StoredOut<'a, R> {
    pub(super) fn of(texts: &'a Texts, rows: &'a [R]) -> Self {
        Self { texts: &texts.0, rows }
    }
}

/// The records of a snapshot, checked to point into their texts.
pub(super) trait Record {
    /// Whether every number of the record points into `n` texts.
    fn fits(&self, n: usize) -> bool;
}

impl Record for Value {
    fn fits(&self, n: usize) -> bool {
        [self.org, self.metric, self.submitted].iter().all(|&i| (i as usize) < n)
    }
}

impl Record for Position {
    fn fits(&self, n: usize) -> bool {
        [self.org, self.metric, self.trust_type, self.domain].iter().all(|&i| (i as usize) < n)
    }
}

impl Record for Maturity {
    fn fits(&self, n: usize) -> bool {
        [self.org, self.trust_type, self.domain].iter().all(|&i| (i as usize) < n)
    }
}

impl Record for Trend {
    fn fits(&self, n: usize) -> bool {
        [self.org, self.metric].iter().all(|&i| (i as usize) < n) && (self.word == NONE || (self.word as usize) < n)
    }
}

impl<R: Record> Stored<R> {
    /// The texts (shared with the reference) and records, when every record points into them.
    pub(super) fn check(self, reference: &Reference) -> anyhow::Result<(Texts, Vec<R>)> {
        let n = self.texts.len();
        anyhow::ensure!(self.rows.iter().all(|r| r.fits(n)), "a record of the snapshot points past its texts");
        Ok((Texts::shared(reference, self.texts), self.rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_give_back_the_rows_they_were_made_from() {
        let mut texts = Interner::default();
        let value = CurrentValue {
            org_code: "RXX".into(),
            metric_id: "m".into(),
            period: Quarter::from_index(8100),
            value: 0.1 + 0.2,
            revision: 3,
            submitted_at: "2026-01-01T00:00:00Z".into(),
            counts: Some(Counts { numerator: 3, denominator: 10 }),
        };
        let uncounted = CurrentValue { counts: None, org_code: "RYY".into(), ..value.clone() };
        let position = TrustBenchmarkRow {
            org_code: "RXX".into(),
            trust_type: "acute".into(),
            metric_id: "m".into(),
            domain: "d".into(),
            period: value.period,
            value: 0.3,
            rank: 7,
            percentile: 12.5,
            quartile: 2,
            score: 66.25,
            gap_to_exemplar: None,
            gap_to_median: -0.5,
            behind_best_practice: Some(false),
        };
        let behind =
            TrustBenchmarkRow { gap_to_exemplar: Some(1.5), behind_best_practice: Some(true), ..position.clone() };
        let unknown = TrustBenchmarkRow { behind_best_practice: None, ..position.clone() };
        let trend = TrendRow {
            org_code: "RXX".into(),
            metric_id: "m".into(),
            period: value.period,
            change: Some(-0.0),
            slope: None,
            trend: Some("worsening".into()),
        };
        let flat = TrendRow { change: None, slope: Some(2.0), trend: None, ..trend.clone() };
        let v: Vec<Value> = [&value, &uncounted].iter().map(|v| Value::of(v, &mut texts)).collect();
        let t: Vec<Position> = [&position, &behind, &unknown].iter().map(|t| Position::of(t, &mut texts)).collect();
        let r: Vec<Trend> = [&trend, &flat].iter().map(|t| Trend::of(t, &mut texts)).collect();
        let index = IndexRow {
            org_code: "RXX".into(),
            trust_type: "acute".into(),
            period: value.period,
            domain: "all".into(),
            domain_index: Some(-0.0),
            n_metrics: 12,
            n_applicable: 14,
        };
        let none = IndexRow { domain_index: None, domain: "d".into(), n_metrics: 0, ..index.clone() };
        let x: Vec<Maturity> = [&index, &none].iter().map(|x| Maturity::of(x, &mut texts)).collect();
        let texts = texts.finish();
        assert_eq!(texts.as_slice().len(), 8, "each text once");
        let p = value.period;
        assert_eq!((v[0].row(&texts, p).counts, v[1].row(&texts, p).counts), (value.counts, None));
        assert_eq!(v[0].row(&texts, p).value.to_bits(), value.value.to_bits());
        assert_eq!(&*v[1].row(&texts, p).org_code, "RYY");
        assert_eq!(t.iter().map(|t| t.row(&texts, p)).collect::<Vec<_>>(), vec![position, behind, unknown]);
        assert_eq!(r.iter().map(|t| t.row(&texts, p)).collect::<Vec<_>>(), vec![trend, flat]);
        assert!(r[0].row(&texts, p).change.unwrap().is_sign_negative(), "the sign of a zero is kept");
        assert_eq!(x.iter().map(|x| x.row(&texts, p)).collect::<Vec<_>>(), vec![index, none]);
        assert!(x[0].row(&texts, p).domain_index.unwrap().is_sign_negative());
        assert!(x.iter().all(|x| x.fits(8)) && !x[0].fits(2));
    }

    #[test]
    fn a_table_read_from_a_snapshot_has_room_for_its_rows_only() {
        let mut texts = Interner::default();
        let trend = TrendRow {
            org_code: "RXX".into(),
            metric_id: "m".into(),
            period: Quarter::from_index(8100),
            change: Some(1.0),
            slope: Some(0.5),
            trend: None,
        };
        let rows = vec![Trend::of(&trend, &mut texts); 100_000];
        let texts = texts.finish();
        let bytes = rmp_serde::to_vec(&StoredOut::of(&texts, &rows)).unwrap();
        let read: Stored<Trend> = rmp_serde::from_slice(&bytes).unwrap();
        assert_eq!((read.rows.len(), read.rows.capacity()), (100_000, 100_000));
        let mut pushed = read.rows.clone();
        pushed.push(rows[0]);
        assert!(pushed.capacity() > pushed.len());
        let pushed = tight(pushed);
        assert_eq!(pushed.capacity(), pushed.len());
    }

    #[test]
    fn a_stored_record_pointing_past_its_texts_is_refused() {
        let reference = crate::ingest::reference::bundled().unwrap();
        let mut texts = Interner::default();
        let trend = TrendRow {
            org_code: "RXX".into(),
            metric_id: "m".into(),
            period: Quarter::from_index(8100),
            change: None,
            slope: None,
            trend: Some("improving".into()),
        };
        let rows = vec![Trend::of(&trend, &mut texts)];
        let texts = texts.finish();
        let bytes = rmp_serde::to_vec(&StoredOut::of(&texts, &rows)).unwrap();
        let stored: Stored<Trend> = rmp_serde::from_slice(&bytes).unwrap();
        let (back, read) = Stored { texts: stored.texts.clone(), rows: stored.rows.clone() }.check(&reference).unwrap();
        assert_eq!(read[0].row(&back, trend.period), trend);
        let short = Stored { texts: stored.texts[..2].to_vec(), rows: stored.rows };
        assert!(short.check(&reference).is_err());
    }
}

//! Values on PostgreSQL: a submission's values for one quarter and organisation in one row of
//! `value_batches`, the metrics, revisions, values, comments and counts in arrays (migration
//! 0008), written by `COPY … FROM STDIN`. One heap tuple and one primary-key entry per
//! (quarter, organisation) instead of per value: maintaining a B-tree entry per value made COPY
//! into a one-row-per-value table 3-4 times as slow as into a bare table (BENCHMARKS.md,
//! "PostgreSQL's floor"). `metric_values` is a view that unnests the batches, so that every
//! query reads the values as on SQLite; the uniqueness of (quarter, organisation, metric,
//! revision) is kept by a statement trigger on `value_batches` (migration 0018). All values are
//! read natively from the batches: through the view the server would unnest and sort every
//! value first, which made reading them all twice as slow (`benches/pg_reads.sh`).

use super::{Current, Interner, Param, ValueBackend, ValueWriter};
use crate::domain::{CurrentValue, MetricRow, Quarter};
use anyhow::Result;
use futures_util::TryStreamExt;
use sqlx::postgres::PgArguments;
use sqlx::{Arguments, Connection, PgConnection, Row};

/// Every batch, and one quarter's, the (quarter, organisation) groups together.
macro_rules! batches {
    ($rest:literal) => {
        concat!(
            "SELECT period_index, org_code, submitted_at, metric_ids, revisions, vals, numerators, denominators \
             FROM value_batches ",
            $rest
        )
    };
}

/// A submission's own connection, in one transaction holding the writers' advisory lock;
/// dropping it without `commit` closes the connection, which rolls everything back.
pub(super) struct PgValues {
    conn: PgConnection,
}

impl PgValues {
    pub(super) async fn connect(url: &str) -> Result<Self> {
        Ok(Self { conn: PgConnection::connect(url).await? })
    }
}

fn arguments(params: &[Param<'_>]) -> Result<PgArguments> {
    let mut args = PgArguments::default();
    for p in params {
        match *p {
            Param::Int(i) => args.add(i),
            Param::Text(t) => args.add(t),
            Param::OptText(t) => args.add(t),
        }
        .map_err(|e| anyhow::anyhow!("binding a parameter: {e}"))?;
    }
    Ok(args)
}

impl ValueBackend for PgValues {
    type Writer<'a> = PgWriter<'a>;

    async fn open(&mut self, submission: &[Param<'_>; 11]) -> Result<i64> {
        sqlx::raw_sql("BEGIN").execute(&mut self.conn).await?;
        sqlx::query(crate::store::WRITERS_LOCK).execute(&mut self.conn).await?;
        let query = sqlx::query_scalar_with(crate::store::submissions::INSERT_SUBMISSION, arguments(submission)?);
        let id = query.fetch_one(&mut self.conn).await?;
        sqlx::raw_sql("SAVEPOINT submission_values").execute(&mut self.conn).await?;
        Ok(id)
    }

    async fn execute(&mut self, sql: &'static str, params: &[Param<'_>]) -> Result<()> {
        sqlx::query_with(sql, arguments(params)?).execute(&mut self.conn).await?;
        Ok(())
    }

    async fn earlier_same(&mut self, kind: &str, content_hash: &str, id: i64) -> Result<Option<i64>> {
        let query = sqlx::query_scalar(super::EARLIER_SAME).bind(kind).bind(content_hash).bind(id);
        Ok(query.fetch_one(&mut self.conn).await?)
    }

    /// Read from the batches, not the view (see the module's comment).
    async fn current_of_quarter(&mut self, period: Quarter) -> Result<Vec<Current>> {
        let query = sqlx::query(batches!("WHERE period_index = $1 ORDER BY org_code"));
        let values = read(query.bind(i64::from(period.index())).fetch(&mut self.conn)).await?;
        let counts = crate::domain::Counts::numerator;
        Ok(values
            .into_iter()
            .map(|v| {
                let (n, d) = (counts(v.counts), crate::domain::Counts::denominator(v.counts));
                (v.org_code.to_string(), v.metric_id.to_string(), v.value, v.revision, n, d)
            })
            .collect())
    }

    async fn end_values(&mut self, keep: bool) -> Result<()> {
        let sql = if keep {
            "RELEASE SAVEPOINT submission_values"
        } else {
            "ROLLBACK TO SAVEPOINT submission_values; RELEASE SAVEPOINT submission_values"
        };
        sqlx::raw_sql(sql).execute(&mut self.conn).await?;
        Ok(())
    }

    async fn writer(&mut self) -> Result<PgWriter<'_>> {
        let copy = "COPY value_batches (period_index, org_code, submission_id, submitted_at, metric_ids, revisions, vals, \
                    comments, numerators, denominators) FROM STDIN";
        Ok(PgWriter { copy: self.conn.copy_in_raw(copy).await?, data: Vec::new() })
    }

    async fn commit(mut self) -> Result<()> {
        sqlx::raw_sql("COMMIT").execute(&mut self.conn).await?;
        self.conn.close().await?;
        Ok(())
    }
}

/// One `COPY` into `value_batches`, sent a chunk at a time.
pub(super) struct PgWriter<'a> {
    copy: sqlx::postgres::PgCopyIn<&'a mut PgConnection>,
    data: Vec<u8>,
}

impl ValueWriter for PgWriter<'_> {
    /// In key order, so a chunk's values of one quarter and organisation are one batch.
    async fn write(&mut self, changes: &[(MetricRow, i64)], id: i64, at: &str) -> Result<()> {
        self.data.clear();
        for batch in changes.chunk_by(|(a, _), (b, _)| a.period == b.period && a.org_code == b.org_code) {
            batch_line(&mut self.data, batch, id, at);
        }
        if !self.data.is_empty() {
            self.copy.send(self.data.as_slice()).await?;
        }
        Ok(())
    }

    async fn finish(self) -> Result<()> {
        self.copy.finish().await?;
        Ok(())
    }
}

/// The current value of every (organisation, metric, quarter), in key order: what
/// `Store::current_values` gives on every backend.
pub(super) async fn current_values(url: &str) -> Result<Vec<CurrentValue>> {
    let mut conn = PgConnection::connect(url).await?;
    let values = read(sqlx::query(batches!("ORDER BY period_index, org_code")).fetch(&mut conn)).await?;
    conn.close().await?;
    Ok(values)
}

/// The current values of a stream of batches in (quarter, organisation) order.
async fn read(
    mut rows: futures_util::stream::BoxStream<'_, Result<sqlx::postgres::PgRow, sqlx::Error>>,
) -> Result<Vec<CurrentValue>> {
    let mut intern = Interner::default();
    let mut values = Vec::new();
    // One (quarter, organisation)'s values from all its batches: (metric, revision, value, time,
    // counts).
    type Entry = (crate::domain::Text, i64, f64, crate::domain::Text, Option<crate::domain::Counts>);
    let mut group: Vec<Entry> = Vec::new();
    let mut key: Option<(i32, crate::domain::Text)> = None;
    let flush = |key: &Option<(i32, crate::domain::Text)>, group: &mut Vec<_>, values: &mut Vec<CurrentValue>| {
        let Some((period_index, org_code)) = key else { return };
        group.sort_unstable_by(|a: &Entry, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
        for run in group.chunk_by(|a, b| a.0 == b.0) {
            let (metric_id, revision, value, submitted_at, counts) = run.last().expect("a run is never empty").clone();
            values.push(CurrentValue {
                org_code: org_code.clone(),
                metric_id,
                period: Quarter::from_index(*period_index),
                value,
                revision,
                submitted_at,
                counts,
            });
        }
        group.clear();
    };
    while let Some(r) = rows.try_next().await? {
        let period_index = r.try_get::<i64, _>(0)? as i32;
        let org = r.try_get_unchecked::<&str, _>(1)?;
        if key.as_ref().is_none_or(|(p, o)| *p != period_index || &**o != org) {
            flush(&key, &mut group, &mut values);
            key = Some((period_index, intern.get(org)));
        }
        let at = intern.get(r.try_get_unchecked::<&str, _>(2)?);
        let metrics: Vec<String> = r.try_get(3)?;
        let revisions: Vec<i64> = r.try_get(4)?;
        let vals: Vec<f64> = r.try_get(5)?;
        let numerators: Option<Vec<Option<i64>>> = r.try_get(6)?;
        let denominators: Option<Vec<Option<i64>>> = r.try_get(7)?;
        for (i, ((metric, revision), value)) in metrics.iter().zip(revisions).zip(vals).enumerate() {
            let count = |c: &Option<Vec<Option<i64>>>| c.as_ref().and_then(|c| c.get(i).copied().flatten());
            let counts = crate::domain::Counts::of(count(&numerators), count(&denominators));
            group.push((intern.get(metric), revision, value, at.clone(), counts));
        }
    }
    flush(&key, &mut group, &mut values);
    Ok(values)
}

/// One batch in COPY's text format: tab-separated, with backslashes, tabs and line ends in texts
/// escaped. The batch's rows share a quarter and an organisation; their metrics, revisions,
/// values and comments go in array literals, each text element quoted (`NULL` for no comment).
fn batch_line(out: &mut Vec<u8>, batch: &[(MetricRow, i64)], submission_id: i64, at: &str) {
    use std::io::Write;
    /// A text in COPY's escapes (backslashes doubled, tabs and line ends escaped); inside an
    /// array element (`quoted`), the array's own backslash before `"` and `\` comes first, so
    /// it is doubled too.
    fn escaped(out: &mut Vec<u8>, t: &str, quoted: bool) {
        let special = |b: u8| matches!(b, b'\\' | b'\t' | b'\n' | b'\r') || (quoted && b == b'"');
        if !t.bytes().any(special) {
            out.extend_from_slice(t.as_bytes());
            return;
        }
        for b in t.bytes() {
            if quoted && matches!(b, b'"' | b'\\') {
                out.extend_from_slice(b"\\\\");
            }
            match b {
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\t' => out.extend_from_slice(b"\\t"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                _ => out.push(b),
            }
        }
    }
    /// A quoted array element inside a COPY field.
    fn element(out: &mut Vec<u8>, t: &str) {
        out.push(b'"');
        escaped(out, t, true);
        out.push(b'"');
    }
    /// A tab, then `{a,b,…}` with each element written by `item`.
    fn array(out: &mut Vec<u8>, batch: &[(MetricRow, i64)], item: impl Fn(&mut Vec<u8>, &MetricRow, i64)) {
        out.extend_from_slice(b"\t{");
        for (i, (row, revision)) in batch.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            item(out, row, *revision);
        }
        out.push(b'}');
    }
    let Some((first, _)) = batch.first() else { return };
    let _ = write!(out, "{}\t", first.period.index());
    escaped(out, &first.org_code, false);
    let _ = write!(out, "\t{submission_id}\t");
    escaped(out, at, false);
    array(out, batch, |out, row, _| element(out, &row.metric_id));
    array(out, batch, |out, _, revision| {
        let _ = write!(out, "{revision}");
    });
    array(out, batch, |out, row, _| {
        let _ = write!(out, "{:?}", row.value);
    });
    array(out, batch, |out, row, _| match &row.comment {
        Some(c) => element(out, c),
        None => out.extend_from_slice(b"NULL"),
    });
    // The counts: NULL for a batch without any (most), else an array with NULL where a row has none.
    if batch.iter().all(|(row, _)| row.counts.is_none()) {
        out.extend_from_slice(b"\t\\N\t\\N");
    } else {
        for numerator in [true, false] {
            array(out, batch, |out, row, _| match row.counts {
                Some(c) => {
                    let _ = write!(out, "{}", if numerator { c.numerator } else { c.denominator });
                }
                None => out.extend_from_slice(b"NULL"),
            });
        }
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_line_quotes_array_elements_and_escapes_what_copy_gives_meaning_to() {
        let row = |metric: &str, value: f64, comment: Option<&str>| MetricRow {
            row: 2,
            org_code: "RGT".into(),
            metric_id: metric.into(),
            period: crate::domain::Quarter::parse("2024-Q2").unwrap(),
            value,
            comment: comment.map(Into::into),
            counts: None,
        };
        let batch = [(row("m", 3.0, Some("a\tb\\c\nd \"e\" NULL")), 2), (row("n,o", 0.25, None), 1)];
        let mut out = Vec::new();
        batch_line(&mut out, &batch, 7, "t");
        let expected = format!(
            "{}\tRGT\t7\tt\t{{\"m\",\"n,o\"}}\t{{2,1}}\t{{3.0,0.25}}\t{{\"a\\tb\\\\\\\\c\\nd \\\\\"e\\\\\" NULL\",NULL}}\t\\N\t\\N\n",
            batch[0].0.period.index()
        );
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }
}

//! A streamed metric submission on PostgreSQL, on a native connection so that the values go in
//! by `COPY … FROM STDIN`, a chunk at a time, instead of multi-row INSERTs of bound parameters.
//! A chunk's values for one quarter and organisation go in as one row of `value_batches`, the
//! metrics in arrays (migration 0008).
//! A quarter's current values are read between two chunks' COPYs (a connection cannot query in
//! the middle of one). The statements are the store's own (`submissions.rs`).

use super::submissions::{
    ADD_SUBMISSION_QUARTER, EARLIER_SAME, Feed, INSERT_AUDIT, INSERT_SUBMISSION, NewSubmission, Outcome, Revisions,
    SET_STORED, SETTLE, Settlement,
};
use crate::domain::MetricRow;
use anyhow::{Result, bail};
use sqlx::{Connection, PgConnection};

/// `Store::store_metric_feed` on the PostgreSQL database at `url`; takes the writers' advisory
/// lock, as every writer does, and holds it until the transaction ends.
pub(super) async fn store_feed(
    url: &str,
    sub: &NewSubmission,
    mut feed: tokio::sync::mpsc::Receiver<Feed>,
) -> Result<Outcome> {
    let mut conn = PgConnection::connect(url).await?;
    let mut tx = conn.begin().await?;
    sqlx::query(super::WRITERS_LOCK).execute(&mut *tx).await?;
    let (kind, at) = (sub.kind.as_str(), super::now_text());
    let id: i64 = sqlx::query_scalar(INSERT_SUBMISSION)
        .bind(kind)
        .bind(crate::domain::SubmissionStatus::Accepted.as_str())
        .bind(&sub.content_hash)
        .bind(&sub.submitted_by)
        .bind(&at)
        .bind(&sub.source)
        .bind(&sub.filename)
        .bind(0_i64)
        .bind(0_i64)
        .bind("[]")
        .bind(&sub.org_code)
        .fetch_one(&mut *tx)
        .await?;
    // As on every backend, the values go in a savepoint that an invalid or repeated file undoes.
    sqlx::raw_sql("SAVEPOINT submission_values").execute(&mut *tx).await?;
    let mut revisions = Revisions::new();
    let copy = "COPY value_batches (period_index, org_code, submission_id, submitted_at, metric_ids, revisions, vals, comments, \
                numerators, denominators) FROM STDIN";
    // One COPY runs for as long as the chunks keep to the quarters already read, so that the
    // server stores one chunk while the next is validated and sent.
    let mut data = Vec::new();
    let mut pending: Option<Vec<MetricRow>> = None;
    let (content_hash, total, errors) = loop {
        let rows = match pending.take() {
            Some(rows) => rows,
            None => match feed.recv().await {
                Some(Feed::Rows(rows)) => rows,
                Some(Feed::End { content_hash, rows, errors }) => break (content_hash, rows, errors),
                None => bail!("the submission's rows stopped before the end of the file"),
            },
        };
        for p in revisions.missing(&rows) {
            let found = super::postgres_values::current_of_quarter(&mut tx, p).await?;
            revisions.add_quarter(p, found);
            sqlx::query(ADD_SUBMISSION_QUARTER).bind(id).bind(i64::from(p)).execute(&mut *tx).await?;
        }
        let mut copy_in = tx.copy_in_raw(copy).await?;
        let mut rows = rows;
        let end = loop {
            data.clear();
            // In key order, so a chunk's values of one quarter and organisation are together.
            let changes = revisions.changes(rows);
            for batch in changes.chunk_by(|(a, _), (b, _)| a.period == b.period && a.org_code == b.org_code) {
                batch_line(&mut data, batch, id, &at);
            }
            if !data.is_empty() {
                copy_in.send(data.as_slice()).await?;
            }
            match feed.recv().await {
                Some(Feed::Rows(next)) if revisions.missing(&next).is_empty() => rows = next,
                Some(Feed::Rows(next)) => {
                    pending = Some(next);
                    break None;
                }
                Some(Feed::End { content_hash, rows, errors }) => break Some((content_hash, rows, errors)),
                None => bail!("the submission's rows stopped before the end of the file"),
            }
        };
        copy_in.finish().await?;
        if let Some(end) = end {
            break end;
        }
    };
    let original: Option<i64> =
        sqlx::query_scalar(EARLIER_SAME).bind(kind).bind(&content_hash).bind(id).fetch_one(&mut *tx).await?;
    let end = Settlement::new(id, total, errors, original, &revisions)?;
    if end.keeps_values() {
        sqlx::raw_sql("RELEASE SAVEPOINT submission_values").execute(&mut *tx).await?;
        sqlx::query(SET_STORED).bind(revisions.stored as i64).bind(id).execute(&mut *tx).await?;
    } else {
        sqlx::raw_sql("ROLLBACK TO SAVEPOINT submission_values; RELEASE SAVEPOINT submission_values")
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(SETTLE)
        .bind(end.status.as_str())
        .bind(&content_hash)
        .bind(total as i64)
        .bind(&end.errors)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query(INSERT_AUDIT)
        .bind(super::now_text())
        .bind(&sub.submitted_by)
        .bind(end.action)
        .bind(kind)
        .bind(id)
        .bind(&end.detail)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    conn.close().await?;
    Ok(end.outcome)
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

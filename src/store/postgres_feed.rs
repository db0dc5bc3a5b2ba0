//! A streamed metric submission on PostgreSQL, on a native connection so that the values go in
//! by `COPY … FROM STDIN`, a chunk at a time, instead of multi-row INSERTs of bound parameters.
//! A quarter's current values are read between two chunks' COPYs (a connection cannot query in
//! the middle of one). The statements are the store's own (`submissions.rs`).

use super::submissions::{
    ADD_SUBMISSION_QUARTER, CURRENT_OF_QUARTER, EARLIER_SAME, Feed, INSERT_AUDIT, INSERT_SUBMISSION, NewSubmission,
    Outcome, Revisions, SET_STORED, SETTLE, Settlement, VALUE_COLUMNS,
};
use crate::ingest::metrics::MetricRow;
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
        .bind("accepted")
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
    let copy = format!("COPY metric_values ({}) FROM STDIN", VALUE_COLUMNS.join(", "));
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
            let found = sqlx::query_as(CURRENT_OF_QUARTER).bind(i64::from(p)).fetch_all(&mut *tx).await?;
            revisions.add_quarter(p, found);
            sqlx::query(ADD_SUBMISSION_QUARTER).bind(id).bind(i64::from(p)).execute(&mut *tx).await?;
        }
        let mut copy_in = tx.copy_in_raw(&copy).await?;
        let mut rows = rows;
        let end = loop {
            data.clear();
            for (row, revision) in revisions.changes(rows) {
                copy_line(&mut data, &row, revision, id, &at);
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
        .bind(end.status)
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

/// One row in COPY's text format: tab-separated, `\N` for NULL, with backslashes, tabs and line
/// ends in texts escaped.
fn copy_line(out: &mut Vec<u8>, row: &MetricRow, revision: i64, submission_id: i64, at: &str) {
    use std::io::Write;
    fn text(out: &mut Vec<u8>, t: &str) {
        for b in t.bytes() {
            match b {
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\t' => out.extend_from_slice(b"\\t"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                _ => out.push(b),
            }
        }
    }
    let _ = write!(out, "{}\t", row.period.index());
    text(out, &row.org_code);
    out.push(b'\t');
    text(out, &row.metric_id);
    let _ = write!(out, "\t{revision}\t{:?}\t", row.value);
    match &row.comment {
        Some(c) => text(out, c),
        None => out.extend_from_slice(b"\\N"),
    }
    let _ = write!(out, "\t{submission_id}\t");
    text(out, at);
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_copy_gives_meaning_to() {
        let row = MetricRow {
            row: 2,
            org_code: "RGT".into(),
            metric_id: "m".into(),
            period: crate::domain::Quarter::parse("2024-Q2").unwrap(),
            value: 3.0,
            comment: Some("a\tb\\c\nd".into()),
        };
        let mut out = Vec::new();
        copy_line(&mut out, &row, 2, 7, "t");
        let expected = format!("{}\tRGT\tm\t2\t3.0\ta\\tb\\\\c\\nd\t7\tt\n", row.period.index());
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }
}

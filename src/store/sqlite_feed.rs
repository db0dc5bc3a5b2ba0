//! A streamed metric submission on SQLite, through SQLite's own interface (rusqlite, on the same
//! libsqlite3 as sqlx): one prepared insert run once per changed value. sqlx's SQLite driver
//! sends each statement to a worker thread and binds parameters by name, so that its cheapest
//! bulk insert, statements of 500 rows written as literals, spent most of its time in SQLite's
//! parser (BENCHMARKS.md). The statements are the store's own (`submissions.rs`); SQLite reads
//! their `$1` placeholders as parameters numbered in order.

use super::submissions::{
    ADD_SUBMISSION_QUARTER, CURRENT_OF_QUARTER, EARLIER_SAME, Feed, INSERT_AUDIT, INSERT_SUBMISSION, NewSubmission,
    Outcome, Revisions, SET_STORED, SETTLE, Settlement, VALUE_COLUMNS,
};
use anyhow::{Result, bail};
use rusqlite::{OpenFlags, params};

/// `Store::store_metric_feed` on the SQLite database in `file`, on a connection of its own;
/// the caller holds the store's writers' lock. Blocks: run it off the async threads.
pub(super) fn store_feed(
    file: &std::path::Path,
    sub: &NewSubmission,
    mut feed: tokio::sync::mpsc::Receiver<Feed>,
) -> Result<Outcome> {
    let db = rusqlite::Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    db.busy_timeout(std::time::Duration::from_secs(30))?;
    // A failure anywhere below drops the connection, which rolls the transaction back.
    db.execute_batch("PRAGMA synchronous = NORMAL; BEGIN IMMEDIATE")?;
    let (kind, at) = (sub.kind.as_str(), super::now_text());
    let id: i64 = db.query_row(
        INSERT_SUBMISSION,
        params![
            kind,
            crate::domain::SubmissionStatus::Accepted.as_str(),
            sub.content_hash,
            sub.submitted_by,
            at,
            sub.source,
            sub.filename,
            0,
            0,
            "[]",
            sub.org_code
        ],
        |r| r.get(0),
    )?;
    // As on every backend, the values go in a savepoint that an invalid or repeated file undoes.
    db.execute_batch("SAVEPOINT submission_values")?;
    let mut revisions = Revisions::new();
    let mut many = db.prepare(&insert_values(ROWS_PER_INSERT))?;
    let mut one = db.prepare(&insert_values(1))?;
    let (content_hash, total, errors) = {
        loop {
            match feed.blocking_recv() {
                Some(Feed::Rows(rows)) => {
                    for p in revisions.missing(&rows) {
                        let found = db
                            .prepare(CURRENT_OF_QUARTER)?
                            .query_map([p], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?
                            .collect::<Result<Vec<_>, _>>()?;
                        revisions.add_quarter(p, found);
                        db.execute(ADD_SUBMISSION_QUARTER, rusqlite::params![id, p])?;
                    }
                    let changed = revisions.changes(rows);
                    let mut groups = changed.chunks_exact(ROWS_PER_INSERT);
                    for group in groups.by_ref() {
                        bind_rows(&mut many, group, id, &at)?;
                        many.raw_execute()?;
                    }
                    for row in groups.remainder() {
                        bind_rows(&mut one, std::slice::from_ref(row), id, &at)?;
                        one.raw_execute()?;
                    }
                }
                Some(Feed::End { content_hash, rows, errors }) => break (content_hash, rows, errors),
                None => bail!("the submission's rows stopped before the end of the file"),
            }
        }
    };
    let original: Option<i64> = db.query_row(EARLIER_SAME, params![kind, content_hash, id], |r| r.get(0))?;
    let end = Settlement::new(id, total, errors, original, &revisions)?;
    if end.keeps_values() {
        db.execute_batch("RELEASE submission_values")?;
        db.execute(SET_STORED, params![revisions.stored as i64, id])?;
    } else {
        db.execute_batch("ROLLBACK TO submission_values; RELEASE submission_values")?;
    }
    db.execute(SETTLE, params![end.status.as_str(), content_hash, total as i64, end.errors, id])?;
    db.execute(INSERT_AUDIT, params![super::now_text(), sub.submitted_by, end.action, kind, id, end.detail])?;
    drop((many, one));
    db.execute_batch("COMMIT")?;
    Ok(end.outcome)
}

/// Rows a statement: SQLite keeps its place in the table between the rows of one statement, so
/// that rows in key order are appended without a search from the root for each.
const ROWS_PER_INSERT: usize = 256;

/// `INSERT INTO metric_values (…) VALUES ($1, …), (…)` for `rows` rows.
fn insert_values(rows: usize) -> String {
    let width = VALUE_COLUMNS.len();
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect();
    format!("INSERT INTO metric_values ({}) VALUES {}", VALUE_COLUMNS.join(", "), tuples.join(", "))
}

/// Binds `rows` (value, revision) to a statement of `insert_values(rows.len())`.
fn bind_rows(
    statement: &mut rusqlite::Statement<'_>,
    rows: &[(crate::domain::MetricRow, i64)],
    submission_id: i64,
    at: &str,
) -> rusqlite::Result<()> {
    let width = VALUE_COLUMNS.len();
    for (k, (r, revision)) in rows.iter().enumerate() {
        let n = k * width;
        statement.raw_bind_parameter(n + 1, r.period.index())?;
        statement.raw_bind_parameter(n + 2, r.org_code.as_str())?;
        statement.raw_bind_parameter(n + 3, r.metric_id.as_str())?;
        statement.raw_bind_parameter(n + 4, revision)?;
        statement.raw_bind_parameter(n + 5, r.value)?;
        statement.raw_bind_parameter(n + 6, r.comment.as_deref())?;
        statement.raw_bind_parameter(n + 7, submission_id)?;
        statement.raw_bind_parameter(n + 8, at)?;
        statement.raw_bind_parameter(n + 9, crate::domain::Counts::numerator(r.counts))?;
        statement.raw_bind_parameter(n + 10, crate::domain::Counts::denominator(r.counts))?;
    }
    Ok(())
}

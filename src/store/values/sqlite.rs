//! Values on SQLite: one table, `metric_values`, a row per revision with the key (quarter,
//! organisation, metric, revision) as its primary key, `WITHOUT ROWID` so that the table is that
//! key's B-tree (migration 0006). A submission writes through SQLite's own interface (rusqlite, on
//! the same libsqlite3 as sqlx), one prepared insert of many rows run again and again: sqlx's
//! SQLite driver sends each statement to a worker thread and binds parameters by name, so its
//! cheapest bulk insert spent most of its time in SQLite's parser (BENCHMARKS.md). SQLite reads
//! the store's `$1` placeholders as parameters numbered in order.

use super::{Current, Param, ValueBackend, ValueWriter};
use crate::domain::{CurrentValue, MetricRow, Quarter};
use anyhow::Result;
use rusqlite::OpenFlags;

/// A submission's own connection to the database file, in one `BEGIN IMMEDIATE` transaction;
/// dropping it without `commit` rolls everything back. Blocking: `drive` runs on a blocking
/// thread for SQLite.
pub(super) struct SqliteValues {
    db: rusqlite::Connection,
    /// `insert_values(ROWS_PER_INSERT)` and `insert_values(1)`.
    many_sql: String,
    one_sql: String,
}

impl SqliteValues {
    pub(super) fn open(file: &std::path::Path) -> Result<Self> {
        let db = rusqlite::Connection::open_with_flags(
            file,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
        )?;
        db.busy_timeout(std::time::Duration::from_secs(30))?;
        db.execute_batch("PRAGMA synchronous = NORMAL")?;
        Ok(Self { db, many_sql: insert_values(ROWS_PER_INSERT), one_sql: insert_values(1) })
    }
}

impl rusqlite::ToSql for Param<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match *self {
            Param::Int(i) => ToSqlOutput::from(i),
            Param::Text(t) | Param::OptText(Some(t)) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            Param::OptText(None) => ToSqlOutput::Borrowed(ValueRef::Null),
        })
    }
}

impl ValueBackend for SqliteValues {
    type Writer<'a> = SqliteWriter<'a>;

    async fn open(&mut self, submission: &[Param<'_>; 11]) -> Result<i64> {
        self.db.execute_batch("BEGIN IMMEDIATE")?;
        let params = rusqlite::params_from_iter(submission.iter());
        let id = self.db.query_row(crate::store::submissions::INSERT_SUBMISSION, params, |r| r.get(0))?;
        self.db.execute_batch("SAVEPOINT submission_values")?;
        Ok(id)
    }

    async fn execute(&mut self, sql: &'static str, params: &[Param<'_>]) -> Result<()> {
        self.db.prepare_cached(sql)?.execute(rusqlite::params_from_iter(params.iter()))?;
        Ok(())
    }

    async fn earlier_same(&mut self, kind: &str, content_hash: &str, id: i64) -> Result<Option<i64>> {
        Ok(self.db.query_row(super::EARLIER_SAME, rusqlite::params![kind, content_hash, id], |r| r.get(0))?)
    }

    async fn current_of_quarter(&mut self, period: Quarter) -> Result<Vec<Current>> {
        let mut statement = self.db.prepare_cached(super::CURRENT_OF_QUARTER)?;
        let rows = statement
            .query_map([period.index()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    async fn end_values(&mut self, keep: bool) -> Result<()> {
        self.db.execute_batch(if keep {
            "RELEASE submission_values"
        } else {
            "ROLLBACK TO submission_values; RELEASE submission_values"
        })?;
        Ok(())
    }

    async fn writer(&mut self) -> Result<SqliteWriter<'_>> {
        // Kept in the connection's statement cache: a writer is made again each time the rows
        // reach a quarter not read yet, and preparing an insert of 256 rows takes milliseconds.
        let (many, one) = (self.db.prepare_cached(&self.many_sql)?, self.db.prepare_cached(&self.one_sql)?);
        Ok(SqliteWriter { many, one })
    }

    async fn commit(self) -> Result<()> {
        self.db.execute_batch("COMMIT")?;
        Ok(())
    }
}

/// Two prepared inserts: of `ROWS_PER_INSERT` rows, and of one row for the rest.
pub(super) struct SqliteWriter<'a> {
    many: rusqlite::CachedStatement<'a>,
    one: rusqlite::CachedStatement<'a>,
}

impl ValueWriter for SqliteWriter<'_> {
    async fn write(&mut self, changes: &[(MetricRow, i64)], id: i64, at: &str) -> Result<()> {
        let mut groups = changes.chunks_exact(ROWS_PER_INSERT);
        for group in groups.by_ref() {
            bind_rows(&mut self.many, group, id, at)?;
            self.many.raw_execute()?;
        }
        for row in groups.remainder() {
            bind_rows(&mut self.one, std::slice::from_ref(row), id, at)?;
            self.one.raw_execute()?;
        }
        Ok(())
    }

    async fn finish(self) -> Result<()> {
        Ok(())
    }
}

/// Rows a statement: SQLite keeps its place in the table between the rows of one statement, so
/// that rows in key order are appended without a search from the root for each.
const ROWS_PER_INSERT: usize = 256;

const VALUE_COLUMNS: [&str; 10] = [
    "period_index",
    "org_code",
    "metric_id",
    "revision",
    "value",
    "comment",
    "submission_id",
    "submitted_at",
    "numerator",
    "denominator",
];

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
    rows: &[(MetricRow, i64)],
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

/// The current value of every (organisation, metric, quarter), in key order: every revision
/// read in primary-key order, each key's last one kept.
pub(super) async fn current_values(pool: &sqlx::AnyPool) -> Result<Vec<CurrentValue>> {
    let query = sqlx::query(
        "SELECT org_code, metric_id, period_index, value, revision, submitted_at, numerator, denominator FROM metric_values \
         ORDER BY period_index, org_code, metric_id, revision",
    );
    super::current_values_of(query.fetch(pool)).await
}

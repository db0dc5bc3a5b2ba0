//! Metric values: every revision kept, the current value of a key its highest revision.
//!
//! A submission's values are written by one pipeline (`drive`), the same on every backend: open
//! the submission, read each quarter's current values when the rows first reach it, give each
//! changed value its key's next revision, write, and settle (accepted, duplicate or rejected,
//! with its audit entry) once the rows end. Backends differ only behind `ValueBackend`, one
//! module each: SQLite writes through its own interface (`sqlite.rs`), PostgreSQL by `COPY` into
//! batches (`postgres.rs`). ARCHITECTURE.md says why each layout is what it is.

mod postgres;
mod sqlite;

use super::submissions::{INSERT_AUDIT, NewSubmission, Outcome, StoredValue, SubmissionKind};
use super::{Backend, Store};
pub use crate::domain::rows::CurrentValue;
use crate::domain::{Errors, MetricRow, Quarter, SubmissionStatus};
use anyhow::{Result, bail};
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeSet;

impl Store {
    /// Stores validated metric rows as one submission: each changed value becomes a new
    /// revision; a byte-identical resend stores nothing.
    pub async fn store_metric_rows(&self, sub: &NewSubmission, rows: Vec<MetricRow>) -> Result<Outcome> {
        let (sender, feed) = tokio::sync::mpsc::channel(2);
        let total = rows.len();
        sender.send(Feed::Rows(rows)).await?;
        sender.send(Feed::End { content_hash: sub.content_hash.clone(), rows: total, errors: Errors::new() }).await?;
        drop(sender);
        self.store_metric_feed(sub, feed).await
    }

    /// Stores a metric submission as it is validated: the rows arrive in chunks while the rest
    /// of the file is still being read, and are written inside the submission's transaction.
    /// The end of the feed says whether the file was valid: if not, everything written is
    /// rolled back and the rejection recorded; a file accepted before is recorded as a
    /// duplicate. `sub.content_hash` is taken from the end of the feed.
    pub async fn store_metric_feed(
        &self,
        sub: &NewSubmission,
        feed: tokio::sync::mpsc::Receiver<Feed>,
    ) -> Result<Outcome> {
        // Each backend's native bulk interface, on a connection of its own.
        let _guard = self.write_lock.clone().lock_owned().await;
        match self.backend {
            Backend::Sqlite => {
                let options: sqlx::sqlite::SqliteConnectOptions = self.url.parse()?;
                let (file, sub) = (options.get_filename().to_path_buf(), sub.clone());
                // rusqlite blocks: the pipeline runs on a blocking thread, waiting there for
                // the feed's chunks.
                let runtime = tokio::runtime::Handle::current();
                tokio::task::spawn_blocking(move || {
                    runtime.block_on(async { drive(sqlite::SqliteValues::open(&file)?, &sub, feed).await })
                })
                .await?
            }
            Backend::Postgres => drive(postgres::PgValues::connect(&self.url).await?, sub, feed).await,
        }
    }
}

impl Store {
    /// Every revision of one value, newest first: (period index, revision, value, comment, submission, time).
    pub async fn value_history(&self, org_code: &str, metric_id: &str) -> Result<Vec<ValueRevision>> {
        let rows = sqlx::query(
            "SELECT period_index, revision, value, comment, submission_id, submitted_at FROM metric_values \
             WHERE period_index IN (SELECT DISTINCT period_index FROM submission_quarters) AND org_code = $1 AND metric_id = $2 \
             ORDER BY period_index DESC, revision DESC",
        )
        .bind(org_code)
        .bind(metric_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(ValueRevision {
                    period: Quarter::from_index(r.try_get::<i64, _>(0)? as i32),
                    revision: r.try_get(1)?,
                    value: r.try_get(2)?,
                    comment: r.try_get(3)?,
                    submission_id: r.try_get(4)?,
                    submitted_at: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// The values one submission of `org_code` stored, by quarter and metric, each with the value
    /// it revised (the revision before it), if any.
    pub async fn submission_values(&self, id: i64, org_code: &str) -> Result<Vec<StoredValue>> {
        let rows = sqlx::query(
            "SELECT v.metric_id, v.period_index, v.revision, v.value, \
             (SELECT p.value FROM metric_values p WHERE p.org_code = v.org_code AND p.metric_id = v.metric_id \
              AND p.period_index = v.period_index AND p.revision = v.revision - 1) \
             FROM metric_values v WHERE v.org_code = $1 AND v.submission_id = $2 \
             AND v.period_index IN (SELECT period_index FROM submission_quarters WHERE submission_id = $2) \
             ORDER BY v.period_index, v.metric_id",
        )
        .bind(org_code)
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(StoredValue {
                    metric_id: r.try_get(0)?,
                    period: Quarter::from_index(r.try_get::<i64, _>(1)? as i32),
                    revision: r.try_get(2)?,
                    value: r.try_get(3)?,
                    previous: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Every revision of a trust's values that have been revised, by metric and quarter, newest first.
    pub async fn revised_values(&self, org_code: &str) -> Result<Vec<(String, ValueRevision)>> {
        let rows = sqlx::query(
            "SELECT v.metric_id, v.period_index, v.revision, v.value, v.comment, v.submission_id, v.submitted_at \
             FROM metric_values v WHERE v.period_index IN (SELECT DISTINCT period_index FROM submission_quarters) AND v.org_code = $1 \
             AND EXISTS (SELECT 1 FROM metric_values w WHERE w.period_index = v.period_index AND w.org_code = v.org_code \
             AND w.metric_id = v.metric_id AND w.revision > 1) \
             ORDER BY v.metric_id, v.period_index DESC, v.revision DESC",
        )
        .bind(org_code)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok((
                    r.try_get(0)?,
                    ValueRevision {
                        period: Quarter::from_index(r.try_get::<i64, _>(1)? as i32),
                        revision: r.try_get(2)?,
                        value: r.try_get(3)?,
                        comment: r.try_get(4)?,
                        submission_id: r.try_get(5)?,
                        submitted_at: r.try_get(6)?,
                    },
                ))
            })
            .collect()
    }

    /// The current value of every (organisation, metric, quarter).
    pub async fn current_values(&self) -> Result<Vec<CurrentValue>> {
        match self.backend {
            Backend::Sqlite => sqlite::current_values(&self.pool).await,
            Backend::Postgres => postgres::current_values(&self.url).await,
        }
    }

    /// The values as they stood at `cut`: each key's newest revision among those stored by
    /// submissions up to a data version, or by a moment. Nothing is ever overwritten, so this
    /// is exact.
    pub async fn values_at(&self, cut: &Cut) -> Result<Vec<CurrentValue>> {
        let (condition, bound) = match cut {
            Cut::Version(v) => ("submission_id <= $1", v.to_string()),
            Cut::Moment(t) => ("submitted_at <= $1", t.clone()),
        };
        let sql = format!(
            "SELECT org_code, metric_id, period_index, value, revision, submitted_at, numerator, denominator FROM metric_values \
             WHERE {condition} ORDER BY period_index, org_code, metric_id, revision"
        );
        let query = match cut {
            Cut::Version(v) => sqlx::query(sqlx::AssertSqlSafe(sql)).bind(*v),
            Cut::Moment(_) => sqlx::query(sqlx::AssertSqlSafe(sql)).bind(bound),
        };
        current_values_of(query.fetch(&self.pool)).await
    }

    /// The data version at `cut`: the latest accepted submission up to it (0 before any).
    pub async fn data_version_at(&self, cut: &Cut) -> Result<i64> {
        let v: Option<i64> = match cut {
            Cut::Version(v) => {
                sqlx::query_scalar("SELECT MAX(id) FROM submissions WHERE status = 'accepted' AND id <= $1")
                    .bind(*v)
                    .fetch_one(&self.pool)
                    .await?
            }
            Cut::Moment(t) => {
                sqlx::query_scalar("SELECT MAX(id) FROM submissions WHERE status = 'accepted' AND submitted_at <= $1")
                    .bind(t)
                    .fetch_one(&self.pool)
                    .await?
            }
        };
        Ok(v.unwrap_or(0))
    }

    /// What was accepted after data version `since` up to `until`: the current values those
    /// submissions stored, and which other kinds of submission there were.
    pub async fn changes_between(&self, since: i64, until: i64) -> Result<Changes> {
        let kinds: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT kind FROM submissions WHERE status = 'accepted' AND id > $1 AND id <= $2",
        )
        .bind(since)
        .bind(until)
        .fetch_all(&self.pool)
        .await?;
        let any = |kind: SubmissionKind| kinds.iter().any(|k| k == kind.as_str());
        let query = sqlx::query(
            "SELECT org_code, metric_id, period_index, value, revision, submitted_at, numerator, denominator FROM current_values \
             WHERE period_index IN (SELECT period_index FROM submission_quarters WHERE submission_id > $1 AND submission_id <= $2) \
             AND submission_id > $1 AND submission_id <= $2",
        );
        let values = current_values_of(query.bind(since).bind(until).fetch(&self.pool)).await?;
        Ok(Changes {
            values,
            organisations: any(SubmissionKind::Organisations),
            targets: any(SubmissionKind::Targets),
            conformance: any(SubmissionKind::Conformance),
        })
    }
}

/// A point in the revision history: a data version (what a release holds), or a moment
/// (`as_of`, an ISO 8601 UTC time as the store writes them: `2026-10-01T12:00:00Z`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cut {
    Version(i64),
    Moment(String),
}

/// Current values from a stream of rows, one row at a time (at national scale the rows would
/// not fit beside the values), with one shared copy of each code and timestamp. Rows of the same
/// key in a run are revisions in ascending order: the last one is kept.
async fn current_values_of(
    mut rows: futures_util::stream::BoxStream<'_, Result<sqlx::any::AnyRow, sqlx::Error>>,
) -> Result<Vec<CurrentValue>> {
    use futures_util::TryStreamExt;
    let mut intern = Interner::default();
    let mut values = Vec::new();
    while let Some(r) = rows.try_next().await? {
        let period = Quarter::from_index(r.try_get::<i64, _>(2)? as i32);
        let (org, metric) = (r.try_get_unchecked::<&str, _>(0)?, r.try_get_unchecked::<&str, _>(1)?);
        let same_key = |v: &CurrentValue| v.period == period && &*v.org_code == org && &*v.metric_id == metric;
        if values.last().is_some_and(same_key) {
            values.pop();
        }
        values.push(CurrentValue {
            org_code: intern.get(org),
            metric_id: intern.get(metric),
            period,
            value: r.try_get(3)?,
            revision: r.try_get(4)?,
            submitted_at: intern.get(r.try_get_unchecked::<&str, _>(5)?),
            counts: crate::domain::Counts::of(r.try_get(6)?, r.try_get(7)?),
        });
    }
    Ok(values)
}

/// One shared copy of each code and timestamp among the values read.
#[derive(Default)]
pub(super) struct Interner(foldhash::HashSet<crate::domain::Text>);

impl Interner {
    pub(super) fn get(&mut self, text: &str) -> crate::domain::Text {
        match self.0.get(text) {
            Some(t) => t.clone(),
            None => {
                let t: crate::domain::Text = text.into();
                self.0.insert(t.clone());
                t
            }
        }
    }
}

/// What a streamed metric submission hands the store: valid rows in chunks, then the end of
/// the file with its content hash, its number of data rows and every problem found.
#[derive(Debug)]
pub enum Feed {
    Rows(Vec<MetricRow>),
    End { content_hash: String, rows: usize, errors: Errors },
}

/// A quarter's current values, for the revision bookkeeping.
const CURRENT_OF_QUARTER: &str =
    "SELECT org_code, metric_id, value, revision, numerator, denominator FROM current_values WHERE period_index = $1";
/// A quarter's current value as a submission's bookkeeping reads it: (organisation, metric,
/// value, revision, numerator, denominator).
type Current = (String, String, f64, i64, Option<i64>, Option<i64>);
/// Records that submission `$1` stores values in quarter `$2` (see `changes_between`).
const ADD_SUBMISSION_QUARTER: &str =
    "INSERT INTO submission_quarters (submission_id, period_index) VALUES ($1, $2) ON CONFLICT DO NOTHING";
/// The earliest accepted submission of the same kind and content, other than `$3`.
const EARLIER_SAME: &str =
    "SELECT MIN(id) FROM submissions WHERE kind = $1 AND content_hash = $2 AND status = 'accepted' AND id <> $3";
/// Settles a submission once its rows have been read to the end.
const SETTLE: &str = "UPDATE submissions SET status = $1, content_hash = $2, rows_total = $3, rows_stored = $4, errors = $5 \
     WHERE id = $6";

/// What differs between the backends when a submission's values are written: a connection of
/// its own holding one transaction, the statements above run on it, and a bulk writer. Every
/// step and decision is `drive`'s.
trait ValueBackend {
    /// Writes changed values between two reads of a quarter's current values.
    type Writer<'a>: ValueWriter
    where
        Self: 'a;
    /// Begins the transaction (holding the writers' lock), inserts the submission (`$1`…`$11`
    /// of `INSERT_SUBMISSION`) and answers its id; then opens a savepoint for the values.
    async fn open(&mut self, submission: &[Param<'_>; 11]) -> Result<i64>;
    /// Runs a statement that answers nothing.
    async fn execute(&mut self, sql: &'static str, params: &[Param<'_>]) -> Result<()>;
    /// Runs `EARLIER_SAME`.
    async fn earlier_same(&mut self, kind: &str, content_hash: &str, id: i64) -> Result<Option<i64>>;
    /// Runs `CURRENT_OF_QUARTER`.
    async fn current_of_quarter(&mut self, period: Quarter) -> Result<Vec<Current>>;
    /// Keeps the values written since `open` (`true`) or undoes them.
    async fn end_values(&mut self, keep: bool) -> Result<()>;
    async fn writer(&mut self) -> Result<Self::Writer<'_>>;
    async fn commit(self) -> Result<()>;
}

/// A bulk writer of changed values: each (row, its revision) of submission `id`, at `at`.
trait ValueWriter {
    async fn write(&mut self, changes: &[(MetricRow, i64)], id: i64, at: &str) -> Result<()>;
    async fn finish(self) -> Result<()>;
}

/// A statement's parameter.
#[derive(Debug, Clone, Copy)]
enum Param<'a> {
    Int(i64),
    Text(&'a str),
    OptText(Option<&'a str>),
}

/// One submission's values, from the first chunk of rows to the settled submission: the one
/// pipeline of every metric submission on every backend.
async fn drive<B: ValueBackend>(
    mut backend: B,
    sub: &NewSubmission,
    feed: tokio::sync::mpsc::Receiver<Feed>,
) -> Result<Outcome> {
    use Param::{Int, OptText, Text};
    let (kind, at) = (sub.kind.as_str(), super::now_text());
    let id = backend
        .open(&[
            Text(kind),
            Text(SubmissionStatus::Accepted.as_str()),
            Text(&sub.content_hash),
            Text(&sub.submitted_by),
            Text(&at),
            Text(&sub.source),
            OptText(sub.filename.as_deref()),
            Int(0),
            Int(0),
            Text("[]"),
            OptText(sub.org_code.as_deref()),
        ])
        .await?;
    let span = tracing::info_span!("values", submission_id = id);
    tracing::Instrument::instrument(rows_and_settlement(backend, sub, feed, id, at), span).await
}

/// `drive` once the submission is open, as submission `id`.
async fn rows_and_settlement<B: ValueBackend>(
    mut backend: B,
    sub: &NewSubmission,
    mut feed: tokio::sync::mpsc::Receiver<Feed>,
    id: i64,
    at: String,
) -> Result<Outcome> {
    use Param::{Int, Text};
    let kind = sub.kind.as_str();
    let mut revisions = Revisions::new();
    // One bulk write runs for as long as the chunks keep to the quarters already read (on
    // PostgreSQL, one COPY), so that the database stores one chunk while the next is validated.
    let mut pending: Option<Vec<MetricRow>> = None;
    let (content_hash, total, errors) = loop {
        let mut rows = match pending.take() {
            Some(rows) => rows,
            None => match feed.recv().await {
                Some(Feed::Rows(rows)) => rows,
                Some(Feed::End { content_hash, rows, errors }) => break (content_hash, rows, errors),
                None => bail!("the submission's rows stopped before the end of the file"),
            },
        };
        for period in revisions.missing(&rows) {
            let found = backend.current_of_quarter(period).await?;
            revisions.add_quarter(period, found);
            backend.execute(ADD_SUBMISSION_QUARTER, &[Int(id), Int(i64::from(period.index()))]).await?;
        }
        let mut writer = backend.writer().await?;
        let end = loop {
            writer.write(&revisions.changes(rows), id, &at).await?;
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
        writer.finish().await?;
        if let Some(end) = end {
            break end;
        }
    };
    let original = backend.earlier_same(kind, &content_hash, id).await?;
    let end = Settlement::new(id, total, errors, original, &revisions);
    backend.end_values(end.keeps_values()).await?;
    let stored = if end.keeps_values() { revisions.stored } else { 0 };
    let row = [
        Text(end.status.as_str()),
        Text(&content_hash),
        Int(total as i64),
        Int(stored as i64),
        Text(&end.errors),
        Int(id),
    ];
    backend.execute(SETTLE, &row).await?;
    let settled_at = super::now_text();
    let audit = [Text(&settled_at), Text(&sub.submitted_by), Text(end.action), Text(kind), Int(id), Text(&end.detail)];
    backend.execute(INSERT_AUDIT, &audit).await?;
    backend.commit().await?;
    tracing::info!(submission_id = id, status = end.status.as_str(), rows = total, stored, "values settled");
    Ok(end.outcome)
}

/// One quarter's current values: (organisation, metric) → (value, counts, revision).
type QuarterValues = foldhash::HashMap<(u32, u32), (f64, Option<crate::domain::Counts>, i64)>;

/// One submission's revision bookkeeping, a chunk at a time: which rows change a value, and
/// each one's revision. Each quarter's current values are read (by `drive`, see `missing`)
/// when the submission first reaches it, keyed by small numbers given to the codes, so that what
/// it holds grows with the quarters the submission touches, not with its length.
struct Revisions {
    codes: foldhash::HashMap<String, u32>,
    /// Per quarter: (organisation, metric) → (current value, its counts, its revision).
    current: std::collections::BTreeMap<Quarter, QuarterValues>,
    stored: usize,
}

impl Revisions {
    fn new() -> Self {
        Self { codes: Default::default(), current: Default::default(), stored: 0 }
    }

    fn code(&mut self, text: &str) -> u32 {
        if let Some(n) = self.codes.get(text) {
            return *n;
        }
        let n = self.codes.len() as u32;
        self.codes.insert(text.to_string(), n);
        n
    }

    /// The quarters of `rows` whose current values have not been read yet.
    fn missing(&self, rows: &[MetricRow]) -> BTreeSet<Quarter> {
        rows.iter().map(|r| r.period).filter(|p| !self.current.contains_key(p)).collect()
    }

    /// Adds quarter `period`'s current values.
    fn add_quarter(&mut self, period: Quarter, found: Vec<Current>) {
        let mut values = foldhash::HashMap::default();
        for (org, metric, value, revision, numerator, denominator) in found {
            let counts = crate::domain::Counts::of(numerator, denominator);
            values.insert((self.code(&org), self.code(&metric)), (value, counts, revision));
        }
        self.current.insert(period, values);
    }

    /// The rows that change a value, each with its key's next revision, in key order (so that
    /// each quarter's part of the table grows at one end). Every quarter must have been added.
    fn changes(&mut self, rows: Vec<MetricRow>) -> Vec<(MetricRow, i64)> {
        let mut changed = Vec::with_capacity(rows.len());
        for row in rows {
            let key = (self.code(&row.org_code), self.code(&row.metric_id));
            let revision = match self.current[&row.period].get(&key) {
                Some((value, counts, _)) if *value == row.value && *counts == row.counts => continue,
                Some((_, _, revision)) => revision + 1,
                None => 1,
            };
            changed.push((row, revision));
        }
        changed.sort_by(|(a, _), (b, _)| {
            (a.period, &a.org_code, &a.metric_id).cmp(&(b.period, &b.org_code, &b.metric_id))
        });
        self.stored += changed.len();
        changed
    }

    /// The acceptance's audit detail.
    fn detail(&self, rows: usize) -> String {
        let quarters: Vec<String> = self.current.keys().map(Quarter::to_string).collect();
        format!("{rows} rows, {} new revisions, quarters {}", self.stored, quarters.join(" "))
    }
}

/// How a submission ends, once its rows have been read to the end: what its row and audit entry
/// record, and the answer.
struct Settlement {
    /// `accepted`, `rejected` or `duplicate`; only an accepted one keeps its values.
    status: SubmissionStatus,
    action: &'static str,
    detail: String,
    /// The errors as the submission's row stores them.
    errors: String,
    outcome: Outcome,
}

impl Settlement {
    /// `errors` found in the rows; `original`, an earlier accepted submission of the same content.
    fn new(id: i64, rows: usize, errors: Errors, original: Option<i64>, revisions: &Revisions) -> Self {
        let errors_text = errors.to_stored();
        match original {
            _ if !errors.is_empty() => Self {
                status: SubmissionStatus::Rejected,
                action: "submission.reject",
                detail: super::submissions::rejection_detail(&errors),
                errors: errors_text,
                outcome: Outcome::Rejected { submission_id: id, rows, errors },
            },
            Some(original) => Self {
                status: SubmissionStatus::Duplicate,
                action: "submission.duplicate",
                detail: super::submissions::duplicate_detail(original),
                errors: errors_text,
                outcome: Outcome::Duplicate { submission_id: id, rows, original },
            },
            None => {
                let stored = revisions.stored;
                Self {
                    status: SubmissionStatus::Accepted,
                    action: "submission.accept",
                    detail: revisions.detail(rows),
                    errors: errors_text,
                    outcome: Outcome::Accepted { submission_id: id, rows, stored, unchanged: rows - stored },
                }
            }
        }
    }

    fn keeps_values(&self) -> bool {
        self.status == SubmissionStatus::Accepted
    }
}

/// See `Store::changes_between`.
#[derive(Debug, Default)]
pub struct Changes {
    pub values: Vec<CurrentValue>,
    /// Whether any of the submissions changed the organisations, the targets, the conformance
    /// results.
    pub organisations: bool,
    pub targets: bool,
    pub conformance: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ValueRevision {
    pub period: Quarter,
    pub revision: i64,
    pub value: f64,
    pub comment: Option<String>,
    pub submission_id: i64,
    pub submitted_at: String,
}

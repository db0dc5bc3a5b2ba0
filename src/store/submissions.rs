//! Submissions: all-or-nothing storage of metric values as revisions, duplicates recognised by
//! content hash, rejections recorded with every error, each write in the audit log.

use super::Store;
use super::batch::{Cell, insert};
use crate::domain::Errors;
use crate::domain::MetricRow;
use crate::domain::Quarter;
use crate::domain::SubmissionStatus;
use anyhow::Result;
use serde::Serialize;
use sqlx::Row;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionKind {
    Metrics,
    Targets,
    Conformance,
    Organisations,
}

impl SubmissionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionKind::Metrics => "metrics",
            SubmissionKind::Targets => "targets",
            SubmissionKind::Conformance => "conformance",
            SubmissionKind::Organisations => "organisations",
        }
    }
}

/// Who sent what, and how.
#[derive(Debug, Clone)]
pub struct NewSubmission {
    pub kind: SubmissionKind,
    pub content_hash: String,
    pub submitted_by: String,
    /// `cli`, `web`, `api` or `demo`.
    pub source: String,
    pub filename: Option<String>,
    /// The trust of a trust submitter; `None` for the other roles and the command line.
    pub org_code: Option<String>,
}

impl NewSubmission {
    /// A submission of `kind` by `actor`.
    pub fn by(
        actor: &crate::domain::Actor,
        kind: SubmissionKind,
        content_hash: String,
        filename: Option<String>,
    ) -> Self {
        Self {
            kind,
            content_hash,
            submitted_by: actor.name.clone(),
            source: actor.channel.as_str().into(),
            filename,
            org_code: actor.own_org.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Stored: `stored` new revisions, `unchanged` rows equal to the current value.
    Accepted { submission_id: i64, rows: usize, stored: usize, unchanged: usize },
    /// Byte-identical to accepted submission `original`: nothing stored.
    Duplicate { submission_id: i64, rows: usize, original: i64 },
    /// Nothing stored; every problem listed.
    Rejected {
        submission_id: i64,
        rows: usize,
        #[serde(flatten)]
        errors: Errors,
    },
}

/// A value one submission stored, and the value it revised.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredValue {
    pub metric_id: String,
    pub period: Quarter,
    pub revision: i64,
    pub value: f64,
    pub previous: Option<f64>,
}

/// A submission as listed in its history.
#[derive(Debug, Clone, Serialize)]
pub struct SubmissionRecord {
    pub id: i64,
    pub kind: String,
    pub status: crate::domain::SubmissionStatus,
    pub submitted_by: String,
    pub submitted_at: String,
    pub source: String,
    pub filename: Option<String>,
    pub rows_total: i64,
    pub rows_stored: i64,
    pub errors: Errors,
    pub org_code: Option<String>,
}

/// The writers' lock, the open write transaction and the new submission's id.
pub(super) type Opened = (tokio::sync::OwnedMutexGuard<()>, sqlx::Transaction<'static, sqlx::Any>, i64);

impl Store {
    /// Takes the writers' lock and records the submission as accepted; or, when the same content
    /// was accepted before, records (and commits) a duplicate and answers with its outcome.
    pub(super) async fn open_submission(&self, sub: &NewSubmission, rows: usize) -> Result<Result<Opened, Outcome>> {
        let (guard, mut tx) = self.write().await?;
        let original: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(id) FROM submissions WHERE kind = $1 AND content_hash = $2 AND status = 'accepted'",
        )
        .bind(sub.kind.as_str())
        .bind(&sub.content_hash)
        .fetch_one(&mut *tx)
        .await?;
        if let Some(original) = original {
            let id = insert_submission(&mut tx, sub, SubmissionStatus::Duplicate, rows, 0, &Errors::new()).await?;
            audit_duplicate(&mut tx, sub, id, original).await?;
            tx.commit().await?;
            return Ok(Err(Outcome::Duplicate { submission_id: id, rows, original }));
        }
        let id = insert_submission(&mut tx, sub, SubmissionStatus::Accepted, rows, 0, &Errors::new()).await?;
        Ok(Ok((guard, tx, id)))
    }

    /// Records a rejected submission and its errors; no value is stored.
    pub async fn record_rejection(&self, sub: &NewSubmission, rows: usize, errors: Errors) -> Result<Outcome> {
        let mut tx = self.begin_write().await?;
        let id = insert_submission(&mut tx, sub, SubmissionStatus::Rejected, rows, 0, &errors).await?;
        audit_rejection(&mut tx, sub, id, &errors).await?;
        tx.commit().await?;
        Ok(Outcome::Rejected { submission_id: id, rows, errors })
    }

    /// Stores validated metric rows as one submission: each changed value becomes a new
    /// revision; a byte-identical resend stores nothing.
    pub async fn store_metric_rows(&self, sub: &NewSubmission, rows: Vec<MetricRow>) -> Result<Outcome> {
        let total = rows.len();
        let (_guard, mut tx, id) = match self.open_submission(sub, total).await? {
            Ok(opened) => opened,
            Err(duplicate) => return Ok(duplicate),
        };
        let mut writer = ValueWriter::new(id);
        writer.write(&mut tx, rows).await?;
        close_submission(tx, sub, id, total, writer.revisions.stored, &writer.revisions.detail(total)).await
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
            super::Backend::Sqlite => {
                let options: sqlx::sqlite::SqliteConnectOptions = self.url.parse()?;
                let (file, sub) = (options.get_filename().to_path_buf(), sub.clone());
                tokio::task::spawn_blocking(move || super::sqlite_feed::store_feed(&file, &sub, feed)).await?
            }
            super::Backend::Postgres => super::postgres_feed::store_feed(&self.url, sub, feed).await,
        }
    }

    /// The newest submissions, of one trust's submitters when `org_code` is given.
    pub async fn submissions(&self, org_code: Option<&str>, limit: i64) -> Result<Vec<SubmissionRecord>> {
        let rows = sqlx::query(
            "SELECT id, kind, status, submitted_by, submitted_at, source, filename, rows_total, rows_stored, errors, org_code \
             FROM submissions WHERE ($1 IS NULL OR org_code = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(org_code)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(record_from).collect()
    }

    pub async fn submission(&self, id: i64) -> Result<Option<SubmissionRecord>> {
        let row = sqlx::query(
            "SELECT id, kind, status, submitted_by, submitted_at, source, filename, rows_total, rows_stored, errors, org_code \
             FROM submissions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(record_from).transpose()
    }
}

fn record_from(r: &sqlx::any::AnyRow) -> Result<SubmissionRecord> {
    Ok(SubmissionRecord {
        id: r.try_get(0)?,
        kind: r.try_get(1)?,
        status: r.try_get::<String, _>(2)?.parse().map_err(anyhow::Error::msg)?,
        submitted_by: r.try_get(3)?,
        submitted_at: r.try_get(4)?,
        source: r.try_get(5)?,
        filename: r.try_get(6)?,
        rows_total: r.try_get(7)?,
        rows_stored: r.try_get(8)?,
        errors: Errors::from_stored(&r.try_get::<String, _>(9)?)?,
        org_code: r.try_get(10)?,
    })
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
        if self.backend == super::Backend::Postgres {
            return super::postgres_values::current_values(&self.url).await;
        }
        // In key order, each key's revisions in a run with the current (highest) one last.
        let query = sqlx::query(
            "SELECT org_code, metric_id, period_index, value, revision, submitted_at, numerator, denominator FROM metric_values \
             ORDER BY period_index, org_code, metric_id, revision",
        );
        current_values_of(query.fetch(&self.pool)).await
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
        let period_index = r.try_get::<i64, _>(2)? as i32;
        let (org, metric) = (r.try_get_unchecked::<&str, _>(0)?, r.try_get_unchecked::<&str, _>(1)?);
        let same_key =
            |v: &CurrentValue| v.period_index == period_index && &*v.org_code == org && &*v.metric_id == metric;
        if values.last().is_some_and(same_key) {
            values.pop();
        }
        values.push(CurrentValue {
            org_code: intern.get(org),
            metric_id: intern.get(metric),
            period_index,
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
pub(super) const CURRENT_OF_QUARTER: &str =
    "SELECT org_code, metric_id, value, revision, numerator, denominator FROM current_values WHERE period_index = $1";
/// A quarter's current value as a submission's bookkeeping reads it: (organisation, metric,
/// value, revision, numerator, denominator).
pub(super) type Current = (String, String, f64, i64, Option<i64>, Option<i64>);
/// Records that submission `$1` stores values in quarter `$2` (see `changes_between`).
pub(super) const ADD_SUBMISSION_QUARTER: &str =
    "INSERT INTO submission_quarters (submission_id, period_index) VALUES ($1, $2) ON CONFLICT DO NOTHING";
pub(super) const VALUE_COLUMNS: [&str; 10] = [
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
/// The earliest accepted submission of the same kind and content, other than `$3`.
pub(super) const EARLIER_SAME: &str =
    "SELECT MIN(id) FROM submissions WHERE kind = $1 AND content_hash = $2 AND status = 'accepted' AND id <> $3";
/// Settles a streamed submission once its file has been read to the end.
pub(super) const SETTLE: &str =
    "UPDATE submissions SET status = $1, content_hash = $2, rows_total = $3, errors = $4 WHERE id = $5";
pub(super) const SET_STORED: &str = "UPDATE submissions SET rows_stored = $1 WHERE id = $2";
pub(super) const INSERT_SUBMISSION: &str = "INSERT INTO submissions (kind, status, content_hash, submitted_by, submitted_at, source, filename, rows_total, rows_stored, errors, org_code) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id";
pub(super) const INSERT_AUDIT: &str =
    "INSERT INTO audit_log (at, actor, action, subject, submission_id, detail) VALUES ($1, $2, $3, $4, $5, $6)";

/// One quarter's current values: (organisation, metric) → (value, revision).
type QuarterValues = foldhash::HashMap<(u32, u32), (f64, Option<crate::domain::Counts>, i64)>;

/// One submission's revision bookkeeping, a chunk at a time: which rows change a value, and
/// each one's revision. Each quarter's current values are read (by the caller, see `missing`)
/// when the submission first reaches it, keyed by small numbers given to the codes, so that what
/// it holds grows with the quarters the submission touches, not with its length.
pub(super) struct Revisions {
    codes: foldhash::HashMap<String, u32>,
    /// Per quarter: (organisation, metric) → (current value, its counts, its revision).
    current: std::collections::BTreeMap<i32, QuarterValues>,
    pub(super) stored: usize,
}

impl Revisions {
    pub(super) fn new() -> Self {
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
    pub(super) fn missing(&self, rows: &[MetricRow]) -> BTreeSet<i32> {
        rows.iter().map(|r| r.period.index()).filter(|p| !self.current.contains_key(p)).collect()
    }

    /// Adds quarter `period`'s current values.
    pub(super) fn add_quarter(&mut self, period: i32, found: Vec<Current>) {
        let mut values = foldhash::HashMap::default();
        for (org, metric, value, revision, numerator, denominator) in found {
            let counts = crate::domain::Counts::of(numerator, denominator);
            values.insert((self.code(&org), self.code(&metric)), (value, counts, revision));
        }
        self.current.insert(period, values);
    }

    /// The rows that change a value, each with its key's next revision, in key order (so that
    /// each quarter's part of the table grows at one end). Every quarter must have been added.
    pub(super) fn changes(&mut self, rows: Vec<MetricRow>) -> Vec<(MetricRow, i64)> {
        let mut changed = Vec::with_capacity(rows.len());
        for row in rows {
            let key = (self.code(&row.org_code), self.code(&row.metric_id));
            let revision = match self.current[&row.period.index()].get(&key) {
                Some((value, counts, _)) if *value == row.value && *counts == row.counts => continue,
                Some((_, _, revision)) => revision + 1,
                None => 1,
            };
            changed.push((row, revision));
        }
        changed.sort_by(|(a, _), (b, _)| {
            (a.period.index(), &a.org_code, &a.metric_id).cmp(&(b.period.index(), &b.org_code, &b.metric_id))
        });
        self.stored += changed.len();
        changed
    }

    /// The acceptance's audit detail.
    pub(super) fn detail(&self, rows: usize) -> String {
        let quarters: Vec<String> = self.current.keys().map(|p| Quarter::from_index(*p).to_string()).collect();
        format!("{rows} rows, {} new revisions, quarters {}", self.stored, quarters.join(" "))
    }
}

/// How a streamed submission ends, once its file has been read to the end: what its row and
/// audit entry record, and the answer. The same on every backend.
pub(super) struct Settlement {
    /// `accepted`, `rejected` or `duplicate`; only an accepted one keeps its values.
    pub(super) status: SubmissionStatus,
    pub(super) action: &'static str,
    pub(super) detail: String,
    /// The errors as the submission's row stores them.
    pub(super) errors: String,
    pub(super) outcome: Outcome,
}

impl Settlement {
    /// `errors` found in the file; `original`, an earlier accepted submission of the same content.
    pub(super) fn new(
        id: i64,
        rows: usize,
        errors: Errors,
        original: Option<i64>,
        revisions: &Revisions,
    ) -> Result<Self> {
        let errors_text = errors.to_stored();
        Ok(match original {
            _ if !errors.is_empty() => Self {
                status: SubmissionStatus::Rejected,
                action: "submission.reject",
                detail: rejection_detail(&errors),
                errors: errors_text,
                outcome: Outcome::Rejected { submission_id: id, rows, errors },
            },
            Some(original) => Self {
                status: SubmissionStatus::Duplicate,
                action: "submission.duplicate",
                detail: duplicate_detail(original),
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
        })
    }

    pub(super) fn keeps_values(&self) -> bool {
        self.status == SubmissionStatus::Accepted
    }
}

/// Writes one submission's values through sqlx, a chunk at a time (see `Revisions`).
struct ValueWriter {
    submission_id: i64,
    submitted_at: String,
    revisions: Revisions,
}

impl ValueWriter {
    fn new(submission_id: i64) -> Self {
        Self { submission_id, submitted_at: super::now_text(), revisions: Revisions::new() }
    }

    /// Stores the rows that change a value, each as its key's next revision.
    async fn write(&mut self, conn: &mut sqlx::AnyConnection, rows: Vec<MetricRow>) -> Result<()> {
        for p in self.revisions.missing(&rows) {
            let found = sqlx::query_as(CURRENT_OF_QUARTER).bind(i64::from(p)).fetch_all(&mut *conn).await?;
            self.revisions.add_quarter(p, found);
            sqlx::query(ADD_SUBMISSION_QUARTER).bind(self.submission_id).bind(i64::from(p)).execute(&mut *conn).await?;
        }
        let changed = self.revisions.changes(rows);
        let (id, at) = (self.submission_id, self.submitted_at.clone());
        insert(
            conn,
            "metric_values",
            &VALUE_COLUMNS,
            changed.into_iter().map(|(r, rev)| {
                vec![
                    Cell::Int(i64::from(r.period.index())),
                    Cell::Text(r.org_code),
                    Cell::Text(r.metric_id),
                    Cell::Int(rev),
                    Cell::Float(r.value),
                    Cell::OptText(r.comment),
                    Cell::Int(id),
                    Cell::Text(at.clone()),
                    Cell::OptInt(crate::domain::Counts::numerator(r.counts)),
                    Cell::OptInt(crate::domain::Counts::denominator(r.counts)),
                ]
            }),
            "",
        )
        .await
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

pub use crate::domain::rows::CurrentValue;

/// Records how many rows were stored, audits the acceptance, commits, and answers.
pub(super) async fn close_submission(
    mut tx: sqlx::Transaction<'_, sqlx::Any>,
    sub: &NewSubmission,
    id: i64,
    rows: usize,
    stored: usize,
    detail: &str,
) -> Result<Outcome> {
    sqlx::query(SET_STORED).bind(stored as i64).bind(id).execute(&mut *tx).await?;
    audit(&mut tx, &sub.submitted_by, "submission.accept", sub.kind.as_str(), Some(id), detail).await?;
    tx.commit().await?;
    Ok(Outcome::Accepted { submission_id: id, rows, stored, unchanged: rows - stored })
}

pub(super) async fn insert_submission(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    sub: &NewSubmission,
    status: SubmissionStatus,
    rows: usize,
    stored: usize,
    errors: &Errors,
) -> Result<i64> {
    Ok(sqlx::query_scalar(INSERT_SUBMISSION)
        .bind(sub.kind.as_str())
        .bind(status.as_str())
        .bind(&sub.content_hash)
        .bind(&sub.submitted_by)
        .bind(super::now_text())
        .bind(&sub.source)
        .bind(sub.filename.clone())
        .bind(rows as i64)
        .bind(stored as i64)
        .bind(errors.to_stored())
        .bind(sub.org_code.clone())
        .fetch_one(&mut **tx)
        .await?)
}

fn rejection_detail(errors: &Errors) -> String {
    format!("{} errors", errors.total())
}

fn duplicate_detail(original: i64) -> String {
    format!("same content as submission {original}")
}

async fn audit_rejection(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    sub: &NewSubmission,
    id: i64,
    errors: &Errors,
) -> Result<()> {
    let detail = rejection_detail(errors);
    audit(tx, &sub.submitted_by, "submission.reject", sub.kind.as_str(), Some(id), &detail).await
}

async fn audit_duplicate(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    sub: &NewSubmission,
    id: i64,
    original: i64,
) -> Result<()> {
    let detail = duplicate_detail(original);
    audit(tx, &sub.submitted_by, "submission.duplicate", sub.kind.as_str(), Some(id), &detail).await
}

/// Appends one entry to the audit log, with where the actor came from.
pub(super) async fn audit_from(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    actor: &super::accounts::Actor,
    action: &str,
    subject: &str,
    submission_id: Option<i64>,
    detail: &str,
) -> Result<()> {
    sqlx::query("INSERT INTO audit_log (at, actor, action, subject, submission_id, detail, origin) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(super::now_text())
        .bind(&actor.name)
        .bind(action)
        .bind(subject)
        .bind(submission_id)
        .bind(detail)
        .bind(actor.origin.clone())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Appends one entry to the audit log.
pub(super) async fn audit(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    actor: &str,
    action: &str,
    subject: &str,
    submission_id: Option<i64>,
    detail: &str,
) -> Result<()> {
    sqlx::query(INSERT_AUDIT)
        .bind(super::now_text())
        .bind(actor)
        .bind(action)
        .bind(subject)
        .bind(submission_id)
        .bind(detail)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

//! Submissions: all-or-nothing storage of metric values as revisions, duplicates recognised by
//! content hash, rejections recorded with every error, each write in the audit log.

use super::Store;
use crate::domain::Errors;
use crate::domain::Quarter;
use crate::domain::SubmissionStatus;
use anyhow::Result;
use serde::Serialize;
use sqlx::Row;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SubmissionKind {
    Metrics,
    Targets,
    Conformance,
    Organisations,
    /// NHS App uptake counts (docs/RULES.md §9).
    Uptake,
}

impl SubmissionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SubmissionKind::Metrics => "metrics",
            SubmissionKind::Targets => "targets",
            SubmissionKind::Conformance => "conformance",
            SubmissionKind::Organisations => "organisations",
            SubmissionKind::Uptake => "uptake",
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

pub(crate) const INSERT_SUBMISSION: &str = "INSERT INTO submissions (kind, status, content_hash, submitted_by, submitted_at, source, filename, rows_total, rows_stored, errors, org_code) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id";
pub(crate) const INSERT_AUDIT: &str =
    "INSERT INTO audit_log (at, actor, action, subject, submission_id, detail) VALUES ($1, $2, $3, $4, $5, $6)";
const SET_STORED: &str = "UPDATE submissions SET rows_stored = $1 WHERE id = $2";

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

pub(super) fn rejection_detail(errors: &Errors) -> String {
    format!("{} errors", errors.total())
}

pub(super) fn duplicate_detail(original: i64) -> String {
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

//! The board's findings: recorded, their status moved on, never deleted; each change audited.

use super::submissions::audit_from;
use super::{Actor, Store, now_text};
use anyhow::{Result, bail};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    pub id: i64,
    /// `metric`, `domain` or `trust`.
    pub subject_kind: String,
    pub subject: String,
    pub title: String,
    pub body: String,
    /// `open`, `accepted` or `done`.
    pub status: String,
    pub owner: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    /// The quarter the finding looked at (`2026-Q3`), empty if not recorded.
    pub period: String,
    /// The figures it was based on: a release id, or `data version N` for provisional figures.
    pub based_on: String,
    /// When it is due (`2027-03-31`), empty if no date was set.
    pub due_on: String,
    /// Every status it has had, oldest first.
    pub history: Vec<FindingChange>,
    /// The blueprints it points to, by id.
    pub blueprints: Vec<i64>,
}

impl Finding {
    /// Still to act on: neither done nor declined.
    pub fn is_live(&self) -> bool {
        !matches!(self.status.as_str(), "done" | "declined")
    }

    /// Live and past its due date on `today`.
    pub fn is_overdue(&self, today: chrono::NaiveDate) -> bool {
        self.is_live() && chrono::NaiveDate::parse_from_str(&self.due_on, "%Y-%m-%d").is_ok_and(|d| d < today)
    }
}

/// One change of a finding's status.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FindingChange {
    pub status: String,
    pub note: String,
    pub changed_by: String,
    pub changed_at: String,
}

pub const FINDING_STATUSES: [&str; 5] = ["open", "accepted", "in_progress", "done", "declined"];

/// A status in words.
pub fn status_label(status: &str) -> &'static str {
    match status {
        "open" => "Open",
        "accepted" => "Accepted",
        "in_progress" => "In progress",
        "done" => "Done",
        "declined" => "Declined",
        _ => "Unknown",
    }
}
pub const FINDING_SUBJECTS: [&str; 3] = ["metric", "domain", "trust"];

/// A finding to record.
#[derive(Debug, Clone)]
pub struct NewFinding {
    pub subject_kind: String,
    pub subject: String,
    pub title: String,
    pub body: String,
    pub owner: String,
    pub period: String,
    pub based_on: String,
    /// `YYYY-MM-DD`, or empty.
    pub due_on: String,
    /// Blueprint ids.
    pub blueprints: Vec<i64>,
}

impl Store {
    pub async fn add_finding(&self, f: &NewFinding, by: &Actor) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let now = now_text();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO findings (subject_kind, subject, title, body, status, owner, created_by, created_at, updated_at, \
             period, based_on, due_on, blueprints) VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $7, $8, $9, $10, $11) \
             RETURNING id",
        )
        .bind(&f.subject_kind)
        .bind(&f.subject)
        .bind(&f.title)
        .bind(&f.body)
        .bind(&f.owner)
        .bind(&by.name)
        .bind(&now)
        .bind(&f.period)
        .bind(&f.based_on)
        .bind(&f.due_on)
        .bind(f.blueprints.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
        .fetch_one(&mut *tx)
        .await?;
        record_change(&mut tx, id, "open", "recorded", &by.name, &now).await?;
        audit_from(
            &mut tx,
            by,
            "finding.add",
            &format!("{} {}", f.subject_kind, f.subject),
            None,
            &format!("finding {id}: {}", f.title),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Moves a finding to `status`, with a note of why, kept in its history.
    pub async fn set_finding_status(&self, id: i64, status: &str, note: &str, by: &Actor) -> Result<()> {
        if !FINDING_STATUSES.contains(&status) {
            bail!("'{status}' is not a status: {}", FINDING_STATUSES.join(", "));
        }
        let mut tx = self.begin_write().await?;
        let now = now_text();
        let n = sqlx::query("UPDATE findings SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status)
            .bind(&now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if n.rows_affected() == 0 {
            bail!("there is no finding {id}");
        }
        record_change(&mut tx, id, status, note.trim(), &by.name, &now).await?;
        audit_from(&mut tx, by, "finding.status", &format!("finding {id}"), None, status).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every finding, newest first.
    pub async fn findings(&self) -> Result<Vec<Finding>> {
        let rows = sqlx::query(
            "SELECT id, subject_kind, subject, title, body, status, owner, created_by, created_at, updated_at, period, based_on, \
             due_on, blueprints FROM findings ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        let changes = sqlx::query(
            "SELECT finding_id, status, note, changed_by, changed_at FROM finding_history ORDER BY finding_id, id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut history: std::collections::HashMap<i64, Vec<FindingChange>> = Default::default();
        for r in changes {
            history.entry(r.try_get(0)?).or_default().push(FindingChange {
                status: r.try_get(1)?,
                note: r.try_get(2)?,
                changed_by: r.try_get(3)?,
                changed_at: r.try_get(4)?,
            });
        }
        rows.into_iter()
            .map(|r| {
                Ok(Finding {
                    id: r.try_get(0)?,
                    subject_kind: r.try_get(1)?,
                    subject: r.try_get(2)?,
                    title: r.try_get(3)?,
                    body: r.try_get(4)?,
                    status: r.try_get(5)?,
                    owner: r.try_get(6)?,
                    created_by: r.try_get(7)?,
                    created_at: r.try_get(8)?,
                    updated_at: r.try_get(9)?,
                    period: r.try_get(10)?,
                    based_on: r.try_get(11)?,
                    due_on: r.try_get(12)?,
                    history: history.remove(&r.try_get::<i64, _>(0)?).unwrap_or_default(),
                    blueprints: r
                        .try_get::<String, _>(13)?
                        .split(',')
                        .filter_map(|id| id.trim().parse().ok())
                        .collect(),
                })
            })
            .collect()
    }
}

/// Adds one change to a finding's history.
async fn record_change(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    id: i64,
    status: &str,
    note: &str,
    by: &str,
    at: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO finding_history (finding_id, status, note, changed_by, changed_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(status)
    .bind(note)
    .bind(by)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

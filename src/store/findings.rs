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
}

pub const FINDING_STATUSES: [&str; 3] = ["open", "accepted", "done"];
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
}

impl Store {
    pub async fn add_finding(&self, f: &NewFinding, by: &Actor) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let now = now_text();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO findings (subject_kind, subject, title, body, status, owner, created_by, created_at, updated_at, \
             period, based_on) VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $7, $8, $9) RETURNING id",
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
        .fetch_one(&mut *tx)
        .await?;
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

    pub async fn set_finding_status(&self, id: i64, status: &str, by: &Actor) -> Result<()> {
        if !FINDING_STATUSES.contains(&status) {
            bail!("'{status}' is not a status: open, accepted or done");
        }
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE findings SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(status)
            .bind(now_text())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if n.rows_affected() == 0 {
            bail!("there is no finding {id}");
        }
        audit_from(&mut tx, by, "finding.status", &format!("finding {id}"), None, status).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every finding, newest first.
    pub async fn findings(&self) -> Result<Vec<Finding>> {
        let rows = sqlx::query(
            "SELECT id, subject_kind, subject, title, body, status, owner, created_by, created_at, updated_at, period, based_on \
             FROM findings ORDER BY id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
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
                })
            })
            .collect()
    }
}

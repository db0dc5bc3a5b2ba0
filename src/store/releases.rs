//! Published releases: which data version each holds, when and by whom it was published, its
//! note and what changed since the release before. A release row is never updated.

use super::{Store, now_text};
use anyhow::Result;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Release {
    /// `2026-Q3.1`: the quarter, and the how-manieth publication of it.
    pub id: String,
    pub quarter: String,
    pub sequence: i64,
    pub data_version: i64,
    pub published_at: String,
    pub published_by: String,
    pub note: String,
    /// What changed since the release before (JSON, see `publish::Changes`).
    pub changes: String,
}

fn release_from(r: &sqlx::any::AnyRow) -> Result<Release> {
    Ok(Release {
        id: r.try_get(0)?,
        quarter: r.try_get(1)?,
        sequence: r.try_get(2)?,
        data_version: r.try_get(3)?,
        published_at: r.try_get(4)?,
        published_by: r.try_get(5)?,
        note: r.try_get(6)?,
        changes: r.try_get(7)?,
    })
}

const COLUMNS: &str = "id, quarter, sequence, data_version, published_at, published_by, note, changes";

impl Store {
    /// Every release, newest first.
    pub async fn releases(&self) -> Result<Vec<Release>> {
        let sql = format!("SELECT {COLUMNS} FROM releases ORDER BY published_at DESC, data_version DESC, id DESC");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter().map(release_from).collect()
    }

    pub async fn release(&self, id: &str) -> Result<Option<Release>> {
        let sql = format!("SELECT {COLUMNS} FROM releases WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(release_from).transpose()
    }

    /// Records a release of `quarter` at `data_version`, numbered after the quarter's earlier
    /// ones; audited. Answers it.
    pub async fn add_release(
        &self,
        quarter: &str,
        data_version: i64,
        note: &str,
        changes: &str,
        by: &super::Actor,
    ) -> Result<Release> {
        let (_guard, mut tx) = self.write().await?;
        let sequence: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM releases WHERE quarter = $1")
            .bind(quarter)
            .fetch_one(&mut *tx)
            .await?;
        let release = Release {
            id: format!("{quarter}.{}", sequence + 1),
            quarter: quarter.to_string(),
            sequence: sequence + 1,
            data_version,
            published_at: now_text(),
            published_by: by.name.clone(),
            note: note.to_string(),
            changes: changes.to_string(),
        };
        sqlx::query(
            "INSERT INTO releases (id, quarter, sequence, data_version, published_at, published_by, note, changes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&release.id)
        .bind(&release.quarter)
        .bind(release.sequence)
        .bind(release.data_version)
        .bind(&release.published_at)
        .bind(&release.published_by)
        .bind(&release.note)
        .bind(&release.changes)
        .execute(&mut *tx)
        .await?;
        let detail = format!("data version {data_version}");
        super::submissions::audit_from(&mut tx, by, "release.publish", &release.id, None, &detail).await?;
        tx.commit().await?;
        Ok(release)
    }
}

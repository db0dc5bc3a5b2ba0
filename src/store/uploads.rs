//! Uploads awaiting confirmation: the file a user previewed, kept until they confirm it, for a
//! day at most, and no more than `MOST_WAITING` per user.

use super::{Store, now_text};
use anyhow::Result;
use sqlx::Row;

/// How many previews a user may leave unconfirmed: a new one drops the oldest.
pub const MOST_WAITING: i64 = 3;
/// How long a preview waits for its confirmation.
pub const UPLOAD_HOURS: i64 = 24;

impl Store {
    pub async fn save_upload(&self, user_id: i64, format: &str, filename: Option<&str>, content: &[u8]) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let id = sqlx::query_scalar(
            "INSERT INTO uploads (user_id, kind, filename, content, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user_id)
        .bind(format)
        .bind(filename)
        .bind(content.to_vec())
        .bind(now_text())
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM uploads WHERE user_id = $1 AND id NOT IN \
             (SELECT id FROM uploads WHERE user_id = $1 ORDER BY id DESC LIMIT $2)",
        )
        .bind(user_id)
        .bind(MOST_WAITING)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Deletes the previews older than `UPLOAD_HOURS`, and answers how many.
    pub async fn purge_uploads(&self) -> Result<u64> {
        let before = chrono::Utc::now() - chrono::Duration::hours(UPLOAD_HOURS);
        let done = sqlx::query("DELETE FROM uploads WHERE created_at < $1")
            .bind(before.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Takes a user's upload out of waiting: (format, filename, content).
    pub async fn take_upload(&self, id: i64, user_id: i64) -> Result<Option<(String, Option<String>, Vec<u8>)>> {
        // Taken and removed in one statement: of several confirms of one upload at once, only
        // one gets it (the others find nothing), so it is submitted once.
        let row = sqlx::query("DELETE FROM uploads WHERE id = $1 AND user_id = $2 RETURNING kind, filename, content")
            .bind(id)
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?)))
    }
}

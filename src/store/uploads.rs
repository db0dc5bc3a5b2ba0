//! Uploads awaiting confirmation: the file a user previewed, kept until they confirm it.

use super::{Store, now_text};
use anyhow::Result;
use sqlx::Row;

impl Store {
    pub async fn save_upload(&self, user_id: i64, format: &str, filename: Option<&str>, content: &[u8]) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "INSERT INTO uploads (user_id, kind, filename, content, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user_id)
        .bind(format)
        .bind(filename)
        .bind(content.to_vec())
        .bind(now_text())
        .fetch_one(&self.pool)
        .await?)
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

//! Stored benchmark snapshots: the computed tables of one data version, so that no reader
//! recomputes them and every app instance shares them.

use super::Store;
use anyhow::Result;
use sqlx::Row;

impl Store {
    /// The snapshot of `data_version` as (computed_at, payload), if one is stored.
    pub async fn snapshot(&self, data_version: i64) -> Result<Option<(String, String)>> {
        let row = sqlx::query("SELECT computed_at, payload FROM analytics_snapshots WHERE data_version = $1")
            .bind(data_version)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(r) => Some((r.try_get(0)?, r.try_get(1)?)),
            None => None,
        })
    }

    /// Stores a snapshot (a concurrent writer of the same version wins harmlessly) and drops
    /// snapshots of older versions.
    pub async fn put_snapshot(&self, data_version: i64, computed_at: &str, payload: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("INSERT INTO analytics_snapshots (data_version, computed_at, payload) VALUES ($1, $2, $3) ON CONFLICT (data_version) DO NOTHING")
            .bind(data_version)
            .bind(computed_at)
            .bind(payload)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM analytics_snapshots WHERE data_version < $1")
            .bind(data_version)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

//! Stored benchmark snapshots: the computed tables of one data version, so that a starting
//! instance need not recompute them. Only the latest is kept; an instance that starts from an
//! older one brings it up to date with an incremental refresh.

use super::Store;
use anyhow::Result;
use sqlx::Row;

impl Store {
    /// The newest stored snapshot as (data_version, computed_at, payload), if any.
    pub async fn latest_snapshot(&self) -> Result<Option<(i64, String, Vec<u8>)>> {
        let row = sqlx::query(
            "SELECT data_version, computed_at, payload FROM analytics_snapshots ORDER BY data_version DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        Ok(match row {
            Some(r) => Some((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?)),
            None => None,
        })
    }

    /// Stores a snapshot (a concurrent writer of the same version wins harmlessly) and drops
    /// snapshots of older versions.
    pub async fn put_snapshot(&self, data_version: i64, computed_at: &str, payload: Vec<u8>) -> Result<()> {
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

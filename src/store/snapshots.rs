//! Stored benchmark snapshots, so that a starting instance need not recompute every table nor
//! read the value table: one row per quarter (its payload's format is the figures' own), and in
//! `app_state` the data version they hold (`snapshot_version`), when it was computed and the
//! payloads' format (`snapshot_format`). Writers rewrite only the quarters that changed
//! since the stored version; an instance that starts from an older snapshot brings it up to
//! date with an incremental refresh.

use super::Store;
use anyhow::Result;
use sqlx::Row;

/// A stored snapshot: its data version, when it was computed, and each quarter's payload.
pub struct Snapshot {
    pub data_version: i64,
    pub computed_at: String,
    /// The payloads' format; a reader that does not know it computes in full.
    pub format: i64,
    pub quarters: Vec<(crate::domain::Quarter, Vec<u8>)>,
}

impl Store {
    /// The stored snapshot, if any. On SQLite through its own interface on a blocking thread:
    /// the payloads (hundreds of megabytes at national scale) are copied once, not once per
    /// layer of the pool's row types.
    pub async fn snapshot(&self) -> Result<Option<Snapshot>> {
        if let super::Backend::Sqlite = self.backend {
            let file = self.sqlite_file()?;
            return tokio::task::spawn_blocking(move || sqlite_snapshot(&file)).await?;
        }
        let mut tx = self.pool.begin().await?;
        let state: Vec<(String, String)> = sqlx::query_as(
            "SELECT key, value FROM app_state WHERE key IN ('snapshot_version', 'snapshot_computed_at', 'snapshot_format')",
        )
        .fetch_all(&mut *tx)
        .await?;
        let get = |k: &str| state.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        let Some(version) = get("snapshot_version").and_then(|v| v.parse().ok()) else { return Ok(None) };
        let quarters = sqlx::query("SELECT period_index, payload FROM snapshot_quarters ORDER BY period_index")
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|r| Ok((crate::domain::Quarter::from_index(r.try_get::<i64, _>(0)? as i32), r.try_get(1)?)))
            .collect::<Result<Vec<_>>>()?;
        tx.commit().await?;
        Ok(Some(Snapshot {
            data_version: version,
            computed_at: get("snapshot_computed_at").unwrap_or_default(),
            format: get("snapshot_format").and_then(|v| v.parse().ok()).unwrap_or(1),
            quarters,
        }))
    }

    /// The data version of the stored snapshot, 0 when there is none or its payloads are not
    /// of `format`.
    pub async fn snapshot_version(&self, format: i64) -> Result<i64> {
        let stored = self.state("snapshot_format").await?.and_then(|v| v.parse().ok()).unwrap_or(1);
        if stored != format {
            return Ok(0);
        }
        Ok(self.state("snapshot_version").await?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// Stores the snapshot of `data_version`, its payloads of `format`: `quarters` are the
    /// payloads of the quarters that differ from the stored version's (all of them when
    /// `replace_all`). A writer that finds a newer or equal version of the same format stored
    /// leaves it. Returns whether it wrote.
    pub async fn put_snapshot(
        &self,
        data_version: i64,
        computed_at: &str,
        format: i64,
        replace_all: bool,
        quarters: Vec<(crate::domain::Quarter, Vec<u8>)>,
    ) -> Result<bool> {
        let (_guard, mut tx) = self.write().await?;
        let stored: Vec<(String, String)> =
            sqlx::query_as("SELECT key, value FROM app_state WHERE key IN ('snapshot_version', 'snapshot_format')")
                .fetch_all(&mut *tx)
                .await?;
        let get = |k: &str| stored.iter().find(|(key, _)| key == k).and_then(|(_, v)| v.parse::<i64>().ok());
        let same_format = get("snapshot_format").unwrap_or(1) == format;
        // Only the quarters that changed would leave the others in another format.
        if (same_format && get("snapshot_version").is_some_and(|v| v >= data_version)) || (!same_format && !replace_all)
        {
            return Ok(false);
        }
        if replace_all {
            sqlx::query("DELETE FROM snapshot_quarters").execute(&mut *tx).await?;
        }
        for (period, payload) in quarters {
            sqlx::query(
                "INSERT INTO snapshot_quarters (period_index, payload) VALUES ($1, $2) \
                 ON CONFLICT (period_index) DO UPDATE SET payload = excluded.payload",
            )
            .bind(i64::from(period.index()))
            .bind(payload)
            .execute(&mut *tx)
            .await?;
        }
        for (key, value) in [
            ("snapshot_version", data_version.to_string()),
            ("snapshot_computed_at", computed_at.into()),
            ("snapshot_format", format.to_string()),
        ] {
            sqlx::query(
                "INSERT INTO app_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .bind(key)
            .bind(value)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}

/// `Store::snapshot` on the SQLite file `file`, in one read transaction.
fn sqlite_snapshot(file: &std::path::Path) -> Result<Option<Snapshot>> {
    use rusqlite::OpenFlags;
    let mut db = rusqlite::Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI,
    )?;
    db.busy_timeout(std::time::Duration::from_secs(30))?;
    let tx = db.transaction()?;
    let state: Vec<(String, String)> = tx
        .prepare(
            "SELECT key, value FROM app_state WHERE key IN ('snapshot_version', 'snapshot_computed_at', 'snapshot_format')",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let get = |k: &str| state.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let Some(version) = get("snapshot_version").and_then(|v| v.parse().ok()) else { return Ok(None) };
    let quarters = tx
        .prepare("SELECT period_index, payload FROM snapshot_quarters ORDER BY period_index")?
        .query_map([], |r| {
            let period = crate::domain::Quarter::from_index(r.get::<_, i64>(0)? as i32);
            Ok((period, r.get_ref(1)?.as_blob().map_err(rusqlite::Error::from)?.to_vec()))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    tx.commit()?;
    Ok(Some(Snapshot {
        data_version: version,
        computed_at: get("snapshot_computed_at").unwrap_or_default(),
        format: get("snapshot_format").and_then(|v| v.parse().ok()).unwrap_or(1),
        quarters,
    }))
}

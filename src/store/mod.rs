//! The database: reference data, submissions with revisions, the audit log and benchmark snapshots.
//!
//! One `Store` serves SQLite and PostgreSQL through sqlx's `Any` driver. Every query here is
//! written once with `$1` placeholders, which both backends accept, and decodes only integers,
//! floats and text (booleans are stored as integers, times as ISO 8601 text). A trait with one
//! implementation per backend would have doubled every query for no difference in behaviour; what
//! truly differs — the migrations, connection settings and the lock that serialises writers — is
//! chosen by `Backend` below.

mod accounts;
mod auth_cache;
mod backup;
mod batch;
mod blueprints;
mod collection;
mod conformance;
mod findings;
mod peer_groups;
mod reference;
mod releases;
mod snapshots;
mod submissions;
mod targets;
mod uploads;
mod uptake;
mod values;

pub use crate::domain::uptake::UptakeValue;
pub use accounts::{Actor, AuditEntry, SecondFactor, Session, TokenInfo, User};
pub use blueprints::{Blueprint, MATCH_END, MATCH_START, NewBlueprint, SearchHit, search_words};
pub use collection::{Progress, Window, WindowChange, closing_time};
pub use conformance::ConformanceRecord;
pub use findings::{FINDING_STATUSES, FINDING_SUBJECTS, Finding, FindingChange, NewFinding, status_label};
pub use peer_groups::{NewPeerGroup, PeerGroup, group_id, group_key};
pub use releases::Release;
pub use snapshots::{Bodies, QuarterPayload, Snapshot};
pub use submissions::{NewSubmission, Outcome, StoredValue, SubmissionKind, SubmissionRecord};
pub use targets::Target;
pub use values::{Changes, CurrentValue, Cut, Feed, ValueRevision};

use anyhow::{Context, Result};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::MigrateDatabase;
use sqlx::{Any, AnyPool, Connection, Executor};
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// Serialises this instance's writers; PostgreSQL adds an advisory lock across instances.
    write_lock: Arc<tokio::sync::Mutex<()>>,
    /// The database's URL, for the streamed submissions' own connection.
    url: String,
    /// The sessions and tokens checked lately (see `auth_cache`).
    auth: Arc<auth_cache::AuthCache>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("backend", &self.backend).finish_non_exhaustive()
    }
}

impl Store {
    /// Connects, creating the database when it does not exist, and applies the migrations.
    pub async fn open(url: &str) -> Result<Self> {
        install_default_drivers();
        let backend = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            anyhow::bail!("unsupported database URL: use sqlite://FILE or postgres://…");
        };
        if !Any::database_exists(url).await.unwrap_or(false) {
            Any::create_database(url)
                .await
                .with_context(|| format!("creating the database {}", crate::config::redact(url)))?;
        }
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 30000; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .after_release(|conn, _| {
                // A connection goes back to the pool only out of any transaction. When a COMMIT
                // fails (a full disk, say) the database may have rolled the transaction back
                // itself, so the driver's own ROLLBACK fails too and the connection would stay
                // "in a transaction" for good, refusing every later BEGIN. The ping waits for
                // that ROLLBACK; a connection still in a transaction after it is closed, and
                // the pool opens a fresh one.
                Box::pin(async move {
                    conn.ping().await?;
                    Ok(!conn.is_in_transaction())
                })
            })
            .connect(url)
            .await
            .with_context(|| format!("connecting to {}", crate::config::redact(url)))?;
        let migrator = match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        migrator.run(&pool).await.context("applying the migrations")?;
        Ok(Self {
            pool,
            backend,
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
            url: url.to_string(),
            auth: Arc::default(),
        })
    }

    /// Closes every connection, once those in use are given back.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The data version: the id of the latest accepted submission, 0 before any.
    pub async fn data_version(&self) -> Result<i64> {
        let v: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM submissions WHERE status = 'accepted'")
            .fetch_one(&self.pool)
            .await?;
        Ok(v.unwrap_or(0))
    }

    pub async fn state(&self, key: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT value FROM app_state WHERE key = $1")
            .bind(key)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn set_state(&self, key: &str, value: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO app_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A write transaction: `BEGIN IMMEDIATE` on SQLite, so that it never has to upgrade a read
    /// lock (which WAL mode refuses when another writer committed meanwhile).
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Takes the writers' lock — in this process, and on PostgreSQL across every instance (an
    /// advisory lock held until the transaction ends) — and begins a write transaction.
    async fn write(&self) -> Result<(tokio::sync::OwnedMutexGuard<()>, sqlx::Transaction<'static, Any>)> {
        let guard = self.write_lock.clone().lock_owned().await;
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Postgres {
            sqlx::query(WRITERS_LOCK).execute(&mut *tx).await?;
        }
        Ok((guard, tx))
    }
}

/// PostgreSQL's lock shared by every instance's writers, held until the transaction ends.
pub(crate) const WRITERS_LOCK: &str = "SELECT pg_advisory_xact_lock(7243001)";

/// Whether `e` is the database saying its disk is full: SQLite's `SQLITE_FULL` (13), through
/// sqlx or rusqlite, or PostgreSQL's `disk_full` (53100).
pub fn disk_full(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        if let Some(sqlx::Error::Database(db)) = cause.downcast_ref::<sqlx::Error>() {
            return matches!(db.code().as_deref(), Some("13" | "53100"));
        }
        matches!(
            cause.downcast_ref::<rusqlite::Error>(),
            Some(rusqlite::Error::SqliteFailure(f, _)) if f.code == rusqlite::ErrorCode::DiskFull
        )
    })
}

pub fn now_text() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

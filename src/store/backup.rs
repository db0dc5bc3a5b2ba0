//! Backups: the whole database to one file and back. SQLite copies itself page by page with its
//! online backup API (consistent while the server runs); PostgreSQL is dumped with `pg_dump` in
//! its custom format and restored with `pg_restore`, which must be installed (they come with
//! the PostgreSQL client).

use super::{Backend, Store};
use anyhow::{Context, Result, bail};
use std::path::Path;

/// Pages copied per step of SQLite's backup, with a pause between steps so that writers are
/// not held up for the whole copy.
const PAGES_PER_STEP: std::ffi::c_int = 1024;

impl Store {
    /// Writes the whole database to `file` (replacing it).
    pub async fn backup(&self, file: &Path) -> Result<()> {
        match self.backend {
            Backend::Sqlite => {
                let (db, file) = (self.sqlite_file()?, file.to_path_buf());
                tokio::task::spawn_blocking(move || {
                    let _ = std::fs::remove_file(&file);
                    copy_sqlite(&db, &file, std::time::Duration::from_millis(5))
                })
                .await?
            }
            Backend::Postgres => {
                let file = file.to_str().context("the backup file's name is not UTF-8")?;
                run("pg_dump", &["--format=custom", "--no-owner", "--file", file, "--dbname", &self.url]).await
            }
        }
    }

    /// Replaces the whole database with the one in `file`, a backup made by `backup`. The
    /// server should be stopped while it runs: its figures would not know.
    pub async fn restore(&self, file: &Path) -> Result<()> {
        if !file.is_file() {
            bail!("there is no backup file {}", file.display());
        }
        match self.backend {
            Backend::Sqlite => {
                let (db, file) = (self.sqlite_file()?, file.to_path_buf());
                tokio::task::spawn_blocking(move || -> Result<()> {
                    let source = rusqlite::Connection::open_with_flags(&file, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                        .with_context(|| format!("opening {}", file.display()))?;
                    let tables: i64 = source
                        .query_row(
                            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name IN ('submissions', '_sqlx_migrations')",
                            [],
                            |r| r.get(0),
                        )
                        .with_context(|| format!("{} is not an SQLite database", file.display()))?;
                    if tables != 2 {
                        bail!("{} is not a backup of an Exemplar database", file.display());
                    }
                    drop(source);
                    copy_sqlite(&file, &db, std::time::Duration::ZERO)
                })
                .await?
            }
            Backend::Postgres => {
                let file = file.to_str().context("the backup file's name is not UTF-8")?;
                let options = ["--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error"];
                let mut args: Vec<&str> = options.to_vec();
                args.extend(["--dbname", &self.url, file]);
                run("pg_restore", &args).await
            }
        }
    }

    pub(super) fn sqlite_file(&self) -> Result<std::path::PathBuf> {
        let options: sqlx::sqlite::SqliteConnectOptions = self.url.parse()?;
        Ok(options.get_filename().to_path_buf())
    }
}

/// Copies the SQLite database `from` into `to` with the online backup API, a step of pages at a
/// time with `pause` between steps.
fn copy_sqlite(from: &Path, to: &Path, pause: std::time::Duration) -> Result<()> {
    let source = rusqlite::Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("opening {}", from.display()))?;
    let mut target = rusqlite::Connection::open(to).with_context(|| format!("opening {}", to.display()))?;
    rusqlite::backup::Backup::new(&source, &mut target)?.run_to_completion(PAGES_PER_STEP, pause, None)?;
    Ok(())
}

/// Runs a PostgreSQL client program, with its error output as the error.
async fn run(program: &str, args: &[&str]) -> Result<()> {
    let output = tokio::process::Command::new(program)
        .args(args)
        .output()
        .await
        .with_context(|| format!("running {program}: install the PostgreSQL client programs"))?;
    if !output.status.success() {
        bail!("{program} failed: {}", String::from_utf8_lossy(&output.stderr).trim());
    }
    Ok(())
}

//! Blueprints (docs/RULES.md §10.5): what a trust changed, submitted by its users, published
//! or sent back after review by the board or an administrator; and full-text search across the
//! published blueprints and the board's findings with the database's own index (SQLite FTS5,
//! PostgreSQL `tsvector`), best match first, the matched words marked.

use super::submissions::audit_from;
use super::{Actor, Backend, Store, now_text};
use anyhow::{Result, bail};
use sqlx::Row;

/// The marks around a matched word in a search hit's text, turned into `<mark>` after escaping.
pub const MATCH_START: char = '\u{27E6}';
pub const MATCH_END: char = '\u{27E7}';

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Blueprint {
    pub id: i64,
    pub org_code: String,
    pub title: String,
    pub summary: String,
    pub what_we_did: String,
    /// The metric ids, standard ids and system ids it concerns.
    pub metrics: Vec<String>,
    pub standards: Vec<String>,
    pub systems: Vec<String>,
    /// The quarter the change started (`2025-Q1`).
    pub started: String,
    pub contact_role: String,
    /// `submitted`, `published` or `rejected`.
    pub status: String,
    pub submitted_by: String,
    pub submitted_at: String,
    pub reviewed_by: String,
    pub reviewed_at: String,
    pub review_note: String,
}

/// A blueprint to submit.
#[derive(Debug, Clone, Default)]
pub struct NewBlueprint {
    pub org_code: String,
    pub title: String,
    pub summary: String,
    pub what_we_did: String,
    pub metrics: Vec<String>,
    pub standards: Vec<String>,
    pub systems: Vec<String>,
    pub started: String,
    pub contact_role: String,
}

/// One search hit: what it is, its id and title, and its text with the matched words marked.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub id: i64,
    pub title: String,
    pub text: String,
}

/// A blueprint's columns, in the order `blueprint` reads them.
macro_rules! columns {
    () => {
        "id, org_code, title, summary, what_we_did, metrics, standards, systems, started, contact_role, \
         status, submitted_by, submitted_at, reviewed_by, reviewed_at, review_note"
    };
}

fn list(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn blueprint(r: &sqlx::any::AnyRow) -> Result<Blueprint> {
    Ok(Blueprint {
        id: r.try_get(0)?,
        org_code: r.try_get(1)?,
        title: r.try_get(2)?,
        summary: r.try_get(3)?,
        what_we_did: r.try_get(4)?,
        metrics: list(&r.try_get::<String, _>(5)?),
        standards: list(&r.try_get::<String, _>(6)?),
        systems: list(&r.try_get::<String, _>(7)?),
        started: r.try_get(8)?,
        contact_role: r.try_get(9)?,
        status: r.try_get(10)?,
        submitted_by: r.try_get(11)?,
        submitted_at: r.try_get(12)?,
        reviewed_by: r.try_get(13)?,
        reviewed_at: r.try_get(14)?,
        review_note: r.try_get(15)?,
    })
}

/// The words of a search, letters and digits only, at most twelve: the database's query
/// languages never see the reader's punctuation.
pub fn search_words(q: &str) -> Vec<String> {
    q.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).take(12).map(|w| w.to_lowercase()).collect()
}

impl Store {
    pub async fn add_blueprint(&self, b: &NewBlueprint, by: &Actor) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO blueprints (org_code, title, summary, what_we_did, metrics, standards, systems, started, \
             contact_role, status, submitted_by, submitted_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'submitted', $10, $11) RETURNING id",
        )
        .bind(&b.org_code)
        .bind(&b.title)
        .bind(&b.summary)
        .bind(&b.what_we_did)
        .bind(b.metrics.join(","))
        .bind(b.standards.join(","))
        .bind(b.systems.join(","))
        .bind(&b.started)
        .bind(&b.contact_role)
        .bind(&by.name)
        .bind(now_text())
        .fetch_one(&mut *tx)
        .await?;
        audit_from(
            &mut tx,
            by,
            "blueprint.submit",
            &format!("trust {}", b.org_code),
            None,
            &format!("blueprint {id}: {}", b.title),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Publishes a submitted blueprint, or sends it back (`rejected`) with the reviewer's note.
    pub async fn review_blueprint(&self, id: i64, publish: bool, note: &str, by: &Actor) -> Result<()> {
        let status = if publish { "published" } else { "rejected" };
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE blueprints SET status = $1, reviewed_by = $2, reviewed_at = $3, review_note = $4 \
             WHERE id = $5 AND status = 'submitted'",
        )
        .bind(status)
        .bind(&by.name)
        .bind(now_text())
        .bind(note.trim())
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if n.rows_affected() == 0 {
            bail!("there is no blueprint {id} waiting for review");
        }
        audit_from(&mut tx, by, "blueprint.review", &format!("blueprint {id}"), None, status).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every blueprint, newest first.
    pub async fn blueprints(&self) -> Result<Vec<Blueprint>> {
        let rows = sqlx::query(concat!("SELECT ", columns!(), " FROM blueprints ORDER BY id DESC"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(blueprint).collect()
    }

    pub async fn blueprint(&self, id: i64) -> Result<Option<Blueprint>> {
        let row = sqlx::query(concat!("SELECT ", columns!(), " FROM blueprints WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(blueprint).transpose()
    }

    /// The published blueprints and the findings that match any word of `q`, best match first
    /// (SQLite: bm25, title weighed above the rest; PostgreSQL: ts_rank of weighted vectors).
    pub async fn search(&self, q: &str) -> Result<(Vec<SearchHit>, Vec<SearchHit>)> {
        let words = search_words(q);
        if words.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let (s, e) = (MATCH_START, MATCH_END);
        let (blueprints, findings) = match self.backend {
            Backend::Sqlite => {
                let query = words.iter().map(|w| format!("\"{w}\"")).collect::<Vec<_>>().join(" OR ");
                // The marks are MATCH_START and MATCH_END.
                let b = "SELECT b.id, highlight(blueprints_fts, 0, '\u{27E6}', '\u{27E7}'), \
                         snippet(blueprints_fts, -1, '\u{27E6}', '\u{27E7}', '…', 32) FROM blueprints_fts \
                         JOIN blueprints b ON b.id = blueprints_fts.rowid \
                         WHERE blueprints_fts MATCH $1 AND b.status = 'published' \
                         ORDER BY bm25(blueprints_fts, 10.0, 4.0, 1.0), b.id LIMIT 50";
                let f = "SELECT f.id, highlight(findings_fts, 0, '\u{27E6}', '\u{27E7}'), \
                         snippet(findings_fts, -1, '\u{27E6}', '\u{27E7}', '…', 32) FROM findings_fts \
                         JOIN findings f ON f.id = findings_fts.rowid \
                         WHERE findings_fts MATCH $1 ORDER BY bm25(findings_fts, 10.0, 1.0), f.id LIMIT 50";
                (
                    sqlx::query(b).bind(&query).fetch_all(&self.pool).await?,
                    sqlx::query(f).bind(&query).fetch_all(&self.pool).await?,
                )
            }
            Backend::Postgres => {
                let query = words.join(" | ");
                let options = format!("StartSel={s}, StopSel={e}, HighlightAll=true");
                let snippet = format!("StartSel={s}, StopSel={e}, MaxWords=35, MinWords=15");
                let b = "SELECT id, ts_headline('english', title, q, $2), \
                         ts_headline('english', summary || ' ' || what_we_did, q, $3) \
                         FROM blueprints, to_tsquery('english', $1) q \
                         WHERE search @@ q AND status = 'published' ORDER BY ts_rank(search, q) DESC, id LIMIT 50";
                let f = "SELECT id, ts_headline('english', title, q, $2), ts_headline('english', body, q, $3) \
                         FROM findings, to_tsquery('english', $1) q \
                         WHERE search @@ q ORDER BY ts_rank(search, q) DESC, id LIMIT 50";
                (
                    sqlx::query(b).bind(&query).bind(&options).bind(&snippet).fetch_all(&self.pool).await?,
                    sqlx::query(f).bind(&query).bind(&options).bind(&snippet).fetch_all(&self.pool).await?,
                )
            }
        };
        let hits = |rows: Vec<sqlx::any::AnyRow>| -> Result<Vec<SearchHit>> {
            rows.iter()
                .map(|r| Ok(SearchHit { id: r.try_get(0)?, title: r.try_get(1)?, text: r.try_get(2)? }))
                .collect()
        };
        Ok((hits(blueprints)?, hits(findings)?))
    }
}

//! Collection windows, reopenings and sign-offs (docs/RULES.md §3.7). Every change is audited.

use super::{Actor, Store, now_text};
use anyhow::{Result, bail};
use sqlx::Row;

/// A quarter's collection window.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Window {
    pub quarter: String,
    pub closes_at: String,
    pub closed_at: Option<String>,
}

impl Window {
    /// Whether submissions are refused now (closed by hand, or past its closing time).
    pub fn is_closed(&self, now: &str) -> bool {
        self.closed_at.is_some() || self.closes_at.as_str() <= now
    }
}

/// A change to a quarter's collection window, from the command line or the completeness page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowChange {
    /// Open (or move the closing of) the window until `closes`: a date (the end of that day,
    /// UTC) or an RFC 3339 time.
    Open {
        closes: String,
    },
    Close,
    /// Let one trust (an ODS code) submit again after the window closed.
    Reopen {
        org: String,
    },
}

/// `2026-11-15` (the end of that day, UTC) or an RFC 3339 time, as stored.
pub fn closing_time(text: &str) -> Result<String> {
    if let Ok(day) = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        return Ok(format!("{day}T23:59:59Z"));
    }
    let t = chrono::DateTime::parse_from_rfc3339(text.trim()).map_err(|_| {
        anyhow::anyhow!("'{text}' is not a date such as 2026-11-15 or a time such as 2026-11-15T17:00:00Z")
    })?;
    Ok(t.with_timezone(&chrono::Utc).format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

/// Where one trust stands in one quarter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Progress {
    NotStarted,
    Submitted,
    SignedOff,
}

impl Progress {
    /// The word the completeness export uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Progress::NotStarted => "not_started",
            Progress::Submitted => "submitted",
            Progress::SignedOff => "signed_off",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Progress::NotStarted => "Not started",
            Progress::Submitted => "Submitted, not signed off",
            Progress::SignedOff => "Signed off",
        }
    }
}

impl Store {
    /// Whether the user may publish releases (an administrator grants it to analysts).
    pub async fn can_publish(&self, user_id: i64) -> Result<bool> {
        let v: Option<i64> = sqlx::query_scalar("SELECT can_publish FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(v.unwrap_or(0) != 0)
    }

    /// Grants (or takes back) the publisher permission; audited.
    pub async fn set_publisher(&self, email: &str, publisher: bool, by: &Actor) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE users SET can_publish = $1 WHERE email = $2")
            .bind(i64::from(publisher))
            .bind(email)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            bail!("there is no user {email}");
        }
        let action = if publisher { "user.grant_publisher" } else { "user.revoke_publisher" };
        super::submissions::audit_from(&mut tx, by, action, email, None, "").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes `change` to `quarter`'s window; says what was done, in a sentence.
    pub async fn change_window(
        &self,
        quarter: crate::domain::Quarter,
        change: WindowChange,
        by: &Actor,
    ) -> Result<String> {
        let q = quarter.to_string();
        match change {
            WindowChange::Open { closes } => {
                let closes_at = closing_time(&closes)?;
                self.open_window(&q, &closes_at, by).await?;
                Ok(format!("{q} is open for collection until {closes_at}."))
            }
            WindowChange::Close => {
                self.close_window(&q, by).await?;
                Ok(format!("{q}'s collection is closed."))
            }
            WindowChange::Reopen { org } => {
                let org = org.trim().to_ascii_uppercase();
                if self.reference().await?.organisation(&org).is_none() {
                    bail!("there is no trust {org}");
                }
                self.reopen_window(&q, &org, by).await?;
                Ok(format!("{q} is reopened for {org}."))
            }
        }
    }

    pub async fn window(&self, quarter: &str) -> Result<Option<Window>> {
        let row = sqlx::query("SELECT quarter, closes_at, closed_at FROM collection_windows WHERE quarter = $1")
            .bind(quarter)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok(Window { quarter: r.try_get(0)?, closes_at: r.try_get(1)?, closed_at: r.try_get(2)? }))
            .transpose()
    }

    /// Opens `quarter` for collection until `closes_at` (an ISO time in the future), or moves
    /// the closing of an open window.
    pub async fn open_window(&self, quarter: &str, closes_at: &str, by: &Actor) -> Result<()> {
        if closes_at <= now_text().as_str() {
            bail!("the window would close at {closes_at}, which is in the past: give a later date");
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO collection_windows (quarter, closes_at, opened_by, opened_at, closed_at) VALUES ($1, $2, $3, $4, NULL) \
             ON CONFLICT (quarter) DO UPDATE SET closes_at = excluded.closes_at, closed_at = NULL",
        )
        .bind(quarter)
        .bind(closes_at)
        .bind(&by.name)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        super::submissions::audit_from(&mut tx, by, "window.open", quarter, None, &format!("closes {closes_at}"))
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn close_window(&self, quarter: &str, by: &Actor) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query("UPDATE collection_windows SET closed_at = $1 WHERE quarter = $2 AND closed_at IS NULL")
            .bind(now_text())
            .bind(quarter)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            bail!("{quarter} has no open collection window");
        }
        super::submissions::audit_from(&mut tx, by, "window.close", quarter, None, "").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Lets trust `org_code` submit for `quarter` again after its window closed.
    pub async fn reopen_window(&self, quarter: &str, org_code: &str, by: &Actor) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO window_reopenings (quarter, org_code, reopened_by, reopened_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (quarter, org_code) DO UPDATE SET reopened_by = excluded.reopened_by, reopened_at = excluded.reopened_at",
        )
        .bind(quarter)
        .bind(org_code)
        .bind(&by.name)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        super::submissions::audit_from(&mut tx, by, "window.reopen", quarter, None, &format!("for {org_code}")).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Of `quarters`, the windows closed to `org_code` now (closed and not reopened for it).
    pub async fn closed_to(&self, org_code: &str, quarters: &[String]) -> Result<Vec<Window>> {
        let now = now_text();
        let mut closed = Vec::new();
        for q in quarters {
            let Some(window) = self.window(q).await?.filter(|w| w.is_closed(&now)) else { continue };
            let reopened: Option<String> =
                sqlx::query_scalar("SELECT org_code FROM window_reopenings WHERE quarter = $1 AND org_code = $2")
                    .bind(q)
                    .bind(org_code)
                    .fetch_optional(&self.pool)
                    .await?;
            if reopened.is_none() {
                closed.push(window);
            }
        }
        Ok(closed)
    }

    /// The latest accepted submission of trust `org_code` with values in quarter `period_index`.
    async fn last_submission(&self, org_code: &str, period_index: i32) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT MAX(s.id) FROM submissions s JOIN submission_quarters q ON q.submission_id = s.id \
             WHERE s.status = 'accepted' AND s.kind = 'metrics' AND q.period_index = $1 \
             AND EXISTS (SELECT 1 FROM current_values c WHERE c.org_code = $2 AND c.period_index = $1 AND c.submission_id = s.id)",
        )
        .bind(i64::from(period_index))
        .bind(org_code)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Trust `org_code` signs off its figures for `quarter` (refused when it has none).
    pub async fn sign_off(&self, quarter: &crate::domain::Quarter, org_code: &str, by: &Actor) -> Result<()> {
        let has_values: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM current_values WHERE org_code = $1 AND period_index = $2 LIMIT 1")
                .bind(org_code)
                .bind(i64::from(quarter.index()))
                .fetch_optional(&self.pool)
                .await?;
        if has_values.is_none() {
            bail!("{org_code} has no values for {quarter}: there is nothing to sign off");
        }
        let version = self.data_version().await?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO signoffs (quarter, org_code, data_version, signed_by, signed_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (quarter, org_code) DO UPDATE SET data_version = excluded.data_version, signed_by = excluded.signed_by, signed_at = excluded.signed_at",
        )
        .bind(quarter.to_string())
        .bind(org_code)
        .bind(version)
        .bind(&by.name)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        super::submissions::audit_from(
            &mut tx,
            by,
            "quarter.sign_off",
            &quarter.to_string(),
            None,
            &format!("for {org_code}"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Where each of `org_codes` stands in `quarter`: a sign-off stands until the trust's next
    /// change to the quarter.
    pub async fn progress(&self, quarter: &crate::domain::Quarter, org_codes: &[String]) -> Result<Vec<Progress>> {
        let signed: Vec<(String, i64)> = sqlx::query("SELECT org_code, data_version FROM signoffs WHERE quarter = $1")
            .bind(quarter.to_string())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<Result<_>>()?;
        let with_values: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT org_code FROM current_values WHERE period_index = $1")
                .bind(i64::from(quarter.index()))
                .fetch_all(&self.pool)
                .await?;
        let mut out = Vec::with_capacity(org_codes.len());
        for org in org_codes {
            let progress = if !with_values.contains(org) {
                Progress::NotStarted
            } else {
                match signed.iter().find(|(o, _)| o == org) {
                    Some((_, at))
                        if self.last_submission(org, quarter.index()).await?.is_none_or(|last| last <= *at) =>
                    {
                        Progress::SignedOff
                    }
                    _ => Progress::Submitted,
                }
            };
            out.push(progress);
        }
        Ok(out)
    }
}

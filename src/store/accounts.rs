//! Users, server-side sessions and API tokens. Secrets are stored only as hashes.

use super::{Store, now_text};
use crate::domain::Role;
use anyhow::{Result, bail};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct User {
    pub id: i64,
    pub email: String,
    pub role: Role,
    pub org_code: Option<String>,
    pub disabled: bool,
}

#[derive(Debug, Clone)]
pub struct Session {
    pub user: Option<User>,
    pub csrf_token: String,
    /// The password was right but the second factor is still to come.
    pub pending: bool,
    /// A TOTP secret being enrolled (hex), until its first code confirms it.
    pub enrolling_secret: Option<String>,
    /// When it ends (UTC, as stored).
    pub expires_at: String,
}

impl Session {
    pub fn expired(&self) -> bool {
        self.expires_at < time_text(chrono::Utc::now())
    }
}

/// A user's second factor: the TOTP secret (hex) and the last time step accepted.
#[derive(Debug, Clone)]
pub struct SecondFactor {
    pub secret: String,
    pub last_step: Option<i64>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
    /// `read`, `submit` or `read submit`.
    pub scopes: String,
    pub expires_at: Option<String>,
}

pub use crate::domain::{Actor, TokenScopes};

fn user_from(r: &sqlx::any::AnyRow) -> Result<User> {
    Ok(User {
        id: r.try_get(0)?,
        email: r.try_get(1)?,
        role: r.try_get::<String, _>(2)?.parse().map_err(anyhow::Error::msg)?,
        org_code: r.try_get(3)?,
        disabled: r.try_get::<i64, _>(4)? != 0,
    })
}

impl Store {
    pub async fn add_user(
        &self,
        email: &str,
        role: Role,
        org_code: Option<&str>,
        password_hash: Option<&str>,
        by: &Actor,
    ) -> Result<i64> {
        if (role == Role::Trust) != org_code.is_some() {
            bail!("a trust user is bound to exactly one ODS code, and only a trust user is");
        }
        let mut tx = self.begin_write().await?;
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT id FROM users WHERE email = $1").bind(email).fetch_optional(&mut *tx).await?;
        if exists.is_some() {
            bail!("there is already a user {email}");
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (email, role, org_code, password_hash, disabled, created_at) VALUES ($1, $2, $3, $4, 0, $5) RETURNING id",
        )
        .bind(email)
        .bind(role.as_str())
        .bind(org_code)
        .bind(password_hash)
        .bind(now_text())
        .fetch_one(&mut *tx)
        .await?;
        let detail = format!("role {role}{}", org_code.map(|o| format!(", trust {o}")).unwrap_or_default());
        super::submissions::audit_from(&mut tx, by, "user.add", email, None, &detail).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn user_by_email(&self, email: &str) -> Result<Option<(User, Option<String>)>> {
        let row = sqlx::query("SELECT id, email, role, org_code, disabled, password_hash FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((user_from(&r)?, r.try_get(5)?))).transpose()
    }

    pub async fn users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query("SELECT id, email, role, org_code, disabled FROM users ORDER BY email")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(user_from).collect()
    }

    pub async fn set_user_disabled(&self, email: &str, disabled: bool, by: &Actor) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE users SET disabled = $1 WHERE email = $2")
            .bind(i64::from(disabled))
            .bind(email)
            .execute(&mut *tx)
            .await?;
        if n.rows_affected() == 0 {
            bail!("there is no user {email}");
        }
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = $1)")
                .bind(email)
                .execute(&mut *tx)
                .await?;
        }
        let action = if disabled { "user.disable" } else { "user.enable" };
        super::submissions::audit_from(&mut tx, by, action, email, None, "").await?;
        auth_changed(&mut tx).await?;
        tx.commit().await?;
        self.auth.clear();
        Ok(())
    }

    pub async fn set_password_hash(&self, email: &str, hash: &str, by: &Actor) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE users SET password_hash = $1 WHERE email = $2")
            .bind(hash)
            .bind(email)
            .execute(&mut *tx)
            .await?;
        if n.rows_affected() == 0 {
            bail!("there is no user {email}");
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE email = $1)")
            .bind(email)
            .execute(&mut *tx)
            .await?;
        super::submissions::audit_from(&mut tx, by, "user.set_password", email, None, "").await?;
        auth_changed(&mut tx).await?;
        tx.commit().await?;
        self.auth.clear();
        Ok(())
    }

    /// Starts a signed-in session (`pending` until a second factor is given); the id and CSRF
    /// token are the caller's to send, only the id's hash is kept.
    pub async fn create_session(
        &self,
        id_hash: &str,
        user_id: i64,
        csrf_token: &str,
        hours: i64,
        pending: bool,
    ) -> Result<()> {
        let now = chrono::Utc::now();
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, expires_at, last_seen_at, pending) VALUES ($1, $2, $3, $4, $5, $4, $6)",
        )
        .bind(id_hash)
        .bind(user_id)
        .bind(csrf_token)
        .bind(now_text())
        .bind(time_text(now + chrono::Duration::hours(hours)))
        .bind(i64::from(pending))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The session, unless it has expired or been idle for `idle`; its last use is recorded
    /// (at most once a minute, so that reading pages does not write each time).
    pub async fn session(&self, id_hash: &str, idle: chrono::Duration) -> Result<Option<Session>> {
        if let Some(kept) = self.auth.session(id_hash) {
            return Ok(Some(kept));
        }
        let row = sqlx::query(
            "SELECT user_id, csrf_token, expires_at, COALESCE(last_seen_at, created_at), pending, enrolling_secret FROM sessions WHERE id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let now = chrono::Utc::now();
        let idle_since = time_text(now - idle);
        let last_seen: String = row.try_get(3)?;
        if row.try_get::<String, _>(2)? < time_text(now) || last_seen < idle_since {
            self.delete_session(id_hash).await?;
            return Ok(None);
        }
        if last_seen < time_text(now - chrono::Duration::minutes(1)) {
            sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
                .bind(time_text(now))
                .bind(id_hash)
                .execute(&self.pool)
                .await?;
        }
        let user = match row.try_get::<Option<i64>, _>(0)? {
            Some(id) => self.user_by_id(id).await?.filter(|u| !u.disabled),
            None => None,
        };
        let session = Session {
            user,
            csrf_token: row.try_get(1)?,
            pending: row.try_get::<i64, _>(4)? != 0,
            enrolling_secret: row.try_get(5)?,
            expires_at: row.try_get(2)?,
        };
        self.auth.keep_session(id_hash, &session);
        Ok(Some(session))
    }

    /// Deletes the sessions that have expired or been idle for `idle`, and answers how many.
    pub async fn purge_sessions(&self, idle: chrono::Duration) -> Result<u64> {
        let now = chrono::Utc::now();
        let idle_since = time_text(now - idle);
        let done = sqlx::query(
            "DELETE FROM sessions WHERE expires_at < $1 OR COALESCE(last_seen_at, created_at) < $2 OR user_id IS NULL",
        )
        .bind(time_text(now))
        .bind(idle_since)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// The secret called `name`, made (32 random bytes) the first time it is asked for; the
    /// same for every instance on the database.
    pub async fn secret(&self, name: &str) -> Result<Vec<u8>> {
        sqlx::query("INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(hex::encode(random_bytes()?))
            .execute(&self.pool)
            .await?;
        let value: String =
            sqlx::query_scalar("SELECT value FROM secrets WHERE name = $1").bind(name).fetch_one(&self.pool).await?;
        Ok(hex::decode(value)?)
    }

    /// The second factor has been given: the session is signed in.
    pub async fn pass_session(&self, id_hash: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE sessions SET pending = 0, enrolling_secret = NULL WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&mut *tx)
            .await?;
        self.changed_auth(tx).await
    }

    /// Commits a change to sessions, users or tokens with the counter moved on, and forgets the
    /// sessions and tokens this instance kept.
    async fn changed_auth(&self, mut tx: sqlx::Transaction<'static, sqlx::Any>) -> Result<()> {
        auth_changed(&mut tx).await?;
        tx.commit().await?;
        self.auth.clear();
        Ok(())
    }

    /// Reads the counter of changes to sessions, users and tokens every `WATCH_EVERY` and
    /// forgets what this instance kept when another instance (or the command line) moved it.
    /// Runs until the process ends; a failed read is logged and tried again.
    pub async fn watch_auth(self) {
        let mut tick = tokio::time::interval(super::auth_cache::WATCH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sqlx::query_scalar::<_, i64>("SELECT n FROM auth_version WHERE id = 1").fetch_one(&self.pool).await {
                Ok(n) => self.auth.saw(n),
                Err(e) => {
                    // Not knowing, believe nothing kept.
                    self.auth.clear();
                    tracing::warn!(error = %e, "could not read the sessions' change counter");
                }
            }
        }
    }

    /// Keeps a TOTP secret being enrolled with the session, until a code confirms it.
    pub async fn set_enrolling_secret(&self, id_hash: &str, secret: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE sessions SET enrolling_secret = $1 WHERE id_hash = $2")
            .bind(secret)
            .bind(id_hash)
            .execute(&mut *tx)
            .await?;
        self.changed_auth(tx).await
    }

    /// The user's second factor, if they have enrolled one.
    pub async fn second_factor(&self, user_id: i64) -> Result<Option<SecondFactor>> {
        let row =
            sqlx::query("SELECT totp_secret, totp_last_step FROM users WHERE id = $1 AND totp_secret IS NOT NULL")
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| Ok(SecondFactor { secret: r.try_get(0)?, last_step: r.try_get(1)? })).transpose()
    }

    /// Enrols a second factor: the TOTP secret (hex), the step of the code that confirmed it,
    /// and the hashes of new recovery codes (replacing any earlier ones); audited.
    pub async fn enrol_second_factor(
        &self,
        user_id: i64,
        secret: &str,
        step: i64,
        recovery_hashes: &[String],
        by: &Actor,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let email: String =
            sqlx::query_scalar("UPDATE users SET totp_secret = $1, totp_last_step = $2 WHERE id = $3 RETURNING email")
                .bind(secret)
                .bind(step)
                .bind(user_id)
                .fetch_one(&mut *tx)
                .await?;
        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
        for hash in recovery_hashes {
            sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                .bind(user_id)
                .bind(hash)
                .execute(&mut *tx)
                .await?;
        }
        let detail = format!("{} recovery codes", recovery_hashes.len());
        super::submissions::audit_from(&mut tx, by, "mfa.enrol", &email, None, &detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Takes TOTP time step `step` for the user, once: false if it (or a later one) was taken
    /// before, so that a code cannot be replayed.
    pub async fn take_totp_step(&self, user_id: i64, step: i64) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE users SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Uses up a recovery code (by its hash): false if it is not one of the user's unused codes.
    pub async fn use_recovery_code(&self, user_id: i64, code_hash: &str) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(now_text())
        .bind(user_id)
        .bind(code_hash)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a second-factor event (`mfa.success`, `mfa.failure`, `mfa.recovery_code`).
    pub async fn audit_second_factor(&self, email: &str, action: &str, origin: Option<String>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        super::submissions::audit_from(&mut tx, &Actor::new(email, origin), action, email, None, "").await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1").bind(id_hash).execute(&mut *tx).await?;
        self.changed_auth(tx).await
    }

    async fn user_by_id(&self, id: i64) -> Result<Option<User>> {
        let row = sqlx::query("SELECT id, email, role, org_code, disabled FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(user_from).transpose()
    }

    pub async fn create_token(&self, email: &str, name: &str, token_hash: &str, by: &Actor) -> Result<i64> {
        self.create_scoped_token(email, name, token_hash, &TokenScopes::ALL, None, by).await
    }

    /// A token that may do only what `scopes` allow, until `expires_at` (UTC, RFC 3339) if given.
    pub async fn create_scoped_token(
        &self,
        email: &str,
        name: &str,
        token_hash: &str,
        scopes: &TokenScopes,
        expires_at: Option<&str>,
        by: &Actor,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let user: Option<i64> =
            sqlx::query_scalar("SELECT id FROM users WHERE email = $1").bind(email).fetch_optional(&mut *tx).await?;
        let Some(user) = user else { bail!("there is no user {email}") };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, name, token_hash, created_at, scopes, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(user)
        .bind(name)
        .bind(token_hash)
        .bind(now_text())
        .bind(scopes.text())
        .bind(expires_at)
        .fetch_one(&mut *tx)
        .await?;
        let detail = format!("token {id} '{name}', {}, expires {}", scopes.text(), expires_at.unwrap_or("never"));
        super::submissions::audit_from(&mut tx, by, "token.create", email, None, &detail).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The enabled user of a token that has not been revoked nor expired, with what it may do.
    /// Kept for `auth_cache::KEEP_FOR` once checked, so its `last_used_at` is as exact as that.
    pub async fn token_user(&self, token_hash: &str) -> Result<Option<(User, TokenScopes)>> {
        if let Some(kept) = self.auth.token(token_hash) {
            return Ok(kept);
        }
        let found = self.token_user_stored(token_hash).await?;
        self.auth.keep_token(token_hash, &found);
        Ok(found)
    }

    async fn token_user_stored(&self, token_hash: &str) -> Result<Option<(User, TokenScopes)>> {
        let now = now_text();
        let row = sqlx::query(
            "SELECT id, user_id, scopes FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL \
             AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(token_hash)
        .bind(&now)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let (token_id, user_id): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
        let scopes = TokenScopes::parse(&row.try_get::<String, _>(2)?).unwrap_or_default();
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(now_text())
            .bind(token_id)
            .execute(&self.pool)
            .await?;
        Ok(self.user_by_id(user_id).await?.filter(|u| !u.disabled).map(|u| (u, scopes)))
    }

    pub async fn tokens(&self) -> Result<Vec<TokenInfo>> {
        let rows = sqlx::query(
            "SELECT t.id, u.email, t.name, t.created_at, t.revoked_at, t.last_used_at, t.scopes, t.expires_at \
             FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(TokenInfo {
                    id: r.try_get(0)?,
                    email: r.try_get(1)?,
                    name: r.try_get(2)?,
                    created_at: r.try_get(3)?,
                    revoked_at: r.try_get(4)?,
                    last_used_at: r.try_get(5)?,
                    scopes: r.try_get(6)?,
                    expires_at: r.try_get(7)?,
                })
            })
            .collect()
    }

    pub async fn revoke_token(&self, id: i64, by: &Actor) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_text())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if n.rows_affected() == 0 {
            bail!("there is no active token {id}");
        }
        super::submissions::audit_from(&mut tx, by, "token.revoke", &format!("token {id}"), None, "").await?;
        auth_changed(&mut tx).await?;
        tx.commit().await?;
        self.auth.clear();
        Ok(())
    }

    /// Records a sign-in attempt.
    pub async fn audit_sign_in(&self, email: &str, ok: bool, origin: Option<String>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let action = if ok { "sign_in.success" } else { "sign_in.failure" };
        super::submissions::audit_from(&mut tx, &Actor::new(email, origin), action, email, None, "").await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest audit entries: (id, at, actor, action, subject, submission, detail, origin).
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query("SELECT id, at, actor, action, subject, submission_id, detail, origin FROM audit_log ORDER BY id DESC LIMIT $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| {
                Ok(AuditEntry {
                    id: r.try_get(0)?,
                    at: r.try_get(1)?,
                    actor: r.try_get(2)?,
                    action: r.try_get(3)?,
                    subject: r.try_get(4)?,
                    submission_id: r.try_get(5)?,
                    detail: r.try_get(6)?,
                    origin: r.try_get(7)?,
                })
            })
            .collect()
    }
}

fn random_bytes() -> Result<[u8; 32]> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("the operating system's random source: {e}"))?;
    Ok(bytes)
}

fn time_text(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub submission_id: Option<i64>,
    pub detail: String,
    pub origin: Option<String>,
}

/// Moves the counter of changes to sessions, users and tokens on, in `tx`.
async fn auth_changed(tx: &mut sqlx::Transaction<'_, sqlx::Any>) -> Result<()> {
    sqlx::query("UPDATE auth_version SET n = n + 1 WHERE id = 1").execute(&mut **tx).await?;
    Ok(())
}

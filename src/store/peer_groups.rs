//! Saved peer groups (docs/RULES.md §10.6): a named set of trusts a signed-in user chose, kept
//! private to its owner or shared with every signed-in user. Each change is audited.

use super::submissions::audit_from;
use super::{Actor, Store, now_text};
use anyhow::{Result, bail};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PeerGroup {
    pub id: i64,
    pub name: String,
    pub owner_id: i64,
    pub owner_email: String,
    pub shared: bool,
    /// ODS codes, sorted, without repeats.
    pub members: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl PeerGroup {
    /// Whether user `user_id` may see and use the group: its owner, or anyone when it is shared.
    pub fn visible_to(&self, user_id: Option<i64>) -> bool {
        self.shared || user_id == Some(self.owner_id)
    }

    /// The value of `peer_group` that names the group in addresses and exports.
    pub fn key(&self) -> String {
        group_key(self.id)
    }
}

pub use crate::domain::filters::{saved_group_id as group_id, saved_group_key as group_key};

/// A group to save: its name, whether it is shared, and its trusts.
#[derive(Debug, Clone, Default)]
pub struct NewPeerGroup {
    pub name: String,
    pub shared: bool,
    pub members: Vec<String>,
}

macro_rules! columns {
    () => {
        "id, name, owner_id, owner_email, shared, members, created_at, updated_at"
    };
}

fn group(r: &sqlx::any::AnyRow) -> Result<PeerGroup> {
    Ok(PeerGroup {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        owner_id: r.try_get(2)?,
        owner_email: r.try_get(3)?,
        shared: r.try_get::<i64, _>(4)? != 0,
        members: r.try_get::<String, _>(5)?.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
        created_at: r.try_get(6)?,
        updated_at: r.try_get(7)?,
    })
}

/// The members as stored: upper case, sorted, without repeats.
fn members_text(members: &[String]) -> String {
    let mut m: Vec<String> = members.iter().map(|c| c.trim().to_ascii_uppercase()).filter(|c| !c.is_empty()).collect();
    m.sort();
    m.dedup();
    m.join(",")
}

/// An owner's change touched its group, or there is no such group of theirs.
fn owned(rows: u64, id: i64) -> Result<()> {
    if rows == 0 {
        bail!("there is no peer group {id} of yours");
    }
    Ok(())
}

impl Store {
    /// Saves a new group owned by user `owner`.
    pub async fn add_peer_group(&self, g: &NewPeerGroup, owner: &super::User, by: &Actor) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let now = now_text();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO peer_groups (name, owner_id, owner_email, shared, members, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        )
        .bind(g.name.trim())
        .bind(owner.id)
        .bind(&owner.email)
        .bind(i64::from(g.shared))
        .bind(members_text(&g.members))
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?;
        let detail = format!("peer group {id}: {} ({} trusts)", g.name.trim(), g.members.len());
        audit_from(&mut tx, by, "peer_group.add", &group_key(id), None, &detail).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Changes a group's name, sharing and trusts; only its owner may.
    pub async fn update_peer_group(&self, id: i64, g: &NewPeerGroup, owner_id: i64, by: &Actor) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE peer_groups SET name = $1, shared = $2, members = $3, updated_at = $4 WHERE id = $5 AND owner_id = $6",
        )
        .bind(g.name.trim())
        .bind(i64::from(g.shared))
        .bind(members_text(&g.members))
        .bind(now_text())
        .bind(id)
        .bind(owner_id)
        .execute(&mut *tx)
        .await?;
        owned(n.rows_affected(), id)?;
        let detail =
            format!("{} ({} trusts, {})", g.name.trim(), g.members.len(), if g.shared { "shared" } else { "private" });
        audit_from(&mut tx, by, "peer_group.update", &group_key(id), None, &detail).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a group; only its owner may.
    pub async fn delete_peer_group(&self, id: i64, owner_id: i64, by: &Actor) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM peer_groups WHERE id = $1 AND owner_id = $2")
            .bind(id)
            .bind(owner_id)
            .execute(&mut *tx)
            .await?;
        owned(n.rows_affected(), id)?;
        audit_from(&mut tx, by, "peer_group.delete", &group_key(id), None, "deleted").await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every saved group, by name.
    pub async fn peer_groups(&self) -> Result<Vec<PeerGroup>> {
        let rows = sqlx::query(concat!("SELECT ", columns!(), " FROM peer_groups ORDER BY name, id"))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(group).collect()
    }

    pub async fn peer_group(&self, id: i64) -> Result<Option<PeerGroup>> {
        let row = sqlx::query(concat!("SELECT ", columns!(), " FROM peer_groups WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(group).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_group_is_named_saved_and_its_id() {
        assert_eq!(group_key(12), "saved-12");
        assert_eq!(group_id("saved-12"), Some(12));
        assert_eq!(group_id(" saved-3 "), Some(3));
        assert_eq!(group_id("acute"), None);
        assert_eq!(group_id("saved-0"), None);
        assert_eq!(group_id("saved-x"), None);
        assert_eq!(members_text(&["rx1".into(), " RA2".into(), "RX1".into(), String::new()]), "RA2,RX1");
    }
}

//! Publishing a release: a quarter's figures as they stand, frozen by their data version, with a
//! note and the list of what changed since the release before. A release is recomputed from the
//! revision history whenever it is asked for (nothing is ever overwritten, so it is exact), not
//! stored as files: see BENCHMARKS.md, "Releases".

use crate::domain::{Actor, CurrentValue, Quarter};
use crate::store::{Cut, Release, Store};
use anyhow::{Result, bail};
use std::collections::{BTreeMap, BTreeSet};

/// What changed since the release before.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Changes {
    /// The release compared with, if any.
    pub since: Option<String>,
    /// Quarters with values that the release before had none for.
    pub new_quarters: Vec<String>,
    /// Trusts with values that had none in the release before.
    pub trusts_added: Vec<String>,
    /// Values that the release before did not have.
    pub new_values: usize,
    /// Values published before that have changed, with the published value.
    pub revised: Vec<Revised>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Revised {
    pub org_code: String,
    pub metric_id: String,
    pub period: String,
    pub published: f64,
    pub now: f64,
}

impl Changes {
    pub fn of(release: &Release) -> Changes {
        serde_json::from_str(&release.changes).unwrap_or_default()
    }

    /// One line, for lists: "2 new quarters, 40 trusts added, 9,305 new values, 3 revised".
    pub fn summary(&self) -> String {
        if self.since.is_none() {
            return format!(
                "the first release: {} quarters, {} trusts, {} values",
                self.new_quarters.len(),
                self.trusts_added.len(),
                self.new_values
            );
        }
        let mut parts = Vec::new();
        if !self.new_quarters.is_empty() {
            parts.push(format!("new quarters {}", self.new_quarters.join(", ")));
        }
        if !self.trusts_added.is_empty() {
            parts.push(format!("{} trusts added", self.trusts_added.len()));
        }
        parts.push(format!("{} new values", self.new_values));
        parts.push(format!("{} revised", self.revised.len()));
        parts.join(", ")
    }
}

/// Compares the values of two releases.
fn changes(since: Option<&Release>, before: &[CurrentValue], now: &[CurrentValue]) -> Changes {
    let key = |v: &CurrentValue| (v.period, v.org_code.to_string(), v.metric_id.to_string());
    let published: BTreeMap<_, f64> = before.iter().map(|v| (key(v), v.value)).collect();
    let quarters_before: BTreeSet<Quarter> = before.iter().map(|v| v.period).collect();
    let trusts_before: BTreeSet<&str> = before.iter().map(|v| &*v.org_code).collect();
    let mut out = Changes { since: since.map(|r| r.id.clone()), ..Changes::default() };
    let (mut quarters, mut trusts) = (BTreeSet::new(), BTreeSet::new());
    for v in now {
        if !quarters_before.contains(&v.period) {
            quarters.insert(v.period);
        }
        if !trusts_before.contains(&*v.org_code) {
            trusts.insert(v.org_code.to_string());
        }
        match published.get(&key(v)) {
            None => out.new_values += 1,
            Some(old) if *old != v.value => out.revised.push(Revised {
                org_code: v.org_code.to_string(),
                metric_id: v.metric_id.to_string(),
                period: v.period.to_string(),
                published: *old,
                now: v.value,
            }),
            Some(_) => {}
        }
    }
    out.new_quarters = quarters.into_iter().map(|p| p.to_string()).collect();
    out.trusts_added = trusts.into_iter().collect();
    out
}

/// Publishes `quarter` as it stands: refused when it has no values, when nothing has been
/// submitted since the quarter's last release, or — unless `confirmed` — when some trust that
/// sent figures for it has not signed them off (they are named).
pub async fn publish(store: &Store, quarter: Quarter, note: &str, confirmed: bool, by: &Actor) -> Result<Release> {
    let note = note.trim();
    if note.is_empty() {
        bail!("a release needs a note: what it holds, for its readers");
    }
    if !confirmed {
        let unsigned = not_signed_off(store, quarter).await?;
        if !unsigned.is_empty() {
            bail!(
                "{} trusts sent figures for {quarter} but have not signed them off: {}. Publish anyway only with explicit confirmation (--yes)",
                unsigned.len(),
                unsigned.join(", ")
            );
        }
    }
    let data_version = store.data_version().await?;
    let now = store.values_at(&Cut::Version(data_version)).await?;
    if !now.iter().any(|v| v.period == quarter) {
        bail!("{quarter} has no values: there is nothing to publish");
    }
    let releases = store.releases().await?;
    if let Some(same) = releases.iter().find(|r| r.quarter == quarter.to_string() && r.data_version == data_version) {
        bail!("nothing has been submitted since release {} of {quarter}: it is the same figures", same.id);
    }
    let previous = releases.iter().max_by_key(|r| (r.data_version, r.published_at.clone()));
    let before = match previous {
        Some(r) => store.values_at(&Cut::Version(r.data_version)).await?,
        None => Vec::new(),
    };
    let changes = changes(previous, &before, &now);
    store.add_release(&quarter.to_string(), data_version, note, &serde_json::to_string(&changes)?, by).await
}

/// The trusts with figures for `quarter` that they have not signed off.
pub async fn not_signed_off(store: &Store, quarter: Quarter) -> Result<Vec<String>> {
    let orgs: Vec<String> = store.reference().await?.organisations.iter().map(|o| o.ods_code.clone()).collect();
    let progress = store.progress(&quarter, &orgs).await?;
    Ok(orgs
        .into_iter()
        .zip(progress)
        .filter(|(_, p)| *p == crate::store::Progress::Submitted)
        .map(|(o, _)| o)
        .collect())
}

/// The release `id` names (`latest`: the newest), or an error listing the releases there are.
pub async fn find(store: &Store, id: &str) -> Result<Release, String> {
    find_in(&store.releases().await.map_err(|e| e.to_string())?, id)
}

/// The release `id` names among `releases` (newest first), as `find`.
pub fn find_in(releases: &[Release], id: &str) -> Result<Release, String> {
    let found = if id.eq_ignore_ascii_case("latest") {
        releases.first().cloned()
    } else {
        releases.iter().find(|r| r.id == id).cloned()
    };
    found.ok_or_else(|| {
        let ids: Vec<&str> = releases.iter().map(|r| r.id.as_str()).collect();
        if ids.is_empty() {
            format!("there is no release '{id}': nothing has been published yet")
        } else {
            format!("there is no release '{id}': the releases are {}", ids.join(", "))
        }
    })
}

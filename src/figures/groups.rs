//! The figures of a saved peer group (docs/RULES.md §10.6): every benchmark of §4 computed with
//! the group's trusts as the one peer group, from the values these figures hold.

use super::Figures;
use crate::analytics::{self, BenchmarkRow, GapRow, TrustBenchmarkRow};
use crate::domain::Quarter;
use anyhow::{Context, Result};
use std::sync::Arc;

/// A peer group's benchmarks, its trusts' positions within it and its gap summaries, every
/// quarter; `peer_group` in each row is the group's key (`saved-12`).
#[derive(Debug, Default)]
pub struct GroupFigures {
    pub key: String,
    pub members: Vec<String>,
    pub benchmarks: Vec<BenchmarkRow>,
    pub trust_benchmarks: Vec<TrustBenchmarkRow>,
    pub gaps: Vec<GapRow>,
}

impl GroupFigures {
    pub fn benchmark(&self, metric_id: &str, period: Quarter) -> Option<&BenchmarkRow> {
        self.benchmarks.iter().find(|b| b.period == period && *b.metric_id == *metric_id)
    }

    pub fn contains(&self, org_code: &str) -> bool {
        self.members.binary_search_by(|m| m.as_str().cmp(org_code)).is_ok()
    }
}

/// How many groups' figures one data version keeps.
const KEPT: usize = 16;

/// The groups' figures kept, newest asked for first, by key and members.
#[derive(Debug, Default)]
pub struct KeptGroups(std::sync::Mutex<Vec<(String, Arc<GroupFigures>)>>);

impl Figures {
    /// The figures of peer group `key` made of `members`, computed once for these figures (one
    /// data version) and kept while they are asked for: an edited group's new members are a new
    /// entry, so it never answers with the old ones.
    pub fn group(&self, key: &str, members: &[String]) -> Result<Arc<GroupFigures>> {
        let id = format!("{key}:{}", members.join(","));
        if let Some((_, g)) = self.groups.0.lock().expect("groups lock").iter().find(|(k, _)| *k == id) {
            return Ok(g.clone());
        }
        let g = Arc::new(self.for_group(key, members)?);
        let mut kept = self.groups.0.lock().expect("groups lock");
        kept.retain(|(k, _)| *k != id);
        kept.insert(0, (id, g.clone()));
        kept.truncate(KEPT);
        Ok(g)
    }

    /// The figures of the peer group `key` made of `members` (ODS codes; unknown ones are left
    /// out). Only the members' values are read, by their positions, so the cost follows the
    /// group's size rather than the whole table's.
    pub fn for_group(&self, key: &str, members: &[String]) -> Result<GroupFigures> {
        let r = &self.reference;
        let mut members: Vec<String> = members.iter().filter(|c| r.organisation(c).is_some()).cloned().collect();
        members.sort();
        members.dedup();
        let orgs: Vec<u32> = members.iter().filter_map(|c| r.org_position(c)).map(|i| i as u32).collect();
        let mut values = analytics::ValuesBuilder::default();
        for (p, q) in &self.quarters {
            for &o in &orgs {
                for m in 0..r.metrics.len() as u32 {
                    if let Some(i) = q.core.value_at.get(&(o, m)) {
                        values.push_coded(o, m, *p, q.core.values[i].value);
                    }
                }
            }
        }
        let values = values.finish().context("the group's values")?;
        let mut tables = analytics::compute_group(r, values)
            .and_then(|frames| frames.tables(r))
            .context("computing the peer group's benchmarks")?;
        let key: analytics::Text = key.into();
        for b in &mut tables.benchmarks {
            b.peer_group = key.clone();
            // England's median is every trust's, not the group's.
            if let Some(n) = crate::domain::TrustType::ALL
                .iter()
                .find_map(|t| self.benchmark(&b.metric_id, b.period, t.as_str()))
                .map(|x| x.national_median)
            {
                b.national_median = n;
            }
        }
        for g in &mut tables.gaps {
            g.peer_group = key.clone();
        }
        Ok(GroupFigures {
            key: key.to_string(),
            members,
            benchmarks: tables.benchmarks,
            trust_benchmarks: tables.trust_benchmarks,
            gaps: tables.gaps,
        })
    }
}

//! The quartiles of each domain index and of the maturity index, per quarter, over each trust
//! type and over England, for every trust, the exemplar trusts and the others: what the overview
//! and the scorecards compare with (docs/RULES.md §4.3).
//!
//! Computed from the index rows themselves, once per refresh of their quarters: a few hundred
//! thousand small groups at national scale, where a polars group-by over six copies of the
//! rows cost a fifth of the whole recompute (BENCHMARKS.md, "One shape").

use super::tables::{IndexRow, IndexSummaryRow};
use super::{quantile, sorted};
use crate::domain::Quarter;
use crate::domain::{Reference, TrustType};

/// The groups, in their order: every trust, the exemplar trusts, the others.
const GROUPS: [&str; 3] = ["all", "exemplar", "others"];

/// An index as the summaries read it: its organisation's position in the reference and its
/// domain's (`domains.len()` for the maturity index).
#[derive(Debug, Clone, Copy)]
pub struct CodedIndex {
    pub period: Quarter,
    pub org: usize,
    pub domain: usize,
    pub index: Option<f64>,
}

/// The summaries of `indices` (any quarters), ordered by quarter, scope (the trust types in
/// their order, then England), domain (catalogue order, then `all`) and group.
pub fn index_summaries(indices: &[IndexRow], reference: &Reference) -> Vec<IndexSummaryRow> {
    let all = reference.domains.len();
    let coded: Vec<CodedIndex> = indices
        .iter()
        .filter_map(|row| {
            Some(CodedIndex {
                period: row.period,
                org: reference.org_position(&row.org_code)?,
                domain: reference.domains.iter().position(|d| d.domain_id == *row.domain).unwrap_or(all),
                index: row.domain_index,
            })
        })
        .collect();
    coded_summaries(&coded, reference)
}

/// `index_summaries` of indices whose organisations and domains are positions already (a
/// refresh's records): no lookup of a code.
pub fn coded_summaries(indices: &[CodedIndex], reference: &Reference) -> Vec<IndexSummaryRow> {
    let Some((first, last)) = indices.iter().map(|i| i.period).fold(None, |range, p| match range {
        None => Some((p, p)),
        Some((lo, hi)) => Some((lo.min(p), hi.max(p))),
    }) else {
        return Vec::new();
    };
    // One bucket per (quarter, scope, domain, group), addressed by position.
    let scopes = TrustType::ALL.len() + 1;
    let domains = reference.domains.len() + 1;
    let bucket = |period: Quarter, scope: usize, domain: usize, group: usize| {
        (((period - first) as usize * scopes + scope) * domains + domain) * GROUPS.len() + group
    };
    let mut buckets: Vec<Vec<f64>> = vec![Vec::new(); ((last - first) as usize + 1) * scopes * domains * GROUPS.len()];
    for row in indices {
        let Some(v) = row.index else { continue };
        let Some(org) = reference.organisations.get(row.org) else { continue };
        let scope = TrustType::ALL.iter().position(|t| *t == org.trust_type).unwrap_or_default();
        let domain = row.domain.min(domains - 1);
        let group = if org.exemplar.is_exemplar() { 1 } else { 2 };
        for s in [scope, scopes - 1] {
            buckets[bucket(row.period, s, domain, 0)].push(v);
            buckets[bucket(row.period, s, domain, group)].push(v);
        }
    }
    let mut out = Vec::new();
    for period in (first.index()..=last.index()).map(Quarter::from_index) {
        for scope in 0..scopes {
            for domain in 0..domains {
                for (group, name) in GROUPS.iter().enumerate() {
                    let values = std::mem::take(&mut buckets[bucket(period, scope, domain, group)]);
                    if values.is_empty() {
                        continue;
                    }
                    let values = sorted(values);
                    out.push(IndexSummaryRow {
                        period,
                        scope: if scope == scopes - 1 { reference.word("england") } else { reference.type_text(scope) },
                        domain: if domain == domains - 1 {
                            reference.word("all")
                        } else {
                            reference.domain_text(domain)
                        },
                        group: reference.word(name),
                        n: values.len() as i64,
                        p25: quantile(&values, 0.25),
                        median: quantile(&values, 0.5),
                        p75: quantile(&values, 0.75),
                    });
                }
            }
        }
    }
    out
}

//! Each export's columns and rows, in the order of docs/RULES.md §7.4.

use super::{Filter, Out, declared, write_table};
use crate::domain::Quarter;
use crate::figures::Figures;
use crate::figures::groups::GroupFigures;
use std::io::Write;

/// What the store keeps besides the figures that some exports list.
#[derive(Debug, Clone, Copy, Default)]
pub struct Records<'a> {
    pub findings: &'a [crate::store::Finding],
    pub releases: &'a [crate::store::Release],
    /// Each quarter's collection: its window, and where each trust of the reference data (in
    /// its order) stands.
    pub completeness: &'a [QuarterProgress],
    /// The NHS App uptake figures, for the `app_uptake` export.
    pub uptake: &'a [crate::analytics::uptake::UptakeFigure],
    /// The blueprints (the export lists the published ones).
    pub blueprints: &'a [crate::store::Blueprint],
    /// The saved peer groups the reader may see (the `peer_groups` export).
    pub peer_groups: &'a [crate::store::PeerGroup],
}

type Rows<'a, T> = Box<dyn Iterator<Item = &'a T> + 'a>;

/// The benchmarks: the chosen saved group's, or every trust type's.
fn benchmarks<'a>(f: &'a Figures, group: Option<&'a GroupFigures>) -> Rows<'a, crate::analytics::BenchmarkRow> {
    match group {
        Some(g) => Box::new(g.benchmarks.iter()),
        None => Box::new(f.benchmarks()),
    }
}

/// Each trust's position: within the chosen saved group, or within its trust type.
fn trust_benchmarks<'a>(
    f: &'a Figures,
    group: Option<&'a GroupFigures>,
) -> Box<dyn Iterator<Item = crate::analytics::TrustBenchmarkRow> + 'a> {
    match group {
        Some(g) => Box::new(g.trust_benchmarks.iter().cloned()),
        None => Box::new(f.trust_benchmarks()),
    }
}

fn gaps<'a>(f: &'a Figures, group: Option<&'a GroupFigures>) -> Rows<'a, crate::analytics::GapRow> {
    match group {
        Some(g) => Box::new(g.gaps.iter()),
        None => Box::new(f.gaps()),
    }
}

/// Whether export `name` lists the NHS App uptake figures.
pub fn reads_uptake(name: &str) -> bool {
    matches!(name, "app_uptake" | "app_uptake_change")
}

/// The uptake figures `filter` keeps (its months and areas).
fn uptake_kept<'a>(
    records: &Records<'a>,
    filter: &'a Filter,
) -> impl Iterator<Item = &'a crate::analytics::uptake::UptakeFigure> {
    records.uptake.iter().filter(|u| {
        filter.month_ok(u.month) && crate::domain::uptake::area(&u.area_code).is_some_and(|a| filter.area_ok(a))
    })
}

/// One quarter's collection, for the completeness export.
#[derive(Debug, Clone)]
pub struct QuarterProgress {
    pub quarter: Quarter,
    pub window: Option<crate::store::Window>,
    pub progress: Vec<crate::store::Progress>,
}

/// The records an export reads from the store, read once for the web and the command line.
#[derive(Debug, Default)]
pub struct Stored {
    findings: Vec<crate::store::Finding>,
    releases: Vec<crate::store::Release>,
    completeness: Vec<QuarterProgress>,
    uptake: std::sync::Arc<Vec<crate::analytics::uptake::UptakeFigure>>,
    blueprints: Vec<crate::store::Blueprint>,
    peer_groups: Vec<crate::store::PeerGroup>,
}

/// Whether export `name` has a row per peer group and trust, computed for a saved group.
pub fn reads_group(name: &str) -> bool {
    matches!(name, "benchmarks" | "trust_benchmarks" | "gaps")
}

/// Whether a finding is about a metric and trust the filter keeps (a domain's always are).
fn finding_ok(filter: &Filter, r: &crate::domain::Reference, x: &crate::store::Finding) -> bool {
    match x.subject_kind.as_str() {
        "metric" => filter.metric_ok(&x.subject),
        "trust" => filter.org_ok(r, &x.subject),
        _ => true,
    }
}

/// Reads the saved peer group `filter` chooses, if any, and keeps its trusts in the filter.
/// The outer error is the store's; the inner one, a message for the reader: a group that does
/// not exist and one that `viewer` (a user's id; `None`, shared groups only) may not see are
/// the same answer, so that private groups are not found by trying ids.
pub async fn resolve_group(
    store: &crate::store::Store,
    filter: &mut Filter,
    viewer: Option<i64>,
) -> anyhow::Result<Result<Option<crate::store::PeerGroup>, String>> {
    let Some(id) = filter.saved_group else { return Ok(Ok(None)) };
    match store.peer_group(id).await?.filter(|g| g.visible_to(viewer)) {
        Some(g) => {
            filter.members = Some(g.members.clone());
            Ok(Ok(Some(g)))
        }
        None => Ok(Err(format!(
            "peer_group: there is no saved peer group {} that you can see; the peer_groups export lists yours and those shared",
            crate::store::group_key(id)
        ))),
    }
}

impl Stored {
    /// Reads what export `name` needs: the completeness of the quarters `filter` keeps (every
    /// quarter with data) only for the completeness export.
    /// `viewer` is the reader's user id (`None`: shared peer groups only); a saved group chosen
    /// in `filter` must have been resolved (`resolve_group`).
    pub async fn load(
        store: &crate::store::Store,
        f: &Figures,
        name: &str,
        filter: &Filter,
        viewer: Option<i64>,
    ) -> anyhow::Result<Self> {
        let mut completeness = Vec::new();
        if name == "completeness" {
            let orgs: Vec<String> = f.reference.organisations.iter().map(|o| o.ods_code.clone()).collect();
            for quarter in f.periods.iter().filter(|q| filter.period_ok(**q)) {
                let progress = store.progress(quarter, &orgs).await?;
                let window = store.window(&quarter.to_string()).await?;
                completeness.push(QuarterProgress { quarter: *quarter, window, progress });
            }
        }
        let uptake = if reads_uptake(name) {
            let values = store.uptake().await?;
            std::sync::Arc::new(
                tokio::task::spawn_blocking(move || crate::analytics::uptake::uptake_figures(&values)).await?,
            )
        } else {
            std::sync::Arc::default()
        };
        let blueprints = if name == "blueprints" { store.blueprints().await? } else { Vec::new() };
        let peer_groups = if name == "peer_groups" {
            store.peer_groups().await?.into_iter().filter(|g| g.visible_to(viewer)).collect()
        } else {
            Vec::new()
        };
        Ok(Self {
            findings: store.findings().await?,
            releases: store.releases().await?,
            completeness,
            uptake,
            blueprints,
            peer_groups,
        })
    }

    /// The uptake figures a caller already holds for the data version (the server keeps them),
    /// for records loaded without them.
    pub fn with_uptake(mut self, figures: std::sync::Arc<Vec<crate::analytics::uptake::UptakeFigure>>) -> Self {
        self.uptake = figures;
        self
    }

    pub fn records(&self) -> Records<'_> {
        Records {
            findings: &self.findings,
            releases: &self.releases,
            completeness: &self.completeness,
            uptake: &self.uptake,
            blueprints: &self.blueprints,
            peer_groups: &self.peer_groups,
        }
    }
}

/// Writes export `name` with `filter`; `Ok(false)` when there is no such export.
/// `findings` are the board's findings, which live outside the figures of a data version.
/// A release's change list, as far as the revisions export reads it (see `publish::Changes`).
#[derive(Default, serde::Deserialize)]
struct RevisionList {
    since: Option<String>,
    #[serde(default)]
    revised: Vec<RevisedValue>,
}

#[derive(serde::Deserialize)]
pub(super) struct RevisedValue {
    pub(super) org_code: String,
    pub(super) metric_id: String,
    pub(super) period: String,
    pub(super) published: f64,
    pub(super) now: f64,
}

pub fn write_export<W: Write + Send>(
    name: &str,
    f: &Figures,
    records: &Records<'_>,
    filter: &Filter,
    out: Out<W>,
) -> anyhow::Result<bool> {
    let findings = records.findings;
    let r = &f.reference;
    // The benchmarks, trust positions and gaps of a saved peer group replace those by type.
    let group = match (&filter.peer_group, &filter.members) {
        (Some(key), Some(members)) if reads_group(name) => Some(f.group(key, members)?),
        _ => None,
    };
    match name {
        "organisations" => write_table(
            out,
            "organisations",
            r.organisations
                .iter()
                .filter(|o| filter.peer_ok(o.trust_type.as_str()) && filter.org_ok(r, &o.ods_code))
                .map(declared::organisations::cells),
        )?,
        "metrics" => write_table(
            out,
            "metrics",
            r.metrics
                .iter()
                .filter(|m| {
                    filter.metric_ok(&m.metric_id)
                        && (filter.saved_group.is_some()
                            || filter.peer_group.as_deref().is_none_or(|p| p.parse().is_ok_and(|t| m.applies(t))))
                })
                .map(declared::metrics::cells),
        )?,
        "metric_definitions" => write_table(
            out,
            "metric_definitions",
            r.metrics.iter().filter(|m| filter.metric_ok(&m.metric_id)).map(declared::metric_definitions::cells),
        )?,
        "values" => write_table(
            out,
            "values",
            f.values_by_code()
                .filter_map(|v| Some((r.organisation(&v.org_code)?, r.metric(&v.metric_id)?, v)))
                .filter(|(o, _, v)| {
                    filter.period_ok(v.period)
                        && filter.metric_ok(&v.metric_id)
                        && filter.peer_ok(o.trust_type.as_str())
                        && filter.org_ok(r, &v.org_code)
                })
                .map(|(o, m, v)| declared::values::cells(&v, o, m)),
        )?,
        "benchmarks" => write_table(
            out,
            "benchmarks",
            benchmarks(f, group.as_deref())
                .filter(|b| {
                    filter.period_ok(b.period) && filter.group_ok(&b.peer_group) && filter.metric_ok(&b.metric_id)
                })
                .map(declared::benchmarks::cells),
        )?,
        "trust_benchmarks" => write_table(
            out,
            "trust_benchmarks",
            trust_benchmarks(f, group.as_deref())
                .filter(|t| {
                    filter.period_ok(t.period)
                        && filter.peer_ok(&t.trust_type)
                        && filter.metric_ok(&t.metric_id)
                        && filter.org_ok(r, &t.org_code)
                })
                .map(|t| declared::trust_benchmarks::cells(&t)),
        )?,
        "indices" => write_table(
            out,
            "indices",
            f.indices()
                .filter(|i| {
                    filter.period_ok(i.period) && filter.peer_ok(&i.trust_type) && filter.org_ok(r, &i.org_code)
                })
                .map(|i| declared::indices::cells(&i)),
        )?,
        "trends" => write_table(
            out,
            "trends",
            f.trends()
                .filter(|t| {
                    filter.period_ok(t.period)
                        && filter.metric_ok(&t.metric_id)
                        && filter.org_ok(r, &t.org_code)
                        && r.organisation(&t.org_code).is_some_and(|o| filter.peer_ok(o.trust_type.as_str()))
                })
                .map(|t| declared::trends::cells(&t)),
        )?,
        "gaps" => write_table(
            out,
            "gaps",
            gaps(f, group.as_deref())
                .filter(|g| {
                    filter.period_ok(g.period) && filter.group_ok(&g.peer_group) && filter.metric_ok(&g.metric_id)
                })
                .map(declared::gaps::cells),
        )?,
        "revisions" => {
            let mut rows = Vec::new();
            // Oldest release first.
            for release in records.releases.iter().rev() {
                let changes: RevisionList = serde_json::from_str(&release.changes).unwrap_or_default();
                for v in changes.revised.iter().filter(|v| {
                    filter.metric_ok(&v.metric_id)
                        && filter.org_ok(r, &v.org_code)
                        && Quarter::parse(&v.period).is_ok_and(|p| filter.period_ok(p))
                }) {
                    rows.push(declared::revisions::cells(release, changes.since.as_deref(), v));
                }
            }
            write_table(out, "revisions", rows.into_iter())?
        }
        "intervals" => {
            let keep_org = |o: &str| {
                filter.org_ok(r, o) && r.organisation(o).is_some_and(|o| filter.peer_ok(o.trust_type.as_str()))
            };
            let rows = f.periods.iter().filter(|p| filter.period_ok(**p)).flat_map(|p| {
                f.statistics(*p)
                    .map(|s| s.intervals.as_slice())
                    .unwrap_or_default()
                    .iter()
                    .filter(|i| filter.metric_ok(&i.metric_id) && keep_org(&i.org_code))
                    .map(declared::intervals::cells)
                    .collect::<Vec<_>>()
            });
            write_table(out, "intervals", rows)?
        }
        "funnels" => {
            let rows = f.periods.iter().filter(|p| filter.period_ok(**p)).flat_map(|p| {
                f.statistics(*p)
                    .map(|s| s.funnels.as_slice())
                    .unwrap_or_default()
                    .iter()
                    .filter(|x| {
                        filter.metric_ok(&x.metric_id)
                            && filter.org_ok(r, &x.org_code)
                            && r.organisation(&x.org_code).is_some_and(|o| filter.peer_ok(o.trust_type.as_str()))
                    })
                    .map(declared::funnels::cells)
                    .collect::<Vec<_>>()
            });
            write_table(out, "funnels", rows)?
        }
        "spc" | "spc_groups" => {
            let groups = name == "spc_groups";
            let keep = |subject: &str, metric: &str| {
                filter.metric_ok(metric)
                    && if groups {
                        filter.group_ok(subject)
                    } else {
                        filter.org_ok(r, subject)
                            && r.organisation(subject).is_some_and(|o| filter.peer_ok(o.trust_type.as_str()))
                    }
            };
            let rows = f
                .spc_rows(groups, keep)
                .into_iter()
                .filter(|x| filter.period_ok(x.period))
                .map(|x| if groups { declared::spc_groups::cells(&x) } else { declared::spc::cells(&x) });
            write_table(out, name, rows)?
        }
        "completeness" => {
            let now = crate::store::now_text();
            let rows = records.completeness.iter().flat_map(|c| {
                r.organisations
                    .iter()
                    .zip(&c.progress)
                    .filter(|(o, _)| filter.peer_ok(o.trust_type.as_str()) && filter.org_ok(r, &o.ods_code))
                    .map(|(o, p)| declared::completeness::cells(c, o, p, &now))
                    .collect::<Vec<_>>()
            });
            write_table(out, "completeness", rows)?
        }
        "findings" => write_table(
            out,
            "findings",
            findings.iter().filter(|x| finding_ok(filter, r, x)).map(declared::findings::cells),
        )?,
        "recommendations" => {
            let today = chrono::Utc::now().date_naive();
            write_table(
                out,
                "recommendations",
                findings
                    .iter()
                    .filter(|x| finding_ok(filter, r, x))
                    .map(|x| declared::recommendations::cells(x, today)),
            )?
        }
        "standards" => write_table(out, "standards", r.standards.iter().map(declared::standards::cells))?,
        "targets" => write_table(
            out,
            "targets",
            f.targets
                .iter()
                .filter(|t| {
                    filter.metric_ok(&t.metric_id)
                        && filter.org_ok(r, &t.org_code)
                        && filter.period.is_none_or(|p| p == t.period)
                })
                .map(|t| declared::targets::cells(t, f)),
        )?,
        "areas" => write_table(
            out,
            "areas",
            crate::domain::uptake::areas().iter().filter(|a| filter.area_ok(a)).map(declared::areas::cells),
        )?,
        "app_uptake" => write_table(out, "app_uptake", uptake_kept(records, filter).map(declared::app_uptake::cells))?,
        "app_uptake_change" => {
            write_table(out, "app_uptake_change", uptake_kept(records, filter).map(declared::app_uptake_change::cells))?
        }
        "evaluation" | "evaluation_units" | "event_study" => {
            let all = f.evaluation();
            let rows = all.iter().flat_map(|c| c.rows.iter());
            match name {
                "evaluation" => write_table(out, name, rows.map(declared::evaluation::cells))?,
                "evaluation_units" => write_table(
                    out,
                    name,
                    all.iter().flat_map(|c| c.units.iter()).map(declared::evaluation_units::cells),
                )?,
                _ => {
                    let events: Vec<_> = rows.flat_map(|r| r.events()).collect();
                    write_table(out, name, events.iter().map(declared::event_study::cells))?
                }
            }
        }
        "blueprints" => write_table(
            out,
            "blueprints",
            records
                .blueprints
                .iter()
                .filter(|b| b.status == "published" && filter.org_ok(r, &b.org_code))
                .map(declared::blueprints::cells),
        )?,
        "peer_groups" => write_table(
            out,
            "peer_groups",
            records.peer_groups.iter().flat_map(|g| {
                g.members
                    .iter()
                    .filter(|m| {
                        filter.org_ok(r, m) && r.organisation(m).is_some_and(|o| filter.peer_ok(o.trust_type.as_str()))
                    })
                    .map(move |m| declared::peer_groups::cells(g, m, r))
            }),
        )?,
        "peers" => {
            let quarter = filter.period.or_else(|| f.latest_period());
            let peers = quarter.map(|q| f.peers(q, None)).unwrap_or_default();
            write_table(
                out,
                "peers",
                peers
                    .iter()
                    .filter(|p| {
                        filter.org_ok(r, &p.org_code)
                            && r.organisation(&p.org_code).is_some_and(|o| filter.peer_ok(o.trust_type.as_str()))
                    })
                    .map(declared::peers::cells),
            )?
        }
        "conformance" | "systems" | "trust_conformance" | "upgrades" => {
            return super::conformance::write_conformance_export(name, f, filter, out);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

//! Each export's columns and rows, in the order of docs/RULES.md §7.4.

use super::{Cell, Filter, Out, write_table};
use crate::domain::Quarter;
use crate::figures::Figures;
use std::io::Write;

/// The exports this module writes, with a one-line description each.
pub const EXPORTS: &[(&str, &str)] = &[
    ("organisations", "Every trust: type (its peer group), region and exemplar cohort."),
    ("metrics", "The metric catalogue: domain, unit, scale, direction and the trust types each applies to."),
    (
        "metric_definitions",
        "Each metric's definition: why it matters, its numerator and denominator, source, frequency and caveats.",
    ),
    ("values", "The current value of every metric a trust has submitted, with its revision and when it was submitted."),
    ("benchmarks", "Peer-group distribution of each metric per quarter: quartiles, exemplar and national medians."),
    ("trust_benchmarks", "Each trust's rank, percentile, quartile, score and gaps on each metric per quarter."),
    ("indices", "Domain indices and the maturity index (domain = all) of each trust per quarter."),
    ("trends", "Change on the previous quarter and the four-quarter trend of each trust's values."),
    ("gaps", "Where best practice is not followed: how many trusts of each peer group are behind the exemplar median."),
    (
        "conformance",
        "Every conformance result ever submitted, with whether it is the current one for its subject and standard.",
    ),
    ("systems", "Each system's procurable status today and the mandatory standards it fails."),
    ("trust_conformance", "Each trust's required and passed standards results and its conformance rate today."),
    ("upgrades", "Every deployment of a system that is not procurable today, with the standards it fails."),
    ("findings", "The board's findings and recommendations, on a metric, a domain or a trust, with their status."),
    (
        "standards",
        "The open standards catalogue: category, version, when each is mandatory from and what it is assessed for.",
    ),
    (
        "targets",
        "The latest target of each exemplar trust for each metric and quarter, with its baseline and progress.",
    ),
    (
        "revisions",
        "Every value revised after it was published, with the release that published it and the one that revised it.",
    ),
    (
        "intervals",
        "Each proportion's 95 % and 99.8 % Wilson score intervals and its significance against England and its peer group.",
    ),
    (
        "funnels",
        "Each proportion metric's funnel plot per quarter: each trust's denominator and value with the control limits at it.",
    ),
    (
        "spc",
        "Making Data Count XmR charts of each trust's quarterly series: mean, process limits, special causes and icons.",
    ),
    ("spc_groups", "Making Data Count XmR charts of each peer group's median per metric and quarter."),
    (
        "completeness",
        "Each quarter's collection: whether each trust has submitted, signed off or not started, and the window's closing time.",
    ),
];

/// What the store keeps besides the figures that some exports list.
#[derive(Debug, Clone, Copy, Default)]
pub struct Records<'a> {
    pub findings: &'a [crate::store::Finding],
    pub releases: &'a [crate::store::Release],
    /// Each quarter's collection: its window, and where each trust of the reference data (in
    /// its order) stands.
    pub completeness: &'a [QuarterProgress],
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
}

impl Stored {
    /// Reads what export `name` needs: the completeness of the quarters `filter` keeps (every
    /// quarter with data) only for the completeness export.
    pub async fn load(store: &crate::store::Store, f: &Figures, name: &str, filter: &Filter) -> anyhow::Result<Self> {
        let mut completeness = Vec::new();
        if name == "completeness" {
            let orgs: Vec<String> = f.reference.organisations.iter().map(|o| o.ods_code.clone()).collect();
            for quarter in f.periods.iter().filter(|q| filter.period_ok(**q)) {
                let progress = store.progress(quarter, &orgs).await?;
                let window = store.window(&quarter.to_string()).await?;
                completeness.push(QuarterProgress { quarter: *quarter, window, progress });
            }
        }
        Ok(Self { findings: store.findings().await?, releases: store.releases().await?, completeness })
    }

    pub fn records(&self) -> Records<'_> {
        Records { findings: &self.findings, releases: &self.releases, completeness: &self.completeness }
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
struct RevisedValue {
    org_code: String,
    metric_id: String,
    period: String,
    published: f64,
    now: f64,
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
    let q = |p: Quarter| p.to_string();
    match name {
        "organisations" => write_table(
            out,
            "organisations",
            r.organisations
                .iter()
                .filter(|o| filter.peer_ok(o.trust_type.as_str()) && filter.org_ok(r, &o.ods_code))
                .map(|o| {
                    vec![
                        Cell::text(&o.ods_code),
                        Cell::text(&o.name),
                        Cell::text(o.trust_type.as_str()),
                        Cell::text(&o.region),
                        Cell::text(&o.icb),
                        Cell::text(o.exemplar.as_str()),
                        o.exemplar_cohort.map_or(Cell::Empty, |y| Cell::Int(i64::from(y))),
                    ]
                }),
        )?,
        "metrics" => write_table(
            out,
            "metrics",
            r.metrics
                .iter()
                .filter(|m| {
                    filter.metric_ok(&m.metric_id)
                        && filter.peer_group.as_deref().is_none_or(|p| p.parse().is_ok_and(|t| m.applies(t)))
                })
                .map(|m| {
                    vec![
                        Cell::text(&*m.metric_id),
                        Cell::text(&*m.domain),
                        Cell::text(&m.name),
                        Cell::text(m.unit.as_str()),
                        Cell::Number(m.scale_min),
                        Cell::Number(m.scale_max),
                        Cell::text(m.direction.as_str()),
                        Cell::text(m.applies_to_text()),
                    ]
                }),
        )?,
        "metric_definitions" => write_table(
            out,
            "metric_definitions",
            r.metrics.iter().filter(|m| filter.metric_ok(&m.metric_id)).map(|m| {
                let d = &m.definition;
                vec![
                    Cell::text(&*m.metric_id),
                    Cell::text(&m.name),
                    Cell::text(&d.rationale),
                    Cell::text(&d.numerator),
                    Cell::text(&d.denominator),
                    Cell::text(&d.source),
                    Cell::text(&d.frequency),
                    Cell::text(&d.caveats),
                ]
            }),
        )?,
        "values" => write_table(out, "values", {
            let mut rows: Vec<_> = f
                .values()
                .filter_map(|v| Some((v, r.organisation(&v.org_code)?, r.metric(&v.metric_id)?)))
                .filter(|(v, o, _)| {
                    filter.period_ok(v.period)
                        && filter.metric_ok(&v.metric_id)
                        && filter.peer_ok(o.trust_type.as_str())
                        && filter.org_ok(r, &v.org_code)
                })
                .collect();
            rows.sort_by(|a, b| {
                (&a.0.org_code, &a.0.metric_id, a.0.period).cmp(&(&b.0.org_code, &b.0.metric_id, b.0.period))
            });
            rows.into_iter().map(|(v, o, m)| {
                let p = v.period;
                vec![
                    Cell::text(&o.ods_code),
                    Cell::text(&o.name),
                    Cell::text(o.trust_type.as_str()),
                    Cell::text(&o.region),
                    Cell::text(&o.icb),
                    Cell::text(o.exemplar.as_str()),
                    Cell::text(&*m.metric_id),
                    Cell::text(&*m.domain),
                    Cell::text(p.to_string()),
                    Cell::text(p.start().to_string()),
                    Cell::text(p.end().to_string()),
                    Cell::Number(v.value),
                    Cell::Int(v.revision),
                    Cell::text(&*v.submitted_at),
                ]
            })
        })?,
        "benchmarks" => write_table(
            out,
            "benchmarks",
            f.benchmarks()
                .filter(|b| {
                    filter.period_ok(b.period) && filter.peer_ok(&b.peer_group) && filter.metric_ok(&b.metric_id)
                })
                .map(|b| {
                    vec![
                        Cell::text(&*b.metric_id),
                        Cell::text(&*b.domain),
                        Cell::text(q(b.period)),
                        Cell::text(&*b.peer_group),
                        Cell::Int(b.n),
                        Cell::Number(b.min),
                        Cell::Number(b.p25),
                        Cell::Number(b.median),
                        Cell::Number(b.p75),
                        Cell::Number(b.max),
                        Cell::Number(b.mean),
                        Cell::Int(b.exemplar_n),
                        Cell::opt_number(b.exemplar_median),
                        Cell::Number(b.national_median),
                    ]
                }),
        )?,
        "trust_benchmarks" => write_table(
            out,
            "trust_benchmarks",
            f.trust_benchmarks()
                .filter(|t| {
                    filter.period_ok(t.period)
                        && filter.peer_ok(&t.trust_type)
                        && filter.metric_ok(&t.metric_id)
                        && filter.org_ok(r, &t.org_code)
                })
                .map(|t| {
                    vec![
                        Cell::text(&*t.org_code),
                        Cell::text(&*t.trust_type),
                        Cell::text(&*t.metric_id),
                        Cell::text(q(t.period)),
                        Cell::Number(t.value),
                        Cell::Int(t.rank),
                        Cell::Number(t.percentile),
                        Cell::Int(t.quartile),
                        Cell::Number(t.score),
                        Cell::opt_number(t.gap_to_exemplar),
                        Cell::Number(t.gap_to_median),
                        t.behind_best_practice.map_or(Cell::Empty, Cell::Bool),
                    ]
                }),
        )?,
        "indices" => write_table(
            out,
            "indices",
            f.indices()
                .filter(|i| {
                    filter.period_ok(i.period) && filter.peer_ok(&i.trust_type) && filter.org_ok(r, &i.org_code)
                })
                .map(|i| {
                    vec![
                        Cell::text(&*i.org_code),
                        Cell::text(&*i.trust_type),
                        Cell::text(q(i.period)),
                        Cell::text(&*i.domain),
                        Cell::opt_number(i.domain_index),
                        Cell::Int(i.n_metrics),
                        Cell::Int(i.n_applicable),
                    ]
                }),
        )?,
        "trends" => write_table(
            out,
            "trends",
            f.trends()
                .filter(|t| {
                    filter.period_ok(t.period)
                        && filter.metric_ok(&t.metric_id)
                        && filter.org_ok(r, &t.org_code)
                        && filter
                            .peer_group
                            .as_deref()
                            .is_none_or(|p| r.organisation(&t.org_code).is_some_and(|o| o.trust_type.as_str() == p))
                })
                .map(|t| {
                    vec![
                        Cell::text(&*t.org_code),
                        Cell::text(&*t.metric_id),
                        Cell::text(q(t.period)),
                        Cell::opt_number(t.change),
                        Cell::opt_number(t.slope),
                        t.trend.as_deref().map_or(Cell::Empty, Cell::text),
                    ]
                }),
        )?,
        "gaps" => write_table(
            out,
            "gaps",
            f.gaps()
                .filter(|g| {
                    filter.period_ok(g.period) && filter.peer_ok(&g.peer_group) && filter.metric_ok(&g.metric_id)
                })
                .map(|g| {
                    vec![
                        Cell::text(&*g.metric_id),
                        Cell::text(q(g.period)),
                        Cell::text(&*g.peer_group),
                        Cell::Int(g.n),
                        Cell::Int(g.n_behind),
                        Cell::Number(g.share_behind),
                        Cell::opt_number(g.median_gap),
                    ]
                }),
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
                    rows.push(vec![
                        Cell::text(&release.id),
                        Cell::text(&release.published_at),
                        changes.since.as_deref().map_or(Cell::Empty, Cell::text),
                        Cell::text(&v.org_code),
                        Cell::text(&v.metric_id),
                        Cell::text(&v.period),
                        Cell::Number(v.published),
                        Cell::Number(v.now),
                    ]);
                }
            }
            write_table(out, "revisions", rows.into_iter())?
        }
        "intervals" => {
            let keep_org = |o: &str| {
                filter.org_ok(r, o)
                    && filter
                        .peer_group
                        .as_deref()
                        .is_none_or(|p| r.organisation(o).is_some_and(|o| o.trust_type.as_str() == p))
            };
            let rows = f.periods.iter().filter(|p| filter.period_ok(**p)).flat_map(|p| {
                f.statistics(*p)
                    .map(|s| s.intervals.as_slice())
                    .unwrap_or_default()
                    .iter()
                    .filter(|i| filter.metric_ok(&i.metric_id) && keep_org(&i.org_code))
                    .map(|i| {
                        let bound = |b: Option<(f64, f64)>, upper: bool| {
                            Cell::opt_number(b.map(|(l, u)| if upper { u } else { l }))
                        };
                        vec![
                            Cell::text(&*i.org_code),
                            Cell::text(&*i.metric_id),
                            Cell::text(q(i.period)),
                            i.counts.map_or(Cell::Empty, |c| Cell::Int(i64::from(c.numerator))),
                            i.counts.map_or(Cell::Empty, |c| Cell::Int(i64::from(c.denominator))),
                            Cell::Number(i.value),
                            bound(i.ci95, false),
                            bound(i.ci95, true),
                            bound(i.ci998, false),
                            bound(i.ci998, true),
                            Cell::opt_number(i.england_value),
                            Cell::text(i.vs_england_95.as_str()),
                            Cell::text(i.vs_england_998.as_str()),
                            Cell::opt_number(i.peer_value),
                            Cell::text(i.vs_peers_95.as_str()),
                            Cell::text(i.vs_peers_998.as_str()),
                        ]
                    })
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
                            && filter
                                .peer_group
                                .as_deref()
                                .is_none_or(|p| r.organisation(&x.org_code).is_some_and(|o| o.trust_type.as_str() == p))
                    })
                    .map(|x| {
                        vec![
                            Cell::text(&*x.metric_id),
                            Cell::text(q(x.period)),
                            Cell::text(&*x.org_code),
                            Cell::Int(i64::from(x.counts.denominator)),
                            Cell::Number(x.value),
                            Cell::Number(x.pooled_value),
                            Cell::Number(x.point.lower_95),
                            Cell::Number(x.point.upper_95),
                            Cell::Number(x.point.lower_998),
                            Cell::Number(x.point.upper_998),
                            Cell::text(x.point.position.as_str()),
                        ]
                    })
                    .collect::<Vec<_>>()
            });
            write_table(out, "funnels", rows)?
        }
        "spc" | "spc_groups" => {
            let groups = name == "spc_groups";
            let keep = |subject: &str, metric: &str| {
                filter.metric_ok(metric)
                    && if groups {
                        filter.peer_ok(subject)
                    } else {
                        filter.org_ok(r, subject)
                            && filter
                                .peer_group
                                .as_deref()
                                .is_none_or(|p| r.organisation(subject).is_some_and(|o| o.trust_type.as_str() == p))
                    }
            };
            let rows = f.spc_rows(groups, keep).into_iter().filter(|x| filter.period_ok(x.period)).map(|x| {
                vec![
                    Cell::text(&*x.subject),
                    Cell::text(&*x.metric_id),
                    Cell::text(q(x.period)),
                    Cell::Number(x.value),
                    Cell::Number(x.mean),
                    Cell::opt_number(x.limits.map(|l| l.0)),
                    Cell::opt_number(x.limits.map(|l| l.1)),
                    Cell::text(x.point.rule.as_str()),
                    Cell::text(x.point.point_type.as_str()),
                    Cell::text(x.variation_icon),
                    x.assurance_icon.map_or(Cell::Empty, Cell::text),
                ]
            });
            write_table(out, name, rows)?
        }
        "completeness" => {
            let now = crate::store::now_text();
            let rows = records.completeness.iter().flat_map(|c| {
                r.organisations
                    .iter()
                    .zip(&c.progress)
                    .filter(|(o, _)| filter.peer_ok(o.trust_type.as_str()) && filter.org_ok(r, &o.ods_code))
                    .map(|(o, p)| {
                        vec![
                            Cell::text(c.quarter.to_string()),
                            Cell::text(&o.ods_code),
                            Cell::text(&o.name),
                            Cell::text(o.trust_type.as_str()),
                            Cell::text(&o.region),
                            Cell::text(p.as_str()),
                            c.window.as_ref().map_or(Cell::Empty, |w| Cell::text(&w.closes_at)),
                            c.window.as_ref().map_or(Cell::Empty, |w| Cell::Bool(w.is_closed(&now))),
                        ]
                    })
                    .collect::<Vec<_>>()
            });
            write_table(out, "completeness", rows)?
        }
        "findings" => write_table(
            out,
            "findings",
            findings
                .iter()
                .filter(|x| match x.subject_kind.as_str() {
                    "metric" => filter.metric_ok(&x.subject),
                    "trust" => filter.org_ok(r, &x.subject),
                    _ => true,
                })
                .map(|x| {
                    vec![
                        Cell::Int(x.id),
                        Cell::text(&x.subject_kind),
                        Cell::text(&x.subject),
                        Cell::text(&x.title),
                        Cell::text(&x.body),
                        Cell::text(x.status.as_str()),
                        Cell::text(&x.owner),
                        Cell::text(&x.created_by),
                        Cell::text(&x.created_at),
                        Cell::text(&x.updated_at),
                        Cell::text(&x.period),
                        Cell::text(&x.based_on),
                    ]
                }),
        )?,
        "standards" => write_table(
            out,
            "standards",
            r.standards.iter().map(|x| {
                vec![
                    Cell::text(&x.standard_id),
                    Cell::text(&x.name),
                    Cell::text(x.category.as_str()),
                    Cell::text(&x.version),
                    x.mandatory_from.map_or(Cell::Empty, |d| Cell::text(d.to_string())),
                    Cell::text(x.assessed_at.as_str()),
                    Cell::text(&x.reference),
                ]
            }),
        )?,
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
                .map(|t| {
                    let (latest, baseline, progress) = f.progress(t);
                    vec![
                        Cell::text(&*t.org_code),
                        Cell::text(&*t.metric_id),
                        Cell::text(t.period.to_string()),
                        Cell::Number(t.target),
                        Cell::text(t.set_in.to_string()),
                        Cell::opt_number(baseline),
                        Cell::opt_number(latest),
                        Cell::opt_number(progress),
                    ]
                }),
        )?,
        "conformance" | "systems" | "trust_conformance" | "upgrades" => {
            return super::conformance::write_conformance_export(name, f, filter, out);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

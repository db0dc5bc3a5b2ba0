//! The open standards catalogue, the systems register with its conformance matrix and
//! procurable status, the upgrade list, and claimed against verified maturity.

use super::render;
use super::view::{Choice, Meta, SortHeader, num, region_choices, sort_headers, type_choices};
use crate::app::AppState;
use crate::auth::Auth;
use crate::conformance::{Current, claim_flagged, claim_rule, system_status, trust_conformance, upgrades};
use crate::domain::{AssessedAt, Standard, TrustType};
use crate::error::{AppError, Result};
use crate::store::ConformanceRecord;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Router};
use chrono::NaiveDate;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/standards", get(standards))
        .route("/standards/{standard_id}", get(standard))
        .route("/systems", get(systems))
        .route("/systems/upgrades", get(upgrade_list))
        .route("/systems/{system_id}", get(system))
        .route("/gaps/claims", get(claims))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct DateQuery {
    pub on: Option<String>,
    pub region: Option<String>,
    pub peer_group: Option<String>,
    pub sort: Option<String>,
    pub dir: Option<String>,
}

impl DateQuery {
    /// The date the user picked, or today.
    pub fn date(&self) -> Result<NaiveDate> {
        match self.on.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => d.parse().map_err(|_| AppError::BadRequest(format!("'{d}' is not a date such as 2026-04-01"))),
            None => Ok(chrono::Utc::now().date_naive()),
        }
    }
}

fn status_text(s: &Standard, today: NaiveDate) -> String {
    match s.mandatory_from {
        None => "Advisory".into(),
        Some(d) if d <= today => format!("Mandatory since {d}"),
        Some(d) => format!("Mandatory from {d}"),
    }
}

pub struct StandardRow {
    pub standard: Standard,
    pub status: String,
    pub meeting: String,
}

#[derive(Template)]
#[template(path = "standards.html")]
pub struct StandardsPage {
    pub today: String,
    pub standards: Vec<StandardRow>,
}

async fn standards(State(state): State<AppState>, Extension(auth): Extension<Auth>) -> Result<Html<String>> {
    let f = state.figures();
    let today = chrono::Utc::now().date_naive();
    let current = Current::on(&f.conformance, today);
    let standards = f
        .reference
        .standards
        .iter()
        .map(|s| {
            let meeting = match s.assessed_at {
                AssessedAt::System => {
                    let n = f.reference.systems.iter().filter(|x| current.passes(&x.system_id, &s.standard_id)).count();
                    format!("{n} of {} systems", f.reference.systems.len())
                }
                AssessedAt::Organisation => {
                    let n = f
                        .reference
                        .organisations
                        .iter()
                        .filter(|o| current.passes(&o.ods_code, &s.standard_id))
                        .count();
                    format!("{n} of {} trusts", f.reference.organisations.len())
                }
            };
            StandardRow { standard: s.clone(), status: status_text(s, today), meeting }
        })
        .collect();
    render(&auth, &StandardsPage { today: today.to_string(), standards })
}

#[derive(Template)]
#[template(path = "standard.html")]
pub struct StandardPage {
    pub standard: Standard,
    pub status: String,
    pub results: Vec<(String, String, ConformanceRecord)>,
    pub passing: usize,
}

async fn standard(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> Result<Html<String>> {
    let f = state.figures();
    let s = f
        .reference
        .standard(&id)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("There is no standard '{id}'.")))?;
    let today = chrono::Utc::now().date_naive();
    let current = Current::on(&f.conformance, today);
    let subjects: Vec<(String, String)> = match s.assessed_at {
        AssessedAt::System => {
            f.reference.systems.iter().map(|x| (x.system_id.clone(), format!("{} {}", x.supplier, x.product))).collect()
        }
        AssessedAt::Organisation => {
            f.reference.organisations.iter().map(|o| (o.ods_code.clone(), o.name.clone())).collect()
        }
    };
    let results: Vec<_> = subjects
        .into_iter()
        .filter_map(|(code, name)| current.get(&code, &s.standard_id).map(|r| (code, name, r.clone())))
        .collect();
    let passing = results.iter().filter(|r| r.2.result == "pass").count();
    render(&auth, &StandardPage { status: status_text(&s, today), standard: s, results, passing })
}

pub struct MatrixRow {
    pub system_id: String,
    pub name: String,
    pub procurable: bool,
    pub failing: String,
    pub deployed_at: usize,
    pub cells: Vec<String>,
}

#[derive(Template)]
#[template(path = "systems.html")]
pub struct SystemsPage {
    pub meta: Meta,
    pub on: String,
    pub standards: Vec<(String, String)>,
    pub rows: Vec<MatrixRow>,
    pub procurable: usize,
    pub headers: Vec<SortHeader>,
}

async fn systems(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<DateQuery>,
) -> Result<Html<String>> {
    let f = state.figures();
    let on = q.date()?;
    let current = Current::on(&f.conformance, on);
    let standards: Vec<&Standard> =
        f.reference.standards.iter().filter(|s| s.assessed_at == AssessedAt::System).collect();
    let rows: Vec<MatrixRow> = f
        .reference
        .systems
        .iter()
        .map(|sys| {
            let st = system_status(&f.reference, &current, &sys.system_id, on);
            MatrixRow {
                system_id: sys.system_id.clone(),
                name: format!("{} {} {}", sys.supplier, sys.product, sys.version),
                procurable: st.procurable,
                failing: st.failing.join(", "),
                deployed_at: f.reference.deployments.iter().filter(|d| d.system_id == sys.system_id).count(),
                cells: standards
                    .iter()
                    .map(|s| {
                        current
                            .get(&sys.system_id, &s.standard_id)
                            .map_or("—".into(), |r| format!("{} {}", r.result, r.assessed_on))
                    })
                    .collect(),
            }
        })
        .collect();
    let mut rows = rows;
    let sort = q.sort.as_deref().unwrap_or("system");
    match sort {
        "procurable" => rows.sort_by(|a, b| (a.procurable, &a.name).cmp(&(b.procurable, &b.name))),
        "fails" => rows.sort_by(|a, b| {
            (a.failing.split(", ").filter(|x| !x.is_empty()).count(), &a.name)
                .cmp(&(b.failing.split(", ").filter(|x| !x.is_empty()).count(), &b.name))
        }),
        "trusts" => rows.sort_by(|a, b| (a.deployed_at, &a.name).cmp(&(b.deployed_at, &b.name))),
        _ => rows.sort_by(|a, b| a.name.cmp(&b.name)),
    }
    let descending = q.dir.as_deref() == Some("desc");
    if descending {
        rows.reverse();
    }
    let headers = sort_headers(
        "/systems",
        &[("on", Some(on.to_string()))],
        Some(sort),
        descending,
        &[
            ("system", "System", false),
            ("procurable", "Procurable", false),
            ("fails", "Fails", false),
            ("trusts", "Trusts", true),
        ],
    );
    let procurable = rows.iter().filter(|r| r.procurable).count();
    let standards = standards
        .iter()
        .map(|s| {
            (
                s.standard_id.clone(),
                if s.mandatory_from.is_some_and(|m| m <= on) {
                    "mandatory".into()
                } else {
                    "advisory or not yet in force".into()
                },
            )
        })
        .collect();
    render(&auth, &SystemsPage { meta: Meta::of(&f), on: on.to_string(), standards, rows, procurable, headers })
}

#[derive(Template)]
#[template(path = "system.html")]
pub struct SystemPage {
    pub name: String,
    pub system_id: String,
    pub procurable: bool,
    pub failing: String,
    pub results: Vec<ConformanceRecord>,
    pub deployments: Vec<(String, String, String)>,
}

async fn system(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Path(id): Path<String>,
) -> Result<Html<String>> {
    let f = state.figures();
    let sys = f
        .reference
        .systems
        .iter()
        .find(|s| s.system_id == id)
        .ok_or_else(|| AppError::NotFound(format!("There is no system '{id}'.")))?;
    let today = chrono::Utc::now().date_naive();
    let st = system_status(&f.reference, &Current::on(&f.conformance, today), &id, today);
    let mut results: Vec<ConformanceRecord> = f.conformance.iter().filter(|r| r.subject == id).cloned().collect();
    results.sort_by(|a, b| (&b.assessed_on, b.id).cmp(&(&a.assessed_on, a.id)));
    let deployments = f
        .reference
        .deployments
        .iter()
        .filter(|d| d.system_id == id)
        .map(|d| {
            let name = f.reference.organisation(&d.ods_code).map_or(d.ods_code.clone(), |o| o.name.clone());
            (d.ods_code.clone(), name, d.function.clone())
        })
        .collect();
    render(
        &auth,
        &SystemPage {
            name: format!("{} {} {}", sys.supplier, sys.product, sys.version),
            system_id: id,
            procurable: st.procurable,
            failing: st.failing.join(", "),
            results,
            deployments,
        },
    )
}

pub struct UpgradeRow {
    pub ods_code: String,
    pub org_name: String,
    pub region: String,
    pub system_id: String,
    pub function: String,
    pub failing: String,
}

#[derive(Template)]
#[template(path = "upgrades.html")]
pub struct UpgradesPage {
    pub on: String,
    pub regions: Vec<Choice>,
    pub types: Vec<Choice>,
    pub rows: Vec<UpgradeRow>,
    pub csv_query: String,
    pub headers: Vec<SortHeader>,
}

async fn upgrade_list(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<DateQuery>,
) -> Result<Html<String>> {
    let f = state.figures();
    let on = q.date()?;
    let region = q.region.clone().filter(|r| !r.is_empty());
    let peer: Option<TrustType> = match q.peer_group.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Some(p.parse().map_err(|e| AppError::BadRequest(format!("peer_group: {e}")))?),
        None => None,
    };
    let rows = upgrades(&f.reference, &Current::on(&f.conformance, on), on)
        .into_iter()
        .filter_map(|u| {
            let o = f.reference.organisation(&u.ods_code)?;
            if region.as_deref().is_some_and(|r| r != o.region) || peer.is_some_and(|p| p != o.trust_type) {
                return None;
            }
            Some(UpgradeRow {
                org_name: o.name.clone(),
                region: o.region.clone(),
                failing: u
                    .failing
                    .iter()
                    .map(|(s, d)| format!("{s} (mandatory since {d})"))
                    .collect::<Vec<_>>()
                    .join("; "),
                ods_code: u.ods_code,
                system_id: u.system_id,
                function: u.function,
            })
        })
        .collect();
    let mut rows: Vec<UpgradeRow> = rows;
    let sort = q.sort.as_deref().unwrap_or("trust");
    match sort {
        "region" => rows.sort_by(|a, b| (&a.region, &a.org_name).cmp(&(&b.region, &b.org_name))),
        "system" => rows.sort_by(|a, b| (&a.system_id, &a.org_name).cmp(&(&b.system_id, &b.org_name))),
        "function" => rows.sort_by(|a, b| (&a.function, &a.org_name).cmp(&(&b.function, &b.org_name))),
        _ => rows.sort_by(|a, b| (&a.org_name, &a.system_id).cmp(&(&b.org_name, &b.system_id))),
    }
    let descending = q.dir.as_deref() == Some("desc");
    if descending {
        rows.reverse();
    }
    let filters = [
        ("on", Some(on.to_string())),
        ("region", region.clone()),
        ("peer_group", peer.map(|p| p.as_str().to_string())),
    ];
    let headers = sort_headers(
        "/systems/upgrades",
        &filters,
        Some(sort),
        descending,
        &[
            ("trust", "Trust", false),
            ("region", "Region", false),
            ("system", "System", false),
            ("function", "Function", false),
        ],
    );
    let csv_query =
        super::view::query_string(&[("region", region.clone()), ("peer_group", peer.map(|p| p.as_str().to_string()))]);
    render(
        &auth,
        &UpgradesPage {
            on: on.to_string(),
            regions: region_choices(region.as_deref()),
            types: type_choices(peer),
            rows,
            csv_query,
            headers,
        },
    )
}

pub struct ClaimRow {
    pub claimed_value: Option<f64>,
    pub verified_value: Option<f64>,
    pub ods_code: String,
    pub name: String,
    pub type_label: String,
    pub claimed: String,
    pub verified: String,
    pub flagged: bool,
}

#[derive(Template)]
#[template(path = "claims.html")]
pub struct ClaimsPage {
    pub meta: Meta,
    pub period_label: String,
    pub rule: String,
    pub rows: Vec<ClaimRow>,
    pub flagged: usize,
    pub headers: Vec<SortHeader>,
}

async fn claims(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Query(q): Query<DateQuery>,
) -> Result<Html<String>> {
    let f = state.figures();
    let today = chrono::Utc::now().date_naive();
    let current = Current::on(&f.conformance, today);
    let period = f.latest_period();
    let mut rows: Vec<ClaimRow> = f
        .reference
        .organisations
        .iter()
        .map(|o| {
            let claims: Vec<f64> = crate::conformance::CLAIM_DOMAINS
                .iter()
                .filter_map(|d| period.and_then(|p| f.index(&o.ods_code, p, d)).and_then(|i| i.domain_index))
                .collect();
            let claimed = (!claims.is_empty()).then(|| claims.iter().sum::<f64>() / claims.len() as f64);
            let verified = trust_conformance(&f.reference, &current, &o.ods_code, today).rate().map(|r| r * 100.0);
            ClaimRow {
                claimed_value: claimed,
                verified_value: verified,
                ods_code: o.ods_code.clone(),
                name: o.name.clone(),
                type_label: o.trust_type.label().into(),
                claimed: num(claimed),
                verified: num(verified),
                flagged: claim_flagged(claimed, verified),
            }
        })
        .collect();
    let sort = q.sort.as_deref().unwrap_or("flag");
    let key = |v: Option<f64>| v.unwrap_or(f64::MIN);
    match sort {
        "trust" => rows.sort_by(|a, b| a.name.cmp(&b.name)),
        "type" => rows.sort_by(|a, b| (&a.type_label, &a.name).cmp(&(&b.type_label, &b.name))),
        "claimed" => rows.sort_by(|a, b| key(a.claimed_value).total_cmp(&key(b.claimed_value))),
        "verified" => rows.sort_by(|a, b| key(a.verified_value).total_cmp(&key(b.verified_value))),
        _ => rows.sort_by(|a, b| a.flagged.cmp(&b.flagged).then(b.name.cmp(&a.name))),
    }
    // Flagged trusts first unless the user asks otherwise.
    let descending = q.dir.as_deref().map_or(sort == "flag", |d| d == "desc");
    if descending {
        rows.reverse();
    }
    let headers = sort_headers(
        "/gaps/claims",
        &[],
        Some(sort),
        descending,
        &[
            ("trust", "Trust", false),
            ("type", "Type", false),
            ("claimed", "Claimed (0–100)", true),
            ("verified", "Verified conformance (%)", true),
            ("flag", "Flag", false),
        ],
    );
    let flagged = rows.iter().filter(|r| r.flagged).count();
    render(
        &auth,
        &ClaimsPage {
            meta: Meta::of(&f),
            period_label: period.map_or("no data yet".into(), |p| p.financial_label()),
            rule: claim_rule(),
            rows,
            flagged,
            headers,
        },
    )
}

//! The systems register: the conformance matrix, procurable status on a date, each system's
//! history, and the deployments that must be upgraded.

use super::render;
use super::view::Params;
use super::view::{Choice, Meta, PageQuery, SortHeader, region_choices, sort_headers, type_choices};
use crate::auth::Auth;
use crate::conformance::{Current, system_status, upgrades};
use crate::domain::{AssessedAt, Standard};
use crate::store::ConformanceRecord;
use crate::web::AppState;
use crate::web::error::{AppError, Result};
use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Router};
use chrono::NaiveDate;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/systems", get(systems))
        .route("/systems/upgrades", get(upgrade_list))
        .route("/systems/{system_id}", get(system))
}

impl PageQuery {
    /// The date the user picked, or today.
    pub fn date(&self, today: NaiveDate) -> Result<NaiveDate> {
        match self.on.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(d) => d.parse().map_err(|_| AppError::BadRequest(format!("'{d}' is not a date such as 2026-04-01"))),
            None => Ok(today),
        }
    }
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
    Params(q): Params,
) -> Result<Html<String>> {
    let f = state.shown_figures(&auth.shown).await?;
    let on = q.date(state.today())?;
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
    let descending = q.descending();
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
    let f = state.shown_figures(&auth.shown).await?;
    let sys = f
        .reference
        .systems
        .iter()
        .find(|s| s.system_id == id)
        .ok_or_else(|| AppError::NotFound(format!("There is no system '{id}'.")))?;
    let today = state.today();
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
    Params(q): Params,
) -> Result<Html<String>> {
    let f = state.shown_figures(&auth.shown).await?;
    let on = q.date(state.today())?;
    let region = q.region()?;
    let peer = q.peer_group()?;
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
    let descending = q.descending();
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

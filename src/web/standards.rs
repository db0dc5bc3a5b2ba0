//! The open standards catalogue (public): what each standard requires, when it is mandatory,
//! and how many systems and trusts currently meet it.

use super::render;
use crate::auth::Auth;
use crate::conformance::Current;
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
    Router::new().route("/standards", get(standards)).route("/standards/{standard_id}", get(standard))
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
    let f = state.shown_figures(&auth.shown).await?;
    let today = state.today();
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
    let f = state.shown_figures(&auth.shown).await?;
    let s = f
        .reference
        .standard(&id)
        .cloned()
        .ok_or_else(|| AppError::NotFound(format!("There is no standard '{id}'.")))?;
    let today = state.today();
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

//! Compare: up to 20 trusts × their metrics as a heat map coloured by quartile, with the table.

use super::view::Params;
use super::view::{Choice, Meta, period_choices, region_choices, type_choices};
use super::{blocking, render};
use crate::auth::Auth;
use crate::charts::{HeatMap, heat_map};
use crate::domain::{Organisation, TrustType};
use crate::web::AppState;
use crate::web::error::Result;
use askama::Template;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Router};

pub const MAX_TRUSTS: usize = 20;

pub fn router() -> Router<AppState> {
    Router::new().route("/compare", get(compare))
}

#[derive(Template)]
#[template(path = "compare.html")]
pub struct ComparePage {
    pub meta: Meta,
    pub orgs: String,
    pub periods: Vec<Choice>,
    pub types: Vec<Choice>,
    pub regions: Vec<Choice>,
    pub period_label: String,
    pub chart: String,
    pub metrics: Vec<(usize, String, String)>,
    pub rows: Vec<(String, String, Vec<Option<i64>>)>,
    pub note: Option<String>,
    pub codes: String,
    pub period_value: String,
    /// Colouring by significance against England rather than by quartile.
    pub by_significance: bool,
}

async fn compare(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Params(q): Params,
) -> Result<Html<String>> {
    let f = state.shown_figures(&auth.shown).await?;
    let period = q.period(&f)?;
    let peer = q.peer_group()?;
    let region = q.region()?;
    let orgs_text = q.orgs.clone().unwrap_or_default();
    let by_significance = match q.colour.as_deref().map(str::trim) {
        None | Some("" | "quartile") => false,
        Some("significance") => true,
        Some(other) => {
            return Err(crate::web::error::AppError::BadRequest(format!(
                "colour: '{other}' is not quartile or significance"
            )));
        }
    };
    let page = blocking(move || {
        let wanted: Vec<String> =
            orgs_text.split([',', ' ']).map(|c| c.trim().to_ascii_uppercase()).filter(|c| !c.is_empty()).collect();
        let mut picked: Vec<&Organisation> = if wanted.is_empty() {
            f.reference
                .organisations
                .iter()
                .filter(|o| (peer.is_some() || region.is_some()) && peer.is_none_or(|p| o.trust_type == p))
                .filter(|o| region.as_deref().is_none_or(|r| o.region == r))
                .collect()
        } else {
            wanted.iter().filter_map(|c| f.reference.organisation(c)).collect()
        };
        let note =
            (picked.len() > MAX_TRUSTS).then(|| format!("Showing the first {MAX_TRUSTS} of {} trusts.", picked.len()));
        picked.truncate(MAX_TRUSTS);
        let types: Vec<TrustType> = picked.iter().map(|o| o.trust_type).collect();
        let metrics: Vec<_> = f.reference.metrics.iter().filter(|m| types.iter().any(|t| m.applies(*t))).collect();
        let rows: Vec<(String, String, Vec<Option<i64>>)> = picked
            .iter()
            .map(|o| {
                let cells = metrics
                    .iter()
                    .map(|m| {
                        let p = period?;
                        if by_significance {
                            use crate::analytics::uncertainty::Comparison;
                            match f.interval(&o.ods_code, &m.metric_id, p)?.vs_england_95 {
                                Comparison::Better => Some(1),
                                Comparison::Similar => Some(2),
                                Comparison::Worse => Some(3),
                                Comparison::NotCompared => None,
                            }
                        } else {
                            f.position(&o.ods_code, &m.metric_id, p).map(|t| t.quartile)
                        }
                    })
                    .collect();
                (o.ods_code.clone(), o.name.clone(), cells)
            })
            .collect();
        let period_label = period.map_or("no data yet".into(), |p| p.financial_label());
        let chart = heat_map(&HeatMap {
            id: "compare".into(),
            title: if by_significance {
                format!("Each trust's significance against England on each proportion metric, {period_label}")
            } else {
                format!("Quartile of each trust on each metric among its peers, {period_label}")
            },
            rows: rows.iter().map(|r| r.1.clone()).collect(),
            columns: metrics.iter().map(|m| m.name.clone()).collect(),
            cells: rows.iter().map(|r| r.2.clone()).collect(),
            significance: by_significance,
        })?;
        Ok(ComparePage {
            meta: Meta::of(&f),
            orgs: orgs_text,
            periods: period_choices(&f, period),
            types: type_choices(peer),
            regions: region_choices(region.as_deref()),
            period_label,
            chart,
            metrics: metrics.iter().enumerate().map(|(i, m)| (i + 1, m.metric_id.clone(), m.name.clone())).collect(),
            codes: rows.iter().map(|r| r.0.as_str()).collect::<Vec<_>>().join(","),
            period_value: period.map(|p| p.to_string()).unwrap_or_default(),
            rows,
            note,
            by_significance,
        })
    })
    .await?;
    render(&auth, &page)
}

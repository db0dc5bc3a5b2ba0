//! The list of trusts: searchable by name or ODS code, filtered by type, region and exemplar
//! cohort, sortable by any column with links, downloadable with the same filters.

use super::render;
use super::view::Params;
use super::view::{
    Choice, Meta, SortHeader, exemplar_choices, num, query_string, region_choices, sort_headers, type_choices,
};
use crate::auth::Auth;
use crate::web::AppState;
use crate::web::error::Result;
use askama::Template;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Router};

pub fn router() -> Router<AppState> {
    Router::new().route("/trusts", get(trusts))
}

pub struct TrustListRow {
    pub org_code: String,
    pub name: String,
    pub type_label: String,
    pub region: String,
    pub icb: String,
    pub exemplar: String,
    pub maturity: Option<f64>,
    pub maturity_text: String,
}

#[derive(Template)]
#[template(path = "trusts.html")]
pub struct TrustsPage {
    pub meta: Meta,
    pub q: String,
    pub types: Vec<Choice>,
    pub regions: Vec<Choice>,
    pub icbs: Vec<Choice>,
    pub cohorts: Vec<Choice>,
    pub period_label: String,
    pub headers: Vec<SortHeader>,
    pub rows: Vec<TrustListRow>,
    pub csv_query: String,
}

async fn trusts(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Params(query): Params,
) -> Result<Html<String>> {
    let f = state.shown_figures(&auth.shown).await?;
    let period = query.period(&f)?;
    let scope = super::peer_groups::scope(&state, &auth, &query).await?;
    let groups = super::peer_groups::visible(&state, &auth).await?;
    let q = query.q.clone().unwrap_or_default();
    let needle = q.trim().to_lowercase();
    let mut rows: Vec<TrustListRow> = f
        .reference
        .organisations
        .iter()
        .filter(|o| scope.keeps(o))
        .filter(|o| needle.is_empty() || o.name.to_lowercase().contains(&needle) || o.ods_code.to_lowercase() == needle)
        .map(|o| {
            let maturity = period.and_then(|p| f.index(&o.ods_code, p, "all")).and_then(|i| i.domain_index);
            TrustListRow {
                org_code: o.ods_code.clone(),
                name: o.name.clone(),
                type_label: o.trust_type.label().into(),
                region: o.region.clone(),
                icb: crate::domain::icb(&o.icb).map_or(String::new(), |i| i.short_name().to_string()),
                exemplar: o.exemplar.label().into(),
                maturity,
                maturity_text: num(maturity),
            }
        })
        .collect();
    let sort = query.sort.as_deref().unwrap_or("name");
    match sort {
        "code" => rows.sort_by(|a, b| a.org_code.cmp(&b.org_code)),
        "type" => rows.sort_by(|a, b| (&a.type_label, &a.name).cmp(&(&b.type_label, &b.name))),
        "region" => rows.sort_by(|a, b| (&a.region, &a.name).cmp(&(&b.region, &b.name))),
        "icb" => rows.sort_by(|a, b| (&a.icb, &a.name).cmp(&(&b.icb, &b.name))),
        "exemplar" => rows.sort_by(|a, b| (&a.exemplar, &a.name).cmp(&(&b.exemplar, &b.name))),
        "maturity" => rows.sort_by(|a, b| a.maturity.unwrap_or(-1.0).total_cmp(&b.maturity.unwrap_or(-1.0))),
        _ => rows.sort_by(|a, b| a.name.cmp(&b.name)),
    }
    if query.descending() {
        rows.reverse();
    }
    let [peer_group, region, icb, cohort] = scope.parameters();
    let filters = [("q", Some(q.clone())), peer_group, region, icb, cohort, ("period", query.period.clone())];
    let headers = sort_headers(
        "/trusts",
        &filters,
        Some(sort),
        query.descending(),
        &[
            ("code", "ODS code", false),
            ("name", "Name", false),
            ("type", "Type", false),
            ("region", "Region", false),
            ("icb", "Integrated care board", false),
            ("exemplar", "Exemplar programme", false),
            ("maturity", "Maturity index", true),
        ],
    );
    let csv_query = query_string(&scope.parameters()[..3]);
    render(
        &auth,
        &TrustsPage {
            meta: Meta::of(&f),
            q,
            types: type_choices(scope.peer)
                .into_iter()
                .chain(super::peer_groups::choices(&groups, scope.saved.as_ref().map(|(k, _)| k.as_str())))
                .collect(),
            regions: region_choices(scope.region.as_deref()),
            icbs: super::view::icb_choices(scope.icb.as_deref()),
            cohorts: exemplar_choices(scope.cohort),
            period_label: period.map_or("no data yet".into(), |p| p.financial_label()),
            headers,
            rows,
            csv_query,
        },
    )
}

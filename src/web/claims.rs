//! Claimed against verified: each trust's self-assessed maturity in the domains standards
//! evidence beside its verified conformance rate, with the rule that flags a gap.

use super::render;
use super::view::Params;
use super::view::{Meta, SortHeader, num, sort_headers};
use crate::auth::Auth;
use crate::conformance::{Current, claim_flagged, claim_rule, trust_conformance};
use crate::web::AppState;
use crate::web::error::Result;
use askama::Template;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Router};

pub fn router() -> Router<AppState> {
    Router::new().route("/gaps/claims", get(claims))
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
    Params(q): Params,
) -> Result<Html<String>> {
    let f = state.shown_figures(&auth.shown).await?;
    let today = state.today();
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

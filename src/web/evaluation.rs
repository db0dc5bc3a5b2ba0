//! `/evaluation`: did the exemplar programme move maturity? Each cohort's trusts against their
//! matched comparison trusts (docs/RULES.md §10.2), with a verdict in plain words, the event
//! study as a chart and in a table, and the caveats.

use crate::auth::Auth;
use crate::figures::Figures;
use crate::figures::evaluation::{CohortEvaluation, EvaluationRow};
use crate::web::AppState;
use crate::web::error::Result;
use askama::Template;
use axum::extract::State;
use axum::routing::get;
use axum::{Extension, Router};

pub fn router() -> Router<AppState> {
    Router::new().route("/evaluation", get(page))
}

pub struct OutcomeView {
    pub name: String,
    pub estimate: String,
    pub interval: String,
    pub pre_trend: String,
    pub reading: &'static str,
}

pub struct PairView {
    pub treated: (String, String),
    pub control: Option<(String, String)>,
}

pub struct CohortView {
    pub id: String,
    pub label: String,
    pub start: String,
    pub basis: String,
    pub demo: bool,
    pub not_evaluated: Option<String>,
    pub verdict: String,
    pub outcomes: Vec<OutcomeView>,
    pub chart: String,
    pub events: Vec<(i32, String, String)>,
    pub pairs: Vec<PairView>,
    pub n_treated: usize,
    pub n_control: usize,
}

#[derive(Template)]
#[template(path = "evaluation.html")]
pub struct EvaluationPage {
    pub meta: super::view::Meta,
    pub cohorts: Vec<CohortView>,
}

fn one(v: f64) -> String {
    format!("{v:.1}")
}

fn reading(r: &EvaluationRow) -> &'static str {
    if r.estimate.ci_lower > 0.0 {
        "higher after the start"
    } else if r.estimate.ci_upper < 0.0 {
        "lower after the start"
    } else {
        "no clear difference"
    }
}

/// The verdict on the maturity index, in plain words, with the pre-trend caveat where it applies.
fn verdict(c: &CohortEvaluation) -> String {
    let Some(r) = c.rows.iter().find(|r| r.outcome == "maturity_index") else { return String::new() };
    let e = &r.estimate;
    let (est, lo, hi) = (one(e.estimate), one(e.ci_lower), one(e.ci_upper));
    let mut text = if e.ci_lower > 0.0 {
        format!(
            "After the start, the cohort's maturity index rose by {est} points more than that of its matched comparison trusts (95 % interval {lo} to {hi}): the programme is associated with a real gain."
        )
    } else if e.ci_upper < 0.0 {
        format!(
            "After the start, the cohort's maturity index rose by {} points less than that of its matched comparison trusts (95 % interval {lo} to {hi}).",
            one(-e.estimate)
        )
    } else {
        format!(
            "No clear difference: the cohort's maturity index moved {est} points against its matched comparison trusts, and the 95 % interval ({lo} to {hi}) includes no difference at all."
        )
    };
    match e.pre_trend_p {
        Some(p) if p < 0.05 => text.push_str(&format!(
            " But the two groups were already moving apart before the start (pre-trend test p = {p:.3}), so part of this may be a difference that was there anyway."
        )),
        Some(p) => text.push_str(&format!(
            " Before the start the two groups moved in parallel (pre-trend test p = {p:.2}), as the method needs."
        )),
        None => {}
    }
    text
}

fn view(f: &Figures, c: &CohortEvaluation) -> Result<CohortView> {
    let name = |code: &str| f.reference.organisation(code).map_or(code.to_string(), |o| o.name.clone());
    let domain_name = |id: &str| {
        if id == "maturity_index" {
            "Maturity index".to_string()
        } else {
            f.reference.domains.iter().find(|d| d.domain_id == id).map_or(id.to_string(), |d| d.name.clone())
        }
    };
    let maturity = c.rows.iter().find(|r| r.outcome == "maturity_index");
    let chart = match maturity {
        Some(r) => crate::charts::event_chart(&crate::charts::EventChart {
            id: format!("event-{}", c.cohort.id()),
            title: format!(
                "{}: maturity index against matched trusts, quarter by quarter from the start",
                c.cohort.label()
            ),
            y_label: "Difference in maturity index (points)".into(),
            points: r.estimate.event.clone(),
        })?,
        None => String::new(),
    };
    Ok(CohortView {
        id: c.cohort.id(),
        label: c.cohort.label(),
        start: c.cohort.start.financial_label(),
        basis: c.cohort.basis.trim_start_matches("demo: ").to_string(),
        demo: c.cohort.demo,
        not_evaluated: c.not_evaluated.clone(),
        verdict: verdict(c),
        outcomes: c
            .rows
            .iter()
            .map(|r| OutcomeView {
                name: domain_name(&r.outcome),
                estimate: one(r.estimate.estimate),
                interval: format!("{} to {}", one(r.estimate.ci_lower), one(r.estimate.ci_upper)),
                pre_trend: r.estimate.pre_trend_p.map_or("–".into(), |p| format!("{p:.3}")),
                reading: reading(r),
            })
            .collect(),
        chart,
        events: maturity
            .map(|r| {
                r.estimate
                    .event
                    .iter()
                    .map(|(k, e, l, u)| {
                        (*k, one(*e), if *k == -1 { "reference".into() } else { format!("{} to {}", one(*l), one(*u)) })
                    })
                    .collect()
            })
            .unwrap_or_default(),
        pairs: c
            .units
            .iter()
            .filter(|u| u.role == "treated")
            .map(|u| PairView {
                treated: (u.org_code.clone(), name(&u.org_code)),
                control: u.matched_to.as_ref().map(|m| (m.clone(), name(m))),
            })
            .collect(),
        n_treated: maturity.map_or(0, |r| r.n_treated),
        n_control: maturity.map_or(0, |r| r.n_control),
    })
}

async fn page(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    uri: axum::http::Uri,
) -> Result<super::Page> {
    let f = state.shown_figures(&auth.shown).await?;
    let key = super::page_key(&state, &auth, f.data_version, "", &uri);
    super::cached_page(&state, &auth, key, move || {
        let cohorts = f.evaluation().iter().map(|c| view(&f, c)).collect::<Result<Vec<_>>>()?;
        Ok(EvaluationPage { meta: super::view::Meta::of(&f), cohorts })
    })
    .await
}

//! The board pack: one quarter's answers to the board's questions as a printable A4 document —
//! a cover naming the figures (release or data version), contents, then where the NHS is
//! furthest behind, by domain, whether the exemplars lead, which trusts most need help and what
//! the board has recommended. Print CSS (`static/css/app.css`) numbers the pages.

use super::gaps::{GapLine, ShareLine, TrustLine, compute, priority_chart};
use super::overview::{ExemplarGap, exemplar_gap};
use super::view::{Params, num};
use crate::auth::{Auth, Shown};
use crate::web::AppState;
use crate::web::error::{AppError, Result};

use askama::Template;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Router};

pub fn router() -> Router<AppState> {
    Router::new().route("/board-pack", get(board_pack))
}

/// A headline figure of the summary: what it is and its value.
pub struct Headline {
    pub label: String,
    pub value: String,
}

#[derive(Template)]
#[template(path = "board_pack.html")]
pub struct BoardPack {
    pub period_label: String,
    pub period_value: String,
    /// What the figures are: the release, or provisional at a data version (from the banner).
    pub figures_note: String,
    /// A short form for each page's running line: "release 2026-Q3.1" or "data version 42".
    pub edition: String,
    pub synthetic: bool,
    pub computed_at: String,
    pub headlines: Vec<Headline>,
    pub priority_chart: String,
    pub gaps: Vec<GapLine>,
    pub by_domain: Vec<ShareLine>,
    pub exemplar_gap: ExemplarGap,
    pub by_trust: Vec<TrustLine>,
    pub trusts_total: usize,
    pub findings: Vec<super::findings::FindingView>,
    pub findings_done: usize,
}

async fn board_pack(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    Params(query): Params,
) -> Result<Html<String>> {
    let f = state.shown_figures(&auth.shown).await?;
    if f.loading {
        return Err(AppError::Unavailable {
            message: "The benchmarks are still loading: try again in a moment.".into(),
            retry_after: 5,
        });
    }
    let period = query.period(&f)?;
    let all = state.findings().await?;
    let findings_done = all.iter().filter(|x| !x.is_live()).count();
    let findings = super::findings::views(&state, all.iter().filter(|x| x.is_live()).cloned().collect()).await?;
    let edition = match &auth.shown {
        Shown::Release(r) => format!("release {}", r.id),
        _ => format!("provisional figures, data version {}", f.data_version),
    };
    let figures_note = auth.figures_note.clone();
    let synthetic = auth.synthetic;
    let page = super::blocking(move || {
        let gaps = compute(&f, period, &Default::default());
        let summary = |scope: &str, group: &str| period.and_then(|p| f.summary(p, scope, "all", group));
        let median = |scope: &str, group: &str| summary(scope, group).and_then(|s| s.median);
        let england = summary("england", "all");
        let positions: usize = gaps.by_domain.iter().map(|d| d.of).sum();
        let behind: usize = gaps.by_domain.iter().map(|d| d.behind).sum();
        let headlines = vec![
            Headline {
                label: "Trusts with a maturity index".into(),
                value: england.map_or("none".into(), |s| s.n.to_string()),
            },
            Headline { label: "Median maturity index, England (0–100)".into(), value: num(median("england", "all")) },
            Headline {
                label: "Median of the exemplar trusts / of the rest".into(),
                value: format!("{} / {}", num(median("england", "exemplar")), num(median("england", "others"))),
            },
            Headline {
                label: "Trusts' metric positions behind the exemplar median".into(),
                value: if positions == 0 {
                    "none".into()
                } else {
                    format!("{behind} of {positions} ({:.0}%)", 100.0 * behind as f64 / positions as f64)
                },
            },
        ];
        let trusts_total = gaps.by_trust.len();
        Ok(BoardPack {
            period_label: period.map_or("no figures yet".into(), |p| p.financial_label()),
            period_value: period.map(|p| p.to_string()).unwrap_or_default(),
            figures_note,
            edition,
            synthetic,
            computed_at: f.computed_at.clone(),
            headlines,
            priority_chart: priority_chart(&gaps.rows)?,
            gaps: gaps.rows.into_iter().take(15).collect(),
            by_domain: gaps.by_domain,
            exemplar_gap: exemplar_gap(&f)?,
            by_trust: gaps.by_trust.into_iter().take(20).collect(),
            trusts_total,
            findings,
            findings_done,
        })
    })
    .await?;
    super::render(&auth, &page)
}

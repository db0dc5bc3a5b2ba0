//! Compare: a tartan rug as Fingertips draws one — metrics as rows grouped by domain, trusts as
//! columns, England's median (and, for trusts of one type, their peer group's and its exemplars'
//! medians) as benchmark columns, each cell coloured by the trust's quartile among its peers or
//! by its significance against England, with the value in it. Trusts are chosen by name (a
//! search that needs no script), by type or by region; 20 to a page.

use super::view::Params;
use super::view::{Choice, Meta, num, period_choices, query_string, region_choices, type_choices};
use super::{blocking, render};
use crate::auth::Auth;
use crate::domain::{Organisation, TrustType};
use crate::web::AppState;
use crate::web::error::{AppError, Result};
use askama::Template;
use axum::extract::State;
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Router};

/// Trusts to a page of the rug.
pub const MAX_TRUSTS: usize = 20;
/// The most trusts a name search offers.
const MOST_FOUND: usize = 15;

pub fn router() -> Router<AppState> {
    Router::new().route("/compare", get(compare))
}

/// A trust's column: its name, and the links that take it out or put it in.
pub struct Column {
    pub code: String,
    pub name: String,
    pub type_label: String,
    pub href: String,
}

/// One cell: the value as text, and its class (`app-q1`…`app-q4`, `app-better`, …) and words.
pub struct Cell {
    pub value: String,
    pub class: &'static str,
    pub words: &'static str,
}

pub struct RugRow {
    pub metric_id: String,
    pub name: String,
    pub england: String,
    pub peer: String,
    pub exemplar: String,
    pub cells: Vec<Cell>,
    pub sort_href: String,
}

pub struct RugDomain {
    pub name: String,
    pub rows: Vec<RugRow>,
}

/// A trust a name search found: add it to the comparison.
pub struct Found {
    pub name: String,
    pub code: String,
    pub add_href: String,
}

#[derive(Template)]
#[template(path = "compare.html")]
pub struct ComparePage {
    pub meta: Meta,
    pub orgs: String,
    pub search: String,
    pub found: Vec<Found>,
    pub searched: bool,
    pub periods: Vec<Choice>,
    pub types: Vec<Choice>,
    pub regions: Vec<Choice>,
    pub icbs: Vec<Choice>,
    pub period_label: String,
    pub columns: Vec<Column>,
    pub domains: Vec<RugDomain>,
    /// The trusts picked are all of one type: the peer group's benchmark columns are shown.
    pub peer_label: Option<String>,
    pub total: usize,
    pub page: usize,
    pub pages: usize,
    pub prev_href: Option<String>,
    pub next_href: Option<String>,
    pub order_label: String,
    pub by_name_href: String,
    pub by_maturity_href: String,
    pub codes: String,
    pub period_value: String,
    /// Colouring by significance against England rather than by quartile.
    pub by_significance: bool,
    pub significance_href: String,
    pub quartile_href: String,
}

fn quartile_cell(q: i64) -> (&'static str, &'static str) {
    match q {
        1 => ("app-q1", "top 25%"),
        2 => ("app-q2", "upper middle"),
        3 => ("app-q3", "lower middle"),
        _ => ("app-q4", "bottom 25%"),
    }
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
    let icb = q.icb()?;
    let orgs_text = q.orgs.clone().unwrap_or_default();
    let search = q.q.clone().unwrap_or_default().trim().to_string();
    let by_significance = match q.colour.as_deref().map(str::trim) {
        None | Some("" | "quartile") => false,
        Some("significance") => true,
        Some(other) => {
            return Err(AppError::BadRequest(format!("colour: '{other}' is not quartile or significance")));
        }
    };
    let wanted: Vec<String> =
        orgs_text.split([',', ' ']).map(|c| c.trim().to_ascii_uppercase()).filter(|c| !c.is_empty()).collect();
    if let Some(unknown) = wanted.iter().find(|c| f.reference.organisation(c).is_none()) {
        return Err(AppError::BadRequest(format!("orgs: there is no trust with the ODS code '{unknown}'")));
    }
    let sort = q.sort.clone().unwrap_or_else(|| "name".into());
    if sort != "name" && sort != "maturity" && f.reference.metric(&sort).is_none() {
        return Err(AppError::BadRequest(format!("sort: '{sort}' is not name, maturity or a metric id")));
    }
    let page_text = q.page.clone();
    let page = blocking(move || {
        let mut picked: Vec<&Organisation> = if wanted.is_empty() {
            f.reference
                .organisations
                .iter()
                .filter(|o| {
                    (peer.is_some() || region.is_some() || icb.is_some()) && peer.is_none_or(|p| o.trust_type == p)
                })
                .filter(|o| region.as_deref().is_none_or(|r| o.region == r))
                .filter(|o| icb.as_deref().is_none_or(|i| o.icb == i))
                .collect()
        } else {
            let mut seen = std::collections::HashSet::new();
            wanted.iter().filter(|c| seen.insert(c.as_str())).filter_map(|c| f.reference.organisation(c)).collect()
        };
        // The order of the columns: by name, by maturity index (highest first), or by the
        // score on one metric (best first; trusts without a value last).
        let maturity =
            |o: &Organisation| period.and_then(|p| f.index(&o.ods_code, p, "all")).and_then(|i| i.domain_index);
        let order_label = match sort.as_str() {
            "name" => {
                picked.sort_by(|a, b| a.name.cmp(&b.name));
                "by name".to_string()
            }
            "maturity" => {
                picked.sort_by(|a, b| maturity(b).unwrap_or(f64::MIN).total_cmp(&maturity(a).unwrap_or(f64::MIN)));
                "by maturity index, highest first".to_string()
            }
            metric => {
                let score = |o: &Organisation| {
                    period.and_then(|p| f.position(&o.ods_code, metric, p)).map_or(f64::MIN, |t| t.score)
                };
                picked.sort_by(|a, b| score(b).total_cmp(&score(a)));
                format!(
                    "by score on {}, best first",
                    f.reference.metric(metric).map_or(metric.to_string(), |m| m.name.clone())
                )
            }
        };
        let total = picked.len();
        let pages = total.div_ceil(MAX_TRUSTS).max(1);
        let page = match page_text.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            None => 1,
            Some(p) => p
                .parse::<usize>()
                .ok()
                .filter(|p| (1..=pages).contains(p))
                .ok_or_else(|| AppError::BadRequest(format!("page: '{p}' is not a page from 1 to {pages}")))?,
        };
        let all_codes: Vec<String> = picked.iter().map(|o| o.ods_code.clone()).collect();
        let shown: Vec<&Organisation> = picked.into_iter().skip((page - 1) * MAX_TRUSTS).take(MAX_TRUSTS).collect();
        let one_type = shown.first().map(|o| o.trust_type).filter(|t| shown.iter().all(|o| o.trust_type == *t));
        let types: Vec<TrustType> = shown.iter().map(|o| o.trust_type).collect();

        // Every link keeps the other choices.
        let sort_now = sort.clone();
        let base = |orgs: Option<String>, order: Option<&str>, colour: Option<&str>, page: Option<usize>| {
            let from_orgs = orgs.is_some() || !wanted.is_empty();
            query_string(&[
                ("orgs", orgs.or_else(|| (!wanted.is_empty()).then(|| wanted.join(",")))),
                ("peer_group", if from_orgs { None } else { peer.map(|p| p.as_str().to_string()) }),
                ("region", if from_orgs { None } else { region.clone() }),
                ("icb", if from_orgs { None } else { icb.clone() }),
                ("period", period.map(|p| p.to_string())),
                ("colour", colour.or(by_significance.then_some("significance")).map(str::to_string)),
                ("sort", Some(order.unwrap_or(&sort_now)).filter(|s| *s != "name").map(str::to_string)),
                ("page", page.filter(|p| *p > 1).map(|p| p.to_string())),
            ])
        };
        let href = |qs: String| format!("/compare{qs}");
        let columns = shown
            .iter()
            .map(|o| {
                let rest: Vec<&str> = all_codes.iter().map(String::as_str).filter(|c| *c != o.ods_code).collect();
                Column {
                    code: o.ods_code.clone(),
                    name: o.name.clone(),
                    type_label: o.trust_type.label().into(),
                    href: href(base(Some(rest.join(",")), None, None, None)),
                }
            })
            .collect();
        let domains = f
            .reference
            .domains
            .iter()
            .map(|d| {
                let rows = f
                    .reference
                    .metrics
                    .iter()
                    .filter(|m| m.domain == d.domain_id && types.iter().any(|t| m.applies(*t)))
                    .map(|m| {
                        let national = period
                            .and_then(|p| TrustType::ALL.iter().find_map(|t| f.benchmark(&m.metric_id, p, t.as_str())));
                        let peer_b = period.zip(one_type).and_then(|(p, t)| f.benchmark(&m.metric_id, p, t.as_str()));
                        let cells = shown
                            .iter()
                            .map(|o| {
                                let Some(p) = period else {
                                    return Cell { value: String::new(), class: "", words: "no data" };
                                };
                                if !m.applies(o.trust_type) {
                                    return Cell { value: String::new(), class: "app-na", words: "does not apply" };
                                }
                                let Some(pos) = f.position(&o.ods_code, &m.metric_id, p) else {
                                    return Cell { value: "–".into(), class: "", words: "no value" };
                                };
                                let value = num(Some(pos.value));
                                if by_significance {
                                    use crate::analytics::uncertainty::Comparison;
                                    let (class, words) =
                                        match f.interval(&o.ods_code, &m.metric_id, p).map(|i| i.vs_england_95) {
                                            Some(Comparison::Better) => ("app-better", "better than England"),
                                            Some(Comparison::Similar) => ("app-similar", "similar to England"),
                                            Some(Comparison::Worse) => ("app-worse", "worse than England"),
                                            _ => ("", "not compared"),
                                        };
                                    Cell { value, class, words }
                                } else {
                                    let (class, words) = quartile_cell(pos.quartile);
                                    Cell { value, class, words }
                                }
                            })
                            .collect();
                        RugRow {
                            metric_id: m.metric_id.clone(),
                            name: m.name.clone(),
                            england: num(national.map(|b| b.national_median)),
                            peer: num(peer_b.map(|b| b.median)),
                            exemplar: num(peer_b.and_then(|b| b.exemplar_median)),
                            cells,
                            sort_href: href(base(None, Some(&m.metric_id), None, None)),
                        }
                    })
                    .collect::<Vec<_>>();
                RugDomain { name: d.name.clone(), rows }
            })
            .filter(|d| !d.rows.is_empty())
            .collect();
        // The name search: trusts whose name or code holds every word, not already picked.
        let words: Vec<String> = search.to_lowercase().split_whitespace().map(str::to_string).collect();
        let found = if words.is_empty() {
            Vec::new()
        } else {
            f.reference
                .organisations
                .iter()
                .filter(|o| {
                    let hay = format!("{} {}", o.name.to_lowercase(), o.ods_code.to_lowercase());
                    words.iter().all(|w| hay.contains(w.as_str()))
                })
                .filter(|o| !wanted.contains(&o.ods_code))
                .take(MOST_FOUND)
                .map(|o| {
                    let mut with = wanted.clone();
                    with.push(o.ods_code.clone());
                    Found {
                        name: o.name.clone(),
                        code: o.ods_code.clone(),
                        add_href: href(base(Some(with.join(",")), None, None, None)),
                    }
                })
                .collect()
        };
        Ok(ComparePage {
            meta: Meta::of(&f),
            orgs: wanted.join(","),
            searched: !words.is_empty(),
            search,
            found,
            periods: period_choices(&f, period),
            types: type_choices(peer),
            regions: region_choices(region.as_deref()),
            icbs: super::view::icb_choices(icb.as_deref()),
            period_label: period.map_or("no data yet".into(), |p| p.financial_label()),
            columns,
            domains,
            peer_label: one_type.map(|t| t.label().to_lowercase()),
            total,
            page,
            pages,
            prev_href: (page > 1).then(|| href(base(None, None, None, Some(page - 1)))),
            next_href: (page < pages).then(|| href(base(None, None, None, Some(page + 1)))),
            order_label,
            by_name_href: href(base(None, Some("name"), None, None)),
            by_maturity_href: href(base(None, Some("maturity"), None, None)),
            codes: shown.iter().map(|o| o.ods_code.as_str()).collect::<Vec<_>>().join(","),
            period_value: period.map(|p| p.to_string()).unwrap_or_default(),
            by_significance,
            significance_href: href(base(None, None, Some("significance"), Some(page))),
            quartile_href: href(base(None, None, Some("quartile"), Some(page))),
        })
    })
    .await?;
    render(&auth, &page)
}

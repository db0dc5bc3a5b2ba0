//! The NHS App's uptake (docs/RULES.md §9): `/app` (England, the ICB tile map, the pilot areas
//! against the rest, feature adoption, age), `/app/areas/{code}` (one area month by month) and
//! `/app/measures/{measure}` (every area on one measure). Public, as official statistics are.
//! The figures are computed once per data version (`AppState::uptake`).

use crate::analytics::uptake::{PilotComparison, UptakeFigure, pilot_against_rest};
use crate::auth::Auth;
use crate::domain::uptake::{
    AgeBand, FEATURES, Level, Month, POPULATION, REGISTRATIONS, area, areas, measure, measures,
};
use crate::web::AppState;
use crate::web::error::{AppError, Result};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use axum::routing::get;
use axum::{Extension, Router};
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app", get(overview))
        .route("/app/areas/{code}", get(area_page))
        .route("/app/measures/{measure}", get(measure_page))
}

/// Serves an uptake page from the page cache (pages of one data version, as every page), or
/// builds it off the async runtime from the uptake figures of the current data version.
async fn cached_uptake_page<T: Template + Send + 'static>(
    state: &AppState,
    auth: &Auth,
    uri: &axum::http::Uri,
    build: impl FnOnce(&[UptakeFigure]) -> Result<T> + Send + 'static,
) -> Result<Html<String>> {
    let key = super::page_key(state, auth, state.figures().data_version, "uptake", uri);
    if let Some(html) = super::cached(state, auth, &key) {
        return Ok(html);
    }
    let figures = state.uptake().await?;
    super::cached_page(state, auth, key, move || build(&figures)).await
}

/// A number with thousands separators and `places` decimals.
fn num(v: f64, places: usize) -> String {
    let text = format!("{v:.places$}");
    let (whole, fraction) = text.split_once('.').map_or((text.as_str(), None), |(w, f)| (w, Some(f)));
    let (sign, digits) = whole.strip_prefix('-').map_or(("", whole), |d| ("-", d));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match fraction {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

/// What a measure is shown as: the share registered for registrations, else the rate per 1,000.
fn shown(f: &UptakeFigure) -> Option<f64> {
    if f.measure == REGISTRATIONS { f.share_registered } else { f.rate_per_1000 }
}

fn shown_unit(measure_id: &str) -> &'static str {
    if measure_id == REGISTRATIONS {
        "% of people aged 13+ registered"
    } else {
        "per 1,000 people aged 13+ in the month"
    }
}

/// The latest month with figures, and each (area, measure, age band)'s figure in it.
struct Latest<'a> {
    month: Option<Month>,
    at: HashMap<(&'a str, &'a str, AgeBand), &'a UptakeFigure>,
}

impl<'a> Latest<'a> {
    fn of(figures: &'a [UptakeFigure]) -> Self {
        let month = figures.iter().filter(|f| f.measure == REGISTRATIONS).map(|f| f.month).max();
        let at = figures
            .iter()
            .filter(|f| Some(f.month) == month)
            .map(|f| ((f.area_code.as_str(), f.measure.as_str(), f.age_band), f))
            .collect();
        Self { month, at }
    }

    fn get(&self, area: &str, measure: &str, band: AgeBand) -> Option<&'a UptakeFigure> {
        self.at.get(&(area, measure, band)).copied()
    }
}

/// Five classes of a sequential palette that people with colour-vision deficiencies can tell
/// apart (viridis), dark to light, with the text colour that reads on each.
const CLASSES: [(&str, &str); 5] = [
    ("#440154", "#ffffff"),
    ("#3b528b", "#ffffff"),
    ("#21918c", "#0b0c0c"),
    ("#5ec962", "#0b0c0c"),
    ("#fde725", "#0b0c0c"),
];

pub struct Tile {
    pub code: String,
    pub name: String,
    pub x: i32,
    pub y: i32,
    pub fill: &'static str,
    pub ink: &'static str,
    pub value: String,
    pub pilot: bool,
}

pub struct KeyClass {
    pub fill: &'static str,
    pub label: String,
}

pub struct Row {
    pub href: String,
    pub name: String,
    pub code: String,
    pub cells: Vec<String>,
    pub pilot: bool,
}

pub struct Comparison {
    pub label: String,
    pub pilot: String,
    pub rest: String,
    pub difference: String,
    pub interval: String,
    pub verdict: &'static str,
}

fn comparison(c: &PilotComparison) -> Comparison {
    Comparison {
        label: match (c.month, c.since) {
            (Some(m), _) => m.label(),
            (_, Some(k)) => format!("{k} months"),
            _ => String::new(),
        },
        pilot: num(c.pilot, 1),
        rest: num(c.rest, 1),
        difference: num(c.difference, 1),
        interval: format!("{} to {}", num(c.low, 1), num(c.high, 1)),
        verdict: if c.low > 0.0 {
            "pilot areas ahead"
        } else if c.high < 0.0 {
            "pilot areas behind"
        } else {
            "no clear difference"
        },
    }
}

#[derive(Template)]
#[template(path = "app.html")]
pub struct AppPage {
    pub month: String,
    pub measure_id: String,
    pub measure_name: String,
    pub unit: &'static str,
    pub measures: Vec<(String, String, bool)>,
    pub headline: Vec<(String, String, String)>,
    pub tiles: Vec<Tile>,
    pub key: Vec<KeyClass>,
    pub icb_rows: Vec<Row>,
    pub region_rows: Vec<Row>,
    pub features: Vec<String>,
    pub adoption: Vec<Row>,
    pub by_month: Vec<Comparison>,
    pub by_since: Vec<Comparison>,
    pub ages: Vec<(String, String, String)>,
    pub empty: bool,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AppQuery {
    measure: Option<String>,
}

async fn overview(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    uri: axum::http::Uri,
    Query(q): Query<AppQuery>,
) -> Result<Html<String>> {
    let measure_id = q.measure.unwrap_or_else(|| REGISTRATIONS.to_string());
    let Some(chosen) = measure(&measure_id).filter(|m| m.measure != POPULATION) else {
        let all: Vec<&str> =
            measures().iter().filter(|m| m.measure != POPULATION).map(|m| m.measure.as_str()).collect();
        return Err(AppError::BadRequest(format!("measure: '{measure_id}' is not one of {}", all.join(", "))));
    };
    cached_uptake_page(&state, &auth, &uri, move |figures| {
        let latest = Latest::of(figures);
        let value = |code: &str, m: &str| latest.get(code, m, AgeBand::All).and_then(shown);
        let icbs: Vec<&crate::domain::uptake::Area> = areas().iter().filter(|a| a.level == Level::Icb).collect();
        let values: Vec<f64> = icbs.iter().filter_map(|a| value(&a.code, &chosen.measure)).collect();
        let (low, high) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(*v), h.max(*v)));
        let class = |v: f64| {
            if high.partial_cmp(&low) != Some(std::cmp::Ordering::Greater) {
                return 2;
            }
            (((v - low) / (high - low) * 5.0).floor() as usize).min(4)
        };
        let places = 1;
        let tiles = crate::domain::uptake::icb_tiles()
            .iter()
            .filter_map(|(code, col, row)| {
                let a = area(code)?;
                let v = value(code, &chosen.measure);
                let (fill, ink) = v.map_or(("#f0f4f5", "#0b0c0c"), |v| CLASSES[class(v)]);
                Some(Tile {
                    code: code.to_string(),
                    name: a.name.clone(),
                    x: col * 64,
                    y: row * 56,
                    fill,
                    ink,
                    value: v.map_or("no data".into(), |v| num(v, places)),
                    pilot: a.holds_pilot(),
                })
            })
            .collect();
        let key = (0..5)
            .map(|k| {
                let (from, to) = (low + (high - low) * k as f64 / 5.0, low + (high - low) * (k + 1) as f64 / 5.0);
                KeyClass { fill: CLASSES[k].0, label: format!("{} to {}", num(from, places), num(to, places)) }
            })
            .collect();
        let area_row = |a: &crate::domain::uptake::Area| Row {
            href: format!("/app/areas/{}", a.code),
            name: a.name.clone(),
            code: a.code.clone(),
            cells: vec![value(&a.code, &chosen.measure).map_or("no data".into(), |v| num(v, places))],
            pilot: a.holds_pilot(),
        };
        let mut icb_rows: Vec<Row> = icbs.iter().map(|a| area_row(a)).collect();
        icb_rows.sort_by(|a, b| a.name.cmp(&b.name));
        let region_rows =
            areas().iter().filter(|a| matches!(a.level, Level::Region | Level::England)).map(area_row).collect();
        let adoption = icbs
            .iter()
            .map(|a| Row {
                href: format!("/app/areas/{}", a.code),
                name: a.name.clone(),
                code: a.code.clone(),
                cells: FEATURES
                    .iter()
                    .map(|(_, _, m)| {
                        latest
                            .get(&a.code, m, AgeBand::All)
                            .and_then(|f| f.rate_per_1000)
                            .map_or("–".into(), |v| num(v, 1))
                    })
                    .collect(),
                pilot: a.holds_pilot(),
            })
            .collect::<Vec<_>>();
        let mut adoption = adoption;
        adoption.sort_by(|a, b| a.name.cmp(&b.name));
        let england = crate::domain::uptake::ENGLAND;
        let headline = measures()
            .iter()
            .filter(|m| m.measure != POPULATION)
            .filter_map(|m| {
                let f = latest.get(england, &m.measure, AgeBand::All)?;
                Some((
                    m.name.clone(),
                    num(f.value, 0),
                    shown(f).map_or("–".into(), |v| format!("{} {}", num(v, 1), shown_unit(&m.measure))),
                ))
            })
            .collect();
        let (by_month, by_since) = pilot_against_rest(figures);
        let step = |all: Vec<PilotComparison>| -> Vec<Comparison> {
            let n = all.len();
            all.iter().enumerate().filter(|(i, _)| i % 6 == 0 || *i + 1 == n).map(|(_, c)| comparison(c)).collect()
        };
        // Age: the pilot areas' share registered by band, pooled over their locations.
        let mut ages = Vec::new();
        for band in AgeBand::ALL {
            let (mut registered, mut population) = (0.0, 0.0);
            for a in areas().iter().filter(|a| a.level == Level::SubIcb && a.pilot_area.is_some()) {
                if let Some(f) = latest.get(&a.code, REGISTRATIONS, band)
                    && let Some(p) = f.population
                {
                    registered += f.cumulative;
                    population += p;
                }
            }
            if population > 0.0 {
                ages.push((band.as_str().to_string(), num(population, 0), num(100.0 * registered / population, 1)));
            }
        }
        let page = AppPage {
            month: latest.month.map_or("no data yet".into(), Month::label),
            measure_id: chosen.measure.clone(),
            measure_name: chosen.name.clone(),
            unit: shown_unit(&chosen.measure),
            measures: measures()
                .iter()
                .filter(|m| m.measure != POPULATION)
                .map(|m| (m.measure.clone(), m.name.clone(), m.measure == chosen.measure))
                .collect(),
            headline,
            tiles,
            key,
            icb_rows,
            region_rows,
            features: FEATURES.iter().map(|(_, name, _)| name.to_string()).collect(),
            adoption,
            by_month: step(by_month),
            by_since: step(by_since),
            ages,
            empty: figures.is_empty(),
        };
        Ok(page)
    })
    .await
}

#[derive(Template)]
#[template(path = "app_area.html")]
pub struct AreaPage {
    pub code: String,
    pub name: String,
    pub level: &'static str,
    pub parent: Option<(String, String)>,
    pub pilot_area: Option<String>,
    pub holds_pilot: bool,
    pub children: Vec<(String, String)>,
    pub measures: Vec<String>,
    pub rows: Vec<(String, Vec<String>)>,
}

async fn area_page(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    uri: axum::http::Uri,
    Path(code): Path<String>,
) -> Result<Html<String>> {
    let code = code.to_ascii_uppercase();
    let Some(a) = area(&code) else {
        return Err(AppError::NotFound(format!("There is no area '{code}'.")));
    };
    cached_uptake_page(&state, &auth, &uri, move |figures| {
        let shown_measures =
            [REGISTRATIONS, "logins", "appointments_booked", "prescriptions_ordered", "record_views", "nhs111_visits"];
        let mut by_month: std::collections::BTreeMap<Month, Vec<String>> = Default::default();
        for f in figures.iter().filter(|f| f.area_code == a.code && f.age_band == AgeBand::All) {
            if let Some(k) = shown_measures.iter().position(|m| *m == f.measure) {
                let cells = by_month.entry(f.month).or_insert_with(|| vec!["–".into(); shown_measures.len()]);
                cells[k] = shown(f).map_or(num(f.value, 0), |v| num(v, 1));
            }
        }
        let page = AreaPage {
            code: a.code.clone(),
            name: a.name.clone(),
            level: a.level.label(),
            parent: a.parent.as_deref().and_then(area).map(|p| (p.code.clone(), p.name.clone())),
            pilot_area: a.pilot_area.clone(),
            holds_pilot: a.holds_pilot(),
            children: areas()
                .iter()
                .filter(|c| c.parent.as_deref() == Some(a.code.as_str()))
                .map(|c| (c.code.clone(), c.name.clone()))
                .collect(),
            measures: shown_measures
                .iter()
                .map(|m| {
                    let name = measure(m).map_or(m.to_string(), |x| x.name.clone());
                    format!("{name} ({})", shown_unit(m))
                })
                .collect(),
            rows: by_month.into_iter().rev().map(|(m, cells)| (m.label(), cells)).collect(),
        };
        Ok(page)
    })
    .await
}

#[derive(Template)]
#[template(path = "app_measure.html")]
pub struct MeasurePage {
    pub measure: crate::domain::uptake::Measure,
    pub month: String,
    pub unit: &'static str,
    pub rows: Vec<Row>,
}

async fn measure_page(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    uri: axum::http::Uri,
    Path(id): Path<String>,
) -> Result<Html<String>> {
    let Some(m) = measure(&id) else {
        return Err(AppError::NotFound(format!("There is no measure '{id}'.")));
    };
    cached_uptake_page(&state, &auth, &uri, move |figures| {
        let latest = Latest::of(figures);
        let mut rows: Vec<(f64, Row)> = areas()
            .iter()
            .filter(|a| a.level == Level::SubIcb)
            .filter_map(|a| {
                let f = latest.get(&a.code, &m.measure, AgeBand::All)?;
                let v = if m.measure == POPULATION { Some(f.value) } else { shown(f) }?;
                Some((
                    v,
                    Row {
                        href: format!("/app/areas/{}", a.code),
                        name: a.name.clone(),
                        code: a.code.clone(),
                        cells: vec![num(f.value, 0), num(v, 1)],
                        pilot: a.pilot_area.is_some(),
                    },
                ))
            })
            .collect();
        rows.sort_by(|a, b| b.0.total_cmp(&a.0));
        let page = MeasurePage {
            measure: m.clone(),
            month: latest.month.map_or("no data yet".into(), Month::label),
            unit: if m.measure == POPULATION { "people" } else { shown_unit(&m.measure) },
            rows: rows.into_iter().map(|(_, r)| r).collect(),
        };
        Ok(page)
    })
    .await
}

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
) -> Result<super::Page> {
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

/// A rate per 1,000: one decimal, two below 1 so that a small rate does not read as none.
fn rate_text(v: f64) -> String {
    if v < 1.0 { num(v, 2) } else { num(v, 1) }
}

/// A feature's name in a narrow column heading.
fn feature_short(id: &str) -> &'static str {
    match id {
        "appointments" => "Appointments",
        "prescriptions" => "Prescriptions",
        "record" => "Record views",
        "nhs111" => "NHS 111 online",
        "data_sharing" => "Data sharing",
        "organ_donation" => "Organ donation",
        _ => "End of life",
    }
}

/// An ICB's name without "NHS" and "Integrated Care Board"; any other area's as it is.
fn short_area_name(a: &crate::domain::uptake::Area) -> String {
    crate::domain::icb(&a.code).map_or_else(|| a.name.clone(), |i| i.short_name().to_string())
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
        // The latest month with rates (registrations and a population), else with registrations.
        let registrations = || figures.iter().filter(|f| f.measure == REGISTRATIONS);
        let month = registrations()
            .filter(|f| f.population.is_some())
            .map(|f| f.month)
            .max()
            .or_else(|| registrations().map(|f| f.month).max());
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
    /// What the tile shows: an ICB's code, a region's name.
    pub label: String,
    pub x: i32,
    pub y: i32,
    /// The tile's centre across, and its two lines of text down.
    pub cx: i32,
    pub label_y: i32,
    pub value_y: i32,
    pub fill: &'static str,
    pub ink: &'static str,
    pub value: String,
    pub pilot: bool,
}

pub struct KeyClass {
    pub fill: &'static str,
    pub label: String,
}

/// A tile map: one equal tile per area in its rough place, coloured by class, with its key.
pub struct TileMap {
    pub id: &'static str,
    pub modifier: &'static str,
    pub title: String,
    pub desc: String,
    pub view_box: String,
    pub tile_w: i32,
    pub tile_h: i32,
    pub label_font: i32,
    pub value_font: i32,
    pub tiles: Vec<Tile>,
    pub key: Vec<KeyClass>,
}

/// Five equal classes between the lowest and the highest value, numbered 0 (dark) to 4.
struct Classes {
    low: f64,
    high: f64,
}

impl Classes {
    fn of(values: impl Iterator<Item = f64>) -> Self {
        let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| (l.min(v), h.max(v)));
        Self { low, high }
    }

    fn class(&self, v: f64) -> usize {
        if self.high.partial_cmp(&self.low) != Some(std::cmp::Ordering::Greater) {
            return 2;
        }
        (((v - self.low) / (self.high - self.low) * 5.0).floor() as usize).min(4)
    }

    fn key(&self, places: usize) -> Vec<KeyClass> {
        if !self.low.is_finite() {
            return Vec::new();
        }
        let (low, high) = (self.low, self.high);
        (0..5)
            .map(|k| {
                let (from, to) = (low + (high - low) * k as f64 / 5.0, low + (high - low) * (k + 1) as f64 / 5.0);
                KeyClass { fill: CLASSES[k].0, label: format!("{} to {}", num(from, places), num(to, places)) }
            })
            .collect()
    }
}

/// The shape of a tile map's tiles: their size and pitch, and what each is labelled with.
struct TileShape {
    width: i32,
    height: i32,
    gap: i32,
    /// The font sizes of the label and the value.
    fonts: (i32, i32),
    label: fn(&crate::domain::uptake::Area) -> String,
}

const ICB_TILE: TileShape = TileShape { width: 60, height: 52, gap: 4, fonts: (14, 12), label: |a| a.code.clone() };
const REGION_TILE: TileShape = TileShape {
    width: 200,
    height: 80,
    gap: 6,
    fonts: (17, 17),
    label: |a| a.name.replace("North East and", "NE and"),
};

/// A tile map of `places` (code, column, row) coloured by `value`.
fn tile_map(
    id: &'static str,
    modifier: &'static str,
    title: String,
    places: &[(String, i32, i32)],
    shape: &TileShape,
    value: impl Fn(&str) -> Option<f64>,
) -> TileMap {
    let classes = Classes::of(places.iter().filter_map(|(code, _, _)| value(code)));
    let places_dp = 1;
    let tiles: Vec<Tile> = places
        .iter()
        .filter_map(|(code, col, row)| {
            let a = area(code)?;
            let v = value(code);
            let (fill, ink) = v.map_or(("#f0f4f5", "#0b0c0c"), |v| CLASSES[classes.class(v)]);
            let (x, y) = (col * (shape.width + shape.gap), row * (shape.height + shape.gap));
            Some(Tile {
                code: code.to_string(),
                name: a.name.clone(),
                label: (shape.label)(a),
                x,
                y,
                cx: x + shape.width / 2,
                label_y: y + shape.height * 2 / 5 + 2,
                value_y: y + shape.height * 3 / 4 + 1,
                fill,
                ink,
                value: v.map_or("no data".into(), |v| num(v, places_dp)),
                pilot: a.holds_pilot(),
            })
        })
        .collect();
    let (cols, rows) = places.iter().fold((0, 0), |(c, r), (_, col, row)| (c.max(*col + 1), r.max(*row + 1)));
    TileMap {
        id,
        modifier,
        desc: format!(
            "Each of the {} tiles is coloured by its value, from dark (lowest) to light (highest); the table below lists every value.",
            tiles.len()
        ),
        title,
        view_box: format!("-4 -4 {} {}", cols * (shape.width + shape.gap) + 4, rows * (shape.height + shape.gap) + 4),
        tile_w: shape.width,
        tile_h: shape.height,
        label_font: shape.fonts.0,
        value_font: shape.fonts.1,
        tiles,
        key: classes.key(places_dp),
    }
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

/// A cell of the feature heat map: its value and its class (0 dark to 4 light, within its
/// feature), none without a value.
pub struct HeatCell {
    pub text: String,
    pub class: Option<usize>,
}

pub struct AdoptionRow {
    pub href: String,
    pub name: String,
    pub pilot: bool,
    pub cells: Vec<HeatCell>,
    /// The feature taken up fastest, and in how many months.
    pub fastest: String,
}

pub struct AgeRow {
    pub band: String,
    pub population: String,
    pub registered: String,
    pub share: String,
    pub interval: String,
}

pub struct AgeTable {
    pub caption: String,
    pub rows: Vec<AgeRow>,
    pub reading: String,
}

pub struct FunnelOutlier {
    pub href: String,
    pub name: String,
    pub code: String,
    pub pilot: bool,
    pub population: String,
    pub share: String,
    pub limits: String,
    pub position: &'static str,
}

#[derive(Template)]
#[template(path = "app.html")]
pub struct AppPage {
    pub month: String,
    pub measure_id: String,
    pub measure_name: String,
    pub unit: &'static str,
    pub measures: Vec<(String, String, bool)>,
    pub headline: Vec<(String, String, String, String, String)>,
    /// England's share of people aged 13+ registered, in percent.
    pub registered: String,
    pub maps: Vec<TileMap>,
    pub icb_rows: Vec<Row>,
    pub region_rows: Vec<Row>,
    /// Each feature's short heading and full name.
    pub features: Vec<(String, String)>,
    pub adoption: Vec<AdoptionRow>,
    pub by_month: Vec<Comparison>,
    pub by_since: Vec<Comparison>,
    pub funnel_chart: String,
    pub funnel_pooled: String,
    pub funnel_counts: Vec<(String, usize)>,
    pub funnel_outliers: Vec<FunnelOutlier>,
    pub ages: Vec<AgeTable>,
    pub empty: bool,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct AppQuery {
    measure: Option<String>,
}

/// A measure chosen by `?measure=` (registrations by default), or the error listing them.
fn chosen_measure(given: Option<String>) -> Result<crate::domain::uptake::Measure> {
    let measure_id = given.unwrap_or_else(|| REGISTRATIONS.to_string());
    measure(&measure_id).filter(|m| m.measure != POPULATION).cloned().ok_or_else(|| {
        let all: Vec<&str> =
            measures().iter().filter(|m| m.measure != POPULATION).map(|m| m.measure.as_str()).collect();
        AppError::BadRequest(format!("measure: '{measure_id}' is not one of {}", all.join(", ")))
    })
}

/// The measures to choose from, `chosen` selected.
fn measure_choices(chosen: &str) -> Vec<(String, String, bool)> {
    measures()
        .iter()
        .filter(|m| m.measure != POPULATION)
        .map(|m| (m.measure.clone(), m.name.clone(), m.measure == chosen))
        .collect()
}

/// A change on an earlier count, signed, with its percentage: "+1,204 (+3.1 %)".
fn change_text(from: Option<f64>, to: f64) -> String {
    let Some(from) = from else { return "–".into() };
    let sign = |v: f64| if v > 0.0 { "+" } else { "" };
    let d = to - from;
    match UptakeFigure::percent_change(Some(from), to) {
        Some(p) => format!("{}{} ({}{} %)", sign(d), num(d, 0), sign(p), num(p, 1)),
        None => format!("{}{}", sign(d), num(d, 0)),
    }
}

fn age_table(caption: String, shares: &[crate::analytics::uptake::AgeShare]) -> Option<AgeTable> {
    let reading = crate::analytics::uptake::age_reading(shares)?;
    Some(AgeTable {
        caption,
        rows: shares
            .iter()
            .map(|a| AgeRow {
                band: a.band.as_str().to_string(),
                population: num(a.population, 0),
                registered: num(a.registered, 0),
                share: num(a.share, 1),
                interval: format!("{} to {}", num(a.low, 1), num(a.high, 1)),
            })
            .collect(),
        reading,
    })
}

async fn overview(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    uri: axum::http::Uri,
    Query(q): Query<AppQuery>,
) -> Result<super::Page> {
    let chosen = chosen_measure(q.measure)?;
    cached_uptake_page(&state, &auth, &uri, move |figures| {
        let latest = Latest::of(figures);
        let value = |code: &str, m: &str| latest.get(code, m, AgeBand::All).and_then(shown);
        let month_label = latest.month.map_or("no data yet".into(), Month::label);
        let maps = vec![
            tile_map(
                "icb-map",
                "",
                format!(
                    "Tile map of England's 42 integrated care boards: {}, {month_label}",
                    chosen.name.to_lowercase()
                ),
                crate::domain::uptake::icb_tiles(),
                &ICB_TILE,
                |code| value(code, &chosen.measure),
            ),
            tile_map(
                "region-map",
                "app-tile-map--regions",
                format!("Tile map of England's seven NHS regions: {}, {month_label}", chosen.name.to_lowercase()),
                crate::domain::uptake::region_tiles(),
                &REGION_TILE,
                |code| value(code, &chosen.measure),
            ),
        ];
        let icbs: Vec<&crate::domain::uptake::Area> = areas().iter().filter(|a| a.level == Level::Icb).collect();
        let area_row = |a: &crate::domain::uptake::Area| Row {
            href: format!("/app/areas/{}", a.code),
            name: a.name.clone(),
            code: a.code.clone(),
            cells: vec![value(&a.code, &chosen.measure).map_or("no data".into(), |v| num(v, 1))],
            pilot: a.holds_pilot(),
        };
        let mut icb_rows: Vec<Row> = icbs.iter().map(|a| area_row(a)).collect();
        icb_rows.sort_by(|a, b| a.name.cmp(&b.name));
        let region_rows =
            areas().iter().filter(|a| matches!(a.level, Level::Region | Level::England)).map(area_row).collect();
        // Feature adoption: each feature's rate classed within the feature, and the fastest.
        let adopted = crate::analytics::uptake::adoption(figures);
        let rate = |code: &str, m: &str| latest.get(code, m, AgeBand::All).and_then(|f| f.rate_per_1000);
        let feature_classes: Vec<Classes> =
            FEATURES.iter().map(|(_, _, m)| Classes::of(icbs.iter().filter_map(|a| rate(&a.code, m)))).collect();
        let mut adoption: Vec<AdoptionRow> = icbs
            .iter()
            .map(|a| AdoptionRow {
                href: format!("/app/areas/{}", a.code),
                name: short_area_name(a),
                pilot: a.holds_pilot(),
                cells: FEATURES
                    .iter()
                    .zip(&feature_classes)
                    .map(|((_, _, m), classes)| {
                        let v = rate(&a.code, m);
                        HeatCell { text: v.map_or("–".into(), |v| num(v, 1)), class: v.map(|v| classes.class(v)) }
                    })
                    .collect(),
                fastest: fastest_text(adopted.get(&a.code).map(Vec::as_slice)),
            })
            .collect();
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
                    f.rate_per_1000.map_or("–".into(), rate_text),
                    change_text(f.previous_month, f.value),
                    change_text(f.year_before, f.value),
                ))
            })
            .collect();
        let (by_month, by_since) = pilot_against_rest(figures);
        let step = |all: Vec<PilotComparison>| -> Vec<Comparison> {
            let n = all.len();
            all.iter().enumerate().filter(|(i, _)| i % 6 == 0 || *i + 1 == n).map(|(_, c)| comparison(c)).collect()
        };
        let funnel = latest.month.map(|m| crate::analytics::uptake::registered_funnel(figures, m));
        let (funnel_chart, funnel_pooled, funnel_counts, funnel_outliers) =
            registered_funnel_parts(funnel.as_ref(), &month_label)?;
        // Age: the latest month with registrations and a population by age band.
        let age_month = figures
            .iter()
            .filter(|f| f.measure == REGISTRATIONS && f.age_band != AgeBand::All && f.population.is_some())
            .map(|f| f.month)
            .max();
        let mut ages = Vec::new();
        if let Some(month) = age_month {
            let month_label = month.label();
            use crate::analytics::uptake::by_age;
            let all = by_age(figures, month, |_| true);
            let pilot = by_age(figures, month, |code| area(code).is_some_and(|a| a.pilot_area.is_some()));
            ages.extend(age_table(
                format!("Share registered by age band, every location that sent bands, {month_label}"),
                &all,
            ));
            ages.extend(age_table(format!("Share registered by age band, the pilot areas, {month_label}"), &pilot));
        }
        let page = AppPage {
            month: month_label,
            measure_id: chosen.measure.clone(),
            measure_name: chosen.name.clone(),
            unit: shown_unit(&chosen.measure),
            measures: measure_choices(&chosen.measure),
            headline,
            registered: latest
                .get(england, REGISTRATIONS, AgeBand::All)
                .and_then(|f| f.share_registered)
                .map_or("–".into(), |v| num(v, 1)),
            maps,
            icb_rows,
            region_rows,
            features: FEATURES.iter().map(|(id, name, _)| (feature_short(id).to_string(), name.to_string())).collect(),
            adoption,
            by_month: step(by_month),
            by_since: step(by_since),
            funnel_chart,
            funnel_pooled,
            funnel_counts,
            funnel_outliers,
            ages,
            empty: figures.is_empty(),
        };
        Ok(page)
    })
    .await
}

/// "Prescriptions (5)": the feature an area took up fastest, and its months to half its level.
fn fastest_text(list: Option<&[crate::analytics::uptake::FeatureAdoption]>) -> String {
    let Some(best) = list.and_then(crate::analytics::uptake::fastest) else { return "–".into() };
    let name =
        FEATURES.iter().find(|(_, _, m)| *m == best.measure).map_or(best.measure, |(id, _, _)| feature_short(id));
    match best.months_to_half {
        Some(k) => format!("{name} ({k})"),
        None => name.to_string(),
    }
}

/// The funnel plot of the share registered against population, its pooled share, how many
/// locations fall where, and the locations beyond the 95 % limits.
#[allow(clippy::type_complexity)]
fn registered_funnel_parts(
    funnel: Option<&(f64, Vec<crate::analytics::uptake::ShareFunnelRow>)>,
    month_label: &str,
) -> Result<(String, String, Vec<(String, usize)>, Vec<FunnelOutlier>)> {
    use crate::analytics::uncertainty::Position;
    let Some((pooled, rows)) = funnel else { return Ok((String::new(), String::new(), Vec::new(), Vec::new())) };
    let count = |p: Position| rows.iter().filter(|r| r.point.position == p).count();
    let positions = [
        (Position::Above998, "above the 99.8 % limit"),
        (Position::Above95, "between the 95 % and 99.8 % limits above"),
        (Position::Within, "within the 95 % limits"),
        (Position::Below95, "between the 95 % and 99.8 % limits below"),
        (Position::Below998, "below the 99.8 % limit"),
    ];
    let counts: Vec<(String, usize)> = positions.iter().map(|(p, words)| (words.to_string(), count(*p))).collect();
    let largest = rows.iter().map(|r| r.population).fold(10.0, f64::max);
    let chart = crate::charts::funnel_chart(&crate::charts::FunnelChart {
        id: "registered-funnel".into(),
        words: crate::charts::FunnelWords {
            one: "Location",
            many: "sub-ICB locations",
            marked: "Pilot area",
            x_label: "People aged 13 and over",
        },
        title: format!("Share of people aged 13+ registered for the NHS App by sub-ICB location, {month_label}"),
        y_label: "% registered".into(),
        pooled: 100.0 * pooled,
        points: rows
            .iter()
            .map(|r| crate::charts::FunnelPoint {
                denominator: r.population,
                value: r.share,
                beyond: matches!(r.point.position, Position::Above998 | Position::Below998),
                exemplar: area(&r.area_code).is_some_and(|a| a.pilot_area.is_some()),
            })
            .collect(),
        limits: crate::analytics::uncertainty::funnel_lines(*pooled, largest),
        summary: counts.iter().map(|(w, n)| format!("{n} {w}")).collect::<Vec<_>>().join(", ") + ".",
    })?;
    let mut outliers: Vec<(f64, FunnelOutlier)> = rows
        .iter()
        .filter(|r| r.point.position != Position::Within)
        .filter_map(|r| {
            let a = area(&r.area_code)?;
            Some((
                r.share,
                FunnelOutlier {
                    href: format!("/app/areas/{}", a.code),
                    name: a.name.clone(),
                    code: a.code.clone(),
                    pilot: a.pilot_area.is_some(),
                    population: num(r.population, 0),
                    share: num(r.share, 1),
                    limits: format!(
                        "{} to {} (99.8 %: {} to {})",
                        num(r.point.lower_95, 1),
                        num(r.point.upper_95, 1),
                        num(r.point.lower_998, 1),
                        num(r.point.upper_998, 1)
                    ),
                    position: positions.iter().find(|(p, _)| *p == r.point.position).map_or("", |(_, w)| *w),
                },
            ))
        })
        .collect();
    outliers.sort_by(|a, b| b.0.total_cmp(&a.0));
    Ok((chart, num(100.0 * pooled, 1), counts, outliers.into_iter().map(|(_, o)| o).collect()))
}

/// One month of an area's chosen measure: its count, rate or share, changes and SPC signal.
pub struct SeriesRow {
    pub month: String,
    pub count: String,
    pub shown: String,
    pub on_month: String,
    pub on_year: String,
    pub signal: &'static str,
}

pub struct FeatureRow {
    pub name: String,
    pub level: String,
    pub months: String,
    pub fastest: bool,
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
    pub measure_id: String,
    pub measure_name: String,
    pub measures: Vec<(String, String, bool)>,
    pub spc_chart: String,
    pub spc_reading: String,
    pub series: Vec<SeriesRow>,
    pub features: Vec<FeatureRow>,
    pub overview_measures: Vec<String>,
    pub rows: Vec<(String, Vec<String>)>,
}

async fn area_page(
    State(state): State<AppState>,
    Extension(auth): Extension<Auth>,
    uri: axum::http::Uri,
    Path(code): Path<String>,
    Query(q): Query<AppQuery>,
) -> Result<super::Page> {
    let code = code.to_ascii_uppercase();
    let Some(a) = area(&code) else {
        return Err(AppError::NotFound(format!("There is no area '{code}'.")));
    };
    let chosen = chosen_measure(q.measure)?;
    cached_uptake_page(&state, &auth, &uri, move |figures| {
        let shown_measures =
            [REGISTRATIONS, "logins", "appointments_booked", "prescriptions_ordered", "record_views", "nhs111_visits"];
        let mut by_month: std::collections::BTreeMap<Month, Vec<String>> = Default::default();
        let mut chosen_rows: Vec<&UptakeFigure> = Vec::new();
        for f in figures.iter().filter(|f| f.area_code == a.code && f.age_band == AgeBand::All) {
            if let Some(k) = shown_measures.iter().position(|m| *m == f.measure) {
                let cells = by_month.entry(f.month).or_insert_with(|| vec!["–".into(); shown_measures.len()]);
                cells[k] = shown(f).map_or(num(f.value, 0), |v| num(v, 1));
            }
            if f.measure == chosen.measure {
                chosen_rows.push(f);
            }
        }
        chosen_rows.sort_by_key(|f| f.month);
        let (spc_chart, spc_reading, signals) = area_spc(a, &chosen, &chosen_rows)?;
        let series = chosen_rows
            .iter()
            .zip(&signals)
            .rev()
            .map(|(f, signal)| SeriesRow {
                month: f.month.label(),
                count: num(f.value, 0),
                shown: f.rate_per_1000.map_or("–".into(), |v| num(v, 1)),
                on_month: change_text(f.previous_month, f.value),
                on_year: change_text(f.year_before, f.value),
                signal,
            })
            .collect();
        let adopted = crate::analytics::uptake::adoption(figures);
        let list = adopted.get(&a.code).map(Vec::as_slice).unwrap_or_default();
        let best = crate::analytics::uptake::fastest(list).map(|b| b.measure);
        let features = FEATURES
            .iter()
            .map(|(_, name, m)| {
                let found = list.iter().find(|x| x.measure == *m);
                FeatureRow {
                    name: name.to_string(),
                    level: found.and_then(|x| x.level).map_or("–".into(), |v| num(v, 1)),
                    months: found.and_then(|x| x.months_to_half).map_or("–".into(), |k| k.to_string()),
                    fastest: best == Some(*m),
                }
            })
            .collect();
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
            measure_id: chosen.measure.clone(),
            measure_name: chosen.name.clone(),
            measures: measure_choices(&chosen.measure),
            spc_chart,
            spc_reading,
            series,
            features,
            overview_measures: shown_measures
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

/// The Making Data Count chart of an area's monthly rate per 1,000 of a measure (higher is
/// better: more use of the app), what it says in words, and each month's signal.
fn area_spc(
    a: &crate::domain::uptake::Area,
    m: &crate::domain::uptake::Measure,
    rows: &[&UptakeFigure],
) -> Result<(String, String, Vec<&'static str>)> {
    use crate::analytics::spc::{Rule, chart, variation_words};
    let rated: Vec<(Month, f64)> = rows.iter().filter_map(|f| Some((f.month, f.rate_per_1000?))).collect();
    let values: Vec<f64> = rated.iter().map(|(_, v)| *v).collect();
    let spc = chart(&values, crate::domain::Direction::HigherBetter, None);
    let svg = crate::charts::spc_chart(&crate::charts::SpcChart {
        id: "spc".into(),
        title: format!(
            "{}: {} per 1,000 people aged 13+ by month, Making Data Count chart",
            a.name,
            m.name.to_lowercase()
        ),
        y_label: "per 1,000 people aged 13+".into(),
        points: rated
            .iter()
            .zip(spc.iter().flat_map(|c| c.points.iter()))
            .map(|((month, _), p)| crate::charts::SpcPoint {
                when: crate::charts::When::Month(*month),
                value: p.value,
                point_type: p.point_type.into(),
            })
            .collect(),
        mean: spc.as_ref().map_or(0.0, |c| c.mean),
        limits: spc.as_ref().and_then(|c| c.limits),
        target: None,
        scale: (0.0, f64::INFINITY),
    })?;
    let by_month: HashMap<Month, &crate::analytics::spc::Point> =
        rated.iter().map(|(m, _)| *m).zip(spc.iter().flat_map(|c| c.points.iter())).collect();
    let signals = rows
        .iter()
        .map(|f| match by_month.get(&f.month).map(|p| p.rule) {
            None => "no rate (no population)",
            Some(Rule::OutsideLimits) => "outside the process limits",
            Some(Rule::Trend) => "seven months rising or falling",
            Some(Rule::TwoInThree) => "two of three close to a limit",
            Some(Rule::Shift) => "seven months on one side of the mean",
            Some(Rule::None) => "",
        })
        .collect();
    let reading = spc.as_ref().map_or_else(
        || "No rate has been counted yet.".to_string(),
        |c| format!("Latest month: {}.", variation_words(c.variation_icon)),
    );
    Ok((svg, reading, signals))
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
) -> Result<super::Page> {
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

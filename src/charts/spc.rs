//! Making Data Count's XmR chart of one series: the values over quarters, the mean, the process
//! limits (none for a run chart) and the target, each point marked by its kind — special cause
//! improvement (blue circle), concern (orange square) or common cause (grey dot) — with the
//! legend in its own band above the plot.

use super::{DrawResult, Mark, legend_band, palette, render, short};
use crate::domain::Quarter;
use crate::domain::uptake::Month;
use plotters::prelude::*;

/// What a point signals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointType {
    CommonCause,
    Improvement,
    Concern,
}

/// When a point is: a quarter (metric values) or a calendar month (NHS App uptake).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    Quarter(Quarter),
    Month(Month),
}

impl When {
    fn index(self) -> i32 {
        match self {
            When::Quarter(q) => q.index(),
            When::Month(m) => m.index(),
        }
    }

    fn label(self) -> String {
        match self {
            When::Quarter(q) => q.financial_label(),
            When::Month(m) => m.label(),
        }
    }

    /// An axis tick's label: a quarter as `label`, a month shortened ("Mar 2019").
    fn tick(self) -> String {
        match self {
            When::Quarter(q) => q.financial_label(),
            When::Month(m) if m.month() == 1 => m.year().to_string(),
            When::Month(m) => format!("{} {}", &m.label()[..3], m.year()),
        }
    }

    /// The same kind of time at index `i`.
    fn at(self, i: i32) -> When {
        match self {
            When::Quarter(_) => When::Quarter(Quarter::from_index(i)),
            When::Month(_) => When::Month(Month::from_index(i)),
        }
    }

    fn units(self) -> (&'static str, &'static str) {
        match self {
            When::Quarter(_) => ("quarters", "Quarter (NHS financial year)"),
            When::Month(_) => ("months", "Month"),
        }
    }
}

pub struct SpcPoint {
    pub when: When,
    pub value: f64,
    pub point_type: PointType,
}

pub struct SpcChart {
    pub id: String,
    pub title: String,
    pub y_label: String,
    /// The points, oldest first.
    pub points: Vec<SpcPoint>,
    pub mean: f64,
    /// None for a run chart.
    pub limits: Option<(f64, f64)>,
    pub target: Option<f64>,
    /// The metric's scale, which the plot never goes beyond.
    pub scale: (f64, f64),
}

pub fn spc_chart(c: &SpcChart) -> anyhow::Result<String> {
    if c.points.is_empty() {
        return super::no_data(&c.id, &c.title, "No values have been submitted for this metric.");
    }
    let special: Vec<String> = c
        .points
        .iter()
        .filter(|p| p.point_type != PointType::CommonCause)
        .map(|p| {
            let kind = if p.point_type == PointType::Improvement { "improvement" } else { "concern" };
            format!("{} {} (special cause {kind})", p.when.label(), short(p.value))
        })
        .collect();
    let limits = match c.limits {
        Some((l, u)) => format!("process limits {} to {}", short(l), short(u)),
        None => format!("no process limits: fewer than 12 {}, so a run chart", c.points[0].when.units().0),
    };
    let desc = format!(
        "Chart of {} over {} {}: mean {}, {limits}{}. {}",
        c.y_label,
        c.points.len(),
        c.points[0].when.units().0,
        short(c.mean),
        c.target.map(|t| format!(", target {}", short(t))).unwrap_or_default(),
        if special.is_empty() {
            "Every point is common cause variation.".to_string()
        } else {
            format!("Special causes: {}.", special.join("; "))
        }
    );
    render(&c.id, &c.title, &desc, (720, 400), |root| draw(root, c))
}

fn draw(root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>, c: &SpcChart) -> DrawResult {
    let (legend, plot) = root.split_vertically(48);
    let mut items = vec![
        (Mark::Line(palette::GREY, 2), "Value"),
        (Mark::Line(palette::TEXT, 2), "Mean"),
        (Mark::Dot(palette::BLUE), "Improvement"),
        (Mark::Square(palette::VERMILLION), "Concern"),
    ];
    if c.limits.is_some() {
        items.push((Mark::Line(palette::SKY, 1), "Process limits"));
    }
    if c.target.is_some() {
        items.push((Mark::Line(palette::GREEN, 2), "Target"));
    }
    legend_band(&legend, &items)?;
    let mut lo = c.points.iter().map(|p| p.value).fold(c.mean, f64::min);
    let mut hi = c.points.iter().map(|p| p.value).fold(c.mean, f64::max);
    for v in c.limits.into_iter().flat_map(|(l, u)| [l, u]).chain(c.target) {
        if v.is_finite() {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    let pad = ((hi - lo) * 0.08).max(0.5);
    let (lo, hi) = ((lo - pad).max(c.scale.0), (hi + pad).min(c.scale.1));
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 1.0, hi + 1.0) };
    let kind = c.points[0].when;
    let (first, last) = (kind.index(), c.points[c.points.len() - 1].when.index());
    let n = (last - first + 1) as usize;
    let mut chart = ChartBuilder::on(&plot)
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(super::value_axis_width(lo, hi))
        .build_cartesian_2d(first as f64 - 0.4..last as f64 + 0.4, lo..hi)?;
    // Quarters: one tick in six, every quarter on the grid. Months: one tick each January (every
    // other January over ten years), no grid line for each month.
    let step = match kind {
        When::Quarter(_) => n.div_ceil(6).max(1),
        When::Month(_) if n > 120 => 24,
        When::Month(_) if n > 36 => 12,
        When::Month(_) => 3,
    };
    let mut mesh = chart.configure_mesh();
    if matches!(kind, When::Month(_)) {
        mesh.disable_x_mesh();
    }
    mesh.x_labels(n + 1)
        .x_label_formatter(&|x| {
            let i = x.round() as i32;
            let from = match kind {
                When::Quarter(_) => i - first,
                When::Month(_) => i,
            };
            let on_step = (x - x.round()).abs() < 1e-6 && i >= first && (from.rem_euclid(step as i32) == 0);
            if on_step { kind.at(i).tick() } else { String::new() }
        })
        .y_label_formatter(&|y| super::tick(*y))
        .x_desc(kind.units().1)
        .y_desc(c.y_label.as_str())
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 15))
        .light_line_style(palette::LIGHT.mix(0.5))
        .draw()?;
    let (x0, x1) = (first as f64 - 0.4, last as f64 + 0.4);
    let across = |y: f64| vec![(x0, y), (x1, y)];
    chart.draw_series(LineSeries::new(across(c.mean), palette::TEXT.stroke_width(2)))?;
    if let Some((l, u)) = c.limits.filter(|(l, u)| l.is_finite() && u.is_finite()) {
        for y in [l, u] {
            chart.draw_series(DashedLineSeries::new(across(y), 6, 4, palette::SKY.stroke_width(2)))?;
        }
    }
    if let Some(t) = c.target {
        chart.draw_series(DashedLineSeries::new(across(t), 10, 4, palette::GREEN.stroke_width(2)))?;
    }
    let points: Vec<(f64, f64)> = c.points.iter().map(|p| (p.when.index() as f64, p.value)).collect();
    chart.draw_series(LineSeries::new(points.clone(), palette::GREY.stroke_width(2)))?;
    chart.draw_series(
        c.points.iter().map(|p| EmptyElement::at((p.when.index() as f64, p.value)) + marker(p.point_type)),
    )?;
    Ok(())
}

/// Improvement a blue circle, concern a vermillion square, common cause a small grey dot.
fn marker<DB: DrawingBackend>(kind: PointType) -> DynElement<'static, DB, (i32, i32)> {
    match kind {
        PointType::Improvement => Circle::new((0, 0), 6, palette::BLUE.filled()).into_dyn(),
        PointType::Concern => Rectangle::new([(-6, -6), (6, 6)], palette::VERMILLION.filled()).into_dyn(),
        PointType::CommonCause => Circle::new((0, 0), 4, palette::GREY.filled()).into_dyn(),
    }
}

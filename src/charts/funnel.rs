//! A funnel plot of one proportion metric in one quarter: each trust at (denominator, value), the
//! pooled England proportion as the centre line and the 95 % and 99.8 % control limits drawn
//! across the denominators (the Fingertips method, `analytics::uncertainty::funnel_limit`).
//! Trusts beyond the 99.8 % limits are marked by shape and colour, exemplar trusts by a
//! triangle; the legend has its own band above the plot.

use super::{DrawResult, Mark, legend_band, palette, render, short};
use plotters::prelude::*;

pub struct FunnelPoint {
    pub denominator: f64,
    pub value: f64,
    /// Beyond the 99.8 % limits.
    pub beyond: bool,
    pub exemplar: bool,
}

/// What the points of a funnel are, in the legend, the description and the x axis.
pub struct FunnelWords {
    /// One point, in the legend: "Trust".
    pub one: &'static str,
    /// The points, in the description: "trusts".
    pub many: &'static str,
    /// The marked points, in the legend: "Exemplar".
    pub marked: &'static str,
    pub x_label: &'static str,
}

/// Trusts, exemplars marked, against the counts' denominators.
pub const TRUSTS: FunnelWords =
    FunnelWords { one: "Trust", many: "trusts", marked: "Exemplar", x_label: "Denominator (how many were counted)" };

pub struct FunnelChart {
    pub id: String,
    pub words: FunnelWords,
    pub title: String,
    pub y_label: String,
    /// The pooled proportion (%).
    pub pooled: f64,
    pub points: Vec<FunnelPoint>,
    /// The limit lines as (denominator, %) points: 95 % low and high, then 99.8 % low and high.
    pub limits: [Vec<(f64, f64)>; 4],
    /// How many trusts are where, in words, for the description.
    pub summary: String,
}

pub fn funnel_chart(c: &FunnelChart) -> anyhow::Result<String> {
    if c.points.is_empty() {
        return super::no_data(&c.id, &c.title, "No trust sent counts for this metric and quarter.");
    }
    let desc = format!(
        "Funnel plot of {} {}' {} against their denominators, around England's pooled value of {}%. {}",
        c.points.len(),
        c.words.many,
        c.y_label,
        short(c.pooled),
        c.summary
    );
    render(&c.id, &c.title, &desc, (720, 420), |root| draw(root, c))
}

fn draw(root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>, c: &FunnelChart) -> DrawResult {
    let (legend, plot) = root.split_vertically(48);
    legend_band(
        &legend,
        &[
            (Mark::Line(palette::TEXT, 2), "England"),
            (Mark::Line(palette::SKY, 2), "95% limits"),
            (Mark::Line(palette::PURPLE, 2), "99.8% limits"),
            (Mark::Dot(palette::GREY), c.words.one),
            (Mark::Triangle(palette::GREY), c.words.marked),
            (Mark::Square(palette::VERMILLION), "Beyond 99.8%"),
        ],
    )?;
    let max_d = c.points.iter().map(|p| p.denominator).fold(1.0, f64::max) * 1.05;
    let (mut lo, mut hi) = (c.pooled, c.pooled);
    for p in &c.points {
        lo = lo.min(p.value);
        hi = hi.max(p.value);
    }
    let pad = ((hi - lo) * 0.1).max(1.0);
    let (lo, hi) = ((lo - pad).max(0.0), (hi + pad).min(100.0));
    let mut chart = ChartBuilder::on(&plot)
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(super::value_axis_width(lo, hi))
        .build_cartesian_2d(0.0..max_d, lo..hi)?;
    chart
        .configure_mesh()
        .x_desc(c.words.x_label)
        .y_desc(c.y_label.as_str())
        .x_label_formatter(&|x| super::tick(x.round()))
        .y_label_formatter(&|y| super::tick(*y))
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 15))
        .light_line_style(palette::LIGHT.mix(0.5))
        .draw()?;
    chart.draw_series(LineSeries::new(vec![(0.0, c.pooled), (max_d, c.pooled)], palette::TEXT.stroke_width(2)))?;
    for (k, line) in c.limits.iter().enumerate() {
        let colour = if k < 2 { palette::SKY } else { palette::PURPLE };
        let line: Vec<(f64, f64)> =
            line.iter().filter(|(n, _)| *n <= max_d).map(|&(n, v)| (n, v.clamp(lo, hi))).collect();
        chart.draw_series(LineSeries::new(line, colour.stroke_width(2)))?;
    }
    chart.draw_series(
        c.points.iter().map(|p| EmptyElement::at((p.denominator, p.value)) + marker(p.exemplar, p.beyond)),
    )?;
    Ok(())
}

/// An exemplar is a triangle, a trust beyond the 99.8 % limits a vermillion square, any other
/// trust a grey dot: shape and colour both tell them apart.
fn marker<DB: DrawingBackend>(exemplar: bool, beyond: bool) -> DynElement<'static, DB, (i32, i32)> {
    let colour = if beyond { palette::VERMILLION } else { palette::GREY };
    if exemplar {
        TriangleMarker::new((0, 0), 7, colour.filled()).into_dyn()
    } else if beyond {
        Rectangle::new([(-5, -5), (5, 5)], colour.filled()).into_dyn()
    } else {
        Circle::new((0, 0), 4, colour.filled()).into_dyn()
    }
}

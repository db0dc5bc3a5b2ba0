//! Line charts over quarters, labelled in NHS financial-year form.

use super::{DrawResult, Mark, legend_band, palette, render, short};
use crate::domain::Quarter;
use plotters::prelude::*;

pub struct TrendSeries {
    pub label: String,
    /// (quarter, value) points, oldest first.
    pub points: Vec<(Quarter, f64)>,
}

pub struct TrendChart {
    pub id: String,
    pub title: String,
    pub y_label: String,
    pub y_range: (f64, f64),
    pub series: Vec<TrendSeries>,
}

pub fn trend_chart(chart: &TrendChart) -> anyhow::Result<String> {
    let series: Vec<&TrendSeries> = chart.series.iter().filter(|s| !s.points.is_empty()).collect();
    let Some((first, last)) = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .fold(None, |acc: Option<(Quarter, Quarter)>, q| Some(acc.map_or((q, q), |(a, b)| (a.min(q), b.max(q)))))
    else {
        return super::no_data(&chart.id, &chart.title, "No data for this selection.");
    };
    let desc = series
        .iter()
        .map(|s| {
            let (a, b) = (s.points[0], s.points[s.points.len() - 1]);
            format!(
                "{}: {} in {} to {} in {}",
                s.label,
                short(a.1),
                a.0.financial_label(),
                short(b.1),
                b.0.financial_label()
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let desc = format!("Line chart of {} by quarter. {desc}.", chart.y_label);
    render(&chart.id, &chart.title, &desc, (720, 420), |root| draw(root, chart, &series, first, last))
}

fn draw(
    root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    chart: &TrendChart,
    series: &[&TrendSeries],
    first: Quarter,
    last: Quarter,
) -> DrawResult {
    // The legend in its own band above the plot, so that it never covers a line.
    let (legend, plot) = root.split_vertically(if series.len() > 3 { 62 } else { 40 });
    let items: Vec<(Mark, &str)> = series
        .iter()
        .enumerate()
        .map(|(k, s)| (legend_mark(k, COLOURS[k % COLOURS.len()]), s.label.as_str()))
        .collect();
    legend_band(&legend, &items)?;
    let (x0, x1) = (first.index() as f64 - 0.3, last.index() as f64 + 0.3);
    let quarters = (last.index() - first.index() + 1) as usize;
    let mut c = ChartBuilder::on(&plot)
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(super::value_axis_width(chart.y_range.0, chart.y_range.1))
        .build_cartesian_2d(x0..x1, chart.y_range.0..chart.y_range.1)?;
    let step = quarters.div_ceil(6).max(1);
    c.configure_mesh()
        .x_labels(quarters + 1)
        .x_label_formatter(&|x| super::quarter_tick(*x, first.index(), step))
        .y_label_formatter(&|y| super::tick(*y))
        .x_desc("Quarter (NHS financial year)")
        .y_desc(chart.y_label.as_str())
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 15))
        .light_line_style(palette::LIGHT.mix(0.5))
        .draw()?;
    for (k, s) in series.iter().enumerate() {
        let colour = COLOURS[k % COLOURS.len()];
        let pts: Vec<(f64, f64)> = s.points.iter().map(|(q, v)| (q.index() as f64, *v)).collect();
        c.draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))?;
        c.draw_series(pts.into_iter().map(|p| EmptyElement::at(p) + marker(k, colour)))?;
    }
    Ok(())
}

const COLOURS: [RGBColor; 7] =
    [palette::BLUE, palette::TEXT, palette::SKY, palette::VERMILLION, palette::GREEN, palette::PURPLE, palette::ORANGE];

/// The legend's mark for series `k`: the marker shape the line carries.
fn legend_mark(k: usize, colour: RGBColor) -> Mark {
    match k % 4 {
        0 => Mark::Dot(colour),
        1 => Mark::Square(colour),
        2 => Mark::Triangle(colour),
        _ => Mark::Cross(colour),
    }
}

/// A different marker shape per series, so that colour is never the only signal.
fn marker<DB: DrawingBackend>(k: usize, colour: RGBColor) -> DynElement<'static, DB, (i32, i32)> {
    match k % 4 {
        0 => Circle::new((0, 0), 4, colour.filled()).into_dyn(),
        1 => Rectangle::new([(-4, -4), (4, 4)], colour.filled()).into_dyn(),
        2 => TriangleMarker::new((0, 0), 6, colour.filled()).into_dyn(),
        _ => Cross::new((0, 0), 5, colour.stroke_width(2)).into_dyn(),
    }
}

//! An event study: the estimate for each quarter relative to a cohort's start with its 95 %
//! interval as a vertical bar, the zero line, and a dashed line between the reference quarter
//! (−1) and the start; the legend in its own band above the plot.

use super::{DrawResult, Mark, legend_band, palette, render, short};
use plotters::prelude::*;

pub struct EventChart {
    pub id: String,
    pub title: String,
    pub y_label: String,
    /// (quarters from the start, estimate, lower, upper), in order.
    pub points: Vec<(i32, f64, f64, f64)>,
}

pub fn event_chart(c: &EventChart) -> anyhow::Result<String> {
    if c.points.is_empty() {
        return super::no_data(&c.id, &c.title, "No event study could be estimated.");
    }
    let after: Vec<String> = c
        .points
        .iter()
        .filter(|p| p.0 >= 0)
        .map(|p| format!("{}: {} ({} to {})", p.0, short(p.1), short(p.2), short(p.3)))
        .collect();
    let desc = format!(
        "Event study of {} from quarter {} to {} relative to the start (0), the quarter before the start the reference at 0. \
         From the start: {}.",
        c.y_label,
        c.points[0].0,
        c.points[c.points.len() - 1].0,
        after.join("; ")
    );
    render(&c.id, &c.title, &desc, (720, 380), |root| draw(root, c))
}

fn draw(root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>, c: &EventChart) -> DrawResult {
    let (legend, plot) = root.split_vertically(48);
    legend_band(
        &legend,
        &[
            (Mark::Dot(palette::BLUE), "Estimate"),
            (Mark::Line(palette::BLUE, 2), "95% interval"),
            (Mark::Line(palette::TEXT, 1), "No difference"),
            (Mark::Line(palette::GREY, 2), "Start"),
        ],
    )?;
    let (first, last) = (c.points[0].0, c.points[c.points.len() - 1].0);
    let lo = c.points.iter().map(|p| p.2).fold(0.0f64, f64::min);
    let hi = c.points.iter().map(|p| p.3).fold(0.0f64, f64::max);
    let pad = ((hi - lo) * 0.08).max(0.5);
    let mut chart = ChartBuilder::on(&plot)
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(super::value_axis_width(lo - pad, hi + pad))
        .build_cartesian_2d(first as f64 - 0.6..last as f64 + 0.6, lo - pad..hi + pad)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels((last - first + 1) as usize)
        .x_label_formatter(&|x| {
            if (x - x.round()).abs() < 1e-6 { format!("{}", x.round() as i32) } else { String::new() }
        })
        .y_label_formatter(&|y| super::tick(*y))
        .x_desc("Quarters from the start")
        .y_desc(c.y_label.as_str())
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 15))
        .light_line_style(palette::LIGHT.mix(0.5))
        .draw()?;
    let (x0, x1) = (first as f64 - 0.6, last as f64 + 0.6);
    chart.draw_series(LineSeries::new(vec![(x0, 0.0), (x1, 0.0)], palette::TEXT.stroke_width(1)))?;
    chart.draw_series(DashedLineSeries::new(
        vec![(-0.5, lo - pad), (-0.5, hi + pad)],
        6,
        4,
        palette::GREY.stroke_width(2),
    ))?;
    for (k, _, l, u) in &c.points {
        chart.draw_series(LineSeries::new(vec![(*k as f64, *l), (*k as f64, *u)], palette::BLUE.stroke_width(2)))?;
    }
    chart.draw_series(c.points.iter().map(|(k, e, _, _)| Circle::new((*k as f64, *e), 5, palette::BLUE.filled())))?;
    Ok(())
}

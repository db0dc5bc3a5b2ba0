//! A ranking as horizontal bars: one labelled row per item, longest first as given, each bar
//! with its value written at its end, so that long names fit and nothing covers a bar.

use super::{DrawResult, palette, render, short};
use plotters::prelude::*;

pub struct RankingChart {
    pub id: String,
    pub title: String,
    pub x_label: String,
    /// (label, value), in the order drawn from the top.
    pub items: Vec<(String, f64)>,
}

pub fn ranking_chart(chart: &RankingChart) -> anyhow::Result<String> {
    if chart.items.is_empty() {
        return super::no_data(&chart.id, &chart.title, "Nothing to rank for this selection.");
    }
    let desc = format!(
        "Horizontal bar chart of {}, from the top: {}.",
        chart.x_label,
        chart.items.iter().map(|(l, v)| format!("{l} {}", short(*v))).collect::<Vec<_>>().join("; ")
    );
    let height = 70 + 30 * chart.items.len() as u32;
    render(&chart.id, &chart.title, &desc, (900, height), |root| draw(root, chart))
}

fn draw(root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>, chart: &RankingChart) -> DrawResult {
    let n = chart.items.len() as f64;
    let max = chart.items.iter().map(|(_, v)| *v).fold(0.0, f64::max).max(1.0) * 1.15;
    let labels: Vec<String> = chart.items.iter().map(|(l, _)| l.chars().take(52).collect()).collect();
    let mut c = ChartBuilder::on(root)
        .margin(10)
        .x_label_area_size(45)
        .y_label_area_size(360)
        .build_cartesian_2d(0f64..max, 0f64..n)?;
    c.configure_mesh()
        .disable_y_mesh()
        .y_labels(chart.items.len() * 2 + 1)
        .y_label_formatter(&|y| {
            let i = y.floor() as usize;
            let row = labels.len().wrapping_sub(1).wrapping_sub(i);
            if (y - y.floor() - 0.5).abs() < 1e-6 && row < labels.len() { labels[row].clone() } else { String::new() }
        })
        .x_labels(6)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .x_desc(chart.x_label.as_str())
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .light_line_style(palette::LIGHT.mix(0.3))
        .draw()?;
    for (i, (_, v)) in chart.items.iter().enumerate() {
        let y = n - 1.0 - i as f64;
        c.draw_series(std::iter::once(Rectangle::new([(0.0, y + 0.2), (*v, y + 0.8)], palette::BLUE.filled())))?;
        c.draw_series(std::iter::once(Text::new(
            short(*v),
            (*v + max * 0.01, y + 0.62),
            ("sans-serif", 13).into_font().color(&palette::TEXT),
        )))?;
    }
    Ok(())
}

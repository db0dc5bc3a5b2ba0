//! Grouped bar charts: one group per category, one bar per series, each bar labelled with its
//! value and the series told apart by a legend as well as by colour.

use super::{DrawResult, category_label, palette, render, short};
use plotters::prelude::*;

pub struct BarChart {
    pub id: String,
    pub title: String,
    pub y_label: String,
    pub y_range: (f64, f64),
    pub categories: Vec<String>,
    /// (series name, one value per category)
    pub series: Vec<(String, Vec<Option<f64>>)>,
}

pub fn bar_chart(chart: &BarChart) -> anyhow::Result<String> {
    if chart.series.iter().all(|(_, v)| v.iter().all(Option::is_none)) {
        return super::no_data(&chart.id, &chart.title, "No data for this selection.");
    }
    let desc = chart
        .categories
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let values: Vec<String> = chart
                .series
                .iter()
                .map(|(name, v)| format!("{name} {}", v[i].map_or("no value".into(), short)))
                .collect();
            format!("{c}: {}", values.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ");
    let desc = format!(
        "Bar chart of {} by {}. {desc}.",
        chart.y_label,
        chart.series.iter().map(|s| s.0.as_str()).collect::<Vec<_>>().join(" and ")
    );
    render(&chart.id, &chart.title, &desc, (900, 420), |root| draw(root, chart))
}

fn draw(root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>, chart: &BarChart) -> DrawResult {
    let n = chart.categories.len();
    let labels = chart.categories.clone();
    let mut c = ChartBuilder::on(root)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(super::value_axis_width(chart.y_range.0, chart.y_range.1))
        .build_cartesian_2d(0f64..n as f64, chart.y_range.0..chart.y_range.1)?;
    c.configure_mesh()
        .disable_x_mesh()
        .x_labels(n * 2 + 1)
        .x_label_formatter(&|x| category_label(&labels, *x))
        .y_label_formatter(&|y| super::tick(*y))
        .y_desc(chart.y_label.as_str())
        .label_style(("sans-serif", 12))
        .axis_desc_style(("sans-serif", 14))
        .light_line_style(palette::LIGHT.mix(0.4))
        .draw()?;
    let colours = [palette::VERMILLION, palette::BLUE, palette::GREEN, palette::PURPLE];
    let k = chart.series.len().max(1) as f64;
    let width = 0.8 / k;
    for (s, (name, values)) in chart.series.iter().enumerate() {
        let colour = colours[s % colours.len()];
        let bars = values.iter().enumerate().filter_map(|(i, v)| {
            let v = (*v)?;
            let x0 = i as f64 + 0.1 + s as f64 * width;
            Some(Rectangle::new([(x0, chart.y_range.0), (x0 + width * 0.9, v)], colour.filled()))
        });
        c.draw_series(bars)?
            .label(name.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], colour.filled()));
        c.draw_series(values.iter().enumerate().filter_map(|(i, v)| {
            let v = (*v)?;
            let x = i as f64 + 0.1 + s as f64 * width + width * 0.1;
            Some(Text::new(
                short(v),
                (x, v + (chart.y_range.1 - chart.y_range.0) * 0.03),
                ("sans-serif", 11).into_font().color(&palette::TEXT),
            ))
        }))?;
    }
    c.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.9))
        .border_style(palette::GREY)
        .label_font(("sans-serif", 13))
        .draw()?;
    Ok(())
}

//! Spine charts in the manner of public-health profiles: one row per metric on a common
//! 0–100 score axis (right is better) with the peer range, inter-quartile range, median,
//! exemplar median and the trust's value marked with its quartile.

use super::{DrawResult, Mark, legend_band, palette, render, short};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

pub struct SpineRow {
    pub label: String,
    /// Peer range and quartiles, as scores (0–100, higher is better).
    pub worst: f64,
    pub p_low: f64,
    pub median: f64,
    pub p_high: f64,
    pub best: f64,
    pub exemplar: Option<f64>,
    pub value: f64,
    /// 1 (best) to 4.
    pub quartile: i64,
    /// The value's 95 % interval, as scores, when it has one.
    pub interval: Option<(f64, f64)>,
    /// Its significance against England at 95 %, when compared.
    pub significance: Option<Significance>,
}

/// A value against a comparator, drawn by shape and colour: better an upward blue triangle,
/// worse a downward orange one, similar a white circle; not compared, the quartile's circle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Significance {
    Better,
    Similar,
    Worse,
}

pub struct SpineChart {
    pub id: String,
    pub title: String,
    pub rows: Vec<SpineRow>,
}

pub fn spine_chart(chart: &SpineChart) -> anyhow::Result<String> {
    if chart.rows.is_empty() {
        return super::no_data(&chart.id, &chart.title, "No values for this trust in this quarter.");
    }
    let by_q = (1..=4).map(|q| chart.rows.iter().filter(|r| r.quartile == q).count()).collect::<Vec<_>>();
    let sig = |s: Significance| chart.rows.iter().filter(|r| r.significance == Some(s)).count();
    let desc = format!(
        "Spine chart of {} metrics on a 0 to 100 score where right is better: for each metric the peer range (light bar), \
         inter-quartile range (dark bar), peer median (line), exemplar median (cross) and this trust, labelled with its quartile \
         and, for a proportion with counts, its 95% interval (whiskers) and its significance against England: better \
         (blue triangle up), similar (white circle) or worse (orange triangle down). \
         Quartile 1 (best): {} metrics; quartile 2: {}; quartile 3: {}; quartile 4: {}. \
         Against England: {} better, {} similar, {} worse.",
        chart.rows.len(),
        by_q[0],
        by_q[1],
        by_q[2],
        by_q[3],
        sig(Significance::Better),
        sig(Significance::Similar),
        sig(Significance::Worse)
    );
    let height = 110 + 26 * chart.rows.len() as u32;
    render(&chart.id, &chart.title, &desc, (900, height), |root| draw(root, chart))
}

/// The quartile in words, as the pages' tags say it ("Q1" would read as a quarter).
fn quartile_words(q: i64) -> &'static str {
    match q {
        1 => "top 25%",
        2 => "upper middle",
        3 => "lower middle",
        _ => "bottom 25%",
    }
}

fn draw(root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>, chart: &SpineChart) -> DrawResult {
    let (legend, root) = root.split_vertically(50);
    legend_band(
        &legend,
        &[
            (Mark::Square(palette::LIGHT), "Peer range"),
            (Mark::Square(palette::GREY), "Middle 50%"),
            (Mark::Line(palette::TEXT, 2), "Peer median"),
            (Mark::Cross(palette::VERMILLION), "Exemplar median"),
            (Mark::Dot(palette::BLUE), "This trust (by quartile)"),
            (Mark::Triangle(palette::BLUE), "Better than England"),
            (Mark::Down(palette::ORANGE), "Worse"),
        ],
    )?;
    let root = &root;
    let n = chart.rows.len() as f64;
    let labels: Vec<String> = chart.rows.iter().map(|r| r.label.clone()).collect();
    let mut c = ChartBuilder::on(root)
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(330)
        .build_cartesian_2d(-2f64..108f64, 0f64..n)?;
    c.configure_mesh()
        .disable_y_mesh()
        .y_labels(chart.rows.len() * 2 + 1)
        .y_label_formatter(&|y| {
            let i = y.floor() as usize;
            let row = labels.len().wrapping_sub(1).wrapping_sub(i);
            if (y - y.floor() - 0.5).abs() < 1e-6 && row < labels.len() { labels[row].clone() } else { String::new() }
        })
        .x_labels(6)
        .x_label_formatter(&|x| {
            if *x >= 0.0 && *x <= 100.0 { short(*x) } else { String::new() }
        })
        .x_desc("Score (0 = worst end of the metric's scale, 100 = best)")
        .label_style(("sans-serif", 13))
        .axis_desc_style(("sans-serif", 14))
        .light_line_style(palette::LIGHT.mix(0.4))
        .draw()?;
    for (i, r) in chart.rows.iter().enumerate() {
        let y = n - 1.0 - i as f64;
        c.draw_series(std::iter::once(Rectangle::new(
            [(r.worst, y + 0.3), (r.best, y + 0.7)],
            palette::LIGHT.filled(),
        )))?;
        c.draw_series(std::iter::once(Rectangle::new(
            [(r.p_low, y + 0.3), (r.p_high, y + 0.7)],
            palette::GREY.filled(),
        )))?;
        c.draw_series(std::iter::once(PathElement::new(
            vec![(r.median, y + 0.15), (r.median, y + 0.85)],
            palette::TEXT.stroke_width(2),
        )))?;
        if let Some(e) = r.exemplar {
            c.draw_series(std::iter::once(Cross::new((e, y + 0.5), 6, palette::VERMILLION.stroke_width(2))))?;
        }
        if let Some((a, b)) = r.interval {
            let (lo, hi) = (a.min(b), a.max(b));
            c.draw_series(std::iter::once(PathElement::new(
                vec![(lo, y + 0.5), (hi, y + 0.5)],
                palette::TEXT.stroke_width(2),
            )))?;
            for x in [lo, hi] {
                c.draw_series(std::iter::once(PathElement::new(
                    vec![(x, y + 0.3), (x, y + 0.7)],
                    palette::TEXT.stroke_width(2),
                )))?;
            }
        }
        let q = quartile_words(r.quartile);
        let label = match r.significance {
            Some(Significance::Better) => format!("{q}, better"),
            Some(Significance::Similar) => format!("{q}, similar"),
            Some(Significance::Worse) => format!("{q}, worse"),
            None => q.to_string(),
        };
        // The marker: by significance when compared, else the quartile's circle.
        let at = (r.value, y + 0.5);
        let outline = palette::TEXT.stroke_width(1);
        match r.significance {
            Some(Significance::Better) => c.draw_series(std::iter::once(
                EmptyElement::at(at)
                    + Polygon::new(vec![(0, -8), (8, 6), (-8, 6)], palette::BLUE.filled())
                    + PathElement::new(vec![(0, -8), (8, 6), (-8, 6), (0, -8)], outline),
            ))?,
            Some(Significance::Worse) => c.draw_series(std::iter::once(
                EmptyElement::at(at)
                    + Polygon::new(vec![(0, 8), (8, -6), (-8, -6)], palette::ORANGE.filled())
                    + PathElement::new(vec![(0, 8), (8, -6), (-8, -6), (0, 8)], outline),
            ))?,
            Some(Significance::Similar) => c.draw_series(std::iter::once(
                EmptyElement::at(at)
                    + Circle::new((0, 0), 7, WHITE.filled())
                    + Circle::new((0, 0), 7, palette::TEXT.stroke_width(2)),
            ))?,
            None => {
                let colour = palette::QUARTILES[(r.quartile.clamp(1, 4) - 1) as usize];
                c.draw_series(std::iter::once(
                    EmptyElement::at(at) + Circle::new((0, 0), 7, colour.filled()) + Circle::new((0, 0), 7, outline),
                ))?
            }
        };
        // Right of the marker, or left of it near the right edge, so the label is never cut off.
        let style = TextStyle::from(("sans-serif", 12).into_font()).color(&palette::TEXT);
        let (offset, style) =
            if r.value > 70.0 { ((-10, -14), style.pos(Pos::new(HPos::Right, VPos::Top))) } else { ((10, -14), style) };
        c.draw_series(std::iter::once(EmptyElement::at(at) + Text::new(label, offset, style)))?;
    }
    Ok(())
}

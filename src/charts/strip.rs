//! Distribution strip charts: every trust as a mark per group, exemplars as triangles, the
//! inter-quartile range as a box and the median as a line.

use super::{DrawResult, Mark, category_label, legend_band, palette, render, short};
use plotters::prelude::*;

pub struct StripGroup {
    pub label: String,
    /// (value, is_exemplar) of each trust.
    pub points: Vec<(f64, bool)>,
    pub p25: f64,
    pub median: f64,
    pub p75: f64,
    pub exemplar_median: Option<f64>,
}

pub struct StripChart {
    pub id: String,
    pub title: String,
    pub y_label: String,
    pub y_range: (f64, f64),
    pub groups: Vec<StripGroup>,
    /// A value marked across every group, such as the national median, with its name.
    pub reference_line: Option<(f64, String)>,
}

pub fn strip_chart(chart: &StripChart) -> anyhow::Result<String> {
    let groups: Vec<&StripGroup> = chart.groups.iter().filter(|g| !g.points.is_empty()).collect();
    if groups.is_empty() {
        return super::no_data(&chart.id, &chart.title, "No data for this selection.");
    }
    let desc = groups
        .iter()
        .map(|g| {
            let ex = g.exemplar_median.map_or("no exemplar trusts".into(), |e| format!("exemplar median {}", short(e)));
            format!(
                "{}: {} trusts, lower quartile {}, median {}, upper quartile {}, {ex}",
                g.label,
                g.points.len(),
                short(g.p25),
                short(g.median),
                short(g.p75)
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let reference =
        chart.reference_line.as_ref().map(|(v, name)| format!(" {name}: {}.", short(*v))).unwrap_or_default();
    let desc = format!(
        "Strip chart of {} by group. {desc}.{reference} Exemplar trusts are drawn as triangles.",
        chart.y_label
    );
    let n = groups.len();
    render(&chart.id, &chart.title, &desc, (720, 420), |root| draw(root, chart, &groups, n))
}

fn draw(
    root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    chart: &StripChart,
    groups: &[&StripGroup],
    n: usize,
) -> DrawResult {
    let (lo, hi) = chart.y_range;
    let labels: Vec<String> = groups.iter().map(|g| g.label.clone()).collect();
    let (band, plot) = root.split_vertically(50);
    let mut items = vec![(Mark::Dot(palette::BLUE), "Trust"), (Mark::Triangle(palette::VERMILLION), "Exemplar trust")];
    if groups.iter().any(|g| g.exemplar_median.is_some()) {
        items.push((Mark::Line(palette::VERMILLION, 2), "Exemplar median"));
    }
    items.push((Mark::Line(palette::TEXT, 3), "Median (grey bar: inter-quartile range)"));
    if let Some((_, name)) = &chart.reference_line {
        items.push((Mark::Line(palette::PURPLE, 2), name.as_str()));
    }
    legend_band(&band, &items)?;
    let mut c = ChartBuilder::on(&plot)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(super::value_axis_width(lo, hi))
        .build_cartesian_2d(0f64..n as f64, lo..hi)?;
    c.configure_mesh()
        .disable_x_mesh()
        .x_labels(n * 2 + 1)
        .x_label_formatter(&|x| category_label(&labels, *x))
        .y_label_formatter(&|y| super::tick(*y))
        .y_desc(chart.y_label.as_str())
        .label_style(("sans-serif", 14))
        .axis_desc_style(("sans-serif", 15))
        .light_line_style(WHITE)
        .draw()?;
    for (i, g) in groups.iter().enumerate() {
        let x0 = i as f64;
        c.draw_series(std::iter::once(Rectangle::new(
            [(x0 + 0.2, g.p25), (x0 + 0.8, g.p75)],
            palette::LIGHT.mix(0.6).filled(),
        )))?;
        c.draw_series(std::iter::once(PathElement::new(
            vec![(x0 + 0.15, g.median), (x0 + 0.85, g.median)],
            palette::TEXT.stroke_width(3),
        )))?;
        let values: Vec<f64> = g.points.iter().map(|p| p.0).collect();
        let offsets = swarm(&values, (hi - lo) / 60.0);
        let at = |k: usize| x0 + 0.5 + offsets[k];
        c.draw_series(
            g.points
                .iter()
                .enumerate()
                .filter(|(_, p)| !p.1)
                .map(|(k, (v, _))| Circle::new((at(k), *v), 4, palette::BLUE.mix(0.75).filled())),
        )?;
        c.draw_series(
            g.points
                .iter()
                .enumerate()
                .filter(|(_, p)| p.1)
                .map(|(k, (v, _))| TriangleMarker::new((at(k), *v), 7, palette::VERMILLION.filled())),
        )?;
        if let Some(e) = g.exemplar_median {
            c.draw_series(std::iter::once(PathElement::new(
                vec![(x0 + 0.1, e), (x0 + 0.9, e)],
                palette::VERMILLION.stroke_width(2),
            )))?;
        }
    }
    if let Some((v, _)) = &chart.reference_line {
        c.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, *v), (n as f64, *v)],
            palette::PURPLE.stroke_width(2),
        )))?;
    }
    Ok(())
}

/// A deterministic swarm: each mark moves sideways only as far as the marks already placed
/// near its value make it (alternately right and left of the centre), so that marks do not hide
/// each other and no diagonal stripes appear. `near` is the value distance that counts as
/// overlapping; offsets stay within ±0.3 of a category's width.
pub fn swarm(values: &[f64], near: f64) -> Vec<f64> {
    const STEP: f64 = 0.045;
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|a, b| values[*a].total_cmp(&values[*b]).then(a.cmp(b)));
    let mut offsets = vec![0.0; values.len()];
    let mut placed: Vec<(f64, i32)> = Vec::new();
    for i in order {
        let v = values[i];
        // Slots 0, 1, -1, 2, -2, …: the first not taken by a mark within `near`.
        let taken: Vec<i32> = placed.iter().filter(|(w, _)| (v - w).abs() < near).map(|(_, s)| *s).collect();
        let slot = (0..)
            .map(|j: i32| if j % 2 == 1 { (j + 1) / 2 } else { -(j / 2) })
            .find(|s| !taken.contains(s))
            .unwrap_or(0);
        offsets[i] = (slot as f64 * STEP).clamp(-0.3, 0.3);
        placed.push((v, slot));
    }
    offsets
}

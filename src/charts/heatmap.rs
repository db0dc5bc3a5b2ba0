//! A heat map of trusts × metrics coloured by quartile, each cell also carrying its quartile
//! number so that colour is never the only signal.

use super::{DrawResult, palette, render};
use plotters::prelude::*;

pub struct HeatMap {
    pub id: String,
    pub title: String,
    pub rows: Vec<String>,
    pub columns: Vec<String>,
    /// `cells[row][column]`: the quartile 1–4, or `None` without a value; with `significance`,
    /// 1 better, 2 similar, 3 worse than England, `None` not compared.
    pub cells: Vec<Vec<Option<i64>>>,
    pub significance: bool,
}

pub fn heat_map(chart: &HeatMap) -> anyhow::Result<String> {
    if chart.rows.is_empty() || chart.columns.is_empty() {
        return super::no_data(&chart.id, &chart.title, "Choose trusts to compare.");
    }
    let counts: Vec<usize> = (1..=4).map(|q| chart.cells.iter().flatten().filter(|c| **c == Some(q)).count()).collect();
    let missing = chart.cells.iter().flatten().filter(|c| c.is_none()).count();
    let desc = if chart.significance {
        format!(
            "Heat map of {} trusts by {} metrics, each cell the trust's significance against England at 95% shown as a letter \
             and a colour: B better (blue), S similar (grey), W worse (orange). Better: {} cells; similar: {}; worse: {}; \
             not compared (no counts, or not a proportion): {missing}.",
            chart.rows.len(),
            chart.columns.len(),
            counts[0],
            counts[1],
            counts[2]
        )
    } else {
        format!(
            "Heat map of {} trusts by {} metrics, each cell the trust's quartile among its peers (1 best, 4 worst) shown as a number \
         and a colour. Quartile 1: {} cells; quartile 2: {}; quartile 3: {}; quartile 4: {}; no value: {missing}.",
            chart.rows.len(),
            chart.columns.len(),
            counts[0],
            counts[1],
            counts[2],
            counts[3]
        )
    };
    let (cell, left, top) = (22u32, 300u32, 10u32);
    let width = left + cell * chart.columns.len() as u32 + 20;
    let height = top + cell * chart.rows.len() as u32 + 40;
    render(&chart.id, &chart.title, &desc, (width, height), |root| {
        draw(root, chart, cell as i32, left as i32, top as i32)
    })
}

fn draw(
    root: &DrawingArea<SVGBackend<'_>, plotters::coord::Shift>,
    chart: &HeatMap,
    cell: i32,
    left: i32,
    top: i32,
) -> DrawResult {
    let label = ("sans-serif", 12).into_font().color(&palette::TEXT);
    for (r, name) in chart.rows.iter().enumerate() {
        let y = top + r as i32 * cell;
        let short: String = name.chars().take(44).collect();
        root.draw(&Text::new(short, (6, y + 5), label.clone()))?;
        for (c, q) in chart.cells[r].iter().enumerate() {
            let x = left + c as i32 * cell;
            let (fill, text_colour) = match q {
                Some(1) if chart.significance => (palette::QUARTILES[0].filled(), WHITE),
                Some(2) if chart.significance => (palette::LIGHT.filled(), palette::TEXT),
                Some(3) if chart.significance => (palette::ORANGE.filled(), palette::TEXT),
                Some(q @ 1..=4) => {
                    let colour = palette::QUARTILES[(*q - 1) as usize];
                    (colour.filled(), if *q == 1 || *q == 4 { WHITE } else { palette::TEXT })
                }
                _ => (WHITE.filled(), palette::GREY),
            };
            root.draw(&Rectangle::new([(x, y), (x + cell - 2, y + cell - 2)], fill))?;
            root.draw(&Rectangle::new([(x, y), (x + cell - 2, y + cell - 2)], palette::LIGHT.stroke_width(1)))?;
            let text = match q {
                Some(1) if chart.significance => "B".to_string(),
                Some(2) if chart.significance => "S".to_string(),
                Some(3) if chart.significance => "W".to_string(),
                Some(q) => q.to_string(),
                None => "–".to_string(),
            };
            root.draw(&Text::new(text, (x + cell / 2 - 4, y + 4), ("sans-serif", 12).into_font().color(&text_colour)))?;
        }
    }
    let y = top + chart.rows.len() as i32 * cell + 12;
    root.draw(&Text::new(
        format!("Columns, left to right: metrics 1 to {} as listed in the table below", chart.columns.len()),
        (left, y),
        label,
    ))?;
    Ok(())
}

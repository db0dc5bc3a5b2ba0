//! SVG charts drawn with plotters: analytics tables in, accessible SVG strings out.
//! Text stays as SVG `<text>` in the page's font; every chart carries `role="img"`, a `<title>`
//! and a `<desc>`. Pure and synchronous: callers run them off the async runtime.

mod bars;
mod event;
mod funnel;
mod heatmap;
mod ranking;
mod spc;
mod spine;
mod strip;
mod trend;

pub use bars::{BarChart, bar_chart};
pub use event::{EventChart, event_chart};
pub use funnel::{FunnelChart, FunnelPoint, FunnelWords, TRUSTS, funnel_chart};
pub use heatmap::{HeatMap, heat_map};
pub use ranking::{RankingChart, ranking_chart};
pub use spc::{PointType, SpcChart, SpcPoint, When, spc_chart};
pub use spine::{Significance, SpineChart, SpineRow, spine_chart};
pub use strip::{StripChart, StripGroup, strip_chart};
pub use trend::{TrendChart, TrendSeries, trend_chart};

use plotters::coord::Shift;
use plotters::prelude::*;

/// Colours that people with colour-vision deficiencies can tell apart (Okabe and Ito), used
/// together with distinct marker shapes and labels.
pub mod palette {
    use plotters::style::RGBColor;
    pub const BLUE: RGBColor = RGBColor(0, 114, 178);
    pub const ORANGE: RGBColor = RGBColor(230, 159, 0);
    pub const GREEN: RGBColor = RGBColor(0, 158, 115);
    pub const VERMILLION: RGBColor = RGBColor(213, 94, 0);
    pub const SKY: RGBColor = RGBColor(86, 180, 233);
    pub const PURPLE: RGBColor = RGBColor(204, 121, 167);
    pub const TEXT: RGBColor = RGBColor(33, 43, 50);
    pub const GREY: RGBColor = RGBColor(118, 134, 146);
    pub const LIGHT: RGBColor = RGBColor(216, 221, 224);
    /// Quartile 1 (best) to 4, as the pages' quartile tags.
    pub const QUARTILES: [RGBColor; 4] =
        [RGBColor(0, 94, 184), RGBColor(86, 180, 233), RGBColor(230, 159, 0), RGBColor(179, 88, 6)];
}

pub type DrawResult = Result<(), Box<dyn std::error::Error>>;

/// A legend entry's mark.
#[derive(Clone, Copy)]
pub enum Mark {
    Dot(RGBColor),
    Square(RGBColor),
    Cross(RGBColor),
    /// A triangle pointing down.
    Down(RGBColor),
    Triangle(RGBColor),
    Line(RGBColor, u32),
}

/// Draws a legend in one row across `area`, so that it never covers the data.
pub fn legend_band(area: &DrawingArea<SVGBackend<'_>, Shift>, items: &[(Mark, &str)]) -> DrawResult {
    let width = area.dim_in_pixel().0 as i32;
    let (mut x, mut y) = (70, 16);
    for (mark, label) in items {
        let needed = 22 + 6 * label.chars().count() as i32 + 18;
        if x + needed > width && x > 70 {
            (x, y) = (70, y + 22);
        }
        match mark {
            Mark::Dot(c) => area.draw(&Circle::new((x + 6, y), 5, c.filled()))?,
            Mark::Square(c) => area.draw(&Rectangle::new([(x + 1, y - 5), (x + 11, y + 5)], c.filled()))?,
            Mark::Cross(c) => area.draw(&Cross::new((x + 6, y), 5, c.stroke_width(2)))?,
            Mark::Down(c) => {
                area.draw(&Polygon::new(vec![(x + 6, y + 7), (x + 13, y - 5), (x - 1, y - 5)], c.filled()))?
            }
            Mark::Triangle(c) => area.draw(&TriangleMarker::new((x + 6, y), 7, c.filled()))?,
            Mark::Line(c, w) => area.draw(&PathElement::new(vec![(x, y), (x + 16, y)], c.stroke_width(*w)))?,
        }
        area.draw(&Text::new(
            label.to_string(),
            (x + 22, y - 7),
            ("sans-serif", 13).into_font().color(&palette::TEXT),
        ))?;
        x += needed;
    }
    Ok(())
}

/// Draws on an SVG canvas and returns the SVG with its accessible title and description.
pub fn render(
    id: &str,
    title: &str,
    desc: &str,
    size: (u32, u32),
    draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, Shift>) -> DrawResult,
) -> anyhow::Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
        draw(&root).map_err(|e| anyhow::anyhow!("{e}"))?;
        root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    Ok(accessible(svg, id, title, desc))
}

/// A chart that says there is nothing to draw, in words.
pub fn no_data(id: &str, title: &str, message: &str) -> anyhow::Result<String> {
    render(id, title, message, (640, 80), |root| {
        root.draw(&Text::new(message.to_string(), (20, 35), ("sans-serif", 18).into_font().color(&palette::TEXT)))?;
        Ok(())
    })
}

/// Adds `role="img"`, `aria-labelledby`, a `<title>` and a `<desc>` to plotters' SVG.
fn accessible(svg: String, id: &str, title: &str, desc: &str) -> String {
    let Some(start) = svg.find("<svg") else {
        return svg;
    };
    let Some(end) = svg[start..].find('>').map(|e| start + e) else {
        return svg;
    };
    let (open, rest) = svg.split_at(end);
    format!(
        "{open} role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" focusable=\"false\"><title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>{}",
        escape(title),
        escape(desc),
        &rest[1..]
    )
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The label of the category centred at `x` on an axis of categories 0..n (each one unit wide,
/// labelled at its middle); empty between centres.
pub fn category_label(labels: &[String], x: f64) -> String {
    let i = x.floor() as usize;
    if (x - x.floor() - 0.5).abs() < 1e-6 && i < labels.len() { labels[i].clone() } else { String::new() }
}

/// The label of tick `x` on an axis of quarter indices from `first`: the quarter in financial
/// year form on every `step`th quarter, nothing between.
pub fn quarter_tick(x: f64, first: i32, step: usize) -> String {
    let i = x.round() as i32;
    if (x - x.round()).abs() < 1e-6 && i >= first && ((i - first) as usize).is_multiple_of(step.max(1)) {
        crate::domain::Quarter::from_index(i).financial_label()
    } else {
        String::new()
    }
}

/// A number for chart labels and descriptions: at most one decimal place.
/// A value axis's tick: thousands grouped with commas and no decimals from 1,000 up, else as
/// `short` writes it ("0.5", "20", not "20.0").
pub fn tick(v: f64) -> String {
    if v.abs() >= 1000.0 {
        let digits = format!("{:.0}", v.abs());
        let mut grouped = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        if v < 0.0 { format!("−{grouped}") } else { grouped }
    } else {
        short(v)
    }
}

/// The width of a value axis's label area: room for its longest tick and, beside them, the
/// axis title, so the two never overlap.
pub fn value_axis_width(lo: f64, hi: f64) -> u32 {
    let longest = tick(lo).chars().count().max(tick(hi).chars().count()) as u32;
    34 + 8 * longest
}

pub fn short(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r.fract() == 0.0 { format!("{r:.0}") } else { format!("{r:.1}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_carry_their_title_and_description() {
        let svg = no_data("c1", "Maturity <index>", "No data for 2024/25 Q1").unwrap();
        assert!(svg.contains("role=\"img\""));
        assert!(svg.contains("<title id=\"c1-title\">Maturity &lt;index&gt;</title>"));
        assert!(svg.contains("<desc id=\"c1-desc\">No data for 2024/25 Q1</desc>"));
        assert_eq!(svg.matches("No data for 2024/25 Q1").count(), 2, "in the description and drawn as text");
    }
}

//! Each chart on fixed input: SVG that parses, with its title and description, and the marks it
//! should carry.

use exemplar::charts::*;
use exemplar::domain::Quarter;

/// Parses the SVG and returns (title, desc, elements by tag name, texts).
fn inspect(svg: &str) -> (String, String, std::collections::HashMap<String, usize>, Vec<String>) {
    let doc = roxmltree::Document::parse(svg).expect("the SVG parses as XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.attribute("role"), Some("img"));
    let text_of = |name: &str| {
        root.children().find(|n| n.tag_name().name() == name).and_then(|n| n.text()).unwrap_or_default().to_string()
    };
    let mut counts = std::collections::HashMap::new();
    let mut texts = Vec::new();
    for node in root.descendants().filter(|n| n.is_element()) {
        *counts.entry(node.tag_name().name().to_string()).or_insert(0) += 1;
        if node.tag_name().name() == "text" {
            texts.push(node.text().unwrap_or_default().trim().to_string());
        }
    }
    (text_of("title"), text_of("desc"), counts, texts)
}

#[test]
fn the_strip_chart_marks_every_trust_and_draws_exemplars_as_triangles() {
    let chart = StripChart {
        id: "s".into(),
        title: "Maturity by type".into(),
        y_label: "Index".into(),
        y_range: (0.0, 100.0),
        groups: vec![
            StripGroup {
                label: "Acute".into(),
                points: vec![(10.0, false), (20.0, false), (30.0, false), (80.0, true), (90.0, true)],
                p25: 20.0,
                median: 30.0,
                p75: 80.0,
                exemplar_median: Some(85.0),
            },
            StripGroup {
                label: "Ambulance".into(),
                points: vec![(40.0, false), (50.0, false)],
                p25: 42.5,
                median: 45.0,
                p75: 47.5,
                exemplar_median: None,
            },
        ],
        reference_line: Some((35.0, "National median".into())),
    };
    let (title, desc, counts, texts) = inspect(&strip_chart(&chart).unwrap());
    assert_eq!(title, "Maturity by type");
    assert!(
        desc.contains("Acute: 5 trusts, lower quartile 20, median 30, upper quartile 80, exemplar median 85"),
        "{desc}"
    );
    assert!(desc.contains("Ambulance: 2 trusts") && desc.contains("no exemplar trusts"));
    // Five non-exemplar circles and the legend's circle; two exemplar triangles and the legend's triangle.
    assert_eq!(counts.get("circle"), Some(&6));
    assert_eq!(counts.get("polygon").copied().unwrap_or(0), 3);
    assert!(texts.iter().any(|t| t == "Acute") && texts.iter().any(|t| t == "Exemplar trust"));
    assert!(desc.contains("National median: 35.") && texts.iter().any(|t| t == "National median"));
    assert!(desc.contains("National median: 35.") && texts.iter().any(|t| t == "National median"));
}

#[test]
fn the_trend_chart_draws_a_line_per_series_with_financial_year_labels() {
    let q = |t: &str| Quarter::parse(t).unwrap();
    let series = vec![
        TrendSeries {
            label: "Median".into(),
            points: vec![(q("2024-Q2"), 2.0), (q("2024-Q3"), 2.5), (q("2024-Q4"), 3.0)],
        },
        TrendSeries { label: "Exemplar median".into(), points: vec![(q("2024-Q2"), 3.0), (q("2024-Q4"), 4.0)] },
    ];
    let chart =
        TrendChart { id: "t".into(), title: "Trend".into(), y_label: "Score".into(), y_range: (1.0, 5.0), series };
    let (_, desc, counts, texts) = inspect(&trend_chart(&chart).unwrap());
    assert!(desc.contains("Median: 2 in 2024/25 Q1 to 3 in 2024/25 Q3"), "{desc}");
    assert!(counts.get("polyline").copied().unwrap_or(0) >= 2, "{counts:?}");
    assert!(texts.iter().any(|t| t == "2024/25 Q1"), "quarters are labelled in financial-year form: {texts:?}");
    assert!(texts.iter().any(|t| t == "Quarter (NHS financial year)"));
}

#[test]
fn the_spine_chart_has_one_row_per_metric_with_its_quartile_written() {
    let rows: Vec<SpineRow> = (1..=5)
        .map(|i| SpineRow {
            label: format!("Metric {i}"),
            worst: 0.0,
            p_low: 25.0,
            median: 50.0,
            p_high: 75.0,
            best: 100.0,
            exemplar: Some(80.0),
            value: 20.0 * i as f64 - 10.0,
            quartile: ((5 - i) % 4 + 1) as i64,
            interval: None,
            significance: None,
        })
        .collect();
    let chart = SpineChart { id: "sp".into(), title: "Scorecard".into(), rows };
    let (_, desc, _, texts) = inspect(&spine_chart(&chart).unwrap());
    assert!(desc.starts_with("Spine chart of 5 metrics"));
    let words = ["top 25%", "upper middle", "lower middle", "bottom 25%"];
    let quartile_labels = texts.iter().filter(|t| words.contains(&t.as_str())).count();
    assert_eq!(quartile_labels, 5, "each trust mark carries its quartile, in words");
    assert!(texts.iter().any(|t| t == "Exemplar median"), "the legend");
    assert_eq!((1..=5).filter(|i| texts.contains(&format!("Metric {i}"))).count(), 5);
}

#[test]
fn the_heat_map_writes_each_cells_quartile() {
    let chart = HeatMap {
        id: "h".into(),
        title: "Compare".into(),
        rows: vec!["A".into(), "B".into()],
        columns: vec!["m1".into(), "m2".into(), "m3".into()],
        cells: vec![vec![Some(1), Some(2), None], vec![Some(4), Some(3), Some(1)]],
        significance: false,
    };
    let (_, desc, _, texts) = inspect(&heat_map(&chart).unwrap());
    assert!(desc.contains("Quartile 1: 2 cells; quartile 2: 1; quartile 3: 1; quartile 4: 1; no value: 1"), "{desc}");
    assert_eq!(texts.iter().filter(|t| ["1", "2", "3", "4", "–"].contains(&t.as_str())).count(), 6);
}

#[test]
fn empty_data_says_so_instead_of_drawing_an_empty_frame() {
    let chart = TrendChart {
        id: "e".into(),
        title: "Trend".into(),
        y_label: "Score".into(),
        y_range: (0.0, 1.0),
        series: vec![],
    };
    let (title, desc, counts, texts) = inspect(&trend_chart(&chart).unwrap());
    assert_eq!(title, "Trend");
    assert_eq!(desc, "No data for this selection.");
    assert!(texts.contains(&"No data for this selection.".to_string()));
    assert!(!counts.contains_key("polyline"));
}

#[test]
fn the_bar_chart_draws_and_labels_every_bar() {
    let chart = BarChart {
        id: "b".into(),
        title: "Domains".into(),
        y_label: "Index".into(),
        y_range: (0.0, 100.0),
        categories: vec!["Well led".into(), "Safe practice".into()],
        series: vec![
            ("Exemplar trusts".into(), vec![Some(80.0), Some(70.5)]),
            ("Other trusts".into(), vec![Some(40.0), None]),
        ],
    };
    let (_, desc, _, texts) = inspect(&bar_chart(&chart).unwrap());
    assert!(
        desc.contains(
            "Well led: Exemplar trusts 80, Other trusts 40; Safe practice: Exemplar trusts 70.5, Other trusts no value"
        ),
        "{desc}"
    );
    for label in ["80", "70.5", "40", "Exemplar trusts", "Other trusts"] {
        assert!(texts.iter().any(|t| t == label), "{label} in {texts:?}");
    }
}

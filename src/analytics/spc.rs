//! Statistical process control as NHS England's *Making Data Count* reads it, computed as the
//! NHS-R community's `NHSRplotthedots` computes it (`ptd_spc_standard`,
//! `ptd_calculate_point_type`, `ptd_calculate_assurance_type`, `ptd_get_icons`), with outlier
//! screening of moving ranges on (its default) and no rebasing. docs/RULES.md §4.9.
//!
//! The XmR chart: centre line the mean; process limits at mean ± 2.66 × the mean moving range,
//! moving ranges of 3.267 × that mean or more left out and the mean moving range recomputed.
//! Limits are drawn only from `MIN_POINTS_FOR_LIMITS` points: with fewer the chart is a run
//! chart, and only the rules that need no limits (a trend, a shift) can fire.

use crate::domain::Direction;

/// Making Data Count's advice: limits from at least 12 points.
pub const MIN_POINTS_FOR_LIMITS: usize = 12;

/// The special-cause rule a point is part of, the highest in precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// A point outside the process limits.
    OutsideLimits,
    /// Seven points in a row increasing, or decreasing.
    Trend,
    /// Two of three points beyond two-thirds of the way to a limit, on one side.
    TwoInThree,
    /// Seven points in a row on one side of the mean.
    Shift,
    None,
}

impl Rule {
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::OutsideLimits => "outside_limits",
            Rule::Trend => "trend",
            Rule::TwoInThree => "two_in_three",
            Rule::Shift => "shift",
            Rule::None => "none",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointType {
    CommonCause,
    Improvement,
    Concern,
}

impl PointType {
    pub fn as_str(self) -> &'static str {
        match self {
            PointType::CommonCause => "common_cause",
            PointType::Improvement => "special_cause_improvement",
            PointType::Concern => "special_cause_concern",
        }
    }
}

/// One point of a chart.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub value: f64,
    pub rule: Rule,
    pub point_type: PointType,
}

/// A series' chart: its mean, its limits (none for a run chart), its points, the variation
/// icon of its latest point and, given a target, the assurance icon.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub mean: f64,
    pub limits: Option<(f64, f64)>,
    pub points: Vec<Point>,
    pub variation_icon: &'static str,
    pub assurance_icon: Option<&'static str>,
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

fn sign(v: f64) -> i8 {
    if v > 0.0 {
        1
    } else if v < 0.0 {
        -1
    } else {
        0
    }
}

/// `ptd_seven_point_trend`: +1 or −1 at the seventh point of seven strictly rising or falling.
fn seven_point_trend(y: &[f64]) -> Vec<i8> {
    let mut out = vec![0; y.len()];
    for i in 6..y.len() {
        let d: Vec<i8> = (0..6).map(|k| sign(y[i - k] - y[i - k - 1])).collect();
        if d.iter().all(|&s| s == 1) {
            out[i] = 1;
        } else if d.iter().all(|&s| s == -1) {
            out[i] = -1;
        }
    }
    out
}

/// `ptd_part_of_seven_trend`: a point is part of a run of seven whose seventh point is it or
/// one of the six after it.
fn part_of_seven(v: &[i8]) -> Vec<bool> {
    (0..v.len()).map(|i| (i..(i + 7).min(v.len())).any(|j| v[j] != 0)).collect()
}

/// `ptd_seven_point_one_side_mean`: the point and the six before it on the same side.
fn seven_on_one_side(rtm: &[i8]) -> Vec<i8> {
    (0..rtm.len())
        .map(|i| {
            let side = rtm[i];
            let same = (1..=6).all(|k| if i >= k { rtm[i - k] == side } else { side == 0 });
            if same && side != 0 { side } else { 0 }
        })
        .collect()
}

/// `ptd_two_in_three` then `ptd_part_of_two_in_three`: a point close to a limit, in a window
/// of three (all on one side of the mean) with at least two close to a limit.
fn two_in_three(close: &[bool], rtm: &[i8]) -> Vec<bool> {
    let n = close.len();
    let at = |i: isize| -> (i32, i32) {
        if i < 0 || i as usize >= n { (0, 0) } else { (i32::from(close[i as usize]), i32::from(rtm[i as usize])) }
    };
    (0..n)
        .map(|i| {
            let i = i as isize;
            let window = |start: isize| {
                let (c, r): (Vec<i32>, Vec<i32>) = (start..start + 3).map(at).unzip();
                c.iter().sum::<i32>() >= 2 && r.iter().sum::<i32>().abs() == 3
            };
            let flagged = window(i - 2) || window(i - 1) || window(i);
            flagged && close[i as usize]
        })
        .collect()
}

/// The chart of `values` in time order, judged by `direction`; `target` gives the assurance.
pub fn chart(values: &[f64], direction: Direction, target: Option<f64>) -> Option<Chart> {
    let y = values;
    let centre = mean(y.iter().copied())?;
    let ranges: Vec<f64> = y.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let limits = if y.len() >= MIN_POINTS_FOR_LIMITS {
        let amr = mean(ranges.iter().copied()).unwrap_or(0.0);
        let amr = mean(ranges.iter().copied().filter(|&r| r < 3.267 * amr)).unwrap_or(f64::NAN);
        Some((amr, centre - 2.66 * amr, centre + 2.66 * amr))
    } else {
        None
    };
    let rtm: Vec<i8> = y.iter().map(|&v| sign(v - centre)).collect();
    let outside: Vec<bool> =
        y.iter().map(|&v| limits.is_some_and(|(_, lower, upper)| v > upper || v < lower)).collect();
    let close: Vec<bool> = y
        .iter()
        .zip(&outside)
        .map(|(&v, &out)| {
            limits.is_some_and(|(amr, _, _)| {
                let near = 2.0 * (2.66 / 3.0) * amr;
                !out && (v < centre - near || v > centre + near)
            })
        })
        .collect();
    let trend = seven_point_trend(y);
    let part_trend = part_of_seven(&trend);
    let part_two = two_in_three(&close, &rtm);
    let part_shift = part_of_seven(&seven_on_one_side(&rtm));
    // The direction of a point in a trend: the step to its right when the next point is in
    // the trend too, else the step to its left (`sdy` in `ptd_special_cause_type`).
    let steps: Vec<i8> = y.windows(2).map(|w| sign(w[1] - w[0])).collect();
    let up = match direction {
        Direction::HigherBetter => 1,
        Direction::LowerBetter => -1,
    };
    let points = (0..y.len())
        .map(|i| {
            let (rule, side) = if outside[i] {
                (Rule::OutsideLimits, if rtm[i] == 1 { 1 } else { -1 })
            } else if part_trend[i] {
                let next_too = i + 1 < y.len() && part_trend[i + 1];
                let step = if next_too {
                    steps[i]
                } else if i == 0 {
                    0
                } else {
                    steps[i - 1]
                };
                (Rule::Trend, if step == 1 { 1 } else { -1 })
            } else if part_two[i] {
                (Rule::TwoInThree, if rtm[i] > 0 { 1 } else { -1 })
            } else if part_shift[i] {
                (Rule::Shift, if rtm[i] > 0 { 1 } else { -1 })
            } else {
                (Rule::None, 0)
            };
            let point_type = match side * up {
                1 => PointType::Improvement,
                -1 => PointType::Concern,
                _ => PointType::CommonCause,
            };
            Point { value: y[i], rule, point_type }
        })
        .collect::<Vec<_>>();
    let variation_icon = match points.last().map(|p| p.point_type) {
        Some(PointType::Improvement) => {
            if up == 1 {
                "improvement_high"
            } else {
                "improvement_low"
            }
        }
        Some(PointType::Concern) => {
            if up == 1 {
                "concern_low"
            } else {
                "concern_high"
            }
        }
        _ => "common_cause",
    };
    let limits = limits.map(|(_, lower, upper)| (lower, upper));
    let assurance_icon = match (target, limits) {
        (Some(t), Some((lower, upper))) => Some(if t > upper {
            if up == 1 { "consistent_fail" } else { "consistent_pass" }
        } else if t < lower {
            if up == 1 { "consistent_pass" } else { "consistent_fail" }
        } else {
            "inconsistent"
        }),
        _ => None,
    };
    Some(Chart { mean: centre, limits, points, variation_icon, assurance_icon })
}

/// A variation icon in words, for pages (the icon's text equivalent).
pub fn variation_words(icon: &str) -> &'static str {
    match icon {
        "improvement_high" => "Special cause improvement: unusually high",
        "improvement_low" => "Special cause improvement: unusually low",
        "concern_high" => "Special cause concern: unusually high",
        "concern_low" => "Special cause concern: unusually low",
        _ => "Common cause variation: no significant change",
    }
}

/// A variation icon in a few words, for a table cell.
pub fn variation_short(icon: &str) -> &'static str {
    match icon {
        "improvement_high" => "Improvement (high)",
        "improvement_low" => "Improvement (low)",
        "concern_high" => "Concern (high)",
        "concern_low" => "Concern (low)",
        _ => "Common cause",
    }
}

/// An assurance icon in a few words, for a table cell.
pub fn assurance_short(icon: Option<&str>) -> &'static str {
    match icon {
        Some("consistent_pass") => "passes the target",
        Some("consistent_fail") => "fails the target",
        Some("inconsistent") => "hit and miss",
        _ => "",
    }
}

/// An assurance icon in words.
pub fn assurance_words(icon: Option<&str>) -> &'static str {
    match icon {
        Some("consistent_pass") => "Will consistently pass the target",
        Some("consistent_fail") => "Will consistently fail the target",
        Some("inconsistent") => "Hit and miss: will sometimes pass and sometimes fail the target",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(c: &Chart) -> Vec<&'static str> {
        c.points.iter().map(|p| p.rule.as_str()).collect()
    }

    #[test]
    fn limits_are_the_mean_plus_or_minus_2_66_mean_moving_ranges_with_outlying_ranges_screened() {
        // Moving ranges 1 ×10 and 40: the 40 is ≥ 3.267 × 4.545…, so it is left out; amr = 1.
        let mut y = vec![10.0, 11.0, 10.0, 11.0, 10.0, 11.0, 10.0, 11.0, 10.0, 11.0, 10.0];
        y.push(50.0);
        let c = chart(&y, Direction::HigherBetter, None).unwrap();
        let centre = y.iter().sum::<f64>() / 12.0;
        let (l, u) = c.limits.unwrap();
        assert!((l - (centre - 2.66)).abs() < 1e-12 && (u - (centre + 2.66)).abs() < 1e-12);
        assert_eq!(c.points[11].rule, Rule::OutsideLimits);
        assert_eq!(c.points[11].point_type, PointType::Improvement);
        assert_eq!(c.variation_icon, "improvement_high");
    }

    #[test]
    fn fewer_than_twelve_points_is_a_run_chart() {
        let y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 3.0];
        let c = chart(&y, Direction::LowerBetter, Some(2.0)).unwrap();
        assert_eq!(c.limits, None);
        assert_eq!(c.assurance_icon, None);
        assert_eq!(&rules(&c)[..7], ["trend"; 7]);
        assert_eq!(c.points[0].point_type, PointType::Concern, "rising is concern when lower is better");
        assert_eq!(c.points[7].rule, Rule::None);
    }

    #[test]
    fn seven_on_one_side_is_a_shift() {
        let y = [5.0, 5.5, 4.5, 5.0, 5.5, 4.5, 6.0, 6.1, 6.0, 6.2, 6.1, 6.0, 6.2, 4.0];
        let c = chart(&y, Direction::HigherBetter, None).unwrap();
        let r = rules(&c);
        assert!(r[6..13].iter().all(|&x| x == "shift"), "{r:?}");
    }

    #[test]
    fn assurance_compares_the_target_with_the_limits() {
        let y: Vec<f64> = (0..12).map(|i| if i % 2 == 0 { 50.0 } else { 52.0 }).collect();
        let pass = chart(&y, Direction::HigherBetter, Some(40.0)).unwrap();
        assert_eq!(pass.assurance_icon, Some("consistent_pass"));
        let fail = chart(&y, Direction::HigherBetter, Some(60.0)).unwrap();
        assert_eq!(fail.assurance_icon, Some("consistent_fail"));
        let hit_and_miss = chart(&y, Direction::LowerBetter, Some(51.0)).unwrap();
        assert_eq!(hit_and_miss.assurance_icon, Some("inconsistent"));
        assert_eq!(chart(&y, Direction::LowerBetter, Some(60.0)).unwrap().assurance_icon, Some("consistent_pass"));
    }
}

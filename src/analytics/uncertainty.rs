//! Uncertainty of proportions, as the Fingertips technical guidance computes it and DHSC's
//! `PHStatsMethods` implements it: Wilson score intervals (`confidence_intervals.wilson`),
//! funnel-plot control limits around a pooled proportion (`utils_funnel.sigma_adjustment`,
//! `funnels.calculate_funnel_limits`), where a value falls among them
//! (`funnels.assign_funnel_significance`), and significance against a comparator (the value's
//! interval wholly above, overlapping or wholly below it). docs/RULES.md §4.8.

use crate::domain::Direction;

/// The two levels Fingertips shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// 95 % (two-sided; the funnel's "2 sigma" limits, p = 0.975).
    P95,
    /// 99.8 % (two-sided; the funnel's "3 sigma" limits, p = 0.999).
    P998,
}

impl Level {
    /// Φ⁻¹((1 + confidence) / 2): the normal quantile `PHStatsMethods` computes with
    /// `ndtri` (`utils.get_calc_variables`); 1.959963984540054 and 3.090232306167813.
    pub fn z(self) -> f64 {
        match self {
            Level::P95 => 1.959_963_984_540_054,
            Level::P998 => 3.090_232_306_167_813_5,
        }
    }
}

/// The Wilson score interval of `numerator` out of `denominator`, as proportions (0–1):
/// (2x + z² ∓ z √(z² + 4x(1 − x/n))) / 2 / (n + z²). `None` without a positive denominator.
pub fn wilson(numerator: f64, denominator: f64, level: Level) -> Option<(f64, f64)> {
    if denominator.is_nan() || denominator <= 0.0 || numerator.is_nan() {
        return None;
    }
    let (x, n, z) = (numerator, denominator, level.z());
    let root = z * (z * z + 4.0 * x * (1.0 - x / n)).max(0.0).sqrt();
    let lower = (2.0 * x + z * z - root) / 2.0 / (n + z * z);
    let upper = (2.0 * x + z * z + root) / 2.0 / (n + z * z);
    Some((lower, upper))
}

/// A funnel's control limit for a denominator of `n` around the pooled proportion `p`, as a
/// proportion (0–1), unclamped: `sigma_adjustment(probability, n, p, side, 1)`, the value x/n
/// whose Wilson interval just touches `p`. `high` picks the upper limit.
pub fn funnel_limit(n: f64, p: f64, level: Level, high: bool) -> f64 {
    // sigma_adjustment takes the one-sided probability (0.975 or 0.999): its quantile is `z`.
    let z2 = level.z() * level.z();
    let first = p * (n / z2 + 1.0);
    let inner = (-8.0 * p * (n / z2 + 1.0)).powi(2)
        - 64.0 * (1.0 / z2 + 1.0 / n) * p * (n * (p * (n / z2 + 2.0) - 1.0) + z2 * (p - 1.0));
    let adj = inner.max(0.0).sqrt();
    let last = 1.0 / z2 + 1.0 / n;
    let limit = if high { (first + adj / 8.0) / last } else { (first - adj / 8.0) / last };
    limit / n
}

/// The difference of two proportions x₁/n₁ − x₂/n₂ with its 95 % interval by Newcombe's hybrid
/// score method (method 10): the two Wilson score intervals combined. None without a count.
pub fn newcombe(x1: f64, n1: f64, x2: f64, n2: f64) -> Option<(f64, f64, f64)> {
    if n1 <= 0.0 || n2 <= 0.0 {
        return None;
    }
    let (p1, p2) = (x1 / n1, x2 / n2);
    let ((l1, u1), (l2, u2)) = (wilson(x1, n1, Level::P95)?, wilson(x2, n2, Level::P95)?);
    let d = p1 - p2;
    Some((d, d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt(), d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt()))
}

/// A funnel's four limit lines around the pooled proportion `p`, as (denominator, percent)
/// points on a geometric grid from a denominator of 5 to a little beyond `largest`: 95 % low
/// and high, then 99.8 % low and high.
pub fn funnel_lines(p: f64, largest: f64) -> [Vec<(f64, f64)>; 4] {
    let largest = largest.max(10.0) * 1.05;
    let grid: Vec<f64> = (0..=120).map(|i| 5.0 * (largest / 5.0).powf(f64::from(i) / 120.0)).collect();
    let line = |level, high| -> Vec<(f64, f64)> {
        grid.iter().map(|&n| (n, 100.0 * funnel_limit(n, p, level, high))).collect()
    };
    [line(Level::P95, false), line(Level::P95, true), line(Level::P998, false), line(Level::P998, true)]
}

/// Where a value falls among a funnel's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    Above998,
    Above95,
    Within,
    Below95,
    Below998,
}

impl Position {
    pub fn as_str(self) -> &'static str {
        match self {
            Position::Above998 => "above_998",
            Position::Above95 => "above_95",
            Position::Within => "within",
            Position::Below95 => "below_95",
            Position::Below998 => "below_998",
        }
    }
}

/// A trust's place in the funnel: the limits at its denominator (as percentages, clamped to
/// 0–100 as `calculate_funnel_limits` draws them) and its position, judged as
/// `assign_funnel_significance` judges it (x/n against the unclamped limits, 99.8 % first).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FunnelPoint {
    pub lower_95: f64,
    pub upper_95: f64,
    pub lower_998: f64,
    pub upper_998: f64,
    pub position: Position,
}

pub fn funnel_point(numerator: f64, denominator: f64, pooled: f64) -> Option<FunnelPoint> {
    if denominator <= 0.0 || !pooled.is_finite() {
        return None;
    }
    let limit = |level, high| funnel_limit(denominator, pooled, level, high);
    let (l95, u95, l998, u998) =
        (limit(Level::P95, false), limit(Level::P95, true), limit(Level::P998, false), limit(Level::P998, true));
    let share = numerator / denominator;
    let position = if share < l998 {
        Position::Below998
    } else if share < l95 {
        Position::Below95
    } else if share > u998 {
        Position::Above998
    } else if share > u95 {
        Position::Above95
    } else {
        Position::Within
    };
    let percent = |v: f64| (100.0 * v).clamp(0.0, 100.0);
    Some(FunnelPoint {
        lower_95: percent(l95),
        upper_95: percent(u95),
        lower_998: percent(l998),
        upper_998: percent(u998),
        position,
    })
}

/// A value compared with a comparator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Better,
    Similar,
    Worse,
    NotCompared,
}

impl Comparison {
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::Better => "better",
            Comparison::Similar => "similar",
            Comparison::Worse => "worse",
            Comparison::NotCompared => "not_compared",
        }
    }

    /// A shape for a page, so that colour is not the only signal.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Better => "▲",
            Comparison::Similar => "●",
            Comparison::Worse => "▼",
            Comparison::NotCompared => "–",
        }
    }

    /// Words for a page: "Better", "Similar", "Worse", "Not compared".
    pub fn label(self) -> &'static str {
        match self {
            Comparison::Better => "Better",
            Comparison::Similar => "Similar",
            Comparison::Worse => "Worse",
            Comparison::NotCompared => "Not compared",
        }
    }
}

/// Fingertips' comparison: the interval wholly above the comparator is higher, wholly below
/// is lower, otherwise similar (touching counts as overlapping); higher is better or worse by
/// the metric's direction.
pub fn compare(interval: Option<(f64, f64)>, comparator: Option<f64>, direction: Direction) -> Comparison {
    let (Some((lower, upper)), Some(c)) = (interval, comparator) else {
        return Comparison::NotCompared;
    };
    let higher_better = matches!(direction, Direction::HigherBetter);
    if lower > c {
        if higher_better { Comparison::Better } else { Comparison::Worse }
    } else if upper < c {
        if higher_better { Comparison::Worse } else { Comparison::Better }
    } else {
        Comparison::Similar
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn wilson_matches_the_reference_worked_example() {
        // 65 of 100 (Newcombe and Altman, Statistics with confidence, p. 47): 0.5525 to 0.7364.
        let (l, u) = wilson(65.0, 100.0, Level::P95).unwrap();
        assert!(close(l, 0.552_544, 1e-6) && close(u, 0.736_358, 1e-6), "{l} {u}");
    }

    #[test]
    fn wilson_at_the_edges_stays_within_zero_and_one() {
        let (l, u) = wilson(0.0, 40.0, Level::P95).unwrap();
        assert_eq!(l, 0.0);
        assert!(close(u, 0.087_622, 1e-6), "{u}");
        let (l, u) = wilson(40.0, 40.0, Level::P998).unwrap();
        assert!(close(u, 1.0, 1e-12) && l < 1.0 && l > 0.7, "{l} {u}");
        assert_eq!(wilson(1.0, 0.0, Level::P95), None);
    }

    #[test]
    fn a_funnel_limit_is_where_the_wilson_interval_touches_the_pooled_proportion() {
        // The upper limit u at n has Wilson lower bound of (u·n of n) equal to p.
        for (n, p) in [(50.0, 0.3), (1000.0, 0.72), (25_000.0, 0.051)] {
            for level in [Level::P95, Level::P998] {
                let u = funnel_limit(n, p, level, true);
                let l = funnel_limit(n, p, level, false);
                let (lower_of_u, _) = wilson(u * n, n, level).unwrap();
                let (_, upper_of_l) = wilson(l * n, n, level).unwrap();
                assert!(close(lower_of_u, p, 1e-9) && close(upper_of_l, p, 1e-9), "{n} {p} {level:?}");
            }
        }
    }

    #[test]
    fn positions_are_judged_at_99_8_before_95() {
        let pooled = 0.5;
        assert_eq!(funnel_point(50.0, 100.0, pooled).unwrap().position, Position::Within);
        assert_eq!(funnel_point(62.0, 100.0, pooled).unwrap().position, Position::Above95);
        assert_eq!(funnel_point(70.0, 100.0, pooled).unwrap().position, Position::Above998);
        assert_eq!(funnel_point(38.0, 100.0, pooled).unwrap().position, Position::Below95);
        assert_eq!(funnel_point(30.0, 100.0, pooled).unwrap().position, Position::Below998);
    }

    #[test]
    fn comparisons_follow_the_direction() {
        let i = Some((0.6, 0.7));
        assert_eq!(compare(i, Some(0.5), Direction::HigherBetter), Comparison::Better);
        assert_eq!(compare(i, Some(0.5), Direction::LowerBetter), Comparison::Worse);
        assert_eq!(compare(i, Some(0.8), Direction::LowerBetter), Comparison::Better);
        assert_eq!(compare(i, Some(0.7), Direction::HigherBetter), Comparison::Similar);
        assert_eq!(compare(None, Some(0.7), Direction::HigherBetter), Comparison::NotCompared);
    }
}

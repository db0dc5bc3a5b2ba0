//! Decisions on a boundary as exact decimal arithmetic makes them (docs/RULES.md §4.7).
//!
//! Submitted values are decimals, but the pipeline computes in binary floating point, where the
//! type-7 quartile of 89.9 and 90.1 comes out as 89.99999999999999 and a trust whose value equals
//! the exemplar median can be 7e-15 "behind" it. Every figure that decides a quartile, "behind
//! best practice" or a trend label is a decimal with a known number of places:
//!
//! - a quantile interpolates two values with a weight that is a multiple of 1/4, so it has at
//!   most `k + 2` places when the values have at most `k`;
//! - a gap, a change and a slope's numerator (`n Σxy − Σx Σy`, quarters being integers) are sums
//!   and differences of those, so they have at most `k + 2` places too;
//! - the trend threshold `0.01 × span × (n Σx² − (Σx)²)` has at most two places more than the
//!   scale's bounds.
//!
//! Rounding such a float to its decimal places ("snapping") gives back the double nearest the
//! exact decimal, as long as the float's error is far below half a unit of the last place, which
//! holds for the magnitudes and places allowed below. Two snapped doubles then compare exactly as
//! the decimals do, so the decisions are those of exact arithmetic, while the figures keep full
//! precision (a snapped figure *is* the exact decimal, to the last bit a double holds).
//!
//! Values with more than `MAX_PLACES` places (or of a magnitude where snapping would lose bits)
//! are not snapped: for them the float result stands.

use polars::prelude::*;

/// The most decimal places a value may have for its metric's figures to be snapped.
pub const MAX_PLACES: u8 = 9;

/// Products beyond this lose integer precision in a double.
const EXACT_INTEGERS: f64 = 4_503_599_627_370_496.0; // 2^52

const POW10: [f64; 12] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11];

/// Whether `v` is the double nearest some decimal with `places` places.
fn has_places(v: f64, places: u8) -> bool {
    let f = POW10[places as usize];
    let scaled = v * f;
    scaled.abs() < EXACT_INTEGERS && scaled.round() / f == v
}

/// The fewest decimal places that give `v` back, at least `at_least`; `None` beyond `MAX_PLACES`.
pub fn places(v: f64, at_least: u8) -> Option<u8> {
    (at_least..=MAX_PLACES).find(|&k| has_places(v, k))
}

/// The decimal places of a set of values: the most any of them needs (`None`: not all decimals).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Places(Option<u8>);

impl Default for Places {
    fn default() -> Self {
        Places(Some(0))
    }
}

impl Places {
    pub fn add(&mut self, v: f64) {
        if let Some(k) = self.0
            && !has_places(v, k)
        {
            self.0 = places(v, k + 1);
        }
    }

    pub fn merge(self, other: Places) -> Places {
        Places(self.0.zip(other.0).map(|(a, b)| a.max(b)))
    }

    /// The factor `10^(k + 2)` that snaps the figures computed from these values; `None` when
    /// they are not all decimals.
    pub fn factor(self) -> Option<f64> {
        self.0.map(|k| POW10[k as usize + 2])
    }
}

/// `x` rounded to the decimal places of `factor` (a column of `10^places`, null for "leave it").
pub fn snap(x: Expr, factor: Expr) -> Expr {
    let scaled = x.clone() * factor.clone();
    // Round half away from zero by truncating `|y| + 0.5` (exact: |y| is below 2^52).
    let truncate = |y: Expr| (y + lit(0.5)).cast(DataType::Int64).cast(DataType::Float64);
    let rounded =
        when(scaled.clone().gt_eq(lit(0.0))).then(truncate(scaled.clone())).otherwise(-truncate(-scaled.clone()));
    let exact =
        factor.clone().is_not_null().and(scaled.clone().lt(lit(EXACT_INTEGERS))).and(scaled.gt(lit(-EXACT_INTEGERS)));
    when(exact).then(rounded / factor).otherwise(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_needs_the_places_it_was_written_with() {
        assert_eq!(places(90.0, 0), Some(0));
        assert_eq!(places(89.9, 0), Some(1));
        assert_eq!(places(0.125, 0), Some(3));
        assert_eq!(places(-2.05, 0), Some(2));
        assert_eq!(places(1.0 / 3.0, 0), None);
    }

    #[test]
    fn places_of_a_set_are_those_of_its_longest_value() {
        let mut p = Places::default();
        for v in [1.0, 2.5, 3.25, 4.0] {
            p.add(v);
        }
        assert_eq!(p.factor(), Some(1e4));
        p.add(std::f64::consts::PI);
        assert_eq!(p.factor(), None);
        assert_eq!(Places::default().merge(p), p);
    }

    #[test]
    fn snapping_gives_back_the_exact_decimal_and_leaves_the_rest() -> PolarsResult<()> {
        // The type-7 median of 80.1 and 80.3 in floating point, and 0.1 + 0.2.
        let noisy = 80.1 + (80.3 - 80.1) * 0.5;
        assert_ne!(noisy, 80.2);
        assert_ne!(0.1 + 0.2, 0.3);
        let df = df!(
            "x" => [noisy, 0.1 + 0.2, 1.0 / 3.0, 1.0 / 3.0],
            "f" => [Some(1e3), Some(1e3), None, Some(1e3)],
        )?;
        let out = df.lazy().select([snap(col("x"), col("f"))]).collect()?;
        let x: Vec<f64> = out.column("x")?.f64()?.into_no_null_iter().collect();
        assert_eq!(x, vec![80.2, 0.3, 1.0 / 3.0, 0.333]);
        Ok(())
    }
}

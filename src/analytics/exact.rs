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
    scaled.abs() < EXACT_INTEGERS && nearest_integer(scaled) / f == v
}

/// `y` (|y| below 2^52) rounded to an integer, ties to even, in two IEEE additions: where
/// `f64::round` is a call into the C library on the baseline x86-64 target, and this is counted
/// for every value. (Ties never give back a value: `has_places` is the same with either.)
fn nearest_integer(y: f64) -> f64 {
    if y >= 0.0 { (y + EXACT_INTEGERS) - EXACT_INTEGERS } else { (y - EXACT_INTEGERS) + EXACT_INTEGERS }
}

/// The fewest decimal places that give `v` back, at least `at_least`; `None` beyond `MAX_PLACES`.
pub fn places(v: f64, at_least: u8) -> Option<u8> {
    (at_least..=MAX_PLACES).find(|&k| has_places(v, k))
}

/// No places: a value that is not a decimal of at most `MAX_PLACES` places (see `each_places`).
pub const NO_PLACES: u8 = u8::MAX;

/// The fewest decimal places of `v` as `each_places` has them.
pub fn places_of_value(v: f64) -> u8 {
    places(v, 0).unwrap_or(NO_PLACES)
}

/// The fewest decimal places of each value (`places`), `NO_PLACES` for one that is not a
/// decimal: computed once per value, as a byte, for the snapping factors of every set of values
/// a figure comes from (`Places::one`). Two threads or more on a large slice.
pub fn each_places(values: &[f64]) -> Vec<u8> {
    let one = |v: &[f64]| v.iter().copied().map(places_of_value).collect::<Vec<u8>>();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    if workers < 2 || values.len() < 1 << 16 {
        return one(values);
    }
    let chunks: Vec<&[f64]> = values.chunks(values.len().div_ceil(workers)).collect();
    std::thread::scope(|scope| {
        let parts: Vec<_> = chunks.into_iter().map(|c| scope.spawn(move || one(c))).collect();
        parts.into_iter().flat_map(|p| p.join().expect("counting places does not panic")).collect()
    })
}

/// The decimal places of a set of values (the most any of them needs; `None`: not all
/// decimals), and their largest magnitude.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Places {
    places: Option<u8>,
    largest: f64,
}

impl Default for Places {
    fn default() -> Self {
        Places { places: Some(0), largest: 0.0 }
    }
}

/// How much larger than the values a snapped figure can be: a slope's numerator
/// (`n Σxy − Σx Σy` over four quarters) is at most 60 times the largest value.
const HEADROOM: f64 = 64.0;

/// Snapping rounds `y = x × 10^k` by adding and taking away this number: exact for |y| < 2^51.
const ROUNDER: f64 = 6_755_399_441_055_744.0; // 1.5 × 2^52

impl Places {
    pub fn add(&mut self, v: f64) {
        self.largest = self.largest.max(v.abs());
        if let Some(k) = self.places
            && !has_places(v, k)
        {
            self.places = places(v, k + 1);
        }
    }

    /// The places of the one value `v`, whose fewest places are `places` (`each_places`).
    pub fn one(places: u8, v: f64) -> Places {
        Places { places: (places != NO_PLACES).then_some(places), largest: v.abs() }
    }

    pub fn merge(self, other: Places) -> Places {
        Places {
            places: self.places.zip(other.places).map(|(a, b)| a.max(b)),
            largest: self.largest.max(other.largest),
        }
    }

    /// The factor `10^(k + 2)` that snaps the figures computed from these values; `None` when
    /// they are not all decimals, or too large for a double to hold the figures times it exactly.
    pub fn factor(self) -> Option<f64> {
        let (places, largest) = self.parts();
        factor_of(places, largest)
    }

    /// The places (`NO_PLACES` for none) and the largest magnitude: merged with another's as
    /// the larger of each (`NO_PLACES` is above every number of places), where a set of values
    /// is many (`compute::Factors`).
    pub fn parts(self) -> (u8, f64) {
        (self.places.unwrap_or(NO_PLACES), self.largest)
    }
}

/// `Places::factor` of the places and largest magnitude of `Places::parts`.
pub fn factor_of(places: u8, largest: f64) -> Option<f64> {
    let f = *POW10.get(places as usize + 2)?;
    (largest * HEADROOM * f < EXACT_INTEGERS / 2.0).then_some(f)
}

/// `x` rounded to the decimal places of `factor` (a column of `10^places`, null for "leave it";
/// a factor is only given where `x × factor` stays below 2^51, see `Places::factor`).
pub fn snap(x: Expr, factor: Expr) -> Expr {
    // (y + 1.5 × 2^52) − 1.5 × 2^52 is y rounded to an integer, in two IEEE additions.
    let rounded = (x.clone() * factor.clone() + lit(ROUNDER)) - lit(ROUNDER);
    (rounded / factor).fill_null(x)
}

/// `x` snapped to `factor` with the operations of `snap`, in the same order, so to the same bits:
/// for a figure computed outside a query that must equal the query's.
pub fn snapped(x: f64, factor: Option<f64>) -> f64 {
    match factor {
        Some(f) => ((x * f + ROUNDER) - ROUNDER) / f,
        None => x,
    }
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
        let mut large = p;
        large.add(1e12);
        assert_eq!(large.factor(), None, "too large to snap exactly");
        p.add(std::f64::consts::PI);
        assert_eq!(p.factor(), None);
        assert_eq!(Places::default().merge(p), p);
    }

    #[test]
    fn nearest_integer_rounds_as_round_does_but_for_ties() {
        for y in [0.0, 0.4, 0.6, 2.5, 3.5, -2.5, -0.6, 123456.789, -4.0e15, 4.5e15 - 0.5, 1e3 * 89.9] {
            let n = nearest_integer(y);
            assert_eq!(n.fract(), 0.0, "{y}");
            assert!((n - y).abs() <= 0.5, "{y}");
            if (y - y.trunc()).abs() != 0.5 {
                assert_eq!(n, y.round(), "{y}");
            }
        }
    }

    #[test]
    fn each_value_has_its_own_places() {
        let values: Vec<f64> = (0..100_000).map(|i| if i % 3 == 0 { 1.0 / 3.0 } else { i as f64 / 100.0 }).collect();
        let each = each_places(&values);
        assert_eq!(&each[..4], &[NO_PLACES, 2, 2, NO_PLACES]);
        assert_eq!(each[10], 1);
        let mut all = Places::default();
        values.iter().for_each(|&v| all.add(v));
        let merged = values.iter().zip(&each).fold(Places::default(), |p, (&v, &k)| p.merge(Places::one(k, v)));
        assert_eq!(merged, all);
        let decimals = Places::one(each[1], values[1]).merge(Places::one(each[2], values[2]));
        assert_eq!(decimals.factor(), Some(1e4));
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
        let outside = [(noisy, Some(1e3)), (0.1 + 0.2, Some(1e3)), (1.0 / 3.0, None), (1.0 / 3.0, Some(1e3))];
        assert_eq!(outside.map(|(x, f)| snapped(x, f)).to_vec(), x);
        Ok(())
    }
}

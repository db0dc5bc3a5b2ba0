//! Did the exemplar programme move maturity? (docs/RULES.md §10.2). Each exemplar cohort's
//! trusts against matched comparison trusts: a two-way fixed-effects difference in differences
//! with standard errors clustered by trust, the event study around the cohort's start, and a
//! joint test of the pre-start coefficients (parallel pre-trends).
//!
//! The estimator is ordinary least squares of y on the treatment regressors with a fixed effect
//! for each trust and each quarter, y_it = α_i + λ_t + β·D_it + ε_it (D_it = 1 for a cohort trust
//! from its start), solved by partialling the two sets of fixed effects out (alternating
//! demeaning to convergence, Frisch–Waugh–Lovell). Its variance is the cluster-robust sandwich
//! (CR1) with trusts as clusters: (X'X)⁻¹ Σ_g X_g'u_g u_g'X_g (X'X)⁻¹ × G/(G−1) × (N−1)/(N−K),
//! N observations, G trusts and K the regressors plus the T−1 quarter effects (the trust effects
//! are nested in the clusters and not counted), as `fixest` and `reghdfe` count them; intervals
//! use Student's t with G−1 degrees of freedom.

use crate::domain::{Exemplar, Quarter};
use statrs::distribution::{ContinuousCDF, FisherSnedecor, StudentsT};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

/// An exemplar cohort and when it started (`data/exemplar_cohorts.csv`).
#[derive(Debug, Clone, PartialEq)]
pub struct Cohort {
    pub exemplar: Exemplar,
    pub year: i32,
    pub start: Quarter,
    /// A start placed for the demo, not the programme's.
    pub demo: bool,
    pub basis: String,
}

impl Cohort {
    /// `fast_follower_2017`.
    pub fn id(&self) -> String {
        format!("{}_{}", self.exemplar.as_str(), self.year)
    }

    pub fn label(&self) -> String {
        format!("{}s of {}", self.exemplar.label(), self.year)
    }
}

static COHORTS: LazyLock<Vec<Cohort>> = LazyLock::new(|| {
    #[derive(serde::Deserialize)]
    struct Row {
        exemplar: String,
        cohort_year: i32,
        start_quarter: String,
        demo: bool,
        basis: String,
    }
    csv::Reader::from_reader(include_str!("../../data/exemplar_cohorts.csv").as_bytes())
        .deserialize::<Row>()
        .map(|r| {
            let r = r.expect("data/exemplar_cohorts.csv is valid (checked by a test)");
            Cohort {
                exemplar: r.exemplar.parse().expect("a known exemplar status"),
                year: r.cohort_year,
                start: Quarter::parse(&r.start_quarter).expect("a quarter"),
                demo: r.demo,
                basis: r.basis,
            }
        })
        .collect()
});

pub fn cohorts() -> &'static [Cohort] {
    &COHORTS
}

/// The cohort of a trust's exemplar status and year.
pub fn cohort_of(exemplar: Exemplar, year: Option<i32>) -> Option<&'static Cohort> {
    COHORTS.iter().find(|c| c.exemplar == exemplar && Some(c.year) == year)
}

/// One observation of the panel: a trust (its number), a quarter and the outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Obs {
    pub unit: usize,
    pub quarter: Quarter,
    pub y: f64,
}

/// A fitted regression: coefficients and their cluster-robust covariance.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub coef: Vec<f64>,
    pub vcov: Vec<Vec<f64>>,
    pub clusters: usize,
    pub n: usize,
}

impl Fit {
    /// Coefficient `k`'s estimate and 95 % interval.
    pub fn interval(&self, k: usize) -> (f64, f64, f64) {
        let se = self.vcov[k][k].max(0.0).sqrt();
        let t = StudentsT::new(0.0, 1.0, (self.clusters.max(2) - 1) as f64)
            .map(|d| d.inverse_cdf(0.975))
            .unwrap_or(f64::NAN);
        (self.coef[k], self.coef[k] - t * se, self.coef[k] + t * se)
    }

    /// The p-value of the joint test that coefficients `ks` are all 0 (Wald, F with |ks| and G−1
    /// degrees of freedom).
    pub fn joint_zero(&self, ks: &[usize]) -> Option<f64> {
        if ks.is_empty() {
            return None;
        }
        let b: Vec<f64> = ks.iter().map(|&k| self.coef[k]).collect();
        let v: Vec<Vec<f64>> = ks.iter().map(|&i| ks.iter().map(|&j| self.vcov[i][j]).collect()).collect();
        let vi = inverse(&v)?;
        let wald: f64 = (0..b.len()).map(|i| (0..b.len()).map(|j| b[i] * vi[i][j] * b[j]).sum::<f64>()).sum();
        let q = ks.len() as f64;
        let f = FisherSnedecor::new(q, (self.clusters.max(2) - 1) as f64).ok()?;
        Some(1.0 - f.cdf(wald / q))
    }
}

/// The inverse of a square matrix by Gauss–Jordan elimination with partial pivoting; none when
/// it is singular.
fn inverse(m: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = m.len();
    let mut a: Vec<Vec<f64>> = m
        .iter()
        .enumerate()
        .map(|(i, row)| row.iter().copied().chain((0..n).map(|j| if i == j { 1.0 } else { 0.0 })).collect())
        .collect();
    let scale = m.iter().flatten().fold(0.0f64, |s, v| s.max(v.abs())).max(1e-300);
    for col in 0..n {
        let pivot = (col..n).max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))?;
        if a[pivot][col].abs() <= 1e-12 * scale {
            return None;
        }
        a.swap(col, pivot);
        let p = a[col][col];
        for v in a[col].iter_mut() {
            *v /= p;
        }
        for row in 0..n {
            if row != col {
                let factor = a[row][col];
                if factor != 0.0 {
                    let pivot_row = a[col].clone();
                    for (v, p) in a[row].iter_mut().zip(&pivot_row) {
                        *v -= factor * p;
                    }
                }
            }
        }
    }
    Some(a.into_iter().map(|row| row[n..].to_vec()).collect())
}

/// Subtracts each trust's and each quarter's mean, alternately, until nothing changes: what is
/// left of `v` after the two sets of fixed effects.
fn partial_out(v: &mut [f64], units: &[usize], times: &[usize], n_units: usize, n_times: usize) {
    for _ in 0..10_000 {
        let mut change = 0.0f64;
        for (groups, count) in [(units, n_units), (times, n_times)] {
            let mut sum = vec![0.0; count];
            let mut n = vec![0usize; count];
            for (i, g) in groups.iter().enumerate() {
                sum[*g] += v[i];
                n[*g] += 1;
            }
            for (i, g) in groups.iter().enumerate() {
                let mean = sum[*g] / n[*g] as f64;
                v[i] -= mean;
                change = change.max(mean.abs());
            }
        }
        if change < 1e-13 {
            break;
        }
    }
}

/// Two-way fixed-effects least squares of `obs`' outcome on `x` (one row of regressors per
/// observation), with standard errors clustered by trust.
pub fn twfe(obs: &[Obs], x: &[Vec<f64>]) -> Option<Fit> {
    let n = obs.len();
    let k = x.first().map_or(0, Vec::len);
    if n == 0 || k == 0 {
        return None;
    }
    let unit_ids: BTreeSet<usize> = obs.iter().map(|o| o.unit).collect();
    let time_ids: BTreeSet<Quarter> = obs.iter().map(|o| o.quarter).collect();
    let unit_pos: BTreeMap<usize, usize> = unit_ids.iter().enumerate().map(|(i, u)| (*u, i)).collect();
    let time_pos: BTreeMap<Quarter, usize> = time_ids.iter().enumerate().map(|(i, t)| (*t, i)).collect();
    let units: Vec<usize> = obs.iter().map(|o| unit_pos[&o.unit]).collect();
    let times: Vec<usize> = obs.iter().map(|o| time_pos[&o.quarter]).collect();
    let (g, t) = (unit_ids.len(), time_ids.len());
    let mut y: Vec<f64> = obs.iter().map(|o| o.y).collect();
    partial_out(&mut y, &units, &times, g, t);
    let mut cols: Vec<Vec<f64>> = (0..k).map(|j| x.iter().map(|row| row[j]).collect()).collect();
    for c in cols.iter_mut() {
        partial_out(c, &units, &times, g, t);
    }
    let xtx: Vec<Vec<f64>> =
        (0..k).map(|a| (0..k).map(|b| (0..n).map(|i| cols[a][i] * cols[b][i]).sum()).collect()).collect();
    let bread = inverse(&xtx)?;
    let xty: Vec<f64> = (0..k).map(|a| (0..n).map(|i| cols[a][i] * y[i]).sum()).collect();
    let coef: Vec<f64> = (0..k).map(|a| (0..k).map(|b| bread[a][b] * xty[b]).sum()).collect();
    let resid: Vec<f64> = (0..n).map(|i| y[i] - (0..k).map(|a| cols[a][i] * coef[a]).sum::<f64>()).collect();
    // Σ_g (X_g'u_g)(X_g'u_g)'
    let mut score = vec![vec![0.0; k]; g];
    for i in 0..n {
        for a in 0..k {
            score[units[i]][a] += cols[a][i] * resid[i];
        }
    }
    let meat: Vec<Vec<f64>> =
        (0..k).map(|a| (0..k).map(|b| score.iter().map(|s| s[a] * s[b]).sum()).collect()).collect();
    let params = k + t - 1;
    let adjust = if g > 1 && n > params {
        (g as f64 / (g - 1) as f64) * ((n - 1) as f64 / (n - params) as f64)
    } else {
        f64::NAN
    };
    let vcov: Vec<Vec<f64>> = (0..k)
        .map(|a| {
            (0..k)
                .map(|b| {
                    let mut s = 0.0;
                    for c in 0..k {
                        for d in 0..k {
                            s += bread[a][c] * meat[c][d] * bread[d][b];
                        }
                    }
                    s * adjust
                })
                .collect()
        })
        .collect();
    Some(Fit { coef, vcov, clusters: g, n })
}

/// The difference in differences and the event study of one outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    pub estimate: f64,
    pub ci_lower: f64,
    pub ci_upper: f64,
    /// The p-value of the joint test that every pre-start quarter's coefficient (2 or more
    /// quarters before) is 0; none without such quarters.
    pub pre_trend_p: Option<f64>,
    /// (quarters from the start, estimate, lower, upper); the quarter before the start is the
    /// reference, 0 by definition.
    pub event: Vec<(i32, f64, f64, f64)>,
}

/// Estimates the effect of starting at `start` on the `treated` trusts in `obs`.
pub fn estimate(obs: &[Obs], treated: &BTreeSet<usize>, start: Quarter) -> Option<Estimate> {
    let d: Vec<Vec<f64>> =
        obs.iter().map(|o| vec![if treated.contains(&o.unit) && o.quarter >= start { 1.0 } else { 0.0 }]).collect();
    let fit = twfe(obs, &d)?;
    let (estimate, ci_lower, ci_upper) = fit.interval(0);
    // The event study: one indicator per quarter relative to the start, −1 left out.
    let relative: BTreeSet<i32> = obs
        .iter()
        .filter(|o| treated.contains(&o.unit))
        .map(|o| o.quarter.index() - start.index())
        .filter(|r| *r != -1)
        .collect();
    let rel: Vec<i32> = relative.into_iter().collect();
    let x: Vec<Vec<f64>> = obs
        .iter()
        .map(|o| {
            let r = o.quarter.index() - start.index();
            rel.iter().map(|k| if treated.contains(&o.unit) && *k == r { 1.0 } else { 0.0 }).collect()
        })
        .collect();
    let (event, pre_trend_p) = match twfe(obs, &x) {
        Some(es) => {
            let mut event: Vec<(i32, f64, f64, f64)> = rel
                .iter()
                .enumerate()
                .map(|(k, r)| {
                    let (e, l, u) = es.interval(k);
                    (*r, e, l, u)
                })
                .collect();
            event.push((-1, 0.0, 0.0, 0.0));
            event.sort_by_key(|e| e.0);
            let pre: Vec<usize> = rel.iter().enumerate().filter(|(_, r)| **r <= -2).map(|(k, _)| k).collect();
            (event, es.joint_zero(&pre))
        }
        None => (Vec::new(), None),
    };
    Some(Estimate { estimate, ci_lower, ci_upper, pre_trend_p, event })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(i: i32) -> Quarter {
        Quarter::parse("2023-Q1").unwrap() + i
    }

    /// A generated panel: `units` trusts over 12 quarters, half treated from quarter 6, with
    /// trust and quarter effects, noise and the effect `effect`.
    fn panel(units: usize, effect: f64, seed: u64) -> (Vec<Obs>, BTreeSet<usize>) {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut obs = Vec::new();
        let treated: BTreeSet<usize> = (0..units / 2).collect();
        let quarter_effect: Vec<f64> = (0..12).map(|t| 2.0 * t as f64 + rng.f64() * 3.0).collect();
        for u in 0..units {
            let unit_effect = 40.0 + rng.f64() * 20.0 + if treated.contains(&u) { 5.0 } else { 0.0 };
            for t in 0..12 {
                let after = treated.contains(&u) && t >= 6;
                let y = unit_effect
                    + quarter_effect[t as usize]
                    + if after { effect } else { 0.0 }
                    + (rng.f64() - 0.5) * 4.0;
                obs.push(Obs { unit: u, quarter: q(t), y });
            }
        }
        (obs, treated)
    }

    #[test]
    fn the_estimate_recovers_a_planted_effect_within_its_interval() {
        let (obs, treated) = panel(40, 6.0, 7);
        let e = estimate(&obs, &treated, q(6)).unwrap();
        assert!(e.ci_lower < 6.0 && 6.0 < e.ci_upper && e.ci_lower > 0.0, "{e:?}");
        // The planted effect is a step: no pre-trend, and each later quarter near 6.
        assert!(e.pre_trend_p.unwrap() > 0.01, "{:?}", e.pre_trend_p);
        assert_eq!(e.event.iter().map(|x| x.0).collect::<Vec<_>>(), (-6..=5).collect::<Vec<_>>());
        assert!(e.event.iter().filter(|x| x.0 >= 0).all(|x| x.2 < 6.0 && 6.0 < x.3), "{:?}", e.event);
        let (none, treated) = panel(40, 0.0, 8);
        let e = estimate(&none, &treated, q(6)).unwrap();
        assert!(e.ci_lower < 0.0 && 0.0 < e.ci_upper, "no effect planted: {e:?}");
    }

    #[test]
    fn on_a_balanced_panel_the_estimate_is_the_difference_of_the_four_means() {
        let (obs, treated) = panel(10, 3.0, 9);
        let mean = |t: bool, after: bool| {
            let v: Vec<f64> = obs
                .iter()
                .filter(|o| treated.contains(&o.unit) == t && (o.quarter >= q(6)) == after)
                .map(|o| o.y)
                .collect();
            v.iter().sum::<f64>() / v.len() as f64
        };
        let did = (mean(true, true) - mean(true, false)) - (mean(false, true) - mean(false, false));
        let e = estimate(&obs, &treated, q(6)).unwrap();
        assert!((e.estimate - did).abs() < 1e-9, "{} against {did}", e.estimate);
    }

    #[test]
    fn the_cohorts_file_gives_each_cohort_a_start() {
        assert!(cohorts().len() >= 7);
        let first = cohort_of(Exemplar::Gde, Some(2016)).unwrap();
        assert_eq!((first.start.to_string().as_str(), first.demo), ("2016-Q3", false));
        assert!(cohort_of(Exemplar::FastFollower, Some(2019)).is_some_and(|c| c.demo));
    }
}

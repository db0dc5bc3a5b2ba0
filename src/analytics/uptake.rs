//! The NHS App's uptake figures (docs/RULES.md §9.3): for every area at every level, month,
//! measure and age band, the count, its population aged 13 and over, the rate per 1,000, the
//! running total from the area's first month and, for registrations, the share of the
//! population registered. Areas above the sub-ICB locations pool their parts: counts and
//! populations are summed, never rates averaged. An area's own submitted count stands where it
//! was sent; otherwise it is the sum of the areas inside it that have one.

use crate::domain::uptake::{AgeBand, Level, Month, POPULATION, REGISTRATIONS, UptakeValue, area, areas};
use std::collections::BTreeMap;

/// One row of the `app_uptake` table.
#[derive(Debug, Clone, PartialEq)]
pub struct UptakeFigure {
    pub area_code: String,
    pub level: Level,
    pub month: Month,
    pub measure: String,
    pub age_band: AgeBand,
    pub value: f64,
    /// The population aged 13 and over of the same area, month and age band, when known.
    pub population: Option<f64>,
    pub rate_per_1000: Option<f64>,
    /// The running total from the area's first month with a count of this measure and band.
    pub cumulative: f64,
    /// 100 × cumulative registrations ÷ population, on `registrations` rows only.
    pub share_registered: Option<f64>,
}

type Key = (String, String, AgeBand);

/// Every figure, by level (sub-ICB first), area, measure, age band and month.
pub fn uptake_figures(values: &[UptakeValue]) -> Vec<UptakeFigure> {
    // (area, measure, band) → month → count, at every level.
    let mut counts: BTreeMap<Key, BTreeMap<Month, f64>> = BTreeMap::new();
    let mut sent: std::collections::HashSet<(String, String, AgeBand, Month)> = Default::default();
    for v in values {
        counts.entry((v.area_code.clone(), v.measure.clone(), v.age_band)).or_default().insert(v.month, v.value);
        sent.insert((v.area_code.clone(), v.measure.clone(), v.age_band, v.month));
    }
    // Pool upwards, one level at a time, where the parent did not send its own count.
    for level in [Level::SubIcb, Level::Icb, Level::Region] {
        let children: Vec<(Key, BTreeMap<Month, f64>)> = counts
            .iter()
            .filter(|((code, _, _), _)| area(code).is_some_and(|a| a.level == level))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut pooled: BTreeMap<Key, BTreeMap<Month, f64>> = BTreeMap::new();
        for ((code, measure, band), months) in children {
            let Some(parent) = area(&code).and_then(|a| a.parent.clone()) else { continue };
            let entry = pooled.entry((parent, measure, band)).or_default();
            for (month, value) in months {
                *entry.entry(month).or_default() += value;
            }
        }
        for ((code, measure, band), months) in pooled {
            let own = counts.entry((code.clone(), measure.clone(), band)).or_default();
            for (month, value) in months {
                if !sent.contains(&(code.clone(), measure.clone(), band, month)) {
                    own.insert(month, value);
                }
            }
        }
    }
    let order = |code: &str| areas().iter().position(|a| a.code == code).unwrap_or(usize::MAX);
    let mut keys: Vec<&Key> = counts.keys().collect();
    keys.sort_by_key(|(code, measure, band)| (area(code).map(|a| a.level), order(code), measure.clone(), *band));
    let mut out = Vec::new();
    for key @ (code, measure, band) in keys {
        let Some(level) = area(code).map(|a| a.level) else { continue };
        let population = counts.get(&(code.clone(), POPULATION.to_string(), *band));
        let mut running = 0.0;
        for (month, value) in &counts[key] {
            running += value;
            let population = population.and_then(|p| p.get(month).copied()).filter(|p| *p > 0.0);
            out.push(UptakeFigure {
                area_code: code.clone(),
                level,
                month: *month,
                measure: measure.clone(),
                age_band: *band,
                value: *value,
                population,
                rate_per_1000: population.map(|p| 1000.0 * value / p),
                cumulative: running,
                share_registered: (measure == REGISTRATIONS).then_some(()).and(population).map(|p| 100.0 * running / p),
            });
        }
    }
    out
}

/// The pilot areas against the rest of England in one month (or one month since going live):
/// the pooled share of the population aged 13+ registered in each group, in percent, the
/// difference in percentage points and its 95 % interval by Newcombe's method (the hybrid score
/// interval from the two Wilson score intervals, as for any difference of two proportions).
#[derive(Debug, Clone, PartialEq)]
pub struct PilotComparison {
    /// The calendar month, or the months since going live (`since`).
    pub month: Option<Month>,
    pub since: Option<i32>,
    pub pilot: f64,
    pub rest: f64,
    pub difference: f64,
    pub low: f64,
    pub high: f64,
    pub pilot_areas: usize,
    pub rest_areas: usize,
}

/// The months each sub-ICB location went live: its first month with registrations.
fn live_months(figures: &[UptakeFigure]) -> BTreeMap<&str, Month> {
    let mut live: BTreeMap<&str, Month> = BTreeMap::new();
    for f in figures.iter().filter(|f| f.level == Level::SubIcb && f.measure == REGISTRATIONS && f.value > 0.0) {
        if f.age_band == AgeBand::All {
            let e = live.entry(f.area_code.as_str()).or_insert(f.month);
            *e = (*e).min(f.month);
        }
    }
    live
}

/// Cumulative registrations, population and locations of one group in one month.
type Pool = (f64, f64, usize);

/// The comparison of the pilot group with the rest at each key both have, labelled by `label`
/// (the calendar month, or the months since going live).
fn compare_groups<K: Ord + Copy>(
    groups: &BTreeMap<(K, bool), Pool>,
    label: impl Fn(K) -> (Option<Month>, Option<i32>),
) -> Vec<PilotComparison> {
    use super::uncertainty::{Level as L, wilson};
    let keys: std::collections::BTreeSet<K> = groups.keys().map(|(k, _)| *k).collect();
    keys.into_iter()
        .filter_map(|k| {
            let (pilot, rest) = (*groups.get(&(k, true))?, *groups.get(&(k, false))?);
            let (p1, p2) = (pilot.0 / pilot.1, rest.0 / rest.1);
            let ((l1, u1), (l2, u2)) = (wilson(pilot.0, pilot.1, L::P95)?, wilson(rest.0, rest.1, L::P95)?);
            let d = p1 - p2;
            let (month, since) = label(k);
            Some(PilotComparison {
                month,
                since,
                pilot: 100.0 * p1,
                rest: 100.0 * p2,
                difference: 100.0 * d,
                low: 100.0 * (d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt()),
                high: 100.0 * (d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt()),
                pilot_areas: pilot.2,
                rest_areas: rest.2,
            })
        })
        .collect()
}

/// Pilot against the rest, by calendar month and by months since each location went live.
pub fn pilot_against_rest(figures: &[UptakeFigure]) -> (Vec<PilotComparison>, Vec<PilotComparison>) {
    let live = live_months(figures);
    let is_pilot = |code: &str| area(code).is_some_and(|a| a.pilot_area.is_some());
    // (key, pilot?) → (cumulative registrations, population, locations)
    let mut calendar: BTreeMap<(Month, bool), Pool> = BTreeMap::new();
    let mut aligned: BTreeMap<(i32, bool), Pool> = BTreeMap::new();
    for f in
        figures.iter().filter(|f| f.level == Level::SubIcb && f.measure == REGISTRATIONS && f.age_band == AgeBand::All)
    {
        let Some(population) = f.population else { continue };
        let pilot = is_pilot(&f.area_code);
        let add = |slot: &mut Pool| {
            slot.0 += f.cumulative;
            slot.1 += population;
            slot.2 += 1;
        };
        add(calendar.entry((f.month, pilot)).or_default());
        if let Some(start) = live.get(f.area_code.as_str()) {
            add(aligned.entry((f.month.index() - start.index(), pilot)).or_default());
        }
    }
    let by_month = compare_groups(&calendar, |m| (Some(m), None));
    let by_since = compare_groups(&aligned, |k| (None, Some(k)));
    (by_month, by_since)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(area: &str, month: &str, measure: &str, value: f64) -> UptakeValue {
        UptakeValue {
            area_code: area.into(),
            month: Month::parse(month).unwrap(),
            measure: measure.into(),
            age_band: AgeBand::All,
            value,
            revision: 1,
        }
    }

    #[test]
    fn rates_running_totals_and_shares_pool_counts_and_populations_upwards() {
        // Two of Staffordshire's locations (ICB QNC) in two months.
        let values = [
            v("05G", "2019-01", "registrations", 100.0),
            v("05G", "2019-02", "registrations", 50.0),
            v("05G", "2019-01", "population_13_plus", 1000.0),
            v("05G", "2019-02", "population_13_plus", 1000.0),
            v("05W", "2019-01", "registrations", 300.0),
            v("05W", "2019-01", "population_13_plus", 3000.0),
        ];
        let all = uptake_figures(&values);
        let find = |code: &str, month: &str, measure: &str| {
            all.iter()
                .find(|f| f.area_code == code && f.month.to_string() == month && f.measure == measure)
                .unwrap_or_else(|| panic!("{code} {month} {measure}"))
        };
        let a = find("05G", "2019-02", "registrations");
        assert_eq!((a.value, a.cumulative, a.rate_per_1000, a.share_registered), (50.0, 150.0, Some(50.0), Some(15.0)));
        let icb = find("QNC", "2019-01", "registrations");
        assert_eq!((icb.level, icb.value, icb.population), (Level::Icb, 400.0, Some(4000.0)));
        assert_eq!(icb.rate_per_1000, Some(100.0)); // pooled: 1000 × 400 ÷ 4000, not the mean of 100 and 100
        let england = find("E92000001", "2019-02", "registrations");
        assert_eq!((england.value, england.cumulative, england.share_registered), (50.0, 450.0, Some(45.0)));
        // A month without a population: the count is kept, the rate is empty.
        let values = [v("99A", "2019-01", "logins", 7.0)];
        let only = uptake_figures(&values);
        assert!(only.iter().all(|f| f.rate_per_1000.is_none() && f.value == 7.0));
    }

    #[test]
    fn the_pilot_areas_are_compared_with_the_rest_with_a_newcombe_interval() {
        let values = [
            v("99A", "2019-01", "registrations", 500.0),
            v("99A", "2019-01", "population_13_plus", 1000.0),
            v("02T", "2019-01", "registrations", 100.0),
            v("02T", "2019-01", "population_13_plus", 1000.0),
        ];
        let (by_month, by_since) = pilot_against_rest(&uptake_figures(&values));
        let c = &by_month[0];
        assert_eq!((c.pilot, c.rest, c.pilot_areas, c.rest_areas), (50.0, 10.0, 1, 1));
        assert!(
            (c.difference - 40.0).abs() < 1e-9 && c.low > 30.0 && c.low < 40.0 && c.high > 40.0 && c.high < 50.0,
            "{c:?}"
        );
        assert_eq!(by_since[0].since, Some(0));
    }
}

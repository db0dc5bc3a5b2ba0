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
    /// The count of the month before and of the same month a year before, when counted.
    pub previous_month: Option<f64>,
    pub year_before: Option<f64>,
}

impl UptakeFigure {
    pub fn change_on_previous_month(&self) -> Option<f64> {
        self.previous_month.map(|p| self.value - p)
    }

    pub fn change_on_year_before(&self) -> Option<f64> {
        self.year_before.map(|p| self.value - p)
    }

    /// The change on a count as a percentage of it; none from a count of 0.
    pub fn percent_change(from: Option<f64>, to: f64) -> Option<f64> {
        from.filter(|p| *p > 0.0).map(|p| 100.0 * (to - p) / p)
    }
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
        let series = &counts[key];
        for (month, value) in series {
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
                previous_month: series.get(&month.offset(-1)).copied(),
                year_before: series.get(&month.offset(-12)).copied(),
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
    use super::uncertainty::newcombe;
    let keys: std::collections::BTreeSet<K> = groups.keys().map(|(k, _)| *k).collect();
    keys.into_iter()
        .filter_map(|k| {
            let (pilot, rest) = (*groups.get(&(k, true))?, *groups.get(&(k, false))?);
            let (d, low, high) = newcombe(pilot.0, pilot.1, rest.0, rest.1)?;
            let (month, since) = label(k);
            Some(PilotComparison {
                month,
                since,
                pilot: 100.0 * pilot.0 / pilot.1,
                rest: 100.0 * rest.0 / rest.1,
                difference: 100.0 * d,
                low: 100.0 * low,
                high: 100.0 * high,
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

/// How an area took up one of the seven features (docs/RULES.md §9.4).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureAdoption {
    /// The feature's measure (`appointments_booked`, …).
    pub measure: &'static str,
    /// Its level now: the mean monthly rate per 1,000 people aged 13+ over the latest three
    /// months with a rate.
    pub level: Option<f64>,
    /// Months from the area going live (its first month with registrations) to the first month
    /// its rate reached half of `level`: the smaller, the faster it was taken up.
    pub months_to_half: Option<i32>,
}

/// Each area's adoption of the seven features, in the order of `FEATURES`.
pub fn adoption(figures: &[UptakeFigure]) -> BTreeMap<String, Vec<FeatureAdoption>> {
    use crate::domain::uptake::FEATURES;
    let mut live: BTreeMap<&str, Month> = BTreeMap::new();
    let mut rates: BTreeMap<(&str, &str), Vec<(Month, f64)>> = BTreeMap::new();
    for f in figures.iter().filter(|f| f.age_band == AgeBand::All) {
        if f.measure == REGISTRATIONS && f.value > 0.0 {
            let e = live.entry(f.area_code.as_str()).or_insert(f.month);
            *e = (*e).min(f.month);
        }
        if let Some(rate) = f.rate_per_1000
            && FEATURES.iter().any(|(_, _, m)| *m == f.measure)
        {
            rates.entry((f.area_code.as_str(), f.measure.as_str())).or_default().push((f.month, rate));
        }
    }
    let mut out: BTreeMap<String, Vec<FeatureAdoption>> = BTreeMap::new();
    for (code, start) in live {
        let list = FEATURES
            .iter()
            .map(|(_, _, measure)| {
                let mut series = rates.get(&(code, *measure)).cloned().unwrap_or_default();
                series.sort_by_key(|(m, _)| *m);
                let recent: Vec<f64> = series.iter().rev().take(3).map(|(_, r)| *r).collect();
                let level = (!recent.is_empty()).then(|| recent.iter().sum::<f64>() / recent.len() as f64);
                let months_to_half = level.filter(|l| *l > 0.0).and_then(|l| {
                    series.iter().find(|(m, r)| *m >= start && *r >= l / 2.0).map(|(m, _)| m.index() - start.index())
                });
                FeatureAdoption { measure, level, months_to_half }
            })
            .collect();
        out.insert(code.to_string(), list);
    }
    out
}

/// The feature an area took up fastest: the fewest months to half its level now, the higher
/// level breaking a tie.
pub fn fastest(list: &[FeatureAdoption]) -> Option<&FeatureAdoption> {
    list.iter().filter(|a| a.months_to_half.is_some()).min_by(|a, b| {
        a.months_to_half.cmp(&b.months_to_half).then(b.level.unwrap_or(0.0).total_cmp(&a.level.unwrap_or(0.0)))
    })
}

/// One sub-ICB location in the funnel plot of the share registered against population.
#[derive(Debug, Clone, PartialEq)]
pub struct ShareFunnelRow {
    pub area_code: String,
    /// Cumulative registrations and the population aged 13+.
    pub registered: f64,
    pub population: f64,
    /// The share registered, in percent.
    pub share: f64,
    pub point: super::uncertainty::FunnelPoint,
}

/// The share registered of every sub-ICB location in `month` against its population, around
/// England's pooled share (cumulative registrations over population, both summed), with the
/// 95 % and 99.8 % limits as Fingertips draws them for a proportion. Returns the pooled share
/// (0–1) and the rows.
pub fn registered_funnel(figures: &[UptakeFigure], month: Month) -> (f64, Vec<ShareFunnelRow>) {
    let rows: Vec<(&str, f64, f64)> = figures
        .iter()
        .filter(|f| {
            f.level == Level::SubIcb && f.month == month && f.measure == REGISTRATIONS && f.age_band == AgeBand::All
        })
        .filter_map(|f| Some((f.area_code.as_str(), f.cumulative.min(f.population?), f.population?)))
        .collect();
    let (registered, population) = rows.iter().fold((0.0, 0.0), |(r, p), (_, x, n)| (r + x, p + n));
    if population <= 0.0 {
        return (0.0, Vec::new());
    }
    let pooled = registered / population;
    let rows = rows
        .into_iter()
        .filter_map(|(code, x, n)| {
            Some(ShareFunnelRow {
                area_code: code.to_string(),
                registered: x,
                population: n,
                share: 100.0 * x / n,
                point: super::uncertainty::funnel_point(x, n, pooled)?,
            })
        })
        .collect();
    (pooled, rows)
}

/// The share registered of one age band, pooled over a set of areas in one month.
#[derive(Debug, Clone, PartialEq)]
pub struct AgeShare {
    pub band: AgeBand,
    pub registered: f64,
    pub population: f64,
    /// Percent, with its 95 % Wilson score interval.
    pub share: f64,
    pub low: f64,
    pub high: f64,
}

/// The share registered by age band in `month`, pooled over the sub-ICB locations `keep`
/// accepts that sent that band (bands without a population are left out).
pub fn by_age(figures: &[UptakeFigure], month: Month, keep: impl Fn(&str) -> bool) -> Vec<AgeShare> {
    let mut pooled: BTreeMap<AgeBand, (f64, f64)> = BTreeMap::new();
    for f in figures
        .iter()
        .filter(|f| f.level == Level::SubIcb && f.month == month && f.measure == REGISTRATIONS && keep(&f.area_code))
    {
        if let Some(p) = f.population {
            let e = pooled.entry(f.age_band).or_default();
            e.0 += f.cumulative.min(p);
            e.1 += p;
        }
    }
    pooled
        .into_iter()
        .filter(|(_, (_, n))| *n > 0.0)
        .filter_map(|(band, (x, n))| {
            let (low, high) = super::uncertainty::wilson(x, n, super::uncertainty::Level::P95)?;
            Some(AgeShare {
                band,
                registered: x,
                population: n,
                share: 100.0 * x / n,
                low: 100.0 * low,
                high: 100.0 * high,
            })
        })
        .collect()
}

/// Which band leads, in words: the band with the highest share, and whether its interval
/// clears every other band's.
pub fn age_reading(shares: &[AgeShare]) -> Option<String> {
    let bands: Vec<&AgeShare> = shares.iter().filter(|s| s.band != AgeBand::All).collect();
    let top = bands.iter().max_by(|a, b| a.share.total_cmp(&b.share))?;
    let clear = bands.iter().filter(|b| b.band != top.band).all(|b| top.low > b.high);
    let young = top.band == AgeBand::From16To24;
    Some(format!(
        "{} lead, with {:.1} % registered{}{}",
        if young { "16 to 24 year olds".to_string() } else { format!("People aged {}", top.band.as_str()) },
        top.share,
        if clear {
            ", ahead of every other band beyond doubt (95 % intervals apart)"
        } else {
            ", though not clearly ahead of every other band (95 % intervals overlap)"
        },
        if young {
            ": as the programme expected."
        } else {
            ": not the 16 to 24 year olds the programme expected to lead."
        }
    ))
}

/// One area's monthly series of a measure (all ages): its rate per 1,000, or the count where
/// no population was sent, oldest first.
pub fn monthly_series(figures: &[UptakeFigure], area_code: &str, measure: &str) -> Vec<(Month, f64)> {
    let mut series: Vec<(Month, f64)> = figures
        .iter()
        .filter(|f| f.area_code == area_code && f.measure == measure && f.age_band == AgeBand::All)
        .map(|f| (f.month, f.rate_per_1000.unwrap_or(f.value)))
        .collect();
    series.sort_by_key(|(m, _)| *m);
    series
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

    #[test]
    fn each_count_carries_the_month_before_and_the_year_before() {
        let values = [
            v("05G", "2019-01", "logins", 100.0),
            v("05G", "2019-02", "logins", 150.0),
            v("05G", "2020-02", "logins", 300.0),
        ];
        let all = uptake_figures(&values);
        let feb = |y: &str| all.iter().find(|f| f.area_code == "05G" && f.month.to_string() == y).unwrap();
        let f = feb("2019-02");
        assert_eq!((f.previous_month, f.change_on_previous_month()), (Some(100.0), Some(50.0)));
        assert_eq!(UptakeFigure::percent_change(f.previous_month, f.value), Some(50.0));
        let g = feb("2020-02");
        assert_eq!((g.previous_month, g.year_before, g.change_on_year_before()), (None, Some(150.0), Some(150.0)));
        assert_eq!(UptakeFigure::percent_change(Some(0.0), 5.0), None);
    }

    #[test]
    fn the_fastest_feature_reaches_half_its_level_in_the_fewest_months_from_going_live() {
        let mut values = Vec::new();
        for (k, month) in ["2019-01", "2019-02", "2019-03", "2019-04", "2019-05"].iter().enumerate() {
            values.push(v("05G", month, "population_13_plus", 1000.0));
            values.push(v("05G", month, "registrations", 10.0));
            // Prescriptions jump at once; appointments creep up.
            values.push(v("05G", month, "prescriptions_ordered", if k == 0 { 0.0 } else { 50.0 }));
            values.push(v("05G", month, "appointments_booked", 10.0 * (k as f64 + 1.0)));
        }
        let adopted = adoption(&uptake_figures(&values));
        let list = &adopted["05G"];
        let of = |m: &str| list.iter().find(|a| a.measure == m).unwrap();
        // Prescriptions: level 50 per 1,000; half reached in the second month, 1 month in.
        assert_eq!(
            (of("prescriptions_ordered").level, of("prescriptions_ordered").months_to_half),
            (Some(50.0), Some(1))
        );
        // Appointments: level (50 + 40 + 30) ÷ 3 = 40; half (20) reached in the second month too,
        // so the higher level breaks the tie.
        assert_eq!((of("appointments_booked").level, of("appointments_booked").months_to_half), (Some(40.0), Some(1)));
        assert_eq!(fastest(list).map(|a| a.measure), Some("prescriptions_ordered"));
        assert_eq!(of("record_views").level, None);
    }

    #[test]
    fn the_registered_funnel_pools_england_and_places_each_location() {
        let values = [
            v("99A", "2019-01", "registrations", 500.0),
            v("99A", "2019-01", "population_13_plus", 1000.0),
            v("02T", "2019-01", "registrations", 100.0),
            v("02T", "2019-01", "population_13_plus", 1000.0),
            v("05G", "2019-01", "registrations", 300.0),
            v("05G", "2019-01", "population_13_plus", 1000.0),
        ];
        let (pooled, rows) = registered_funnel(&uptake_figures(&values), Month::parse("2019-01").unwrap());
        assert!((pooled - 0.3).abs() < 1e-12);
        let at = |code: &str| rows.iter().find(|r| r.area_code == code).unwrap();
        use super::super::uncertainty::Position;
        assert_eq!(at("99A").point.position, Position::Above998);
        assert_eq!(at("02T").point.position, Position::Below998);
        assert_eq!((at("05G").point.position, at("05G").share), (Position::Within, 30.0));
    }

    #[test]
    fn age_bands_are_pooled_with_intervals_and_the_leader_named() {
        let band = |area: &str, b: AgeBand, measure: &str, value: f64| UptakeValue {
            age_band: b,
            ..v(area, "2019-01", measure, value)
        };
        let values = [
            band("99A", AgeBand::From16To24, "registrations", 300.0),
            band("99A", AgeBand::From16To24, "population_13_plus", 1000.0),
            band("99A", AgeBand::From75, "registrations", 50.0),
            band("99A", AgeBand::From75, "population_13_plus", 1000.0),
            band("05G", AgeBand::From16To24, "registrations", 100.0),
            band("05G", AgeBand::From16To24, "population_13_plus", 1000.0),
        ];
        let shares = by_age(&uptake_figures(&values), Month::parse("2019-01").unwrap(), |_| true);
        assert_eq!(shares.len(), 2);
        assert_eq!((shares[0].band, shares[0].share), (AgeBand::From16To24, 20.0)); // (300 + 100) ÷ 2000
        assert!(shares[0].low < 20.0 && shares[0].high > 20.0);
        let reading = age_reading(&shares).unwrap();
        assert!(reading.starts_with("16 to 24 year olds lead") && reading.contains("beyond doubt"), "{reading}");
    }
}

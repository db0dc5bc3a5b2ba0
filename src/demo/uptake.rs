//! Synthetic NHS App uptake for the demo (docs/RULES.md §9): a deterministic monthly series for
//! every sub-ICB location from the pilot (autumn 2018) to the last month that has ended. The five
//! pilot areas go live in September 2018, the rest of England from December 2018 over a few
//! months; registrations follow an S-curve with a step in spring 2021; each feature takes off at
//! a month of its own; the pilot areas also send registrations and population by age band, with
//! the 16–24 band ahead. Invented numbers beside real area codes: every page and export that
//! shows them says they are synthetic.

use crate::domain::uptake::{AgeBand, Level, Month, areas};
use std::fmt::Write;

/// A number in [0, 1) from `key`, the same on every run.
fn unit(key: u64) -> f64 {
    let mut z = key.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as f64 / (u64::MAX as f64 + 1.0)
}

fn hash(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Each feature's measure, the month its use takes off, and its monthly uses per registered
/// person once it has.
const FEATURES: [(&str, &str, f64); 7] = [
    ("prescriptions_ordered", "2019-03", 0.35),
    ("appointments_booked", "2019-06", 0.06),
    ("nhs111_visits", "2019-09", 0.02),
    ("record_views", "2020-06", 0.25),
    ("data_sharing_changes", "2019-01", 0.004),
    ("organ_donation_registrations", "2019-01", 0.006),
    ("end_of_life_preferences", "2022-01", 0.002),
];

/// Share of an age band in the population aged 13+, and how far ahead (or behind) its
/// registrations run.
const BANDS: [(AgeBand, f64, f64); 8] = [
    (AgeBand::From13To15, 0.045, 0.7),
    (AgeBand::From16To24, 0.13, 1.35),
    (AgeBand::From25To34, 0.16, 1.25),
    (AgeBand::From35To44, 0.16, 1.1),
    (AgeBand::From45To54, 0.16, 1.0),
    (AgeBand::From55To64, 0.15, 0.9),
    (AgeBand::From65To74, 0.11, 0.75),
    (AgeBand::From75, 0.085, 0.5),
];

/// The share of the population registered by month `t` in an area that went live at `live`,
/// heading for `ceiling`.
fn registered_share(t: Month, live: Month, ceiling: f64) -> f64 {
    if t < live {
        return 0.0;
    }
    let months = f64::from(t.index() - live.index());
    let base = ceiling * (logistic((months - 30.0) / 9.0) - logistic(-30.0 / 9.0));
    // Spring 2021: the app became the way to show vaccination status.
    let step = Month::parse("2021-05").expect("a month");
    let jump =
        if t >= step { 0.12 * ceiling * (1.0 - (-f64::from(t.index() - step.index()) / 3.0).exp()) } else { 0.0 };
    (base + jump).min(0.92)
}

/// The demo's uptake file, `area_code,month,measure,value,age_band`, through `last` (the last
/// month that has ended).
pub fn uptake_csv(seed: u64, last: Month) -> Vec<u8> {
    let mut out = String::from("area_code,month,measure,value,age_band\n");
    let first = Month::parse("2018-09").expect("a month");
    for area in areas().iter().filter(|a| a.level == Level::SubIcb) {
        let h = hash(&area.code) ^ seed;
        let population0 = (150_000.0 + 750_000.0 * unit(h)).round();
        let live = if area.pilot_area.is_some() {
            first
        } else {
            Month::parse("2018-12").expect("a month").offset((unit(h ^ 1) * 5.0) as i32)
        };
        let ceiling = 0.55 + 0.2 * unit(h ^ 2) + if area.pilot_area.is_some() { 0.05 } else { 0.0 };
        let mut row = |month: Month, measure: &str, value: f64, band: AgeBand| {
            let _ = writeln!(out, "{},{month},{measure},{},{band}", area.code, value.max(0.0).round());
        };
        let mut month = first;
        while month <= last {
            let years = f64::from(month.index() - first.index()) / 12.0;
            let population = (population0 * (1.0 + 0.005 * years)).round();
            row(month, "population_13_plus", population, AgeBand::All);
            let share = registered_share(month, live, ceiling);
            let before = registered_share(month.offset(-1), live, ceiling);
            let noise = |k: u64| 0.9 + 0.2 * unit(h ^ (k << 20) ^ month.index() as u64);
            let registered = share * population;
            if month >= live {
                let new = ((share - before) * population).max(0.0);
                row(month, "registrations", new, AgeBand::All);
                row(month, "registrations_new_to_online", new * 0.4 * noise(3), AgeBand::All);
                let unique = registered * (0.35 + 0.1 * unit(h ^ 4)) * noise(5);
                row(month, "unique_logins", unique, AgeBand::All);
                row(month, "logins", unique * (2.2 + 0.6 * years.min(5.0) / 5.0) * noise(6), AgeBand::All);
                for (k, (measure, takeoff, intensity)) in FEATURES.iter().enumerate() {
                    let takeoff = Month::parse(takeoff).expect("a month");
                    let lead = if area.pilot_area.is_some() { 4.0 } else { 0.0 };
                    let ramp = logistic((f64::from(month.index() - takeoff.index()) + lead - 6.0) / 3.0);
                    let uses = registered * intensity * ramp * noise(10 + k as u64);
                    row(month, measure, uses, AgeBand::All);
                    match *measure {
                        "appointments_booked" => {
                            row(month, "appointments_cancelled", uses * 0.15 * noise(20), AgeBand::All)
                        }
                        "data_sharing_changes" => {
                            row(month, "data_sharing_views", uses * 5.0 * noise(21), AgeBand::All)
                        }
                        "organ_donation_registrations" => {
                            row(month, "organ_donation_updates", uses * 0.3 * noise(22), AgeBand::All);
                            row(month, "organ_donation_withdrawals", uses * 0.05 * noise(23), AgeBand::All);
                        }
                        _ => {}
                    }
                }
            }
            if area.pilot_area.is_some() {
                // Registrations by age band; the bands' counts are whole numbers of their own,
                // so they need not add up to the all-ages count.
                for (band, part, pace) in BANDS {
                    let band_population = (population * part).round();
                    row(month, "population_13_plus", band_population, band);
                    if month >= live {
                        let s = (registered_share(month, live, ceiling) * pace).min(0.95);
                        let b = (registered_share(month.offset(-1), live, ceiling) * pace).min(0.95);
                        row(month, "registrations", ((s - b) * band_population).max(0.0), band);
                    }
                }
            }
            month = month.offset(1);
        }
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_series_is_valid_and_the_pilot_areas_start_first() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let last = Month::containing(today).offset(-1);
        let bytes = uptake_csv(2016, last);
        let rows = crate::ingest::uptake::parse_uptake_csv(bytes.as_slice(), today).expect("valid");
        let first = |code: &str| {
            rows.iter().filter(|r| r.area_code == code && r.measure == "registrations").map(|r| r.month).min()
        };
        assert_eq!(first("99A"), Month::parse("2018-09").ok());
        assert!(first("QWO").is_none() && first("02T").is_some_and(|m| m >= Month::parse("2018-12").unwrap()));
        assert_eq!(bytes, uptake_csv(2016, last), "deterministic");
    }
}

//! `exemplar bench recompute`: the full recompute of every table of docs/RULES.md §4 from a values file, as
//! the server does it, timed, with the process's peak memory and a checksum of each table (row
//! count and column sums) that `benches/recompute.sh` compares with DuckDB's on the same file.
//!
//! `exemplar bench refresh`: the incremental refresh after one trust's submission to one
//! quarter (`Figures::apply`, what a server does after each commit), timed quarter by quarter.

use crate::analytics::{Frames, ValuesBuilder, compute_frames};
use crate::domain::{Quarter, Reference};
use anyhow::{Context, Result, bail};
use polars::prelude::*;
use std::path::Path;
use std::time::Instant;

/// The columns each checksum adds up, per table (`benches/recompute_duckdb.py` has the same).
const SUMS: &[(&str, &[&str])] = &[
    (
        "benchmarks",
        &["n", "min", "p25", "median", "p75", "max", "mean", "exemplar_n", "exemplar_median", "national_median"],
    ),
    (
        "trust_benchmarks",
        &[
            "value",
            "rank",
            "percentile",
            "quartile",
            "score",
            "gap_to_exemplar",
            "gap_to_median",
            "behind_best_practice",
        ],
    ),
    ("indices", &["domain_index", "n_metrics", "n_applicable"]),
    ("trends", &["change", "slope"]),
    ("gaps", &["n", "n_behind", "median_gap"]),
];

/// Reads, computes and prints `load_s`, `compute_s`, `peak_mib`, `values` and a `sum` line per table.
pub fn recompute(values: &Path, organisations: Option<&Path>) -> Result<()> {
    let reference = reference_with(organisations)?;
    let start = Instant::now();
    let frame = read_values(&reference, values)?;
    let loaded = Instant::now();
    let frames = compute_frames(&reference, frame.clone(), None).map_err(|e| anyhow::anyhow!("computing: {e}"))?;
    let computed = Instant::now();
    println!("load_s {:.3}", (loaded - start).as_secs_f64());
    println!("compute_s {:.3}", (computed - loaded).as_secs_f64());
    println!("peak_mib {}", peak_mib());
    println!("values {}", frame.height());
    print_sums(&frames)?;
    Ok(())
}

fn print_sums(frames: &Frames) -> Result<()> {
    for (name, df) in frames.named() {
        let columns = SUMS.iter().find(|(n, _)| *n == name).map(|(_, c)| *c).unwrap_or_default();
        let mut line = format!("sum {name} {:?}", df.height() as f64);
        for c in columns {
            let sum = df.column(c)?.cast(&DataType::Float64)?.f64()?.sum().unwrap_or(0.0);
            line.push_str(&format!(" {sum:?}"));
        }
        if name == "trends" {
            for label in ["improving", "worsening"] {
                let n = df.column("trend")?.str()?.iter().filter(|t| *t == Some(label)).count();
                line.push_str(&format!(" {:?}", n as f64));
            }
        }
        println!("{line}");
    }
    Ok(())
}

/// The bundled reference data, with its organisations replaced by those of `path` (a file with
/// the columns of the organisations export) when given.
fn reference_with(path: Option<&Path>) -> Result<Reference> {
    let bundled = crate::ingest::reference::bundled()?;
    let Some(path) = path else { return Ok(bundled) };
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let orgs = crate::ingest::organisations::parse_organisations(&bytes).map_err(|errors| {
        anyhow::anyhow!("{}: {}", path.display(), errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; "))
    })?;
    Ok(Reference::new(orgs, bundled.domains, bundled.metrics, bundled.standards, bundled.systems, bundled.deployments))
}

/// Figures from a values file, then one trust's submission after another applied to them: every
/// metric the trust has in a quarter, with other values. The quarters are the latest and those
/// `back` quarters before it; each gets `rounds` submissions from different trusts. Prints one
/// line per quarter with the fastest, median and slowest apply, in milliseconds.
pub fn refresh(values: &Path, organisations: Option<&Path>, rounds: usize, back: &[i32]) -> Result<()> {
    let reference = reference_with(organisations)?;
    let values = read_current_values(&reference, values)?;
    let start = Instant::now();
    let tables = crate::analytics::compute(&reference, &values).map_err(|e| anyhow::anyhow!("computing: {e}"))?;
    let mut figures = crate::figures::Figures::new(1, crate::store::now_text(), reference, values, tables);
    println!("values {}", figures.value_count());
    println!("flags {}", figures.quality().count());
    println!("full_s {:.3}", start.elapsed().as_secs_f64());
    // The statistics of docs/RULES.md §4.8 and §4.9 on top: computed when first asked for.
    let started = Instant::now();
    let periods = figures.periods.clone();
    let intervals: usize = periods.iter().filter_map(|p| figures.statistics(*p)).map(|s| s.intervals.len()).sum();
    println!("statistics_s {:.3} ({intervals} intervals)", started.elapsed().as_secs_f64());
    let started = Instant::now();
    let points = figures.spc_rows(false, |_, _| true).len();
    println!("spc_s {:.3} ({points} points)", started.elapsed().as_secs_f64());
    let Some(latest) = figures.latest_period() else { bail!("the values file has no values") };
    // A small deterministic generator: the same file gives the same submissions.
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    for &b in back {
        let p = latest - b;
        let orgs: Vec<crate::analytics::Text> = figures
            .values()
            .filter(|v| v.period == p)
            .map(|v| v.org_code.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if orgs.is_empty() {
            println!("quarter {} has no values", p);
            continue;
        }
        let mut times = Vec::with_capacity(rounds);
        for round in 0..rounds {
            let org = &orgs[(round * 7919) % orgs.len()];
            let changed: Vec<crate::store::CurrentValue> = figures
                .values()
                .filter(|v| v.period == p && v.org_code == *org)
                .map(|v| {
                    let m = figures.reference.metric(&v.metric_id).expect("a known metric");
                    let value = m.scale_min + (m.scale_max - m.scale_min) * next();
                    crate::store::CurrentValue { value, revision: v.revision + 1, ..v.clone() }
                })
                .collect();
            let version = figures.data_version + 1;
            let t = Instant::now();
            figures = figures.apply(version, changed)?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "refresh {} ({b} back): min {:.1} ms, median {:.1} ms, max {:.1} ms over {rounds}",
            p,
            times[0],
            times[times.len() / 2],
            times[times.len() - 1]
        );
    }
    println!("peak_mib {}", peak_mib());
    Ok(())
}

/// A values file as current values (revision 1), with the reference's shared codes; a
/// proportion's value gets counts (a denominator of 50 to 5,049 fixed by its trust and metric).
fn read_current_values(reference: &Reference, path: &Path) -> Result<Vec<crate::store::CurrentValue>> {
    let submitted_at: crate::analytics::Text = crate::store::now_text().into();
    let mut out = Vec::new();
    each_value(path, |row, org, metric, period, value| {
        let (Some(o), Some(m)) = (reference.org_position(org), reference.metric_position(metric)) else {
            bail!("row {row}: an organisation or metric the reference data does not have");
        };
        let counts = reference.metrics[m].is_proportion().then(|| {
            let denominator = 50 + ((o * 7919 + m * 104_729) % 5000) as u32;
            let numerator =
                ((value / 100.0) * f64::from(denominator)).round().clamp(0.0, f64::from(denominator)) as u32;
            crate::domain::Counts { numerator, denominator }
        });
        out.push(crate::store::CurrentValue {
            org_code: reference.org_text(o),
            metric_id: reference.metric_text(m),
            period,
            value,
            revision: 1,
            submitted_at: submitted_at.clone(),
            counts,
        });
        Ok(())
    })?;
    Ok(out)
}

/// Reads a values file (`org_code, metric_id, period, value`) row by row, handing each row's
/// line number and fields to `f`: the file is never held whole as text.
fn each_value(path: &Path, mut f: impl FnMut(u64, &str, &str, Quarter, f64) -> Result<()>) -> Result<()> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut reader = csv::Reader::from_reader(std::io::BufReader::with_capacity(1 << 20, file));
    let header = reader.byte_headers()?.clone();
    let at = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name.as_bytes()));
    let (Some(o), Some(m), Some(p), Some(v)) = (at("org_code"), at("metric_id"), at("period"), at("value")) else {
        bail!("{}: expected the columns org_code, metric_id, period and value", path.display());
    };
    let mut record = csv::ByteRecord::new();
    while reader.read_byte_record(&mut record)? {
        let row = record.position().map_or(0, |p| p.line());
        let text = |i: usize| std::str::from_utf8(&record[i]).with_context(|| format!("row {row}: not UTF-8"));
        let period = Quarter::parse(text(p)?).map_err(|e| anyhow::anyhow!("row {row}, column period: {e}"))?;
        let value = text(v)?.parse::<f64>().with_context(|| format!("row {row}, column value"))?;
        f(row, text(o)?, text(m)?, period, value)?;
    }
    Ok(())
}

/// Streams a values file (`org_code, metric_id, period, value`) into a frame (see `each_value`).
pub fn read_values(reference: &Reference, path: &Path) -> Result<crate::analytics::Values> {
    let mut frame = ValuesBuilder::default();
    each_value(path, |_, org, metric, period, value| {
        frame.push(reference, org, metric, period, value);
        Ok(())
    })?;
    Ok(frame.finish()?)
}

/// The process's peak resident memory so far, in MiB (Linux).
pub fn peak_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .map_or(0, |kib: u64| kib / 1024)
}

//! `exemplar bench recompute`: the full recompute of every table of docs/RULES.md §4 from a values file, as
//! the server does it, timed, with the process's peak memory and a checksum of each table (row
//! count and column sums) that `benches/recompute.sh` compares with DuckDB's on the same file.
//!
//! `exemplar bench refresh`: the incremental refresh after one trust's submission to one
//! quarter (`Figures::apply`, what a server does after each commit), timed quarter by quarter.
//!
//! `exemplar bench groups`: the figures of saved peer groups of several sizes (docs/RULES.md
//! §10.6), computed from scratch as when a page or export first asks for one, beside the full
//! recompute of the same figures.

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
/// line per quarter with the fastest, median and slowest apply, in milliseconds; then whether
/// the figures after every refresh equal those a full recompute gives. With `places`, each new
/// value is rounded to that many decimal places.
pub fn refresh(
    values: &Path,
    organisations: Option<&Path>,
    rounds: usize,
    back: &[i32],
    places: Option<u8>,
) -> Result<()> {
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
    // The same file gives the same submissions.
    let mut next = draws();
    for &b in back {
        let p = latest - b;
        let orgs: Vec<crate::analytics::Text> = figures
            .values_in(p)
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
                .values_in(p)
                .filter(|v| v.org_code == *org)
                .map(|v| {
                    let m = figures.reference.metric(&v.metric_id).expect("a known metric");
                    let mut value = m.scale_min + (m.scale_max - m.scale_min) * next();
                    if let Some(places) = places {
                        let f = 10f64.powi(i32::from(places));
                        value = ((value * f).round() / f).clamp(m.scale_min, m.scale_max);
                    }
                    crate::store::CurrentValue { value, revision: v.revision + 1, ..v }
                })
                .collect();
            let version = figures.data_version + 1;
            let t = Instant::now();
            let refreshed = figures.apply(version, changed)?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
            // The previous figures go after the new ones are ready, as in the server, where the
            // last reader of the previous version lets them go.
            figures = refreshed;
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
    // The figures after every refresh against those a full recompute gives from the same values.
    let values: Vec<crate::store::CurrentValue> = figures.values().collect();
    let tables =
        crate::analytics::compute(&figures.reference, &values).map_err(|e| anyhow::anyhow!("computing: {e}"))?;
    let full = crate::figures::Figures::new(1, crate::store::now_text(), figures.reference.clone(), values, tables);
    let (a, b) = (figures.tables(), full.tables());
    let same = a == b && full.quality().eq(figures.quality());
    println!("same_as_full_recompute {same}");
    if !same {
        fn first<T: PartialEq + std::fmt::Debug>(name: &str, a: &[T], b: &[T]) {
            if a.len() != b.len() {
                println!("{name}: {} rows against {}", a.len(), b.len());
            }
            if let Some(i) = (0..a.len().min(b.len())).find(|&i| a[i] != b[i]) {
                println!("{name} differs first at row {i}:\n  refreshed {:?}\n  full      {:?}", a[i], b[i]);
            }
        }
        first("benchmarks", &a.benchmarks, &b.benchmarks);
        first("trust_benchmarks", &a.trust_benchmarks, &b.trust_benchmarks);
        first("indices", &a.indices, &b.indices);
        first("trends", &a.trends, &b.trends);
        first("gaps", &a.gaps, &b.gaps);
        first("summaries", &a.summaries, &b.summaries);
        first("quality", &figures.quality().cloned().collect::<Vec<_>>(), &full.quality().cloned().collect::<Vec<_>>());
    }
    println!("peak_mib {}", peak_mib());
    Ok(())
}

/// A small deterministic generator: the same file gives the same draws.
fn draws() -> impl FnMut() -> f64 {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Prints `full_s` (every table of every quarter) and, for each size, the time to compute a
/// group's figures from scratch (min, median and max over `rounds` groups) and its ratio to the
/// full recompute, then the time to fetch a group already computed for the data version.
pub fn groups(values: &Path, organisations: Option<&Path>, rounds: usize, sizes: &[usize]) -> Result<()> {
    let reference = reference_with(organisations)?;
    let values = read_current_values(&reference, values)?;
    let start = Instant::now();
    let tables = crate::analytics::compute(&reference, &values).map_err(|e| anyhow::anyhow!("computing: {e}"))?;
    let full = start.elapsed().as_secs_f64();
    let figures = crate::figures::Figures::new(1, crate::store::now_text(), reference, values, tables);
    println!("values {}", figures.value_count());
    println!("full_s {full:.3}");
    let codes: Vec<String> = {
        let mut with_values: Vec<String> = figures.values().map(|v| v.org_code.to_string()).collect();
        with_values.sort();
        with_values.dedup();
        with_values
    };
    let mut next = draws();
    for &size in sizes {
        let mut times = Vec::with_capacity(rounds);
        let mut group_values = 0;
        for _ in 0..rounds {
            let mut members: Vec<String> = Vec::with_capacity(size);
            while members.len() < size.min(codes.len()) {
                let code = &codes[(next() * codes.len() as f64) as usize % codes.len()];
                if !members.contains(code) {
                    members.push(code.clone());
                }
            }
            let t = Instant::now();
            let g = figures.for_group("saved-1", &members)?;
            times.push(t.elapsed().as_secs_f64() * 1e3);
            group_values = g.trust_benchmarks.len();
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        println!(
            "group {size} trusts ({group_values} positions): min {:.1} ms, median {median:.1} ms, max {:.1} ms over {rounds}; median / full recompute {:.4}",
            times[0],
            times[times.len() - 1],
            median / 1e3 / full
        );
    }
    let members: Vec<String> = codes.iter().take(25).cloned().collect();
    figures.group("saved-1", &members)?;
    let t = Instant::now();
    for _ in 0..1000 {
        figures.group("saved-1", &members)?;
    }
    println!("kept group: {:.1} µs a request", t.elapsed().as_secs_f64() * 1e3);
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

/// Reads a values file (`org_code, metric_id, period, value`) into a frame, on every core (see
/// `read_parts`); a file that cannot be read in parts is read row by row (`each_value`), which
/// reports a row in error with its line.
pub fn read_values(reference: &Reference, path: &Path) -> Result<crate::analytics::Values> {
    let frame = match read_parts(reference, path)? {
        Some(frame) => frame,
        None => {
            let mut frame = ValuesBuilder::default();
            each_value(path, |_, org, metric, period, value| {
                frame.push(reference, org, metric, period, value);
                Ok(())
            })?;
            frame
        }
    };
    Ok(frame.finish()?)
}

/// A values file read in one part per core: the rows after the header are split at line ends
/// into byte ranges of equal size, each read by its own thread in blocks of 4 MiB, and the parts'
/// values joined in the file's order. `None` when a part meets a quote (a quoted field may hold
/// a line end, so lines would not be rows) or a row it cannot read.
fn read_parts(reference: &Reference, path: &Path) -> Result<Option<ValuesBuilder>> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let size = file.metadata()?.len();
    let mut header = Vec::new();
    std::io::BufReader::new(&file).read_until(b'\n', &mut header)?;
    let names: Vec<&[u8]> = header.trim_ascii_end().split(|&b| b == b',').collect();
    let at = |name: &str| names.iter().position(|h| h.eq_ignore_ascii_case(name.as_bytes()));
    let (Some(o), Some(m), Some(p), Some(v)) = (at("org_code"), at("metric_id"), at("period"), at("value")) else {
        return Ok(None);
    };
    if header.contains(&b'"') {
        return Ok(None);
    }
    let start = header.len() as u64;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let bounds: Vec<u64> = (0..=cores).map(|i| start + (size - start) * i / cores).collect();
    let parts: Vec<Result<Option<ValuesBuilder>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = bounds
            .windows(2)
            .map(|w| {
                let (from, to) = (w[0], w[1]);
                scope.spawn(move || read_part(reference, path, from, to, from == start, [o, m, p, v]))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("a part's reader does not panic")).collect()
    });
    let mut frame = ValuesBuilder::default();
    for part in parts {
        match part? {
            Some(values) => frame.append(values),
            None => return Ok(None),
        }
    }
    Ok(Some(frame))
}

/// The rows of `path` that start at a byte in `from..to` (`from` is a row's start when `first`).
fn read_part(
    reference: &Reference,
    path: &Path,
    from: u64,
    to: u64,
    first: bool,
    [o, m, p, v]: [usize; 4],
) -> Result<Option<ValuesBuilder>> {
    use std::io::{BufRead, Read, Seek};
    let mut file = std::fs::File::open(path)?;
    // The first row that starts at or after `from`: the one after the line end at `from - 1` or later.
    let mut pos = if first { from } else { from - 1 };
    file.seek(std::io::SeekFrom::Start(pos))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    if !first {
        pos += reader.read_until(b'\n', &mut Vec::new())? as u64;
    }
    let mut out = ValuesBuilder::default();
    let mut block = Vec::with_capacity(5 << 20);
    let mut record = csv::ByteRecord::new();
    while pos < to {
        block.clear();
        (&mut reader).take(4 << 20).read_to_end(&mut block)?;
        if block.is_empty() {
            break;
        }
        reader.read_until(b'\n', &mut block)?;
        // Rows that start at `to` or later are the next part's.
        let ours = (to - pos) as usize;
        if ours < block.len() {
            let cut = memchr::memchr(b'\n', &block[ours - 1..]).map_or(block.len(), |i| ours + i);
            block.truncate(cut);
        }
        pos += block.len() as u64;
        if memchr::memchr(b'"', &block).is_some() {
            return Ok(None);
        }
        let mut rows = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(&block[..]);
        loop {
            match rows.read_byte_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(_) => return Ok(None),
            }
            let field = |i: usize| record.get(i).and_then(|f| std::str::from_utf8(f).ok());
            let (Some(org), Some(metric), Some(period), Some(value)) = (field(o), field(m), field(p), field(v)) else {
                return Ok(None);
            };
            let (Ok(period), Ok(value)) = (Quarter::parse(period), value.parse::<f64>()) else { return Ok(None) };
            out.push(reference, org, metric, period, value);
        }
    }
    Ok(Some(out))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The values of a file read row by row, as a frame.
    fn serial(reference: &Reference, path: &Path) -> crate::analytics::Values {
        let mut frame = ValuesBuilder::default();
        each_value(path, |_, org, metric, period, value| {
            frame.push(reference, org, metric, period, value);
            Ok(())
        })
        .unwrap();
        frame.finish().unwrap()
    }

    #[test]
    fn a_file_read_in_parts_gives_the_rows_read_one_by_one() {
        let reference = crate::ingest::reference::bundled().unwrap();
        let dir = std::env::temp_dir().join(format!("exemplar-parts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (orgs, metrics) = (&reference.organisations, &reference.metrics);
        // Rows of uneven length, with a repeated key whose order must hold, and a code the
        // reference does not know; the columns in another order than usual.
        let mut text = String::from("Value,period,metric_id,org_code\n");
        for i in 0..60_000usize {
            let (o, m) = (&orgs[i % orgs.len()], &metrics[(i / orgs.len()) % metrics.len()]);
            let value = (i % 997) as f64 * if i % 3 == 0 { 1.0 } else { 0.123_456_789 };
            text.push_str(&format!("{value},2025-Q{},{},{}\n", 1 + i % 4, m.metric_id, o.ods_code));
        }
        text.push_str(&format!("1.5,2025-Q1,{},ZZZ99\n", metrics[0].metric_id));
        let path = dir.join("values.csv");
        std::fs::write(&path, &text).unwrap();
        let parts = read_values(&reference, &path).unwrap();
        assert!(read_parts(&reference, &path).unwrap().is_some(), "read in parts");
        let rows = serial(&reference, &path);
        assert_eq!(parts.height(), 60_000);
        assert!(parts.frame().equals(rows.frame()));
        // A quoted field: read row by row, with the same values.
        std::fs::write(&path, text.replacen(",2025-Q1,", ",\"2025-Q1\",", 1)).unwrap();
        assert!(read_parts(&reference, &path).unwrap().is_none());
        assert!(read_values(&reference, &path).unwrap().frame().equals(rows.frame()));
        // A row in error is reported with its line.
        std::fs::write(&path, text.replacen("2025-Q2", "2025-Q9", 1)).unwrap();
        let error = read_values(&reference, &path).unwrap_err().to_string();
        assert!(error.contains("row 3, column period"), "{error}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

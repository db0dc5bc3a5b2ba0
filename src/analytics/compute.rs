//! The polars pipeline from current values to every table of docs/RULES.md §4.

use super::exact::{Places, factor_of, snap, snapped};
use super::frames::{ALL_DOMAINS, Reader, Values, applicable_frame, metrics_frame, organisations_frame, values_frame};
use super::tables::*;
use crate::domain::CurrentValue;
use crate::domain::Quarter;
use crate::domain::Reference;
use polars::prelude::*;

/// How many trust types there are: `metric × TYPES + type` is a peer group's key in a quarter.
const TYPES: i32 = crate::domain::TrustType::ALL.len() as i32;

/// The columns of the indices table, in order.
const INDEX_COLUMNS: [&str; 7] =
    ["org_code", "trust_type", "period_index", "domain", "domain_index", "n_metrics", "n_applicable"];

fn cols(names: &[&str]) -> Vec<Expr> {
    names.iter().map(|n| col(*n)).collect()
}

fn inner() -> JoinArgs {
    JoinArgs::new(JoinType::Inner)
}

fn left() -> JoinArgs {
    JoinArgs::new(JoinType::Left)
}

/// Computes every table from the current values. Values of unknown organisations or metrics
/// (none pass ingest) are left out.
pub fn compute(reference: &Reference, values: &[CurrentValue]) -> PolarsResult<Tables> {
    let frames = compute_frames(reference, values_frame(reference, values)?, None)?;
    frames.tables(reference)
}

/// The computed tables as polars frames, before they become typed rows.
pub struct Frames {
    pub benchmarks: DataFrame,
    pub trust_benchmarks: DataFrame,
    pub indices: DataFrame,
    pub trends: DataFrame,
    pub gaps: DataFrame,
}

impl Frames {
    /// Every table as typed rows, in the stable order of `sort`.
    pub fn tables(&self, reference: &Reference) -> PolarsResult<Tables> {
        // A frame with no columns is a table that was not asked for (see `Parts`).
        fn rows<T>(
            df: &DataFrame,
            reference: &Reference,
            f: fn(&Reader) -> PolarsResult<Vec<T>>,
        ) -> PolarsResult<Vec<T>> {
            if df.width() == 0 { Ok(Vec::new()) } else { f(&Reader(df, reference)) }
        }
        // Each table's rows come out in the order of `sort`, taken from the codes.
        Ok(Tables {
            benchmarks: rows(&self.benchmarks, reference, benchmark_rows)?,
            trust_benchmarks: rows(&self.trust_benchmarks, reference, trust_rows)?,
            indices: rows(&self.indices, reference, index_rows)?,
            trends: rows(&self.trends, reference, trend_rows)?,
            gaps: rows(&self.gaps, reference, gap_rows)?,
            summaries: Vec::new(),
        }
        .with_summaries(reference))
    }

    pub fn named(&self) -> [(&'static str, &DataFrame); 5] {
        [
            ("benchmarks", &self.benchmarks),
            ("trust_benchmarks", &self.trust_benchmarks),
            ("indices", &self.indices),
            ("trends", &self.trends),
            ("gaps", &self.gaps),
        ]
    }

    /// No table (each a frame with no columns).
    fn empty() -> Self {
        let empty = DataFrame::empty();
        Frames {
            benchmarks: empty.clone(),
            trust_benchmarks: empty.clone(),
            indices: empty.clone(),
            trends: empty.clone(),
            gaps: empty,
        }
    }

    fn append(&mut self, other: Frames) -> PolarsResult<()> {
        fn stack(all: &mut DataFrame, more: DataFrame) -> PolarsResult<()> {
            if all.width() == 0 {
                *all = more;
            } else if more.width() > 0 {
                all.vstack_mut_owned(more)?;
            }
            Ok(())
        }
        stack(&mut self.benchmarks, other.benchmarks)?;
        stack(&mut self.trust_benchmarks, other.trust_benchmarks)?;
        stack(&mut self.indices, other.indices)?;
        stack(&mut self.trends, other.trends)?;
        stack(&mut self.gaps, other.gaps)
    }
}

/// Computes the tables of the quarters in `periods` (of every quarter with a value when `None`)
/// from `values` (`org_code, metric_id, period_index, value`).
///
/// Every table of docs/RULES.md §4 but the trends depends only on the values of its own quarter, and the
/// trends of quarter `p` only on quarters `p − 3 … p`; so the work goes one quarter at a time.
/// That keeps the working set to one quarter's values (the peak memory at national scale), and
/// it is what makes an incremental refresh exact: recomputing the quarters a submission touched,
/// and the three after them for the trends, gives the figures a full recompute gives.
pub fn compute_frames(reference: &Reference, values: Values, periods: Option<&[Quarter]>) -> PolarsResult<Frames> {
    compute_parts(reference, values, periods, Parts::All)
}

/// Which tables to compute: an incremental refresh needs every table but the trends of the
/// quarters it touches, and the trends alone of the (organisation, metric) pairs it changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parts {
    All,
    AllButTrends,
    TrendsOnly,
}

/// `compute_frames` for some of the tables; the others come back as empty frames.
pub fn compute_parts(
    reference: &Reference,
    values: Values,
    periods: Option<&[Quarter]>,
    parts: Parts,
) -> PolarsResult<Frames> {
    // Each value's decimal places, counted once, for the snapping factors (`Factors`).
    let places = values.places()?;
    let values = values.frame();
    let index = codes(values, "period_index")?;
    let orgs = organisations_frame(reference)?;
    let metrics = metrics_frame(reference)?;
    let applicable = applicable_frame(reference)?.lazy();
    let factors = Factors::new(reference, &orgs)?;
    // The quarters asked for: each one's rows in `values`.
    let mut quarters = Vec::new();
    let mut start = 0;
    while start < index.len() {
        let p = index[start];
        let end = start + index[start..].partition_point(|&q| q == p);
        if periods.is_none_or(|wanted| wanted.contains(&Quarter::from_index(p))) {
            quarters.push((p, start, end));
        }
        start = end;
    }
    let plans = |&(p, start, end): &(i32, usize, usize)| -> PolarsResult<Plans> {
        let quarter = |range: std::ops::Range<usize>| Quarterly {
            values: values.slice(range.start as i64, range.len()),
            places: &places[range],
        };
        let before = (1..=3).map(|k| quarter(quarter_of(&index, p - k))).collect::<Vec<_>>();
        one_period(quarter(start..end), &before, &factors, &orgs, &metrics, &applicable, parts)
    };
    if parts == Parts::TrendsOnly && !quarters.is_empty() {
        // The trends alone are small (the changed pairs'): every quarter's go in one query.
        let trends = quarters.iter().map(|q| Ok(plans(q)?.trends)).collect::<PolarsResult<Vec<_>>>()?;
        let trends = concat(trends.into_iter().flatten().collect::<Vec<_>>(), UnionArgs::default())?;
        return Ok(Frames { trends: trends.collect()?, ..Frames::empty() });
    }
    // One query per quarter, two or more quarters at a time: each query's steps are short and
    // leave cores idle while one thread finishes a step, so quarters side by side fill them.
    // Threads of their own, not rayon's pool: quarters mapped over rayon's pool, each query
    // then waiting on polars' pool, took 1.6–1.7× as long at 10 M values in a trial side by side.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(quarters.len());
    let done: Vec<std::sync::Mutex<Option<PolarsResult<Frames>>>> =
        quarters.iter().map(|_| std::sync::Mutex::new(None)).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let work = || {
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(q) = quarters.get(i) else { break };
            let frames = plans(q).and_then(Plans::run);
            *done[i].lock().expect("no worker panics holding it") = Some(frames);
        }
    };
    if workers > 1 {
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..workers).map(|_| scope.spawn(work)).collect();
            workers.into_iter().for_each(|w| w.join().expect("the benchmark computation does not panic"));
        });
    } else {
        work();
    }
    let mut out: Option<Frames> = None;
    for frames in done {
        let frames = frames.into_inner().expect("no worker panics holding it").expect("every quarter was computed")?;
        match out.as_mut() {
            Some(all) => all.append(frames)?,
            None => out = Some(frames),
        }
    }
    match out {
        Some(frames) => Ok(frames),
        // No quarter at all: the frames of an empty quarter, so that every table has its columns.
        None => {
            let empty = Quarterly { values: values.clear(), places: &[] };
            one_period(empty, &[], &factors, &orgs, &metrics, &applicable, parts)?.run()
        }
    }
}

/// The peer statistics, trust positions and gap summaries of one chosen peer group (a saved
/// group, docs/RULES.md §10.6): every trust of `values` is in the one group whatever its type,
/// and the tables are those of §4 with the group as the peer group. The indices and the trends
/// do not depend on a peer group and are not computed here; the national medians are the
/// group's values' (the caller puts England's in their place).
///
/// A group is small (at most 50 trusts), so every quarter goes in one query, the peer group's
/// key being the quarter and the metric: the fixed cost of a query is paid once, not per quarter.
pub fn compute_group(reference: &Reference, values: Values) -> PolarsResult<Frames> {
    if values.frame().height() == 0 {
        return compute_parts(reference, values, None, Parts::AllButTrends);
    }
    let orgs = organisations_frame(reference)?;
    let factors = Factors::new(reference, &orgs)?;
    // A peer group is a quarter and a metric, and so is the "national" median's set of values:
    // each is snapped to its own values' places.
    let (period, metric) = (codes(values.frame(), "period_index")?, codes(values.frame(), "metric_id")?);
    let first = period.iter().copied().min().unwrap_or_default();
    let width = reference.metrics.len();
    let key = |i: usize| (period[i] - first) as usize * width + metric[i] as usize;
    let keys = (period.iter().copied().max().unwrap_or_default() - first + 1) as usize * width;
    let value = super::frames::numbers(values.frame().column("value")?.f64()?, 0.0);
    let of_keys = factors.of_keys(&value, &values.places()?, &metric, keys, key);
    let (period_of, metric_of) = (|k: usize| (k / width) as i32 + first, |k: usize| (k % width) as i32);
    let groups = df!(
        "peer" => of_keys.iter().map(|g| i64::from(period_of(g.0)) * (1i64 << 21) + i64::from(metric_of(g.0))).collect::<Vec<_>>(),
        "fq" => of_keys.iter().map(|g| g.1).collect::<Vec<_>>(),
    )?;
    let national = df!(
        "metric_id" => of_keys.iter().map(|g| metric_of(g.0)).collect::<Vec<_>>(),
        "period_index" => of_keys.iter().map(|g| period_of(g.0)).collect::<Vec<_>>(),
        "fn" => of_keys.iter().map(|g| g.1).collect::<Vec<_>>(),
    )?;
    let joined =
        looked_up(looked_up(values.frame().clone(), "org_code", &orgs)?, "metric_id", &metrics_frame(reference)?)?
            .lazy()
            .with_columns([(col("period_index").cast(DataType::Int64) * lit(1i64 << 21)
                + col("metric_id").cast(DataType::Int64))
            .alias("peer")])
            .cache();
    let national = national_medians(joined.clone(), national.lazy());
    let statistics = peer_statistics(joined.clone(), national, groups.lazy()).cache();
    let trust = trust_positions(joined, statistics.clone())?.cache();
    Plans { trends: None, rest: Some(vec![statistics, trust.clone(), gap_summary(trust)]) }.run()
}

/// What a revision of a few trusts' values in one quarter changes there (see `compute_revision`).
pub struct Revision {
    /// The peer statistics, trust positions and gap summaries of the peer groups asked for, and
    /// the indices of the organisations asked for (no trends, no summaries).
    pub tables: Tables,
    /// Each metric's national median (by metric position).
    pub national: Vec<(u32, f64)>,
    /// The trust positions of the peer groups asked for, in the order of `sort` (so each
    /// group's together, in rank order).
    pub positions: Vec<CodedPosition>,
}

/// The tables of one quarter that a revision of a few trusts' values changes, for a refresh:
/// the peer statistics, trust positions and gap summaries of the peer groups of `group_values`
/// (with `national`, each metric's national median: `national_median`), and the indices of the
/// organisations of `org_values`.
///
/// `group_values` holds every value of each peer group to recompute; `org_values` every value
/// of the quarter of each organisation whose indices change (a score depends on the value and
/// the metric's scale only, so an index on its organisation's values only). Each figure is
/// snapped to the places of the values it comes from, which are all here (`Factors`). A group's
/// rows stay in the canonical order of `Values`, which is the order a full recompute adds them
/// up in, so the figures are those of `compute_frames` to the last bit.
pub fn compute_revision(
    reference: &Reference,
    group_values: Values,
    national: Vec<(u32, f64)>,
    org_values: Values,
) -> PolarsResult<Revision> {
    let t0 = std::time::Instant::now();
    let orgs = organisations_frame(reference)?;
    let metrics = metrics_frame(reference)?;
    let factors = Factors::new(reference, &orgs)?;
    let looked_up_all = |v: DataFrame| looked_up(looked_up(v, "org_code", &orgs)?, "metric_id", &metrics);
    let (group_factors, _) = factors.of_quarter(group_values.frame(), &group_values.places()?, false)?;
    let groups = looked_up_all(group_values.frame().clone())?
        .lazy()
        .with_columns([(col("metric_id") * lit(TYPES) + col("trust_type")).alias("peer")]);
    let period = codes(group_values.frame(), "period_index")?.first().copied().unwrap_or_default();
    let medians = df!(
        "metric_id" => national.iter().map(|n| n.0 as i32).collect::<Vec<_>>(),
        "period_index" => vec![period; national.len()],
        "national_median" => national.iter().map(|n| n.1).collect::<Vec<_>>(),
    )?;
    let statistics = peer_statistics(groups, medians.lazy(), group_factors.lazy());
    let scored = looked_up_all(org_values.frame().clone())?.lazy().with_columns([score().alias("score")]);
    let plans = vec![statistics, indices(scored, applicable_frame(reference)?.lazy())];
    let flags = plans[0].get_current_optimizations();
    let t1 = std::time::Instant::now();
    let mut out = LazyFrame::collect_all_with_engine(
        plans.into_iter().map(|p| p.logical_plan).collect(),
        Engine::InMemory,
        flags,
    )?
    .into_iter();
    let t2 = std::time::Instant::now();
    let mut next = || out.next().unwrap_or_default();
    let (statistics, indices) = (next(), next());
    let (positions, gaps) = group_positions(reference, &metrics, &statistics, group_values.frame(), &factors.types)?;
    let t3 = std::time::Instant::now();
    let tables = Tables {
        benchmarks: benchmark_rows(&Reader(&statistics, reference))?,
        indices: index_rows(&Reader(&indices, reference))?,
        gaps,
        ..Tables::default()
    };
    tracing::debug!(
        subset = positions.len(),
        prep_ms = (t1 - t0).as_secs_f64() * 1e3,
        query_ms = (t2 - t1).as_secs_f64() * 1e3,
        positions_ms = (t3 - t2).as_secs_f64() * 1e3,
        rows_ms = t3.elapsed().as_secs_f64() * 1e3,
        "revision"
    );
    Ok(Revision { tables, national, positions })
}

/// The trust positions and gap summaries of some of a quarter's peer groups, from their values
/// and their peer statistics, as `trust_positions` and `gap_summary` compute them for every
/// group: the same operations on the same numbers in the same order, so the same bits (the
/// medians as polars takes them: `median_as_polars`). Outside a query, because a revision's few
/// groups are a small sort each, where the query's window rank and joins cost most of its time.
///
/// `statistics` (`peer_statistics` of the groups) and `values` (every value of the groups);
/// `types`, each organisation's type code. The positions come in the order of `sort`.
fn group_positions(
    reference: &Reference,
    metrics: &DataFrame,
    statistics: &DataFrame,
    values: &DataFrame,
    types: &[i32],
) -> PolarsResult<(Vec<CodedPosition>, Vec<GapRow>)> {
    let r = Reader(statistics, reference);
    let (peer, n, p25, median, p75) = (r.i32("peer")?, r.i64("n")?, r.f64("p25")?, r.f64("median")?, r.f64("p75")?);
    let (exemplar, fq, period) = (r.opt_f64("exemplar_median")?, r.opt_f64("fq")?, r.i32("period_index")?);
    let m = Reader(metrics, reference);
    let (domain, scale_min, scale_max, d) = (m.i32("domain")?, m.f64("scale_min")?, m.f64("scale_max")?, m.f64("d")?);
    let (org, metric) = (codes(values, "org_code")?, codes(values, "metric_id")?);
    let value = super::frames::numbers(values.column("value")?.f64()?, 0.0);
    // Each group's rows, the groups in key order (metric, then type).
    let mut order: Vec<usize> = (0..peer.len()).collect();
    order.sort_unstable_by_key(|&g| peer[g]);
    let mut group_of = vec![usize::MAX; reference.metrics.len() * TYPES as usize];
    for (at, &g) in order.iter().enumerate() {
        group_of[peer[g] as usize] = at;
    }
    let mut rows: Vec<Vec<usize>> = order.iter().map(|&g| Vec::with_capacity(n[g] as usize)).collect();
    for i in 0..value.len() {
        let at = group_of[(metric[i] * TYPES + types[org[i] as usize]) as usize];
        let Some(rows) = rows.get_mut(at) else { return Err(polars_err!(ComputeError: "a value of no group")) };
        rows.push(i);
    }
    let (mut positions, mut gaps) = (Vec::with_capacity(value.len()), Vec::with_capacity(order.len()));
    let mut ranked: Vec<(u64, u32, u32)> = Vec::new();
    for (&g, rows) in order.iter().zip(&rows) {
        let mt = metric[rows[0]] as usize;
        let (d, span) = (d[mt], scale_max[mt] - scale_min[mt]);
        // Best value first, then ODS code order: the order of `sort`, in which each rank is
        // the place of the first of its ties (polars' `Min`, descending). The key orders
        // doubles as IEEE does (`+ 0.0` makes -0 into 0), descending.
        ranked.clear();
        ranked.extend(rows.iter().map(|&i| {
            let bits = (value[i] * d + 0.0).to_bits();
            let ascending = if bits >> 63 == 1 { !bits } else { bits | 1 << 63 };
            (!ascending, reference.org_rank(org[i] as usize), i as u32)
        }));
        ranked.sort_unstable();
        let (nf, f) = (n[g] as f64, fq[g]);
        let mut group_gaps = Vec::with_capacity(ranked.len());
        let mut rank = 0i64;
        for (at, &(key, _, i)) in ranked.iter().enumerate() {
            if at == 0 || key != ranked[at - 1].0 {
                rank = at as i64 + 1;
            }
            let i = i as usize;
            let v = value[i];
            let quartile = if d > 0.0 {
                if v >= p75[g] {
                    1
                } else if v >= median[g] {
                    2
                } else if v >= p25[g] {
                    3
                } else {
                    4
                }
            } else if v <= p25[g] {
                1
            } else if v <= median[g] {
                2
            } else if v <= p75[g] {
                3
            } else {
                4
            };
            let gap_to_exemplar = exemplar[g].map(|e| snapped(d * (e - v), f));
            group_gaps.extend(gap_to_exemplar);
            positions.push(CodedPosition {
                org: org[i] as u32,
                trust_type: types[org[i] as usize] as u32,
                metric: mt as u32,
                domain: domain[mt],
                period: period[g],
                value: v,
                rank,
                percentile: if n[g] == 1 { 100.0 } else { 100.0 * (nf - rank as f64) / (nf - 1.0) },
                quartile,
                score: if d > 0.0 { 100.0 * (v - scale_min[mt]) / span } else { 100.0 * (scale_max[mt] - v) / span },
                gap_to_exemplar,
                gap_to_median: snapped(d * (median[g] - v), f),
                behind_best_practice: gap_to_exemplar.map(|gap| gap > 0.0),
            });
        }
        let behind = group_gaps.iter().filter(|&&gap| gap > 0.0).count() as i64;
        gaps.push(GapRow {
            metric_id: reference.metric_text(mt),
            period: Quarter::from_index(period[g]),
            peer_group: reference.type_text((peer[g] % TYPES) as usize),
            n: rows.len() as i64,
            n_behind: behind,
            share_behind: behind as f64 / rows.len() as f64,
            // The median of gaps with `k + 2` places has at most one place more.
            median_gap: median_as_polars(&mut group_gaps).map(|x| snapped(x, f.map(|f| f * 10.0))),
        });
    }
    Ok((positions, gaps))
}

/// The national median of the metric at position `m` from its values in a quarter (each with
/// its decimal places), as `national_medians` computes it: snapped to the places of them all.
pub fn national_median(reference: &Reference, m: usize, values: &[(f64, u8)]) -> f64 {
    let all = values.iter().fold(scale_places(&reference.metrics[m]), |all, &(v, k)| all.merge(Places::one(k, v)));
    let mut values: Vec<f64> = values.iter().map(|v| v.0).collect();
    snapped(median_as_polars(&mut values).unwrap_or(f64::NAN), all.factor())
}

/// The median as polars' `median` (linear quantile) computes it: the same interpolation, in the
/// same operations, so the same bits.
fn median_as_polars(values: &mut [f64]) -> Option<f64> {
    match values.len() {
        0 => None,
        1 => Some(values[0]),
        len => {
            let float_idx = (len as f64 - 1.0) * 0.5;
            let (idx, top) = (float_idx as usize, float_idx.ceil() as usize);
            // Polars orders floats as IEEE does (-0 equal to 0); there is no NaN among them.
            let order = |a: &f64, b: &f64| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal);
            let (_, &mut lower, rest) = values.select_nth_unstable_by(idx, order);
            if idx == top {
                return Some(lower);
            }
            let upper = rest.iter().copied().min_by(order).expect("a value above the median");
            Some(if lower == upper { lower } else { (float_idx - idx as f64) * (upper - lower) + lower })
        }
    }
}

/// The peer group key (`metric × TYPES + type`) of a metric and a trust type, by position.
pub fn peer_key(metric: u32, trust_type: u32) -> i32 {
    metric as i32 * TYPES + trust_type as i32
}

/// The quarters whose tables a change to the values of `touched` can change: those quarters and,
/// for the trends, the three after each. Sorted, without repeats.
pub fn affected_periods(touched: &[Quarter]) -> Vec<Quarter> {
    let mut out: Vec<Quarter> = touched.iter().flat_map(|&p| (0..=3).map(move |k| p.offset(k))).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The quarters whose values an incremental refresh of `touched` reads: each affected quarter
/// and the three before it.
pub fn window_periods(touched: &[Quarter]) -> Vec<Quarter> {
    let mut out: Vec<Quarter> =
        affected_periods(touched).iter().flat_map(|&p| (-3..=0).map(move |k| p.offset(k))).collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// The plans of one quarter's tables, not yet run: the trends unless `Parts::AllButTrends`,
/// and the others unless `Parts::TrendsOnly`.
struct Plans {
    trends: Option<LazyFrame>,
    /// Peer statistics, trust positions, gaps and (but for a saved group's) indices.
    rest: Option<Vec<LazyFrame>>,
}

impl Plans {
    /// Runs the plans as one query, so that what they share is computed once.
    fn run(self) -> PolarsResult<Frames> {
        let (trends_asked, rest_asked) = (self.trends.is_some(), self.rest.is_some());
        let mut plans: Vec<LazyFrame> = self.trends.into_iter().collect();
        plans.extend(self.rest.into_iter().flatten());
        let Some(first) = plans.first() else { return Ok(Frames::empty()) };
        let flags = first.get_current_optimizations();
        let mut frames = LazyFrame::collect_all_with_engine(
            plans.into_iter().map(|p| p.logical_plan).collect(),
            Engine::InMemory,
            flags,
        )?
        .into_iter();
        let mut next = || frames.next().unwrap_or_default();
        let trends = if trends_asked { next() } else { DataFrame::empty() };
        if !rest_asked {
            return Ok(Frames { trends, ..Frames::empty() });
        }
        let (statistics, trust, gaps, indices) = (next(), next(), next(), next());
        let (benchmarks, trust, gaps) =
            (statistics.drop("peer")?.drop("fq")?, trust.drop("peer")?.drop("fq")?, gaps.drop("peer")?);
        Ok(Frames { benchmarks, trust_benchmarks: trust, indices, trends, gaps })
    }
}

/// The decimal places of a metric's scale bounds.
fn scale_places(m: &crate::domain::Metric) -> Places {
    let mut p = Places::default();
    p.add(m.scale_min);
    p.add(m.scale_max);
    p
}

/// A column of codes (or any `i32`s without nulls).
fn codes(df: &DataFrame, name: &str) -> PolarsResult<Vec<i32>> {
    Ok(super::frames::numbers(df.column(name)?.i32()?, 0))
}

/// The snapping factors of figures (docs/RULES.md §4.7, `exact`): each figure is snapped to the
/// places of the values it comes from and of its metric's scale bounds. A peer group's
/// statistics, its trusts' gaps and its median gap (`fq`) from the group's values; a national
/// median (`fn`) from the metric's values in the quarter; a trend (`ft`) from the trust's own
/// values in its four quarters. A value that is not a decimal so leaves the decisions of other
/// peer groups and other trusts' trends exact, and a refresh recomputes only the figures whose
/// values it changed.
struct Factors {
    /// The places of each metric's scale bounds (`Places::parts`), by metric position.
    scale: Vec<(u8, f64)>,
    /// Each organisation's trust type code, by position.
    types: Vec<i32>,
}

impl Factors {
    fn new(reference: &Reference, orgs: &DataFrame) -> PolarsResult<Self> {
        let scale = reference.metrics.iter().map(|m| scale_places(m).parts()).collect();
        Ok(Factors { scale, types: codes(orgs, "trust_type")? })
    }

    /// The factor of the values of each key (`key(i)`, below `keys`) with their metric's scale
    /// (a key's values are all of one metric): `(key, factor)` for each key with values, in
    /// key order. `places` are the values' places (`each_places`).
    fn of_keys(
        &self,
        value: &[f64],
        places: &[u8],
        metric: &[i32],
        keys: usize,
        key: impl Fn(usize) -> usize,
    ) -> Vec<(usize, Option<f64>)> {
        let (mut most, mut largest, mut metric_of) = (vec![0u8; keys], vec![0f64; keys], vec![u32::MAX; keys]);
        for i in 0..value.len() {
            let k = key(i);
            most[k] = most[k].max(places[i]);
            largest[k] = largest[k].max(value[i].abs());
            metric_of[k] = metric[i] as u32;
        }
        (0..keys)
            .filter(|&k| metric_of[k] != u32::MAX)
            .map(|k| {
                let (p, l) = self.scale[metric_of[k] as usize];
                (k, factor_of(most[k].max(p), largest[k].max(l)))
            })
            .collect()
    }

    /// The factors of one quarter's peer groups (`peer`, `fq`) and, when `national`, of its
    /// metrics (`metric_id`, `period_index`, `fn`).
    fn of_quarter(&self, df: &DataFrame, places: &[u8], national: bool) -> PolarsResult<(DataFrame, DataFrame)> {
        let (org, metric) = (codes(df, "org_code")?, codes(df, "metric_id")?);
        let value = super::frames::numbers(df.column("value")?.f64()?, 0.0);
        let width = self.scale.len();
        let types = TYPES as usize;
        let peer = |i: usize| metric[i] as usize * types + self.types[org[i] as usize] as usize;
        let groups = self.of_keys(&value, places, &metric, width * types, peer);
        let groups = df!(
            "peer" => groups.iter().map(|g| g.0 as i32).collect::<Vec<_>>(),
            "fq" => groups.iter().map(|g| g.1).collect::<Vec<_>>(),
        )?;
        let metrics =
            if national { self.of_keys(&value, places, &metric, width, |i| metric[i] as usize) } else { Vec::new() };
        let period = codes(df, "period_index")?.first().copied().unwrap_or_default();
        let metrics = df!(
            "metric_id" => metrics.iter().map(|g| g.0 as i32).collect::<Vec<_>>(),
            "period_index" => vec![period; metrics.len()],
            "fn" => metrics.iter().map(|g| g.1).collect::<Vec<_>>(),
        )?;
        Ok((groups, metrics))
    }
}

/// One quarter's values (in the canonical order of `Values`) and each one's places.
struct Quarterly<'a> {
    values: DataFrame,
    places: &'a [u8],
}

/// The rows of the values (sorted by quarter, as `index` is) of quarter `q`.
fn quarter_of(index: &[i32], q: i32) -> std::ops::Range<usize> {
    index.partition_point(|&x| x < q)..index.partition_point(|&x| x <= q)
}

/// `current` (one quarter's values in the canonical order of `Values`) with each pair's values
/// in the quarters `before` it (the quarter before first), as `v1`, `v2`, `v3` (null where the
/// pair has none), and the factor that snaps the pair's trend (`ft`, from those values: see
/// `Factors`). Each quarter is in the same order, by metric then organisation, so one merge pass
/// lines each up, where a join would hash both sides.
fn with_lags(current: &Quarterly, before: &[Quarterly], factors: &Factors) -> PolarsResult<DataFrame> {
    fn pairs(df: &DataFrame) -> PolarsResult<Vec<(i32, i32)>> {
        Ok(codes(df, "metric_id")?.into_iter().zip(codes(df, "org_code")?).collect())
    }
    let here = pairs(&current.values)?;
    let value = super::frames::numbers(current.values.column("value")?.f64()?, 0.0);
    // Each pair's values' places and largest magnitude, with its scale's (`Places::parts`).
    let (mut most, mut largest): (Vec<u8>, Vec<f64>) = here
        .iter()
        .zip(value.iter().zip(current.places))
        .map(|(&(m, _), (&v, &k))| {
            let (p, l) = factors.scale[m as usize];
            (k.max(p), v.abs().max(l))
        })
        .unzip();
    let mut lags = Vec::with_capacity(4);
    for k in 1..=3 {
        let mut lag: Vec<Option<f64>> = vec![None; here.len()];
        if let Some(earlier) = before.get(k - 1).filter(|q| q.values.height() > 0) {
            let there = pairs(&earlier.values)?;
            let value = super::frames::numbers(earlier.values.column("value")?.f64()?, 0.0);
            let mut j = 0;
            for (i, key) in here.iter().enumerate() {
                while j < there.len() && there[j] < *key {
                    j += 1;
                }
                if j < there.len() && there[j] == *key {
                    lag[i] = Some(value[j]);
                    most[i] = most[i].max(earlier.places[j]);
                    largest[i] = largest[i].max(value[j].abs());
                }
            }
        }
        lags.push(Column::new(format!("v{k}").into(), lag));
    }
    let ft: Vec<Option<f64>> = most.iter().zip(&largest).map(|(&k, &l)| factor_of(k, l)).collect();
    lags.push(Column::new("ft".into(), ft));
    current.values.hstack(&lags)
}

/// `frame` with the other columns of `table` (one row per reference position, in order, the
/// position in its column `key`) at each row's `key`: a gather, where a join would hash.
/// Every position in `frame` is one the table has (values of unknown organisations or
/// metrics never reach a frame).
fn looked_up(frame: DataFrame, key: &str, table: &DataFrame) -> PolarsResult<DataFrame> {
    let at = frame.column(key)?.cast(&IDX_DTYPE)?;
    let rows = table.drop(key)?.take(at.idx()?)?;
    frame.hstack(rows.columns())
}

/// The tables of one quarter from its values (`current`) and those of the three before
/// (`before`, the quarter before first).
fn one_period(
    current: Quarterly,
    before: &[Quarterly],
    factors: &Factors,
    orgs: &DataFrame,
    metrics: &DataFrame,
    applicable: &LazyFrame,
    parts: Parts,
) -> PolarsResult<Plans> {
    // Within one quarter a peer group is a metric and a trust type: one integer key (`peer`)
    // groups and joins several times faster than the three columns.
    let (groups, national) = match parts {
        Parts::TrendsOnly => (DataFrame::empty(), DataFrame::empty()),
        _ => factors.of_quarter(&current.values, current.places, true)?,
    };
    let current = match parts {
        Parts::AllButTrends => current.values,
        _ => with_lags(&current, before, factors)?,
    };
    let joined = looked_up(looked_up(current, "org_code", orgs)?, "metric_id", metrics)?
        .lazy()
        .with_columns([(col("metric_id") * lit(TYPES) + col("trust_type")).alias("peer")])
        .cache();
    let trends = (parts != Parts::AllButTrends).then(|| trends(joined.clone()));
    let rest = if parts == Parts::TrendsOnly {
        None
    } else {
        let national = national_medians(joined.clone(), national.lazy());
        let statistics = peer_statistics(joined.clone(), national, groups.lazy()).cache();
        let trust = trust_positions(joined, statistics.clone())?.cache();
        Some(vec![statistics, trust.clone(), gap_summary(trust.clone()), indices(trust, applicable.clone())])
    };
    Ok(Plans { trends, rest })
}

/// n, min, quartiles (type 7), max, mean, exemplar count and median per peer group; national
/// median. One quarter's values, with their peer group's key (`peer`). The quantiles are
/// snapped to the decimals they are (`fq`, of each group in `factors`: `peer, fq`), so that
/// decisions against them are exact.
fn peer_statistics(joined: LazyFrame, national: LazyFrame, factors: LazyFrame) -> LazyFrame {
    let fq = || col("fq");
    joined
        .group_by([col("peer")])
        .agg([
            col("metric_id").first().alias("metric_id"),
            col("period_index").first().alias("period_index"),
            col("trust_type").first().alias("trust_type"),
            col("domain").first().alias("domain"),
            len().alias("n"),
            col("value").min().alias("min"),
            col("value").quantile(lit(0.25), QuantileMethod::Linear).alias("p25"),
            col("value").median().alias("median"),
            col("value").quantile(lit(0.75), QuantileMethod::Linear).alias("p75"),
            col("value").max().alias("max"),
            col("value").mean().alias("mean"),
            col("is_exemplar").cast(DataType::Int64).sum().alias("exemplar_n"),
            col("value").filter(col("is_exemplar")).median().alias("exemplar_median"),
        ])
        .join(factors, [col("peer")], [col("peer")], left())
        .with_columns(["p25", "median", "p75", "exemplar_median"].map(|q| snap(col(q), fq()).alias(q)))
        .join(national, [col("metric_id"), col("period_index")], [col("metric_id"), col("period_index")], left())
}

/// The national median of each metric (and quarter) of `joined`, snapped as the quartiles are.
/// By quarter too, for a saved group's tables of every quarter at once (`compute_group`).
fn national_medians(joined: LazyFrame, factors: LazyFrame) -> LazyFrame {
    let keys = || [col("metric_id"), col("period_index")];
    joined
        .group_by(keys())
        .agg([col("value").median().alias("national_median")])
        .join(factors, keys(), keys(), left())
        .select([
            col("metric_id"),
            col("period_index"),
            snap(col("national_median"), col("fn")).alias("national_median"),
        ])
}

/// A trust's score on a metric: where its value lies on the scale, 0 at the worst end and 100
/// at the best.
fn score() -> Expr {
    let (v, span) = (|| col("value"), || col("scale_max") - col("scale_min"));
    when(col("d").gt(lit(0.0)))
        .then(lit(100.0) * (v() - col("scale_min")) / span())
        .otherwise(lit(100.0) * (col("scale_max") - v()) / span())
}

/// Rank, percentile, quartile, gaps and score of each trust within its peer group.
fn trust_positions(joined: LazyFrame, benchmarks: LazyFrame) -> PolarsResult<LazyFrame> {
    let v = || col("value");
    let d = || col("d");
    let n = || col("n").cast(DataType::Float64);
    let rank = (v() * d()).rank(RankOptions { method: RankMethod::Min, descending: true }, None).over([col("peer")])?;
    let higher = when(v().gt_eq(col("p75")))
        .then(lit(1i64))
        .when(v().gt_eq(col("median")))
        .then(lit(2i64))
        .when(v().gt_eq(col("p25")))
        .then(lit(3i64))
        .otherwise(lit(4i64));
    let lower = when(v().lt_eq(col("p25")))
        .then(lit(1i64))
        .when(v().lt_eq(col("median")))
        .then(lit(2i64))
        .when(v().lt_eq(col("p75")))
        .then(lit(3i64))
        .otherwise(lit(4i64));
    let benchmarks = benchmarks.select([
        col("peer"),
        col("n"),
        col("p25"),
        col("median"),
        col("p75"),
        col("exemplar_median"),
        col("fq"),
    ]);
    Ok(joined
        .join(benchmarks, [col("peer")], [col("peer")], inner())
        .with_columns([rank.cast(DataType::Int64).alias("rank")])
        .with_columns([
            when(col("n").eq(lit(1)))
                .then(lit(100.0))
                .otherwise(lit(100.0) * (n() - col("rank").cast(DataType::Float64)) / (n() - lit(1.0)))
                .alias("percentile"),
            when(d().gt(lit(0.0))).then(higher).otherwise(lower).alias("quartile"),
            snap(d() * (col("exemplar_median") - v()), col("fq")).alias("gap_to_exemplar"),
            snap(d() * (col("median") - v()), col("fq")).alias("gap_to_median"),
            score().alias("score"),
        ])
        .with_columns([col("gap_to_exemplar").gt(lit(0.0)).alias("behind_best_practice")])
        .select(cols(&[
            "org_code",
            "trust_type",
            "metric_id",
            "domain",
            "period_index",
            "peer",
            "value",
            "rank",
            "percentile",
            "quartile",
            "score",
            "gap_to_exemplar",
            "gap_to_median",
            "behind_best_practice",
            "fq",
        ])))
}

/// Per metric, quarter and peer group: how many trusts are behind the exemplar median, and by how much.
fn gap_summary(trust: LazyFrame) -> LazyFrame {
    trust.group_by([col("peer")]).agg([
        col("metric_id").first().alias("metric_id"),
        col("period_index").first().alias("period_index"),
        col("trust_type").first().alias("trust_type"),
        len().cast(DataType::Int64).alias("n"),
        col("behind_best_practice").cast(DataType::Int64).sum().alias("n_behind"),
        // The median of gaps with `k + 2` places has at most one place more.
        snap(col("gap_to_exemplar").median(), col("fq").first() * lit(10.0)).alias("median_gap"),
    ])
}

/// Domain indices (mean score, empty under half coverage) and the maturity index (`domain = all`).
fn indices(trust: LazyFrame, applicable: LazyFrame) -> LazyFrame {
    // One quarter: an organisation has one type, so it and the domain are the keys, as one
    // integer (a group-by or join on it is several times faster than on the two columns).
    let key = || col("org_code").cast(DataType::Int64) * lit(1i64 << 21) + col("domain").cast(DataType::Int64);
    let by_domain = trust
        .clone()
        .group_by([key().alias("key")])
        .agg([len().cast(DataType::Int64).alias("n_metrics"), col("score").mean().alias("mean_score")]);
    let org_periods = trust
        .group_by([col("org_code")])
        .agg([col("trust_type").first().alias("trust_type"), col("period_index").first().alias("period_index")]);
    let domains = org_periods
        .join(applicable, [col("trust_type")], [col("trust_type")], inner())
        .with_columns([key().alias("key")])
        .join(by_domain, [col("key")], [col("key")], left())
        .with_columns([col("n_metrics").fill_null(lit(0i64))])
        .with_columns([when((col("n_metrics") * lit(2i64)).gt_eq(col("n_applicable")))
            .then(col("mean_score"))
            .otherwise(lit(NULL).cast(DataType::Float64))
            .alias("domain_index")])
        .select(cols(&INDEX_COLUMNS));
    // Each organisation's domains in order, so that their mean adds up in one order whichever
    // way the joins above put them (and for one organisation as for all: `compute_revision`).
    let maturity = domains
        .clone()
        .sort_by_exprs([col("org_code"), col("domain")], SortMultipleOptions::default())
        .group_by([col("org_code")])
        .agg([
            col("trust_type").first().alias("trust_type"),
            col("period_index").first().alias("period_index"),
            col("domain_index").mean().alias("domain_index"),
            col("n_metrics").sum().alias("n_metrics"),
            col("n_applicable").sum().alias("n_applicable"),
        ])
        .with_columns([lit(ALL_DOMAINS).alias("domain")])
        .select(cols(&INDEX_COLUMNS));
    concat([domains, maturity], UnionArgs::default()).expect("same schema")
}

/// Change on the previous quarter and the least-squares slope over the last four quarters, for
/// the values of one quarter (`joined`, with the same pair's values in the three quarters
/// before as `v1`, `v2` and `v3`: see `with_lags`).
fn trends(joined: LazyFrame) -> LazyFrame {
    let frame = joined.select([
        col("org_code"),
        col("metric_id"),
        col("period_index"),
        col("value").alias("v0"),
        col("v1"),
        col("v2"),
        col("v3"),
        col("d"),
        (col("scale_max") - col("scale_min")).alias("span"),
        col("ft"),
    ]);
    // x is the quarter relative to p (0, −1, −2, −3): the slope is the same as on year × 4 + quarter.
    let present = |k: i32| col(format!("v{k}")).is_not_null().cast(DataType::Float64);
    let y = |k: i32| col(format!("v{k}")).fill_null(lit(0.0));
    let mut n = lit(1.0);
    let mut sx = lit(0.0);
    let mut sxx = lit(0.0);
    let mut sy = col("v0");
    let mut sxy = lit(0.0);
    for k in 1..=3 {
        let x = -f64::from(k);
        n = n + present(k);
        sx = sx + present(k) * lit(x);
        sxx = sxx + present(k) * lit(x * x);
        sy = sy + y(k);
        sxy = sxy + y(k) * lit(x);
    }
    // slope = numerator / denominator, the denominator a positive integer; the label compares the
    // numerator (snapped: a decimal) with the threshold times the denominator, so exactly.
    let ft = || col("ft");
    let numerator = snap(col("n") * col("sxy") - col("sx") * col("sy"), ft());
    let denominator = col("n") * col("sxx") - col("sx") * col("sx");
    frame
        .with_columns([n.alias("n"), sx.alias("sx"), sxx.alias("sxx"), sy.alias("sy"), sxy.alias("sxy")])
        .with_columns([
            snap(col("d") * (col("v0") - col("v1")), ft()).alias("change"),
            (col("d") * numerator).alias("numerator"),
            snap(lit(0.01) * col("span") * denominator.clone(), ft()).alias("threshold"),
            denominator.alias("denominator"),
        ])
        .with_columns([when(col("n").gt_eq(lit(3.0)))
            .then(col("numerator") / col("denominator"))
            .otherwise(lit(NULL).cast(DataType::Float64))
            .alias("slope")])
        .with_columns([when(col("slope").is_null())
            .then(lit(NULL).cast(DataType::String))
            .when(col("numerator").gt(col("threshold")))
            .then(lit("improving"))
            .when(col("numerator").lt(-col("threshold")))
            .then(lit("worsening"))
            .otherwise(lit("stable"))
            .alias("trend")])
        .select(cols(&["org_code", "metric_id", "period_index", "change", "slope", "trend"]))
}

/// A frame's row numbers in the order of `key` (each row's key is its own: the keys are the
/// table's key columns).
fn ordered<K: Ord>(height: usize, key: impl Fn(usize) -> K) -> Vec<usize> {
    let mut order: Vec<usize> = (0..height).collect();
    order.sort_unstable_by_key(|&i| key(i));
    order
}

/// The place of each row's organisation in the order of ODS codes.
fn org_ranks(r: &Reader, org: &super::frames::Coded) -> Vec<u32> {
    (0..r.0.height()).map(|i| r.1.org_rank(org.code(i) as usize)).collect()
}

fn benchmark_rows(r: &Reader) -> PolarsResult<Vec<BenchmarkRow>> {
    let (metric, domain, period, peer) =
        (r.metric("metric_id")?, r.domain("domain")?, r.i32("period_index")?, r.trust_type("trust_type")?);
    let (n, min, p25, median, p75, max, mean) =
        (r.i64("n")?, r.f64("min")?, r.f64("p25")?, r.f64("median")?, r.f64("p75")?, r.f64("max")?, r.f64("mean")?);
    let (exemplar_n, exemplar_median, national) =
        (r.i64("exemplar_n")?, r.opt_f64("exemplar_median")?, r.f64("national_median")?);
    Ok(ordered(r.0.height(), |i| (metric.code(i), period[i], peer.code(i)))
        .into_iter()
        .map(|i| BenchmarkRow {
            metric_id: metric.at(i),
            domain: domain.at(i),
            period: Quarter::from_index(period[i]),
            peer_group: peer.at(i),
            n: n[i],
            min: min[i],
            p25: p25[i],
            median: median[i],
            p75: p75[i],
            max: max[i],
            mean: mean[i],
            exemplar_n: exemplar_n[i],
            exemplar_median: exemplar_median[i],
            national_median: national[i],
        })
        .collect())
}

/// A trust's position on a metric as the pipeline has it: the organisation, type, metric and
/// domain as their positions in the reference (the domain as in `frames`).
#[derive(Debug, Clone, Copy)]
pub struct CodedPosition {
    pub org: u32,
    pub trust_type: u32,
    pub metric: u32,
    pub domain: i32,
    pub period: i32,
    pub value: f64,
    pub rank: i64,
    pub percentile: f64,
    pub quartile: i64,
    pub score: f64,
    pub gap_to_exemplar: Option<f64>,
    pub gap_to_median: f64,
    pub behind_best_practice: Option<bool>,
}

impl CodedPosition {
    pub fn row(&self, reference: &Reference) -> TrustBenchmarkRow {
        TrustBenchmarkRow {
            org_code: reference.org_text(self.org as usize),
            trust_type: reference.type_text(self.trust_type as usize),
            metric_id: reference.metric_text(self.metric as usize),
            domain: if self.domain == ALL_DOMAINS {
                reference.word("all")
            } else {
                reference.domain_text(self.domain as usize)
            },
            period: Quarter::from_index(self.period),
            value: self.value,
            rank: self.rank,
            percentile: self.percentile,
            quartile: self.quartile,
            score: self.score,
            gap_to_exemplar: self.gap_to_exemplar,
            gap_to_median: self.gap_to_median,
            behind_best_practice: self.behind_best_practice,
        }
    }
}

/// The trust positions of a frame in the order of `sort`: by metric, quarter, type, rank and
/// then ODS code.
fn coded_positions(r: &Reader) -> PolarsResult<Vec<CodedPosition>> {
    let (org, tt, metric, domain, period) =
        (r.i32("org_code")?, r.i32("trust_type")?, r.i32("metric_id")?, r.i32("domain")?, r.i32("period_index")?);
    let (value, rank, pct, q, score) =
        (r.f64("value")?, r.i64("rank")?, r.f64("percentile")?, r.i64("quartile")?, r.f64("score")?);
    let (gap_e, gap_m, behind) =
        (r.opt_f64("gap_to_exemplar")?, r.f64("gap_to_median")?, r.opt_bool("behind_best_practice")?);
    // Rows are put in their peer group's bucket (a quarter has a few hundred groups), and each
    // bucket is sorted on one packed key of rank and ODS code order: small sorts of small keys,
    // where one sort of every row on the five columns looks them all up at each comparison.
    let height = r.0.height();
    let group = |i: usize| (metric[i], period[i], tt[i]);
    let mut groups: Vec<(i32, i32, i32)> = (0..height).map(group).collect();
    groups.sort_unstable();
    groups.dedup();
    let mut bucket_of = foldhash::HashMap::default();
    bucket_of.extend(groups.iter().enumerate().map(|(b, g)| (*g, b)));
    let buckets: Vec<usize> = (0..height).map(|i| bucket_of[&group(i)]).collect();
    let mut starts = vec![0usize; groups.len() + 1];
    buckets.iter().for_each(|&b| starts[b + 1] += 1);
    (0..groups.len()).for_each(|b| starts[b + 1] += starts[b]);
    let mut next = starts.clone();
    // A rank is at least 1 and below 2^32 (it counts a peer group's trusts).
    let key = |i: usize| (rank[i].clamp(0, u32::MAX.into()) as u64) << 32 | u64::from(r.1.org_rank(org[i] as usize));
    let mut order = vec![(0u64, 0u32); height];
    for (i, &b) in buckets.iter().enumerate() {
        order[next[b]] = (key(i), i as u32);
        next[b] += 1;
    }
    for b in 0..groups.len() {
        order[starts[b]..starts[b + 1]].sort_unstable();
    }
    Ok(order
        .into_iter()
        .map(|(_, i)| i as usize)
        .map(|i| CodedPosition {
            org: org[i] as u32,
            trust_type: tt[i] as u32,
            metric: metric[i] as u32,
            domain: domain[i],
            period: period[i],
            value: value[i],
            rank: rank[i],
            percentile: pct[i],
            quartile: q[i],
            score: score[i],
            gap_to_exemplar: gap_e[i],
            gap_to_median: gap_m[i],
            behind_best_practice: behind[i],
        })
        .collect())
}

fn trust_rows(r: &Reader) -> PolarsResult<Vec<TrustBenchmarkRow>> {
    Ok(coded_positions(r)?.iter().map(|c| c.row(r.1)).collect())
}

fn index_rows(r: &Reader) -> PolarsResult<Vec<IndexRow>> {
    let (org, tt, period, domain) =
        (r.org("org_code")?, r.trust_type("trust_type")?, r.i32("period_index")?, r.domain("domain")?);
    let (index, n, applicable) = (r.opt_f64("domain_index")?, r.i64("n_metrics")?, r.i64("n_applicable")?);
    // The maturity index (domain code −1) after the domains.
    let o = org_ranks(r, &org);
    Ok(ordered(r.0.height(), |i| (o[i], period[i], domain.code(i) as u32))
        .into_iter()
        .map(|i| IndexRow {
            org_code: org.at(i),
            trust_type: tt.at(i),
            period: Quarter::from_index(period[i]),
            domain: domain.at(i),
            domain_index: index[i],
            n_metrics: n[i],
            n_applicable: applicable[i],
        })
        .collect())
}

fn trend_rows(r: &Reader) -> PolarsResult<Vec<TrendRow>> {
    let (org, metric, period) = (r.org("org_code")?, r.metric("metric_id")?, r.i32("period_index")?);
    let (change, slope) = (r.opt_f64("change")?, r.opt_f64("slope")?);
    let trend = r.0.column("trend")?.str()?.iter().map(|t| t.map(|w| r.1.word(w))).collect::<Vec<_>>();
    let o = org_ranks(r, &org);
    Ok(ordered(r.0.height(), |i| (o[i], metric.code(i), period[i]))
        .into_iter()
        .map(|i| TrendRow {
            org_code: org.at(i),
            metric_id: metric.at(i),
            period: Quarter::from_index(period[i]),
            change: change[i],
            slope: slope[i],
            trend: trend[i].clone(),
        })
        .collect())
}

fn gap_rows(r: &Reader) -> PolarsResult<Vec<GapRow>> {
    let (metric, period, peer) = (r.metric("metric_id")?, r.i32("period_index")?, r.trust_type("trust_type")?);
    let (n, behind, median_gap) = (r.i64("n")?, r.i64("n_behind")?, r.opt_f64("median_gap")?);
    Ok(ordered(r.0.height(), |i| (metric.code(i), period[i], peer.code(i)))
        .into_iter()
        .map(|i| GapRow {
            metric_id: metric.at(i),
            period: Quarter::from_index(period[i]),
            peer_group: peer.at(i),
            n: n[i],
            n_behind: behind[i],
            share_behind: if n[i] == 0 { 0.0 } else { behind[i] as f64 / n[i] as f64 },
            median_gap: median_gap[i],
        })
        .collect())
}

/// A stable order: catalogue order for metrics and domains, then quarter, peer group, trust.
pub fn sort(t: &mut Tables, reference: &Reference) {
    let metric_pos = |id: &str| reference.metric_position(id).unwrap_or(usize::MAX);
    let domain_pos = |id: &str| reference.domains.iter().position(|d| d.domain_id == id).unwrap_or(usize::MAX);
    let type_pos = |t: &str| crate::domain::TrustType::ALL.iter().position(|x| x.as_str() == t).unwrap_or(usize::MAX);
    t.benchmarks.sort_by_cached_key(|r| (metric_pos(&r.metric_id), r.period, type_pos(&r.peer_group)));
    t.gaps.sort_by_cached_key(|r| (metric_pos(&r.metric_id), r.period, type_pos(&r.peer_group)));
    t.trust_benchmarks.sort_by_cached_key(|r| {
        (metric_pos(&r.metric_id), r.period, type_pos(&r.trust_type), r.rank, r.org_code.clone())
    });
    t.indices.sort_by_cached_key(|r| (r.org_code.clone(), r.period, domain_pos(&r.domain)));
    t.trends.sort_by_cached_key(|r| (r.org_code.clone(), metric_pos(&r.metric_id), r.period));
    t.summaries = super::summaries::index_summaries(&t.indices, reference);
}

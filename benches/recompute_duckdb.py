"""The SQL reference for the figures of docs/RULES.md §4, run by DuckDB: every benchmark table computed from the
same CSV files that `exemplar bench recompute` reads. Prints the load and compute times, the peak
memory of the process, and a checksum line per table (row count and column sums) that
benches/recompute.sh compares with the polars side.

Usage: python recompute_duckdb.py VALUES.csv ORGANISATIONS.csv METRICS.csv
"""

import sys
import time

import duckdb

values, organisations, metrics = sys.argv[1:4]
con = duckdb.connect()

LOAD = f"""
CREATE TABLE orgs AS
  SELECT org_code, trust_type, exemplar <> 'none' AS is_exemplar
  FROM read_csv('{organisations}', header = true, all_varchar = true);
CREATE TABLE metrics AS
  SELECT metric_id, domain, CAST(scale_min AS DOUBLE) AS scale_min, CAST(scale_max AS DOUBLE) AS scale_max,
         CASE direction WHEN 'higher_better' THEN 1.0 ELSE -1.0 END AS d, applies_to
  FROM read_csv('{metrics}', header = true, all_varchar = true);
CREATE TABLE vals AS
  SELECT org_code, metric_id,
         CAST(substr(period, 1, 4) AS INTEGER) * 4 + CAST(substr(period, 7, 1) AS INTEGER) AS period_index,
         value
  FROM read_csv('{values}', header = true,
                types = {{'org_code': 'VARCHAR', 'metric_id': 'VARCHAR', 'period': 'VARCHAR', 'value': 'DOUBLE'}});
"""

COMPUTE = """
CREATE TEMP TABLE joined AS
  SELECT v.org_code, v.metric_id, v.period_index, v.value, o.trust_type, o.is_exemplar,
         m.domain, m.scale_min, m.scale_max, m.d
  FROM vals v JOIN orgs o USING (org_code) JOIN metrics m USING (metric_id);

CREATE TABLE benchmarks AS
  WITH nat AS (
    SELECT metric_id, period_index, quantile_cont(value, 0.5) AS national_median
    FROM joined GROUP BY metric_id, period_index
  ), peer AS (
    SELECT metric_id, any_value(domain) AS domain, period_index, trust_type AS peer_group,
           count(*) AS n, min(value) AS min,
           quantile_cont(value, 0.25) AS p25, quantile_cont(value, 0.5) AS median,
           quantile_cont(value, 0.75) AS p75, max(value) AS max, avg(value) AS mean,
           count(*) FILTER (WHERE is_exemplar) AS exemplar_n,
           quantile_cont(value, 0.5) FILTER (WHERE is_exemplar) AS exemplar_median
    FROM joined GROUP BY metric_id, period_index, trust_type
  )
  SELECT peer.*, nat.national_median FROM peer JOIN nat USING (metric_id, period_index);

CREATE TABLE trust_benchmarks AS
  WITH ranked AS (
    SELECT j.*, rank() OVER (PARTITION BY metric_id, period_index, trust_type ORDER BY value * d DESC) AS rank
    FROM joined j
  ), positioned AS (
    SELECT r.org_code, r.trust_type, r.metric_id, r.domain, r.period_index, r.value, r.rank,
           CASE WHEN b.n = 1 THEN 100.0 ELSE 100.0 * (b.n - r.rank) / (b.n - 1) END AS percentile,
           CASE WHEN r.d > 0 THEN
                  CASE WHEN r.value >= b.p75 THEN 1 WHEN r.value >= b.median THEN 2 WHEN r.value >= b.p25 THEN 3 ELSE 4 END
                ELSE
                  CASE WHEN r.value <= b.p25 THEN 1 WHEN r.value <= b.median THEN 2 WHEN r.value <= b.p75 THEN 3 ELSE 4 END
           END AS quartile,
           CASE WHEN r.d > 0 THEN 100.0 * (r.value - r.scale_min) / (r.scale_max - r.scale_min)
                ELSE 100.0 * (r.scale_max - r.value) / (r.scale_max - r.scale_min) END AS score,
           r.d * (b.exemplar_median - r.value) AS gap_to_exemplar,
           r.d * (b.median - r.value) AS gap_to_median
    FROM ranked r JOIN benchmarks b
      ON b.metric_id = r.metric_id AND b.period_index = r.period_index AND b.peer_group = r.trust_type
  )
  -- Behind is decided as with exact decimals (docs/RULES.md §4.7): a gap of float noise around 0
  -- (an exemplar median that averages two values) is 0, not behind.
  SELECT *, round(gap_to_exemplar, 9) > 0 AS behind_best_practice FROM positioned;

CREATE TABLE gaps AS
  SELECT metric_id, period_index, trust_type AS peer_group, count(*) AS n,
         count(*) FILTER (WHERE behind_best_practice) AS n_behind,
         quantile_cont(gap_to_exemplar, 0.5) AS median_gap
  FROM trust_benchmarks GROUP BY metric_id, period_index, trust_type;

CREATE TABLE indices AS
  WITH types(trust_type) AS (VALUES ('acute'), ('mental_health'), ('community'), ('ambulance')),
  applicable AS (
    SELECT t.trust_type, m.domain, count(*) AS n_applicable
    FROM types t JOIN metrics m ON m.applies_to = 'all' OR list_contains(string_split(m.applies_to, ';'), t.trust_type)
    GROUP BY t.trust_type, m.domain
  ), by_domain AS (
    SELECT org_code, trust_type, period_index, domain, count(*) AS n_metrics, avg(score) AS mean_score
    FROM trust_benchmarks GROUP BY org_code, trust_type, period_index, domain
  ), domains AS (
    SELECT op.org_code, op.trust_type, op.period_index, a.domain,
           CASE WHEN coalesce(b.n_metrics, 0) * 2 >= a.n_applicable THEN b.mean_score END AS domain_index,
           coalesce(b.n_metrics, 0) AS n_metrics, a.n_applicable
    FROM (SELECT DISTINCT org_code, trust_type, period_index FROM trust_benchmarks) op
    JOIN applicable a USING (trust_type)
    LEFT JOIN by_domain b USING (org_code, trust_type, period_index, domain)
  )
  SELECT * FROM domains
  UNION ALL
  SELECT org_code, trust_type, period_index, 'all', avg(domain_index), sum(n_metrics), sum(n_applicable)
  FROM domains GROUP BY org_code, trust_type, period_index;

CREATE TABLE trends AS
  -- x is the quarter relative to p (0, -1, -2, -3): small integers keep the least-squares sums
  -- exact, so that slopes on the 0.01 x span boundary classify the same way as exact decimal arithmetic.
  WITH lagged AS (
    SELECT j.org_code, j.metric_id, j.period_index, j.d, j.scale_max - j.scale_min AS span,
           j.value AS v0, l1.value AS v1, l2.value AS v2, l3.value AS v3
    FROM joined j
    LEFT JOIN vals l1 ON l1.org_code = j.org_code AND l1.metric_id = j.metric_id AND l1.period_index = j.period_index - 1
    LEFT JOIN vals l2 ON l2.org_code = j.org_code AND l2.metric_id = j.metric_id AND l2.period_index = j.period_index - 2
    LEFT JOIN vals l3 ON l3.org_code = j.org_code AND l3.metric_id = j.metric_id AND l3.period_index = j.period_index - 3
  ), sums AS (
    SELECT *,
           1.0 + (v1 IS NOT NULL)::DOUBLE + (v2 IS NOT NULL)::DOUBLE + (v3 IS NOT NULL)::DOUBLE AS n,
           -1.0 * (v1 IS NOT NULL)::DOUBLE - 2.0 * (v2 IS NOT NULL)::DOUBLE - 3.0 * (v3 IS NOT NULL)::DOUBLE AS sx,
           1.0 * (v1 IS NOT NULL)::DOUBLE + 4.0 * (v2 IS NOT NULL)::DOUBLE + 9.0 * (v3 IS NOT NULL)::DOUBLE AS sxx,
           v0 + coalesce(v1, 0) + coalesce(v2, 0) + coalesce(v3, 0) AS sy,
           -1.0 * coalesce(v1, 0) - 2.0 * coalesce(v2, 0) - 3.0 * coalesce(v3, 0) AS sxy
    FROM lagged
  ), s AS (
    SELECT org_code, metric_id, period_index, d * (v0 - v1) AS change,
           CASE WHEN n >= 3 THEN d * (n * sxy - sx * sy) / (n * sxx - sx * sx) END AS slope, span
    FROM sums
  )
  SELECT org_code, metric_id, period_index, change, slope,
         -- Decided as with exact decimals (docs/RULES.md §4.7): a slope on the boundary but for
         -- float noise is on it, so stable.
         CASE WHEN slope IS NULL THEN NULL WHEN round(slope - 0.01 * span, 9) > 0 THEN 'improving'
              WHEN round(slope + 0.01 * span, 9) < 0 THEN 'worsening' ELSE 'stable' END AS trend
  FROM s;
"""

SUMS = {
    "benchmarks": ["n", "min", "p25", "median", "p75", "max", "mean", "exemplar_n", "exemplar_median", "national_median"],
    "trust_benchmarks": ["value", "rank", "percentile", "quartile", "score", "gap_to_exemplar", "gap_to_median",
                         "CAST(behind_best_practice AS INTEGER)"],
    "indices": ["domain_index", "n_metrics", "n_applicable"],
    "trends": ["change", "slope", "CAST(trend = 'improving' AS INTEGER)", "CAST(trend = 'worsening' AS INTEGER)"],
    "gaps": ["n", "n_behind", "median_gap"],
}


def peak_mib():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    return 0


start = time.perf_counter()
con.execute(LOAD)
loaded = time.perf_counter()
con.execute(COMPUTE)
computed = time.perf_counter()
print(f"load_s {loaded - start:.3f}")
print(f"compute_s {computed - loaded:.3f}")
print(f"peak_mib {peak_mib()}")
print(f"values {con.execute('SELECT count(*) FROM vals').fetchone()[0]}")
for table, columns in SUMS.items():
    sums = con.execute(f"SELECT count(*), {', '.join(f'sum({c})' for c in columns)} FROM {table}").fetchone()
    print("sum", table, " ".join(repr(float(x or 0)) for x in sums))

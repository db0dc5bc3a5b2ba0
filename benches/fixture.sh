# Sourced by the benchmarks that need a database of a given size (benches/scale.sh,
# benches/api.sh). fixture DIR BIN ORGANISATIONS QUARTERS fills sqlite://DIR/app.db with the
# demo file of that size as one accepted submission (with its revisions, quarters and audit
# entry), by sqlite3 rather than through `exemplar import`: the benchmarks measure the server,
# and benches/ingest.sh measures the import.
fixture() {
  local dir=$1 bin=$2 orgs=$3 quarters=$4 url="sqlite://$1/app.db"
  "$bin" demo --trusts "$orgs" --quarters "$quarters" --seed 1 --end 2026-Q3 -o "$dir/values.csv" \
    --organisations-output "$dir/synthetic.csv" 2>/dev/null
  "$bin" --database-url "$url" export organisations -o /dev/null 2>/dev/null   # creates and migrates the database
  if [ "$(wc -l <"$dir/synthetic.csv")" -gt 1 ]; then "$bin" --database-url "$url" import organisations "$dir/synthetic.csv" >/dev/null 2>&1; fi
  # The demo file also has numerator and denominator columns: sqlite3 reports and drops them.
  sqlite3 "$dir/app.db" 2>/dev/null <<SQL
CREATE TEMP TABLE v (org_code TEXT, metric_id TEXT, period TEXT, value REAL);
.mode csv
.import --skip 1 $dir/values.csv v
INSERT INTO submissions (kind, status, content_hash, submitted_by, submitted_at, source, filename, rows_total, rows_stored, errors)
  SELECT 'metrics', 'accepted', 'bench-fixture', 'bench', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), 'cli', 'values.csv', count(*), count(*), '[]' FROM v;
CREATE TEMP TABLE s AS SELECT max(id) AS id, strftime('%Y-%m-%dT%H:%M:%SZ', 'now') AS at FROM submissions;
INSERT INTO metric_values (period_index, org_code, metric_id, revision, value, comment, submission_id, submitted_at)
  SELECT CAST(substr(period, 1, 4) AS INTEGER) * 4 + CAST(substr(period, 7, 1) AS INTEGER), org_code, metric_id, 1, value, NULL, s.id, s.at FROM v, s
  ORDER BY 1, 2, 3;
INSERT INTO submission_quarters (submission_id, period_index) SELECT DISTINCT submission_id, period_index FROM metric_values;
INSERT INTO audit_log (at, actor, action, subject, submission_id, detail) SELECT s.at, 'bench', 'submission.accept', 'metrics', s.id, 'fixture' FROM s;
SQL
}

# values_file DIR BIN ORGANISATIONS QUARTERS writes DIR/values.csv (the demo file of that size)
# and DIR/organisations.csv and DIR/metrics.csv (the reference trusts with the synthetic ones,
# and the metrics, as the exports write them), for the benchmarks that read files.
values_file() {
  local dir=$1 bin=$2 orgs=$3 quarters=$4 url="sqlite://$1/ref.db"
  "$bin" demo --trusts "$orgs" --quarters "$quarters" --seed 1 --end 2026-Q3 -o "$dir/values.csv" \
    --organisations-output "$dir/synthetic.csv" 2>/dev/null
  rm -f "$dir"/ref.db*
  if [ "$(wc -l <"$dir/synthetic.csv")" -gt 1 ]; then "$bin" --database-url "$url" import organisations "$dir/synthetic.csv" >/dev/null 2>&1; fi
  "$bin" --database-url "$url" export organisations -o "$dir/organisations.csv" 2>/dev/null
  "$bin" --database-url "$url" export metrics -o "$dir/metrics.csv" 2>/dev/null
}

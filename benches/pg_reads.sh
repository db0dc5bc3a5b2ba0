#!/usr/bin/env bash
# The store's reads on PostgreSQL, in the value layout of migration 0008 (one row per quarter,
# organisation and submission, `metric_values` a view) against the layout before it (one row per
# value with its primary key), side by side in one database and one run. The values are the demo
# file's, imported by `exemplar import submissions`, then one trust's revision of ten values in
# the latest quarter; the old layout is a copy of the same rows. Each query runs ROUNDS times in
# turn on each layout; the script prints each one's fastest and median time,
# psql's own start and connection included (the first line measures them alone).
# Usage: benches/pg_reads.sh [ORGANISATIONS:QUARTERS] [ROUNDS]   (default: 1100:30 5)
set -euo pipefail
cd "$(dirname "$0")/.."
PG=${PG-postgres://postgres@127.0.0.1:5432}
size=${1:-1100:30}; rounds=${2:-5}
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/exemplar"
DIR=$(mktemp -d)
DB=exemplar_reads_bench
URL="$PG/$DB"
trap 'rm -rf "$DIR"; psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1' EXIT
"$BIN" demo --trusts "${size%%:*}" --quarters "${size##*:}" --seed 1 --end 2026-Q3 -o "$DIR/demo.csv" \
  --organisations-output "$DIR/synthetic.csv" 2>/dev/null
psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
"$BIN" --database-url "$URL" export organisations -o /dev/null 2>/dev/null
if [ "$(wc -l <"$DIR/synthetic.csv")" -gt 1 ]; then "$BIN" --database-url "$URL" import organisations "$DIR/synthetic.csv" >/dev/null 2>&1; fi
"$BIN" --database-url "$URL" import submissions "$DIR/demo.csv" >/dev/null 2>&1
org=$(awk -F, 'NR == 2 {print $1}' "$DIR/demo.csv")
latest=$(awk -F, 'NR > 1 {print $3}' "$DIR/demo.csv" | sort | tail -1)
{ head -1 "$DIR/demo.csv"; grep "^$org,.*,$latest," "$DIR/demo.csv" | grep -E ',[0-9]+\.[0-9]+$' | head -10 | awk -F, -v OFS=, '{$4 = $4 * 0.9; print}'; } >"$DIR/revision.csv"
"$BIN" --database-url "$URL" import submissions "$DIR/revision.csv" >/dev/null 2>&1
metric=$(awk -F, 'NR == 2 {print $2}' "$DIR/revision.csv")
psql -q "$URL" >/dev/null <<'SQL'
CREATE TABLE old_values AS SELECT * FROM metric_values ORDER BY period_index, org_code, metric_id, revision;
ALTER TABLE old_values ADD PRIMARY KEY (period_index, org_code, metric_id, revision);
CREATE VIEW old_current AS
    SELECT v.org_code, v.metric_id, v.period_index, v.value, v.revision, v.submission_id, v.submitted_at, v.comment
    FROM old_values v
    WHERE NOT EXISTS (SELECT 1 FROM old_values w WHERE w.period_index = v.period_index
        AND w.org_code = v.org_code AND w.metric_id = v.metric_id AND w.revision > v.revision);
VACUUM ANALYZE;
SQL
last=$(psql -At "$URL" -c "SELECT max(id) FROM submissions")
p=$(psql -At "$URL" -c "SELECT max(period_index) FROM submission_quarters")
# name|query, with VALUES and CURRENT standing for the layout's tables; a query of its own for
# the batches where the store reads them natively (src/store/postgres_values.rs: the arrays as
# stored, each key's current revision picked by the reader).
queries=(
  "psql alone (SELECT 1)|SELECT 1"
  "every value, in key order (start-up, recompute)|SELECT org_code, metric_id, period_index, value, revision, submitted_at FROM VALUES ORDER BY period_index, org_code, metric_id, revision|SELECT period_index, org_code, submitted_at, metric_ids, revisions, vals FROM value_batches ORDER BY period_index, org_code"
  "a quarter's current values (an import's revisions)|SELECT org_code, metric_id, value, revision FROM CURRENT WHERE period_index = $p|SELECT period_index, org_code, submitted_at, metric_ids, revisions, vals FROM value_batches WHERE period_index = $p ORDER BY org_code"
  "what the last submission changed (the refresh)|SELECT org_code, metric_id, period_index, value, revision, submitted_at FROM CURRENT WHERE period_index IN (SELECT period_index FROM submission_quarters WHERE submission_id > $((last - 1)) AND submission_id <= $last) AND submission_id > $((last - 1)) AND submission_id <= $last"
  "one value's history (value page)|SELECT period_index, revision, value, comment, submission_id, submitted_at FROM VALUES WHERE period_index IN (SELECT DISTINCT period_index FROM submission_quarters) AND org_code = '$org' AND metric_id = '$metric' ORDER BY period_index DESC, revision DESC"
  "a trust's revised values (trust page)|SELECT v.metric_id, v.period_index, v.revision, v.value, v.comment, v.submission_id, v.submitted_at FROM VALUES v WHERE v.period_index IN (SELECT DISTINCT period_index FROM submission_quarters) AND v.org_code = '$org' AND EXISTS (SELECT 1 FROM VALUES w WHERE w.period_index = v.period_index AND w.org_code = v.org_code AND w.metric_id = v.metric_id AND w.revision > 1) ORDER BY v.metric_id, v.period_index DESC, v.revision DESC"
)
timed() { local s; s=$(date +%s%N); psql -q "$URL" -c "COPY ($1) TO STDOUT" >/dev/null; echo $(( ($(date +%s%N) - s) / 1000000 )); }
stats() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR] = $1} END {printf "%d ms (median %d ms)", a[1], a[int((NR + 1) / 2)]}'; }
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(psql -At "$URL" -c "SELECT count(*) FROM metric_values") value rows; $rounds rounds"
for q in "${queries[@]}"; do
  name=${q%%|*}; sql=${q#*|}; native=""
  if [[ $sql == *"|"* ]]; then native=${sql#*|}; sql=${sql%%|*}; fi
  new=${native:-$sql}; new=${new//VALUES/metric_values}; new=${new//CURRENT/current_values}
  old=${sql//VALUES/old_values}; old=${old//CURRENT/old_current}
  a=""; b=""
  for _ in $(seq "$rounds"); do a="$a $(timed "$new")"; b="$b $(timed "$old")"; done
  echo "$name: batches $(stats "$a"); rows $(stats "$b")"
done

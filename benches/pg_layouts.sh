#!/usr/bin/env bash
# PostgreSQL's own cost of each value-table layout, without the application: `psql \copy` of the
# same demo values into a bare table (the baseline of benches/ingest.sh) and into each layout,
# alternating, in one run. The files are made once, sorted in the key's order.
#   rows   — one row per value with the primary key (period_index, org_code, metric_id, revision),
#            the layout before migration 0008;
#   int8   — one row per value keyed by a single BIGINT made of integer codes (the cheapest B-tree);
#   brin   — one row per value with only a BRIN index on period_index (no per-key look-up);
#   batches — one row per (quarter, organisation), the metrics in arrays (migration 0008).
# Usage: benches/pg_layouts.sh [ORGANISATIONS:QUARTERS] [ROUNDS]   (default: 1100:30 3)
set -euo pipefail
cd "$(dirname "$0")/.."
PG=${PG-postgres://postgres@127.0.0.1:5432}
size=${1:-1100:30}; rounds=${2:-3}
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/exemplar"
DIR=$(mktemp -d)
DB=exemplar_layout_bench
trap 'rm -rf "$DIR"; psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1' EXIT
"$BIN" demo --trusts "${size%%:*}" --quarters "${size##*:}" --seed 1 --end 2026-Q3 -o "$DIR/demo.csv" 2>/dev/null
at=2026-12-03T16:40:00.123456Z
awk -F, -v at="$at" 'NR > 1 {split($3, q, "-Q"); printf "%d\t%s\t%s\t1\t%s\t\\N\t1\t%s\n", q[1] * 4 + q[2] - 1, $1, $2, $4, at}' "$DIR/demo.csv" |
  LC_ALL=C sort -t$'\t' -k1,1n -k2,2 -k3,3 >"$DIR/rows.tsv"
awk -F'\t' -v OFS='\t' '{ if (!($2 in o)) o[$2] = length(o) + 1; if (!($3 in m)) m[$3] = length(m) + 1; print $1 * 2^40 + o[$2] * 2^20 + m[$3], 1, $5, $6, 1 }' "$DIR/rows.tsv" |
  sort -n >"$DIR/int8.tsv"
awk -F'\t' -v OFS='\t' -v at="$at" 'function flush() { if (k != "") print p, o, 1, at, "{" m "}", "{" r "}", "{" v "}", "{" c "}" }
  { key = $1 FS $2; if (key != k) { flush(); k = key; p = $1; o = $2; m = $3; r = 1; v = $5; c = "NULL" } else { m = m "," $3; r = r ",1"; v = v "," $5; c = c ",NULL" } }
  END { flush() }' "$DIR/rows.tsv" >"$DIR/batches.tsv"
psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null 2>&1
run() { local s; s=$(date +%s.%N); psql -q "$PG/$DB" -c "$1" >/dev/null; awk -v a="$(date +%s.%N)" -v b="$s" 'BEGIN {printf "%.2f", a - b}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f s (%.1f×)", a, a / b}'; }
COLS="period_index BIGINT NOT NULL, org_code TEXT NOT NULL, metric_id TEXT NOT NULL, revision BIGINT NOT NULL, value DOUBLE PRECISION NOT NULL, comment TEXT, submission_id BIGINT NOT NULL, submitted_at TEXT NOT NULL"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(($(wc -l <"$DIR/demo.csv") - 1)) values"
for round in $(seq "$rounds"); do
  psql -q "$PG/$DB" >/dev/null <<SQL
SET client_min_messages = warning;
DROP TABLE IF EXISTS bare, per_value, int8_key, brin_only, batches;
CREATE TABLE bare (org_code TEXT, metric_id TEXT, period TEXT, value DOUBLE PRECISION);
CREATE TABLE per_value ($COLS, PRIMARY KEY (period_index, org_code, metric_id, revision));
CREATE TABLE int8_key (key BIGINT NOT NULL, revision INT NOT NULL, value DOUBLE PRECISION NOT NULL, comment TEXT, submission_id BIGINT NOT NULL, PRIMARY KEY (key, revision));
CREATE TABLE brin_only ($COLS);
CREATE INDEX ON brin_only USING brin (period_index);
CREATE TABLE batches (period_index BIGINT NOT NULL, org_code TEXT NOT NULL, submission_id BIGINT NOT NULL, submitted_at TEXT NOT NULL,
  metric_ids TEXT[] NOT NULL, revisions BIGINT[] NOT NULL, vals DOUBLE PRECISION[] NOT NULL, comments TEXT[] NOT NULL,
  PRIMARY KEY (period_index, org_code, submission_id));
CHECKPOINT;
SQL
  bare=$(run "\\copy bare FROM '$DIR/demo.csv' WITH (FORMAT csv, HEADER true)")
  echo "round $round: bare $bare s; rows $(ratio "$(run "\\copy per_value FROM '$DIR/rows.tsv'")" "$bare");" \
    "int8 $(ratio "$(run "\\copy int8_key FROM '$DIR/int8.tsv'")" "$bare"); brin $(ratio "$(run "\\copy brin_only FROM '$DIR/rows.tsv'")" "$bare");" \
    "batches $(ratio "$(run "\\copy batches FROM '$DIR/batches.tsv'")" "$bare")"
done

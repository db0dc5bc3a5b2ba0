#!/usr/bin/env bash
# NHS App uptake at national scale, on both backends: a file of every sub-ICB location × MONTHS
# months × the 16 measures × the 9 age bands (96 months: about 1.5 million counts), imported with
# `exemplar import uptake` (validated whole, stored as revisions with the audit entry) against the
# database's own loader into a bare table (`sqlite3 .import`, `psql \copy`), then the figures
# (pooling, rates, running totals, shares) computed and written: `exemplar export app_uptake`.
# Usage: benches/uptake.sh [MONTHS]   (PG=postgres://… for the server, PG= to skip PostgreSQL)
set -euo pipefail
cd "$(dirname "$0")/.."
MONTHS=${1:-96}
PG=${PG-postgres://postgres@127.0.0.1:5432}
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/exemplar"
DIR=$(mktemp -d)
DB=exemplar_uptake_bench
trap 'rm -rf "$DIR"; [ -n "$PG" ] && psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1' EXIT
secs() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN {printf "%.2f", a - b}'; }
python3 - "$MONTHS" "$DIR/uptake.csv" <<'PY'
import csv, sys
months, out = int(sys.argv[1]), sys.argv[2]
areas = [r["area_code"] for r in csv.DictReader(open("data/app_areas.csv"))]
measures = [r["measure"] for r in csv.DictReader(open("data/app_measures.csv"))]
bands = ["all", "13-15", "16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+"]
with open(out, "w") as f:
    f.write("area_code,month,measure,value,age_band\n")
    for a, area in enumerate(areas):
        for m in range(months):
            month = f"{2018 + (8 + m) // 12}-{(8 + m) % 12 + 1:02d}"
            for k, measure in enumerate(measures):
                for b, band in enumerate(bands):
                    population = 100000 + 1000 * a + 10 * b
                    value = population if measure == "population_13_plus" else (a * 7 + m * 13 + k * 17 + b) % 997
                    f.write(f"{area},{month},{measure},{value},{band}\n")
PY
rows=$(($(wc -l <"$DIR/uptake.csv") - 1))
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $rows counts ($MONTHS months)"
printf '%-10s %-12s %-14s %-10s %s\n' backend "loader (s)" "import (s)" "import ÷" "figures: export app_uptake (s)"
# SQLite
sqlite3 "$DIR/bare.db" "CREATE TABLE u (area_code TEXT, month TEXT, measure TEXT, value REAL, age_band TEXT)"
t=$(date +%s.%N); sqlite3 "$DIR/bare.db" ".mode csv" ".import --skip 1 $DIR/uptake.csv u"; loader=$(secs "$t")
"$BIN" --database-url "sqlite://$DIR/app.db" export areas -o /dev/null 2>/dev/null
t=$(date +%s.%N); "$BIN" --database-url "sqlite://$DIR/app.db" import uptake "$DIR/uptake.csv" >/dev/null 2>&1; import=$(secs "$t")
t=$(date +%s.%N); "$BIN" --database-url "sqlite://$DIR/app.db" export app_uptake -o "$DIR/out.csv" 2>/dev/null; figures=$(secs "$t")
printf '%-10s %-12s %-14s %-10s %s (%s rows)\n' sqlite "$loader" "$import" "$(awk -v a="$import" -v b="$loader" 'BEGIN {printf "%.1f", a / b}')" "$figures" "$(($(wc -l <"$DIR/out.csv") - 1))"
if [ -n "$PG" ]; then
  psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB" >/dev/null
  psql -q "$PG/$DB" -c "CREATE TABLE u (area_code TEXT, month TEXT, measure TEXT, value DOUBLE PRECISION, age_band TEXT)" >/dev/null
  t=$(date +%s.%N); psql -q "$PG/$DB" -c "\\copy u FROM '$DIR/uptake.csv' CSV HEADER" >/dev/null; loader=$(secs "$t")
  "$BIN" --database-url "$PG/$DB" export areas -o /dev/null 2>/dev/null
  t=$(date +%s.%N); "$BIN" --database-url "$PG/$DB" import uptake "$DIR/uptake.csv" >/dev/null 2>&1; import=$(secs "$t")
  t=$(date +%s.%N); "$BIN" --database-url "$PG/$DB" export app_uptake -o "$DIR/out.csv" 2>/dev/null; figures=$(secs "$t")
  printf '%-10s %-12s %-14s %-10s %s\n' postgres "$loader" "$import" "$(awk -v a="$import" -v b="$loader" 'BEGIN {printf "%.1f", a / b}')" "$figures"
fi

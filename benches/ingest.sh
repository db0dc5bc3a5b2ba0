#!/usr/bin/env bash
# Bulk ingest, side by side in one run, on both backends: `exemplar import submissions` (every row
# validated, stored as a revision with its audit entry and committed: the time it prints; and the
# whole process's time, start-up and migrations included)
# against the database's own loader on the same file into a bare table: `sqlite3 .import`, and
# `psql \copy` on the machine's PostgreSQL (PG=postgres://… to change it; PG= to skip).
# Usage: benches/ingest.sh [ORGANISATIONS:QUARTERS ...]   (default: 202:11 1100:30)
set -euo pipefail
cd "$(dirname "$0")/.."
PG=${PG-postgres://postgres@127.0.0.1:5432}
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/exemplar"
DIR=$(mktemp -d)
DB=exemplar_ingest_bench
trap 'rm -rf "$DIR"; [ -n "$PG" ] && psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1' EXIT
secs() { awk -v a="$(date +%s.%N)" -v b="$1" 'BEGIN {print a - b}'; }
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
printf '%-10s %-8s %-12s %-12s %-12s %-10s %-10s %s\n' rows backend "loader (s)" "commit (s)" "process (s)" "commit ÷" "process ÷" "exemplar peak RSS"
for size in "${@:-202:11 1100:30}"; do
  for s in $size; do
    orgs=${s%%:*}; quarters=${s##*:}
    "$BIN" demo --trusts "$orgs" --quarters "$quarters" --seed 1 --end 2026-Q3 -o "$DIR/demo.csv" \
      --organisations-output "$DIR/synthetic.csv" 2>/dev/null
    rows=$(($(wc -l <"$DIR/demo.csv") - 1))
    backends="sqlite"; [ -n "$PG" ] && backends="sqlite postgres"
    for backend in $backends; do
      if [ "$backend" = sqlite ]; then
        rm -f "$DIR"/bare.db "$DIR"/app.db*
        start=$(date +%s.%N)
        sqlite3 "$DIR/bare.db" "CREATE TABLE v (org_code TEXT, metric_id TEXT, period TEXT, value REAL);" ".mode csv" ".import --skip 1 $DIR/demo.csv v"
        loader=$(secs "$start")
        url="sqlite://$DIR/app.db"
      else
        psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1
        psql -q "$PG/postgres" -c "CREATE DATABASE $DB" >/dev/null
        psql -q "$PG/$DB" -c "CREATE TABLE bare (org_code TEXT, metric_id TEXT, period TEXT, value DOUBLE PRECISION)" >/dev/null
        start=$(date +%s.%N)
        psql -q "$PG/$DB" -c "\\copy bare FROM '$DIR/demo.csv' WITH (FORMAT csv, HEADER true)" >/dev/null
        loader=$(secs "$start")
        psql -q "$PG/$DB" -c "DROP TABLE bare" >/dev/null
        url="$PG/$DB"
      fi
      # The database and its organisations first, untimed.
      "$BIN" --database-url "$url" export organisations -o /dev/null 2>/dev/null
      if [ "$(wc -l <"$DIR/synthetic.csv")" -gt 1 ]; then "$BIN" --database-url "$url" import organisations "$DIR/synthetic.csv" >/dev/null 2>&1; fi
      /usr/bin/time -f '%e %M' -o "$DIR/time" "$BIN" --database-url "$url" import submissions "$DIR/demo.csv" >"$DIR/out" 2>&1
      read -r app rss <"$DIR/time"
      commit=$(awk '/committed in/ {print $(NF-1)}' "$DIR/out")
      printf '%-10s %-8s %-12.2f %-12.2f %-12.2f %-10.1f %-10.1f %s MiB\n' "$rows" "$backend" "$loader" "$commit" "$app" \
        "$(awk -v a="$commit" -v b="$loader" 'BEGIN {print a / b}')" "$(awk -v a="$app" -v b="$loader" 'BEGIN {print a / b}')" "$((rss / 1024))"
    done
  done
done

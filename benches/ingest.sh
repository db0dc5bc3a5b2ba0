#!/usr/bin/env bash
# Bulk ingest, side by side in one run: `exemplar import submissions` (every row validated, stored
# as revisions with the audit entry, then the benchmarks recomputed) against `sqlite3 .import` of
# the same file into a bare table. Usage: benches/ingest.sh [quarters ...]   (default: 4 12 48)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3 >/dev/null; }
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/exemplar"
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
printf '%-10s %-10s %-14s %-22s %-14s %s\n' quarters rows "sqlite3 (s)" "exemplar import (s)" ratio "exemplar peak RSS"
for Q in "${@:-4 12 48}"; do
  for q in $Q; do
    "$BIN" demo --quarters "$q" --seed 1 --end 2026-Q3 -o "$DIR/demo.csv" 2>/dev/null
    rows=$(($(wc -l <"$DIR/demo.csv") - 1))
    rm -f "$DIR/bare.db"
    start=$(date +%s.%N)
    sqlite3 "$DIR/bare.db" "CREATE TABLE v (org_code TEXT, metric_id TEXT, period TEXT, value REAL);" ".mode csv" ".import --skip 1 $DIR/demo.csv v"
    bare=$(awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN {print a - b}')
    rm -f "$DIR"/app.db*
    "$BIN" --database-url "sqlite://$DIR/app.db" export organisations >/dev/null   # creates the database, untimed
    /usr/bin/time -f '%e %M' -o "$DIR/time" "$BIN" --database-url "sqlite://$DIR/app.db" import submissions "$DIR/demo.csv" >/dev/null
    read -r app rss <"$DIR/time"
    printf '%-10s %-10s %-14.2f %-22.2f %-14.1f %s MiB\n' "$q" "$rows" "$bare" "$app" "$(awk -v a="$app" -v b="$bare" 'BEGIN {print a / b}')" "$((rss / 1024))"
  done
done

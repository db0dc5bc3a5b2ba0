#!/usr/bin/env bash
# Releases at national scale: publishing, and downloads of a release's trust_benchmarks (the
# first, which recomputes the release from the revision history, and a repeat, from the
# server's cache) against the provisional download, and an as_of download a year back — side
# by side in one run. Usage: CARGO_TARGET_DIR=… benches/releases.sh [trusts] [quarters]
set -euo pipefail
cd "$(dirname "$0")/.."
TRUSTS="${1:-1100}"; QUARTERS="${2:-30}"; PORT=18097
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/exemplar"
DIR=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$DIR"' EXIT
export DATABASE_URL="sqlite://$DIR/bench.db"
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $TRUSTS organisations x $QUARTERS quarters"
"$BIN" demo --trusts "$TRUSTS" --quarters "$QUARTERS" --organisations-output "$DIR/orgs.csv" -o "$DIR/values.csv" 2>/dev/null
"$BIN" import organisations "$DIR/orgs.csv" >/dev/null
/usr/bin/time -f "import: %e s, %M KiB peak" "$BIN" import submissions "$DIR/values.csv" >/dev/null
echo "values: $(($(wc -l <"$DIR/values.csv") - 1))"
# As if the quarters before the last four had been submitted 13 months ago, so that a moment a
# year back holds most of the values.
python3 - "$DIR/bench.db" <<'PY'
import sqlite3, sys, datetime
db = sqlite3.connect(sys.argv[1])
then = (datetime.datetime.utcnow() - datetime.timedelta(days=395)).strftime("%Y-%m-%dT%H:%M:%SZ")
last = db.execute("SELECT MAX(period_index) FROM metric_values").fetchone()[0]
db.execute("UPDATE metric_values SET submitted_at = ? WHERE period_index < ?", (then, last - 3))
db.commit()
PY
printf 'analyst password 12345\n' | "$BIN" user add --email bench@example.org --role analyst >/dev/null
TOKEN=$("$BIN" token create --email bench@example.org | awk '{print $NF}' | tail -1)
QUARTER=$(tail -1 "$DIR/values.csv" | cut -d, -f3)
"$BIN" serve --addr 127.0.0.1:$PORT --no-demo >"$DIR/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 600); do curl -fs "http://127.0.0.1:$PORT/healthz" | grep -q '"ready"' && break; sleep 1; done
get() { curl -s -o "$DIR/out" -w "%{time_total}" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT$1"; }
/usr/bin/time -f "publish $QUARTER: %e s, %M KiB peak" "$BIN" publish "$QUARTER" --note "Benchmark" --yes >/dev/null
P1=$(get "/export/trust_benchmarks.csv"); P2=$(get "/export/trust_benchmarks.csv")
R1=$(get "/export/trust_benchmarks.csv?release=latest"); R2=$(get "/export/trust_benchmarks.csv?release=latest")
BYTES=$(wc -c <"$DIR/out")
YEAR_AGO=$(date -u -d '1 year ago' +%Y-%m-%dT%H:%M:%SZ)
A1=$(get "/export/trust_benchmarks.csv?as_of=$YEAR_AGO")
awk -v p1="$P1" -v p2="$P2" -v r1="$R1" -v r2="$R2" -v a1="$A1" -v bytes="$BYTES" 'BEGIN {
  printf "trust_benchmarks.csv (%d bytes)\n", bytes
  printf "  provisional       %7.2f s  (repeat %.2f s)\n", p1, p2
  printf "  release, first    %7.2f s  = %.1f x provisional\n", r1, r1 / p2
  printf "  release, repeat   %7.2f s  = %.2f x provisional\n", r2, r2 / p2
  printf "  as_of a year back %7.2f s  = %.1f x provisional\n", a1, a1 / p2
}'
echo "server memory (RSS): $(ps -o rss= -p $SERVER | awk '{printf "%.0f MiB", $1/1024}')"

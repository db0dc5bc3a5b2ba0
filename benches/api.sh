#!/usr/bin/env bash
# The datasets API against the plain export, at national scale (SQLite, release build):
# trust_benchmarks (one row per trust, metric and quarter) as JSON over every page, as CSV pages
# and as Parquet pages through /api/v1/datasets, and as one CSV from /export, in the same run.
# Prints, for each, the wall time, rows, bytes and the server's peak resident memory.
# Usage: benches/api.sh [ORGANISATIONS:QUARTERS]   (default 1100:30, about 1.5 million values).
# LIMIT (default 10000) is the page size.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/fixture.sh
LIMIT=${LIMIT:-10000}; PORT=18099; SIZE=${1:-1100:30}
for tool in sqlite3 curl python3; do command -v $tool >/dev/null || { apt-get update -qq && apt-get install -y -qq $tool >/dev/null; }; done
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/exemplar"
DIR=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$DIR"' EXIT
orgs=${SIZE%%:*}; quarters=${SIZE##*:}
fixture "$DIR" "$BIN" "$orgs" "$quarters"
url="sqlite://$DIR/app.db"
echo "bench-password" | "$BIN" --database-url "$url" user add --email analyst@bench.example --role analyst >/dev/null 2>&1
TOKEN=$("$BIN" --database-url "$url" token create --email analyst@bench.example --scope read 2>/dev/null | awk '{print $NF}' | tail -1)
EXEMPLAR_API_BURST=1000000 EXEMPLAR_API_REFILL_MS=1 "$BIN" --database-url "$url" serve --no-demo --addr 127.0.0.1:$PORT >"$DIR/serve.log" 2>&1 &
SERVER=$!
until curl -fs "http://127.0.0.1:$PORT/healthz" 2>/dev/null | grep -q '"ready"'; do sleep 0.5; done
values=$(sqlite3 "$DIR/app.db" "SELECT count(*) FROM current_values")
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $values values; page size $LIMIT"
# The server's resident memory sampled every 0.1 s while a measurement runs; its peak in MB.
peak() { local max=0 r; while kill -0 "$1" 2>/dev/null; do r=$(ps -o rss= -p $SERVER); [ "$r" -gt "$max" ] && max=$r; sleep 0.1; done; echo $((max / 1024)); }
measure() { # name, then the command to time
  local name=$1; shift
  local start end; start=$(date +%s.%N)
  "$@" >"$DIR/out.txt" &
  local job=$!
  local mem; mem=$(peak $job)
  wait $job
  end=$(date +%s.%N)
  awk -v n="$name" -v a="$start" -v b="$end" -v m="$mem" -v o="$(cat "$DIR/out.txt")" \
    'BEGIN {printf "%-34s %8.2f s   %s   peak RSS %d MB\n", n, b - a, o, m}'
}
export PORT TOKEN LIMIT
pages() { # accept header; follows Link rel=next; prints rows (for JSON) and bytes
  python3 - "$1" <<'PY'
import os, re, sys, json, urllib.request
accept = sys.argv[1]
base = f"http://127.0.0.1:{os.environ['PORT']}"
url = f"{base}/api/v1/datasets/trust_benchmarks?limit={os.environ['LIMIT']}"
rows = size = pages = 0
while url:
    req = urllib.request.Request(url, headers={"Authorization": "Bearer " + os.environ["TOKEN"], "Accept": accept})
    with urllib.request.urlopen(req) as r:
        body = r.read(); link = r.headers.get("Link") or ""
    size += len(body); pages += 1
    if accept == "application/json":
        rows += len(json.loads(body)["rows"])
    m = re.search(r"<([^>]+)>; rel=\"next\"", link)
    url = base + m.group(1) if m else None
print(f"{pages} pages, {rows or '-'} rows, {size / 1e6:.1f} MB")
PY
}
export_csv() {
  curl -fs -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/export/trust_benchmarks.csv" -o "$DIR/export.csv"
  echo "1 file, $(($(wc -l <"$DIR/export.csv") - 1)) rows, $(awk -v b="$(stat -c %s "$DIR/export.csv")" 'BEGIN {printf "%.1f", b / 1e6}') MB"
}
echo "server at rest: $(ps -o rss= -p $SERVER | awk '{printf "%d", $1 / 1024}') MB"
measure "/export/trust_benchmarks.csv" export_csv
measure "API JSON, every page" pages application/json
measure "API CSV, every page" pages text/csv
measure "API Parquet, every page" pages application/vnd.apache.parquet

#!/usr/bin/env bash
# Page latency and throughput with wrk on loopback, against a release build with the demo data,
# signed in as the demo analyst. Usage: benches/pages.sh [connections] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
CONNS="${1:-32}"; SECS="${2:-10}"; PORT=18099
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet
DIR=$(mktemp -d)
"${CARGO_TARGET_DIR:-target}/release/exemplar" --database-url "sqlite://$DIR/bench.db" serve --addr 127.0.0.1:$PORT >"$DIR/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 1; done
curl -s -c "$DIR/cj" -b "$DIR/cj" "http://127.0.0.1:$PORT/sign-in" -o "$DIR/si.html"
CSRF=$(grep -o 'name="csrf_token" value="[^"]*"' "$DIR/si.html" | head -1 | sed 's/.*value="//; s/"$//')
curl -s -c "$DIR/cj" -b "$DIR/cj" -o /dev/null -d "email=analyst@example.org&password=exemplar-demo&csrf_token=$CSRF&next=/" "http://127.0.0.1:$PORT/sign-in"
COOKIE=$(awk '/exemplar_session/ {print $7}' "$DIR/cj")
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $CONNS connections, ${SECS}s each"
for path in /healthz / /metrics/digital_leadership_capability /trusts/RGT; do
  printf '%-42s ' "$path"
  wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -H "Cookie: exemplar_session=$COOKIE" "http://127.0.0.1:$PORT$path" |
    awk '/ 50%/ {p50=$2} / 99%/ {p99=$2} /Requests\/sec/ {rps=$2} /Non-2xx/ {bad=$5} END {printf "p50 %s  p99 %s  %s req/s %s\n", p50, p99, rps, (bad ? "NON-2XX " bad : "")}'
done
echo "server memory (RSS): $(ps -o rss= -p $SERVER | awk '{printf "%.0f MiB", $1/1024}')"

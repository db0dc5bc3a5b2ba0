#!/usr/bin/env bash
# The server at national scale, one size after another (SQLite): start-up, pages under load,
# memory, and how fresh the figures are after a submission.
# Usage: benches/scale.sh [ORGANISATIONS:QUARTERS ...]   (default: 202:11 1100:30 7000:31, about
# 0.1, 1.5 and 10 million values). CONNS (default 64) and SECS (default 10) set the load.
#
# The database of each size is filled by sqlite3 from the demo file (one accepted submission
# with its revisions and audit entry), not through `exemplar import`: this measures the server,
# and benches/ingest.sh measures the import.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/fixture.sh
CONNS=${CONNS:-64}; SECS=${SECS:-10}; PORT=18097
for tool in wrk sqlite3 curl; do command -v $tool >/dev/null || { apt-get update -qq && apt-get install -y -qq $tool >/dev/null; }; done
# BIN=path measures that binary; otherwise the release build of this tree.
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN="$(pwd)/${CARGO_TARGET_DIR:-target}/release/exemplar"
  [ -x "$BIN" ] || BIN="${CARGO_TARGET_DIR:-target}/release/exemplar"
fi
DIR=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$DIR"' EXIT
now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN {printf "%.2f", a - b}'; }
start_server() {
  local started; started=$(now)
  "$BIN" --database-url "sqlite://$DIR/app.db" serve --no-demo --addr 127.0.0.1:$PORT >>"$DIR/serve.log" 2>&1 &
  SERVER=$!
  until curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; do sleep 0.05; done
  ANSWERED=$(since "$started")
  until curl -fs "http://127.0.0.1:$PORT/healthz" | grep -q '"ready"'; do sleep 0.2; done
  READY=$(since "$started")
}
stop_server() { kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=; }
rss() { ps -o rss= -p "$SERVER" | awk '{printf "%d", $1 / 1024}'; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; wrk $CONNS connections, ${SECS}s per page"
for size in "${@:-202:11 1100:30 7000:31}"; do
  for s in $size; do
    orgs=${s%%:*}; quarters=${s##*:}
    rm -f "$DIR"/app.db* "$DIR/serve.log"
    fixture "$DIR" "$BIN" "$orgs" "$quarters"
    url="sqlite://$DIR/app.db"
    values=$(sqlite3 "$DIR/app.db" "SELECT count(*) FROM current_values")
    echo "bench-password" | "$BIN" --database-url "$url" user add --email analyst@bench.example --role analyst >/dev/null 2>&1
    echo "bench-password" | "$BIN" --database-url "$url" user add --email trust@bench.example --role trust --org RGT >/dev/null 2>&1
    TOKEN=$("$BIN" --database-url "$url" token create --email trust@bench.example 2>/dev/null | awk '{print $NF}' | tail -1)

    start_server; first_answer=$ANSWERED; first_ready=$READY; stop_server
    start_server; again_answer=$ANSWERED; again_ready=$READY
    ready_rss=$(rss)

    # Fresh after a submission: one trust's values of one quarter, through the API.
    fresh=""
    for period in 2026-Q3 2025-Q1 2024-Q2; do
      sleep 5   # the previous refresh's snapshot write, in the background, is done
      # Other valid values: the demo's with another seed, for RGT in that quarter.
      "$BIN" demo --quarters 1 --end "$period" --seed 99 2>/dev/null | awk -F, 'NR == 1 || $1 == "RGT"' >"$DIR/sub.csv"
      api=$(curl -s -o "$DIR/api.json" -w '%{http_code} %{time_total}' -H "Authorization: Bearer $TOKEN" -H "Content-Type: text/csv" \
        --data-binary @"$DIR/sub.csv" "http://127.0.0.1:$PORT/api/v1/submissions")
      ms=$(sed 's/\x1b\[[0-9;]*m//g' "$DIR/serve.log" | grep "the figures are refreshed" | tail -1 | grep -o 'milliseconds=[0-9.]*' | cut -d= -f2)
      fresh="$fresh $period: $(($(wc -l <"$DIR/sub.csv") - 1)) rows, API answered ${api#* }s (HTTP ${api%% *}) including the refresh of ${ms} ms;"
    done

    curl -s -c "$DIR/cj" -b "$DIR/cj" "http://127.0.0.1:$PORT/sign-in" -o "$DIR/si.html"
    CSRF=$(grep -o 'name="csrf_token" value="[^"]*"' "$DIR/si.html" | head -1 | sed 's/.*value="//; s/"$//')
    curl -s -c "$DIR/cj" -b "$DIR/cj" -o /dev/null -d "email=analyst@bench.example&password=bench-password&csrf_token=$CSRF&next=/" "http://127.0.0.1:$PORT/sign-in"
    COOKIE=$(awk '/exemplar_session/ {print $7}' "$DIR/cj")
    echo
    echo "== $values values ($orgs organisations x $quarters quarters)"
    echo "start-up, no snapshot: answers in ${first_answer}s, figures ready in ${first_ready}s"
    echo "start-up, from the snapshot: answers in ${again_answer}s, figures ready in ${again_ready}s; RSS ${ready_rss} MiB"
    echo "fresh after a submission:$fresh"
    # The base is a plain /healthz (no cookie); every other line is signed in, and asks for
    # gzip as browsers do, but for the lines marked "no gzip".
    base=""
    for path in plain:/healthz /healthz / /metrics/digital_leadership_capability /trusts/RGT \
      identity:/ identity:/metrics/digital_leadership_capability identity:/trusts/RGT; do
      header="Cookie: exemplar_session=$COOKIE"; accept="Accept-Encoding: gzip, deflate, br, zstd"
      case $path in
        plain:*) path=${path#plain:}; header="X-Plain: 1"; accept="X-Plain: 1"; label="$path (not signed in)";;
        identity:*) path=${path#identity:}; accept="Accept-Encoding: identity"; label="$path (no gzip)";;
        *) label="$path";;
      esac
      bytes=$(curl -s -o /dev/null -w '%{size_download}' -H "$header" -H "$accept" "http://127.0.0.1:$PORT$path")   # builds the page once
      label="$label, $((bytes / 1024)) KB"
      line=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -H "$header" -H "$accept" "http://127.0.0.1:$PORT$path" |
        awk '/ 50%/ {p50=$2} / 99%/ {p99=$2} /Requests\/sec/ {rps=$2} /Non-2xx/ {bad=$5} END {print p50, p99, rps, (bad ? bad : 0)}')
      read -r p50 p99 rps bad <<<"$line"
      [ -z "$base" ] && base=$rps
      printf '  %-58s p50 %-9s p99 %-9s %9s req/s  %5s of plain /healthz  non-2xx %s\n' "$label" "$p50" "$p99" "$rps" "$(awk -v a="$rps" -v b="$base" 'BEGIN {printf "%.2f", a / b}')" "$bad"
    done
    echo "server RSS after the load: $(rss) MiB"
    stop_server
  done
done

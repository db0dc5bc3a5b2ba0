#!/usr/bin/env bash
# Two builds side by side in one run, alternating, as ratios: the full recompute, the refresh
# after one trust's quarter, the import (validated and committed) and signed-in pages under load.
# Usage: benches/compare.sh BEFORE_BINARY AFTER_BINARY [ORGANISATIONS:QUARTERS ... | pages]
#   (default sizes: 202:11 1100:30, about 0.1 and 1.5 million values). PG=postgres://… adds the
#   import into a fresh PostgreSQL database on that server. REPS (default 3) rounds of
#   each; the median of each side is kept. CONNS (default 64) and SECS (default 5) set the load;
#   pages are asked for as browsers ask (ACCEPT, default "gzip, deflate, br, zstd", the
#   Accept-Encoding header; ACCEPT=identity for the text).
# Build the "before" binary from an older commit in a worktree, e.g.
#   git worktree add /tmp/before <commit> && (cd /tmp/before && cargo build --release)
set -euo pipefail
cd "$(dirname "$0")/.."
BEFORE=$(realpath "$1"); AFTER=$(realpath "$2"); shift 2
REPS=${REPS:-3}; CONNS=${CONNS:-64}; SECS=${SECS:-5}; PORT=18093
for tool in wrk curl sqlite3; do command -v $tool >/dev/null || { apt-get update -qq && apt-get install -y -qq $tool >/dev/null; }; done
DIR=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$DIR"' EXIT
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (a > 0 ? b / a : 0)}'; }
row() { printf '%-34s %12s %12s %8s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"; }

[ "${1:-}" = pages ] && SIZES=" "
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $REPS rounds, medians; ratio = after ÷ before (times: lower is better; requests/s: higher is better)"
[ "${1:-}" = pages ] && set -- # `pages`: the pages alone
for size in ${@:-${SIZES:-202:11 1100:30}}; do
  for s in $size; do
    orgs=${s%%:*}; quarters=${s##*:}
    # DEMO_BIN (default AFTER) writes the values: the older build's file when the newer one's
    # has columns the older cannot import.
    "${DEMO_BIN:-$AFTER}" demo --trusts "$orgs" --quarters "$quarters" --seed 1 --end 2026-Q3 -o "$DIR/values.csv" \
      --organisations-output "$DIR/synthetic.csv" 2>/dev/null
    rm -f "$DIR"/ref.db*
    if [ "$(wc -l <"$DIR/synthetic.csv")" -gt 1 ]; then "$AFTER" --database-url "sqlite://$DIR/ref.db" import organisations "$DIR/synthetic.csv" >/dev/null; fi
    "$AFTER" --database-url "sqlite://$DIR/ref.db" export organisations -o "$DIR/organisations.csv"
    echo "== $(($(wc -l <"$DIR/values.csv") - 1)) values ($orgs organisations × $quarters quarters)"
    printf '%-34s %12s %12s %8s\n' measure before after ratio
    for side in before after; do : >"$DIR/$side.recompute"; : >"$DIR/$side.refresh"; : >"$DIR/$side.import"; : >"$DIR/$side.pgimport"; done
    for rep in $(seq "$REPS"); do
      for side in before after; do
        bin=$BEFORE; [ $side = after ] && bin=$AFTER
        "$bin" bench recompute "$DIR/values.csv" --organisations "$DIR/organisations.csv" |
          awk '/^compute_s/ {print $2}' >>"$DIR/$side.recompute"
        "$bin" bench refresh "$DIR/values.csv" --organisations "$DIR/organisations.csv" --rounds 9 --back 0 |
          sed -n 's/.*median \([0-9.]*\) ms.*/\1/p' >>"$DIR/$side.refresh"
        rm -f "$DIR"/imp.db*
        if [ "$(wc -l <"$DIR/synthetic.csv")" -gt 1 ]; then "$bin" --database-url "sqlite://$DIR/imp.db" import organisations "$DIR/synthetic.csv" >/dev/null; fi
        t0=$(now)
        "$bin" --database-url "sqlite://$DIR/imp.db" import submissions "$DIR/values.csv" >/dev/null
        awk -v a="$(now)" -v b="$t0" 'BEGIN {printf "%.3f\n", a - b}' >>"$DIR/$side.import"
        if [ -n "${PG:-}" ]; then
          psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS exemplar_compare" -c "CREATE DATABASE exemplar_compare" >/dev/null
          if [ "$(wc -l <"$DIR/synthetic.csv")" -gt 1 ]; then "$bin" --database-url "$PG/exemplar_compare" import organisations "$DIR/synthetic.csv" >/dev/null; fi
          "$bin" --database-url "$PG/exemplar_compare" export organisations -o /dev/null 2>/dev/null
          t0=$(now)
          "$bin" --database-url "$PG/exemplar_compare" import submissions "$DIR/values.csv" >/dev/null
          awk -v a="$(now)" -v b="$t0" 'BEGIN {printf "%.3f\n", a - b}' >>"$DIR/$side.pgimport"
        fi
      done
    done
    row "recompute, compute (s)" "$(median <"$DIR/before.recompute")" "$(median <"$DIR/after.recompute")"
    row "refresh, one trust's quarter (ms)" "$(median <"$DIR/before.refresh")" "$(median <"$DIR/after.refresh")"
    row "import, validated and committed (s)" "$(median <"$DIR/before.import")" "$(median <"$DIR/after.import")"
    if [ -n "${PG:-}" ]; then row "import into PostgreSQL (s)" "$(median <"$DIR/before.pgimport")" "$(median <"$DIR/after.pgimport")"; fi
  done
done

# Signed-in pages on the demo data: each build serves in turn, REPS rounds, alternating.
echo "== pages, demo data, $CONNS connections, ${SECS}s each, signed in as the demo analyst, Accept-Encoding: ${ACCEPT:-gzip, deflate, br, zstd}"
printf '%-34s %12s %12s %8s\n' "requests/s" before after ratio
PATHS="/healthz / /metrics/digital_leadership_capability /trusts/RGT"
# One demo database, made once by the older build; each server starts on a fresh copy of it.
"$BEFORE" --database-url "sqlite://$DIR/demo.db" serve --addr 127.0.0.1:$PORT >"$DIR/serve.log" 2>&1 &
SERVER=$!
until curl -fs "http://127.0.0.1:$PORT/healthz" 2>/dev/null | grep -q '"ready"'; do sleep 0.2; done
kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=
sqlite3 "$DIR/demo.db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null 2>&1 || true
for rep in $(seq "$REPS"); do
  for side in before after; do
    bin=$BEFORE; [ $side = after ] && bin=$AFTER
    rm -f "$DIR"/copy.db*; cp "$DIR/demo.db" "$DIR/copy.db"; [ -f "$DIR/demo.db-wal" ] && cp "$DIR/demo.db-wal" "$DIR/copy.db-wal"
    "$bin" --database-url "sqlite://$DIR/copy.db" serve --addr 127.0.0.1:$PORT >"$DIR/serve.log" 2>&1 &
    SERVER=$!
    until curl -fs "http://127.0.0.1:$PORT/healthz" 2>/dev/null | grep -q '"ready"'; do sleep 0.2; done
    rm -f "$DIR/cj"
    curl -s -c "$DIR/cj" -b "$DIR/cj" "http://127.0.0.1:$PORT/sign-in" -o "$DIR/si.html"
    CSRF=$(grep -o 'name="csrf_token" value="[^"]*"' "$DIR/si.html" | head -1 | sed 's/.*value="//; s/"$//')
    curl -s -c "$DIR/cj" -b "$DIR/cj" -o /dev/null -d "email=analyst@example.org&password=exemplar-demo&csrf_token=$CSRF&next=/" "http://127.0.0.1:$PORT/sign-in"
    COOKIE=$(awk '/exemplar_session/ {print $7}' "$DIR/cj")
    for path in $PATHS; do
      wrk -t2 -c"$CONNS" -d"${SECS}s" -H "Cookie: exemplar_session=$COOKIE" -H "Accept-Encoding: ${ACCEPT:-gzip, deflate, br, zstd}" \
        "http://127.0.0.1:$PORT$path" |
        awk '/Requests\/sec/ {print $2}' >>"$DIR/$side.$(echo "$path" | tr '/' '_')"
    done
    kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=
  done
done
for path in $PATHS; do
  key=$(echo "$path" | tr '/' '_')
  row "$path" "$(median <"$DIR/before.$key")" "$(median <"$DIR/after.$key")"
done

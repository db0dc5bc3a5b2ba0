#!/usr/bin/env bash
# Two builds' start-up side by side in one run, alternating, as ratios: how long `serve` takes to
# have its figures ready with no snapshot and from the stored snapshot, and the server's memory
# then (SQLite). Each side starts on its own copy of the same fixture database (benches/fixture.sh),
# since each stores its own snapshot format.
# Usage: benches/startup.sh BEFORE_BINARY AFTER_BINARY [ORGANISATIONS:QUARTERS ...]
#   (default: 202:11 1100:30, about 0.1 and 1.5 million values). REPS (default 3) rounds; medians.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/fixture.sh
BEFORE=$(realpath "$1"); AFTER=$(realpath "$2"); shift 2
REPS=${REPS:-3}; PORT=18095
for tool in sqlite3 curl; do command -v $tool >/dev/null || { apt-get update -qq && apt-get install -y -qq $tool >/dev/null; }; done
DIR=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$DIR"' EXIT
now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN {printf "%.2f", a - b}'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (a > 0 ? b / a : 0)}'; }
row() { printf '%-40s %10s %10s %8s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"; }
# start BIN DB: serves DB and waits until the figures are ready; READY is the time that took.
start() {
  local started; started=$(now)
  "$1" --database-url "sqlite://$2" serve --no-demo --addr 127.0.0.1:$PORT >>"$DIR/serve.log" 2>&1 &
  SERVER=$!
  until curl -fs "http://127.0.0.1:$PORT/healthz" 2>/dev/null | grep -q '"ready"'; do sleep 0.05; done
  READY=$(since "$started")
}
stop() { kill $SERVER; wait $SERVER 2>/dev/null || true; SERVER=; }
rss() { ps -o rss= -p "$SERVER" | awk '{printf "%d\n", $1 / 1024}'; }

echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $REPS rounds, medians; ratio = after ÷ before"
for size in "${@:-202:11 1100:30}"; do
  for s in $size; do
    orgs=${s%%:*}; quarters=${s##*:}
    rm -f "$DIR"/app.db*
    fixture "$DIR" "$AFTER" "$orgs" "$quarters"
    sqlite3 "$DIR/app.db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
    echo "== $(sqlite3 "$DIR/app.db" 'SELECT count(*) FROM current_values') values ($orgs organisations × $quarters quarters)"
    printf '%-40s %10s %10s %8s\n' measure before after ratio
    for side in before after; do : >"$DIR/$side.cold"; : >"$DIR/$side.warm"; : >"$DIR/$side.rss"; done
    for rep in $(seq "$REPS"); do
      for side in before after; do
        bin=$BEFORE; [ $side = after ] && bin=$AFTER
        rm -f "$DIR"/side.db*; cp "$DIR/app.db" "$DIR/side.db"
        start "$bin" "$DIR/side.db"; echo "$READY" >>"$DIR/$side.cold"
        sleep 2; stop   # the snapshot is written before the figures are ready; a moment more
        start "$bin" "$DIR/side.db"; echo "$READY" >>"$DIR/$side.warm"; rss >>"$DIR/$side.rss"; stop
      done
    done
    row "figures ready, no snapshot (s)" "$(median <"$DIR/before.cold")" "$(median <"$DIR/after.cold")"
    row "figures ready, from the snapshot (s)" "$(median <"$DIR/before.warm")" "$(median <"$DIR/after.warm")"
    row "server memory when ready (MiB)" "$(median <"$DIR/before.rss")" "$(median <"$DIR/after.rss")"
  done
done

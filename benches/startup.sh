#!/usr/bin/env bash
# Two builds' start-up side by side in one run, alternating, as ratios: how long `serve` takes to
# have its figures ready with no snapshot and from the stored snapshot, and the server's memory
# then. Each side starts on its own copy of the same fixture database (benches/fixture.sh, made by
# BEFORE, the older schema, which AFTER migrates), since each stores its own snapshot format.
# Usage: benches/startup.sh BEFORE_BINARY AFTER_BINARY [ORGANISATIONS:QUARTERS ...]
#   (default: 202:11 1100:30, about 0.1 and 1.5 million values). REPS (default 3) rounds; medians.
#   SETTLE (default 10) seconds after ready, the memory again: every quarter read by then.
#   PG=postgres://user@host:port runs the same on PostgreSQL as well (the values imported there by
#   `exemplar import`, each side on a copy made from it as a template).
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/fixture.sh
BEFORE=$(realpath "$1"); AFTER=$(realpath "$2"); shift 2
REPS=${REPS:-3}; SETTLE=${SETTLE:-10}; PORT=18095
for tool in sqlite3 curl ${PG:+psql}; do command -v $tool >/dev/null || { apt-get update -qq && apt-get install -y -qq $tool >/dev/null; }; done
DIR=$(mktemp -d)
SERVER=
FIXTURE=exemplar_startup_fixture; SIDE=exemplar_startup_side
trap '[ -n "$SERVER" ] && kill $SERVER 2>/dev/null; rm -rf "$DIR"; [ -n "${PG:-}" ] && psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $SIDE" -c "DROP DATABASE IF EXISTS $FIXTURE" >/dev/null 2>&1' EXIT
now() { date +%s.%N; }
since() { awk -v a="$(now)" -v b="$1" 'BEGIN {printf "%.2f", a - b}'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2 ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (a > 0 ? b / a : 0)}'; }
row() { printf '%-40s %10s %10s %8s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")"; }
# start BIN URL: serves the database at URL and waits until the figures are ready; READY is the
# time that took.
start() {
  local started; started=$(now)
  "$1" --database-url "$2" serve --no-demo --addr 127.0.0.1:$PORT >>"$DIR/serve.log" 2>&1 &
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
    fixture "$DIR" "$BEFORE" "$orgs" "$quarters"
    sqlite3 "$DIR/app.db" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
    echo "== $(sqlite3 "$DIR/app.db" 'SELECT count(*) FROM current_values') values ($orgs organisations × $quarters quarters)"
    backends=sqlite
    if [ -n "${PG:-}" ]; then
      backends="sqlite postgres"
      psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $FIXTURE" -c "CREATE DATABASE $FIXTURE" >/dev/null
      if [ "$(wc -l <"$DIR/synthetic.csv")" -gt 1 ]; then "$BEFORE" --database-url "$PG/$FIXTURE" import organisations "$DIR/synthetic.csv" >/dev/null; fi
      "$BEFORE" --database-url "$PG/$FIXTURE" import submissions "$DIR/values.csv" >/dev/null
    fi
    for backend in $backends; do
      printf '%-40s %10s %10s %8s\n' "measure ($backend)" before after ratio
      for side in before after; do : >"$DIR/$side.cold"; : >"$DIR/$side.warm"; : >"$DIR/$side.rss"; : >"$DIR/$side.settled"; done
      for rep in $(seq "$REPS"); do
        for side in before after; do
          bin=$BEFORE; [ $side = after ] && bin=$AFTER
          if [ $backend = sqlite ]; then
            rm -f "$DIR"/side.db*; cp "$DIR/app.db" "$DIR/side.db"; url="sqlite://$DIR/side.db"
          else
            psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $SIDE" -c "CREATE DATABASE $SIDE TEMPLATE $FIXTURE" >/dev/null
            url="$PG/$SIDE"
          fi
          start "$bin" "$url"; echo "$READY" >>"$DIR/$side.cold"
          sleep 2; stop   # the snapshot is written before the figures are ready; a moment more
          start "$bin" "$url"; echo "$READY" >>"$DIR/$side.warm"; rss >>"$DIR/$side.rss"
          sleep "$SETTLE"; rss >>"$DIR/$side.settled"; stop
        done
      done
      row "figures ready, no snapshot (s)" "$(median <"$DIR/before.cold")" "$(median <"$DIR/after.cold")"
      row "figures ready, from the snapshot (s)" "$(median <"$DIR/before.warm")" "$(median <"$DIR/after.warm")"
      row "server memory when ready (MiB)" "$(median <"$DIR/before.rss")" "$(median <"$DIR/after.rss")"
      row "server memory ${SETTLE} s later (MiB)" "$(median <"$DIR/before.settled")" "$(median <"$DIR/after.settled")"
    done
  done
done

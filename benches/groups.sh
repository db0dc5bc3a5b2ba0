#!/usr/bin/env bash
# Saved peer groups (docs/RULES.md §10.6): the figures of groups of 2, 10, 25 and 50 trusts drawn
# at random, computed from scratch as a page or export first asks for one, beside the full
# recompute of every table in the same process.
# Usage: benches/groups.sh [ORGANISATIONS:QUARTERS ...]   (default: 202:11 1100:30, about 0.1 and
# 1.5 million values).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/exemplar"
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
for s in ${@:-202:11 1100:30}; do
  orgs=${s%%:*}
  quarters=${s##*:}
  "$BIN" demo --trusts "$orgs" --quarters "$quarters" --seed 1 --end 2026-Q3 -o "$DIR/values.csv" \
    --organisations-output "$DIR/synthetic.csv" 2>/dev/null
  rm -f "$DIR"/ref.db*
  url="sqlite://$DIR/ref.db"
  if [ "$(wc -l <"$DIR/synthetic.csv")" -gt 1 ]; then "$BIN" --database-url "$url" import organisations "$DIR/synthetic.csv" >/dev/null; fi
  "$BIN" --database-url "$url" export organisations -o "$DIR/organisations.csv"
  echo "== $orgs organisations × $quarters quarters"
  "$BIN" bench groups "$DIR/values.csv" --organisations "$DIR/organisations.csv"
done

#!/usr/bin/env bash
# Saved peer groups (docs/RULES.md §10.6): the figures of groups of 2, 10, 25 and 50 trusts drawn
# at random, computed from scratch as a page or export first asks for one, beside the full
# recompute of every table in the same process.
# Usage: benches/groups.sh [ORGANISATIONS:QUARTERS ...]   (default: 202:11 1100:30, about 0.1 and
# 1.5 million values).
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/fixture.sh
cargo build --release --quiet
BIN="${CARGO_TARGET_DIR:-target}/release/exemplar"
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
for s in ${@:-202:11 1100:30}; do
  orgs=${s%%:*}
  quarters=${s##*:}
  values_file "$DIR" "$BIN" "$orgs" "$quarters"
  echo "== $orgs organisations × $quarters quarters"
  "$BIN" bench groups "$DIR/values.csv" --organisations "$DIR/organisations.csv"
done

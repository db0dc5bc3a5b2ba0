#!/usr/bin/env bash
# Full recompute of every table of docs/RULES.md §4, side by side in one run: `exemplar bench recompute`
# (polars, one quarter at a time) against DuckDB running the SQL reference
# (benches/recompute_duckdb.py) on the same CSV files. Both checksums must agree.
# Usage: benches/recompute.sh [ORGANISATIONS:QUARTERS ...]   (default: 202:11 1100:30 7000:31,
# about 0.1, 1.5 and 10 million values). REPS=n runs each side n times and keeps the fastest.
set -euo pipefail
cd "$(dirname "$0")/.."
. benches/fixture.sh
REPS=${REPS:-2}
VENV=.bench/venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -c 'import duckdb' 2>/dev/null || "$VENV/bin/pip" install -q duckdb==2.0.1
# BIN=path measures that binary; otherwise the release build of this tree.
if [ -z "${BIN:-}" ]; then
  cargo build --release --quiet
  BIN="${CARGO_TARGET_DIR:-target}/release/exemplar"
fi
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; duckdb $("$VENV/bin/python" -c 'import duckdb; print(duckdb.__version__)')"
printf '%-12s %-11s %-11s %-7s %-11s %-11s %-14s %-14s %s\n' values "polars (s)" "duckdb (s)" ratio "load p (s)" "load d (s)" "polars MiB" "duckdb MiB" "memory ratio"
for size in "${@:-202:11 1100:30 7000:31}"; do
  for s in $size; do
    orgs=${s%%:*}
    quarters=${s##*:}
    values_file "$DIR" "$BIN" "$orgs" "$quarters"
    for rep in $(seq "$REPS"); do
      "$BIN" bench recompute "$DIR/values.csv" --organisations "$DIR/organisations.csv" >"$DIR/polars.$rep"
      "$VENV/bin/python" benches/recompute_duckdb.py "$DIR/values.csv" "$DIR/organisations.csv" "$DIR/metrics.csv" >"$DIR/duckdb.$rep"
    done
    "$VENV/bin/python" - "$DIR" "$REPS" <<'PY'
import math, sys
d, reps = sys.argv[1], int(sys.argv[2])
def read(path):
    out = {"sum": {}}
    for line in open(path):
        parts = line.split()
        if parts[0] == "sum":
            out["sum"][parts[1]] = [float(x) for x in parts[2:]]
        else:
            out[parts[0]] = float(parts[1])
    return out
p = [read(f"{d}/polars.{r}") for r in range(1, reps + 1)]
k = [read(f"{d}/duckdb.{r}") for r in range(1, reps + 1)]
for a, b in zip(p, k):
    for table, sums in a["sum"].items():
        other = b["sum"][table]
        for x, y in zip(sums, other):
            if not math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-6):
                sys.exit(f"checksums differ on {table}: polars {sums} duckdb {other}")
pc, kc = min(r["compute_s"] for r in p), min(r["compute_s"] for r in k)
pl, kl = min(r["load_s"] for r in p), min(r["load_s"] for r in k)
pm, km = max(r["peak_mib"] for r in p), max(r["peak_mib"] for r in k)
print(f"{int(p[0]['values']):<12,} {pc:<11.2f} {kc:<11.2f} {pc / kc:<7.2f} {pl:<11.2f} {kl:<11.2f} {int(pm):<14,} {int(km):<14,} {pm / km:.2f}")
PY
  done
done

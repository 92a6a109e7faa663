#!/usr/bin/env bash
# maxpower on a month of 1-second DSMR 5 readings (2.6 M lines, about 6.4 GB:
# the 30-day directory scripts/bench-log.sh makes once in target/bench/log30).
# A benchmark, not a test: prints wall and CPU seconds and peak RSS, cold
# (page cache dropped, as root) and warm.
#
# Usage: scripts/bench-maxpower.sh
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_cargo
cd "$root"
command -v /usr/bin/time >/dev/null 2>&1 || { echo "error: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
log30=target/bench/log30
if ! ls "$log30"/.complete-* >/dev/null 2>&1; then
    echo "making the 30-day directory with scripts/bench-log.sh first ..." >&2
    scripts/bench-log.sh 1000 >/dev/null
fi
cargo build -q --release -p maxpower
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
lines=$(cat "$log30"/*.jsonl | wc -l)
run() {
    /usr/bin/time -f '%e %U %S %M' target/release/maxpower --dir "$log30" --state "$state" \
        --tz Europe/Amsterdam --now 2025-01-30T23:59:00+01:00 "$@" 2>&1 >/dev/null | tail -1
}
say() { # name "wall user sys rss"
    python3 - "$1" "$2" "$lines" <<'PY'
import sys
name, (wall, user, sys_, rss), lines = sys.argv[1], map(float, sys.argv[2].split()), int(sys.argv[3])
wall = max(wall, 0.01)
print(f"{name:28} {lines:8d} lines {wall:6.2f} s wall, {lines / wall:9.0f} lines/s, cpu {user + sys_:5.2f} s, peak RSS {rss / 1024:5.1f} MB")
PY
}
sync
if [ -w /proc/sys/vm/drop_caches ]; then
    echo 3 > /proc/sys/vm/drop_caches
    say "cold, tariff no" "$(run --tariff no)"
fi
for i in 1 2 3; do say "warm $i, tariff no" "$(run --tariff no)"; done
say "warm, tariff from the data" "$(run)"
say "warm, tariff be (+quarters)" "$(run --tariff be)"
say "warm, one thread" "$(run --tariff no --threads 1)"

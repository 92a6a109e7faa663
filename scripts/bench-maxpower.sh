#!/usr/bin/env bash
# maxpower on a month of 1-second DSMR 5 readings (2.6 M lines, about 6.4 GB:
# the 30-day directory scripts/bench-log.sh makes once in bench/log30 in
# cargo's target dir, where the binaries are).
# A benchmark, not a test: prints wall and CPU seconds and peak RSS, cold
# (page cache dropped, as root) and warm.
#
# HAN_BENCH_BE=1 also makes (once, about 7.7 GB in bench/be30 in the target
# dir) and reads a month of han-sim's Belgian Fluvius meter (3 KB lines).
#
# Usage: scripts/bench-maxpower.sh
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_cargo
cd "$root"
command -v /usr/bin/time >/dev/null 2>&1 || { echo "error: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
target=$(target_dir)
bin=$target/release
log30=$target/bench/log30
if ! ls "$log30"/.complete-* >/dev/null 2>&1; then
    echo "making the 30-day directory with scripts/bench-log.sh first ..." >&2
    scripts/bench-log.sh 1000 >/dev/null
fi
build_release -q -p maxpower
need_bins "$bin" maxpower
state=$(mktemp -d)
trap 'rm -rf "$state"' EXIT
lines=$(cat "$log30"/*.jsonl | wc -l)
run() {
    # --no-cache: every day read (the whole-month figure); see the cached run below.
    /usr/bin/time -f '%e %U %S %M' "$bin/maxpower" --dir "$log30" --state "$state" --no-cache \
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
# A cron run: the closed days' sums kept by the run before, today's file read.
"$bin/maxpower" --dir "$log30" --state "$state" --tz Europe/Amsterdam --now 2025-01-30T23:59:00+01:00 >/dev/null
lines=$(wc -l < "$log30/2025-01-30.jsonl")
say "cron rerun (today's file)" "$(/usr/bin/time -f '%e %U %S %M' "$bin/maxpower" --dir "$log30" --state "$state" \
    --tz Europe/Amsterdam --now 2025-01-30T23:59:00+01:00 2>&1 >/dev/null | tail -1)"
if [ "${HAN_BENCH_BE:-}" = 1 ]; then
    be30=$target/bench/be30
    if [ ! -f "$be30/.complete-30" ]; then
        build_release -q -p han-read -p han-sim -p han-log
        need_bins "$bin" han-read han-sim han-log
        rm -rf "$be30"
        echo "making 30 days of 1-second Fluvius readings in $be30 (once) ..." >&2
        "$bin/han-sim" --meter fluvius --duration 30d --seed 1 --start 2025-03-01T00:00:00+01:00 \
            | "$bin/han-read" -q | "$bin/han-log" --dir "$be30" --tz Europe/Brussels 2>/dev/null
        touch "$be30/.complete-30"
    fi
    lines=$(cat "$be30"/*.jsonl | wc -l)
    for i in 1 2 3; do
        say "Belgian month, warm $i" "$(/usr/bin/time -f '%e %U %S %M' "$bin/maxpower" --dir "$be30" --state "$state" --no-cache \
            --tz Europe/Brussels --now 2025-03-30T23:59:00+02:00 2>&1 >/dev/null | tail -1)"
    done
fi

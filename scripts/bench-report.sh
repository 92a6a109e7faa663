#!/usr/bin/env bash
# han-report summary on a month of 1-second DSMR 5 readings (2.6 M lines,
# about 6 GB: the 30-day directory scripts/bench-log.sh makes once in
# bench/log30 in cargo's target dir, where the binaries are). A benchmark,
# not a test: prints wall and CPU seconds and peak RSS, cold (page cache
# dropped, as root) and warm, on 1 thread and on the default.
#
# HAN_BENCH_DAYS=365 does the issue's year (31.5 M lines). Plain, a year of
# DSMR 5 lines is about 73 GB, so it is made as a Pi that runs
# `han-log --compress-after 1` keeps it: one .jsonl.gz a day (about 4 MB).
# It is made once, in bench/log365 in the target dir: han-sim's year in one
# stream, cut every 10 days by `split --filter` into a han-log that gzips
# the days when it ends, so that no more than 10 plain days are ever on the
# disk.
#
# Usage: scripts/bench-report.sh            the month
#        HAN_BENCH_DAYS=365 scripts/bench-report.sh
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_cargo
cd "$root"
command -v /usr/bin/time >/dev/null 2>&1 || { echo "error: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
days=${HAN_BENCH_DAYS:-30}
target=$(target_dir)
bin=$target/release
if [ "$days" = 30 ]; then
    dir=$target/bench/log30
    if ! ls "$dir"/.complete-* >/dev/null 2>&1; then
        echo "making the 30-day directory with scripts/bench-log.sh first ..." >&2
        scripts/bench-log.sh 1000 >/dev/null
    fi
else
    dir=$target/bench/log$days
    if [ ! -f "$dir/.complete-$days" ]; then
        build_release -q -p han-read -p han-sim -p han-log
        need_bins "$bin" han-read han-sim han-log
        # About 200 MB a plain day, 4 MB gzipped: 10 plain days at a time.
        need=$(( (days * 4 + 2000 + 999) / 1000 ))
        free=$(df -BG --output=avail "$target" | tail -1 | tr -dc 0-9)
        if [ "$free" -lt "$need" ]; then
            echo "error: $days days of DSMR 5 logs need about ${need} GB; $free GB are free" >&2
            exit 1
        fi
        rm -rf "$dir"
        mkdir -p "$dir"
        echo "making $days days of 1-second DSMR 5 readings in $dir, gzipped (once) ..." >&2
        # A command line for split's shell: the paths quoted.
        log=$(printf '%q ' "$bin/han-log" --dir "$dir" --tz Europe/Amsterdam --compress-after 1)
        "$bin/han-sim" --meter dsmr5 --duration "${days}d" --seed 1 --start 2025-01-01T00:00:00+01:00 \
            | "$bin/han-read" -q \
            | split -l 864000 --filter="$log 2>/dev/null" -
        touch "$dir/.complete-$days"
    fi
fi
build_release -q -p han-report
need_bins "$bin" han-report
out=$(mktemp)
trap 'rm -f "$out"' EXIT
run() { # prints "wall user sys rss"; the summary goes to $out
    /usr/bin/time -f '%e %U %S %M' "$bin/han-report" summary --dir "$dir" --tz Europe/Amsterdam \
        --format json "$@" 2>&1 >"$out" | tail -1
}
say() { # name "wall user sys rss": the lines are the readings the summary counted
    python3 - "$1" "$2" "$out" "$(du -sh "$dir" | cut -f1)" <<'PY'
import json, sys
name, (wall, user, sys_, rss), out, size = sys.argv[1], map(float, sys.argv[2].split()), sys.argv[3], sys.argv[4]
lines = json.load(open(out))["readings"]
wall = max(wall, 0.01)
print(f"{name:22} {lines:9d} lines ({size}) {wall:7.2f} s wall, {lines / wall:9.0f} lines/s, "
      f"cpu {user + sys_:6.2f} s, peak RSS {rss / 1024:5.1f} MB")
PY
}
sync
if [ -w /proc/sys/vm/drop_caches ]; then
    echo 3 > /proc/sys/vm/drop_caches
    say "cold, default threads" "$(run)"
fi
for i in 1 2 3; do say "warm $i" "$(run)"; done
say "warm, one thread" "$(run --threads 1)"

#!/usr/bin/env bash
# han-log and the shared log reader, whole processes on han-sim streams. A
# benchmark, not a test. Prints readings/s, MB/s, CPU seconds and peak RSS.
#
#   1. han-log storing from a file: a Norwegian Kaifa stream (small lines)
#      and DSMR 5 (2.4 KB lines), plain, and with --csv --www;
#   2. reading a 30-day directory of 1-second DSMR 5 readings (2.6 M lines,
#      about 6.4 GB, made once with han-sim | han-read | han-log and kept in
#      bench/log30 in cargo's target dir, where the binaries are) back
#      through han_common::logs, cold from disk and warm from the page
#      cache; and again parsing every line.
#
# Usage: scripts/bench-log.sh [READINGS]   (default 300000 per stream)
#        HAN_BENCH_DAYS=7 for a shorter directory.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_cargo
cd "$root"
n=${1:-300000}
days=${HAN_BENCH_DAYS:-30}
command -v /usr/bin/time >/dev/null 2>&1 || { echo "error: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
build_release -q -p han-read -p han-sim -p han-log
build_release -q -p han-common --example read_logs
target=$(target_dir)
bin=$target/release
need_bins "$bin" han-read han-sim han-log examples/read_logs
dir=$target/bench
mkdir -p "$dir"

for m in kaifa-no dsmr5; do
    if [ ! -s "$dir/log-$m-$n.jsonl" ]; then
        "$bin/han-sim" --meter "$m" --count "$n" --seed 1 --start 2025-01-01T00:00:00+01:00 \
            | "$bin/han-read" -q --tz Europe/Oslo > "$dir/log-$m-$n.jsonl"
    fi
done

report() { # name lines bytes "wall user sys rss"
    python3 - "$@" <<'PY'
import sys
name, lines, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
wall, user, sys_, rss = map(float, sys.argv[4].split())
cpu = user + sys_
wall = max(wall, 0.01)
print(f"{name:24} {lines:8d} readings {lines / wall:10.0f} /s {size / wall / 1e6:7.1f} MB/s"
      f"  cpu {cpu:5.2f} s (user {user:.2f})  peak RSS {rss / 1024:5.1f} MB")
PY
}

echo "han-log storing from a file (best of 3):"
for m in kaifa-no dsmr5; do
    in=$dir/log-$m-$n.jsonl
    lines=$(wc -l < "$in"); bytes=$(stat -c %s "$in")
    for extra in "" "--csv --www $dir/www"; do
        best=""
        for _ in 1 2 3; do
            rm -rf "$dir/out" "$dir/www"
            # shellcheck disable=SC2086
            t=$(/usr/bin/time -f '%e %U %S %M' "$bin/han-log" --dir "$dir/out" --tz Europe/Oslo $extra < "$in" 2>&1 >/dev/null | tail -1)
            if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if float('${t%% *}') < float('${best%% *}') else 1)"; then best=$t; fi
        done
        report "$m${extra:+ +csv+www}" "$lines" "$bytes" "$best"
    done
done
rm -rf "$dir/out" "$dir/www"

log30=$dir/log30
if [ ! -f "$log30/.complete-$days" ]; then
    need=$(( days * 220 * 1024 ))   # KiB: about 215 MB a day
    free=$(df -Pk "$dir" | awk 'NR==2 {print $4}')
    if [ "$free" -lt $(( need + 2 * 1024 * 1024 )) ]; then
        echo "skipping the $days-day read-back: needs $(( need / 1024 / 1024 )) GiB free in $dir" >&2
        exit 0
    fi
    rm -rf "$log30"
    echo "making $days days of 1-second DSMR 5 readings in $log30 (once) ..." >&2
    "$bin/han-sim" --meter dsmr5 --duration "${days}d" --seed 1 --start 2025-01-01T00:00:00+01:00 \
        | "$bin/han-read" -q | "$bin/han-log" --dir "$log30" --tz Europe/Amsterdam 2>/dev/null
    touch "$log30/.complete-$days"
fi
echo "reading $days days back through han_common::logs:"
sync
if [ -w /proc/sys/vm/drop_caches ]; then
    echo 3 > /proc/sys/vm/drop_caches
    echo -n "  cold (page cache dropped): "; "$bin/examples/read_logs" "$log30"
fi
for i in 1 2 3; do echo -n "  warm $i: "; "$bin/examples/read_logs" "$log30"; done
echo -n "  warm, every line parsed (times, quantities): "; "$bin/examples/read_logs" "$log30" --parse

#!/usr/bin/env bash
# End-to-end throughput of han-read with JSON output, on han-sim streams:
# a Norwegian HAN mix (Aidon, Kaifa, Kamstrup lists 1/2/3) and DSMR 5.
# Prints frames/s, MB/s, CPU seconds and peak RSS, then the live latency from
# the last byte of a frame to its JSON line. A benchmark, not a test.
# Usage: scripts/bench.sh [FRAMES]   (default 100000 of each)
# The binaries and the streams (bench/) are in cargo's target dir.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_cargo
cd "$root"
n=${1:-100000}
command -v /usr/bin/time >/dev/null 2>&1 || { echo "error: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
build_release -q -p han-read -p han-sim
target=$(target_dir)
bin=$target/release
need_bins "$bin" han-read han-sim
dir=$target/bench
mkdir -p "$dir"

per=$(( (n + 2) / 3 ))
: > "$dir/han-mix.bin"
for m in aidon-no kaifa-no kamstrup-no; do
    "$bin/han-sim" --meter "$m" --count "$per" --seed 1 --start 2025-01-01T00:00:00+01:00 >> "$dir/han-mix.bin"
done
"$bin/han-sim" --meter dsmr5 --count "$n" --seed 1 --start 2025-01-01T00:00:00+01:00 > "$dir/dsmr5.bin"

run() {
    local name=$1 file=$2
    local bytes; bytes=$(stat -c %s "$file")
    local out; out=$(/usr/bin/time -f '%e %U %S %M' "$bin/han-read" -q "$file" 2>&1 >"$dir/$name.jsonl" | tail -1)
    local lines; lines=$(wc -l < "$dir/$name.jsonl")
    read -r wall user sys rss <<< "$out"
    python3 - "$name" "$lines" "$bytes" "$wall" "$user" "$sys" "$rss" <<'PY'
import sys
name, lines, size, wall, user, sys_, rss = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), *map(float, sys.argv[4:8])
cpu = user + sys_
wall = max(wall, 0.01)
per_cpu = f"{lines / cpu:10.0f}" if cpu >= 0.05 else "  too short"
print(f"{name:10} {lines:8d} readings  {lines / wall:10.0f} frames/s  {size / wall / 1e6:6.1f} MB/s"
      f"  cpu {cpu:5.2f} s ({per_cpu} frames per CPU-s)  peak RSS {rss / 1024:5.1f} MB")
PY
}
echo "han-read end to end, JSON lines to a file:"
run han-mix "$dir/han-mix.bin"
run dsmr5 "$dir/dsmr5.bin"

# Live latency: one frame at a time into han-read's stdin; the time from the
# write of its last byte to its JSON line on stdout.
python3 - "$bin/han-read" "$dir" <<'PY'
import subprocess, sys, time, os, statistics, select
han_read, d = sys.argv[1], sys.argv[2]
# A fixed start that crosses no hour: no hourly list 3, which Kaifa sends
# in two HDLC segments (the first gives no line on its own).
frames = subprocess.run([os.path.join(os.path.dirname(han_read), "han-sim"), "--meter", "kaifa-no", "--count", "200",
                         "--seed", "2", "--start", "2025-01-01T00:10:00+01:00"], capture_output=True, check=True).stdout
# Split the stream at HDLC frame starts (7E A0/A1 ...) after closing flags.
parts, i = [], 0
while i < len(frames):
    j = frames.find(b"\x7e\x7e", i + 1)
    end = len(frames) if j < 0 else j + 1
    parts.append(frames[i:end]); i = end
p = subprocess.Popen([han_read, "-q", "-"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
lat = []
for f in parts[:200]:
    p.stdin.write(f); t0 = time.perf_counter(); p.stdin.flush()
    # A frame that gives no line (a first segment) must not hang the run.
    if not select.select([p.stdout], [], [], 2.0)[0]:
        continue
    line = p.stdout.readline()
    lat.append((time.perf_counter() - t0) * 1e3)
p.stdin.close(); p.wait()
lat.sort()
print(f"live latency over {len(lat)} frames: median {statistics.median(lat):.3f} ms, p99 {lat[int(len(lat) * .99) - 1]:.3f} ms, max {lat[-1]:.3f} ms")
PY

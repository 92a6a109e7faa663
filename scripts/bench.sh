#!/usr/bin/env bash
# End-to-end throughput of han-read with JSON output, beside the Rust crates
# people would pick instead (bench/peers: `dsmr5` for P1, `hdlcparse` +
# `dlms_cosem` for HAN) on the same files in the same run. A benchmark, not
# a test.
#
# Streams (FRAMES messages each, default 100000; han-one and han-mix
# HAN_TIMES times as many, default 10: a HAN frame decodes in a few
# microseconds, and 100000 of them take less CPU time than /usr/bin/time
# can tell apart at its 10 ms resolution):
#   han-one     han-sim: one Aidon, then one Kaifa, then one Kamstrup meter,
#               each its lists 1/2/3 at their own pace (a third each)
#   dsmr5       han-sim: one DSMR 5 meter
#   dsmr5-mix5  corpus: five DSMR 5 meters interleaved, values moving
#   dsmr5-mix4  corpus: four of them
#   dsmr5-mix20 corpus: the five, each as four meters (20 interleaved: more
#               layouts than han-read's 16 templates)
#   han-mix     corpus: Aidon 1-phase list 2 and 3-phase list 3, Kaifa and
#               Kamstrup lists 1 and 2, interleaved, values moving (FRAMES
#               of them, the file repeated HAN_TIMES times)
#   p1-all      corpus: every P1 capture in turn, each a first sight (a new
#               meter each pass); han-all the same for HAN
#   p1-both     corpus: in turn, only the P1 captures both han-read and the
#               peer decode (first sights); han-both the same for HAN
# (bench/streams.py builds the corpus streams; they are kept in the target
# dir and built again when the script or the corpus changes.)
#
# For each: messages decoded, CPU seconds (user + sys, best of REPEAT runs,
# default 3), messages per CPU-second and peak RSS, for han-read and the
# peer, and the ratio of their CPU times on the same file. Then the live
# latency from the last byte of a frame to its JSON line.
# COUNT=1 counts instructions instead (callgrind, whole process minus an
# empty run, per message: repeatable whatever else the machine runs; use a
# few thousand FRAMES, and HAN_TIMES defaults to 1).
# Usage: scripts/bench.sh [FRAMES]     (REPEAT=N, HAN_TIMES=N, ONLY=stream,stream ..., COUNT=1)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_cargo
find_corpus
cd "$root"
n=${1:-100000}
repeat=${REPEAT:-3}
count=${COUNT:-0}
if [ "$count" = 1 ]; then
    han_times=${HAN_TIMES:-1}
    command -v valgrind >/dev/null 2>&1 || { echo "error: valgrind missing (apt-get install valgrind)" >&2; exit 1; }
else
    han_times=${HAN_TIMES:-10}
fi
case $han_times in '' | *[!0-9]* | 0) echo "error: HAN_TIMES must be a whole number above 0" >&2; exit 2 ;; esac
nh=$((n * han_times))
only=${ONLY:-}
command -v /usr/bin/time >/dev/null 2>&1 || { echo "error: /usr/bin/time missing (apt-get install time)" >&2; exit 1; }
command -v python3 >/dev/null 2>&1 || { echo "error: python3 missing" >&2; exit 1; }
build_release -q -p han-read -p han-sim
target=$(target_dir)
bin=$target/release
need_bins "$bin" han-read han-sim
# The peers: their own cargo project (not a workspace member), their own
# target folder so that their build never waits on the workspace's lock.
if [ "${HAN_NO_BUILD:-}" != 1 ]; then
    (cd "$root/bench/peers" && CARGO_TARGET_DIR="$target/peers" cargo build -q --release --locked) ||
        { echo "error: the peers' build failed (bench/peers)" >&2; exit 1; }
fi
need_bins "$target/peers/release" han-peers
peers=$target/peers/release/han-peers
dir=$target/bench
mkdir -p "$dir"

# han-sim streams.
if [ ! -s "$dir/han-one-$nh.bin" ]; then
    per=$(( (nh + 2) / 3 ))
    : > "$dir/han-one-$nh.bin"
    for m in aidon-no kaifa-no kamstrup-no; do
        "$bin/han-sim" --meter "$m" --count "$per" --seed 1 --start 2025-01-01T00:00:00+01:00 >> "$dir/han-one-$nh.bin"
    done
fi
[ -s "$dir/dsmr5-$n.bin" ] ||
    "$bin/han-sim" --meter dsmr5 --count "$n" --seed 1 --start 2025-01-01T00:00:00+01:00 > "$dir/dsmr5-$n.bin"

# Corpus streams: built again when the builder or the manifest is newer.
cs=$dir/corpus-$n
stamp=$cs/.built
if [ ! -f "$stamp" ] || [ "$root/bench/streams.py" -nt "$stamp" ] || [ "$HAN_CORPUS/manifest.json" -nt "$stamp" ]; then
    echo "building the corpus streams ($n messages each) ..." >&2
    rm -rf "$cs"
    python3 "$root/bench/streams.py" "$HAN_CORPUS" "$cs" "$n"
    # What both decode: each valid, unencrypted single-message capture that
    # gives han-read a reading and the peer a decoded frame.
    for proto in p1 han; do
        peer=dsmr5
        [ "$proto" = han ] && peer=dlms
        both=()
        while IFS= read -r f; do
            ours=$("$bin/han-read" -q "$HAN_CORPUS/$f" 2>/dev/null | wc -l || true)
            theirs=$("$peers" "$peer" "$HAN_CORPUS/$f" 2>&1 >/dev/null | sed -n 's/.* \([0-9]*\) decoded$/\1/p')
            if [ "${ours:-0}" -gt 0 ] && [ "${theirs:-0}" -gt 0 ]; then both+=("$f"); fi
        done < <(python3 -c '
import json, sys
for e in json.load(open(sys.argv[1])):
    if e["protocol"] == sys.argv[2] and e["valid"] and not e.get("key") and e["readings"] == 1:
        print(e["file"])' "$HAN_CORPUS/manifest.json" "$proto")
        if [ ${#both[@]} -gt 0 ]; then
            (IFS=,; python3 "$root/bench/streams.py" "$HAN_CORPUS" "$cs" "$n" --only "$proto-both" --files "${both[*]}")
            (IFS=' '; echo "$proto-both: ${both[*]}") > "$cs/$proto-both.files"
        fi
    done
    touch "$stamp"
fi
# The HAN mix, HAN_TIMES times over (the values then repeat: the decoder
# patches them the same way).
if [ ! -s "$cs/han-mix-x$han_times.bin" ] || [ "$cs/han-mix.bin" -nt "$cs/han-mix-x$han_times.bin" ]; then
    for ((i = 0; i < han_times; i++)); do cat "$cs/han-mix.bin"; done > "$cs/han-mix-x$han_times.bin"
fi

# One tool on one file, best CPU of $repeat runs: "lines cpu rss_kb".
measure() {
    local out=$1 file=$2
    shift 2
    local best="" i
    for ((i = 0; i < repeat; i++)); do
        local t
        # han-read exits 4 on a file without a reading: still a measure.
        t=$(/usr/bin/time -f '%U %S %M' "$@" "$file" 2>&1 >"$out" | tail -1 || true)
        local lines; lines=$(wc -l < "$out")
        read -r user sys rss <<< "$t"
        best=$(python3 -c '
import sys
lines, cpu, rss = int(sys.argv[1]), float(sys.argv[2]) + float(sys.argv[3]), int(sys.argv[4])
best = sys.argv[5].split()
if not best or cpu < float(best[1]):
    print(lines, f"{cpu:.3f}", rss)
else:
    print(*best)' "$lines" "$user" "$sys" "$rss" "$best")
    done
    echo "$best"
}

# One tool on one file, instructions: "lines instructions" (the run minus
# the same tool on empty input).
instructions() {
    local out=$1 file=$2
    shift 2
    local total empty
    total=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" "$file" 2>&1 >"$out" |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
    empty=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" /dev/null 2>&1 >/dev/null |
        sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
    echo "$(wc -l < "$out") $((total - empty))"
}

if [ "$count" = 1 ]; then
    echo "han-read and the peers end to end, JSON lines to a file; instructions per message (callgrind)"
    printf '%-11s %9s | %9s %12s | %-5s %9s %12s | %s\n' \
        stream messages han-read instr/msg peer decoded instr/msg "peer / han-read"
    for s in han-one dsmr5 dsmr5-mix5 dsmr5-mix4 dsmr5-mix20 han-mix p1-all p1-both han-all han-both; do
        if [ -n "$only" ] && [[ ",$only," != *",$s,"* ]]; then continue; fi
        case $s in
            han-one) file=$dir/$s-$nh.bin; m=$nh ;;
            dsmr5) file=$dir/$s-$n.bin; m=$n ;;
            han-mix) file=$cs/han-mix-x$han_times.bin; m=$nh ;;
            *) file=$cs/$s.bin; m=$n ;;
        esac
        [ -s "$file" ] || continue
        case $s in
            dsmr5*|p1-*) peer=dsmr5 ;;
            *) peer=dlms ;;
        esac
        read -r ours oi <<< "$(instructions "$dir/$s.han-read.jsonl" "$file" "$bin/han-read" -q)"
        read -r theirs pi <<< "$(instructions "$dir/$s.$peer.jsonl" "$file" "$peers" "$peer")"
        # Per message of the stream (decoded or not), as the CPU figures.
        python3 -c '
import sys
s, m, ours, oi, peer, theirs, pi = sys.argv[1:]
m, oi, pi = int(m), int(oi), int(pi)
print(f"{s:11} {m:9d} | {int(ours):9d} {oi / m:12.0f} | {peer:5} {int(theirs):9d} {pi / m:12.0f} | {pi / oi:5.2f}x")' \
            "$s" "$m" "$ours" "$oi" "$peer" "$theirs" "$pi"
    done
    exit 0
fi

echo "han-read and the peers end to end, JSON lines to a file; CPU = user + sys, best of $repeat; one core"
printf '%-11s %9s | %9s %7s %10s %7s | %-5s %9s %7s %10s %7s | %s\n' \
    stream messages han-read cpu/s per-cpu-s rss peer decoded cpu/s per-cpu-s rss "peer CPU / han-read CPU"
for s in han-one dsmr5 dsmr5-mix5 dsmr5-mix4 dsmr5-mix20 han-mix p1-all p1-both han-all han-both; do
    if [ -n "$only" ] && [[ ",$only," != *",$s,"* ]]; then continue; fi
    case $s in
        han-one) file=$dir/$s-$nh.bin ;;
        dsmr5) file=$dir/$s-$n.bin ;;
        han-mix) file=$cs/han-mix-x$han_times.bin ;;
        *) file=$cs/$s.bin ;;
    esac
    case $s in
        han-one|han-mix) m=$nh ;;
        *) m=$n ;;
    esac
    [ -s "$file" ] || continue
    case $s in
        dsmr5*|p1-*) peer=dsmr5 ;;
        *) peer=dlms ;;
    esac
    read -r ours ocpu orss <<< "$(measure "$dir/$s.han-read.jsonl" "$file" "$bin/han-read" -q)"
    read -r theirs pcpu prss <<< "$(measure "$dir/$s.$peer.jsonl" "$file" "$peers" "$peer")"
    python3 - "$s" "$m" "$ours" "$ocpu" "$orss" "$peer" "$theirs" "$pcpu" "$prss" <<'PY'
import sys
s, n, ours, ocpu, orss, peer, theirs, pcpu, prss = sys.argv[1:]
n, ours, theirs, orss, prss = int(n), int(ours), int(theirs), int(orss), int(prss)
ocpu, pcpu = float(ocpu), float(pcpu)
def rate(k, cpu):
    return f"{k / cpu:10.0f}" if cpu >= 0.05 else "  too short"
ratio = f"{pcpu / ocpu:5.2f}x" if min(ocpu, pcpu) >= 0.05 else "too short"
print(f"{s:11} {n:9d} | {ours:9d} {ocpu:7.2f} {rate(ours, ocpu)} {orss / 1024:5.1f}MB | "
      f"{peer:5} {theirs:9d} {pcpu:7.2f} {rate(theirs, pcpu)} {prss / 1024:5.1f}MB | {ratio}")
PY
done
for f in "$cs"/*.files; do [ -f "$f" ] && cat "$f"; done

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

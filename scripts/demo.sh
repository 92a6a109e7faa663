#!/usr/bin/env bash
# The main job, to look at: the meter (han-sim's simulated one when none is
# attached) | han-read | han-log into a fresh folder with --www, and that web
# folder served on http://127.0.0.1:8080 (python3's http.server). Open the
# URL it prints; Ctrl-C stops everything.
#
#   scripts/demo.sh                no meter attached: han-sim's Kaifa (Norway)
#                                  at its real cadence
#   scripts/demo.sh /dev/ttyUSB0   a real meter (or tcp://HOST:PORT)
#
# Env: HAN_SIM_METER  the simulated meter (kaifa-no, aidon-no, kamstrup-no,
#                     aidon-se, dsmr5, dsmr4, fluvius)
#      HAN_DEMO_PORT  the port (default 8080)
#      HAN_DEMO_DIR   where the logs and the web folder go (default a new
#                     folder under /tmp; kept when it stops)
#      HAN_TZ         the meter's time zone (default: by the simulated meter,
#                     else the system's)
#      HAN_NO_BUILD=1 no cargo build: the binaries already built
#
# The binaries are taken where cargo builds them (CARGO_TARGET_DIR and the
# like are followed: cargo metadata says where). Nothing is started, and no
# URL printed, unless the build made all three.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_cargo
command -v python3 >/dev/null 2>&1 || { echo "error: python3 is needed to serve the page (apt-get install python3)" >&2; exit 1; }
cd "$root"
build_release -q -p han-read -p han-sim -p han-log
bin=$(target_dir)/release
need_bins "$bin" han-read han-sim han-log

port=${HAN_DEMO_PORT:-8080}
work=${HAN_DEMO_DIR:-$(mktemp -d /tmp/han-demo.XXXXXX)}
mkdir -p "$work/log" "$work/www"

meter=${HAN_SIM_METER:-kaifa-no}
input=${1:-}
if [ -z "$input" ] && [ -z "${HAN_SIM_METER:-}" ]; then
    for dev in /dev/ttyUSB0 /dev/ttyAMA0; do
        [ -c "$dev" ] && input=$dev && break
    done
fi
case "$meter" in
    *-no) zone=Europe/Oslo ;;
    *-se) zone=Europe/Stockholm ;;
    fluvius) zone=Europe/Brussels ;;
    *) zone=Europe/Amsterdam ;;
esac
[ -n "$input" ] && zone=""
zone=${HAN_TZ:-$zone}
tz=()
[ -n "$zone" ] && tz=(--tz "$zone")

pids=()
started=false
cleanup() {
    trap - EXIT INT TERM
    if [ ${#pids[@]} -gt 0 ]; then kill "${pids[@]}" 2>/dev/null || true; fi
    wait 2>/dev/null || true
    # Only a pipeline that ran has logged anything; a folder of our own
    # that nothing was logged into goes.
    if $started; then
        echo "demo: stopped; the logs stay in $work/log" >&2
    elif [ -z "${HAN_DEMO_DIR:-}" ]; then
        rm -rf "$work"
    fi
}
trap cleanup EXIT INT TERM

python3 -m http.server --bind 127.0.0.1 "$port" --directory "$work/www" >"$work/http.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    kill -0 "${pids[0]}" 2>/dev/null || { echo "error: cannot serve on port $port (busy? set HAN_DEMO_PORT)" >&2; cat "$work/http.log" >&2; exit 1; }
    sleep 0.1
done

echo "demo: open http://127.0.0.1:$port/   (logs in $work/log; Ctrl-C stops)" >&2
if [ -n "$input" ]; then
    echo "demo: reading the meter on $input" >&2
    "$bin/han-read" "${tz[@]}" "$input" | "$bin/han-log" --dir "$work/log" --www "$work/www" "${tz[@]}" &
else
    echo "demo: no meter attached: simulating $meter at its real cadence" >&2
    "$bin/han-sim" --meter "$meter" --realtime | "$bin/han-read" "${tz[@]}" \
        | "$bin/han-log" --dir "$work/log" --www "$work/www" "${tz[@]}" &
fi
pids+=($!)
started=true
wait "${pids[1]}"

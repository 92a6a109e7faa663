#!/usr/bin/env bash
# The main job: a meter in, stream lines (docs/stream.md) out on stdout, one
# JSON object per reading, as it arrives. Diagnostics go to stderr.
#
#   scripts/run.sh                 no meter attached: han-sim's simulated meter
#                                  (Kaifa, Norway) at its real cadence, piped
#                                  into han-read
#   scripts/run.sh /dev/ttyUSB0    a real meter: han-read on the device (auto
#                                  line settings), or tcp://HOST:PORT
#
# Env: HAN_SIM_METER  the simulated meter (default kaifa-no; han-sim --help
#                     lists them), HAN_KEY / HAN_AUTH_KEY for encrypted meters,
#      HAN_NO_BUILD=1 no cargo build: the binaries already built.
# The binaries are taken where cargo builds them (CARGO_TARGET_DIR and the
# like are followed). Stop it with Ctrl-C.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_cargo
cd "$root"
build_release -q -p han-read -p han-sim
bin=$(target_dir)/release
need_bins "$bin" han-read han-sim

if [ $# -gt 0 ]; then
    exec "$bin/han-read" "$@"
fi
for dev in /dev/ttyUSB0 /dev/ttyAMA0; do
    if [ -c "$dev" ] && [ -z "${HAN_SIM_METER:-}" ]; then
        echo "run.sh: reading the meter on $dev (set HAN_SIM_METER to use the simulator)" >&2
        exec "$bin/han-read" "$dev"
    fi
done
meter=${HAN_SIM_METER:-kaifa-no}
echo "run.sh: no meter attached: simulating $meter at its real cadence (Ctrl-C stops)" >&2
"$bin/han-sim" --meter "$meter" --realtime | "$bin/han-read"

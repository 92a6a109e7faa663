#!/usr/bin/env bash
# Instructions per decoded frame/telegram, counted by callgrind: repeatable
# whatever else the machine runs (wall-clock figures come from
# `cargo bench -p han`). Usage: scripts/bench-instructions.sh [N]
# The example is built into cargo's target dir (the bench profile's folder
# is release/).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_cargo
cd "$root"
n=${1:-2000}
cargo build -q --locked --profile bench -p han --example throughput
dir=$(target_dir)/release
need_bins "$dir" examples/throughput
bin=$dir/examples/throughput
for kind in aidon kaifa kamstrup dsmr5; do
    total() {
        valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$kind" "$@" 2>&1 |
            sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
    }
    # Decoding alone: the run minus building the same input.
    a=$(total "$n"); b=$(total "$n" build-only)
    echo "$kind: $(((a - b) / n)) instructions per frame"
done

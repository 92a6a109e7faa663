#!/usr/bin/env bash
# Regenerates samples/: short captures made by han-sim (never copies of the
# real corpus), one per simulated meter, deterministic (fixed seed and
# start), spanning an hour boundary so the hourly lists are in them.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_cargo
cd "$root"
build_release -q -p han-sim
bin=$(target_dir)/release
need_bins "$bin" han-sim
sim=$bin/han-sim
start=2025-01-15T06:58:00+01:00
for m in aidon-no kaifa-no kamstrup-no aidon-se; do
    "$sim" --meter "$m" --duration 4m --seed 7 --start "$start" -o "samples/$m.bin"
done
for m in dsmr5 fluvius; do
    "$sim" --meter "$m" --count 20 --seed 7 --start "$start" -o "samples/$m.txt"
done
"$sim" --meter dsmr4 --count 5 --seed 7 --start "$start" -o samples/dsmr4.txt
# Encrypted: the keys are the test keys written in samples/README.md.
"$sim" --meter kamstrup-no --duration 1m --seed 7 --start "$start" \
    --key 000102030405060708090A0B0C0D0E0F --auth-key 101112131415161718191A1B1C1D1E1F -o samples/kamstrup-no-encrypted.bin
"$sim" --meter dsmr5 --count 5 --seed 7 --start "$start" --key 000102030405060708090A0B0C0D0E0F -o samples/smarty-encrypted.bin
ls -l samples

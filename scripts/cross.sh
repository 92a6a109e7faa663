#!/usr/bin/env bash
# Release binaries for the Raspberry Pi, built here with Debian's Rust 1.85
# and cross linkers, into dist/<target>/:
#   aarch64-unknown-linux-gnu      64-bit Raspberry Pi OS (Pi 3, 4, 5, Zero 2 W)
#   armv7-unknown-linux-gnueabihf  32-bit Raspberry Pi OS (Pi 2 and later)
# Debian bookworm's rustc-web ships the std of arm64 and armhf as Multi-Arch
# packages (libstd-rust-web-dev). 1.85 is the one version it has for amd64,
# arm64 and armhf alike, and host and target std must be the exact same
# version, so it is pinned.
# Then, unless --no-smoke, the cross-built han-read runs under qemu-user on a
# han-sim capture and its output is compared with the native build's.
# `scripts/install.sh --from dist/<target>` installs them.
# The native binaries, and the cross builds (in cross/), are in cargo's
# target dir (CARGO_TARGET_DIR followed).
#
# Usage: scripts/cross.sh [--target TRIPLE] [--no-smoke]
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_cargo
cd "$root"

targets=(aarch64-unknown-linux-gnu armv7-unknown-linux-gnueabihf)
smoke=true
while [ $# -gt 0 ]; do
    case "$1" in
        --target) targets=("${2:?--target TRIPLE}"); shift 2 ;;
        --no-smoke) smoke=false; shift ;;
        *) echo "cross.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
bins=(han-read han-log han-sim maxpower spotprices relay logcopy han-report han-bridge han-push)
pkgs=()
for b in "${bins[@]}"; do pkgs+=(-p "$b"); done
target=$(target_dir)
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get)

# Debian's rustc-web 1.85 with the target std of arm64 and armhf (the same
# exact version for host and targets), the cross gcc, qemu-user.
if ! [ -d /usr/lib/rustlib/aarch64-unknown-linux-gnu ] || ! [ -d /usr/lib/rustlib/armv7-unknown-linux-gnueabihf ] \
    || ! command -v aarch64-linux-gnu-gcc >/dev/null || ! command -v arm-linux-gnueabihf-gcc >/dev/null \
    || ! command -v qemu-aarch64-static >/dev/null; then
    for a in arm64 armhf; do
        dpkg --print-foreign-architectures | grep -qx "$a" || "${sudo[@]}" dpkg --add-architecture "$a"
    done
    # The armhf security index is sometimes mid-sync: not needed here.
    "${apt[@]}" update -qq || true
    versions() { apt-cache madison "$1" | awk '{print $3}' | grep '^1\.85\.' | sort -uV; }
    v=$(comm -12 <(versions libstd-rust-web-dev:arm64) <(versions libstd-rust-web-dev:armhf) | comm -12 - <(versions rustc-web) | tail -1)
    [ -n "$v" ] || { echo "cross.sh: no Rust 1.85 std for arm64 and armhf in apt (libstd-rust-web-dev)" >&2; exit 1; }
    # liblzma5 must be one version on all three arches (libllvm needs it).
    l=$(apt-cache madison liblzma5:arm64 | awk '{print $3}' | sort -V | tail -1)
    "${apt[@]}" install -y -qq --allow-downgrades --no-install-recommends \
        "rustc-web=$v" "cargo-web=$v" "libstd-rust-web-dev=$v" "libstd-rust-web-1.85=$v" \
        "libstd-rust-web-dev:arm64=$v" "libstd-rust-web-1.85:arm64=$v" \
        "libstd-rust-web-dev:armhf=$v" "libstd-rust-web-1.85:armhf=$v" \
        "liblzma5=$l" "liblzma5:arm64=$l" "liblzma5:armhf=$l" \
        gcc-aarch64-linux-gnu gcc-arm-linux-gnueabihf libc6-dev-arm64-cross libc6-dev-armhf-cross qemu-user-static
fi
rustup run debian rustc --version 2>/dev/null | grep -q '^rustc 1\.85\.' || rustup toolchain link debian /usr

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER=arm-linux-gnueabihf-gcc
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export CC_armv7_unknown_linux_gnueabihf=arm-linux-gnueabihf-gcc

# A capture to smoke-run on: 10 minutes of han-sim's Kaifa, and the native answer.
if $smoke; then
    build_release -p han-sim -p han-read
    bin=$target/release
    need_bins "$bin" han-sim han-read
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    "$bin/han-sim" --meter kaifa-no --duration 10m > "$work/capture.bin"
    # received is when it was read, different each run: compare the rest.
    strip() { sed -E 's/"received":"[^"]*",//'; }
    "$bin/han-read" "$work/capture.bin" 2>/dev/null | strip > "$work/native.jsonl"
    [ -s "$work/native.jsonl" ] || { echo "cross.sh: the native han-read decoded nothing" >&2; exit 1; }
fi

for t in "${targets[@]}"; do
    echo "== cargo +debian build --release --target $t" >&2
    CARGO_TARGET_DIR="$target/cross" cargo +debian build --release --locked --target "$t" "${pkgs[@]}"
    mkdir -p "dist/$t"
    for b in "${bins[@]}"; do cp "$target/cross/$t/release/$b" "dist/$t/$b"; done
    if $smoke; then
        case "$t" in
            aarch64-*) qemu=(qemu-aarch64-static -L /usr/aarch64-linux-gnu) ;;
            armv7-*) qemu=(qemu-arm-static -L /usr/arm-linux-gnueabihf) ;;
        esac
        "${qemu[@]}" "dist/$t/han-read" --version
        "${qemu[@]}" "dist/$t/han-read" "$work/capture.bin" 2>/dev/null | strip > "$work/$t.jsonl"
        if ! cmp -s "$work/native.jsonl" "$work/$t.jsonl"; then
            echo "cross.sh: han-read for $t decodes the capture differently from the native build:" >&2
            diff "$work/native.jsonl" "$work/$t.jsonl" | head -5 >&2
            exit 1
        fi
        echo "cross.sh: $t: han-read under qemu gives the native output ($(wc -l < "$work/native.jsonl") readings)" >&2
    fi
    ls -l "dist/$t" >&2
done

#!/usr/bin/env bash
# Checks that the workspace builds with Rust 1.85, the compiler Debian ships
# for the Pi targets (rust-version in Cargo.toml). Installs Debian's
# rustc-web/cargo-web 1.85 and links it as the rustup toolchain "debian".
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_cargo
if ! rustup run debian rustc --version 2>/dev/null | grep -q '^rustc 1\.85\.'; then
    if [ ! -x /usr/bin/rustc ] || ! /usr/bin/rustc --version | grep -q '^rustc 1\.85\.'; then
        sudo=()
        [ "$(id -u)" -eq 0 ] || sudo=(sudo)
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends rustc-web cargo-web
    fi
    rustup toolchain link debian /usr
fi
cd "$root"
echo "== cargo +debian check (Rust $(rustup run debian rustc --version | cut -d' ' -f2))" >&2
CARGO_TARGET_DIR="$root/target/msrv" cargo +debian check --workspace --all-targets --locked

#!/usr/bin/env bash
# Checks that the workspace builds with Rust 1.85, the compiler Debian ships
# for the Pi targets (rust-version in Cargo.toml). Installs Debian's
# rustc-web/cargo-web 1.85 and links it as the rustup toolchain "debian".
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_cargo
# Debian's 1.85 (bookworm main); bookworm-security carries a newer rustc-web
# for amd64, so the version is pinned: the newest 1.85 apt knows.
if ! rustup run debian rustc --version 2>/dev/null | grep -q '^rustc 1\.85\.'; then
    if [ ! -x /usr/bin/rustc ] || ! /usr/bin/rustc --version | grep -q '^rustc 1\.85\.'; then
        sudo=()
        [ "$(id -u)" -eq 0 ] || sudo=(sudo)
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        v=$(apt-cache madison rustc-web | awk '{print $3}' | grep '^1\.85\.' | sort -V | tail -1 || true)
        if [ -n "$v" ]; then
            "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --allow-downgrades --no-install-recommends \
                "rustc-web=$v" "cargo-web=$v" "libstd-rust-web-dev=$v" "libstd-rust-web-1.85=$v"
        fi
    fi
    if [ -x /usr/bin/rustc ]; then
        rustup toolchain link debian /usr
    fi
fi
cd "$root"
have=$(rustup run debian rustc --version 2>/dev/null | cut -d' ' -f2 || true)
# Every locked dependency must declare a rust-version of 1.85 or older (or
# none): the check that holds whatever compiler Debian ships today.
echo "== every locked dependency builds with Rust 1.85 (its rust-version)" >&2
cargo metadata --format-version 1 --locked | python3 -c '
import json, sys
def v(s):
    return tuple(int(x) for x in s.split(".")[:3])
newer = [f"{p['"'"'name'"'"']} {p['"'"'version'"'"']} needs Rust {p['"'"'rust_version'"'"']}"
         for p in json.load(sys.stdin)["packages"] if p.get("rust_version") and v(p["rust_version"]) > (1, 85, 0)]
if newer:
    sys.exit("dependencies newer than Rust 1.85:\n  " + "\n  ".join(newer))
'
if [[ $have == 1.85.* ]]; then
    echo "== cargo +debian check (Rust $have)" >&2
    CARGO_TARGET_DIR="$(target_dir)/msrv" cargo +debian check --workspace --all-targets --locked
else
    # Debian's rustc-web has moved past 1.85 and rustup cannot fetch another
    # toolchain here: say so rather than pass a check that did not happen.
    # clippy's incompatible_msrv lint (denied in .ci/run) still flags std
    # APIs newer than rust-version; syntax newer than 1.85 is not caught.
    echo "!! Rust 1.85 is not available here (Debian ships $have): the workspace was not compiled with 1.85" >&2
fi

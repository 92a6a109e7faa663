# Sourced by the scripts: repo root, cargo on PATH, the corpus.
# shellcheck shell=bash

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# cargo: rustup's usual place when the shell has not sourced it.
if ! command -v cargo >/dev/null 2>&1 && [ -f "$HOME/.cargo/env" ]; then
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi
need_cargo() {
    if ! command -v cargo >/dev/null 2>&1; then
        echo "error: cargo not found. Install Rust with rustup (stable):" >&2
        echo "  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y" >&2
        echo "then open a new shell (or: . \"\$HOME/.cargo/env\") and run this again." >&2
        exit 1
    fi
}

# The corpus of real captures: $HAN_CORPUS, else the repository's corpus/.
find_corpus() {
    local dir=${HAN_CORPUS:-$root/corpus}
    if [ ! -f "$dir/manifest.json" ]; then
        echo "error: corpus not found at $dir (no manifest.json); set HAN_CORPUS" >&2
        exit 1
    fi
    HAN_CORPUS=$(cd "$dir" && pwd)
    export HAN_CORPUS
}

# The folder cargo builds into, as cargo itself says (cargo metadata's
# target_directory): CARGO_TARGET_DIR, a .cargo/config.toml's
# build.target-dir ... move it away from $root/target. Printed on stdout; on
# failure a message and status 1. The field is pulled with sed (no jq or
# python3 needed): JSON escapes only \ and " in a path.
target_dir() {
    local meta dir
    if ! meta=$(cd "$root" && cargo metadata --format-version 1 --no-deps); then
        echo "error: cargo metadata failed in $root: cannot tell where cargo puts the binaries" >&2
        return 1
    fi
    dir=$(printf '%s\n' "$meta" | sed -n 's/.*"target_directory":"\(\([^"\\]\|\\.\)*\)".*/\1/p' | sed 's/\\\(.\)/\1/g')
    if [ -z "$dir" ]; then
        echo "error: cargo metadata gave no target_directory" >&2
        return 1
    fi
    printf '%s\n' "$dir"
}

# cargo build --release --locked ARGS in $root, unless HAN_NO_BUILD=1 (take
# what is already built). A failed build ends the script.
build_release() {
    if [ "${HAN_NO_BUILD:-}" = 1 ]; then
        return 0
    fi
    if ! (cd "$root" && cargo build --release --locked "$@"); then
        echo "error: the build failed (cargo build --release --locked $*)" >&2
        exit 1
    fi
}

# need_bins DIR NAME...: ends the script, naming what is missing and DIR,
# unless every DIR/NAME is an executable file (the build made them there).
need_bins() {
    local dir=$1 name missing=()
    shift
    for name in "$@"; do
        [ -f "$dir/$name" ] && [ -x "$dir/$name" ] || missing+=("$name")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "error: missing or not executable in $dir: ${missing[*]}" >&2
        if [ "${HAN_NO_BUILD:-}" = 1 ]; then
            echo "(HAN_NO_BUILD=1: nothing was built; build them or unset it)" >&2
        fi
        exit 1
    fi
}

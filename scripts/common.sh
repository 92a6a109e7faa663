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

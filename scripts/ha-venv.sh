#!/usr/bin/env bash
# The Home Assistant cores han-push's discovery is tested against
# (crates/han-push/tests/homeassistant.rs), each in a virtualenv of its own,
# installed from PyPI once and reused: the oldest we support (2024.1.6, the
# last on Python 3.11, Debian 12's Python) and the newest that Python 3.13.0
# installs. scripts/test.sh calls this before cargo test, so the slow first
# install is not in a test's time.
#
# Usage: scripts/ha-venv.sh [--print]   (--print: only say where they are)
# Env:   HAN_HA_VENVS  where the venvs go (default ~/.cache/han-tools), one
#                      folder ha-VERSION each; the test reads the same variable.
#
# A venv is ready when it has its .ready file: an install stopped half-way is
# started again from nothing. After pip, Home Assistant is started once on
# the configuration the test uses, so what it installs at its first start
# (the MQTT integration's paho-mqtt, the recorder's ...) is in the venv too.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
venvs=${HAN_HA_VENVS:-${XDG_CACHE_HOME:-$HOME/.cache}/han-tools}

# VERSION and the Python minor it needs. 2025.4.4 is the newest release whose
# Python requirement 3.13.0 meets (later ones want 3.13.2 and up).
targets=("2024.1.6 3.11" "2025.4.4 3.13")

if [ "${1:-}" = --print ]; then
    for t in "${targets[@]}"; do
        # shellcheck disable=SC2086
        set -- $t
        echo "$venvs/ha-$1"
    done
    exit 0
fi

# A python3.X that can make a venv (Debian's needs python3.X-venv for that):
# pyenv's first, then the system's.
find_python() {
    local minor=$1 p
    for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$minor".*/bin/python"$minor" \
        /root/.pyenv/versions/"$minor".*/bin/python"$minor" \
        "$(command -v "python$minor" 2>/dev/null || true)"; do
        if [ -z "$p" ] || [ ! -x "$p" ]; then continue; fi
        if "$p" -c 'import venv, ensurepip' 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

status=0
for t in "${targets[@]}"; do
    # shellcheck disable=SC2086
    set -- $t
    version=$1 minor=$2 dir="$venvs/ha-$1"
    if [ -f "$dir/.ready" ]; then
        echo "ha-venv: Home Assistant $version ready in $dir" >&2
        continue
    fi
    if ! py=$(find_python "$minor"); then
        echo "ha-venv: no Python $minor with venv (pyenv install $minor, or apt-get install python$minor-venv): Home Assistant $version not installed" >&2
        status=1
        continue
    fi
    start=$(date +%s)
    echo "ha-venv: installing Home Assistant $version with $py into $dir (minutes, once) ..." >&2
    rm -rf "$dir"
    mkdir -p "$venvs"
    # pip alone backtracks for long over the loose requirements of Home
    # Assistant's own dependencies: the release's package_constraints.txt
    # (in its wheel) pins them as its own builds do.
    wheels=$(mktemp -d)
    pip=("$dir/bin/python" -m pip --disable-pip-version-check)
    if ! "$py" -m venv "$dir" ||
        ! "${pip[@]}" install --quiet --upgrade pip ||
        ! "${pip[@]}" download --quiet --no-deps "homeassistant==$version" -d "$wheels" ||
        ! "$dir/bin/python" -c 'import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read("homeassistant/package_constraints.txt").decode())' \
            "$wheels/homeassistant-$version-py3-none-any.whl" >"$wheels/constraints.txt" ||
        ! "${pip[@]}" install --quiet -c "$wheels/constraints.txt" "$wheels/homeassistant-$version-py3-none-any.whl" paho-mqtt; then
        echo "ha-venv: pip failed for Home Assistant $version" >&2
        rm -rf "$wheels"
        status=1
        continue
    fi
    rm -rf "$wheels"
    installed=$(date +%s)
    # The first start installs the integrations' own requirements.
    if ! "$dir/bin/python" "$here/../crates/han-push/tests/ha/ha.py" warmup "$dir"; then
        echo "ha-venv: Home Assistant $version did not start on the test's configuration" >&2
        status=1
        continue
    fi
    touch "$dir/.ready"
    echo "ha-venv: Home Assistant $version ready in $dir: pip $((installed - start)) s, first start $(($(date +%s) - installed)) s" >&2
done
exit "$status"

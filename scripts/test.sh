#!/usr/bin/env bash
# The whole test suite: installs what the tests need on a Debian machine (only
# what is missing; quick when everything is there), then runs every test of
# the workspace, the corpus tests included. CI=true makes a missing corpus a
# failure instead of a loud skip.
#
# Usage: scripts/test.sh [extra cargo test args]
# Env:   HAN_CORPUS  the corpus directory (default: the repository's corpus/)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# System packages: a C toolchain (the linker cargo calls), pkg-config, socat,
# python3, chromium and chromedriver, aiosmtpd, mosquitto, influxdb.
missing=()
command -v cc >/dev/null 2>&1 || missing+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
# socat makes the pty pairs of han-read's serial tests.
command -v socat >/dev/null 2>&1 || missing+=(socat)
# The live page is tested in a real headless Chromium, driven by
# chromedriver, served by python3's http.server.
command -v python3 >/dev/null 2>&1 || missing+=(python3)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
# han-log's full-disk tests mount a small tmpfs (mount, from util-linux).
command -v mount >/dev/null 2>&1 || missing+=(mount)
# maxpower's mail tests send to a real SMTP server: Debian's aiosmtpd.
{ python3 -c 'import aiosmtpd' 2>/dev/null || /usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null; } || missing+=(python3-aiosmtpd)
# ... over STARTTLS and implicit TLS, with a test CA that openssl makes.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# han-push's tests start a real Mosquitto broker (with mosquitto_sub as the
# subscriber) and a real InfluxDB 1.x (Debian's influxdb).
[ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v mosquitto_sub >/dev/null 2>&1 || missing+=(mosquitto-clients)
command -v influxd >/dev/null 2>&1 || missing+=(influxdb)
if [ ${#missing[@]} -gt 0 ]; then
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "error: missing ${missing[*]} and no apt-get: install them by hand" >&2
        exit 1
    fi
    if [ "$(id -u)" -eq 0 ]; then
        sudo=()
    elif command -v sudo >/dev/null 2>&1; then
        sudo=(sudo)
    else
        echo "error: missing ${missing[*]}; run as root or install sudo" >&2
        exit 1
    fi
    echo "installing ${missing[*]} ..." >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

need_cargo
find_corpus

# han-push's Home Assistant tests run real Home Assistant cores, each in a
# venv installed from PyPI once and reused (minutes the first time, nothing
# after): installed here, before cargo test, so that it is not in a test's
# time. Should it fail, those tests say why (and fail under CI).
"$root/scripts/ha-venv.sh" || echo "warning: scripts/ha-venv.sh failed: han-push's Home Assistant tests will fail" >&2

export CI=true

cd "$root"
echo "corpus: $HAN_CORPUS" >&2
cargo test --workspace --locked "$@"

#!/usr/bin/env bash
# Installs han-tools on a Raspberry Pi (or any Debian): the binaries, the
# han user (groups dialout and gpio), the folders, the config file from
# etc/config.example.toml (mode 0600, never overwritten), the www folder,
# two systemd units (the pipeline han-read | han-log, and relay restore at
# boot) and the crontab from cron/. A second run changes nothing.
#
# Usage: scripts/install.sh [--prefix DIR] [--from DIR] [--uninstall]
#   --prefix DIR   install under DIR instead of / (a test root: no user is
#                  made, nothing is chowned, systemd is not told)
#   --from DIR     take prebuilt binaries from DIR (scripts/cross.sh makes
#                  them) instead of building them here (into the release
#                  folder of cargo's target dir, CARGO_TARGET_DIR followed;
#                  HAN_NO_BUILD=1 takes what is built there already)
#   --uninstall    remove what was installed; the data, the config file and
#                  the han user stay
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

prefix=/
from=
uninstall=false
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) prefix=${2:?--prefix DIR}; shift 2 ;;
        --from) from=${2:?--from DIR}; shift 2 ;;
        --uninstall) uninstall=true; shift ;;
        -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
dest=${prefix%/}
real=false
[ -z "$dest" ] && real=true

bins=(han-read han-log han-sim maxpower spotprices relay logcopy han-report han-bridge han-push)
units=(han-tools.service han-relay-restore.service)
bindir=$dest/usr/local/bin
unitdir=$dest/etc/systemd/system
crondir=$dest/etc/cron.d
confdir=$dest/etc/han-tools
docdir=$dest/usr/local/share/doc/han-tools
data=$dest/var/lib/han-tools
www=$dest/var/www/html

say() { echo "install.sh: $*" >&2; }
# Copies only when the content differs: a second run touches nothing.
put() { # mode src dst
    if ! cmp -s "$2" "$3" 2>/dev/null; then
        install -D -m "$1" "$2" "$3"
        say "installed $3"
    fi
}

if $uninstall; then
    if $real && command -v systemctl >/dev/null 2>&1; then
        systemctl disable --now "${units[@]}" 2>/dev/null || true
    fi
    for b in "${bins[@]}"; do rm -f "$bindir/$b"; done
    for u in "${units[@]}"; do rm -f "$unitdir/$u"; done
    rm -f "$crondir/han-tools"
    rm -rf "$docdir"
    if $real && command -v systemctl >/dev/null 2>&1; then systemctl daemon-reload || true; fi
    say "removed the binaries, units, crontab and docs; kept $data, $www, $confdir/config.toml and the han user"
    exit 0
fi

# The binaries: prebuilt, or built here.
if [ -z "$from" ]; then
    need_cargo
    pkgs=()
    for b in "${bins[@]}"; do pkgs+=(-p "$b"); done
    build_release "${pkgs[@]}"
    from=$(target_dir)/release
fi
need_bins "$from" "${bins[@]}"
for b in "${bins[@]}"; do put 0755 "$from/$b" "$bindir/$b"; done

# The user: a system account in dialout (the serial port) and gpio (relays).
if $real; then
    if ! id han >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/han-tools --no-create-home --shell /usr/sbin/nologin --user-group han
        say "made the system user han"
    fi
    for g in dialout gpio; do
        if getent group "$g" >/dev/null && ! id -nG han | tr ' ' '\n' | grep -qx "$g"; then
            usermod -a -G "$g" han
            say "added han to $g"
        fi
    done
fi

# The folders.
for d in "$data/log" "$data/prices" "$data/state" "$www" "$confdir"; do
    if [ ! -d "$d" ]; then
        mkdir -p "$d"
        say "made $d"
    fi
done
if $real; then
    for d in "$data" "$data/log" "$data/prices" "$data/state" "$www"; do
        [ "$(stat -c %U "$d")" = han ] || chown han:han "$d"
    done
fi

# The config file: from the example, once; never overwritten.
if [ ! -e "$confdir/config.toml" ]; then
    install -m 0600 "$root/etc/config.example.toml" "$confdir/config.toml"
    if $real; then chown han:han "$confdir/config.toml"; fi
    say "made $confdir/config.toml (edit it: input, zone, relays ...)"
fi
put 0644 "$root/etc/config.example.toml" "$docdir/config.example.toml"
put 0644 "$root/README.md" "$docdir/README.md"

# systemd and cron.
for u in "${units[@]}"; do put 0644 "$root/etc/systemd/$u" "$unitdir/$u"; done
put 0644 "$root/cron/han-tools" "$crondir/han-tools"
if $real && command -v systemctl >/dev/null 2>&1; then
    systemctl daemon-reload
    for u in "${units[@]}"; do
        systemctl is-enabled --quiet "$u" 2>/dev/null || { systemctl enable "$u"; say "enabled $u"; }
    done
    say "start the pipeline with: systemctl start han-tools (journalctl -u han-tools shows it)"
fi
say "done"

#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ from the real captures in corpus/ at the
# repository root (or the folder given as $1). The captures are only read,
# never modified, and fuzz/corpus/ is git-ignored: never commit the seeds.
# Run from anywhere; re-running is harmless.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=${1:-"$here/../corpus"}
out="$here/corpus"
[ -d "$src/han" ] && [ -d "$src/p1" ] || { echo "no captures under $src" >&2; exit 1; }
mkdir -p "$out/han_stream" "$out/anonymise" "$out/axdr" "$out/p1" "$out/template" "$out/stream_line" "$out/prices" "$out/profiles"

# han_stream header (see fuzz_targets/han_stream.rs): flags, then chunking.
# Encrypted captures get the flags that select their published test key.
flags_for() {
    case "$(basename "$1")" in
        iskra-am550-at-enc-*) echo '\x01' ;;
        kaifa-ma309-pl-enc-*) echo '\x03' ;;
        landisgyr-e450-at-enc-*) echo '\x05' ;;
        landisgyr-e450-gbt-enc-*) echo '\x07' ;;
        lu-smarty-encrypted-*) echo '\x09' ;;
        *) echo '\x00' ;;
    esac
}

stream_seeds() {
    local f=$1 name flags
    name=$(basename "$f")
    flags=$(flags_for "$f")
    # One push; then in chunks of 1, 7 and 64 bytes.
    { printf "$flags"'\x00'; cat "$f"; } > "$out/han_stream/$name.whole"
    { printf "$flags"'\x03\x01\x07\x40'; cat "$f"; } > "$out/han_stream/$name.chunked"
    # anonymise reads the same header.
    cp "$out/han_stream/$name.whole" "$out/han_stream/$name.chunked" "$out/anonymise/"
}

for f in "$src"/han/*.bin; do
    stream_seeds "$f"
    # template: no changes yet (the fuzzer adds them), then the capture.
    { printf '\x00\x00'; cat "$f"; } > "$out/template/$(basename "$f")"
    cp "$f" "$out/axdr/$(basename "$f")"
    # A-XDR starts somewhere inside the frame: also seed the suffixes that
    # begin with an array/structure tag and a small count (at most 6 a file).
    n=0
    for off in $(od -An -v -tu1 -w1 "$f" | awk 'NR>1 && (p==1 || p==2) && $1 < 64 { print NR-2 } { p=$1 }'); do
        tail -c "+$((off + 1))" "$f" > "$out/axdr/$(basename "$f").at$off"
        n=$((n + 1))
        [ "$n" -lt 6 ] || break
    done
done

# prices: the price and exchange-rate documents as they are.
for f in "$src"/prices/*.xml; do
    cp "$f" "$out/prices/$(basename "$f")"
done

for f in "$src"/p1/*; do
    cp "$f" "$out/p1/$(basename "$f")"
    { printf '\x00\x00'; cat "$f"; } > "$out/template/$(basename "$f")"
    stream_seeds "$f"
done

# profiles: the built-in meter profiles, and the one of docs/profiles.md.
for f in "$here"/../crates/han/src/dlms/profiles/builtin/*.toml; do
    cp "$f" "$out/profiles/$(basename "$f")"
done
awk '/profiles.md example/ { on = 1; next } on && /^```toml/ { next } on && /^```/ { exit } on' \
    "$here/../docs/profiles.md" > "$out/profiles/docs-acme-x3.toml"

# stream_line: han-read's lines of each capture (when han-read is built),
# found where cargo builds the workspace (CARGO_TARGET_DIR followed).
. "$here/../scripts/common.sh"
reader=
if target=$(target_dir); then
    for p in "$target/release/han-read" "$target/debug/han-read"; do
        if [ -f "$p" ] && [ -x "$p" ]; then reader=$p && break; fi
    done
fi
if [ -n "$reader" ]; then
    for f in "$src"/han/*.bin "$src"/p1/*; do
        i=0
        while IFS= read -r line && [ "$i" -lt 3 ]; do
            printf '%s' "$line" > "$out/stream_line/$(basename "$f").$i"
            i=$((i + 1))
        done < <("$reader" -q "$f" 2>/dev/null)
    done
else
    echo "han-read is not built${target:+ in $target/release or $target/debug}: stream_line gets no seeds (cargo build -p han-read)" >&2
fi

for t in han_stream anonymise axdr p1 template stream_line prices profiles; do
    echo "$t: $(ls "$out/$t" | wc -l) seeds"
done

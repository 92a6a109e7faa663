#!/usr/bin/env bash
# The main job: meter data in, stream lines (docs/stream.md) out on stdout,
# one JSON object per decoded frame; rejected frames are reported on stderr.
#
# For now the "meter" is the corpus of real captures, decoded one by one with
# the han library's decode_file example. When han-sim (replays captures as a
# meter would send them) and han-read (the reader) exist, this becomes
#     han-sim --corpus "$HAN_CORPUS" | han-read
# and nothing downstream changes: the lines are the same contract.
#
# Env: HAN_CORPUS  the corpus directory (default ../shared/corpus beside the repo)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
need_cargo
find_corpus

cd "$root"
cargo build --release --locked -q -p han --example decode_file
decode=$root/target/release/examples/decode_file

# file, key and auth_key of each manifest entry (keys for encrypted captures),
# one entry per line: FILE KEY AUTH_KEY, "-" where there is none.
entries() {
    sed -n -E 's/^ *"(file|key|auth_key)": *("([^"]*)"|null),?$/\1 \3/p' "$HAN_CORPUS/manifest.json" |
        awk '$1 == "file" { f = $2; k = "-"; a = "-" }
             $1 == "key" && $2 != "" { k = $2 }
             $1 == "auth_key" { if ($2 != "") a = $2; print f, k, a }'
}

entries | while read -r file key auth; do
    args=("$HAN_CORPUS/$file")
    if [ "$key" != "-" ]; then
        args+=("$key")
        if [ "$auth" != "-" ]; then args+=("$auth"); fi
    fi
    # decode_file prints readings as JSON and rejections as "REJECTED ...":
    # only the JSON goes to stdout.
    "$decode" "${args[@]}" | while IFS= read -r line; do
        case $line in
            "{"*) printf '%s\n' "$line" ;;
            *) printf '%s: %s\n' "$file" "$line" >&2 ;;
        esac
    done
done
